"""Smoke tests of the benchmark harness (bench/) on tiny instances, cimsim only, no peers needed."""
from __future__ import annotations

import csv
import itertools
import math
import types

import numpy as np
import pytest

from cimsim.encoders.maxcut import encode_maxcut

import bench.harness as harness
import bench.peers as peers
import bench.rows as rows_mod
from bench.instances import Instance, load_instance
from bench.run import main


def _tiny_maxcut(n: int = 12, seed: int = 3) -> tuple[Instance, float]:
    rng = np.random.default_rng(seed)
    edges = [(i, j, float(rng.choice([1.0, 2.0, -1.0]))) for i, j in itertools.combinations(range(n), 2)
             if rng.random() < 0.5]
    enc = encode_maxcut(n, edges)
    # brute force the maximum cut independently of cimsim's model
    W = np.zeros((n, n))
    for i, j, w in edges:
        W[i, j] = W[j, i] = w
    best = -math.inf
    for bits in itertools.product([0, 1], repeat=n - 1):
        side = np.array((0,) + bits)
        best = max(best, float(W[np.ix_(side == 0, side == 1)].sum()))
    total = sum(w for _, _, w in edges)
    inst = Instance("tiny", "gset", enc.model, lambda s: float(enc.decode(s).objective), "max", best, True,
                    "brute force", energy_target=total - 2 * best)
    return inst, best


def _fake_peer(spins_value: int):
    """A peer that always returns all-``spins_value`` spins (and would claim any energy it liked)."""
    return types.SimpleNamespace(
        LABEL="fake",
        available=lambda: None,
        warmup=lambda: None,
        prepare=lambda model: None,
        run_batch=lambda prep, model, rng, budget_s: (np.full((3, model.n), spins_value), 3.0 * model.n, 3),
    )


def test_tts99_formula():
    assert harness.tts99(2.0, 0.0) == math.inf
    assert harness.tts99(2.0, 1.0) == 2.0
    assert harness.tts99(2.0, 0.995) == 2.0
    assert harness.tts99(1.0, 0.5) == pytest.approx(math.log(0.01) / math.log(0.5))


def test_cimsim_row_recomputes_and_hits_brute_force_optimum(monkeypatch, tmp_path):
    inst, best = _tiny_maxcut()
    fake = _fake_peer(1)
    monkeypatch.setitem(peers.PEERS, "fake", "fake")
    monkeypatch.setattr(peers, "get_peer", lambda name: fake if name == "fake" else pytest.fail(name))
    monkeypatch.setitem(harness.CIMSIM_SOLVERS, "bogus", ("no-such-solver", {}))
    missing = Instance("gone", "sat", None, None, "max", None, False, "", status="no file")
    rows = harness.run_bench([inst, missing], solvers=["cim", "bogus"], peers=["fake"], budgets=[0.05],
                             repeats=2, threads=1, log=lambda m: None)
    assert [(r.instance, r.solver) for r in rows] == [
        ("tiny", "cim"), ("tiny", "bogus"), ("tiny", "fake"), ("gone", "cim"), ("gone", "bogus"), ("gone", "fake")]
    cim, bogus, fk = rows[:3]
    assert cim.status == "ok" and cim.repeats == 2
    assert cim.best_obj == best and cim.hits == 2 and cim.p_success == 1.0
    assert cim.ratio_best == pytest.approx(1.0)
    assert cim.best_energy == pytest.approx(inst.energy_target)
    assert math.isfinite(cim.tts99_s) and math.isfinite(cim.tts99_batch_s)
    assert cim.updates_per_s > 0 and cim.bound_updates_per_s > 0 and cim.bound_kind == "sparse-bandwidth"
    assert bogus.status.startswith("not available") and "no-such-solver" in bogus.status
    # the fake peer's all-equal spins cut nothing: the harness scored the spins, not a claim
    assert fk.status == "ok" and fk.best_obj == 0.0 and fk.hits == 0 and fk.tts99_s == math.inf
    assert fk.updates_per_s > 0
    assert cim.vs_peers.startswith("ahead of fake")  # (", but took ... over budget" under load)
    assert all(r.status.startswith("skipped: no file") for r in rows[3:])

    harness.write_csv(rows, tmp_path / "r.csv")
    harness.write_markdown(rows, tmp_path / "r.md", header="# t")
    with open(tmp_path / "r.csv", newline="") as fh:
        table = list(csv.DictReader(fh))
    assert len(table) == 6 and float(table[0]["best_obj"]) == best
    back = harness.recompare(harness.read_csv(tmp_path / "r.csv"))
    assert [(r.solver, r.status, r.vs_peers) for r in back] == [(r.solver, r.status, r.vs_peers) for r in rows]
    md = (tmp_path / "r.md").read_text()
    assert md.count("\n| tiny |") == 3 and md.count("\n| gone |") == 3


