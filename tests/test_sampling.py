"""cimsim.sampling: the bounded state counter and the sampling statistics (T11 and friends)."""
from __future__ import annotations

import itertools
import math
import tracemalloc

import numpy as np
import pytest

from cimsim.sampling import (StateCounter, canonicalise, coverage_time, effective_temperature, fairness, hamming,
                             harmonic, pack, unpack)


def test_pack_round_trip_and_canonical_pairs() -> None:
    rng = np.random.default_rng(0)
    S = rng.choice(np.array([-1, 1], dtype=np.int8), size=(50, 37))
    for s, key in zip(S, pack(S)):
        assert np.array_equal(unpack(key, 37), s)
    C = canonicalise(np.vstack([S, -S]))
    assert np.all(C[:, 0] == 1) and np.array_equal(C[:50], C[50:])


def test_counter_counts_and_sorts_by_energy() -> None:
    c = StateCounter(n=4, canonical=True)
    a = np.array([1, -1, 1, -1], dtype=np.int8)
    b = np.array([1, 1, 1, -1], dtype=np.int8)
    c.add(np.array([a, -a, b]), np.array([-2.0, -2.0, 0.0]), step=0)
    c.add(np.array([b]), np.array([0.0]), step=5)
    S, E, C, F = c.states()
    assert len(c) == 2 and c.samples == 4
    assert np.array_equal(E, [-2.0, 0.0]) and np.array_equal(C, [2, 2]) and np.array_equal(F, [0, 0])
    assert np.array_equal(S[0], a)


def test_counter_keeps_the_lowest_states_under_its_cap_and_reports_drops() -> None:
    c = StateCounter(n=8, cap=3)
    states = np.array(list(itertools.product([-1, 1], repeat=8)), dtype=np.int8)[:10]
    energies = np.arange(10, 0, -1, dtype=float)  # later states are lower
    for s, e in zip(states, energies):
        c.add(s[None], np.array([e]), step=0)
    _, E, _, _ = c.states()
    assert np.array_equal(E, [1.0, 2.0, 3.0])
    assert c.dropped_states == 7 and c.dropped_samples == 7 and c.samples == 10


def test_memory_stays_flat_on_a_100k_spin_stream_with_a_cap() -> None:
    n, cap = 100_000, 64
    c = StateCounter(n=n, cap=cap)
    rng = np.random.default_rng(1)
    tracemalloc.start()
    try:
        for step in range(40):
            S = rng.choice(np.array([-1, 1], dtype=np.int8), size=(8, n))
            c.add(S, rng.normal(size=8), step)
            if step == 10:
                base = tracemalloc.get_traced_memory()[0]
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert len(c) == cap and c.samples == 320 and c.dropped_samples == 320 - cap  # every state was new
    # stored states are packed bits: cap x N/8 bytes, and nothing grows with the stream once the cap is full
    assert after - base < 2 * cap * n // 8


def test_t11_coverage_estimator_equals_the_coupon_collector_mean() -> None:
    """G targets, each hit with probability q per round trip: E[coverage] = H_G / q (T11)."""
    G, q, runs = 20, 1e-5, 4000
    rng = np.random.default_rng(2)
    keys = [bytes([g]) for g in range(G)]
    times = []
    for _ in range(runs):
        first = {k: int(t) for k, t in zip(keys, rng.geometric(q, size=G))}
        first[b"other"] = 1  # non-target states do not matter
        times.append(coverage_time(first, keys))
    expected = harmonic(G) / q
    assert expected == pytest.approx(3.5977e5, rel=1e-4)
    sem = np.std(times) / math.sqrt(runs)
    assert abs(np.mean(times) - expected) < 4 * sem
    assert coverage_time({keys[0]: 3}, keys[:2]) == math.inf


def test_fairness_of_uniform_and_skewed_counts() -> None:
    fair = fairness(np.full(8, 100))
    assert fair["entropy"] == pytest.approx(1.0) and fair["max_min_ratio"] == 1.0 and fair["p_value"] > 0.99
    skew = fairness(np.array([400, 100, 100, 100]))
    assert skew["entropy"] < 0.95 and skew["max_min_ratio"] == 4.0 and skew["p_value"] < 1e-6
    thinned = fairness(np.array([400, 100, 100, 100]), thin=100)  # 7 independent visits: not significant
    assert thinned["p_value"] > 0.01
    assert fairness(np.array([5, 0]))["max_min_ratio"] == math.inf


def test_effective_temperature_recovers_a_boltzmann_sample() -> None:
    rng = np.random.default_rng(3)
    n = 10
    J = np.triu(rng.normal(size=(n, n)), 1)
    J = J + J.T
    S = np.array(list(itertools.product([-1, 1], repeat=n)), dtype=float)
    H = -0.5 * np.einsum("ij,jk,ik->i", S, J, S)
    T = 1.7
    p = np.exp(-(H - H.min()) / T)
    p /= p.sum()
    counts = rng.multinomial(200_000, p)
    seen = counts > 0
    assert effective_temperature(H[seen], counts[seen], support=H) == pytest.approx(T, rel=0.03)
    assert effective_temperature(np.array([-1.0, 0.0]), np.array([10, 0]), support=np.array([-1.0, 0.0])) == 0.0


def test_hamming_up_to_flip() -> None:
    a = np.array([[1, 1, 1, 1]])
    b = np.array([[-1, -1, -1, 1], [1, 1, -1, -1]])
    assert np.array_equal(hamming(a, b), [[3, 2]])
    assert np.array_equal(hamming(a, b, up_to_flip=True), [[1, 2]])
