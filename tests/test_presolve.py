"""Exact presolve (cimsim.presolve): eliminated spins never change the ground state."""
from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from cimsim import IsingModel, solve
from cimsim.presolve import reduce_model
from cimsim.solvers.exact import ground_state

from .conftest import plain_energy


def _sparse_model(seed: int, n: int, *, fields: bool, integer: bool) -> IsingModel:
    """A graph with leaves, chains and a small core: a random tree plus a few extra edges."""
    rng = np.random.default_rng(seed)
    G = nx.random_labeled_tree(n, seed=seed) if hasattr(nx, "random_labeled_tree") else nx.random_tree(n, seed=seed)
    for _ in range(n // 4):
        i, j = rng.choice(n, 2, replace=False)
        G.add_edge(int(i), int(j))
    J = np.zeros((n, n))
    for i, j in G.edges:
        w = float(rng.integers(-3, 4) or 1) if integer else float(rng.standard_normal())
        J[i, j] = J[j, i] = w
    h = np.zeros(n)
    if fields:
        pick = rng.random(n) < 0.4
        h[pick] = rng.integers(-2, 3, size=pick.sum()) if integer else rng.standard_normal(pick.sum())
    return IsingModel.from_couplings(sp.csr_matrix(J), h, 0.75, storage="sparse")


def _energies(model: IsingModel, S: np.ndarray) -> np.ndarray:
    """Energies of the rows of S from the dense matrix with plain array algebra (not cimsim's)."""
    J = model.dense_couplings()
    X = np.asarray(S, dtype=np.float64)
    return model.offset - X @ model.h - 0.5 * np.einsum("ri,ij,rj->r", X, J, X)


def _brute(model: IsingModel) -> float:
    S = np.array(list(itertools.product((-1, 1), repeat=model.n)), dtype=np.int8)
    return float(_energies(model, S).min())


@pytest.mark.parametrize("seed", range(12))
def test_reduced_model_has_the_same_ground_energy(seed):
    m = _sparse_model(seed, 14, fields=seed % 2 == 0, integer=seed % 3 != 0)
    red = reduce_model(m)
    assert red.removed > 0
    assert red.kept + red.removed == m.n
    e0 = _brute(m)
    if red.model is not None:
        s_red, e_red, _ = ground_state(red.model)
        assert e_red == pytest.approx(e0, abs=1e-9)
        full = red.expand(s_red)
    else:
        full = red.expand(np.zeros(0, dtype=np.int8))
        assert red.offset == pytest.approx(e0, abs=1e-9)
    assert plain_energy(m.dense_couplings(), m.h, m.offset, full) == pytest.approx(e0, abs=1e-9)


@pytest.mark.parametrize("seed", range(6))
def test_expansion_preserves_every_energy(seed):
    # H(expand(s')) == H'(s') for arbitrary reduced states, not just the optimum
    m = _sparse_model(100 + seed, 40, fields=True, integer=False)
    red = reduce_model(m)
    rng = np.random.default_rng(seed)
    S = np.where(rng.random((16, red.model.n)) < 0.5, -1, 1).astype(np.int8)
    full = red.expand(S)
    assert full.shape == (16, m.n)
    np.testing.assert_array_equal(full[:, red.keep], S)
    np.testing.assert_allclose(_energies(m, full), red.model.energies(S), atol=1e-9)


def test_integer_couplings_stay_integer_and_lattices_are_untouched():
    m = _sparse_model(7, 60, fields=False, integer=True)
    red = reduce_model(m)
    assert np.all(red.model.J.data == np.round(red.model.J.data))
    ring = nx.cycle_graph(10)  # a field-free ring: every spin has degree 2, so it collapses entirely
    J = nx.to_scipy_sparse_array(ring, format="csr").astype(float)
    assert reduce_model(IsingModel.from_couplings(sp.csr_matrix(J), None, storage="sparse")).model is None
    # a 2-D torus (degree 4 everywhere) and a dense model: nothing to remove
    torus = nx.to_scipy_sparse_array(nx.grid_2d_graph(4, 5, periodic=True), format="csr").astype(float)
    assert reduce_model(IsingModel.from_couplings(sp.csr_matrix(torus), None, storage="sparse")).removed == 0
    dense = IsingModel.from_couplings(np.ones((5, 5)) - np.eye(5), None, storage="dense")
    assert reduce_model(dense).removed == 0


def test_driver_solves_a_forest_exactly_without_running_the_solver():
    m = _sparse_model(3, 18, fields=True, integer=True)
    tree_only = IsingModel.from_couplings(
        sp.csr_matrix(nx.to_scipy_sparse_array(nx.random_tree(18, seed=1) if not hasattr(nx, "random_labeled_tree")
                                               else nx.random_labeled_tree(18, seed=1), format="csr").astype(float)),
        m.h, 0.0, storage="sparse")
    r = solve(tree_only, "sa", seed=0)
    assert r.settings["presolve"]["reduced_n"] == 0 and r.steps == 0
    assert r.energies.shape == (r.replicas,)
    assert r.energy == pytest.approx(_brute(tree_only), abs=1e-9)


def test_driver_presolve_is_on_for_sa_and_answers_the_original_model():
    m = _sparse_model(5, 16, fields=True, integer=True)
    e0 = _brute(m)
    r = solve(m, "sa", replicas=4, steps=500, seed=1)
    assert r.settings["presolve"]["removed"] > 0
    assert r.spins.shape == (m.n,)
    assert r.energy == pytest.approx(e0, abs=1e-9)
    assert plain_energy(m.dense_couplings(), m.h, m.offset, r.spins) == pytest.approx(r.energy, abs=1e-12)
    off = solve(m, "sa", replicas=4, steps=500, seed=1, presolve=False)
    assert "presolve" not in off.settings
    # an explicit initial state refers to the original spins: presolve steps aside
    init = solve(m, "sa", replicas=1, steps=5, seed=0, initial=np.ones(m.n))
    assert "presolve" not in init.settings
