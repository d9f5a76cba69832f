"""Annealing studies: success probability, time to solution (TTS) with bootstrap intervals, and the runner
behind ``cimsim anneal``.

Time to solution (physics.md 4.9)::

    TTS(P) = T_run ln(1 - P) / ln(1 - p)    for p < P,    TTS = T_run for p >= P,    TTS = inf for p = 0

with ``P = 0.99`` by default, ``p`` the fraction of independent runs that reach the target energy and
``T_run`` the cost of one run. Two costs are reported: wall seconds per run (the chunk's wall time divided
by the runs it held: replicas run vectorised, so this is the amortised cost) and steps per run (one step is
one coupling matrix-vector product for the CIM-type solvers, one sweep for SA): hardware independent.

Bootstrap. The runs of one setting are resampled with replacement ``n_boot`` times. Resampling ``R``
independent 0/1 outcomes with ``k`` successes gives ``Binomial(R, k/R)`` successes, so that is drawn
directly (same distribution, no R x n_boot array). The interval is the percentile interval of the
resampled ``p`` (``inverted_cdf`` quantiles, no interpolation), mapped through the decreasing TTS(p).

Study runner. :func:`run_anneal_study` splits every setting (one point of the cartesian product of the
swept parameters) into chunks of at most ``chunk`` runs; each chunk is one task of
:func:`cimsim.sweep.run_sweep` (one ``solve`` call with ``replicas = runs in the chunk``), so studies run
serially, on a local dask cluster or on a remote one, and resume from their store.
"""
from __future__ import annotations

import contextlib
import hashlib
import itertools
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .errors import CimsimError, finite_float, positive_int
from .model import IsingModel
from .sweep import SweepOutcome, run_sweep, task_key, task_seed

__all__ = [
    "tts",
    "bootstrap_ci",
    "success_stats",
    "energy_stats",
    "InstanceSpec",
    "AnnealTask",
    "parse_sweep",
    "settings_grid",
    "StudyResult",
    "prepare_study",
    "run_anneal_study",
    "QUANTILES",
]

#: Quantiles of the final-energy distribution reported for every setting.
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


# ---------------------------------------------------------------------------------------------- TTS


def tts(p: float | np.ndarray, t_run: float | np.ndarray, target: float = 0.99) -> float | np.ndarray:
    """Time to solution with probability ``target``: ``t_run ln(1 - target) / ln(1 - p)``.

    ``p = 0`` gives ``inf``; ``p >= target`` gives ``t_run`` (one run suffices). Arrays broadcast.
    """
    if not 0.0 < target < 1.0:
        raise CimsimError(f"TTS target probability must lie in (0, 1), got {target!r}")
    p_arr = np.asarray(p, dtype=np.float64)
    t_arr = np.asarray(t_run, dtype=np.float64)
    if np.any((p_arr < 0) | (p_arr > 1) | np.isnan(p_arr)):
        raise CimsimError("success probabilities must lie in [0, 1]")
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.log1p(-target) / np.log1p(-np.minimum(p_arr, target))
    ratio = np.where(p_arr <= 0, np.inf, np.where(p_arr >= target, 1.0, ratio))
    out = t_arr * ratio
    return float(out) if out.ndim == 0 else out


def bootstrap_ci(
    successes: int,
    runs: int,
    *,
    n_boot: int = 2000,
    level: float = 0.95,
    rng: np.random.Generator | int | None = None,
) -> tuple[float, float]:
    """Percentile bootstrap interval of the success probability ``successes / runs``.

    Returns ``(p_lo, p_hi)``; ``tts(p_hi, T)`` and ``tts(p_lo, T)`` bound the TTS (TTS decreases with p).
    Seeded by ``rng``. The interval always contains ``successes / runs`` in practice (the median of
    ``Binomial(R, k/R)`` is ``k``).
    """
    runs = positive_int(runs, "runs")
    successes = int(successes)
    if not 0 <= successes <= runs:
        raise CimsimError(f"successes must lie in 0..{runs}, got {successes}")
    n_boot = positive_int(n_boot, "bootstrap samples")
    if not 0.0 < level < 1.0:
        raise CimsimError(f"confidence level must lie in (0, 1), got {level!r}")
    rng = np.random.default_rng(rng)
    p_star = rng.binomial(runs, successes / runs, size=n_boot) / runs
    alpha = (1.0 - level) / 2.0
    lo, hi = np.quantile(p_star, [alpha, 1.0 - alpha], method="inverted_cdf")
    return float(lo), float(hi)


