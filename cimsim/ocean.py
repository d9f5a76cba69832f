"""Interoperability with D-Wave Ocean's ``dimod`` (the ``ocean`` extra: ``pip install "cimsim[ocean]"``).

Conversions
    :func:`to_bqm` / :func:`from_bqm` convert exactly between :class:`~cimsim.model.IsingModel` and
    ``dimod.BinaryQuadraticModel``. Conventions differ only in sign: dimod's Ising energy is
    ``sum_i h_i s_i + sum_{i<j} J_ij s_i s_j + offset``, cimsim's (physics.md 1) is
    ``-sum_{i<j} J_ij s_i s_j - sum_i h_i s_i + offset``, so couplings and fields change sign and the
    offset is kept. A BINARY model is converted to SPIN first (``s = 2x - 1``, dimod's own exact map).
    Variable labels (any hashable: strings, tuples, mixed types) are kept, in ``bqm.variables`` order.

Sampler
    :class:`CIMSampler` is a ``dimod.Sampler``, so Ocean code swaps ``neal.SimulatedAnnealingSampler()``
    for ``cimsim.ocean.CIMSampler()`` in one line::

        sampleset = CIMSampler().sample(bqm, num_reads=100, seed=1)                 # solver "auto"
        sampleset = CIMSampler().sample(bqm, solver="cac", num_reads=32, steps=2000, seed=1)
        sampleset = CIMSampler().sample_ising(h, J, solver="sb", variant="dsb")

    Every read is one independent replica of the chosen cimsim solver (replicas run vectorised in one
    batch); each read goes through 1-flip local search unless ``polish=False``. The SampleSet has the
    vartype of the input, one row per distinct state with its ``num_occurrences`` (their sum is the
    number of reads), sorted by energy, and energies computed by dimod from the input BQM itself (so they
    equal ``bqm.energies(sampleset)`` exactly). ``sampleset.info`` holds the solver, the settings it used,
    ``timing`` (seconds) and the seed.

    ``num_reads`` is honoured exactly, also together with ``time_limit``; ``initial_states`` (dimod's
    convention) start the solvers that take start spins (``sa``, ``tabu``); ``sampling=True`` returns every
    state a dynamics solver visits, unpolished, every ``every`` steps after ``burn_in`` (physics.md 8.8,
    :mod:`cimsim.sampling`)::

        ss = CIMSampler().sample(bqm, solver="cfc", sampling=True, every=10, burn_in=200, num_reads=10_000)

    Keywords the chosen solver would ignore are refused with a one-line error (:class:`CIMSampler`).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import scipy.sparse as sp

from .encoders import Encoded, Solution

from .errors import CimsimError, positive_float, positive_int
from .model import IsingModel
from .sampling import StateCounter, Tap, tapping
from .spins import check_spins

__all__ = ["to_bqm", "from_bqm", "bqm_encoding", "CIMSampler"]


def _dimod():
    try:
        import dimod  # type: ignore[import-not-found]
    except ImportError:
        raise CimsimError('dimod is not installed; install the Ocean extra with: pip install "cimsim[ocean]"') from None
    return dimod


def to_bqm(model: IsingModel):
    """A SPIN ``dimod.BinaryQuadraticModel`` with the same energy as ``model`` for every spin vector.

    Variables are ``model.labels`` when set, else ``0..N-1``. Only the upper triangle of the CSR
    couplings is walked, so a sparse model is never densified.
    """
    dimod = _dimod()
    labels = list(model.labels) if model.labels is not None else list(range(model.n))
    C = sp.triu(model.csr_couplings(), k=1).tocoo()
    bqm = dimod.BinaryQuadraticModel(dimod.SPIN)
    bqm.add_linear_from((labels[i], -float(model.h[i])) for i in range(model.n))
    bqm.add_quadratic_from((labels[i], labels[j], -float(w)) for i, j, w in zip(C.row, C.col, C.data))
    bqm.offset = float(model.offset)
    return bqm


def from_bqm(bqm) -> IsingModel:
    """An :class:`IsingModel` equal in energy to ``bqm`` (SPIN or BINARY), labels kept in ``bqm.variables`` order.

    Couplings are assembled as CSR (and stored dense only for small or dense models, as
    :meth:`IsingModel.from_couplings` decides). An empty BQM (no variables) raises
    :class:`~cimsim.errors.CimsimError`.
    """
    dimod = _dimod()
    if not isinstance(bqm, dimod.BinaryQuadraticModel):
        raise CimsimError(f"expected a dimod.BinaryQuadraticModel, got {type(bqm).__name__}")
    spin = bqm.change_vartype(dimod.SPIN, inplace=False) if bqm.vartype is not dimod.SPIN else bqm
    labels = list(spin.variables)
    n = len(labels)
    if n == 0:
        raise CimsimError("the binary quadratic model has no variables")
    index = {v: k for k, v in enumerate(labels)}
    h = np.array([-spin.get_linear(v) for v in labels], dtype=np.float64)
    m = spin.num_interactions
    rows = np.empty(m, dtype=np.int64)
    cols = np.empty(m, dtype=np.int64)
    vals = np.empty(m, dtype=np.float64)
    for k, ((u, v), bias) in enumerate(spin.quadratic.items()):
        rows[k], cols[k], vals[k] = index[u], index[v], -bias
    J = sp.coo_matrix((np.concatenate([vals, vals]), (np.concatenate([rows, cols]), np.concatenate([cols, rows]))),
                      shape=(n, n)).tocsr()
    return IsingModel.from_couplings(J, h, float(spin.offset), labels)


def bqm_encoding(bqm) -> Encoded:
    """The Ising encoding of a dimod BQM (SPIN or BINARY) whose decoded answer also holds ``sample``, the
    best sample in the BQM's own vartype and labels; its objective is the BQM's energy."""
    from .encoders.ising import encode_ising

    enc = encode_ising(from_bqm(bqm))
    labels = list(enc.model.labels)
    binary = bqm.vartype.name != "SPIN"
    inner = enc.decoder

    def decoder(spins: np.ndarray) -> Solution:
        sol = inner(spins)
        s = np.asarray(spins).astype(int)
        values = (s + 1) // 2 if binary else s
        return replace(sol, answer={**dict(sol.answer), "sample": {v: int(x) for v, x in zip(labels, values)}})

    return replace(enc, decoder=decoder)


def _sampler_base():
    """``dimod.Sampler`` when dimod is installed, else ``object`` (the class still imports without dimod)."""
    try:
        import dimod  # type: ignore[import-not-found]
    except ImportError:
        return object
    return dimod.Sampler


#: the keywords of :meth:`CIMSampler.sample` besides the solvers' own parameters, with the ``properties``
#: each relates to (dimod's ``parameters`` convention)
SAMPLER_KEYWORDS: dict[str, list[str]] = {
    "solver": ["solvers"],
    "num_reads": [],
    "seed": [],
    "steps": [],
    "time_limit": [],
    "polish": [],
    "backend": [],
    "presolve": [],
    "initial_states": ["initial_state_solvers"],
    "initial_states_generator": ["initial_states_generators"],
    "sampling": ["sampling_solvers"],
    "every": ["sampling_solvers"],
    "burn_in": ["sampling_solvers"],
    "replicas": ["sampling_solvers"],
    "max_states": ["sampling_solvers"],
    "num_sweeps": [],
    "beta_range": [],
    "beta_schedule_type": [],
}
#: dimod's ways of filling ``initial_states`` up to the number of replicas
INITIAL_STATES_GENERATORS = ("none", "tile", "random")
#: sampling mode: the most distinct states kept when no ``num_reads`` bounds the stream (lowest energies kept)
MAX_STATES = 100_000


def _solver_tables() -> dict:
    """Per solver: its parameter names, whether it takes initial states, whether it samples (cached)."""
    global _TABLES
    if _TABLES is None:
        from .solvers import SOLVERS, get_solver

        mods = {s: get_solver(s) for s in SOLVERS}
        params = {s: [p.name for p in getattr(m, "PARAMS", ())] for s, m in mods.items()}
        _TABLES = {"solver_params": params,
                   "initial_state_solvers": [s for s in SOLVERS if "initial" in params[s]],
                   "sampling_solvers": [s for s, m in mods.items() if getattr(m, "SAMPLES", False)]}
    return _TABLES


_TABLES: dict | None = None


class CIMSampler(_sampler_base()):  # type: ignore[misc]
    """A ``dimod.Sampler`` running any cimsim solver; see the module docstring for an overview.

    ``sample(bqm, solver="auto", num_reads=None, seed=None, steps=None, time_limit=None, polish=None,
    backend="cpu", presolve=None, initial_states=None, initial_states_generator=None, sampling=False,
    every=None, burn_in=None, replicas=None, max_states=None, **solver_params)`` runs the pipeline of
    ``cimsim solve`` and :func:`cimsim.solve` (:mod:`cimsim.pipeline`), so the same model, solver and seed
    give the same best read as they do. The SampleSet is aggregated: one row per distinct state, sorted by
    energy, with ``num_occurrences``; ``sum(num_occurrences)`` is the number of reads.

    solver : str
        ``auto`` (exact enumeration for N <= 20, ``matching`` for field-free couplings on a 2-D square
        lattice, ``cfc`` on other field-free models up to N = 4000 sparse or 1000 dense and on hub-dominated
        graphs of one sign, simulated annealing otherwise, as
        ``cimsim solve``; :func:`cimsim.solvers.auto_choice`) or any key of
        :data:`cimsim.solvers.SOLVERS` (``properties["solvers"]``).
    num_reads : int, optional
        Exactly this many reads come back (see *Reads* and *Sampling*). Without it: one batch of the
        solver's default replica count, or every read of every batch of a ``time_limit``.
    seed : int, optional
        Seed of the ``numpy.random.Generator`` driving everything: same seed, same SampleSet.
    steps : int, optional
        Steps (dynamics steps or sweeps) per replica and batch; the solver's default if omitted. Refused
        for the exact solver, which has none.
    time_limit : float, optional
        Seconds; batches run until the time is used (at least one). Without ``steps`` the batch lengths
        are fitted to the budget, as in ``cimsim solve --time-limit``.
    polish : bool, optional
        1-flip local search on every read (default True). Refused with ``sampling=True``.
    backend : {"cpu", "gpu", "auto"}
    presolve : bool, optional
        Exact presolve (:mod:`cimsim.presolve`) on or off; default: the solver's choice (on for ``sa`` and
        ``tabu``). Reads of the reduced model are expanded to the BQM's variables. ``presolve=True`` is
        refused with initial states and with ``sampling=True`` (both name the BQM's own spins).
    initial_states : samples-like, optional
        Start states, one per replica (dimod's convention: anything :func:`dimod.as_samples` takes, in the
        BQM's variables, SPIN or BINARY values). Only for solvers with an ``initial`` parameter
        (``properties["initial_state_solvers"]``: ``sa``, ``tabu``); refused otherwise. Every batch of a
        time-limited run starts from the same states.
    initial_states_generator : {"none", "tile", "random"}, optional
        How ``initial_states`` is filled up to the replica count (``num_reads``; in sampling mode
        ``replicas``): "none" refuses too few, "tile" repeats them, "random" (default) adds uniformly
        random states drawn from the seed; too many are truncated. Given without ``initial_states`` it
        generates every start state (so it too needs a solver that takes them).
    sampling : bool
        Sampling mode (below). Only for solvers that record the states they visit
        (``properties["sampling_solvers"]``); refused otherwise.
    every, burn_in : int, optional
        Sampling mode: record every replica's sign pattern every ``every`` steps (default 1) after the
        first ``burn_in`` steps (default 0) of each batch. ``burn_in + every`` must fit in a batch.
    replicas : int, optional
        Sampling mode: replicas per batch (default: the solver's).
    max_states : int, optional
        Sampling mode without ``num_reads``: the most distinct states kept (default :data:`MAX_STATES`;
        the lowest energies are kept, ``info["sampling"]["dropped_samples"]`` counts the rest).
    **solver_params
        Passed to the solver (``dt``, ``noise``, ``schedule``, ``variant``, ...); names the solver does not
        declare raise :class:`~cimsim.errors.CimsimError` before any work.

    Reads (``sampling=False``)
        A read is one replica's final state, polished unless ``polish=False``. ``num_reads`` alone: one
        batch of ``num_reads`` replicas. ``time_limit`` alone: every replica of every batch. Both: batches
        of ``num_reads`` replicas until the time is used, and read k is the lowest-energy state replica k
        reached over the batches (the first such on ties), so the reads stay independent and there are
        exactly ``num_reads`` of them.

    Sampling (``sampling=True``)
        The unpolished sign pattern of every replica every ``every`` steps after ``burn_in``, through
        :class:`cimsim.sampling.Tap`: every state the machine visits, as often as it visits it. Batches
        have ``steps`` steps (the solver's default; never fitted to a time limit, whose short probe batches
        would end inside the burn-in). ``num_reads`` alone: batches run until exactly that many samples
        are taken. ``time_limit`` alone: every sample taken in that time (at most ``max_states`` distinct
        states), and at least one readout of every replica (as a timed run has at least one batch). Both: the stream runs
        for ``time_limit`` seconds and the reads are a uniformly random subset of exactly ``num_reads`` of
        its samples (reservoir sampling); if the time gave fewer samples, sampling goes on past the time
        limit until there are ``num_reads`` (``info["sampling"]["extended"]``).

    Keywords the chosen solver would ignore are refused with one-line :class:`~cimsim.errors.CimsimError`
    (``every``/``burn_in``/``replicas``/``max_states`` without ``sampling``, ``steps`` for ``exact``, ...).

    neal's keywords are understood, so ``SimulatedAnnealingSampler().sample(bqm, num_reads=..., num_sweeps=...,
    beta_range=(b0, b1), beta_schedule_type="geometric", seed=...)`` works unchanged: ``num_sweeps`` is
    ``steps``; ``beta_range`` and ``beta_schedule_type`` ("geometric" or "linear") set the ``sa`` solver's
    ``beta_min``/``beta_max`` and ``beta_schedule`` (the inverse temperature of the same energy dimod reports);
    any of the three makes ``solver="auto"`` mean ``sa``.

    Energies in the SampleSet are computed by dimod from the BQM as given (its vartype, its offset).
    ``info`` holds the solver, its settings, the seed, ``batches``, ``reads_per_batch``, ``timing``,
    ``mode`` ("reads" or "sampling"), ``reads`` (how they were chosen) and, when sampling, ``sampling``
    (stream length, distinct states, dropped samples, ``every``, ``burn_in``, ``extended``).
    """

    def __init__(self) -> None:
        self._parameters: dict | None = None

    @property
    def parameters(self) -> dict:
        """Every keyword :meth:`sample` takes: the sampler's own (:data:`SAMPLER_KEYWORDS`) and every
        solver parameter (related property ``solver_params``: which solver declares it)."""
        if self._parameters is None:
            out = {k: list(v) for k, v in SAMPLER_KEYWORDS.items()}
            for names in _solver_tables()["solver_params"].values():
                for p in names:
                    out.setdefault(p, ["solver_params"])
            self._parameters = out
        return self._parameters

    @property
    def properties(self) -> dict:
        """``solvers`` (the accepted ``solver=`` names), ``solver_descriptions`` (one line each),
        ``solver_params`` (solver -> its parameter names), ``initial_state_solvers``, ``sampling_solvers``
        and ``initial_states_generators``."""
        from .solvers import SOLVERS

        t = _solver_tables()
        return {"solvers": ["auto", *SOLVERS], "solver_descriptions": dict(SOLVERS),
                "solver_params": {k: list(v) for k, v in t["solver_params"].items()},
                "initial_state_solvers": list(t["initial_state_solvers"]),
                "sampling_solvers": list(t["sampling_solvers"]),
                "initial_states_generators": list(INITIAL_STATES_GENERATORS)}

    def sample(self, bqm, *, solver: str = "auto", num_reads: int | None = None, seed: int | None = None,
               steps: int | None = None, time_limit: float | None = None, polish: bool | None = None,
               backend: str = "cpu", presolve: bool | None = None, initial_states: Any = None,
               initial_states_generator: str | None = None, sampling: bool = False, every: int | None = None,
               burn_in: int | None = None, replicas: int | None = None, max_states: int | None = None,
               **solver_params: Any):
        """Sample ``bqm`` (SPIN or BINARY) with a cimsim solver; returns an aggregated ``dimod.SampleSet``
        (see the class docstring for every keyword)."""
        dimod = _dimod()
        from . import pipeline
        from .solvers import get_solver
        from .solvers.driver import check_seed

        t0 = time.perf_counter()
        if not isinstance(bqm, dimod.BinaryQuadraticModel):
            raise CimsimError(f"expected a dimod.BinaryQuadraticModel, got {type(bqm).__name__}")
        if not isinstance(solver, str):
            raise CimsimError(f"solver must be a name, got {type(solver).__name__}")
        solver, steps, solver_params = _neal_keywords(solver, steps, solver_params)
        if num_reads is not None:
            num_reads = positive_int(num_reads, "num_reads")
        seed = check_seed(seed)  # before the sampler's own generators are seeded with it
        sampling = _flag(sampling, "sampling")
        opts = _SamplingOptions.check(sampling, every, burn_in, replicas, max_states)
        if not list(bqm.variables):  # nothing to solve: num_reads empty samples with the offset as energy
            return dimod.SampleSet.from_samples_bqm((np.zeros((1, 0), dtype=np.int8), []), bqm,
                                                    num_occurrences=[num_reads or 1])
        encoded = bqm_encoding(bqm)
        model = encoded.model
        name = pipeline.solver_name(encoded, pipeline.SolverSpec(name=solver))
        module = get_solver(name)
        chosen = f"solver {name!r}" + (" (chosen by solver='auto')" if solver == "auto" else "")
        start = initial_states is not None or initial_states_generator is not None
        _refuse_ignored(module, chosen, steps=steps, polish=polish, presolve=presolve, sampling=sampling,
                        start=start, params=solver_params)
        dflt = module.defaults(model)
        if start:
            want = (opts.replicas if sampling else num_reads)
            S0 = _initial_states(bqm, model.labels, initial_states, initial_states_generator, want,
                                 dflt["replicas"], _aux_rng(seed, 1))
            solver_params = {**solver_params, "initial": S0}
            if sampling:
                opts = replace(opts, replicas=S0.shape[0])
            else:
                num_reads = S0.shape[0]  # dimod: num_reads defaults to the number of initial states
        if sampling:
            T = positive_int(steps, "steps") if steps is not None else int(dflt["steps"])
            if opts.burn_in + opts.every > T:
                raise CimsimError(f"burn_in + every = {opts.burn_in + opts.every} is longer than a batch of {T} "
                                  "steps: no state would be recorded; give more steps or a shorter burn_in")
            # batches of T steps also under a time limit (fitted probe batches would be shorter than a burn-in)
            spec = pipeline.SolverSpec(name=name, params=solver_params, replicas=opts.replicas, steps=T,
                                       seed=seed, rng=np.random.default_rng(seed), time_limit=time_limit,
                                       backend=backend, polish=False, presolve=False)
            spins, counts, result, info = _sample_stream(encoded, spec, opts, num_reads, _aux_rng(seed, 2))
        else:
            spec = pipeline.SolverSpec(name=name, params=solver_params, replicas=num_reads, steps=steps, seed=seed,
                                       time_limit=time_limit, backend=backend, polish=polish, presolve=presolve)
            spins, counts, result, info = _read_batches(encoded, spec, num_reads)
        samples = ((spins + 1) // 2).astype(np.int8) if bqm.vartype is dimod.BINARY else spins
        ss = dimod.SampleSet.from_samples_bqm((samples, list(model.labels)), bqm, num_occurrences=counts)
        settings = dict(result.settings, steps=result.steps)
        settings.pop("initial", None)  # the start states are the caller's own; a (R, N) array is no setting
        ss.info.update(solver=result.solver, settings=settings, seed=seed, batches=info.pop("batches"),
                       reads_per_batch=result.replicas, timing={"total_s": time.perf_counter() - t0}, **info)
        return ss


@dataclass(frozen=True)
class _SamplingOptions:
    """The sampling-mode keywords, checked (``every`` >= 1, ``burn_in`` >= 0, ``replicas``, ``max_states``)."""

    every: int = 1
    burn_in: int = 0
    replicas: int | None = None
    max_states: int = MAX_STATES

    @classmethod
    def check(cls, sampling: bool, every: Any, burn_in: Any, replicas: Any, max_states: Any) -> "_SamplingOptions":
        given = {"every": every, "burn_in": burn_in, "replicas": replicas, "max_states": max_states}
        if not sampling:
            named = [k for k, v in given.items() if v is not None]
            if named:
                raise CimsimError(f"{', '.join(named)} only apply with sampling=True (a read's replica count is "
                                  "num_reads)")
            return cls()
        b = 0
        if burn_in is not None:
            if isinstance(burn_in, bool) or not isinstance(burn_in, (int, np.integer)) or burn_in < 0:
                raise CimsimError(f"burn_in must be a non-negative integer, got {burn_in!r}"[:200])
            b = int(burn_in)
        return cls(every=positive_int(every, "every") if every is not None else 1, burn_in=b,
                   replicas=positive_int(replicas, "replicas") if replicas is not None else None,
                   max_states=positive_int(max_states, "max_states") if max_states is not None else MAX_STATES)


def _flag(value: Any, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise CimsimError(f"{name} must be True or False, got {value!r}"[:200])
    return bool(value)


def _aux_rng(seed: int | None, k: int) -> np.random.Generator:
    """A generator for the sampler's own draws (start states, subsampling), independent of the solver's."""
    return np.random.default_rng(None if seed is None else [k, int(seed)])


def _refuse_ignored(module: Any, chosen: str, *, steps: Any, polish: Any, presolve: Any, sampling: bool,
                    start: bool, params: dict) -> None:
    """One-line errors for keywords the chosen solver (module) would silently ignore."""
    t = _solver_tables()
    if steps is not None and getattr(module, "DETERMINISTIC", False):
        raise CimsimError(f"{chosen} takes no steps: it enumerates exactly, once; name a solver that runs steps")
    if sampling:
        if not getattr(module, "SAMPLES", False):
            raise CimsimError(f"{chosen} has no sampling mode; sampling=True works with "
                              f"{', '.join(t['sampling_solvers'])}")
        if polish:
            raise CimsimError("sampling=True returns the visited states unpolished; polish applies to reads "
                              "(sampling=False)")
        if presolve:
            raise CimsimError("sampling=True samples the BQM's own spins; presolve=True would be ignored")
    if start:
        names = [p.name for p in getattr(module, "PARAMS", ())]
        if "initial" not in names:
            raise CimsimError(f"{chosen} takes no initial states; solvers that do: "
                              f"{', '.join(t['initial_state_solvers'])}")
        if "initial" in params:
            raise CimsimError("give initial_states or the solver's initial parameter, not both")
        if presolve:
            raise CimsimError("initial states name the BQM's own spins; presolve=True would be ignored")


def _initial_states(bqm: Any, labels: Any, states: Any, generator: str | None, want: int | None,
                    default: int, rng: np.random.Generator) -> np.ndarray:
    """The (R, N) int8 start spins, columns in ``labels`` order, filled up to ``want`` replicas (else the
    number of states given, else ``default``) by dimod's ``initial_states_generator`` convention."""
    dimod = _dimod()
    gen = "random" if generator is None else generator
    if gen not in INITIAL_STATES_GENERATORS:
        raise CimsimError(f"initial_states_generator must be one of {', '.join(INITIAL_STATES_GENERATORS)}, "
                          f"got {generator!r}"[:200])
    n = len(labels)
    if states is None:
        S = np.zeros((0, n), dtype=np.int8)
    else:
        try:
            arr, variables = dimod.as_samples(states)
        except (TypeError, ValueError, KeyError) as exc:
            raise CimsimError(f"initial_states is not samples-like: {str(exc).splitlines()[0] if str(exc) else ''}"
                              [:200]) from None
        if set(variables) != set(labels) or len(variables) != n:
            raise CimsimError(f"initial_states must give every variable of the BQM once ({n} variables), "
                              f"got {len(variables)}")
        col = {v: k for k, v in enumerate(variables)}
        arr = np.asarray(arr)[:, [col[v] for v in labels]]
        values = set(np.unique(arr).tolist())
        if values <= {-1, 1}:
            S = arr.astype(np.int8)
        elif values <= {0, 1}:
            S = (2 * arr - 1).astype(np.int8)
        else:
            raise CimsimError(f"initial_states must hold SPIN (-1, +1) or BINARY (0, 1) values, got "
                              f"{sorted(values)[:5]}")
    R = want if want is not None else (S.shape[0] or default)
    if S.shape[0] < R:
        if gen == "none":
            raise CimsimError(f"initial_states has {S.shape[0]} states for {R} replicas "
                              "(initial_states_generator='none' adds none)")
        if gen == "tile":
            if S.shape[0] == 0:
                raise CimsimError("initial_states_generator='tile' needs at least one initial state")
            S = np.resize(S, (R, n))
        else:
            extra = np.where(rng.random((R - S.shape[0], n)) < 0.5, -1, 1).astype(np.int8)
            S = np.concatenate([S, extra])
    return np.ascontiguousarray(S[:R], dtype=np.int8)


def _aggregate(spins: np.ndarray, model: IsingModel) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of ``spins`` and how often each occurs, by energy (ties: first occurrence)."""
    U, first, counts = np.unique(spins, axis=0, return_index=True, return_counts=True)
    order = np.lexsort((first, model.energies(U)))
    return U[order].astype(np.int8), counts[order].astype(np.int64)


def _read_batches(encoded: Encoded, spec: Any, num_reads: int | None) -> tuple[np.ndarray, np.ndarray, Any, dict]:
    """Reads mode: every replica of every batch, or with ``num_reads`` and a time limit the best state of
    each replica over the batches. Returns the aggregated spins, counts, the Result and info."""
    from . import pipeline

    batches: list[np.ndarray] = []
    result = pipeline.run(encoded, spec, on_batch=batches.append)
    reads = [_every_read(S, result.replicas) for S in batches]
    if num_reads is not None and spec.time_limit is not None:
        model = encoded.model
        best = reads[0].copy()
        best_e = model.energies(best)
        for S in reads[1:]:
            E = model.energies(S)
            better = E < best_e
            best[better], best_e[better] = S[better], E[better]
        how = "the lowest-energy state of each of num_reads replicas over the batches"
        spins = best
    else:
        spins = np.concatenate(reads)
        how = "every replica of every batch"
    U, counts = _aggregate(spins, encoded.model)
    return U, counts, result, {"batches": result.batches, "mode": "reads", "reads": how}


class _ReservoirTap(Tap):
    """A :class:`Tap` that also keeps a uniformly random subset of ``size`` samples of its whole stream
    (reservoir sampling, algorithm R): while the stream is at most ``size`` long, every sample."""

    def __init__(self, counter: StateCounter, *, size: int, rng: np.random.Generator, **kw: Any) -> None:
        super().__init__(counter, **kw)
        self.size = size
        self.rng = rng
        self.reservoir = np.zeros((size, counter.n), dtype=np.int8)
        self.seen = 0

    def record(self, t: int, S: np.ndarray, E: np.ndarray | None = None) -> None:
        before = self.counter.samples
        super().record(t, S, E)
        taken = self.counter.samples - before
        if taken <= 0:
            return
        rows = np.where(np.asarray(S) >= 0, 1, -1).astype(np.int8).reshape(-1, self.counter.n)[:taken]
        fill = max(0, min(taken, self.size - self.seen))
        if fill:
            self.reservoir[self.seen:self.seen + fill] = rows[:fill]
        if fill < taken:  # sample number i (0-based) replaces a random slot with probability size / (i + 1)
            idx = np.arange(self.seen + fill, self.seen + taken)
            slot = (self.rng.random(idx.size) * (idx + 1)).astype(np.int64)
            for j in np.flatnonzero(slot < self.size):  # in stream order: a later sample overwrites an earlier
                self.reservoir[slot[j]] = rows[fill + j]
        self.seen += taken


def _sample_stream(encoded: Encoded, spec: Any, opts: _SamplingOptions, num_reads: int | None,
                   rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, Any, dict]:
    """Sampling mode (see the class docstring): run the pipeline with a tap, topping up past the time limit
    when ``num_reads`` samples were not reached in it. Returns the aggregated reads, counts, Result, info."""
    from . import pipeline

    model = encoded.model
    counter = StateCounter(model.n, cap=opts.max_states)
    kw = dict(every=opts.every, burn_in=opts.burn_in, model=model)
    if num_reads is not None:
        tap: Tap = _ReservoirTap(counter, size=num_reads, rng=rng, limit=num_reads if spec.time_limit is None else None,
                                 **kw)
    else:
        tap = Tap(counter, **kw)
    last = [0]

    def progress(_spins: np.ndarray) -> None:  # a batch without a sample would loop for ever
        if tap.samples == last[0] and not tap.full() and tap.limit is not None:
            raise CimsimError(f"solver {spec.name!r} recorded no sample in a batch; check burn_in and every")
        last[0] = tap.samples

    with tapping(tap):
        result = pipeline.run(encoded, spec, on_batch=progress if spec.time_limit is None else None)
    batches, extended = result.batches, False
    # the time limit gave too few (num_reads), or none at all: go on until there are num_reads, or one
    # readout of every replica (as a timed run has at least one batch)
    want = num_reads if num_reads is not None else (result.replicas if tap.samples == 0 else 0)
    if tap.samples < want:
        tap.limit, extended = want, True
        last[0] = tap.samples
        with tapping(tap):
            result = pipeline.run(encoded, replace(spec, time_limit=None), on_batch=progress)
        batches += result.batches
    info = {"batches": batches, "mode": "sampling",
            "sampling": {"samples": tap.samples, "distinct": len(counter), "dropped_samples": counter.dropped_samples,
                         "dropped_states": counter.dropped_states, "every": opts.every, "burn_in": opts.burn_in,
                         "runs": tap.runs, "extended": extended}}
    if num_reads is not None:
        assert isinstance(tap, _ReservoirTap)
        U, counts = _aggregate(tap.reservoir, model)
        info["reads"] = ("every sample of the stream" if tap.samples == num_reads
                         else f"a uniformly random {num_reads} of the stream's {tap.samples} samples")
        return U, counts, result, info
    S, _E, C, _F = counter.states()
    info["reads"] = "every sample of the stream" + (" (lowest max_states distinct states)" if counter.dropped_samples else "")
    return S, C, result, info


def _every_read(spins: np.ndarray, reads: int) -> np.ndarray:
    """One batch's spins with ``reads`` rows: a deterministic solver's fewer rows are repeated."""
    S = check_spins(spins, name="batch spins")
    return np.resize(S, (reads, S.shape[1])) if S.shape[0] < reads else S


def _neal_keywords(solver: str, steps: Any, params: dict) -> tuple[str, Any, dict]:
    """Translate neal's ``num_sweeps``, ``beta_range``, ``beta_schedule_type`` into cimsim's ``sa`` terms."""
    params = dict(params)
    if "num_sweeps" in params:
        sweeps = params.pop("num_sweeps")
        if steps is not None:
            raise CimsimError("give steps or num_sweeps, not both")
        steps = sweeps
        if solver == "auto":  # an annealing keyword: auto means sa (not exact, which has no sweeps)
            solver = "sa"
    neal = {k: params.pop(k) for k in ("beta_range", "beta_schedule_type") if k in params}
    if neal:
        if solver == "auto":
            solver = "sa"
        if solver != "sa":
            raise CimsimError(f"{', '.join(neal)} apply to solver='sa', not {solver!r}")
        if "beta_range" in neal:
            br = neal["beta_range"]
            if not isinstance(br, (tuple, list)) or len(br) != 2:
                raise CimsimError(f"beta_range must be a pair (beta_min, beta_max), got {br!r}")
            params["beta_min"], params["beta_max"] = positive_float(br[0], "beta_range[0]"), positive_float(br[1], "beta_range[1]")
        if "beta_schedule_type" in neal:
            kind = neal["beta_schedule_type"]
            if kind not in ("geometric", "linear"):
                raise CimsimError(f"beta_schedule_type must be 'geometric' or 'linear', got {kind!r}")
            params["beta_schedule"] = kind
    return solver, steps, params
