"""Gray-code enumeration of the two lowest energy levels (dense J), O(N) per state.

The walk is the one of :func:`cimsim.kernels.exact.gray_enumerate` (state k is the Gray code
``k ^ (k >> 1)``, bit i set meaning spin i is -1, spins ``m`` ... N-1 held at +1), but instead of one best
state it keeps every state whose energy lies within ``tol`` of the lowest two distinct levels seen so far.
The kept states go to a buffer of ``cap`` entries; when it fills, states above the current second level are
dropped, and if it is still full the walk stops and reports an overflow (the caller retries with a larger
buffer or gives up).
"""
from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(cache=True)
def _compact(codes, deltas, size, e1, tol):  # pragma: no cover - compiled
    """Keep the first ``size`` entries with delta <= e1 + tol, in place; the new size."""
    w = 0
    for r in range(size):
        if deltas[r] <= e1 + tol:
            codes[w] = codes[r]
            deltas[w] = deltas[r]
            w += 1
    return w


@nb.njit(cache=True)
def gray_low_levels(J, h, m, tol, cap):  # pragma: no cover - compiled
    """Every state (first ``m`` spins varying) within ``tol`` of the lowest two energy levels.

    Energies are relative to the all-+1 state. Returns ``(codes, deltas, size, e0, e1, overflow)``: the
    Gray codes and relative energies of ``size`` kept states (the first ``size`` entries of the arrays;
    each within ``tol`` of ``e0`` or at most ``e1 + tol``), the lowest level ``e0``, the second level
    ``e1`` (``inf`` when every state is at ``e0``), and whether the buffer overflowed (the result is then
    incomplete).
    """
    N = J.shape[0]
    s = np.ones(N)
    phi = np.empty(N)
    for i in range(N):
        acc = h[i]
        for j in range(N):
            acc += J[i, j]
        phi[i] = acc
    codes = np.empty(cap, dtype=np.int64)
    deltas = np.empty(cap, dtype=np.float64)
    e = 0.0
    e0 = 0.0
    e1 = np.inf
    codes[0] = 0
    deltas[0] = 0.0
    size = 1
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
        if e > e1 + tol:
            continue
        if e < e0 - tol:  # a new lowest level: the old lowest becomes the second
            e1 = e0
            e0 = e
        elif e > e0 + tol and e < e1 - tol:  # a new second level
            e1 = e
        if size == cap:
            size = _compact(codes, deltas, size, e1, tol)
            if size == cap:
                return codes, deltas, size, e0, e1, True
        codes[size] = k ^ (k >> 1)
        deltas[size] = e
        size += 1
    size = _compact(codes, deltas, size, e1, tol)
    return codes, deltas, size, e0, e1, False
