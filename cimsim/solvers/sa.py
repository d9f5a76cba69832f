"""Simulated annealing: Metropolis single-spin flips, sequential sweeps, geometric beta schedule.

``steps`` counts sweeps (N flip attempts each); ``beta`` changes once per sweep, from ``beta_min`` to
``beta_max`` along a geometric (default) or linear ``beta_schedule``. Each replica starts from uniformly random
spins (or ``initial``) and returns its final state; the driver then polishes and scores it.

Automatic beta range (:func:`beta_range`), in the spirit of dwave-neal but with *typical* rather than
worst-case moves so no sweeps are wasted far above the ordering temperature:

* hot: at a random state the field on spin i has spread ``rms_i = sqrt(sum_j J_ij^2)`` about ``h_i``,
  so a typical large uphill move is ``dE_hot = 2 max_i (|h_i| + rms_i)``; ``beta_min = ln 4 / dE_hot``
  accepts it with probability 1/4 (for SK, beta_min = 0.66: just above T_c = 1, where the hot sweeps,
  whose flips cost O(N) each, buy nothing).
* cold: the smallest uphill move that matters, ``dE_cold``: for couplings on a lattice of step ``g``
  (integer weights, +-1 graphs) it is ``2 g``; for continuous couplings it is taken as
  ``2 * COLD_FRACTION * median_i rms_i`` (a field that small is a near-zero-cost move that annealing
  need not resolve). ``beta_max = ln 100 / dE_cold`` accepts it with probability 1/100 (SK: 11.5).

Parameters: :data:`PARAMS` (``cimsim solvers sa``). ``record=True`` stores the energy of every replica
after every sweep in ``extra["trace_energy"]`` (steps, R) and the sweep's inverse temperature in
``extra["trace_beta"]`` (steps,).
"""
from __future__ import annotations

import numba as nb
import numpy as np

from ..errors import CimsimError, positive_int
from ..kernels.sa import anneal_csr_chunk, anneal_csr_lattice_chunk, anneal_dense_chunk
from ..memory import check_dense_fits
from ..model import IsingModel
from ..spins import start_spins
from ..params import Param, recorded, validate
from ..sampling import active_tap
from . import Batch, check_backend
from .budget import Deadline, run_chunked, short_calls

__all__ = ["defaults", "budget_replicas", "run", "beta_range", "beta_schedule", "lattice_form", "COLD_FRACTION",
           "PARAMS"]

SCHEDULES = ("geometric", "linear")
#: with a time limit and no explicit ``steps``, the driver lengthens the anneals so that about this
#: many batches fill the budget (longer anneals beat more restarts once a budget allows them; on
#: G55/G60/G65 at 10 s, 3 batches of 2 replicas beat 11-37 batches of the default length).
BUDGET_BATCHES = 3
#: the driver solves the exactly reduced model (cimsim.presolve) and expands the answers: removing
#: chains of degree-2 spins takes G70 from 10,000 to 2,164 spins.
PRESOLVE = True
#: sampling mode (cimsim.sampling): the spins of every replica are recorded at the tap's sweeps (a step is a sweep)
SAMPLES = True
#: continuous couplings: uphill moves below this fraction of the typical field are not resolved.
COLD_FRACTION = 0.2

#: The parameters of :func:`run` (``solve(model, "sa", **params)``, ``-p KEY=VALUE``).
PARAMS: tuple[Param, ...] = (
    Param("beta_min", "float", None, "inverse temperature of the first sweep", low=0, low_open=True,
          auto="ln 4 / (2 max_i(|h_i| + rms_i J)) (beta_range)"),
    Param("beta_max", "float", None, "inverse temperature of the last sweep", low=0, low_open=True,
          auto="ln 100 / smallest relevant uphill move (beta_range)"),
    Param("beta_schedule", "choice", "geometric", "how beta runs from beta_min to beta_max, one value per sweep",
          choices=SCHEDULES),
    Param("initial", "any", None, "start spins: (N,) or (R, N) +-1 (default: uniformly random)"),
    Param("record", "bool", False, "store trace_energy (steps, R) and trace_beta (steps,) in extra"),
    Param("resync", "int", None, "dense J: recompute the float32 fields after this many accepted flips", low=1,
          auto="64 N"),
)


def defaults(model: IsingModel) -> dict:
    """Replicas and sweeps by storage and size.

    Dense: 8 replicas x min(max(5 N, 1000), 10000) sweeps. On SK N = 2000 this (10 CPU-s) gave a
    better best-of-batch than 2 x 20000 (6 CPU-s) or 2 x 60000 sweeps (17 CPU-s): once an anneal is
    long enough, more replicas pay (bench/sa_sb_notes.md). CSR: 4 replicas x min(max(10 N, 1000), 5000).
    """
    n = model.n
    if n <= 64:
        return {"replicas": 8, "steps": 1000}
    if model.is_sparse:
        return {"replicas": 4, "steps": int(min(max(10 * n, 1000), 5000))}
    return {"replicas": 8, "steps": int(min(max(5 * n, 1000), 10000))}


