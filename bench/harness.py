"""The benchmark loop: every instance x solver x budget, repeated with seeds 0..repeats-1.

Objectives and energies are always recomputed here from the spins a solver returns, with cimsim's
model (``Instance.objective``); nothing a solver reports about its own energy is used.

Metrics per row (one row per instance x solver x budget, never dropped; a solver or instance that
cannot run gets a row whose ``status`` says why):

* best / median objective over repeats, their ratio to the best known value;
* ``hits``: repeats reaching the best known value (Gset cut, all SAT clauses);
* ``tts99_s``: time to solution at 99 % (physics.md 4.9) with one budgeted call as the run:
  ``T * ln(0.01) / ln(1 - P_s)``, T the mean wall time of a call, P_s = hits / repeats;
* ``tts99_batch_s``: the same with one batch (one call of the solver's replicas, or of a peer's reads)
  as the run, where per-batch energies are known and the target is an energy (Gset);
* spin updates per second (replicas x spins x steps / wall time, compile and polish time included for
  cimsim) and its fraction of this machine's bound (``bench.bounds``) measured in the same run.

Execution: every budgeted call (instance x solver-or-peer x budget x seed) is one task of a
:func:`cimsim.sweep.run_sweep` sweep (:func:`run_bench_sweep`), stored at once under ``out_dir/tasks``
so an interrupted run resumes and a finished one re-run computes nothing; the rows above are computed
from the stored per-call results.
"""
from __future__ import annotations

import contextlib
import csv
import json
import math
import os
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np
import scipy.sparse as sp

import cimsim
from cimsim import CimsimError, IsingModel
from cimsim.solvers import get_solver
from cimsim.sweep import SweepOutcome, run_sweep, write_table_csv

from . import bounds
from .instances import Instance, load_instance
from .peers import PEERS, get_peer, run_peer

__all__ = ["CIMSIM_SOLVERS", "Row", "run_bench", "run_bench_sweep", "BenchRun", "BenchTask", "unpack_spins",
           "machine_line", "write_csv", "write_markdown", "tts99", "DENSE_PEER_MAX_N"]

#: label -> (cimsim solver name, extra parameters)
CIMSIM_SOLVERS: dict[str, tuple[str, dict]] = {
    "cim": ("cim", {}),
    "sa": ("sa", {}),
    "tabu": ("tabu", {}),
    # what `cimsim solve` runs by default: matching on field-free 2-D lattices (Gset's toroidal graphs),
    # exact for N <= 20, sa otherwise
    "auto": ("auto", {}),
    "sb-dsb": ("sb", {"variant": "dsb"}),
    "cac": ("cac", {}),
    "ahc": ("ahc", {}),
    "adiabatic": ("adiabatic", {}),
}

#: after a first call longer than this many budgets, the other repeats of that row are not run
OVERRUN_FACTOR = 5.0

#: peers that only take a dense matrix are skipped above this many spins (memory on a shared machine)
DENSE_PEER_MAX_N = 12000
DENSE_ONLY_PEERS = {"sb_torch", "cim_optimizer_cac"}


@dataclass
class Row:
    """One line of the results table (JSON/CSV-able)."""

    instance: str
    kind: str
    n: int
    nnz: int
    solver: str
    family: str
    budget_s: float
    repeats: int = 0
    status: str = "ok"
    best_obj: float = math.nan
    median_obj: float = math.nan
    best_known: float = math.nan
    ratio_best: float = math.nan
    ratio_median: float = math.nan
    best_energy: float = math.nan
    hits: int = 0
    p_success: float = math.nan
    tts99_s: float = math.nan
    tts99_batch_s: float = math.nan
    elapsed_mean_s: float = math.nan
    batches_mean: float = math.nan
    replicas: int = 0
    updates_per_s: float = math.nan
    bound_kind: str = ""
    bound_updates_per_s: float = math.nan
    bound_f32_updates_per_s: float = math.nan
    frac_of_bound: float = math.nan
    vs_peers: str = ""
    note: str = ""


def tts99(t_run: float, p_success: float, target: float = 0.99) -> float:
    """TTS(P) = T ln(1 - P) / ln(1 - P_s), T if P_s >= P, inf if P_s == 0 (physics.md 4.9)."""
    if not (p_success > 0):
        return math.inf
    if p_success >= target:
        return float(t_run)
    return float(t_run * math.log(1 - target) / math.log(1 - p_success))


@dataclass
class _Repeat:
    """One budgeted call, scored (objective and energy recomputed from its spins with cimsim's model)."""

    objective: float
    energy: float
    elapsed: float
    batches: int
    updates: float
    replicas: int
    batch_energies: np.ndarray  # best energy of each batch
    note: str = ""


