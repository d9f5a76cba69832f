"""Solver driver, exact, spectral, cim, polish."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from cimsim import CimsimError, IsingModel, solve
from cimsim.solvers import SOLVERS, polish
from cimsim.solvers.exact import ground_state

from .conftest import all_spin_vectors, plain_energy, random_couplings


def plain_ground_energy(J, h, offset):
    n = J.shape[0]
    return min(plain_energy(J, h, offset, s) for s in all_spin_vectors(n))


@pytest.mark.parametrize("seed", range(6))
def test_exact_matches_plain_enumeration(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 11))
    J = random_couplings(rng, n)
    h = rng.standard_normal(n) if seed % 2 else np.zeros(n)
    m = IsingModel.from_couplings(J, h, 0.5)
    s, e, count = ground_state(m)
    assert e == pytest.approx(plain_ground_energy(J, h, 0.5), abs=1e-9)
    assert m.energy(s) == pytest.approx(e)
    r = solve(m, "exact")
    assert r.energy == pytest.approx(e, abs=1e-9)
    # degeneracy of a generic instance: 1 with fields, 2 (s and -s) without
    assert r.extra["degeneracy"] == (1 if seed % 2 else 2)


def test_exact_counts_degenerate_ground_states():
    # ferromagnetic triangle plus an isolated spin: ground states are all-up/all-down x free spin = 4
    J = np.zeros((4, 4))
    for i, j in [(0, 1), (1, 2), (0, 2)]:
        J[i, j] = J[j, i] = 1.0
    r = solve(IsingModel.from_couplings(J), "exact")
    assert r.energy == pytest.approx(-3.0)
    assert r.extra["degeneracy"] == 4


def test_exact_refuses_large_n():
    with pytest.raises(CimsimError, match="N <= 24"):
        solve(IsingModel.from_couplings(np.zeros((25, 25))), "exact")


@pytest.mark.parametrize("solver", ["cim", "spectral"])
@pytest.mark.parametrize("sparse", [False, True])
def test_solvers_find_ground_state_of_small_instances(solver, sparse):
    hits = 0
    for seed in range(5):
        rng = np.random.default_rng(100 + seed)
        n = 12
        J = random_couplings(rng, n, density=0.6)
        h = 0.3 * rng.standard_normal(n)
        m = IsingModel.from_couplings(sp.csr_matrix(J) if sparse else J, h)
        r = solve(m, solver, seed=seed)
        assert r.spins.dtype == np.int8 and set(np.unique(r.spins)) <= {-1, 1}
        assert r.energy == pytest.approx(plain_energy(J, h, 0.0, r.spins), abs=1e-9)
        assert r.energies.shape[0] == r.replicas * r.batches
        assert r.energy == pytest.approx(r.energies.min())
        hits += r.energy <= ground_state(m)[1] + 1e-9
    assert hits >= 4


def test_polish_reaches_one_flip_local_minimum(rng):
    for sparse in (False, True):
        n = 40
        J = random_couplings(rng, n, density=0.3)
        h = rng.standard_normal(n)
        m = IsingModel.from_couplings(sp.csr_matrix(J) if sparse else J, h)
        S0 = rng.choice([-1, 1], size=(8, n)).astype(np.int8)
        S = polish(m, S0)
        E0, E = m.energies(S0), m.energies(S)
        assert np.all(E <= E0 + 1e-12)
        phi = m.local_fields(S)
        assert np.all(2 * S * phi >= -1e-9)  # no single flip lowers the energy


def test_time_limit_runs_several_batches():
    rng = np.random.default_rng(0)
    m = IsingModel.from_couplings(random_couplings(rng, 30))
    r = solve(m, "cim", replicas=2, steps=20, time_limit=0.3, seed=1)
    assert r.batches > 1
    # the budget is used: the last batch ends at most one polish-and-scoring tail (the driver's reserve,
    # a 30-spin product here) before the limit
    assert r.time_s >= 0.2
    assert r.energies.shape == (2 * r.batches,)


def test_same_seed_same_result():
    rng = np.random.default_rng(3)
    m = IsingModel.from_couplings(random_couplings(rng, 40))
    a = solve(m, "cim", seed=7, replicas=4, steps=200)
    b = solve(m, "cim", seed=7, replicas=4, steps=200)
    np.testing.assert_array_equal(a.spins, b.spins)
    np.testing.assert_array_equal(a.energies, b.energies)


@pytest.mark.parametrize(
    "kwargs, msg",
    [
        (dict(replicas=0), "replicas"),
        (dict(steps=-5), "steps"),
        (dict(time_limit=float("nan")), "time limit"),
        (dict(dt=0.0), "dt"),
        (dict(noise=float("inf")), "noise"),
        (dict(bogus=1), "cim: unknown parameter bogus"),
    ],
)
def test_bad_parameters_refused(kwargs, msg):
    m = IsingModel.from_couplings(random_couplings(np.random.default_rng(0), 5))
    with pytest.raises(CimsimError, match=msg):
        solve(m, "cim", **kwargs)


def test_unknown_solver_and_backend():
    m = IsingModel.from_couplings(np.zeros((3, 3)))
    with pytest.raises(CimsimError, match="unknown solver"):
        solve(m, "nope")
    with pytest.raises(CimsimError, match="unknown backend"):
        solve(m, "cim", backend="tpu")


def test_result_json_round_trip():
    import json

    m = IsingModel.from_couplings(random_couplings(np.random.default_rng(1), 6))
    r = solve(m, "exact")
    d = json.loads(r.to_json())
    assert d["solver"] == "exact" and d["n_spins"] == 6
    assert m.energy(np.array(d["spins"])) == pytest.approx(d["energy"])


def test_every_registered_solver_documented():
    assert all(isinstance(v, str) and v for v in SOLVERS.values())


def test_time_limit_fits_batches_to_budget_without_explicit_steps():
    rng = np.random.default_rng(5)
    m = IsingModel.from_couplings(random_couplings(rng, 30))
    r = solve(m, "cim", replicas=2, time_limit=3.0, seed=1)  # room for a first call that compiles
    steps = r.extra["batch_steps"]
    from cimsim.solvers import get_solver

    default = get_solver("cim").defaults(m)["steps"]
    assert r.settings["steps_fitted_to_budget"] is True
    assert steps[0] == steps[1] == max(10, default // 60)  # two equal probes, the first may compile
    assert all(0 < s <= default for s in steps)
    assert r.batches == len(steps) and r.energies.shape == (2 * len(steps),)
    explicit = solve(m, "cim", replicas=2, steps=50, time_limit=0.2, seed=1)
    # every batch runs the given steps, except that the deadline may end the last one early
    assert set(explicit.extra["batch_steps"][:-1]) <= {50} and 0 < explicit.extra["batch_steps"][-1] <= 50
    assert explicit.settings["steps_fitted_to_budget"] is False
