"""Exact ground state by Gray-code enumeration (N <= 24)."""
from __future__ import annotations

import numpy as np

from ..errors import CimsimError
from ..kernels.exact import gray_enumerate
from ..model import IsingModel
from ..params import Param, validate
from . import Batch, check_backend

MAX_N = 24
DETERMINISTIC = True
#: The exact solver takes no parameters.
PARAMS: tuple[Param, ...] = ()


def defaults(model: IsingModel) -> dict:
    return {"replicas": 1, "steps": 1}


def ground_state(model: IsingModel) -> tuple[np.ndarray, float, int]:
    """Return ``(spins, energy, degeneracy)`` of a ground state.

    ``degeneracy`` counts the ground states enumerated; without fields the last spin is pinned to +1
    (every state has a mirror image), so the true count is twice that.
    """
    n = model.n
    if n > MAX_N:
        raise CimsimError(f"the exact solver enumerates 2^N states and accepts N <= {MAX_N}; this model has N = {n}")
    J = np.ascontiguousarray(model.dense_couplings(), dtype=np.float64)
    h = np.ascontiguousarray(model.h, dtype=np.float64)
    m = n if model.has_fields else n - 1
    scale = max(float(np.abs(J).max(initial=0.0)), float(np.abs(h).max(initial=0.0)), 1.0)
    code, _, count = gray_enumerate(J, h, m, 1e-9 * scale)
    spins = np.ones(n, dtype=np.int8)
    for i in range(n):
        if (int(code) >> i) & 1:
            spins[i] = -1
    return spins, model.energy(spins), int(count)


def run(model: IsingModel, *, replicas: int, steps: int, rng: np.random.Generator, backend: str = "cpu", **params) -> Batch:
    check_backend("exact", backend)
    validate(PARAMS, params, "exact")
    spins, energy, count = ground_state(model)
    degeneracy = count if model.has_fields else 2 * count
    return Batch(spins[None, :], 1, {"max_n": MAX_N}, {"degeneracy": degeneracy, "best_energies": np.array([energy])})
