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
def _search(flip, cpl, r, S, CUR, Q, BQ, UNTIL, ECUR, E, FOUND, LAST, RNG, it0, it1, g, tenure, tenure_rand, stall,
            kick, tol):  # pragma: no cover - compiled
    """Iterations ``it0 .. it1 - 1`` of replica ``r``'s search. Its state is carried in rows of arrays so
    that a search run in consecutive chunks makes exactly the moves of one uninterrupted run: ``S[r]`` best
    spins, ``CUR[r]`` current spins, ``Q[r]`` / ``BQ[r]`` current / best fields, ``UNTIL[r]`` tabu
    expiry, ``ECUR[r]`` / ``E[r]`` current / best energy, ``FOUND[r]`` iteration of the best,
    ``LAST[r]`` the last improvement or breakout, ``RNG[r]`` the random stream; ``flip(cpl, i, s, q)``
    flips a spin and updates the fields."""
    N = S.shape[1]
    best = S[r]
    s = CUR[r]
    q = Q[r]
    best_q = BQ[r]
    until = UNTIL[r]
    state = np.empty(1, dtype=np.uint64)
    state[0] = RNG[r]
    e = ECUR[r]
    best_e = E[r]
    found = FOUND[r]
    last = LAST[r]
    for it in range(it0, it1):
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
    RNG[r] = state[0]
    ECUR[r] = e
    E[r] = best_e
    FOUND[r] = found
    LAST[r] = last


@nb.njit(inline="always")
def _start(r, S, CUR, Q, BQ, UNTIL, ECUR, E, FOUND, LAST, RNG, seeds):  # pragma: no cover - compiled
    """Replica ``r``'s search state at iteration 0 (its fields ``Q[r]`` already computed from ``S[r]``)."""
    CUR[r, :] = S[r]
    BQ[r, :] = Q[r]
    UNTIL[r, :] = 0
    ECUR[r] = E[r]
    FOUND[r] = 0
    LAST[r] = 0
    RNG[r] = seeds[r]


class TabuState:
    """The carried state of R searches over N spins (see :func:`_search`), for chunked kernel calls."""

    def __init__(self, R: int, N: int, dtype) -> None:
        self.CUR = np.empty((R, N), dtype=np.int8)
        self.Q = np.empty((R, N), dtype=dtype)
        self.BQ = np.empty((R, N), dtype=dtype)
        self.UNTIL = np.zeros((R, N), dtype=np.int64)
        self.ECUR = np.zeros(R)
        self.FOUND = np.zeros(R, dtype=np.int64)
        self.LAST = np.zeros(R, dtype=np.int64)
        self.RNG = np.zeros(R, dtype=np.uint64)

    def arrays(self) -> tuple:
        return self.CUR, self.Q, self.BQ, self.UNTIL, self.ECUR

    def counters(self) -> tuple:
        return self.FOUND, self.LAST, self.RNG


@nb.njit(parallel=True, cache=True, nogil=True)
def tabu_csr_chunk(indptr, indices, w, hv, g, S, E, CUR, Q, BQ, UNTIL, ECUR, FOUND, LAST, RNG, seeds, it0, it1,
                   tenure, tenure_rand, stall, kick, tol):  # pragma: no cover - compiled
    """Iterations ``it0 .. it1 - 1`` of tabu search with CSR couplings ``J = g * w`` (symmetric) and fields
    ``h = g * hv``; ``it0 == 0`` starts the searches from ``S`` (energies ``E``, random streams ``seeds``).

    w : (nnz,) int32 or float64;  hv : (N,) same dtype;  g : float > 0
    tenure, tenure_rand : tabu tenure = tenure + U{0..tenure_rand}
    stall : iterations without a new best before a breakout;  kick : spins flipped at a breakout
    tol : energy tolerance of the aspiration and best-state tests
    CUR ... RNG : the carried state (:class:`TabuState`)
    """
    R, N = S.shape
    cpl = (indptr, indices, w)
    for r in nb.prange(R):
        if it0 == 0:
            csr_fields(indptr, indices, w, hv, S[r], Q[r])
            _start(r, S, CUR, Q, BQ, UNTIL, ECUR, E, FOUND, LAST, RNG, seeds)
        _search(_flip_csr, cpl, r, S, CUR, Q, BQ, UNTIL, ECUR, E, FOUND, LAST, RNG, it0, it1, g, tenure,
                tenure_rand, stall, kick, tol)


@nb.njit(parallel=True, cache=True, nogil=True)
def tabu_dense_chunk(J, h, S, E, CUR, Q, BQ, UNTIL, ECUR, FOUND, LAST, RNG, seeds, it0, it1, tenure, tenure_rand,
                     stall, kick, tol):  # pragma: no cover - compiled
    """Dense version of :func:`tabu_csr_chunk`: ``J`` (N, N) float64 symmetric with zero diagonal, ``h`` (N,)."""
    R, N = S.shape
    cpl = (J,)
    for r in nb.prange(R):
        if it0 == 0:
            s = S[r]
            q = Q[r]
            for j in range(N):
                acc = h[j]
                Jj = J[j]
                for k in range(N):
                    acc += Jj[k] * s[k]
                q[j] = acc
            _start(r, S, CUR, Q, BQ, UNTIL, ECUR, E, FOUND, LAST, RNG, seeds)
        _search(_flip_dense, cpl, r, S, CUR, Q, BQ, UNTIL, ECUR, E, FOUND, LAST, RNG, it0, it1, 1.0, tenure,
                tenure_rand, stall, kick, tol)


def tabu_csr(indptr, indices, w, hv, g, S, E, iters, tenure, tenure_rand, stall, kick, tol, seeds):
    """The whole search in one call: :func:`tabu_csr_chunk` over ``iters`` iterations. Returns the
    iteration at which each replica found its best (R,) int64."""
    st = TabuState(*S.shape, w.dtype)
    tabu_csr_chunk(indptr, indices, w, hv, g, S, E, *st.arrays(), *st.counters(), seeds, 0, iters, tenure,
                   tenure_rand, stall, kick, tol)
    return st.FOUND


def tabu_dense(J, h, S, E, iters, tenure, tenure_rand, stall, kick, tol, seeds):
    """The whole dense search in one call (see :func:`tabu_csr`)."""
    st = TabuState(*S.shape, np.float64)
    tabu_dense_chunk(J, h, S, E, *st.arrays(), *st.counters(), seeds, 0, iters, tenure, tenure_rand, stall, kick,
                     tol)
    return st.FOUND
