"""Mean-field coherent Ising machine (physics.md 4.1 / 4.2), Euler-Maruyama, any pump schedule.

In the pump variable ``a`` of the soft-spin energy and with couplings normalised by ``coupling_scale()``
(J_hat = J / scale, h_hat = h / scale)::

    x <- x + dt (a(t) x - x^3 + J_hat x~ + h_hat) + noise sqrt(dt) xi,      xi ~ N(0, 1)
    x~ = x + feedback_noise eta                                          (measurement noise, 4.2)

which is gradient flow on E_a(x) plus noise; ``a = (p - 1)/eps`` in the OPO form. The pump follows a
:class:`~cimsim.schedules.Schedule` evaluated at progress u = t / (steps - 1); a ``relative`` schedule is
shifted by the instance threshold -lambda_max(J_hat). The default is the historical linear ramp from
threshold - 0.2 to threshold + 1.5 (``linear:-0.2,1.5,relative=1``; the legacy parameters ``a_start``,
``a_end``, ``relative`` still build that linear ramp). The Ising readout sign(x) is scored every
``readout`` steps and each replica returns the best state it visited (``track_best=False``: its final state).

Presets (``preset=``), the two baselines of the seed talk (physics.md 4.3):

``constant``
    "constant-pump CIM": no annealing. Descend E_a at one fixed pump ``a`` (default -0.5, the best
    constant value for SK in physics.md 7.2) from |x0| ~ 1e-3 with noiseless gradient flow for ``steps``
    steps, then finish the descent to max|g| < ``tol`` with batched L-BFGS (``finish=True``).
``bifurcation``
    "bifurcation-direction CIM": the state the machine takes just above threshold, a = -lambda_max + delta
    (``a`` is the offset delta, default 0.01): x = c v_max with c^2 = delta / sum v^4 (v_max the first
    unstable direction, random global sign per replica, no x0 noise), then ``steps`` Euler steps at that
    pump (noiseless unless ``noise`` is given). Its readout is sign(v_max),
    i.e. spectral rounding.

``record=True`` stores a trajectory in ``Batch.extra``: ``trace_a`` (T,), ``trace_x`` (T, N) amplitudes of
replica 0 and ``trace_energy`` (T, R) Ising energies of sign(x), one row per readout.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import CimsimError, finite_float, positive_float, positive_int
from ..kernels import descent as kd
from ..model import IsingModel
from ..schedules import ConstantSchedule, LinearSchedule, Schedule, parse_schedule
from . import Batch

__all__ = ["defaults", "run", "threshold", "PRESETS", "DEFAULT_SCHEDULE"]

#: The historical default ramp: from 0.2 below to 1.5 above the instance threshold.
DEFAULT_SCHEDULE = LinearSchedule(-0.2, 1.5, relative=True)
PRESETS = ("constant", "bifurcation")
_PRESET_ALIASES = {
    "constant": "constant", "constant-pump": "constant", "constant_pump": "constant",
    "bifurcation": "bifurcation", "bifurcation-direction": "bifurcation", "bifurcation_direction": "bifurcation",
}


def defaults(model: IsingModel) -> dict:
    return {"replicas": 32, "steps": 1000}


def threshold(model: IsingModel, rng: np.random.Generator) -> float:
    """lambda_max of the normalised couplings (the origin loses stability at a = -lambda_max)."""
    from .adiabatic import top_eigenpair

    return top_eigenpair(model, rng)[0]


def _schedule_from_params(
    schedule: Any, preset: str | None, a: Any, a_start: Any, a_end: Any, relative: Any
) -> Schedule | None:
    legacy = a_start is not None or a_end is not None or relative is not None
    if preset is not None:
        if schedule is not None or legacy:
            raise CimsimError(f"preset {preset!r} sets its own pump; do not combine it with schedule or a_start/a_end")
        return ConstantSchedule(finite_float(a, "a")) if a is not None else None
    if a is not None:
        if schedule is not None or legacy:
            raise CimsimError("give either a (constant pump) or a schedule, not both")
        return ConstantSchedule(finite_float(a, "a"))
    if schedule is not None:
        if legacy:
            raise CimsimError("give either schedule or the legacy a_start/a_end/relative, not both")
        return parse_schedule(schedule)
    if legacy:
        return LinearSchedule(
            finite_float(DEFAULT_SCHEDULE.start if a_start is None else a_start, "a_start"),
            finite_float(DEFAULT_SCHEDULE.stop if a_end is None else a_end, "a_end"),
            relative=True if relative is None else bool(relative),
        )
    return DEFAULT_SCHEDULE


def run(
    model: IsingModel,
    *,
    replicas: int,
    steps: int,
    rng: np.random.Generator,
    backend: str = "cpu",
    schedule: Any = None,
    preset: str | None = None,
    a: float | None = None,
    dt: float = 0.1,
    noise: float | None = None,
    feedback_noise: float = 0.0,
    x0: float = 1e-3,
    readout: int = 10,
    track_best: bool = True,
    record: bool = False,
    finish: bool = True,
    tol: float = 1e-6,
    a_start: float | None = None,
    a_end: float | None = None,
    relative: bool | None = None,
    **params: Any,
) -> Batch:
    if backend == "gpu":  # CuPy device path (cimsim.gpu), same parameters and Batch
        from ..gpu import cim_run

        return cim_run(model, replicas=replicas, steps=steps, rng=rng, schedule=schedule, preset=preset, a=a, dt=dt,
                       noise=noise, feedback_noise=feedback_noise, x0=x0, readout=readout, track_best=track_best,
                       record=record, finish=finish, tol=tol, a_start=a_start, a_end=a_end, relative=relative,
                       **params)
    if params:
        raise CimsimError(
            f"unknown cim parameter(s): {', '.join(params)} (known: schedule, preset, a, dt, noise, feedback_noise, "
            "x0, readout, track_best, record, finish, tol, a_start, a_end, relative)"
        )
    if preset is not None:
        key = _PRESET_ALIASES.get(str(preset).strip().lower())
        if key is None:
            raise CimsimError(f"unknown cim preset {preset!r}; choose one of {', '.join(PRESETS)}")
        preset = key
    sched = _schedule_from_params(schedule, preset, None if preset == "bifurcation" else a, a_start, a_end, relative)
    R = positive_int(replicas, "replicas")
    T = positive_int(steps, "steps")
    dt = positive_float(dt, "dt")
    if noise is None:
        noise = 0.0 if preset is not None else 0.05
    noise = positive_float(noise, "noise", allow_zero=True)
    feedback_noise = positive_float(feedback_noise, "feedback_noise", allow_zero=True)
    x0 = positive_float(x0, "x0", allow_zero=True)
    readout = positive_int(readout, "readout")
    tol = positive_float(tol, "tol")
    if preset == "bifurcation" and a is not None:
        a = positive_float(a, "a (offset above threshold)")

    from .adiabatic import blas_limit

    with blas_limit(R):
        return _simulate(model, R, T, rng, sched, preset, a, dt, noise, feedback_noise, x0, readout, track_best,
                         record, finish, tol)


def _simulate(
    model: IsingModel, R: int, T: int, rng: np.random.Generator, sched: Schedule | None, preset: str | None,
    a: float | None, dt: float, noise: float, feedback_noise: float, x0: float, readout: int, track_best: bool,
    record: bool, finish: bool, tol: float,
) -> Batch:
    from .adiabatic import LbfgsState, descend, make_matvec, top_eigenpair

    n = model.n
    scale = model.coupling_scale()
    h = np.ascontiguousarray(model.h / scale)

    matvec = make_matvec(model)
    X = np.empty((R, n))
    lam: float | None = None
    if preset == "bifurcation":
        delta = 0.01 if a is None else positive_float(a, "a (offset above threshold)")
        lam, vmax = top_eigenpair(model, rng)
        sched = ConstantSchedule(-lam + delta)
        c = np.sqrt(delta / float(np.sum(vmax**4)))
        X[:] = rng.choice([-1.0, 1.0], size=R)[:, None] * c * vmax[None, :]
    else:
        if preset == "constant" and sched is None:
            sched = ConstantSchedule(-0.5)
        assert sched is not None
        if getattr(sched, "relative", False):
            lam = top_eigenpair(model, rng)[0]
            sched = sched.absolute(lam)
        rng.standard_normal(out=X)
        X *= x0
    pump = sched.values(T) if T > 1 else np.array([float(sched(0.0))])

    JX = np.zeros((R, n))
    XM = np.zeros((R, n)) if feedback_noise > 0 else None
    XI = np.zeros((R, n)) if noise > 0 else np.zeros((0, 0))
    sq = noise * np.sqrt(dt)
    best_S = np.where(X >= 0, 1, -1).astype(np.int8)
    best_E = model.energies(best_S)
    n_rec = (T + readout - 1) // readout if record else 0
    rec_a = np.zeros(n_rec)
    rec_x = np.zeros((n_rec, n))
    rec_e = np.zeros((n_rec, R))
    k_rec = 0
    taken = T
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
            rng.standard_normal(out=XI)
        kd.euler_step(X, JX, at, h, dt, sq, XI)
        if (t + 1) % readout == 0 or t == T - 1:
            S = np.where(X >= 0, 1, -1).astype(np.int8)
            E = model.energies(S)
            if track_best:
                better = E < best_E
                best_E = np.where(better, E, best_E)
                best_S[better] = S[better]
            else:
                best_E, best_S = E, S
            if record and k_rec < n_rec:
                rec_a[k_rec], rec_x[k_rec], rec_e[k_rec] = at, X[0], E
                k_rec += 1
    finish_iters = 0
    if preset == "constant" and finish:
        matvec(X, JX)
        state = LbfgsState(R, n, 10)
        finish_iters, _ = descend(X, JX, float(pump[-1]), h, matvec, state, tol, 20000)
        S = np.where(X >= 0, 1, -1).astype(np.int8)
        E = model.energies(S)
        if track_best:
            better = E < best_E
            best_E = np.where(better, E, best_E)
            best_S[better] = S[better]
        else:
            best_E, best_S = E, S
    settings = dict(
        schedule=sched.to_dict(), preset=preset, dt=dt, noise=noise, feedback_noise=feedback_noise, x0=x0,
        readout=readout, track_best=bool(track_best), finish=bool(finish), tol=tol,
    )
    extra: dict[str, Any] = {"threshold": lam, "coupling_scale": scale, "final_energies": model.energies(
        np.where(X >= 0, 1, -1).astype(np.int8))}
    if finish_iters:
        extra["finish_iterations"] = finish_iters
    if record:
        extra.update(trace_a=rec_a[:k_rec], trace_x=rec_x[:k_rec], trace_energy=rec_e[:k_rec])
    return Batch(best_S, taken, settings, extra)
