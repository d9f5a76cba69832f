"""One pipeline (cimsim.pipeline): `cimsim solve --json`, cimsim.solve and CIMSampler run the same code, so
the same model, solver and seed give the same spins and energy; the CLI's JSON is the API's record; the
driver's steps; presolve that removes every spin validates the solver's parameters on the real model."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

import cimsim
from cimsim import CimsimError, IsingModel
from cimsim.formats import save_model
from cimsim.pipeline import SolverSpec, record
from cimsim.solvers import solve as drive
from cimsim.solvers.driver import BudgetFit, RunPlan

from .conftest import PROBLEMS


def _instance(seed: int = 5, n: int = 30) -> tuple[np.ndarray, np.ndarray, float]:
    """Integer couplings on a random graph, fields in {-1, 0, 1}, an offset."""
    rng = np.random.default_rng(seed)
    J = np.triu(rng.integers(-2, 3, (n, n)) * (rng.random((n, n)) < 0.3), 1).astype(float)
    return J + J.T, rng.integers(-1, 2, n).astype(float), 0.5


def _energy(J: np.ndarray, h: np.ndarray, offset: float, s) -> float:
    """H(s) = -sum_{i<j} J_ij s_i s_j - sum_i h_i s_i + offset, by explicit sums (not IsingModel)."""
    s = [int(v) for v in s]
    n = len(s)
    pairs = sum(J[i, j] * s[i] * s[j] for i in range(n) for j in range(i + 1, n))
    return float(-pairs - sum(h[i] * s[i] for i in range(n)) + offset)


def _cimsim_command() -> list[str]:
    exe = shutil.which("cimsim")
    return [exe] if exe else [sys.executable, "-m", "cimsim"]


@pytest.fixture
def model_file(tmp_path):
    J, h, off = _instance()
    path = tmp_path / "model.npz"
    save_model(path, IsingModel.from_couplings(sp.csr_matrix(J), h, off, storage="sparse"))
    return path, (J, h, off)


def test_cli_api_and_sampler_give_the_same_answer(model_file):
    """Few sweeps and no polish, so the replicas differ and only the same pipeline gives the same spins."""
    dimod = pytest.importorskip("dimod")
    from cimsim.ocean import CIMSampler

    path, (J, h, off) = model_file
    run = dict(replicas=4, steps=3, seed=3)
    argv = ["solve", "ising", str(path), "--solver", "sa", "--replicas", "4", "--steps", "3", "--seed", "3",
            "--no-polish", "--json", "-"]
    proc = subprocess.run(_cimsim_command() + argv, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    cli = json.loads(proc.stdout)
    api = cimsim.solve("ising", str(path), "sa", polish_result=False, **run)
    bqm = dimod.BinaryQuadraticModel("SPIN")  # dimod's signs: +h s, +J s s; variables in file order
    bqm.add_linear_from((i, -h[i]) for i in range(len(h)))
    bqm.add_quadratic_from((i, j, -J[i, j]) for i, j in zip(*np.nonzero(np.triu(J, 1))))
    bqm.offset = off
    ss = CIMSampler().sample(bqm, solver="sa", num_reads=4, steps=3, seed=3, polish=False)
    k = int(np.argmin(ss.record.energy))  # the first best read, as the driver keeps the first best replica
    order = [list(ss.variables).index(i) for i in range(len(h))]
    sampler_spins = [int(v) for v in ss.record.sample[k, order]]

    assert cli["spins"] == [int(v) for v in api.spins] == sampler_spins
    e = _energy(J, h, off, cli["spins"])
    assert cli["energy"] == pytest.approx(e, abs=1e-9) and api.energy == pytest.approx(e, abs=1e-9)
    assert float(ss.record.energy[k]) == pytest.approx(e, abs=1e-9)
    assert cli["objective"] == pytest.approx(e, abs=1e-9)  # an Ising problem's objective is its energy
    # every read of the sampler is an energy dimod computed from the BQM; they are not all the same
    for row, energy in zip(ss.record.sample[:, order], ss.record.energy):
        assert energy == pytest.approx(_energy(J, h, off, row), abs=1e-9)
    assert len(set(np.round(ss.record.energy, 9))) > 1


def test_cli_json_is_the_api_record(model_file, tmp_path):
    from click.testing import CliRunner

    from cimsim.cli import cli

    path, _ = model_file
    out = tmp_path / "r.json"
    argv = ["solve", "ising", str(path), "--solver", "tabu", "--replicas", "2", "--steps", "300", "--seed", "7",
            "--target", "-100", "--json", str(out), "-q"]
    r = CliRunner().invoke(cli, argv)
    assert r.exit_code == 0, r.output
    written = json.loads(out.read_text())
    res = cimsim.solve("ising", str(path), "tabu", replicas=2, steps=300, seed=7)
    rec = cimsim.api.record(res, target=-100)
    assert json.loads(json.dumps(rec)) == rec  # JSON-ready as it is
    for d in (written, rec):
        d.pop("time_s")
    assert written == rec
    assert rec["file"] == str(path) and rec["target"] == -100.0
    assert rec["gap"] == pytest.approx((rec["objective"] - -100) / 100)
    assert record(res, target=-100)["spins"] == rec["spins"]


def test_record_of_a_graph_answers_in_labels():
    G = nx.relabel_nodes(nx.cycle_graph(6), {v: f"v{v}" for v in range(6)})
    res = cimsim.solve("maxcut", G, seed=0)  # auto: exact
    rec = cimsim.api.record(res)
    assert rec["file"] is None and rec["problem"] == "maxcut" and rec["objective"] == 6 and rec["cut"] == 6
    side = rec["partition"]
    assert all(side[f"v{i}"] != side[f"v{(i + 1) % 6}"] for i in range(6))


def _tree(n: int = 40, seed: int = 1) -> tuple[IsingModel, float]:
    """A field-free weighted tree (sparse) and its ground energy -sum|J| (a tree is never frustrated)."""
    rng = np.random.default_rng(seed)
    T = nx.random_labeled_tree(n, seed=seed) if hasattr(nx, "random_labeled_tree") else nx.random_tree(n, seed=seed)
    for u, v in T.edges:
        T.edges[u, v]["weight"] = float(rng.choice([-3, -1, 2, 5]))
    J = nx.to_scipy_sparse_array(T, format="csr", weight="weight").astype(float)
    return IsingModel.from_couplings(sp.csr_matrix(J), None, storage="sparse"), -float(np.abs(J.data).sum()) / 2


def test_fully_presolved_model_validates_parameters_on_the_real_model():
    """Issue 19.3: tabu tenure=25 is fine on 40 spins (it was refused against a 2-spin stand-in)."""
    m, ground = _tree()
    r = drive(m, "tabu", seed=0, tenure=25)
    assert r.settings["presolve"]["reduced_n"] == 0 and r.steps == 0 and r.solver == "tabu"
    assert r.energy == pytest.approx(ground, abs=1e-9)
    assert _energy(m.dense_couplings(), np.zeros(m.n), 0.0, r.spins) == pytest.approx(ground, abs=1e-9)
    # what the real model refuses is still refused, in one line, and so are unknown names
    with pytest.raises(CimsimError, match="tenure") as err:
        drive(m, "tabu", seed=0, tenure=35)
    assert "\n" not in str(err.value)
    with pytest.raises(CimsimError, match="bogus"):
        drive(m, "sa", seed=0, bogus=1)
    # exact's size limit is about the model it runs on; presolved, the 40-spin tree needs no enumeration
    assert drive(m, "exact", presolve=True).energy == pytest.approx(ground, abs=1e-9)
    # the API and the sampler take the same path
    assert cimsim.solve(m, "tabu", seed=0, tenure=25).energy == pytest.approx(ground, abs=1e-9)


def test_fully_presolved_sampler_returns_every_read():
    dimod = pytest.importorskip("dimod")
    from cimsim.ocean import CIMSampler, to_bqm

    m, ground = _tree()
    ss = CIMSampler().sample(to_bqm(m), solver="tabu", num_reads=5, seed=0, tenure=25)
    assert ss.record.num_occurrences.sum() == 5 and ss.info["settings"]["presolve"]["reduced_n"] == 0
    np.testing.assert_allclose(ss.record.energy, ground, atol=1e-9)
    dimod.testing.assert_sampleset_energies(ss, to_bqm(m))


def test_sampler_keeps_presolved_reads_of_the_original_variables():
    dimod = pytest.importorskip("dimod")
    from cimsim.ocean import CIMSampler, to_bqm

    # a ring of 12 spins with a pendant path of 3: presolve removes the path, keeps nothing or little
    G = nx.cycle_graph(12)
    G.add_edges_from([(0, 12), (12, 13), (13, 14), (3, 15)])
    rng = np.random.default_rng(2)
    J = nx.to_scipy_sparse_array(G, format="csr").astype(float)
    J.data *= rng.choice([-1.0, 1.0], size=J.data.size)
    J = sp.csr_matrix(np.triu(J.toarray()) + np.triu(J.toarray()).T)
    h = rng.choice([-1.0, 0.0, 1.0], size=16)
    m = IsingModel.from_couplings(J, h, storage="sparse")
    bqm = to_bqm(m)
    ss = CIMSampler().sample(bqm, solver="sa", num_reads=3, steps=20, seed=1)
    assert ss.record.num_occurrences.sum() == 3 and ss.info["settings"]["presolve"]["removed"] > 0
    dimod.testing.assert_sampleset_energies(ss, bqm)
    best = dimod.ExactSolver().sample(bqm).first.energy
    assert ss.first.energy == pytest.approx(best, abs=1e-9)


def _main(argv: list[str], capsys) -> tuple[int, str, str]:
    from cimsim.cli import main

    with pytest.raises(SystemExit) as exc:
        main(argv)
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def test_cli_format_is_forwarded_to_the_encoder(capsys):
    path = str(PROBLEMS / "graph16.txt")
    code, plain, err = _main(["solve", "maxcut", path, "--seed", "0", "--json", "-"], capsys)
    assert code == 0, err
    code, named, err = _main(["solve", "maxcut", path, "--seed", "0", "--format", "gset", "--json", "-"], capsys)
    assert code == 0, err
    a, b = json.loads(plain), json.loads(named)
    assert a["objective"] == b["objective"] and a["spins"] == b["spins"]
    # read as a networkx edge list, the header '16 27' is an edge from vertex 16 to a new vertex 27
    code, other, err = _main(["solve", "maxcut", path, "--seed", "0", "--format", "edgelist", "--json", "-"], capsys)
    assert code == 0, err
    assert json.loads(other)["n_spins"] == a["n_spins"] + 1
    code, out, err = _main(["solve", "maxcut", path, "--format", "nosuch"], capsys)
    assert code == 2 and "nosuch" in err and len(err.strip().splitlines()) == 1


def test_spec_defaults_and_seed_check():
    spec = SolverSpec()
    assert (spec.name, spec.backend, spec.polish, spec.presolve) == ("auto", "cpu", None, None)  # polish: advice
    m, _ = _tree(8)
    for seed in (-1, 1.5, "3", True):
        with pytest.raises(CimsimError, match="seed"):
            drive(m, "sa", seed=seed, presolve=False)


class _Module:
    """A stand-in solver module for BudgetFit: only the attributes it reads."""

    BUDGET_BATCHES = 3


def test_budget_fit_probes_then_fits_the_remaining_time():
    """Two equal probes, a third three times longer, then batches sized to 90% of what remains."""
    plan = RunPlan(R=4, T=600, steps_given=False, time_limit=10.0, backend="cpu", seed=0)
    fit = BudgetFit(_Module, plan)
    assert fit.fit and fit.T_probe == 10 and fit.T_run == 10
    assert fit.next_steps(0.5, 9.5) == 10  # first probe (compilation) ignored: probe again
    assert fit.next_steps(0.01, 9.49) == 30  # time for a third probe, three times longer
    # per step (0.03 - 0.01) / 20 = 0.001 s, overhead 0.01 - 0.001 * 10 = 0 s: 0.9 * 9.46 s affords ~8514
    # steps, but a batch grows at most to max(default, 4x the last) = 600
    assert fit.next_steps(0.03, 9.46) == 600
    assert fit.per_step == pytest.approx(0.001) and fit.overhead == pytest.approx(0.0, abs=1e-12)
    assert fit.T_cap == pytest.approx(8514 // 3, abs=1)  # BUDGET_BATCHES = 3 batches fill the budget
    # a fitted batch of 600 steps in 0.6 s refines the cost; the next grows 4x, below the cap and the time left
    assert fit.next_steps(0.6, 8.8) == 2400
    assert fit.next_steps(2.4, 0.005) is None  # 0.001 s per step: not even a probe fits in what is left
    fixed = BudgetFit(_Module, RunPlan(R=4, T=600, steps_given=True, time_limit=10.0, backend="cpu", seed=0))
    assert not fixed.fit and fixed.next_steps(1.0, 5.0) == 600