def _run_cimsim(label: str, model: IsingModel, budget: float, seed: int) -> tuple[np.ndarray, dict]:
    """One ``cimsim.solve`` call at ``budget``: (spins (N,), call statistics)."""
    name, params = CIMSIM_SOLVERS[label]
    res = cimsim.solve(model, name, time_limit=budget, seed=seed, **params)
    E = np.asarray(res.energies, dtype=np.float64)
    per_batch = E.reshape(res.batches, -1).min(axis=1) if E.size == res.batches * res.replicas else E[:1]
    # spin updates actually made: batches may differ in length (budget fitting), and with presolve the
    # solver worked on the reduced model
    n_work = int(res.settings.get("presolve", {}).get("reduced_n", model.n)) if isinstance(res.settings, dict) else model.n
    steps_done = sum(res.extra.get("batch_steps", [])) or res.steps * res.batches
    updates = float(res.replicas) * n_work * steps_done
    return np.asarray(res.spins), dict(elapsed_s=float(res.time_s), batches=int(res.batches), updates=updates,
                                       replicas=int(res.replicas), batch_energies=per_batch, setup_s=0.0)


def _run_peer_call(name: str, inst: Instance, budget: float, seed: int) -> tuple[np.ndarray, dict]:
    """One peer call at ``budget`` (format conversion done once per instance and process, not timed)."""
    model = inst.model
    key = (inst.name, name)
    if key not in _PREPARED:
        if any(k[0] != inst.name for k in _PREPARED):
            _PREPARED.clear()  # one instance's conversions at a time (dense peers hold an N x N copy)
        t = time.perf_counter()
        _PREPARED[key] = (get_peer(name).prepare(model), time.perf_counter() - t)
    prep, setup = _PREPARED[key]
    pr = run_peer(name, model, budget, seed, prepared=prep, setup_s=setup)
    E = model.energies(pr.batch_spins)
    k = int(np.argmin(E))
    return pr.batch_spins[k], dict(elapsed_s=float(pr.elapsed_s), batches=int(pr.batches),
                                   updates=float(pr.spin_updates), replicas=int(pr.replicas), batch_energies=E,
                                   setup_s=float(setup))


def _cimsim_unavailable(label: str) -> str | None:
    try:
        name = CIMSIM_SOLVERS[label][0]
        get_solver("sa" if name == "auto" else name)
    except CimsimError as exc:
        return str(exc)
    except Exception as exc:  # a module being written that fails to import
        return f"import error: {type(exc).__name__}: {exc}"
    return None


def _warm_model(sparse: bool) -> IsingModel:
    rng = np.random.default_rng(0)
    A = rng.standard_normal((24, 24))
    J = (A + A.T) / 2
    np.fill_diagonal(J, 0)
    return IsingModel.from_couplings(J, storage="sparse" if sparse else "dense")


def _warmup_cimsim(label: str) -> str | None:
    """Compile numba kernels on a tiny model so JIT time is not charged to the first budget."""
    name, params = CIMSIM_SOLVERS[label]
    try:
        for sparse in (False, True):
            cimsim.solve(_warm_model(sparse), name, replicas=2, steps=5, seed=0, **params)
        if name in ("auto", "matching"):  # import PyMatching and compile the anneal it may call
            rng = np.random.default_rng(0)
            J = sp.random(36, 36, density=0.0, format="lil")
            for i in range(36):
                r, c = divmod(i, 6)
                for j in (r * 6 + (c + 1) % 6, ((r + 1) % 6) * 6 + c):
                    J[i, j] = J[j, i] = rng.choice([-1.0, 1.0])
            cimsim.solve(IsingModel.from_couplings(sp.csr_matrix(J)), name, replicas=2, steps=5, seed=0, **params)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}".splitlines()[0]
    return None


def _summarise(row: Row, inst: Instance, reps: list[_Repeat]) -> None:
    objs = [r.objective for r in reps]
    energies = [r.energy for r in reps]
    pick = max if inst.sense == "max" else min
    row.repeats = len(reps)
    row.best_obj = float(pick(objs))
    row.median_obj = float(statistics.median(objs))
    row.best_energy = float(min(energies))
    row.ratio_best = inst.ratio(row.best_obj)
    row.ratio_median = inst.ratio(row.median_obj)
    row.elapsed_mean_s = float(np.mean([r.elapsed for r in reps]))
    row.batches_mean = float(np.mean([r.batches for r in reps]))
    row.replicas = int(reps[0].replicas)
    upd = np.array([r.updates for r in reps], dtype=float)
    tot_t = float(sum(r.elapsed for r in reps))
    row.updates_per_s = float(upd.sum() / tot_t) if np.all(np.isfinite(upd)) and tot_t > 0 else math.nan
    if inst.optimum_known:
        row.hits = int(sum(inst.hits(o) for o in objs))
        row.p_success = row.hits / len(reps)
        row.tts99_s = tts99(row.elapsed_mean_s, row.p_success)
        if inst.energy_target is not None:
            be = np.concatenate([np.atleast_1d(r.batch_energies) for r in reps])
            nb = be.size
            if nb == sum(r.batches for r in reps):
                tol = 1e-6 * max(1.0, abs(inst.energy_target))
                p = float(np.mean(be <= inst.energy_target + tol))
                row.tts99_batch_s = tts99(tot_t / nb, p)
    notes = sorted({r.note for r in reps if r.note})
    if row.elapsed_mean_s > BUDGET_SLACK * row.budget_s and not notes:
        notes.append(f"over budget: one batch takes longer than {row.budget_s:g} s")
    row.note = "; ".join(notes)


