"""Check the numba.cuda step kernels against the array-module references, element by element.

``python -m cimsim.gpu.selfcheck`` runs every check and prints one JSON line; exit status 1 if a kernel
disagrees. On a GPU machine it checks the real kernels on CuPy arrays; without one, run it under the
CUDA simulator (``NUMBA_ENABLE_CUDASIM=1 python -m cimsim.gpu.selfcheck``, the variable must be set
before numba is imported), which is what tests/test_gpu.py does in a subprocess.

Each ``compare_*`` function draws a small random state (including amplitudes beyond the walls / clip
limits, zero amplitudes and mixed improved/active flags so every branch is hit), applies one step with
the kernel and with the reference of :mod:`cimsim.gpu.steps`, and returns the largest absolute
difference over all outputs. A ``kernel`` argument substitutes another kernel with the same signature
(the tests pass deliberately broken copies to show the check catches them).
"""
from __future__ import annotations

import json
import sys
from typing import Any, Callable

import numpy as np

from . import steps as ref

__all__ = ["compare_cim", "compare_sb", "compare_amp", "compare_readout", "compare_control",
           "compare_sb_readout", "run_all", "TOLERANCE"]

#: Largest accepted difference per kernel. The simulator reproduces the references exactly (0.0); on a
#: device, fused multiply-adds may change the last bit: float64 for cim/amp, one float32 ulp for sb.
TOLERANCE = {"cim": 1e-12, "sb": 1e-6, "amp": 1e-12, "readout": 1e-12, "control": 1e-12, "sb_readout": 1e-12,
             "sb_readout_csr": 1e-12}


def _xp(on_gpu: bool):
    if on_gpu:
        import cupy  # type: ignore[import-not-found]

        return cupy
    return np


def _to_host(a: Any) -> np.ndarray:
    return a.get() if hasattr(a, "get") and not isinstance(a, np.ndarray) else np.asarray(a)


def _grid(total: int) -> tuple[int, int]:
    from .cuda_kernels import _grid as g

    return g(total)


def compare_cim(kernel: Callable | None = None, *, R: int = 3, N: int = 11, seed: int = 0, on_gpu: bool = False) -> float:
    """Max |difference| between ``kernel`` (default :func:`cuda_kernels.cim_kernel`) and ``steps.cim_step``."""
    from . import cuda_kernels as ck

    kernel = ck.cim_kernel if kernel is None else kernel
    xp = _xp(on_gpu)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((R, N)) * 1.5
    Y = rng.standard_normal((R, N)) * 3.0
    h = rng.standard_normal(N)
    XI = rng.standard_normal((R, N))
    a, coef, dt, sq = -0.3, 0.21, 0.1, 0.05
    worst = 0.0
    for use_noise in (False, True):
        A = [xp.asarray(v.copy()) for v in (X, np.zeros((R, N)))]
        B = [xp.asarray(v.copy()) for v in (X, np.zeros((R, N)))]
        kernel[_grid(R * N)](A[0], xp.asarray(Y), A[1], xp.asarray(h), a, coef, dt, sq if use_noise else 0.0,
                             xp.asarray(XI), use_noise)
        ref.cim_step(B[0], xp.asarray(Y), B[1], xp.asarray(h), a, coef, dt, sq if use_noise else 0.0, xp.asarray(XI))
        worst = max(worst, *(float(np.max(np.abs(_to_host(p) - _to_host(q)))) for p, q in zip(A, B)))
    return worst


def compare_sb(kernel: Callable | None = None, *, R: int = 3, N: int = 11, seed: int = 0, on_gpu: bool = False) -> float:
    """Max |difference| between ``kernel`` (default :func:`cuda_kernels.sb_kernel`) and ``steps.sb_step``
    (float32 state, both variants, amplitudes pushed through the walls and exact zeros)."""
    from . import cuda_kernels as ck

    kernel = ck.sb_kernel if kernel is None else kernel
    xp = _xp(on_gpu)
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (R, N)).astype(np.float32)
    X[0, :3] = 0.0
    Y = (rng.standard_normal((R, N)) * 2.0).astype(np.float32)
    Y[0, 0] = 0.0
    P = rng.standard_normal((R, N)).astype(np.float32)
    P[0, 0] = 0.0
    h = np.zeros(N)
    h[1:] = rng.standard_normal(N - 1)
    worst = 0.0
    for discrete in (True, False):
        A = [xp.asarray(v.copy()) for v in (X, Y, np.zeros_like(X), np.zeros_like(X))]
        B = [xp.asarray(v.copy()) for v in (X, Y, np.zeros_like(X), np.zeros_like(X))]
        kernel[_grid(R * N)](A[0], A[1], A[2], A[3], xp.asarray(P), xp.asarray(h), 0.4, 0.3, 0.5, discrete)
        ref.sb_step(B[0], B[1], B[2], B[3], xp.asarray(P), xp.asarray(h), 0.4, 0.3, 0.5, discrete)
        worst = max(worst, *(float(np.max(np.abs(_to_host(p).astype(np.float64) - _to_host(q)))) for p, q in zip(A, B)))
    return worst


