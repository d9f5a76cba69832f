"""What `cimsim solve` prints and records (issue 19.11), through the installed command.

Each test runs ``cimsim`` in a subprocess: summary labels, an ising energy printed once, float-rounding
zeros, ``steps`` against the batches, ``--target`` stopping a time-limited run, and no progress bar in a
redirected log.
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from .conftest import PROBLEMS


def cimsim(*args, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(["cimsim", *map(str, args)], capture_output=True, text=True, timeout=300, **kw)


def rows(stdout: str) -> dict[str, str]:
    """The summary's '  label   value' lines as {label: value} (labels may contain one space)."""
    out = {}
    for line in stdout.splitlines()[1:]:
        label, _, value = line.strip().partition("  ")
        out[label] = value.strip()
    return out


def test_plot_help_has_no_literal_backspace_marker():
    r = cimsim("plot", "--help")
    assert r.returncode == 0 and "\\b" not in r.stdout and "\b" not in r.stdout and "Examples:" in r.stdout


def test_long_objective_names_stay_apart_from_their_value():
    r = cimsim("solve", "clique", PROBLEMS / "graph16.txt", "-o", "size=3", "--seed", "1")
    assert r.returncode == 0, r.stderr
    assert "edges inside3" not in r.stdout
    assert rows(r.stdout)["edges inside"] == "3"


def test_ising_energy_is_printed_once(tmp_path):
    rng = np.random.default_rng(0)
    J = np.triu(rng.choice([-1.0, 1.0], size=(12, 12)), 1)
    np.savez(tmp_path / "m.npz", J=J + J.T)
    r = cimsim("solve", "ising", tmp_path / "m.npz", "--seed", "1")
    assert r.returncode == 0, r.stderr
    labels = [line.split()[0] for line in r.stdout.splitlines()[1:]]
    assert labels.count("energy") == 1 and "feasible" in labels


def test_a_zero_difference_prints_as_zero(tmp_path):
    (tmp_path / "p.txt").write_text("0.1\n0.2\n0.3\n")  # 0.1 + 0.2 - 0.3 = 5.55e-17 in floats
    r = cimsim("solve", "partition", tmp_path / "p.txt", "--seed", "1", "--json", tmp_path / "p.json")
    assert r.returncode == 0, r.stderr
    summary = rows(r.stdout)
    assert summary["difference"] == "0" and summary["energy"] == "0"
    assert "e-1" not in r.stdout
    assert abs(json.loads((tmp_path / "p.json").read_text())["objective"]) < 1e-12  # the record keeps the float


def test_json_steps_agree_with_the_batches():
    r = cimsim("solve", "maxcut", PROBLEMS / "G1.txt", "--solver", "sa", "--steps", "300", "--seed", "2",
               "--json", "-")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["steps"] == 300 and d["batch_steps"] == [300] and d["steps_total"] == 300 and d["batches"] == 1
    assert d["interrupted"] is False
    r = cimsim("solve", "maxcut", PROBLEMS / "G1.txt", "--solver", "sa", "--time-limit", "2", "--seed", "2",
               "--json", "-")
    d = json.loads(r.stdout)
    assert d["batches"] == len(d["batch_steps"]) > 1 and d["steps_total"] == sum(d["batch_steps"])
    assert d["steps"] in d["batch_steps"]  # the batch that found the answer, whose settings are recorded


def test_target_stops_a_time_limited_run(tmp_path):
    out = tmp_path / "t.json"
    r = cimsim("solve", "maxcut", PROBLEMS / "G1.txt", "--solver", "sa", "--time-limit", "60", "--target", "11000",
               "--seed", "1", "--json", out)
    assert r.returncode == 0, r.stderr
    d = json.loads(out.read_text())
    assert d["reached"] is True and d["stopped_at_target"] is True and d["cut"] >= 11000
    assert d["time_s"] < 30  # reached in the first batches, not after the 60 s limit
    assert "target reached" in r.stdout
    r = cimsim("solve", "maxcut", PROBLEMS / "G1.txt", "--solver", "sa", "--time-limit", "2", "--target", "11000",
               "--no-stop-at-target", "--seed", "1", "--json", "-")
    d = json.loads(r.stdout)
    assert d["reached"] is True and d["stopped_at_target"] is False and d["batches"] > 1


def test_no_progress_bar_in_a_redirected_log(tmp_path):
    log = tmp_path / "log.txt"
    with open(log, "w") as err:
        r = subprocess.run(["cimsim", "solve", "maxcut", str(PROBLEMS / "G1.txt"), "--solver", "sa", "--time-limit", "2.5",
                            "--seed", "1"], stdout=subprocess.PIPE, stderr=err, text=True, timeout=300)
    assert r.returncode == 0 and "cut" in r.stdout
    assert log.read_text() == ""


def test_no_anneal_progress_bar_in_a_redirected_log(tmp_path):
    log = tmp_path / "log.txt"
    with open(log, "w") as err:
        r = subprocess.run(["cimsim", "anneal", "--sk", "20", "--sweep", "steps=10,20", "--runs", "2",
                            "--out", str(tmp_path / "study")], stdout=subprocess.PIPE, stderr=err, text=True,
                           timeout=300)
    assert r.returncode == 0
    text = log.read_text()
    assert "\r" not in text and "|" not in text and "task/s" not in text, text


def test_auto_says_why_it_picked_its_solver():
    from click.testing import CliRunner

    from cimsim.cli import cli  # in process: this tree's code, not an installed copy

    r = CliRunner().invoke(cli, ["solve", "maxcut", str(PROBLEMS / "graph16.txt"), "--seed", "1"])
    assert r.exit_code == 0, r.output
    assert "solver exact" in r.output.splitlines()[0] and "Gray-code" in rows(r.output)["auto"]
    r = CliRunner().invoke(cli, ["solve", "maxcut", str(PROBLEMS / "graph16.txt"), "--seed", "1", "--solver", "sa"])
    assert r.exit_code == 0 and "auto" not in rows(r.output)
