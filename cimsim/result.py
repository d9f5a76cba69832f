"""The one result type every solver returns."""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

__all__ = ["Result", "to_jsonable"]


def to_jsonable(value: Any) -> Any:
    """Convert numpy scalars/arrays (recursively) to plain Python for ``json``; inf/nan become strings."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, np.generic):
        return to_jsonable(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if hasattr(value, "to_dict"):
        return to_jsonable(value.to_dict())
    return value


@dataclass
class Result:
    """Outcome of one solver call.

    Attributes
    ----------
    solver : str
        Solver name (``cim``, ``sa``, ...).
    spins : ndarray of int8, shape (N,)
        Best spin vector found, +-1, in the model's variable order.
    energy : float
        ``H(spins)`` recomputed from the returned spins (float64).
    energies : ndarray of float64, shape (R_total,)
        Final energy of every replica run (all batches when a time limit ran several).
    time_s : float
        Wall time of the whole call, compile time included.
    steps : int
        Dynamics steps (or sweeps) per replica run.
    replicas : int
        Replicas per batch.
    batches : int
        Batches run (more than one only with a time limit).
    seed : int | None
        Seed the generator was made from, when known.
    settings : dict
        Every parameter the solver actually used (defaults filled in).
    objective, feasible, answer
        Filled in by a problem's decoder: objective in the problem's units, feasibility, and the
        problem's own answer (cut sides, subsets, assignment, ...).
    extra : dict
        Solver-specific diagnostics (trajectories, time to best, ...).
    """

    solver: str
    spins: np.ndarray
    energy: float
    energies: np.ndarray
    time_s: float
    steps: int
    replicas: int
    batches: int = 1
    seed: int | None = None
    settings: dict = field(default_factory=dict)
    objective: float | None = None
    feasible: bool | None = None
    answer: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)

    @property
    def n_spins(self) -> int:
        return int(self.spins.shape[0])

    def to_dict(self, *, include_energies: bool = False) -> dict:
        d = asdict(self)
        d["spins"] = [int(v) for v in self.spins]
        if not include_energies:
            d.pop("energies")
            e = np.asarray(self.energies)
            d["energies_summary"] = {
                "count": int(e.size),
                "min": float(e.min()) if e.size else None,
                "mean": float(e.mean()) if e.size else None,
                "max": float(e.max()) if e.size else None,
            }
        d["n_spins"] = self.n_spins
        d.update(self.answer)
        d.pop("answer")
        return to_jsonable(d)

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), **kwargs)
