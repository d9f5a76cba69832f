"""Spin vectors: +1/-1 only, everywhere a user hands spins to cimsim (issue 19 item 4)."""
from __future__ import annotations

import numpy as np
import pytest

from cimsim import CimsimError, IsingModel
from cimsim.encoders.maxcut import encode_maxcut
from cimsim.spins import as_spin_batch, check_spins, start_spins

from .conftest import all_spin_vectors, plain_energy, random_couplings

BAD = [
    (np.array([1.0, 0.0, -1.0]), "entry 1 is 0"),
    (np.array([1.0, -1.0, np.nan]), "entry 2 is nan"),
    (np.array([2, -1, 1]), "entry 0 is 2"),
    (np.array([1.0, 0.5, -1.0]), "entry 1 is 0.5"),
    (np.array([-1.0, np.inf, 1.0]), "entry 1 is inf"),
    (np.array([-128, 1, 1], dtype=np.int8), "entry 0 is -128"),
]


@pytest.mark.parametrize("spins, where", BAD)
def test_check_spins_refuses_anything_but_plus_minus_one(spins, where):
    with pytest.raises(CimsimError, match="must be \\+1 or -1") as err:
        check_spins(spins, 3)
    assert where in str(err.value) and "\n" not in str(err.value)


def test_check_spins_names_the_row_of_a_batch():
    S = np.ones((3, 4))
    S[2, 1] = 0
    with pytest.raises(CimsimError, match="row 2, entry 1 is 0"):
        check_spins(S, 4)


@pytest.mark.parametrize("spins", [[True, False], ["1", "-1"], [1 + 0j, -1 + 0j], [[1, -1], [1]], None])
def test_check_spins_refuses_non_numbers(spins):
    with pytest.raises(CimsimError, match="spins"):
        check_spins(spins, 2)


@pytest.mark.parametrize("dtype", [np.int8, np.int64, np.float32, np.float64])
def test_check_spins_accepts_any_numeric_plus_minus_one(dtype):
    S = all_spin_vectors(4).astype(dtype)
    out = check_spins(S, 4)
    assert out.dtype == np.int8 and out.shape == S.shape
    np.testing.assert_array_equal(out, all_spin_vectors(4))
    np.testing.assert_array_equal(as_spin_batch(S[3], 4), all_spin_vectors(4)[3:4].astype(float))


def test_check_spins_shape():
    with pytest.raises(CimsimError, match=r"shape \(R, 3\) or \(3,\)"):
        check_spins(np.ones(4), 3)
    with pytest.raises(CimsimError, match="shape"):
        check_spins(np.ones((2, 2, 3)), 3)


def test_model_energy_helpers_refuse_non_spins(rng):
    n = 5
    J = random_couplings(rng, n)
    h = rng.standard_normal(n)
    m = IsingModel.from_couplings(J, h, 0.5)
    for bad in (np.array([1, 0, 1, -1, 1]), np.array([1, np.nan, 1, -1, 1]), np.array([1, 2, 1, -1, 1])):
        with pytest.raises(CimsimError, match="must be \\+1 or -1"):
            m.energy(bad)
        with pytest.raises(CimsimError, match="must be \\+1 or -1"):
            m.energies(np.stack([np.ones(n), bad]))
        with pytest.raises(CimsimError, match="must be \\+1 or -1"):
            m.local_fields(bad)
    # valid spins of any dtype: the energies recomputed independently
    S = all_spin_vectors(n)
    for s, e in zip(S, m.energies(S.astype(np.float32))):
        assert e == pytest.approx(plain_energy(J, h, 0.5, s), abs=1e-12)


def test_decode_refuses_non_spins_instead_of_mapping_them():
    # triangle: the cut of (+1, -1, -1) is 2; 0 used to be read as +1 and NaN as -1
    enc = encode_maxcut(3, [(0, 1, 1.0), (1, 2, 1.0), (0, 2, 1.0)])
    assert enc.decode(np.array([1.0, -1.0, -1.0])).objective == 2
    for bad in ([1, 0, -1], [1, np.nan, -1], [1, -1, 2]):
        with pytest.raises(CimsimError, match="must be \\+1 or -1"):
            enc.decode(np.array(bad, dtype=float))


def test_start_spins_refuse_non_spins_and_repeat_one_row(rng):
    with pytest.raises(CimsimError, match="initial spins must be \\+1 or -1, but entry 1 is 0"):
        start_spins(np.array([1, 0, -1]), 2, 3, rng)
    S = start_spins(np.array([1.0, -1.0, -1.0]), 2, 3, rng)
    assert S.dtype == np.int8
    np.testing.assert_array_equal(S, [[1, -1, -1], [1, -1, -1]])
    with pytest.raises(CimsimError, match="3 rows but replicas = 2"):
        start_spins(np.ones((3, 3)), 2, 3, rng)


@pytest.mark.parametrize("solver", ["sa", "tabu"])
def test_start_spins_leave_the_callers_array_alone(rng, solver):
    """The spin-flip solvers flip their start state in place: it must be a copy, not the caller's array
    (matching anneals its repaired states from ``initial`` and keeps whichever is lower)."""
    from cimsim import IsingModel
    from cimsim.solvers import get_solver

    S0 = np.where(rng.random((2, 12)) < 0.5, -1, 1).astype(np.int8)
    assert start_spins(S0, 2, 12, rng) is not S0
    J = rng.standard_normal((12, 12))
    model = IsingModel.from_couplings((J + J.T) / 2 - np.diag(np.diag(J)))
    before = S0.copy()
    get_solver(solver).run(model, replicas=2, steps=50, rng=rng, initial=S0)
    np.testing.assert_array_equal(S0, before)
