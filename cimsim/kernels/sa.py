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


def anneal_dense(J32, J64, h, offset, S, E, betas, seeds, resync, trace):
    """Anneal every replica of ``S`` through ``betas`` with dense couplings: one call of
    :func:`anneal_dense_chunk` over the whole schedule (see it for the arguments). ``seeds`` is not
    modified. Returns the number of accepted flips per replica (R,) int64."""
    R, N = S.shape
    state = np.array(seeds, dtype=np.uint64)
    flips = np.zeros(R, dtype=np.int64)
    phi = np.empty((R, N), dtype=np.float32)
    since = np.full(R, resync, dtype=np.int64)
    anneal_dense_chunk(J32, J64, h, offset, S, E, betas, state, resync, trace, phi, since, flips, True)
    return flips


@nb.njit(parallel=True, cache=True, nogil=True)
def anneal_dense_chunk(J32, J64, h, offset, S, E, betas, state_all, resync, trace, PHI, SINCE, flips,
                       last):  # pragma: no cover - compiled
    """Anneal every replica of ``S`` through ``betas`` with dense couplings.

    J32 : (N, N) float32, J64 : (N, N) float64 (same matrix; used only to resync fields)
    h : (N,) float64;  offset : float;  S : (R, N) int8 in/out
    E : (R,) float64 in/out: energy of S (recomputed exactly at every resync, else accumulated)
    betas : (T,) float64 the sweeps of this chunk;  state_all : (R,) uint64 non-zero random streams, in/out
    resync : recompute phi (and the energy) exactly after this many accepted flips, and at the end
    trace : (R, T) float64 energy after each sweep, or (R, 0) to skip recording.
    PHI : (R, N) float32 fields, carried between chunks;  SINCE : (R,) int64 flips since the last resync
    (start at ``resync``: the first chunk computes PHI);  flips : (R,) int64 accepted flips, accumulated
    last : the final chunk (ends with an exact resync).
    A schedule run in consecutive chunks makes exactly the moves of one call over all of it.
    """
    R, N = S.shape
    T = betas.shape[0]
    record = trace.shape[1] == T
    for r in nb.prange(R):
        s = S[r]
        state = np.empty(1, dtype=np.uint64)
        state[0] = state_all[r]
        phi = PHI[r]
        e = E[r]
        nflip = 0
        since = SINCE[r]  # flips since the last exact recomputation of phi
        for t in range(T + 1):
            if since >= resync or (t == T and last):
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
        SINCE[r] = since
        state_all[r] = state[0]
        flips[r] += nflip


def anneal_csr(indptr, indices, data, h, S, E, betas, seeds, trace):
    """CSR version of :func:`anneal_dense` (float64 fields; ``J`` symmetric so row i = neighbours of i):
    one call of :func:`anneal_csr_chunk` over the whole schedule."""
    R, N = S.shape
    state = np.array(seeds, dtype=np.uint64)
    flips = np.zeros(R, dtype=np.int64)
    anneal_csr_chunk(indptr, indices, data, h, S, E, betas, state, trace, np.empty((R, N)), flips, True)
    return flips


@nb.njit(parallel=True, cache=True, nogil=True)
def anneal_csr_chunk(indptr, indices, data, h, S, E, betas, state_all, trace, PHI, flips,
                     fresh):  # pragma: no cover - compiled
    """Sweeps ``betas`` of a CSR anneal, continuing from the carried ``E``, ``state_all`` (random streams),
    ``PHI`` (R, N) float64 fields (computed from S first when ``fresh``) and accumulating ``flips``."""
    R, N = S.shape
    T = betas.shape[0]
    record = trace.shape[1] == T
    for r in nb.prange(R):
        s = S[r]
        state = np.empty(1, dtype=np.uint64)
        state[0] = state_all[r]
        phi = PHI[r]
        if fresh:
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
        state_all[r] = state[0]
        flips[r] += nflip


def anneal_csr_lattice(indptr, indices, wq, hq, g, dmax, S, E, betas, seeds, trace):
    """Lattice anneal over the whole schedule: one call of :func:`anneal_csr_lattice_chunk`."""
    R, N = S.shape
    state = np.array(seeds, dtype=np.uint64)
    flips = np.zeros(R, dtype=np.int64)
    anneal_csr_lattice_chunk(indptr, indices, wq, hq, g, dmax, S, E, betas, state, trace,
                             np.empty((R, N), dtype=np.int32), flips, True)
    return flips


@nb.njit(parallel=True, cache=True, nogil=True)
def anneal_csr_lattice_chunk(indptr, indices, wq, hq, g, dmax, S, E, betas, state_all, trace, Q, flips,
                             fresh):  # pragma: no cover - compiled
    """CSR annealing for couplings and fields on a lattice ``J = g * wq``, ``h = g * hq`` (integers).

    Same moves, schedule and random stream as :func:`anneal_csr`, but the fields are kept as exact
    integers ``q_i = phi_i / g`` (int32) and the Metropolis test is a table lookup: flipping spin i
    costs ``dE = 2 g d`` with integer ``d = s_i q_i`` in ``[-dmax, dmax]``, so once per sweep the table
    ``thr[d] = floor(2^53 exp(-2 beta g d))`` is built and a move with ``d > 0`` is accepted iff the
    53-bit draw is below ``thr[d]`` (no ``exp`` per spin; moves with ``thr[d] = 0`` skip the draw).

    wq : (nnz,) int32 (J.data / g);  hq : (N,) int32 (h / g);  g : float > 0
    dmax : int >= max_i (|hq_i| + sum_j |wq_ij|)  (largest |d|)
    Q : (R, N) int32 fields carried between chunks (computed from S first when ``fresh``).
    Other arguments as in :func:`anneal_csr_chunk`.
    """
    R, N = S.shape
    T = betas.shape[0]
    record = trace.shape[1] == T
    two53 = 9007199254740992.0
    for r in nb.prange(R):
        s = S[r]
        state = np.empty(1, dtype=np.uint64)
        state[0] = state_all[r]
        q = Q[r]
        thr = np.empty(dmax + 1, dtype=np.uint64)
        if fresh:
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
        state_all[r] = state[0]
        flips[r] += nflip
