"""Numba kernels for amplitude-controlled CIMs: AHC (Leleu et al. 2019) and CAC (Leleu et al. 2021).

Both solvers integrate, with explicit Euler and time step ``dt`` (physics.md 4.4 / 4.5)::

    dx_i/dt = (p(t) - 1) x_i - mu x_i^3 + c e_i (J x)_i  [+ sigma dW_i/dt]
    de_i/dt = -xi (x_i^2 - tau_a) e_i ,                e_i <- min(e_i, e_max)

where ``c`` is the coupling strength, ``xi`` the error-variable rate and ``tau_a`` the target squared
amplitude; the pump ``p(t)`` and the base target ``alpha(t)`` may change from step to step (arrays
``PM1`` = p - 1 and ``ALPHA``, one value per step of the call). One step, with every right-hand side
evaluated at the *old* state::

    x_i <- clip(x_i + dt [(p - 1) x_i - mu x_i^3 + c e_i (J x)_i] + sq g_i,  -x_max, x_max)
    e_i <- min(e_i exp(-dt xi (x_i^2 - tau_a)), e_max)

with ``sq = sigma sqrt(dt)`` (Euler-Maruyama, so the noise per unit time does not depend on dt) and g_i
standard normals drawn in pairs from replica r's xorshift64* stream ``RNG[r]`` (:mod:`cimsim.kernels.descent`);
nothing is drawn when ``sq = 0``.

The e step is the exact solution over ``dt`` with x frozen: it equals the Euler step to first order
but keeps e > 0 for any ``xi dt`` (the Euler factor ``1 - dt xi (x^2 - tau_a)`` turns negative when
xi grows, flipping the feedback sign and blowing the amplitudes up, as happens in the reference
codes). ``x_max`` (default ``1/sqrt(mu dt)``, several times the working amplitude ``sqrt(tau_a)``) is a
numerical guard only: beyond it the explicit cubic step itself is unstable. After the step
the Ising readout ``s = sign(x)`` (``x >= 0 -> +1``) is compared with the previous readout; for every
flipped spin the energy ``H`` and the local fields ``phi = J s + h`` are updated incrementally
(``dH = 2 s_old phi_i``, O(N) per flip for dense J, O(degree) for CSR). Then the per-replica control
scalars are advanced in this order:

1. ``H < H_opt`` -> ``H_opt = H``, best spins saved, ``t_c = t + 1`` (clock of the last improvement);
2. ``xi += gamma dt``; if ``t + 1 - t_c >= tau_steps``: ``xi = 0`` and ``t_c = t + 1`` (the reset);
3. ``tau_a = alpha(t) + rho tanh(delta (H - H_opt))``.

The whole-trajectory kernels run steps ``t0 <= t < t1`` of a run; every variable (the random streams
included) lives in the arrays, so a run split into consecutive calls equals one call bit for bit (the
callers split at a deadline's chunk boundaries and at a sampling tap's marks). ``ACTIVE[r]`` is cleared
when replica r reaches the target energy or diverges, and later calls skip it.

AHC is the special case ``gamma = 0``, ``rho = 0`` (constant ``tau_a = alpha``), no reset
(``tau_steps`` larger than the run) and a constant ``xi``.

State arrays (R replicas, N spins): ``X, E`` float64 (R, N); ``S, BEST`` int8 (R, N); ``PHI`` float64
(R, N) = J S + h; per replica ``H, HOPT, TAU, XI`` float64 (R,), ``TC, TBEST, STEPS`` int64 (R,),
``ACTIVE`` bool (R,), ``RNG`` uint64 (R,).
Everything is updated in place; no allocation happens inside the time loop.

Divergence: a NaN amplitude or error variable stops its replica at once with ``H[r] = NaN`` (the
Python caller raises a CimsimError naming dt and the coupling); ``x_max`` keeps x finite otherwise.
"""
from __future__ import annotations

import numba as nb
import numpy as np

from .descent import _normal_pair
from .localsearch import _add_row_csr, _add_row_dense

__all__ = ["step_dense", "run_csr"]


