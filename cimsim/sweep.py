"""Parameter sweeps: a list of independent tasks, each a pure function of (params, seed).

``run_sweep(tasks, fn, seed=0, out_dir=None, ...)`` calls ``fn(params, seed_sequence)`` for every task
dict in ``tasks`` and returns a :class:`SweepOutcome` whose ``rows`` are the dicts ``fn`` returned
(each merged with its task params and its ``task_key``), in task order.

Seeds
    A task's seed is ``task_seed(seed, task_key(params))``: a :class:`numpy.random.SeedSequence` made from
    the sweep seed and a hash of the task's parameters, so results never depend on worker count,
    execution order or which tasks were resumed.

Execution
    Serially in this process (the default, and whenever ``workers == 1``), or with dask.distributed:
    on an existing cluster (``scheduler="tcp://host:port"`` or ``client=``) or on a LocalCluster of
    ``workers`` single-threaded worker processes on loopback. Without dask installed, a request for
    parallel execution runs serially and says so once on stderr. ``fn`` travels with each task when it
    pickles small; a larger one (over :data:`BIG_FUNCTION_BYTES`) is broadcast to the workers once.

Store, checkpoint and resume (``out_dir``)
    Every finished task is written at once, atomically (temporary file + rename), to
    ``out_dir/tasks/<task_key>.json``: parameters, the sweep seed, the function's identity
    (:func:`fn_identity`), status ``ok`` or ``failed`` and the row or the error. Re-running the same sweep
    with the same ``out_dir`` reuses every stored ``ok`` task computed with the same sweep seed and the
    same function configuration and recomputes only the rest (missing or failed), so a
    finished sweep re-run does no work (``recompute=True`` computes every task again). At the end the table of ``ok`` rows is assembled into
    ``out_dir/results.csv`` (and ``results.parquet`` when pyarrow is importable), and
    ``out_dir/summary.json`` lists counts and every failure with its reason.

Interruption
    Ctrl-C (KeyboardInterrupt) cancels the tasks in flight, shuts down a LocalCluster this call started
    (whose workers ignore SIGINT, which a terminal sends to the whole process group) and propagates; every
    task finished before it is in the store.

Failures
    A task that raises is recorded with ``"ExcType: message"`` and does not stop the others; a task
    whose worker dies is rescheduled by dask on another worker (and recorded as failed only if it
    keeps killing workers). ``SweepOutcome.complete`` is False when any task failed.

Rows are normalised through JSON (numpy scalars and arrays become Python numbers and lists; tuples
become lists; inf and nan stay floats), so a freshly computed row and the same row read back from
the store are equal value for value.
"""
from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import math
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import numpy as np

from .errors import CimsimError
from .atomic import atomic_path, write_text_atomic
from .result import to_jsonable

__all__ = [
    "SweepOutcome",
    "run_sweep",
    "task_key",
    "task_seed",
    "load_store",
    "write_table_csv",
    "dask_available",
    "check_scheduler_address",
    "fn_identity",
]

TASKS_DIR = "tasks"
#: pickled sweep functions larger than this are broadcast to the workers once, not shipped with every task
BIG_FUNCTION_BYTES = 1 << 20
_warned_no_dask = False


