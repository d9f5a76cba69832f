"""Adiabatic CIM (landscape annealing): exact ground states on small SK, energies, descent kernel, refusals."""
from __future__ import annotations

import numpy as np
import pytest

from cimsim.errors import CimsimError
from cimsim.instances import sk_model
from cimsim.kernels import descent as kd
from cimsim.model import IsingModel
from cimsim.solvers import get_solver, solve
from cimsim.solvers.adiabatic import LbfgsState, descend, make_matvec

from .conftest import all_spin_vectors, plain_energy

adiabatic = get_solver("adiabatic")


def test_quartic_line_search_takes_the_first_minimum():
    # phi'(t) = (t - 1)(t - 2)(t - 3) = t^3 - 6 t^2 + 11 t - 6: local minima at t = 1 and t = 3
    t = kd.quartic_first_min(-6.0, 5.5, -2.0, 0.25)
    assert t == pytest.approx(1.0, abs=1e-12)
    # convex quartic: phi = -t + t^4/4 -> minimum at t = 1
    assert kd.quartic_first_min(-1.0, 0.0, 0.0, 0.25) == pytest.approx(1.0, abs=1e-12)
    # not a descent direction -> no step
    assert kd.quartic_first_min(1.0, 0.0, 0.0, 0.25) == 0.0


def test_descend_reaches_a_true_minimum():
    m = sk_model(60, 3)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3, 60))
    JX = np.zeros_like(X)
    mv = make_matvec(m)
    mv(X, JX)
    a, h = -0.3, np.zeros(60)
    it, conv = descend(X, JX, a, h, mv, LbfgsState(3, 60, 10), 1e-9, 5000)
    assert conv.all() and it > 0
    Jn = m.J / m.coupling_scale()
    G = X**3 - a * X - X @ Jn
    assert np.abs(G).max() < 1e-8
    # a minimum: the Hessian diag(3x^2 - a) - J is positive semidefinite
    for x in X:
        assert np.linalg.eigvalsh(np.diag(3 * x**2 - a) - Jn)[0] > -1e-8
        # critical-point identity (physics.md 1): E_a = -1/4 sum x^4
        e = np.sum(x**4 / 4 - a * x**2 / 2) - 0.5 * x @ Jn @ x
        assert e == pytest.approx(-0.25 * np.sum(x**4), rel=1e-8)


def test_small_sk_reaches_exact_ground_state():
    S = all_spin_vectors(14)
    best_hits = replica_hits = 0
    for inst in range(8):
        m = sk_model(14, 100 + inst)
        e0 = m.energies(S).min()
        r = solve(m, "adiabatic", replicas=4, seed=inst, polish_result=False)
        # returned energies are H of the returned spins, recomputed independently
        assert r.energy == pytest.approx(plain_energy(m.J, m.h, m.offset, r.spins), abs=1e-12)
        assert np.all(r.energies >= e0 - 1e-9)
        best_hits += bool(np.isclose(r.energy, e0))
        replica_hits += int(np.sum(np.isclose(r.energies, e0)))
    assert best_hits >= 6
    assert replica_hits > 16  # most of the 32 anneals


def test_with_fields_and_sparse_storage():
    rng = np.random.default_rng(4)
    n = 12
    A = rng.standard_normal((n, n)) * (rng.random((n, n)) < 0.5)
    J = np.triu(A, 1)
    J = J + J.T
    h = 0.5 * rng.standard_normal(n)
    S = all_spin_vectors(n)
    m = IsingModel.from_couplings(J, h, storage="sparse")
    e0 = m.energies(S).min()
    r = solve(m, "adiabatic", replicas=4, seed=1, polish_result=True)
    assert r.energy == pytest.approx(e0, abs=1e-9)
    b = adiabatic.run(m, replicas=2, steps=1, rng=np.random.default_rng(0))
    np.testing.assert_allclose(m.energies(b.spins), [plain_energy(J, h, 0.0, s) for s in b.spins])


def test_record_and_diagnostics():
    m = sk_model(50, 5)
    b = adiabatic.run(m, replicas=2, steps=1, rng=np.random.default_rng(0), schedule="adiabatic:-2.2,0.2,0.1",
                      record=True)
    L = len(b.extra["levels"])
    assert L == 25 and b.steps == L
    assert b.extra["trace_x"].shape == (L, 50) and b.extra["trace_energy"].shape == (L, 2)
    q = b.extra["q"]
    lam = b.extra["lambda_max"]
    lv = b.extra["levels"]
    assert np.all(q[lv <= -lam] == 0) and np.all(q[lv > -lam + 0.05] > 0)
    # the amplitude radius grows with the pump along the followed minimum
    assert np.all(np.diff(q[lv > -lam]) > 0)
    assert b.extra["unconverged_level_replicas"] == 0
    np.testing.assert_allclose(b.extra["trace_energy"][-1], m.energies(b.spins))


def test_linear_schedule_is_sampled_at_steps_levels():
    m = sk_model(20, 1)
    b = adiabatic.run(m, replicas=1, steps=30, rng=np.random.default_rng(0), schedule="linear:-2.2,0.2")
    assert b.steps == 30 and len(b.extra["levels"]) == 30


@pytest.mark.parametrize(
    "params",
    [
        dict(tol=0.0),
        dict(tol=float("nan")),
        dict(kick=-1.0),
        dict(memory=0),
        dict(schedule="linear:0.2,-2.2"),
        dict(schedule="piecewise:"),
        dict(schedule="linear:-2,0", steps=1),
        dict(bogus=True),
    ],
)
def test_bad_parameters_refused(params):
    m = sk_model(8, 0)
    kw = dict(replicas=1, steps=10, rng=np.random.default_rng(0))
    kw.update(params)
    with pytest.raises(CimsimError):
        adiabatic.run(m, **kw)


def test_relative_schedule_is_shifted_by_the_threshold():
    m = sk_model(30, 2)
    b = adiabatic.run(m, replicas=1, steps=1, rng=np.random.default_rng(0), schedule="adiabatic:-0.2,2.2,0.1,relative=1")
    lam = b.extra["lambda_max"]
    np.testing.assert_allclose(b.extra["levels"], -lam + np.linspace(-0.2, 2.2, 25), atol=1e-12)
    assert lam == pytest.approx(np.linalg.eigvalsh(m.J)[-1] / m.coupling_scale(), rel=1e-8)
