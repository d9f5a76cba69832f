"""Problem encoders: Ising ground states decode to true optima (checked by independent brute force of the
problem itself), energies equal the documented transform of the objective, parsers reject bad files."""
from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest

from cimsim import CimsimError
from cimsim.encoders import get_problem
from cimsim.encoders.bisection import encode_bisection
from cimsim.encoders.independent_set import encode_independent_set
from cimsim.encoders.partition import encode_partition, read_numbers
from cimsim.encoders.sat import encode_sat, read_dimacs
from cimsim.encoders.vertex_cover import encode_vertex_cover
from cimsim.solvers.exact import ground_state

from .conftest import PROBLEMS, all_spin_vectors

N_INSTANCES = 24


def ground_states(model, tol: float = 1e-9) -> tuple[np.ndarray, np.ndarray]:
    """All spin vectors and their energies; plus the mask of ground states (plain enumeration)."""
    S = all_spin_vectors(model.n)
    E = model.energies(S)
    return S, E, E <= E.min() + tol * max(1.0, abs(E.min()))


def random_graph(rng, n, p, weights="unit"):
    edges = []
    for i, j in itertools.combinations(range(n), 2):
        if rng.random() < p:
            w = 1.0 if weights == "unit" else float(rng.integers(1, 6)) if weights == "int" else float(rng.normal())
            edges.append((i, j, w))
    return edges


# ----------------------------------------------------------------------------- partition
def brute_partition(nums):
    total = sum(nums)
    return min(abs(total - 2 * sum(nums[i] for i in c)) for k in range(len(nums) + 1)
               for c in itertools.combinations(range(len(nums)), k))


@pytest.mark.parametrize("seed", range(N_INSTANCES))
def test_partition_ground_states_are_optimal(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 12))
    if seed % 3 == 2:
        nums = [float(x) for x in np.round(rng.uniform(-5, 20, n), 2)]
    else:
        nums = [int(x) for x in rng.integers(1, 10 ** int(rng.integers(1, 7)), n)]
    enc = encode_partition(nums)
    best = brute_partition(nums)
    S, E, gs = ground_states(enc.model)
    scale = enc.info["scale"]
    for s, e in zip(S, E):  # energy transform, every state
        d = sum(x if v > 0 else -x for x, v in zip(nums, s))
        assert e == pytest.approx((d / scale) ** 2, abs=1e-9)
    for s in S[gs]:
        sol = enc.decode(s)
        assert sol.feasible
        assert sol.objective == pytest.approx(best, abs=1e-9)
        first, second = sol.answer["subsets"]
        assert sorted(first + second) == list(range(n))
        assert sol.answer["sums"][0] == pytest.approx(sum(nums[i] for i in first))
        assert sol.answer["sums"][1] == pytest.approx(sum(nums[i] for i in second))


def test_partition_exact_for_huge_integers():
    nums = [10 ** 20 + 1, 10 ** 20, 1]
    enc = encode_partition(nums)
    sol = enc.decode(np.array([1, -1, -1]))
    assert sol.objective == 0 and isinstance(sol.objective, int)
    assert sol.answer["sums"] == [10 ** 20 + 1, 10 ** 20 + 1]
    assert np.all(np.abs(enc.model.J) <= 2.0)


def test_partition_reader(tmp_path):
    f = tmp_path / "n.txt"
    f.write_text("# comment\n3 1 1\n2\n\n 2 1  # trailing\n1.5e0\n")
    assert read_numbers(f) == [3, 1, 1, 2, 2, 1, 1.5]
    for bad, line in [("1 2\nx 3\n", 2), ("1\n2\nnan\n", 3), ("inf\n", 1), ("1 2,3\n", 1)]:
        f.write_text(bad)
        with pytest.raises(CimsimError, match=f"line {line}"):
            read_numbers(f)
    f.write_text("  \n")
    with pytest.raises(CimsimError, match="empty"):
        read_numbers(f)
    f.write_text("# only a comment\n")
    with pytest.raises(CimsimError, match="no numbers"):
        read_numbers(f)


def test_partition_example_file():
    enc = get_problem("partition").from_file(PROBLEMS / "partition15.txt")
    spins, energy, _ = ground_state(enc.model)
    sol = enc.decode(spins)
    assert energy == pytest.approx(0.0, abs=1e-9) and sol.objective == 0
    assert sol.answer["sums"] == [3992, 3992]


