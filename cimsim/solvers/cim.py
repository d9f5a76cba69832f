"""Mean-field coherent Ising machine (physics.md 4.1 / 4.2), Euler-Maruyama, any pump schedule.

In the pump variable ``a`` of the soft-spin energy and with couplings normalised by ``coupling_scale()``
(J_hat = J / scale, h_hat = h / scale)::

    x <- x + dt (a(t) x - x^3 + J_hat x~ + h_hat) + noise sqrt(dt) xi,      xi ~ N(0, 1)
    x~ = x + feedback_noise eta / sqrt(dt)                               (measurement noise, 4.2)

``feedback_noise`` is the intensity of a white measurement noise: the coupling input it perturbs is
multiplied by dt, so the per-step sd feedback_noise / sqrt(dt) makes its effect on the dynamics the
diffusion sqrt(dt) feedback_noise J_hat eta, the same for every dt (an sd applied unscaled at every step,
as before, had an effect that vanished as dt -> 0).

which is gradient flow on E_a(x) plus noise; ``a = (p - 1)/eps`` in the OPO form. The pump follows a
:class:`~cimsim.schedules.Schedule` evaluated at progress u = t / (steps - 1); a ``relative`` schedule is
shifted by the instance threshold -lambda_max(J_hat). The default is the historical linear ramp from
threshold - 0.2 to threshold + 1.5 (``linear:-0.2,1.5,relative=1``). The Ising readout sign(x) is scored
every ``readout`` steps and each replica returns the best state it visited (``track_best=False``: its final state).

Presets (``preset=``), the two baselines of the seed talk (physics.md 4.3):

``constant``
    "constant-pump CIM": no annealing. Descend E_a at one fixed pump ``a`` (default -0.5, the best
    constant value for SK in physics.md 7.2) from x ~ init_scale N(0, 1) with noiseless gradient flow for ``steps``
    steps, then finish the descent to max|g| < ``tol`` with batched L-BFGS (``finish=True``).
``bifurcation``
    "bifurcation-direction CIM": the state the machine takes just above threshold, a = -lambda_max + delta
    (``a`` is the offset delta, default 0.01): x = c v_max with c^2 = delta / sum v^4 (v_max the first
    unstable direction, random global sign per replica, no init_scale noise), then ``steps`` Euler steps at that
    pump (noiseless unless ``noise`` is given). Its readout is sign(v_max),
    i.e. spectral rounding.

``record=True`` stores a trajectory in ``Batch.extra``: ``trace_a`` (T,), ``trace_x`` (T, N) amplitudes of
replica 0 and ``trace_energy`` (T, R) Ising energies of sign(x), one row per readout.

Parameters: :data:`PARAMS` (``cimsim solvers cim``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import CimsimError, divergence_error, positive_float, positive_int
from ..kernels import descent as kd
from ..memory import check_batch_fits
from ..model import IsingModel
from ..params import Param, validate
from ..sampling import active_tap
from ..schedules import ConstantSchedule, LinearSchedule, Schedule
from . import Batch
from .machine import dense_matvec_f32, product_dtype

__all__ = ["PARAMS", "defaults", "run", "plan", "Plan", "threshold", "PRESETS", "DEFAULT_SCHEDULE"]

#: sampling mode (cimsim.sampling): sign(x) of every replica after the tap's Euler steps (CPU path only)
SAMPLES = True

#: The historical default ramp: from 0.2 below to 1.5 above the instance threshold.
DEFAULT_SCHEDULE = LinearSchedule(-0.2, 1.5, relative=True)
PRESETS = ("constant", "bifurcation")
_PRESET_ALIASES = {
    "constant": "constant", "constant-pump": "constant", "constant_pump": "constant",
    "bifurcation": "bifurcation", "bifurcation-direction": "bifurcation", "bifurcation_direction": "bifurcation",
}

#: The parameters of :func:`run` (``solve(model, "cim", **params)``, ``-p KEY=VALUE``).
PARAMS: tuple[Param, ...] = (
    Param("schedule", "schedule", None, "pump schedule a(u), u = t / (steps - 1) (cimsim.schedules)",
          auto="linear:-0.2,1.5,relative=1"),
    Param("preset", "choice", None, "baseline: constant (fixed pump, noiseless, L-BFGS finish) or bifurcation "
          "(start on v_max just above threshold)", choices=PRESETS, aliases=_PRESET_ALIASES, optional=True),
    Param("a", "float", None, "constant pump (instead of a schedule); with preset=bifurcation the offset above "
          "threshold (> 0, default 0.01)", optional=True),
    Param("dt", "float", 0.1, "Euler time step", low=0, low_open=True),
    Param("noise", "float", None, "std of the Langevin noise per unit time", low=0,
          auto="0.05, or 0 with a preset"),
    Param("feedback_noise", "float", 0.0, "intensity of the white measurement noise on the coupling input "
          "(per-step sd feedback_noise / sqrt(dt))", low=0),
    Param("init_scale", "float", 1e-3, "initial amplitudes x ~ init_scale N(0, 1)", low=0),
    Param("readout", "int", 10, "score the readout sign(x) every this many steps", low=1),
    Param("track_best", "bool", True, "return each replica's best readout (false: its final one)"),
    Param("record", "bool", False, "store trace_a, trace_x, trace_energy (one row per readout) in extra"),
    Param("finish", "bool", True, "preset=constant: finish the descent with L-BFGS to tol"),
    Param("tol", "float", 1e-6, "preset=constant: finish tolerance max|g|", low=0, low_open=True),
)


def defaults(model: IsingModel) -> dict:
    return {"replicas": 32, "steps": 1000}


def threshold(model: IsingModel, rng: np.random.Generator) -> float:
    """lambda_max of the normalised couplings (the origin loses stability at a = -lambda_max)."""
    from .adiabatic import lambda_max

    return lambda_max(model, rng)


def _schedule_from_params(schedule: Schedule | None, preset: str | None, a: float | None) -> Schedule | None:
    """The requested pump from validated ``schedule``, ``preset`` and constant pump ``a`` (``None``: the
    preset's own pump); refuses the combinations that set the pump twice."""
    if preset is not None:
        if schedule is not None:
            raise CimsimError(f"cim: preset {preset!r} sets its own pump; do not combine it with a schedule")
        return ConstantSchedule(a) if a is not None else None
    if a is not None:
        if schedule is not None:
            raise CimsimError("cim: give either a (constant pump) or a schedule, not both")
        return ConstantSchedule(a)
    return DEFAULT_SCHEDULE if schedule is None else schedule


@dataclass(frozen=True)
class Plan:
    """Validated parameters of one cim batch: what :func:`run` executes on the CPU and on the device
    (:func:`cimsim.gpu.dynamics.cim_simulate`). Built by :func:`plan`.

    ``schedule`` is the requested pump schedule (``None`` for the presets' own pumps; the instance
    dependent resolution, e.g. ``relative`` schedules, happens in :func:`initial_state`).
    """

    replicas: int
    steps: int
    schedule: Schedule | None
    preset: str | None
    a: float | None
    dt: float
    noise: float
    feedback_noise: float
    init_scale: float
    readout: int
    track_best: bool
    record: bool
    finish: bool
    tol: float

    def settings(self, sched: Schedule) -> dict:
        """``Batch.settings`` for a run whose resolved pump schedule is ``sched``."""
        return dict(
            schedule=sched.to_dict(), preset=self.preset, a=self.a, dt=self.dt, noise=self.noise,
            feedback_noise=self.feedback_noise, init_scale=self.init_scale, readout=self.readout,
            track_best=self.track_best, record=self.record, finish=self.finish, tol=self.tol,
        )


def plan(*, replicas: int, steps: int, **params: Any) -> Plan:
    """Validate ``replicas``, ``steps`` and the parameters of :func:`run` (:data:`PARAMS`).

    Raises :class:`CimsimError` on unknown names or impossible values, before any work starts.
    """
    prm = validate(PARAMS, params, "cim")
    preset, a = prm["preset"], prm["a"]
    sched = _schedule_from_params(prm["schedule"], preset, None if preset == "bifurcation" else a)
    R = positive_int(replicas, "replicas")
    T = positive_int(steps, "steps")
    noise = prm["noise"] if prm["noise"] is not None else (0.0 if preset is not None else 0.05)
    if preset == "bifurcation" and a is not None:
        a = positive_float(a, "cim: parameter a (the offset above threshold with preset=bifurcation)")
    return Plan(R, T, sched, preset, a, prm["dt"], noise, prm["feedback_noise"], prm["init_scale"], prm["readout"],
                prm["track_best"], prm["record"], prm["finish"], prm["tol"])


def initial_state(
    model: IsingModel, p: Plan, rng: np.random.Generator
) -> tuple[np.ndarray, Schedule, float | None, np.ndarray]:
    """Instance-dependent setup shared by the CPU and GPU paths, drawing from ``rng`` in a fixed order.

    Returns ``(X, sched, lam, pump)``: the (R, N) float64 initial amplitudes, the resolved (absolute) pump
    schedule, the threshold lambda_max (``None`` if not computed) and the (T,) pump values.
    """
    from .adiabatic import lambda_max, top_eigenpair

    R, T = p.replicas, p.steps
    X = np.empty((R, model.n))
    lam: float | None = None
    sched = p.schedule
    if p.preset == "bifurcation":
        delta = 0.01 if p.a is None else positive_float(p.a, "a (offset above threshold)")
        lam, vmax = top_eigenpair(model, rng)
        sched = ConstantSchedule(-lam + delta)
        c = np.sqrt(delta / float(np.sum(vmax**4)))
        X[:] = rng.choice([-1.0, 1.0], size=R)[:, None] * c * vmax[None, :]
    else:
        if p.preset == "constant" and sched is None:
            sched = ConstantSchedule(-0.5)
        assert sched is not None
        if getattr(sched, "relative", False):
            lam = lambda_max(model, rng)
            sched = sched.absolute(lam)
        rng.standard_normal(out=X)
        X *= p.init_scale
    pump = sched.values(T) if T > 1 else np.array([float(sched(0.0))])
    return X, sched, lam, pump


def merge_best(
    best_E: np.ndarray, best_S: np.ndarray, E: np.ndarray, S: np.ndarray, track_best: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Per-replica best-so-far (strict improvement; ``best_S`` updated in place) or, without
    ``track_best``, the new readout ``(E, S)``."""
    if track_best:
        better = E < best_E
        best_S[better] = S[better]
        return np.where(better, E, best_E), best_S
    return E, S


def finish_descent(
    model: IsingModel, X: np.ndarray, a: float, tol: float, matvec: Any = None, JX: np.ndarray | None = None
) -> int:
    """The ``constant`` preset's finish: batched L-BFGS on E_a from the (R, N) amplitudes ``X`` (in place)
    to max|g| < ``tol``; returns the number of iterations. ``matvec``/``JX`` may be reused buffers."""
    from .adiabatic import LbfgsState, descend, make_matvec

    R, n = X.shape
    matvec = make_matvec(model) if matvec is None else matvec
    JX = np.zeros((R, n)) if JX is None else JX
    h = np.ascontiguousarray(model.h / model.coupling_scale())
    matvec(X, JX)
    state = LbfgsState(R, n, 10)
    iters, _ = descend(X, JX, a, h, matvec, state, tol, 20000)
    return iters


def run(model: IsingModel, *, replicas: int, steps: int, rng: np.random.Generator, backend: str = "cpu",
        device: Any = None, deadline: Any = None, **params: Any) -> Batch:
    """Solver contract: ``replicas`` CIM trajectories of ``steps`` steps; parameters as for :func:`plan`.
    ``backend="gpu"`` runs the device executor on ``device`` (a :class:`cimsim.gpu.Device`; default the GPU).
    On the CPU a ``deadline`` (the driver's time limit) that expires ends the batch at the next readout."""
    p = plan(replicas=replicas, steps=steps, **params)
    if backend == "gpu":
        if active_tap() is not None:
            raise CimsimError("cim: sampling runs on the CPU only (the GPU path does not report every step's "
                              "states); use --backend cpu")
        return _run_device(model, p, rng, device)

    from .adiabatic import blas_limit

    check_batch_fits(p.replicas, model.n, arrays=5 if p.feedback_noise > 0 else 4, what="cim amplitudes")
    with blas_limit(p.replicas), np.errstate(over="ignore", invalid="ignore"):
        return _simulate(model, p, rng, deadline)


def _run_device(model: IsingModel, p: Plan, rng: np.random.Generator, device: Any) -> Batch:
    """``p`` on the device executor :func:`cimsim.gpu.dynamics.cim_simulate`: the initial state, the
    divergence message, the ``constant`` preset's finish (on the host) and the Batch are this module's."""
    from ..gpu import cim_simulate, pick_device

    dev = pick_device(device)
    X0, sched, lam, pump = initial_state(model, p, rng)
    tr = cim_simulate(model, X0, pump, rng, dt=p.dt, noise=p.noise, feedback_noise=p.feedback_noise / np.sqrt(p.dt),
                      readout=p.readout, track_best=p.track_best, record=p.record,
                      diverged=lambda X, step: diverged(p, X, step, pump), device=dev)
    X, best_S, best_E = tr.x, tr.best_spins, tr.best_energies
    finish_iters = 0
    if p.preset == "constant" and p.finish:
        # L-BFGS polish of the final amplitudes on the host (one download), as on the CPU
        finish_iters = finish_descent(model, X, float(pump[-1]), p.tol)
        Sf = np.where(X >= 0, 1, -1).astype(np.int8)
        best_E, best_S = merge_best(best_E, best_S, model.energies(Sf), Sf, p.track_best)
    extra = batch_extra(model, p, X, lam, finish_iters, (tr.trace_a, tr.trace_x, tr.trace_energy), dev.name)
    return Batch(best_S.astype(np.int8), p.steps, p.settings(sched), extra)


def diverged(p: Plan, X: np.ndarray, step: int, pump: np.ndarray) -> CimsimError | None:
    """The error to raise when some amplitudes in ``X`` are inf/NaN after ``step`` steps (checked at every
    readout, O(R N), by the CPU and GPU paths), else None."""
    if np.isfinite(X.sum()):  # one reduction, no (R, N) temporary; any inf/NaN makes the sum non-finite
        return None
    bad = ~np.isfinite(X).all(axis=1)
    change = f"lower dt (now {p.dt:g}) or the pump (a reaches {float(np.max(pump[:step])):.3g})"
    if p.noise > 0:
        change += f", or the noise (now {p.noise:g})"
    return divergence_error("cim", step, p.steps, int(bad.sum()), p.replicas, change)


def _simulate(model: IsingModel, p: Plan, rng: np.random.Generator, deadline: Any = None) -> Batch:
    from .adiabatic import make_matvec

    R, T, n = p.replicas, p.steps, model.n
    dt, noise, readout, track_best = p.dt, p.noise, p.readout, p.track_best
    feedback_noise = p.feedback_noise / np.sqrt(dt)  # per-step sd of a white measurement noise
    scale = model.coupling_scale()
    h = np.ascontiguousarray(model.h / scale)

    matvec64 = make_matvec(model)
    X, sched, lam, pump = initial_state(model, p, rng)
    # dense J from machine.DENSE_F32_MIN_N spins: the coupling input J_hat x as a float32 BLAS product (half
    # the bytes of J per step; amplitudes, Euler step and energies stay float64, and the noise, 0.05 by
    # default, is far above float32's 1e-7 relative error in the coupling input)
    matvec = (dense_matvec_f32(model, 1.0 / scale) if product_dtype(model, True) is not None else matvec64)

    JX = np.zeros((R, n))
    XM = np.zeros((R, n)) if feedback_noise > 0 else None
    XI = np.zeros((0, 0))
    # per-replica xorshift64* streams for the fused noisy Euler step, seeded from the batch's Generator
    streams = rng.integers(1, np.iinfo(np.int64).max, size=R, dtype=np.int64).astype(np.uint64)
    sq = noise * np.sqrt(dt)
    best_S = np.where(X >= 0, 1, -1).astype(np.int8)
    best_E = model.energies(best_S)
    n_rec = (T + readout - 1) // readout if p.record else 0
    rec_a = np.zeros(n_rec)
    rec_x = np.zeros((n_rec, n))
    rec_e = np.zeros((n_rec, R))
    k_rec = 0
    taken = T
    tap = active_tap()
    for t in range(T):
        at = float(pump[t])
        if XM is not None:
            rng.standard_normal(out=XM)
            XM *= feedback_noise
            XM += X
            matvec(XM, JX)
        else:
            matvec(X, JX)
        if sq > 0:
            kd.euler_step_noisy(X, JX, at, h, dt, sq, streams)
        else:
            kd.euler_step(X, JX, at, h, dt, 0.0, XI)
        if tap is not None and tap.wants(t + 1):
            tap.record(t + 1, X)
        # the deadline is looked at every step (a clock read): at SK N = 8000 a readout interval of 10
        # steps is seconds of work under load; an expired batch ends with a readout of its last state
        stop = deadline is not None and t < T - 1 and deadline.expired()
        if (t + 1) % readout == 0 or t == T - 1 or stop:
            err = diverged(p, X, t + 1, pump)
            if err is not None:
                raise err
            S = np.where(X >= 0, 1, -1).astype(np.int8)
            E = model.energies(S)
            best_E, best_S = merge_best(best_E, best_S, E, S, track_best)
            if p.record and k_rec < n_rec:
                rec_a[k_rec], rec_x[k_rec], rec_e[k_rec] = at, X[0], E
                k_rec += 1
            if stop:
                taken = t + 1
                break
    finish_iters = 0
    if p.preset == "constant" and p.finish:
        finish_iters = finish_descent(model, X, float(pump[-1]), p.tol, matvec64, JX)  # to tolerance: float64
        S = np.where(X >= 0, 1, -1).astype(np.int8)
        best_E, best_S = merge_best(best_E, best_S, model.energies(S), S, track_best)
    extra = batch_extra(model, p, X, lam, finish_iters, (rec_a[:k_rec], rec_x[:k_rec], rec_e[:k_rec]))
    return Batch(best_S, taken, p.settings(sched), extra)


def batch_extra(model: IsingModel, p: Plan, X: np.ndarray, lam: float | None, finish_iters: int,
                trace: tuple[np.ndarray, np.ndarray, np.ndarray], device: str | None = None) -> dict[str, Any]:
    """``Batch.extra`` from the final (R, N) amplitudes ``X`` and the recorded ``(a, x, energy)`` trace
    (``device``: the GPU path's device name)."""
    final = model.energies(np.where(X >= 0, 1, -1).astype(np.int8))
    extra: dict[str, Any] = {"coupling_scale": model.coupling_scale(), "final_energies": final}
    if lam is not None:
        extra["lambda_max"] = lam
    if device is not None:
        extra["device"] = device
    if finish_iters:
        extra["finish_iterations"] = finish_iters
    if p.record:
        extra.update(trace_a=trace[0], trace_x=trace[1], trace_energy=trace[2])
    return extra
