"""Worker preload for the sweep engine's LocalCluster (``preload=["cimsim._dask_worker"]``).

Ctrl-C in a terminal signals the whole process group; the client process alone handles it (cancels the
tasks, keeps the finished ones, shuts the cluster down), so a worker ignores SIGINT instead of dying
with a traceback. The workers started with the cluster already inherit the ignored signal; this covers
a worker the nanny restarts later.
"""
from __future__ import annotations

import logging
import signal
import threading


def dask_setup(worker) -> None:  # noqa: ARG001  (the preload protocol passes the worker)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def quiet_logs() -> None:
    """Run on every worker (``client.run``) before an interrupted sweep shuts the cluster down."""
    logging.getLogger("distributed").setLevel(logging.CRITICAL)
