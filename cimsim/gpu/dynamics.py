"""Device (CuPy) executors of the cim, sb, ahc, cac and spectral dynamics, written against an array module.

Executors take plain arrays and values (initial states and pump values drawn by the solver modules of
:mod:`cimsim.solvers`, which validate the parameters and build the :class:`~cimsim.solvers.Batch`) and
return host arrays or small result objects; nothing here imports a solver. Each takes a ``device``
keyword (default: the GPU, :func:`~cimsim.gpu.device.gpu_device`). Per time step the loops issue

* one product ``Z J`` (cuBLAS GEMM for dense J, cuSPARSE SpMM for CSR J). On readout steps the current
  readout sign(x) is stacked under the dynamic operand (``Z = [X; S]``, 2R rows) so the same product
  also gives the local fields for the energies: J is read once per step either way;
* one fused element-wise kernel (:mod:`cimsim.gpu.cuda_kernels`) updating the state and the readout;
* a few (R,)-sized vector operations for the per-replica best energies, which stay on the device.

Nothing is copied to the host inside the loop (except ``record=True`` traces of the cim dynamics and the
every-64-steps ``target`` check of ahc/cac). Initial states and the spectral roundings are drawn on the
host from the caller's ``rng`` exactly as the CPU solvers draw them and uploaded once, so with noise 0
(or with NumPy standing in for CuPy, where noise comes from the same ``rng`` in the same order) a seeded
run follows the CPU trajectory: bit for bit in float64 on dense J, to rounding otherwise (docs/gpu.md).
"""
from __future__ import annotations

from typing import Any, Callable, NamedTuple, Sequence

import numpy as np

from ..amplitude import AmplitudeState, amplitude_divergence, check_inputs, energy_tolerance, run_in_chunks, step_values
from ..errors import CimsimError, divergence_error, positive_int
from ..model import IsingModel
from .device import Device, coupling_for, pick_device

__all__ = ["CimTrajectory", "cim_simulate", "sb_simulate", "amplitude_simulate", "spectral_roundings"]


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
class CimTrajectory(NamedTuple):
    """What :func:`cim_simulate` returns, on the host.

    x : (R, N) float64
        Final amplitudes.
    best_spins : (R, N) int8, best_energies : (R,) float64
        Best readout per replica (strict improvement) or, without ``track_best``, the last readout.
    trace_a : (K,), trace_x : (K, N), trace_energy : (K, R)
        With ``record=True``: pump, amplitudes of replica 0 and readout energies at each of the K
        readouts (empty otherwise).
    """

    x: np.ndarray
    best_spins: np.ndarray
    best_energies: np.ndarray
    trace_a: np.ndarray
    trace_x: np.ndarray
    trace_energy: np.ndarray


def cim_simulate(model: IsingModel, X0: np.ndarray, pump: np.ndarray, rng: np.random.Generator, *, dt: float,
                 noise: float, feedback_noise: float, readout: int, track_best: bool, record: bool,
                 diverged: Callable[[np.ndarray, int], Exception | None] | None = None,
                 device: Device | None = None) -> CimTrajectory:
    """Mean-field CIM Euler-Maruyama trajectories (the equations of :mod:`cimsim.solvers.cim`) on the device.

    Parameters
    ----------
    model : IsingModel
    X0 : (R, N) float64
        Initial amplitudes (drawn by the solver).
    pump : (T,) float64
        Pump value of each step; T = ``len(pump)`` steps are taken.
    rng : numpy.random.Generator
        Source of the measurement noise (per step) and of the per-replica dynamics-noise streams, drawn in
        the order the CPU solver draws them.
    dt, noise, feedback_noise, readout, track_best, record
        Validated parameters (:func:`cimsim.solvers.cim.plan`).
    diverged : callable, optional
        ``diverged(X, step)`` on host (R, N) amplitudes containing inf/NaN after ``step`` steps: the error
        to raise (``None``: keep going). Default: a generic one-line divergence error.
    device : Device, optional

    Returns
    -------
    CimTrajectory
    """
    dev = pick_device(device)
    R, T = X0.shape[0], int(len(pump))
    xp = dev.xp
    n = model.n
    scale = model.coupling_scale()

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
                Xh = dev.to_host(X).astype(np.float64)
                err = _cim_divergence(Xh, t + 1, T) if diverged is None else diverged(Xh, t + 1)
                if err is not None:
                    raise err
    if pending is not None:
        coupling.product(S, W[R:])
        score(pending)
    return CimTrajectory(dev.to_host(X).astype(np.float64), dev.to_host(best_S).astype(np.int8), dev.to_host(best_E),
                         rec_a[:k_rec], rec_x[:k_rec], rec_e[:k_rec])


