"""The Python API, mirroring the command line: :func:`solve`, :func:`anneal`, :func:`landscape`, :func:`phase_diagram`.

=================================  ==========================================================
command line                       Python
=================================  ==========================================================
``cimsim solve maxcut G1.txt``     ``cimsim.solve("maxcut", "G1.txt")``
(networkx, in-memory)              ``cimsim.solve("maxcut", graph)``, ``cimsim.solve(model, "cim")``
``cimsim sample maxcut g.txt ...`` ``cimsim.sample("maxcut", "g.txt", "cfc", samples=5000)``
``cimsim anneal --sk 64 ...``      ``cimsim.anneal(sk=64, sweep={"steps": [100, 300]}, ...)``
``cimsim landscape --n 64 ...``    ``cimsim.landscape(n=64, a=-0.5, ...)``
``cimsim phase-diagram ...``       ``cimsim.phase_diagram(n=64, a=np.linspace(-2.2, 0.2, 13), ...)``
=================================  ==========================================================

Conventions (physics.md 1): spins ``s`` in {-1, +1}^N, Ising energy ``H(s) = -1/2 s^T J s - h^T s + offset``
(dimensionless, in the units of ``J``); the soft-spin landscape ``E_a(x) = sum(x^4/4 - a x^2/2) - 1/2 x^T J x``
with SK couplings ``J_ij ~ N(0, 1/N)`` and the pump ``a`` in the same units. Steps are dynamics steps (one
coupling matrix-vector product) for the CIM family and sweeps for simulated annealing; times are wall
seconds. Every function takes an explicit ``seed`` and gives the same answer for the same seed, and
raises :class:`~cimsim.errors.CimsimError` (one line) on bad input before doing any work.
"""
from __future__ import annotations

import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from . import pipeline as _pipeline
from .encoders import Encoded
from .errors import CimsimError, finite_float, positive_float, positive_int
from .model import IsingModel
from .result import Result, to_jsonable

__all__ = ["solve", "encode", "record", "sample", "anneal", "landscape", "phase_diagram", "Landscape", "CallableLandscapeModule",
           "GRAPH_PROBLEMS"]


# ---------------------------------------------------------------------------------------------- solve
#: problems that accept a networkx graph in :func:`encode` / :func:`solve`
GRAPH_PROBLEMS = _pipeline.GRAPH_PROBLEMS


def encode(problem: str, data: Any, **options: Any) -> Encoded:
    """Encode ``problem`` (a name of :data:`cimsim.encoders.PROBLEMS`) from ``data``.

    ``data`` is a file path (the problem's native format, as ``cimsim solve PROBLEM FILE``; ``options``
    as its ``-o KEY=VALUE``), or a networkx graph for any of :data:`GRAPH_PROBLEMS` (edge attribute
    ``weight``, default 1, used by maxcut and bisection; answers name vertices by the graph's labels;
    options ``penalty``, and ``size`` for clique, ``colors`` (required) for coloring), or the list of
    numbers for ``partition``.
    """
    return _pipeline.encode(problem, data, options)


