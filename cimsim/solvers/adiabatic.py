"""Adiabatic CIM / landscape annealing (physics.md 4.3): follow a minimum of E_a(x) as the pump a rises.

With couplings normalised by ``coupling_scale()`` (J_hat = J / scale, h_hat = h / scale)::

    E_a(x) = sum_i (x_i^4/4 - a x_i^2/2) - 1/2 x^T J_hat x - h_hat^T x

Protocol (every replica is one independent anneal):

1. Levels a_0 < a_1 < ... from an :class:`~cimsim.schedules.AdiabaticSchedule` (default -2.2 -> 0.2 in
   steps of 0.02, the reference protocol of physics.md 4.3); any other schedule is sampled at ``steps``
   points. A ``relative`` schedule is shifted by the instance threshold -lambda_max(J_hat).
2. Without fields the origin is the exact minimum while a <= -lambda_max, so x stays 0 there. At the first
   level above threshold x starts on the bifurcating direction, x = c v_max with
   c^2 = (a + lambda_max) / sum_i v_i^4 (random sign per replica). With fields x starts at 0 at the first level.
3. At every level: add a tiny kick ``kick * N(0, 1)`` to each x_i (the pitfall of 4.3: without it the
   descent can sit on a saddle), then descend E_a to max_i |g_i| < tol with batched L-BFGS using an exact
   quartic line search to the first minimum along each direction (cimsim.kernels.descent). The L-BFGS
   history is carried to the next level with the exact Hessian shift y <- y - da s.
4. The answer of each replica is sign(x) at the last level (not polished here; the driver may polish).

Parameters: :data:`PARAMS` (``cimsim solvers adiabatic``). ``record=True`` stores one row per level in
``Batch.extra``: ``trace_a`` (L,), ``trace_x`` (L, N) amplitudes of replica 0, ``trace_energy`` (L, R).
"""
from __future__ import annotations

import contextlib
from typing import Any, Callable

import numpy as np
import scipy.linalg as sla
import scipy.sparse.linalg as sla_sparse
from threadpoolctl import threadpool_limits

from ..errors import CimsimError, divergence_error, positive_int
from ..kernels import descent as kd
from ..memory import check_fits
from ..model import IsingModel
from ..params import Param, validate
from ..schedules import AdiabaticSchedule, Schedule
from . import Batch, check_backend
from .budget import Deadline
from .eigen import LANCZOS_MIN_N, extremes

__all__ = ["PARAMS", "defaults", "run", "DEFAULT_SCHEDULE", "top_eigenpair", "make_matvec", "LbfgsState", "descend", "blas_limit"]

#: Up to this many replicas the batched product J X is memory-bound (GEMV-like): one BLAS thread is as fast
#: as two on an idle machine and many times faster on a loaded one (measured 20-50x with 2 threads under
#: load 15-20 on this 2-core machine), so the dynamics run with BLAS limited to one thread.
SINGLE_THREAD_MAX_REPLICAS = 16


def blas_limit(replicas: int) -> contextlib.AbstractContextManager:
    """Context limiting BLAS to one thread for small batches (see SINGLE_THREAD_MAX_REPLICAS)."""
    if replicas <= SINGLE_THREAD_MAX_REPLICAS:
        return threadpool_limits(limits=1, user_api="blas")
    return contextlib.nullcontext()

#: Reference protocol of physics.md 4.3 (a from -2.2 to +0.2, da = 0.02).
DEFAULT_SCHEDULE = AdiabaticSchedule(-2.2, 0.2, 0.02, 1e-6)

#: The parameters of :func:`run` (``solve(model, "adiabatic", **params)``, ``-p KEY=VALUE``).
PARAMS: tuple[Param, ...] = (
    Param("schedule", "schedule", None, "pump levels (an adiabatic:A0,A1,STEP schedule, or any schedule sampled "
          "at steps points)", auto="adiabatic:-2.2,0.2,0.02,tol=1e-6"),
    Param("tol", "float", None, "descent tolerance max|g| at every level", low=0, low_open=True,
          auto="the schedule's tol (1e-6)"),
    Param("kick", "float", 1e-4, "std of the random kick added to every amplitude before each level's descent",
          low=0),
    Param("memory", "int", 20, "L-BFGS history pairs", low=1),
    Param("max_iter", "int", 5000, "L-BFGS iterations per level at most", low=1),
    Param("bifurcation_start", "bool", True, "start on the bifurcating direction at the first level above threshold"),
    Param("record", "bool", False, "store trace_a, trace_x, trace_energy (one row per level) in extra"),
)


