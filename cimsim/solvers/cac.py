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
from typing import Any, Callable

import numpy as np
from threadpoolctl import threadpool_limits

from ..amplitude import AmplitudeState, amplitude_divergence, check_inputs, energy_tolerance
from ..errors import CimsimError, positive_float, positive_int
from ..kernels.amplitude import run_csr, run_dense, step_dense
from ..memory import check_batch_fits, check_dense_fits
from ..model import IsingModel
from ..spins import strip_aux_spin
from ..params import Param, validate
from . import Batch

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
    E_MAX_PARAM, X_MAX, INIT_SCALE, TARGET,
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
    if out["coupling"] is None:
        total = abs_sum(model)
        out["coupling"] = positive_float(3.0 * n / total if total > 0 else 1.0, "coupling")
    if out["gamma"] is None:
        out["gamma"] = positive_float(GAMMA_N / n, "gamma", allow_zero=True)
    if out["tau"] is None:
        out["tau"] = positive_float(TAU_N * n, "tau")
    if out["x_max"] is None:
        out["x_max"] = 1.0 / np.sqrt(out["mu"] * out["dt"])
    return out


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
) -> AmplitudeState:
    """Integrate the amplitude/error dynamics (module docstring of :mod:`cimsim.kernels.amplitude`).

    ``model`` must be field-free (use the auxiliary-spin model otherwise); ``X`` and ``E`` (R, N) are
    copied. ``delta`` is applied to raw energy differences here (divide by the energy unit before).
    Shared by the ``cac`` and ``ahc`` solvers.
    """
    if model.has_fields:
        raise CimsimError("simulate needs a field-free model; use model.with_aux_spin()")
    X = np.array(X, dtype=np.float64, order="C", copy=True)
    E = np.array(E, dtype=np.float64, order="C", copy=True)
    check_inputs(model, X, E)
    R, N = X.shape
    S = np.where(X >= 0, 1, -1).astype(np.int8)
    PHI = np.ascontiguousarray(model.local_fields(S), dtype=np.float64)
    H = np.array(model.energies(S), dtype=np.float64).reshape(R)
    HOPT = H.copy()
    BEST = S.copy()
    TAU = np.full(R, float(alpha))
    XI = np.full(R, float(xi0))
    TC = np.zeros(R, dtype=np.int64)
    TBEST = np.zeros(R, dtype=np.int64)
    STEPS = np.zeros(R, dtype=np.int64)
    tol = energy_tolerance(model)
    tgt = -np.inf if target is None else float(target)
    args = (p - 1.0, mu, coupling, dt, e_max, x_max, alpha, rho, delta, gamma, int(tau_steps), tol, tgt)
    if model.is_sparse:
        J = model.J
        run_csr(J.indptr, J.indices, J.data, X, E, S, PHI, BEST, H, HOPT, TAU, XI, TC, TBEST, STEPS,
                int(steps), *args)
    elif N < BLAS_MIN_N:
        J = np.ascontiguousarray(model.J, dtype=np.float64)
        run_dense(J, X, E, S, PHI, BEST, H, HOPT, TAU, XI, TC, TBEST, STEPS, int(steps), *args)
    else:
        J = np.ascontiguousarray(model.J, dtype=np.float64)
        # The coupling input J x is a float32 product (half the bytes of J to stream per step: about 2x the
        # float64 rate on this machine); the state, the readout fields and the energies stay float64.
        check_dense_fits(N, copies=1, itemsize=4, what="float32 copy of J")
        J32 = J.astype(np.float32)
        X32 = np.empty((R, N), dtype=np.float32)
        Y = np.empty((R, N), dtype=np.float32)
        FLIP = np.empty((R, N), dtype=np.int64)
        ACTIVE = np.ones(R, dtype=np.bool_)
        # One BLAS thread: per step the product is a few matrix-vector products, too small to gain from
        # BLAS threads, whose spin-waiting fights the numba threads (measured 20x slower on a busy box).
        with threadpool_limits(limits=1, user_api="blas"):
            with np.errstate(over="ignore", invalid="ignore"):
                for t in range(int(steps)):
                    np.copyto(X32, X, casting="same_kind")
                    np.matmul(X32, J32, out=Y)
                    step_dense(J, Y, X, E, S, PHI, BEST, FLIP, H, HOPT, TAU, XI, TC, TBEST, STEPS, ACTIVE, t, *args)
                    if (t & 63) == 63 and (np.isnan(H).any() or target is not None and not ACTIVE.any()):
                        break  # a diverged replica (H = NaN, raised below) or every replica at the target
    bad = np.isnan(H) | ~(np.isfinite(X).all(axis=1) & np.isfinite(E).all(axis=1))
    if bad.any():
        raise amplitude_divergence(int(bad.sum()), R, int(STEPS[bad].max()) + 1, int(steps), dt, coupling, x_max, mu)
    return AmplitudeState(X, E, S, H, BEST, HOPT, TAU, XI, TC, TBEST, STEPS)