def solve(
    problem: "str | IsingModel | Encoded | Any",
    data: Any = None,
    solver: str = "auto",
    *,
    options: Mapping[str, Any] | None = None,
    replicas: int | None = None,
    steps: int | None = None,
    seed: int | None = None,
    rng: np.random.Generator | None = None,
    time_limit: float | None = None,
    polish_result: bool | None = None,
    backend: str = "cpu",
    presolve: bool | None = None,
    **params: Any,
) -> Result:
    """Encode (when needed), solve and decode: the Python twin of ``cimsim solve``.

    Call forms
    ----------
    ``solve("maxcut", "G1.txt")``
        A problem name of :data:`cimsim.encoders.PROBLEMS` and a file in its format (``options`` are the
        encoder options, the CLI's ``-o``).
    ``solve("maxcut", graph)``
        A networkx graph (maxcut, bisection, vertex-cover, independent-set, clique, coloring): the answer
        names vertices by the graph's own labels, e.g. ``result.answer["sides"]`` for MaxCut,
        ``["cover"]``, ``["set"]``, ``["clique"]`` (lists of nodes) or ``["colors"]`` ({node: colour}).
    ``solve("partition", [3, 1, 4, 1, 5])``
        Numbers to partition.
    ``solve({("a", "a"): -1, ("a", "b"): 2})``, ``solve("qubo", Q)``
        A QUBO: a ``{(u, v): q}`` dictionary (dimod's form; ``answer["sample"]`` is ``{label: 0/1}``) or,
        with the name, a square matrix (:func:`cimsim.encoders.qubo.encode_qubo`).
    ``solve(encoded)``, ``solve(model, "cim")``, ``solve(bqm, "sa")``
        An :class:`~cimsim.encoders.Encoded`, an :class:`~cimsim.model.IsingModel` (the second positional
        argument is then the solver, as in earlier versions) or a dimod BinaryQuadraticModel (objective: its
        energy, in its own vartype and offset).

    Parameters
    ----------
    solver : str
        ``auto`` (exact for N <= 20, ``matching`` for field-free 2-D lattices, ``cfc`` on other
        field-free models up to N = 4000 sparse or 1000 dense and on hub-dominated graphs of one sign,
        simulated annealing otherwise: :func:`cimsim.solvers.auto_choice`,
        whose pick and reason are in ``extra["auto"]``) or a key of :data:`cimsim.SOLVERS`.
    replicas, steps : int, optional
        Replicas per batch; steps (CIM family: dynamics steps, one J-product each; sa: sweeps) per replica.
    seed : int, optional
        Seed of ``numpy.random.default_rng``; same seed, same result.
    time_limit : float, optional
        Wall seconds; fresh batches run until it is used (see :func:`cimsim.solvers.solve`).
    polish_result : bool, optional
        1-flip local search on every replica (the CLI's ``--polish/--no-polish``); default on, except where
        the encoding advises against it (the TSP).
    backend : {"cpu", "gpu", "auto"}
    presolve : bool, optional
        Exact presolve on or off (default: the solver's choice; see :func:`cimsim.solvers.solve`).
    **params
        Solver parameters (the CLI's ``-p KEY=VALUE``), e.g. ``dt=0.05``, ``schedule="linear:-2,0.2"``.

    Returns
    -------
    Result
        ``spins`` (N,) int8 +-1 in the model's variable order; ``energy`` = H(spins) recomputed, float64;
        ``objective``, ``feasible`` and ``answer`` decoded in the problem's own terms (for a bare model,
        ``objective`` is the energy); ``extra["problem"]``, ``extra["encoding"]``, ``extra["objective_name"]``,
        ``extra["sense"]`` and ``extra["file"]`` describe the encoding; :func:`record` is its JSON record.
    """
    if not isinstance(problem, str) and isinstance(data, str) and solver == "auto":
        solver, data = data, None  # solve(model, "cim"): the solver positionally, as before
    if _pipeline.is_bqm(problem):
        from .ocean import bqm_encoding

        problem = bqm_encoding(problem)
    spec = _pipeline.SolverSpec(name=solver, params=params, replicas=replicas, steps=steps, seed=seed, rng=rng,
                                time_limit=time_limit, backend=backend, polish=polish_result, presolve=presolve)
    return _pipeline.solve(problem, data, spec, options=options)


def record(result: Result, *, target: float | None = None) -> dict:
    """The JSON-ready record of a :func:`solve` result, from the same code as ``cimsim solve --json``
    (:func:`cimsim.pipeline.record`): problem, file, solver, energy, objective, feasibility, the decoded
    answer, spins, seed, settings, encoding; ``target`` adds ``target`` and ``gap``."""
    return _pipeline.record(result, target=target)


