"""Numba kernels for batched descent of the soft-spin energy and for the CIM Euler step.

Soft-spin energy (physics.md 1), per replica row x of X (R, N), couplings already normalised::

    E_a(x) = sum_i (x_i^4/4 - a x_i^2/2) - 1/2 x^T J x - h^T x,     g = x^3 - a x - J x - h

Along a search direction d the energy is an exact quartic in the step t::

    E_a(x + t d) - E_a(x) = c1 t + c2 t^2 + c3 t^3 + c4 t^4
    c1 = g.d,  c2 = sum (3/2 x^2 - a/2) d^2 - 1/2 d.Jd,  c3 = sum x d^3,  c4 = 1/4 sum d^4

so one product J d per iteration gives an exact line search. :func:`line_step` moves every replica to the
FIRST local minimum of that quartic on t > 0 (never jumping over a barrier into another basin), which is
what an adiabatic follower needs. :func:`lbfgs_direction` is the L-BFGS two-loop recursion with one
history ring per replica. The kernels are serial on purpose: the per-call work is O(R N) and numba's
thread pool costs more than it saves on a shared 2-core machine (measured 20x slower with prange under
load); the O(R N^2) product J D is left to BLAS. They allocate nothing per call except tiny scalars.
"""
from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(cache=True, nogil=True)
def _dphi(t, c1, c2, c3, c4):  # pragma: no cover - compiled
    return c1 + t * (2.0 * c2 + t * (3.0 * c3 + t * 4.0 * c4))


@nb.njit(cache=True, nogil=True)
def _ddphi(t, c2, c3, c4):  # pragma: no cover - compiled
    return 2.0 * c2 + t * (6.0 * c3 + t * 12.0 * c4)


@nb.njit(cache=True, nogil=True)
def _root_in(lo, hi, c1, c2, c3, c4):  # pragma: no cover - compiled
    """Root of phi' on [lo, hi] where phi' rises from <= 0 to > 0 (safeguarded Newton)."""
    t = 0.5 * (lo + hi)
    for _ in range(200):
        f = _dphi(t, c1, c2, c3, c4)
        if f > 0.0:
            hi = t
        else:
            lo = t
        if hi - lo <= 1e-15 * hi:
            break
        fp = _ddphi(t, c2, c3, c4)
        tn = t - f / fp if fp > 0.0 else 0.5 * (lo + hi)
        if not (lo < tn < hi):
            tn = 0.5 * (lo + hi)
        if tn == t:
            break
        t = tn
    return t


@nb.njit(cache=True, nogil=True)
def quartic_first_min(c1, c2, c3, c4):  # pragma: no cover - compiled
    """Smallest t > 0 at which phi(t) = c1 t + c2 t^2 + c3 t^3 + c4 t^4 has a local minimum.

    Requires c1 < 0 (descent direction) and c4 >= 0; returns 0 when c1 >= 0 or the quartic is degenerate.
    """
    if not (c1 < 0.0):
        return 0.0
    if c4 <= 0.0:
        # at most a cubic: use the quadratic model if it is convex, else give up
        if c3 == 0.0 and c2 > 0.0:
            return -c1 / (2.0 * c2)
        return 0.0
    # breakpoints: positive roots of phi'' = 12 c4 t^2 + 6 c3 t + 2 c2
    disc = 36.0 * c3 * c3 - 96.0 * c2 * c4
    b1 = -1.0
    b2 = -1.0
    if disc > 0.0:
        sq = np.sqrt(disc)
        r1 = (-6.0 * c3 - sq) / (24.0 * c4)
        r2 = (-6.0 * c3 + sq) / (24.0 * c4)
        if r1 > 0.0:
            b1 = r1
        if r2 > 0.0:
            b2 = r2
    lo = 0.0
    if b1 > 0.0:
        if _dphi(b1, c1, c2, c3, c4) > 0.0:
            return _root_in(lo, b1, c1, c2, c3, c4)
        lo = b1
    if b2 > 0.0:
        if _dphi(b2, c1, c2, c3, c4) > 0.0:
            return _root_in(lo, b2, c1, c2, c3, c4)
        lo = b2
    # last interval: phi' increasing to +inf
    hi = lo if lo > 0.0 else 1.0
    if c2 > 0.0:
        hi = max(hi, -c1 / (2.0 * c2))
    for _ in range(2000):
        if _dphi(hi, c1, c2, c3, c4) > 0.0:
            break
        hi *= 2.0
    return _root_in(lo, hi, c1, c2, c3, c4)


