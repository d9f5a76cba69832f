"""Simulated annealing solver (cimsim.solvers.sa) and its kernels."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from cimsim import CimsimError, IsingModel, solve
from cimsim.solvers import sa
from cimsim.solvers.exact import ground_state

from .conftest import plain_energy, random_couplings


def _model(seed: int, n: int, *, fields: bool, density: float = 1.0, storage: str = "dense") -> IsingModel:
    rng = np.random.default_rng(seed)
    J = random_couplings(rng, n, density)
    h = 0.5 * rng.standard_normal(n) if fields else None
    return IsingModel.from_couplings(J, h, 0.25, storage=storage)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("storage", ["dense", "sparse"])
def test_sa_finds_exact_ground_state_with_fields(seed, storage):
    m = _model(seed, 14, fields=True, density=0.6, storage=storage)
    assert m.is_sparse == (storage == "sparse")
    _, e0, _ = ground_state(m)
    r = solve(m, "sa", replicas=4, steps=300, seed=seed, polish_result=False)
    assert r.energy == pytest.approx(e0, abs=1e-9)
    # energies reported are those of the returned spins, recomputed independently
    assert plain_energy(m.dense_couplings(), m.h, m.offset, r.spins) == pytest.approx(r.energy, abs=1e-9)


@pytest.mark.parametrize("storage", ["dense", "sparse"])
def test_final_energies_match_spins(storage):
    m = _model(7, 40, fields=True, density=0.3, storage=storage)
    b = sa.run(m, replicas=3, steps=50, rng=np.random.default_rng(1), trace=True)
    np.testing.assert_allclose(b.extra["final_energies"], m.energies(b.spins), atol=1e-6)
    # the per-sweep trace ends at the final energy
    np.testing.assert_allclose(b.extra["energy_trace"][:, -1], m.energies(b.spins), atol=1e-4)


def test_dense_and_sparse_storage_agree_for_same_seed():
    # integer couplings: float32 dense fields are exact, so both kernels take identical decisions
    rng = np.random.default_rng(3)
    A = np.triu(rng.integers(-3, 4, size=(30, 30)).astype(float), 1)
    J = A + A.T
    h = rng.integers(-2, 3, size=30).astype(float)
    md = IsingModel.from_couplings(J, h, storage="dense")
    ms = IsingModel.from_couplings(J, h, storage="sparse")
    bd = sa.run(md, replicas=3, steps=40, rng=np.random.default_rng(9))
    bs = sa.run(ms, replicas=3, steps=40, rng=np.random.default_rng(9))
    np.testing.assert_array_equal(bd.spins, bs.spins)
    np.testing.assert_array_equal(bd.extra["accepted_flips"], bs.extra["accepted_flips"])


@pytest.mark.parametrize("storage", ["dense", "sparse"])
def test_huge_beta_never_goes_uphill(storage):
    m = _model(11, 60, fields=True, density=0.5, storage=storage)
    # from a local minimum (1-flip stable) nothing may change at essentially zero temperature
    start = solve(m, "sa", replicas=1, steps=5, seed=0).spins  # polished: a local minimum
    b = sa.run(m, replicas=2, steps=30, rng=np.random.default_rng(0), beta_min=1e9, beta_max=1e9, initial=start, trace=True)
    np.testing.assert_array_equal(b.spins, np.repeat(start[None, :], 2, axis=0))
    assert np.all(b.extra["accepted_flips"] == 0)
    # from random spins the energy trace only goes down
    b = sa.run(m, replicas=3, steps=30, rng=np.random.default_rng(1), beta_min=1e9, beta_max=1e9, trace=True)
    tr = b.extra["energy_trace"]
    assert np.all(np.diff(tr, axis=1) <= 1e-9)


def test_beta_range_and_schedule():
    m = _model(2, 20, fields=False)
    b0, b1 = sa.beta_range(m)
    assert 0 < b0 < b1
    betas = sa.beta_schedule(b0, b1, 5)
    assert betas[0] == pytest.approx(b0) and betas[-1] == pytest.approx(b1)
    np.testing.assert_allclose(betas[1:] / betas[:-1], (b1 / b0) ** 0.25)
    lin = sa.beta_schedule(1.0, 3.0, 3, "linear")
    np.testing.assert_allclose(lin, [1.0, 2.0, 3.0])
    # a +-1 graph: the cold end rejects the smallest lattice move dE = 2 with probability 99%
    J = -sp.random(50, 50, density=0.2, random_state=1, data_rvs=lambda k: np.ones(k))
    J = sp.triu(J, 1)
    g = IsingModel.from_couplings(J + J.T)
    assert sa.beta_range(g)[1] == pytest.approx(np.log(100.0) / 2.0)
    r = sa.run(m, replicas=1, steps=3, rng=np.random.default_rng(0), beta_max=0.5)
    assert r.settings["beta_max"] == 0.5 and r.settings["beta_min"] <= 0.5


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(beta_min=2.0, beta_max=1.0), "beta_min"),
        (dict(beta_min=-1.0), "beta_min"),
        (dict(beta_max=float("nan")), "beta_max"),
        (dict(schedule="cosine"), "schedule"),
        (dict(bogus=1), "unknown sa parameter"),
        (dict(initial=np.zeros(5)), "spins"),
        (dict(resync=0), "resync"),
    ],
)
def test_bad_parameters_raise(params, match):
    m = _model(0, 5, fields=False)
    with pytest.raises(CimsimError, match=match):
        solve(m, "sa", replicas=2, steps=3, seed=0, **params)
    with pytest.raises(CimsimError, match="steps"):
        solve(m, "sa", steps=0)
