"""TTS / bootstrap statistics, the study runner and `cimsim anneal` end to end (issue 3)."""
from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest

from cimsim.cli import main
from cimsim.errors import CimsimError
from cimsim.instances import sk_model
from cimsim.studies import (
    AnnealTask,
    InstanceSpec,
    bootstrap_ci,
    energy_stats,
    parse_sweep,
    prepare_study,
    run_anneal_study,
    settings_grid,
    success_stats,
    tts,
)

from .conftest import all_spin_vectors


def run_cli(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def brute_energies(J: np.ndarray) -> np.ndarray:
    S = all_spin_vectors(J.shape[0]).astype(float)
    return -0.5 * np.einsum("ki,ij,kj->k", S, J, S)


# ------------------------------------------------------------------------------------------ statistics


def test_tts_analytic_cases():
    assert tts(1.0, 7.0) == 7.0
    assert tts(0.99, 7.0) == 7.0
    assert tts(0.0, 7.0) == math.inf
    assert tts(0.5, 7.0) == pytest.approx(7.0 * math.log(0.01) / math.log(0.5), rel=1e-14)
    assert tts(0.1, 3.0, target=0.5) == pytest.approx(3.0 * math.log(0.5) / math.log(0.9), rel=1e-14)
    v = tts(np.array([0.0, 0.5, 1.0]), 2.0)
    assert v[0] == math.inf and v[2] == 2.0 and v[1] == pytest.approx(2.0 * math.log(0.01) / math.log(0.5))
    with pytest.raises(CimsimError):
        tts(1.5, 1.0)
    with pytest.raises(CimsimError):
        tts(0.5, 1.0, target=1.0)


def test_bootstrap_ci_contains_point_and_is_seeded():
    for k, R in [(0, 10), (10, 10), (1, 10), (37, 100), (50, 100), (99, 100)]:
        lo, hi = bootstrap_ci(k, R, rng=5)
        assert lo <= k / R <= hi
        assert (lo, hi) == bootstrap_ci(k, R, rng=5)
    assert bootstrap_ci(0, 10, rng=1) == (0.0, 0.0)
    assert bootstrap_ci(10, 10, rng=1) == (1.0, 1.0)
    # width close to the normal approximation 1.96 sqrt(p(1-p)/R) for p = 0.5, R = 400
    lo, hi = bootstrap_ci(200, 400, n_boot=4000, rng=2)
    assert (hi - lo) / 2 == pytest.approx(1.96 * math.sqrt(0.25 / 400), rel=0.15)
    draws = {bootstrap_ci(37, 100, n_boot=200, rng=s) for s in range(8)}
    assert len(draws) > 1  # the seed matters
    st = success_stats(37, 100, 5.0, rng=3)
    assert st["tts_lo"] <= st["tts"] <= st["tts_hi"]
    assert st["tts"] == pytest.approx(tts(0.37, 5.0))
    assert st["tts_lo"] == pytest.approx(tts(st["p_hi"], 5.0)) and st["tts_hi"] == pytest.approx(tts(st["p_lo"], 5.0))
    with pytest.raises(CimsimError):
        bootstrap_ci(11, 10)


def test_energy_stats_match_numpy():
    e = np.array([3.0, -1.0, 2.0, 2.0, 0.5])
    st = energy_stats(e)
    assert st["energy_min"] == -1.0 and st["energy_max"] == 3.0 and st["energy_mean"] == pytest.approx(1.3)
    assert st["energy_q50"] == 2.0 and st["energy_std"] == pytest.approx(np.std(e, ddof=1))


def test_parse_sweep_and_grid():
    sw = parse_sweep(["steps=10,20", "noise=0;0.05", "schedule=linear:-2,0.2", "schedule=exp:-2,0.2,3"])
    assert sw == {"steps": [10, 20], "noise": [0, 0.05], "schedule": ["linear:-2,0.2", "exp:-2,0.2,3"]}
    grid = settings_grid({"steps": [10, 20], "noise": [0, 1]})
    assert grid == [{"steps": 10, "noise": 0}, {"steps": 10, "noise": 1}, {"steps": 20, "noise": 0}, {"steps": 20, "noise": 1}]
    assert settings_grid({}) == [{}]
    for bad in (["steps"], ["steps="], ["steps=1,,2"], ["1x=3"], ["steps=1,1"], ["replicas=2,3"]):
        with pytest.raises(CimsimError):
            parse_sweep(bad)
    with pytest.raises(CimsimError):
        settings_grid({"steps": []})


# ------------------------------------------------------------------------------------------ the runner


def test_study_on_brute_forced_sk_instance():
    n = 10
    spec = InstanceSpec.sk(n, 3)
    J = sk_model(n, 3).dense_couplings()
    ground = brute_energies(J).min()
    prep = prepare_study(spec, solver="cim", sweeps={"steps": [3, 300]}, runs=24, chunk=10)
    assert len(prep.tasks) == 2 * 3 and [t["replicas"] for t in prep.tasks[:3]] == [10, 10, 4]
    study, outcome = run_anneal_study(prep, seed=4, n_boot=500)
    assert outcome.complete and study.target_source.startswith("exact")
    assert study.target_energy == pytest.approx(ground, abs=1e-9)
    for row in study.rows:
        assert row["runs"] == 24 and row["energy_min"] >= ground - 1e-9
        assert row["successes"] == round(row["p_success"] * 24)
        assert row["tts_steps"] == pytest.approx(tts(row["p_success"], row["steps_taken"]))
        assert row["p_lo"] <= row["p_success"] <= row["p_hi"]
        assert row["cost_steps_x_runs"] == row["steps_taken"] * 24
    long = study.rows[1]
    assert long["p_success"] > 0.5  # 300 CIM steps + polish solve N = 10 most of the time
    # per-run energies are those of spins the solver returned: rerun one chunk and check them by brute force
    rows = [r for r in outcome.rows if r["steps"] == 300]
    from cimsim.sweep import task_key, task_seed

    t = dict(prep.tasks[3])
    again = AnnealTask(spec)(t, task_seed(4, task_key(t)))
    assert again["energies"] == [r for r in rows if r["chunk"] == 0][0]["energies"]
    levels = np.unique(np.round(brute_energies(J), 9))
    assert all(np.min(np.abs(levels - e)) < 1e-7 for e in again["energies"])


def test_prepare_refuses_impossible_parameters_before_work():
    spec = InstanceSpec.sk(8, 0)
    for kwargs in (
        dict(sweeps={"steps": [10, 0]}),
        dict(sweeps={"dt": [0.1, -0.1]}),
        dict(fixed={"dt": float("nan")}),
        dict(fixed={"bogus": 1}),
        dict(runs=0),
        dict(solver="exact"),
        dict(solver="nope"),
        dict(sweeps={"noise": [0.0]}, fixed={"noise": 0.1}),
        dict(sweeps={"steps": []}),
    ):
        with pytest.raises(CimsimError):
            prepare_study(spec, **kwargs)


# ------------------------------------------------------------------------------------------ CLI


def _read_csv(path: Path) -> list[dict]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def _same(csv_value: str, json_value) -> bool:
    if json_value is None:
        return csv_value == ""
    if isinstance(json_value, bool):
        return csv_value == str(json_value).lower()
    if isinstance(json_value, (int, float)) or json_value in ("inf", "-inf", "nan"):
        a, b = float(csv_value), float(json_value)
        return a == b or (math.isnan(a) and math.isnan(b))
    return csv_value == str(json_value)


def test_cli_end_to_end_csv_json_png_and_resume(tmp_path, capsys):
    out = tmp_path / "study"
    argv = ["anneal", "--sk", 9, "--instance-seed", 2, "--sweep", "steps=5,200", "--sweep", "noise=0,0.1",
            "--runs", 12, "--chunk", 6, "--out", out, "--workers", 1, "--seed", 3, "--bootstrap", 300]
    code, stdout, err = run_cli(argv, capsys)
    assert code == 0, err
    assert "exact ground state" in stdout
    for name in ("anneal.csv", "anneal.json", "tts_steps.png", "tts_seconds.png", "energies.png", "results.csv"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    for name in ("tts_steps.png", "energies.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    data = json.loads((out / "anneal.json").read_text())
    table = _read_csv(out / "anneal.csv")
    assert len(table) == len(data["rows"]) == 4 and data["complete"] is True
    assert list(table[0].keys()) == data["csv_columns"]
    for crow, jrow in zip(table, data["rows"]):
        assert set(crow) == set(jrow)
        for k in crow:
            assert _same(crow[k], jrow[k]), (k, crow[k], jrow[k])
    J = sk_model(9, 2).dense_couplings()
    assert data["target_energy"] == pytest.approx(brute_energies(J).min(), abs=1e-9)
    assert [(r["steps"], r["noise"]) for r in data["rows"]] == [(5, 0), (5, 0.1), (200, 0), (200, 0.1)]
    assert data["sweep"]["done"] == 8
    # other analysis options are another result: no task is recomputed, the files are rewritten
    code, _, err = run_cli(argv + ["--no-plots", "-q", "--bootstrap", 200], capsys)
    assert code == 0, err
    assert json.loads((out / "summary.json").read_text())["done"] == 0
    again = json.loads((out / "anneal.json").read_text())
    assert again["n_boot"] == 200 and again["sweep"]["reused"] == 8
    # the stored runs are scored again: only the bootstrap intervals move
    points = lambda rows: [{k: v for k, v in r.items() if not k.endswith(("_lo", "_hi"))} for r in rows]  # noqa: E731
    assert points(again["rows"]) == points(data["rows"])


def test_cli_maxcut_with_known_optimum_and_sa_trace_figure(tmp_path, capsys):
    # a 6-cycle plus a chord: brute-force its max cut, put it in best_known.csv next to the file
    edges = [(1, 2), (2, 3), (3, 4), (4, 5), (5, 6), (6, 1), (1, 4)]
    g = tmp_path / "tiny.txt"
    g.write_text("6 7\n" + "".join(f"{i} {j} 1\n" for i, j in edges))
    S = all_spin_vectors(6)
    cuts = [sum(1 for i, j in edges if s[i - 1] != s[j - 1]) for s in S]
    best = max(cuts)
    (tmp_path / "best_known.csv").write_text(f"instance,nodes,edges,weights,best_known_cut\ntiny,6,7,+1,{best}\n")
    out = tmp_path / "mc"
    code, stdout, err = run_cli(["anneal", "--problem", "maxcut", g, "--solver", "sa", "--sweep",
                                 "steps=5;50", "--runs", 6, "--chunk", 3,
                                 "--out", out, "--workers", 1, "--no-polish"], capsys)
    assert code == 0, err
    data = json.loads((out / "anneal.json").read_text())
    assert data["target_objective"] == best and "best_known.csv" in data["target_source"]
    assert data["target_energy"] == pytest.approx(len(edges) - 2 * best)  # H = W_tot - 2 cut
    assert (out / "trajectories.png").is_file()
    for r in data["rows"]:
        assert r["cut_best"] <= best
        assert r["cut_best"] == pytest.approx((len(edges) - r["energy_min"]) / 2)
    # an explicit target objective overrides the table
    code, _, err = run_cli(["anneal", "--problem", "maxcut", g, "--solver", "sa", "--runs", 6, "--chunk", 3,
                            "--out", tmp_path / "mc2", "--workers", 1, "--target", best - 1, "--no-plots", "-q"], capsys)
    assert code == 0, err
    d2 = json.loads((tmp_path / "mc2" / "anneal.json").read_text())
    assert d2["target_energy"] == pytest.approx(len(edges) - 2 * (best - 1)) and d2["rows"][0]["p_success"] == 1.0


@pytest.mark.parametrize("args", [
    ["--sweep", "steps=0,10"], ["--sweep", "steps"], ["--sweep", "steps="], ["-p", "dt=0"], ["-p", "dt=nan"],
    ["--sweep", "dt=0.1,-1"], ["--runs", "0"], ["-p", "bogus=1"], ["--solver", "adiabatic", "--schedule", "linear:-2,nan"], ["--scheduler", "nonsense"],
    ["--scheduler", "http://host:1"], ["--chunk", "0"], ["--sweep", "runs=1,2"],
])
def test_cli_refuses_bad_input_in_one_line(tmp_path, capsys, args):
    out = tmp_path / "never"
    code, stdout, err = run_cli(["anneal", "--sk", 8, *args, "--out", out, "--workers", 1, "-q"], capsys)
    assert code == 2
    assert err.startswith("cimsim: error:") and len(err.strip().splitlines()) == 1
    assert not out.exists()  # refused before any work


def test_cli_needs_exactly_one_instance(tmp_path, capsys):
    code, _, err = run_cli(["anneal", "--out", tmp_path / "x"], capsys)
    assert code == 2 and "exactly one instance" in err
    code, _, err = run_cli(["anneal", "--problem", "maxcut", tmp_path / "missing.txt", "--out", tmp_path / "x"], capsys)
    assert code == 2 and "no such file" in err


def test_cli_incomplete_study_exits_1_and_rerun_completes(tmp_path, capsys, monkeypatch):
    original = AnnealTask.__call__

    def flaky(self, params, ss):
        if params["chunk"] == 1:
            raise RuntimeError("node on fire")
        return original(self, params, ss)

    monkeypatch.setattr(AnnealTask, "__call__", flaky)
    argv = ["anneal", "--sk", 8, "--runs", 8, "--chunk", 4, "--steps", 50, "--out", tmp_path / "s", "--workers", 1,
            "--no-plots"]
    code, stdout, err = run_cli(argv, capsys)
    assert code == 1
    assert "node on fire" in err and "1 failed" in err
    data = json.loads((tmp_path / "s" / "anneal.json").read_text())
    assert data["complete"] is False and data["rows"][0]["runs"] == 4 and data["rows"][0]["status"] == "partial"
    monkeypatch.setattr(AnnealTask, "__call__", original)
    code, _, err = run_cli(argv, capsys)
    assert code == 0, err
    data = json.loads((tmp_path / "s" / "anneal.json").read_text())
    assert data["complete"] is True and data["rows"][0]["runs"] == 8 and data["sweep"]["reused"] == 1


def test_trajectory_extraction_and_figure(tmp_path):
    from cimsim.plotting.anneal import extract_trace, plot_trajectories

    T, R, N = 30, 4, 5
    a = np.linspace(-2.2, 0.2, T)
    extra = {"trace_a": a, "trace_x": np.zeros((T, R, N)), "trace_energy": np.ones((T, R))}
    tr = extract_trace(extra)
    assert tr["x"].shape == (T, N) and tr["energy"].shape == (T, R) and np.array_equal(tr["a"], a)
    sa = extract_trace({"energy_trace": np.ones((R, T))})
    assert sa["a"] is None and sa["energy"].shape == (T, R)
    assert extract_trace({"threshold": 1.0}) is None
    path = plot_trajectories([("cim", tr), ("sa", sa)], tmp_path / "t.png", target_energy=0.5)
    assert path.read_bytes()[:4] == b"\x89PNG"


def test_cli_schedule_sweep_with_cim_trajectories(tmp_path, capsys):
    out = tmp_path / "sched"
    code, stdout, err = run_cli(["anneal", "--sk", 12, "--sweep", "schedule=linear:-0.2,1.5,relative=1;landscape",
                                 "--steps", 100, "--runs", 8, "--chunk", 8, "--out", out, "--workers", 1], capsys)
    assert code == 0, err
    data = json.loads((out / "anneal.json").read_text())
    assert [r["schedule"] for r in data["rows"]] == ["linear:-0.2,1.5,relative=1", "landscape"]
    assert data["figures"]["trajectories"].endswith("trajectories.png")
    assert (out / "trajectories.png").read_bytes()[:4] == b"\x89PNG"
    # a non-finite schedule is refused before any work
    code, _, err = run_cli(["anneal", "--sk", 12, "--sweep", "schedule=linear:-0.2,inf", "--out", tmp_path / "no",
                            "--workers", 1], capsys)
    assert code == 2 and not (tmp_path / "no").exists()


def test_hardware_sweep_reports_tts_in_round_trips_and_machine_seconds(tmp_path, capsys):
    """issue 17.7: an mfb study (here the ramp length, with rep_rate) reports TTS in round trips and in
    seconds of the modelled machine, T_run = round trips x N / rep_rate, and draws both in one figure."""
    n, rate = 8, 2e9
    out = tmp_path / "hw"
    argv = ["anneal", "--sk", n, "--instance-seed", 1, "--solver", "mfb", "-p", f"rep_rate={rate}",
            "--sweep", "steps=20,300", "--runs", 16, "--chunk", 8, "--out", out, "--workers", 1, "--seed", 2,
            "--bootstrap", 200, "--no-record"]
    code, stdout, err = run_cli(argv, capsys)
    assert code == 0, err
    assert "TTS99 trips" in stdout and "machine s" in stdout
    data = json.loads((out / "anneal.json").read_text())
    ground = brute_energies(sk_model(n, 1).dense_couplings()).min()
    assert data["target_energy"] == pytest.approx(ground, abs=1e-9)
    for r in data["rows"]:
        assert r["round_trips"] == r["steps_taken"] == r["steps"]  # one mfb step is one round trip
        assert r["t_run_machine_s"] == pytest.approx(r["steps"] * n / rate, rel=1e-12)
        p = r["successes"] / r["runs"]
        assert r["p_success"] == pytest.approx(p)
        assert r["tts_round_trips"] == pytest.approx(tts(p, r["steps"]))
        assert r["tts_machine_s"] == pytest.approx(tts(p, r["steps"] * n / rate))
        for c in ("round_trips", "machine_s"):
            assert r[f"tts_{c}_lo"] <= r[f"tts_{c}"] <= r[f"tts_{c}_hi"]
    assert any(r["successes"] > 0 for r in data["rows"])
    assert (out / "tts_hardware.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # dopo counts round trips (Euler steps x dt / round_trip) but has no machine clock: no machine-seconds column
    code, stdout, err = run_cli(["anneal", "--sk", n, "--instance-seed", 1, "--solver", "dopo", "--steps", 200,
                                 "--runs", 8, "--chunk", 8, "--out", tmp_path / "d", "--workers", 1,
                                 "--bootstrap", 100, "--no-record", "--no-plots"], capsys)
    assert code == 0, err
    row = json.loads((tmp_path / "d" / "anneal.json").read_text())["rows"][0]
    assert row["round_trips"] == pytest.approx(200 * 0.05 / 0.1) and "tts_machine_s" not in row
