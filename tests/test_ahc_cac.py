"""AHC and CAC solvers: hand-checked steps, exact ground states, energy bookkeeping, bad input."""
from __future__ import annotations

import numpy as np
import pytest

from cimsim.errors import CimsimError
from cimsim.model import IsingModel
from cimsim.solvers import ahc, cac, solve
from cimsim.solvers.exact import ground_state

from .conftest import plain_energy

J3 = np.array([[0.0, 1.0, -2.0], [1.0, 0.0, 0.5], [-2.0, 0.5, 0.0]])
X3 = np.array([0.1, -0.2, 0.05])
E3 = np.array([1.0, 2.0, 0.5])


def _h3(s: np.ndarray) -> float:
    return plain_energy(J3, np.zeros(3), 0.0, s)


def _sign(x: np.ndarray) -> np.ndarray:
    return np.where(x >= 0, 1, -1)


def _model3(storage: str) -> IsingModel:
    return IsingModel.from_couplings(J3, storage=storage)


# ---------------------------------------------------------------------- one step by hand
@pytest.mark.parametrize("storage", ["dense", "sparse"])
def test_cac_steps_by_hand(storage):
    dt, p, mu, beta, alpha, rho, delta, gamma = 0.1, 0.3, 0.9, 0.4, 1.1, 0.7, 2.0, 0.5
    unit = (1.0 + 2.0 + 0.5) / 3.0  # mean |J_ij| over the non-zero couplings
    x0 = np.array([-0.002, 0.192, -0.003])  # a start whose readout gets worse than its record
    x, e = x0.copy(), E3.copy()
    s = _sign(x)
    h_opt = _h3(s)
    xi, tau_a = 0.0, alpha
    taus = []
    for _ in range(4):
        y = np.array([sum(J3[i, j] * x[j] for j in range(3)) for i in range(3)])
        x_new = x + dt * ((p - 1) * x - mu * x**3 + beta * e * y)
        e = np.minimum(e * np.exp(-dt * xi * (x**2 - tau_a)), cac.E_MAX)
        x = x_new
        s = _sign(x)
        H = _h3(s)
        h_opt = min(h_opt, H)
        xi += gamma * dt
        tau_a = alpha + rho * np.tanh(delta * (H - h_opt) / unit)
        taus.append(tau_a)
    assert taus[0] == alpha and taus[-1] > alpha + 0.5  # the tanh branch is exercised
    st = cac.integrate(_model3(storage), x0, E3, 4, dt=dt, p=p, mu=mu, coupling=beta, alpha=alpha, rho=rho,
                       delta=delta, gamma=gamma, tau=100.0)
    np.testing.assert_allclose(st.x[0], x, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(st.e[0], e, rtol=1e-13)
    assert st.xi[0] == pytest.approx(xi)
    assert st.tau_a[0] == pytest.approx(tau_a, rel=1e-12)
    assert st.energy[0] == pytest.approx(_h3(s))
    assert st.best_energy[0] == pytest.approx(h_opt)
    assert not np.allclose(st.e[0], E3)  # xi > 0 from step 2 on: the e update is exercised


def test_cac_xi_ramp_and_reset():
    # ferromagnet started in its ground state: H_opt never improves, so xi ramps and resets every tau
    J = np.ones((4, 4)) - np.eye(4)
    m = IsingModel.from_couplings(J, storage="dense")
    x0, e0 = np.full(4, 0.7), np.ones(4)
    kw = dict(dt=0.1, gamma=0.2, tau=0.3)  # tau = 3 steps
    xis = [cac.integrate(m, x0, e0, k, **kw).xi[0] for k in range(1, 8)]
    g = 0.2 * 0.1
    np.testing.assert_allclose(xis, [g, 2 * g, 0.0, g, 2 * g, 0.0, g], atol=1e-15)
    st = cac.integrate(m, x0, e0, 5, **kw)
    assert st.t_c[0] == 3 and st.steps_to_best[0] == 0


@pytest.mark.parametrize("storage", ["dense", "sparse"])
def test_ahc_two_steps_by_hand(storage):
    dt, p, mu, beta, eps, a = 0.1, 0.3, 0.9, 0.6, 0.4, 0.8
    x, e = X3.copy(), E3.copy()
    for _ in range(2):
        y = np.array([sum(J3[i, j] * x[j] for j in range(3)) for i in range(3)])
        x_new = x + dt * ((p - 1) * x - mu * x**3 + eps * e * y)
        e = np.minimum(e * np.exp(-dt * beta * (x**2 - a)), ahc.E_MAX)
        x = x_new
    st = ahc.integrate(_model3(storage), X3, E3, 2, dt=dt, p=p, mu=mu, xi=beta, coupling=eps, alpha=a)
    np.testing.assert_allclose(st.x[0], x, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(st.e[0], e, rtol=1e-13)
    assert st.tau_a[0] == a and st.xi[0] == beta


def test_error_variables_clip_at_e_max():
    J = np.array([[0.0, 1.0], [1.0, 0.0]])
    m = IsingModel.from_couplings(J)
    # decaying x far below the target sqrt(a): e grows by exp(dt beta a) per step and must clip
    st = ahc.integrate(m, np.array([1e-6, 1e-6]), np.array([30.0, 30.0]), 5, xi=5.0, alpha=2.0, p=0.0, coupling=1e-3)
    assert np.all(st.e <= ahc.E_MAX) and np.any(st.e == ahc.E_MAX)


def test_dense_and_csr_trajectories_agree():
    rng = np.random.default_rng(3)
    A = rng.standard_normal((10, 10))
    J = (A + A.T) / np.sqrt(20)
    np.fill_diagonal(J, 0)
    x0 = rng.uniform(-0.01, 0.01, (2, 10))
    e0 = np.ones((2, 10))
    for mod in (cac, ahc):
        d = mod.integrate(IsingModel.from_couplings(J, storage="dense"), x0, e0, 60)
        s = mod.integrate(IsingModel.from_couplings(J, storage="sparse"), x0, e0, 60)
        np.testing.assert_allclose(d.x, s.x, rtol=1e-9, atol=1e-12)
        np.testing.assert_array_equal(d.best_spins, s.best_spins)


# ---------------------------------------------------------------------- exact ground states
def _random_model(n: int, seed: int, storage: str, fields: bool) -> IsingModel:
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, n))
    J = (A + A.T) / np.sqrt(2 * n)
    np.fill_diagonal(J, 0)
    J[rng.random((n, n)) < 0.3] = 0.0
    J = np.triu(J, 1)
    J = J + J.T
    h = 0.3 * rng.standard_normal(n) if fields else None
    return IsingModel.from_couplings(J, h, offset=0.25, storage=storage)


