"""numba.cuda kernels: one fused element-wise kernel per time step for cim, sb and ahc/cac.

Each kernel does, for one element ``(r, i)`` of the (R, N) state (flattened 1-D grid, one thread per
element, grid-stride loop), exactly the arithmetic of the matching reference in
:mod:`cimsim.gpu.steps` (and hence of the CPU numba kernels): no temporaries, state read once and
written once. On a GPU they are launched on CuPy arrays (``__cuda_array_interface__``); in CI they run
under the CUDA simulator (``NUMBA_ENABLE_CUDASIM=1`` set before numba is imported) on NumPy arrays and
are compared with :mod:`cimsim.gpu.steps` (tests/test_gpu.py runs that comparison in a subprocess).

Launchers ``launch_cim``, ``launch_sb``, ``launch_amp`` take the same arguments as the reference
functions. Two per-replica kernels (one block per replica, a shared-memory float64 reduction) fuse the
bookkeeping: ``readout_kernel`` (energy of the readout and best-so-far update, cim/sb) and
``amp_control_kernel`` (energy and the whole ahc/cac control of one step).
"""
from __future__ import annotations

import math

from numba import cuda
from numba import config as numba_config
from numba import float64 as numba_float64
from numba import types as numba_types
from numba.core import cgutils
from numba.core.extending import intrinsic

from ..kernels.sb import _drive, _wall

__all__ = ["cim_kernel", "sb_kernel", "amp_kernel", "readout_kernel", "amp_control_kernel", "launch_cim", "launch_sb",
           "launch_amp", "launch_readout", "launch_amp_control", "sb_readout_dense_kernel", "sb_readout_csr_kernel",
           "launch_sb_readout", "THREADS", "RED_THREADS"]

#: threads per block
THREADS = 256
#: cap on blocks (grid-stride loop covers the rest)
MAX_BLOCKS = 4096


