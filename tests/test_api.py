"""The Python API mirrors the CLI: solve (files, networkx graphs with their labels, models, BQMs), anneal,
landscape, phase_diagram; answers checked by brute force and against the CLI's own output."""
from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

import cimsim
import cimsim.instances
from cimsim import CimsimError, IsingModel
from cimsim.cli import cli

from .conftest import PROBLEMS, all_spin_vectors, random_couplings

nx = pytest.importorskip("networkx")


def _brute_maxcut(G) -> float:
    nodes = list(G.nodes)
    best = -np.inf
    for bits in itertools.product([0, 1], repeat=len(nodes)):
        side = dict(zip(nodes, bits))
        best = max(best, sum(d.get("weight", 1) for u, v, d in G.edges(data=True) if side[u] != side[v]))
    return best


def _string_graph(seed: int = 3, n: int = 12) -> "nx.Graph":
    rng = np.random.default_rng(seed)
    G = nx.gnp_random_graph(n, 0.4, seed=seed)
    for u, v in G.edges:
        G.edges[u, v]["weight"] = float(rng.integers(1, 5))
    return nx.relabel_nodes(G, {v: f"city-{v}" for v in G.nodes})


def test_maxcut_on_networkx_graph_with_string_labels():
    G = _string_graph()
    res = cimsim.solve("maxcut", G, seed=0)  # auto -> exact for 12 vertices
    side0, side1 = (set(s) for s in res.answer["sides"])
    assert side0 | side1 == set(G.nodes) and not side0 & side1
    assert all(isinstance(v, str) for v in side0 | side1)
    assert res.answer["partition"] == {v: int(v in side1) for v in G.nodes}
    cut = sum(d["weight"] for u, v, d in G.edges(data=True) if (u in side1) != (v in side1))
    assert res.objective == cut == _brute_maxcut(G)
    # the same answer with a heuristic solver, and the spins follow list(G.nodes)
    res_sa = cimsim.solve("maxcut", G, "sa", seed=1, steps=200)
    assert res_sa.objective == _brute_maxcut(G)
    assert [int(s > 0) for s in res_sa.spins] == [res_sa.answer["partition"][v] for v in G.nodes]


@pytest.mark.parametrize("problem, key", [("vertex-cover", "cover"), ("independent-set", "set")])
def test_graph_problems_answer_with_labels(problem, key):
    G = _string_graph(seed=5, n=10)
    res = cimsim.solve(problem, G, seed=0)
    chosen = set(res.answer[key])
    assert chosen <= set(G.nodes) and res.feasible
    nodes = list(G.nodes)
    sizes = []
    for bits in itertools.product([0, 1], repeat=len(nodes)):
        S = {v for v, b in zip(nodes, bits) if b}
        ok = all((u in S or v in S) for u, v in G.edges) if key == "cover" else not any(u in S and v in S for u, v in G.edges)
        if ok:
            sizes.append(len(S))
    assert len(chosen) == (min(sizes) if key == "cover" else max(sizes))


def test_bisection_on_networkx_with_tuple_labels():
    G = nx.grid_2d_graph(2, 4)  # nodes are (row, col) tuples
    res = cimsim.solve("bisection", G, seed=0)
    a, b = (set(s) for s in res.answer["sides"])
    assert len(a) == len(b) == 4 and a | b == set(G.nodes)
    assert res.objective == 2  # cut the 2 x 4 ladder in the middle


def test_solve_file_matches_known_optimum_and_cli(tmp_path):
    res = cimsim.solve("maxcut", str(PROBLEMS / "maxcut_w20.txt"), seed=0)
    assert res.solver == "exact" and res.objective == 42 and res.feasible
    out = tmp_path / "r.json"
    from click.testing import CliRunner

    r = CliRunner().invoke(cli, ["solve", "maxcut", str(PROBLEMS / "maxcut_w20.txt"), "--seed", "0", "--json", str(out), "-q"])
    assert r.exit_code == 0, r.output
    assert json.loads(out.read_text())["objective"] == res.objective
    res = cimsim.solve("vertex-cover", PROBLEMS / "graph16.txt", options={"penalty": 2.0}, seed=0)
    assert res.objective == 9 and res.extra["encoding"]["penalty"] == 2.0


def test_solve_model_keeps_the_old_call_and_recomputes_energy(rng):
    n = 10
    m = IsingModel.from_couplings(random_couplings(rng, n), rng.standard_normal(n), 0.5)
    res = cimsim.solve(m, "exact")
    E = m.energies(all_spin_vectors(n))
    assert res.energy == pytest.approx(E.min()) == pytest.approx(res.objective)
    assert cimsim.solve(m, solver="sa", seed=3, steps=100).energy == pytest.approx(E.min())


def test_solve_partition_numbers():
    res = cimsim.solve("partition", [3, 1, 4, 1, 5, 9, 2, 6], seed=0)
    assert res.objective == 1  # total 31 is odd: best difference 1


def test_solve_bqm_reports_its_sample():
    dimod = pytest.importorskip("dimod")
    bqm = dimod.BinaryQuadraticModel({"x": 1.0, "y": -1.0}, {("x", "y"): -3.0}, 0.25, "BINARY")
    res = cimsim.solve(bqm, "exact")
    best = min(itertools.product([0, 1], repeat=2), key=lambda xy: bqm.energy(dict(zip("xy", xy))))
    assert res.answer["sample"] == dict(zip("xy", best))
    assert res.objective == pytest.approx(bqm.energy(res.answer["sample"]))


