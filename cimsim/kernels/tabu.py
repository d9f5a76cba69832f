"""Tabu-search kernels (CSR and dense couplings): best 1-flip moves with a short-term memory.

Convention (physics.md 1): ``H(s) = -1/2 s^T J s - h^T s``; with ``phi = J s + h`` flipping spin ``i``
changes the energy by ``dE_i = 2 s_i phi_i``. Every iteration flips the spin with the lowest ``dE_i``
among those that are not *tabu* (flipped within the last ``tenure + U{0..tenure_rand}`` iterations),
downhill or not; a tabu spin is still taken when its flip would beat the best energy of the run
(aspiration). The scan for the lowest ``dE`` starts at a random position every iteration, so ties
between equal moves (frequent for +-1 couplings) are broken without a draw per candidate. After
``stall`` iterations without a new best the search restarts from the best state with ``kick`` random
spins flipped and the tabu memory cleared (a breakout perturbation). Each replica returns the best
state it saw.

The fields are kept in the dtype of the coupling values given: int32 for couplings on a lattice
``J = g * w`` (exact integer fields, energies ``2 g d``), float64 otherwise (``g = 1``).

Randomness: one xorshift64* stream per replica, seeded by the caller (``seeds`` (R,) uint64 non-zero),
so results do not depend on the number of threads. Replicas run in parallel (``numba.prange``).
Shapes: ``S`` (R, N) int8 start spins, replaced by each replica's best; ``E`` (R,) float64 start
energies, replaced by the best energies. Returns the iteration at which each replica found its best
(R,) int64.
"""
from __future__ import annotations

import numba as nb
import numpy as np

from .sa import _xorshift_bits, csr_fields


@nb.njit(inline="always")
def _pick(s, q, until, it, e, best_e, g, tol, start):  # pragma: no cover - compiled
    """Index of the lowest-cost admissible flip (-1 if every spin is tabu and none aspires)."""
    N = s.shape[0]
    bi = -1
    bd = s[0] * q[0]
    for k in range(N):
        j = start + k
        if j >= N:
            j -= N
        d = s[j] * q[j]
        if bi >= 0 and d >= bd:
            continue
        if until[j] > it and e + 2.0 * g * d >= best_e - tol:
            continue
        bi = j
        bd = d
    return bi


@nb.njit(inline="always")
def _flip_csr(cpl, i, s, q):  # pragma: no cover - compiled
    """Flip spin i and update the fields of its neighbours; ``cpl = (indptr, indices, w)``."""
    indptr, indices, w = cpl
    s[i] = -s[i]
    two_s = 2 * s[i]
    for k in range(indptr[i], indptr[i + 1]):
        q[indices[k]] += two_s * w[k]


@nb.njit(inline="always")
def _flip_dense(cpl, i, s, q):  # pragma: no cover - compiled
    """Flip spin i and update every field; ``cpl = (J,)`` with J (N, N) float64."""
    s[i] = -s[i]
    two_s = 2.0 * s[i]
    Ji = cpl[0][i]
    for k in range(q.shape[0]):
        q[k] += two_s * Ji[k]


@nb.njit(inline="always")
def _search(flip, cpl, best, q, e, g, seed, iters, tenure, tenure_rand, stall, kick, tol):  # pragma: no cover - compiled
    """One replica's search from ``best`` (its start spins, overwritten with its best state) whose
    fields are ``q`` and energy ``e``; ``flip(cpl, i, s, q)`` flips a spin and updates the fields.
    Returns ``(best energy, iteration of the best)``."""
    N = best.shape[0]
    s = best.copy()
    state = np.empty(1, dtype=np.uint64)
    state[0] = seed
    best_q = q.copy()
    until = np.zeros(N, dtype=np.int64)
    best_e = e
    found = 0
    last = 0
    for it in range(iters):
        i = _pick(s, q, until, it, e, best_e, g, tol, np.int64(_xorshift_bits(state) % np.uint64(N)))
        if i >= 0:
            e += 2.0 * g * (s[i] * q[i])
            flip(cpl, i, s, q)
            until[i] = it + 1 + tenure + np.int64(_xorshift_bits(state) % np.uint64(tenure_rand + 1))
            if e < best_e - tol:
                best_e = e
                best[:] = s
                best_q[:] = q
                found = it + 1
                last = it
                continue
        if it - last >= stall:
            # breakout: back to the best state, flip `kick` random spins, forget the tabu list
            s[:] = best
            q[:] = best_q
            e = best_e
            for _ in range(kick):
                j = np.int64(_xorshift_bits(state) % np.uint64(N))
                e += 2.0 * g * (s[j] * q[j])
                flip(cpl, j, s, q)
            until[:] = 0
            last = it
    return best_e, found


@nb.njit(parallel=True, cache=True, nogil=True)
def tabu_csr(indptr, indices, w, hv, g, S, E, iters, tenure, tenure_rand, stall, kick, tol, seeds):  # pragma: no cover - compiled
    """Tabu search with CSR couplings ``J = g * w`` (symmetric) and fields ``h = g * hv``.

    w : (nnz,) int32 or float64;  hv : (N,) same dtype;  g : float > 0
    iters : iterations (flips) per replica;  tenure, tenure_rand : tabu tenure = tenure + U{0..tenure_rand}
    stall : iterations without a new best before a breakout;  kick : spins flipped at a breakout
    tol : energy tolerance of the aspiration and best-state tests
    """
    R, N = S.shape
    found = np.zeros(R, dtype=np.int64)
    cpl = (indptr, indices, w)
    for r in nb.prange(R):
        s = S[r]
        q = np.empty(N, dtype=w.dtype)
        csr_fields(indptr, indices, w, hv, s, q)
        E[r], found[r] = _search(_flip_csr, cpl, s, q, E[r], g, seeds[r], iters, tenure, tenure_rand, stall, kick, tol)
    return found


@nb.njit(parallel=True, cache=True, nogil=True)
def tabu_dense(J, h, S, E, iters, tenure, tenure_rand, stall, kick, tol, seeds):  # pragma: no cover - compiled
    """Dense version of :func:`tabu_csr`: ``J`` (N, N) float64 symmetric with zero diagonal, ``h`` (N,)."""
    R, N = S.shape
    found = np.zeros(R, dtype=np.int64)
    cpl = (J,)
    for r in nb.prange(R):
        s = S[r]
        q = np.empty(N, dtype=np.float64)
        for j in range(N):
            acc = h[j]
            Jj = J[j]
            for k in range(N):
                acc += Jj[k] * s[k]
            q[j] = acc
        E[r], found[r] = _search(_flip_dense, cpl, s, q, E[r], 1.0, seeds[r], iters, tenure, tenure_rand, stall, kick, tol)
    return found
