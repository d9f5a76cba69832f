"""Array-module (``xp``) reference implementations of the fused per-step updates.

Each function performs, in place and with the same arithmetic (same operation order, float64
intermediates where the CPU kernels use them), exactly what the matching numba.cuda kernel in
:mod:`cimsim.gpu.cuda_kernels` does for one element ``(r, i)``. They are written against NumPy's
API and run unchanged on CuPy arrays (as an unfused fallback); with ``xp = numpy`` they are the
stand-in the tests compare with the CPU solvers.

Shapes: ``X, Y, E, S, ...`` are (R, N) state arrays; per-replica vectors are (R,); ``h`` is (N,).
``S`` holds the readout sign(x) (x >= 0 -> +1) in the state dtype.
"""
from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["cim_step", "sb_step", "amp_step", "energies", "readout", "amp_control", "sb_readout"]


def _xp(a: Any):
    mod = type(a).__module__
    if mod.startswith("cupy"):
        import cupy  # type: ignore[import-not-found]

        return cupy
    return np


def cim_step(X, Y, S, h, a: float, coef: float, dt: float, noise_sq: float, XI) -> None:
    """``X += dt ((a X - X^3 + coef Y) + h)``, then ``X += noise_sq XI`` (skipped when ``noise_sq == 0``);
    ``S = sign(X)``.

    ``Y`` is the raw product ``X J`` and ``coef`` the coupling normalisation 1 / coupling_scale().
    """
    xp = _xp(X)
    tmp = a * X - X * X * X
    tmp += Y * coef
    tmp += h
    X += dt * tmp
    if noise_sq > 0:
        X += noise_sq * XI
    S[...] = xp.where(X >= 0, 1.0, -1.0)


def sb_step(X, Y, V, S, P, h, cx: float, cp: float, cy: float, discrete: bool) -> None:
    """One symplectic-Euler SB step (physics.md 4.7), float64 intermediates like the CPU kernels::

        y <- y + (-cx x + cp (p + h));  x <- x + cy y;  |x| > 1 -> x = sign(x), y = 0
        v = sgn(x) (dSB, sgn(0) = 0) or x (bSB);   S = sign(x) (x >= 0 -> +1)
    """
    xp = _xp(X)
    y = Y.astype(xp.float64) + (-cx * X.astype(xp.float64) + cp * (P.astype(xp.float64) + h))
    x = X.astype(xp.float64) + cy * y
    wall = xp.abs(x) > 1.0
    x = xp.where(x > 1.0, 1.0, xp.where(x < -1.0, -1.0, x))
    y = xp.where(wall, 0.0, y)
    X[...] = x
    Y[...] = y
    if discrete:
        V[...] = xp.sign(X)
    else:
        V[...] = X
    S[...] = xp.where(X >= 0, 1.0, -1.0)


def amp_step(X, E, Y, S, BEST, improved, active, XI, TAU,
             pm1: float, mu: float, coup: float, dt: float, e_max: float, x_max: float, G=None, sq: float = 0.0) -> None:
    """One AHC/CAC Euler step for active replicas (physics.md 4.4/4.5, :mod:`cimsim.kernels.amplitude`)::

        BEST[r] = S[r] if improved[r]              (the previous step's readout was a new best)
        x <- clip(x + dt ((pm1 - mu x^2) x + coup e y) + sq g, -x_max, x_max)
        e <- min(e exp(-dt xi_r (x_old^2 - tau_r)), e_max);   S = sign(x)

    ``improved`` and ``active`` are (R,) booleans; inactive replicas are left untouched. ``G`` (R, N) holds
    this step's standard normals g (read only when ``sq = noise sqrt(dt)`` is non-zero).
    """
    xp = _xp(X)
    imp = improved[:, None]
    BEST[...] = xp.where(imp, S, BEST)
    act = active[:, None]
    x2 = X * X
    xn = X + dt * ((pm1 - mu * x2) * X + coup * E * Y)
    if sq != 0.0:
        xn = xn + sq * G
    xn = xp.clip(xn, -x_max, x_max)
    en = E * xp.exp(-dt * XI[:, None] * (x2 - TAU[:, None]))
    en = xp.minimum(en, e_max)
    X[...] = xp.where(act, xn, X)
    E[...] = xp.where(act, en, E)
    S[...] = xp.where(act, xp.where(X >= 0, 1.0, -1.0), S)


