"""bench/scale.py's million-spin instance generators and auto's size limit for matching (issue 20.5)."""
from __future__ import annotations

import numpy as np
import pytest

import cimsim.solvers as solvers
from bench.scale import maxcut_model, regular3, torus_pm
from cimsim.solvers import auto_solver


def test_regular3_is_simple_and_cubic():
    n, i, j, w = regular3(2000, seed=3)
    assert i.size == 3 * n // 2 and np.all(w == 1.0)
    assert np.all(i != j)  # no self-loop
    keys = np.minimum(i, j) * n + np.maximum(i, j)
    assert np.unique(keys).size == keys.size  # no repeated edge
    assert np.all(np.bincount(np.concatenate([i, j]), minlength=n) == 3)


def test_torus_is_the_periodic_lattice_with_pm1_weights():
    n, i, j, w = torus_pm(5, seed=0)
    assert n == 25 and i.size == 50 and set(np.unique(w)) <= {-1.0, 1.0}
    deg = np.bincount(np.concatenate([i, j]), minlength=n)
    assert np.all(deg == 4)
    assert (0, 4) in {(min(a, b), max(a, b)) for a, b in zip(i, j)}  # the wrap-around bond of row 0


@pytest.mark.parametrize("gen", [lambda: torus_pm(6, 2), lambda: regular3(40, 1)])
def test_maxcut_model_cut_is_the_weight_of_cut_edges(gen):
    n, i, j, w = gen()
    model, total = maxcut_model(n, i, j, w)
    rng = np.random.default_rng(0)
    for _ in range(5):
        s = rng.choice([-1, 1], size=n).astype(np.int8)
        cut = float(w[s[i] != s[j]].sum())
        assert (total - model.energy(s)) / 2 == pytest.approx(cut)


def test_auto_gives_matching_only_lattices_up_to_its_size_limit(monkeypatch):
    small, _ = maxcut_model(*torus_pm(9, 0))
    big, _ = maxcut_model(*torus_pm(12, 0))
    monkeypatch.setattr(solvers, "MATCHING_AUTO_MAX_N", 100)
    monkeypatch.setattr(solvers, "CFC_AUTO_MAX_N", 100)  # and above cfc's size limit
    assert auto_solver(small) == "matching"
    assert auto_solver(big) == "sa"  # a lattice above both limits anneals


def test_coupling_sigma_and_top_eigenpair_are_computed_once_per_model():
    """Every batch of a dynamics asks for sigma_J and lambda_max: the model keeps them, the answers are the
    formula's, and the random stream a caller passes is consumed the same with or without the cache."""
    import scipy.sparse as sp

    from cimsim import IsingModel
    from cimsim.instances import sk_model
    from cimsim.solvers.adiabatic import top_eigenpair

    m = sk_model(120, 4)
    J = np.asarray(m.J)
    want = np.sqrt((J * J).sum() / (120 * 119))
    assert m.coupling_sigma() == pytest.approx(want, rel=1e-12) and m.coupling_sigma() == m.coupling_sigma()
    ms = IsingModel.from_couplings(sp.csr_matrix(J))
    assert ms.coupling_sigma() == pytest.approx(want, rel=1e-12)
    r1, r2 = np.random.default_rng(5), np.random.default_rng(5)
    lam1, v1 = top_eigenpair(m, r1)
    lam2, v2 = top_eigenpair(m, r2)  # from the cache
    w = np.linalg.eigvalsh(J / m.coupling_scale())
    assert lam1 == lam2 == pytest.approx(w[-1], rel=1e-8) and np.array_equal(v1, v2)
    v2[:] = 0  # the caller's copy, not the cache
    assert np.array_equal(top_eigenpair(m, np.random.default_rng(5))[1], v1)
    assert r1.random() == r2.random()  # both calls drew v0 from the stream


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_block_matching_bound_is_below_the_torus_ground_state(seed):
    """The certified bound used for torus1000's cut: exact matchings of open blocks plus -|J| per bond
    between blocks never exceed the ground-state energy (here proven by the matching solver on the whole
    12 x 12 torus, or else its best state, which is above the ground state), and blocks that keep more
    bonds inside give a bound at least as tight as the trivial -sum|J|."""
    from bench.scale import block_bound
    from cimsim import solve

    n, i, j, w = torus_pm(12, seed)
    model, _ = maxcut_model(n, i, j, w)
    r = solve(model, "matching", seed=0, replicas=8)
    for block in (3, 4, 6, 12):
        lower, between = block_bound(model, 12, block)
        assert lower <= r.energy + 1e-9
        assert lower >= -np.abs(w).sum() - 1e-9
        assert between == (12 // block) * 2 * 12 if block < 12 else between == 24
    if r.extra.get("proven_optimal"):
        assert block_bound(model, 12, 12)[0] <= r.energy


def test_block_lambda_max_matches_the_full_spectrum_on_dense_sk():
    """lambda_max by Lanczos (dense N >= 2000, cimsim.solvers.eigen) is the top eigenvalue of J / scale to
    well within what a pump threshold needs, consumes the random stream as top_eigenpair does, and is kept."""
    from cimsim.instances import sk_model
    from cimsim.solvers.adiabatic import lambda_max, top_eigenpair
    from cimsim.solvers.eigen import LANCZOS_MIN_N as LAMBDA_BLOCK_MIN_N

    m = sk_model(LAMBDA_BLOCK_MIN_N, 7)
    want = np.linalg.eigvalsh(np.asarray(m.J) / m.coupling_scale())[-1]
    r1, r2 = np.random.default_rng(3), np.random.default_rng(3)
    lam = lambda_max(m, r1)
    assert lam == pytest.approx(want, rel=1e-5)
    assert lambda_max(m, np.random.default_rng(0)) == lam  # kept by the model
    top_eigenpair(sk_model(LAMBDA_BLOCK_MIN_N, 7), r2)  # on a fresh copy: the same single draw of v0
    assert r1.random() == r2.random()
