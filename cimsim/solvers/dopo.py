"""DOPO network with quantum noise (truncated Wigner), physics.md 8.1-8.3.

A coherent Ising machine as a ring of degenerate optical parametric oscillator pulses, each described by
its in-phase and quadrature amplitudes (c, s) in c-units (g x photon amplitude), time in units of the
signal amplitude decay time 1/kappa, pump ``p`` in units of the solitary threshold (p = 1)::

    dc_i = [(-1 + p - c_i^2 - s_i^2) c_i + sum_j xi_ij c~_j + b_i] dt + g sqrt(c_i^2 + s_i^2 + 1/2) dW_i
    ds_i = [(-1 - p - c_i^2 - s_i^2) s_i + chi sum_j xi_ij s_j] dt   + g sqrt(c_i^2 + s_i^2 + 1/2) dV_i

with xi = eps J_hat (J_hat = J / coupling_scale()), b = eps^(3/2) h_hat (the injection that realises
fields h), and ``g^2`` the saturation parameter (``g2``). The multiplicative noise is the truncated-Wigner
diffusion of cavity loss plus pump back-conversion. Two couplings (``coupling_mode=``):

``delay-line`` (chi = 1)
    optical coupling, acting on both quadratures, with the intracavity amplitudes (c~ = c);
``mfb`` (chi = 0, default)
    measurement feedback: only the measured in-phase value is fed back, c~ = c + sigma w with the
    homodyne noise of a tap of reflectivity ``tap`` once per round trip of length ``round_trip``, taken
    in its continuum limit: a white noise of intensity g^2 / (8 j_m), j_m = tap / (2 round_trip).

Without noise (``quantum_noise=false``) the in-phase equation is exactly the mean-field CIM of
:mod:`cimsim.solvers.cim` in other units (:func:`project_units`): a = (p - 1)/eps, x = c/sqrt(eps),
tau = eps t, h_hat = b/eps^(3/2); one Euler step of length dt here is one cim step of length eps dt.
With noise, the dynamics is Langevin dynamics on the soft-spin energy at T_eff = g^2 / (4 eps^2).

The pump follows a schedule in p (``schedule=``, any :mod:`cimsim.schedules` spec; ``relative=1`` gives
offsets from the network threshold p_th = 1 - eps lambda_max(J_hat)). The readout sign(c) is scored
every ``readout`` steps; every replica returns the best state it visited.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from ..kernels.dopo import add_measurement_noise, dopo_step
from ..memory import check_batch_fits
from ..model import IsingModel
from ..params import Param
from ..sampling import active_tap
from . import Batch
from .machine import (cpu_only, dense_matvec_f32, MachinePlan, product_dtype, pump_values, Readout, replica_streams,
                      start)

__all__ = ["PARAMS", "defaults", "run", "plan", "Plan", "project_units", "simulate"]

#: sampling mode (cimsim.sampling): sign(c) of every replica after the tap's Euler steps
SAMPLES = True

PARAMS: tuple[Param, ...] = (
    # the default is cim's default ramp (a from 0.2 below to 1.5 above threshold) at the default eps = 0.2
    Param("schedule", "str", "linear:-0.04,0.3,relative=1",
          "pump p (units of the solitary threshold) over the run; relative=1: offsets from 1 - eps lambda_max"),
    Param("eps", "float", 0.2, "coupling strength: xi = eps J / coupling_scale()", low=0.0, low_open=True),
    Param("g2", "float", 1e-4, "saturation parameter g^2 (1/g^2 photons at p = 2); sets the quantum noise",
          low=0.0, high=1.0, low_open=True),
    Param("coupling_mode", "choice", "mfb", "mfb: measured in-phase feedback; delay-line: optical, both quadratures",
          choices=("mfb", "delay-line"), aliases={"dl": "delay-line", "delay_line": "delay-line",
                                                   "measurement-feedback": "mfb"}),
    Param("tap", "float", 0.1, "extraction beam-splitter reflectivity R_B of the homodyne tap (mfb)",
          low=0.0, high=1.0, low_open=True, high_open=True),
    Param("round_trip", "float", 0.1, "round-trip time in units of 1/kappa (sets j_m = tap / (2 round_trip))",
          low=0.0, low_open=True),
    Param("quantum_noise", "bool", True, "truncated-Wigner noise and vacuum start; false: the mean-field CIM"),
    Param("init_scale", "float", 1e-3, "without quantum noise: sd of the initial in-phase amplitudes (c-units)", low=0.0),
    Param("dt", "float", 0.05, "Euler-Maruyama step in units of 1/kappa", low=0.0, low_open=True),
    Param("float32", "bool", True, "dense J from N = 256: the coupling product in float32 (a float32 copy of "
          "J_hat, half the bytes streamed per step); amplitudes, the step and energies stay float64 (false: float64)"),
    Param("readout", "int", 10, "score sign(c) every this many steps", low=1),
    Param("track_best", "bool", True, "return each replica's best visited state (false: its final state)"),
    Param("record", "bool", False, "store replica 0's trajectory at every readout in extra"),
)


def defaults(model: IsingModel) -> dict:
    """32 replicas x 5000 Euler steps (250 / kappa, 2500 round trips of 0.1) up to N = 200; beyond, the pump
    ramp grows as 25 N steps up to 20000 (1000 / kappa) and the replicas fall to 8.

    The ramp must be slow next to the growth of the collective modes near threshold, whose eigenvalue gaps
    shrink with N; on G1 (N = 800) four runs of 5000 steps reached cuts of 11507-11556, of 20000 steps
    11549-11603 (0.998 x 11624 = 11601). Replicas are independent runs of the machine, so fewer of them per
    batch leave a time-limited call more batches of the full ramp instead of one compressed ramp."""
    n = model.n
    if n <= 200:
        return {"replicas": 32, "steps": 5000}
    return {"replicas": 8, "steps": int(min(25 * n, 20000))}


@dataclass(frozen=True)
class Plan(MachinePlan):
    """Validated parameters of one dopo batch (built by :func:`plan`)."""

    coupling_mode: str
    tap: float
    round_trip: float
    quantum_noise: bool
    init_scale: float
    dt: float
    float32: bool
    readout: int
    track_best: bool
    record: bool

    @property
    def g(self) -> float:
        return math.sqrt(self.g2) if self.quantum_noise else 0.0

    @property
    def measurement_sd(self) -> float:
        """Per-step sd of the homodyne record's noise (mfb with quantum noise; 0 otherwise)."""
        if self.coupling_mode != "mfb" or not self.quantum_noise:
            return 0.0
        j_m = self.tap / (2.0 * self.round_trip)
        return self.g / math.sqrt(8.0 * j_m * self.dt)