def task_key(params: dict) -> str:
    """Stable hex key of a task's parameters (sorted-key JSON, SHA-256, 16 hex digits)."""
    blob = json.dumps(to_jsonable(params), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def task_seed(sweep_seed: int, key: str) -> np.random.SeedSequence:
    """SeedSequence for one task, from the sweep seed and the task key (order independent)."""
    return np.random.SeedSequence([int(sweep_seed) & 0xFFFFFFFF, int(key, 16) & 0xFFFFFFFF, int(key, 16) >> 32])


@dataclass
class SweepOutcome:
    """What a sweep produced.

    rows : list of dict
        One per successful task, in task order: ``{**params, **fn_output, "task_key": key}``.
    done : int
        Tasks computed in this call.
    reused : int
        Tasks read back from the store (computed by an earlier call).
    failed : list of dict
        ``{**params, "task_key": key, "error": "ExcType: message"}`` for every task that failed.
    mode : str
        How the tasks ran: ``serial``, ``local:N`` (LocalCluster of N workers) or the scheduler address.
    """

    rows: list[dict]
    done: int = 0
    reused: int = 0
    failed: list[dict] = field(default_factory=list)
    mode: str = "serial"
    elapsed_s: float = 0.0

    @property
    def complete(self) -> bool:
        return not self.failed

    @property
    def total(self) -> int:
        return len(self.rows) + len(self.failed)

    def summary(self) -> str:
        """One line (plus one per failure, at most 10) for the end of a sweep."""
        head = (
            f"{self.total} tasks: {self.done} done, {self.reused} reused, {len(self.failed)} failed "
            f"({self.mode}, {self.elapsed_s:.1f} s)"
        )
        lines = [head]
        for f in self.failed[:10]:
            lines.append(f"  failed {f['task_key']}: {f['error']}")
        if len(self.failed) > 10:
            lines.append(f"  ... and {len(self.failed) - 10} more (see summary.json)")
        return "\n".join(lines)


# --------------------------------------------------------------------------------------------------
# JSON normalisation and atomic files


def _plain(value: Any) -> Any:
    """numpy -> Python, tuples -> lists, recursively; floats (inf/nan included) stay floats."""
    return to_jsonable(value, nonfinite_as_str=False)


def _normalise(row: dict) -> dict:
    """Round-trip through JSON so fresh and stored rows compare equal."""
    return json.loads(json.dumps(_plain(row)))


def _atomic_write(path: Path, text: str) -> None:
    write_text_atomic(path, text, fsync=True)


def _fn_name(fn: Callable) -> str:
    target = fn if hasattr(fn, "__qualname__") else type(fn)
    return f"{getattr(target, '__module__', '?')}.{getattr(target, '__qualname__', type(fn).__name__)}"


def fn_identity(fn: Callable) -> str:
    """What a stored result must match to be reused: the function's name plus a hash of its configuration.

    The configuration is ``fn.sweep_identity()`` when the object defines it, else the fields of a
    callable object (dataclass fields or ``vars(fn)``) or a ``functools.partial``'s arguments, as JSON. So
    re-running a sweep whose function was built with another setting (a tolerance, an instance) recomputes
    instead of reusing stale rows. Plain functions are identified by name only (variables captured by a
    closure are not seen: put them in the task parameters or use a callable object).
    """
    import dataclasses
    import functools

    name = _fn_name(fn)
    config: Any = None
    if hasattr(fn, "sweep_identity"):
        config = fn.sweep_identity()
    elif isinstance(fn, functools.partial):
        name = _fn_name(fn.func)
        config = {"args": list(fn.args), "keywords": fn.keywords}
    elif dataclasses.is_dataclass(fn) and not isinstance(fn, type):
        config = dataclasses.asdict(fn)
    elif not hasattr(fn, "__code__") and hasattr(fn, "__dict__") and not isinstance(fn, type):
        config = vars(fn)
    if config is None:
        return name
    try:
        blob = json.dumps(to_jsonable(config), sort_keys=True, separators=(",", ":"), default=repr)
    except (TypeError, ValueError):
        return name
    return f"{name}#{hashlib.sha256(blob.encode()).hexdigest()[:16]}"


def load_store(out_dir: str | Path) -> dict[str, dict]:
    """Every readable task record in ``out_dir/tasks`` as ``{task_key: record}`` (unreadable files skipped)."""
    d = Path(out_dir) / TASKS_DIR
    records: dict[str, dict] = {}
    if not d.is_dir():
        return records
    for p in d.glob("*.json"):
        try:
            rec = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(rec, dict) and rec.get("key") == p.stem:
            records[p.stem] = rec
    return records


def _csv_cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v) if math.isfinite(v) else ("inf" if v > 0 else "-inf" if v < 0 else "nan")
    if isinstance(v, (list, dict)):
        return json.dumps(v, separators=(",", ":"))
    return str(v)


