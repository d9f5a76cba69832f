"""Backend-neutral pieces of the amplitude dynamics (ahc/cac) shared by the solvers and their executors.

The solver modules (:mod:`cimsim.solvers.cac`, :mod:`cimsim.solvers.ahc`) validate parameters and build
the batches; the executors (the numba kernels of :mod:`cimsim.kernels.amplitude`, driven by
:func:`cimsim.solvers.cac.simulate`, and the device loop :func:`cimsim.gpu.dynamics.amplitude_simulate`)
integrate the equations. Both sides need the result type, the input check, the energy tolerance and the
divergence message, which live here so that no executor imports a solver.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import numpy as np

from .errors import CimsimError, divergence_error
from .model import IsingModel

__all__ = ["AmplitudeState", "check_inputs", "energy_tolerance", "amplitude_divergence", "step_values", "run_in_chunks"]


@dataclass
class AmplitudeState:
    """State of R replicas after an amplitude run (arrays have a leading replica axis).

    x, e : (R, N) float64
        Amplitudes and error variables.
    spins : (R, N) int8
        Current readout sign(x).
    energy : (R,) float64
        H(spins), tracked incrementally.
    best_spins : (R, N) int8, best_energy : (R,) float64
        Best readout each replica has visited and its energy (H_opt).
    tau_a, xi : (R,) float64
        Target squared amplitude and error-variable rate for the next step.
    t_c, steps_to_best, steps : (R,) int64
        Step of the last improvement or reset, step at which the best state was found, steps taken.
    done : int
        Steps the run covered (the requested number unless a deadline ended it early or every replica
        stopped at the target); ``None`` when not recorded.
    """

    x: np.ndarray
    e: np.ndarray
    spins: np.ndarray
    energy: np.ndarray
    best_spins: np.ndarray
    best_energy: np.ndarray
    tau_a: np.ndarray
    xi: np.ndarray
    t_c: np.ndarray
    steps_to_best: np.ndarray
    steps: np.ndarray
    done: int | None = None


def check_inputs(model: IsingModel, X: np.ndarray, E: np.ndarray) -> None:
    """Raise :class:`CimsimError` unless ``model`` is field-free and ``X``, ``E`` are finite (R, N) arrays
    with N = ``model.n`` (the input check of every amplitude executor)."""
    if model.has_fields:
        raise CimsimError("simulate needs a field-free model; use model.with_aux_spin()")
    R, N = X.shape
    if E.shape != (R, N) or N != model.n:
        raise CimsimError(f"x and e must both have shape (R, {model.n}); got {X.shape} and {E.shape}")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(E))):
        raise CimsimError("initial x and e must be finite")


def energy_tolerance(model: IsingModel) -> float:
    """Tolerance of the incremental energy comparisons: 1e-9 max|J_ij| N."""
    J = model.J
    unit = float(np.max(np.abs(J.data))) if model.is_sparse and J.nnz else (
        float(np.max(np.abs(J))) if not model.is_sparse and J.size else 1.0)
    return 1e-9 * max(unit, 1e-300) * max(model.n, 1)


def amplitude_divergence(bad: int, replicas: int, step: int, steps: int, dt: float, coupling: float, x_max: float,
                         mu: float) -> CimsimError:
    """The one-line error of an ahc/cac run in which ``bad`` of ``replicas`` replicas went NaN/inf by ``step``."""
    guard = 1.0 / np.sqrt(mu * dt)
    change = f"lower dt (now {dt:g}) or the coupling (now {coupling:.3g})"
    if x_max > guard:
        change += f", and keep x_max at its default 1/sqrt(mu dt) = {guard:.3g} (now {x_max:.3g})"
    return divergence_error("amplitude dynamics (ahc/cac)", step, steps, bad, replicas, change)


def step_values(schedule: Any, constant: float, steps: int, t0: int, t1: int) -> np.ndarray:
    """(t1 - t0,) values of a parameter at steps ``t0 <= t < t1`` of a run of ``steps`` steps: ``constant``
    everywhere when ``schedule`` is None, else ``schedule(t / (steps - 1))`` (a
    :class:`~cimsim.schedules.Schedule`; progress 0 at the first step, 1 at the last). Each value depends
    on its own step only, so any split of the run into chunks gives the same values."""
    if schedule is None:
        return np.full(t1 - t0, float(constant))
    u = np.arange(t0, t1, dtype=np.float64) / (steps - 1) if steps > 1 else np.zeros(t1 - t0)
    return np.asarray(schedule(u), dtype=np.float64).reshape(t1 - t0)


def run_in_chunks(advance: Callable[[int, int], bool], total: int, deadline: Any = None,
                  marks: Iterable[int] = (), on_mark: Callable[[int], None] | None = None,
                  target_s: float = 0.2) -> int:
    """Run steps ``[0, total)`` as consecutive calls ``advance(t0, t1)`` and return the steps covered.

    Calls are sized to take about ``target_s`` seconds (the first is one step, then the size follows the
    measured cost, growing at most 8x per call, as :func:`cimsim.solvers.budget.run_chunked`) and are cut
    at every step count in ``marks``, after which ``on_mark(t)`` is called (a sampling tap records there).
    The loop stops early once ``deadline.expired()`` (checked between calls, after the first) or once
    ``advance`` returns False (nothing left to run: every replica stopped). ``advance`` must carry the
    whole state between calls, so the split never changes the result."""
    stops = sorted({int(m) for m in marks if 0 < int(m) <= total})
    done, size, k = 0, 1, 0
    while done < total:
        if done > 0 and deadline is not None and deadline.expired():
            break
        while k < len(stops) and stops[k] <= done:
            k += 1
        end = min(done + size, total)
        if k < len(stops):
            end = min(end, stops[k])
        tic = time.perf_counter()
        more = advance(done, end)
        spent = time.perf_counter() - tic
        n, done = end - done, end
        if on_mark is not None and k < len(stops) and stops[k] == done:
            on_mark(done)
        if not more:
            break
        est = int(n * target_s / spent) if spent > 0 else 8 * size
        size = max(1, min(8 * size, est))
    return done
