"""Numba Euler steps of the error-correction feedback CIMs (physics.md 4.10): CFC and SFC.

``PHI`` (R, N) is the normalised local field xi (J x + h) of the current amplitudes, computed by the
caller (one matrix product per step); the kernels update the amplitudes ``X`` and the error signals
``E`` in place, both from the values at the start of the step (explicit Euler), and add ``noise``
sqrt(dt) xi to x when ``noise > 0`` (normals from the per-replica streams of
:mod:`cimsim.kernels.descent`).
"""
from __future__ import annotations

import numba as nb
import numpy as np

from .descent import _normal_pair


@nb.njit(cache=True, nogil=True)
def cfc_step(X, E, PHI, p, alpha, beta, dt, x_max, e_min, noise, state):  # pragma: no cover - compiled
    """Chaotic feedback control: z = e phi; x' = (p-1)x - x^3 + z; e' = -beta e (z^2 - alpha);
    x clipped to [-x_max, x_max], e kept >= e_min."""
    R, N = X.shape
    sq = noise * np.sqrt(dt)
    for r in range(R):
        for j in range(N):
            x = X[r, j]
            e = E[r, j]
            z = e * PHI[r, j]
            x_new = x + dt * ((p - 1.0) * x - x * x * x + z)
            if sq > 0.0:
                g1, _ = _normal_pair(state, r)
                x_new += sq * g1
            if x_new > x_max:
                x_new = x_max
            elif x_new < -x_max:
                x_new = -x_max
            e_new = e - dt * beta * e * (z * z - alpha)
            X[r, j] = x_new
            E[r, j] = e_new if e_new > e_min else e_min


@nb.njit(cache=True, nogil=True)
def sfc_step(X, E, PHI, p, c, k, beta, dt, noise, state):  # pragma: no cover - compiled
    """Separated feedback control: z = phi; x' = (p-1)x - x^3 + tanh(c z) + k (z - e); e' = -beta (e - z)."""
    R, N = X.shape
    sq = noise * np.sqrt(dt)
    for r in range(R):
        for j in range(N):
            x = X[r, j]
            e = E[r, j]
            z = PHI[r, j]
            x_new = x + dt * ((p - 1.0) * x - x * x * x + np.tanh(c * z) + k * (z - e))
            if sq > 0.0:
                g1, _ = _normal_pair(state, r)
                x_new += sq * g1
            X[r, j] = x_new
            E[r, j] = e - dt * beta * (e - z)