def sample(
    problem: "str | IsingModel | Encoded | Any",
    data: Any = None,
    solver: str = "auto",
    *,
    samples: int | None = None,
    time_limit: float | None = None,
    every: int = 1,
    burn_in: int = 0,
    cap: int = 100_000,
    reference: int = 2,
    options: Mapping[str, Any] | None = None,
    replicas: int | None = None,
    steps: int | None = None,
    seed: int | None = None,
    **params: Any,
):
    """Run a solver in its sampling mode and summarise the states it visited: the twin of ``cimsim sample``.

    ``problem`` and ``data`` as in :func:`solve` (a problem name with a file, graph or numbers; or an
    ``Encoded``, an ``IsingModel`` or a ``{(u, v): q}`` QUBO). After ``burn_in`` steps of each run every
    replica's unpolished sign pattern is recorded every ``every`` steps, until exactly ``samples`` samples
    or ``time_limit`` seconds (with neither: one run of ``steps`` steps); at most ``cap`` distinct states
    are kept. ``solver`` must have a sampling mode (``auto``: the first of mfb, cfc, sfc, simcim, asb that
    has one). Returns a :class:`cimsim.sampler.SampleRecord` (``to_dict()`` is what ``--json`` writes):
    the states sorted by energy with counts, energies and objectives, and the statistics of physics.md 8.8.
    """
    if isinstance(problem, str):
        enc = _pipeline.encode(problem, data, options)
        file = data if isinstance(data, (str, Path)) else None
    else:
        if data is not None:
            if not isinstance(data, str) or solver != "auto":
                raise CimsimError("with a model or an Encoded the second argument is the solver name")
            solver = data
        if options:
            raise CimsimError("options= are encoder options; they apply to a problem name with a file or graph")
        enc, file = _pipeline.as_encoded(problem), None
    spec = _pipeline.SolverSpec(name=solver, params=params, replicas=replicas, steps=steps, seed=seed,
                                time_limit=time_limit)
    return _pipeline.sample(enc, spec, every=every, burn_in=burn_in, cap=cap, samples=samples, reference=reference,
                            file=file)


# --------------------------------------------------------------------------------------------- anneal
def anneal(
    problem: "tuple[str, str | Path] | None" = None,
    *,
    sk: int | None = None,
    instance_seed: int = 0,
    solver: str = "cim",
    schedule: Any = None,
    params: Mapping[str, Any] | None = None,
    sweep: "Mapping[str, Sequence[Any]] | Sequence[str] | None" = None,
    steps: int | None = None,
    runs: int = 100,
    chunk: int = 50,
    target: float | None = None,
    target_energy: float | None = None,
    tts_probability: float = 0.99,
    bootstrap: int = 2000,
    ci: float = 0.95,
    seed: int = 0,
    polish: bool = True,
    out: str | Path | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool = False,
):
    """Success probability and time to solution of one solver on ONE instance: the twin of ``cimsim anneal``.

    Parameters
    ----------
    problem : ("maxcut" | "ising", path), optional
        Instance from a file (Gset/rudy; .npz/.mtx/.qubo). Give exactly one of ``problem`` and ``sk``.
    sk : int, optional
        Generated SK instance with ``sk`` spins (Gaussian J_ij, variance 1/N), seeded by ``instance_seed``.
    solver : str
        Any solver but ``exact`` (default ``cim``).
    schedule, params, steps
        Fixed pump schedule (spec string, dict or .json path), solver parameters and steps per run.
    sweep : {name: [values]} or ["name=v1,v2", ...], optional
        Swept parameters; every point of their cartesian product is one setting (``steps`` may be swept).
    runs, chunk : int
        Independent runs per setting; runs per task (one solver call with ``chunk`` replicas).
    target, target_energy : float, optional
        Success threshold as an objective (cut for maxcut) or an Ising energy; default: the known optimum
        (best_known.csv next to a Gset file, or exact enumeration for N <= 20), else the best energy seen.
    tts_probability, bootstrap, ci
        P of TTS_P (default 0.99), bootstrap resamples and confidence level of the intervals.
    seed : int
        Study seed; task seeds derive from it and each task's parameters (results do not depend on workers).
    out : path, optional
        Task store directory (checkpoint/resume; the CLI's ``--out``). None keeps everything in memory.
    workers, scheduler
        Local dask workers or a scheduler address; default serial in this process.

    Returns
    -------
    cimsim.studies.StudyResult
        ``rows``: one dict per setting with ``p_success`` (+ ``p_lo``, ``p_hi``), ``tts_steps`` and ``tts_s``
        (TTS in steps and wall seconds, with ``_lo``/``_hi`` bootstrap bounds; ``inf`` when never solved),
        ``energy_*`` quantiles of the final Ising energies, ``steps_taken``, ``wall_s``; ``target_energy``,
        ``target_source``, ``notes``; ``to_dict()`` is the CLI's anneal.json. Figures:
        :func:`cimsim.plotting.anneal.plot_tts` (rows, swept, path).
    """
    from .studies import InstanceSpec, parse_sweep, prepare_study, run_anneal_study

    if (problem is None) == (sk is None):
        raise CimsimError("give exactly one instance: problem=(KIND, FILE) or sk=N")
    if sk is not None:
        spec = InstanceSpec.sk(sk, instance_seed)
    else:
        if not isinstance(problem, (tuple, list)) or len(problem) != 2:
            raise CimsimError("problem must be a pair (KIND, FILE), e.g. ('maxcut', 'G1.txt')")
        spec = InstanceSpec.from_file(str(problem[0]), problem[1])
    fixed = dict(params or {})
    if schedule is not None:
        fixed["schedule"] = schedule
    if steps is not None:
        fixed["steps"] = steps
    if sweep is None:
        swept: dict[str, list] = {}
    elif isinstance(sweep, Mapping):
        swept = {str(k): list(v) if isinstance(v, (list, tuple, np.ndarray, range)) else [v] for k, v in sweep.items()}
    else:
        swept = parse_sweep(list(sweep))
    if target is not None:
        target = finite_float(target, "target")
    if target_energy is not None:
        target_energy = finite_float(target_energy, "target_energy")
    prepared = prepare_study(spec, solver=solver, sweeps=swept, fixed=fixed, runs=runs, chunk=chunk, polish=polish)
    study, _ = run_anneal_study(prepared, seed=seed, target_energy=target_energy, target_objective=target,
                                tts_target=tts_probability, n_boot=bootstrap, ci_level=ci,
                                out_dir=None if out is None else str(out), scheduler=scheduler, workers=workers,
                                progress=progress)
    return study