def defaults(model: IsingModel) -> dict:
    return {"replicas": 4, "steps": DEFAULT_SCHEDULE.n_levels}


def top_eigenpair(model: IsingModel, rng: np.random.Generator) -> tuple[float, np.ndarray]:
    """lambda_max and unit v_max of the normalised couplings J / coupling_scale() (v_max[argmax |v|] > 0)."""
    n = model.n
    scale = model.coupling_scale()
    v0 = rng.standard_normal(n) if n > 64 else None  # drawn every call: the stream does not depend on the cache
    if not model.is_sparse and n >= LANCZOS_MIN_N:  # time-bounded under a budget (cimsim.solvers.eigen)
        ext = extremes(model, 1)
        v = ext.vectors[:, 0].copy()
        if v[np.argmax(np.abs(v))] < 0:
            v = -v
        return float(ext.top[0]) / scale, v
    cached = model.__dict__.get("_top_eigenpair")
    if cached is not None:  # every batch of cim/adiabatic asks again; on SK N = 8000 one solve is ~280 products
        return cached[0], cached[1].copy()
    if n <= 64:
        w, V = sla.eigh(model.dense_couplings() / scale, subset_by_index=[n - 1, n - 1])
    else:
        w, V = sla_sparse.eigsh(model.J, k=1, which="LA", v0=v0, tol=1e-10, maxiter=max(2000, 20 * n))
        w = w / scale
    v = np.ascontiguousarray(V[:, 0])
    v /= np.linalg.norm(v)
    if v[np.argmax(np.abs(v))] < 0:
        v = -v
    model.__dict__["_top_eigenpair"] = (float(w[0]), v.copy())  # frozen dataclass: past __setattr__
    return float(w[0]), v


def lambda_max(model: IsingModel, rng: np.random.Generator) -> float:
    """lambda_max of J / coupling_scale() alone (a pump threshold), kept by the model.

    Dense models from :data:`~cimsim.solvers.eigen.LANCZOS_MIN_N` spins take the top Ritz value of
    :func:`cimsim.solvers.eigen.extremes` (one Lanczos run that also serves lambda_min and the top
    eigenvector; bounded in time under a budget). It replaced a 60-iteration float32 block LOBPCG that
    took 3 s of one core on SK N = 8000; both agreed to 1e-7 there. ``rng`` supplies a start vector drawn
    on every call (the stream does not depend on caches); smaller or sparse models use it
    (:func:`top_eigenpair`)."""
    n = model.n
    if model.is_sparse or n < LANCZOS_MIN_N:
        return top_eigenpair(model, rng)[0]
    rng.standard_normal(n)  # the draw the other paths make: the solver's stream is the same on every path
    return float(extremes(model, 1).top[0]) / model.coupling_scale()


def make_matvec(model: IsingModel) -> Callable[[np.ndarray, np.ndarray], None]:
    """``matvec(X, out)``: out = X J_hat^T row by row (J_hat = J / coupling_scale()), X and out (R, N) float64.

    Dense J uses one BLAS product into ``out`` (no copy of J); CSR J uses scipy's CSR multi-vector product
    on a scaled copy of the O(nnz) data (J stays sparse).
    """
    inv = 1.0 / model.coupling_scale()
    if model.is_sparse:
        # scipy's CSR x multi-vector product (C++, vectorised over the R columns) measured 3x faster than a
        # serial numba row loop on G1 with R = 32; its (R, N) temporary is the only per-call allocation.
        Jh = (model.J * inv).tocsr()

        def matvec(X: np.ndarray, out: np.ndarray) -> None:
            np.copyto(out, (Jh @ X.T).T)

    else:
        J = np.ascontiguousarray(model.J)

        def matvec(X: np.ndarray, out: np.ndarray) -> None:
            np.matmul(X, J, out=out)
            out *= inv

    return matvec


