"""1-flip local search ("polish"): flip any spin whose flip lowers H until none does.

Flipping spin i changes H by ``dE_i = 2 s_i phi_i`` with ``phi = J s + h``. The kernels keep ``phi`` up
to date incrementally (O(N) per flip for dense J, O(degree) for CSR) and sweep until a full sweep finds
no improving flip. Replicas run in parallel (numba prange).
"""
from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(parallel=True, cache=True, nogil=True)
def polish_dense(J, S, phi, tol):  # pragma: no cover - compiled
    """In place on ``S`` (R, N) int8 and ``phi`` (R, N) float64; returns flips per replica."""
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
                    two_si = 2.0 * s[i]
                    Ji = J[i]
                    for j in range(N):
                        f[j] += two_si * Ji[j]
                    flips[r] += 1
                    improved = True
    return flips


@nb.njit(parallel=True, cache=True, nogil=True)
def polish_csr(indptr, indices, data, S, phi, tol):  # pragma: no cover - compiled
    """CSR version of :func:`polish_dense` (J symmetric, so row i lists the neighbours of i)."""
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
                    two_si = 2.0 * s[i]
                    for k in range(indptr[i], indptr[i + 1]):
                        f[indices[k]] += two_si * data[k]
                    flips[r] += 1
                    improved = True
    return flips