def plan(*, replicas: int, steps: int, **params: Any) -> Plan:
    """Validate the dopo parameters (:data:`PARAMS`) before any work starts."""
    v, R, T, sched, _ = start("dopo", PARAMS, params, replicas, steps)
    del v["schedule"]
    return Plan(R, T, sched, **v)


def project_units(*, eps: float, g2: float, p: Any = None, c: Any = None, t: Any = None,
                  b: Any = None) -> dict[str, Any]:
    """Hardware quantities in the project's units (physics.md 8.2): pump a = (p - 1)/eps, amplitude
    x = c/sqrt(eps), time tau = eps t, field h_hat = b/eps^(3/2), and the effective temperature
    T_eff = g^2/(4 eps^2) of the Langevin dynamics on E_a that the noisy network follows. Arguments left
    out are left out of the answer (arrays broadcast)."""
    out: dict[str, Any] = {"T_eff": g2 / (4.0 * eps * eps)}
    if p is not None:
        out["a"] = (np.asarray(p, dtype=float) - 1.0) / eps
    if c is not None:
        out["x"] = np.asarray(c, dtype=float) / math.sqrt(eps)
    if t is not None:
        out["tau"] = np.asarray(t, dtype=float) * eps
    if b is not None:
        out["h"] = np.asarray(b, dtype=float) / eps**1.5
    return out


