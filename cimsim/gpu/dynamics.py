"""Device (CuPy) versions of the cim, sb, ahc, cac and spectral solvers, written against an array module.

Each ``*_run`` function has the solver contract of :mod:`cimsim.solvers` (same parameters, defaults,
validation, equations and :class:`~cimsim.solvers.Batch` fields as the CPU solver) plus a ``device``
keyword (default: the GPU, :func:`~cimsim.gpu.device.gpu_device`). Per time step the loop issues

* one product ``Z J`` (cuBLAS GEMM for dense J, cuSPARSE SpMM for CSR J). On readout steps the current
  readout sign(x) is stacked under the dynamic operand (``Z = [X; S]``, 2R rows) so the same product
  also gives the local fields for the energies: J is read once per step either way;
* one fused element-wise kernel (:mod:`cimsim.gpu.cuda_kernels`) updating the state and the readout;
* a few (R,)-sized vector operations for the per-replica best energies, which stay on the device.

Nothing is copied to the host inside the loop (except ``record=True`` traces of the cim solver and the
every-64-steps ``target`` check of ahc/cac). Initial states and the spectral roundings are drawn on the
host from the caller's ``rng`` exactly as the CPU solvers draw them and uploaded once, so with noise 0
(or with NumPy standing in for CuPy, where noise comes from the same ``rng`` in the same order) a seeded
run follows the CPU trajectory: bit for bit in float64 on dense J, to rounding otherwise (docs/gpu.md).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import CimsimError, positive_int
from ..model import IsingModel
from .device import Device, coupling_for, gpu_device

__all__ = ["cim_run", "cim_execute", "sb_run", "sb_execute", "ahc_run", "cac_run", "amplitude_execute", "spectral_run",
           "amplitude_simulate"]


def _dev(device: Device | None) -> Device:
    return gpu_device() if device is None else device


def _update_best(xp, E, S, best_E, best_S, track_best: bool) -> None:
    """Per-replica best (device arrays, in place): strict improvement like the CPU solvers."""
    if track_best:
        better = E < best_E
        best_E[...] = xp.where(better, E, best_E)
        best_S[...] = xp.where(better[:, None], S, best_S)
    else:
        best_E[...] = E
        best_S[...] = S


# ====================================================================== cim
def cim_run(model: IsingModel, *, replicas: int, steps: int, rng: np.random.Generator, backend: str = "gpu",
            device: Device | None = None, **params: Any):
    """GPU mean-field CIM (:mod:`cimsim.solvers.cim`): same parameters (:func:`cimsim.solvers.cim.plan`),
    same Batch."""
    from ..solvers.cim import plan

    return cim_execute(model, plan(replicas=replicas, steps=steps, **params), rng, device)


def cim_execute(model: IsingModel, p: Any, rng: np.random.Generator, device: Device | None = None):
    """Run a validated :class:`cimsim.solvers.cim.Plan` on the device; initial state, threshold, finish
    and Batch fields come from the CPU solver module."""
    from ..solvers import Batch
    from ..solvers.cim import batch_extra, diverged, finish_descent, initial_state, merge_best

    R, T = p.replicas, p.steps
    dt, noise, feedback_noise, readout, track_best, record = (
        p.dt, p.noise, p.feedback_noise, p.readout, p.track_best, p.record)
    dev = _dev(device)
    xp = dev.xp
    n = model.n
    scale = model.coupling_scale()
    X0, sched, lam, pump = initial_state(model, p, rng)

    # ---- device state: Z = [U; S] (U the product operand), W = Z J
    coupling = coupling_for(model, dev)
    dtype = dev.dtype
    Z = xp.empty((2 * R, n), dtype=dtype)
    W = xp.empty((2 * R, n), dtype=dtype)
    U, S = Z[:R], Z[R:]
    if feedback_noise > 0:
        X = dev.asarray(X0, dtype=dtype)
        ETA = xp.empty((R, n), dtype=dtype)
    else:
        X = U
        X[...] = dev.asarray(X0, dtype=dtype)
    S[...] = xp.where(X >= 0, 1.0, -1.0)
    XI = xp.empty((R, n), dtype=dtype) if noise > 0 else xp.empty((1, 1), dtype=dtype)
    h_hat = dev.asarray(model.h / scale, dtype=np.float64)
    h_raw = dev.asarray(model.h, dtype=np.float64) if model.has_fields else None
    normal = dev.normal_source(rng)  # measurement noise: drawn from rng per step, as the CPU solver
    dynamics_normal = dev.stream_normal_source(rng, R)  # dynamics noise: the CPU solver's streams
    sq = noise * np.sqrt(dt)
    inv = 1.0 / scale
    coupling.product(S, W[R:])
    best_E = dev.energies(S, W[R:], h_raw, model.offset)
    best_S = xp.empty((R, n), dtype=xp.int8)
    best_S[...] = S
    n_rec = (T + readout - 1) // readout if record else 0
    rec_a, rec_x, rec_e = np.zeros(n_rec), np.zeros((n_rec, n)), np.zeros((n_rec, R))
    k_rec = 0

    kX, kY, kS, kh, kXI = (dev.kview(v) for v in (X, W[:R], S, h_hat, XI))
    kPHI, kbE, kbS = (dev.kview(v) for v in (W[R:], best_E, best_S))
    kh_raw = None if h_raw is None else dev.kview(h_raw)

    def score(at: float) -> None:
        nonlocal k_rec
        if record:  # traces need the energies on the host: unfused path
            E = dev.energies(S, W[R:], h_raw, model.offset)
            _update_best(xp, E, S, best_E, best_S, track_best)
            if k_rec < n_rec:
                rec_a[k_rec], rec_x[k_rec], rec_e[k_rec] = at, dev.to_host(X[0]), dev.to_host(E)
                k_rec += 1
        else:  # one fused per-replica kernel: energies and best-so-far stay on the device
            dev.readout(kS, kPHI, kh_raw, model.offset, kbE, kbS, track_best)

    pending: float | None = None  # pump value of a readout whose energies are still owed
    for t in range(T):
        at = float(pump[t])
        if feedback_noise > 0:
            normal(ETA)
            U[...] = X + feedback_noise * ETA
        if pending is not None:
            coupling.product(Z, W)  # dynamics operand and readout fields in one product
            score(pending)
            pending = None
        else:
            coupling.product(U, W[:R])
        if sq > 0:
            dynamics_normal(XI)
        dev.cim_step(kX, kY, kS, kh, at, inv, dt, sq, kXI)
        if (t + 1) % readout == 0 or t == T - 1:
            pending = at
            # divergence check on the device, one sync every 8 readouts (and at the end)
            if ((t + 1) % (8 * readout) == 0 or t == T - 1) and not bool(xp.isfinite(X.sum())):
                err = diverged(p, dev.to_host(X).astype(np.float64), t + 1, pump)
                if err is not None:
                    raise err
    if pending is not None:
        coupling.product(S, W[R:])
        score(pending)
    finish_iters = 0
    Xh = dev.to_host(X).astype(np.float64)
    best_S_h = dev.to_host(best_S)
    best_E_h = dev.to_host(best_E)
    if p.preset == "constant" and p.finish:
        # L-BFGS polish of the final amplitudes on the host (one download), as the CPU solver does
        finish_iters = finish_descent(model, Xh, float(pump[-1]), p.tol)
        Sf = np.where(Xh >= 0, 1, -1).astype(np.int8)
        best_E_h, best_S_h = merge_best(best_E_h, best_S_h, model.energies(Sf), Sf, track_best)
    extra = batch_extra(model, p, Xh, lam, finish_iters, (rec_a[:k_rec], rec_x[:k_rec], rec_e[:k_rec]), dev.name)
    return Batch(best_S_h.astype(np.int8), T, p.settings(sched), extra)


# ====================================================================== sb
def sb_simulate(model: IsingModel, X0: np.ndarray, Y0: np.ndarray, *, steps: int, variant: str, dt: float,
                a0: float, c0: float, readout: int, device: Device | None = None):
    """Device SB trajectories from host (R, N) ``X0, Y0``; returns host ``(X, Y, best_S, best_E)`` like
    :func:`cimsim.solvers.sb.simulate` (readout after every ``readout`` steps and at the end)."""
    from ..solvers.sb import a_schedule

    dev = _dev(device)
    xp = dev.xp
    R, n = X0.shape
    T = int(steps)
    discrete = variant == "dsb"
    a_sched = a_schedule(T, a0)
    coupling = coupling_for(model, dev)
    dtype = dev.dtype
    Z = xp.empty((2 * R, n), dtype=dtype)
    W = xp.empty((2 * R, n), dtype=dtype)
    V, S = Z[:R], Z[R:]
    X = dev.asarray(X0, dtype=dtype)
    Y = dev.asarray(Y0, dtype=dtype)
    V[...] = xp.sign(X) if discrete else X
    S[...] = xp.where(X >= 0, 1.0, -1.0)
    h = dev.asarray(model.h, dtype=np.float64)
    h_raw = h if model.has_fields else None
    best_S = xp.ones((R, n), dtype=xp.int8)
    best_E = xp.full(R, np.inf, dtype=xp.float64)
    cp, cy = dt * c0, dt * a0
    kX, kY, kV, kS, kP, kh = (dev.kview(v) for v in (X, Y, V, S, W[:R], h))
    kPHI, kbE, kbS = (dev.kview(v) for v in (W[R:], best_E, best_S))
    kh_raw = None if h_raw is None else dev.kview(h_raw)
    for k in range(T + 1):
        read = (k >= 1 and k % readout == 0) or k == T
        if discrete:
            # dSB: the dynamics product V J also gives the readout energies exactly (zero amplitudes
            # corrected in the kernel), so one R-row product per step, read or not
            coupling.product(V, W[:R])
            if read:
                dev.sb_readout(kX, kV, kP, kh_raw, model.offset, coupling, kbE, kbS)
        else:
            # bSB: V = x, so scoring needs S J: stacked under V on scoring steps ([V; S] J, one product)
            if k < T:
                if read:
                    coupling.product(Z, W)
                else:
                    coupling.product(V, W[:R])
            elif read:
                coupling.product(S, W[R:])
            if read:
                dev.readout(kS, kPHI, kh_raw, model.offset, kbE, kbS, True)
        if k == T:
            break
        cx = dt * (a0 - a_sched[k])
        dev.sb_step(kX, kY, kV, kS, kP, kh, cx, cp, cy, discrete)
    return dev.to_host(X), dev.to_host(Y), dev.to_host(best_S), dev.to_host(best_E)


def sb_run(model: IsingModel, *, replicas: int, steps: int, rng: np.random.Generator, backend: str = "gpu",
           device: Device | None = None, **params: Any):
    """GPU simulated bifurcation (:mod:`cimsim.solvers.sb`): same parameters (:func:`cimsim.solvers.sb.plan`),
    same Batch."""
    from ..solvers.sb import plan

    return sb_execute(model, plan(model, replicas=replicas, steps=steps, **params), rng, device)


def sb_execute(model: IsingModel, p: Any, rng: np.random.Generator, device: Device | None = None):
    """Run a validated :class:`cimsim.solvers.sb.Plan` on the device."""
    dev = _dev(device)
    X0, Y0 = p.initial_state(model.n, rng)
    _, _, best_S, best_E = sb_simulate(model, X0, Y0, steps=p.steps, variant=p.variant, dt=p.dt, a0=p.a0, c0=p.c0,
                                       readout=p.readout, device=dev)
    return p.batch(model, best_S, best_E, device=dev.name)


# ====================================================================== ahc / cac
def amplitude_simulate(model: IsingModel, X0: np.ndarray, E0: np.ndarray, steps: int, *, p: float, mu: float,
                       coupling: float, dt: float, e_max: float, x_max: float, alpha: float, rho: float,
                       delta: float, gamma: float, tau_steps: int, xi0: float, target: float | None = None,
                       device: Device | None = None):
    """Device version of :func:`cimsim.solvers.cac.simulate` (same arguments, returns its AmplitudeState
    on the host). ``model`` must be field-free.

    Per step: ``[X; S] J`` in one product (the dynamics input and the fields of the previous step's
    readout), the control of the previous step on (R,) device vectors (H_opt, xi, its reset, tau_a),
    then the fused kernel (which also saves an improved readout into the best spins).
    """
    from ..solvers.cac import AmplitudeState, amplitude_divergence, check_inputs, energy_tolerance

    if model.has_fields:
        raise CimsimError("simulate needs a field-free model; use model.with_aux_spin()")
    dev = _dev(device)
    xp = dev.xp
    X0 = np.atleast_2d(np.asarray(X0, dtype=np.float64))
    E0 = np.atleast_2d(np.asarray(E0, dtype=np.float64))
    check_inputs(model, X0, E0)
    R, N = X0.shape
    steps = positive_int(steps, "steps")
    tol = energy_tolerance(model)
    tgt = -np.inf if target is None else float(target)
    cpl = coupling_for(model, dev)
    dtype = dev.dtype
    Z = xp.empty((2 * R, N), dtype=dtype)
    W = xp.empty((2 * R, N), dtype=dtype)
    X, S = Z[:R], Z[R:]
    X[...] = dev.asarray(X0, dtype=dtype)
    E = dev.asarray(E0, dtype=dtype)
    S[...] = xp.where(X >= 0, 1.0, -1.0)
    cpl.product(S, W[R:])
    H = dev.energies(S, W[R:], None, model.offset)
    HOPT = H.copy()
    BEST = xp.empty((R, N), dtype=xp.int8)
    BEST[...] = S
    TAU = xp.full(R, float(alpha), dtype=xp.float64)
    XI = xp.full(R, float(xi0), dtype=xp.float64)
    TC = xp.zeros(R, dtype=xp.int64)
    TBEST = xp.zeros(R, dtype=xp.int64)
    STEPS = xp.zeros(R, dtype=xp.int64)
    ACTIVE = xp.ones(R, dtype=xp.bool_)
    IMPROVED = xp.zeros(R, dtype=xp.bool_)
    pm1 = p - 1.0

    kctl = [dev.kview(v) for v in (S, W[R:])]
    kstate = [dev.kview(v) for v in (H, HOPT, TAU, XI, TC, TBEST, STEPS, ACTIVE, IMPROVED)]

    def control(t: int) -> None:
        """Energy and steps 1-3 of :mod:`cimsim.kernels.amplitude` for every active replica after step ``t``."""
        dev.amp_control(*kctl, model.offset, *kstate, t + 1, alpha, rho, delta, gamma, dt, tau_steps, tol, tgt)

    kargs = [dev.kview(v) for v in (X, E, W[:R], S, BEST, IMPROVED, ACTIVE, XI, TAU)]
    for t in range(steps):
        if t == 0:
            cpl.product(X, W[:R])
        else:
            cpl.product(Z, W)
            control(t - 1)
            if target is not None and (t & 63) == 0 and not bool(ACTIVE.any()):
                break
        dev.amp_step(*kargs, pm1, mu, coupling, dt, e_max, x_max)
        IMPROVED[...] = False
    else:
        cpl.product(S, W[R:])
        control(steps - 1)
    BEST[...] = xp.where(IMPROVED[:, None], S, BEST)
    Xh = dev.to_host(X).astype(np.float64)
    Eh = dev.to_host(E).astype(np.float64)
    bad = ~(np.isfinite(Xh).all(axis=1) & np.isfinite(Eh).all(axis=1))
    if bad.any():
        raise amplitude_divergence(int(bad.sum()), R, steps, steps, dt, coupling, x_max, mu)
    h = dev.to_host
    return AmplitudeState(Xh, Eh, h(S).astype(np.int8), h(H), h(BEST), h(HOPT), h(TAU), h(XI), h(TC), h(TBEST),
                          h(STEPS))


def amplitude_execute(model: IsingModel, p: Any, rng: np.random.Generator, device: Device | None = None):
    """Run a validated :class:`cimsim.solvers.cac.AmplitudePlan` (cac or ahc) with :func:`amplitude_simulate`."""
    from functools import partial

    dev = _dev(device)
    return p.execute(model, rng, partial(amplitude_simulate, device=dev), device=dev.name)


def ahc_run(model: IsingModel, *, replicas: int, steps: int, rng: np.random.Generator, backend: str = "gpu",
            device: Device | None = None, **params: Any):
    """GPU AHC (:mod:`cimsim.solvers.ahc`): same parameters (:func:`cimsim.solvers.ahc.plan`), same Batch."""
    from ..solvers.ahc import plan

    return amplitude_execute(model, plan(model, replicas=replicas, steps=steps, **params), rng, device)


def cac_run(model: IsingModel, *, replicas: int, steps: int, rng: np.random.Generator, backend: str = "gpu",
            device: Device | None = None, **params: Any):
    """GPU CAC (:mod:`cimsim.solvers.cac`): same parameters (:func:`cimsim.solvers.cac.plan`), same Batch."""
    from ..solvers.cac import plan

    return amplitude_execute(model, plan(model, replicas=replicas, steps=steps, **params), rng, device)


# ====================================================================== spectral
def spectral_run(model: IsingModel, *, replicas: int, steps: int, rng: np.random.Generator, backend: str = "gpu",
                 device: Device | None = None, **params: Any):
    """GPU spectral relaxation (:mod:`cimsim.solvers.spectral`): top-k eigenvectors on the device
    (:func:`cimsim.gpu.linalg.top_eigenpairs`) and the roundings ``sign(V diag(sqrt w+) g)`` as one GEMM."""
    from ..solvers.spectral import batch, plan, rounding_coefficients, work_model
    from .linalg import top_eigenpairs

    k = plan(**params)
    replicas = positive_int(replicas, "replicas")
    work = work_model(model)
    dev = _dev(device)
    xp = dev.xp
    w, V = top_eigenpairs(work, k, rng, device=dev)  # device arrays, descending
    wh = dev.to_host(w)
    S = xp.empty((replicas, work.n), dtype=xp.int8)
    S[0] = xp.where(V[:, 0] >= 0, 1, -1)
    if replicas > 1:
        G = dev.asarray(rounding_coefficients(wh, replicas, rng), dtype=V.dtype)
        S[1:] = xp.where(G @ V.T >= 0, 1, -1)
    return batch(model, dev.to_host(S), wh, device=dev.name)
