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


def _row(instance, solver, family, median, elapsed=10.0, best_known=float("nan"), kind="gset", note=""):
    from bench.rows import Row

    return Row(instance, kind, 800, 0, solver, family, 10.0, repeats=3, best_obj=median, median_obj=median,
               best_known=best_known, elapsed_mean_s=elapsed, note=note)


def test_reads_the_run_tables_when_there_is_no_store(tmp_path):
    """A fresh clone has the committed <tag>.csv tables but not the per-call store (tasks/ is not committed)."""
    from bench.report import write_csv

    write_csv([_row("G1", "sa", "cimsim", 11624, best_known=11624), _row("G1", "neal", "peer", 11620, best_known=11624),
               _row("G6", "sa", "cimsim", 2170, best_known=2178), _row("G6", "openjij", "peer", 2172, elapsed=25.0),
               _row("G58", "sa", "cimsim", 17742, note="data file truncated: 1 of 2 edges"),
               _row("SK1000", "sa", "cimsim", -0.756, kind="sk"), _row("SK1000", "neal", "peer", -0.747, kind="sk")],
              tmp_path / "t-10s.csv")
    (tmp_path / "results.csv").write_text("task_key,instance\nx,G1\n")  # the store's per-call table: not a run table
    text = criteria.report(tmp_path, 10.0, "sa")
    assert "tables `t-10s.csv`" in text
    # G1 ahead of neal, G6 behind openjij, G58 has no peer row (absent peers are not beaten: counts as ahead)
    assert "**2 of 3** graphs" in text and "strictly above the best peer on **2**" in text
    assert "G6: sa median 2170 < openjij (2172)" in text and "2172 (over budget) (3)" in text
    assert "| G58 | n/a (truncated file) |" in text
    # ratios over the graphs with a best known: G1 1.0 and G6 2170/2178
    assert f"**{(1 + 2170 / 2178) / 2:.5f}**" in text and "over the 2 graphs" in text
    assert "| SK1000 | -0.75600 (3) | -0.74700 (3) |" in text and "sa median e/N" in text


def test_no_results_is_one_line_and_exit_2(tmp_path, capsys):
    assert criteria.main(["--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(tmp_path) in err and "bench/run.py" in err


def test_default_reads_the_committed_tables(tmp_path, capsys):
    """`python bench/criteria.py` on a fresh clone: the default results directory holds committed tables."""
    import shutil
    import subprocess

    if shutil.which("git") is None:
        pytest.skip("git not installed")
    default = criteria.DEFAULT_OUT
    tracked = subprocess.run(["git", "ls-files", str(default.relative_to(ROOT))], cwd=ROOT, capture_output=True,
                             text=True).stdout.split()
    assert any(t.endswith(".csv") for t in tracked)
    for t in tracked:  # only what a clone has
        if t.endswith(".csv"):
            shutil.copy(ROOT / t, tmp_path)
    assert criteria.main(["--out", str(tmp_path), "--data", str(tmp_path / "no-data")]) == 0
    text = capsys.readouterr().out
    assert text.count("\n| G") == 20 and "Median cut >= every peer's on" in text
    assert "needs the instance data (set CIMSIM_DATA" in text