def _initial(R: int, n: int, p: Plan, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Vacuum Wigner samples (variance g^2/4 per quadrature), or noiseless small in-phase amplitudes."""
    C = np.empty((R, n))
    rng.standard_normal(out=C)
    if p.quantum_noise:
        S = rng.standard_normal((R, n))
        C *= 0.5 * p.g
        S *= 0.5 * p.g
    else:
        C *= p.init_scale
        S = np.zeros((R, n))
    return C, S


def simulate(model: IsingModel, C: np.ndarray, S: np.ndarray, pump: np.ndarray, p: Plan,
             rng: np.random.Generator, readout_fn: Any = None, deadline: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Integrate the network from (R, N) amplitudes ``C``, ``S`` (in place) through the pump values
    ``pump`` (one per step); ``readout_fn(t, C)`` is called after every ``p.readout`` steps and the last.
    Returns ``(C, S)``."""
    from .adiabatic import make_matvec

    R, n = C.shape
    matvec = (dense_matvec_f32(model, 1.0 / model.coupling_scale()) if product_dtype(model, p.float32)
              else make_matvec(model))
    eps = p.eps
    b = np.ascontiguousarray(model.h / model.coupling_scale()) * eps**1.5
    delay_line = p.coupling_mode == "delay-line"
    Z = np.empty((2 * R if delay_line else R, n))
    Y = np.empty_like(Z)
    streams = replica_streams(rng, R)
    meas_sd = p.measurement_sd
    T = pump.shape[0]
    tap = active_tap()
    for t in range(T):
        if meas_sd > 0:
            add_measurement_noise(Z[:R], C, meas_sd, streams)
        else:
            Z[:R] = C
        if delay_line:
            Z[R:] = S
        matvec(Z, Y)
        Y *= eps
        dopo_step(C, S, Y[:R], Y[R:] if delay_line else Y[:R], float(pump[t]), b, p.dt, p.g, streams, delay_line)
        if tap is not None and tap.wants(t + 1):
            tap.record(t + 1, C)
        last = t == T - 1 or (deadline is not None and deadline.expired())
        if readout_fn is not None and ((t + 1) % p.readout == 0 or last):
            readout_fn(t, C)
        if last:
            break
    return C, S


def run(model: IsingModel, *, replicas: int, steps: int, rng: np.random.Generator, backend: str = "cpu",
        deadline: Any = None, **params: Any) -> Batch:
    """Solver contract: ``replicas`` DOPO-network trajectories of ``steps`` Euler steps."""
    cpu_only("dopo", backend)
    p = plan(replicas=replicas, steps=steps, **params)
    R, n = p.replicas, model.n
    check_batch_fits(R, n, arrays=6 if p.coupling_mode == "delay-line" else 4, what="dopo amplitudes")
    pump, lam = pump_values(model, p.schedule, p.eps, p.steps, rng)
    C, S = _initial(R, n, p, rng)
    record = (p.steps + p.readout - 1) // p.readout if p.record else 0
    readout = Readout(model, C, solver="dopo", steps=p.steps, track_best=p.track_best, record=record)

    def score(t: int, Ct: np.ndarray) -> None:
        change = f"lower dt (now {p.dt:g}) or the pump (p reaches {float(np.max(pump[:t + 1])):.3g})"
        readout(t, Ct, float(pump[t]), change)

    with np.errstate(over="ignore", invalid="ignore"):
        C, S = simulate(model, C, S, pump, p, rng, score, deadline)
    extra: dict[str, Any] = {
        "final_energies": model.energies(np.where(C >= 0, 1, -1).astype(np.int8)),
        "time_kappa": readout.steps_taken * p.dt,
        "round_trips": readout.steps_taken * p.dt / p.round_trip,
        "photon_number": float(np.mean(C * C + S * S)) / p.g2 - 0.5 if p.quantum_noise else None,
        "units": project_units(eps=p.eps, g2=p.g2),
        **readout.trace(),
    }
    if lam is not None:
        extra["lambda_max"] = lam
    settings = {f.name: getattr(p, f.name) for f in fields(Plan) if f.name not in ("replicas", "steps")}
    settings["schedule"] = p.schedule.to_dict()
    return Batch(readout.spins, readout.steps_taken, settings, extra)
