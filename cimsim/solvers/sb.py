"""Simulated bifurcation, ballistic (``bsb``) and discrete (``dsb``, default) (Goto et al. 2021).

Equations (physics.md 4.7, project convention ``H = -1/2 s^T J s - h^T s``)::

    dx/dt = a0 y,      dy/dt = -(a0 - a(t)) x + c0 phi,      phi = J v + h,
    v = x (bSB) or sgn(x) (dSB);   walls: |x_i| > 1 -> x_i = sign(x_i), y_i = 0.

integrated by symplectic Euler (y, then x, then the walls) with ``a(t)`` rising linearly from 0 at the
first step to ``a0`` at the last (``a_k = a0 k / (steps - 1)``). The field enters through ``phi`` so
it is scaled by ``c0`` exactly like the couplings. Defaults: ``a0 = 1``,
``c0 = 0.5 / (sigma_J sqrt N)`` (:meth:`IsingModel.coupling_scale`; parameter ``coupling``), ``x(0) = 0``,
``y(0) ~ U(-init_scale, init_scale)`` with ``init_scale = 0.1``. Parameters: :data:`PARAMS`
(``cimsim solvers sb``).

``dt`` defaults to 1.25, the value of Goto et al. 2021, whenever that step is stable for the instance,
else to ``1 / omega_max`` (:func:`default_dt`). Symplectic Euler is stable only while
``omega dt < 2`` for every linear mode, and the fastest mode at the start of the ramp has
``omega_max^2 = a0 (a0 + c0 |lambda_min(J)|)`` (x' = a0 y, y' = -(a0 - a) x + c0 J x, at a = 0). With
the default a0 = 1 on SK (spectrum [-2, 2] sigma_J sqrt N) this is 2, so
1.25 is safe; on a Gset MaxCut graph J = -W has an isolated Perron eigenvalue (-48 on G1, 7 times
the bulk edge), omega_max = 2.1, and at dt = 1.25 the uniform mode blows up: every x sits on the same
wall (cut 0 on G1). ``1 / omega_max`` (0.47 on G1) was the best of 0.5, 0.7, 0.9 measured there
(bench/sa_sb_notes.md).

The Ising readout ``s = sign(x)`` (x = 0 read as +1) is scored every ``readout`` steps and at the end;
each replica returns the best state it visited. For dSB the readout energy comes from the ``phi`` the
next step computes anyway, so ``readout=1`` (the dSB default) costs O(N) per replica per step; bSB
needs one extra product per readout (default every 10 steps).

Dense J: a numba kernel runs whole trajectories for blocks of ``DENSE_BLOCK`` replicas per thread
(a blocked product reading each row of float32 J once per block); a per-step BLAS ``V @ J`` plus a
parallel element-wise kernel used 27x more CPU on this shared 2-core machine (N = 800, 16 replicas),
because every step synchronises the threads.
CSR J: a numba kernel runs each replica's whole trajectory on one thread.
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse.linalg as sla

from ..errors import CimsimError, positive_float, positive_int
from ..kernels.sb import sb_csr_run, sb_dense_run
from ..memory import check_batch_fits, check_dense_fits
from ..model import IsingModel
from ..params import Param, validate
from ..sampling import active_tap
from .budget import run_chunked, short_calls
from .eigen import LANCZOS_MIN_N, extremes
from . import Batch

__all__ = ["PARAMS", "defaults", "run", "plan", "Plan", "simulate", "VARIANTS", "a_schedule", "default_dt", "stable_dt_limit",
           "check_stable_dt"]

VARIANTS = ("dsb", "bsb")
#: Goto et al. 2021 time step, used whenever it is stable (see default_dt).
GOTO_DT = 1.25
#: the stability limit is omega dt = 2; 1.25 is kept up to this fraction of it.
STABLE_FRACTION = 0.9
_DT_CACHE: "weakref.WeakKeyDictionary[IsingModel, float]" = weakref.WeakKeyDictionary()
DEFAULT_READOUT = {"dsb": 1, "bsb": 10}
#: replicas per task in the dense kernel: each row of J is reused from L1 across a block.
DENSE_BLOCK = 8

#: sampling mode (cimsim.sampling): sign(x) of every replica after the tap's steps (the kernels run in chunks
#: ending there, continued from the carried state; CPU only)
SAMPLES = True

#: The parameters of :func:`run` (``solve(model, "sb", **params)``, ``-p KEY=VALUE``).
PARAMS: tuple[Param, ...] = (
    Param("variant", "choice", "dsb", "discrete (dsb: v = sgn x) or ballistic (bsb: v = x) bifurcation",
          choices=VARIANTS),
    Param("dt", "float", None, "symplectic Euler time step (refused beyond the stability limit)", low=0,
          low_open=True, auto="1.25 if stable, else 1 / omega_max"),
    Param("a0", "float", 1.0, "final pump; a(t) rises linearly from 0 to a0", low=0, low_open=True),
    Param("coupling", "float", None, "coupling strength c0 of phi = J v + h", low=0, low_open=True,
          auto="0.5 / coupling_scale"),
    Param("init_scale", "float", 0.1, "initial momenta y ~ U(-init_scale, init_scale) (x starts at 0)", low=0),
    Param("readout", "int", None, "score the readout sign(x) every this many steps", low=1,
          auto="1 for dsb, 10 for bsb"),
)


def defaults(model: IsingModel) -> dict:
    """16 replicas (two blocks of 8 share each row of a dense J); 2000 steps (1000 for dense J, whose
    steps cost N^2 each)."""
    if model.n <= 64:
        return {"replicas": 16, "steps": 500}
    if model.is_sparse:
        return {"replicas": 16, "steps": 2000}
    return {"replicas": 16, "steps": 1000}


def a_schedule(steps: int, a0: float = 1.0) -> np.ndarray:
    """The (steps,) pump values ``a_k = a0 k / (steps - 1)`` (a single step uses ``a = 0``)."""
    if steps == 1:
        return np.zeros(1)
    return a0 * np.arange(steps, dtype=np.float64) / (steps - 1)


def simulate(
    model: IsingModel,
    X: np.ndarray,
    Y: np.ndarray,
    *,
    steps: int,
    variant: str = "dsb",
    dt: float | None = None,
    a0: float = 1.0,
    c0: float | None = None,
    readout: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Advance positions ``X`` and momenta ``Y`` (R, N) by ``steps`` SB steps from ``a = 0`` to ``a0``.

    Returns ``(X, Y, best_spins, best_energies)``: the final float32 state (new arrays) and, per
    replica, the best Ising readout visited (int8 (R, N)) and its energy (float64 (R,)). Exposed so
    a single step can be checked by hand; :func:`run` is the solver entry point.
    """
    variant, dt, a0, c0, readout = _check(model, variant, dt, a0, c0, readout)
    steps = positive_int(steps, "steps")
    X = np.array(np.atleast_2d(X), dtype=np.float32, order="C", copy=True)
    Y = np.array(np.atleast_2d(Y), dtype=np.float32, order="C", copy=True)
    if X.shape != Y.shape or X.ndim != 2 or X.shape[1] != model.n:
        raise CimsimError(f"X and Y must both have shape (R, {model.n}), got {X.shape} and {Y.shape}")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(Y))):
        raise CimsimError("X and Y must be finite")
    return _simulate(model, X, Y, steps, variant, dt, a0, c0, readout)[:4]


