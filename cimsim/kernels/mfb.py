"""Numba kernels of the measurement-feedback CIM round-trip map on truncated-Wigner samples (physics.md 8.5).

Every pulse is a Wigner sample (X, P) in c-units with vacuum variance v0 = g^2/4. One round trip is
:func:`propagate` (crystal, background loss, extraction tap and homodyne detection) followed, once the
digital feedback has been computed from the measured values, by :func:`inject`. Linear optics acts
exactly on Wigner samples: a beam splitter of reflectivity R mixes a pulse with a vacuum sample u,
and the tapped and the transmitted parts share that same u (drawing them independently would break
the law of total variance, physics.md 8.6 T8). Normals come from the per-replica xorshift64* streams of
:mod:`cimsim.kernels.descent` (the Wigner kernels by its ziggurat, nine per pulse and round trip: the
polar pairs' log and division cost more than the feedback product at R = 8 on dense SK2000).
"""
from __future__ import annotations

import numba as nb
import numpy as np

from .descent import _normal, _normal_pair


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
            amp = sq * np.sqrt(r2)
            x = x - dT * r2 * x + amp * _normal(state, r)
            q = q - dT * r2 * q + amp * _normal(state, r)
            x = tl * x + rl * v * _normal(state, r)
            q = tl * q + rl * v * _normal(state, r)
            n1 = _normal(state, r)  # the tap's vacuum input (in-phase), shared by both outputs
            x_tap = rr * x - tr * v * n1
            x = tr * x + rr * v * n1
            q = tr * q + rr * v * _normal(state, r)
            Y[r, j] = (te * x_tap + re * v * _normal(state, r)) * scale
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
            X[r, j] = t * X[r, j] + rt * v * _normal(state, r) + F[r, j]
            P[r, j] = t * P[r, j] + rt * v * _normal(state, r)


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


@nb.njit(cache=True, nogil=True)
def propagate_moments(M, V, U, Y, p, dT, g, L, R, eta, state):  # pragma: no cover - compiled
    """The same round trip on Gaussian moments: in-phase mean M, in-phase variance V and quadrature
    variance U per pulse (quadrature mean 0). The crystal uses the Gaussian closure of the saturation; the
    homodyne measurement draws one outcome per pulse from its Gaussian distribution and conditions M and V
    on it (a Kalman update); ``Y`` gets the measured in-phase amplitude in c-units."""
    nR, N = M.shape
    g2 = g * g
    v0 = 0.25 * g2
    gx, gx2, gp2 = np.exp(p * dT), np.exp(2.0 * p * dT), np.exp(-2.0 * p * dT)
    tl = np.sqrt(1.0 - L)
    tr = np.sqrt(1.0 - R)
    k = np.sqrt(eta * R)
    scale = 1.0 / k
    for r in range(nR):
        for j in range(0, N, 2):
            n1, n2 = _normal_pair(state, r)
            for jj in range(j, min(j + 2, N)):
                m = M[r, jj] * gx
                v = V[r, jj] * gx2
                u = U[r, jj] * gp2
                m2 = m * m
                noise = g2 * (m2 + v + u)
                m_c = m - dT * m * (m2 + 3.0 * v + u)
                v_c = v + dT * (-6.0 * v * (m2 + v) - 2.0 * v * u + noise)
                u_c = u + dT * (-2.0 * u * (m2 + v) - 6.0 * u * u + noise)
                m = tl * m_c
                v = (1.0 - L) * v_c + L * v0
                u = (1.0 - L) * u_c + L * v0
                var_y = k * k * v + (1.0 - k * k) * v0
                cov = np.sqrt(eta * R * (1.0 - R)) * (v - v0)
                y = k * m + np.sqrt(var_y) * (n1 if jj == j else n2)
                M[r, jj] = tr * m + cov / var_y * (y - k * m)
                V[r, jj] = (1.0 - R) * v + R * v0 - cov * cov / var_y
                U[r, jj] = (1.0 - R) * u + R * v0
                Y[r, jj] = y * scale


@nb.njit(cache=True, nogil=True)
def inject_moments(M, V, U, F, R_inj, g):  # pragma: no cover - compiled
    """The injection coupler on Gaussian moments: a displacement F and vacuum mixed into both variances."""
    nR, N = M.shape
    v0 = 0.25 * g * g
    t = np.sqrt(1.0 - R_inj)
    for r in range(nR):
        for j in range(N):
            M[r, j] = t * M[r, j] + F[r, j]
            V[r, j] = (1.0 - R_inj) * V[r, j] + R_inj * v0
            U[r, j] = (1.0 - R_inj) * U[r, j] + R_inj * v0
