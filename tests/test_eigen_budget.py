"""Eigenvalue estimates bounded by the budget, and budgeted solves whose deadline has already passed (issue
20.5: every solver's call ends near its time limit on dense SK N = 8000 and still returns a polished answer).

No timing asserts: a deadline in the past is the deterministic stand-in for "no time left"."""
from __future__ import annotations

import time

import numpy as np
import pytest

from cimsim.instances import sk_model
from cimsim.solvers import budget, eigen, get_solver, solve
from cimsim.solvers import adiabatic, sb, spectral

SOLVERS = ["sa", "tabu", "cim", "sb", "cac", "ahc", "cfc", "sfc", "asb", "simcim", "dopo", "mfb", "spectral",
           "adiabatic"]


def test_lanczos_extremes_match_the_full_spectrum():
    m = sk_model(300, 3)
    w, U = np.linalg.eigh(np.asarray(m.J))
    ext = eigen.extremes(m, 4, tol=1e-8)
    assert ext.converged
    np.testing.assert_allclose(ext.top, w[::-1][:4], rtol=1e-6)
    assert ext.bottom == pytest.approx(w[0], rel=1e-6)
    for i in range(4):  # Ritz vectors: unit, and the eigenvectors up to sign
        assert abs(ext.vectors[:, i] @ U[:, -1 - i]) == pytest.approx(1.0, abs=1e-5)


def test_an_expired_deadline_gets_a_short_estimate_kept_only_for_the_budgeted_run():
    m = sk_model(300, 3)
    past = budget.Deadline(time.perf_counter() - 1.0)
    cut = eigen.extremes(m, 1, tol=1e-12, deadline=past)
    assert eigen.MIN_STEPS <= cut.steps < 300 and not cut.converged
    w = np.linalg.eigvalsh(np.asarray(m.J))
    assert w[0] <= cut.bottom < cut.top[0] <= w[-1]  # Ritz values lie inside the spectrum
    assert abs(cut.bottom - w[0]) <= cut.residual_bottom + 1e-9  # an eigenvalue within the residual
    with budget.running_under(past):  # the rest of the budgeted run reuses it
        assert eigen.extremes(m, 1, tol=1e-12).steps == cut.steps
    full = eigen.extremes(m, 1, tol=1e-8)  # no deadline: computed again, to convergence
    assert full.converged and full.top[0] == pytest.approx(w[-1], rel=1e-8)


def _one_flip_minimum(model, s: np.ndarray) -> bool:
    phi = np.asarray(model.J) @ s.astype(float) + model.h
    return bool(np.all(s * phi >= -1e-9))  # flipping spin i changes H by 2 s_i phi_i


@pytest.fixture
def lanczos_everywhere(monkeypatch):
    """The dense-N >= 2000 eigenvalue paths on a small model (the modules bind the threshold at import)."""
    for mod in (eigen, sb, adiabatic, spectral):
        monkeypatch.setattr(mod, "LANCZOS_MIN_N", 64)


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_deadline_already_past_still_gives_a_polished_answer(solver, lanczos_everywhere):
    """A time limit used up before the first batch (1 us): one batch runs (cut at its first chance), the
    eigenvalue estimates stop after their minimum steps, and the answer is whole: +-1 spins, the energy
    recomputed from them, a 1-flip local minimum (polished), the steps really taken reported."""
    m = sk_model(150, 11)
    r = solve(m, solver, seed=0, time_limit=1e-6)
    assert r.batches == 1
    assert set(np.unique(r.spins)) <= {-1, 1}
    assert r.energy == pytest.approx(m.energy(r.spins), rel=1e-12, abs=1e-9)
    assert r.energies.min() == pytest.approx(r.energy, rel=1e-12, abs=1e-9)
    assert _one_flip_minimum(m, r.spins)
    assert 1 <= r.extra["batch_steps"][0] <= get_solver(solver).defaults(m)["steps"]


def test_sb_chunked_under_a_deadline_is_the_uncut_run():
    """sb under a deadline that never fires runs in chunks with the same moves as one kernel call; an
    expired one stops after the first chunk and scores the state there."""
    m = sk_model(120, 5)
    mod = get_solver("sb")
    a = mod.run(m, replicas=6, steps=300, rng=np.random.default_rng(2))
    b = mod.run(m, replicas=6, steps=300, rng=np.random.default_rng(2), deadline=budget.Deadline(time.perf_counter() + 3600))
    np.testing.assert_array_equal(a.spins, b.spins)
    np.testing.assert_array_equal(a.extra["best_energies"], b.extra["best_energies"])
    assert a.steps == b.steps == 300
    c = mod.run(m, replicas=6, steps=300, rng=np.random.default_rng(2), deadline=budget.Deadline(time.perf_counter() - 1))
    assert c.steps == 1
    np.testing.assert_allclose(c.extra["best_energies"], m.energies(c.spins), rtol=1e-5, atol=1e-5)