def write_table_csv(path: str | Path, rows: list[dict], columns: list[str] | None = None) -> list[str]:
    """Write ``rows`` as CSV atomically (columns: union of keys in first-seen order; lists as JSON).

    Returns the column names.
    """
    if columns is None:
        columns = []
        seen: set[str] = set()
        for r in rows:
            for k in r:
                if k not in seen:
                    seen.add(k)
                    columns.append(k)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for r in rows:
        w.writerow([_csv_cell(r.get(c)) for c in columns])
    _atomic_write(Path(path), buf.getvalue())
    return columns


def _write_parquet(path: Path, rows: list[dict]) -> bool:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        return False
    flat = [{k: (json.dumps(v) if isinstance(v, (list, dict)) else v) for k, v in r.items()} for r in rows]
    table = pa.Table.from_pylist(flat)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)
    return True


# --------------------------------------------------------------------------------------------------
# one task


def _execute(fn: Callable, params: dict, key: str, sweep_seed: int) -> dict:
    """Run one task (in this process or on a dask worker); exceptions become a failed record."""
    t0 = time.perf_counter()
    try:
        out = fn(dict(params), task_seed(sweep_seed, key))
        if not isinstance(out, dict):
            raise TypeError(f"sweep function returned {type(out).__name__}, expected dict")
        out = _normalise(out)
    except Exception as exc:  # recorded, the sweep goes on
        msg = str(exc).splitlines()[0] if str(exc) else ""
        return {"status": "failed", "error": f"{type(exc).__name__}: {msg}".rstrip(": "), "elapsed_s": time.perf_counter() - t0}
    return {"status": "ok", "row": out, "elapsed_s": time.perf_counter() - t0}


_SCHEMES = ("tcp", "tls", "ucx", "ws", "wss", "inproc")


def check_scheduler_address(address: str) -> str:
    """Return ``address`` if it looks like a dask scheduler address (``[scheme://]host:port``), else raise
    :class:`CimsimError`. A bare ``host:port`` gets ``tcp://``."""
    text = str(address).strip()
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "tcp", text
    if scheme not in _SCHEMES:
        raise CimsimError(f"scheduler address {address!r}: unknown scheme {scheme!r} (expected tcp://HOST:PORT)")
    if scheme == "inproc":
        return text
    host, colon, port = rest.rpartition(":")
    if not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise CimsimError(f"scheduler address {address!r}: expected [tcp://]HOST:PORT, e.g. tcp://10.0.0.5:8786")
    return f"{scheme}://{rest}"


def dask_available() -> bool:
    try:
        import distributed  # noqa: F401  (only checking that it imports)
    except ImportError:
        return False
    return True


def _say_serial_once() -> None:
    global _warned_no_dask
    if not _warned_no_dask:
        _warned_no_dask = True
        print("cimsim: dask.distributed is not installed; running the sweep serially in this process "
              "(pip install 'dask[distributed]' for parallel sweeps)", file=sys.stderr)


