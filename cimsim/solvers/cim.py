"""Mean-field coherent Ising machine (physics.md 4.1), Euler-Maruyama.

In the pump variable ``a`` of the soft-spin energy and with couplings normalised by
``sigma_J sqrt(N)`` (J_hat = J / scale, h_hat = h / scale)::

    x <- x + dt (a(t) x - x^3 + J_hat x + h_hat) + sigma sqrt(dt) xi,     xi ~ N(0, 1)

which is gradient flow on E_a(x) plus noise; ``a = (p - 1)/eps`` in the OPO form. The pump ramps
linearly from ``a_start`` to ``a_end`` (relative to the threshold ``-lambda_max(J_hat)`` when
``relative=True``, the default). The Ising readout sign(x) is scored every ``readout`` steps and the
best state each replica has visited is returned (as the reference codes do).
"""
from __future__ import annotations

import numpy as np
import scipy.sparse.linalg as sla_sparse

from ..errors import CimsimError, finite_float, positive_float, positive_int
from ..model import IsingModel
from . import Batch


def defaults(model: IsingModel) -> dict:
    return {"replicas": 32, "steps": 1000}


def threshold(model: IsingModel, rng: np.random.Generator) -> float:
    """lambda_max of the normalised couplings (the origin loses stability at a = -lambda_max)."""
    Jn = model.J / model.coupling_scale()
    if model.n <= 3:
        return float(np.linalg.eigvalsh(model.dense_couplings() / model.coupling_scale())[-1])
    w = sla_sparse.eigsh(Jn, k=1, which="LA", v0=rng.standard_normal(model.n), tol=1e-4, return_eigenvectors=False)
    return float(w[0])


def run(
    model: IsingModel,
    *,
    replicas: int,
    steps: int,
    rng: np.random.Generator,
    backend: str = "cpu",
    dt: float = 0.1,
    a_start: float = -0.2,
    a_end: float = 1.5,
    relative: bool = True,
    noise: float = 0.05,
    x0: float = 1e-3,
    readout: int = 10,
    **params,
) -> Batch:
    if params:
        raise CimsimError(f"unknown cim parameter(s): {', '.join(params)}")
    dt = positive_float(dt, "dt")
    noise = positive_float(noise, "noise", allow_zero=True)
    x0 = positive_float(x0, "x0", allow_zero=True)
    readout = positive_int(readout, "readout")
    a_start, a_end = finite_float(a_start, "a_start"), finite_float(a_end, "a_end")
    scale = model.coupling_scale()
    lam = threshold(model, rng) if relative else 0.0
    a0 = a_start - lam if relative else a_start
    a1 = a_end - lam if relative else a_end
    J = model.J / scale
    h = model.h / scale
    X = x0 * rng.standard_normal((replicas, model.n))
    best_S = np.where(X >= 0, 1, -1).astype(np.int8)
    best_E = model.energies(best_S)
    sq = noise * np.sqrt(dt)
    for t in range(steps):
        a = a0 + (a1 - a0) * t / max(steps - 1, 1)
        JX = np.asarray((J @ X.T).T) if model.is_sparse else X @ J
        X += dt * (a * X - X * X * X + JX + h)
        if sq > 0:
            X += sq * rng.standard_normal(X.shape)
        if (t + 1) % readout == 0 or t == steps - 1:
            S = np.where(X >= 0, 1, -1).astype(np.int8)
            E = model.energies(S)
            better = E < best_E
            best_E = np.where(better, E, best_E)
            best_S[better] = S[better]
    settings = dict(dt=dt, a_start=a_start, a_end=a_end, relative=relative, noise=noise, x0=x0, readout=readout)
    return Batch(best_S, steps, settings, {"threshold": lam, "coupling_scale": scale})
