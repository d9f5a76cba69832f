"""The DOPO network (cimsim.solvers.dopo) against the analytic checks of physics.md 8.4 (T1-T6).

Statistical checks use a fixed seed and enough independent trajectories that the tolerance is several
standard errors; the Euler-Maruyama bias of an Ornstein-Uhlenbeck variance, 1 / (1 - k dt / 2) for an
amplitude relaxation rate k, is included in the expected values where it matters.
"""
from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

import cimsim
from cimsim.errors import CimsimError
from cimsim.instances import sk_model
from cimsim.model import IsingModel
from cimsim.solvers import dopo


def _free(n: int) -> IsingModel:
    """n uncoupled DOPOs (an empty sparse coupling matrix: each pulse is a solitary oscillator)."""
    return IsingModel.from_couplings(sp.csr_matrix((n, n)))


def _run_constant(model: IsingModel, p: float, steps: int, replicas: int, seed: int, **params):
    plan = dopo.plan(replicas=replicas, steps=steps, schedule=f"constant:{p}", **params)
    rng = np.random.default_rng(seed)
    C, S = dopo._initial(replicas, model.n, plan, rng)
    return dopo.simulate(model, C, S, np.full(steps, p), plan, rng)


def _em(k: float, dt: float) -> float:
    """Euler-Maruyama inflation of a stationary OU variance with amplitude rate k and step dt."""
    return 1.0 / (1.0 - 0.5 * k * dt)


@pytest.mark.parametrize("p", [0.0, 0.5, 0.9])
def test_t1_single_dopo_below_threshold_squeezing(p: float) -> None:
    g2, dt = 1e-4, 0.01
    C, S = _run_constant(_free(1024), p, 5000, 32, seed=1, g2=g2, dt=dt)
    vac = g2 / 4
    assert np.var(C) / vac == pytest.approx(_em(1 - p, dt) / (1 - p), rel=0.03)
    assert np.var(S) / vac == pytest.approx(_em(1 + p, dt) / (1 + p), rel=0.03)


def test_t2_at_threshold_second_moment_scales_with_g() -> None:
    g = 0.03
    C, _ = _run_constant(_free(1024), 1.0, 6000, 32, seed=2, g2=g * g, dt=0.05)
    expected = g * math.gamma(0.75) / math.gamma(0.25)  # 0.33799 g
    assert expected == pytest.approx(0.33799 * g, rel=1e-4)
    assert np.mean(C * C) == pytest.approx(expected, rel=0.03)


def test_t3_above_threshold_amplitude_and_fluctuations() -> None:
    g2, dt, p = 1e-4, 0.01, 2.0
    C, S = _run_constant(_free(1024), p, 3000, 32, seed=3, g2=g2, dt=dt)
    vac = g2 / 4
    assert np.mean(np.abs(C)) == pytest.approx(math.sqrt(p - 1), rel=1e-3)
    assert np.var(np.abs(C)) / vac == pytest.approx(_em(2 * (p - 1), dt) * (2 * p - 1) / (2 * (p - 1)), rel=0.03)
    assert np.var(S) / vac == pytest.approx(_em(2 * p, dt) * (2 * p - 1) / (2 * p), rel=0.03)


def _pair(J12: float) -> IsingModel:
    return IsingModel.from_couplings(np.array([[0.0, J12], [J12, 0.0]]))


@pytest.mark.parametrize("J12", [1.0, -1.0])
def test_t4_two_coupled_dopos_below_threshold(J12: float) -> None:
    xi, p, g2, dt = 0.2, 0.5, 1e-4, 0.01
    model = _pair(J12)
    eps = xi * model.coupling_scale()  # xi = eps J / coupling_scale()
    C, _ = _run_constant(model, p, 3000, 20000, seed=4, g2=g2, dt=dt, eps=eps, coupling_mode="delay-line")
    corr = np.corrcoef(C[:, 0], C[:, 1])[0, 1]
    assert corr == pytest.approx(J12 * xi / (1 - p), abs=0.02)
    var = 0.5 * (_em(1 - p - xi, dt) / (1 - p - xi) + _em(1 - p + xi, dt) / (1 - p + xi))
    assert np.var(C[:, 0]) / (g2 / 4) == pytest.approx(var, rel=0.03)


