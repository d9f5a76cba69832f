"""A sampling run and its record: the states a machine visits, how often, and how fairly (physics.md 8.8).

:func:`sample_run` is what :func:`cimsim.pipeline.sample` (``cimsim sample``) does: run a solver with a
sampling mode inside :func:`cimsim.sampling.tapping`, then compute the statistics of the sample stream
against the lowest energy levels of the model. The answer is a :class:`SampleRecord` (JSON-able; its
``to_dict`` is what ``cimsim sample --json`` writes, :meth:`SampleRecord.from_dict` reads it back).

:func:`low_levels` enumerates every state up to the first excited level exactly (numba Gray code,
:func:`cimsim.kernels.levels.gray_low_levels`), for N <= :data:`MAX_ENUMERATE_N`; without fields only one
state of each pair s, -s (the one with s_1 = +1), so 2^(N-1) states are walked.

:func:`autocorrelation_time` estimates how many successive samples of one replica are one independent
visit, from the spin series a :class:`StreamTap` keeps (bounded memory).
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from .encoders import Encoded
from .errors import CimsimError, finite_float, positive_int
from .model import IsingModel
from .sampling import (StateCounter, Tap, canonicalise, coverage_time, effective_temperature, fairness, hamming, pack,
                       residual_histogram, tapping)

__all__ = ["MAX_ENUMERATE_N", "LowLevels", "low_levels", "StreamTap", "autocorrelation_time", "SampleRecord",
           "sample_run", "sampling_solvers", "resolve_sampling_solver"]

#: the largest N whose lowest two levels are enumerated exactly (2^29 states without fields)
MAX_ENUMERATE_N = 30
#: the most states kept while enumerating the two lowest levels (more: too degenerate to enumerate)
MAX_TARGET_STATES = 1_000_000
#: bytes of spin series kept for the autocorrelation estimate
SERIES_BYTES = 1 << 25
#: replicas of each run whose series are kept
SERIES_REPLICAS = 8


def energy_tolerance(model: IsingModel) -> float:
    """Two energies closer than this are one level: 1e-9 of the largest possible |H - offset|."""
    if model.is_sparse:
        total = float(abs(model.J).sum())
    else:
        total = float(np.abs(model.J).sum())
    return 1e-9 * max(1.0, 0.5 * total + float(np.abs(model.h).sum()))


# ----------------------------------------------------------------------------------------- enumeration
@dataclass
class LowLevels:
    """Every state with H <= E1 (E1 the first excited level), exactly.

    spins : (M, N) int8, canonical (s_1 = +1) when the model has no fields; sorted by energy
    energies : (M,) recomputed with :meth:`IsingModel.energies`
    e0, e1 : the ground and first excited level (``e1`` is ``inf`` when every state is a ground state)
    canonical : whether s and -s are one state
    tol : two energies closer than this are one level (:func:`energy_tolerance`)
    """

    spins: np.ndarray
    energies: np.ndarray
    e0: float
    e1: float
    canonical: bool
    tol: float = 0.0

    @property
    def ground(self) -> np.ndarray:
        """Boolean mask of the ground states."""
        return self.energies <= self.e0 + self.tol


def low_levels(model: IsingModel, *, max_n: int = MAX_ENUMERATE_N, cap: int = MAX_TARGET_STATES) -> LowLevels | None:
    """The exact set of states up to the first excited level, or ``None`` when N > ``max_n`` or more than
    ``cap`` states lie there. Without fields spin 0 is held at +1 and the walk varies spins 1 ... N-1, so
    each pair s, -s is visited once, as its canonical representative."""
    from .kernels.levels import gray_low_levels

    n = model.n
    if n > max_n or n < 1:
        return None
    canonical = not model.has_fields
    J = np.ascontiguousarray(model.dense_couplings(), dtype=np.float64)
    h = np.ascontiguousarray(model.h, dtype=np.float64)
    tol = energy_tolerance(model)
    # the walk varies spins 0..m-1 and holds the rest at +1; to hold spin 0 instead, walk the reversed order
    order = np.arange(n)[::-1].copy()
    Jr, hr = np.ascontiguousarray(J[np.ix_(order, order)]), np.ascontiguousarray(h[order])
    m = n - 1 if canonical else n
    size = min(cap, 4096)
    while True:
        codes, _, count, _, _, overflow = gray_low_levels(Jr, hr, m, 10 * tol, size)
        if not overflow:
            break
        if size >= cap:
            return None
        size = min(cap, 8 * size)
    codes = codes[:count]
    bits = ((codes[:, None] >> np.arange(n)[None, :]) & 1).astype(bool)  # bit i: reversed spin i is -1
    S_rev = np.where(bits, -1, 1).astype(np.int8)
    S = np.empty_like(S_rev)
    S[:, order] = S_rev
    if canonical:
        S = canonicalise(S)
    E = model.energies(S)
    e0 = float(E.min())
    above = E[E > e0 + tol]
    e1 = float(above.min()) if above.size else math.inf
    keep = E <= (e1 + tol if math.isfinite(e1) else math.inf)
    S, E = S[keep], E[keep]
    idx = np.argsort(E, kind="stable")
    return LowLevels(S[idx], E[idx], e0, e1, canonical, tol)


# ------------------------------------------------------------------------------------ the stream tap
@dataclass
class StreamTap(Tap):
    """A :class:`~cimsim.sampling.Tap` that also keeps, within :data:`SERIES_BYTES`, the spin series of
    the first :data:`SERIES_REPLICAS` replicas of every run (for :func:`autocorrelation_time`), and
    refuses to go on when a run recorded nothing (a solver that does not reach its tap would otherwise
    loop for ever under a sample limit)."""

    series: list = field(default_factory=list)  # per run: list of (K, N) int8 rows, one per record
    _bytes: int = 0
    _recorded_this_run: int = 0
    solver: str = ""

    def start_run(self) -> None:
        if self.runs > 0 and self._recorded_this_run == 0:
            raise CimsimError(f"solver {self.solver} recorded no sample in a whole run; its sampling mode did not "
                              "reach the tap (check --burn-in and --every against --steps)")
        super().start_run()
        self._recorded_this_run = 0
        self.series.append([])

    def record(self, t: int, S: np.ndarray, E: np.ndarray | None = None) -> None:
        if self.full():
            return
        room = None if self.limit is None else self.limit - self.counter.samples
        super().record(t, S, E)
        self._recorded_this_run += 1
        k = min(SERIES_REPLICAS, np.shape(S)[0] if np.ndim(S) == 2 else 1, room if room is not None else 1 << 30)
        run = self.series[-1] if self.series else None
        if run and run[0].shape[0] != k:  # the last record of a limited run is cut short: keep whole rows only
            return
        if k > 0 and self._bytes + k * self.counter.n <= SERIES_BYTES and run is not None:
            rows = np.where(np.atleast_2d(np.asarray(S))[:k] >= 0, 1, -1).astype(np.int8)
            if self.counter.canonical:
                rows = canonicalise(rows)
            self.series[-1].append(rows)
            self._bytes += rows.nbytes


def autocorrelation_time(series: list[np.ndarray], *, c: float = 5.0) -> tuple[float, str]:
    """Integrated autocorrelation time, in samples of one replica, of the spin series ``series`` (each
    (L, K, N): L successive records of K replicas), and how it was obtained.

    C(t) = sum over replicas and spins of (s_i(k) - m_i)(s_i(k+t) - m_i), m_i each replica's time mean,
    pooled over series and divided by the number of pairs; rho = C / C(0); tau = 1 + 2 sum_{t=1}^{W} rho(t)
    with the smallest window W >= c tau (Sokal's rule). When every replica sits in one state for the whole
    of every run (C(0) = 0) each run is one visit per replica: tau = the mean series length.
    """
    usable = [x for x in series if x.shape[0] >= 2]
    if not usable:
        return 1.0, "too few records per run to estimate; no thinning"
    L_max = max(x.shape[0] for x in usable)
    num = np.zeros(L_max)
    pairs = np.zeros(L_max)
    for x in usable:
        L, K, N = x.shape
        y = x.astype(np.float64)
        y -= y.mean(axis=0, keepdims=True)
        nfft = 1 << int(math.ceil(math.log2(2 * L)))
        f = np.fft.rfft(y, n=nfft, axis=0)
        acf = np.fft.irfft((f * f.conj()).real.sum(axis=(1, 2)), n=nfft)[:L]
        num[:L] += acf
        pairs[:L] += (L - np.arange(L)) * K * N
    C = num / np.maximum(pairs, 1)
    if C[0] <= 1e-12:
        mean_len = float(np.mean([x.shape[0] for x in usable]))
        return mean_len, "no replica changed state within a run: one visit per replica per run (tau = run length)"
    rho = C / C[0]
    tau = 1.0
    for w in range(1, L_max):
        tau += 2.0 * rho[w]
        if w >= c * tau:
            return max(tau, 1.0), f"integrated autocorrelation of the spins, Sokal window W = {w} (W >= {c:g} tau)"
    return max(tau, 1.0), f"integrated autocorrelation of the spins, window not reached in {L_max} records (a lower bound)"


# ------------------------------------------------------------------------------------------ the record
@dataclass
class SampleRecord:
    """What ``cimsim sample`` reports (see :func:`sample_run`); every field is plain JSON."""

    problem: str
    file: str | None
    solver: str
    n_spins: int
    seed: int | None
    replicas: int
    steps: int
    every: int
    burn_in: int
    cap: int
    sample_limit: int | None
    time_limit: float | None
    canonical: bool
    objective_name: str
    sense: str
    samples: int
    distinct: int
    dropped_samples: int
    dropped_states: int
    runs: int
    time_s: float
    interrupted: bool
    states: list[dict]
    ground: dict
    residual_histogram: dict
    hamming_to_ground: dict
    hamming_jumps: list[int]
    target: dict
    fairness: dict
    effective_temperature: dict
    settings: dict = field(default_factory=dict)
    command: str = "sample"

    def to_dict(self) -> dict:
        from .result import to_jsonable

        return to_jsonable(asdict(self))

    @classmethod
    def from_dict(cls, data: dict) -> "SampleRecord":
        """The record of a ``to_dict`` (or its JSON): non-finite numbers written as strings come back as floats."""
        from dataclasses import fields

        def back(v: Any) -> Any:
            if isinstance(v, dict):
                return {k: back(x) for k, x in v.items()}
            if isinstance(v, list):
                return [back(x) for x in v]
            if v in ("inf", "-inf", "nan"):
                return float(v)
            return v

        names = {f.name for f in fields(cls)}
        missing = names - set(data) - {"settings", "command"}
        if missing:
            raise CimsimError(f"not a sample record: missing {', '.join(sorted(missing))}")
        return cls(**{k: back(v) for k, v in data.items() if k in names})


# ------------------------------------------------------------------------------------------- solvers
def sampling_solvers() -> list[str]:
    """The solvers with a sampling mode (``SAMPLES = True``), in :data:`cimsim.solvers.SOLVERS` order."""
    from .solvers import SOLVERS, get_solver

    out = []
    for name in SOLVERS:
        try:
            if getattr(get_solver(name), "SAMPLES", False):
                out.append(name)
        except CimsimError:
            continue
    return out


#: ``auto`` in a sampling run: the first of these with a sampling mode
AUTO_ORDER = ("mfb", "cfc", "sfc", "simcim", "asb")


def resolve_sampling_solver(name: str) -> str:
    """``name`` if it has a sampling mode (``auto``: the first of :data:`AUTO_ORDER` that has), else a
    one-line CimsimError listing the solvers that do."""
    from .solvers import SOLVERS, get_solver

    if name == "auto":
        for cand in AUTO_ORDER:
            if getattr(get_solver(cand), "SAMPLES", False):
                return cand
        name = AUTO_ORDER[0]
    if name not in SOLVERS:
        raise CimsimError(f"unknown solver {name!r}; choose one of {', '.join(SOLVERS)}")
    if not getattr(get_solver(name), "SAMPLES", False):
        raise CimsimError(f"solver {name} has no sampling mode; solvers that sample: {', '.join(sampling_solvers())}")
    return name


# ------------------------------------------------------------------------------------------- the run
def _drive(model: IsingModel, name: str, tap: StreamTap, *, replicas: int | None, steps: int, seed: int | None,
           rng: np.random.Generator | None, time_limit: float | None, params: dict) -> Any:
    from .solvers import solve as drive

    with tapping(tap):
        return drive(model, name, replicas=replicas, steps=steps, seed=seed, rng=rng, time_limit=time_limit,
                     polish_result=False, presolve=False, backend="cpu", keep_on_interrupt=True, **params)


def _new_tap(model: IsingModel, name: str, *, every: int, burn_in: int, cap: int, limit: int | None) -> StreamTap:
    counter = StateCounter(n=model.n, cap=cap, canonical=not model.has_fields)
    return StreamTap(counter=counter, every=every, burn_in=burn_in, limit=limit, model=model, solver=name)


def _levels(E: np.ndarray, tol: float) -> tuple[float, float]:
    """The lowest and the next distinct level of the energies ``E`` (``inf`` when absent)."""
    if E.size == 0:
        return math.inf, math.inf
    e0 = float(E.min())
    above = E[E > e0 + tol]
    return e0, float(above.min()) if above.size else math.inf


def _hamming_histogram(S: np.ndarray, C: np.ndarray, G: np.ndarray, up_to_flip: bool, n: int) -> list[int]:
    """Histogram (length N + 1) of the distance of each sample (distinct states ``S`` weighted by ``C``) to
    the nearest state of ``G``; chunked so that the distance matrix stays small."""
    hist = np.zeros(n + 1, dtype=np.int64)
    if S.shape[0] == 0 or G.shape[0] == 0:
        return hist.tolist()
    rows = max(1, (1 << 22) // max(G.shape[0], 1))
    for a in range(0, S.shape[0], rows):
        d = np.full(min(rows, S.shape[0] - a), n, dtype=np.int64)
        for b in range(0, G.shape[0], 4096):
            d = np.minimum(d, hamming(S[a:a + rows], G[b:b + 4096], up_to_flip=up_to_flip).min(axis=1))
        hist += np.bincount(d, weights=C[a:a + rows], minlength=n + 1).astype(np.int64)
    return hist.tolist()


def sample_run(encoded: Encoded, name: str, *, params: dict | None = None, replicas: int | None = None,
               steps: int | None = None, seed: int | None = None, every: int = 1, burn_in: int = 0,
               cap: int = 100_000, samples: int | None = None, time_limit: float | None = None,
               reference: int = 2, enumerate_max_n: int = MAX_ENUMERATE_N, file: str | None = None,
               bins: int = 20) -> SampleRecord:
    """Sample ``encoded``'s model with solver ``name`` (one with a sampling mode) and summarise the stream.

    After ``burn_in`` steps of each run, the sign pattern of every replica is recorded every ``every``
    steps, unpolished (the driver's polish is off and no presolve runs). The run stops after ``samples``
    samples (exactly that many), or when ``time_limit`` seconds are used, or, with neither, after one run
    of ``steps`` steps (the solver's default when omitted). States are canonicalised (s_1 = +1) when the
    model has no fields. At most ``cap`` distinct states are kept (the lowest; the rest counted as dropped).

    The statistics (physics.md 8.8) are taken against the exact ground level E0 and target set
    {s : H(s) <= E1} when N <= ``enumerate_max_n`` (:func:`low_levels`); otherwise against the union of
    ``reference`` independent sampling runs of the same length (0: no target set, no coverage). The
    record says which (``target["source"]``, ``ground["source"]``).
    """
    from .solvers import get_solver

    model = encoded.model
    params = dict(params or {})
    name = resolve_sampling_solver(name)
    module = get_solver(name)
    every = positive_int(every, "every")
    if isinstance(burn_in, bool) or not isinstance(burn_in, (int, np.integer)) or burn_in < 0:
        raise CimsimError(f"burn-in must be a non-negative integer, got {burn_in!r}")
    burn_in = int(burn_in)
    cap = positive_int(cap, "cap")
    if samples is not None:
        samples = positive_int(samples, "samples")
    if time_limit is not None:
        time_limit = finite_float(time_limit, "time limit")
        if time_limit <= 0:
            raise CimsimError(f"time limit must be > 0, got {time_limit!r}")
    if isinstance(reference, bool) or not isinstance(reference, (int, np.integer)) or reference < 0:
        raise CimsimError(f"reference must be a non-negative integer, got {reference!r}")
    T = positive_int(steps if steps is not None else module.defaults(model)["steps"], "steps")
    if burn_in >= T:
        raise CimsimError(f"burn-in {burn_in} is not shorter than the run ({T} steps); give more --steps or a shorter burn-in")
    if burn_in + every > T:
        raise CimsimError(f"no sample in a run of {T} steps: burn-in {burn_in} + every {every} is longer")
    if seed is None:
        import secrets

        seed = secrets.randbits(32)
    n = model.n
    tol = energy_tolerance(model)
    canonical = not model.has_fields

    t0 = time.perf_counter()
    tap = _new_tap(model, name, every=every, burn_in=burn_in, cap=cap, limit=samples)
    ss = np.random.SeedSequence(int(seed))
    child = ss.spawn(1 + reference)
    res = _drive(model, name, tap, replicas=replicas, steps=T, seed=None, rng=np.random.default_rng(child[0]),
                 time_limit=time_limit, params=params)
    elapsed = time.perf_counter() - t0
    counter = tap.counter
    S, E, C, F = counter.states()
    E = model.energies(S) if S.shape[0] else E  # recomputed from the spins (the tap's energies are the model's too)

    # the reference levels: exact enumeration, else reference runs
    levels = low_levels(model, max_n=enumerate_max_n) if n <= enumerate_max_n else None
    ref_S = ref_E = None
    if levels is not None:
        target_S, e0_ref, e1_ref = levels.spins[levels.energies <= levels.e1 + tol] if math.isfinite(levels.e1) \
            else levels.spins, levels.e0, levels.e1
        target_source = "enumerated"
    elif reference > 0 and not res.extra.get("interrupted"):  # Ctrl-C: no reference runs after it
        parts_S, parts_E = [], []
        for i in range(reference):
            rtap = _new_tap(model, name, every=every, burn_in=burn_in, cap=cap, limit=samples)
            _drive(model, name, rtap, replicas=replicas, steps=T, seed=None, rng=np.random.default_rng(child[1 + i]),
                   time_limit=time_limit, params=params)
            rs, re_, _, _ = rtap.counter.states()
            parts_S.append(rs)
            parts_E.append(re_)
        ref_S, ref_E = np.concatenate(parts_S), np.concatenate(parts_E)
        if ref_S.shape[0]:
            _, first = np.unique(np.packbits(ref_S > 0, axis=1), axis=0, return_index=True)
            ref_S, ref_E = ref_S[np.sort(first)], ref_E[np.sort(first)]
        e0_ref, e1_ref = _levels(ref_E, tol)
        target_S = ref_S[ref_E <= e1_ref + tol] if math.isfinite(e1_ref) else ref_S
        target_source = f"union of {reference} reference run{'s' if reference > 1 else ''}"
    else:
        target_S, e0_ref, e1_ref = None, math.inf, math.inf
        target_source = "none"

    # ground level: exact when enumerated; else the lowest seen in this run and the reference runs
    lowest_found = float(E.min()) if E.size else math.inf
    if levels is not None:
        e0 = levels.e0
        ground_S = levels.spins[levels.ground]
        ground_source = "enumerated"
    else:
        e0 = min(lowest_found, e0_ref)
        pool_S = S if ref_S is None else np.concatenate([S, ref_S])
        pool_E = E if ref_E is None else np.concatenate([E, ref_E])
        ground_S = pool_S[pool_E <= e0 + tol]
        if ground_S.shape[0]:
            _, first = np.unique(np.packbits(ground_S > 0, axis=1), axis=0, return_index=True)
            ground_S = ground_S[np.sort(first)]
        ground_source = "observed" if ref_S is None else "observed in this run and the reference runs"
    total = max(counter.samples, 1)
    at_found = float(C[E <= lowest_found + tol].sum()) if E.size else 0.0
    at_e0 = float(C[E <= e0 + tol].sum()) if E.size and math.isfinite(e0) else 0.0
    ground = {
        "source": ground_source,
        "energy": e0,
        "first_excited": e1_ref if levels is not None else None,
        "degeneracy": int(ground_S.shape[0]) * (2 if canonical else 1),
        "lowest_found": lowest_found,
        "p_lowest_found": at_found / total,
        "p_ground": at_e0 / total if levels is not None else None,
        "found": bool(E.size and lowest_found <= e0 + tol),
    }

    # coverage of the target set
    first_seen = counter.first_seen()
    if target_S is not None and target_S.shape[0]:
        keys = pack(target_S)
        cover = coverage_time(first_seen, keys)
        seen_at = np.sort(np.array([first_seen[k] for k in keys if k in first_seen], dtype=np.int64))
        target = {
            "source": target_source,
            "size": int(len(keys)),
            "e0": e0_ref, "e1": e1_ref,
            "seen": int(seen_at.size),
            "coverage_samples": cover + 1 if math.isfinite(cover) else math.inf,
            "coverage_steps": (cover + 1) * every if math.isfinite(cover) else math.inf,
            "curve": {"samples": (seen_at + 1).tolist(), "seen": list(range(1, seen_at.size + 1))},
        }
    else:
        target = {"source": target_source, "size": 0, "e0": e0_ref, "e1": e1_ref, "seen": 0,
                  "coverage_samples": None, "coverage_steps": None, "curve": {"samples": [], "seen": []}}

    # fairness over the degenerate ground states, counts thinned by the autocorrelation time
    series = [np.stack(run) for run in tap.series if run]
    tau, how = autocorrelation_time(series)
    index = {k: i for i, k in enumerate(pack(S))} if S.shape[0] else {}
    g_counts = np.array([C[index[k]] if k in index else 0 for k in pack(ground_S)], dtype=np.int64) \
        if ground_S.shape[0] else np.zeros(0, np.int64)
    fair = {"ground_source": ground_source, "counts": g_counts.tolist(), "tau": tau, "tau_method": how,
            **fairness(g_counts, thin=tau)}

    # effective temperature
    if levels is not None:
        in_t = E <= (levels.e1 + tol if math.isfinite(levels.e1) else math.inf)
        support = levels.energies
        teff = {"support": "enumerated states up to the first excited level",
                "T": effective_temperature(E[in_t], C[in_t], support=support) if in_t.any() else None,
                "samples_used": int(C[in_t].sum())}
    else:
        teff = {"support": "observed states", "T": effective_temperature(E, C) if E.size else None,
                "samples_used": int(C.sum())}

    e_ref = e0 if math.isfinite(e0) else lowest_found
    resid = residual_histogram(E, C, e_ref, n, bins=bins) if E.size else {"edges": [], "counts": []}
    resid["e0"] = e_ref
    hg = {"to": ground_source + " ground states", "counts": _hamming_histogram(S, C, ground_S, canonical, n)}

    states = []
    for s, e, c, f in zip(S, E, C, F):
        sol = encoded.decode(s)
        states.append({"spins": s.tolist(), "count": int(c), "energy": float(e), "objective": float(sol.objective),
                       "feasible": bool(sol.feasible), "first_sample": int(f)})
    x = res.extra
    return SampleRecord(
        problem=encoded.problem, file=file, solver=name, n_spins=n, seed=int(seed), replicas=int(res.replicas),
        steps=T, every=every, burn_in=burn_in, cap=cap, sample_limit=samples, time_limit=time_limit,
        canonical=canonical, objective_name=encoded.objective_name, sense=encoded.sense,
        samples=int(counter.samples), distinct=len(counter), dropped_samples=int(counter.dropped_samples),
        dropped_states=int(counter.dropped_states), runs=int(tap.runs), time_s=elapsed,
        interrupted=bool(x.get("interrupted", False)), states=states, ground=ground, residual_histogram=resid,
        hamming_to_ground=hg, hamming_jumps=[int(v) for v in tap.jumps], target=target, fairness=fair,
        effective_temperature=teff, settings=dict(res.settings))
