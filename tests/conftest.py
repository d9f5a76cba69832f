"""Shared fixtures and helpers for the test suite."""
from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from bench.data import ENV as DATA_ENV, data_root

ROOT = Path(__file__).resolve().parents[1]
PROBLEMS = ROOT / "problems"
#: the instance data root (Gset, SATLIB): the same setting as the bench scripts, CIMSIM_DATA or ../shared/data
SHARED = data_root()


def all_spin_vectors(n: int) -> np.ndarray:
    """Every +-1 vector of length n, shape (2**n, n) — plain itertools, independent of cimsim."""
    return np.array(list(itertools.product([-1, 1], repeat=n)), dtype=np.int8)


def plain_energy(J: np.ndarray, h: np.ndarray, offset: float, s: np.ndarray) -> float:
    """-sum_{i<j} J_ij s_i s_j - sum_i h_i s_i + offset with explicit loops (no matrix algebra)."""
    n = len(s)
    e = offset
    for i in range(n):
        e -= h[i] * s[i]
        for j in range(i + 1, n):
            e -= J[i, j] * s[i] * s[j]
    return float(e)


def random_couplings(rng: np.random.Generator, n: int, density: float = 1.0) -> np.ndarray:
    A = rng.standard_normal((n, n)) * (rng.random((n, n)) < density)
    J = np.triu(A, 1)
    return J + J.T


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


def shared_file(*parts: str) -> Path:
    """A file under the instance data root; skips the test (saying which setting) when it is absent."""
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"{p} not available (instance data root: set {DATA_ENV} or put the data at ../shared/data)")
    return p
