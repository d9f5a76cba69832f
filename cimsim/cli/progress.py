"""A wall-clock progress bar for commands whose work is one blocking call (``cimsim solve``).

:func:`timed_progress` shows a tqdm bar on stderr while the enclosed block runs: against the time budget
when there is one (``--time-limit``), else an elapsed-time counter. It appears only after one second
(short runs print nothing), only on a terminal, and never with ``--quiet``. A background thread updates
it ten times a second and is joined when the block ends.
"""
from __future__ import annotations

import contextlib
import sys
import threading
import time
from typing import Iterator

__all__ = ["timed_progress", "on_terminal"]


def on_terminal(stream=None) -> bool:
    """Whether ``stream`` (default stderr) is a terminal: progress bars are drawn only there, never into a
    redirected log."""
    stream = sys.stderr if stream is None else stream
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


@contextlib.contextmanager
def timed_progress(desc: str, budget_s: float | None = None, *, quiet: bool = False,
                   delay_s: float = 1.0) -> Iterator[None]:
    """Context manager: progress on stderr for the enclosed block (see the module docstring)."""
    if quiet or not on_terminal():
        yield
        return
    from tqdm.auto import tqdm

    fmt = ("{desc}: {bar} {n:.1f}/{total:.1f} s" if budget_s else "{desc}: {n:.1f} s elapsed")
    bar = tqdm(total=budget_s, desc=desc, delay=delay_s, disable=None, leave=False, bar_format=fmt)
    stop = threading.Event()
    t0 = time.perf_counter()

    def tick() -> None:
        while not stop.wait(0.1):
            now = time.perf_counter() - t0
            if now >= delay_s:  # refresh() itself ignores tqdm's delay
                bar.n = min(now, budget_s) if budget_s else now
                bar.refresh()

    thread = threading.Thread(target=tick, name="cimsim-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        bar.close()