def _measure_bound(model: IsingModel, replicas: int) -> dict:
    """This machine's throughput bound for ``model`` at ``replicas`` (stored with the row's first call)."""
    if replicas <= 0:
        return {}
    try:
        b = bounds.bound_for(model, replicas)
    except Exception as exc:  # e.g. not enough memory for the matmul probe
        return {"bound_error": type(exc).__name__}
    return {"bound_kind": b.kind, "bound_updates_per_s": b.updates_per_s,
            "bound_f32_updates_per_s": b.updates_per_s_f32}


def _bound(row: Row, stored: dict) -> None:
    """Copy a stored bound measurement into ``row`` and compute the rate's fraction of it."""
    if row.replicas <= 0:
        return
    if "bound_error" in stored:
        row.note = (row.note + "; " if row.note else "") + f"bound not measured ({stored['bound_error']})"
        return
    if "bound_kind" not in stored:
        return
    row.bound_kind = stored["bound_kind"]
    row.bound_updates_per_s = float(stored["bound_updates_per_s"])
    row.bound_f32_updates_per_s = float(stored["bound_f32_updates_per_s"])
    if math.isfinite(row.updates_per_s):
        row.frac_of_bound = row.updates_per_s / row.bound_updates_per_s


def _nnz(model: IsingModel | None) -> int:
    if model is None:
        return 0
    return int(model.J.nnz) if model.is_sparse else int(np.count_nonzero(model.J))


def machine_line(threads: int | None) -> str:
    """This machine's measured bounds, for the table header (same thread cap as the run)."""
    with limit_threads(threads):
        bw = bounds.triad_bandwidth()
        t64 = bounds.matmul_seconds(32, 1000, "float64")
        t32 = bounds.matmul_seconds(32, 1000, "float32")
    gf = lambda t: 2 * 32 * 1000 * 1000 / t / 1e9  # noqa: E731
    return (f"Machine, measured in this run: memory bandwidth (numpy triad/copy) {bw / 1e9:.1f} GB/s; "
            f"(32, 1000) @ (1000, 1000) matmul {gf(t64):.1f} GFLOP/s float64, {gf(t32):.1f} GFLOP/s float32. "
            "Load from other processes is not controlled; see bench/README.md.")


# --------------------------------------------------------------------------------------------------
# the sweep: one task per budgeted call (instance x solver-or-peer x budget x seed)

#: instances handed to run_bench in this process, by name (tasks on other processes load by name)
_INSTANCES: dict[str, Instance] = {}
#: instance loaded by name in this process (one kept at a time)
_LOADED: dict[str, Instance] = {}
#: per-process warm-up outcome of each cimsim solver label / peer (None = ready, else why not)
_WARM: dict[str, str | None] = {}
#: per-process peer format conversions: (instance, peer) -> (prepared input, seconds it took)
_PREPARED: dict[tuple[str, str], tuple[object, float]] = {}


def _instance(name: str) -> Instance:
    if name in _INSTANCES:
        return _INSTANCES[name]
    if name not in _LOADED:
        _LOADED.clear()
        _LOADED[name] = load_instance(name)
    return _LOADED[name]


def _warm(family: str, solver: str) -> None:
    """JIT/lazy-import warm-up once per process, outside any budget; raises if it fails."""
    key = f"{family}:{solver}:{json.dumps(CIMSIM_SOLVERS.get(solver) if family == 'cimsim' else None)}"
    if key not in _WARM:
        if family == "cimsim":
            _WARM[key] = _warmup_cimsim(solver)
        else:
            try:
                get_peer(solver).warmup()
                _WARM[key] = None
            except Exception as exc:
                _WARM[key] = f"{type(exc).__name__}: {exc}".splitlines()[0]
    if _WARM[key] is not None:
        raise RuntimeError(f"warm-up failed: {_WARM[key]}")


def _pack_spins(spins: np.ndarray) -> str:
    """Spins (N,) of +-1 as hex of their packed sign bits (bit 1 = +1), to store every returned state."""
    return np.packbits(np.asarray(spins).reshape(-1) > 0).tobytes().hex()


def unpack_spins(text: str, n: int) -> np.ndarray:
    """Inverse of the stored ``spins_hex`` field: int8 spins (N,) of +-1."""
    bits = np.unpackbits(np.frombuffer(bytes.fromhex(text), dtype=np.uint8))[:n]
    return np.where(bits > 0, 1, -1).astype(np.int8)


