"""Numba step of adiabatic simulated bifurcation, aSB (Goto et al. 2019), physics.md 4.7.

Per step of length dt and pump p: ``M`` sub-steps of the local oscillator part with dt/M (x first, then y,
each from the other's new value: symplectic), then one coupling kick y += xi0 dt phi with the field
``PHI`` = J_hat x + h_hat of the amplitudes at the start of the step (computed by the caller)::

    x += (dt/M) Delta y;   y -= (dt/M) (K x^3 + (Delta - p) x)     (M times)
    y += xi0 dt phi
"""
from __future__ import annotations

import numba as nb


@nb.njit(cache=True, nogil=True)
def asb_step(X, Y, PHI, p, dt, xi0, K, delta, M):  # pragma: no cover - compiled
    """In place: one aSB step for every replica row of the (R, N) positions X and momenta Y."""
    R, N = X.shape
    h = dt / M
    for r in range(R):
        for j in range(N):
            x = X[r, j]
            y = Y[r, j] + xi0 * dt * PHI[r, j]
            for _ in range(M):
                x += h * delta * y
                y -= h * (K * x * x * x + (delta - p) * x)
            X[r, j] = x
            Y[r, j] = y