class _Store:
    """The per-task JSON store (or nothing when ``out_dir`` is None)."""

    def __init__(self, out_dir: str | Path | None, seed: int, fn_name: str):
        self.dir = None if out_dir is None else Path(out_dir)
        self.seed = int(seed)
        self.fn_name = fn_name
        if self.dir is not None:
            if self.dir.exists() and not self.dir.is_dir():
                raise CimsimError(f"{self.dir}: exists and is not a directory")
            try:
                (self.dir / TASKS_DIR).mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise CimsimError(f"{self.dir}: cannot create the sweep directory ({exc.strerror})") from None

    def reusable(self, key: str, params: dict) -> dict | None:
        if self.dir is None:
            return None
        p = self.dir / TASKS_DIR / f"{key}.json"
        try:
            rec = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if (
            isinstance(rec, dict)
            and rec.get("status") == "ok"
            and rec.get("seed") == self.seed
            and rec.get("fn") == self.fn_name
            and rec.get("params") == params
            and isinstance(rec.get("row"), dict)
        ):
            return rec["row"]
        return None

    def put(self, key: str, params: dict, record: dict) -> None:
        if self.dir is None:
            return
        rec = {"key": key, "seed": self.seed, "fn": self.fn_name, "params": params, **record,
               "finished_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        _atomic_write(self.dir / TASKS_DIR / f"{key}.json", json.dumps(rec, indent=1) + "\n")


# --------------------------------------------------------------------------------------------------
# the engine


#: the most local worker processes a sweep starts
MAX_WORKERS = 1024


def _resolve_workers(workers: int | None) -> int | None:
    if workers is None:
        return None
    if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or not 1 <= workers <= MAX_WORKERS:
        # --workers 2**63 asked LocalCluster for that many processes and hung
        raise CimsimError(f"workers must be a positive integer of at most {MAX_WORKERS}, got {workers!r}"[:200])
    return int(workers)


def run_sweep(
    tasks: Iterable[dict],
    fn: Callable[[dict, np.random.SeedSequence], dict],
    *,
    seed: int = 0,
    out_dir: str | Path | None = None,
    progress: bool = False,
    desc: str = "sweep",
    scheduler: str | None = None,
    workers: int | None = None,
    client: Any = None,
    worker_env: dict | None = None,
    recompute: bool = False,
) -> SweepOutcome:
    """Run every task, reusing stored ones, and assemble the table (see the module docstring).

    Parameters
    ----------
    tasks : iterable of dict
        JSON-able parameters of each task. Identical dicts are one task (computed once).
    fn : callable ``fn(params, seed_sequence) -> dict``
        Pure function of its arguments; must be picklable (cloudpickle) for distributed runs.
    seed : int
        Sweep seed; task seeds derive from it and the task key.
    out_dir : path, optional
        The store (checkpoint/resume) and where ``results.csv`` / ``summary.json`` go.
    progress : bool
        tqdm progress bar over tasks (stderr).
    desc : str
        Label of the progress bar.
    scheduler : str, optional
        Address of a running dask scheduler (``tcp://host:8786``).
    workers : int, optional
        Size of a LocalCluster (processes, one thread each, loopback). ``None`` or 1 runs serially.
    client : distributed.Client, optional
        Use this client (its cluster stays up afterwards).
    worker_env : dict, optional
        Extra environment variables for LocalCluster workers (``NUMBA_NUM_THREADS=1`` is always set).
    recompute : bool
        Ignore the stored records and compute every task again (each record is overwritten as its task
        finishes).

    Returns
    -------
    SweepOutcome

    Ctrl-C (KeyboardInterrupt) stops the sweep: tasks in flight are cancelled, a cluster this call started
    is shut down, the finished tasks stay in the store and the KeyboardInterrupt propagates.
    """
    plan = _Plan.build(tasks, seed)
    workers = _resolve_workers(workers)
    if scheduler is not None:
        scheduler = check_scheduler_address(scheduler)
    store = _Store(out_dir, plan.seed, fn_identity(fn))
    t_start = time.perf_counter()
    tally = _Tally(plan.unique, store)
    if not recompute:
        tally.reuse_stored()
    parallel = _wants_parallel(client, scheduler, workers)
    with _progress_bar(progress, len(plan.unique), tally.reused, desc) as bar:
        tally.bar = bar
        mode = _run_todo(tally, fn, plan.seed, parallel, scheduler=scheduler, workers=workers, client=client,
                         worker_env=worker_env)
    outcome = tally.outcome(plan, mode, time.perf_counter() - t_start)
    if store.dir is not None:
        _write_tables(store.dir, outcome, plan.seed)
    return outcome


@dataclass
class _Plan:
    """The normalised task list, its keys, and the distinct tasks by key (first occurrence wins)."""

    seed: int
    task_list: list[dict]
    keys: list[str]
    unique: dict[str, dict]

    @classmethod
    def build(cls, tasks: Iterable[dict], seed: int) -> "_Plan":
        task_list = [_normalise(dict(t)) for t in tasks]
        keys = [task_key(p) for p in task_list]
        unique: dict[str, dict] = {}
        for k, p in zip(keys, task_list):
            unique.setdefault(k, p)
        return cls(int(seed), task_list, keys, unique)


class _Tally:
    """Results and errors by task key as they arrive; every arrival is stored at once."""

    def __init__(self, unique: dict[str, dict], store: _Store):
        self.unique, self.store = unique, store
        self.results: dict[str, dict] = {}
        self.errors: dict[str, str] = {}
        self.reused = 0
        self.computed = 0
        self.bar: Any = None

    def reuse_stored(self) -> None:
        for k, p in self.unique.items():
            row = self.store.reusable(k, p)
            if row is not None:
                self.results[k] = row
                self.reused += 1

    def todo(self) -> list[tuple[str, dict]]:
        return [(k, p) for k, p in self.unique.items() if k not in self.results]

    def finish(self, k: str, rec: dict) -> None:
        self.store.put(k, self.unique[k], rec)
        self.computed += 1
        if rec["status"] == "ok":
            self.results[k] = rec["row"]
        else:
            self.errors[k] = rec["error"]
        if self.bar is not None:
            self.bar.update(1)
            if self.errors:
                self.bar.set_postfix(failed=len(self.errors))

    def outcome(self, plan: _Plan, mode: str, elapsed_s: float) -> SweepOutcome:
        rows: list[dict] = []
        failed: list[dict] = []
        for k, p in zip(plan.keys, plan.task_list):
            if k in self.results:
                rows.append({**p, **self.results[k], "task_key": k})
            else:
                failed.append({**p, "task_key": k, "error": self.errors.get(k, "not run")})
        return SweepOutcome(rows, done=self.computed - len(self.errors), reused=self.reused, failed=failed,
                            mode=mode, elapsed_s=elapsed_s)


def _wants_parallel(client: Any, scheduler: str | None, workers: int | None) -> bool:
    """Whether dask was asked for; without dask installed the answer is no (said once on stderr)."""
    wanted = client is not None or scheduler is not None or (workers is not None and workers > 1)
    if wanted and not dask_available():
        _say_serial_once()
        return False
    return wanted


@contextlib.contextmanager
def _progress_bar(enabled: bool, total: int, initial: int, desc: str) -> Iterator[Any]:
    if not enabled:
        yield None
        return
    from tqdm.auto import tqdm

    # disable=None: drawn on a terminal only, never into a redirected log
    bar = tqdm(total=total, initial=initial, desc=desc, unit="task", dynamic_ncols=True, disable=None)
    try:
        yield bar
    finally:
        bar.close()


def _run_todo(tally: _Tally, fn: Callable, seed: int, parallel: bool, **dask_kw: Any) -> str:
    """Compute the tasks not yet in ``tally`` serially or on dask; returns the mode label."""
    todo = tally.todo()
    if todo and parallel:
        return _run_distributed(todo, fn, seed, tally.finish, **dask_kw)
    for k, p in todo:
        tally.finish(k, _execute(fn, p, k, seed))
    return "nothing to do" if parallel else "serial"


def _write_tables(out_dir: Path, outcome: SweepOutcome, seed: int) -> None:
    """``results.csv`` (and ``results.parquet``) from the ok rows, ``summary.json`` with counts and failures."""
    write_table_csv(out_dir / "results.csv", outcome.rows)
    if outcome.rows:
        _write_parquet(out_dir / "results.parquet", outcome.rows)
    summary = {
        "tasks": outcome.total, "done": outcome.done, "reused": outcome.reused, "failed": len(outcome.failed),
        "complete": outcome.complete, "seed": seed, "mode": outcome.mode, "elapsed_s": outcome.elapsed_s,
        "failures": [{"task_key": f["task_key"], "error": f["error"]} for f in outcome.failed],
    }
    _atomic_write(out_dir / "summary.json", json.dumps(to_jsonable(summary), indent=2) + "\n")


def _run_distributed(todo, fn, seed, finish, *, scheduler, workers, client, worker_env) -> str:
    """Submit ``todo`` to dask and call ``finish`` as each task completes; returns the mode label."""
    from distributed import Client

    own_client = own_cluster = None
    try:
        if client is not None:
            mode = f"dask:{getattr(client, 'scheduler', None) and client.scheduler.address}"
        elif scheduler is not None:
            try:
                own_client = client = Client(scheduler, timeout="10s")
            except (OSError, TimeoutError, ValueError) as exc:
                raise CimsimError(f"cannot connect to the dask scheduler at {scheduler} ({exc})") from None
            mode = f"dask:{scheduler}"
        else:
            own_cluster = _local_cluster(workers, worker_env)
            own_client = client = Client(own_cluster)
            mode = f"local:{workers}"
        futures: dict = {}
        try:
            _submit(client, todo, fn, seed, futures)
            _collect(futures, finish)
        except KeyboardInterrupt:
            with _quiet_shutdown():
                if own_cluster is not None:  # a shared cluster's logging is not ours to change
                    _quiet_workers(client)
                _cancel(client, futures)
                _close(own_client, own_cluster)
                own_client = own_cluster = None
            raise
        except BaseException:
            _cancel(client, futures)
            raise
        return mode
    finally:
        _close(own_client, own_cluster)


def _local_cluster(workers: int, worker_env: dict | None) -> Any:
    """A LocalCluster of ``workers`` single-threaded processes whose SIGINT is ignored.

    Ctrl-C in a terminal reaches the whole process group; only this process handles it (cancel, keep what
    finished, shut the cluster down). The workers started now inherit the ignored signal (so Ctrl-C during
    these seconds is lost), and :mod:`cimsim._dask_worker` ignores it again in any worker started later.
    """
    from distributed import LocalCluster

    env = {"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "OPENBLAS_NUM_THREADS": "1", **(worker_env or {})}
    with _sigint_ignored():
        # no dashboard; the scheduler's HTTP server (health routes) on a free loopback port: its default 8787
        # may be taken by another cluster, which dask reports with a warning on stderr
        return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                            dashboard_address=None, scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}, env=env,
                            preload=["cimsim._dask_worker"])


