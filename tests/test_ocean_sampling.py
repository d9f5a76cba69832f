"""CIMSampler as a sampler (issue 18.3): aggregated SampleSets, num_reads exact with and without a time
limit, initial states, the unpolished sampling mode, and keywords a solver would ignore refused."""
from __future__ import annotations

import inspect
import types
from collections import Counter

import numpy as np
import pytest

import cimsim.solvers as solvers
from cimsim import CimsimError, IsingModel
from cimsim.ocean import SAMPLER_KEYWORDS, CIMSampler, from_bqm, to_bqm
from cimsim.sampling import active_tap
from cimsim.solvers import Batch
from cimsim.solvers.polish import polish

from .conftest import all_spin_vectors, random_couplings

dimod = pytest.importorskip("dimod")
import dimod.testing  # noqa: E402


def _frustrated_bqm(n: int = 10, seed: int = 4):
    """+-1 couplings on a random 4-regular-ish graph, no fields: degenerate ground states."""
    rng = np.random.default_rng(seed)
    J = np.zeros((n, n))
    for i in range(n):
        for d in (1, 2):
            j = (i + d) % n
            J[i, j] = J[j, i] = rng.choice([-1.0, 1.0])
    return to_bqm(IsingModel.from_couplings(J))


def _spins_of(ss, labels) -> np.ndarray:
    """(rows, N) +-1 spins of a SampleSet in the order of ``labels``."""
    labels = list(range(len(ss.variables))) if labels is None else labels
    cols = [list(ss.variables).index(v) for v in labels]
    S = np.asarray(ss.record.sample)[:, cols].astype(int)
    return 2 * S - 1 if ss.vartype is dimod.BINARY else S


def _check_energies(ss, bqm) -> None:
    """dimod's energies of the BQM, and cimsim's own energy of every row's spins, equal the SampleSet's."""
    np.testing.assert_allclose(bqm.energies(ss), ss.record.energy, rtol=0, atol=1e-9)
    model = from_bqm(bqm)
    np.testing.assert_allclose(model.energies(_spins_of(ss, model.labels)), ss.record.energy, rtol=0, atol=1e-9)


def _check_aggregated(ss) -> None:
    """One row per distinct state, sorted by energy, every count positive."""
    rows = [tuple(r) for r in np.asarray(ss.record.sample)]
    assert len(set(rows)) == len(rows)
    assert (ss.record.num_occurrences > 0).all()
    assert (np.diff(ss.record.energy) >= -1e-12).all()


# ----------------------------------------------------------------------------------- num_reads exact
@pytest.mark.parametrize("combo", ["num_reads", "time_limit", "both"])
def test_reads_mode_num_reads_exact_in_every_combination(combo):
    bqm = dimod.generators.ran_r(1, 14, seed=2)
    kw = {"num_reads": {"num_reads": 7}, "time_limit": {"time_limit": 0.3},
          "both": {"num_reads": 7, "time_limit": 0.3}}[combo]
    ss = CIMSampler().sample(bqm, solver="sa", steps=30, seed=1, **kw)
    total = int(ss.record.num_occurrences.sum())
    if "num_reads" in kw:
        assert total == 7
    else:
        assert total == ss.info["reads_per_batch"] * ss.info["batches"]
    _check_energies(ss, bqm)
    _check_aggregated(ss)


@pytest.mark.parametrize("combo", ["num_reads", "time_limit", "both_subsample", "both_extended"])
def test_sampling_mode_num_reads_exact_in_every_combination(combo):
    bqm = _frustrated_bqm()
    kw = {"num_reads": {"num_reads": 777},
          "time_limit": {"time_limit": 0.3},
          "both_subsample": {"num_reads": 50, "time_limit": 0.3},  # the stream is longer: a random 50 of it
          "both_extended": {"num_reads": 3000, "time_limit": 0.01}}[combo]  # too short: sampling goes on
    ss = CIMSampler().sample(bqm, solver="cfc", sampling=True, steps=300, burn_in=20, every=3, replicas=8, seed=5,
                             **kw)
    info = ss.info["sampling"]
    total = int(ss.record.num_occurrences.sum())
    if "num_reads" in kw:
        assert total == kw["num_reads"]
    else:
        assert total == info["samples"] and info["dropped_samples"] == 0
    if combo == "both_subsample":  # usually a random 50 of a longer stream; on a slow machine extended to 50
        assert info["samples"] >= 50 and (info["samples"] == 50) == info["extended"]
    if combo == "both_extended":
        assert info["samples"] == 3000 and info["extended"]
    _check_energies(ss, bqm)
    _check_aggregated(ss)


