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
    b = sa.run(m, replicas=3, steps=50, rng=np.random.default_rng(1), record=True)
    np.testing.assert_allclose(b.extra["final_energies"], m.energies(b.spins), atol=1e-6)
    # the per-sweep trace (one row per sweep) ends at the final energy
    assert b.extra["trace_energy"].shape == (50, 3) and b.extra["trace_beta"].shape == (50,)
    np.testing.assert_allclose(b.extra["trace_energy"][-1], m.energies(b.spins), atol=1e-4)


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
    b = sa.run(m, replicas=2, steps=30, rng=np.random.default_rng(0), beta_min=1e9, beta_max=1e9, initial=start, record=True)
    np.testing.assert_array_equal(b.spins, np.repeat(start[None, :], 2, axis=0))
    assert np.all(b.extra["accepted_flips"] == 0)
    # from random spins the energy trace only goes down
    b = sa.run(m, replicas=3, steps=30, rng=np.random.default_rng(1), beta_min=1e9, beta_max=1e9, record=True)
    tr = b.extra["trace_energy"]
    assert np.all(np.diff(tr, axis=0) <= 1e-9)


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
        (dict(beta_schedule="cosine"), "beta_schedule"),
        (dict(schedule="linear"), "unknown parameter schedule"),
        (dict(bogus=1), "sa: unknown parameter bogus"),
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


def _lattice_model(seed: int, n: int, step: float, density: float = 0.4) -> IsingModel:
    """Sparse model whose couplings and fields are integer multiples of ``step`` (some rows empty)."""
    rng = np.random.default_rng(seed)
    A = np.triu(rng.integers(-3, 4, size=(n, n)) * (rng.random((n, n)) < density), 1).astype(float)
    A[:, :2] = 0.0
    A[:2, :] = 0.0  # spins 0 and 1 have no couplings: empty CSR rows
    h = rng.integers(-2, 3, size=n).astype(float) * step
    return IsingModel.from_couplings((A + A.T) * step, h, 1.5, storage="sparse")


def test_lattice_form_detects_the_step_and_largest_field():
    m = _lattice_model(0, 25, 0.25)
    wq, hq, g, dmax = sa.lattice_form(m)
    assert g == 0.25
    np.testing.assert_array_equal(wq * g, m.J.data)
    np.testing.assert_array_equal(hq * g, m.h)
    D = m.dense_couplings()
    assert dmax == int(np.max(np.abs(m.h) + np.abs(D).sum(axis=1)) / g)
    assert sa.run(m, replicas=1, steps=2, rng=np.random.default_rng(0)).settings["kernel"] == "csr-lattice"
    # continuous couplings, dense storage: the float kernels
    cont = _model(1, 20, fields=True, density=0.5, storage="sparse")
    assert sa.lattice_form(cont) is None
    assert sa.run(cont, replicas=1, steps=2, rng=np.random.default_rng(0)).settings["kernel"] == "csr"
    assert sa.lattice_form(_model(1, 20, fields=False, storage="dense")) is None


def test_lattice_kernel_takes_the_float_kernels_decisions():
    # same seeds, schedule and start: the table lookup accepts exactly the moves exp() accepts
    from cimsim.kernels.sa import anneal_csr, anneal_csr_lattice

    m = _lattice_model(4, 60, 0.5)
    wq, hq, g, dmax = sa.lattice_form(m)
    rng = np.random.default_rng(2)
    S = np.where(rng.random((3, m.n)) < 0.5, -1, 1).astype(np.int8)
    betas = sa.beta_schedule(*sa.beta_range(m), 200)
    seeds = rng.integers(1, 2**62, size=3).astype(np.uint64)
    E = np.asarray(m.energies(S), dtype=np.float64)
    S1, E1, S2, E2 = S.copy(), E.copy(), S.copy(), E.copy()
    tr1, tr2 = np.empty((3, 200)), np.empty((3, 200))
    f1 = anneal_csr(m.J.indptr, m.J.indices, m.J.data.astype(np.float64), m.h.astype(np.float64), S1, E1, betas, seeds, tr1)
    f2 = anneal_csr_lattice(m.J.indptr, m.J.indices, wq, hq, g, dmax, S2, E2, betas, seeds, tr2)
    np.testing.assert_array_equal(S1, S2)
    np.testing.assert_array_equal(f1, f2)
    np.testing.assert_array_equal(tr1, tr2)
    np.testing.assert_allclose(E2, m.energies(S2), atol=1e-9)
    assert f2.min() > 0


@pytest.mark.parametrize("seed", range(3))
def test_lattice_kernel_finds_exact_ground_state(seed):
    m = _lattice_model(10 + seed, 16, 1.0, density=0.5)
    _, e0, _ = ground_state(m)
    r = solve(m, "sa", replicas=8, steps=4000, seed=seed, polish_result=False)
    assert r.settings["kernel"] == "csr-lattice"
    assert r.energy == pytest.approx(e0, abs=1e-9)
    assert plain_energy(m.dense_couplings(), m.h, m.offset, r.spins) == pytest.approx(r.energy, abs=1e-9)


def test_time_limit_grows_anneals_past_the_default_length():
    # BUDGET_BATCHES: with a budget and no explicit steps, annealing batches may exceed the default
    m = _lattice_model(5, 200, 1.0, density=0.05)
    default_T = sa.defaults(m)["steps"]
    r = solve(m, "sa", seed=0, time_limit=1.5)
    assert r.settings["steps_fitted_to_budget"]
    assert max(r.extra["batch_steps"]) > default_T
    assert r.energy == pytest.approx(plain_energy(m.dense_couplings(), m.h, m.offset, r.spins), abs=1e-9)
