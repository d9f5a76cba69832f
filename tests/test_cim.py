"""Mean-field CIM: hand-computed Euler step, presets, schedules, refusals, dense == CSR."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from cimsim.errors import CimsimError
from cimsim.instances import sk_model
from cimsim.model import IsingModel
from cimsim.solvers import get_solver, solve

from .conftest import all_spin_vectors, plain_energy

cim = get_solver("cim")

J3 = np.array([[0.0, 1.0, -0.5], [1.0, 0.0, 2.0], [-0.5, 2.0, 0.0]])
H3 = np.array([0.3, -0.2, 0.1])


def test_one_euler_step_by_hand():
    model = IsingModel.from_couplings(J3, H3)
    a, dt, x0 = 0.3, 0.1, 0.5
    batch = cim.run(model, replicas=1, steps=1, rng=np.random.default_rng(5), schedule="constant:0.3", dt=dt,
                    noise=0.0, init_scale=x0, readout=1, record=True)
    x = x0 * np.random.default_rng(5).standard_normal((1, 3))[0]
    # sigma_J = sqrt(sum_{i != j} J_ij^2 / (N (N - 1))), scale = sigma_J sqrt(N)
    sigma = np.sqrt(2 * (1.0**2 + 0.5**2 + 2.0**2) / 6)
    scale = sigma * np.sqrt(3)
    expected = np.empty(3)
    for i in range(3):
        coupling = sum(J3[i, j] * x[j] for j in range(3)) / scale
        expected[i] = x[i] + dt * (a * x[i] - x[i] ** 3 + coupling + H3[i] / scale)
    np.testing.assert_allclose(batch.extra["trace_x"][0], expected, rtol=1e-13, atol=1e-15)
    assert batch.extra["trace_a"][0] == a
    s = np.where(expected >= 0, 1, -1)
    assert batch.extra["trace_energy"][0, 0] == pytest.approx(plain_energy(J3, H3, 0.0, s))


def test_dense_and_csr_follow_the_same_trajectory():
    m = sk_model(20, 3)
    ms = IsingModel.from_couplings(sp.csr_matrix(m.J), storage="sparse")
    kw = dict(replicas=3, steps=50, schedule="linear:-2.5,0.5", noise=0.0, readout=5, record=True)
    bd = cim.run(m, rng=np.random.default_rng(1), **kw)
    bs = cim.run(ms, rng=np.random.default_rng(1), **kw)
    np.testing.assert_allclose(bd.extra["trace_x"], bs.extra["trace_x"], rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(bd.spins, bs.spins)


def test_solve_finds_ground_state_and_energies_match():
    m = sk_model(12, 4)
    S = all_spin_vectors(12)
    e0 = m.energies(S).min()
    r = solve(m, "cim", replicas=16, steps=400, seed=2)
    assert r.energy == pytest.approx(e0, abs=1e-9)
    assert r.energy == pytest.approx(plain_energy(m.J, m.h, m.offset, r.spins))
    b = cim.run(m, replicas=8, steps=300, rng=np.random.default_rng(0), track_best=False)
    assert b.spins.shape == (8, 12)
    np.testing.assert_allclose(b.extra["final_energies"], [plain_energy(m.J, m.h, 0.0, s) for s in b.spins])


def test_bifurcation_preset_is_sign_of_top_eigenvector():
    m = sk_model(40, 9)
    b = cim.run(m, replicas=4, steps=1, rng=np.random.default_rng(0), preset="bifurcation")
    w, V = np.linalg.eigh(m.J)
    s = np.where(V[:, -1] >= 0, 1, -1)
    for row in b.spins:
        assert np.array_equal(row, s) or np.array_equal(row, -s)
    assert b.extra["lambda_max"] == pytest.approx(w[-1] / m.coupling_scale(), rel=1e-8)


def test_constant_preset_uses_the_given_pump_and_reaches_a_minimum():
    m = sk_model(30, 2)
    b = cim.run(m, replicas=4, steps=200, rng=np.random.default_rng(0), preset="constant", a=-0.7,
                track_best=False)
    assert b.settings["schedule"] == {"kind": "constant", "a": -0.7, "relative": False}
    assert b.settings["noise"] == 0.0
    np.testing.assert_allclose(m.energies(b.spins), b.extra["final_energies"])


def test_relative_linear_schedule_is_shifted_by_the_threshold():
    m = sk_model(16, 1)
    b = cim.run(m, replicas=2, steps=20, rng=np.random.default_rng(0), schedule="linear:-0.3,1.0,relative=1")
    assert b.settings["schedule"]["kind"] == "linear" and b.settings["schedule"]["relative"] is False
    lam = b.extra["lambda_max"]
    assert b.settings["schedule"]["start"] == pytest.approx(-0.3 - lam)
    assert b.settings["schedule"]["stop"] == pytest.approx(1.0 - lam)


@pytest.mark.parametrize(
    "params",
    [
        dict(dt=0.0),
        dict(dt=-1.0),
        dict(noise=float("nan")),
        dict(schedule="linear:nan,1"),
        dict(schedule="piecewise:"),
        dict(preset="sideways"),
        dict(preset="constant", schedule="linear:0,1"),
        dict(schedule="linear:0,1", a=0.0),
        dict(x0=1e-3),
        dict(finish="maybe"),
        dict(bogus=1),
        dict(readout=0),
    ],
)
def test_bad_parameters_refused(params):
    m = sk_model(8, 0)
    with pytest.raises(CimsimError):
        cim.run(m, replicas=2, steps=5, rng=np.random.default_rng(0), **params)


def test_non_positive_steps_refused_by_driver():
    m = sk_model(8, 0)
    with pytest.raises(CimsimError):
        solve(m, "cim", steps=0)
    with pytest.raises(CimsimError):
        solve(m, "cim", replicas=-1)


def test_feedback_noise_effect_does_not_depend_on_dt():
    """feedback_noise is a white measurement noise: below threshold, with no other noise, the stationary
    spread of the amplitudes it causes is the same at dt = 0.02 and dt = 0.08 (an unscaled per-step sd
    gave variances in the ratio of the steps, 4x here)."""
    import numpy as np

    from cimsim.model import IsingModel
    from cimsim.solvers import solve

    model = IsingModel.from_couplings(np.array([[0.0, 1.0], [1.0, 0.0]]))
    var = {}
    for dt in (0.02, 0.08):
        steps = int(4000 / dt)
        res = solve(model, "cim", replicas=1, steps=steps, seed=3, schedule="constant:-1", noise=0.0,
                    feedback_noise=0.3, dt=dt, readout=1, record=True, init_scale=0.0, polish_result=False)
        x = np.asarray(res.extra["trace_x"])[steps // 10:]
        var[dt] = float(x.var())
    assert var[0.02] > 0 and abs(var[0.08] / var[0.02] - 1) < 0.15
