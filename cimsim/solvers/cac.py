"""Chaotic amplitude control, CAC (Leleu et al., Commun. Phys. 4, 266 (2021)); physics.md 4.5.

Equations (project convention, explicit Euler with step ``dt``; ``s = sign(x)``)::

    dx_i/dt = (p - 1) x_i - mu x_i^3 + c e_i (J x)_i           c: parameter ``coupling`` (beta in the paper)
    de_i/dt = -xi (x_i^2 - tau_a) e_i                   e_i clipped above at e_max = 32
    tau_a   = alpha + rho tanh(delta (H(s) - H_opt) / u)  H_opt: best energy this replica has seen
    dxi/dt  = gamma ;  xi -> 0 when H_opt has not improved for a time tau (the clock then restarts)

``u`` is the energy unit, the mean |J_ij| over the non-zero couplings (u = 1 for Gset's +-1 weights,
so ``delta`` means exactly what it does in the reference code there; for Gaussian SK it keeps
``tanh`` from saturating on tiny energy differences). The reset of ``xi`` is the intended one: it
fires every ``tau`` of stagnation (cim-optimizer overwrites its clock before testing it, so its reset
never fires; physics.md 4.5). The error update uses the pre-step amplitudes (cim-optimizer aliases the
updated ones).

Default set: the **G1/G2 dictionaries of cim-optimizer's ``optimal_params.py``** (the set also used
by its Gset and SK N=100 tests), with their instance-dependent scalings::

    dt = 0.05, p = 0.2, mu = 1, alpha = 1, rho = 1, delta = 9,
    coupling = 3 N / sum_ij |J_ij|,   e_max = 32,
    x(0) ~ U(-init_scale, init_scale) with init_scale = 5e-4,  e(0) = 1,  xi(0) = 0,  tau_a(0) = alpha,

except the xi ramp and the reset time, retuned for our batches of 30 000 steps (time 1500):
``gamma = 0.6 / N`` and ``tau = N`` (the published ``0.075 / N`` and ``9 N`` belong to single runs of
200 000 steps; with them xi never exceeds ~0.1 in a 30 000-step batch and no reset ever fires).
Measured on G1 and G43 (bench/ahc_cac_notes.md): 0.6/N reached the best-known cut in about 40 % of
25 000-step replicas, 0.075/N in none.

``preset="gset"`` switches to the ramped CIM-CAC of Reifenstein et al. 2021 that their Gset time-to-solution
benchmark used (:func:`gset_preset`, physics.md 4.5): c = sqrt(2N / sum J^2), constant xi = 0.8, no target
swing or reset, p ramped -1 -> 1 and alpha 1 -> 2.5 over 90 % of the run, with the Euler step capped by the
most negative coupling mode. ``schedule`` / ``alpha_schedule`` make p / alpha follow any schedule spec over
the run, and ``noise`` adds Gaussian noise of that strength per unit time to x (physics.md 4.4).

The driver's ``deadline`` ends a batch at the next kernel-call boundary (calls of about
:data:`~cimsim.solvers.budget.CHUNK_S` seconds that continue the carried state, so chunking never changes a
result); in a sampling run (:class:`cimsim.sampling.Tap`) the calls are cut at the tap's marks and sign(x) of
every replica is recorded there.

Every value can be overridden through ``params`` (:data:`PARAMS`, ``cimsim solvers cac``). Models with fields ``h`` are solved through the
auxiliary-spin model (:meth:`IsingModel.with_aux_spin`, gauge-fixed back with
:func:`cimsim.spins.strip_aux_spin`). Dense J: one float32 BLAS (R, N) x (N, N) product (the coupling
input; state, readout fields and energies stay float64) and one fused numba update per step (N >= 256; smaller dense models and CSR J run whole trajectories inside one numba
kernel, replicas in parallel).

Each replica returns the best readout it visited (``H`` tracked incrementally, O(degree) per flip).
``target`` (an energy) stops a replica as soon as it reaches it; ``extra["steps_to_best"]`` records
when each replica found its best state.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
from threadpoolctl import threadpool_limits

from ..amplitude import AmplitudeState, amplitude_divergence, check_inputs, energy_tolerance, run_in_chunks, step_values
from ..errors import CimsimError, positive_float, positive_int
from ..kernels.amplitude import run_csr, run_dense, step_dense
from ..memory import check_batch_fits, check_dense_fits
from ..model import IsingModel
from ..spins import strip_aux_spin
from ..params import Param, validate
from ..sampling import active_tap
from ..schedules import Schedule, parse_schedule
from . import Batch
from .budget import CHUNK_S
from .machine import lambda_min_cached, replica_streams

#: has a sampling mode (cimsim.sampling.Tap): sign(x) of every replica at the tap's marks
SAMPLES = True

__all__ = ["defaults", "run", "plan", "AmplitudePlan", "integrate", "resolve_params", "AmplitudeState", "E_MAX",
           "simulate"]

#: Upper clip of the error variables (as in the reference codes).
E_MAX = 32.0
#: gamma = GAMMA_N / N and tau = TAU_N * N (time units) by default.
GAMMA_N = 0.6
TAU_N = 1.0

#: Dense models with at least this many spins use one BLAS (R, N) x (N, N) product per step; smaller
#: ones run whole trajectories inside one numba kernel (per-step call overhead would dominate).
BLAS_MIN_N = 256

#: The parameters shared by ahc and cac (same meaning, same checks).
DT = Param("dt", "float", 0.05, "Euler time step", low=0, low_open=True)
PUMP = Param("p", "float", 0.2, "pump: the linear gain is p - 1")
MU = Param("mu", "float", 1.0, "cubic saturation", low=0, low_open=True)
E_MAX_PARAM = Param("e_max", "float", E_MAX, "upper clip of the error variables", low=0, low_open=True)
X_MAX = Param("x_max", "float", None, "amplitude clip (numerical guard)", low=0, low_open=True, auto="1 / sqrt(mu dt)")
INIT_SCALE = Param("init_scale", "float", 5e-4, "initial amplitudes x ~ U(-init_scale, init_scale), e = 1", low=0,
                   low_open=True)
TARGET = Param("target", "float", None, "energy at which a replica stops", optional=True)
SCHEDULE = Param("schedule", "str", None, "pump p over the run, a schedule spec such as linear:-1,1 (default: the "
                 "constant p)", optional=True)
ALPHA_SCHEDULE = Param("alpha_schedule", "str", None, "base target squared amplitude alpha over the run, a schedule "
                       "spec (default: the constant alpha)", optional=True)
NOISE = Param("noise", "float", 0.0, "Gaussian noise on x: standard deviation per unit time (noise sqrt(dt) per step)",
              low=0)

#: The parameters of :func:`run` and :func:`integrate` (``solve(model, "cac", **params)``, ``-p KEY=VALUE``).
PARAMS: tuple[Param, ...] = (
    DT, PUMP, MU,
    Param("alpha", "float", 1.0, "base target squared amplitude tau_a"),
    Param("rho", "float", 1.0, "swing of tau_a with the energy above the replica's best", low=0),
    Param("delta", "float", 9.0, "slope of that swing, per energy unit (mean |J_ij|)", low=0),
    Param("coupling", "float", None, "coupling strength c of c e_i (J x)_i", low=0, low_open=True,
          auto="3 N / sum|J_ij|"),
    Param("gamma", "float", None, "ramp rate of the error-variable rate xi", low=0, auto="0.6 / N"),
    Param("tau", "float", None, "stagnation time (time units) after which xi resets to 0", low=0, low_open=True,
          auto="N"),
    Param("xi0", "float", 0.0, "error-variable rate xi at the start of the run", low=0),
    E_MAX_PARAM, X_MAX, INIT_SCALE, TARGET, SCHEDULE, ALPHA_SCHEDULE, NOISE,
    Param("preset", "choice", "optimizer", "parameter set: optimizer (cim-optimizer's G1 set, the module docstring) or "
          "gset (Reifenstein et al. 2021's ramped CAC for Gset, physics.md 4.5); given values override it",
          choices=("optimizer", "gset")),
)


def defaults(model: IsingModel) -> dict:
    """Replicas and steps per batch.

    CSR and small dense models: 2 replicas (one per core) x 30 000 steps (time 1500). Dense models with
    N >= :data:`BLAS_MIN_N`: 4 replicas (one BLAS product serves all of them) x 4 000 steps. Small
    batches keep a ``time_limit`` tight (the driver only checks the clock between batches).
    """
    if not model.is_sparse and model.n >= BLAS_MIN_N:
        return {"replicas": 4, "steps": 4000}
    return {"replicas": 2, "steps": 30000}


def abs_sum(model: IsingModel) -> float:
    """sum_ij |J_ij| over both triangles (the reference normalisation), fields counted as couplings
    of the auxiliary spin (2 sum |h_i|)."""
    J = model.J
    s = float(np.abs(J.data).sum()) if model.is_sparse else float(np.abs(J).sum())
    return s + 2.0 * float(np.abs(model.h).sum())


def energy_unit(model: IsingModel) -> float:
    """Mean |J_ij| over non-zero couplings (and non-zero fields); 1 for an empty model."""
    J = model.J
    vals = J.data if model.is_sparse else J[J != 0]
    hv = model.h[model.h != 0]
    k = vals.size + hv.size
    if k == 0:
        return 1.0
    return float((np.abs(vals).sum() + np.abs(hv).sum()) / k)


def resolve_params(model: IsingModel, **params: Any) -> dict:
    """Validate ``params`` against :data:`PARAMS` and fill the instance-dependent defaults.

    Raises :class:`CimsimError` on unknown names, NaN/inf, or impossible values.
    """
    out = validate(PARAMS, params, "cac")
    n = model.n
    if out["preset"] == "gset":
        given = {k for k, v in params.items() if v is not None}
        skip = {"schedule"} if "p" in given else set()  # a constant p given with the preset replaces its ramp
        skip |= {"alpha_schedule"} if "alpha" in given else set()
        for k, v in gset_preset(model).items():
            if k not in given and k not in skip:
                out[k] = v
    if out["coupling"] is None:
        total = abs_sum(model)
        out["coupling"] = positive_float(3.0 * n / total if total > 0 else 1.0, "coupling")
    if out["gamma"] is None:
        out["gamma"] = positive_float(GAMMA_N / n, "gamma", allow_zero=True)
    if out["tau"] is None:
        out["tau"] = positive_float(TAU_N * n, "tau")
    if out["x_max"] is None:
        out["x_max"] = 1.0 / np.sqrt(out["mu"] * out["dt"])
    check_schedules(out, params)
    return out


#: The ``gset`` preset (physics.md 4.5): Reifenstein et al. 2021's CIM-CAC, the pump ramped -1 -> 1 and the
#: target 1 -> 2.5 over the first 90 % of the run, then held; constant error rate 0.8; no target swing.
GSET_ALPHA_END = 2.5
#: gset preset step: dt = min(0.125, GSET_KAPPA / (coupling |lambda_min(J)|)) (physics.md 4.5)
GSET_KAPPA = 0.6


def gset_preset(model: IsingModel) -> dict:
    """The values of the ``gset`` preset for ``model`` (any not given by the caller replace the defaults).

    coupling = sqrt(2 N / sum_ij J_ij^2) (Reifenstein et al.'s normalisation; fields count as couplings of
    the auxiliary spin), dt = min(0.125, GSET_KAPPA / (coupling |lambda_min(J)|)) (the published 0.125 where
    the most negative coupling mode allows it), x_max = 1.5 sqrt(2.5), no xi reset (tau = 1e12)."""
    J = model.J
    sq = float(J.multiply(J).sum()) if model.is_sparse else float(np.sum(np.square(J)))
    sq += 2.0 * float(np.sum(np.square(model.h)))
    n = model.n + (1 if model.has_fields else 0)
    c = float(np.sqrt(2.0 * n / sq)) if sq > 0 else 1.0
    lam = -lambda_min_cached(model) if model.n > 1 else 0.0
    dt = 0.125 if lam <= 0 else min(0.125, GSET_KAPPA / (c * lam))
    return {"coupling": c, "dt": dt, "x_max": 1.5 * float(np.sqrt(GSET_ALPHA_END)), "alpha": 1.0, "xi0": 0.8,
            "gamma": 0.0, "rho": 0.0, "tau": 1e12,
            "schedule": "piecewise:-1@0,1@0.9,1@1",
            "alpha_schedule": f"piecewise:1@0,{GSET_ALPHA_END:g}@0.9,{GSET_ALPHA_END:g}@1"}


def check_schedules(prm: dict, given: dict | None = None) -> None:
    """Parse the ``schedule`` and ``alpha_schedule`` specs of resolved ahc/cac parameters (one-line
    CimsimError on a bad spec; relative schedules are for the pump in threshold units and are refused).
    ``given`` (the caller's parameters) may not set both a constant and its schedule."""
    for const, key in (("p", "schedule"), ("alpha", "alpha_schedule")):
        if given is not None and given.get(const) is not None and given.get(key) is not None:
            raise CimsimError(f"give either {const} or {key}, not both ({key} sets {const} at every step)")
    for key in ("schedule", "alpha_schedule"):
        if prm.get(key) is not None:
            sched = parse_schedule(prm[key])
            if getattr(sched, "relative", False):
                raise CimsimError(f"{key}: relative schedules are not supported by ahc/cac (give absolute values)")


def schedule_args(prm: dict) -> dict:
    """The schedule, noise and start-rate keyword arguments of :func:`simulate` from resolved parameters."""
    def parsed(key: str) -> Schedule | None:
        return None if prm.get(key) is None else parse_schedule(prm[key])

    return dict(schedule=parsed("schedule"), alpha_schedule=parsed("alpha_schedule"), noise=float(prm["noise"]))


def simulate(
    model: IsingModel,
    X: np.ndarray,
    E: np.ndarray,
    steps: int,
    *,
    p: float,
    mu: float,
    coupling: float,
    dt: float,
    e_max: float,
    x_max: float,
    alpha: float,
    rho: float,
    delta: float,
    gamma: float,
    tau_steps: int,
    xi0: float,
    target: float | None = None,
    schedule: Schedule | None = None,
    alpha_schedule: Schedule | None = None,
    noise: float = 0.0,
    streams: np.ndarray | None = None,
    deadline: Any = None,
    marks: Sequence[int] = (),
    on_mark: Callable[[int, np.ndarray], None] | None = None,
) -> AmplitudeState:
    """Integrate the amplitude/error dynamics (module docstring of :mod:`cimsim.kernels.amplitude`).

    ``model`` must be field-free (use the auxiliary-spin model otherwise); ``X`` and ``E`` (R, N) are
    copied. ``delta`` is applied to raw energy differences here (divide by the energy unit before).
    ``schedule`` / ``alpha_schedule`` (parsed :class:`~cimsim.schedules.Schedule`, or None for the constant
    ``p`` / ``alpha``) give the pump and the base target at each step; ``noise`` > 0 adds
    ``noise sqrt(dt) g`` to every amplitude each step, g standard normals from the per-replica xorshift64*
    ``streams`` ((R,) non-zero uint64, advanced in place; required then). The run goes in chunks
    (:func:`cimsim.amplitude.run_in_chunks`) that stop early once ``deadline`` expires, cut at ``marks``
    where ``on_mark(t, X)`` sees the amplitudes after t steps; chunking never changes the result.
    Shared by the ``cac`` and ``ahc`` solvers.
    """
    if model.has_fields:
        raise CimsimError("simulate needs a field-free model; use model.with_aux_spin()")
    X = np.array(X, dtype=np.float64, order="C", copy=True)
    E = np.array(E, dtype=np.float64, order="C", copy=True)
    check_inputs(model, X, E)
    R, N = X.shape
    steps = int(steps)
    S = np.where(X >= 0, 1, -1).astype(np.int8)
    PHI = np.ascontiguousarray(model.local_fields(S), dtype=np.float64)
    H = np.array(model.energies(S), dtype=np.float64).reshape(R)
    HOPT = H.copy()
    BEST = S.copy()
    TAU = np.full(R, float(step_values(alpha_schedule, alpha, steps, 0, 1)[0]))
    XI = np.full(R, float(xi0))
    TC = np.zeros(R, dtype=np.int64)
    TBEST = np.zeros(R, dtype=np.int64)
    STEPS = np.zeros(R, dtype=np.int64)
    ACTIVE = np.ones(R, dtype=np.bool_)
    RNG = _streams(streams, R, noise)
    sq = float(noise) * np.sqrt(dt)
    tol = energy_tolerance(model)
    tgt = -np.inf if target is None else float(target)
    rest = (mu, coupling, dt, e_max, x_max, rho, delta, gamma, int(tau_steps), tol, tgt, sq)

    def controls(t0: int, t1: int) -> tuple[np.ndarray, np.ndarray]:
        return step_values(schedule, p, steps, t0, t1) - 1.0, step_values(alpha_schedule, alpha, steps, t0, t1)

    if model.is_sparse or N < BLAS_MIN_N:
        J = model.J
        if model.is_sparse:
            kernel, jargs = run_csr, (J.indptr, J.indices, J.data)
        else:
            kernel, jargs = run_dense, (np.ascontiguousarray(J, dtype=np.float64),)

        def advance(t0: int, t1: int) -> bool:
            PM1, ALPHA = controls(t0, t1)
            kernel(*jargs, X, E, S, PHI, BEST, H, HOPT, TAU, XI, TC, TBEST, STEPS, ACTIVE, RNG, t0, t1, PM1, ALPHA,
                   *rest)
            return bool(ACTIVE.any())

        done = _chunked(advance, steps, deadline, marks, on_mark, X)
    else:
        J = np.ascontiguousarray(model.J, dtype=np.float64)
        # The coupling input J x is a float32 product (half the bytes of J to stream per step: about 2x the
        # float64 rate on this machine); the state, the readout fields and the energies stay float64.
        check_dense_fits(N, copies=1, itemsize=4, what="float32 copy of J")
        J32 = J.astype(np.float32)
        X32 = np.empty((R, N), dtype=np.float32)
        Y = np.empty((R, N), dtype=np.float32)
        FLIP = np.empty((R, N), dtype=np.int64)
        mu_, coup_, dt_, e_max_, x_max_, rho_, delta_, gamma_, tau_steps_, tol_, tgt_, sq_ = rest

        def advance(t0: int, t1: int) -> bool:
            PM1, ALPHA = controls(t0, t1)
            for t in range(t0, t1):
                np.copyto(X32, X, casting="same_kind")
                np.matmul(X32, J32, out=Y)
                step_dense(J, Y, X, E, S, PHI, BEST, FLIP, H, HOPT, TAU, XI, TC, TBEST, STEPS, ACTIVE, RNG, t,
                           PM1[t - t0], mu_, coup_, dt_, e_max_, x_max_, ALPHA[t - t0], rho_, delta_, gamma_,
                           tau_steps_, tol_, tgt_, sq_)
                if (t & 63) == 63 and (np.isnan(H).any() or not ACTIVE.any()):
                    return False  # a diverged replica (H = NaN, raised below) or every replica at the target
            return bool(ACTIVE.any())

        # One BLAS thread: per step the product is a few matrix-vector products, too small to gain from
        # BLAS threads, whose spin-waiting fights the numba threads (measured 20x slower on a busy box).
        with threadpool_limits(limits=1, user_api="blas"):
            with np.errstate(over="ignore", invalid="ignore"):
                done = _chunked(advance, steps, deadline, marks, on_mark, X)
    bad = np.isnan(H) | ~(np.isfinite(X).all(axis=1) & np.isfinite(E).all(axis=1))
    if bad.any():
        raise amplitude_divergence(int(bad.sum()), R, int(STEPS[bad].max()) + 1, int(steps), dt, coupling, x_max, mu)
    if streams is not None and RNG is not streams:
        streams[...] = RNG
    return AmplitudeState(X, E, S, H, BEST, HOPT, TAU, XI, TC, TBEST, STEPS, done)


def _streams(streams: np.ndarray | None, replicas: int, noise: float) -> np.ndarray:
    """The (R,) uint64 random streams of a run (a dummy when ``noise`` is 0; required otherwise)."""
    if streams is None:
        if noise > 0:
            raise CimsimError("noise > 0 needs per-replica random streams (streams=)")
        return np.ones(replicas, dtype=np.uint64)
    out = np.ascontiguousarray(streams, dtype=np.uint64)
    if out.shape != (replicas,) or not out.all():
        raise CimsimError(f"streams must be {replicas} non-zero uint64 seeds, got shape {out.shape}")
    return out


def _chunked(advance: Callable[[int, int], bool], steps: int, deadline: Any, marks: Sequence[int],
             on_mark: Callable[[int, np.ndarray], None] | None, X: np.ndarray) -> int:
    """:func:`cimsim.amplitude.run_in_chunks` with ``on_mark(t, X)`` at the marks."""
    hook = None if on_mark is None else (lambda t: on_mark(t, X))
    return run_in_chunks(advance, steps, deadline, marks if on_mark is not None else (), hook, CHUNK_S)


def _initial(model: IsingModel, replicas: int, rng: np.random.Generator, half_width: float) -> tuple[np.ndarray, np.ndarray]:
    X = rng.uniform(-half_width, half_width, size=(replicas, model.n))
    return X, np.ones((replicas, model.n))


def integrate(model: IsingModel, x: np.ndarray, e: np.ndarray, steps: int, *, streams: np.ndarray | None = None,
              **params: Any) -> AmplitudeState:
    """Run CAC from given amplitudes ``x`` and error variables ``e`` ((R, N) or (N,)) for ``steps`` steps.

    The exposed form of the dynamics (used by the tests to check one step by hand). With fields the
    arrays include the auxiliary spin in column 0 (N + 1 columns). ``params`` as for :func:`run`; with
    ``noise`` > 0, ``streams`` are the (R,) non-zero uint64 seeds of the per-replica random streams.
    """
    steps = positive_int(steps, "steps")
    prm = resolve_params(model, **params)
    return integrate_with(model, x, e, steps, _kernel_args(model, prm), streams)


def integrate_with(model: IsingModel, x: np.ndarray, e: np.ndarray, steps: int, kernel_args: dict,
                   streams: np.ndarray | None = None) -> AmplitudeState:
    """:func:`simulate` from ``x``, ``e`` ((R, N) or (N,)) on the field-free (auxiliary-spin) form of ``model``
    with validated ``steps`` and ``kernel_args``; the body of the cac and ahc ``integrate``."""
    m = model.with_aux_spin() if model.has_fields else model
    X = np.atleast_2d(np.asarray(x, dtype=np.float64))
    Ev = np.atleast_2d(np.asarray(e, dtype=np.float64))
    return simulate(m, X, Ev, steps, streams=streams, **kernel_args)


def _kernel_args(model: IsingModel, prm: dict) -> dict:
    return dict(
        p=prm["p"], mu=prm["mu"], coupling=prm["coupling"], dt=prm["dt"], e_max=prm["e_max"], x_max=prm["x_max"],
        alpha=prm["alpha"], rho=prm["rho"], delta=prm["delta"] / energy_unit(model),
        gamma=prm["gamma"], tau_steps=int(min(2**62, max(1, round(prm["tau"] / prm["dt"])))), xi0=prm["xi0"],
        target=prm["target"], **schedule_args(prm),
    )


@dataclass(frozen=True)
class AmplitudePlan:
    """Validated parameters of one cac or ahc batch: what their :func:`run` executes on the CPU
    (:func:`simulate`) and on the device (:func:`run_device`). Built by :func:`plan` /
    :func:`cimsim.solvers.ahc.plan`.

    ``params`` is the resolved parameter dict (``Batch.settings``), ``kernel_args`` the keyword
    arguments of :func:`simulate`.
    """

    replicas: int
    steps: int
    params: dict
    kernel_args: dict

    @classmethod
    def make(cls, replicas: int, steps: int, resolve: Callable[[], dict],
             kernel_args: Callable[[dict, int], dict]) -> "AmplitudePlan":
        """Validate ``replicas`` and ``steps``, then ``resolve()`` the parameters (raises CimsimError)."""
        replicas = positive_int(replicas, "replicas")
        steps = positive_int(steps, "steps")
        prm = resolve()
        return cls(replicas, steps, prm, kernel_args(prm, steps))

    def execute(self, model: IsingModel, rng: np.random.Generator, simulate_fn: Any = None, deadline: Any = None,
                **extra: Any) -> Batch:
        """Run the plan: initial state from ``rng`` (then the per-replica noise streams, only when noise > 0,
        so noise-free runs draw exactly what they always drew), ``simulate_fn`` (default :func:`simulate`) on
        the field-free (auxiliary-spin) model, gauge-fixed best spins; ``extra`` is appended to
        ``Batch.extra``. A ``deadline`` that expires ends the batch at the next chunk boundary
        (``Batch.steps`` = the steps done); inside a sampling run the active tap gets sign(x) of every
        replica at its marks."""
        check_batch_fits(self.replicas, model.n + 1, arrays=7, what="ahc/cac amplitudes, errors, fields and readouts")
        aux = model.has_fields
        m = model.with_aux_spin() if aux else model
        X, E = _initial(m, self.replicas, rng, self.params["init_scale"])
        streams = replica_streams(rng, self.replicas) if self.kernel_args["noise"] > 0 else None
        tap = active_tap()
        sampling: dict[str, Any] = {}
        if tap is not None:
            def on_mark(t: int, Xt: np.ndarray) -> None:
                S = np.where(Xt >= 0, 1, -1).astype(np.int8)
                tap.record(t, strip_aux_spin(S) if aux else S)

            sampling = {"marks": tap.marks(self.steps), "on_mark": on_mark}
        st = (simulate if simulate_fn is None else simulate_fn)(m, X, E, self.steps, streams=streams,
                                                                deadline=deadline, **sampling, **self.kernel_args)
        spins = strip_aux_spin(st.best_spins) if aux else st.best_spins
        done = self.steps if st.done is None else int(st.done)
        out: dict[str, Any] = {"steps_to_best": st.steps_to_best.tolist(), "steps_taken": st.steps.tolist(),
                               "best_energies": np.asarray(st.best_energy, dtype=np.float64),
                               "mvm": int(st.steps.sum())}
        out["aux_spin"] = bool(aux)
        out.update(extra)
        return Batch(spins, done, dict(self.params), out)


def plan(model: IsingModel, *, replicas: int, steps: int, **params: Any) -> AmplitudePlan:
    """Validate ``replicas``, ``steps`` and the CAC ``params`` (:func:`resolve_params`)."""
    return AmplitudePlan.make(replicas, steps, lambda: resolve_params(model, **params),
                              lambda prm, _steps: _kernel_args(model, prm))


def run(model: IsingModel, *, replicas: int, steps: int, rng: np.random.Generator, backend: str = "cpu",
        device: Any = None, deadline: Any = None, **params: Any) -> Batch:
    """Solver contract: ``replicas`` independent CAC trajectories of ``steps`` Euler steps each.

    Parameters: :data:`PARAMS` (see the module docstring; ``tau`` in time units, ``target`` an energy at
    which a replica stops). ``deadline`` (:class:`~cimsim.solvers.budget.Deadline`, from the driver) ends
    the batch early, at a chunk boundary, once it expires.
    """
    p = plan(model, replicas=replicas, steps=steps, **params)
    if backend == "gpu":
        return run_device(model, p, rng, device, deadline)
    return p.execute(model, rng, deadline=deadline)


def run_device(model: IsingModel, p: AmplitudePlan, rng: np.random.Generator, device: Any = None,
               deadline: Any = None) -> Batch:
    """A cac or ahc plan on the device executor :func:`cimsim.gpu.dynamics.amplitude_simulate` on ``device``
    (a :class:`cimsim.gpu.Device`; default the GPU): same initial state and Batch as the CPU path."""
    from functools import partial

    from ..gpu import amplitude_simulate, pick_device

    dev = pick_device(device)
    return p.execute(model, rng, partial(amplitude_simulate, device=dev), deadline=deadline, device=dev.name)
