"""1-flip local search ("polish"): flip any spin whose flip lowers H until none does.

Flipping spin i changes H by ``dE_i = 2 s_i phi_i`` with ``phi = J s + h``. The kernels keep ``phi`` up
to date incrementally (O(N) per flip for dense J, O(degree) for CSR) and sweep until a full sweep finds
no improving flip. Replicas run in parallel (numba prange).
"""
from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(inline="always")
def _add_row_dense(J, f, i, c):  # pragma: no cover - compiled
    """f += c J[i] (dense J)."""
    Ji = J[i]
    for j in range(f.shape[0]):
        f[j] += c * Ji[j]


@nb.njit(inline="always")
def _add_row_csr(J, f, i, c):  # pragma: no cover - compiled
    """f += c J[i] for J = (indptr, indices, data) in CSR."""
    indptr, indices, data = J
    for k in range(indptr[i], indptr[i + 1]):
        f[indices[k]] += c * data[k]


@nb.njit(inline="always")
def _polish(J, add_row, S, phi, tol):  # pragma: no cover - compiled
    """The sweeps of both kernels; ``add_row(J, f, i, c)`` adds c times row i of J to f."""
    R, N = S.shape
    flips = np.zeros(R, dtype=np.int64)
    for r in nb.prange(R):
        s = S[r]
        f = phi[r]
        improved = True
        while improved:
            improved = False
            for i in range(N):
                if 2.0 * s[i] * f[i] < -tol:
                    s[i] = -s[i]
                    add_row(J, f, i, 2.0 * s[i])
                    flips[r] += 1
                    improved = True
    return flips


@nb.njit(parallel=True, cache=True, nogil=True)
def polish_dense(J, S, phi, tol):  # pragma: no cover - compiled
    """In place on ``S`` (R, N) int8 and ``phi`` (R, N) float64; returns flips per replica."""
    return _polish(J, _add_row_dense, S, phi, tol)


@nb.njit(parallel=True, cache=True, nogil=True)
def polish_csr(indptr, indices, data, S, phi, tol):  # pragma: no cover - compiled
    """CSR version of :func:`polish_dense` (J symmetric, so row i lists the neighbours of i)."""
    return _polish((indptr, indices, data), _add_row_csr, S, phi, tol)