def budget_replicas(model: IsingModel) -> int:
    """Replicas per batch under a time limit (when not given): one per numba thread, so that each
    anneal is as long as the budget allows (G81 at 10 s: 13959 with 2 replicas on 2 threads against
    13937 with 4)."""
    return max(1, int(nb.get_num_threads()))


def _lattice_step(values: np.ndarray) -> float:
    """Smallest non-zero |value| if every |value| (of a sample) is an integer multiple of it, else 0.

    More than 256 distinct magnitudes (or distinct values making up over a tenth of the sample) means
    continuous couplings, reported as 0.
    """
    v = np.abs(values[values != 0])
    if v.size > 4096:
        v = v[:: v.size // 4096]
    sample = v.size
    v = np.unique(v)
    if v.size == 0 or v.size > 256 or (sample >= 100 and v.size * 10 > sample):
        return 0.0
    q = v / v[0]
    return float(v[0]) if np.all(np.abs(q - np.round(q)) <= 1e-9 * q) else 0.0


def lattice_form(model: IsingModel) -> tuple[np.ndarray, np.ndarray, float, int] | None:
    """``(wq, hq, g, dmax)`` with ``J.data = g * wq`` and ``h = g * hq`` exactly, for a CSR model whose
    couplings and fields are all integer multiples of one step ``g`` (Gset and most combinatorial
    encodings); ``None`` otherwise, or when the largest field ``dmax = max_i(|hq_i| + sum_j |wq_ij|)``
    would make the acceptance table of :func:`cimsim.kernels.sa.anneal_csr_lattice` large (> 65536).
    """
    if not model.is_sparse:
        return None
    data = model.J.data
    vals = np.abs(np.concatenate([data, model.h]))
    vals = vals[vals != 0]
    if vals.size == 0:
        return None
    g = float(vals.min())
    qd = data / g
    qh = model.h / g
    wq = np.round(qd)
    hq = np.round(qh)
    if not (np.all(np.abs(qd - wq) <= 1e-9 * np.maximum(1.0, np.abs(qd)))
            and np.all(np.abs(qh - hq) <= 1e-9 * np.maximum(1.0, np.abs(qh)))):
        return None
    rows = np.add.reduceat(np.abs(wq), model.J.indptr[:-1]) if data.size else np.zeros(model.n)
    rows = np.where(np.diff(model.J.indptr) > 0, rows, 0.0)  # reduceat repeats a value on empty rows
    dmax = float(np.max(np.abs(hq) + rows))
    if dmax > 65536:
        return None
    return wq.astype(np.int32), hq.astype(np.int32), g, int(dmax)


def beta_range(model: IsingModel) -> tuple[float, float]:
    """Automatic ``(beta_min, beta_max)`` for ``model`` (see the module docstring)."""
    J = model.J
    h = np.abs(model.h)
    if model.is_sparse:
        rms = np.sqrt(np.asarray(J.multiply(J).sum(axis=1)).reshape(-1))
        vals = J.data
    else:
        rms = np.sqrt(np.einsum("ij,ij->i", J, J))
        vals = J[: min(model.n, 64)].ravel()  # a sample of rows is enough to tell a lattice
    dE_hot = 2.0 * float(np.max(h + rms))
    if dE_hot <= 0:
        return 1.0, 1.0
    g = _lattice_step(np.concatenate([vals, model.h]))
    if g > 0 and g >= 1e-3 * float(np.median(rms[rms > 0] if np.any(rms > 0) else h)):
        dE_cold = 2.0 * g
    else:
        typical = float(np.median(rms)) if np.any(rms > 0) else float(np.median(h))
        dE_cold = 2.0 * COLD_FRACTION * typical
    beta_min = np.log(4.0) / dE_hot
    beta_max = max(np.log(100.0) / dE_cold, beta_min)
    return float(beta_min), float(beta_max)


def beta_schedule(beta_min: float, beta_max: float, steps: int, schedule: str = "geometric") -> np.ndarray:
    """The (steps,) inverse temperatures, one per sweep, from ``beta_min`` to ``beta_max`` inclusive."""
    if schedule == "geometric":
        return np.geomspace(beta_min, beta_max, steps) if steps > 1 else np.array([beta_max])
    if schedule == "linear":
        return np.linspace(beta_min, beta_max, steps) if steps > 1 else np.array([beta_max])
    raise CimsimError(f"unknown schedule {schedule!r}; choose one of {', '.join(SCHEDULES)}")


def run(
    model: IsingModel,
    *,
    replicas: int,
    steps: int,
    rng: np.random.Generator,
    backend: str = "cpu",
    deadline: Deadline | None = None,
    **params,
) -> Batch:
    """Anneal ``replicas`` independent replicas for ``steps`` sweeps; returns their final spins.
    Parameters: :data:`PARAMS`. ``deadline`` (the driver's): stop after the sweep chunk during which it
    expires; ``Batch.steps`` is then the sweeps done."""
    check_backend("sa", backend)
    prm = validate(PARAMS, params, "sa")
    beta_min, beta_max, schedule = prm["beta_min"], prm["beta_max"], prm["beta_schedule"]
    record = prm["record"]
    R = positive_int(replicas, "replicas")
    T = positive_int(steps, "steps")
    resync = prm["resync"] if prm["resync"] is not None else positive_int(64 * model.n, "resync")
    auto_min, auto_max = (None, None)
    if beta_min is None or beta_max is None:
        auto_min, auto_max = beta_range(model)
    b0 = beta_min if beta_min is not None else auto_min
    b1 = beta_max if beta_max is not None else auto_max
    if beta_min is None and b0 > b1:  # only beta_max given: keep the range ordered
        b0 = b1
    if beta_max is None and b1 < b0:
        b1 = b0
    if b0 > b1:
        raise CimsimError(f"beta_min ({b0:g}) must not exceed beta_max ({b1:g})")
    n = model.n
    S = start_spins(prm["initial"], R, n, rng)
    if not model.is_sparse:
        check_dense_fits(n, copies=1, itemsize=4, what="float32 copy of J")
    betas = beta_schedule(b0, b1, T, schedule)
    seeds = rng.integers(1, np.iinfo(np.int64).max, size=R, dtype=np.int64).astype(np.uint64)
    E = np.asarray(model.energies(S), dtype=np.float64).copy()
    tr = np.empty((R, T if record else 0), dtype=np.float64)
    h = np.ascontiguousarray(model.h, dtype=np.float64)
    lattice = lattice_form(model) if model.is_sparse else None
    state = seeds.copy()  # the replicas' random streams, carried from chunk to chunk
    flips = np.zeros(R, dtype=np.int64)
    if lattice is not None:
        wq, hq, g, dmax = lattice
        Jc = model.J
        Q = np.empty((R, n), dtype=np.int32)

        def sweeps(t0: int, t1: int) -> None:
            anneal_csr_lattice_chunk(Jc.indptr, Jc.indices, wq, hq, g, dmax, S, E, betas[t0:t1], state,
                                     tr[:, t0:t1] if record else tr, Q, flips, t0 == 0)
    elif model.is_sparse:
        Jc = model.J
        data = Jc.data.astype(np.float64, copy=False)
        PHI = np.empty((R, n))

        def sweeps(t0: int, t1: int) -> None:
            anneal_csr_chunk(Jc.indptr, Jc.indices, data, h, S, E, betas[t0:t1], state,
                             tr[:, t0:t1] if record else tr, PHI, flips, t0 == 0)
    else:
        J64 = np.ascontiguousarray(model.J, dtype=np.float64)
        J32 = J64.astype(np.float32)
        PHI32 = np.empty((R, n), dtype=np.float32)
        since = np.full(R, resync, dtype=np.int64)

        def sweeps(t0: int, t1: int) -> None:
            anneal_dense_chunk(J32, J64, h, float(model.offset), S, E, betas[t0:t1], state, resync,
                               tr[:, t0:t1] if record else tr, PHI32, since, flips, t1 == T)
    # sweeps in chunks of about budget.CHUNK_S seconds: Ctrl-C and the driver's deadline are seen between
    # them, and a stopped anneal reports the sweeps it did (chunking does not change the moves made)
    # sampling mode: chunks end at the tap's sweeps, where the current spins are recorded
    tap = active_tap()
    with short_calls(tap.every * R * n if tap is not None else float("inf")):
        T_done = run_chunked(sweeps, T, deadline, marks=tap.marks(T) if tap is not None else None,
                             at_mark=(lambda t: tap.record(t, S)) if tap is not None else None)
    if T_done < T and not model.is_sparse:  # stopped early: the dense kernel's closing exact resync
        E[:] = model.energies(S)
    if T_done < T:
        betas = betas[:T_done]
        tr = tr[:, :T_done]
    settings = dict(beta_min=b0, beta_max=b1, beta_schedule=schedule, initial=recorded(prm["initial"]),
                    record=record, resync=resync,
                    kernel="dense" if not model.is_sparse else ("csr-lattice" if lattice is not None else "csr"))
    extra: dict = {"accepted_flips": flips.astype(np.int64), "final_energies": E}
    if record:
        extra["trace_energy"] = np.ascontiguousarray(tr.T)
        extra["trace_beta"] = betas
    return Batch(S, T_done, settings, extra)