@nb.njit(cache=True, nogil=True)
def lbfgs_direction(G, S, Y, rho, head, count, gamma0, active, D):  # pragma: no cover - compiled
    """D[r] = -H_r G[r] (L-BFGS two-loop) for every active replica r; inactive rows get D = 0.

    G, D : (R, N); S, Y : (m, R, N) history rings; rho : (m, R) with 0 marking a skipped pair;
    head, count : (R,) int64 ring position (next slot) and number of stored pairs; gamma0 : (R,) initial
    inverse-Hessian scale used when no valid pair is stored.
    """
    R, N = G.shape
    m = S.shape[0]
    for r in range(R):
        q = D[r]
        if not active[r]:
            for j in range(N):
                q[j] = 0.0
            continue
        for j in range(N):
            q[j] = G[r, j]
        alpha = np.zeros(m)
        gamma = gamma0[r]
        found = False
        for k in range(count[r]):
            i = (head[r] - 1 - k) % m
            rr = rho[i, r]
            if rr == 0.0:
                continue
            if not found:
                yy = 0.0
                for j in range(N):
                    yy += Y[i, r, j] * Y[i, r, j]
                if yy > 0.0:
                    gamma = 1.0 / (rr * yy)
                found = True
            s = 0.0
            for j in range(N):
                s += S[i, r, j] * q[j]
            al = rr * s
            alpha[k] = al
            for j in range(N):
                q[j] -= al * Y[i, r, j]
        for j in range(N):
            q[j] *= gamma
        for k in range(count[r] - 1, -1, -1):
            i = (head[r] - 1 - k) % m
            rr = rho[i, r]
            if rr == 0.0:
                continue
            s = 0.0
            for j in range(N):
                s += Y[i, r, j] * q[j]
            be = rr * s
            c = alpha[k] - be
            for j in range(N):
                q[j] += c * S[i, r, j]
        gd = 0.0
        for j in range(N):
            q[j] = -q[j]
            gd += q[j] * G[r, j]
        if not (gd < 0.0):  # not a descent direction: fall back to scaled steepest descent
            for j in range(N):
                q[j] = -gamma0[r] * G[r, j]


@nb.njit(cache=True, nogil=True)
def line_step(X, JX, G, D, JD, a, h, S, Y, rho, head, count, active, gmax, tstep):  # pragma: no cover - compiled
    """Exact line search along D (JD = J D given), move X, JX, G, store the (s, y) pair, gmax = max|g|.

    Inactive replicas are left alone (gmax unchanged). ``a`` is the scalar pump, ``h`` (N,) the
    normalised field. ``tstep`` (R,) receives the step taken.
    """
    R, N = X.shape
    m = S.shape[0]
    for r in range(R):
        if not active[r]:
            tstep[r] = 0.0
            continue
        c1 = 0.0
        c2 = 0.0
        c2j = 0.0
        c3 = 0.0
        c4 = 0.0
        for j in range(N):
            d = D[r, j]
            x = X[r, j]
            d2 = d * d
            c1 += G[r, j] * d
            c2 += (1.5 * x * x - 0.5 * a) * d2
            c2j += d * JD[r, j]
            c3 += x * d2 * d
            c4 += d2 * d2
        c2 -= 0.5 * c2j
        c4 *= 0.25
        t = quartic_first_min(c1, c2, c3, c4)
        tstep[r] = t
        i = head[r]
        sy = 0.0
        g_inf = 0.0
        for j in range(N):
            s = t * D[r, j]
            x = X[r, j] + s
            X[r, j] = x
            jx = JX[r, j] + t * JD[r, j]
            JX[r, j] = jx
            gn = x * x * x - a * x - jx - h[j]
            y = gn - G[r, j]
            G[r, j] = gn
            S[i, r, j] = s
            Y[i, r, j] = y
            sy += s * y
            ag = abs(gn)
            if ag > g_inf:
                g_inf = ag
        gmax[r] = g_inf
        rho[i, r] = 1.0 / sy if sy > 1e-300 else 0.0
        head[r] = (i + 1) % m
        if count[r] < m:
            count[r] += 1


