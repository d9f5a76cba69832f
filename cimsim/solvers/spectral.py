"""Spectral relaxation: top eigenvectors of J, rounded to spins.

Minimising -1/2 x^T J x on the sphere |x|^2 = N gives x = sqrt(N) v_max (physics.md 4.8). Replica 0 is
``sign(v_max)``; the other replicas round random combinations ``V_k g`` of the top ``k`` eigenvectors,
weighted by ``sqrt(lambda)`` (a low-rank Goemans-Williamson-style rounding). Fields are handled exactly
with one auxiliary spin. Steps are unused.
"""
from __future__ import annotations

import numpy as np
import scipy.linalg as sla
import scipy.sparse.linalg as sla_sparse

from ..errors import CimsimError, positive_int
from ..model import IsingModel, strip_aux_spin
from . import Batch

DENSE_EIGH_MAX_N = 400


def defaults(model: IsingModel) -> dict:
    return {"replicas": 64, "steps": 1}


def top_eigenpairs(model: IsingModel, k: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` largest (algebraic) eigenvalues of J, descending, and their eigenvectors (N, k)."""
    n = model.n
    k = max(1, min(k, n - 1 if n > 2 else n))
    if n <= DENSE_EIGH_MAX_N or n <= k + 1:
        w, V = sla.eigh(model.dense_couplings(), subset_by_index=[n - k, n - 1])
    else:
        v0 = rng.standard_normal(n)
        w, V = sla_sparse.eigsh(model.J, k=k, which="LA", v0=v0, tol=1e-8, maxiter=max(1000, 20 * n))
    order = np.argsort(w)[::-1]
    return w[order], V[:, order]


def round_eigenvectors(w: np.ndarray, V: np.ndarray, replicas: int, rng: np.random.Generator) -> np.ndarray:
    """(replicas, N) +-1 roundings: the first is sign(v_max), the others sign(V diag(sqrt w+) g)."""
    n = V.shape[0]
    S = np.empty((replicas, n), dtype=np.int8)
    S[0] = np.where(V[:, 0] >= 0, 1, -1)
    if replicas > 1:
        weights = np.sqrt(np.clip(w, 0.0, None))
        if not np.any(weights > 0):
            weights = np.ones_like(w)
        G = rng.standard_normal((replicas - 1, V.shape[1])) * weights
        S[1:] = np.where(G @ V.T >= 0, 1, -1)
    return S


def run(
    model: IsingModel,
    *,
    replicas: int,
    steps: int,
    rng: np.random.Generator,
    backend: str = "cpu",
    k: int = 8,
    **params,
) -> Batch:
    if backend == "gpu":  # CuPy device path (cimsim.gpu), same parameters and Batch
        from ..gpu import spectral_run

        return spectral_run(model, replicas=replicas, steps=steps, rng=rng, k=k, **params)
    if params:
        raise CimsimError(f"unknown spectral parameter(s): {', '.join(params)} (known: k)")
    k = positive_int(k, "k (number of eigenvectors)")
    work = model.with_aux_spin() if model.has_fields else model
    if work.n < 2:
        raise CimsimError("the spectral solver needs at least 2 spins")
    w, V = top_eigenpairs(work, k, rng)
    S = round_eigenvectors(w, V, replicas, rng)
    if model.has_fields:
        S = strip_aux_spin(S)
    return Batch(S, 1, {"k": int(V.shape[1])}, {"lambda_max": float(w[0]), "eigenvalues": w.tolist()})
