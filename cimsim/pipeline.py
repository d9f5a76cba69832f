"""The one encode -> solve -> decode -> record pipeline behind ``cimsim solve``, :func:`cimsim.solve` and
:class:`cimsim.ocean.CIMSampler`.

:func:`encode`
    A problem (a name with a file path, a networkx graph or a number list; or an
    :class:`~cimsim.model.IsingModel`, a QUBO dictionary or an :class:`~cimsim.encoders.Encoded`) as an
    ``Encoded``; a dimod BQM goes through :func:`cimsim.ocean.bqm_encoding` first.
:func:`run`
    Solve an ``Encoded`` with a :class:`SolverSpec` through the driver (:func:`cimsim.solvers.solve`) and
    decode: the :class:`~cimsim.result.Result` carries the answer, objective, feasibility and settings,
    and in ``extra`` what :func:`record` needs (``problem``, ``encoding``, ``objective_name``, ``sense``,
    ``file``).
:func:`solve`
    :func:`encode` then :func:`run`.
:func:`record`
    The JSON-ready record of a Result: what ``cimsim solve --json`` writes.
:func:`sample`
    Run a solver in its sampling mode on an ``Encoded`` and summarise the states it visited
    (:class:`cimsim.sampler.SampleRecord`, what ``cimsim sample --json`` writes).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from .encoders import PROBLEMS, Encoded, get_problem
from .errors import CimsimError, CimsimWarning, finite_float, positive_int
from .model import IsingModel
from .result import Result, to_jsonable

__all__ = ["SolverSpec", "GRAPH_PROBLEMS", "encode", "as_encoded", "solver_name", "auto_pick", "run", "solve", "record", "gap",
           "reaches", "sample"]

#: problems that accept a networkx graph
GRAPH_PROBLEMS = ("maxcut", "bisection", "vertex-cover", "independent-set", "clique", "coloring")


@dataclass(frozen=True)
class SolverSpec:
    """What to run: the solver ``name`` (``"auto"`` or a key of :data:`cimsim.solvers.SOLVERS`), its
    ``params`` (the CLI's ``-p``) and the driver's settings (see :func:`cimsim.solvers.solve`)."""

    name: str = "auto"
    params: Mapping[str, Any] = field(default_factory=dict)
    replicas: int | None = None
    steps: int | None = None
    seed: int | None = None
    rng: np.random.Generator | None = None
    time_limit: float | None = None
    backend: str = "cpu"
    polish: bool | None = None  # None: the encoding's advice (Encoded.info["polish"]), else True
    presolve: bool | None = None

    def with_name(self, name: str) -> "SolverSpec":
        """The same spec with another solver name."""
        return replace(self, name=name)


# ------------------------------------------------------------------------------------------- encode
def is_networkx(obj: Any) -> bool:
    """Duck-typed networkx graph."""
    return hasattr(obj, "nodes") and hasattr(obj, "edges") and hasattr(obj, "adj")


def is_bqm(obj: Any) -> bool:
    """Duck-typed dimod binary quadratic model."""
    return type(obj).__module__.startswith("dimod") and hasattr(obj, "vartype")


def _graph_encoding(problem: str, module: Any, graph: Any, options: dict) -> Encoded:
    """Clique (option ``size``) and colouring (option ``colors``, required) of a networkx graph, by node label."""
    from .encoders._graph import edges_from_networkx
    from .encoders._labels import with_node_labels

    n, edges, nodes = edges_from_networkx(graph)
    opts = dict(options)
    if problem == "coloring":
        if "colors" not in opts:
            raise CimsimError("coloring needs the number of colours: options={'colors': K}")
        k = positive_int(opts.pop("colors"), "colors")
        enc = module.encode_coloring(n, edges, k, **opts)
        return with_node_labels(enc, nodes, [(v, c) for v in nodes for c in range(k)])
    return with_node_labels(module.encode_clique(n, edges, opts.pop("size", None), **opts), nodes)


def encode(problem: str, data: Any, options: Mapping[str, Any] | None = None) -> Encoded:
    """Encode ``problem`` (a name of :data:`cimsim.encoders.PROBLEMS`) from ``data``: a file path in the
    problem's native format (``options`` as the CLI's ``-o``, e.g. ``format=``), a networkx graph for
    :data:`GRAPH_PROBLEMS`, or the numbers of ``partition``."""
    if not isinstance(problem, str):
        raise CimsimError(f"problem must be a name ({', '.join(PROBLEMS)}), got {type(problem).__name__}")
    module = get_problem(problem)
    opts = dict(options or {})
    if isinstance(data, (str, Path)):
        return module.from_file(data, **opts)
    if is_networkx(data):
        if hasattr(module, "from_networkx"):
            return module.from_networkx(data, **opts)
        if problem in ("clique", "coloring"):
            return _graph_encoding(problem, module, data, opts)
        raise CimsimError(f"{problem} cannot be built from a networkx graph; graph problems: {', '.join(GRAPH_PROBLEMS)}")
    if hasattr(module, "from_data"):  # in-memory data the problem module reads itself (qubo: a {(u, v): q} dict)
        return module.from_data(data, **opts)
    if problem == "partition" and isinstance(data, (list, tuple, np.ndarray)):
        return module.encode_partition(list(np.asarray(data).tolist()), **opts)
    raise CimsimError(f"cannot encode {problem} from a {type(data).__name__}: give a file path"
                      + (" or a networkx graph" if hasattr(module, "from_networkx") else ""))


def as_encoded(obj: Any) -> Encoded:
    """An :class:`Encoded`, an :class:`IsingModel` or a ``{(u, v): q}`` QUBO dictionary as an ``Encoded``.
    A dimod BQM is converted by :func:`cimsim.ocean.bqm_encoding` (the dimod adapter depends on the
    pipeline, not the reverse); :func:`cimsim.solve` does that for you."""
    from .encoders.ising import encode_ising

    if isinstance(obj, Encoded):
        return obj
    if isinstance(obj, IsingModel):
        return encode_ising(obj)
    if is_bqm(obj):  # cimsim.ocean (the dimod adapter) sits above the pipeline: it converts, then calls run
        raise CimsimError("convert a dimod BQM with cimsim.ocean.bqm_encoding(bqm) first (cimsim.solve(bqm) does)")
    if isinstance(obj, Mapping):  # a {(u, v): q} QUBO dictionary, dimod's form
        return encode("qubo", obj)
    if is_networkx(obj):
        raise CimsimError("name the problem first: cimsim.solve('maxcut', graph)")
    raise CimsimError(f"cannot solve a {type(obj).__name__}: give a problem name and a file or graph, "
                      "an Encoded, an IsingModel or a dimod BQM")


# -------------------------------------------------------------------------------------------- solve
def solver_name(encoded: Encoded, spec: SolverSpec) -> str:
    """The solver ``spec`` runs on ``encoded``: ``"auto"`` is the encoding's advice (``info["auto_solver"]``,
    e.g. tabu for the TSP) or :func:`cimsim.solvers.auto_solver`'s choice for the model."""
    from .solvers import auto_solver

    if spec.name != "auto":
        return spec.name
    return str(encoded.info.get("auto_solver") or auto_solver(encoded.model))