def lambda_min(model: IsingModel) -> float:
    """Smallest eigenvalue of J (Lanczos, loose tolerance; exact for N <= 64). Cached per model.

    Dense models from :data:`~cimsim.solvers.eigen.LANCZOS_MIN_N` spins: the bottom Ritz value of
    :func:`cimsim.solvers.eigen.extremes` minus its residual norm (bounded in time under a budget; the
    subtraction leans a time-cut estimate towards the stable side of the step-size rules that use it)."""
    if model.n <= 64:
        return float(np.linalg.eigvalsh(model.dense_couplings())[0])
    if not model.is_sparse and model.n >= LANCZOS_MIN_N:
        ext = extremes(model, 1)
        return float(ext.bottom - ext.residual_bottom)
    v0 = np.random.default_rng(0).standard_normal(model.n)
    w = sla.eigsh(model.J, k=1, which="SA", v0=v0, tol=1e-3, return_eigenvectors=False)
    return float(w[0])


def default_dt(model: IsingModel, a0: float = 1.0, c0: float | None = None) -> float:
    """1.25 if ``1.25 omega_max <= 2 STABLE_FRACTION``, else ``1 / omega_max`` (module docstring)."""
    c0 = 0.5 / model.coupling_scale() if c0 is None else c0
    omega = 2.0 / stable_dt_limit(model, "bsb", a0, c0)
    return GOTO_DT if GOTO_DT * omega <= 2.0 * STABLE_FRACTION else 1.0 / omega


def _check(model: IsingModel, variant: str, dt, a0, c0, readout) -> tuple[str, float, float, float, int]:
    if variant not in VARIANTS:
        raise CimsimError(f"unknown sb variant {variant!r}; choose one of {', '.join(VARIANTS)}")
    if dt is not None:
        dt = positive_float(dt, "dt")
    a0 = positive_float(a0, "a0")
    c0 = positive_float(0.5 / model.coupling_scale() if c0 is None else c0, "c0")
    if dt is None:
        dt = default_dt(model, a0, c0)
    else:
        check_stable_dt(model, variant, dt, a0, c0)
    readout = positive_int(DEFAULT_READOUT[variant] if readout is None else readout, "readout")
    return variant, dt, a0, c0, readout


