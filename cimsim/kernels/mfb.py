"""Numba kernels of the measurement-feedback CIM round-trip map on truncated-Wigner samples (physics.md 8.5).

Every pulse is a Wigner sample (X, P) in c-units with vacuum variance v0 = g^2/4. One round trip is
:func:`propagate` (crystal, background loss, extraction tap and homodyne detection) followed, once the
digital feedback has been computed from the measured values, by :func:`inject`. Linear optics acts
exactly on Wigner samples: a beam splitter of reflectivity R mixes a pulse with a vacuum sample u,
and the tapped and the transmitted parts share that same u (drawing them independently would break
the law of total variance, physics.md 8.6 T8). Normals come from the per-replica xorshift64* streams of
:mod:`cimsim.kernels.descent`.
"""
from __future__ import annotations

import numba as nb
import numpy as np

from .descent import _normal_pair


@nb.njit(cache=True, nogil=True)
def propagate(X, P, Y, p, dT, g, L, R, eta, state):  # pragma: no cover - compiled
    """In place, for every pulse: one pass through the crystal (phase-sensitive gain e^{+-p dT}, then
    saturation and pump noise over dT), the background loss L, the extraction tap R; writes to ``Y`` the
    measured in-phase amplitude (homodyne of efficiency eta, rescaled by 1/sqrt(eta R) to c-units)."""
    nR, N = X.shape
    v = 0.5 * g  # sd of a vacuum sample, sqrt(v0)
    gx, gp = np.exp(p * dT), np.exp(-p * dT)
    tl, rl = np.sqrt(1.0 - L), np.sqrt(L)
    tr, rr = np.sqrt(1.0 - R), np.sqrt(R)
    te, re = np.sqrt(eta), np.sqrt(1.0 - eta)
    scale = 1.0 / np.sqrt(eta * R)
    sq = g * np.sqrt(dT)
    for r in range(nR):
        for j in range(N):
            x = X[r, j] * gx
            q = P[r, j] * gp
            r2 = x * x + q * q
            n1, n2 = _normal_pair(state, r)
            amp = sq * np.sqrt(r2)
            x = x - dT * r2 * x + amp * n1
            q = q - dT * r2 * q + amp * n2
            n1, n2 = _normal_pair(state, r)
            x = tl * x + rl * v * n1
            q = tl * q + rl * v * n2
            n1, n2 = _normal_pair(state, r)  # the tap's vacuum inputs (in-phase, quadrature)
            x_tap = rr * x - tr * v * n1
            x = tr * x + rr * v * n1
            q = tr * q + rr * v * n2
            n1, _ = _normal_pair(state, r)
            Y[r, j] = (te * x_tap + re * v * n1) * scale
            X[r, j] = x
            P[r, j] = q


@nb.njit(cache=True, nogil=True)
def inject(X, P, F, R_inj, g, state):  # pragma: no cover - compiled
    """In place: the injection coupler (reflectivity R_inj, vacuum at its other port) adds the feedback
    displacement ``F`` (R, N) to the in-phase amplitudes."""
    nR, N = X.shape
    v = 0.5 * g
    t, rt = np.sqrt(1.0 - R_inj), np.sqrt(R_inj)
    for r in range(nR):
        for j in range(N):
            n1, n2 = _normal_pair(state, r)
            X[r, j] = t * X[r, j] + rt * v * n1 + F[r, j]
            P[r, j] = t * P[r, j] + rt * v * n2


@nb.njit(cache=True, nogil=True)
def quantise(u, full_scale, bits, out):  # pragma: no cover - compiled
    """``out = Q(u)`` for 1-D arrays: the symmetric mid-tread quantiser of ``bits`` bits and full scale A,
    levels Delta k with |k| <= 2^(bits-1) - 1 and Delta = A / (2^(bits-1) - 1); one bit gives +-A."""
    if bits == 1:
        for i in range(u.size):
            out[i] = full_scale if u[i] >= 0.0 else -full_scale
        return
    kmax = 2.0 ** (bits - 1) - 1.0
    delta = full_scale / kmax
    for i in range(u.size):
        k = np.rint(u[i] / delta)
        if k > kmax:
            k = kmax
        elif k < -kmax:
            k = -kmax
        out[i] = k * delta
