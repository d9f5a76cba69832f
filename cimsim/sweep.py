"""Parameter sweeps: a list of independent tasks, each a pure function of (params, seed).

Minimal serial engine; the distributed, checkpointed engine (issue 7) keeps this signature.

``run_sweep(tasks, fn, seed=0, out_dir=None, ...)`` calls ``fn(params, seed_sequence)`` for every task
dict in ``tasks`` and returns a :class:`SweepOutcome` whose ``rows`` are the dicts ``fn`` returned
(each merged with its task params), in task order. Task seeds come from ``SeedSequence(seed)`` and a
hash of the task's parameters, so results never depend on execution order.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .result import to_jsonable

__all__ = ["SweepOutcome", "run_sweep", "task_key", "task_seed"]


def task_key(params: dict) -> str:
    """Stable hex key of a task's parameters (sorted-key JSON, SHA-256, 16 hex digits)."""
    blob = json.dumps(to_jsonable(params), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def task_seed(sweep_seed: int, key: str) -> np.random.SeedSequence:
    """SeedSequence for one task, from the sweep seed and the task key (order independent)."""
    return np.random.SeedSequence([int(sweep_seed) & 0xFFFFFFFF, int(key, 16) & 0xFFFFFFFF, int(key, 16) >> 32])


@dataclass
class SweepOutcome:
    rows: list[dict]
    done: int = 0
    reused: int = 0
    failed: list[dict] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.failed


def run_sweep(
    tasks: list[dict],
    fn: Callable[[dict, np.random.SeedSequence], dict],
    *,
    seed: int = 0,
    out_dir: str | None = None,
    progress: bool = False,
    desc: str = "sweep",
    **_: Any,
) -> SweepOutcome:
    """Run every task serially (see module docstring)."""
    rows: list[dict] = []
    failed: list[dict] = []
    iterator = tasks
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(tasks, desc=desc, unit="task")
    for params in iterator:
        key = task_key(params)
        try:
            out = fn(params, task_seed(seed, key))
        except Exception as exc:  # recorded, the sweep goes on
            failed.append({**params, "task_key": key, "error": f"{type(exc).__name__}: {exc}"})
            continue
        rows.append({**params, **out, "task_key": key})
    return SweepOutcome(rows, done=len(rows), reused=0, failed=failed)