# ------------------------------------------------------------------------------------------ landscape
@dataclass
class Landscape:
    """Critical points of ``E_a(x) = sum(x^4/4 - a x^2/2) - 1/2 x^T J x`` found by :func:`landscape`.

    Attributes
    ----------
    n, a, index, seed, tol, ensemble
        As requested; ``index`` is the Hessian index sought (0: minima).
    couplings : list of ndarray, each (N, N)
        The instances' J (float64, symmetric, zero diagonal).
    points : list of CriticalPoints
        Per instance: ``x`` (K, N) amplitudes, ``energy`` (K,) total E_a (not per spin), ``index`` (K,),
        ``lambda_min`` (K,) lowest Hessian eigenvalue, ``grad_norm`` (K,) = |grad E_a|/sqrt(N) < tol,
        ``count`` (K,) starts that reached the point; de-duplicated up to x -> -x.
    summaries : list of dict
        Per instance (the CLI table): distinct, failed, eps_min/mean/sd (E_a/N), q_mean, lambda_min_lowest,
        fraction_marginal, origin_index, lambda_max_J.
    rs_theory : dict
        Replica-symmetric prediction at ``a`` (q, eps, chi, gap, ...; physics.md 2).
    starts : int
        Random starts (minima) or walks (saddles) per instance.
    """

    n: int
    a: float
    index: int
    seed: int
    tol: float
    ensemble: str
    couplings: list
    points: list
    summaries: list[dict]
    rs_theory: dict = field(default_factory=dict)
    starts: int | None = None

    @property
    def total_points(self) -> int:
        return int(sum(len(p) for p in self.points))

    def to_dict(self) -> dict:
        """The CLI's ``--json`` payload (points as statistics rows, not amplitudes)."""
        from .landscape.stats import point_table

        return to_jsonable({
            "command": "landscape", "n": self.n, "a": self.a, "index": self.index, "instances": len(self.points),
            "starts": self.starts, "seed": self.seed, "tol": self.tol, "ensemble": self.ensemble,
            "convention": "E_a = sum(x^4/4 - a x^2/2) - 1/2 x^T J x, J_ij ~ N(0,1/N)",
            "rs_theory": self.rs_theory, "per_instance": self.summaries,
            "points": [{"instance": i, **row} for i, p in enumerate(self.points) for row in point_table(p)],
            "total_points": self.total_points,
        })

    def plot(self, out_dir: str | Path) -> list[str]:
        """Write the reporter figures (energy histogram, index vs energy, amplitudes, Hessian spectrum) as PNGs."""
        from .plotting.landscape import plot_reporter

        return plot_reporter(self.points, self.a, str(out_dir))


