"""The measurement-feedback round-trip map (cimsim.solvers.mfb) against physics.md 8.6 (T7, T8) and its
finite-precision path."""
from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

import cimsim
from cimsim.errors import CimsimError
from cimsim.model import IsingModel
from cimsim.solvers import mfb

# T7's setting: dT = 0.1, tap 0.1, injection coupler 0.02, detector efficiency 0.8
T7 = dict(loss_db=0.1 * 20 / math.log(10), tap=0.1, r_inj=0.02, eta=0.8, g2=1e-4)


def _free(n: int) -> IsingModel:
    return IsingModel.from_couplings(sp.csr_matrix((n, n)))


def _ring(model: IsingModel, p_const: float, steps: int, replicas: int, seed: int, **params):
    plan = mfb.plan(replicas=replicas, steps=steps, schedule=f"constant:{p_const}", **params)
    rng = np.random.default_rng(seed)
    v = 0.5 * math.sqrt(plan.g2)
    X = rng.standard_normal((replicas, model.n)) * v
    P = rng.standard_normal((replicas, model.n)) * v
    return plan, mfb.simulate(model, X, P, np.full(steps, p_const), plan, rng)


def test_round_trip_time_and_background_loss() -> None:
    plan = mfb.plan(replicas=1, steps=1, **T7)
    assert plan.dT == pytest.approx(0.1, rel=1e-12)
    assert (1 - plan.background_loss) * (1 - 0.1) * (1 - 0.02) == pytest.approx(math.exp(-0.2), rel=1e-12)


def test_t7_stationary_variances_of_the_linear_map() -> None:
    p = 0.5
    plan, (X, P, _) = _ring(_free(1024), p, 300, 32, seed=1, **T7)
    vac, dT = plan.g2 / 4, plan.dT
    V = (1 - math.exp(-2 * dT)) / (1 - math.exp(2 * (p - 1) * dT))
    U = (1 - math.exp(-2 * dT)) / (1 - math.exp(-2 * (p + 1) * dT))
    assert (V, U) == pytest.approx((1.90484, 0.69939), abs=5e-5)
    assert np.var(X) / vac == pytest.approx(V, rel=0.025)
    assert np.var(P) / vac == pytest.approx(U, rel=0.025)


def test_t8_tap_and_cavity_share_the_vacuum_sample() -> None:
    """The homodyne record and the light left in the cavity are correlated exactly as one beam splitter with
    one vacuum input makes them: Var(y) = eta R V + (1 - eta R) v0 and Cov(y, X) = sqrt(eta R (1 - R)) (V - v0)
    (independent vacuum draws would give (V) instead of (V - v0), and break the law of total variance)."""
    p = 0.5
    model = _free(2048)
    plan, (X, _, Y) = _ring(model, p, 300, 32, seed=2, **T7)
    vac, dT, R, eta, Rinj = plan.g2 / 4, plan.dT, plan.tap, plan.eta, plan.r_inj
    V_end = vac * (1 - math.exp(-2 * dT)) / (1 - math.exp(2 * (p - 1) * dT))
    V_in = (1 - plan.background_loss) * math.exp(2 * p * dT) * V_end + plan.background_loss * vac  # at the tap
    y = Y * math.sqrt(eta * R)  # the detector's own output
    assert np.var(y) == pytest.approx(eta * R * V_in + (1 - eta * R) * vac, rel=0.025)
    cov = float(np.mean(y * X))  # X after the injection coupler: a further factor sqrt(1 - Rinj)
    expected = math.sqrt(eta * R * (1 - R)) * (V_in - vac) * math.sqrt(1 - Rinj)
    assert cov == pytest.approx(expected, rel=0.06)
    assert abs(expected) > 10 * vac / math.sqrt(X.size)  # the correlation is resolved, not noise


def test_quantiser_levels_clipping_and_one_bit() -> None:
    q3 = mfb.quantiser(3, 1.5)  # levels k * 0.5, |k| <= 3
    u = np.array([-9.0, -0.74, -0.26, 0.0, 0.24, 0.26, 1.3, 9.0])
    assert np.array_equal(q3(u), [-1.5, -0.5, -0.5, 0.0, 0.0, 0.5, 1.5, 1.5])
    assert np.array_equal(mfb.quantiser(1, 2.0)(np.array([-0.1, 0.0, 3.0])), [-2.0, 2.0, 2.0])
    u = np.linspace(-1, 1, 1001)
    assert np.abs(mfb.quantiser(16, 1.0)(u) - u).max() <= 0.5 / (2**15 - 1) + 1e-15
    assert mfb.quantiser(None, 1.0)(u) is u


def test_two_bit_couplings_are_exact_on_pm1_instances() -> None:
    """Q_J with full scale max|J| represents +-1 couplings exactly from 2 bits on: same trajectory."""
    G = nx.random_regular_graph(3, 40, seed=3)
    model = cimsim.encode("maxcut", G).model
    a = cimsim.solvers.solve(model, "mfb", replicas=4, steps=300, seed=5, polish_result=False)
    b = cimsim.solvers.solve(model, "mfb", replicas=4, steps=300, seed=5, polish_result=False, j_bits=2)
    assert np.array_equal(a.spins, b.spins) and np.array_equal(a.energies, b.energies)
    c = cimsim.solvers.solve(model, "mfb", replicas=4, steps=300, seed=5, polish_result=False, adc_bits=2)
    assert not np.array_equal(a.energies, c.energies)  # the ADC path is really in the loop


