"""The benchmark as a checkpointed sweep: every instance x solver x budget, repeated with seeds 0..repeats-1.

Every budgeted call (instance x solver-or-peer x budget x seed) is one task of a
:func:`cimsim.sweep.run_sweep` sweep (:class:`bench.calls.BenchTask`), stored at once under
``out_dir/tasks`` so an interrupted run resumes and a finished one re-run computes nothing. The run has
two phases so the overrun rule holds: seed 0 of every row first, then the other seeds of the rows whose
first call kept within ``OVERRUN_FACTOR`` budgets. The table rows (:mod:`bench.rows`) are computed from
the stored per-call results only; ``out_dir/results.csv`` and ``out_dir/summary.json`` describe the calls.
"""
from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from cimsim.sweep import SweepOutcome, run_sweep, write_table_csv

from . import peers as peer_registry, rows as rows_mod
from .calls import CIMSIM_SOLVERS, BenchTask, call_params, cimsim_unavailable, peer_skipped, register_instances, \
    threads_param
from .data import ENV as DATA_ENV, data_root
from .instances import Instance
from .rows import Row

__all__ = ["BenchRun", "run_bench", "run_bench_sweep"]

REPO = Path(__file__).resolve().parent.parent

#: (instance, family, solver key, budget, seed) -> ("ok", stored call) or ("failed", reason)
Got = dict


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
    peers: Iterable[str] = tuple(peer_registry.PEERS),
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


# --------------------------------------------------------------------------------------------------
# steps of a run


def _availability(solvers: list[str], peer_keys: list[str], log: Callable[[str], None]):
    """(cimsim label -> why unavailable or None, peer key -> why unavailable or None), each logged."""
    cim_status = {label: cimsim_unavailable(label) for label in solvers}
    peer_status = {name: peer_registry.get_peer(name).available() for name in peer_keys}
    for label, why in cim_status.items():
        log(f"cimsim {label}: {'available' if why is None else why}")
    for name, why in peer_status.items():
        log(f"peer {peer_registry.PEERS[name]}: {'available' if why is None else why}")
    return cim_status, peer_status


def _cells(instances: list[Instance], budgets: list[float], cim_status: dict, peer_status: dict) -> list[tuple]:
    """(instance, budget, family, solver key) of every row that has calls to make."""
    out = []
    for inst in instances:
        if inst.status:
            continue
        n = inst.model.n if inst.model is not None else 0
        runnable = [("cimsim", s) for s, why in cim_status.items() if why is None]
        runnable += [("peer", p) for p, why in peer_status.items() if why is None and not peer_skipped(p, n)]
        out += [(inst, budget, fam, s) for budget in budgets for fam, s in runnable]
    return out


def _record(got: Got, outcome: SweepOutcome) -> str:
    """Add a phase's calls to ``got``; returns the machine line if the phase measured it ("" otherwise)."""
    machine_text = ""
    for r in outcome.rows + outcome.failed:
        if r.get("task") == "machine":
            machine_text = r.get("machine", "") or f"Machine bounds not measured ({r.get('error')})."
            continue
        got[(r["instance"], r["family"], r["solver"], r["budget_s"], r["seed"])] = (
            ("failed", r["error"]) if "error" in r and "objective" not in r else ("ok", r))
    return machine_text


def _later_seeds(cells: list[tuple], got: Got, repeats: int, threads: int | None) -> list[dict]:
    """Seeds 1..repeats-1 of every row whose first call succeeded without overrunning."""
    more = []
    for inst, b, fam, s in cells:
        status, first = got[(inst.name, fam, s, b, 0)]
        if status == "ok" and not rows_mod.overran(first["elapsed_s"], b):  # type: ignore[index]
            more += [call_params(inst.name, fam, s, b, k, threads) for k in range(1, repeats)]
    return more


