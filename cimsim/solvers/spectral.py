"""Spectral relaxation: top eigenvectors of J, rounded to spins.

Minimising -1/2 x^T J x on the sphere |x|^2 = N gives x = sqrt(N) v_max (physics.md 4.8). Replica 0 is
``sign(v_max)``; the other replicas round random combinations ``V_k g`` of the top ``k`` eigenvectors,
weighted by ``sqrt(lambda)`` (a low-rank Goemans-Williamson-style rounding). Fields are handled exactly
with one auxiliary spin. Steps are unused.

``extra["lambda_max"]`` and ``extra["eigenvalues"]`` are eigenvalues of the normalised couplings
J / ``extra["coupling_scale"]`` (of the auxiliary-spin couplings when there are fields), the
normalisation every solver reports (:class:`cimsim.result.Result`).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import scipy.linalg as sla
import scipy.sparse.linalg as sla_sparse

from ..errors import CimsimError, positive_int
from ..model import IsingModel
from ..spins import strip_aux_spin
from ..params import Param, validate
from . import Batch
from .eigen import LANCZOS_MIN_N, extremes

DENSE_EIGH_MAX_N = 400

#: The parameters of :func:`run` (``solve(model, "spectral", **params)``, ``-p KEY=VALUE``).
PARAMS: tuple[Param, ...] = (
    Param("k", "int", 8, "eigenvectors combined by the random roundings (at most N - 1)", low=1),
)


def defaults(model: IsingModel) -> dict:
    return {"replicas": 64, "steps": 1}


def top_eigenpairs(model: IsingModel, k: int, rng: np.random.Generator,
                   deadline: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` largest (algebraic) eigenvalues of J, descending, and their eigenvectors (N, k).

    Dense models from :data:`~cimsim.solvers.eigen.LANCZOS_MIN_N` spins: Ritz pairs of one Lanczos run
    (:func:`cimsim.solvers.eigen.extremes`) that stops at a residual of 1e-3 of the spectral radius or when
    it has used 90 % of the time ``deadline`` leaves (the driver's; the roundings and the polish come
    after). A time-cut run gives approximate top eigenvectors, still a valid relaxation to round; ARPACK's
    eigsh had taken 10 s of one core for k = 8 on SK N = 8000, all past a 10 s budget."""
    n = model.n
    k = max(1, min(k, n - 1 if n > 2 else n))
    dense = n <= DENSE_EIGH_MAX_N or n <= k + 1
    v0 = None if dense else rng.standard_normal(n)  # drawn on every call: the stream does not depend on the cache
    if not dense and not model.is_sparse and n >= LANCZOS_MIN_N:
        ext = extremes(model, k, deadline=deadline, share=0.9)
        return ext.top.copy(), ext.vectors.copy()
    # every batch of a budgeted run asks again (one eigsh on SK N = 8000 is hundreds of products): the model
    # keeps the answer (frozen dataclass: stored past __setattr__)
    cache = model.__dict__.setdefault("_top_eigenpairs", {})
    if k not in cache:
        if dense:
            w, V = sla.eigh(model.dense_couplings(), subset_by_index=[n - k, n - 1])
        else:
            w, V = sla_sparse.eigsh(model.J, k=k, which="LA", v0=v0, tol=1e-8, maxiter=max(1000, 20 * n))
        order = np.argsort(w)[::-1]
        cache[k] = (w[order], np.ascontiguousarray(V[:, order]))
    w, V = cache[k]
    return w.copy(), V.copy()


def rounding_coefficients(w: np.ndarray, replicas: int, rng: np.random.Generator) -> np.ndarray:
    """The (replicas - 1, k) random combinations ``g diag(sqrt w+)`` (all-ones weights if no w > 0) whose
    products with the eigenvectors replicas 1.. round; drawn from ``rng`` (shared with the GPU path)."""
    weights = np.sqrt(np.clip(w, 0.0, None))
    if not np.any(weights > 0):
        weights = np.ones_like(w)
    return rng.standard_normal((replicas - 1, w.shape[0])) * weights


def round_eigenvectors(w: np.ndarray, V: np.ndarray, replicas: int, rng: np.random.Generator) -> np.ndarray:
    """(replicas, N) +-1 roundings: the first is sign(v_max), the others sign(V diag(sqrt w+) g)."""
    n = V.shape[0]
    S = np.empty((replicas, n), dtype=np.int8)
    S[0] = np.where(V[:, 0] >= 0, 1, -1)
    if replicas > 1:
        G = rounding_coefficients(w, replicas, rng)
        S[1:] = np.where(G @ V.T >= 0, 1, -1)
    return S


def plan(**params) -> int:
    """Validate the parameters of :func:`run` (:data:`PARAMS`: only ``k``, the number of eigenvectors);
    returns ``k``."""
    return int(validate(PARAMS, params, "spectral")["k"])


def work_model(model: IsingModel) -> IsingModel:
    """The field-free model the eigenvectors are taken of (auxiliary spin if ``model`` has fields)."""
    work = model.with_aux_spin() if model.has_fields else model
    if work.n < 2:
        raise CimsimError("the spectral solver needs at least 2 spins")
    return work


def batch(model: IsingModel, S: np.ndarray, w: np.ndarray, **extra) -> Batch:
    """The Batch of the (replicas, N_work) roundings ``S`` (auxiliary spin stripped) of eigenvalues ``w``."""
    if model.has_fields:
        S = strip_aux_spin(S)
    scale = model.coupling_scale()
    return Batch(S, 1, {"k": int(w.shape[0])}, {"lambda_max": float(w[0]) / scale, "eigenvalues": (w / scale).tolist(),
                                                "coupling_scale": scale, **extra})


def run(model: IsingModel, *, replicas: int, steps: int, rng: np.random.Generator, backend: str = "cpu",
        device: Any = None, deadline: Any = None, **params) -> Batch:
    """Solver contract: ``replicas`` roundings of the top-k eigenvectors (``steps`` unused); parameter ``k``
    (default 8) as for :func:`plan`. ``backend="gpu"`` takes the eigenvectors and the roundings on ``device``
    (a :class:`cimsim.gpu.Device`; default the GPU) with the executor
    :func:`cimsim.gpu.dynamics.spectral_roundings`. ``deadline`` (the driver's time limit) bounds the
    eigenvector computation of large dense models (:func:`top_eigenpairs`)."""
    k = plan(**params)
    replicas = positive_int(replicas, "replicas")
    work = work_model(model)
    if backend == "gpu":
        from ..gpu import pick_device, spectral_roundings

        dev = pick_device(device)
        S, w = spectral_roundings(work, k, replicas, rng, rounding_coefficients, device=dev)
        return batch(model, S, w, device=dev.name)
    w, V = top_eigenpairs(work, k, rng, deadline)
    return batch(model, round_eigenvectors(w, V, replicas, rng), w)