def energies(S, PHI, h, offset: float):
    """(R,) float64 ``offset - sum_i S_i (PHI_i / 2 + h_i)`` from the raw fields PHI = S J (h None: no field)."""
    xp = _xp(S)
    e = (S * PHI).sum(axis=1, dtype=xp.float64)
    e *= -0.5
    if h is not None:
        e -= (S * h).sum(axis=1, dtype=xp.float64)
    e += offset
    return e


def readout(S, PHI, h, offset: float, best_E, best_S, track_best: bool) -> None:
    """Energies of the readout S and the per-replica best (strict improvement; always taken when not
    ``track_best``), in place on ``best_E`` (R,) and ``best_S`` (R, N) int8."""
    xp = _xp(S)
    E = energies(S, PHI, h, offset)
    take = (E < best_E) if track_best else xp.ones(E.shape, dtype=bool)
    best_E[...] = xp.where(take, E, best_E)
    best_S[...] = xp.where(take[:, None], S, best_S)


def amp_control(S, PHI, offset: float, H, HOPT, TAU, XI, TC, TBEST, STEPS, ACTIVE, IMPROVED, t1: int,
                alpha: float, rho: float, delta: float, gamma: float, dt: float, tau_steps: int, tol: float,
                tgt: float) -> None:
    """After step ``t1 - 1``, for active replicas: H from the fields, then steps 1-3 of
    :mod:`cimsim.kernels.amplitude` (improvement flag, xi ramp and reset, tau_a) and the target stop."""
    xp = _xp(S)
    Hn = energies(S, PHI, None, offset)
    act = ACTIVE.copy()
    H[...] = xp.where(act, Hn, H)
    IMPROVED[...] = act & (H < HOPT - tol)
    HOPT[...] = xp.where(IMPROVED, H, HOPT)
    TC[...] = xp.where(IMPROVED, t1, TC)
    TBEST[...] = xp.where(IMPROVED, t1, TBEST)
    XI[...] = xp.where(act, XI + gamma * dt, XI)
    reset = act & (t1 - TC >= tau_steps)
    XI[...] = xp.where(reset, 0.0, XI)
    TC[...] = xp.where(reset, t1, TC)
    TAU[...] = xp.where(act, alpha + rho * xp.tanh(delta * (H - HOPT)), TAU)
    STEPS[...] = xp.where(act, t1, STEPS)
    ACTIVE[...] = act & ~(H <= tgt + tol)


def sb_readout(X, V, P, h, offset: float, zero_fields, best_E, best_S) -> None:
    """Discrete SB: energies of the readout S = sign(x) from the dynamics product P = V J (V = sgn(x)), exact
    with the zero-amplitude correction (:func:`cimsim.gpu.cuda_kernels.sb_readout_dense_kernel`), then the
    best-so-far update. ``zero_fields(Z)`` returns Z J for the 0/1 indicator Z of zero amplitudes (only
    called when some amplitude is exactly 0)."""
    xp = _xp(X)
    Z = (X == 0).astype(P.dtype)
    S = xp.where(X >= 0, 1.0, -1.0)
    e = (0.5 * V * P + Z * P).sum(axis=1, dtype=xp.float64)
    if bool(Z.any()):
        e += 0.5 * (Z * zero_fields(Z)).sum(axis=1, dtype=xp.float64)
    if h is not None:
        e += (S * h).sum(axis=1, dtype=xp.float64)
    E = offset - e
    take = E < best_E
    best_E[...] = xp.where(take, E, best_E)
    best_S[...] = xp.where(take[:, None], S, best_S)
