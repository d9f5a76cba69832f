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

__all__ = ["cim_step", "sb_step", "amp_step"]


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
             pm1: float, mu: float, coup: float, dt: float, e_max: float, x_max: float) -> None:
    """One AHC/CAC Euler step for active replicas (physics.md 4.4/4.5, :mod:`cimsim.kernels.amplitude`)::

        BEST[r] = S[r] if improved[r]              (the previous step's readout was a new best)
        x <- clip(x + dt ((pm1 - mu x^2) x + coup e y), -x_max, x_max)
        e <- min(e exp(-dt xi_r (x_old^2 - tau_r)), e_max);   S = sign(x)

    ``improved`` and ``active`` are (R,) booleans; inactive replicas are left untouched.
    """
    xp = _xp(X)
    imp = improved[:, None]
    BEST[...] = xp.where(imp, S, BEST)
    act = active[:, None]
    x2 = X * X
    xn = X + dt * ((pm1 - mu * x2) * X + coup * E * Y)
    xn = xp.clip(xn, -x_max, x_max)
    en = E * xp.exp(-dt * XI[:, None] * (x2 - TAU[:, None]))
    en = xp.minimum(en, e_max)
    X[...] = xp.where(act, xn, X)
    E[...] = xp.where(act, en, E)
    S[...] = xp.where(act, xp.where(X >= 0, 1.0, -1.0), S)