def _merge(a: SweepOutcome, b: SweepOutcome | None) -> SweepOutcome:
    """Both phases' counts as one outcome."""
    if b is None:
        return SweepOutcome(list(a.rows), done=a.done, reused=a.reused, failed=list(a.failed), mode=a.mode,
                            elapsed_s=a.elapsed_s)
    return SweepOutcome(a.rows + b.rows, done=a.done + b.done, reused=a.reused + b.reused, failed=a.failed + b.failed,
                        mode=b.mode if a.mode == "nothing to do" else a.mode, elapsed_s=a.elapsed_s + b.elapsed_s)


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


def _progress(row: Row) -> str:
    if row.status != "ok":
        return f"  {row.instance} {row.solver} {row.budget_s:g}s: {row.status}"
    return (f"  {row.instance} {row.solver} {row.budget_s:g}s: best {row.best_obj:.6g} median {row.median_obj:.6g} "
            f"hits {row.hits}/{row.repeats} t {row.elapsed_mean_s:.2f}s")


def _sweep_options(out_dir, progress, scheduler, workers, data) -> dict:
    """run_sweep keywords; dask workers get this repository on PYTHONPATH and the data root in CIMSIM_DATA."""
    path = os.pathsep.join(x for x in (str(REPO), os.environ.get("PYTHONPATH")) if x)
    return dict(out_dir=out_dir, progress=progress, scheduler=scheduler, workers=workers,
                worker_env={"PYTHONPATH": path, DATA_ENV: str(data_root(data))})


# --------------------------------------------------------------------------------------------------
# the run


def run_bench_sweep(
    instances: Iterable[Instance],
    *,
    solvers: Iterable[str] = tuple(CIMSIM_SOLVERS),
    peers: Iterable[str] = tuple(peer_registry.PEERS),
    budgets: Iterable[float] = (1.0,),
    repeats: int = 3,
    threads: int | None = None,
    log: Callable[[str], None] | None = None,
    out_dir: str | Path | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    progress: bool = False,
    machine: bool = True,
    data: str | os.PathLike | None = None,
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
    ``data`` is the instance data root workers load instances from (see :mod:`bench.data`).
    A call that raises (solver error, failed warm-up) is a failed task: its row's status says
    ``error: ...`` and ``outcome.complete`` is False. Solvers/peers that do not import and instances
    that do not load get status rows without tasks (nothing to compute).
    """
    instances = list(instances)
    solvers, peer_keys, budgets = list(solvers), list(peers), [float(b) for b in budgets]
    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    register_instances(instances)
    cim_status, peer_status = _availability(solvers, peer_keys, log)
    cells = _cells(instances, budgets, cim_status, peer_status)

    task = BenchTask(data=None if data is None else str(data_root(data)))
    sweep_kw = _sweep_options(out_dir, progress, scheduler, workers, data)
    first = [call_params(inst.name, fam, s, b, 0, threads) for inst, b, fam, s in cells]
    machine_task = [{"task": "machine", "threads": threads_param(threads)}] if machine else []
    o1 = run_sweep(machine_task + first, task, desc="bench: seed 0", **sweep_kw)
    got: Got = {}
    machine_text = _record(got, o1)
    more = _later_seeds(cells, got, repeats, threads)
    o2 = run_sweep(more, task, desc="bench: seeds 1+", **sweep_kw) if more else None
    if o2 is not None:
        _record(got, o2)
    outcome = _merge(o1, o2)
    if out_dir is not None:
        _write_store_tables(Path(out_dir), outcome)

    entries = [("cimsim", s, s, cim_status[s]) for s in solvers]
    entries += [("peer", p, peer_registry.PEERS[p], peer_status[p]) for p in peer_keys]
    table = rows_mod.assemble(instances, entries, budgets, repeats, got)
    for row in table:
        log(_progress(row))
    code = sorted({str(r.get("code", "unknown")) for r in outcome.rows if r.get("task") == "call"})
    return BenchRun(table, outcome, machine_text, code)
