"""Memory guards: refuse, in one line and before allocating, what would not fit in memory.

Every size estimate (dense coupling matrices, replica batches, arrays declared in file headers) goes
through :func:`check_fits`, which compares it with :func:`memory_limit_bytes`: the environment variable
``CIMSIM_MEMORY_LIMIT`` (bytes) when set, else half the physical memory currently available. A refused
allocation raises :class:`~cimsim.errors.CimsimError` naming the size, the limit and what to change,
so the machine never starts swapping.
"""
from __future__ import annotations

import os

from .errors import CimsimError

__all__ = ["memory_limit_bytes", "check_fits", "check_dense_fits", "check_batch_fits"]


def _available_memory_bytes() -> int:
    """Physical memory currently available (Linux ``MemAvailable``), or 8 GiB if unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 8 << 30


def memory_limit_bytes() -> int:
    """Bytes one operation may allocate: ``CIMSIM_MEMORY_LIMIT`` (bytes) if set, else half the available memory."""
    env = os.environ.get("CIMSIM_MEMORY_LIMIT", "").strip()
    try:
        limit = int(float(env)) if env else 0
    except ValueError:
        raise CimsimError(f"CIMSIM_MEMORY_LIMIT must be a number of bytes, got {env!r}") from None
    return limit if limit > 0 else _available_memory_bytes() // 2


def _big_float(x: float | int) -> float:
    """float(x), or +inf for an integer beyond the float range (a header count of 400 digits)."""
    try:
        return float(x)
    except OverflowError:
        return float("inf")


def _short(n: object) -> str:
    """``n`` for a message: integers of more than 12 digits as ``1.2e+30``."""
    t = str(n)
    if len(t) <= 12:
        return t
    x = _big_float(n)
    if abs(x) != float("inf"):
        return f"{x:.3g}"
    digits = t.lstrip("-+")
    return f"{'-' if t.startswith('-') else ''}{digits[0]}e+{len(digits) - 1}"  # beyond floats: 1e+400


def check_fits(nbytes: float, what: str, hint: str = "use a sparse format or a smaller instance") -> None:
    """Refuse (:class:`CimsimError`, one line) an allocation of ``nbytes`` that exceeds :func:`memory_limit_bytes`.

    ``what`` names the allocation (e.g. ``"a batch of 64 x 100000 float64 amplitudes"``); ``hint`` says what
    to change. Called with a size estimate before anything is allocated.
    """
    limit = memory_limit_bytes()
    nbytes = _big_float(nbytes)
    if nbytes > limit:
        raise CimsimError(f"{what} needs {nbytes / 2**30:.3g} GiB but only {limit / 2**30:.3g} GiB may be used; {hint}")


def check_dense_fits(n: int, *, copies: int = 2, itemsize: int = 8, what: str = "coupling matrix") -> None:
    """Refuse an ``n x n`` dense array that would not fit in half the available memory.

    ``copies`` counts the dense ``n x n`` arrays the operation holds at once. Raises
    :class:`CimsimError` naming the size, so the caller never starts swapping. The limit can be set
    with the environment variable ``CIMSIM_MEMORY_LIMIT`` (bytes).
    """
    need = _big_float(n) * _big_float(n) * itemsize * copies
    check_fits(need, f"a dense {_short(n)} x {_short(n)} {what}", "use a sparse matrix (CSR) or a smaller instance")


def check_batch_fits(replicas: int, n: int, *, arrays: int = 4, itemsize: int = 8, what: str = "state") -> None:
    """Refuse a batch of ``arrays`` (replicas, n) arrays of ``itemsize`` bytes that would not fit in memory."""
    need = _big_float(replicas) * _big_float(n) * itemsize * arrays
    check_fits(need, f"a batch of {_short(replicas)} replicas x {_short(n)} spins ({what}, {arrays} arrays)",
               "use fewer replicas per batch (with --time-limit for more batches) or a smaller instance")
