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


@nb.njit(inline="always")
def _feedback_steps(X, E, PHI, dt, x_max, noise, state, law, params):  # pragma: no cover - compiled
    """The loop of both kernels: ``x', e' = law(x, e, phi, dt, params)`` (Euler drift), then x' +=
    noise sqrt(dt) g (one normal of the replica's stream), then x' clipped to [-x_max, x_max]."""
    R, N = X.shape
    sq = noise * np.sqrt(dt)
    for r in range(R):
        for j in range(N):
            x_new, e_new = law(X[r, j], E[r, j], PHI[r, j], dt, params)
            if sq > 0.0:
                g1, _ = _normal_pair(state, r)
                x_new += sq * g1
            if x_new > x_max:
                x_new = x_max
            elif x_new < -x_max:
                x_new = -x_max
            X[r, j] = x_new
            E[r, j] = e_new


@nb.njit(inline="always")
def _cfc_law(x, e, phi, dt, params):  # pragma: no cover - compiled
    p, alpha, beta, e_min = params
    z = e * phi
    e_new = e - dt * beta * e * (z * z - alpha)
    return x + dt * ((p - 1.0) * x - x * x * x + z), (e_new if e_new > e_min else e_min)


@nb.njit(inline="always")
def _sfc_law(x, e, phi, dt, params):  # pragma: no cover - compiled
    p, c, k, beta = params
    return x + dt * ((p - 1.0) * x - x * x * x + np.tanh(c * phi) + k * (phi - e)), e - dt * beta * (e - phi)


@nb.njit(cache=True, nogil=True)
def cfc_step(X, E, PHI, p, alpha, beta, dt, x_max, e_min, noise, state):  # pragma: no cover - compiled
    """Chaotic feedback control: z = e phi; x' = (p-1)x - x^3 + z; e' = -beta e (z^2 - alpha);
    x clipped to [-x_max, x_max], e kept >= e_min."""
    _feedback_steps(X, E, PHI, dt, x_max, noise, state, _cfc_law, (p, alpha, beta, e_min))


@nb.njit(cache=True, nogil=True)
def sfc_step(X, E, PHI, p, c, k, beta, dt, noise, state):  # pragma: no cover - compiled
    """Separated feedback control: z = phi; x' = (p-1)x - x^3 + tanh(c z) + k (z - e); e' = -beta (e - z)."""
    _feedback_steps(X, E, PHI, dt, np.inf, noise, state, _sfc_law, (p, c, k, beta))
