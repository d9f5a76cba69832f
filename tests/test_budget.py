"""Time limits and diverging runs (issue 19.9).

A solver whose single batch can run long (sa, tabu, adiabatic) takes the driver's deadline and stops a
batch still running when the time limit is reached, reporting the steps it took; every dynamics solver
stops a run whose amplitudes turn inf/NaN with a one-line error.
"""
from __future__ import annotations

import time
import warnings

import numpy as np
import pytest

from cimsim.errors import CimsimError
from cimsim.instances import sk_model
from cimsim.solvers import budget, get_solver, solve
from cimsim.solvers.adiabatic import DEFAULT_SCHEDULE


def test_deadline_and_run_chunked():
    d = budget.Deadline(time.perf_counter() + 60)
    assert not d.expired() and 0 < d.remaining() <= 60
    d.interrupted = True
    assert d.expired() and d.remaining() == 0
    assert not budget.Deadline(None).expired() and budget.Deadline(None).remaining() == float("inf")
    calls = []
    assert budget.run_chunked(lambda a, b: calls.append((a, b)), 1000, None) == 1000
    assert calls[0] == (0, 1) and all(p[1] == q[0] for p, q in zip(calls, calls[1:])) and calls[-1][1] == 1000
    done = budget.run_chunked(lambda a, b: None, 1000, budget.Deadline(time.perf_counter() - 1))
    assert done == 1  # at least one step, then the expired deadline stops it


def test_adiabatic_honours_the_time_limit():
    """Its default schedule ignores steps, so even a budget's short probe batch ran every level (SK N = 8000:
    145 s under a 5 s limit). On SK N = 1500 all 121 levels take well over 10 s; with a 1 s limit the batch
    stops at a level boundary and reports the levels done."""
    m = sk_model(1500, 0)
    t0 = time.perf_counter()
    r = solve(m, "adiabatic", time_limit=1.0, seed=0, replicas=4)
    elapsed = time.perf_counter() - t0
    assert elapsed < 8, elapsed  # generous: compilation and the top eigenpair come before the first level
    assert r.batches == 1 and 0 < r.extra["batch_steps"][0] < DEFAULT_SCHEDULE.n_levels
    assert len(r.extra["levels"]) == r.extra["batch_steps"][0] == len(r.extra["q"])
    assert r.energy == pytest.approx(m.energy(r.spins))


@pytest.mark.parametrize("solver, steps", [("sa", 10**6), ("tabu", 10**9)])
def test_explicit_steps_stop_at_the_time_limit(solver, steps):
    """An explicit step count that would take an hour stops at the limit with the steps actually taken."""
    m = sk_model(1000, 2)
    t0 = time.perf_counter()
    r = solve(m, solver, replicas=2, steps=steps, time_limit=1.0, seed=0)
    assert time.perf_counter() - t0 < 10
    assert r.batches == 1 and 0 < r.steps < steps
    assert r.energy == pytest.approx(m.energy(r.spins))


def test_unlimited_runs_are_unchanged_by_the_deadline():
    """Without a time limit the deadline never fires: the full run, identical to a run without it."""
    m = sk_model(60, 4)
    a = solve(m, "sa", replicas=2, steps=300, seed=5, polish_result=False)
    b = get_solver("sa").run(m, replicas=2, steps=300, rng=np.random.default_rng(5))
    assert a.steps == 300 and b.steps == 300 and a.extra["interrupted"] is False
    np.testing.assert_array_equal(a.energies, m.energies(b.spins))


@pytest.mark.parametrize("solver, params", [
    ("adiabatic", dict(kick=1e200)),
    ("dopo", dict(dt=50.0)),
    ("mfb", dict(eps=1e10)),
    ("sfc", dict(dt=100.0)),
    ("asb", dict(dt=100.0)),
])
def test_diverging_dynamics_stop_with_one_line(solver, params):
    """cim, ahc, cac and sb are covered in test_reliability; cfc and simcim clip their amplitudes."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's overflow warnings on the way to inf
        with pytest.raises(CimsimError, match="diverged") as exc:
            get_solver(solver).run(sk_model(40, 0), replicas=2, steps=400, rng=np.random.default_rng(0), **params)
    msg = str(exc.value)
    assert "\n" not in msg and msg.startswith(f"{solver}: ")
    step = int(msg.split("by step ")[1].split()[0])
    assert step < 400  # stopped when it happened, not at the end



@pytest.mark.parametrize("solver", ["cim", "dopo", "mfb", "cfc", "sfc", "asb", "simcim"])
def test_dynamics_stop_a_batch_at_the_time_limit(solver):
    """A batch of a million steps (hours of work) under a 1 s budget stops at the deadline, is scored, and
    reports the steps it really took; the energy is the model's energy of the returned spins."""
    model = sk_model(200, seed=4)
    t0 = time.perf_counter()
    res = solve(model, solver, replicas=8, steps=1_000_000, seed=0, time_limit=1.0)
    assert time.perf_counter() - t0 < 30.0  # generous: compilation and the eigenvalue step included
    assert res.batches == 1 and 0 < res.extra["batch_steps"][0] < 1_000_000
    assert res.energy == pytest.approx(model.energy(res.spins))
    assert np.all(np.isfinite(res.energies))
