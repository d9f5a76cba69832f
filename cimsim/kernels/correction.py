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
def _clip(x, x_max):  # pragma: no cover - compiled
    """x clipped to [-x_max, x_max]; NaN stays NaN (the readout's divergence check sees it)."""
    if x > x_max:
        return x_max
    if x < -x_max:
        return -x_max
    return x


@nb.njit(inline="always")
def _feedback_steps(X, E, PHI, dt, x_max, noise, state, law, params):  # pragma: no cover - compiled
    """The loop of both kernels: ``x', e' = law(x, e, phi, dt, params)`` (Euler drift), then x' +=
    noise sqrt(dt) g (one normal of the replica's stream), then x' clipped to [-x_max, x_max]."""
    R, N = X.shape
    sq = noise * np.sqrt(dt)
    for r in range(R):
        x, e, phi = X[r], E[r], PHI[r]
        if sq > 0.0:
            for j in range(N):
                x_new, e_new = law(x[j], e[j], phi[j], dt, params)
                g1, _ = _normal_pair(state, r)
                x[j] = _clip(x_new + sq * g1, x_max)
                e[j] = e_new
        else:  # no draw in the loop: it vectorises over the row
            for j in range(N):
                x_new, e_new = law(x[j], e[j], phi[j], dt, params)
                x[j] = _clip(x_new, x_max)
                e[j] = e_new


@nb.njit(inline="always")
def _cfc_law(x, e, phi, dt, params):  # pragma: no cover - compiled
    p, alpha, beta, e_min, e_max = params
    z = e * phi
    e_new = e - dt * beta * e * (z * z - alpha)
    return x + dt * ((p - 1.0) * x - x * x * x + z), min(max(e_new, e_min), e_max)


@nb.njit(inline="always")
def _sfc_law(x, e, phi, dt, params):  # pragma: no cover - compiled
    p, c, k, beta = params
    return x + dt * ((p - 1.0) * x - x * x * x + np.tanh(c * phi) + k * (phi - e)), e - dt * beta * (e - phi)


@nb.njit(cache=True, nogil=True)
def cfc_step(X, E, PHI, p, alpha, beta, dt, x_max, e_min, noise, state, e_max=np.inf):  # pragma: no cover - compiled
    """Chaotic feedback control: z = e phi; x' = (p-1)x - x^3 + z; e' = -beta e (z^2 - alpha);
    x clipped to [-x_max, x_max], e kept in [e_min, e_max]."""
    _feedback_steps(X, E, PHI, dt, x_max, noise, state, _cfc_law, (p, alpha, beta, e_min, e_max))


@nb.njit(cache=True, nogil=True)
def sfc_step(X, E, PHI, p, c, k, beta, dt, noise, state, exact_tanh=True):  # pragma: no cover - compiled
    """Separated feedback control: z = phi; x' = (p-1)x - x^3 + tanh(c z) + k (z - e); e' = -beta (e - z).
    ``exact_tanh`` False: :func:`tanh_rational` (vectorises) instead of np.tanh."""
    if exact_tanh:
        _feedback_steps(X, E, PHI, dt, np.inf, noise, state, _sfc_law, (p, c, k, beta))
    else:
        _feedback_steps(X, E, PHI, dt, np.inf, noise, state, _sfc_law_fast, (p, c, k, beta))


# --------------------------------------------------------------------------------------------------
# Sparse fused steps on replica-minor (N, R) arrays: the field of spin i for all R replicas is one
# contiguous R-vector, accumulated over i's CSR row from the neighbours' contiguous R-vectors (SIMD over
# replicas, each stored coupling read once per step for all replicas), and the Euler update of row i follows
# at once while that field is in cache. Rows are independent given the old amplitudes, so the new
# amplitudes go to a second buffer and are copied back at the end (explicit Euler, as the unfused step).

#: |y| beyond which tanh_rational returns +-tanh_rational(TANH_CLIP) (there 1 - tanh < 1e-4)
TANH_CLIP = 4.97


@nb.njit(inline="always", fastmath=True)
def tanh_rational(y):  # pragma: no cover - compiled
    """tanh from the [7/6] continued fraction of Lambert, argument clipped to +-TANH_CLIP: absolute error
    below 1e-4 everywhere (below 1e-6 for |y| < 3), and unlike np.tanh it vectorises over replicas."""
    if y > TANH_CLIP:
        y = TANH_CLIP
    elif y < -TANH_CLIP:
        y = -TANH_CLIP
    y2 = y * y
    return y * (135135.0 + y2 * (17325.0 + y2 * (378.0 + y2))) / (135135.0 + y2 * (62370.0 + y2 * (3150.0 + 28.0 * y2)))


@nb.njit(inline="always")
def _sfc_law_fast(x, e, phi, dt, params):  # pragma: no cover - compiled
    p, c, k, beta = params
    return x + dt * ((p - 1.0) * x - x * x * x + tanh_rational(c * phi) + k * (phi - e)), e - dt * beta * (e - phi)


@nb.njit(inline="always")
def _feedback_csr_t(indptr, indices, data, h, XT, ET, XN, PHI, dt, x_max, law, params):  # pragma: no cover - compiled
    N, R = XT.shape
    for i in range(N):
        phi = PHI[i]
        for r in range(R):
            phi[r] = h[i]
        for q in range(indptr[i], indptr[i + 1]):
            d = data[q]
            xj = XT[indices[q]]
            for r in range(R):
                phi[r] += d * xj[r]
        xi_, ei, xn = XT[i], ET[i], XN[i]
        for r in range(R):
            x_new, e_new = law(xi_[r], ei[r], phi[r], dt, params)
            if x_new > x_max:
                x_new = x_max
            elif x_new < -x_max:
                x_new = -x_max
            xn[r] = x_new
            ei[r] = e_new
    XT[:] = XN


@nb.njit(cache=True, nogil=True)
def cfc_csr_step(indptr, indices, data, h, XT, ET, XN, PHI, p, alpha, beta, dt, x_max, e_min, e_max):  # pragma: no cover - compiled
    """:func:`cfc_step` without noise on (N, R) arrays ``XT``, ``ET`` (``XN`` scratch for the new amplitudes,
    ``PHI`` gets the field), the field xi (J x + h) computed here from CSR ``data``/``h`` already scaled by xi."""
    _feedback_csr_t(indptr, indices, data, h, XT, ET, XN, PHI, dt, x_max, _cfc_law, (p, alpha, beta, e_min, e_max))


@nb.njit(cache=True, nogil=True)
def sfc_csr_step(indptr, indices, data, h, XT, ET, XN, PHI, p, c, k, beta, dt, exact_tanh):  # pragma: no cover - compiled
    """:func:`sfc_step` without noise on (N, R) arrays (as :func:`cfc_csr_step`); ``exact_tanh`` False uses
    :func:`tanh_rational` (vectorised) for the saturated feedback instead of np.tanh."""
    if exact_tanh:
        _feedback_csr_t(indptr, indices, data, h, XT, ET, XN, PHI, dt, np.inf, _sfc_law, (p, c, k, beta))
    else:
        _feedback_csr_t(indptr, indices, data, h, XT, ET, XN, PHI, dt, np.inf, _sfc_law_fast, (p, c, k, beta))
