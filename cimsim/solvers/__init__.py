"""Solvers and the one driver that runs them.

Every solver is a module ``cimsim.solvers.<name>`` exposing

``run(model, *, replicas, steps, rng, backend, **params) -> Batch``
    Run ``replicas`` independent replicas for ``steps`` steps (sweeps, iterations: the solver says) and
    return their final spins. Unknown or impossible ``params`` raise :class:`~cimsim.errors.CimsimError`
    before any work starts.
``defaults(model) -> dict``
    Default ``replicas`` and ``steps`` for this model.

:func:`solve` is the driver: it validates, runs batches (repeatedly until ``time_limit`` is used, when
given), optionally polishes every replica with 1-flip local search, recomputes energies from the spins,
and returns a :class:`~cimsim.result.Result`.
"""
from __future__ import annotations

import importlib
import time
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np

from ..backends import resolve_backend
from ..errors import CimsimError, positive_float, positive_int
from ..model import IsingModel
from ..result import Result
from ..presolve import Reduction, reduce_model
from .polish import polish

__all__ = ["Batch", "SOLVERS", "EXECUTORS", "check_backend", "solve", "get_solver", "auto_solver", "polish"]

#: name -> one-line description. The module ``cimsim.solvers.<name>`` implements it.
SOLVERS: dict[str, str] = {
    "cim": "mean-field coherent Ising machine (Euler-Maruyama, pump schedule, noise)",
    "adiabatic": "landscape annealing: follow a minimum of E(x; a) as the pump a rises",
    "ahc": "CIM with amplitude-heterogeneity correction (Leleu et al. 2019)",
    "cac": "chaotic amplitude control (Leleu et al. 2021)",
    "sb": "simulated bifurcation, ballistic or discrete (Goto et al. 2021)",
    "sa": "simulated annealing, Metropolis single-spin flips, geometric beta schedule",
    "tabu": "tabu search: best non-tabu 1-flip moves with breakout restarts from the best state",
    "spectral": "top eigenvector of J + sign rounding (best of several roundings)",
    "exact": "Gray-code brute force, N <= 24",
    "matching": "2-D lattice spin glasses: frustrated plaquettes paired by minimum-weight matching (proven ground states)",
}


#: solver name -> the backends it has executors for: "cpu" (``cimsim/kernels/``, NumPy/BLAS) and "gpu"
#: (``cimsim/gpu/``). A solver without a device executor refuses ``backend="gpu"`` (:func:`check_backend`).
EXECUTORS: dict[str, tuple[str, ...]] = {
    "cim": ("cpu", "gpu"),
    "adiabatic": ("cpu",),
    "ahc": ("cpu", "gpu"),
    "cac": ("cpu", "gpu"),
    "sb": ("cpu", "gpu"),
    "sa": ("cpu",),
    "tabu": ("cpu",),
    "spectral": ("cpu", "gpu"),
    "exact": ("cpu",),
    "matching": ("cpu",),
}


def check_backend(solver: str, backend: str) -> str:
    """The backend ``solver`` runs on for the requested ``backend`` (``auto``, ``cpu`` or ``gpu``).

    ``auto`` picks the device only when the solver has a device executor and a device is usable; ``gpu``
    for a solver without one is a one-line :class:`CimsimError` (before anything checks for a device)."""
    have = EXECUTORS.get(solver, ("cpu",))
    if backend == "gpu" and "gpu" not in have:
        raise CimsimError(f"solver {solver!r} has no GPU executor (it runs on the CPU only); use --backend cpu")
    if backend == "auto" and "gpu" not in have:
        return "cpu"
    return resolve_backend(backend)


@dataclass
class Batch:
    """What one solver run returns to the driver.

    spins : (R, N) array of +-1 (any integer or float dtype)
    steps : steps actually taken per replica
    settings : parameters used, defaults filled in (JSON-able)
    extra : diagnostics (JSON-able or numpy arrays)
    """

    spins: np.ndarray
    steps: int
    settings: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)


def auto_solver(model: IsingModel) -> str:
    """The solver ``--solver auto`` picks for ``model``: exact for N <= 20; ``matching`` for couplings on a
    2-D square lattice without fields (it proves ground states that annealing only approaches: Gset G81's
    optimum 14060 in about 2 s); else simulated annealing.

    SA is the fastest to good answers on every other instance class benchmarked so far (Gset, SK; see
    bench/README.md); the CIM family is there to be studied and compared, and chosen explicitly.
    """
    if model.n <= 20:
        return "exact"
    if not model.has_fields and (model.is_sparse or model.n <= 512):
        from .matching import grid_shape

        if grid_shape(model) is not None:
            return "matching"
    return "sa"


def get_solver(name: str) -> ModuleType:
    """Import and return the module implementing solver ``name``."""
    if name not in SOLVERS:
        raise CimsimError(f"unknown solver {name!r}; choose one of {', '.join(SOLVERS)}")
    try:
        return importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"{__name__}.{name}":
            raise CimsimError(f"solver {name!r} is not available in this build") from None
        raise


