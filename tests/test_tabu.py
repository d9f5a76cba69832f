"""Tabu search solver (cimsim.solvers.tabu) and its kernels."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from cimsim import CimsimError, IsingModel, solve
from cimsim.encoders import maxcut
from cimsim.solvers import tabu
from cimsim.solvers.exact import ground_state

from .conftest import plain_energy, random_couplings


def _model(seed: int, n: int, *, fields: bool, storage: str, integer: bool = False) -> IsingModel:
    rng = np.random.default_rng(seed)
    if integer:
        A = np.triu(rng.integers(-2, 3, size=(n, n)).astype(float) * (rng.random((n, n)) < 0.5), 1)
        J = A + A.T
        h = rng.integers(-1, 2, size=n).astype(float) if fields else None
    else:
        J = random_couplings(rng, n, 0.6)
        h = 0.5 * rng.standard_normal(n) if fields else None
    return IsingModel.from_couplings(J, h, 0.25, storage=storage)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("kind", ["dense", "sparse", "lattice"])
def test_tabu_finds_exact_ground_state(seed, kind):
    m = _model(seed, 16, fields=seed % 2 == 0, storage="dense" if kind == "dense" else "sparse",
               integer=kind == "lattice")
    _, e0, _ = ground_state(m)
    b = tabu.run(m, replicas=2, steps=3000, rng=np.random.default_rng(seed))
    assert b.settings["kernel"] == {"dense": "dense", "sparse": "csr", "lattice": "csr-lattice"}[kind]
    # every replica reports its best state and the energy of that state, recomputed independently
    E = np.array([plain_energy(m.dense_couplings(), m.h, m.offset, s) for s in b.spins])
    np.testing.assert_allclose(b.extra["best_energies"], E, atol=1e-9)
    assert E.min() == pytest.approx(e0, abs=1e-9)


def test_returns_its_best_state_never_worse_than_the_start():
    m = _model(5, 60, fields=True, storage="sparse")
    start = np.where(np.random.default_rng(0).random((3, 60)) < 0.5, -1, 1)
    b = tabu.run(m, replicas=3, steps=400, rng=np.random.default_rng(1), initial=start)
    assert np.all(m.energies(b.spins) <= m.energies(start) + 1e-12)
    # a random start of a 60-spin glass is far from optimal, so every replica must have improved on it
    assert np.all(m.energies(b.spins) < m.energies(start))


def test_dense_and_sparse_kernels_take_the_same_moves(monkeypatch):
    # integer couplings: the float fields of every kernel are exact, so every comparison agrees
    m_d = _model(3, 40, fields=True, storage="dense", integer=True)
    m_s = IsingModel.from_couplings(sp.csr_matrix(m_d.dense_couplings()), m_d.h, m_d.offset)
    runs = [tabu.run(m, replicas=2, steps=500, rng=np.random.default_rng(4)) for m in (m_d, m_s)]
    monkeypatch.setattr(tabu, "lattice_form", lambda model: None)  # the float64 CSR kernel on the same model
    runs.append(tabu.run(m_s, replicas=2, steps=500, rng=np.random.default_rng(4)))
    assert [r.settings["kernel"] for r in runs] == ["dense", "csr-lattice", "csr"]
    for r in runs[1:]:
        np.testing.assert_array_equal(runs[0].spins, r.spins)
        np.testing.assert_array_equal(runs[0].extra["steps_to_best"], r.extra["steps_to_best"])


def test_maxcut_optimum_of_a_small_graph_through_the_driver():
    # a 4 x 4 torus with +-1 weights: exact optimum by brute force, tabu through solve() with a budget
    rng = np.random.default_rng(2)
    edges = []
    for i in range(16):
        r, c = divmod(i, 4)
        for j in (r * 4 + (c + 1) % 4, ((r + 1) % 4) * 4 + c):
            edges.append((i, j, float(rng.choice([-1, 1]))))
    enc = maxcut.encode_maxcut(16, edges, storage="sparse")
    _, e0, _ = ground_state(enc.model)
    r = solve(enc.model, "tabu", time_limit=0.3, seed=0)
    assert r.energy == pytest.approx(e0)
    cut = sum(w for i, j, w in edges if r.spins[i] != r.spins[j])
    assert enc.decode(r.spins).objective == pytest.approx(cut)
    assert r.settings["steps_fitted_to_budget"] is True


@pytest.mark.parametrize("params, match", [
    ({"tenure": 0}, "tenure"),
    ({"tenure_rand": -1}, "tenure_rand"),
    ({"tenure": 30, "tenure_rand": 10}, "every spin would be tabu"),
    ({"stall": 0}, "stall"),
    ({"breakout_flips": -2}, "breakout_flips"),
    ({"tenure_rand": "abc"}, "tenure_rand must be a number"),
    ({"bogus": 1}, "tabu: unknown parameter bogus"),
])
def test_bad_parameters_raise(params, match):
    m = _model(0, 30, fields=False, storage="sparse")
    with pytest.raises(CimsimError, match=match):
        solve(m, "tabu", replicas=1, steps=10, seed=0, **params)


def test_cpu_only():
    m = _model(0, 30, fields=False, storage="sparse")
    with pytest.raises(CimsimError, match="CPU only"):
        tabu.run(m, replicas=1, steps=10, rng=np.random.default_rng(0), backend="gpu")
