"""File formats: every writer reads back to the same model / data; the QUBO format is exact and strict."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp

from cimsim import CimsimError, IsingModel
from cimsim.encoders import get_problem
from cimsim.encoders.qubo import parse_qubo, read_qubo, write_qubo
from cimsim.formats import load_model, read_cnf, read_gset, save_model, write_cnf, write_gset

from .conftest import all_spin_vectors, plain_energy, random_couplings


def _model(rng, n=8, sparse=False, fields=True, offset=0.75):
    J = random_couplings(rng, n, density=0.5)
    h = rng.standard_normal(n) if fields else None
    return IsingModel.from_couplings(sp.csr_matrix(J) if sparse else J, h, offset if fields else 0.0)


@pytest.mark.parametrize("suffix", [".npz", ".mtx", ".qubo"])
@pytest.mark.parametrize("sparse", [False, True])
def test_save_load_round_trip_energies(tmp_path, rng, suffix, sparse):
    m = _model(rng, sparse=sparse, fields=suffix != ".mtx")
    path = save_model(tmp_path / f"m{suffix}", m)
    back = load_model(path)
    S = all_spin_vectors(m.n)
    Jd = m.dense_couplings()
    expect = np.array([plain_energy(Jd, m.h, m.offset, s) for s in S])
    tol = 0 if suffix == ".npz" else 1e-9
    np.testing.assert_allclose(back.energies(S), expect, rtol=0, atol=tol + 1e-12)
    if suffix == ".npz":
        assert back.is_sparse == m.is_sparse


def test_npz_keeps_string_labels(tmp_path, rng):
    m = _model(rng, n=4)
    m = IsingModel(m.J, m.h, m.offset, ("a", "b", "c", "d"))
    assert load_model(save_model(tmp_path / "m.npz", m)).labels == ("a", "b", "c", "d")


def test_mtx_refuses_fields(tmp_path, rng):
    with pytest.raises(CimsimError, match="use .npz"):
        save_model(tmp_path / "m.mtx", _model(rng))
    with pytest.raises(CimsimError, match="does not exist"):
        save_model(tmp_path / "nodir" / "m.npz", _model(rng))
    with pytest.raises(CimsimError, match="cannot write"):
        save_model(tmp_path / "m.txt", _model(rng))


def test_qubo_text_format_values_by_hand():
    text = """# triangle: f = -2(x0+x1+x2) + 2(x0x1 + x0x2 + x1x2) + 5
    qubo 3 5
    0 0 -2
    1 1 -1   # split over two lines: they add up
    1 1 -1
    2 2 -2
    0 1 2
    2 0 2
    1 2 2
    """
    q = parse_qubo(text)
    m = q.model()
    for x in itertools.product([0, 1], repeat=3):
        f = -2 * sum(x) + 2 * (x[0] * x[1] + x[0] * x[2] + x[1] * x[2]) + 5
        assert q.value(np.array(x)) == pytest.approx(f)
        assert m.energy(2 * np.array(x) - 1) == pytest.approx(f)


@pytest.mark.parametrize("fmt", ["cimsim", "qbsolv"])
def test_write_qubo_reads_back_f_equals_h(tmp_path, rng, fmt):
    m = _model(rng, n=9, offset=0.0 if fmt == "qbsolv" else 1.5)
    path = write_qubo(tmp_path / "m.qubo", m, fmt=fmt)
    q = read_qubo(path)
    X = (all_spin_vectors(9) + 1) // 2
    np.testing.assert_allclose(q.value(X), m.energies(2 * X - 1), atol=1e-9)


@pytest.mark.parametrize("text, msg", [
    ("", "empty"),
    ("0 1 2\n", "header must be"),
    ("qubo 0\n", "at least 1"),
    ("qubo 2\n0 2 1\n", "out of range"),
    ("qubo 2\n0 1\n", "expected 'i j value'"),
    ("qubo 2\n0 1 nan\n", "finite"),
    ("qubo 2\n0 x 1\n", "integer"),
    ("p qubo 0 2 1 1\n0 1 1\n", "diagonal"),
    ("p qubo 0 2 1 1\n0 0 1\n", "declares 1 diagonal and 1 coupler"),
])
def test_qubo_errors_are_one_line_with_the_line_number(tmp_path, text, msg):
    p = tmp_path / "bad.qubo"
    p.write_text(text)
    with pytest.raises(CimsimError, match=msg) as err:
        read_qubo(p)
    assert "\n" not in str(err.value)


def test_solve_ising_qubo_file_reports_x(tmp_path):
    """`cimsim solve ising f.qubo` minimises f: a 3-variable QUBO with a known minimiser."""
    p = tmp_path / "f.qubo"
    p.write_text("qubo 3 1\n0 0 -1\n1 1 -1\n2 2 2\n0 1 3\n")  # min f = 0 at x = (1,0,0) or (0,1,0)
    enc = get_problem("ising").from_file(p)
    from cimsim.solvers import solve

    r = solve(enc.model, "exact")
    sol = enc.decode(r.spins)
    assert sol.objective == pytest.approx(0.0)
    assert sol.answer["x"] in ([1, 0, 0], [0, 1, 0])


def test_gset_round_trip(tmp_path):
    edges = [(0, 1, 1), (1, 2, -1), (0, 3, 2.5)]
    p = write_gset(tmp_path / "g.txt", 5, edges, comment="test graph")
    n, E = read_gset(p)
    assert n == 5
    np.testing.assert_array_equal(E, np.array(edges, dtype=float))
    assert p.read_text().splitlines()[1] == "5 3"


def test_gset_from_networkx_and_matrix(tmp_path):
    nx = pytest.importorskip("networkx")
    G = nx.Graph()
    G.add_edge("u", "v", weight=3)
    G.add_edge("v", "w")
    n, E = read_gset(write_gset(tmp_path / "g.txt", G))
    assert n == 3 and sorted(map(tuple, E.tolist())) == [(0.0, 1.0, 3.0), (1.0, 2.0, 1.0)]
    W = nx.to_scipy_sparse_array(G, weight="weight")
    n2, E2 = read_gset(write_gset(tmp_path / "w.txt", W))
    assert n2 == 3 and sorted(map(tuple, E2.tolist())) == sorted(map(tuple, E.tolist()))


def test_cnf_round_trip(tmp_path):
    clauses = [[1, -2, 3], [-1, 2], [3]]
    c = read_cnf(write_cnf(tmp_path / "f.cnf", 3, clauses, comment="tiny"))
    assert (c.n_vars, c.clauses, c.weights) == (3, clauses, None)
    w = read_cnf(write_cnf(tmp_path / "f.wcnf", 3, clauses, weights=[1, 2.5, 10], top=10))
    assert w.clauses == clauses and w.weights == [1, 2.5, 10] and w.top == 10


def test_writer_errors(tmp_path):
    with pytest.raises(CimsimError):
        write_gset(tmp_path / "g.txt", 2, [(0, 2)])
    with pytest.raises(CimsimError):
        write_gset(tmp_path / "g.txt", 2, [(1, 1)])
    with pytest.raises(CimsimError):
        write_cnf(tmp_path / "f.cnf", 2, [[1, 3]])
    with pytest.raises(CimsimError):
        write_cnf(tmp_path / "f.cnf", 2, [[]])


# ------------------------------------------------------------------ QUBO dictionaries (dimod / neal / qbsolv form)
def _random_qubo_dict(rng, labels, density=0.7):
    """A {(u, v): q} dict with linear terms, both orders of some pairs and one pair given twice."""
    Q = {}
    for u in labels:
        if rng.random() < 0.8:
            Q[(u, u)] = float(rng.integers(-5, 6))
    for a, b in itertools.combinations(labels, 2):
        if rng.random() < density:
            Q[(a, b) if rng.random() < 0.5 else (b, a)] = float(rng.normal())
    a, b = labels[0], labels[1]
    Q[(b, a)] = Q.get((b, a), 0.0) + 1.25  # (a, b) and (b, a) both add
    return Q


@pytest.mark.parametrize("seed", range(4))
def test_qubo_dict_matches_dimod_on_every_state(seed):
    import dimod  # a test dependency
    from cimsim.qubo import qubo_to_ising

    rng = np.random.default_rng(seed)
    labels = ["a", 7, ("x", 1), "b", 2.5, frozenset({1}), "c"]
    Q = _random_qubo_dict(rng, labels)
    offset = float(rng.normal())
    m = qubo_to_ising(Q, None, offset)
    bqm = dimod.BinaryQuadraticModel.from_qubo(Q, offset)
    assert m.labels == tuple(bqm.variables)  # order of first appearance, as dimod
    S = all_spin_vectors(m.n)
    X = (S + 1) // 2
    expect = bqm.energies((X, list(m.labels)))
    np.testing.assert_allclose(m.energies(S), expect, rtol=0, atol=1e-9)
    # and by hand, from the dictionary itself
    pos = {v: k for k, v in enumerate(m.labels)}
    for x, e in zip(X[::9], m.energies(S[::9])):
        f = sum(q * x[pos[u]] * x[pos[v]] for (u, v), q in Q.items()) + offset
        assert e == pytest.approx(f, abs=1e-9)
    # and dimod's own Ising form of the same BQM (signs flipped, offset kept) agrees with cimsim's model
    h, J, off = bqm.to_ising()
    for s, e in zip(S[::5], m.energies(S[::5])):
        spin = dict(zip(m.labels, s))
        assert e == pytest.approx(sum(h[v] * spin[v] for v in h) + sum(w * spin[u] * spin[v] for (u, v), w in J.items())
                                  + off, abs=1e-9)


def test_qubo_dict_linear_dict_and_integer_labels():
    from cimsim.qubo import qubo_to_ising

    m = qubo_to_ising({(2, 0): 3.0, (0, 0): -1.0}, {5: 2.0, 0: -1.0}, 4.0)
    assert m.labels == (2, 0, 5)
    for x in ((all_spin_vectors(3) + 1) // 2):
        x2, x0, x5 = x
        assert m.energy(2 * x - 1) == pytest.approx(3 * x2 * x0 - x0 + 2 * x5 - x0 + 4)


@pytest.mark.parametrize("Q, c, msg", [
    ({}, None, "no variables"),
    ({(0, 1, 2): 1.0}, None, "pairs"),
    ({0: 1.0}, None, "pairs"),
    ({(0, 1): "2"}, None, "real number"),
    ({(0, 1): float("nan")}, None, "finite"),
    ({(0, 1): True}, None, "real number"),
    ({(0, 1): 1.0}, [1.0, 2.0], "dictionary"),
])
def test_qubo_dict_errors_are_one_line(Q, c, msg):
    from cimsim.qubo import qubo_to_ising

    with pytest.raises(CimsimError, match=msg) as err:
        qubo_to_ising(Q, c)
    assert "\n" not in str(err.value)


def test_solve_qubo_dict_exact_answer_with_labels():
    import cimsim

    rng = np.random.default_rng(11)
    labels = ["p", "q", ("r", 0), 3, "s", "t", "u", "v"]
    Q = _random_qubo_dict(rng, labels)
    pos = {v: k for k, v in enumerate(dict.fromkeys(v for key in Q for v in key))}

    def f(x):
        return sum(q * x[pos[u]] * x[pos[v]] for (u, v), q in Q.items()) + 0.5

    best = min(f(x) for x in itertools.product((0, 1), repeat=len(pos)))
    for r in (cimsim.solve("qubo", Q, "sa", options={"offset": 0.5}, seed=3), cimsim.solve("qubo", Q, options={"offset": 0.5})):
        assert r.objective == pytest.approx(best, abs=1e-9)
        sample = r.answer["sample"]
        assert set(sample) == set(labels)  # every label round-trips into the answer, with its own type
        assert f([sample[v] for v in pos]) == pytest.approx(best, abs=1e-9)
        assert r.answer["x"] == [sample[v] for v in pos]
        assert r.energy == pytest.approx(f(r.answer["x"]), abs=1e-9)
    r = cimsim.solve(Q, "exact")
    assert r.objective == pytest.approx(best - 0.5, abs=1e-9) and r.extra["problem"] == "qubo"
    assert f([r.answer["sample"][v] for v in pos]) - 0.5 == pytest.approx(r.objective, abs=1e-9)


def test_cli_solve_qubo_file(tmp_path):
    import json
    import os
    import shutil
    import subprocess
    import sys

    p = tmp_path / "t.qubo"
    p.write_text("qubo 3 1\n0 0 -1\n1 1 -1\n2 2 -1\n0 1 3\n1 2 3\n")  # f = 1 - x0 - x1 - x2 + 3 x0 x1 + 3 x1 x2
    exe = shutil.which("cimsim", path=os.path.dirname(sys.executable)) or "cimsim"
    out = subprocess.run([exe, "solve", "qubo", str(p), "--json", "-"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout)
    assert d["x"] == [1, 0, 1] and d["objective"] == pytest.approx(-1.0)


# ------------------------------------------------------------------ MatrixMarket storage
def _mtx(path, header, size, entries):
    path.write_text(f"%%MatrixMarket matrix {header}\n{size}\n" + "".join(f"{e}\n" for e in entries))
    return path


@pytest.mark.parametrize("entries", [["1 2 1.5", "2 3 -2", "1 1 0.5"], ["2 1 1.5", "3 2 -2", "1 1 0.5"]])
def test_mtx_general_one_triangle_lists_each_pair_once(tmp_path, entries):
    p = _mtx(tmp_path / "u.mtx", "coordinate real general", f"3 3 {len(entries)}", entries)
    m = load_model(p)
    J = np.array([[0.5, 1.5, 0.0], [1.5, 0.0, -2.0], [0.0, -2.0, 0.0]])
    for s in all_spin_vectors(3):
        # the diagonal J_11 = 0.5 is the constant -1/2 J_11 s_1^2
        assert m.energy(s) == pytest.approx(plain_energy(J, np.zeros(3), -0.25, s), abs=1e-12)
    # the same couplings as a 'symmetric' file: the same model
    sym = load_model(_mtx(tmp_path / "s.mtx", "coordinate real symmetric", "3 3 3", ["2 1 1.5", "3 2 -2", "1 1 0.5"]))
    np.testing.assert_allclose(sym.energies(all_spin_vectors(3)), m.energies(all_spin_vectors(3)), atol=1e-12)


def test_mtx_dense_array_upper_triangle(tmp_path):
    # column-major 'array' storage of [[0, 2], [0, 0]]
    m = load_model(_mtx(tmp_path / "a.mtx", "array real general", "2 2", ["0", "0", "2", "0"]))
    assert m.energy(np.array([1, 1])) == pytest.approx(-2.0) and m.energy(np.array([1, -1])) == pytest.approx(2.0)


def test_mtx_asymmetric_general_is_refused_naming_file_and_fix(tmp_path):
    p = _mtx(tmp_path / "bad.mtx", "coordinate real general", "2 2 2", ["1 2 1", "2 1 3"])
    with pytest.raises(CimsimError, match="bad.mtx: the coupling matrix is not symmetric .*'symmetric'.*i < j") as err:
        load_model(p)
    assert "\n" not in str(err.value)