@nb.njit(cache=True, nogil=True)
def shift_memory(S, Y, rho, count, head, da):  # pragma: no cover - compiled
    """After a -> a + da the Hessian shifts by -da I: y <- y - da s; pairs losing curvature are skipped."""
    m, R, N = S.shape
    for r in range(R):
        for k in range(count[r]):
            i = (head[r] - 1 - k) % m
            sy = 0.0
            for j in range(N):
                Y[i, r, j] -= da * S[i, r, j]
                sy += S[i, r, j] * Y[i, r, j]
            rho[i, r] = 1.0 / sy if sy > 1e-300 else 0.0


@nb.njit(cache=True, nogil=True)
def soft_gradient(X, JX, a, h, G, gmax):  # pragma: no cover - compiled
    """G = X^3 - a X - JX - h and gmax[r] = max_j |G[r, j]|."""
    R, N = X.shape
    for r in range(R):
        g_inf = 0.0
        for j in range(N):
            x = X[r, j]
            g = x * x * x - a * x - JX[r, j] - h[j]
            G[r, j] = g
            if abs(g) > g_inf:
                g_inf = abs(g)
        gmax[r] = g_inf


@nb.njit(inline="always")
def _uniform(state, r):  # pragma: no cover - compiled
    """Advance replica r's xorshift64* state ``state[r]``; return a uniform float64 in [0, 1)."""
    x = state[r]
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    state[r] = x
    return np.float64((x * np.uint64(0x2545F4914F6CDD1D)) >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@nb.njit(inline="always")
def _normal_pair(state, r):  # pragma: no cover - compiled
    """Two independent standard normals from replica r's stream (Marsaglia's polar method)."""
    while True:
        u = 2.0 * _uniform(state, r) - 1.0
        v = 2.0 * _uniform(state, r) - 1.0
        q = u * u + v * v
        if 0.0 < q < 1.0:
            break
    f = np.sqrt(-2.0 * np.log(q) / q)
    return u * f, v * f


def _ziggurat_tables(layers: int = 128, r: float = 3.442619855899, v: float = 9.91256303526217e-3):
    """Layer edges x (layers + 1,) and inner ratios x[i+1] / x[i] (layers,) of Marsaglia and Tsang's ziggurat
    for the standard normal (Doornik's ZIGNOR constants: 128 layers of area v, base strip beyond r)."""
    x = np.zeros(layers + 1)
    f = np.exp(-0.5 * r * r)
    x[0], x[1] = v / f, r
    for i in range(2, layers):
        x[i] = np.sqrt(-2.0 * np.log(v / x[i - 1] + f))
        f = np.exp(-0.5 * x[i] * x[i])
    return x, x[1:] / x[:-1]


ZIG_X, ZIG_RATIO = _ziggurat_tables()
ZIG_R = 3.442619855899


@nb.njit(inline="always")
def _normal(state, r):  # pragma: no cover - compiled
    """One standard normal from replica r's stream by the ziggurat (Marsaglia and Tsang 2000, Doornik's
    ZIGNOR tables): one xorshift64* draw gives the layer (7 bits below the 53 that :func:`_uniform` uses)
    and a uniform in (-1, 1); 98.8 % of draws return at once, the rest take the exact wedge or tail test.
    About twice as fast per normal as the polar :func:`_normal_pair`, whose log, sqrt and division dominate."""
    while True:
        x = state[r]
        x ^= x >> np.uint64(12)
        x ^= x << np.uint64(25)
        x ^= x >> np.uint64(27)
        state[r] = x
        w = x * np.uint64(0x2545F4914F6CDD1D)
        i = np.int64((w >> np.uint64(4)) & np.uint64(127))
        u = 2.0 * (np.float64(w >> np.uint64(11)) * (1.0 / 9007199254740992.0)) - 1.0
        if abs(u) < ZIG_RATIO[i]:
            return u * ZIG_X[i]
        if i == 0:  # the tail beyond ZIG_R (Marsaglia 1964)
            while True:
                a = np.log(1.0 - _uniform(state, r)) / ZIG_R
                b = np.log(1.0 - _uniform(state, r))
                if -2.0 * b >= a * a:
                    break
            return a - ZIG_R if u < 0.0 else ZIG_R - a
        y = u * ZIG_X[i]
        f0 = np.exp(-0.5 * (ZIG_X[i] * ZIG_X[i] - y * y))
        f1 = np.exp(-0.5 * (ZIG_X[i + 1] * ZIG_X[i + 1] - y * y))
        if f1 + _uniform(state, r) * (f0 - f1) < 1.0:
            return y


@nb.njit(cache=True, nogil=True)
def fill_normals_zig(out, state):  # pragma: no cover - compiled
    """``out`` (R, N) <- standard normals from :func:`_normal` on replica r's stream, row r (tests check the law)."""
    R, N = out.shape
    for r in range(R):
        for j in range(N):
            out[r, j] = _normal(state, r)


@nb.njit(cache=True, nogil=True)
def euler_step_noisy(X, JX, a, h, dt, noise_sq, state):  # pragma: no cover - compiled
    """In place: X += dt (a X - X^3 + JX + h) + noise_sq * xi with xi ~ N(0, 1) drawn here, fused.

    Normals come in pairs from the Marsaglia polar method on per-replica xorshift64* streams ``state``
    (R,) uint64 (non-zero; seeded from the caller's Generator), so a step makes one pass over X and no
    (R, N) noise array: about 3x cheaper than ``Generator.standard_normal`` plus a separate pass.
    """
    R, N = X.shape
    for r in range(R):
        for j in range(0, N, 2):
            g1, g2 = _normal_pair(state, r)
            x = X[r, j]
            X[r, j] = x + dt * (a * x - x * x * x + JX[r, j] + h[j]) + noise_sq * g1
            if j + 1 < N:
                x = X[r, j + 1]
                X[r, j + 1] = x + dt * (a * x - x * x * x + JX[r, j + 1] + h[j + 1]) + noise_sq * g2


@nb.njit(cache=True, nogil=True)
def fill_normals(out, state):  # pragma: no cover - compiled
    """``out`` (R, N) <- the standard normals :func:`euler_step_noisy` would draw from ``state`` (advanced
    the same way): the NumPy stand-in of the GPU path uses it to reproduce the CPU trajectory."""
    R, N = out.shape
    for r in range(R):
        for j in range(0, N, 2):
            g1, g2 = _normal_pair(state, r)
            out[r, j] = g1
            if j + 1 < N:
                out[r, j + 1] = g2


@nb.njit(cache=True, nogil=True)
def euler_step(X, JX, a, h, dt, noise_sq, xi):  # pragma: no cover - compiled
    """In place: X += dt (a X - X^3 + JX + h) + noise_sq * xi (xi may be an empty (0, 0) array)."""
    R, N = X.shape
    use_noise = xi.shape[0] == R
    for r in range(R):
        for j in range(N):
            x = X[r, j]
            x += dt * (a * x - x * x * x + JX[r, j] + h[j])
            if use_noise:
                x += noise_sq * xi[r, j]
            X[r, j] = x