def success_stats(
    successes: int,
    runs: int,
    t_run: float,
    *,
    target: float = 0.99,
    n_boot: int = 2000,
    level: float = 0.95,
    rng: np.random.Generator | int | None = None,
) -> dict:
    """``p``, its bootstrap interval, and ``tts``/``tts_lo``/``tts_hi`` for one cost ``t_run``."""
    p = successes / positive_int(runs, "runs")
    p_lo, p_hi = bootstrap_ci(successes, runs, n_boot=n_boot, level=level, rng=rng)
    return {
        "p": p,
        "p_lo": p_lo,
        "p_hi": p_hi,
        "tts": tts(p, t_run, target),
        "tts_lo": tts(p_hi, t_run, target),
        "tts_hi": tts(p_lo, t_run, target),
    }


def energy_stats(energies: np.ndarray, prefix: str = "energy") -> dict:
    """Mean, std, min, max and :data:`QUANTILES` of a sample (float64)."""
    e = np.asarray(energies, dtype=np.float64)
    out = {
        f"{prefix}_mean": float(e.mean()),
        f"{prefix}_std": float(e.std(ddof=1)) if e.size > 1 else 0.0,
        f"{prefix}_min": float(e.min()),
        f"{prefix}_max": float(e.max()),
    }
    for q, v in zip(QUANTILES, np.quantile(e, QUANTILES)):
        out[f"{prefix}_q{int(round(q * 100)):02d}"] = float(v)
    return out


# ------------------------------------------------------------------------------------------ instances

_MODEL_CACHE: dict[str, tuple[IsingModel, dict]] = {}
_MODEL_CACHE_SIZE = 4


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:12]


@dataclass(frozen=True)
class InstanceSpec:
    """Which instance a study runs on, small enough to ship to every worker.

    kind : {"sk", "maxcut", "ising"}
    path : file for maxcut (Gset/rudy) and ising (.npz/.mtx); absolute, so workers sharing the file
        system find it
    n, instance_seed : SK size and generator seed (Gaussian couplings, :func:`cimsim.instances.sk_model`)
    digest : first 12 hex digits of the file's SHA-256 (part of every task key: a changed file is a new study)
    """

    kind: str
    path: str | None = None
    n: int | None = None
    instance_seed: int | None = None
    digest: str | None = None

    @classmethod
    def sk(cls, n: int, instance_seed: int) -> "InstanceSpec":
        n = positive_int(n, "--sk N")
        if n < 2:
            raise CimsimError(f"an SK instance needs N >= 2, got {n}")
        if isinstance(instance_seed, bool) or not isinstance(instance_seed, int) or instance_seed < 0:
            raise CimsimError(f"--instance-seed must be a non-negative integer, got {instance_seed!r}"[:200])
        return cls("sk", n=n, instance_seed=int(instance_seed))

    @classmethod
    def from_file(cls, kind: str, path: str | Path) -> "InstanceSpec":
        if kind not in ("maxcut", "ising"):
            raise CimsimError(f"anneal supports the problems maxcut and ising, got {kind!r}")
        p = Path(path)
        if not p.is_file():
            raise CimsimError(f"{p}: no such file")
        return cls(kind, path=str(p.resolve()), digest=_file_digest(p))

    @property
    def ident(self) -> str:
        """Short identity string used in task keys and reports."""
        if self.kind == "sk":
            return f"sk:n={self.n}:seed={self.instance_seed}"
        return f"{self.kind}:{Path(self.path).name}:{self.digest}"

    def load(self) -> tuple[IsingModel, dict]:
        """``(model, info)``, cached per process. ``info``: sense, objective name, affine energy<->objective map."""
        hit = _MODEL_CACHE.get(self.ident)
        if hit is not None:
            return hit
        if self.kind == "sk":
            from .instances import sk_model

            model = sk_model(self.n, self.instance_seed)
            info = {"sense": "min", "objective_name": "energy", "obj_scale": 1.0, "obj_shift": 0.0}
        else:
            from .encoders import get_problem

            enc = get_problem(self.kind).from_file(self.path)
            model = enc.model
            if self.kind == "maxcut":
                # cut = (W_tot - H) / 2 (physics.md 5.2)
                info = {"sense": "max", "objective_name": "cut", "obj_scale": -0.5,
                        "obj_shift": 0.5 * float(enc.info["total_weight"])}
            else:
                info = {"sense": "min", "objective_name": "energy", "obj_scale": 1.0, "obj_shift": 0.0}
        while len(_MODEL_CACHE) >= _MODEL_CACHE_SIZE:  # long-lived workers serve many studies
            _MODEL_CACHE.pop(next(iter(_MODEL_CACHE)))
        _MODEL_CACHE[self.ident] = (model, info)
        return model, info


