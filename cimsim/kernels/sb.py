"""Simulated-bifurcation kernels (ballistic and discrete SB, Goto et al. 2021; physics.md 4.7).

One step k (symplectic Euler, y then x, then perfectly inelastic walls)::

    phi = J v + h              v = x (bSB) or sgn(x) (dSB; sgn(0) = 0)
    y  += dt * ( -(a0 - a_k) x + c0 phi )
    x  += dt * a0 * y
    |x_i| > 1  ->  x_i = sign(x_i), y_i = 0

State arrays are float32 with shape (R, N); energies are accumulated in float64. The Ising readout of
replica r is ``s = +1 where x >= 0 else -1``; its energy ``H(s) = -1/2 s.(Js) - h.s + offset`` is
taken from the ``phi`` of the next step when that ``phi`` was computed from ``s`` (dSB without zero
amplitudes), else from an explicit product. The best readout of each replica is kept in
``best_S`` (int8) / ``best_E`` (float64).

``sb_csr_run`` runs whole trajectories for CSR couplings, one replica per thread; ``sb_dense_run``
does the same for dense float32 J with blocks of replicas sharing each row of J.
"""
from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(inline="always")
def _drive(x, discrete):  # pragma: no cover - compiled
    """What the couplings see of an amplitude: sgn(x) (sgn(0) = 0) for dSB, x itself for bSB."""
    if discrete:
        return 1.0 if x > 0.0 else (-1.0 if x < 0.0 else 0.0)
    return x


@nb.njit(inline="always")
def _wall(x, y):  # pragma: no cover - compiled
    """The perfectly inelastic walls: |x| > 1 -> (sign(x), 0), else (x, y) unchanged. Also compiled into
    the CUDA sb kernel (:mod:`cimsim.gpu.cuda_kernels`)."""
    if x > 1.0:
        return 1.0, 0.0
    if x < -1.0:
        return -1.0, 0.0
    return x, y


@nb.njit(inline="always")
def _csr_energy(indptr, indices, data, h, offset, x):  # pragma: no cover - compiled
    """H(s) for s = +1 where x >= 0 else -1 (float64)."""
    N = h.shape[0]
    e = offset
    for i in range(N):
        si = 1.0 if x[i] >= 0.0 else -1.0
        acc = 0.0
        for k in range(indptr[i], indptr[i + 1]):
            acc += data[k] * (1.0 if x[indices[k]] >= 0.0 else -1.0)
        e -= si * (0.5 * acc + h[i])
    return e


@nb.njit(parallel=True, cache=True, nogil=True)
def sb_csr_run(indptr, indices, data, h, offset, X, Y, a_sched, a0, c0, dt, discrete, readout, best_S, best_E,
               k0=0, k1=-1, last=True):  # pragma: no cover
    """Run steps ``k0 <= k < k1`` (default: all ``len(a_sched)``) for every replica with CSR J; X, Y (R, N)
    float32 in place.

    a_sched : (T,) float64, a_k per step.  readout : score every ``readout`` steps (k >= 1, k % readout
    == 0, before step k's update, i.e. the state after k steps) and, if ``last``, the final state.
    data is float32 or float64; phi is accumulated in float64. Consecutive calls over ``[0, m1)``,
    ``[m1, m2)``, ... (``last`` only on the final one) do exactly what one call over all steps does.
    """
    R, N = X.shape
    T = a_sched.shape[0] if k1 < 0 else k1
    cp = dt * c0
    cy = dt * a0
    for r in nb.prange(R):
        x = X[r]
        y = Y[r]
        v = np.empty(N, dtype=np.float32)
        p = np.empty(N, dtype=np.float64)
        for i in range(N):
            v[i] = _drive(x[i], discrete)
        for k in range(k0, T):
            nonzero = True
            for i in range(N):
                acc = h[i]
                for kk in range(indptr[i], indptr[i + 1]):
                    acc += data[kk] * v[indices[kk]]
                p[i] = acc
                if x[i] == 0.0:
                    nonzero = False
            if k >= 1 and k % readout == 0:
                if discrete and nonzero:
                    e = offset
                    for i in range(N):
                        e -= v[i] * 0.5 * (p[i] + h[i])
                else:
                    e = _csr_energy(indptr, indices, data, h, offset, x)
                if e < best_E[r]:
                    best_E[r] = e
                    for i in range(N):
                        best_S[r, i] = 1 if x[i] >= 0.0 else -1
            cx = dt * (a0 - a_sched[k])
            for i in range(N):
                yi = y[i] + (-cx * x[i] + cp * p[i])
                xi, yi = _wall(x[i] + cy * yi, yi)
                x[i] = xi
                y[i] = yi
                v[i] = _drive(xi, discrete)
        if last:
            e = _csr_energy(indptr, indices, data, h, offset, x)
            if e < best_E[r]:
                best_E[r] = e
                for i in range(N):
                    best_S[r, i] = 1 if x[i] >= 0.0 else -1