def _grid(total: int) -> tuple[int, int]:
    blocks = max(1, min(MAX_BLOCKS, (total + THREADS - 1) // THREADS))
    return blocks, THREADS


def _inlined(restype):
    """Decorator: compile a Python function into every kernel that calls it, for code the kernels share.

    Not a device function: compiling one asks the driver for the current device, and the tests compile
    these kernels to PTX on machines without one. Here the function is compiled in the calling kernel's
    target context (numba's ``compile_internal``, no driver); ``restype`` is its return type. Under the
    CUDA simulator it is called as it is (kernels and helpers share this module's ``cuda``, which the
    simulator swaps for its own).
    """
    def wrap(impl):
        if numba_config.ENABLE_CUDASIM:
            return impl

        @intrinsic
        def call(typingctx, *args):
            def codegen(context, builder, signature, llargs):  # the arguments come as one star-arg tuple
                values = cgutils.unpack_tuple(builder, llargs[0], len(args))
                return context.compile_internal(builder, impl, restype(*args), values)
            return restype(numba_types.StarArgTuple.from_types(args)), codegen

        return call
    return wrap


#: the SB wall rule and drive of the CPU kernels (:mod:`cimsim.kernels.sb`), compiled into :func:`sb_kernel`
_sb_wall = _inlined(numba_types.UniTuple(numba_float64, 2))(_wall.py_func)
_sb_drive = _inlined(numba_float64)(_drive.py_func)


@cuda.jit
def cim_kernel(X, Y, S, h, a, coef, dt, noise_sq, XI, use_noise):  # pragma: no cover - device code
    """X += dt ((a x - x^3 + coef y) + h) [+ noise_sq xi];  S = sign(X)."""
    R, N = X.shape
    for k in range(cuda.grid(1), R * N, cuda.gridsize(1)):
        r = k // N
        i = k - r * N
        x = X[r, i]
        x += dt * (a * x - x * x * x + Y[r, i] * coef + h[i])
        if use_noise:
            x += noise_sq * XI[r, i]
        X[r, i] = x
        S[r, i] = 1.0 if x >= 0.0 else -1.0


@cuda.jit
def sb_kernel(X, Y, V, S, P, h, cx, cp, cy, discrete):  # pragma: no cover - device code
    """Symplectic-Euler SB step with walls (float64 intermediates); V = sgn(x) or x; S = sign(x)."""
    R, N = X.shape
    for k in range(cuda.grid(1), R * N, cuda.gridsize(1)):
        r = k // N
        i = k - r * N
        xo = float(X[r, i])
        yi = float(Y[r, i]) + (-cx * xo + cp * (float(P[r, i]) + h[i]))
        xi, yi = _sb_wall(xo + cy * yi, yi)
        X[r, i] = xi
        Y[r, i] = yi
        xs = X[r, i]
        V[r, i] = _sb_drive(xs, discrete)
        S[r, i] = 1.0 if xs >= 0.0 else -1.0


@cuda.jit
def amp_kernel(X, E, Y, S, BEST, improved, active, XI, TAU, pm1, mu, coup, dt, e_max, x_max, G, sq):  # pragma: no cover
    """AHC/CAC step: save S into BEST where the replica improved, then the clipped Euler x step (plus
    ``sq G`` when ``sq`` != 0) and the exact exponential e step (old x), S = sign(x); inactive replicas
    untouched."""
    R, N = X.shape
    for k in range(cuda.grid(1), R * N, cuda.gridsize(1)):
        r = k // N
        i = k - r * N
        if improved[r]:
            BEST[r, i] = 1 if S[r, i] >= 0.0 else -1
        if active[r]:
            xo = X[r, i]
            eo = E[r, i]
            x2 = xo * xo
            xn = xo + dt * ((pm1 - mu * x2) * xo + coup * eo * Y[r, i])
            if sq != 0.0:
                xn += sq * G[r, i]
            if xn > x_max:
                xn = x_max
            elif xn < -x_max:
                xn = -x_max
            en = eo * math.exp(-dt * XI[r] * (x2 - TAU[r]))
            if en > e_max:
                en = e_max
            X[r, i] = xn
            E[r, i] = en
            S[r, i] = 1.0 if xn >= 0.0 else -1.0


def launch_cim(X, Y, S, h, a, coef, dt, noise_sq, XI) -> None:
    """Launch :func:`cim_kernel` over all R * N elements (XI may be any array when noise_sq == 0)."""
    R, N = X.shape
    use = bool(noise_sq > 0)
    cim_kernel[_grid(R * N)](X, Y, S, h, float(a), float(coef), float(dt), float(noise_sq), XI if use else X, use)


def launch_sb(X, Y, V, S, P, h, cx, cp, cy, discrete) -> None:
    """Launch :func:`sb_kernel` over all R * N elements."""
    R, N = X.shape
    sb_kernel[_grid(R * N)](X, Y, V, S, P, h, float(cx), float(cp), float(cy), bool(discrete))


def launch_amp(X, E, Y, S, BEST, improved, active, XI, TAU, pm1, mu, coup, dt, e_max, x_max, G=None,
               sq=0.0) -> None:
    """Launch :func:`amp_kernel` over all R * N elements (G may be None when sq == 0: the read-only Y stands in,
    never a written array, whose second copy the CUDA simulator would write back over the result)."""
    R, N = X.shape
    amp_kernel[_grid(R * N)](X, E, Y, S, BEST, improved, active, XI, TAU, float(pm1), float(mu), float(coup),
                             float(dt), float(e_max), float(x_max), Y if G is None else G, float(sq))


# ---------------------------------------------------------------------- per-replica reductions
#: threads per block of the per-replica kernels (one block per replica; power of two). The CUDA
#: simulator runs every thread as a Python thread, so it gets a smaller (still multi-level) tree.
RED_THREADS = 16 if numba_config.ENABLE_CUDASIM else 128


@_inlined(numba_float64)
def _block_sum(acc):  # pragma: no cover - device code
    """The sum of every thread's ``acc`` over the block (float64 shared-memory tree), returned to every thread."""
    buf = cuda.shared.array(RED_THREADS, dtype=numba_float64)
    tid = cuda.threadIdx.x
    buf[tid] = acc
    cuda.syncthreads()
    width = RED_THREADS // 2
    while width > 0:
        if tid < width:
            buf[tid] += buf[tid + width]
        cuda.syncthreads()
        width //= 2
    return buf[0]


@_inlined(numba_types.none)
def _keep_best(X, r, e, take, best_E, best_S):  # pragma: no cover - device code
    """Block r: when ``take``, the replica's best becomes (sign(X[r]) with 0 -> +1, e)."""
    cuda.syncthreads()
    if take:
        for i in range(cuda.threadIdx.x, X.shape[1], RED_THREADS):
            best_S[r, i] = 1 if X[r, i] >= 0.0 else -1
    cuda.syncthreads()
    if take and cuda.threadIdx.x == 0:
        best_E[r] = e


@cuda.jit
def readout_kernel(S, PHI, h, use_h, offset, best_E, best_S, track_best):  # pragma: no cover - device code
    """Block r: E = offset - sum S (PHI/2 + h); keep (S, E) as the replica's best if E < best_E[r]
    (or always when not track_best)."""
    r = cuda.blockIdx.x
    acc = 0.0
    for i in range(cuda.threadIdx.x, S.shape[1], RED_THREADS):
        v = 0.5 * float(PHI[r, i])
        if use_h:
            v += h[i]
        acc += float(S[r, i]) * v
    e = offset - _block_sum(acc)
    _keep_best(S, r, e, (e < best_E[r]) or not track_best, best_E, best_S)


@cuda.jit
def amp_control_kernel(S, PHI, offset, H, HOPT, TAU, XI, TC, TBEST, STEPS, ACTIVE, IMPROVED, t1,
                       alpha, rho, delta, gamma, dt, tau_steps, tol, tgt):  # pragma: no cover - device code
    """Block r, after step t1 - 1: H from the fields, then steps 1-3 of cimsim.kernels.amplitude (improvement
    flag, xi ramp and reset, tau_a) and the target stop, for an active replica."""
    r = cuda.blockIdx.x
    acc = 0.0
    for i in range(cuda.threadIdx.x, S.shape[1], RED_THREADS):
        acc += float(S[r, i]) * (0.5 * float(PHI[r, i]))
    e = offset - _block_sum(acc)
    if cuda.threadIdx.x == 0 and ACTIVE[r]:
        H[r] = e
        imp = e < HOPT[r] - tol
        IMPROVED[r] = imp
        if imp:
            HOPT[r] = e
            TC[r] = t1
            TBEST[r] = t1
        XI[r] += gamma * dt
        if t1 - TC[r] >= tau_steps:
            XI[r] = 0.0
            TC[r] = t1
        TAU[r] = alpha + rho * math.tanh(delta * (e - HOPT[r]))
        STEPS[r] = t1
        if e <= tgt + tol:
            ACTIVE[r] = False


def launch_readout(S, PHI, h, offset, best_E, best_S, track_best) -> None:
    """One block per replica: energies of the readout S from its fields PHI = S J, best kept on the device.
    ``h`` is None for a field-free model."""
    R = S.shape[0]
    use_h = h is not None
    readout_kernel[R, RED_THREADS](S, PHI, h if use_h else PHI, use_h, float(offset), best_E, best_S, bool(track_best))


def launch_amp_control(S, PHI, offset, H, HOPT, TAU, XI, TC, TBEST, STEPS, ACTIVE, IMPROVED, t1,
                       alpha, rho, delta, gamma, dt, tau_steps, tol, tgt) -> None:
    """One block per replica: :func:`amp_control_kernel`."""
    R = S.shape[0]
    amp_control_kernel[R, RED_THREADS](S, PHI, float(offset), H, HOPT, TAU, XI, TC, TBEST, STEPS, ACTIVE, IMPROVED,
                                       int(t1), float(alpha), float(rho), float(delta), float(gamma), float(dt),
                                       int(tau_steps), float(tol), float(tgt))


# ---------------------------------------------------------------------- dSB readout from the dynamics product
@_inlined(numba_float64)
def _sb_readout_term(X, V, P, h, use_h, r, i, zz):  # pragma: no cover - device code
    """Term i of the sum in :func:`sb_readout_dense_kernel`; ``zz`` = sum_{j: x_j = 0} J_ij (read only
    when x_i = 0)."""
    p = float(P[r, i])
    xi = X[r, i]
    t = 0.5 * float(V[r, i]) * p
    if xi == 0.0:
        t += p
        t += 0.5 * zz
    if use_h:
        t += h[i] * (1.0 if xi >= 0.0 else -1.0)
    return t


@_inlined(numba_float64)
def _zero_zero_dense(X, r, i, J):  # pragma: no cover - device code
    """sum_{j: x_j = 0} J_ij when x_i = 0 (else 0), from a dense J."""
    zz = 0.0
    if X[r, i] == 0.0:
        for j in range(X.shape[1]):
            if X[r, j] == 0.0:
                zz += J[i, j]
    return zz


@_inlined(numba_float64)
def _zero_zero_csr(X, r, i, indptr, indices, data):  # pragma: no cover - device code
    """:func:`_zero_zero_dense` from CSR J (row i lists the neighbours of i)."""
    zz = 0.0
    if X[r, i] == 0.0:
        for q in range(indptr[i], indptr[i + 1]):
            if X[r, indices[q]] == 0.0:
                zz += data[q]
    return zz


@cuda.jit
def sb_readout_dense_kernel(X, V, P, h, use_h, offset, J, best_E, best_S):  # pragma: no cover - device code
    """Block r, discrete SB: the energy of the readout S = sign(x) (x = 0 -> +1) from the product P = J V the
    step needs anyway (V = sgn(x), 0 where x = 0), exactly: with Z the indicator of x = 0, S = V + Z and

        E = offset - sum_i [V_i P_i / 2 + Z_i P_i + h_i S_i] - 1/2 sum_{i, j: x_i = x_j = 0} J_ij,

    the last sum read from the dense J (its rows only for zero amplitudes, which are rare). Then the
    best-so-far update as in :func:`readout_kernel`."""
    r = cuda.blockIdx.x
    acc = 0.0
    for i in range(cuda.threadIdx.x, X.shape[1], RED_THREADS):
        acc += _sb_readout_term(X, V, P, h, use_h, r, i, _zero_zero_dense(X, r, i, J))
    e = offset - _block_sum(acc)
    _keep_best(X, r, e, e < best_E[r], best_E, best_S)


@cuda.jit
def sb_readout_csr_kernel(X, V, P, h, use_h, offset, indptr, indices, data, best_E, best_S):  # pragma: no cover
    """:func:`sb_readout_dense_kernel` for CSR J (the zero-zero couplings from the zero spins' rows)."""
    r = cuda.blockIdx.x
    acc = 0.0
    for i in range(cuda.threadIdx.x, X.shape[1], RED_THREADS):
        acc += _sb_readout_term(X, V, P, h, use_h, r, i, _zero_zero_csr(X, r, i, indptr, indices, data))
    e = offset - _block_sum(acc)
    _keep_best(X, r, e, e < best_E[r], best_E, best_S)


def launch_sb_readout(X, V, P, h, offset, J, best_E, best_S) -> None:
    """Exact dSB readout from the dynamics product; ``J`` is a dense device array or a tuple
    ``(indptr, indices, data)`` of device arrays; ``h`` None for a field-free model."""
    R = X.shape[0]
    use_h = h is not None
    hh = h if use_h else P[0]
    if isinstance(J, tuple):
        sb_readout_csr_kernel[R, RED_THREADS](X, V, P, hh, use_h, float(offset), J[0], J[1], J[2], best_E, best_S)
    else:
        sb_readout_dense_kernel[R, RED_THREADS](X, V, P, hh, use_h, float(offset), J, best_E, best_S)
