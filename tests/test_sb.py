"""Simulated bifurcation solver (cimsim.solvers.sb) and its kernels."""
from __future__ import annotations

import numpy as np
import pytest

from cimsim import CimsimError, IsingModel, solve
from cimsim.solvers import sb
from cimsim.solvers.exact import ground_state

from .conftest import plain_energy, random_couplings

# 3-spin example: J_01 = 1, J_02 = -2, J_12 = 0.5, fields h = (0.3, 0, -0.4)
J3 = np.array([[0.0, 1.0, -2.0], [1.0, 0.0, 0.5], [-2.0, 0.5, 0.0]])
H3 = np.array([0.3, 0.0, -0.4])


@pytest.mark.parametrize("storage", ["dense", "sparse"])
def test_one_step_matches_hand_computation(storage):
    m = IsingModel.from_couplings(J3, H3, storage=storage)
    x = np.array([[0.5, -0.2, 0.0]], dtype=np.float32)
    y = np.array([[0.1, 0.3, -0.6]], dtype=np.float32)
    dt, c0 = 0.5, 0.25
    # steps=1: a(t) = 0, so dy = dt * (-(a0 - 0) x + c0 phi), then dx = dt * a0 * y_new, then walls
    # dSB: phi = J sgn(x) + h, sgn = (1, -1, 0)
    #   phi = (0*1 + 1*(-1) - 2*0 + 0.3, 1*1 + 0 + 0.5*0 + 0, -2*1 + 0.5*(-1) + 0 - 0.4) = (-0.7, 1.0, -2.9)
    #   y = (0.1 + 0.5*(-0.5 + 0.25*(-0.7)), 0.3 + 0.5*(0.2 + 0.25*1.0), -0.6 + 0.5*(0 + 0.25*(-2.9)))
    #     = (-0.2375, 0.525, -0.9625);  x = (0.38125, 0.0625, -0.48125): no wall hit
    X, Y, _, _ = sb.simulate(m, x, y, steps=1, variant="dsb", dt=dt, c0=c0)
    np.testing.assert_allclose(Y[0], [-0.2375, 0.525, -0.9625], atol=1e-6)
    np.testing.assert_allclose(X[0], [0.38125, 0.0625, -0.48125], atol=1e-6)
    # bSB: phi = J x + h = (-0.2 + 0.3, 0.5, -1.0 - 0.1 - 0.4) = (0.1, 0.5, -1.5)
    #   y = (0.1 + 0.5*(-0.5 + 0.025), 0.3 + 0.5*(0.2 + 0.125), -0.6 + 0.5*(-0.375)) = (-0.1375, 0.4625, -0.7875)
    #   x = (0.43125, 0.03125, -0.39375)
    X, Y, _, _ = sb.simulate(m, x, y, steps=1, variant="bsb", dt=dt, c0=c0)
    np.testing.assert_allclose(Y[0], [-0.1375, 0.4625, -0.7875], atol=1e-6)
    np.testing.assert_allclose(X[0], [0.43125, 0.03125, -0.39375], atol=1e-6)
    # a wall: a large step throws x_0 past +1 -> x_0 = 1, y_0 = 0
    X, Y, _, _ = sb.simulate(m, np.array([[0.9, 0.0, 0.0]]), np.array([[2.0, 0.0, 0.0]]), steps=1, variant="bsb", dt=dt, c0=c0)
    assert X[0, 0] == 1.0 and Y[0, 0] == 0.0


def test_best_readout_energy_is_exact():
    m = IsingModel.from_couplings(J3, H3)
    rng = np.random.default_rng(0)
    X, Y, S, E = sb.simulate(m, rng.uniform(-1, 1, (4, 3)), rng.uniform(-1, 1, (4, 3)), steps=20, variant="dsb")
    np.testing.assert_allclose(E, m.energies(S), atol=1e-6)


def _model(seed: int, n: int, storage: str) -> IsingModel:
    rng = np.random.default_rng(seed)
    return IsingModel.from_couplings(random_couplings(rng, n, 0.7), 0.5 * rng.standard_normal(n), -1.5, storage=storage)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("variant", ["dsb", "bsb"])
@pytest.mark.parametrize("storage", ["dense", "sparse"])
def test_finds_exact_ground_state_with_fields(seed, variant, storage):
    m = _model(seed, 14, storage)
    _, e0, _ = ground_state(m)
    r = solve(m, "sb", replicas=16, steps=300, seed=seed, variant=variant, polish_result=False)
    assert r.energy == pytest.approx(e0, abs=1e-9)
    assert plain_energy(m.dense_couplings(), m.h, m.offset, r.spins) == pytest.approx(r.energy, abs=1e-9)


@pytest.mark.parametrize("variant", ["dsb", "bsb"])
def test_dense_and_sparse_storage_agree(variant):
    # integer couplings: float32 products are exact in both kernels, so the trajectories coincide
    rng = np.random.default_rng(4)
    A = np.triu(rng.integers(-2, 3, size=(24, 24)).astype(float), 1)
    J = A + A.T
    h = rng.integers(-1, 2, size=24).astype(float)
    out = []
    for storage in ("dense", "sparse"):
        m = IsingModel.from_couplings(J, h, storage=storage)
        b = sb.run(m, replicas=6, steps=200, rng=np.random.default_rng(2), variant=variant, dt=0.5)
        np.testing.assert_allclose(b.extra["best_energies"], m.energies(b.spins), atol=1e-4)
        out.append(m.energies(b.spins))
    np.testing.assert_allclose(out[0], out[1], atol=1e-4)


def test_default_dt_follows_stability():
    # SK-like couplings: Goto's 1.25; a dense antiferromagnet-like -W (Perron mode) needs a smaller step
    rng = np.random.default_rng(0)
    A = rng.standard_normal((60, 60))
    sk = IsingModel.from_couplings((A + A.T) / np.sqrt(120))
    assert sb.default_dt(sk) == 1.25
    W = (rng.random((60, 60)) < 0.5).astype(float)
    W = np.triu(W, 1)
    mc = IsingModel.from_couplings(-(W + W.T))
    dt = sb.default_dt(mc)
    omega = np.sqrt(1.0 + 0.5 / mc.coupling_scale() * -np.linalg.eigvalsh(mc.J)[0])
    assert dt == pytest.approx(1.0 / omega) and dt < 1.25


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(dt=-0.1), "dt"),
        (dict(dt=0.0), "dt"),
        (dict(variant="asb"), "variant"),
        (dict(coupling=float("nan")), "coupling"),
        (dict(readout=0), "readout"),
        (dict(init_scale=-1.0), "init_scale"),
        (dict(foo=1), "sb: unknown parameter foo"),
    ],
)
def test_bad_parameters_raise(params, match):
    m = IsingModel.from_couplings(J3, H3)
    with pytest.raises(CimsimError, match=match):
        solve(m, "sb", replicas=2, steps=3, seed=0, **params)
