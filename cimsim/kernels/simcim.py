"""Numba step of SimCIM (Tiunov, Ulanov and Lvovsky 2019), physics.md 4.6.

A momentum (heavy-ball) update of amplitudes confined to (-1, 1)::

    d <- m d + (1 - m) [p_k x + dt (J~ x + h~) + sigma xi]
    x <- x + d      only where |x + d| < 1 (elsewhere x stays)

with the field ``PHI`` = J~ x + h~ computed by the caller and xi ~ N(0, 1) from the per-replica streams of
:mod:`cimsim.kernels.descent`.
"""
from __future__ import annotations

import numba as nb

from .descent import _normal_pair


@nb.njit(inline="always")
def _update(X, D, PHI, r, j, p, dt, m, sigma, g):  # pragma: no cover - compiled
    x = X[r, j]
    d = m * D[r, j] + (1.0 - m) * (p * x + dt * PHI[r, j] + sigma * g)
    D[r, j] = d
    if abs(x + d) < 1.0:
        X[r, j] = x + d


@nb.njit(cache=True, nogil=True)
def simcim_step(X, D, PHI, p, dt, m, sigma, state):  # pragma: no cover - compiled
    """In place: one SimCIM step for every replica row of the (R, N) amplitudes X and momenta D."""
    R, N = X.shape
    for r in range(R):
        for j in range(0, N, 2):
            g1, g2 = _normal_pair(state, r)
            _update(X, D, PHI, r, j, p, dt, m, sigma, g1)
            if j + 1 < N:
                _update(X, D, PHI, r, j + 1, p, dt, m, sigma, g2)