def test_reaches_the_brute_force_optimum_on_a_small_instance() -> None:
    rng = np.random.default_rng(8)
    W = np.triu(rng.normal(size=(14, 14)), 1)
    W = W + W.T
    enc = cimsim.encode("maxcut", nx.from_numpy_array(W))
    exact = cimsim.solvers.solve(enc.model, "exact")
    res = cimsim.solvers.solve(enc.model, "mfb", replicas=16, steps=1500, seed=2, adc_bits=8, j_bits=8,
                               dac_bits=8, eta=0.7)
    assert res.energy == pytest.approx(exact.energy)
    assert res.energy == pytest.approx(enc.model.energy(res.spins))
    assert res.extra["round_trips"] == 1500


def test_time_in_seconds_from_the_repetition_rate() -> None:
    G = nx.cycle_graph(10)
    res = cimsim.solvers.solve(cimsim.encode("maxcut", G).model, "mfb", replicas=2, steps=100, seed=0, rep_rate=1e9)
    assert res.extra["machine_time_s"] == pytest.approx(100 * 10 / 1e9)


@pytest.mark.parametrize("bad", [{"eta": 0}, {"eta": 1.2}, {"adc_bits": 0}, {"j_bits": -3}, {"dac_bits": 2.5},
                                 {"loss_db": -1}, {"g2": 0}, {"g2": -1}, {"loss_db": 0.3}, {"tap": 1},
                                 {"latency": "sometimes"}])
def test_bad_hardware_values_are_one_line_errors(bad: dict) -> None:
    with pytest.raises(CimsimError) as err:
        mfb.plan(replicas=1, steps=1, **bad)
    assert "\n" not in str(err.value) and "mfb" in str(err.value)


def test_bad_hardware_value_on_the_command_line_exits_2(tmp_path) -> None:
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "cimsim", "solve", "maxcut", "problems/G1.txt", "--solver", "mfb",
                          "-p", "eta=1.5"], capture_output=True, text=True, timeout=120,
                         cwd=__import__("pathlib").Path(__file__).resolve().parent.parent)
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and "eta" in out.stderr and "Traceback" not in out.stderr


def _moment_ring(model: IsingModel, p_const: float, steps: int, replicas: int, seed: int, **params):
    plan = mfb.plan(replicas=replicas, steps=steps, schedule=f"constant:{p_const}", representation="moments",
                    **params)
    v0 = plan.g2 / 4
    M, V, U = (np.zeros((replicas, model.n)), np.full((replicas, model.n), v0), np.full((replicas, model.n), v0))
    mfb.simulate(model, M, V, np.full(steps, p_const), plan, np.random.default_rng(seed), None, U)
    return plan, M, V, U


def test_t8_measurement_leaves_the_unconditional_state_unchanged() -> None:
    """E[V] + Var(m) over trajectories equals the unmeasured variance of T7 (law of total variance)."""
    p = 0.5
    plan, M, V, U = _moment_ring(_free(2048), p, 300, 32, seed=3, **T7)
    vac, dT = plan.g2 / 4, plan.dT
    unmeasured = (1 - math.exp(-2 * dT)) / (1 - math.exp(2 * (p - 1) * dT))
    assert (V.mean() + M.var()) / vac == pytest.approx(unmeasured, rel=0.025)
    assert V.mean() / vac < 0.95 * unmeasured  # the measurement really conditions the state
    assert U.mean() / vac == pytest.approx((1 - math.exp(-2 * dT)) / (1 - math.exp(-2 * (p + 1) * dT)), rel=1e-3)


@pytest.mark.parametrize("p,j_m,w_star", [(0.6, 0.3, 1.89681), (1.0, 0.5, 2.41421)])
def test_t9_conditional_variance_approaches_the_riccati_solution(p: float, j_m: float, w_star: float) -> None:
    """w = V/v0 under continuous measurement solves j_m (w - 1)^2 = (p - 1) w + 1; the round-trip map
    approaches it as the round trip shortens (tap R = 2 j_m dT, ideal detector)."""
    w = 1 + ((p - 1) + math.sqrt((p - 1) ** 2 + 4 * j_m * p)) / (2 * j_m)
    assert w == pytest.approx(w_star, abs=5e-5)
    errors = []
    for dT in (0.02, 0.005):
        loss_db = dT * 20 / math.log(10)
        plan, _, V, _ = _moment_ring(_free(4), p, int(40 / dT), 1, seed=0, loss_db=loss_db, tap=2 * j_m * dT,
                                     r_inj=0.0, eta=1.0, g2=1e-6)
        errors.append(abs(V.mean() / (plan.g2 / 4) - w) / w)
    assert errors[0] < 0.02 and errors[1] < errors[0] / 2


def test_dense_feedback_is_built_once_per_model_and_settings():
    """Time-limited runs reuse the feedback matrix across batches; a different j_bits or model rebuilds it."""
    import gc

    from cimsim.instances import sk_model
    from cimsim.solvers import mfb as mfb_mod

    m = sk_model(300, 2)
    a = mfb_mod._dense_feedback(m, None, True)
    assert mfb_mod._dense_feedback(m, None, True)[0] is a[0]  # reused
    np.testing.assert_allclose(a[0], np.asarray(m.J) / m.coupling_scale(), rtol=1e-6)
    q = mfb_mod._dense_feedback(m, 3, True)[0]
    assert q is not a[0] and np.unique(q).size <= 2 ** 3 + 1  # quantised to 3 bits
    m2 = sk_model(300, 3)
    assert not np.allclose(mfb_mod._dense_feedback(m2, 3, True)[0], q)
    del m2
    gc.collect()
    assert not mfb_mod._DENSE_FEEDBACK  # released with its model
