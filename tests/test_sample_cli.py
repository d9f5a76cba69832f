"""``cimsim sample``: the record it writes (JSON, npz), its summary, its refusals, and ``cimsim plot`` of it."""
from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cimsim.cli import main

PNG = b"\x89PNG\r\n\x1a\n"

#: the Petersen graph (0-based edges): MaxCut 12, reached by 5 pairs of spin states
PETERSEN = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 0), (0, 5), (1, 6), (2, 7), (3, 8), (4, 9),
            (5, 7), (7, 9), (9, 6), (6, 8), (8, 5)]


def run(args: list, capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as ex:
        main([str(a) for a in args])
    out, err = capsys.readouterr()
    return int(ex.value.code or 0), out, err


@pytest.fixture(scope="module")
def graph_file(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("sample") / "petersen.txt"
    p.write_text(f"10 {len(PETERSEN)}\n" + "".join(f"{u + 1} {v + 1} 1\n" for u, v in PETERSEN))
    return p


def energy(s) -> float:
    """MaxCut Ising energy of the Petersen graph, H = sum over edges of s_u s_v (J = -A), computed here."""
    return float(sum(s[u] * s[v] for u, v in PETERSEN))


def cut(s) -> int:
    return sum(s[u] != s[v] for u, v in PETERSEN)


@pytest.fixture(scope="module")
def record(graph_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("sample-out")
    argv = ["sample", "maxcut", graph_file, "--solver", "cfc", "--samples", 3000, "--every", 4, "--burn-in", 20,
            "--seed", 7, "--json", out / "s.json", "--npz", out / "s.npz", "-q"]
    with pytest.raises(SystemExit) as ex:
        main([str(a) for a in argv])
    assert (ex.value.code or 0) == 0
    return json.loads((out / "s.json").read_text()), out


def test_record_states_energies_objectives_and_exact_count(record):
    rec, _ = record
    assert rec["command"] == "sample" and rec["solver"] == "cfc" and rec["n_spins"] == 10
    assert rec["samples"] == 3000 and sum(s["count"] for s in rec["states"]) == 3000
    energies = [s["energy"] for s in rec["states"]]
    assert energies == sorted(energies)
    for s in rec["states"]:
        assert s["energy"] == pytest.approx(energy(s["spins"]))
        assert s["objective"] == cut(s["spins"])
    assert rec["states"][0]["objective"] == 12


def test_every_ground_state_found_and_target_equals_brute_force(record):
    rec, _ = record
    canon = [s for s in itertools.product([-1, 1], repeat=10) if s[0] == 1]
    E = np.array([energy(s) for s in canon])
    e0 = E.min()
    e1 = E[E > e0].min()
    ground = {s for s, e in zip(canon, E) if e == e0}
    target = {s for s, e in zip(canon, E) if e <= e1}
    assert rec["target"]["source"] == "enumerated" and rec["target"]["size"] == len(target) == 35
    assert rec["ground"]["energy"] == e0 and rec["ground"]["first_excited"] == e1
    assert rec["ground"]["degeneracy"] == 2 * len(ground) == 10
    seen = {tuple(s["spins"]) for s in rec["states"]}
    assert ground <= seen
    in_target = [s for s in rec["states"] if tuple(s["spins"]) in target]
    assert rec["target"]["seen"] == len(in_target)
    assert all(s["energy"] <= e1 for s in in_target)


def test_npz_matches_the_json(record):
    rec, out = record
    with np.load(out / "s.npz") as z:
        assert z["spins"].tolist() == [s["spins"] for s in rec["states"]]
        assert z["counts"].tolist() == [s["count"] for s in rec["states"]]
        assert np.allclose(z["energies"], [energy(s) for s in z["spins"]])
        meta = json.loads(str(z["record"]))
    assert meta["samples"] == rec["samples"] and meta["target"] == rec["target"]


def test_json_round_trip_through_the_record_class(record):
    from cimsim.sampler import SampleRecord

    rec, _ = record
    assert SampleRecord.from_dict(rec).to_dict() == rec


def test_plot_writes_a_png(record, capsys):
    rec, out = record
    code, stdout, err = run(["plot", out / "s.json", "--out", out / "figs"], capsys)
    assert code == 0, err
    png = out / "figs" / "s.png"
    assert stdout.split() == [str(png)] and png.read_bytes()[:8] == PNG and png.stat().st_size > 10_000


def test_summary_without_json(graph_file, capsys):
    code, out, err = run(["sample", "maxcut", graph_file, "--solver", "simcim", "--samples", 200, "--seed", 1], capsys)
    assert code == 0, err
    assert "samples       200" in out and "target set    35 states" in out and "best cut" in out


@pytest.mark.parametrize("extra, message", [
    (["--samples", "0"], "--samples must be a positive integer"),
    (["--samples", "-5"], "--samples must be a positive integer"),
    (["--every", "0"], "--every must be a positive integer"),
    (["--every", "-2"], "--every must be a positive integer"),
    (["--steps", "100", "--burn-in", "100"], "burn-in 100 is not shorter than the run (100 steps)"),
    (["--steps", "100", "--burn-in", "5000"], "not shorter than the run"),
    (["--samples", "10", "--time-limit", "1"], "give --samples or --time-limit, not both"),
    (["--solver", "exact"], "solver exact has no sampling mode"),
    (["--solver", "spectral"], "solver spectral has no sampling mode"),
    (["--cap", "0"], "--cap must be a positive integer"),
])
def test_bad_input_is_one_line_exit_2(graph_file, capsys, extra, message):
    code, out, err = run(["sample", "maxcut", graph_file, "--solver", "cfc", "--seed", "1", *extra], capsys)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("cimsim: error: "), err
    assert message in lines[0]


def test_bad_input_through_the_program(graph_file):
    proc = subprocess.run([sys.executable, "-m", "cimsim", "sample", "maxcut", str(graph_file), "--samples", "0"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and proc.stderr.strip().splitlines() == [
        "cimsim: error: --samples must be a positive integer, got 0"]


def test_existing_output_needs_force(graph_file, tmp_path, capsys):
    p = tmp_path / "s.json"
    p.write_text("{}")
    code, _, err = run(["sample", "maxcut", graph_file, "--samples", 5, "--json", p], capsys)
    assert code == 2 and "already exists" in err and p.read_text() == "{}"