class LbfgsState:
    """Work arrays and history rings of a batched L-BFGS over R replicas of N amplitudes."""

    def __init__(self, R: int, N: int, memory: int) -> None:
        self.S = np.zeros((memory, R, N))
        self.Y = np.zeros((memory, R, N))
        self.rho = np.zeros((memory, R))
        self.head = np.zeros(R, dtype=np.int64)
        self.count = np.zeros(R, dtype=np.int64)
        self.G = np.zeros((R, N))
        self.D = np.zeros((R, N))
        self.JD = np.zeros((R, N))
        self.gmax = np.zeros(R)
        self.tstep = np.zeros(R)
        self.gamma0 = np.ones(R)

    def reset(self) -> None:
        self.rho[:] = 0.0
        self.head[:] = 0
        self.count[:] = 0


def descend(
    X: np.ndarray,
    JX: np.ndarray,
    a: float,
    h: np.ndarray,
    matvec: Callable[[np.ndarray, np.ndarray], None],
    state: LbfgsState,
    tol: float,
    max_iter: int,
    deadline: Deadline | None = None,
) -> tuple[int, np.ndarray]:
    """Descend E_a from X (in place) until max|g| < tol in every replica or ``max_iter`` iterations, or
    ``deadline`` expires (checked every 8 iterations).

    ``JX`` must hold J_hat X on entry and is kept up to date. Returns (iterations, converged mask).
    Each iteration costs one product J_hat D for the whole batch.
    """
    kd.soft_gradient(X, JX, a, h, state.G, state.gmax)
    it = 0
    while it < max_iter:
        if deadline is not None and it & 7 == 7 and deadline.expired():
            break
        active = state.gmax >= tol
        if not active.any():
            break
        kd.lbfgs_direction(state.G, state.S, state.Y, state.rho, state.head, state.count, state.gamma0, active, state.D)
        matvec(state.D, state.JD)
        kd.line_step(
            X, JX, state.G, state.D, state.JD, a, h, state.S, state.Y, state.rho, state.head, state.count,
            active, state.gmax, state.tstep,
        )
        it += 1
        if it % 200 == 0:  # refresh the running product against round-off drift
            matvec(X, JX)
            kd.soft_gradient(X, JX, a, h, state.G, state.gmax)
    return it, state.gmax < tol


def _levels(schedule: Schedule, steps: int, lam: float) -> tuple[np.ndarray, float | None]:
    sched = schedule.absolute(lam)
    if isinstance(sched, AdiabaticSchedule):
        return sched.levels(), sched.tol
    lv = sched.values(steps)
    if np.any(np.diff(lv) < 0):
        raise CimsimError("the adiabatic solver needs a non-decreasing schedule")
    return lv, None


def run(
    model: IsingModel,
    *,
    replicas: int,
    steps: int,
    rng: np.random.Generator,
    backend: str = "cpu",
    deadline: Deadline | None = None,
    **params: Any,
) -> Batch:
    """Solver contract: ``replicas`` independent anneals; parameters :data:`PARAMS`. ``deadline`` (the
    driver's time limit, or Ctrl-C): the anneal stops within one L-BFGS iteration batch of it and returns
    sign(x) at the level reached; ``Batch.steps`` (and ``extra["levels"]``) are then the levels done."""
    check_backend("adiabatic", backend)
    prm = validate(PARAMS, params, "adiabatic")
    sched = DEFAULT_SCHEDULE if prm["schedule"] is None else prm["schedule"]
    tol, kick, memory, max_iter = prm["tol"], prm["kick"], prm["memory"], prm["max_iter"]
    bifurcation_start, record = prm["bifurcation_start"], prm["record"]
    R = positive_int(replicas, "replicas")
    steps = positive_int(steps, "steps")
    if not isinstance(sched, AdiabaticSchedule) and steps < 2:
        raise CimsimError("the adiabatic solver needs at least 2 pump levels (steps)")
    check_fits(16.0 * memory * R * model.n, f"the L-BFGS history of {memory} pairs x {R} replicas x {model.n} spins",
               "lower -p memory or the replicas")  # memory=2**63 ended in numpy's 'Maximum allowed dimension exceeded'
    with blas_limit(R):
        return _anneal(model, R, steps, rng, sched, tol, kick, memory, max_iter, bifurcation_start, record, deadline)


