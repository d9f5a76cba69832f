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
