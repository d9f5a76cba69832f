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
implicit); a finished sweep re-run does no work. The API here is kept small and stable.
"""
from __future__ import annotations

import os
from typing import Any, Callable

import click

from ..errors import CimsimError
from ..sweep import SweepOutcome, check_scheduler_address, run_sweep

__all__ = ["sweep_options", "run_cli_sweep", "exit_code", "default_workers"]


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
    **kwargs: Any,
) -> SweepOutcome:
    """Run :func:`cimsim.sweep.run_sweep` the way every command does and print its summary on stderr."""
    if scheduler is None and workers is None:
        workers = default_workers()
    try:
        outcome = run_sweep(tasks, fn, seed=seed, out_dir=out, progress=not quiet, desc=desc,
                            scheduler=scheduler, workers=None if scheduler else workers, **kwargs)
    except KeyboardInterrupt:
        click.echo(f"{desc}: interrupted; finished tasks are stored in {out}: re-run the same command to resume",
                   err=True)
        raise
    if not quiet or not outcome.complete:
        click.echo(f"{desc}: {outcome.summary()}", err=True)
        if not outcome.complete:
            click.echo(f"{desc}: incomplete; re-run the same command to retry the failed tasks", err=True)
    return outcome


def exit_code(outcome: SweepOutcome) -> int:
    """0 when every task finished, 1 when the sweep is incomplete."""
    return 0 if outcome.complete else 1
