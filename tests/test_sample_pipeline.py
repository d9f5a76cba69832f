"""cimsim.pipeline.sample and cimsim.sampler: exact low levels, the sample record and its estimators
(physics.md 8.8)."""
from __future__ import annotations

import itertools
import json
import math

import networkx as nx
import numpy as np
import pytest

from cimsim import pipeline
from cimsim.errors import CimsimError
from cimsim.model import IsingModel
from cimsim.sampler import SampleRecord, autocorrelation_time, low_levels, sample_run


def petersen() -> nx.Graph:
    """MaxCut on the Petersen graph: 10 spins, 5 ground-state pairs (cut 12), 30 first-excited pairs."""
    return nx.convert_node_labels_to_integers(nx.petersen_graph())


def brute_levels(J: np.ndarray, h: np.ndarray, canonical: bool) -> tuple[set, float, float]:
    """Every state with H <= E1 by itertools, H = -1/2 s J s - h s computed here; canonical: s_1 = +1."""
    n = J.shape[0]
    states = np.array(list(itertools.product([-1, 1], repeat=n)), dtype=np.int64)
    if canonical:
        states = states[states[:, 0] == 1]
    E = np.array([-0.5 * s @ J @ s - h @ s for s in states])
    e0 = E.min()
    e1 = E[E > e0 + 1e-9].min()
    return {tuple(s) for s in states[E <= e1 + 1e-9]}, float(e0), float(e1)


def cut_weight(graph: nx.Graph, s) -> float:
    return float(sum(d.get("weight", 1.0) for u, v, d in graph.edges(data=True) if s[u] != s[v]))


@pytest.mark.parametrize("fields", [False, True])
def test_low_levels_equal_brute_force(fields):
    rng = np.random.default_rng(5)
    n = 11
    J = np.triu(rng.choice([-1.0, 0.0, 1.0], size=(n, n)), 1)
    J = J + J.T
    h = rng.choice([-1.0, 1.0], size=n) if fields else np.zeros(n)
    model = IsingModel(J, h)
    lv = low_levels(model)
    want, e0, e1 = brute_levels(J, h, canonical=not fields)
    got = {tuple(int(v) for v in s) for s in lv.spins}
    assert got == want and len(lv.spins) == len(want)
    assert lv.e0 == pytest.approx(e0) and lv.e1 == pytest.approx(e1)
    assert lv.canonical == (not fields)
    assert np.allclose(lv.energies, [-0.5 * s @ J @ s - h @ s for s in lv.spins.astype(float)])


def test_low_levels_on_petersen_and_limits():
    enc = pipeline.encode("maxcut", petersen())
    lv = low_levels(enc.model)
    assert int(lv.ground.sum()) == 5 and len(lv.spins) == 35
    assert low_levels(enc.model, max_n=9) is None  # too large to enumerate
    assert low_levels(enc.model, cap=10) is None  # more than 10 states up to E1


@pytest.fixture(scope="module")
def petersen_record():
    graph = petersen()
    enc = pipeline.encode("maxcut", graph)
    rec = pipeline.sample(enc, pipeline.SolverSpec(name="cfc", seed=1), samples=4000, every=5, burn_in=20)
    return graph, enc, rec


def test_every_ground_state_found_and_target_set_exact(petersen_record):
    graph, enc, rec = petersen_record
    J = nx.to_numpy_array(graph)
    want, e0, e1 = brute_levels(-J, np.zeros(len(J)), canonical=True)  # maxcut: J_ij = -w_ij
    ground = {s for s in want if -0.5 * np.array(s) @ (-J) @ np.array(s) <= e0 + 1e-9}
    assert rec.target["source"] == "enumerated" and rec.target["size"] == len(want) == 35
    assert rec.ground["energy"] == pytest.approx(e0) and rec.ground["first_excited"] == pytest.approx(e1)
    assert rec.ground["degeneracy"] == 2 * len(ground) == 10
    seen = {tuple(s["spins"]) for s in rec.states if s["count"] > 0}
    assert ground <= seen  # every ground state was sampled
    assert len(rec.fairness["counts"]) == 5 and min(rec.fairness["counts"]) > 0
    by_state = {tuple(s["spins"]): s["count"] for s in rec.states}
    assert sorted(rec.fairness["counts"]) == sorted(by_state[g] for g in ground)


