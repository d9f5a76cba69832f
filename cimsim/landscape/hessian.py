"""Hessian spectra at critical points: batched eigvalsh, index, lambda_min, density vs the Pastur law.

K(x) = diag(3 x^2 - a) - J (physics.md 1 and 2.4). The Hessian is formed densely (J must be dense);
memory is one N x N array per point at a time.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla

from .critical import blas_single_thread, check_hessian_fits
from .energy import hessian
from .theory import hessian_edge, pastur_density

__all__ = ["spectra", "index_of", "lambda_min", "SpectralDensity", "spectral_density", "origin_index"]


def spectra(J: np.ndarray, a: float, X: np.ndarray) -> np.ndarray:
    """Sorted eigenvalues of K at each point: X (N,) -> (N,), X (K, N) -> (K, N)."""
    X = np.asarray(X, dtype=np.float64)
    check_hessian_fits(X.shape[-1], 1)
    with blas_single_thread():
        if X.ndim == 1:
            return sla.eigvalsh(hessian(X, J, a), check_finite=False)
        return np.stack([sla.eigvalsh(hessian(x, J, a), check_finite=False) for x in X])


def index_of(eigenvalues: np.ndarray) -> np.ndarray:
    """Number of negative eigenvalues along the last axis."""
    return np.sum(np.asarray(eigenvalues) < 0, axis=-1)


def lambda_min(J: np.ndarray, a: float, X: np.ndarray) -> np.ndarray:
    """Smallest Hessian eigenvalue per point (partial eigendecomposition)."""
    X = np.atleast_2d(np.asarray(X, dtype=np.float64))
    with blas_single_thread():
        return np.array([sla.eigvalsh(hessian(x, J, a), subset_by_index=[0, 0], check_finite=False)[0] for x in X])


def origin_index(J: np.ndarray, a: float) -> int:
    """index(0) = #{eigenvalues of J > -a} (physics.md 1)."""
    with blas_single_thread():
        return int(np.sum(sla.eigvalsh(np.asarray(J, dtype=np.float64), check_finite=False) > -a))


@dataclass
class SpectralDensity:
    """Histogram of Hessian eigenvalues against the Pastur prediction from the same diagonal."""

    centers: np.ndarray
    density: np.ndarray
    theory: np.ndarray
    edge_theory: float
    lambda_min: float
    index_fraction: float

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("centers", "density", "theory", "edge_theory", "lambda_min", "index_fraction")}


def spectral_density(eigenvalues: np.ndarray, x: np.ndarray, a: float, *, bins: int = 60) -> SpectralDensity:
    """Empirical density of ``eigenvalues`` (N,) with the Pastur law for d = 3 x^2 - a (physics.md 2.4)."""
    ev = np.asarray(eigenvalues, dtype=np.float64).ravel()
    d = 3.0 * np.asarray(x, dtype=np.float64) ** 2 - a
    hist, edges = np.histogram(ev, bins=bins, density=True)
    centers = 0.5 * (edges[1:] + edges[:-1])
    theory = pastur_density(d, centers, eta=max(1e-3, 0.5 * (edges[1] - edges[0])))
    return SpectralDensity(centers, hist, theory, hessian_edge(d), float(ev.min()), float(np.mean(ev < 0)))
