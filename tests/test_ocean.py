"""dimod interoperability: exact energy agreement both ways, and the sampler."""
from __future__ import annotations

import numpy as np
import pytest

from cimsim import IsingModel
from cimsim.ocean import CimsimSampler, from_bqm, to_bqm

from .conftest import all_spin_vectors, random_couplings

dimod = pytest.importorskip("dimod")


def test_round_trip_energies(rng):
    n = 7
    m = IsingModel.from_couplings(random_couplings(rng, n), rng.standard_normal(n), 0.7)
    bqm = to_bqm(m)
    S = all_spin_vectors(n)
    np.testing.assert_allclose(bqm.energies((S, list(range(n)))), m.energies(S), atol=1e-10)
    m2 = from_bqm(bqm)
    np.testing.assert_allclose(m2.energies(S), m.energies(S), atol=1e-10)


def test_binary_bqm_and_labels():
    bqm = dimod.BinaryQuadraticModel({"a": 1.0, "b": -2.0}, {("a", "b"): 3.0}, 0.5, dimod.BINARY)
    m = from_bqm(bqm)
    assert m.labels == ("a", "b")
    for x in ((0, 0), (0, 1), (1, 0), (1, 1)):
        s = 2 * np.array(x) - 1
        assert m.energy(s) == pytest.approx(bqm.energy(dict(zip("ab", x))))


def test_sampler_finds_ground_state(rng):
    n = 10
    m = IsingModel.from_couplings(random_couplings(rng, n), rng.standard_normal(n))
    bqm = to_bqm(m)
    ss = CimsimSampler().sample(bqm, solver="exact")
    exact = dimod.ExactSolver().sample(bqm)
    assert ss.first.energy == pytest.approx(exact.first.energy)