def _anneal(
    model: IsingModel, R: int, steps: int, rng: np.random.Generator, sched: Schedule, tol: float | None,
    kick: float, memory: int, max_iter: int, bifurcation_start: bool, record: bool, deadline: Deadline | None = None,
) -> Batch:
    n = model.n
    lam, vmax = top_eigenpair(model, rng)
    levels, sched_tol = _levels(sched, steps, lam)
    tol_used = tol if tol is not None else (sched_tol if sched_tol is not None else DEFAULT_SCHEDULE.tol)

    scale = model.coupling_scale()
    h = np.ascontiguousarray(model.h / scale)
    fields = model.has_fields
    matvec = make_matvec(model)
    X = np.zeros((R, n))
    JX = np.zeros((R, n))
    state = LbfgsState(R, n, memory)
    signs = rng.choice([-1.0, 1.0], size=R)

    L = len(levels)
    q_mean = np.zeros(L)
    eps_mean = np.zeros(L)
    iters = np.zeros(L, dtype=np.int64)
    unconverged = 0
    rec_x = np.zeros((L, n)) if record else None
    rec_e = np.zeros((L, R)) if record else None
    started = False
    prev_a = None
    total_iter = 0
    done = L
    for k, a in enumerate(levels):
        if k > 0 and deadline is not None and deadline.expired():
            done = k  # out of time (or interrupted): the levels so far
            break
        a = float(a)
        if not started:
            if not fields and a <= -lam:
                if record:
                    rec_e[k] = model.energies(np.ones((R, n), dtype=np.int8))
                continue
            started = True
            if not fields and bifurcation_start:
                c = np.sqrt(max(a + lam, 0.0) / float(np.sum(vmax**4)))
                X[:] = signs[:, None] * c * vmax[None, :]
        elif prev_a is not None:
            kd.shift_memory(state.S, state.Y, state.rho, state.count, state.head, a - prev_a)
        if kick > 0:
            X += kick * rng.standard_normal(X.shape)
        matvec(X, JX)
        it, conv = descend(X, JX, a, h, matvec, state, tol_used, max_iter, deadline)
        if not np.isfinite(X.sum()):
            bad = int((~np.isfinite(X).all(axis=1)).sum())
            raise divergence_error("adiabatic", k + 1, L, bad, R, f"lower kick (now {kick:g})")
        iters[k] = it
        total_iter += it
        unconverged += int(np.count_nonzero(~conv))
        prev_a = a
        x2 = np.einsum("ij,ij->i", X, X)
        q_mean[k] = float(np.mean(x2)) / n
        e_soft = 0.25 * np.sum(X**4, axis=1) - 0.5 * a * x2 - 0.5 * np.einsum("ij,ij->i", X, JX) - X @ h
        eps_mean[k] = float(np.mean(e_soft)) / n
        if record:
            rec_x[k] = X[0]
            rec_e[k] = model.energies(np.where(X >= 0, 1, -1).astype(np.int8))
    if done < L:
        levels, q_mean, eps_mean, iters = levels[:done], q_mean[:done], eps_mean[:done], iters[:done]
        L = done
        if record:
            rec_x, rec_e = rec_x[:done], rec_e[:done]
    S = np.where(X >= 0, 1, -1).astype(np.int8)
    settings = dict(
        schedule=sched.to_dict(), tol=tol_used, kick=kick, memory=memory, max_iter=max_iter,
        bifurcation_start=bool(bifurcation_start), record=bool(record),
    )
    extra: dict[str, Any] = {
        "lambda_max": lam,
        "coupling_scale": scale,
        "final_energies": model.energies(S),
        "levels": levels,
        "q": q_mean,
        "soft_energy_per_spin": eps_mean,
        "iterations": iters,
        "total_iterations": total_iter,
        "unconverged_level_replicas": unconverged,
    }
    if record:
        extra["trace_a"] = levels
        extra["trace_x"] = rec_x
        extra["trace_energy"] = rec_e
    return Batch(S, L, settings, extra)