def _check_spins(spins: np.ndarray, n: int, name: str) -> np.ndarray:
    S = np.asarray(spins)
    if S.ndim != 2 or S.shape[1] != n:
        raise RuntimeError(f"solver {name} returned spins of shape {S.shape}, expected (R, {n})")
    S8 = np.where(S >= 0, 1, -1).astype(np.int8)
    return S8


def solve(
    model: IsingModel,
    solver: str = "cim",
    *,
    replicas: int | None = None,
    steps: int | None = None,
    seed: int | None = None,
    rng: np.random.Generator | None = None,
    time_limit: float | None = None,
    polish_result: bool = True,
    backend: str = "cpu",
    presolve: bool | None = None,
    **params: Any,
) -> Result:
    """Run ``solver`` on ``model`` and return the best spins found.

    Parameters
    ----------
    model : IsingModel
    solver : str
        A key of :data:`SOLVERS`, or ``"auto"`` for :func:`auto_solver`'s choice (``Result.solver`` names it).
    replicas, steps : int, optional
        Replicas per batch and steps per replica; the solver's defaults for this model if omitted.
    seed : int, optional
        Seed for ``numpy.random.default_rng`` (ignored when ``rng`` is given).
    rng : numpy.random.Generator, optional
    time_limit : float, optional
        Seconds. Fresh batches are run until this much wall time is used (at least one batch). When
        ``steps`` is not given, batch lengths are fitted to the budget: two short probe batches measure
        the cost per step, then each batch runs as many steps (up to the default) as the remaining time
        allows, so a call overruns its budget by at most about one probe batch. A solver module that
        sets ``BUDGET_BATCHES = k`` (annealers, whose answers keep improving with longer runs) lets
        batches grow past the default length so that about ``k`` of them fill the budget, and one that
        defines ``budget_replicas(model)`` picks the replica count of budgeted runs. With an explicit
        ``steps`` every batch runs exactly that many steps and the last one may overrun.
    polish_result : bool
        Pass every replica through 1-flip local search before scoring (default True).
    backend : {"cpu", "gpu", "auto"}
    presolve : bool, optional
        Solve the exactly reduced model of :func:`cimsim.presolve.reduce_model` (spins of degree 0, 1 and
        field-free degree 2 eliminated; sparse models only) and expand the answers back. Default: the
        solver's ``PRESOLVE`` attribute (on for ``sa``; off for the dynamics, whose trajectories users
        study on the model as given). Ignored when an ``initial`` state is passed.
    **params
        Solver-specific parameters (see each solver module).

    Returns
    -------
    Result
        ``energy`` is recomputed from ``spins`` with :meth:`IsingModel.energies`.
    """
    if solver == "auto":
        solver = auto_solver(model)
    module = get_solver(solver)
    if presolve is None:
        presolve = bool(getattr(module, "PRESOLVE", False))
    reduction = reduce_model(model) if presolve and "initial" not in params else None
    if reduction is not None and reduction.removed == 0:
        reduction = None
    dflt = module.defaults(reduction.model if reduction is not None and reduction.model is not None else model)
    R = positive_int(replicas if replicas is not None else dflt["replicas"], "replicas")
    T = positive_int(steps if steps is not None else dflt["steps"], "steps")
    if time_limit is not None:
        time_limit = positive_float(time_limit, "time limit")
    backend_name = resolve_backend(backend)
    if reduction is not None:
        if reduction.model is None:  # everything eliminated: the expansion is a ground state
            # the solver never runs, but its parameters are still checked (on a 2-spin model)
            module.run(_TWO_SPINS, replicas=1, steps=1, rng=np.random.default_rng(0), backend=backend_name, **params)
            return _presolved_only(model, solver, reduction, seed, R)
        full, model = model, reduction.model
    if rng is None:
        rng = np.random.default_rng(seed)
    deterministic = bool(getattr(module, "DETERMINISTIC", False))
    # With a time limit and no explicit step count, fit the batch length to the budget. Short probe
    # batches measure the cost: the first (which may include compilation) is ignored, the second (T_probe
    # steps) and third (3 T_probe steps) give a per-batch overhead and a cost per step; then each batch
    # gets as many steps (up to the default) as the remaining time allows. Probe batches are real runs.
    fit = time_limit is not None and steps is None and T >= 20 and not deterministic
    if fit and replicas is None and hasattr(module, "budget_replicas"):
        R = positive_int(module.budget_replicas(model), "replicas")
    T_probe = max(10, T // 60)
    T_run = T_probe if fit else T
    probes: list[tuple[int, float]] = []
    budget_batches = int(getattr(module, "BUDGET_BATCHES", 0) or 0)
    T_cap: int | None = None
    fit_budget = 0.0
    overhead, per_step = 0.0, 0.0
    t0 = time.perf_counter()
    all_energies: list[np.ndarray] = []
    batch_steps: list[int] = []
    best_e = np.inf
    best_s: np.ndarray | None = None
    settings: dict = {}
    extra: dict = {}
    time_to_best = 0.0
    while True:
        tb = time.perf_counter()
        batch = module.run(model, replicas=R, steps=T_run, rng=rng, backend=backend_name, **params)
        S = _check_spins(batch.spins, model.n, solver)
        if polish_result:
            S = polish(model, S)
        E = model.energies(S)
        now = time.perf_counter()
        settings, extra = batch.settings, batch.extra
        batch_steps.append(int(batch.steps))
        k = int(np.argmin(E))
        if E[k] < best_e:
            best_e = float(E[k])
            best_s = S[k].copy()
            time_to_best = now - t0
        all_energies.append(E)
        if time_limit is None or deterministic or now - t0 >= time_limit or batch.extra.get("proven_optimal"):
            break
        if fit:
            remaining = time_limit - (now - t0)
            if len(probes) < 3:
                probes.append((T_run, now - tb))
            if len(probes) == 1:
                continue  # second probe: same size, compiled
            if len(probes) == 2:
                if 4 * probes[1][1] < remaining:
                    T_run = min(T, 3 * T_probe)
                    continue  # third probe: three times longer, separates overhead from per-step cost
                per_step = probes[1][1] / T_probe  # no time for the third probe: assume no overhead
                overhead = 0.0
            elif len(probes) == 3 and per_step == 0.0:
                (n2, t2), (n3, t3) = probes[1], probes[2]
                per_step = (t3 - t2) / (n3 - n2) if n3 > n2 and t3 > t2 else t3 / n3
                overhead = max(0.0, t2 - per_step * n2)
            elif T_run >= 4 * T_probe:
                # A fitted batch: the short probes are overhead-bound, so refine the cost per step from it.
                # Its whole time counts as per-step cost (subtracting a noisy overhead estimate could make
                # the cost tiny and the next batch absurdly long); the error errs on the short side.
                per_step = (now - tb) / T_run
                if budget_batches:
                    T_cap = max(T, int((fit_budget - overhead) / per_step) // budget_batches)
            affordable = int((0.9 * remaining - overhead) / per_step)
            if affordable < T_probe:
                break  # not enough time left for even a probe-sized batch
            if budget_batches and T_cap is None:
                # Solvers whose results keep improving with longer runs (annealers) may grow each batch
                # past the default so the budget holds about `budget_batches` of them.
                fit_budget = 0.9 * remaining
                T_cap = max(T, affordable // budget_batches)
            # Grow at most 4x per batch beyond the default: the probes are short and noisy, and a cost
            # estimate that is off shows up in the next measured batch before it can overrun the budget.
            T_run = min(T_cap or T, affordable, max(T, 4 * T_run))
    elapsed = time.perf_counter() - t0
    assert best_s is not None
    if reduction is not None:
        best_s = reduction.expand(best_s)
        model = full
        settings = dict(settings, presolve={"removed": reduction.removed, "reduced_n": reduction.kept})
    energies = np.concatenate(all_energies)
    settings = dict(settings)
    settings.update(polish=polish_result, backend=backend_name, time_limit=time_limit, steps_fitted_to_budget=fit)
    extra = dict(extra)
    if "lower_bound" in extra:  # a solver that bounds the ground energy (matching): is the answer proven?
        lb = float(extra["lower_bound"])
        extra["proven_optimal"] = bool(best_e <= lb + 1e-9 * max(1.0, abs(lb)))
    extra["time_to_best_s"] = time_to_best
    extra["batch_steps"] = batch_steps
    return Result(
        solver=solver,
        spins=best_s,
        energy=float(model.energy(best_s)),
        energies=energies,
        time_s=elapsed,
        steps=max(batch_steps),
        replicas=R,
        batches=len(batch_steps),
        seed=seed,
        settings=settings,
        extra=extra,
    )


_TWO_SPINS = IsingModel.from_couplings(np.array([[0.0, 1.0], [1.0, 0.0]]))


def _presolved_only(model: IsingModel, solver: str, reduction: Reduction, seed: int | None, replicas: int) -> Result:
    """The result when presolve eliminated every spin (forests, chains): an exact ground state, reported
    for each of the ``replicas`` replicas of one batch (every replica would have found it)."""
    t0 = time.perf_counter()
    spins = reduction.expand(np.zeros((1, 0), dtype=np.int8))[0]
    e = float(model.energy(spins))
    return Result(solver=solver, spins=spins, energy=e, energies=np.full(replicas, e), time_s=time.perf_counter() - t0,
                  steps=0, replicas=replicas, batches=1, seed=seed,
                  settings={"presolve": {"removed": reduction.removed, "reduced_n": 0}, "exact": True},
                  extra={"time_to_best_s": 0.0, "batch_steps": [0]})