@dataclass(frozen=True)
class BenchTask:
    """The sweep function (``run_sweep(tasks, BenchTask(), ...)``): one task = one budgeted call.

    Task parameters (all JSON): ``task`` ("call" or "machine"), ``instance`` (name), ``family``
    ("cimsim" or "peer"), ``solver`` (a :data:`CIMSIM_SOLVERS` label or a peer key), ``config`` (the
    cimsim solver name and parameters, so a changed entry is a new task), ``budget_s``, ``seed``,
    ``threads`` (int or "all"), ``bound`` (measure the throughput bound for this row's replica count).

    Returns the call's objective and energy recomputed from its spins, its wall time, batches, spin
    updates, replicas, per-batch best energies, peer setup time, the spins themselves (``spins_hex``,
    see :func:`unpack_spins`) and, with ``bound``, the bound measurement. The sweep seed is not used:
    seeds are the bench's own 0..repeats-1 so rows compare with earlier runs.
    """

    def __call__(self, params: dict, seed_seq: object = None) -> dict:
        threads = None if params["threads"] == "all" else int(params["threads"])
        if params["task"] == "machine":
            return {"machine": machine_line(threads)}
        inst = _instance(params["instance"])
        if inst.model is None or inst.objective is None:
            raise RuntimeError(f"instance {inst.name} did not load: {inst.status}")
        family, solver = params["family"], params["solver"]
        budget, seed = float(params["budget_s"]), int(params["seed"])
        with limit_threads(threads, torch=family == "peer" and solver in DENSE_ONLY_PEERS):
            _warm(family, solver)
            if family == "cimsim":
                spins, stats = _run_cimsim(solver, inst.model, budget, seed)
            else:
                spins, stats = _run_peer_call(solver, inst, budget, seed)
            out = dict(objective=float(inst.objective(spins)), energy=float(inst.model.energy(spins)), **stats)
            if params.get("bound"):
                out.update(_measure_bound(inst.model, stats["replicas"]))
        out["batch_energies"] = np.asarray(out["batch_energies"], dtype=np.float64).tolist()
        out["n"] = int(inst.model.n)
        out["code"] = code_version()
        out["spins_hex"] = _pack_spins(spins)
        return out


_CODE: list[str] = []


def code_version() -> str:
    """The repository's HEAD commit (12 hex digits) where this process runs, or "unknown".

    Stored with every call (not part of its key, so a run resumes across commits): the table header
    lists the commits its calls were made at, so a table mixing code versions says so.
    """
    if not _CODE:
        import subprocess

        try:
            head = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=Path(__file__).resolve().parent,
                                  capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            head = ""
        _CODE.append(head or "unknown")
    return _CODE[0]


def _threads_param(threads: int | None) -> int | str:
    return "all" if threads is None else int(threads)


def _call_params(inst: str, family: str, solver: str, budget: float, seed: int, threads: int | None) -> dict:
    p = {"task": "call", "instance": inst, "family": family, "solver": solver, "budget_s": float(budget),
         "seed": int(seed), "threads": _threads_param(threads), "bound": seed == 0}
    if family == "cimsim":
        name, params = CIMSIM_SOLVERS[solver]
        p["config"] = [name, dict(params)]
    return p


@dataclass
class BenchRun:
    """What :func:`run_bench_sweep` produced.

    rows : the table, one :class:`Row` per instance x solver x budget (never dropped)
    outcome : the sweep's counts (done, reused, failed with reasons) over both phases
    machine : the header line with this machine's measured bounds (stored as a task too)
    code : the repository commits the calls in the table were made at (more than one: mixed code)
    """

    rows: list[Row]
    outcome: SweepOutcome
    machine: str = ""
    code: list[str] = field(default_factory=list)


def run_bench(
    instances: Iterable[Instance],
    *,
    solvers: Iterable[str] = tuple(CIMSIM_SOLVERS),
    peers: Iterable[str] = tuple(PEERS),
    budgets: Iterable[float] = (1.0,),
    repeats: int = 3,
    threads: int | None = None,
    log: Callable[[str], None] | None = None,
    **sweep: object,
) -> list[Row]:
    """Run every instance x solver x budget ``repeats`` times; return one :class:`Row` each.

    ``solvers`` are keys of :data:`CIMSIM_SOLVERS`, ``peers`` keys of :data:`bench.peers.PEERS`.
    Solvers or peers that are not available still get rows (``status`` says why). ``threads`` caps
    BLAS, numba and torch threads for every solver and for the bound probes alike (None: leave them).
    Other keywords go to :func:`run_bench_sweep` (``out_dir``, ``scheduler``, ``workers``, ``progress``).
    """
    return run_bench_sweep(instances, solvers=solvers, peers=peers, budgets=budgets, repeats=repeats,
                           threads=threads, log=log, machine=False, **sweep).rows  # type: ignore[arg-type]


