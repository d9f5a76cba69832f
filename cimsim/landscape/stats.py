"""Per-a statistics of critical points (physics.md 6.1 'report per critical point', 2.5, 6.2)."""
from __future__ import annotations

import math

import numpy as np

from .critical import CriticalPoints

__all__ = ["point_table", "amplitude_stats", "summarize", "overlaps", "index_vs_energy", "AMPLITUDE_SMALL"]

#: |x_i| threshold for the 'small amplitude' fraction of physics.md 2.5.
AMPLITUDE_SMALL = 0.2


def amplitude_stats(x: np.ndarray, *, small: float = AMPLITUDE_SMALL, delta: float = 0.05) -> dict:
    """Amplitude distribution summary of one point x (N,): q, m4, min|x|, fraction |x| < small,
    density of x at 0 estimated as fraction(|x| < delta) / (2 delta)."""
    x = np.asarray(x, dtype=np.float64)
    ax = np.abs(x)
    return {
        "q": float(np.mean(x * x)),
        "m4": float(np.mean(x**4)),
        "min_abs_x": float(ax.min()),
        "frac_small": float(np.mean(ax < small)),
        "p0": float(np.mean(ax < delta) / (2 * delta)),
    }


def point_table(points: CriticalPoints) -> list[dict]:
    """One dict per point: eps = E/N, q, index k and k/N, lambda_min, m4, the identity check
    eps + m4/4 (zero at a critical point when h = 0), |g|/sqrt(N), count, and amplitude stats."""
    n = points.n
    rows = []
    for i in range(len(points)):
        st = amplitude_stats(points.x[i])
        rows.append({
            "eps": float(points.energy[i] / n),
            "index": int(points.index[i]),
            "index_frac": float(points.index[i] / n),
            "lambda_min": float(points.lambda_min[i]),
            "grad_norm": float(points.grad_norm[i]),
            "count": int(points.count[i]),
            "identity_residual": float(points.energy[i] / n + st["m4"] / 4.0),
            **st,
        })
    return rows


def overlaps(X: np.ndarray) -> np.ndarray:
    """|x_a . x_b| / (|x_a| |x_b|) for all pairs (sign-blind because x ~ -x), shape (K, K)."""
    X = np.atleast_2d(np.asarray(X, dtype=np.float64))
    nrm = np.linalg.norm(X, axis=1)
    nrm = np.where(nrm > 0, nrm, 1.0)
    return np.abs((X @ X.T) / np.outer(nrm, nrm))


def summarize(points: CriticalPoints, *, marginal_threshold: float | None = None) -> dict:
    """Aggregate statistics of a de-duplicated set at one a.

    ``marginal_threshold`` (default 3 N^(-2/3)): a minimum with lambda_min below it is counted marginal.
    Returns distinct points, starts, failures, lowest/mean/sd of eps, mean q, mean lambda_min, fraction
    marginal, lambda_min of the lowest point, the mean off-diagonal overlap, and the fraction of starts
    that found the lowest point.
    """
    n = points.n
    thr = 3.0 * n ** (-2.0 / 3.0) if marginal_threshold is None else marginal_threshold
    if len(points) == 0:
        return {"distinct": 0, "starts": points.starts, "failed": points.failed}
    p = points.order()
    eps = p.energy / n
    ov = overlaps(p.x)
    k = len(p)
    off = ov[~np.eye(k, dtype=bool)] if k > 1 else np.array([np.nan])
    return {
        "distinct": k,
        "starts": p.starts,
        "failed": p.failed,
        "eps_min": float(eps[0]),
        "eps_mean": float(eps.mean()),
        "eps_sd": float(eps.std()),
        "q_mean": float(np.mean(np.sum(p.x**2, axis=1) / n)),
        "lambda_min_mean": float(p.lambda_min.mean()),
        "lambda_min_lowest": float(p.lambda_min[0]),
        "fraction_marginal": float(np.mean((p.index == 0) & (p.lambda_min < thr))),
        "index_mean": float(p.index.mean()),
        "overlap_mean": float(np.mean(off)) if k > 1 else float("nan"),
        "lowest_hit_fraction": float(p.count[0] / max(p.starts, 1)),
    }


def index_vs_energy(points: CriticalPoints) -> tuple[np.ndarray, np.ndarray]:
    """(eps, index/N) pairs for a Bray-Dean plot."""
    return points.energy / points.n, points.index / points.n