def _advice(encoded: Encoded, name: str, spec: SolverSpec) -> bool:
    """The polish setting of this run, warning once when the encoding says ``name`` does not suit it."""
    suited = encoded.info.get("suited_solvers")
    if suited and name not in suited:
        warnings.warn(f"{encoded.problem}: solver {name} rarely returns a valid answer for this encoding; "
                      f"{', '.join(suited)} suit it", CimsimWarning, stacklevel=3)
    return bool(encoded.info.get("polish", True)) if spec.polish is None else bool(spec.polish)


def reaches(sense: str, objective: float, feasible: bool | None, target: float) -> bool:
    """Whether a decoded answer (``objective``, ``feasible``) is feasible and at least as good as ``target``
    in the problem's ``sense`` (``max`` or ``min``; a relative tolerance of 1e-9 absorbs float rounding)."""
    t = finite_float(target, "target")
    tol = 1e-9 * max(1.0, abs(t))
    return feasible is not False and (objective >= t - tol if sense == "max" else objective <= t + tol)


def run(encoded: Encoded, spec: SolverSpec, *, file: str | Path | None = None,
        on_batch: Callable[[np.ndarray], None] | None = None, target: float | None = None,
        stop_at_target: bool = True) -> Result:
    """Solve ``encoded`` as ``spec`` says and decode the best spins.

    ``file`` (the path the problem was read from) goes into the record; ``on_batch`` receives every
    batch's scored spins (see :func:`cimsim.solvers.solve`). With a ``target`` objective (a known optimum)
    and ``stop_at_target``, a run of several batches (a time limit) ends after the first batch whose best
    answer :func:`reaches` it (``extra["stopped_early"]``). Ctrl-C ends the run with the best answer so
    far, decoded as usual, and ``extra["interrupted"]`` set (see :func:`cimsim.solvers.solve`).
    """
    from .solvers import solve as drive

    stop = None
    if target is not None and stop_at_target:
        t = finite_float(target, "target")

        def stop(spins: np.ndarray) -> bool:
            sol = encoded.decode(spins)
            return reaches(encoded.sense, sol.objective, sol.feasible, t)

    choice = auto_pick(encoded, spec)
    name = choice["solver"] if choice is not None else solver_name(encoded, spec)
    res = drive(encoded.model, name, replicas=spec.replicas, steps=spec.steps, seed=spec.seed,
                rng=spec.rng, time_limit=spec.time_limit, polish_result=_advice(encoded, name, spec),
                backend=spec.backend, presolve=spec.presolve, on_batch=on_batch, stop=stop, keep_on_interrupt=True,
                **dict(spec.params))
    sol = encoded.decode(res.spins)
    res.objective, res.feasible, res.answer = sol.objective, sol.feasible, dict(sol.answer)
    res.extra.update(problem=encoded.problem, encoding=to_jsonable(encoded.info),
                     objective_name=encoded.objective_name, sense=encoded.sense,
                     file=str(file) if file is not None else None)
    if choice is not None:
        res.extra["auto"] = choice
    return res