@nb.njit(cache=True, nogil=True)
def _euler(x, e, y, s, flip, pm1, mu, coup, xi, tau_a, dt, e_max, x_max, sq, rng, r):  # pragma: no cover - compiled
    """One fused step of (x, e) given the coupling input y = J x; returns the number of sign flips.

    Indices of spins whose readout sign changed are written to ``flip[:count]``. Returns -1 as soon as an
    x or e is NaN (divergence; two comparisons on branches already taken, so free in the normal case).
    With ``sq = noise sqrt(dt)`` non-zero, ``sq g_i`` is added to the new x_i, the g_i standard normals drawn
    in pairs (i, i + 1) from replica ``r``'s stream ``rng[r]``; with ``sq = 0`` nothing is drawn.
    """
    nf = 0
    g2 = 0.0
    for i in range(x.shape[0]):
        xo = x[i]
        eo = e[i]
        x2 = xo * xo
        xn = xo + dt * ((pm1 - mu * x2) * xo + coup * eo * y[i])
        if sq != 0.0:
            if (i & 1) == 0:
                g1, g2 = _normal_pair(rng, r)
                xn += sq * g1
            else:
                xn += sq * g2
        if xn > x_max:
            xn = x_max
        elif xn < -x_max:
            xn = -x_max
        elif xn != xn:
            return -1  # NaN: diverged (the caller marks the replica with H = NaN and stops it)
        en = eo * np.exp(-dt * xi * (x2 - tau_a))
        if en > e_max:
            en = e_max
        elif en != en:
            return -1
        x[i] = xn
        e[i] = en
        sn = 1 if xn >= 0.0 else -1
        if sn != s[i]:
            flip[nf] = i
            nf += 1
    return nf


@nb.njit(cache=True, nogil=True)
def _control(r, t, H, s, best, HOPT, TAU, XI, TC, TBEST, alpha, rho, delta, gamma, dt, tau_steps, tol):  # pragma: no cover
    """Steps 1-3 of the module docstring for replica ``r`` after step ``t`` (energy now ``H``)."""
    t1 = t + 1
    if H < HOPT[r] - tol:
        HOPT[r] = H
        TC[r] = t1
        TBEST[r] = t1
        for i in range(s.shape[0]):
            best[i] = s[i]
    XI[r] += gamma * dt
    if t1 - TC[r] >= tau_steps:
        XI[r] = 0.0
        TC[r] = t1
    TAU[r] = alpha + rho * np.tanh(delta * (H - HOPT[r]))


@nb.njit(inline="always")
def _flip(J, add_row, s, phi, flip, nf):  # pragma: no cover - compiled
    """Flip the spins ``flip[:nf]`` of ``s`` and keep ``phi = J s`` (``add_row`` as in
    :mod:`cimsim.kernels.localsearch`); returns the energy change."""
    dH = 0.0
    for k in range(nf):
        i = flip[k]
        so = s[i]
        dH += 2.0 * so * phi[i]
        s[i] = -so
        add_row(J, phi, i, -2.0 * so)
    return dH


@nb.njit(inline="always")
def _matvec_dense(J, x, y):  # pragma: no cover - compiled
    """y = J x (dense J)."""
    for i in range(y.shape[0]):
        Ji = J[i]
        acc = 0.0
        for j in range(x.shape[0]):
            acc += Ji[j] * x[j]
        y[i] = acc


@nb.njit(inline="always")
def _matvec_csr(J, x, y):  # pragma: no cover - compiled
    """y = J x for J = (indptr, indices, data) in CSR."""
    indptr, indices, data = J
    for i in range(y.shape[0]):
        acc = 0.0
        for q in range(indptr[i], indptr[i + 1]):
            acc += data[q] * x[indices[q]]
        y[i] = acc


@nb.njit(cache=True, nogil=True)
def step_dense(J, Y, X, E, S, PHI, BEST, FLIP, H, HOPT, TAU, XI, TC, TBEST, STEPS, ACTIVE, RNG, t,
               pm1, mu, coup, dt, e_max, x_max, alpha, rho, delta, gamma, tau_steps, tol, target, sq):  # pragma: no cover
    """Advance every active replica by one step ``t``, dense J (N, N); ``Y = X @ J`` precomputed by BLAS.

    ``J`` is the unscaled coupling matrix (used for the incremental readout fields); the dynamics use
    ``coup * Y``. ``pm1 = p(t) - 1`` and ``alpha = alpha(t)`` are this step's values. A replica whose energy
    reaches ``target`` becomes inactive (``ACTIVE[r] = False``); so does a diverged one (``H[r] = NaN``).
    Serial on purpose: the step is O(R N) next to the O(R N^2) product, and a parallel launch per step
    waits for every worker thread to be scheduled (measured 3x slower in total on a loaded machine).
    """
    R, N = X.shape
    for r in range(R):
        if not ACTIVE[r]:
            continue
        s = S[r]
        phi = PHI[r]
        flip = FLIP[r]
        nf = _euler(X[r], E[r], Y[r], s, flip, pm1, mu, coup, XI[r], TAU[r], dt, e_max, x_max, sq, RNG, r)
        if nf < 0:
            H[r] = np.nan
            ACTIVE[r] = False
            continue
        H[r] += _flip(J, _add_row_dense, s, phi, flip, nf)
        _control(r, t, H[r], s, BEST[r], HOPT, TAU, XI, TC, TBEST,
                 alpha, rho, delta, gamma, dt, tau_steps, tol)
        STEPS[r] = t + 1
        if H[r] <= target + tol:
            ACTIVE[r] = False