@pytest.mark.parametrize("args, msg", [
    (("nope", "f.txt"), "unknown problem"),
    (("maxcut", 3.5), "cannot encode"),
    (("sat", None), "cannot encode"),
    ((object(),), "cannot solve"),
    (("maxcut", "/no/such/file.txt"), "no such file"),
])
def test_solve_bad_input_is_one_line(args, msg):
    with pytest.raises(CimsimError, match=msg) as err:
        cimsim.solve(*args)
    assert "\n" not in str(err.value)


def test_solve_graph_first_is_refused_with_a_hint():
    with pytest.raises(CimsimError, match="name the problem first"):
        cimsim.solve(nx.path_graph(3))


def test_landscape_api_equals_cli(tmp_path):
    from click.testing import CliRunner

    L = cimsim.landscape(n=12, a=-0.3, starts=4, seed=7)
    assert L.total_points >= 1
    for p in L.points:
        assert np.all(p.grad_norm < 1e-6) and np.all(p.index == 0)
    out = tmp_path / "l.json"
    r = CliRunner().invoke(cli, ["landscape", "--n", "12", "--a", "-0.3", "--starts", "4", "--seed", "7",
                                 "--json", str(out), "-q"])
    assert r.exit_code == 0, r.output
    cli_json = json.loads(out.read_text())
    api_json = L.to_dict()
    assert [p["eps"] for p in api_json["points"]] == pytest.approx([p["eps"] for p in cli_json["points"]], abs=1e-12)
    assert api_json["rs_theory"] == pytest.approx(cli_json["rs_theory"])


def test_landscape_on_given_couplings_finds_the_known_minimum():
    # two spins, J = [[0, 1], [1, 0]], a = 0: E = x^4/4 + y^4/4 - x y; minima at x = y = +-1, E = -1/2
    L = cimsim.landscape(a=0.0, J=np.array([[0.0, 1.0], [1.0, 0.0]]), starts=6, seed=0)
    p = L.points[0]
    assert len(p) == 1
    np.testing.assert_allclose(np.abs(p.x[0]), [1.0, 1.0], atol=1e-8)
    assert p.energy[0] == pytest.approx(-0.5, abs=1e-10)
    with pytest.raises(CimsimError):
        cimsim.landscape(a=0.0, J=np.array([[0.0, 1.0], [2.0, 0.0]]))


def test_anneal_api_rows_target_and_cli_agree(tmp_path):
    from click.testing import CliRunner

    st = cimsim.anneal(sk=12, instance_seed=2, solver="sa", sweep={"steps": [5, 60]}, runs=12, chunk=6,
                       bootstrap=100, seed=0)
    exact = cimsim.solve(cimsim.instances.sk_model(12, 2), "exact").energy
    assert st.target_source.startswith("exact ground state") and st.target_energy == pytest.approx(exact)
    assert [r["steps"] for r in st.rows] == [5, 60]
    for r in st.rows:
        assert r["runs"] == 12 and 0 <= r["p_success"] <= 1
        assert r["p_success"] == pytest.approx(r["successes"] / 12)
        assert r["energy_min"] >= st.target_energy - 1e-9
    r = CliRunner().invoke(cli, ["anneal", "--sk", "12", "--instance-seed", "2", "--solver", "sa", "--sweep",
                                 "steps=5,60", "--runs", "12", "--chunk", "6", "--bootstrap", "100", "--seed", "0",
                                 "--workers", "1", "--no-plots", "--no-record", "-q", "--out", str(tmp_path)])
    assert r.exit_code == 0, r.output
    rows = json.loads((tmp_path / "anneal.json").read_text())["rows"]
    for mine, theirs in zip(st.rows, rows):
        for key in ("successes", "energy_mean", "energy_min", "p_lo", "p_hi"):
            assert mine[key] == pytest.approx(theirs[key]), key
    with pytest.raises(CimsimError):
        cimsim.anneal(sk=12, problem=("maxcut", "x.txt"))


def test_phase_diagram_api_tiny():
    pd = cimsim.phase_diagram(16, [-1.0, 0.0], instances=2, starts=2, seed=0, path_da=0.2)
    assert {r["method"] for r in pd.rows} == {"adiabatic", "random-starts"} and not pd.failed
    path = [r for r in pd.rows if r["method"] == "adiabatic"]
    assert all(r["grad_norm"] < 1e-6 for r in path)
    assert {r["a"] for r in pd.rows if r["method"] == "random-starts"} == {-1.0, 0.0}
    assert "16" in pd.transitions["by_n"]
    with pytest.raises(CimsimError):
        cimsim.phase_diagram(16, [])


def test_coloring_and_clique_of_a_labelled_graph():
    G = nx.relabel_nodes(nx.cycle_graph(5), lambda v: f"v{v}")  # odd cycle: 3 colours, no 2-colouring
    res = cimsim.solve("coloring", G, options={"colors": 3}, seed=0)
    colors = res.answer["colors"]
    assert set(colors) == set(G.nodes) and res.feasible
    assert all(colors[u] != colors[v] for u, v in G.edges)
    assert cimsim.encode("coloring", G, colors=3).model.labels[:3] == (("v0", 0), ("v0", 1), ("v0", 2))
    assert not cimsim.solve("coloring", G, options={"colors": 2}, seed=0).feasible
    G.add_edge("v0", "v2")
    res = cimsim.solve("clique", G, seed=0)
    assert sorted(res.answer["clique"]) == ["v0", "v1", "v2"] and res.objective == 3
    with pytest.raises(CimsimError, match="colours"):
        cimsim.solve("coloring", G)