def auto_pick(encoded: Encoded, spec: SolverSpec) -> dict | None:
    """For ``--solver auto``: what was picked and why (``Result.extra["auto"]``): the encoding's advice, or
    :func:`cimsim.solvers.auto_choice` (solver, reason, the graph features it read, their seconds)."""
    if spec.name != "auto":
        return None
    advised = encoded.info.get("auto_solver")
    if advised:
        return {"solver": str(advised), "reason": f"the {encoded.problem} encoding advises it", "seconds": 0.0,
                "features": None}
    from .solvers import auto_choice

    return auto_choice(encoded.model).to_dict()


def sample(encoded: Encoded, spec: SolverSpec = SolverSpec(), *, every: int = 1, burn_in: int = 0,
           cap: int = 100_000, samples: int | None = None, reference: int = 2, file: str | Path | None = None) -> Any:
    """Sample ``encoded`` with ``spec``'s solver in its sampling mode (``spec.name`` ``"auto"``: the first of
    mfb, cfc, ... that has one) and return a :class:`cimsim.sampler.SampleRecord`: the distinct states
    sorted by energy with their counts, energies and decoded objectives, and the statistics of physics.md
    8.8. After ``burn_in`` steps of each run, every replica's unpolished sign pattern is recorded every
    ``every`` steps until ``samples`` samples (exactly) or ``spec.time_limit`` seconds (else one run of
    ``spec.steps``); at most ``cap`` distinct states are kept. ``reference`` independent runs give the
    target set when N is too large to enumerate (see :func:`cimsim.sampler.sample_run`)."""
    from .sampler import sample_run

    seed = spec.seed
    if spec.rng is not None:
        raise CimsimError("a sampling run takes a seed, not an rng (its reference runs are seeded from it)")
    if spec.backend not in ("cpu", "auto"):
        raise CimsimError(f"sampling runs on the cpu backend only, got {spec.backend!r}")
    return sample_run(encoded, spec.name, params=dict(spec.params), replicas=spec.replicas, steps=spec.steps,
                      seed=seed, every=every, burn_in=burn_in, cap=cap, samples=samples,
                      time_limit=spec.time_limit, reference=reference,
                      file=str(file) if file is not None else None)