def run_bench_sweep(
    instances: Iterable[Instance],
    *,
    solvers: Iterable[str] = tuple(CIMSIM_SOLVERS),
    peers: Iterable[str] = tuple(PEERS),
    budgets: Iterable[float] = (1.0,),
    repeats: int = 3,
    threads: int | None = None,
    log: Callable[[str], None] | None = None,
    out_dir: str | Path | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    progress: bool = False,
    machine: bool = True,
) -> BenchRun:
    """The benchmark as a checkpointed sweep (:func:`cimsim.sweep.run_sweep`) of budgeted calls.

    Every call (instance x solver-or-peer x budget x seed) is one task, stored at once in
    ``out_dir/tasks/<key>.json`` when ``out_dir`` is given; re-running with the same ``out_dir`` computes
    only the calls not stored yet (a finished run re-run computes nothing). It runs in two phases so the
    overrun rule holds: first seed 0 of every row (plus, with ``machine``, the machine-bounds task),
    then seeds 1..repeats-1 of the rows whose first call took at most ``OVERRUN_FACTOR`` budgets.
    Afterwards ``out_dir/results.csv`` holds one line per call of this run (read back from the store) and
    ``out_dir/summary.json`` the counts and failures of both phases. The table rows are computed from
    the per-call results only, so a re-run rebuilds the same table.

    ``workers`` > 1 or ``scheduler`` run calls in parallel on dask workers: on a 2-core machine that
    distorts wall-clock budgets; the default (None/1) runs them one at a time in this process.
    A call that raises (solver error, failed warm-up) is a failed task: its row's status says
    ``error: ...`` and ``outcome.complete`` is False. Solvers/peers that do not import and instances
    that do not load get status rows without tasks (nothing to compute).
    """
    instances = list(instances)
    solvers, peers, budgets = list(solvers), list(peers), [float(b) for b in budgets]
    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    for inst in instances:
        _INSTANCES[inst.name] = inst
    cim_status = {label: _cimsim_unavailable(label) for label in solvers}
    peer_status = {name: get_peer(name).available() for name in peers}
    for label, why in cim_status.items():
        log(f"cimsim {label}: {'available' if why is None else why}")
    for name, why in peer_status.items():
        log(f"peer {PEERS[name]}: {'available' if why is None else why}")

    def runnable(inst: Instance) -> list[tuple[str, str]]:
        out = []
        if inst.status:
            return out
        out += [("cimsim", s) for s in solvers if cim_status[s] is None]
        n = inst.model.n if inst.model is not None else 0
        out += [("peer", p) for p in peers
                if peer_status[p] is None and not (p in DENSE_ONLY_PEERS and n > DENSE_PEER_MAX_N)]
        return out

    cells = [(inst, budget, fam, s) for inst in instances for budget in budgets for fam, s in runnable(inst)]
    machine_task = {"task": "machine", "threads": _threads_param(threads)}
    sweep_kw = dict(out_dir=out_dir, progress=progress, scheduler=scheduler, workers=workers,
                    worker_env={"PYTHONPATH": os.pathsep.join(
                        x for x in (str(Path(__file__).resolve().parent.parent), os.environ.get("PYTHONPATH"))
                        if x)})
    first = [_call_params(inst.name, fam, s, b, 0, threads) for inst, b, fam, s in cells]
    o1 = run_sweep(([machine_task] if machine else []) + first, BenchTask(), desc="bench: seed 0", **sweep_kw)
    got: dict[tuple, tuple[str, dict | str]] = {}
    machine_text = ""
    for r in o1.rows + o1.failed:
        if r.get("task") == "machine":
            machine_text = r.get("machine", "") or f"Machine bounds not measured ({r.get('error')})."
            continue
        got[(r["instance"], r["family"], r["solver"], r["budget_s"], r["seed"])] = (
            ("failed", r["error"]) if "error" in r and "objective" not in r else ("ok", r))
    more = []
    for inst, b, fam, s in cells:
        st, r0 = got[(inst.name, fam, s, b, 0)]
        if st == "ok" and r0["elapsed_s"] <= OVERRUN_FACTOR * b:  # type: ignore[index]
            more += [_call_params(inst.name, fam, s, b, k, threads) for k in range(1, repeats)]
    rows_all, failed_all = list(o1.rows), list(o1.failed)
    done, reused, elapsed, mode = o1.done, o1.reused, o1.elapsed_s, o1.mode
    if more:
        o2 = run_sweep(more, BenchTask(), desc="bench: seeds 1+", **sweep_kw)
        for r in o2.rows + o2.failed:
            got[(r["instance"], r["family"], r["solver"], r["budget_s"], r["seed"])] = (
                ("failed", r["error"]) if "error" in r and "objective" not in r else ("ok", r))
        rows_all += o2.rows
        failed_all += o2.failed
        done, reused, elapsed = done + o2.done, reused + o2.reused, elapsed + o2.elapsed_s
        mode = o2.mode if mode == "nothing to do" else mode
    outcome = SweepOutcome(rows_all, done=done, reused=reused, failed=failed_all, mode=mode, elapsed_s=elapsed)
    if out_dir is not None:
        _write_store_tables(Path(out_dir), outcome)

    rows = _assemble(instances, solvers, peers, budgets, repeats, cim_status, peer_status, got)
    for row in rows:
        log(_progress(row))
    code = sorted({str(r.get("code", "unknown")) for r in outcome.rows if r.get("task") == "call"})
    return BenchRun(rows, outcome, machine_text, code)