# ----------------------------------------------------------------------------- bisection
def brute_bisection(n, edges):
    best = math.inf
    for side in itertools.combinations(range(n), n // 2):
        a = set(side)
        best = min(best, sum(w for i, j, w in edges if (i in a) != (j in a)))
    return best


@pytest.mark.parametrize("seed", range(N_INSTANCES))
def test_bisection_ground_states_are_balanced_optima(seed):
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(2, 12))
    kind = ("unit", "int", "normal")[seed % 3]
    edges = random_graph(rng, n, float(rng.uniform(0.2, 0.9)), kind)
    if seed % 4 == 3:  # irregular: a weighted star plus a few extra edges, isolated vertices allowed
        edges = [(0, j, float(rng.integers(1, 4))) for j in range(1, n)] + edges[: seed % 3]
    enc = encode_bisection(n, edges)
    assert enc.info["penalty_guaranteed"] and enc.info["penalty"] > enc.info["penalty_bound"]
    best = brute_bisection(n, edges)
    S, E, gs = ground_states(enc.model)
    A = enc.info["penalty"]
    for s, e in zip(S[::3], E[::3]):
        cut = sum(w for i, j, w in edges if s[i] != s[j])
        assert e == pytest.approx(A * float(s.sum()) ** 2 + cut, abs=1e-9)
    for s in S[gs]:
        sol = enc.decode(s)
        assert sol.feasible and sol.answer["balance"] == n % 2
        assert sol.objective == pytest.approx(best, abs=1e-9)


@pytest.mark.parametrize("n, edges, bound", [(2, [(0, 1)], 0.25), (3, [(0, 1), (1, 2), (0, 2)], 0.25)])
def test_bisection_penalty_bound_is_tight(n, edges, bound):
    """K2 and K3: just above the bound the ground state is balanced, just below it is not."""
    assert encode_bisection(n, edges).info["penalty_bound"] == pytest.approx(bound)
    for A, balanced in [(1.04 * bound, True), (0.96 * bound, False)]:
        enc = encode_bisection(n, edges, penalty=A)
        assert enc.info["penalty_guaranteed"] is balanced
        S, E, gs = ground_states(enc.model)
        assert all(enc.decode(s).feasible is balanced for s in S[gs])


def test_bisection_bound_uses_median_rank_degree():
    star = [(0, j) for j in range(1, 10)]
    assert encode_bisection(10, star).info["penalty_bound"] == pytest.approx(0.25)  # Lucas: 10/8
    assert encode_bisection(10, [(0, 1)]).info["penalty_bound"] == 0.0
    enc = encode_bisection(10, [(0, 1, 4.0)])
    assert enc.info["penalty"] == pytest.approx(1.0) and enc.info["penalty_guaranteed"]


def test_bisection_example_file():
    enc = get_problem("bisection").from_file(PROBLEMS / "graph16.txt")
    spins, energy, _ = ground_state(enc.model)
    sol = enc.decode(spins)
    assert sol.feasible and sol.objective == 8 and energy == pytest.approx(8.0)
    assert sorted(map(len, sol.answer["sides"])) == [8, 8]


# ----------------------------------------------------------------------------- vertex cover / MIS
def brute_graph(n, pairs, kind):
    ok = []
    for k in range(n + 1):
        for c in itertools.combinations(range(n), k):
            a = set(c)
            if kind == "independent-set" and not any(i in a and j in a for i, j in pairs):
                ok.append(k)
            if kind == "vertex-cover" and all(i in a or j in a for i, j in pairs):
                ok.append(k)
    return max(ok) if kind == "independent-set" else min(ok)


