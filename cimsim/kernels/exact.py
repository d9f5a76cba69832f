"""Gray-code enumeration of all 2^m spin states (dense J), O(N) per state."""
from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(cache=True)
def gray_enumerate(J, h, m, tol):  # pragma: no cover - compiled
    """Enumerate states whose first ``m`` spins vary and the rest stay +1.

    Starts from all spins +1 (energy relative to it: 0) and flips spin ``ctz(k)`` at step k, so state
    k is the Gray code ``k ^ (k >> 1)`` (bit i set means spin i is -1). Returns
    ``(best_code, best_delta, n_ground)``: the code of a lowest state, its energy minus the all-+1
    energy, and how many states lie within ``tol`` of it.
    """
    N = J.shape[0]
    s = np.ones(N)
    phi = np.empty(N)
    for i in range(N):
        acc = h[i]
        for j in range(N):
            acc += J[i, j]
        phi[i] = acc
    e = 0.0
    best = 0.0
    best_code = 0
    count = 1
    total = np.int64(1) << m
    for k in range(1, total):
        i = 0
        kk = k
        while (kk & 1) == 0:
            kk >>= 1
            i += 1
        e += 2.0 * s[i] * phi[i]
        s[i] = -s[i]
        two_si = 2.0 * s[i]
        for j in range(N):
            phi[j] += two_si * J[i, j]
        if e < best - tol:
            best = e
            best_code = k ^ (k >> 1)
            count = 1
        elif e <= best + tol:
            count += 1
    return best_code, best, count
