"""Metropolis simulated-annealing kernels (dense and CSR couplings).

Convention (physics.md 1): ``H(s) = -1/2 s^T J s - h^T s``; with local fields ``phi = J s + h`` the
energy change of flipping spin ``i`` is ``dE_i = 2 s_i phi_i``. One *sweep* visits the spins in order
0..N-1 and flips spin ``i`` with probability ``min(1, exp(-beta dE_i))``; ``beta`` is constant within a
sweep and taken from the ``betas`` schedule (one entry per sweep). Accepted flips update ``phi``
incrementally (O(N) per flip for dense ``J``, O(degree) for CSR).

Randomness comes from a per-replica xorshift64* stream whose state (``seeds``, shape (R,), uint64,
non-zero) is drawn from a ``numpy.random.Generator`` by the caller, so results are identical for a
given seed whatever the number of threads. Replicas run in parallel (``numba.prange``).

Shapes: ``S`` (R, N) int8 spins (updated in place), ``betas`` (T,) float64, ``h`` (N,) float64.
Energies are accumulated in float64 from the start energies ``E`` (R,) passed in. The dense kernel
keeps ``J`` and ``phi`` in float32 (half the memory traffic) and recomputes ``phi`` and the energy
exactly from the float64 ``J`` after every ``resync`` accepted flips (an O(N^2) step costing as much
as N flips) and at the end, so rounding cannot drift.
"""
from __future__ import annotations

import numba as nb
import numpy as np

#: exp(-x) for x above this is < 1e-19 < 2^-53: such uphill moves are rejected without a draw.
_MAX_EXPONENT = 44.0


@nb.njit(inline="always")
def _xorshift_bits(state):  # pragma: no cover - compiled
    """Advance a length-1 uint64 xorshift64* state; return 53 uniform random bits as a uint64."""
    x = state[0]
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    state[0] = x
    return (x * np.uint64(0x2545F4914F6CDD1D)) >> np.uint64(11)


@nb.njit(inline="always")
def _xorshift_uniform(state):  # pragma: no cover - compiled
    """Advance a length-1 uint64 xorshift64* state; return a uniform float64 in [0, 1)."""
    return np.float64(_xorshift_bits(state)) * (1.0 / 9007199254740992.0)


@nb.njit(inline="always")
def csr_fields(indptr, indices, w, hv, s, out):  # pragma: no cover - compiled
    """``out = w s + hv`` for CSR ``(indptr, indices, w)`` and spins ``s`` (in ``out``'s dtype)."""
    for j in range(s.shape[0]):
        acc = hv[j]
        for k in range(indptr[j], indptr[j + 1]):
            acc += w[k] * s[indices[k]]
        out[j] = acc


@nb.njit(parallel=True, cache=True, nogil=True)
def anneal_dense(J32, J64, h, offset, S, E, betas, seeds, resync, trace):  # pragma: no cover - compiled
    """Anneal every replica of ``S`` through ``betas`` with dense couplings.

    J32 : (N, N) float32, J64 : (N, N) float64 (same matrix; used only to resync fields)
    h : (N,) float64;  offset : float;  S : (R, N) int8 in/out
    E : (R,) float64 out: energy of the final S (recomputed exactly at every resync, else accumulated)
    betas : (T,) float64;  seeds : (R,) uint64 non-zero
    resync : recompute phi (and the energy) exactly after this many accepted flips, and at the end
    trace : (R, T) float64 energy after each sweep, or (R, 0) to skip recording.
    Returns the number of accepted flips per replica (R,) int64.
    """
    R, N = S.shape
    T = betas.shape[0]
    flips = np.zeros(R, dtype=np.int64)
    record = trace.shape[1] == T
    for r in nb.prange(R):
        s = S[r]
        state = np.empty(1, dtype=np.uint64)
        state[0] = seeds[r]
        phi = np.empty(N, dtype=np.float32)
        e = E[r]
        nflip = 0
        since = resync  # flips since the last exact recomputation of phi; start with one
        for t in range(T + 1):
            if since >= resync or t == T:
                since = 0
                e = 0.0
                for j in range(N):
                    acc = 0.0
                    Jj = J64[j]
                    for k in range(N):
                        acc += Jj[k] * s[k]
                    e -= (0.5 * acc + h[j]) * s[j]
                    phi[j] = acc + h[j]
                e += offset
            if t == T:
                break
            beta = betas[t]
            cut = _MAX_EXPONENT / beta
            for i in range(N):
                dE = 2.0 * s[i] * np.float64(phi[i])
                if dE > 0.0:
                    if dE >= cut:
                        continue
                    if _xorshift_uniform(state) >= np.exp(-beta * dE):
                        continue
                s[i] = -s[i]
                e += dE
                nflip += 1
                since += 1
                two_s = np.float32(2.0 * s[i])
                Ji = J32[i]
                for j in range(N):
                    phi[j] += two_s * Ji[j]
            if record:
                trace[r, t] = e
        E[r] = e
        flips[r] = nflip
    return flips