def _cim_divergence(X: np.ndarray, step: int, steps: int) -> CimsimError | None:
    """The default ``diverged`` of :func:`cim_simulate`: a one-line error if some row of ``X`` is not finite."""
    bad = ~np.isfinite(X).all(axis=1)
    if not bad.any():
        return None
    return divergence_error("cim", step, steps, int(bad.sum()), X.shape[0], "lower dt, the pump or the noise")


# ====================================================================== sb
def sb_simulate(model: IsingModel, X0: np.ndarray, Y0: np.ndarray, a_sched: np.ndarray, *, discrete: bool, dt: float,
                a0: float, c0: float, readout: int, device: Device | None = None,
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Simulated-bifurcation trajectories (the equations of :mod:`cimsim.solvers.sb`) on the device.

    Parameters
    ----------
    model : IsingModel
    X0, Y0 : (R, N)
        Initial positions and momenta (host arrays, drawn by the solver).
    a_sched : (T,) float64
        Pump value of each step (:func:`cimsim.solvers.sb.a_schedule`); T = ``len(a_sched)`` steps.
    discrete : bool
        dSB (``v = sgn(x)``) if True, bSB (``v = x``) if False.
    dt, a0, c0, readout
        Validated parameters (:func:`cimsim.solvers.sb.plan`); the readout is scored after every
        ``readout`` steps and at the end.
    device : Device, optional

    Returns
    -------
    X, Y : (R, N) host arrays in the device state dtype
        Final positions and momenta.
    best_S : (R, N) int8, best_E : (R,) float64
        Best readout per replica and its energy.
    """
    dev = pick_device(device)
    xp = dev.xp
    R, n = X0.shape
    T = int(len(a_sched))
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


# ====================================================================== ahc / cac
def amplitude_simulate(model: IsingModel, X0: np.ndarray, E0: np.ndarray, steps: int, *, p: float, mu: float,
                       coupling: float, dt: float, e_max: float, x_max: float, alpha: float, rho: float,
                       delta: float, gamma: float, tau_steps: int, xi0: float, target: float | None = None,
                       schedule: Any = None, alpha_schedule: Any = None, noise: float = 0.0,
                       streams: np.ndarray | None = None, deadline: Any = None, marks: Sequence[int] = (),
                       on_mark: Callable[[int, np.ndarray], None] | None = None,
                       device: Device | None = None) -> AmplitudeState:
    """Device version of :func:`cimsim.solvers.cac.simulate`: same arguments ((R, N) host ``X0``, ``E0``),
    same :class:`~cimsim.amplitude.AmplitudeState` (on the host). ``model`` must be field-free.

    Per step: ``[X; S] J`` in one product (the dynamics input and the fields of the previous step's
    readout), the control of the previous step on (R,) device vectors (H_opt, xi, its reset, tau_a),
    then the fused kernel (which also saves an improved readout into the best spins). Schedules, noise,
    the deadline and the sampling marks as in the CPU executor: on the NumPy stand-in the noise normals
    come from the same per-replica ``streams`` in the same order (a seeded run equals the CPU one); on a
    GPU from cuRAND seeded by the first stream.
    """
    if model.has_fields:
        raise CimsimError("simulate needs a field-free model; use model.with_aux_spin()")
    dev = pick_device(device)
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
    TAU = xp.full(R, float(step_values(alpha_schedule, alpha, steps, 0, 1)[0]), dtype=xp.float64)
    XI = xp.full(R, float(xi0), dtype=xp.float64)
    TC = xp.zeros(R, dtype=xp.int64)
    TBEST = xp.zeros(R, dtype=xp.int64)
    STEPS = xp.zeros(R, dtype=xp.int64)
    ACTIVE = xp.ones(R, dtype=xp.bool_)
    IMPROVED = xp.zeros(R, dtype=xp.bool_)
    sq = float(noise) * float(np.sqrt(dt))
    G = xp.empty((R, N), dtype=dtype) if sq != 0.0 else None
    normals = _amplitude_normals(dev, streams, R) if sq != 0.0 else None

    kctl = [dev.kview(v) for v in (S, W[R:])]
    kstate = [dev.kview(v) for v in (H, HOPT, TAU, XI, TC, TBEST, STEPS, ACTIVE, IMPROVED)]

    def control(t: int, alpha_t: float) -> None:
        """Energy and steps 1-3 of :mod:`cimsim.kernels.amplitude` for every active replica after step ``t``."""
        dev.amp_control(*kctl, model.offset, *kstate, t + 1, alpha_t, rho, delta, gamma, dt, tau_steps, tol, tgt)

    kargs = [dev.kview(v) for v in (X, E, W[:R], S, BEST, IMPROVED, ACTIVE, XI, TAU)]
    kG = None if G is None else dev.kview(G)
    run = {"pending": False, "done": 0}  # pending: the control of the last step done has not run yet

    def advance(t0: int, t1: int) -> bool:
        a0 = max(t0 - 1, 0)
        PM1 = step_values(schedule, p, steps, t0, t1) - 1.0
        ALPHA = step_values(alpha_schedule, alpha, steps, a0, t1)
        for t in range(t0, t1):
            if t == 0:
                cpl.product(X, W[:R])
            else:
                cpl.product(Z, W)
                control(t - 1, float(ALPHA[t - 1 - a0]))
                run["pending"] = False
                if target is not None and (t & 63) == 0 and not bool(ACTIVE.any()):
                    return False
            if normals is not None:
                normals(G)
            dev.amp_step(*kargs, float(PM1[t - t0]), mu, coupling, dt, e_max, x_max, kG, sq)
            IMPROVED[...] = False
            run["pending"], run["done"] = True, t + 1
        return True

    def mark(t: int) -> None:
        on_mark(t, dev.to_host(X).astype(np.float64))

    run_in_chunks(advance, steps, deadline, marks if on_mark is not None else (), None if on_mark is None else mark)
    done = run["done"]
    if run["pending"]:
        cpl.product(S, W[R:])
        control(done - 1, float(step_values(alpha_schedule, alpha, steps, done - 1, done)[0]))
    BEST[...] = xp.where(IMPROVED[:, None], S, BEST)
    Xh = dev.to_host(X).astype(np.float64)
    Eh = dev.to_host(E).astype(np.float64)
    bad = ~(np.isfinite(Xh).all(axis=1) & np.isfinite(Eh).all(axis=1))
    if bad.any():
        raise amplitude_divergence(int(bad.sum()), R, done, steps, dt, coupling, x_max, mu)
    h = dev.to_host
    return AmplitudeState(Xh, Eh, h(S).astype(np.int8), h(H), h(BEST), h(HOPT), h(TAU), h(XI), h(TC), h(TBEST),
                          h(STEPS), done)


def _amplitude_normals(dev: Device, streams: np.ndarray | None, replicas: int) -> Callable[[Any], None]:
    """``fill(G)``: standard normals for the ahc/cac dynamics noise. NumPy stand-in: the CPU kernel's draws
    (pairs from the per-replica xorshift64* ``streams``, advanced in place); GPU: cuRAND seeded from them."""
    if streams is None:
        raise CimsimError("noise > 0 needs per-replica random streams (streams=)")
    if not dev.on_gpu:
        from ..kernels.descent import fill_normals

        st = np.ascontiguousarray(streams, dtype=np.uint64)

        def fill(out: np.ndarray) -> None:
            if out.dtype == np.float64:
                fill_normals(out, st)
            else:
                tmp = np.empty(out.shape)
                fill_normals(tmp, st)
                out[...] = tmp
            if st is not streams:
                streams[...] = st
        return fill
    state = dev.xp.random.RandomState(int(np.asarray(streams, dtype=np.uint64)[0] % np.uint64(2**63 - 1)))

    def fill_gpu(out: Any) -> None:
        out[...] = state.standard_normal(size=out.shape, dtype=dev.dtype)

    return fill_gpu


# ====================================================================== spectral
def spectral_roundings(model: IsingModel, k: int, replicas: int, rng: np.random.Generator,
                       coefficients: Callable[[np.ndarray, int, np.random.Generator], np.ndarray],
                       device: Device | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Spectral relaxation on the device: the top ``k`` eigenpairs of J
    (:func:`cimsim.gpu.linalg.top_eigenpairs`) and their roundings as one GEMM.

    Parameters
    ----------
    model : IsingModel
        Field-free (the solver passes the auxiliary-spin model), N >= 2.
    k, replicas : int
        Validated eigenvector count and number of roundings.
    rng : numpy.random.Generator
    coefficients : callable
        ``coefficients(w, replicas, rng)``: the (replicas - 1, k) host combinations ``G`` of the
        eigenvectors that replicas 1.. round (the solver's rule, drawn from ``rng``).
    device : Device, optional

    Returns
    -------
    S : (replicas, N) int8
        Row 0 is sign(v_max), rows 1.. sign(V G^T).
    w : (k,) float64
        The eigenvalues, descending (host).
    """
    from .linalg import top_eigenpairs

    dev = pick_device(device)
    xp = dev.xp
    w, V = top_eigenpairs(model, k, rng, device=dev)  # device arrays, descending
    wh = dev.to_host(w)
    S = xp.empty((replicas, model.n), dtype=xp.int8)
    S[0] = xp.where(V[:, 0] >= 0, 1, -1)
    if replicas > 1:
        G = dev.asarray(coefficients(wh, replicas, rng), dtype=V.dtype)
        S[1:] = xp.where(G @ V.T >= 0, 1, -1)
    return dev.to_host(S), wh