def landscape(
    n: int | None = None,
    a: float = 0.0,
    *,
    J: "np.ndarray | Sequence[np.ndarray] | None" = None,
    instances: int = 1,
    starts: int = 16,
    index: int = 0,
    seed: int = 0,
    tol: float = 1e-6,
    ensemble: str = "gaussian",
    progress: bool = False,
) -> Landscape:
    """Critical points of the soft-spin energy ``E_a``: the twin of ``cimsim landscape``.

    Parameters
    ----------
    n : int
        Spins N of the generated SK instances (``J_ij ~ N(0, 1/N)``, or +-1/sqrt(N) with ``ensemble="pm1"``);
        instance ``i`` is the same matrix the CLI and :func:`phase_diagram` use for (n, i, seed).
    a : float
        Pump (project convention, physics.md 1; the origin destabilises at ``a = -lambda_max(J)``, about -2).
    J : (N, N) array or list of them, optional
        Your own symmetric couplings instead of generated ones (``n`` and ``instances`` then follow from J).
    starts : int
        Random starts (minima) or eigenvector-following walks (``index`` > 0) per instance.
    index : int
        Hessian index of the critical points sought: 0 for minima, k for index-k saddles.
    seed : int
        Seeds the instances and the starts; same seed, same points (equal to ``cimsim landscape --seed``).
    tol : float
        Every returned point has ``|grad E_a| / sqrt(N) < tol``.

    Returns
    -------
    Landscape
    """
    from .landscape.critical import find_minima, find_saddles
    from .landscape.hessian import origin_index
    from .landscape.phase import instance_couplings
    from .landscape.stats import summarize
    from .landscape.phase import check_pump
    from .landscape.theory import rs_solve
    from .memory import _short, check_dense_fits, check_fits

    a = check_pump(a, "a")
    tol = positive_float(tol, "tol")
    starts = positive_int(starts, "starts")
    seed = int(seed)
    if ensemble not in ("gaussian", "pm1"):
        raise CimsimError(f"ensemble must be gaussian or pm1, got {ensemble!r}")
    if J is not None:
        mats = [J] if np.ndim(J) == 2 else list(J)
        Js = []
        for M in mats:
            A = np.asarray(M.toarray() if hasattr(M, "toarray") else M, dtype=np.float64)
            if A.ndim != 2 or A.shape[0] != A.shape[1] or A.shape[0] < 2:
                raise CimsimError(f"J must be a square N x N matrix with N >= 2, got shape {A.shape}")
            if not np.all(np.isfinite(A)) or not np.allclose(A, A.T, atol=1e-12):
                raise CimsimError("J must be finite and symmetric")
            Js.append(A)
        n = Js[0].shape[0]
        if any(M.shape[0] != n for M in Js):
            raise CimsimError("every J must have the same size")
        instances = len(Js)
    else:
        if n is None:
            raise CimsimError("give n (spins of the generated SK instances) or J")
        n = positive_int(n, "n")
        if n < 2:
            raise CimsimError(f"n must be at least 2, got {n}")
        instances = positive_int(instances, "instances")
        Js = None
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index <= n:
        raise CimsimError(f"index must be an integer in [0, N={n}], got {index!r}"[:200])
    check_dense_fits(n, copies=3, what="Hessian")
    check_fits(8 * int(instances) * n * n, f"the couplings of {_short(instances)} instances of {n} spins (all kept)",
               "use fewer instances")  # 10**400 instances: refused, not run for ever
    couplings, found, summaries = [], [], []
    for i in range(instances):
        Ji = Js[i] if Js is not None else instance_couplings(n, i, seed, ensemble)
        rng = np.random.default_rng(np.random.SeedSequence([seed & 0xFFFFFFFF, n, i, 1]))
        if index == 0:
            pts = find_minima(Ji, a, starts, rng, tol=tol, progress=progress)
        else:
            pts = find_saddles(Ji, a, int(index), starts, rng, tol=tol, progress=progress)
        s = summarize(pts)
        s.update({"instance": i, "lambda_max_J": float(np.linalg.eigvalsh(Ji)[-1]), "origin_index": origin_index(Ji, a)})
        couplings.append(Ji)
        found.append(pts)
        summaries.append(s)
    return Landscape(n, a, int(index), seed, tol, ensemble, couplings, found, summaries, rs_solve(a).to_dict(), starts)