def test_energies_objectives_and_counts_are_consistent(petersen_record):
    graph, enc, rec = petersen_record
    J = nx.to_numpy_array(graph)
    assert rec.samples == 4000 and sum(s["count"] for s in rec.states) == 4000 and rec.dropped_samples == 0
    assert rec.distinct == len(rec.states)
    energies = [s["energy"] for s in rec.states]
    assert energies == sorted(energies)
    for s in rec.states:
        v = np.array(s["spins"], dtype=float)
        assert s["spins"][0] == 1  # canonical: no fields
        assert s["energy"] == pytest.approx(-0.5 * v @ (-J) @ v)  # recomputed here, independently
        assert s["objective"] == pytest.approx(cut_weight(graph, s["spins"]))
        assert s["objective"] == pytest.approx(enc.decode(np.array(s["spins"])).objective)
    e0 = rec.ground["energy"]
    at_e0 = sum(s["count"] for s in rec.states if s["energy"] <= e0 + 1e-9)
    assert rec.ground["p_ground"] == pytest.approx(at_e0 / 4000)
    assert sum(rec.residual_histogram["counts"]) == pytest.approx(4000)
    assert sum(rec.hamming_to_ground["counts"]) == 4000 and rec.hamming_to_ground["counts"][0] == at_e0


def test_coverage_and_curve_follow_the_states(petersen_record):
    _, _, rec = petersen_record
    t = rec.target
    e1 = rec.ground["first_excited"]
    firsts = sorted(s["first_sample"] for s in rec.states if s["energy"] <= e1 + 1e-9)
    assert t["seen"] == len(firsts) == len(t["curve"]["samples"])
    assert t["curve"]["samples"] == [f + 1 for f in firsts] and t["curve"]["seen"] == list(range(1, len(firsts) + 1))
    if t["seen"] == t["size"]:
        assert t["coverage_samples"] == firsts[-1] + 1 and t["coverage_steps"] == (firsts[-1] + 1) * rec.every
    else:
        assert math.isinf(t["coverage_samples"])


def test_effective_temperature_is_the_two_level_maximum_likelihood(petersen_record):
    """Over the enumerated set {E0, E1} the ML temperature solves n0/n1 = g0/g1 exp((E1 - E0)/T)."""
    _, _, rec = petersen_record
    e0, e1 = rec.ground["energy"], rec.ground["first_excited"]
    n0 = sum(s["count"] for s in rec.states if s["energy"] <= e0 + 1e-9)
    n1 = sum(s["count"] for s in rec.states if e0 + 1e-9 < s["energy"] <= e1 + 1e-9)
    g0, g1 = 5, 30
    T = rec.effective_temperature["T"]
    assert rec.effective_temperature["support"].startswith("enumerated")
    assert (e1 - e0) / math.log(n0 * g1 / (n1 * g0)) == pytest.approx(T, rel=1e-6)


def test_record_json_round_trip(petersen_record):
    _, _, rec = petersen_record
    text = json.dumps(rec.to_dict())
    back = SampleRecord.from_dict(json.loads(text))
    assert back.to_dict() == rec.to_dict()
    with pytest.raises(CimsimError, match="not a sample record"):
        SampleRecord.from_dict({"problem": "maxcut"})


def test_samples_honoured_exactly_across_runs():
    enc = pipeline.encode("maxcut", petersen())
    for k in (1, 37, 250):  # 2 replicas x 10 records per run: k = 250 needs 13 runs, the last cut short
        rec = pipeline.sample(enc, pipeline.SolverSpec(name="simcim", seed=2, replicas=2, steps=30), samples=k,
                              every=2, burn_in=10)
        assert rec.samples == k and sum(s["count"] for s in rec.states) == k
        assert rec.runs == math.ceil(k / 20)