def test_behind_is_said_plainly(monkeypatch):
    inst, best = _tiny_maxcut()
    rows = [
        harness.Row("tiny", "gset", 12, 0, "cim", "cimsim", 1.0, repeats=1, best_obj=best - 1, median_obj=best - 1,
                    elapsed_mean_s=1.1),
        harness.Row("tiny", "gset", 12, 0, "neal", "peer", 1.0, repeats=1, best_obj=best, median_obj=best,
                    elapsed_mean_s=1.0),
    ]
    harness.compare(inst, rows)
    assert rows[0].vs_peers.startswith("BEHIND neal")
    md = harness.markdown_table(rows)
    assert "- **tiny @ 1 s: best cimsim cim" in md and ": BEHIND neal**." in md


def test_loaders_and_cli_errors(capsys):
    sk = load_instance("SK30")
    assert sk.model is not None and sk.model.n == 30 and not sk.optimum_known
    s = np.ones(30)
    assert sk.objective(s) == pytest.approx(sk.model.energy(s) / 30)
    assert load_instance("uf999-99").status  # unknown: a row, not an exception
    assert main(["--budgets", "-1"]) == 2
    assert main(["--instances", "G999"]) == 2
    assert main(["--solvers", "nope"]) == 2
    assert main(["--threads", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("error:") == 4 and "Traceback" not in err


def test_bounds_shapes():
    from bench import bounds

    inst, _ = _tiny_maxcut()
    m = inst.model
    assert bounds.sparse_bytes_per_update(m) == pytest.approx(m.J.nnz / m.n * 20 + 16)
    b = bounds.bound_for(_dense_with_fields(8)[0], 4)
    assert b.kind == "dense-matmul" and b.updates_per_s > 0 and b.updates_per_s_f32 > 0


def _dense_with_fields(n: int, seed: int = 5):
    from cimsim import IsingModel

    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, n))
    J = (A + A.T) / 2
    np.fill_diagonal(J, 0)
    model = IsingModel.from_couplings(J, rng.standard_normal(n), 0.7)
    # all 2^n energies, computed here without cimsim's energy code
    S = np.array(list(itertools.product([-1.0, 1.0], repeat=n)))
    E = -0.5 * np.einsum("ij,jk,ik->i", S, J, S) - S @ model.h + 0.7
    return model, np.sort(E)