def _objective(info: dict, energy: float | np.ndarray) -> float | np.ndarray:
    return info["obj_shift"] + info["obj_scale"] * np.asarray(energy, dtype=np.float64)


def _energy_of_objective(info: dict, objective: float) -> float:
    return (objective - info["obj_shift"]) / info["obj_scale"]


def known_optimum(spec: InstanceSpec, model: IsingModel, info: dict) -> tuple[float, str] | None:
    """``(target energy, source)`` when the optimum is known: best_known.csv next to a Gset file, or exact
    enumeration for N <= 20."""
    if spec.kind == "maxcut" and spec.path:
        table = Path(spec.path).parent / "best_known.csv"
        if table.is_file():
            import csv

            stem = Path(spec.path).stem
            with open(table, newline="", encoding="utf-8") as fh:
                for row in csv.DictReader(fh):
                    if row.get("instance") == stem and row.get("best_known_cut"):
                        cut = float(row["best_known_cut"])
                        return _energy_of_objective(info, cut), f"best known cut {cut:g} ({table.name})"
    if model.n <= 20:
        from .solvers import solve

        res = solve(model, "exact", seed=0, polish_result=False)
        return float(res.energy), "exact ground state (enumeration)"
    return None


# ------------------------------------------------------------------------------------------ the task


@dataclass(frozen=True)
class AnnealTask:
    """Sweep function of one chunk: ``solve`` with ``replicas`` runs; returns every run's final energy.

    Task parameters: ``instance`` (ident), ``solver``, ``polish``, ``steps``, ``replicas``, ``chunk`` and
    the solver parameters of the setting.
    """

    instance: InstanceSpec

    def __call__(self, params: dict, ss: np.random.SeedSequence) -> dict:
        from .solvers import solve

        model, _ = self.instance.load()
        p = dict(params)
        if p.pop("instance") != self.instance.ident:
            raise CimsimError("task belongs to another instance")
        solver, polish = p.pop("solver"), bool(p.pop("polish"))
        steps, replicas = int(p.pop("steps")), int(p.pop("replicas"))
        p.pop("chunk")
        with single_thread():
            _warm_up(model, self.instance.ident, solver, polish, steps, p)
            rng = np.random.default_rng(ss)
            t0 = time.perf_counter()
            # a study measures the solver on the instance as given: presolve only when swept/asked for
            res = solve(model, solver, replicas=replicas, steps=steps, rng=rng, polish_result=polish,
                        **{"presolve": False, **p})
            wall = time.perf_counter() - t0
        energies = np.asarray(res.energies, dtype=np.float64)
        if energies.shape != (replicas,):
            raise RuntimeError(f"solver {solver} returned {energies.shape[0]} energies for {replicas} replicas")
        out = {"energies": energies.tolist(), "wall_s": wall, "steps_taken": int(res.steps)}
        # machine solvers (dopo, mfb) also count a run in round trips and, given rep_rate, machine seconds
        for key in ("round_trips", "machine_time_s"):
            if res.extra.get(key) is not None:
                out[key] = float(res.extra[key])
        return out