def test_fields_are_not_canonicalised():
    rng = np.random.default_rng(3)
    J = np.triu(rng.normal(size=(8, 8)), 1)
    model = IsingModel(J + J.T, rng.normal(size=8))
    enc = pipeline.as_encoded(model)
    rec = pipeline.sample(enc, pipeline.SolverSpec(name="cfc", seed=0, replicas=4, steps=100), samples=300)
    assert not rec.canonical and rec.target["source"] == "enumerated"
    for s in rec.states:
        assert s["energy"] == pytest.approx(model.energy(np.array(s["spins"])))


def test_reference_runs_give_the_target_beyond_enumeration():
    enc = pipeline.encode("maxcut", petersen())
    rec = sample_run(enc, "cfc", seed=4, replicas=4, steps=200, samples=400, every=2, burn_in=20, reference=2,
                     enumerate_max_n=5)
    assert rec.target["source"] == "union of 2 reference runs" and rec.ground["p_ground"] is None
    assert rec.effective_temperature["support"] == "observed states"
    assert 0 < rec.target["size"] <= 35
    none = sample_run(enc, "cfc", seed=4, replicas=4, steps=200, samples=400, reference=0, enumerate_max_n=5)
    assert none.target["source"] == "none" and none.target["coverage_samples"] is None


def test_autocorrelation_time_of_a_markov_chain():
    """Spins flipping independently with probability p per sample: rho(t) = (1 - 2p)^t, so
    tau = (1 + r) / (1 - r) with r = 1 - 2p (p = 0.05: tau = 19)."""
    rng = np.random.default_rng(0)
    p, L, K, N = 0.05, 4000, 4, 50
    series = []
    for _ in range(3):
        flips = rng.random((L, K, N)) < p
        start = rng.choice([-1, 1], size=(1, K, N))
        x = (start * np.cumprod(np.where(flips, -1, 1), axis=0)).astype(np.int8)
        series.append(x)
    tau, how = autocorrelation_time(series)
    r = 1 - 2 * p
    assert tau == pytest.approx((1 + r) / (1 - r), rel=0.1)
    assert "Sokal window" in how
    frozen = [np.ones((30, 2, 5), dtype=np.int8)]
    assert autocorrelation_time(frozen)[0] == 30.0  # nothing moves: one visit per replica per run


@pytest.mark.parametrize("kw, message", [
    ({"samples": 0}, "samples must be a positive integer"),
    ({"every": 0}, "every must be a positive integer"),
    ({"burn_in": 100}, "not shorter than the run"),
    ({"burn_in": 90, "every": 20}, "no sample in a run"),
    ({"burn_in": -1}, "burn-in must be a non-negative integer"),
    ({"cap": 0}, "cap must be a positive integer"),
])
def test_bad_sampling_settings_are_refused(kw, message):
    enc = pipeline.encode("maxcut", petersen())
    with pytest.raises(CimsimError, match=message):
        pipeline.sample(enc, pipeline.SolverSpec(name="cfc", seed=0, steps=100), **kw)


def test_solver_without_sampling_mode_is_refused():
    enc = pipeline.encode("maxcut", petersen())
    with pytest.raises(CimsimError, match="has no sampling mode"):
        pipeline.sample(enc, pipeline.SolverSpec(name="exact"), samples=10)


def test_api_twin_is_seeded_and_takes_models():
    import cimsim

    a = cimsim.sample("maxcut", petersen(), "cfc", samples=300, seed=11, replicas=4, steps=200)
    b = cimsim.sample("maxcut", petersen(), "cfc", samples=300, seed=11, replicas=4, steps=200)
    assert a.states == b.states and a.fairness == b.fairness  # same seed, same stream
    J = nx.to_numpy_array(petersen())
    rec = cimsim.sample(IsingModel(-J, np.zeros(10)), "cfc", samples=300, seed=11, replicas=4, steps=200)
    assert rec.problem == "ising" and [s["energy"] for s in rec.states] == [s["energy"] for s in a.states]
    with pytest.raises(CimsimError, match="second argument is the solver"):
        cimsim.sample(IsingModel(-J, np.zeros(10)), 3)