@pytest.mark.parametrize("name", list(peers.PEERS))
def test_installed_peer_adapters_minimise_our_hamiltonian(name):
    """Sign conventions: each installed peer must land in the lowest 1 % of all states (a flipped J or
    h would land near the top). neal and OpenJij must find the exact ground state of 12 spins."""
    mod = peers.get_peer(name)
    if mod.available() is not None:
        pytest.skip(f"{name} not installed")
    model, E = _dense_with_fields(12)
    run = peers.run_peer(name, model, 0.2, seed=0)
    best = float(model.energies(run.batch_spins).min())
    assert best <= E[len(E) // 100] + 1e-9
    if name in ("dwave_neal", "openjij_sa"):
        assert best == pytest.approx(E[0])
    assert run.batches >= 1 and run.elapsed_s > 0


# --------------------------------------------------------------------------------------------------
# the benchmark as a checkpointed sweep (bench/run.py --out DIR)


def _bench(out, *extra):
    return main(["--instances", "SK12", "--solvers", "sa", "--peers", "none", "--budgets", "0.05", "--repeats", "2",
                 "--out", str(out), "--tag", "t", "--quiet", *extra])


def _summary(out):
    import json

    return json.loads((out / "summary.json").read_text())


def test_bench_store_resume_and_recompute_one(tmp_path):
    import json

    from cimsim.instances import sk_model
    from bench.instances import SK_SEED

    out = tmp_path / "store"
    assert _bench(out) == 0
    files = sorted((out / "tasks").glob("*.json"))
    assert len(files) == 3  # the machine-bounds task and two seeded calls
    s = _summary(out)
    assert (s["done"], s["reused"], s["failed"], s["complete"]) == (3, 0, 0, True)
    # every stored call: its spins give the stored objective, recomputed here without cimsim's energy code
    model = sk_model(12, SK_SEED)
    J = model.J.toarray() if model.is_sparse else np.asarray(model.J)
    calls = []
    for f in files:
        rec = json.loads(f.read_text())
        assert rec["status"] == "ok" and rec["key"] == f.stem
        if rec["params"]["task"] != "call":
            continue
        spins = harness.unpack_spins(rec["row"]["spins_hex"], 12).astype(float)
        e = -0.5 * spins @ J @ spins - model.h @ spins + model.offset
        assert rec["row"]["objective"] == pytest.approx(e / 12, abs=1e-12)
        calls.append(rec)
    assert sorted(r["params"]["seed"] for r in calls) == [0, 1]
    with open(out / "results.csv", newline="") as fh:
        assert sorted(int(r["seed"]) for r in csv.DictReader(fh)) == [0, 1]
    table = (out / "t.csv").read_text()
    with open(out / "t.csv", newline="") as fh:
        (row,) = list(csv.DictReader(fh))
    assert row["solver"] == "sa" and row["status"] == "ok" and int(row["repeats"]) == 2
    assert float(row["best_obj"]) == pytest.approx(min(r["row"]["objective"] for r in calls), rel=1e-5)
    assert "| SK12 | 12 | sa |" in (out / "t.md").read_text()

    # a finished sweep re-run computes nothing and rebuilds the same table from the store
    mtimes = {f.name: f.stat().st_mtime_ns for f in files}
    assert _bench(out) == 0
    s = _summary(out)
    assert (s["done"], s["reused"]) == (0, 3)
    assert (out / "t.csv").read_text() == table
    assert {f.name: f.stat().st_mtime_ns for f in files} == mtimes

    # one stored call deleted: exactly that one is recomputed
    victim = next(f for f in files if json.loads(f.read_text())["params"].get("seed") == 1)
    victim.unlink()
    assert _bench(out) == 0
    s = _summary(out)
    assert (s["done"], s["reused"]) == (1, 2)
    assert victim.exists()
    assert {f.name: f.stat().st_mtime_ns for f in files if f != victim} == {
        k: v for k, v in mtimes.items() if k != victim.name}


def test_bench_failed_call_is_recorded_and_exit_code_says_incomplete(tmp_path, monkeypatch, capsys):
    # a solver entry whose every call raises (an unknown sa parameter)
    monkeypatch.setitem(harness.CIMSIM_SOLVERS, "broken", ("sa", {"no_such_param": 1}))
    out = tmp_path / "store"
    assert main(["--instances", "SK12", "--solvers", "sa,broken", "--peers", "none", "--budgets", "0.05",
                 "--repeats", "2", "--out", str(out), "--tag", "t", "--quiet"]) == 1
    s = _summary(out)
    assert s["complete"] is False and s["failed"] == 1 and s["done"] == 3  # machine + sa x 2 seeds
    (fail,) = s["failures"]
    assert fail["task"]["solver"] == "broken" and "no_such_param" in fail["error"]
    rec = __import__("json").loads((out / "tasks" / f"{fail['task_key']}.json").read_text())
    assert rec["status"] == "failed" and "no_such_param" in rec["error"]
    with open(out / "t.csv", newline="") as fh:
        rows = {r["solver"]: r for r in csv.DictReader(fh)}
    assert rows["sa"]["status"] == "ok" and rows["broken"]["status"].startswith("error: ")
    err = capsys.readouterr().err
    assert "incomplete" in err and "Traceback" not in err
    # re-running retries only the failed call (and the good ones are reused)
    assert main(["--instances", "SK12", "--solvers", "sa,broken", "--peers", "none", "--budgets", "0.05",
                 "--repeats", "2", "--out", str(out), "--tag", "t", "--quiet"]) == 1
    s = _summary(out)
    assert (s["done"], s["reused"], s["failed"]) == (0, 3, 1)


def test_bench_sweep_option_errors(tmp_path, capsys):
    (tmp_path / "f").write_text("x")
    assert main(["--out", str(tmp_path / "f")]) == 2
    assert main(["--workers", "0"]) == 2
    assert main(["--scheduler", "nonsense"]) == 2
    err = capsys.readouterr().err
    assert err.count("error:") == 3 and "Traceback" not in err


def test_bench_sweep_overrun_rule_skips_later_seeds(tmp_path, monkeypatch):
    """A row whose first call overran OVERRUN_FACTOR budgets gets no further seed tasks (phase 2)."""
    inst, best = _tiny_maxcut()
    monkeypatch.setattr(rows_mod, "OVERRUN_FACTOR", 0.0)  # every first call "overruns"
    run = harness.run_bench_sweep([inst], solvers=["sa"], peers=[], budgets=[0.02], repeats=3, threads=1,
                                  log=lambda m: None, out_dir=tmp_path, machine=False)
    assert run.outcome.total == 1 and run.outcome.done == 1 and run.outcome.complete
    (row,) = run.rows
    assert row.status == "ok" and row.repeats == 1 and "2 other repeat(s) not run" in row.note
    assert row.best_obj <= best
    monkeypatch.setattr(rows_mod, "OVERRUN_FACTOR", 1e9)  # now the other seeds are due: only they run
    run = harness.run_bench_sweep([inst], solvers=["sa"], peers=[], budgets=[0.02], repeats=3, threads=1,
                                  log=lambda m: None, out_dir=tmp_path, machine=False)
    assert (run.outcome.done, run.outcome.reused) == (2, 1)
    assert run.rows[0].repeats == 3 and "not run" not in run.rows[0].note


def test_openjij_adapter_reads_are_independent_and_match_the_sampler():
    """The OpenJij adapter seeds every read on its own (a seeded ``SASampler.sample`` call returns copies of
    one state) and a read seeded s is the state ``SASampler().sample(bqm, num_reads=1, seed=s)`` returns."""
    mod = peers.get_peer("openjij_sa")
    if mod.available() is not None:
        pytest.skip("openjij not installed")
    import openjij as oj

    from bench.peers._bqm import to_bqm

    rng = np.random.default_rng(5)
    n = 40
    J = np.triu(rng.choice([-1.0, 1.0], size=(n, n)) * (rng.random((n, n)) < 0.2), 1)
    from cimsim import IsingModel

    model = IsingModel(J + J.T, rng.normal(size=n) * 0.3)
    prep = mod.prepare(model)
    seeds = [11, 12, 13, 14, 15, 16]
    reads = mod.anneal(prep, 5, seeds, schedule_seed=11)  # 5 sweeps: reads end in different states
    assert len({r.tobytes() for r in reads}) > 1
    bqm = to_bqm(model)
    ss = oj.SASampler().sample(bqm, num_reads=1, num_sweeps=5, seed=11)
    ref = np.array([ss.first.sample[i] for i in range(n)], dtype=np.int8)
    assert np.array_equal(reads[0], ref)