_WARM: set = set()


@contextlib.contextmanager
def single_thread():
    """Run the enclosed code on one core: BLAS (via threadpoolctl) and numba limited to one thread, restored
    afterwards.

    A study gets its parallelism from running tasks side by side (dask workers), so every task is timed
    on one core whether it runs in this process or on a worker. Without the limit, small matrix products
    in multi-threaded OpenBLAS on a busy machine were measured ~100x slower (32 x 64 by 64 x 64 products,
    load average 18 on 2 cores), which made serial and distributed wall times incomparable.
    """
    import numba
    from threadpoolctl import threadpool_limits

    restore = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        numba.set_num_threads(restore)


def _warm_up(model: IsingModel, ident: str, solver: str, polish: bool, steps: int, params: dict) -> None:
    """One tiny run per process and solver so compile and cache-load time is not billed to the first chunk."""
    key = (ident, solver, polish)
    if key in _WARM:
        return
    from .solvers import solve

    solve(model, solver, replicas=1, steps=min(steps, 2), seed=0, polish_result=polish, **{"presolve": False, **params})
    _WARM.add(key)


# ------------------------------------------------------------------------------------------ settings


def _split_values(key: str, text: str) -> list[str]:
    if ";" in text:
        parts = text.split(";")
    elif key == "schedule":  # specs contain commas; repeat --sweep schedule=... or separate with ';'
        parts = [text]
    else:
        parts = text.split(",")
    parts = [t.strip() for t in parts]
    if not parts or any(not t for t in parts):
        raise CimsimError(f"--sweep {key}=...: empty value in {text!r}")
    return parts


def parse_sweep(items: Sequence[str]) -> dict[str, list]:
    """``["steps=100,300", "noise=0;0.05", "schedule=linear:-2,0.2", "schedule=exp:-2,0.2"]`` ->
    ``{"steps": [100, 300], "noise": [0, 0.05], "schedule": ["linear:-2,0.2", "exp:-2,0.2"]}``.

    Values are separated by ``,`` (or ``;`` when any is present; schedules always need ``;`` or one
    ``--sweep`` per value); repeating a key appends values. Duplicated values are refused.
    """
    from .cli.common import parse_value, split_assignment

    out: dict[str, list] = {}
    for item in items:
        key, text = split_assignment(item, "--sweep", "KEY=V1,V2,...")
        if key in ("replicas", "runs", "seed", "solver"):
            raise CimsimError(f"--sweep: {key} cannot be swept (use --runs / --seed / separate studies)")
        values = [parse_value(v) for v in _split_values(key, text)]
        out.setdefault(key, []).extend(values)
        if len({repr(v) for v in out[key]}) != len(out[key]):
            raise CimsimError(f"--sweep {key}: duplicated value")
    return out


def settings_grid(sweeps: dict[str, list]) -> list[dict]:
    """Cartesian product of the swept values, first key varying slowest."""
    if not sweeps:
        return [{}]
    keys = list(sweeps)
    for k in keys:
        if not sweeps[k]:
            raise CimsimError(f"--sweep {k}: no values")
    return [dict(zip(keys, combo)) for combo in itertools.product(*(sweeps[k] for k in keys))]


def _normalise_schedule(value: Any) -> Any:
    """Check a schedule up front (finite, parseable); .json files are inlined so task keys follow content."""
    from .schedules import parse_schedule

    sched = parse_schedule(value)
    vals = np.asarray(sched.values(257), dtype=np.float64)
    if not np.all(np.isfinite(vals)):
        raise CimsimError(f"schedule {value!r} is not finite on [0, 1]")
    if isinstance(value, str) and (value.lower().endswith(".json") or Path(value).is_file()):
        return sched.to_dict()
    return value


# ------------------------------------------------------------------------------------------ the study


