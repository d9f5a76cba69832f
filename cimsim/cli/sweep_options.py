"""The options every sweep command shares: ``--out DIR``, ``--scheduler ADDRESS``, ``--workers N``.

Usage in a command module::

    from .sweep_options import sweep_options, run_cli_sweep

    @click.command()
    @sweep_options
    def mycommand(out, scheduler, workers, ...):
        outcome = run_cli_sweep(tasks, fn, out=out, scheduler=scheduler, workers=workers, seed=seed,
                                desc="mycommand")
        ...
        sys.exit(exit_code(outcome))

Re-running the same command with the same ``--out`` recomputes only the missing tasks (resume is
implicit). A command that writes a result file records in it the :func:`fingerprint` of everything that
determines it; :func:`already_finished` then recognises a re-run of a finished sweep, which does nothing
(one line, exit 0), and ``--force`` (``recompute=True``) computes every task again. Ctrl-C ends
:func:`run_cli_sweep` with one line on stderr and exit status 130; finished tasks stay in the store.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any, Callable, Iterator

import click

from ..errors import CimsimError
from ..result import to_jsonable
from ..sweep import SweepOutcome, check_scheduler_address, run_sweep

__all__ = ["sweep_options", "force_option", "run_cli_sweep", "exit_code", "default_workers", "fingerprint", "already_finished",
           "say_finished", "interrupt_in_one_line"]


def default_workers() -> int:
    """Cores available to this process (the LocalCluster size when ``--workers`` is not given)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _check_address(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return check_scheduler_address(value)
    except CimsimError as exc:
        raise click.BadParameter(str(exc)) from None


def sweep_options(f: Callable) -> Callable:
    """Add ``--out``, ``--scheduler`` and ``--workers`` (parameters ``out``, ``scheduler``, ``workers``)."""
    f = click.option(
        "--workers", type=click.IntRange(min=1), default=None,
        help="Size of the local dask cluster (worker processes, one thread each) [number of cores]; "
        "1 runs in this process. Ignored with --scheduler.",
    )(f)
    f = click.option(
        "--scheduler", default=None, metavar="ADDRESS", callback=_check_address,
        help="Address of a running dask scheduler, e.g. tcp://10.0.0.5:8786 (see docs/sweeps.md for SLURM).",
    )(f)
    f = click.option(
        "--out", "out", required=True, type=click.Path(file_okay=False), metavar="DIR",
        help="Result store: one JSON file per finished task, results.csv, summary.json. "
        "Re-running with the same DIR computes only the missing tasks.",
    )(f)
    return f


def force_option(f: Callable) -> Callable:
    """``--force`` of a sweep command (parameter ``force``): compute every task again."""
    return click.option("--force", is_flag=True, help="Compute every task again (ignore the stored ones) and "
                        "rewrite the result files; without it a finished sweep is not recomputed.")(f)


@contextlib.contextmanager
def interrupt_in_one_line(desc: str, out: str | Path) -> Iterator[None]:
    """Ctrl-C inside: one line on stderr and exit status 130 (wrap a sweep command's whole body in it)."""
    try:
        yield
    except KeyboardInterrupt:
        click.echo(f"cimsim: {desc} interrupted; finished tasks are stored in {out}: re-run the same command "
                   "to resume", err=True)
        sys.exit(130)


def run_cli_sweep(
    tasks: list[dict],
    fn: Callable,
    *,
    out: str,
    scheduler: str | None,
    workers: int | None,
    seed: int,
    desc: str = "sweep",
    quiet: bool = False,
    progress: bool | None = None,
    **kwargs: Any,
) -> SweepOutcome:
    """Run :func:`cimsim.sweep.run_sweep` the way every command does and print its summary on stderr.

    ``progress`` (default: not ``quiet``) shows the progress bar; ``recompute=True`` (``--force``) ignores the
    stored tasks. Ctrl-C: one line on stderr and exit status 130 (the engine has cancelled the tasks and shut its
    cluster down; the finished ones are in the store, so the same command resumes).
    """
    if scheduler is None and workers is None:
        workers = default_workers()
    with interrupt_in_one_line(desc, out):
        outcome = run_sweep(tasks, fn, seed=seed, out_dir=out, progress=not quiet if progress is None else progress,
                            desc=desc, scheduler=scheduler, workers=None if scheduler else workers, **kwargs)
    if not quiet or not outcome.complete:
        click.echo(f"{desc}: {outcome.summary()}", err=True)
        if not outcome.complete:
            click.echo(f"{desc}: incomplete; re-run the same command to retry the failed tasks", err=True)
    return outcome


def exit_code(outcome: SweepOutcome) -> int:
    """0 when every task finished, 1 when the sweep is incomplete."""
    return 0 if outcome.complete else 1


def fingerprint(config: dict) -> str:
    """SHA-256 (16 hex digits) of everything that determines a sweep command's result files."""
    blob = json.dumps(to_jsonable(config), sort_keys=True, separators=(",", ":"), default=repr)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def already_finished(out: str | Path, result_name: str, fp: str) -> bool:
    """Whether ``out/result_name`` is the result of a finished sweep with fingerprint ``fp`` whose output files
    (its ``outputs`` list, names relative to ``out``) all exist. Unreadable or foreign files count as not
    finished: the command then runs, reusing whatever tasks the store holds."""
    path = Path(out) / result_name
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(data, dict) or data.get("fingerprint") != fp or data.get("complete") is not True:
        return False
    outputs = data.get("outputs")
    if not isinstance(outputs, list):
        return False
    return all(isinstance(name, str) and (Path(out) / name).is_file() for name in outputs)


def say_finished(desc: str, out: str | Path, tasks: int) -> None:
    """The one line a re-run of a finished sweep prints (on stderr) before exiting 0."""
    click.echo(f"{desc}: {out} already holds this finished sweep ({tasks} tasks); nothing to do "
               "(--force recomputes it)", err=True)
