"""Numba kernel of the DOPO network in the truncated-Wigner picture (physics.md 8.1), one fused step.

State per replica row: in-phase amplitudes C (R, N) and quadrature amplitudes S (R, N) in c-units
(c = g x photon amplitude). One Euler-Maruyama (Ito) step of length dt::

    c <- c + dt [(-1 + p - c^2 - s^2) c + YC + b] + g sqrt(c^2 + s^2 + 1/2) sqrt(dt) xi_c
    s <- s + dt [(-1 - p - c^2 - s^2) s + YS]     + g sqrt(c^2 + s^2 + 1/2) sqrt(dt) xi_s

``YC``/``YS`` are the coupling inputs (the caller's product with xi = eps J_hat; YS is zero for
measurement-feedback coupling) and ``b`` the in-phase injection. The two normals per pulse come from the
per-replica xorshift64* streams of :mod:`cimsim.kernels.descent` (its ziggurat, about twice the polar
method's rate), so a step is one pass over the state and allocates nothing.
"""
from __future__ import annotations

import numba as nb
import numpy as np

from .descent import _normal


@nb.njit(cache=True, nogil=True)
def dopo_step(C, S, YC, YS, p, b, dt, g, state, use_ys):  # pragma: no cover - compiled
    """In place: one step of the two-quadrature DOPO SDE for every replica row (``g = 0``: noiseless)."""
    R, N = C.shape
    sq = g * np.sqrt(dt)
    for r in range(R):
        for j in range(N):
            c = C[r, j]
            s = S[r, j]
            r2 = c * c + s * s
            yc = YC[r, j] + b[j]
            ys = YS[r, j] if use_ys else 0.0
            c_new = c + dt * ((-1.0 + p - r2) * c + yc)
            s_new = s + dt * ((-1.0 - p - r2) * s + ys)
            if sq > 0.0:
                amp = sq * np.sqrt(r2 + 0.5)
                c_new += amp * _normal(state, r)
                s_new += amp * _normal(state, r)
            C[r, j] = c_new
            S[r, j] = s_new


@nb.njit(cache=True, nogil=True)
def add_measurement_noise(out, C, sd, state):  # pragma: no cover - compiled
    """``out = C + sd * w`` with w ~ N(0, 1) from the replica streams (the homodyne record of a tap)."""
    R, N = C.shape
    for r in range(R):
        for j in range(N):
            out[r, j] = C[r, j] + sd * _normal(state, r)