def _submit(client: Any, todo: list[tuple[str, dict]], fn: Callable, seed: int, futures: dict) -> None:
    """One future per task into ``futures`` (future -> task key); a function carrying a lot of data (a closure over a dense J, say) is sent to every
    worker once instead of once per task, small ones travel inline (which survives any worker dying)."""
    fn_arg: Any = fn
    try:
        import cloudpickle

        if len(cloudpickle.dumps(fn)) > BIG_FUNCTION_BYTES:
            fn_arg = client.scatter(fn, broadcast=True, hash=False)
    except Exception:  # unpicklable here: let submit report it per task
        fn_arg = fn
    for k, p in todo:
        fut = client.submit(_execute, fn_arg, p, k, seed, pure=False, key=f"cimsim-task-{k}-{os.urandom(4).hex()}")
        futures[fut] = k


def _collect(futures: dict, finish: Callable[[str, dict], None]) -> None:
    from distributed import as_completed

    for fut in as_completed(list(futures)):
        k = futures[fut]
        try:
            rec = fut.result()
        except Exception as exc:  # KilledWorker, lost scheduler, ...
            msg = str(exc).splitlines()[0] if str(exc) else ""
            rec = {"status": "failed", "error": f"{type(exc).__name__}: {msg}".rstrip(": ")}
        finish(k, rec)
        fut.release()


def _cancel(client: Any, futures: dict) -> None:
    with contextlib.suppress(Exception):
        client.cancel(list(futures))


def _close(own_client: Any, own_cluster: Any) -> None:
    if own_client is not None:
        with contextlib.suppress(Exception):
            own_client.close(timeout=10)
    if own_cluster is not None:
        with contextlib.suppress(Exception):
            own_cluster.close(timeout=10)


def _quiet_workers(client: Any) -> None:
    """After Ctrl-C: workers about to lose their running task log nothing about it."""
    from ._dask_worker import quiet_logs

    with contextlib.suppress(Exception):
        client.run(quiet_logs, wait=True)


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Ignore SIGINT for the duration (main thread only; elsewhere signals cannot be changed)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


@contextlib.contextmanager
def _quiet_shutdown() -> Iterator[None]:
    """Shut down after Ctrl-C without dask's log lines, and without a second Ctrl-C breaking the shutdown."""
    import logging

    log = logging.getLogger("distributed")
    level = log.level
    log.setLevel(logging.CRITICAL)
    try:
        with _sigint_ignored():
            yield
    finally:
        log.setLevel(level)