# -------------------------------------------------------------- stand-in solvers: exact semantics
def _stand_in(monkeypatch, run, **attrs):
    """Make ``solver='fake'`` a stand-in module with this ``run`` (no parameters, 10 steps by default)."""
    mod = types.SimpleNamespace(PARAMS=(), defaults=lambda model: {"replicas": 4, "steps": 10}, run=run, **attrs)
    real = solvers.get_solver
    monkeypatch.setattr(solvers, "get_solver", lambda name: mod if name == "fake" else real(name))
    return mod


def test_num_reads_with_time_limit_is_each_replicas_best_over_the_batches(monkeypatch):
    """Read k is the lowest-energy state replica k returned in any batch (the first on ties)."""
    bqm = dimod.generators.ran_r(1, 9, seed=1)
    model = from_bqm(bqm)
    seen: list[np.ndarray] = []

    def run(model, *, replicas, steps, rng, backend, **params):
        S = np.where(rng.random((replicas, model.n)) < 0.5, -1, 1).astype(np.int8)
        seen.append(S)
        import time
        time.sleep(0.02)
        return Batch(S, steps)

    _stand_in(monkeypatch, run)
    ss = CIMSampler().sample(bqm, solver="fake", num_reads=5, time_limit=0.2, polish=False, seed=3)
    assert len(seen) == ss.info["batches"] > 2
    best = seen[0].copy()
    for S in seen[1:]:
        better = model.energies(S) < model.energies(best)
        best[better] = S[better]
    expected = Counter(map(tuple, best))
    got = Counter({tuple(s): int(c) for s, c in zip(_spins_of(ss, model.labels), ss.record.num_occurrences)})
    assert got == expected


def test_sampling_with_time_limit_and_num_reads_is_a_subset_of_the_stream(monkeypatch):
    """A stand-in sampler records a known stream of distinct states (the sample number in binary); the
    reads are exactly num_reads distinct members of it, spread over the whole stream. N = 24 spins
    number 2^24 samples without wrapping (an idle machine streams about 1e5 in the 0.3 s)."""
    n = 24
    model = IsingModel.from_couplings(random_couplings(np.random.default_rng(0), n))
    bqm = to_bqm(model)
    stream: list[int] = []

    def run(model, *, replicas, steps, rng, backend, **params):
        tap = active_tap()
        for t in range(1, steps + 1):
            if tap.wants(t):
                idx = np.arange(len(stream), len(stream) + replicas)
                stream.extend(idx.tolist())
                bits = (idx[:, None] >> np.arange(n)) & 1
                tap.record(t, 2 * bits - 1)
        return Batch(np.ones((replicas, model.n)), steps)

    _stand_in(monkeypatch, run, SAMPLES=True)
    ss = CIMSampler().sample(bqm, solver="fake", sampling=True, num_reads=400, time_limit=0.3, replicas=50, seed=2)
    info = ss.info["sampling"]
    assert info["samples"] > 4000 and not info["extended"]
    assert (ss.record.num_occurrences == 1).all() and len(ss) == 400  # every stream state is distinct
    spins = _spins_of(ss, model.labels)
    picked = ((spins > 0).astype(np.int64) << np.arange(n)).sum(axis=1)
    assert set(picked.tolist()) <= set(stream[:info["samples"]])
    # uniform over the stream: the mean position is the middle, within 5 standard errors
    L = info["samples"]
    assert abs(picked.mean() - (L - 1) / 2) < 5 * L / np.sqrt(12 * 400)
    _check_energies(ss, bqm)


def test_sampling_refuses_a_batch_that_records_nothing(monkeypatch):
    def run(model, *, replicas, steps, rng, backend, **params):
        return Batch(np.ones((replicas, model.n)), steps)

    _stand_in(monkeypatch, run, SAMPLES=True)
    with pytest.raises(CimsimError, match="recorded no sample"):
        CIMSampler().sample(dimod.generators.ran_r(1, 6, seed=0), solver="fake", sampling=True, num_reads=5)


# ------------------------------------------------------------------------------------ aggregation
def test_aggregation_counts_every_read():
    """The reads of a polish-free, few-sweep sa run (mostly distinct, some repeated) aggregate to the same
    multiset as the driver's own batch of the same seed."""
    from cimsim import pipeline
    from cimsim.ocean import bqm_encoding

    bqm = dimod.generators.ran_r(1, 8, seed=6)
    kw = dict(num_reads=60, steps=2, seed=9)
    ss = CIMSampler().sample(bqm, solver="sa", polish=False, presolve=False, **kw)
    enc = bqm_encoding(bqm)
    raw: list[np.ndarray] = []
    pipeline.run(enc, pipeline.SolverSpec(name="sa", replicas=60, steps=2, seed=9, polish=False, presolve=False),
                 on_batch=raw.append)
    expected = Counter(map(tuple, raw[0]))
    got = Counter({tuple(s): int(c) for s, c in zip(_spins_of(ss, enc.model.labels), ss.record.num_occurrences)})
    assert got == expected and len(got) < 60 and max(got.values()) > 1
    _check_aggregated(ss)


