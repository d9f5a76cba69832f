"""A machine as a sampler: the distinct states it visits, how often, and how fairly (physics.md 8.8).

:class:`StateCounter` keeps the distinct spin patterns of a sample stream in a bounded structure: each
state is keyed by its packed bits (N/8 bytes), with its energy, its count and the step it was first seen.
When the cap is reached, a new state enters only if it is lower than the highest stored one, which then
leaves; every sample of a state that is not stored is counted in ``dropped_samples``, so long runs on large
N keep memory flat and say what they did not keep. With ``canonical=True`` (field-free models) a state and
its global flip are one state, stored with its first spin +1.

The statistics functions take a counter (or plain arrays) and return JSON-able numbers:

* :func:`coverage_time` — the first step by which every state of a target set has been seen;
* :func:`fairness` — normalised entropy, max/min ratio and a chi-square test of counts over degenerate
  ground states (counts thinned by an autocorrelation time);
* :func:`effective_temperature` — the maximum-likelihood T of P(s) ~ exp(-H(s)/T) over an enumerated set;
* :func:`hamming` — distances between spin patterns, minimised over the global flip when asked.

Sampling mode
-------------
A solver run inside ``with tapping(tap):`` sends its unpolished readouts to the :class:`Tap`: after a
burn-in of ``tap.burn_in`` steps of each run, the sign pattern of every replica every ``tap.every`` steps
(steps are the solver's own unit: Euler steps, round trips for ``mfb``, sweeps for ``sa``). Solvers look
the tap up with :func:`active_tap` and call :meth:`Tap.record` at the steps :meth:`Tap.wants` (Python
loops) or at the chunk ends :meth:`Tap.marks` gives (kernels run in chunks). Every sample gets a global
index in stream order (batch after batch, replica after replica), so a first-seen index times ``every`` is
the machine time, in the solver's steps, one replica spent sampling before that state appeared.
"""
from __future__ import annotations

import contextlib
import contextvars
import heapq
import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator

import numpy as np

__all__ = ["Tap", "tapping", "active_tap", "StateCounter", "canonicalise", "pack", "unpack", "hamming", "coverage_time", "fairness",
           "effective_temperature", "residual_histogram", "harmonic"]


def canonicalise(S: np.ndarray) -> np.ndarray:
    """(R, N) +-1 rows with their first spin made +1 (the representative of each pair s, -s)."""
    S = np.asarray(S, dtype=np.int8)
    return np.where(S[:, :1] < 0, -S, S).astype(np.int8)


def pack(S: np.ndarray) -> list[bytes]:
    """The packed-bit key of every row of an (R, N) +-1 array (bit 1 for +1)."""
    bits = np.packbits(np.asarray(S) > 0, axis=1)
    return [row.tobytes() for row in bits]


def unpack(key: bytes, n: int) -> np.ndarray:
    """The (N,) int8 +-1 state of a packed key."""
    bits = np.unpackbits(np.frombuffer(key, dtype=np.uint8))[:n]
    return np.where(bits > 0, 1, -1).astype(np.int8)


@dataclass
class _Entry:
    energy: float
    count: int
    first: int


