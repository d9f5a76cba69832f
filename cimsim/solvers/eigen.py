"""Extreme eigenpairs of large dense couplings by Lanczos, bounded in time under a budget.

Several solvers need a few extreme eigenpairs of J before their dynamics start: the pump threshold
lambda_max (cim, dopo, mfb), the step-size rules' lambda_min (sb, sfc, asb, cfc, cac), the top eigenvector
(adiabatic, cim's bifurcation start) and the top k eigenvectors (spectral). On a dense SK N = 8,000 ARPACK or
a block LOBPCG took 3 s (lambda_max, lambda_min) to 10 s (spectral's 8 vectors) of one core: a third of a
10 s budget or all of it, in one call the solver's deadline cannot cut.

:func:`extremes` runs one single-vector Lanczos recurrence (float32 products J q: one pass over J per step,
the memory-bound minimum; full reorthogonalisation in float64) and reads every wanted quantity off it: the
bottom Ritz value and the top ``k`` Ritz pairs converge together from both ends of the spectrum. It stops
when the residual norm of each wanted Ritz pair is below ``tol`` times the spectral radius, or, under a
deadline (the argument, else the driver's :func:`~cimsim.solvers.budget.active_deadline`), once it has used
``share`` of the time left -- after at least :data:`MIN_STEPS` steps, so that even an expired deadline
gets a usable estimate. On SK N = 8,000 (one core, 14 ms per step) the extreme Ritz values were within
1e-3 (relative) of the converged ones after 60 steps, 6e-5 after 100 and 2e-6 after 120; the default
``tol`` stopped at about 130 steps.

A time-cut answer is an *estimate*, not a bound: Ritz values lie inside the spectrum, so a cut
``bottom`` is a little above lambda_min and ``top[0]`` a little below lambda_max (by about the residual
norm, reported in ``residual_bottom`` / ``residual_top``). The step-size rules that use lambda_min keep
a stability margin far larger than that (sb: ``STABLE_FRACTION``). A time-cut answer is kept by the model
for the rest of the budgeted run only; a later call without a deadline computes the converged one.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla

from ..memory import check_dense_fits
from ..model import IsingModel
from .budget import Deadline, active_deadline

__all__ = ["Extremes", "extremes", "LANCZOS_MIN_N", "MIN_STEPS", "MAX_STEPS", "SHARE", "TOL"]

#: dense models from this size use :func:`extremes` for their eigenvalue estimates (smaller: LAPACK/ARPACK)
LANCZOS_MIN_N = 2000
#: steps always taken (an expired deadline still gets an estimate; on SK 8000: ~1 % off after 24)
MIN_STEPS = 24
#: the most Lanczos steps of one call (the basis is MAX_STEPS x N float64)
MAX_STEPS = 400
#: under a deadline, the fraction of the time left that one call may use
SHARE = 0.15
#: default residual tolerance, relative to the spectral radius
TOL = 1e-3


@dataclass(frozen=True)
class Extremes:
    """Ritz values of the raw couplings J: ``top`` (k,) descending with unit Ritz vectors ``vectors``
    (N, k), ``bottom`` the smallest; their residual norms ||J v - theta v||; the Lanczos ``steps`` taken
    and whether every wanted residual met the tolerance (``converged``; False when time cut it short)."""

    top: np.ndarray
    vectors: np.ndarray
    bottom: float
    residual_top: np.ndarray
    residual_bottom: float
    steps: int
    converged: bool


def _lanczos(J32: np.ndarray, k: int, tol: float, stop_at: float | None, deadline: Deadline | None) -> Extremes:
    n = J32.shape[0]
    m_max = min(MAX_STEPS, n)
    Q = np.empty((m_max, n))
    alpha = np.empty(m_max)
    beta = np.empty(m_max)
    q = np.random.default_rng(0).standard_normal(n)  # fixed start: the answer does not depend on the caller
    Q[0] = q / np.linalg.norm(q)
    q32 = np.empty(n, dtype=np.float32)

    def ritz(m: int, b: float) -> Extremes:
        theta, Y = sla.eigh_tridiagonal(alpha[:m], beta[:m - 1]) if m > 1 else (alpha[:1].copy(), np.ones((1, 1)))
        kk = min(k, m)
        top = theta[::-1][:kk]
        res = np.abs(b * Y[-1, :])  # ||J (Q y) - theta (Q y)|| = |beta_m y_m|
        res_top = res[::-1][:kk]
        V = Q[:m].T @ Y[:, ::-1][:, :kk]
        V /= np.linalg.norm(V, axis=0)
        radius = max(abs(theta[0]), abs(theta[-1]), 1e-300)
        done = bool(np.all(res_top <= tol * radius) and res[0] <= tol * radius)
        return Extremes(top.copy(), np.ascontiguousarray(V), float(theta[0]), res_top.copy(), float(res[0]), m, done)

    m = 0
    b = 0.0
    while True:
        np.copyto(q32, Q[m], casting="same_kind")
        w = np.matmul(J32, q32).astype(np.float64)
        alpha[m] = Q[m] @ w
        for _ in range(2):  # full reorthogonalisation, twice (classical Gram-Schmidt)
            w -= Q[:m + 1].T @ (Q[:m + 1] @ w)
        b = float(np.linalg.norm(w))
        m += 1
        if m == m_max or b <= 1e-12 * max(abs(alpha[:m]).max(), 1e-300):  # basis full, or an invariant subspace
            out = ritz(m, b)
            exact = b <= 1e-12 * max(abs(alpha[:m]).max(), 1e-300) or m == n
            return Extremes(out.top, out.vectors, out.bottom, out.residual_top, out.residual_bottom, m,
                            out.converged or exact)
        beta[m - 1] = b
        Q[m] = w / b
        if m >= MIN_STEPS and m % 10 == 0:
            out = ritz(m, b)
            if out.converged:
                return out
            if (stop_at is not None and time.perf_counter() >= stop_at) or (deadline is not None and deadline.interrupted):
                return out


def extremes(model: IsingModel, k: int = 1, *, tol: float = TOL, deadline: Deadline | None = None,
             share: float = SHARE) -> Extremes:
    """The top ``k`` Ritz pairs and the bottom Ritz value of dense ``model.J`` (module docstring), kept by
    the model. ``deadline`` (default: the driver's active one) bounds the time to ``share`` of what is left
    of it; without any deadline the recurrence runs until converged (or :data:`MAX_STEPS`)."""
    if deadline is None:
        deadline = active_deadline()
    budgeted = deadline is not None and (deadline.end is not None or deadline.interrupted)
    cache = model.__dict__.get("_lanczos_extremes")
    if cache is not None and cache.top.shape[0] >= k and (cache.converged or budgeted):
        return Extremes(cache.top[:k].copy(), cache.vectors[:, :k].copy(), cache.bottom, cache.residual_top[:k].copy(),
                        cache.residual_bottom, cache.steps, cache.converged)
    stop_at = None
    if budgeted:
        stop_at = time.perf_counter() + share * deadline.remaining()
    n = model.n
    check_dense_fits(n, copies=1, itemsize=4, what="float32 copy of J")
    J32 = np.asarray(model.J, dtype=np.float32)
    out = _lanczos(J32, k, tol, stop_at, deadline)
    model.__dict__["_lanczos_extremes"] = out  # frozen dataclass: past __setattr__
    return out
