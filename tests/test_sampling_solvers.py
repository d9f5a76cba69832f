"""Sampling mode of the solvers (cimsim.sampling.Tap): every solver that sets SAMPLES records the unpolished
sign pattern of every replica after the burn-in, every k steps, exactly ``limit`` samples, each with its true
energy; a tap never changes what the solver does; memory stays bounded on 100k spins."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from cimsim.errors import CimsimError
from cimsim.model import IsingModel
from cimsim.sampling import StateCounter, Tap, canonicalise, pack, tapping
from cimsim.solvers import SOLVERS, get_solver, solve
from cimsim.solvers.polish import polish
from cimsim.solvers.driver import sampling_solvers

from .conftest import all_spin_vectors

SAMPLERS = sampling_solvers()
#: solvers this file's author wired (the others that set SAMPLES are tested the same way)
WIRED = ("cim", "dopo", "mfb", "sb", "sa", "tabu", "cfc", "sfc", "asb", "simcim")


def pm1_maxcut(seed: int, n: int, density: float = 0.5, sparse: bool = False) -> IsingModel:
    """J = -W for a random graph of the given density with +-1 weights (a +-1 MaxCut instance)."""
    rng = np.random.default_rng(seed)
    W = np.triu(rng.choice([-1.0, 1.0], size=(n, n)) * (rng.random((n, n)) < density), 1)
    J = -(W + W.T)
    return IsingModel.from_couplings(sp.csr_matrix(J) if sparse else J)


class LoggingTap(Tap):
    """A tap that also notes (run, step) of every record call."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.calls: list[tuple[int, int]] = []

    def record(self, t, S, E=None) -> None:  # type: ignore[override]
        if not self.full():
            self.calls.append((self.runs, int(t)))
        super().record(t, S, E)


def test_every_wired_solver_samples() -> None:
    assert set(WIRED) <= set(SAMPLERS)
    assert set(SAMPLERS) <= set(SOLVERS)


@pytest.mark.parametrize("name", SAMPLERS)
def test_limit_burn_in_every_and_true_energies(name: str) -> None:
    """77 samples from 4 replicas (not a multiple): exactly 77, taken after a burn-in of 5 steps every 3
    steps of each run with no mark skipped, continuing over batches; every energy is the model's energy of
    its spins; the first samples (near the random start) are not all 1-flip stable, i.e. unpolished."""
    model = pm1_maxcut(2, 12)
    R, T, burn_in, every, limit = 4, 30, 5, 3, 77
    tap = LoggingTap(StateCounter(n=model.n), every=every, burn_in=burn_in, limit=limit, keep=True)
    with tapping(tap):
        solve(model, name, replicas=R, steps=T, seed=1)
    assert tap.samples == limit == tap.counter.samples
    S, E = tap.reads()
    assert S.shape == (limit, model.n) and np.array_equal(E, model.energies(S))
    Sc, Ec, C, _ = tap.counter.states()
    assert np.array_equal(Ec, model.energies(Sc)) and C.sum() == limit
    # records: per run at burn_in + every, burn_in + 2 every, ... (marks up to T = 29: 8 per run of 30 steps)
    marks = list(range(burn_in + every, T + 1, every))
    runs = sorted({r for r, _ in tap.calls})
    assert len(tap.calls) == -(-limit // R) and len(runs) == -(-len(tap.calls) // len(marks))
    for r in runs:
        ts = [t for q, t in tap.calls if q == r]
        assert ts == marks[:len(ts)]
    assert [t for _, t in tap.calls][-1] == marks[(len(tap.calls) - 1) % len(marks)]
    # unpolished: 1-flip local search lowers some recorded state of the first record
    assert np.any(model.energies(polish(model, S[:R])) < E[:R])


def test_records_start_only_after_the_burn_in_and_stop_at_the_run_end() -> None:
    """A burn-in as long as the run records nothing; one a period shorter records exactly the last step."""
    model = pm1_maxcut(2, 12)
    for name in SAMPLERS:
        tap = LoggingTap(StateCounter(n=model.n), every=1, burn_in=20)
        with tapping(tap):
            solve(model, name, replicas=3, steps=20, seed=0)
        assert tap.samples == 0, name
        tap = LoggingTap(StateCounter(n=model.n), every=4, burn_in=16)
        with tapping(tap):
            solve(model, name, replicas=3, steps=20, seed=0)
        assert tap.calls == [(1, 20)] and tap.samples == 3, name


#: sampler settings that keep visiting states instead of settling in one (fixed temperature, noise at
#: threshold) for the degenerate-ground-state check
GOOD = {
    "sa": dict(beta_min=1.0, beta_max=1.0),
    "mfb": dict(schedule="constant:0.0,relative=1", g2=1e-2),
    "cim": {},
    "dopo": {},
    "simcim": {},
    "asb": {},
    "sb": {},
}


@pytest.mark.parametrize("name", sorted(GOOD))
def test_every_degenerate_ground_state_is_sampled(name: str) -> None:
    """N = 12 +-1 MaxCut instance with 4 ground states up to the global flip (brute force): every one of
    them is among the states a good sampler visits in 20,000 samples, and every visited state's energy is
    the brute-force energy of that state."""
    model = pm1_maxcut(2, 12)
    allS = all_spin_vectors(12)
    E_all = model.energies(allS)
    ground = set(pack(canonicalise(allS[E_all == E_all.min()])))
    assert len(ground) == 4
    energy_of = dict(zip(pack(allS), E_all))
    tap = Tap(StateCounter(n=12, canonical=True), every=1, burn_in=10, limit=20_000)
    with tapping(tap):
        solve(model, name, replicas=8, steps=200, seed=1, **GOOD[name])
    seen = tap.counter.first_seen()
    assert ground <= set(seen)
    S, E, _, _ = tap.counter.states()
    assert np.array_equal(E, [energy_of[k] for k in pack(S)])


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("name", SAMPLERS)
def test_a_tap_does_not_change_the_run(name: str, sparse: bool) -> None:
    """The same seed gives the same result (spins, energy, every batch's energies and steps) with a tap
    that records every step of the run (the kernels of sb, sa and tabu then run one step per call) as
    without one."""
    model = pm1_maxcut(5, 40, density=0.5 if not sparse else 0.1, sparse=sparse)
    kw = dict(replicas=5, steps=120, seed=3, polish_result=False, presolve=False)
    plain = solve(model, name, **kw)
    tap = Tap(StateCounter(n=model.n), every=1, burn_in=0)
    with tapping(tap):
        tapped = solve(model, name, **kw)
    assert tap.samples == 5 * 120
    assert np.array_equal(plain.spins, tapped.spins) and plain.energy == tapped.energy
    assert np.array_equal(plain.energies, tapped.energies)
    assert plain.extra.get("batch_steps") == tapped.extra.get("batch_steps")


def test_sb_in_stretches_equals_one_call_also_for_bsb() -> None:
    """bSB (readout every 10 steps) with records every 7 steps after a burn-in of 3: the stretch boundaries
    fall between readouts, and the best states are still those of one uninterrupted call."""
    for sparse in (False, True):
        model = pm1_maxcut(6, 30, density=0.3, sparse=sparse)
        kw = dict(replicas=4, steps=95, seed=2, polish_result=False, variant="bsb")
        plain = solve(model, "sb", **kw)
        tap = Tap(StateCounter(n=model.n), every=7, burn_in=3)
        with tapping(tap):
            tapped = solve(model, "sb", **kw)
        assert tap.samples == 4 * len(range(10, 96, 7))
        assert np.array_equal(plain.spins, tapped.spins)
        assert np.array_equal(plain.energies, tapped.energies)


#: absolute pumps: a relative schedule would spend most of the test on lambda_max of the 100k-spin graph
CONSTANT_PUMP = {"cim": dict(a=-0.5), "mfb": dict(schedule="constant:1.0")}


@pytest.mark.parametrize("name", ["sa", "cim", "mfb", "sb"])
def test_state_cap_bounds_memory_on_100k_spins(name: str) -> None:
    """A 100,000-spin sparse run with a cap of 16 stored states: never more than 16 kept, every sample
    either counted on a stored state or reported dropped."""
    n = 100_000
    rng = np.random.default_rng(7)
    i = np.arange(n)
    j = rng.permutation(n)
    keep = i != j
    rows = np.concatenate([i, (i + 1) % n, i[keep]])
    cols = np.concatenate([(i + 1) % n, i, j[keep]])
    W = sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(n, n))
    W = ((W + W.T) > 0).astype(np.float64)
    model = IsingModel.from_couplings(-W.tocsr())
    tap = Tap(StateCounter(n=n, cap=16), every=2, burn_in=2, limit=60)
    with tapping(tap):
        solve(model, name, replicas=3, steps=50, seed=0, **CONSTANT_PUMP.get(name, {}))
    c = tap.counter
    assert c.samples == 60 and len(c) <= 16
    _, _, counts, _ = c.states()
    assert counts.sum() + c.dropped_samples == 60 and c.dropped_samples >= 60 - 16