@nb.njit(inline="always")
def _block_product(J, V, P, b0, b1):  # pragma: no cover - compiled
    """P[b] = V[b] @ J for rows b0 <= b < b1 (J symmetric (N, N) float32). Four rows of J at a time are
    combined into each P[b] (one load and store of P[b, j] per four products), and the four rows are
    reused from cache by every replica of the block; on SK2000 with blocks of 8 this ran at ~0.65 of a
    single-thread BLAS product of the same shape, against ~0.45 for one row at a time."""
    N = J.shape[0]
    for b in range(b0, b1):
        pb = P[b]
        for j in range(N):
            pb[j] = 0.0
    i = 0
    while i + 4 <= N:
        J0 = J[i]
        J1 = J[i + 1]
        J2 = J[i + 2]
        J3 = J[i + 3]
        for b in range(b0, b1):
            c0 = V[b, i]
            c1 = V[b, i + 1]
            c2 = V[b, i + 2]
            c3 = V[b, i + 3]
            pb = P[b]
            for j in range(N):
                pb[j] += c0 * J0[j] + c1 * J1[j] + c2 * J2[j] + c3 * J3[j]
        i += 4
    while i < N:
        Ji = J[i]
        for b in range(b0, b1):
            c = V[b, i]
            pb = P[b]
            for j in range(N):
                pb[j] += c * Ji[j]
        i += 1


@nb.njit(parallel=True, cache=True, nogil=True)
def sb_dense_run(J, h, offset, X, Y, V, P, a_sched, a0, c0, dt, discrete, readout, block, best_S, best_E,
                 k0=0, k1=-1, last=True):  # pragma: no cover
    """Dense-J version of :func:`sb_csr_run`: whole trajectories (or the steps ``k0 <= k < k1``) inside the
    kernel, one block of ``block`` replicas per task, so threads never synchronise between steps.

    J : (N, N) float32.  V, P : (R, N) float32 work arrays.  Other arguments as in sb_csr_run.
    """
    R, N = X.shape
    T = a_sched.shape[0] if k1 < 0 else k1
    cp = dt * c0
    cy = dt * a0
    nblocks = (R + block - 1) // block
    for bk in nb.prange(nblocks):
        b0 = bk * block
        b1 = min(R, b0 + block)
        for b in range(b0, b1):
            for i in range(N):
                V[b, i] = _drive(X[b, i], discrete)
        for k in range(k0, T + 1):
            read = (k >= 1 and k % readout == 0 and k < T) or (k == T and last)
            if k < T:
                _block_product(J, V, P, b0, b1)
            if read:
                for b in range(b0, b1):
                    x = X[b]
                    exact = discrete and k < T
                    if exact:
                        for i in range(N):
                            if x[i] == 0.0:
                                exact = False
                                break
                    if exact:
                        e = offset
                        for i in range(N):
                            e -= V[b, i] * (0.5 * np.float64(P[b, i]) + h[i])
                    else:
                        e = offset
                        for i in range(N):
                            si = 1.0 if x[i] >= 0.0 else -1.0
                            acc = 0.0
                            Ji = J[i]
                            for j in range(N):
                                acc += Ji[j] * (1.0 if x[j] >= 0.0 else -1.0)
                            e -= si * (0.5 * acc + h[i])
                    if e < best_E[b]:
                        best_E[b] = e
                        for i in range(N):
                            best_S[b, i] = 1 if x[i] >= 0.0 else -1
            if k == T:
                break
            cx = dt * (a0 - a_sched[k])
            for b in range(b0, b1):
                x = X[b]
                y = Y[b]
                p = P[b]
                v = V[b]
                for i in range(N):
                    yi = y[i] + (-cx * x[i] + cp * (p[i] + h[i]))
                    xi, yi = _wall(x[i] + cy * yi, yi)
                    x[i] = xi
                    y[i] = yi
                    v[i] = _drive(xi, discrete)
