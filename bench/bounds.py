"""This machine's throughput bounds, measured in the same run as the solvers.

Spin-update rates are ``replicas x spins x steps / second``.

* Dense couplings: one dynamics step of R replicas needs at least one (R, N) @ (N, N) product, so
  :func:`dense_update_bound` = R * N / (seconds per numpy matmul of that shape), float32 and float64.
* Sparse couplings: a step is memory-bound; each spin update streams its row of the CSR matrix (value
  8 B + column index 4 B per stored entry), gathers the neighbours' states (8 B each) and reads and
  writes its own state (16 B). :func:`sparse_update_bound` = triad bandwidth / those bytes. Cache reuse
  can beat it for small graphs (it is a roofline, not a hard limit); it is the fair yardstick for large ones.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from cimsim import IsingModel

__all__ = ["triad_bandwidth", "matmul_seconds", "dense_update_bound", "sparse_update_bound", "Bound", "bound_for"]


def _best_time(fn, repeats: int, min_time: float = 0.05) -> float:
    """Smallest wall time of ``fn()`` over ``repeats`` rounds (each round at least ``min_time``)."""
    fn()  # warm-up
    best = np.inf
    for _ in range(repeats):
        k = 0
        t0 = time.perf_counter()
        while True:
            fn()
            k += 1
            dt = time.perf_counter() - t0
            if dt >= min_time:
                break
        best = min(best, dt / k)
    return float(best)


@lru_cache(maxsize=None)
def triad_bandwidth(n_bytes: int = 1 << 27, repeats: int = 5) -> float:
    """Bytes/s of the STREAM triad a = b + s * c on float64 arrays of ``n_bytes`` each (default 128 MiB).

    Counts 3 arrays moved per element (2 reads, 1 write; write-allocate traffic is not counted, as STREAM).
    Runs numpy in two passes (``multiply`` then ``add`` in place), so it under-states a fused kernel's
    bandwidth slightly; it is the copy/triad bound the harness uses for sparse instances.
    """
    n = n_bytes // 8
    b = np.ones(n)
    c = np.full(n, 2.0)
    a = np.empty(n)

    def triad() -> None:
        np.multiply(c, 3.0, out=a)
        np.add(a, b, out=a)

    t = _best_time(triad, repeats, min_time=0.2)
    copy_t = _best_time(lambda: np.copyto(a, b), repeats, min_time=0.2)
    # the two-pass triad moves 5 arrays (c->a, a+b->a); report the faster of it and the copy (2 arrays)
    return float(max(5 * n * 8 / t, 2 * n * 8 / copy_t))


@lru_cache(maxsize=None)
def matmul_seconds(r: int, n: int, dtype: str = "float64", repeats: int = 3) -> float:
    """Best wall time of one ``(r, n) @ (n, n)`` numpy matmul in ``dtype``.

    Timed with BLAS at its default thread count and (when ``threadpoolctl`` is installed) with one
    thread; the faster counts. On a loaded machine OpenBLAS's own threads can be many times slower
    than one thread, and a bound must be the best this machine can do.
    """
    rng = np.random.default_rng(0)
    A = rng.standard_normal((r, n)).astype(dtype)
    B = rng.standard_normal((n, n)).astype(dtype)
    out = np.empty((r, n), dtype=dtype)
    best = _best_time(lambda: np.matmul(A, B, out=out), repeats)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return best
    with threadpool_limits(1):
        best = min(best, _best_time(lambda: np.matmul(A, B, out=out), repeats))
    return best


def dense_update_bound(r: int, n: int, dtype: str = "float64") -> float:
    """Spin updates/s if each step of ``r`` replicas cost exactly one (r, n) @ (n, n) matmul."""
    return r * n / matmul_seconds(int(r), int(n), dtype)


def sparse_bytes_per_update(model: IsingModel) -> float:
    """Bytes one spin update must move on CSR couplings (see module docstring)."""
    deg = model.J.nnz / model.n if model.is_sparse else model.n - 1
    return deg * (8 + 4 + 8) + 16


def sparse_update_bound(model: IsingModel) -> float:
    """Spin updates/s allowed by the measured memory bandwidth on ``model``'s CSR couplings."""
    return triad_bandwidth() / sparse_bytes_per_update(model)


@dataclass
class Bound:
    """A throughput bound for one (model, replicas) shape.

    kind : "dense-matmul-f64/f32" or "sparse-bandwidth"
    updates_per_s : the bound used for the ratio (float64 matmul for dense; bandwidth for sparse)
    updates_per_s_f32 : the float32 matmul bound (dense only; NaN for sparse)
    """

    kind: str
    updates_per_s: float
    updates_per_s_f32: float = float("nan")


def bound_for(model: IsingModel, replicas: int) -> Bound:
    """The bound the harness compares a solver's spin-update rate with (cached per shape)."""
    if model.is_sparse:
        return Bound("sparse-bandwidth", sparse_update_bound(model))
    r = max(1, int(replicas))
    return Bound("dense-matmul", dense_update_bound(r, model.n, "float64"), dense_update_bound(r, model.n, "float32"))
