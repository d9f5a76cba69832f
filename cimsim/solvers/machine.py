"""What the hardware-model solvers (:mod:`~cimsim.solvers.dopo`, :mod:`~cimsim.solvers.mfb`) share: the pump
in units of threshold, and the readout bookkeeping (best state per replica, optional trace, divergence)."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import divergence_error
from ..model import IsingModel
from ..schedules import Schedule

__all__ = ["pump_values", "Readout"]


def pump_values(model: IsingModel, schedule: Schedule, eps: float, steps: int,
                rng: np.random.Generator) -> tuple[np.ndarray, float | None]:
    """(steps,) pump values p (units of the solitary threshold) and lambda_max of J_hat when needed.

    A ``relative`` schedule holds offsets from the network threshold p_th = 1 - eps lambda_max(J_hat),
    where the first collective mode of the coupled pulses starts to grow (physics.md 8.2)."""
    lam = None
    if getattr(schedule, "relative", False):
        from .adiabatic import top_eigenpair

        lam = top_eigenpair(model, rng)[0]
        schedule = schedule.absolute(eps * lam - 1.0)
    return (schedule.values(steps) if steps > 1 else np.array([float(schedule(0.0))])), lam


class Readout:
    """Scores the Ising readout sign(v) of (R, N) amplitudes: per-replica best (or last) state, an optional
    trace of replica 0, and a one-line divergence error naming ``what_to_change``."""

    def __init__(self, model: IsingModel, first: np.ndarray, *, solver: str, steps: int, track_best: bool,
                 record: int) -> None:
        self.model, self.solver, self.steps, self.track_best = model, solver, steps, track_best
        self.spins = np.where(first >= 0, 1, -1).astype(np.int8)
        self.energies = model.energies(self.spins)
        R, n = first.shape
        self.trace_pump = np.zeros(record)
        self.trace_x = np.zeros((record, n))
        self.trace_energy = np.zeros((record, R))
        self.count = 0

    def __call__(self, step: int, amplitudes: np.ndarray, pump: float, what_to_change: str) -> np.ndarray:
        """Score the readout after ``step`` (0-based) steps; returns the (R,) energies of this readout."""
        if not np.isfinite(amplitudes.sum()):
            bad = int((~np.isfinite(amplitudes).all(axis=1)).sum())
            raise divergence_error(self.solver, step + 1, self.steps, bad, amplitudes.shape[0], what_to_change)
        S = np.where(amplitudes >= 0, 1, -1).astype(np.int8)
        E = self.model.energies(S)
        if self.track_best:
            better = E < self.energies
            self.spins[better] = S[better]
            self.energies = np.where(better, E, self.energies)
        else:
            self.spins, self.energies = S, E
        if self.count < self.trace_pump.shape[0]:
            k = self.count
            self.trace_pump[k], self.trace_x[k], self.trace_energy[k] = pump, amplitudes[0], E
            self.count += 1
        return E

    def trace(self) -> dict[str, Any]:
        """The recorded trace (empty dict when none was asked for)."""
        if not self.trace_pump.shape[0]:
            return {}
        k = self.count
        return {"trace_pump": self.trace_pump[:k], "trace_x": self.trace_x[:k], "trace_energy": self.trace_energy[:k]}
