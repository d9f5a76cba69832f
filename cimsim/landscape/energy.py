"""Soft-spin (classical CIM) energy of physics.md section 1, its gradient and Hessian, batched.

Convention (project-wide)::

    E_a(x) = sum_i (x_i^4/4 - a x_i^2/2) - 1/2 x^T J x - h^T x
    g(x)   = x**3 - a x - J x - h
    K(x)   = diag(3 x_i^2 - a) - J

``x`` is either one point, shape (N,), or a batch, shape (K, N); results follow the leading shape.
``J`` is a dense symmetric ndarray (N, N) or a scipy CSR matrix; products with a CSR ``J`` stay sparse.
Energies are accumulated in float64.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..errors import CimsimError

__all__ = ["apply_couplings", "energy", "gradient", "hessian", "grad_norm", "check_points"]


def apply_couplings(J: "np.ndarray | sp.spmatrix", x: np.ndarray) -> np.ndarray:
    """Return ``J x`` for one point (N,) or row-wise ``x_k J`` for a batch (K, N) (J symmetric)."""
    if sp.issparse(J):
        return np.asarray((J @ x.T).T) if x.ndim == 2 else np.asarray(J @ x)
    return x @ J


def _fields(h: np.ndarray | None, x: np.ndarray) -> np.ndarray | float:
    return 0.0 if h is None else np.asarray(h, dtype=np.float64)


def energy(x: np.ndarray, J: "np.ndarray | sp.spmatrix", a: float, h: np.ndarray | None = None) -> "float | np.ndarray":
    """E_a(x); a float for x of shape (N,), an array (K,) for x of shape (K, N)."""
    x = np.asarray(x, dtype=np.float64)
    x2 = x * x
    Jx = apply_couplings(J, x)
    e = np.sum(0.25 * x2 * x2 - 0.5 * a * x2 - 0.5 * x * Jx, axis=-1)
    if h is not None:
        e = e - x @ np.asarray(h, dtype=np.float64)
    return float(e) if np.ndim(e) == 0 else e


def gradient(x: np.ndarray, J: "np.ndarray | sp.spmatrix", a: float, h: np.ndarray | None = None) -> np.ndarray:
    """g(x) = x**3 - a x - J x - h, same shape as ``x``."""
    x = np.asarray(x, dtype=np.float64)
    g = x * x * x - a * x - apply_couplings(J, x)
    if h is not None:
        g = g - np.asarray(h, dtype=np.float64)
    return g


def grad_norm(x: np.ndarray, J: "np.ndarray | sp.spmatrix", a: float, h: np.ndarray | None = None) -> "float | np.ndarray":
    """|g(x)| / sqrt(N): the convergence measure used throughout (scalar or (K,))."""
    g = gradient(x, J, a, h)
    out = np.linalg.norm(g, axis=-1) / np.sqrt(g.shape[-1])
    return float(out) if np.ndim(out) == 0 else out


def hessian(x: np.ndarray, J: "np.ndarray | sp.spmatrix", a: float) -> "np.ndarray | sp.csr_matrix":
    """K(x) = diag(3 x**2 - a) - J.

    Dense J: an ndarray (N, N) for one point or (K, N, N) for a batch. CSR J (one point only): a CSR
    matrix; densify it yourself (``.toarray()``) if you need a dense eigendecomposition.
    """
    x = np.asarray(x, dtype=np.float64)
    d = 3.0 * x * x - a
    if sp.issparse(J):
        if x.ndim != 1:
            raise CimsimError("hessian of a batch needs a dense J; call it point by point for CSR J")
        return (sp.diags(d) - J).tocsr()
    Jd = np.asarray(J, dtype=np.float64)
    if x.ndim == 1:
        K = -Jd.copy()
        K[np.diag_indices_from(K)] += d
        return K
    K = np.broadcast_to(-Jd, (x.shape[0],) + Jd.shape).copy()
    idx = np.arange(x.shape[1])
    K[:, idx, idx] += d
    return K


def check_points(x: object, n: int) -> np.ndarray:
    """Validate points: a finite float array of shape (N,) or (K, N) with N == ``n``."""
    try:
        xa = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise CimsimError("points must be a numeric array") from None
    if xa.ndim not in (1, 2) or xa.shape[-1] != n:
        raise CimsimError(f"points must have shape ({n},) or (K, {n}), got {xa.shape}")
    if not np.all(np.isfinite(xa)):
        raise CimsimError("points contain NaN or infinite entries")
    return xa