def compare_amp(kernel: Callable | None = None, *, R: int = 4, N: int = 11, seed: int = 0, on_gpu: bool = False) -> float:
    """Max |difference| between ``kernel`` (default :func:`cuda_kernels.amp_kernel`) and ``steps.amp_step``
    (some replicas improved, one inactive, amplitudes beyond the clip, e at its cap, dynamics noise on)."""
    from . import cuda_kernels as ck

    kernel = ck.amp_kernel if kernel is None else kernel
    xp = _xp(on_gpu)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((R, N))
    X[0, 0] = 9.0
    E = rng.uniform(0.5, 3.0, (R, N))
    E[1, 1] = 31.99  # grows past e_max in one step (x = 0 < tau, xi > 0): exercises the cap
    X[1, 1] = 0.0
    Y = rng.standard_normal((R, N)) * 2.0
    S = np.where(rng.random((R, N)) < 0.5, 1.0, -1.0)
    BEST = np.where(rng.random((R, N)) < 0.5, 1, -1).astype(np.int8)
    improved = np.array([True, False, True, False][:R] + [False] * max(0, R - 4))
    active = np.array([True, True, False, True][:R] + [True] * max(0, R - 4))
    XI = rng.uniform(0.0, 3.0, R)
    TAU = rng.uniform(0.5, 1.5, R)
    XI[1] = 2.0
    G = xp.asarray(rng.standard_normal((R, N)))  # the noise term (sq != 0) is exercised too
    args = (0.2 - 1.0, 1.0, 0.7, 0.05, 32.0, 1.0 / np.sqrt(0.05), G, 0.3 * np.sqrt(0.05))
    A = [xp.asarray(v.copy()) for v in (X, E, S, BEST)]
    B = [xp.asarray(v.copy()) for v in (X, E, S, BEST)]
    dev = [xp.asarray(v) for v in (Y, improved, active, XI, TAU)]
    kernel[_grid(R * N)](A[0], A[1], dev[0], A[2], A[3], dev[1], dev[2], dev[3], dev[4], *args)
    ref.amp_step(B[0], B[1], dev[0], B[2], B[3], dev[1], dev[2], dev[3], dev[4], *args)
    return max(float(np.max(np.abs(_to_host(p).astype(np.float64) - _to_host(q).astype(np.float64)))) for p, q in zip(A, B))


def compare_readout(kernel: Callable | None = None, *, R: int = 4, N: int = 11, seed: int = 0, on_gpu: bool = False) -> float:
    """Max |difference| between ``kernel`` (default :func:`cuda_kernels.readout_kernel`) and ``steps.readout``
    (with a field, tracking on and off; some replicas improve, some do not)."""
    from . import cuda_kernels as ck

    kernel = ck.readout_kernel if kernel is None else kernel
    xp = _xp(on_gpu)
    rng = np.random.default_rng(seed)
    S = np.where(rng.random((R, N)) < 0.5, 1.0, -1.0)
    PHI = rng.standard_normal((R, N)) * 3.0
    h = rng.standard_normal(N)
    E_now = 0.7 - (S * (0.5 * PHI + h)).sum(axis=1)
    best_E = E_now + np.where(np.arange(R) % 2 == 0, 0.5, -0.5)  # even replicas improve
    best_S = np.where(rng.random((R, N)) < 0.5, 1, -1).astype(np.int8)
    worst = 0.0
    for track in (True, False):
        A = [xp.asarray(v.copy()) for v in (best_E, best_S)]
        B = [xp.asarray(v.copy()) for v in (best_E, best_S)]
        kernel[R, ck.RED_THREADS](xp.asarray(S), xp.asarray(PHI), xp.asarray(h), True, 0.7, A[0], A[1], track)
        ref.readout(xp.asarray(S), xp.asarray(PHI), xp.asarray(h), 0.7, B[0], B[1], track)
        worst = max(worst, *(float(np.max(np.abs(_to_host(p).astype(np.float64) - _to_host(q)))) for p, q in zip(A, B)))
    return worst