@nb.njit(parallel=True, cache=True, nogil=True)
def anneal_csr(indptr, indices, data, h, S, E, betas, seeds, trace):  # pragma: no cover - compiled
    """CSR version of :func:`anneal_dense` (float64 fields; ``J`` symmetric so row i = neighbours of i)."""
    R, N = S.shape
    T = betas.shape[0]
    flips = np.zeros(R, dtype=np.int64)
    record = trace.shape[1] == T
    for r in nb.prange(R):
        s = S[r]
        state = np.empty(1, dtype=np.uint64)
        state[0] = seeds[r]
        phi = np.empty(N, dtype=np.float64)
        csr_fields(indptr, indices, data, h, s, phi)
        e = E[r]
        nflip = 0
        for t in range(T):
            beta = betas[t]
            cut = _MAX_EXPONENT / beta
            for i in range(N):
                dE = 2.0 * s[i] * phi[i]
                if dE > 0.0:
                    if dE >= cut:
                        continue
                    if _xorshift_uniform(state) >= np.exp(-beta * dE):
                        continue
                s[i] = -s[i]
                e += dE
                nflip += 1
                two_s = 2.0 * s[i]
                for k in range(indptr[i], indptr[i + 1]):
                    phi[indices[k]] += two_s * data[k]
            if record:
                trace[r, t] = e
        E[r] = e
        flips[r] = nflip
    return flips


@nb.njit(parallel=True, cache=True, nogil=True)
def anneal_csr_lattice(indptr, indices, wq, hq, g, dmax, S, E, betas, seeds, trace):  # pragma: no cover - compiled
    """CSR annealing for couplings and fields on a lattice ``J = g * wq``, ``h = g * hq`` (integers).

    Same moves, schedule and random stream as :func:`anneal_csr`, but the fields are kept as exact
    integers ``q_i = phi_i / g`` (int32) and the Metropolis test is a table lookup: flipping spin i
    costs ``dE = 2 g d`` with integer ``d = s_i q_i`` in ``[-dmax, dmax]``, so once per sweep the table
    ``thr[d] = floor(2^53 exp(-2 beta g d))`` is built and a move with ``d > 0`` is accepted iff the
    53-bit draw is below ``thr[d]`` (no ``exp`` per spin; moves with ``thr[d] = 0`` skip the draw).

    wq : (nnz,) int32 (J.data / g);  hq : (N,) int32 (h / g);  g : float > 0
    dmax : int >= max_i (|hq_i| + sum_j |wq_ij|)  (largest |d|)
    Other arguments and the return value as in :func:`anneal_csr`.
    """
    R, N = S.shape
    T = betas.shape[0]
    flips = np.zeros(R, dtype=np.int64)
    record = trace.shape[1] == T
    two53 = 9007199254740992.0
    for r in nb.prange(R):
        s = S[r]
        state = np.empty(1, dtype=np.uint64)
        state[0] = seeds[r]
        q = np.empty(N, dtype=np.int32)
        thr = np.empty(dmax + 1, dtype=np.uint64)
        csr_fields(indptr, indices, wq, hq, s, q)
        e = E[r]
        nflip = 0
        for t in range(T):
            beta = betas[t]
            top = 0  # thr[d] > 0 exactly for d < top
            for d in range(dmax + 1):
                x = beta * 2.0 * g * d
                if x >= _MAX_EXPONENT:
                    break
                thr[d] = np.uint64(np.exp(-x) * two53)
                top = d + 1
            for i in range(N):
                d = s[i] * q[i]
                if d > 0:
                    if d >= top:
                        continue
                    if _xorshift_bits(state) >= thr[d]:
                        continue
                s[i] = -s[i]
                e += 2.0 * g * d
                nflip += 1
                two_s = 2 * s[i]
                for k in range(indptr[i], indptr[i + 1]):
                    q[indices[k]] += two_s * wq[k]
            if record:
                trace[r, t] = e
        E[r] = e
        flips[r] = nflip
    return flips