def stable_dt_limit(model: IsingModel, variant: str, a0: float, c0: float) -> float:
    """The largest stable symplectic-Euler step, ``2 / omega_max``.

    bSB is linear between the walls: ``omega_max^2 = a0 (a0 + c0 |lambda_min(J)|)`` at the start of the ramp.
    dSB's coupling force ``c0 J sgn(x)`` is bounded, so only the oscillator term counts: ``omega_max = a0``.
    """
    if variant == "dsb":
        return 2.0 / float(a0)
    return 2.0 / float(np.sqrt(a0 * (a0 + c0 * max(-_lambda_min(model, a0, c0), 0.0))))


def _lambda_min(model: IsingModel, a0: float, c0: float) -> float:
    """lambda_min(J), cached per model for the default a0 and c0 (the common case)."""
    key_ok = c0 == 0.5 / model.coupling_scale() and a0 == 1.0
    lam = _DT_CACHE.get(model) if key_ok else None
    if lam is None:
        lam = lambda_min(model)
        if key_ok:
            _DT_CACHE[model] = lam
    return lam


def check_stable_dt(model: IsingModel, variant: str, dt: float, a0: float, c0: float) -> None:
    """Refuse, before the run, a ``dt`` beyond :func:`stable_dt_limit`.

    Beyond it the amplitudes grow by a factor > 1 every step (with alternating sign): the walls keep
    them finite, but they jump from wall to wall instead of bifurcating, and the readout is noise (on
    G1 at dt = 1.25 every x ends on the same wall, cut 0). So this is sb's divergence check: exact,
    and free during the run.
    """
    limit = stable_dt_limit(model, variant, a0, c0)
    if dt >= limit:
        raise CimsimError(f"sb: dt = {dt:g} is beyond the stability limit 2/omega_max = {limit:.4g} of the "
                          f"{variant} integrator on this instance (the amplitudes would diverge between the walls); "
                          f"lower dt below {limit:.4g}, or omit it for the default {default_dt(model, a0, c0):.4g}")