@pytest.mark.parametrize("name", ["cac", "ahc"])
@pytest.mark.parametrize("storage", ["dense", "sparse"])
def test_finds_exact_ground_state(name, storage):
    for k, (n, fields) in enumerate([(10, False), (12, True), (14, False)]):
        m = _random_model(n, 100 + k, storage, fields)
        _, e0, _ = ground_state(m)
        r = solve(m, name, seed=k, replicas=4, steps=3000, polish_result=False)
        assert r.energy == pytest.approx(e0, abs=1e-9), (name, storage, n)
        assert r.energy == pytest.approx(float(m.energies(r.spins[None, :])[0]), abs=1e-12)
        assert r.energy == pytest.approx(plain_energy(m.dense_couplings(), m.h, m.offset, r.spins), abs=1e-9)


@pytest.mark.parametrize("mod", [cac, ahc])
@pytest.mark.parametrize("fields", [False, True])
def test_tracked_best_energy_matches_recomputed(mod, fields):
    m = _random_model(30, 7, "dense", fields)
    b = mod.run(m, replicas=3, steps=400, rng=np.random.default_rng(0))
    assert b.spins.shape == (3, 30)
    recomputed = m.energies(b.spins)
    st_best = np.asarray(b.extra["best_energies"])
    np.testing.assert_allclose(recomputed, st_best, atol=1e-9)
    # every returned state is at least as good as its replica's final readout would be by construction
    assert np.all(np.isfinite(recomputed))