@nb.njit(inline="always")
def _trajectories(J, matvec, add_row, X, E, S, PHI, BEST, H, HOPT, TAU, XI, TC, TBEST, STEPS, ACTIVE, RNG, t0, t1,
                  PM1, ALPHA, scalars):  # pragma: no cover - compiled
    """The loop of :func:`run_csr` and :func:`run_dense` over steps ``t0 <= t < t1``: ``matvec(J, x, y)`` sets
    y = J x, ``add_row`` as in :func:`_flip`; ``PM1[t - t0]``, ``ALPHA[t - t0]`` are step t's p - 1 and alpha;
    ``scalars`` = (mu, coup, dt, e_max, x_max, rho, delta, gamma, tau_steps, tol, target, sq) (one tuple:
    CPython passes calls of 30 or more arguments as ``*args``, which numba cannot inline)."""
    mu, coup, dt, e_max, x_max, rho, delta, gamma, tau_steps, tol, target, sq = scalars
    R, N = X.shape
    for r in nb.prange(R):
        if not ACTIVE[r]:
            continue
        x = X[r]
        s = S[r]
        phi = PHI[r]
        best = BEST[r]
        y = np.empty(N)
        flip = np.empty(N, dtype=np.int64)
        for t in range(t0, t1):
            k = t - t0
            matvec(J, x, y)
            nf = _euler(x, E[r], y, s, flip, PM1[k], mu, coup, XI[r], TAU[r], dt, e_max, x_max, sq, RNG, r)
            if nf < 0:
                H[r] = np.nan  # diverged: the caller raises
                ACTIVE[r] = False
                break
            H[r] += _flip(J, add_row, s, phi, flip, nf)
            _control(r, t, H[r], s, best, HOPT, TAU, XI, TC, TBEST,
                     ALPHA[k], rho, delta, gamma, dt, tau_steps, tol)
            STEPS[r] = t + 1
            if H[r] <= target + tol:
                ACTIVE[r] = False
                break


@nb.njit(parallel=True, cache=True, nogil=True)
def run_csr(indptr, indices, data, X, E, S, PHI, BEST, H, HOPT, TAU, XI, TC, TBEST, STEPS, ACTIVE, RNG, t0, t1,
            PM1, ALPHA, mu, coup, dt, e_max, x_max, rho, delta, gamma, tau_steps, tol, target, sq):  # pragma: no cover
    """Run steps ``t0 <= t < t1`` for every active replica with CSR J (unscaled; dynamics use ``coup * J``).

    Replicas are independent, so each thread runs whole trajectories (the replica state stays in
    cache). A replica stops (``ACTIVE[r] = False``) when its energy reaches ``target`` or it diverges;
    ``STEPS[r]`` records the steps it took. Every variable of the run, the random streams ``RNG`` included,
    lives in the arrays, so consecutive calls over ``[t0, t1)``, ``[t1, t2)`` equal one call over ``[t0, t2)``.
    """
    _trajectories((indptr, indices, data), _matvec_csr, _add_row_csr, X, E, S, PHI, BEST, H, HOPT, TAU, XI, TC, TBEST,
                  STEPS, ACTIVE, RNG, t0, t1, PM1, ALPHA,
                  (mu, coup, dt, e_max, x_max, rho, delta, gamma, tau_steps, tol, target, sq))


@nb.njit(parallel=True, cache=True, nogil=True)
def run_dense(J, X, E, S, PHI, BEST, H, HOPT, TAU, XI, TC, TBEST, STEPS, ACTIVE, RNG, t0, t1,
              PM1, ALPHA, mu, coup, dt, e_max, x_max, rho, delta, gamma, tau_steps, tol, target, sq):  # pragma: no cover
    """Whole trajectories with dense J (N, N) and an in-kernel mat-vec, one replica per thread (as
    :func:`run_csr`).

    For small N, where a BLAS call plus a kernel launch per step costs more than the step itself;
    large dense models use :func:`step_dense` after one BLAS (R, N) x (N, N) product per step.
    """
    _trajectories(J, _matvec_dense, _add_row_dense, X, E, S, PHI, BEST, H, HOPT, TAU, XI, TC, TBEST,
                  STEPS, ACTIVE, RNG, t0, t1, PM1, ALPHA,
                  (mu, coup, dt, e_max, x_max, rho, delta, gamma, tau_steps, tol, target, sq))