def compare_control(kernel: Callable | None = None, *, R: int = 4, N: int = 11, seed: int = 0, on_gpu: bool = False) -> float:
    """Max |difference| between ``kernel`` (default :func:`cuda_kernels.amp_control_kernel`) and
    ``steps.amp_control``: one replica improves, one resets xi, one is inactive, one reaches the target."""
    from . import cuda_kernels as ck

    kernel = ck.amp_control_kernel if kernel is None else kernel
    xp = _xp(on_gpu)
    rng = np.random.default_rng(seed)
    S = np.where(rng.random((R, N)) < 0.5, 1.0, -1.0)
    PHI = np.round(rng.standard_normal((R, N)) * 3.0)
    E_now = -0.5 * (S * PHI).sum(axis=1)
    HOPT = E_now + np.array([0.5, -0.5, 0.5, -0.5])[:R]
    state = dict(
        H=E_now + 1.0, HOPT=HOPT, TAU=np.full(R, 1.0), XI=rng.uniform(0, 1, R), TC=np.array([3, 0, 3, 3])[:R],
        TBEST=np.array([3, 0, 3, 3])[:R], STEPS=np.full(R, 9), ACTIVE=np.array([True, True, False, True])[:R],
        IMPROVED=np.zeros(R, dtype=bool),
    )
    tgt = float(E_now[3]) + 0.25 if R > 3 else -np.inf
    args = (10, 1.0, 0.8, 0.3, 0.1, 0.05, 7, 1e-9, tgt)  # t1, alpha, rho, delta, gamma, dt, tau_steps, tol, target
    A = {k: xp.asarray(v.copy()) for k, v in state.items()}
    B = {k: xp.asarray(v.copy()) for k, v in state.items()}
    kernel[R, ck.RED_THREADS](xp.asarray(S), xp.asarray(PHI), 0.0, *A.values(), *args)
    ref.amp_control(xp.asarray(S), xp.asarray(PHI), 0.0, *B.values(), *args)
    return max(float(np.max(np.abs(_to_host(A[k]).astype(np.float64) - _to_host(B[k]).astype(np.float64)))) for k in A)


def compare_sb_readout(kernel: Callable | None = None, *, R: int = 4, N: int = 11, seed: int = 0,
                       on_gpu: bool = False, sparse: bool = False) -> float:
    """Max |difference| between the dSB readout kernel (dense, or CSR with ``sparse=True``) and
    ``steps.sb_readout`` on states with several exact-zero amplitudes (one replica all zeros)."""
    import scipy.sparse as sp

    from . import cuda_kernels as ck

    xp = _xp(on_gpu)
    rng = np.random.default_rng(seed)
    A = np.triu(rng.standard_normal((N, N)) * (rng.random((N, N)) < 0.6), 1)
    J = A + A.T
    X = rng.uniform(-1, 1, (R, N))
    X[rng.random((R, N)) < 0.3] = 0.0
    X[1] = 0.0
    V = np.sign(X)
    P = V @ J
    h = rng.standard_normal(N)
    best_E = np.full(R, np.inf)
    best_E[2] = -1e9  # one replica keeps its old best
    best_S = np.ones((R, N), dtype=np.int8)
    Ad = [xp.asarray(v.copy()) for v in (best_E, best_S)]
    Bd = [xp.asarray(v.copy()) for v in (best_E, best_S)]
    args = [xp.asarray(v) for v in (X, V, P, h)]
    if sparse:
        Jc = sp.csr_matrix(J)
        kernel = ck.sb_readout_csr_kernel if kernel is None else kernel
        kernel[R, ck.RED_THREADS](*args[:3], args[3], True, 0.3, xp.asarray(Jc.indptr), xp.asarray(Jc.indices),
                                  xp.asarray(Jc.data), *Ad)
    else:
        kernel = ck.sb_readout_dense_kernel if kernel is None else kernel
        kernel[R, ck.RED_THREADS](*args[:3], args[3], True, 0.3, xp.asarray(J), *Ad)
    Jd = xp.asarray(J)
    ref.sb_readout(*args[:3], args[3], 0.3, lambda Z: Z @ Jd, *Bd)
    return max(float(np.max(np.abs(_to_host(p).astype(np.float64) - _to_host(q).astype(np.float64)))) for p, q in zip(Ad, Bd))


def run_all(on_gpu: bool = False, seeds: tuple[int, ...] = (0, 1, 2)) -> dict:
    """All three comparisons at a few seeds: ``{"cim": worst, "sb": worst, "amp": worst}``."""
    out = {}
    sb_csr = lambda **kw: compare_sb_readout(sparse=True, **kw)  # noqa: E731
    for name, fn in (("cim", compare_cim), ("sb", compare_sb), ("amp", compare_amp), ("readout", compare_readout),
                     ("control", compare_control), ("sb_readout", compare_sb_readout), ("sb_readout_csr", sb_csr)):
        out[name] = max(fn(seed=s, on_gpu=on_gpu) for s in seeds)
    return out


def main() -> int:
    from numba import config

    simulated = bool(config.ENABLE_CUDASIM)
    on_gpu = False
    if not simulated:
        from ..backends import gpu_status

        ok, reason = gpu_status()
        if not ok:
            print(f"cimsim.gpu.selfcheck: {reason} (or run it under NUMBA_ENABLE_CUDASIM=1)", file=sys.stderr)
            return 2
        on_gpu = True
    res = run_all(on_gpu=on_gpu)
    ok = all(v <= TOLERANCE[k] for k, v in res.items())
    print(json.dumps({"simulated": simulated, "max_abs_diff": res, "ok": ok}))
    return 0 if ok else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