def _write_store_tables(out: Path, outcome: SweepOutcome) -> None:
    """results.csv (one line per call, spins left in the task files) and summary.json for both phases."""
    calls = [{k: v for k, v in r.items() if k not in ("spins_hex", "batch_energies", "machine")}
             for r in outcome.rows if r.get("task") == "call"]
    write_table_csv(out / "results.csv", calls)
    # run_sweep wrote results.parquet (when pyarrow imports) for its last phase only: keep it whole or drop it
    parquet = out / "results.parquet"
    if parquet.exists():
        try:
            from cimsim.sweep import _write_parquet

            if not calls or not _write_parquet(parquet, calls):
                parquet.unlink()
        except Exception:
            parquet.unlink(missing_ok=True)
    summary = {"tasks": outcome.total, "done": outcome.done, "reused": outcome.reused,
               "failed": len(outcome.failed), "complete": outcome.complete, "mode": outcome.mode,
               "elapsed_s": outcome.elapsed_s,
               "failures": [{"task_key": f["task_key"], "error": f["error"],
                             "task": {k: f.get(k) for k in ("instance", "solver", "budget_s", "seed")}}
                            for f in outcome.failed]}
    tmp = out / "summary.json.tmp"
    tmp.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    tmp.replace(out / "summary.json")


def _assemble(instances, solvers, peers, budgets, repeats, cim_status, peer_status, got) -> list[Row]:
    """The table, in the harness's row order, from the per-call results ``got``."""
    rows: list[Row] = []
    for inst in instances:
        model = inst.model
        n = model.n if model is not None else 0
        base = dict(instance=inst.name, kind=inst.kind, n=n, nnz=_nnz(model),
                    best_known=inst.best_known if inst.best_known is not None else math.nan)
        inst_rows: list[Row] = []
        for budget in budgets:
            entries = [("cimsim", s, s, cim_status[s]) for s in solvers]
            entries += [("peer", p, PEERS[p], peer_status[p]) for p in peers]
            for fam, key, label, why in entries:
                row = Row(solver=label, family=fam, budget_s=budget, **base)
                if inst.status:
                    row.status = f"skipped: {inst.status}"
                elif why:
                    row.status = f"not available: {why}"
                elif fam == "peer" and key in DENSE_ONLY_PEERS and n > DENSE_PEER_MAX_N:
                    row.status = f"skipped: takes a dense matrix only; N = {n} > {DENSE_PEER_MAX_N}"
                else:
                    _fill_row(row, inst, [got.get((inst.name, fam, key, budget, k)) for k in range(repeats)],
                              budget, repeats)
                    if inst.note:
                        row.note = f"{inst.note}; {row.note}" if row.note else inst.note
                inst_rows.append(row)
        _compare(inst, inst_rows)
        rows.extend(inst_rows)
    return rows


def _fill_row(row: Row, inst: Instance, results: list, budget: float, repeats: int) -> None:
    """Summarise one row from its stored calls (seed order); an error in any call makes it an error row."""
    first = results[0]
    if first is None:
        row.status = "error: not run"
        return
    if first[0] == "failed":
        row.status = f"error: {first[1]}"
        return
    calls = [first[1]]
    overrun = first[1]["elapsed_s"] > OVERRUN_FACTOR * budget
    if not overrun:
        for res in results[1:]:
            if res is None or res[0] == "failed":
                row.status = f"error: {'not run' if res is None else res[1]}"
                return
            calls.append(res[1])
    reps = [_Repeat(float(c["objective"]), float(c["energy"]), float(c["elapsed_s"]), int(c["batches"]),
                    float(c["updates"]), int(c["replicas"]), np.asarray(c["batch_energies"], dtype=np.float64))
            for c in calls]
    if overrun:
        reps[0].note = _overrun_note(reps[0].elapsed, budget, repeats)
    _summarise(row, inst, reps)
    _bound(row, first[1])
    if row.family == "peer":
        row.note = "; ".join(x for x in (row.note, f"setup {float(first[1]['setup_s']):.2f} s not counted") if x)


@contextlib.contextmanager
def limit_threads(threads: int | None, *, torch: bool = False) -> Iterator[None]:
    """Cap BLAS (threadpoolctl, if installed), numba and torch threads at ``threads`` inside the block.

    On a loaded machine, BLAS and torch worker threads that spin-wait can make a 2-thread run many
    times slower than one thread, so all solvers get the same cap.
    """
    if threads is None:
        yield
        return
    import numba

    old_numba = numba.get_num_threads()
    numba.set_num_threads(max(1, min(int(threads), numba.config.NUMBA_NUM_THREADS)))
    old_torch = None
    if torch:
        try:
            import torch as _torch

            old_torch = _torch.get_num_threads()
            _torch.set_num_threads(int(threads))
        except ImportError:
            pass
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        threadpool_limits = None
    try:
        if threadpool_limits is not None:
            with threadpool_limits(int(threads)):
                yield
        else:
            yield
    finally:
        numba.set_num_threads(old_numba)
        if old_torch is not None:
            import torch as _torch

            _torch.set_num_threads(old_torch)