def _simulate(model, X, Y, steps, variant, dt, a0, c0, readout, deadline=None):
    """The kernel run: one call over all steps, or in sampling mode (an active tap) one call per stretch
    between the tap's marks, each continued from the carried state (the same moves and best states as one
    call), recording sign(x) at every mark and stopping once the tap is full. With a ``deadline`` (the
    driver's) the steps run in chunks of about :data:`~cimsim.solvers.budget.CHUNK_S` seconds (the same
    moves as one call) and stop once it has expired, the state then scored as at a run's end. Returns
    ``(X, Y, best_S, best_E, steps_done)``."""
    R, n = X.shape
    discrete = variant == "dsb"
    a_sched = a_schedule(steps, a0)
    h = np.ascontiguousarray(model.h, dtype=np.float64)
    offset = float(model.offset)
    best_S = np.ones((R, n), dtype=np.int8)
    best_E = np.full(R, np.inf)
    if model.is_sparse:
        J = model.J
        data = J.data.astype(np.float32) if np.all(J.data.astype(np.float32) == J.data) else J.data

        def kernel(k0: int, k1: int, last: bool) -> None:
            sb_csr_run(J.indptr, J.indices, data, h, offset, X, Y, a_sched, a0, c0, dt, discrete, readout, best_S,
                       best_E, k0, k1, last)
    else:
        check_dense_fits(n, copies=1, itemsize=4, what="float32 copy of J")
        J32 = np.ascontiguousarray(model.J, dtype=np.float32)
        V = np.empty_like(X)
        P = np.empty_like(X)
        block = DENSE_BLOCK if R >= 2 * DENSE_BLOCK else max(1, (R + 1) // 2)

        def kernel(k0: int, k1: int, last: bool) -> None:
            sb_dense_run(J32, h, offset, X, Y, V, P, a_sched, a0, c0, dt, discrete, readout, block, best_S, best_E,
                         k0, k1, last)
    taken = _run_tapped(kernel, steps, X, deadline)
    return X, Y, best_S, best_E, taken


def _run_tapped(kernel, steps: int, X: np.ndarray, deadline=None) -> int:
    """``kernel(k0, k1, last)`` over ``[0, steps)``: in one call, or with an active tap in stretches ending at
    its marks, recording sign(X) after each and ending the run (scored as the last stretch) at the mark that
    fills the tap. Without a tap but with a ``deadline``: in chunks (:func:`~cimsim.solvers.budget.run_chunked`)
    until it expires, the state where it stopped scored by a zero-step call (``k0 == k1``, ``last``).
    Returns the steps done."""
    tap = active_tap()
    if tap is None and deadline is not None:
        done = run_chunked(lambda k0, k1: kernel(k0, k1, k1 == steps), steps, deadline)
        if done < steps:
            kernel(done, done, True)
        return done
    if tap is None:
        kernel(0, steps, True)
        return steps
    done = 0
    with short_calls(tap.every * X.size):
        for m in tap.marks(steps):
            fills = tap.limit is not None and tap.limit - tap.samples <= X.shape[0]
            kernel(done, m, fills or m == steps)
            done = m
            tap.record(m, X)
            if fills:
                return done
        if done < steps:
            kernel(done, steps, True)
    return steps


@dataclass(frozen=True)
class Plan:
    """Validated parameters of one sb batch: what :func:`run` executes on the CPU and on the device
    (:func:`cimsim.gpu.dynamics.sb_simulate`). Built by :func:`plan`."""

    replicas: int
    steps: int
    variant: str
    dt: float
    a0: float
    c0: float  # the ``coupling`` parameter
    init_scale: float
    readout: int

    def initial_state(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """(R, N) float32 positions (zero) and momenta ~ U(-init_scale, init_scale) drawn from ``rng``."""
        X = np.zeros((self.replicas, n), dtype=np.float32)
        Y = rng.uniform(-self.init_scale, self.init_scale, size=(self.replicas, n)).astype(np.float32)
        return X, Y

    def batch(self, model: IsingModel, best_S: np.ndarray, best_E: np.ndarray, **extra) -> Batch:
        """The Batch of a finished run (``extra`` appended to ``Batch.extra``)."""
        settings = dict(variant=self.variant, dt=self.dt, a0=self.a0, coupling=self.c0, init_scale=self.init_scale,
                        readout=self.readout)
        return Batch(best_S, self.steps, settings,
                     {"best_energies": best_E, "coupling_scale": model.coupling_scale(), **extra})


def plan(model: IsingModel, *, replicas: int, steps: int, **params) -> Plan:
    """Validate the parameters of :func:`run` (:data:`PARAMS`) and fill the instance-dependent defaults
    (``dt``, ``coupling``, ``readout``); raises :class:`CimsimError` before any work starts."""
    prm = validate(PARAMS, params, "sb")
    R = positive_int(replicas, "replicas")
    T = positive_int(steps, "steps")
    check_batch_fits(R, model.n, arrays=5, itemsize=4, what="sb positions, momenta, readouts and work arrays")
    variant, dt, a0, c0, readout = _check(model, prm["variant"], prm["dt"], prm["a0"], prm["coupling"], prm["readout"])
    return Plan(R, T, variant, dt, a0, c0, prm["init_scale"], readout)


def run(model: IsingModel, *, replicas: int, steps: int, rng: np.random.Generator, backend: str = "cpu",
        device: Any = None, deadline: Any = None, **params) -> Batch:
    """Run ``replicas`` SB trajectories of ``steps`` steps from x = 0; return each one's best readout.
    Parameters: :data:`PARAMS`. ``backend="gpu"`` runs the
    device executor on ``device`` (a :class:`cimsim.gpu.Device`; default the GPU). On the CPU a ``deadline``
    (the driver's time limit) that expires ends the batch, scored, with the steps it took."""
    p = plan(model, replicas=replicas, steps=steps, **params)
    if backend == "gpu":
        if active_tap() is not None:
            raise CimsimError("sb: sampling runs on the CPU only (the GPU path does not report every step's "
                              "states); use --backend cpu")
        return _run_device(model, p, rng, device)
    X, Y = p.initial_state(model.n, rng)
    X, Y, best_S, best_E, taken = _simulate(model, X, Y, p.steps, p.variant, p.dt, p.a0, p.c0, p.readout, deadline)
    batch = p.batch(model, best_S, best_E)
    batch.steps = taken  # fewer than p.steps when sampling ended the run once the tap was full
    return batch


def _run_device(model: IsingModel, p: Plan, rng: np.random.Generator, device: Any) -> Batch:
    """``p`` on the device executor :func:`cimsim.gpu.dynamics.sb_simulate` (same initial state and Batch)."""
    from ..gpu import pick_device, sb_simulate

    dev = pick_device(device)
    X, Y = p.initial_state(model.n, rng)
    _, _, best_S, best_E = sb_simulate(model, X, Y, a_schedule(p.steps, p.a0), discrete=p.variant == "dsb", dt=p.dt,
                                       a0=p.a0, c0=p.c0, readout=p.readout, device=dev)
    return p.batch(model, best_S, best_E, device=dev.name)
