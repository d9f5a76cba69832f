"""bench/criteria.py: the acceptance counts from a synthetic result store."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

criteria = pytest.importorskip("bench.criteria")


def _call(store: Path, instance: str, family: str, solver: str, seed: int, objective: float, elapsed: float = 10.0):
    key = f"{instance}-{solver}-{seed}"
    d = {"key": key, "status": "ok",
         "params": {"task": "call", "instance": instance, "family": family, "solver": solver, "budget_s": 10.0,
                    "seed": seed, "threads": 2},
         "row": {"objective": str(objective), "elapsed_s": str(elapsed)}}
    (store / "tasks" / f"{key}.json").write_text(json.dumps(d))


def test_counts_ties_wins_and_losses(tmp_path):
    (tmp_path / "tasks").mkdir()
    # G1: sa median 11624 ties neal; G2: sa ahead; G6: sa behind openjij
    for seed, (a, b, c) in enumerate([(11624, 11624, 11600), (11624, 11620, 11622), (11623, 11624, 11624)]):
        _call(tmp_path, "G1", "cimsim", "sa", seed, a)
        _call(tmp_path, "G1", "peer", "dwave_neal", seed, b)
    for seed in range(3):
        _call(tmp_path, "G2", "cimsim", "sa", seed, 100 + seed)
        _call(tmp_path, "G2", "peer", "dwave_neal", seed, 99)
        _call(tmp_path, "G6", "cimsim", "sa", seed, 50)
        _call(tmp_path, "G6", "peer", "openjij_sa", seed, 51, elapsed=30.0)
    calls = criteria.load_calls(tmp_path)
    assert sorted(x[1] for x in calls[("G1", "sa", 10.0)]) == [11623, 11624, 11624]
    text = criteria.report(tmp_path, 10.0, "sa")
    assert "**2 of 3** graphs" in text
    assert "strictly above the best peer on **1**" in text
    assert "G6: sa median 50 < openjij (51)" in text
    assert "51 (over budget) (3)" in text