def test_target_stops_early():
    m = _random_model(12, 5, "sparse", False)
    _, e0, _ = ground_state(m)
    b = cac.run(m, replicas=2, steps=20000, rng=np.random.default_rng(1), target=e0)
    assert max(b.extra["steps_taken"]) < 20000
    np.testing.assert_allclose(m.energies(b.spins), e0, atol=1e-9)


# ---------------------------------------------------------------------- bad input
@pytest.mark.parametrize("name", ["cac", "ahc"])
@pytest.mark.parametrize(
    "kwargs",
    [
        {"dt": 0.0},
        {"dt": -0.1},
        {"dt": float("nan")},
        {"p": float("nan")},
        {"mu": float("inf")},
        {"steps": 0},
        {"steps": -5},
        {"replicas": 0},
        {"e_max": 0.0},
        {"init_scale": -1.0},
        {"x0": 1e-3},
        {"bogus": 1.0},
    ],
)
def test_impossible_parameters_rejected_before_work(name, kwargs, monkeypatch):
    def boom(*a, **k):  # pragma: no cover - must not be reached
        raise AssertionError("dynamics started before validation")

    monkeypatch.setattr(cac, "simulate", boom)
    monkeypatch.setattr(ahc, "simulate", boom)
    m = _random_model(6, 0, "dense", False)
    with pytest.raises(CimsimError):
        solve(m, name, seed=0, **kwargs)


def test_solver_specific_bad_values():
    m = _random_model(6, 0, "dense", False)
    for bad in ({"gamma": -1.0}, {"tau": 0.0}, {"coupling": float("nan")}, {"rho": -1}, {"beta": 1.0}):
        with pytest.raises(CimsimError):
            solve(m, "cac", seed=0, **bad)
    for bad in ({"coupling": 0.0}, {"xi": -0.5}, {"alpha": float("inf")}, {"eps": 1.0}):
        with pytest.raises(CimsimError):
            solve(m, "ahc", seed=0, **bad)


def test_blas_path_matches_csr_and_small_kernel(monkeypatch):
    # N >= BLAS_MIN_N dense models take the BLAS-product path; it must integrate the same equations
    n = cac.BLAS_MIN_N + 4
    rng = np.random.default_rng(11)
    A = rng.standard_normal((n, n))
    J = (A + A.T) / np.sqrt(2 * n)
    np.fill_diagonal(J, 0)
    x0 = rng.uniform(-0.01, 0.01, (2, n))
    e0 = np.ones((2, n))
    blas = cac.integrate(IsingModel.from_couplings(J, storage="dense"), x0, e0, 40)
    csr = cac.integrate(IsingModel.from_couplings(J, storage="sparse"), x0, e0, 40)
    monkeypatch.setattr(cac, "BLAS_MIN_N", 10**9)
    small = cac.integrate(IsingModel.from_couplings(J, storage="dense"), x0, e0, 40)
    # the CSR and small-dense kernels are float64 throughout: the same numbers
    np.testing.assert_allclose(csr.x, small.x, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(csr.energy, small.energy, rtol=1e-9)
    # the BLAS path takes J x as a float32 product: the same trajectory to float32 accuracy
    np.testing.assert_allclose(blas.x, csr.x, rtol=1e-4, atol=1e-7)
    assert np.array_equal(blas.spins, csr.spins)
    np.testing.assert_allclose(blas.energy, csr.energy, rtol=1e-9)
    m = IsingModel.from_couplings(J)
    np.testing.assert_allclose(blas.energy, m.energies(blas.spins), rtol=1e-9)