# --------------------------------------------------------------------------------- initial states
def _strict_local_minima(model: IsingModel, k: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    S = np.unique(polish(model, np.where(rng.random((4 * k, model.n)) < 0.5, -1, 1).astype(np.int8)), axis=0)
    assert len(S) >= k
    return S[:k]


def _frozen_sa() -> dict:
    """sa at an inverse temperature so high that no uphill flip is taken: a strict local minimum stays put."""
    return dict(solver="sa", steps=3, beta_min=1e6, beta_max=1e6, polish=False)


def test_initial_states_are_used():
    rng = np.random.default_rng(1)
    model = IsingModel.from_couplings(random_couplings(rng, 12), rng.standard_normal(12))
    bqm = to_bqm(model)
    starts = _strict_local_minima(model, 4, seed=2)
    ss = CIMSampler().sample(bqm, initial_states=(starts, list(range(model.n))), seed=0, **_frozen_sa())
    assert ss.record.num_occurrences.sum() == 4  # num_reads defaults to the number of initial states
    assert {tuple(s) for s in _spins_of(ss, model.labels)} == {tuple(s) for s in starts}
    # tile: 2 states over 6 reads, 3 each; as a list of dicts (dimod samples-like)
    two = [dict(zip(range(model.n), map(int, s))) for s in starts[:2]]
    ss = CIMSampler().sample(bqm, initial_states=two, initial_states_generator="tile", num_reads=6, **_frozen_sa())
    assert Counter({tuple(s): int(c) for s, c in zip(_spins_of(ss, model.labels), ss.record.num_occurrences)}) \
        == {tuple(starts[0]): 3, tuple(starts[1]): 3}
    # random: the given state plus others; none: too few refused; too many truncated
    ss = CIMSampler().sample(bqm, initial_states=two[:1], num_reads=5, seed=4, **_frozen_sa())
    assert tuple(starts[0]) in {tuple(s) for s in _spins_of(ss, model.labels)}
    assert ss.record.num_occurrences.sum() == 5
    with pytest.raises(CimsimError, match="generator='none'"):
        CIMSampler().sample(bqm, initial_states=two, initial_states_generator="none", num_reads=3, **_frozen_sa())
    ss = CIMSampler().sample(bqm, initial_states=(starts, list(range(model.n))), num_reads=1, **_frozen_sa())
    assert [tuple(s) for s in _spins_of(ss, model.labels)] == [tuple(starts[0])]


def test_initial_states_of_a_binary_bqm_with_string_labels():
    rng = np.random.default_rng(3)
    model = IsingModel.from_couplings(random_couplings(rng, 10), rng.standard_normal(10))
    spin = to_bqm(model)
    spin.relabel_variables({i: f"x{i}" for i in range(10)})
    bqm = spin.change_vartype("BINARY", inplace=False)
    m2 = from_bqm(bqm)
    starts = _strict_local_minima(m2, 3, seed=5)
    rows = [{v: int((s + 1) // 2) for v, s in zip(m2.labels, row)} for row in starts]  # 0/1 values
    ss = CIMSampler().sample(bqm, initial_states=rows, **_frozen_sa())
    assert ss.vartype is dimod.BINARY
    assert {tuple(s) for s in _spins_of(ss, m2.labels)} == {tuple(s) for s in starts}
    _check_energies(ss, bqm)


def test_initial_states_in_sampling_mode_start_every_replica():
    """Frozen sa in sampling mode: every recorded state of replica r is its start state, so 3 replicas
    recorded at 5 sweeps a batch give each start state exactly a third of 30 samples."""
    rng = np.random.default_rng(6)
    model = IsingModel.from_couplings(random_couplings(rng, 11), rng.standard_normal(11))
    starts = _strict_local_minima(model, 3, seed=7)
    kw = {k: v for k, v in _frozen_sa().items() if k != "polish"}
    ss = CIMSampler().sample(to_bqm(model), sampling=True, initial_states=(starts, list(range(11))), num_reads=30,
                             burn_in=0, every=1, **{**kw, "steps": 5})
    assert ss.info["reads_per_batch"] == 3 and ss.info["batches"] == 2
    assert Counter({tuple(s): int(c) for s, c in zip(_spins_of(ss, None), ss.record.num_occurrences)}) \
        == {tuple(s): 10 for s in starts}


# ------------------------------------------------------------------------------ unpolished sampling
@pytest.mark.parametrize("solver", ["cfc", "sfc", "asb", "simcim"])
def test_unpolished_sampling_returns_visited_states_with_their_energies(solver):
    bqm = _frustrated_bqm(10, seed=7)
    model = from_bqm(bqm)
    ss = CIMSampler().sample(bqm, solver=solver, sampling=True, num_reads=2000, every=1, burn_in=0, steps=200,
                             replicas=8, seed=1)
    assert ss.record.num_occurrences.sum() == 2000 and ss.info["mode"] == "sampling"
    _check_energies(ss, bqm)
    _check_aggregated(ss)
    S = _spins_of(ss, model.labels)
    # unpolished: the first steps start near the origin, so some states are not even 1-flip local minima
    assert (model.energies(polish(model, S.astype(np.int8))) < ss.record.energy - 1e-9).any()
    # and the low end is the ground level of the enumeration
    e0 = model.energies(all_spin_vectors(model.n)).min()
    assert ss.record.energy.min() >= e0 - 1e-9


def test_sampling_a_binary_bqm_with_fields():
    rng = np.random.default_rng(8)
    model = IsingModel.from_couplings(random_couplings(rng, 9), 0.3 * rng.standard_normal(9))
    bqm = to_bqm(model).change_vartype("BINARY", inplace=False)
    ss = CIMSampler().sample(bqm, solver="cfc", sampling=True, num_reads=300, burn_in=50, every=2, steps=200, seed=2)
    assert ss.vartype is dimod.BINARY and set(np.unique(ss.record.sample)) <= {0, 1}
    assert ss.record.num_occurrences.sum() == 300
    _check_energies(ss, bqm)


# ------------------------------------------------------------------------------- refused keywords
@pytest.mark.parametrize("kwargs, match", [
    ({"solver": "sa", "every": 2}, "only apply with sampling=True"),
    ({"solver": "cfc", "burn_in": 10, "replicas": 4}, "only apply with sampling=True"),
    ({"solver": "spectral", "sampling": True}, "has no sampling mode"),
    ({"sampling": True}, "chosen by solver='auto'"),  # auto: exact for N <= 20, which cannot sample
    ({"solver": "cfc", "sampling": True, "polish": True}, "unpolished"),
    ({"solver": "cfc", "sampling": True, "presolve": True}, "presolve"),
    ({"solver": "cfc", "sampling": True, "steps": 50, "burn_in": 50}, "longer than a batch of 50 steps"),
    ({"solver": "cfc", "sampling": True, "every": 0}, "every must be a positive integer"),
    ({"solver": "cfc", "sampling": True, "burn_in": -1}, "burn_in must be a non-negative integer"),
    ({"solver": "cfc", "sampling": "yes"}, "sampling must be True or False"),
    ({"solver": "cfc", "initial_states": [[1] * 8]}, "takes no initial states"),
    ({"solver": "cac", "initial_states_generator": "random"}, "takes no initial states"),
    ({"solver": "sa", "initial_states": [[1] * 8], "presolve": True}, "presolve"),
    ({"solver": "sa", "initial_states": [[1] * 8], "initial": [1] * 8}, "not both"),
    ({"solver": "sa", "initial_states": [[1] * 7]}, "every variable"),
    ({"solver": "sa", "initial_states": [[2] * 8]}, "SPIN .* or BINARY"),
    ({"solver": "sa", "initial_states": [[1] * 8], "initial_states_generator": "grow"}, "must be one of"),
    ({"solver": "exact", "steps": 10}, "takes no steps"),
    ({"steps": 10}, "takes no steps"),
    ({"solver": "cfc", "bogus": 1}, "unknown parameter"),
    ({"solver": "cfc", "sampling": True, "seed": -1}, "seed must be a non-negative integer"),
    ({"solver": "sa", "initial_states": [[1] * 8], "seed": 1.5}, "seed must be a non-negative integer"),
])
def test_keywords_the_solver_would_ignore_are_refused(kwargs, match):
    bqm = dimod.generators.ran_r(1, 8, seed=0)
    with pytest.raises(CimsimError, match=match) as err:
        CIMSampler().sample(bqm, **kwargs)
    assert "\n" not in str(err.value)


def test_parameters_list_every_keyword():
    sampler = CIMSampler()
    dimod.testing.assert_sampler_api(sampler)
    sig = inspect.signature(CIMSampler.sample).parameters
    own = [k for k, p in sig.items() if p.kind is p.KEYWORD_ONLY]
    assert set(own) <= set(sampler.parameters) and set(SAMPLER_KEYWORDS) <= set(sampler.parameters)
    for name, params in sampler.properties["solver_params"].items():
        assert set(params) <= set(sampler.parameters), name
        assert set(params) == {p.name for p in solvers.get_solver(name).PARAMS}
    assert {"sa", "tabu"} <= set(sampler.properties["initial_state_solvers"])
    assert {"cfc", "sfc", "asb", "simcim"} <= set(sampler.properties["sampling_solvers"])
