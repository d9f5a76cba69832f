"""IsingModel: energies, validation, storage, QUBO <-> Ising."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from cimsim import CimsimError, IsingModel, ising_to_qubo, qubo_to_ising
from cimsim.qubo import qubo_energies
from cimsim.spins import strip_aux_spin

from .conftest import all_spin_vectors, plain_energy, random_couplings


def test_energy_matches_pairwise_sum(rng):
    n = 9
    J = random_couplings(rng, n)
    h = rng.standard_normal(n)
    m = IsingModel.from_couplings(J, h, 1.5)
    S = all_spin_vectors(n)[::7]
    E = m.energies(S)
    assert E.dtype == np.float64 and E.shape == (S.shape[0],)
    for s, e in zip(S, E):
        assert e == pytest.approx(plain_energy(J, h, 1.5, s), abs=1e-12)
    assert m.energy(S[3]) == pytest.approx(E[3])


def test_sparse_and_dense_agree(rng):
    n = 30
    J = random_couplings(rng, n, density=0.2)
    h = rng.standard_normal(n)
    dense = IsingModel.from_couplings(J, h, storage="dense")
    sparse = IsingModel.from_couplings(sp.csr_matrix(J), h)
    assert sparse.is_sparse and not dense.is_sparse
    S = rng.choice([-1, 1], size=(16, n))
    np.testing.assert_allclose(dense.energies(S), sparse.energies(S), atol=1e-10)
    np.testing.assert_allclose(dense.local_fields(S), sparse.local_fields(S), atol=1e-10)


def test_sparse_never_densified_and_large_sparse_dense_input_becomes_csr(rng):
    n = 600
    J = random_couplings(rng, n, density=0.01)
    m = IsingModel.from_couplings(J)
    assert m.is_sparse
    m2 = IsingModel.from_couplings(sp.csr_matrix(J))
    assert m2.is_sparse
    small = IsingModel.from_couplings(random_couplings(rng, 20))
    assert not small.is_sparse


def test_diagonal_folds_into_offset(rng):
    n = 6
    J = random_couplings(rng, n)
    d = rng.standard_normal(n)
    m = IsingModel.from_couplings(J + np.diag(d), None, 2.0)
    assert np.all(m.J.diagonal() == 0)
    S = all_spin_vectors(n)
    full = -0.5 * np.einsum("ri,ij,rj->r", S, J + np.diag(d), S) + 2.0
    np.testing.assert_allclose(m.energies(S), full, atol=1e-12)


@pytest.mark.parametrize(
    "J, h, msg",
    [
        (np.zeros((2, 3)), None, "square"),
        (np.array([[0, 1.0], [2.0, 0]]), None, "symmetric"),
        (np.array([[0, np.nan], [np.nan, 0]]), None, "NaN"),
        (np.array([[0, np.inf], [np.inf, 0]]), None, "NaN or infinite"),
        (np.zeros((3, 3)), np.zeros(4), "h has shape"),
        (np.zeros((2, 2)), np.array([np.nan, 0]), "h contains"),
        (np.zeros((0, 0)), None, "no variables"),
    ],
)
def test_validation_errors(J, h, msg):
    with pytest.raises(CimsimError, match=msg):
        IsingModel.from_couplings(J, h)


def test_sparse_validation():
    with pytest.raises(CimsimError, match="symmetric"):
        IsingModel.from_couplings(sp.csr_matrix(np.array([[0, 1.0], [0, 0]])))
    with pytest.raises(CimsimError, match="NaN"):
        IsingModel.from_couplings(sp.csr_matrix(np.array([[0, np.nan], [np.nan, 0]])))


def test_dense_memory_guard(monkeypatch):
    monkeypatch.setenv("CIMSIM_MEMORY_LIMIT", str(1 << 20))
    big = sp.random(2000, 2000, density=1e-4, format="csr", random_state=0)
    m = IsingModel.from_couplings(big + big.T)
    with pytest.raises(CimsimError, match="GiB"):
        m.dense_couplings()


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=1, max_value=7), st.integers(min_value=0, max_value=2**31 - 1), st.booleans())
def test_qubo_ising_round_trip(n, seed, sparse):
    rng = np.random.default_rng(seed)
    Q = rng.integers(-5, 6, size=(n, n)).astype(float)  # arbitrary, non-symmetric, with a diagonal
    c = rng.normal(size=n)
    k = float(rng.normal())
    X = ((all_spin_vectors(n) + 1) // 2).astype(float)
    f = qubo_energies(Q, c, k, X)
    m = qubo_to_ising(sp.csr_matrix(Q) if sparse else Q, c, k)
    np.testing.assert_allclose(m.energies(2 * X - 1), f, atol=1e-9)
    Q2, c2, k2 = ising_to_qubo(m)
    np.testing.assert_allclose(qubo_energies(Q2, c2, k2, X), f, atol=1e-9)
    Q2d = Q2.toarray() if sp.issparse(Q2) else Q2
    assert np.allclose(Q2d, Q2d.T) and np.all(np.diag(Q2d) == 0)


def test_qubo_upper_triangular_form():
    U = np.array([[1.0, 2.0, 0.0], [0.0, -1.0, 3.0], [0.0, 0.0, 0.5]])
    m = qubo_to_ising(U)
    for x in ((all_spin_vectors(3) + 1) // 2):
        f = sum(U[i, j] * x[i] * x[j] for i in range(3) for j in range(i, 3))
        assert m.energy(2 * x - 1) == pytest.approx(f)


def test_aux_spin_is_exact(rng):
    n = 7
    J = random_couplings(rng, n)
    h = rng.standard_normal(n)
    m = IsingModel.from_couplings(J, h, 0.25)
    aux = m.with_aux_spin()
    assert not aux.has_fields and aux.n == n + 1
    S = all_spin_vectors(n + 1)
    np.testing.assert_allclose(aux.energies(S), m.energies(strip_aux_spin(S)), atol=1e-12)


def test_spin_shape_checked(rng):
    m = IsingModel.from_couplings(random_couplings(rng, 4))
    with pytest.raises(CimsimError, match="shape"):
        m.energies(np.ones((2, 5)))


def test_energy_takes_one_vector_and_names_the_batch_method(rng):
    m = IsingModel.from_couplings(random_couplings(rng, 3), None, 1.0)
    S = all_spin_vectors(3)
    assert m.energy(S[5:6]) == pytest.approx(m.energies(S)[5])
    with pytest.raises(CimsimError, match="use energies"):
        m.energy(S[:2])


def test_memory_limit_from_environment(monkeypatch):
    from cimsim.memory import check_fits, memory_limit_bytes

    monkeypatch.setenv("CIMSIM_MEMORY_LIMIT", "1e6")
    assert memory_limit_bytes() == 1_000_000
    check_fits(999_999, "a small array")
    with pytest.raises(CimsimError, match="a big array needs .* GiB but only .* GiB may be used; use fewer"):
        check_fits(1_000_001, "a big array", "use fewer")
    monkeypatch.setenv("CIMSIM_MEMORY_LIMIT", "lots")
    with pytest.raises(CimsimError, match="CIMSIM_MEMORY_LIMIT must be a number of bytes"):
        memory_limit_bytes()