@dataclass
class StateCounter:
    """Distinct states of a sample stream, at most ``cap`` of them (see the module docstring).

    n : spins per state
    cap : largest number of distinct states kept
    canonical : identify s and -s (for models without fields)
    """

    n: int
    cap: int = 1_000_000
    canonical: bool = False
    samples: int = 0
    dropped_samples: int = 0
    dropped_states: int = 0
    _entries: dict = field(default_factory=dict)
    _heap: list = field(default_factory=list)  # (-energy, key): the highest stored energy on top (lazy)

    def add(self, S: np.ndarray, E: np.ndarray, step: int, *, stride: int = 0) -> None:
        """Record the (R, N) +-1 samples ``S`` with energies ``E`` (R,); row j was taken at
        ``step + stride * j`` (``stride=0``: all at ``step``; ``stride=1``: consecutive sample indices)."""
        S = np.atleast_2d(np.asarray(S))
        if self.canonical:
            S = canonicalise(S)
        E = np.asarray(E, dtype=np.float64).reshape(-1)
        self.samples += S.shape[0]
        for j, (key, e) in enumerate(zip(pack(S), E)):
            entry = self._entries.get(key)
            when = step + stride * j
            if entry is not None:
                entry.count += 1
            elif len(self._entries) < self.cap:
                self._store(key, float(e), when)
            elif self._evict_above(float(e)):
                self._store(key, float(e), when)
            else:
                self.dropped_samples += 1

    def _store(self, key: bytes, e: float, step: int) -> None:
        self._entries[key] = _Entry(e, 1, step)
        heapq.heappush(self._heap, (-e, key))

    def _evict_above(self, e: float) -> bool:
        """Remove the highest-energy stored state if it lies above ``e``; True if one was removed."""
        while self._heap:
            neg, key = self._heap[0]
            entry = self._entries.get(key)
            if entry is None or entry.energy != -neg:
                heapq.heappop(self._heap)  # stale
                continue
            if -neg <= e:
                return False
            heapq.heappop(self._heap)
            self.dropped_samples += entry.count
            self.dropped_states += 1
            del self._entries[key]
            return True
        return False

    def __len__(self) -> int:
        return len(self._entries)

    def states(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(spins (M, N) int8, energies (M,), counts (M,), first_step (M,))`` sorted by energy, then count."""
        keys = list(self._entries)
        if not keys:
            return np.zeros((0, self.n), np.int8), np.zeros(0), np.zeros(0, np.int64), np.zeros(0, np.int64)
        E = np.array([self._entries[k].energy for k in keys])
        C = np.array([self._entries[k].count for k in keys], dtype=np.int64)
        F = np.array([self._entries[k].first for k in keys], dtype=np.int64)
        order = np.lexsort((-C, E))
        S = np.stack([unpack(keys[i], self.n) for i in order])
        return S, E[order], C[order], F[order]

    def first_seen(self) -> dict[bytes, int]:
        """key -> step of first visit, for every stored state."""
        return {k: v.first for k, v in self._entries.items()}


@dataclass
class Tap:
    """Where a sampling run's solver sends its readouts (see the module docstring).

    counter : the :class:`StateCounter` the samples go to
    every : record every this many steps of a run (k >= 1)
    burn_in : steps of each run (batch) before the first record (>= 0)
    limit : stop after this many samples (``None``: no limit); the last record is cut to fit, so exactly
        ``limit`` samples are taken when the run is long enough
    keep : also keep every sample's spins and energy in order (``reads()``), for callers that return each
        read (the dimod sampler); memory grows with the samples, so only for bounded ``limit``

    Besides the counter, the tap keeps a histogram of the Hamming distance between successive *distinct*
    samples of the same replica (``jumps``, length N + 1; bounded memory).
    """

    counter: StateCounter
    every: int = 1
    burn_in: int = 0
    limit: int | None = None
    keep: bool = False
    model: Any = None
    runs: int = 0
    steps_recorded: int = 0
    jumps: np.ndarray = field(default=None)  # type: ignore[assignment]
    _last: np.ndarray | None = None
    _kept: list = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.jumps is None:
            self.jumps = np.zeros(self.counter.n + 1, dtype=np.int64)

    @property
    def samples(self) -> int:
        return self.counter.samples

    def full(self) -> bool:
        """True once ``limit`` samples were taken."""
        return self.limit is not None and self.counter.samples >= self.limit

    def wants(self, t: int) -> bool:
        """Whether the state after ``t`` steps (1-based count of steps done in this run) is recorded."""
        return t > self.burn_in and (t - self.burn_in) % self.every == 0 and not self.full()

    def marks(self, steps: int) -> list[int]:
        """The step counts of a run of ``steps`` steps after which the state is recorded, ascending."""
        return list(range(self.burn_in + self.every, steps + 1, self.every))

    def start_run(self) -> None:
        """A new run (batch) begins: successive-sample distances restart."""
        self.runs += 1
        self._last = None

    def record(self, t: int, S: np.ndarray, E: np.ndarray | None = None) -> None:
        """Record the (R, N) readout ``S`` (signs of any numeric array) after ``t`` steps of this run, with
        energies ``E`` (computed from ``self.model`` when omitted)."""
        if self.full():
            return
        S = np.where(np.asarray(S) >= 0, 1, -1).astype(np.int8)
        if S.ndim == 1:
            S = S[None, :]
        if E is None:
            E = self.model.energies(S)
        E = np.asarray(E, dtype=np.float64).reshape(-1)
        if self.limit is not None:
            room = self.limit - self.counter.samples
            S, E = S[:room], E[:room]
        if self._last is not None and self._last.shape == S.shape:
            d = ((S != self._last).sum(axis=1)).astype(np.int64)
            np.add.at(self.jumps, d[d > 0], 1)
        self._last = S.copy()
        self.counter.add(S, E, self.counter.samples, stride=1)
        self.steps_recorded = max(self.steps_recorded, t)
        if self.keep:
            self._kept.append((S, E))

    def reads(self) -> tuple[np.ndarray, np.ndarray]:
        """Every kept sample in stream order: ``(spins (K, N) int8, energies (K,))`` (``keep=True``)."""
        if not self._kept:
            return np.zeros((0, self.counter.n), np.int8), np.zeros(0)
        return np.concatenate([s for s, _ in self._kept]), np.concatenate([e for _, e in self._kept])


_TAP: contextvars.ContextVar[Tap | None] = contextvars.ContextVar("cimsim_sampling_tap", default=None)


def active_tap() -> Tap | None:
    """The :class:`Tap` of the sampling run in progress, or ``None`` (a normal solve)."""
    return _TAP.get()


@contextlib.contextmanager
def tapping(tap: Tap) -> Iterator[Tap]:
    """Within the block, solvers send their readouts to ``tap``."""
    token = _TAP.set(tap)
    try:
        yield tap
    finally:
        _TAP.reset(token)


def hamming(A: np.ndarray, B: np.ndarray, *, up_to_flip: bool = False) -> np.ndarray:
    """(len(A), len(B)) Hamming distances between +-1 rows; with ``up_to_flip`` min(d, N - d)."""
    A = np.atleast_2d(np.asarray(A, dtype=np.float64))
    B = np.atleast_2d(np.asarray(B, dtype=np.float64))
    n = A.shape[1]
    d = (n - A @ B.T) / 2.0
    if up_to_flip:
        d = np.minimum(d, n - d)
    return np.rint(d).astype(np.int64)


def harmonic(g: int) -> float:
    """H_g = 1 + 1/2 + ... + 1/g."""
    return float(sum(1.0 / k for k in range(1, g + 1)))


def coverage_time(first_seen: dict[bytes, int], targets: Iterable[bytes]) -> float:
    """The first step by which every target state had been seen (inf if one never was)."""
    worst = 0
    for key in targets:
        t = first_seen.get(key)
        if t is None:
            return math.inf
        worst = max(worst, t)
    return float(worst)


def fairness(counts: np.ndarray, *, thin: float = 1.0) -> dict[str, float]:
    """How evenly ``counts`` (one per degenerate ground state, zeros included) are spread.

    ``thin`` (>= 1) divides the counts first: consecutive samples of a machine are correlated, and with an
    autocorrelation time of tau samples the number of independent visits is about count / tau; the
    chi-square test against the uniform distribution is only meaningful on such thinned counts.
    Returns the normalised entropy (1 = uniform), max/min ratio (inf if a state was never seen), the
    chi-square statistic, its degrees of freedom and p-value.
    """
    from scipy.stats import chi2

    c = np.asarray(counts, dtype=np.float64) / max(float(thin), 1.0)
    g = c.size
    total = c.sum()
    if g < 2 or total <= 0:
        return {"states": g, "entropy": 1.0 if g == 1 else 0.0, "max_min_ratio": 1.0 if g == 1 else math.inf,
                "chi2": 0.0, "dof": max(g - 1, 0), "p_value": 1.0}
    p = c / total
    nz = p[p > 0]
    entropy = float(-(nz * np.log(nz)).sum() / math.log(g))
    ratio = float(c.max() / c.min()) if c.min() > 0 else math.inf
    expected = total / g
    stat = float(((c - expected) ** 2 / expected).sum())
    return {"states": g, "entropy": entropy, "max_min_ratio": ratio, "chi2": stat, "dof": g - 1,
            "p_value": float(chi2.sf(stat, g - 1))}


def effective_temperature(energies: np.ndarray, counts: np.ndarray, *, support: np.ndarray | None = None) -> float:
    """Maximum-likelihood T of P(s) = exp(-H(s)/T) / Z over the states of ``support`` (default: the observed
    states ``energies``), given how often each observed state was sampled.

    The likelihood is maximal where the model's mean energy over the support equals the sample's mean
    energy; solved by bisection in log T. Returns inf when the sample's mean is at or above the support's
    plain average (no preference for low energies), 0 when every sample is at the minimum.
    """
    E = np.asarray(energies, dtype=np.float64)
    c = np.asarray(counts, dtype=np.float64)
    sup = E if support is None else np.asarray(support, dtype=np.float64)
    target = float((E * c).sum() / c.sum())
    e0 = float(sup.min())
    if target <= e0 + 1e-12 * max(1.0, abs(e0)):
        return 0.0
    if target >= float(sup.mean()):
        return math.inf

    def mean_at(T: float) -> float:
        w = np.exp(-(sup - e0) / T)
        return float((sup * w).sum() / w.sum())

    lo, hi = -30.0, 30.0  # log T
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if mean_at(math.exp(mid)) < target:
            lo = mid
        else:
            hi = mid
    return math.exp(0.5 * (lo + hi))


def residual_histogram(energies: np.ndarray, counts: np.ndarray, e0: float, n: int,
                       bins: int = 20) -> dict[str, list[float]]:
    """Histogram of the residual energy per spin (H - E0)/N over the samples (counts as weights)."""
    r = (np.asarray(energies, dtype=np.float64) - e0) / max(n, 1)
    hist, edges = np.histogram(r, bins=bins, weights=np.asarray(counts, dtype=np.float64))
    return {"edges": edges.tolist(), "counts": hist.tolist()}