def phase_diagram(
    n: "int | Sequence[int]",
    a: "Sequence[float] | np.ndarray",
    *,
    instances: int = 8,
    starts: int = 8,
    seed: int = 0,
    tol: float = 1e-6,
    path_da: float = 0.05,
    ensemble: str = "gaussian",
    freeze_factor: float = 3.0,
    out: str | Path | None = None,
    plots: str | Path | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool = False,
):
    """The landscape phase diagram on SK: the twin of ``cimsim phase-diagram``.

    For each N in ``n`` and each instance: the adiabatic path (the minimum followed from x = 0 as the pump
    rises in steps ``path_da`` from min(a, -2.2) to max(a)), and at every pump value of the grid ``a``
    (1-D, any spacing) the minima from ``starts`` random starts.

    Returns
    -------
    cimsim.landscape.phase.PhaseDiagram
        ``rows``: tidy table, one dict per (method, n, instance, a), method ``adiabatic`` (the path) or
        ``random-starts``, with eps = E_a/N, q = mean x^2, lambda_min, distinct minima, ...; ``transitions``: estimated origin instability, b = 0 and
        freezing points per N (mean and sem over instances; physics.md predicts -2, -0.93, -0.45);
        ``raw``: per-task outputs (for :func:`cimsim.plotting.landscape.plot_phase_diagram`); ``failed``.
        With ``plots=DIR`` the phase-diagram PNGs are written there too.
    """
    from .landscape.phase import run_phase_diagram

    grid = np.asarray(a, dtype=np.float64).reshape(-1)
    if grid.size == 0 or not np.all(np.isfinite(grid)):
        raise CimsimError("a must be a non-empty sequence of finite pump values")
    if ensemble not in ("gaussian", "pm1"):
        raise CimsimError(f"ensemble must be gaussian or pm1, got {ensemble!r}")
    positive_float(freeze_factor, "freeze_factor")
    if workers is not None:
        positive_int(workers, "workers")
    pd = run_phase_diagram(n, np.sort(grid), instances=instances, starts=starts, seed=seed, tol=tol, path_da=path_da,
                           kind=ensemble, out_dir=None if out is None else str(out), progress=progress,
                           freeze_factor=freeze_factor, workers=workers, scheduler=scheduler)
    if plots is not None:
        from .plotting.landscape import plot_phase_diagram

        plot_phase_diagram(pd.raw, pd.transitions, str(plots))
    return pd


class CallableLandscapeModule(types.ModuleType):
    """Module type of :mod:`cimsim.landscape`: the package stays importable (``cimsim.landscape.critical``)
    and ``cimsim.landscape(...)`` calls :func:`landscape`, the twin of ``cimsim landscape``."""

    def __call__(self, *args: Any, **kwargs: Any) -> Landscape:
        return landscape(*args, **kwargs)


CallableLandscapeModule.__call__.__doc__ = landscape.__doc__