def solve(problem: Any, data: Any = None, spec: SolverSpec = SolverSpec(), *,
          options: Mapping[str, Any] | None = None) -> Result:
    """:func:`encode` (a problem name with ``data``) or :func:`as_encoded` (anything else), then :func:`run`."""
    if isinstance(problem, str):
        enc = encode(problem, data, options)
        return run(enc, spec, file=data if isinstance(data, (str, Path)) else None)
    if data is not None:
        raise CimsimError("with a model, an Encoded or a BQM the second argument is the solver name")
    if options:
        raise CimsimError("options= are encoder options; they apply to a problem name with a file or graph")
    return run(as_encoded(problem), spec)


# ------------------------------------------------------------------------------------------- record
def gap(result: Result, target: float) -> float:
    """Relative gap of ``result.objective`` to a known optimum ``target`` (positive: worse than the target),
    in the problem's sense (``extra["sense"]``: ``max`` or ``min``)."""
    t = finite_float(target, "target")
    denom = abs(t) if t != 0 else 1.0
    obj = float(result.objective if result.objective is not None else result.energy)
    return (t - obj) / denom if result.extra.get("sense") == "max" else (obj - t) / denom


def record(result: Result, *, target: float | None = None) -> dict:
    """The JSON-ready record of ``result`` (what ``cimsim solve --json`` writes).

    Keys: ``problem``, ``file``, ``solver``, ``n_spins``, ``energy``, ``objective``, ``objective_name``,
    ``sense``, ``feasible``, the decoded answer's keys (``cut``, ``partition``, ...), ``spins``,
    ``time_s``, ``seed``, ``replicas``, ``steps``, ``batches``, ``batch_steps``, ``steps_total``,
    ``interrupted``, ``settings``, ``encoding``; with a ``target``: ``target``, ``gap``, ``reached`` and
    ``stopped_at_target``; for solvers that bound the ground energy: ``energy_lower_bound`` and
    ``proven_optimal``; for ``--solver auto``: ``auto`` (the solver picked, the reason, the graph features).

    ``steps`` is the steps per replica of the batch that found the answer (the settings describe the
    same run), ``batch_steps`` those of every batch and ``steps_total`` their sum. ``interrupted`` is true
    when Ctrl-C ended the run: the record is then the best answer found until then, as complete as any
    other (energy recomputed from its spins, decoded answer, the batches completed).
    """
    x = result.extra
    batch_steps = [int(v) for v in x.get("batch_steps", [result.steps] * result.batches)]
    best_batch = int(x.get("best_batch", len(batch_steps) - 1))
    steps = batch_steps[best_batch] if 0 <= best_batch < len(batch_steps) else result.steps
    out: dict[str, Any] = {
        "problem": x.get("problem", "ising"),
        "file": x.get("file"),
        "solver": result.solver,
        "n_spins": result.n_spins,
        "energy": result.energy,
        "objective": result.objective if result.objective is not None else result.energy,
        "objective_name": x.get("objective_name", "energy"),
        "sense": x.get("sense", "min"),
        "feasible": result.feasible if result.feasible is not None else True,
        **result.answer,
        "spins": [int(v) for v in result.spins],
        "time_s": result.time_s,
        "seed": result.seed,
        "replicas": result.replicas,
        "steps": steps,
        "batches": result.batches,
        "batch_steps": batch_steps,
        "steps_total": int(sum(batch_steps)),
        "interrupted": bool(x.get("interrupted", False)),
        "settings": result.settings,
        "encoding": x.get("encoding", {}),
    }
    if target is not None:
        out["target"] = finite_float(target, "target")
        out["gap"] = gap(result, target)
        out["reached"] = reaches(out["sense"], float(out["objective"]), result.feasible, target)
        out["stopped_at_target"] = bool(x.get("stopped_early", False))
    if "auto" in x:
        out["auto"] = x["auto"]
    if "lower_bound" in x:
        out["energy_lower_bound"] = float(x["lower_bound"])
        out["proven_optimal"] = bool(x.get("proven_optimal", False))
    return to_jsonable(out)