@pytest.mark.parametrize("kind", ["vertex-cover", "independent-set"])
@pytest.mark.parametrize("seed", range(N_INSTANCES))
def test_graph_ground_states_are_optimal(kind, seed):
    rng = np.random.default_rng(200 + seed)
    n = int(rng.integers(2, 13))
    edges = random_graph(rng, n, float(rng.uniform(0.1, 0.8)), "int")
    edges += edges[: len(edges) // 3]  # parallel edges are merged, weights ignored
    pairs = sorted({(i, j) for i, j, _ in edges})
    encode = encode_vertex_cover if kind == "vertex-cover" else encode_independent_set
    enc = encode(n, edges)
    A = enc.info["penalty"]
    assert A > 1 and enc.info["penalty_guaranteed"]
    best = brute_graph(n, pairs, kind)
    S, E, gs = ground_states(enc.model)
    for s, e in zip(S[::5], E[::5]):
        x = s > 0
        size = int(x.sum())
        if kind == "vertex-cover":
            bad = sum(1 for i, j in pairs if not x[i] and not x[j])
            assert e == pytest.approx(A * bad + size, abs=1e-9)
        else:
            bad = sum(1 for i, j in pairs if x[i] and x[j])
            assert e == pytest.approx(A * bad - size, abs=1e-9)
    for s in S[gs]:
        sol = enc.decode(s)
        assert sol.feasible and sol.objective == best
        members = sol.answer["cover" if kind == "vertex-cover" else "set"]
        assert members == [int(i) for i in np.flatnonzero(s > 0)]


def test_graph_penalty_below_bound_breaks_feasibility():
    tri = [(0, 1), (1, 2), (0, 2)]
    enc = encode_independent_set(3, tri, penalty=0.9)
    assert not enc.info["penalty_guaranteed"]
    S, E, gs = ground_states(enc.model)
    assert not any(enc.decode(s).feasible for s in S[gs])
    enc = encode_vertex_cover(3, tri, penalty=0.9)
    S, E, gs = ground_states(enc.model)
    assert not any(enc.decode(s).feasible for s in S[gs])


@pytest.mark.parametrize("problem, best", [("vertex-cover", 9), ("independent-set", 7)])
def test_graph_example_file(problem, best):
    enc = get_problem(problem).from_file(PROBLEMS / "graph16.txt", penalty=1.5)
    assert enc.info["penalty"] == 1.5
    sol = enc.decode(ground_state(enc.model)[0])
    assert sol.feasible and sol.objective == best


# ----------------------------------------------------------------------------- SAT
def random_cnf(rng, n_vars, m, max_len):
    return [[int(v) * int(rng.choice([-1, 1])) for v in rng.integers(1, n_vars + 1, int(rng.integers(0, max_len + 1)))]
            for _ in range(m)]


def satisfied(clauses, assignment):
    return sum(1 for cl in clauses if any(assignment[abs(l) - 1] == (l > 0) for l in cl))


@pytest.mark.parametrize("seed", range(N_INSTANCES))
def test_maxsat_ground_states_are_optimal(seed):
    rng = np.random.default_rng(300 + seed)
    n_vars = int(rng.integers(2, 6))
    while True:
        clauses = random_cnf(rng, n_vars, int(rng.integers(2, 7)), 5 if seed % 2 else 3)
        weights = None if seed % 4 < 2 else [float(w) for w in rng.integers(1, 4, len(clauses))]
        enc = encode_sat(n_vars, clauses, weights=weights)
        if enc.model.n <= 16:
            break
    w = weights or [1.0] * len(clauses)
    S, E, gs = ground_states(enc.model)
    X = S[:, :n_vars] > 0
    best = -math.inf
    for xa in itertools.product([False, True], repeat=n_vars):  # independent MAX-SAT brute force
        val = sum(wc for cl, wc in zip(clauses, w) if any(xa[abs(l) - 1] == (l > 0) for l in cl))
        best = max(best, val)
        violated = sum(w) - val
        rows = np.all(X == np.array(xa), axis=1)
        assert E[rows].min() == pytest.approx(violated, abs=1e-9)  # min over auxiliaries
        assert np.all(E[rows] >= violated - 1e-9)
    assert E.min() == pytest.approx(sum(w) - best, abs=1e-9)
    for s in S[gs]:
        sol = enc.decode(s)
        assert sol.objective == pytest.approx(best)
        assert sol.answer["satisfied"] == satisfied(clauses, sol.answer["assignment"])
        assert len(sol.answer["assignment"]) == n_vars
        assert sol.feasible == (sol.answer["satisfied"] == len(clauses))


def test_long_clause_uses_chain():
    enc = encode_sat(6, [[1, -2, 3, -4, 5, 6]])
    assert enc.info["auxiliary_spins"] == 2 * 6 - 5
    S, E, gs = ground_states(enc.model)
    assert E.min() == pytest.approx(0.0)
    X = S[:, :6] > 0
    rows = np.all(X == np.array([False, True, False, True, False, False]), axis=1)  # the one violating assignment
    assert E[rows].min() == pytest.approx(1.0)


CNF = "c example\nc more\np cnf 3 3\n1 -2 0\n2 3\n -1 0\n-3 0\n"


def write(tmp_path, text, name="f.cnf"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_dimacs_reader(tmp_path):
    n, clauses = read_dimacs(write(tmp_path, CNF))
    assert n == 3 and clauses == [[1, -2], [2, 3, -1], [-3]]
    assert read_dimacs(write(tmp_path, "\ufeff" + CNF.replace("\n", "\r\n")))[1] == clauses  # BOM, CRLF
    # SATLIB trailer: '%' then '0' -- stop at %
    n, clauses = read_dimacs(write(tmp_path, CNF + "%\n0\n\n"))
    assert clauses == [[1, -2], [2, 3, -1], [-3]]


@pytest.mark.parametrize("text, match", [
    ("1 2 0\n", "line 1: missing 'p cnf"),
    ("c only comments\n", "missing 'p cnf"),
    ("p cnf 3\n1 0\n", "line 1: header"),
    ("p dnf 3 1\n1 0\n", "line 1: header"),
    ("p cnf x 1\n1 0\n", "line 1: header"),
    ("p cnf 3 2\n1 2 0\n1 4 0\n", "line 3: literal 4"),
    ("p cnf 3 2\n1 2 0\n1 b 0\n", "line 3: expected an integer"),
    ("p cnf 3 2\n1 2 0\n1.5 0\n", "line 3: expected an integer"),
    ("p cnf 3 3\n1 2 0\n1 3 0\n", "declares 3 clauses but the file has 2"),
    ("p cnf 3 1\n1 2 0\n1 3 0\n", "declares 1 clauses but the file has 2"),
    ("p cnf 3 1\np cnf 3 1\n1 0\n", "line 2: second 'p' header"),
    ("\n\n", "empty file"),
])
def test_dimacs_errors(tmp_path, text, match):
    with pytest.raises(CimsimError, match=match):
        read_dimacs(write(tmp_path, text))


def test_uf20_example():
    n, clauses = read_dimacs(PROBLEMS / "uf20-01.cnf")
    assert n == 20 and len(clauses) == 91
    enc = get_problem("sat").from_file(PROBLEMS / "uf20-01.cnf")
    assert enc.model.n == 111 and enc.info["auxiliary_spins"] == 91


# ----------------------------------------------------------------------------- options and CLI
@pytest.mark.parametrize("problem, path", [
    ("partition", "partition15.txt"), ("bisection", "graph16.txt"), ("sat", "uf20-01.cnf"),
    ("vertex-cover", "graph16.txt"), ("independent-set", "graph16.txt"), ("knapsack", "knapsack12.txt"),
    ("coloring", "graph16.txt"), ("clique", "graph16.txt"),
])
def test_unknown_options_refused(problem, path):
    with pytest.raises(CimsimError, match="unknown option"):
        get_problem(problem).from_file(PROBLEMS / path, bogus=1)


@pytest.mark.parametrize("problem", ["bisection", "vertex-cover", "independent-set", "clique"])
@pytest.mark.parametrize("bad", [0, -1, "abc", float("nan")])
def test_bad_penalty_refused(problem, bad):
    with pytest.raises(CimsimError, match="penalty"):
        get_problem(problem).from_file(PROBLEMS / "graph16.txt", penalty=bad)


def run_cli(args):
    from click.testing import CliRunner

    from cimsim.cli import cli
    return CliRunner().invoke(cli, args, catch_exceptions=False)


def test_cli_sat_json_recount():
    res = run_cli(["solve", "sat", str(PROBLEMS / "uf20-01.cnf"), "--solver", "cim", "--seed", "3", "--json", "-"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert len(d["assignment"]) == 20 and d["clauses"] == 91
    _, clauses = read_dimacs(PROBLEMS / "uf20-01.cnf")
    recount = satisfied(clauses, d["assignment"])
    assert d["satisfied"] == recount == d["objective"]
    assert d["feasible"] == (recount == 91)
    assert d["energy"] >= 91 - recount - 1e-9  # H >= violated clauses for any auxiliaries


def test_cli_bad_input_one_line(tmp_path):
    from cimsim.cli import main

    bad = write(tmp_path, "p cnf 2 1\n1 3 0\n")
    with pytest.raises(SystemExit) as exc:
        main(["solve", "sat", str(bad)])
    assert exc.value.code == 2


# ----------------------------------------------------------------------------- knapsack, colouring, clique
from cimsim.encoders.clique import encode_clique  # noqa: E402
from cimsim.encoders.coloring import encode_coloring  # noqa: E402
from cimsim.encoders.knapsack import encode_knapsack, read_knapsack, slack_coefficients  # noqa: E402


def test_slack_represents_exactly_0_to_W():
    for W in range(0, 130):
        co = slack_coefficients(W)
        sums = {sum(c for c, b in zip(co, bits) if b) for bits in itertools.product([0, 1], repeat=len(co))}
        assert sums == set(range(W + 1))
        assert len(co) == (W.bit_length() if W else 0)


@pytest.mark.parametrize("seed", range(N_INSTANCES))
def test_knapsack_ground_states_are_optimal(seed):
    rng = np.random.default_rng(400 + seed)
    while True:
        n = int(rng.integers(1, 8))
        w = [int(x) for x in rng.integers(0 if seed % 5 == 0 else 1, 9, n)]
        v = [float(x) for x in (rng.integers(1, 20, n) if seed % 2 else np.round(rng.uniform(0.1, 5, n), 3))]
        cap = int(rng.integers(0, max(1, sum(w)) + 1))
        enc = encode_knapsack(w, v, cap)
        if enc.model.n <= 14:
            break
    best = max(sum(v[a] for a in c) for k in range(n + 1) for c in itertools.combinations(range(n), k)
               if sum(w[a] for a in c) <= cap)
    S, E, gs = ground_states(enc.model)
    X = S[:, :n] > 0
    for xa in itertools.product([False, True], repeat=n):
        rows = np.all(X == np.array(xa), axis=1)
        load = sum(wa for wa, b in zip(w, xa) if b)
        value = sum(va for va, b in zip(v, xa) if b)
        if load <= cap:
            assert E[rows].min() == pytest.approx(-value, abs=1e-9)  # slack absorbs the spare capacity
        else:
            assert E[rows].min() > -best + 1e-9
    for s in S[gs]:
        sol = enc.decode(s)
        assert sol.feasible and sol.objective == pytest.approx(best)
        assert sol.answer["weight"] == sum(w[a] for a in sol.answer["items"]) <= cap


def test_knapsack_reader(tmp_path):
    f = write(tmp_path, "# items\n3 10\n4 5.5\n6 3\n5 4 # last\n", "k.txt")
    assert read_knapsack(f) == ([4, 6, 5], [5.5, 3.0, 4.0], 10)
    for text, match in [("3 10\n1 1\n2 2\n", "declares 3 items"), ("x 10\n1 1\n", "line 1: header"),
                        ("1 10\n1.5 2\n", "line 2: weight"), ("1 10\n1 nan\n", "line 2: value"),
                        ("1 10\n1 -2\n", "line 2: value"), ("1 10\n1 2 3\n", "line 2: expected")]:
        with pytest.raises(CimsimError, match=match):
            read_knapsack(write(tmp_path, text, "k.txt"))
    with pytest.raises(CimsimError, match="capacity"):
        encode_knapsack([1], [1.0], -1)


@pytest.mark.parametrize("seed", range(N_INSTANCES))
def test_coloring_ground_states_minimise_conflicts(seed):
    rng = np.random.default_rng(500 + seed)
    k = int(rng.integers(2, 4))
    n = int(rng.integers(2, 16 // k + 1 if k == 2 else 6))
    edges = random_graph(rng, n, float(rng.uniform(0.3, 1.0)))
    pairs = [(i, j) for i, j, _ in edges]
    enc = encode_coloring(n, edges, k)
    A = enc.info["penalty"]
    assert enc.info["penalty_guaranteed"]
    best = min(sum(c[i] == c[j] for i, j in pairs) for c in itertools.product(range(k), repeat=n))
    S, E, gs = ground_states(enc.model)
    for s, e in zip(S[::7], E[::7]):
        X = (s > 0).reshape(n, k)
        expect = A * sum((1 - int(r.sum())) ** 2 for r in X) + sum(int(np.sum(X[i] & X[j])) for i, j in pairs)
        assert e == pytest.approx(expect, abs=1e-9)
    assert E.min() == pytest.approx(best)
    for s in S[gs]:
        sol = enc.decode(s)
        colours = sol.answer["colors"]
        assert min(colours) >= 0 and sol.answer["invalid_vertices"] == 0
        assert sol.objective == best == sum(colours[i] == colours[j] for i, j in pairs)
        assert sol.feasible == (best == 0)


def test_coloring_lucas_penalty_can_leave_vertices_uncoloured():
    """K4 with 3 colours and A = B (Lucas): an uncoloured vertex ties with a conflict; our default does not."""
    k4 = list(itertools.combinations(range(4), 2))
    enc = encode_coloring(4, k4, 3, penalty=1.0)
    S, E, gs = ground_states(enc.model)
    assert any(enc.decode(s).answer["invalid_vertices"] for s in S[gs])
    enc = encode_coloring(4, k4, 3)
    S, E, gs = ground_states(enc.model)
    assert all(enc.decode(s).answer["invalid_vertices"] == 0 for s in S[gs])


@pytest.mark.parametrize("seed", range(N_INSTANCES))
def test_clique_ground_states_are_optimal(seed):
    rng = np.random.default_rng(600 + seed)
    n = int(rng.integers(2, 11))
    edges = random_graph(rng, n, float(rng.uniform(0.2, 0.9)))
    adj = {(i, j) for i, j, _ in edges}
    subsets = [c for k in range(n + 1) for c in itertools.combinations(range(n), k)]
    inside = {c: sum((i, j) in adj for i, j in itertools.combinations(c, 2)) for c in subsets}
    # maximum clique
    enc = encode_clique(n, edges)
    best = max(len(c) for c in subsets if inside[c] == len(c) * (len(c) - 1) // 2)
    S, E, gs = ground_states(enc.model)
    assert E.min() == pytest.approx(-best)
    for s in S[gs]:
        sol = enc.decode(s)
        assert sol.feasible and sol.objective == best
    # clique of size K: densest K-subgraph
    K = int(rng.integers(1, n + 1))
    enc = encode_clique(n, edges, K)
    assert enc.info["penalty_guaranteed"]
    best_k = max(inside[c] for c in subsets if len(c) == K)
    S, E, gs = ground_states(enc.model)
    assert E.min() == pytest.approx(K * (K - 1) / 2 - best_k)
    for s in S[gs]:
        sol = enc.decode(s)
        assert sol.answer["size"] == K and sol.objective == best_k
        assert sol.feasible == (best_k == K * (K - 1) // 2)


def test_knapsack_and_clique_example_files():
    enc = get_problem("knapsack").from_file(PROBLEMS / "knapsack12.txt")
    assert enc.model.n == 12 + 8
    sol = enc.decode(ground_state(enc.model)[0])
    assert sol.feasible and sol.objective == 441 and sol.answer["items"] == [0, 2, 3, 7, 8, 9, 10]
    enc = get_problem("clique").from_file(PROBLEMS / "graph16.txt")
    sol = enc.decode(ground_state(enc.model)[0])
    assert sol.feasible and sol.objective == 3
    with pytest.raises(CimsimError, match="colors=K"):
        get_problem("coloring").from_file(PROBLEMS / "graph16.txt")
    with pytest.raises(CimsimError, match="exceeds"):
        get_problem("clique").from_file(PROBLEMS / "graph16.txt", size=17)


def test_wcnf_reader_and_partial_maxsat(tmp_path):
    from cimsim.encoders.sat import read_cnf

    f = read_cnf(write(tmp_path, "c w\np wcnf 3 4 100\n100 1 2 0\n100 -1\n 0\n3 -2 0 2.5 3 0\n"))
    assert f.clauses == [[1, 2], [-1], [-2], [3]] and f.weights == [100, 100, 3, 2.5] and f.top == 100
    assert f.hard == [True, True, False, False]
    with pytest.raises(CimsimError, match="line 3: expected a positive clause weight"):
        read_cnf(write(tmp_path, "p wcnf 3 1\n1 2 0\nx 1 0\n"))
    with pytest.raises(CimsimError, match="line 1: header"):
        read_cnf(write(tmp_path, "p wcnf 3 1 5 6\n1 2 0\n"))
    enc = get_problem("sat").from_file(write(tmp_path, "p wcnf 3 4 100\n100 1 2 0\n100 -1 0\n3 -2 0\n2.5 3 0\n"))
    assert enc.info["hard_weight"] == 6.5  # soft total + 1, not TOP
    sol = enc.decode(ground_state(enc.model)[0])
    # hard: (x1 or x2), not x1  =>  x2 true, so soft -x2 (3) is lost; x3 true (2.5)
    assert sol.answer["assignment"] == [False, True, True] and sol.objective == 2.5 and sol.feasible


@pytest.mark.parametrize("seed", range(12))
def test_partial_maxsat_ground_states(seed):
    rng = np.random.default_rng(700 + seed)
    n_vars = int(rng.integers(2, 6))
    clauses = random_cnf(rng, n_vars, int(rng.integers(3, 8)), 3)
    clauses = [c for c in clauses if c] or [[1]]
    hard = [bool(rng.random() < 0.4) for _ in clauses]
    weights = [float(rng.integers(1, 5)) for _ in clauses]
    enc = encode_sat(n_vars, clauses, weights=weights, hard=hard)
    if enc.model.n > 16:
        pytest.skip("instance too large to enumerate")
    results = []
    for xa in itertools.product([False, True], repeat=n_vars):
        sat = [any(xa[abs(l) - 1] == (l > 0) for l in cl) for cl in clauses]
        results.append((all(s for s, h in zip(sat, hard) if h), sum(w for s, h, w in zip(sat, hard, weights) if s and not h)))
    feasible_exists = any(ok for ok, _ in results)
    best = max(v for ok, v in results if ok == feasible_exists)
    S, E, gs = ground_states(enc.model)
    for s in S[gs]:
        sol = enc.decode(s)
        assert sol.feasible == feasible_exists
        if feasible_exists:
            assert sol.objective == pytest.approx(best)


def test_dimacs_graph_format(tmp_path):
    from cimsim.encoders._graph import read_graph

    gset = read_graph(PROBLEMS / "graph16.txt")
    lines = ["c graph16 in DIMACS form", f"p edge 16 {len(gset[1])}"] + [f"e {int(i) + 1} {int(j) + 1}" for i, j, _ in gset[1]]
    f = write(tmp_path, "\n".join(lines) + "\n", "g.col")
    n, edges = read_graph(f)
    assert n == 16 and np.array_equal(edges, gset[1])
    assert get_problem("independent-set").from_file(f).decode(np.ones(16)).answer["edges_inside"] == len(edges)
    sol = get_problem("vertex-cover").from_file(f)
    assert sol.model.n == 16
    for text, match in [("p edge 3\ne 1 2\n", "line 1: header"), ("e 1 2\n", "line 1: edge before"),
                        ("p edge 3 1\ne 1 4\n", "line 2: vertex out of range"), ("p edge 3 1\ne 1 x\n", "line 2: expected"),
                        ("p edge 3 1\nx 1 2\n", "line 2: expected a 'c'"), ("p edge 3 3\ne 1 2\n", "declares 3 edges"),
                        ("p edge 3 1\ne 2 2\n", "line 2: self-loop")]:
        with pytest.raises(CimsimError, match=match):
            read_graph(write(tmp_path, text, "g.col"))


# ----------------------------------------------------------------------------- TSP
from cimsim.encoders.tsp import encode_tsp, read_tsp  # noqa: E402


@pytest.mark.parametrize("seed", range(N_INSTANCES))
def test_tsp_ground_states_are_shortest_tours(seed):
    rng = np.random.default_rng(800 + seed)
    pin = seed % 4 != 0
    n = int(rng.integers(3, 6)) if pin else 4
    if seed % 3 == 0:
        W = rng.integers(0, 10, (n, n)).astype(float)  # asymmetric, zeros allowed
    else:
        xy = rng.uniform(0, 10, (n, 2))
        W = np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(-1))
    np.fill_diagonal(W, 0)
    enc = encode_tsp(W, pin=pin)
    assert enc.model.n == ((n - 1) ** 2 if pin else n * n) and enc.info["penalty_guaranteed"]

    def length(t):
        return sum(W[t[k], t[(k + 1) % n]] for k in range(n))

    best = min(length((0, *p)) for p in itertools.permutations(range(1, n)))
    S, E, gs = ground_states(enc.model)
    assert E.min() == pytest.approx(best, abs=1e-9)
    for s in S[gs]:
        sol = enc.decode(s)
        assert sol.feasible and sorted(sol.answer["tour"]) == list(range(n))
        assert sol.objective == pytest.approx(best) == pytest.approx(length(sol.answer["tour"]))
    # every valid tour has energy = its length
    for perm in itertools.permutations(range(1, n) if pin else range(n)):
        tour = (0, *perm) if pin else perm
        X = -np.ones((n, n), dtype=np.int8)
        X[list(tour), np.arange(n)] = 1
        s = X[1:, 1:].ravel() if pin else X.ravel()
        assert enc.model.energy(s) == pytest.approx(length(tour), abs=1e-9)
        assert enc.decode(s).answer["tour"] == list(tour)


def test_tsp_files(tmp_path):
    W = read_tsp(write(tmp_path, "# 4 cities\n4\n0 1 2 3\n1 0 4 5\n2 4 0 6\n3 5 6 0\n", "t.txt"))
    assert W.shape == (4, 4) and W[2, 3] == 6
    tsplib = ("NAME: sq\nTYPE: TSP\nDIMENSION: 4\nEDGE_WEIGHT_TYPE: EUC_2D\nNODE_COORD_SECTION\n"
              "1 0 0\n2 0 3\n3 4 3\n4 4 0\nEOF\n")
    W = read_tsp(write(tmp_path, tsplib, "sq.tsp"))
    assert W[0, 2] == 5 and W[0, 1] == 3
    enc = get_problem("tsp").from_file(tmp_path / "sq.tsp")
    sol = enc.decode(ground_state(enc.model)[0])
    assert sol.feasible and sol.objective == 14
    for text, match in [("3\n0 1\n1 0 1\n1 1 0\n", "line 2: expected 3"), ("2 3\n", "line 1: first line"),
                        ("3\n0 1 x\n1 0 1\n1 1 0\n", "line 2: expected a number"),
                        ("3\n0 1 -1\n1 0 1\n1 1 0\n", "non-negative"), ("3\n0 1 1\n", "N = 3 but the file has 1 matrix rows")]:
        with pytest.raises(CimsimError, match=match):
            read_tsp(write(tmp_path, text, "t.txt"))
    with pytest.raises(CimsimError, match="at least 3"):
        encode_tsp([[0, 1], [1, 0]])


# ----------------------------------------------------------------------------- 1-flip local minima
def one_flip_minima(model) -> np.ndarray:
    """Spin vectors (by enumeration) from which no single flip lowers the energy: what polish returns."""
    S = all_spin_vectors(model.n)
    E = model.energies(S)
    idx = np.arange(len(S))
    keep = np.ones(len(S), dtype=bool)
    n = model.n
    for i in range(n):  # all_spin_vectors is itertools.product order: flipping spin i moves 2**(n-1-i) rows
        step = 1 << (n - 1 - i)
        partner = np.where(S[:, i] < 0, idx + step, idx - step)
        keep &= E <= E[partner] + 1e-9
    return S[keep]


@pytest.mark.parametrize("seed", range(8))
def test_one_flip_minima_are_feasible(seed):
    """With the automatic penalties every 1-flip local minimum is feasible (so a polished output always is)
    for bisection, vertex cover, independent set and maximum clique, is a valid colouring for colouring,
    and has K vertices for the K-clique encoding."""
    rng = np.random.default_rng(900 + seed)
    n = int(rng.integers(4, 11))
    edges = random_graph(rng, n, float(rng.uniform(0.2, 0.8)), ("unit", "int", "normal")[seed % 3])
    pos = [(i, j, abs(w)) for i, j, w in edges]
    encs = [encode_bisection(n, edges), encode_vertex_cover(n, pos), encode_independent_set(n, pos),
            encode_clique(n, pos)]
    for enc in encs:
        for s in one_flip_minima(enc.model):
            assert enc.decode(s).feasible, enc.problem
    if n <= 7:  # colouring: every vertex gets exactly one colour (conflicts need 2-flip recolourings)
        enc = encode_coloring(n, pos, 2)
        assert all(enc.decode(s).answer["invalid_vertices"] == 0 for s in one_flip_minima(enc.model))
    K = int(rng.integers(1, n + 1))
    enc = encode_clique(n, pos, K)
    assert all(enc.decode(s).answer["size"] == K for s in one_flip_minima(enc.model))


@pytest.mark.parametrize("seed", range(6))
def test_repair_options(seed):
    rng = np.random.default_rng(1000 + seed)
    n = 7
    w = [int(x) for x in rng.integers(1, 9, n)]
    v = [float(x) for x in rng.integers(1, 20, n)]
    cap = int(sum(w) // 2)
    plain = encode_knapsack(w, v, cap)
    enc = encode_knapsack(w, v, cap, repair=True)
    for s in rng.choice([-1, 1], (40, enc.model.n)):
        raw, sol = plain.decode(s), enc.decode(s)
        assert sol.feasible and sol.answer["weight"] == sum(w[a] for a in sol.answer["items"]) <= cap
        assert sol.answer["raw"]["items"] == raw.answer["items"]
        if raw.feasible:
            assert sol.objective >= raw.objective
        left = [a for a in range(n) if a not in sol.answer["items"]]
        assert all(sol.answer["weight"] + w[a] > cap for a in left)  # maximal
    W = rng.uniform(1, 10, (6, 6))
    for pin in (True, False):
        plain = encode_tsp(W, pin=pin)
        enc = encode_tsp(W, pin=pin, repair=True)
        for s in rng.choice([-1, 1], (40, enc.model.n)):
            sol = enc.decode(s)
            assert sol.feasible and sorted(sol.answer["tour"]) == list(range(6))
            assert sol.objective == pytest.approx(sum(W[t, u] for t, u in zip(sol.answer["tour"], np.roll(sol.answer["tour"], -1))))
            if plain.decode(s).feasible:
                assert sol.answer["tour"] == plain.decode(s).answer["tour"] and not sol.answer["repaired"]
    with pytest.raises(CimsimError, match="repair"):
        encode_tsp(W, repair="yes")