@pytest.mark.parametrize("J12", [1.0, -1.0])
def test_t4_threshold_of_the_lower_loss_mode_is_one_minus_eps(J12: float) -> None:
    xi = 0.2
    model = _pair(J12)
    eps = xi * model.coupling_scale()
    for offset in (-0.02, 0.02):
        p = 1 - xi + offset
        plan = dopo.plan(replicas=1, steps=20000, schedule=f"constant:{p}", eps=eps, quantum_noise=False, dt=0.05,
                         coupling_mode="delay-line")
        C = np.array([[1e-3, 1e-3 * J12]])
        dopo.simulate(model, C, np.zeros_like(C), np.full(plan.steps, p), plan, np.random.default_rng(0))
        if offset < 0:
            assert np.abs(C).max() < 1e-6  # below the network threshold the mode decays
        else:
            assert C[0, 0] ** 2 == pytest.approx(p - 1 + xi, rel=1e-6)  # c^2 = p - 1 + eps above it
            assert C[0, 1] == pytest.approx(J12 * C[0, 0], rel=1e-9)


def test_t5_network_covariance_is_the_lyapunov_solution() -> None:
    n, xi, g2, dt = 20, 0.2, 1e-4, 0.04
    model = sk_model(n, seed=5)
    Jh = model.dense_couplings() / model.coupling_scale()
    lam = float(np.linalg.eigvalsh(Jh)[-1])
    p = 1 - xi * lam - 0.15
    R, burn, every, samples = 1000, 1000, 125, 20  # 40 time units of burn-in, then a sample every 5
    plan = dopo.plan(replicas=R, steps=burn + every * samples, schedule=f"constant:{p}", eps=xi, g2=g2, dt=dt,
                     coupling_mode="delay-line", readout=every)
    rng = np.random.default_rng(6)
    C, S = dopo._initial(R, n, plan, rng)
    acc = np.zeros((n, n))
    count = [0]

    def sample(t: int, Ct: np.ndarray) -> None:
        if t + 1 > burn:
            acc[...] += Ct.T @ Ct
            count[0] += Ct.shape[0]

    dopo.simulate(model, C, S, np.full(plan.steps, p), plan, rng, sample)
    cov = acc / count[0]
    theory = (g2 / 4) * np.linalg.inv((1 - p) * np.eye(n) - xi * Jh)
    assert np.linalg.norm(cov - theory) / np.linalg.norm(theory) < 0.06


def test_t6_noiseless_dopo_is_the_mean_field_cim_step_for_step() -> None:
    model = sk_model(40, seed=7)
    eps, dt_cim, x0 = 0.25, 0.1, 1e-3
    a0, a1 = -1.5, 1.0
    common = dict(replicas=4, steps=600, seed=11)
    ref = cimsim.solvers.solve(model, "cim", schedule=f"linear:{a0},{a1}", noise=0.0, dt=dt_cim, init_scale=x0, readout=5,
                               record=True, polish_result=False, **common)
    got = cimsim.solvers.solve(model, "dopo", schedule=f"linear:{1 + eps * a0},{1 + eps * a1}", eps=eps,
                               quantum_noise=False, dt=dt_cim / eps, init_scale=x0 * math.sqrt(eps), readout=5, record=True,
                               polish_result=False, **common)
    assert np.array_equal(ref.spins, got.spins)
    x_cim = np.asarray(ref.extra["trace_x"])
    x_dopo = dopo.project_units(eps=eps, g2=1e-4, c=got.extra["trace_x"])["x"]
    assert x_cim.shape == x_dopo.shape and np.abs(x_cim).max() > 0.1
    assert np.abs(x_cim - x_dopo).max() < 1e-12


def test_project_units_conversion() -> None:
    u = dopo.project_units(eps=0.25, g2=1e-4, p=0.5, c=0.5, t=8.0, b=0.125)
    assert u["a"] == pytest.approx(-2.0) and u["x"] == pytest.approx(1.0) and u["tau"] == pytest.approx(2.0)
    assert u["h"] == pytest.approx(1.0) and u["T_eff"] == pytest.approx(1e-4 / 0.25)


@pytest.mark.parametrize("bad", [{"g2": 0}, {"g2": -1e-4}, {"tap": 1.0}, {"tap": 0}, {"eps": -0.1},
                                 {"coupling_mode": "fibre"}, {"quantum_noise": "maybe"}, {"dt": "fast"}])
def test_bad_hardware_values_are_one_line_errors(bad: dict) -> None:
    with pytest.raises(CimsimError) as err:
        dopo.plan(replicas=1, steps=1, **bad)
    assert "\n" not in str(err.value) and "dopo" in str(err.value)


def test_solves_a_small_maxcut_to_the_brute_force_optimum() -> None:
    rng = np.random.default_rng(8)
    n = 12
    W = np.triu(rng.integers(0, 2, (n, n)), 1).astype(float)
    W = W + W.T
    enc = cimsim.encode("maxcut", nx.from_numpy_array(W))
    res = cimsim.solvers.solve(enc.model, "dopo", replicas=16, steps=3000, seed=3)
    exact = cimsim.solvers.solve(enc.model, "exact")
    assert res.energy == pytest.approx(exact.energy)
    assert res.energy == pytest.approx(enc.model.energy(res.spins))