def _initial(model: IsingModel, replicas: int, rng: np.random.Generator, half_width: float) -> tuple[np.ndarray, np.ndarray]:
    X = rng.uniform(-half_width, half_width, size=(replicas, model.n))
    return X, np.ones((replicas, model.n))


def integrate(model: IsingModel, x: np.ndarray, e: np.ndarray, steps: int, **params: Any) -> AmplitudeState:
    """Run CAC from given amplitudes ``x`` and error variables ``e`` ((R, N) or (N,)) for ``steps`` steps.

    The exposed form of the dynamics (used by the tests to check one step by hand). With fields the
    arrays include the auxiliary spin in column 0 (N + 1 columns). ``params`` as for :func:`run`.
    """
    steps = positive_int(steps, "steps")
    prm = resolve_params(model, **params)
    return integrate_with(model, x, e, steps, _kernel_args(model, prm))


def integrate_with(model: IsingModel, x: np.ndarray, e: np.ndarray, steps: int, kernel_args: dict) -> AmplitudeState:
    """:func:`simulate` from ``x``, ``e`` ((R, N) or (N,)) on the field-free (auxiliary-spin) form of ``model``
    with validated ``steps`` and ``kernel_args``; the body of the cac and ahc ``integrate``."""
    m = model.with_aux_spin() if model.has_fields else model
    X = np.atleast_2d(np.asarray(x, dtype=np.float64))
    Ev = np.atleast_2d(np.asarray(e, dtype=np.float64))
    return simulate(m, X, Ev, steps, **kernel_args)


def _kernel_args(model: IsingModel, prm: dict) -> dict:
    return dict(
        p=prm["p"], mu=prm["mu"], coupling=prm["coupling"], dt=prm["dt"], e_max=prm["e_max"], x_max=prm["x_max"],
        alpha=prm["alpha"], rho=prm["rho"], delta=prm["delta"] / energy_unit(model),
        gamma=prm["gamma"], tau_steps=max(1, int(round(prm["tau"] / prm["dt"]))), xi0=0.0,
        target=prm["target"],
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

    def execute(self, model: IsingModel, rng: np.random.Generator, simulate_fn: Any = None, **extra: Any) -> Batch:
        """Run the plan: initial state from ``rng``, ``simulate_fn`` (default :func:`simulate`) on the
        field-free (auxiliary-spin) model, gauge-fixed best spins; ``extra`` is appended to ``Batch.extra``."""
        check_batch_fits(self.replicas, model.n + 1, arrays=7, what="ahc/cac amplitudes, errors, fields and readouts")
        m = model.with_aux_spin() if model.has_fields else model
        X, E = _initial(m, self.replicas, rng, self.params["init_scale"])
        st = (simulate if simulate_fn is None else simulate_fn)(m, X, E, self.steps, **self.kernel_args)
        spins = strip_aux_spin(st.best_spins) if model.has_fields else st.best_spins
        out: dict[str, Any] = {"steps_to_best": st.steps_to_best.tolist(), "steps_taken": st.steps.tolist(),
                               "best_energies": np.asarray(st.best_energy, dtype=np.float64)}
        out["aux_spin"] = bool(model.has_fields)
        out.update(extra)
        return Batch(spins, self.steps, dict(self.params), out)


def plan(model: IsingModel, *, replicas: int, steps: int, **params: Any) -> AmplitudePlan:
    """Validate ``replicas``, ``steps`` and the CAC ``params`` (:func:`resolve_params`)."""
    return AmplitudePlan.make(replicas, steps, lambda: resolve_params(model, **params),
                              lambda prm, _steps: _kernel_args(model, prm))


def run(model: IsingModel, *, replicas: int, steps: int, rng: np.random.Generator, backend: str = "cpu",
        device: Any = None, **params: Any) -> Batch:
    """Solver contract: ``replicas`` independent CAC trajectories of ``steps`` Euler steps each.

    Parameters: :data:`PARAMS` (see the module docstring; ``tau`` in time units, ``target`` an energy at
    which a replica stops).
    """
    p = plan(model, replicas=replicas, steps=steps, **params)
    if backend == "gpu":
        return run_device(model, p, rng, device)
    return p.execute(model, rng)


def run_device(model: IsingModel, p: AmplitudePlan, rng: np.random.Generator, device: Any = None) -> Batch:
    """A cac or ahc plan on the device executor :func:`cimsim.gpu.dynamics.amplitude_simulate` on ``device``
    (a :class:`cimsim.gpu.Device`; default the GPU): same initial state and Batch as the CPU path."""
    from functools import partial

    from ..gpu import amplitude_simulate, pick_device

    dev = pick_device(device)
    return p.execute(model, rng, partial(amplitude_simulate, device=dev), device=dev.name)