def _overrun_note(elapsed: float, budget: float, repeats: int) -> str:
    extra = f"; {repeats - 1} other repeat(s) not run" if repeats > 1 else ""
    return f"one call took {elapsed:.1f} s for a {budget:g} s budget (a batch cannot be interrupted){extra}"


def _progress(row: Row) -> str:
    if row.status != "ok":
        return f"  {row.instance} {row.solver} {row.budget_s:g}s: {row.status}"
    return (f"  {row.instance} {row.solver} {row.budget_s:g}s: best {row.best_obj:.6g} median {row.median_obj:.6g} "
            f"hits {row.hits}/{row.repeats} t {row.elapsed_mean_s:.2f}s")


def _fmt_obj(x: float) -> str:
    return f"{x:.6g}" if math.isfinite(x) else "-"


#: a row "kept to the budget" when its mean call time is at most this many budgets (one batch of
#: overshoot is inherent to run-until-the-deadline, for cimsim and peers alike)
BUDGET_SLACK = 2.0


def within_budget(r: Row, slack: float = BUDGET_SLACK) -> bool:
    """Whether a row's calls took at most ``slack`` times the budget (else its objective is not a result
    at that budget, only at its real wall time ``elapsed_mean_s``)."""
    return r.status == "ok" and r.elapsed_mean_s <= slack * r.budget_s


def _key(sense: str, r: Row) -> tuple[float, float]:
    s = 1.0 if sense == "max" else -1.0
    return (s * r.best_obj, s * r.median_obj)


def _versus(sense: str, r: Row, top: Row) -> str:
    kb, kt = _key(sense, r), _key(sense, top)
    tol = 1e-9 * max(1.0, abs(top.best_obj))
    if abs(kb[0] - kt[0]) <= tol and abs(kb[1] - kt[1]) <= tol:
        return f"tied with {top.solver}"
    if kb > kt:
        return f"ahead of {top.solver}"
    return (f"BEHIND {top.solver} (best {_fmt_obj(r.best_obj)} vs {_fmt_obj(top.best_obj)}, "
            f"median {_fmt_obj(r.median_obj)} vs {_fmt_obj(top.median_obj)})")


def _compare(inst: "Instance | str", rows: list[Row]) -> None:
    """Fill ``vs_peers`` on cimsim rows: ahead of / tied with / BEHIND the best peer at that budget.

    The best peer is chosen among peers that kept to the budget (all peers if none did); a cimsim row
    that overran the budget says so, since its objective was bought with more time. ``inst`` is the
    instance or its sense ("max"/"min").
    """
    sense = inst if isinstance(inst, str) else inst.sense
    for budget in {r.budget_s for r in rows}:
        here = [r for r in rows if r.budget_s == budget and r.status == "ok"]
        peer_rows = [r for r in here if r.family == "peer"]
        if not peer_rows:
            continue
        fair = [r for r in peer_rows if within_budget(r)] or peer_rows
        top = max(fair, key=lambda r: _key(sense, r))
        for r in here:
            if r.family != "cimsim":
                continue
            r.vs_peers = _versus(sense, r, top)
            if not within_budget(r):
                r.vs_peers += f", but took {r.elapsed_mean_s:.1f} s per call (over budget)"


def verdicts(rows: list[Row]) -> list[str]:
    """One line per instance x budget: best cimsim row vs best peer row, both within the budget."""
    out = []
    seen: list[tuple[str, float]] = []
    for r in rows:
        if (r.instance, r.budget_s) not in seen:
            seen.append((r.instance, r.budget_s))
    for inst, budget in seen:
        here = [r for r in rows if r.instance == inst and r.budget_s == budget and r.status == "ok"]
        if not here:
            out.append(f"- {inst} @ {budget:g} s: no solver ran ({_first_status(rows, inst)}).")
            continue
        sense = "min" if here[0].kind == "sk" else "max"
        cims = [r for r in here if r.family == "cimsim" and within_budget(r)]
        peers = [r for r in here if r.family == "peer" and within_budget(r)]
        c = max(cims, key=lambda r: _key(sense, r)) if cims else None
        p = max(peers, key=lambda r: _key(sense, r)) if peers else None
        desc = lambda r: f"{r.solver} {_fmt_obj(r.best_obj)} / {_fmt_obj(r.median_obj)}"  # noqa: E731
        if c is None and p is None:
            out.append(f"- {inst} @ {budget:g} s: no solver kept to the budget.")
        elif c is None:
            fast = min((r for r in here if r.family == "cimsim"), key=lambda r: r.elapsed_mean_s, default=None)
            extra = (f" (fastest: {fast.solver}, {fast.elapsed_mean_s:.1f} s per call, {_fmt_obj(fast.best_obj)})"
                     if fast is not None else "")
            out.append(f"- **{inst} @ {budget:g} s: cimsim cannot keep to this budget: no cimsim call finished "
                       f"within {BUDGET_SLACK:g} x {budget:g} s{extra}; best peer within it: {desc(p)} (best / median)**.")
        elif p is None:
            out.append(f"- {inst} @ {budget:g} s: best cimsim {desc(c)}; no peer kept to the budget.")
        else:
            v = _versus(sense, c, p)
            line = f"{inst} @ {budget:g} s: best cimsim {desc(c)} vs best peer {desc(p)} (best / median): {v.split(' (')[0]}"
            out.append(f"- **{line}**." if v.startswith("BEHIND") else f"- {line}.")
    return out


