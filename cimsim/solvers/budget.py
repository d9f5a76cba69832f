"""The run budget a solver checks while it works: a wall-clock deadline and an interrupt flag.

The driver (:func:`cimsim.solvers.solve`) makes one :class:`Deadline` per call and passes it as the keyword
``deadline`` to every solver whose ``run`` accepts one (all but exact and matching). Such a solver runs its work in
pieces (:func:`run_chunked` sizes numba kernel calls to about :data:`CHUNK_S` seconds) and stops at the
first piece boundary after :meth:`Deadline.expired` turns true -- the time limit is reached or the user
pressed Ctrl-C -- returning its state so far and the steps it actually took (``Batch.steps``).

Chunking never changes results: a kernel continued from its carried state (spins, fields, random streams)
makes exactly the moves of one uninterrupted call.
"""
from __future__ import annotations

import contextlib
import contextvars
import time
from typing import Callable, Iterator, Sequence

import numba as nb

__all__ = ["Deadline", "run_chunked", "CHUNK_S", "NO_DEADLINE", "short_calls", "SERIAL_WORK", "running_under",
           "active_deadline"]

#: target wall time of one kernel call: a signal or a deadline is seen within about this long
CHUNK_S = 0.2


class Deadline:
    """``end``: a :func:`time.perf_counter` time after which work should stop (``None``: no limit);
    ``interrupted``: set (by the driver's SIGINT handler) when the user asked to stop."""

    def __init__(self, end: float | None = None) -> None:
        self.end = end
        self.interrupted = False

    def expired(self) -> bool:
        """True once the time is up or the run was interrupted."""
        return self.interrupted or (self.end is not None and time.perf_counter() >= self.end)

    def remaining(self) -> float:
        """Seconds left (``inf`` without a limit, 0 once expired)."""
        if self.interrupted:
            return 0.0
        if self.end is None:
            return float("inf")
        return max(0.0, self.end - time.perf_counter())


#: kernel calls doing less work than this (spin updates) run on one numba thread (:func:`short_calls`)
SERIAL_WORK = 1 << 20


@contextlib.contextmanager
def short_calls(work: float) -> Iterator[None]:
    """Within the block, parallel numba kernels run on one thread when each call does fewer than
    :data:`SERIAL_WORK` spin updates (``work``). Sampling mode calls a kernel for every few steps; starting
    and joining the thread pool for such a call cost 16 ms on this loaded 2-core machine against 4 us for
    the work itself (dSB, 8 replicas of 12 spins, one step). Replicas are independent, so the thread count
    never changes results."""
    if work >= SERIAL_WORK:
        yield
        return
    before = nb.get_num_threads()
    nb.set_num_threads(1)
    try:
        yield
    finally:
        nb.set_num_threads(before)


#: a deadline that never expires (a solver called directly, not through the driver)
NO_DEADLINE = Deadline(None)

_ACTIVE: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar("cimsim_deadline", default=None)


@contextlib.contextmanager
def running_under(deadline: Deadline | None) -> Iterator[None]:
    """Within the block, :func:`active_deadline` returns ``deadline``: the driver sets it around a budgeted
    batch so that set-up work shared by many solvers (eigenvalue estimates, :mod:`cimsim.solvers.eigen`)
    can bound its own time without every solver passing the deadline down."""
    token = _ACTIVE.set(deadline)
    try:
        yield
    finally:
        _ACTIVE.reset(token)


def active_deadline() -> Deadline | None:
    """The deadline of the budgeted batch now running (:func:`running_under`), or ``None``."""
    return _ACTIVE.get()


def run_chunked(step: Callable[[int, int], None], total: int, deadline: Deadline | None,
                target_s: float | None = None, marks: Sequence[int] | None = None,
                at_mark: Callable[[int], None] | None = None) -> int:
    """Call ``step(t0, t1)`` over consecutive ranges covering ``[0, total)``, each sized to take about
    ``target_s`` seconds (the first is one step; sizes then follow the measured cost, growing at most 8x
    per call), and stop early once ``deadline`` has expired. Returns the steps done (``total`` unless
    stopped). At least one step is always done. ``target_s`` defaults to :data:`CHUNK_S`.

    ``marks`` (ascending step counts, e.g. :meth:`cimsim.sampling.Tap.marks`): no range crosses a mark, and
    ``at_mark(m)`` is called as soon as the first ``m`` steps are done (sampling mode reads the state there)."""
    target_s = CHUNK_S if target_s is None else target_s
    done, size = 0, 1
    pending = (m for m in (marks if marks is not None else ()) if 0 < m <= total)  # read lazily: marks may be long
    mark = next(pending, None)
    while done < total:
        if done > 0 and deadline is not None and deadline.expired():
            break
        while mark is not None and mark <= done:
            mark = next(pending, None)
        n = min(size, total - done)
        if mark is not None:
            n = min(n, mark - done)
        tic = time.perf_counter()
        step(done, done + n)
        dt = time.perf_counter() - tic
        done += n
        if mark is not None and done == mark:
            mark = next(pending, None)
            if at_mark is not None:
                at_mark(done)
        size = max(1, min(8 * n, int(n * target_s / dt) if dt > 0 else 8 * n))
    return done