@dataclass
class StudyResult:
    """Everything ``cimsim anneal`` writes. ``rows``: one dict per setting (the CSV rows)."""

    instance: dict
    solver: str
    swept: list[str]
    fixed: dict
    runs: int
    chunk: int
    seed: int
    polish: bool
    target_energy: float | None
    target_objective: float | None
    target_source: str
    tts_target: float
    ci_level: float
    n_boot: int
    rows: list[dict]
    sweep: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.sweep.get("failed", 0) == 0

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class PreparedStudy:
    spec: InstanceSpec
    model: IsingModel
    info: dict
    solver: str
    settings: list[dict]
    fixed: dict
    steps_default: int
    runs: int
    chunk: int
    polish: bool
    tasks: list[dict]


#: the most tasks one study may have
MAX_STUDY_TASKS = 10**6


def prepare_study(
    spec: InstanceSpec,
    *,
    solver: str = "cim",
    sweeps: dict[str, list] | None = None,
    fixed: dict | None = None,
    runs: int = 100,
    chunk: int = 50,
    polish: bool = True,
    validate: bool = True,
) -> PreparedStudy:
    """Validate everything and build the task list; raises :class:`CimsimError` before any real work.

    Every setting is tried once with one replica and at most 2 steps, so that unknown or impossible solver
    parameters are refused by the solver itself before the study starts.
    """
    from .memory import _short, check_batch_fits
    from .solvers import SOLVERS, get_solver, solve
    from .solvers.driver import MAX_STEPS

    if solver not in SOLVERS or solver in ("exact", "matching"):
        choices = ", ".join(s for s in SOLVERS if s not in ("exact", "matching"))
        raise CimsimError(f"unknown or unsuitable solver {solver!r} for a study; choose one of {choices}")
    module = get_solver(solver)
    runs = positive_int(runs, "--runs")
    chunk = positive_int(chunk, "--chunk")
    sweeps = dict(sweeps or {})
    fixed = dict(fixed or {})
    for k in list(fixed):
        if k in sweeps:
            raise CimsimError(f"parameter {k} is both fixed and swept")
    for bad in ("replicas", "seed", "rng", "backend", "time_limit", "polish_result"):
        if bad in fixed:
            raise CimsimError(f"-p {bad}=... is not a solver parameter here (use the study's own options)")
    settings = settings_grid(sweeps)
    model, info = spec.load()
    steps_default = int(module.defaults(model)["steps"])
    full: list[dict] = []
    for s in settings:
        merged = {**fixed, **s}
        merged["steps"] = positive_int(merged.get("steps", steps_default), "steps")
        if merged["steps"] > MAX_STEPS:  # the trial solve below runs 2 steps: refuse here, not in every task
            raise CimsimError(f"steps must be at most 2**40 = {MAX_STEPS}, got {_short(merged['steps'])}")
        for k, v in list(merged.items()):
            if isinstance(v, float) and not math.isfinite(v):
                raise CimsimError(f"parameter {k} must be finite, got {v!r}")
            if k == "schedule":
                merged[k] = _normalise_schedule(v)
        full.append(merged)
    if validate:
        for merged in full:
            p = dict(merged)
            steps = p.pop("steps")
            solve(model, solver, replicas=1, steps=min(steps, 2), seed=0, polish_result=False, **{"presolve": False, **p})
    n_tasks = len(full) * -(-runs // chunk)
    if n_tasks > MAX_STUDY_TASKS:  # --runs 10**400 built its task list for ever
        raise CimsimError(f"{_short(n_tasks)} tasks (settings x runs / chunk); at most {MAX_STUDY_TASKS}: "
                          "raise --chunk or lower --runs")
    check_batch_fits(min(chunk, runs), model.n, arrays=1, itemsize=1, what="spins of one task")
    tasks: list[dict] = []
    for merged in full:
        for c, start in enumerate(range(0, runs, chunk)):
            tasks.append({"instance": spec.ident, "solver": solver, "polish": bool(polish), **merged,
                          "replicas": min(chunk, runs - start), "chunk": c})
    return PreparedStudy(spec, model, info, solver, settings, fixed, steps_default, runs, chunk, bool(polish), tasks)


def run_anneal_study(
    prepared: PreparedStudy,
    *,
    seed: int = 0,
    target_energy: float | None = None,
    target_objective: float | None = None,
    tts_target: float = 0.99,
    n_boot: int = 2000,
    ci_level: float = 0.95,
    out_dir: str | Path | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    progress: bool = False,
    client: Any = None,
    sweep_runner: Any = None,
) -> tuple[StudyResult, SweepOutcome]:
    """Run the study's tasks through the sweep engine and summarise every setting.

    The target is, in order: ``target_energy``; ``target_objective`` converted to an energy (maxcut:
    ``H = W_tot - 2 cut``); the known optimum (:func:`known_optimum`); otherwise the lowest energy seen
    in the whole study (``target_source`` says which). A run succeeds when its final energy is within
    ``1e-9 max(1, |E_target|)`` of the target or below.
    """
    P = prepared
    if not 0.0 < tts_target < 1.0:
        raise CimsimError(f"TTS probability must lie in (0, 1), got {tts_target!r}")
    if not 0.0 < ci_level < 1.0:
        raise CimsimError(f"confidence level must lie in (0, 1), got {ci_level!r}")
    n_boot = positive_int(n_boot, "--bootstrap")
    target_energy, target_source = _given_or_known_target(P, target_energy, target_objective)
    fn = AnnealTask(P.spec)
    if sweep_runner is not None:
        outcome = sweep_runner(P.tasks, fn)
    else:
        outcome = run_sweep(P.tasks, fn, seed=seed, out_dir=out_dir, progress=progress, desc="anneal",
                            scheduler=scheduler, workers=workers, client=client)
    notes: list[str] = []
    if target_energy is None:
        all_e = [e for r in outcome.rows for e in r["energies"]]
        if not all_e:
            raise CimsimError("no run finished, so there is no target to score against")
        target_energy = float(min(all_e))
        target_source = "best energy seen in this study (no target given or known)"
        notes.append("target is the best energy seen across the study, not a known optimum")
    by_setting: dict[str, list[dict]] = {}
    for r in outcome.rows:
        by_setting.setdefault(_setting_key(r), []).append(r)
    scoring = _Scoring(target_energy, tts_target, n_boot, ci_level, seed)
    rows = []
    for i in range(len(P.settings)):
        first = P.tasks[i * _chunks(P)]
        rows.append(_setting_row(P, i, first, by_setting.get(_setting_key(first), []), scoring))
    if outcome.failed:
        notes.append(f"{len(outcome.failed)} task(s) failed; p and TTS use the runs that finished")
    inst = {"kind": P.spec.kind, "ident": P.spec.ident, "n_spins": P.model.n, "path": P.spec.path,
            "n": P.spec.n, "instance_seed": P.spec.instance_seed, "sense": P.info["sense"],
            "objective_name": P.info["objective_name"]}
    result = StudyResult(
        instance=inst, solver=P.solver, swept=list(P.settings[0].keys()), fixed=P.fixed, runs=P.runs, chunk=P.chunk,
        seed=int(seed), polish=P.polish, target_energy=float(target_energy),
        target_objective=float(_objective(P.info, target_energy)), target_source=target_source,
        tts_target=tts_target, ci_level=ci_level, n_boot=n_boot, rows=rows,
        sweep={"tasks": outcome.total, "done": outcome.done, "reused": outcome.reused, "failed": len(outcome.failed),
               "mode": outcome.mode, "failures": [{"task_key": f["task_key"], "error": f["error"]} for f in outcome.failed]},
        notes=notes,
    )
    return result, outcome


def _given_or_known_target(P: PreparedStudy, target_energy: float | None,
                           target_objective: float | None) -> tuple[float | None, str]:
    """``(energy, source)`` from the arguments or the known optimum; ``(None, "")`` when neither gives one."""
    if target_energy is not None:
        return finite_float(target_energy, "--target-energy"), "given energy"
    if target_objective is not None:
        target_objective = finite_float(target_objective, "--target")
        return _energy_of_objective(P.info, target_objective), f"given {P.info['objective_name']}"
    found = known_optimum(P.spec, P.model, P.info)
    return found if found is not None else (None, "")


@dataclass(frozen=True)
class _Scoring:
    """How the runs of a setting are scored: success within ``1e-9 max(1, |E_target|)`` of the target."""

    target_energy: float
    tts_target: float
    n_boot: int
    ci_level: float
    seed: int

    @property
    def tol(self) -> float:
        return 1e-9 * max(1.0, abs(self.target_energy))


def _setting_row(P: PreparedStudy, i: int, first_task: dict, chunks: list[dict], sc: _Scoring) -> dict:
    """The CSV row of setting ``i`` from the rows of its finished chunks."""
    merged = {k: v for k, v in first_task.items() if k not in ("instance", "solver", "polish", "replicas", "chunk")}
    e = np.array([x for r in sorted(chunks, key=lambda r: r["chunk"]) for x in r["energies"]], dtype=np.float64)
    row: dict[str, Any] = {"setting": i}
    for k in P.settings[0]:
        row[k] = merged[k]
    row["steps"] = merged["steps"]
    row["runs"] = int(e.size)
    row["runs_requested"] = P.runs
    if e.size == 0:
        row["status"] = "failed"
        return row
    wall = float(sum(r["wall_s"] for r in chunks))
    t_run = wall / e.size
    k_succ = int(np.count_nonzero(e <= sc.target_energy + sc.tol))
    rng = np.random.default_rng(task_seed(sc.seed, task_key({"bootstrap": merged})))
    st = success_stats(k_succ, int(e.size), 1.0, target=sc.tts_target, n_boot=sc.n_boot, level=sc.ci_level, rng=rng)
    row["status"] = "ok" if e.size == P.runs else "partial"
    row["successes"] = k_succ
    row["p_success"] = st["p"]
    row["p_lo"], row["p_hi"] = st["p_lo"], st["p_hi"]
    row["t_run_s"] = t_run
    row["tts_s"], row["tts_s_lo"], row["tts_s_hi"] = (st["tts"] * t_run, st["tts_lo"] * t_run, st["tts_hi"] * t_run)
    # the cost of a run is the steps the solver really took (a staircase schedule sets its own count)
    steps = float(np.mean([r["steps_taken"] for r in chunks]))
    row["steps_taken"] = int(steps) if float(steps).is_integer() else steps
    row["tts_steps"], row["tts_steps_lo"], row["tts_steps_hi"] = (st["tts"] * steps, st["tts_lo"] * steps,
                                                                  st["tts_hi"] * steps)
    # hardware time (physics.md 8.5): TTS in round trips and in seconds of the modelled machine (mfb with
    # rep_rate); a run's cost is its round trips / machine seconds, as steps are for the steps TTS
    for key, col in (("round_trips", "round_trips"), ("machine_time_s", "machine_s")):
        vals = [r.get(key) for r in chunks]
        if vals and all(v is not None for v in vals):
            t = float(np.mean(vals))
            row["t_run_machine_s" if col == "machine_s" else "round_trips"] = t
            row[f"tts_{col}"], row[f"tts_{col}_lo"], row[f"tts_{col}_hi"] = (st["tts"] * t, st["tts_lo"] * t,
                                                                             st["tts_hi"] * t)
    row["wall_s"] = wall
    row["cost_steps_x_runs"] = float(sum(r["steps_taken"] * len(r["energies"]) for r in chunks))
    row.update(energy_stats(e))
    if P.info["objective_name"] != "energy":
        obj = _objective(P.info, e)
        row[f"{P.info['objective_name']}_best"] = float(obj.max() if P.info["sense"] == "max" else obj.min())
        row[f"{P.info['objective_name']}_mean"] = float(obj.mean())
    return row


def _chunks(P: PreparedStudy) -> int:
    return -(-P.runs // P.chunk)


def _setting_key(task: dict) -> str:
    return task_key({k: v for k, v in task.items()
                     if k not in ("replicas", "chunk", "energies", "wall_s", "steps_taken", "task_key",
                                  "round_trips", "machine_time_s")})