def _first_status(rows: list[Row], inst: str) -> str:
    return next((r.status for r in rows if r.instance == inst), "")


FIELDS = [f for f in Row.__dataclass_fields__]


def write_csv(rows: list[Row], path: Path) -> None:
    """All rows, every field, one line each."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=FIELDS)
        w.writeheader()
        for r in rows:
            w.writerow({k: _csv_value(v) for k, v in asdict(r).items()})
    tmp.replace(path)


def read_csv(path: Path) -> list[Row]:
    """Rows back from :func:`write_csv` (to re-render a table with :func:`markdown_table`)."""
    types = {f.name: f.type for f in Row.__dataclass_fields__.values()}
    rows = []
    with open(path, newline="", encoding="utf-8") as fh:
        for d in csv.DictReader(fh):
            kw: dict = {}
            for k, t in types.items():
                v = d.get(k, "")
                if t == "float":
                    kw[k] = float(v) if v else math.nan
                elif t == "int":
                    kw[k] = int(float(v)) if v else 0
                else:
                    kw[k] = v
            rows.append(Row(**kw))
    return rows


def recompare(rows: list[Row]) -> list[Row]:
    """Recompute every cimsim row's ``vs_peers`` (SK minimises, everything else maximises)."""
    for r in rows:
        r.vs_peers = ""
    for inst in dict.fromkeys(r.instance for r in rows):
        here = [r for r in rows if r.instance == inst]
        _compare("min" if here[0].kind == "sk" else "max", here)
    return rows


def _csv_value(v: object) -> object:
    if isinstance(v, float):
        if math.isnan(v):
            return ""
        if math.isinf(v):
            return "inf"
        return f"{v:.6g}"
    return v


def _g(v: float, fmt: str = ".4g") -> str:
    if not math.isfinite(v):
        return "inf" if v == math.inf else "-"
    return format(v, fmt)


def markdown_table(rows: list[Row]) -> str:
    """The results as a markdown table (one line per row) followed by the cimsim-vs-peers verdicts."""
    head = ("| instance | N | solver | budget s | best | median | best known | ratio best | hits | TTS99 s "
            "(call) | TTS99 s (batch) | t mean s | updates/s | bound/s | of bound | vs peers / status |")
    out = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        if r.status != "ok":
            out.append(f"| {r.instance} | {r.n or '-'} | {r.solver} | {r.budget_s:g} | - | - | {_g(r.best_known, '.6g')} "
                       f"| - | - | - | - | - | - | - | - | {r.status} |")
            continue
        tail = r.vs_peers if r.family == "cimsim" else "(peer)"
        if r.note:
            tail = f"{tail}; {r.note}" if tail else r.note
        out.append(
            f"| {r.instance} | {r.n} | {r.solver} | {r.budget_s:g} | {_g(r.best_obj, '.6g')} | {_g(r.median_obj, '.6g')} "
            f"| {_g(r.best_known, '.6g')} | {_g(r.ratio_best, '.4f')} | {r.hits}/{r.repeats} | {_g(r.tts99_s, '.3g')} "
            f"| {_g(r.tts99_batch_s, '.3g')} | {_g(r.elapsed_mean_s, '.2f')} | {_g(r.updates_per_s, '.3g')} "
            f"| {_g(r.bound_updates_per_s, '.3g')} | {_g(r.frac_of_bound, '.2f')} | {tail} |"
        )
    behind = [r for r in rows if r.vs_peers.startswith("BEHIND")]
    out.append("")
    out.append(f"{len(behind)} cimsim row(s) are behind the best peer at the same budget. Best of each side "
               f"among rows that kept to the budget (mean call time <= {BUDGET_SLACK:g} x budget):")
    out.append("")
    out.extend(verdicts(rows))
    return "\n".join(out) + "\n"


def write_markdown(rows: list[Row], path: Path, *, header: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text((header + "\n\n" if header else "") + markdown_table(rows), encoding="utf-8")
    tmp.replace(path)