def test_a_solver_that_cannot_sample_is_refused_in_one_line() -> None:
    model = pm1_maxcut(2, 12)
    for name in ("spectral", "exact", "adiabatic"):
        assert not getattr(get_solver(name), "SAMPLES", False)
        with tapping(Tap(StateCounter(n=12), limit=10)), pytest.raises(CimsimError) as err:
            solve(model, name)
        msg = str(err.value)
        assert "\n" not in msg and name in msg and all(s in msg for s in WIRED)
    # outside sampling mode the same solvers run as always
    assert solve(model, "exact").energy == model.energies(all_spin_vectors(12)).min()


@pytest.mark.parametrize("name", ["cim", "sb"])
def test_gpu_paths_refuse_sampling_in_one_line(name: str) -> None:
    model = pm1_maxcut(2, 12)
    module = get_solver(name)
    with tapping(Tap(StateCounter(n=12), limit=10)), pytest.raises(CimsimError, match="CPU only"):
        module.run(model, replicas=2, steps=10, rng=np.random.default_rng(0), backend="gpu")


def test_run_chunked_ends_a_range_at_every_mark() -> None:
    """Ranges cover [0, total) in order, none crosses a mark, and at_mark sees each mark once, in order
    (marks beyond the total or repeated are ignored)."""
    from cimsim.solvers.budget import run_chunked

    calls: list[tuple[int, int]] = []
    seen: list[int] = []
    marks = [3, 3, 10, *range(17, 120, 9), 500]
    done = run_chunked(lambda a, b: calls.append((a, b)), 100, None, marks=marks, at_mark=seen.append)
    assert done == 100 and seen == sorted({m for m in marks if m <= 100})
    assert calls[0][0] == 0 and calls[-1][1] == 100
    assert all(b0 == a1 for (_, b0), (a1, _) in zip(calls, calls[1:])) and all(a < b for a, b in calls)
    assert not any(a < m < b for a, b in calls for m in marks)
