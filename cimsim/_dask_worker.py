"""Worker preload for the sweep engine's LocalCluster (``preload=["cimsim._dask_worker"]``).

Ctrl-C in a terminal signals the whole process group; the client process alone handles it (cancels the
tasks, keeps the finished ones, shuts the cluster down), so a worker ignores SIGINT instead of dying
with a traceback. The workers started with the cluster already inherit the ignored signal; this covers
a worker the nanny restarts later.

It also re-reads numba's configuration: a worker process can import numba before the cluster's ``env``
(``NUMBA_NUM_THREADS=1``) is in its environment, so numba's config still holds the machine's core count;
the thread pool a task then launches has the env's size, and the next compilation re-reads the config and
fails with "Cannot set NUMBA_NUM_THREADS to a different value once the threads have been launched".
"""
from __future__ import annotations

import logging
import os
import signal
import sys
import threading


def dask_setup(worker) -> None:  # noqa: ARG001  (the preload protocol passes the worker)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    numba_config_from_env()


def numba_config_from_env() -> None:
    """Make an already imported numba's config agree with ``NUMBA_NUM_THREADS`` in the environment
    (before any thread pool is launched; a no-op when numba is not imported or the variable is unset)."""
    config = sys.modules.get("numba.core.config")
    if config is not None and os.environ.get("NUMBA_NUM_THREADS"):
        config.reload_config()


def quiet_logs() -> None:
    """Run on every worker (``client.run``) before an interrupted sweep shuts the cluster down."""
    logging.getLogger("distributed").setLevel(logging.CRITICAL)
