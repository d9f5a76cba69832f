"""ahc/cac: pump and target schedules, dynamics noise, chunked runs under a deadline, the sampling tap,
fields, the gset preset (issue 17 item 5)."""
from __future__ import annotations

import time

import numpy as np
import pytest

from cimsim.errors import CimsimError
from cimsim.gpu import numpy_device
from cimsim.model import IsingModel
from cimsim.sampling import StateCounter, Tap, tapping
from cimsim.solvers import ahc, cac, solve
from cimsim.solvers.budget import Deadline
from cimsim.solvers.exact import ground_state

D64 = numpy_device(dtype=np.float64)


def _model(n: int, seed: int, storage: str = "dense", fields: bool = False) -> IsingModel:
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, n))
    J = np.triu((A + A.T) / np.sqrt(2 * n), 1)
    J[rng.random((n, n)) < 0.3] = 0.0
    J = J + J.T
    h = 0.3 * rng.standard_normal(n) if fields else None
    return IsingModel.from_couplings(J, h, storage=storage)


def _same_state(a, b) -> None:
    for name in ("x", "e", "spins", "energy", "best_spins", "best_energy", "tau_a", "xi", "t_c", "steps_to_best",
                 "steps"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


NOISY = {"schedule": "linear:-0.5,0.6", "alpha_schedule": "piecewise:1@0,2@0.7,2@1", "noise": 0.2, "xi0": 0.3}


# ---------------------------------------------------------------------- chunks never change a run
@pytest.mark.parametrize("kind", ["csr", "dense", "blas"])
def test_chunked_run_equals_one_call_bit_for_bit(kind, monkeypatch):
    n = 40 if kind != "blas" else cac.BLAS_MIN_N + 3
    m = _model(n, 1, "sparse" if kind == "csr" else "dense")
    prm = cac.resolve_params(m, **NOISY)
    kargs = cac._kernel_args(m, prm)
    X0 = np.random.default_rng(2).uniform(-0.01, 0.01, (3, n))
    seeds = np.array([5, 77, 2**40 + 3], dtype=np.uint64)
    whole = cac.simulate(m, X0, np.ones_like(X0), 300, streams=seeds.copy(), **kargs)
    seen: list[int] = []
    marks = [1, 2, 3, 50, 51, 137, 299, 300]  # every mark ends a kernel call
    parts = cac.simulate(m, X0, np.ones_like(X0), 300, streams=seeds.copy(), marks=marks,
                         on_mark=lambda t, X: seen.append(t), **kargs)
    assert seen == marks
    _same_state(whole, parts)
    assert whole.done == parts.done == 300
    # the noise really acts: a noise-free run differs
    quiet = cac.simulate(m, X0, np.ones_like(X0), 300, **{**kargs, "noise": 0.0})
    assert not np.array_equal(quiet.x, whole.x)


def test_device_stand_in_equals_cpu_with_schedules_noise_and_chunks():
    m = _model(20, 3)
    kargs = cac._kernel_args(m, cac.resolve_params(m, **NOISY))
    X0 = np.random.default_rng(4).uniform(-0.01, 0.01, (2, 20))
    seeds = np.array([9, 10], dtype=np.uint64)
    a = cac.simulate(m, X0, np.ones_like(X0), 200, streams=seeds.copy(), **kargs)
    from cimsim.gpu import amplitude_simulate

    b = amplitude_simulate(m, X0, np.ones_like(X0), 200, streams=seeds.copy(), marks=[7, 100], on_mark=lambda t, X: None,
                           device=D64, **kargs)
    np.testing.assert_allclose(a.x, b.x, rtol=0, atol=1e-12)
    for name in ("best_spins", "t_c", "steps_to_best", "steps"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    np.testing.assert_allclose(a.best_energy, b.best_energy, atol=1e-12)  # incremental vs recomputed sums
    for mod in (ahc, cac):  # the whole solver, initial state and noise streams drawn from the same rng
        c = mod.run(m, replicas=2, steps=150, rng=np.random.default_rng(5), noise=0.1, schedule="linear:0,0.5")
        d = mod.run(m, replicas=2, steps=150, rng=np.random.default_rng(5), noise=0.1, schedule="linear:0,0.5",
                    backend="gpu", device=D64)
        np.testing.assert_array_equal(c.spins, d.spins)
        np.testing.assert_allclose(c.extra["best_energies"], d.extra["best_energies"], atol=1e-12)


def test_constant_schedules_equal_the_constants():
    m = _model(30, 5, "sparse")
    for mod, extra in ((cac, {}), (ahc, {"alpha": 1.5})):
        a = mod.run(m, replicas=2, steps=400, rng=np.random.default_rng(1), p=0.3, **extra)
        b = mod.run(m, replicas=2, steps=400, rng=np.random.default_rng(1), schedule="constant:0.3",
                    alpha_schedule=f"constant:{extra.get('alpha', 1.0)}")
        np.testing.assert_array_equal(a.spins, b.spins)
        assert a.extra["steps_to_best"] == b.extra["steps_to_best"]


def test_pump_schedule_is_applied_step_by_step():
    # one spin, no coupling: x' = (p(t) - 1) x - x^3 exactly as a hand loop with p(t) = linear(-1, 1)
    m = IsingModel.from_couplings(np.zeros((2, 2)))
    x0 = np.array([[0.3, -0.2]])
    st = ahc.integrate(m, x0, np.ones((1, 2)), 50, schedule="linear:-1,1", dt=0.1, xi=0.0)
    x = x0[0].copy()
    for t in range(50):
        p = -1.0 + 2.0 * t / 49
        x = x + 0.1 * ((p - 1.0) * x - x ** 3)
    np.testing.assert_allclose(st.x[0], x, rtol=1e-13)


# ---------------------------------------------------------------------- noise
@pytest.mark.parametrize("dt", [0.01, 0.05])
def test_noise_variance_does_not_depend_on_the_step(dt):
    # uncoupled spins below threshold: x is an Ornstein-Uhlenbeck process, x' = (p - 1) x - x^3 + noise W',
    # stationary variance noise^2 / (2 (1 - p)) (x^3 is negligible at this size); Euler adds a relative
    # bias (1 - p) dt / 2 <= 2 %
    n, R, p, sigma = 400, 20, 0.2, 0.05
    m = IsingModel.from_couplings(np.zeros((n, n)), storage="sparse")
    steps = int(round(30.0 / dt))  # 24 relaxation times
    b = ahc.integrate(m, np.zeros((R, n)), np.ones((R, n)), steps, p=p, xi=0.0, dt=dt, noise=sigma,
                      streams=np.arange(1, R + 1, dtype=np.uint64))
    var = float(np.var(b.x))
    expected = sigma ** 2 / (2 * (1 - p))
    assert var == pytest.approx(expected, rel=0.06), (dt, var, expected)
    assert abs(float(np.mean(b.x))) < 4 * np.sqrt(expected / b.x.size)


def test_noise_draws_only_when_asked():
    # noise = 0 draws nothing from the run's Generator beyond the initial state (defaults are unchanged)
    m = _model(12, 6)
    r1, r2 = np.random.default_rng(3), np.random.default_rng(3)
    cac.run(m, replicas=2, steps=20, rng=r1)
    r2.uniform(-5e-4, 5e-4, size=(2, 12))
    assert r1.random() == r2.random()


# ---------------------------------------------------------------------- deadline and sampling
@pytest.mark.parametrize("mod", [ahc, cac])
def test_deadline_ends_a_long_batch_scored(mod):
    m = _model(60, 7, "sparse")
    tic = time.perf_counter()
    b = mod.run(m, replicas=2, steps=10**8, rng=np.random.default_rng(0), deadline=Deadline(time.perf_counter() + 0.5))
    assert time.perf_counter() - tic < 5.0
    assert 0 < b.steps < 10**8
    assert max(b.extra["steps_taken"]) == b.steps
    np.testing.assert_allclose(m.energies(b.spins), b.extra["best_energies"], atol=1e-9)


@pytest.mark.parametrize("mod", [ahc, cac])
@pytest.mark.parametrize("fields", [False, True])
def test_sampling_tap_records_true_energies_and_exact_limit(mod, fields):
    m = _model(16, 8, "dense", fields)
    tap = Tap(StateCounter(m.n), every=7, burn_in=20, limit=53, keep=True, model=m)
    with tapping(tap):
        solve(m, mod.__name__.rsplit(".", 1)[-1], seed=1, replicas=3, steps=400, polish_result=False, time_limit=30)
    S, E = tap.reads()
    assert tap.samples == 53 and S.shape == (53, m.n)
    np.testing.assert_allclose(E, m.energies(S), atol=1e-12)
    assert mod.SAMPLES is True


# ---------------------------------------------------------------------- fields, the gset preset
@pytest.mark.parametrize("kw", [{"solver": "cac", "preset": "gset"},
                                {"solver": "cac", "noise": 0.05, "schedule": "linear:-0.5,0.5"},
                                {"solver": "ahc", "noise": 0.05, "schedule": "linear:-0.5,0.2"}])
def test_exact_ground_state_with_fields(kw):
    kw = dict(kw)
    name = kw.pop("solver")
    for k in range(3):
        m = _model(12, 40 + k, "sparse", fields=True)
        assert np.any(m.h != 0)
        _, e0, _ = ground_state(m)
        r = solve(m, name, seed=k, replicas=4, steps=3000, polish_result=False, **kw)
        assert r.energy == pytest.approx(e0, abs=1e-9), (name, kw, k)
        assert r.energy == pytest.approx(float(m.energies(r.spins[None, :])[0]), abs=1e-12)


def test_gset_preset_values_and_overrides():
    m = _model(30, 9, "sparse")
    prm = cac.resolve_params(m, preset="gset")
    J = m.dense_couplings()
    assert prm["coupling"] == pytest.approx(np.sqrt(2 * 30 / np.sum(J ** 2)))
    lam = float(np.linalg.eigvalsh(J)[0])
    assert prm["dt"] == pytest.approx(min(0.125, cac.GSET_KAPPA / (prm["coupling"] * -lam)))
    assert prm["xi0"] == 0.8 and prm["rho"] == 0.0 and prm["gamma"] == 0.0
    assert prm["schedule"].startswith("piecewise:-1@0")
    over = cac.resolve_params(m, preset="gset", dt=0.01, p=0.5)
    assert over["dt"] == 0.01 and over["schedule"] is None and over["p"] == 0.5


@pytest.mark.parametrize("bad", [{"schedule": "linear:0"}, {"schedule": "wiggle:1,2"}, {"alpha_schedule": "linear:x,1"},
                                 {"schedule": "linear:-0.2,0.2,relative=1"}, {"p": 0.1, "schedule": "linear:0,1"},
                                 {"alpha": 1.0, "alpha_schedule": "constant:2"}, {"noise": -0.1},
                                 {"noise": float("nan")}, {"preset": "fast"}])
@pytest.mark.parametrize("name", ["ahc", "cac"])
def test_bad_schedule_and_noise_values_are_one_line_errors(name, bad):
    if name == "ahc" and "preset" in bad:
        bad = {"xi0": 0.1}  # cac only
    m = _model(6, 0)
    with pytest.raises(CimsimError) as info:
        solve(m, name, seed=0, steps=10, **bad)
    assert "\n" not in str(info.value)
