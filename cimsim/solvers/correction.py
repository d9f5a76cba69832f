"""What the error-correction feedback CIMs :mod:`~cimsim.solvers.cfc` and :mod:`~cimsim.solvers.sfc` share
(physics.md 4.10): the coupling normalisation, the field product and the integration loop.

Both integrate amplitudes x and error signals e with one product J x per step (one MVM, the cost unit of
their published benchmarks) and score the readout sign(x) every ``readout`` steps.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from ..memory import check_batch_fits
from ..model import IsingModel
from . import Batch
from .machine import Readout

__all__ = ["coupling_norm", "field_product", "integrate"]


def coupling_norm(model: IsingModel) -> float:
    """xi = sqrt(2 N / sum_ij J_ij^2): the rms of xi (J s)_i over random spins s is sqrt(2)."""
    sq = float(model.J.multiply(model.J).sum()) if model.is_sparse else float(np.sum(np.square(model.J)))
    return math.sqrt(2.0 * model.n / sq) if sq > 0 else 1.0


def field_product(model: IsingModel, xi: float) -> Callable[[np.ndarray, np.ndarray], None]:
    """``f(X, out)``: out = xi (X J + h) for (R, N) float64 ``X`` (CSR stays sparse; dense uses BLAS)."""
    h = np.ascontiguousarray(model.h) * xi
    if model.is_sparse:
        Jx = (model.J * xi).tocsr()

        def product(X: np.ndarray, out: np.ndarray) -> None:
            np.copyto(out, (Jx @ X.T).T)
            out += h
    else:
        J = np.ascontiguousarray(model.J)

        def product(X: np.ndarray, out: np.ndarray) -> None:
            np.matmul(X, J, out=out)
            out *= xi
            out += h

    return product


def integrate(model: IsingModel, X: np.ndarray, E: np.ndarray, *, solver: str, steps: int, readout: int,
              track_best: bool, record: bool, step: Callable[[int, np.ndarray, np.ndarray, np.ndarray], None],
              pump: np.ndarray, settings: dict[str, Any], what_to_change: str) -> Batch:
    """Run ``steps`` steps of ``step(t, X, E, PHI)`` (which updates X and E in place from the field PHI)
    from the (R, N) state ``X``, ``E``; score sign(x) every ``readout`` steps and at the end."""
    R, n = X.shape
    check_batch_fits(R, n, arrays=4, what=f"{solver} amplitudes and error signals")
    product = field_product(model, coupling_norm(model))
    PHI = np.empty_like(X)
    board = Readout(model, X, solver=solver, steps=steps, track_best=track_best,
                    record=(steps + readout - 1) // readout if record else 0)
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(steps):
            product(X, PHI)
            step(t, X, E, PHI)
            if (t + 1) % readout == 0 or t == steps - 1:
                board(t, X, float(pump[t]), what_to_change)
    extra: dict[str, Any] = {
        "final_energies": model.energies(np.where(X >= 0, 1, -1).astype(np.int8)),
        "mvm": steps * R,
        "coupling_norm": coupling_norm(model),
        **board.trace(),
    }
    return Batch(board.spins, steps, settings, extra)
