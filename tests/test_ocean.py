"""dimod interoperability: exact energy agreement both ways, and the CIMSampler end to end."""
from __future__ import annotations

import unittest

import numpy as np
import pytest

from cimsim import CimsimError, IsingModel
from cimsim.ocean import CIMSampler, from_bqm, to_bqm

from .conftest import all_spin_vectors, random_couplings

dimod = pytest.importorskip("dimod")
import dimod.testing  # noqa: E402


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


def test_mixed_hashable_labels_round_trip():
    labels = ["x", 3, ("q", 1), frozenset({2})]
    bqm = dimod.BinaryQuadraticModel({v: 0.5 * k for k, v in enumerate(labels)},
                                     {(labels[0], labels[2]): -1.0, (labels[1], labels[3]): 2.0}, 1.25, "SPIN")
    m = from_bqm(bqm)
    assert m.labels == tuple(bqm.variables) and set(m.labels) == set(labels)
    back = to_bqm(m)
    assert set(back.variables) == set(labels)
    dimod.testing.assert_bqm_almost_equal(back, bqm)


def test_sampler_api():
    dimod.testing.assert_sampler_api(CIMSampler())
    assert "cac" in CIMSampler().properties["solvers"]


@pytest.mark.parametrize("vartype", ["SPIN", "BINARY"])
def test_dimod_workflow_end_to_end(vartype):
    """BQM -> CIMSampler -> SampleSet: vartype, labels, num_reads and energies as dimod computes them."""
    bqm = dimod.generators.gnp_random_bqm(24, 0.4, vartype, random_state=7)
    bqm.relabel_variables({v: f"q{v}" for v in bqm.variables})
    ss = CIMSampler().sample(bqm, solver="sa", num_reads=6, steps=300, seed=11)
    assert ss.vartype is bqm.vartype
    assert set(ss.variables) == set(bqm.variables)
    assert ss.record.num_occurrences.sum() == 6  # aggregated: one row per distinct state
    dimod.testing.assert_sampleset_energies(ss, bqm)
    np.testing.assert_allclose(bqm.energies(ss), ss.record.energy, rtol=0, atol=1e-9)
    # the same energies again, independently, through cimsim's own model
    model = from_bqm(bqm)
    spins = np.array([[ss.record.sample[r, list(ss.variables).index(v)] for v in model.labels]
                      for r in range(len(ss))], dtype=float)
    if vartype == "BINARY":
        spins = 2 * spins - 1
    np.testing.assert_allclose(model.energies(spins), ss.record.energy, atol=1e-9)
    # seeded: the same call returns the same samples
    again = CIMSampler().sample(bqm, solver="sa", num_reads=6, steps=300, seed=11)
    np.testing.assert_array_equal(again.record.sample, ss.record.sample)


def test_sampler_finds_ground_state_and_matches_exact_solver(rng):
    n = 12
    m = IsingModel.from_couplings(random_couplings(rng, n), rng.standard_normal(n))
    bqm = to_bqm(m)
    exact = dimod.ExactSolver().sample(bqm).first.energy
    assert CIMSampler().sample(bqm, solver="exact").first.energy == pytest.approx(exact)
    ss = CIMSampler().sample(bqm, solver="cim", num_reads=16, seed=2, noise=0.0)
    assert ss.first.energy == pytest.approx(exact)
    qubo, off = bqm.to_qubo()
    ssq = CIMSampler().sample_qubo(qubo, num_reads=4, seed=0)  # auto: exact for N <= 20
    assert ssq.vartype is dimod.BINARY
    assert ssq.first.energy + off == pytest.approx(exact)


def test_time_limit_with_num_reads_returns_exactly_num_reads():
    """num_reads with time_limit: one read per replica (its best over the batches), however many batches
    the time allowed (a loaded machine runs one, an idle one a hundred)."""
    bqm = dimod.generators.ran_r(1, 30, seed=1)
    ss = CIMSampler().sample(bqm, solver="sa", num_reads=3, steps=50, time_limit=0.05, seed=0)
    assert ss.record.num_occurrences.sum() == 3 and ss.info["batches"] >= 1
    dimod.testing.assert_sampleset_energies(ss, bqm)


def test_bad_arguments_are_one_line_errors():
    bqm = dimod.BinaryQuadraticModel({"a": 1.0}, {}, 0.0, "SPIN")
    for kwargs in ({"num_reads": 0}, {"solver": "nope"}, {"steps": -3}, {"seed": -1}, {"solver": "sa", "bogus": 1}):
        with pytest.raises(CimsimError) as err:
            CIMSampler().sample(bqm, **kwargs)
        assert "\n" not in str(err.value)
    with pytest.raises(CimsimError):
        from_bqm({"a": 1})


# dimod's own sampler conformance suite (empty, one-variable, tuple-labelled and path BQMs of every
# BQM class, SPIN and BINARY, plus sample_ising / sample_qubo)
@dimod.testing.load_sampler_bqm_tests(CIMSampler)
class TestDimodSamplerSuite(unittest.TestCase):
    pass


def test_neal_keywords_work_unchanged():
    """Code written for neal.SimulatedAnnealingSampler runs as is: num_sweeps, beta_range, beta_schedule_type."""
    bqm = dimod.generators.ran_r(1, 16, seed=3)
    kw = dict(num_reads=4, num_sweeps=200, beta_range=(0.1, 5.0), beta_schedule_type="linear", seed=5)
    ss = CIMSampler().sample(bqm, **kw)
    assert ss.info["solver"] == "sa" and ss.record.num_occurrences.sum() == 4
    s = ss.info["settings"]
    assert (s["beta_min"], s["beta_max"], s["beta_schedule"], s["steps"]) == (0.1, 5.0, "linear", 200)
    same = CIMSampler().sample(bqm, solver="sa", num_reads=4, steps=200, beta_min=0.1, beta_max=5.0,
                               beta_schedule="linear", seed=5)
    np.testing.assert_array_equal(ss.record.sample, same.record.sample)
    assert ss.first.energy == pytest.approx(dimod.ExactSolver().sample(bqm).first.energy)
    with pytest.raises(CimsimError, match="apply to solver='sa'"):
        CIMSampler().sample(bqm, solver="cim", beta_range=(0.1, 1.0))
    with pytest.raises(CimsimError, match="not both"):
        CIMSampler().sample(bqm, steps=10, num_sweeps=10)
