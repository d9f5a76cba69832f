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
    assert auto_solver(small) == "matching"
    assert auto_solver(big) == "sa"
