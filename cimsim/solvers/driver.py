"""The driver that runs any solver: :func:`solve`, in named steps.

1. :func:`resolve_solver` -- ``"auto"`` to a name, the name to its module;
2. :func:`validate_run` -- replicas, steps, time limit, seed and backend (:func:`check_backend`);
3. :func:`presolve_model` -- the exact reduction of :mod:`cimsim.presolve`, when on;
4. :class:`BudgetFit` -- probe batches and batch lengths fitted to a time limit;
5. :func:`run_batches` -- the batch loop: run, check, polish, score, keep the best;
6. :func:`assemble_result` -- expand presolved answers and build the :class:`~cimsim.result.Result`.

When presolve eliminates every spin the solver never runs: :func:`check_params` validates its parameters
against the real model and :func:`presolved_only` reports the expanded ground state.
"""
from __future__ import annotations

import contextlib
import inspect
import signal
import threading
import time
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Callable

import numpy as np

from ..errors import CimsimError, positive_float, positive_int
from ..memory import check_batch_fits
from ..model import IsingModel
from ..params import validate
from ..presolve import Reduction, reduce_model
from ..result import Result
from ..sampling import Tap, active_tap
from . import check_backend
from .budget import Deadline, running_under
from .polish import polish

__all__ = ["solve", "resolve_solver", "validate_run", "presolve_model", "check_params", "presolved_only",
           "BudgetFit", "run_batches", "assemble_result", "RunPlan", "Outcome", "BatchHook", "StopHook",
           "takes_deadline", "interruptible", "check_samples", "sampling_solvers"]

#: called with every batch's scored spins, (R, N) int8 in the original model's variable order
BatchHook = Callable[[np.ndarray], None]
#: called with the best spins so far (original variable order) whenever they improve; True stops the run
StopHook = Callable[[np.ndarray], bool]


@dataclass(frozen=True)
class RunPlan:
    """The validated run: replicas ``R`` and steps ``T`` per batch, whether ``steps`` was given, the time
    limit, the resolved backend and the seed."""

    R: int
    T: int
    steps_given: bool
    time_limit: float | None
    backend: str
    seed: int | None


@dataclass
class Outcome:
    """What the batch loop found: the best spins of the model it ran on, every energy, per-batch steps,
    the last batch's settings and diagnostics, and timings."""

    best_s: np.ndarray
    best_e: float
    energies: list[np.ndarray]
    batch_steps: list[int]
    settings: dict
    extra: dict
    elapsed: float
    time_to_best: float
    replicas: int
    fitted: bool
    best_batch: int = 0
    interrupted: bool = False
    stopped_early: bool = False


def resolve_solver(model: IsingModel, solver: str) -> tuple[str, ModuleType]:
    """The solver's name (``"auto"`` replaced by :func:`auto_solver`'s choice) and its module."""
    from . import auto_solver, get_solver  # looked up when called: tests substitute stand-in solvers

    name = auto_solver(model) if solver == "auto" else solver
    return name, get_solver(name)


#: the most steps per replica a run may ask for (about two weeks of the fastest solver on 20 spins)
MAX_STEPS = 2**40


def sampling_solvers() -> list[str]:
    """The solvers whose module sets ``SAMPLES = True``: they send their unpolished readouts to an active
    :class:`~cimsim.sampling.Tap` (sampling mode)."""
    from . import SOLVERS, get_solver

    return [s for s in SOLVERS if getattr(get_solver(s), "SAMPLES", False)]


def check_samples(module: ModuleType, name: str) -> None:
    """In sampling mode (an active tap), refuse in one line a solver that cannot send its states to it."""
    if active_tap() is not None and not getattr(module, "SAMPLES", False):
        raise CimsimError(f"solver {name!r} cannot sample (it does not report the states it visits); "
                          f"use one of {', '.join(sampling_solvers())}")


def _short_int(n: int) -> str:
    """``n`` for a message: more than 20 digits as ``1e+400``-style text."""
    text = str(n)
    return text if len(text) <= 20 else f"{text[0]}.{text[1:3]}e+{len(text) - 1}"


def check_seed(seed: Any) -> int | None:
    """``seed`` as an int, or ``None``; anything but a non-negative integer is a one-line error."""
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise CimsimError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def validate_run(module: ModuleType, name: str, model: IsingModel, replicas: int | None, steps: int | None,
                 time_limit: float | None, backend: str, seed: Any) -> RunPlan:
    """Replicas and steps (the solver's defaults for ``model`` when omitted), time limit, backend, seed."""
    dflt = module.defaults(model)
    R = positive_int(replicas if replicas is not None else dflt["replicas"], "replicas")
    check_batch_fits(R, max(model.n, 1), arrays=1, itemsize=1, what="spins")  # 2**63 replicas: one line, not numpy's error
    T = positive_int(steps if steps is not None else dflt["steps"], "steps")
    if T > MAX_STEPS:  # solvers size schedules and step counters by it: beyond int64 they fail inside numpy
        raise CimsimError(f"steps must be at most 2**40 = {MAX_STEPS}, got {_short_int(T)}")
    limit = positive_float(time_limit, "time limit") if time_limit is not None else None
    backend_name = check_backend(name, backend)
    return RunPlan(R, T, steps is not None, limit, backend_name, check_seed(seed))


def presolve_model(model: IsingModel, module: ModuleType, presolve: bool | None, params: dict) -> Reduction | None:
    """The exact reduction to solve instead of ``model``, or ``None`` (off, nothing removed, or an explicit
    ``initial`` state, which names the original spins). Default: the solver's ``PRESOLVE`` attribute."""
    if presolve is None:
        presolve = bool(getattr(module, "PRESOLVE", False))
    if not presolve or "initial" in params or active_tap() is not None:  # sampling: the states of the model as given
        return None
    reduction = reduce_model(model)
    return reduction if reduction.removed > 0 else None


def check_params(module: ModuleType, name: str, model: IsingModel, backend: str, params: dict) -> None:
    """Validate ``params`` against the real ``model`` without using the answer: a one-replica, one-step
    run whose output is dropped (the solver's own checks, instance-dependent ones included). A
    deterministic solver's single step is its whole solve, so only its declared parameters are checked."""
    if getattr(module, "DETERMINISTIC", False):
        validate(getattr(module, "PARAMS", ()), params, name)
        return
    module.run(model, replicas=1, steps=1, rng=np.random.default_rng(0), backend=backend, **params)


def presolved_only(model: IsingModel, name: str, reduction: Reduction, plan: RunPlan,
                   on_batch: BatchHook | None = None) -> Result:
    """The result when presolve eliminated every spin (forests, rings): an exact ground state, reported
    for each of the ``plan.R`` replicas of one batch (every replica would have found it)."""
    t0 = time.perf_counter()
    spins = reduction.expand(np.zeros((1, 0), dtype=np.int8))[0]
    e = float(model.energy(spins))
    if on_batch is not None:
        on_batch(np.tile(spins, (plan.R, 1)))
    return Result(solver=name, spins=spins, energy=e, energies=np.full(plan.R, e), time_s=time.perf_counter() - t0,
                  steps=0, replicas=plan.R, batches=1, seed=plan.seed,
                  settings={"presolve": {"removed": reduction.removed, "reduced_n": 0}, "exact": True,
                            "polish": False, "backend": plan.backend, "time_limit": plan.time_limit,
                            "steps_fitted_to_budget": False},
                  extra={"time_to_best_s": 0.0, "batch_steps": [0]})


class BudgetFit:
    """Batch lengths under a time limit.

    With a time limit and no explicit step count, short probe batches measure the cost: the first (which
    may include compilation) is ignored, the second (``T_probe`` steps) and third (``3 T_probe`` steps)
    give a per-batch overhead and a cost per step; then each batch gets as many steps (up to the default
    ``T``) as the remaining time allows. A solver with ``BUDGET_BATCHES = k`` lets batches grow past the
    default so that about ``k`` of them fill the budget. Probe batches are real runs.
    """

    def __init__(self, module: ModuleType, plan: RunPlan) -> None:
        self.T = plan.T
        self.deterministic = bool(getattr(module, "DETERMINISTIC", False))
        self.fit = plan.time_limit is not None and not plan.steps_given and plan.T >= 20 and not self.deterministic
        self.T_probe = max(10, plan.T // 60)
        self.T_run = self.T_probe if self.fit else plan.T
        self.budget_batches = int(getattr(module, "BUDGET_BATCHES", 0) or 0)
        self.probes: list[tuple[int, float]] = []
        self.T_cap: int | None = None
        self.fit_budget = 0.0
        self.overhead = 0.0
        self.per_step = 0.0

    def replicas(self, module: ModuleType, model: IsingModel, plan: RunPlan, replicas_given: bool) -> int:
        """Replicas per batch: the solver's ``budget_replicas(model)`` for a fitted run without an explicit
        count, else ``plan.R``."""
        if self.fit and not replicas_given and hasattr(module, "budget_replicas"):
            return positive_int(module.budget_replicas(model), "replicas")
        return plan.R

    def next_steps(self, batch_s: float, remaining: float) -> int | None:
        """After a batch of ``self.T_run`` steps that took ``batch_s`` seconds, with ``remaining`` seconds of
        the budget left: the next batch's steps, or ``None`` when no batch fits."""
        if not self.fit:
            return self.T_run
        if len(self.probes) < 3:
            self.probes.append((self.T_run, batch_s))
        if len(self.probes) == 1:
            return self.T_run  # second probe: same size, compiled
        if len(self.probes) == 2:
            if 4 * self.probes[1][1] < remaining:
                self.T_run = min(self.T, 3 * self.T_probe)
                return self.T_run  # third probe: three times longer, separates overhead from per-step cost
            self.per_step = self.probes[1][1] / self.T_probe  # no time for the third probe: assume no overhead
            self.overhead = 0.0
        elif len(self.probes) == 3 and self.per_step == 0.0:
            (n2, t2), (n3, t3) = self.probes[1], self.probes[2]
            self.per_step = (t3 - t2) / (n3 - n2) if n3 > n2 and t3 > t2 else t3 / n3
            self.overhead = max(0.0, t2 - self.per_step * n2)
        elif self.T_run >= 4 * self.T_probe:
            self._refine(batch_s)
        return self._fitted(remaining)

    def _refine(self, batch_s: float) -> None:
        """A fitted batch: the short probes are overhead-bound, so refine the cost per step from it. Its
        whole time counts as per-step cost (subtracting a noisy overhead estimate could make the cost tiny
        and the next batch absurdly long); the error errs on the short side."""
        self.per_step = batch_s / self.T_run
        if self.budget_batches:
            self.T_cap = max(self.T, int((self.fit_budget - self.overhead) / self.per_step) // self.budget_batches)

    def _fitted(self, remaining: float) -> int | None:
        affordable = int((0.9 * remaining - self.overhead) / self.per_step)
        if affordable < self.T_probe:
            return None  # not enough time left for even a probe-sized batch
        if self.budget_batches and self.T_cap is None:
            # annealers keep improving with longer runs: batches may grow so the budget holds about k of them
            self.fit_budget = 0.9 * remaining
            self.T_cap = max(self.T, affordable // self.budget_batches)
        # Grow at most 4x per batch beyond the default: the probes are short and noisy, and a cost estimate
        # that is off shows up in the next measured batch before it can overrun the budget.
        self.T_run = min(self.T_cap or self.T, affordable, max(self.T, 4 * self.T_run))
        return self.T_run


def _check_spins(spins: np.ndarray, n: int, name: str) -> np.ndarray:
    S = np.asarray(spins)
    if S.ndim != 2 or S.shape[1] != n:
        raise RuntimeError(f"solver {name} returned spins of shape {S.shape}, expected (R, {n})")
    return np.where(S >= 0, 1, -1).astype(np.int8)


def takes_deadline(module: ModuleType) -> bool:
    """Whether ``module.run`` accepts the driver's ``deadline`` keyword (:class:`~cimsim.solvers.budget.Deadline`)."""
    try:
        return "deadline" in inspect.signature(module.run).parameters
    except (TypeError, ValueError):
        return False


@contextlib.contextmanager
def interruptible(deadline: Deadline, soft: bool):
    """While the block runs, Ctrl-C (SIGINT) sets ``deadline.interrupted``. With ``soft`` (the solver checks
    its deadline between chunks) the first Ctrl-C only sets the flag, so the running batch returns its
    state so far; a second one, or any one when not ``soft``, also raises KeyboardInterrupt at once.
    Only in the main thread and only over Python's default handler (a caller's own handler is kept)."""
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield
        return

    def handler(signum, frame):
        again = deadline.interrupted
        deadline.interrupted = True
        if again or not soft:
            raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _tail_estimate(model: IsingModel, polish_result: bool, replicas: int = 1) -> float:
    """Seconds the driver's polish and scoring of a batch of ``replicas`` states should take on ``model``:
    one scoring product of up to 16 states timed and scaled to ``replicas`` (an overestimate: fewer rows
    multiply less efficiently), times four (polish's local fields and descent, the energies), or one
    without polish, plus loading the polish kernel (a two-spin polish). Capped at 3 s; from the second
    batch on the measured tail takes over. (On SK N = 8000 the one-state version said 0.1 s where the
    polish of spectral's 64 replicas took 1.1 s, all of it after the deadline.)"""
    rows = max(1, min(int(replicas), 16))
    s = np.ones((rows, model.n), dtype=np.int8)
    t = time.perf_counter()
    model.energies(s)
    est = (4.0 if polish_result else 1.0) * (time.perf_counter() - t) * (max(1, int(replicas)) / rows)
    if polish_result:  # the polish kernel's first call in a process loads it (seconds under load): count that
        import scipy.sparse as sp

        pair = np.array([[0.0, 1.0], [1.0, 0.0]])
        tiny = IsingModel.from_couplings(sp.csr_matrix(pair) if model.is_sparse else pair)
        t = time.perf_counter()
        polish(tiny, np.ones((1, 2), dtype=np.int8))
        est += time.perf_counter() - t
    return min(3.0, est)


def run_batches(module: ModuleType, name: str, model: IsingModel, plan: RunPlan, budget: BudgetFit, R: int,
                rng: np.random.Generator, polish_result: bool, params: dict,
                on_spins: Callable[[np.ndarray], None] | None = None,
                stop: Callable[[np.ndarray], bool] | None = None, keep_on_interrupt: bool = False,
                started: float | None = None) -> Outcome:
    """Run batches until one suffices (no time limit, a deterministic solver, a proven optimum) or the
    time limit is used; every batch's spins are checked, optionally polished and scored on ``model``.

    A solver that takes a ``deadline`` gets one at the end of the time limit (and flagged by Ctrl-C): it
    stops its batch early and reports the steps it took. With ``keep_on_interrupt``, Ctrl-C ends the loop
    with the best state so far (``Outcome.interrupted``; a KeyboardInterrupt before any batch finished
    propagates); without, KeyboardInterrupt propagates as usual (between kernel chunks). ``stop(best)``,
    called with the best spins whenever they improve, ends the loop when it returns True
    (``Outcome.stopped_early``). ``started`` (a :func:`time.perf_counter` time, default now) is when the
    time limit began: :func:`solve` passes its own start, so that set-up before the loop (a solver's
    defaults may need an eigenvalue estimate) is paid from the budget.

    While a batch runs, its deadline is the active one (:func:`~cimsim.solvers.budget.running_under`):
    shared set-up work such as the eigenvalue estimates of :mod:`cimsim.solvers.eigen` bounds its time by
    it."""
    check_samples(module, name)
    t0 = time.perf_counter() if started is None else started
    limit = plan.time_limit
    tap = active_tap()
    deadline = Deadline(t0 + limit if limit is not None else None) if tap is None else _TapDeadline(
        t0 + limit if limit is not None else None, tap)
    soft = takes_deadline(module)
    kw = {"deadline": deadline} if soft else {}
    # The solver's deadline leaves room for the driver's own work after its batch (polish and scoring,
    # a few passes over J: seconds on a dense N = 8000 under load). Before the first batch that tail is
    # estimated as four passes of one scoring product; afterwards it is the last batch's measured tail.
    tail = _tail_estimate(model, polish_result, R) if limit is not None and soft else 0.0
    energies: list[np.ndarray] = []
    batch_steps: list[int] = []
    best_e, best_s, time_to_best, best_batch = np.inf, None, 0.0, 0
    settings: dict = {}
    extra: dict = {}
    stopped = False
    with interruptible(deadline, soft) if keep_on_interrupt else contextlib.nullcontext():
        while True:
            tb = time.perf_counter()
            if limit is not None:
                deadline.end = t0 + limit - tail
            if tap is not None:
                tap.model = model if tap.model is None else tap.model
                tap.start_run()
            try:
                with running_under(deadline):
                    batch = module.run(model, replicas=R, steps=budget.T_run, rng=rng, backend=plan.backend, **kw,
                                       **params)
            except KeyboardInterrupt:
                if best_s is None or not keep_on_interrupt:
                    raise
                deadline.interrupted = True
                break
            t_tail = time.perf_counter()
            S = _check_spins(batch.spins, model.n, name)
            if polish_result:
                S = polish(model, S)
            E = model.energies(S)
            now = time.perf_counter()
            tail = now - t_tail
            if on_spins is not None:
                on_spins(S)
            settings, extra = batch.settings, batch.extra
            batch_steps.append(int(batch.steps))
            energies.append(E)
            k = int(np.argmin(E))
            if E[k] < best_e:
                best_e, best_s, time_to_best, best_batch = float(E[k]), S[k].copy(), now - t0, len(batch_steps) - 1
                if stop is not None and stop(best_s):
                    stopped = True
                    break
            if tap is not None and tap.limit is not None:  # sampling a number of reads: until they are taken
                if tap.full() or deadline.interrupted or (limit is not None and now - t0 >= limit) or budget.deterministic:
                    break
                if limit is None:
                    continue
            # the loop runs to the time limit itself (the solver's deadline ends a tail earlier), or until
            # the solver's deadline cut a batch short
            cut = deadline.expired() and int(batch.steps) < budget.T_run
            if (limit is None or budget.deterministic or deadline.interrupted or cut or now - t0 >= limit
                    or batch.extra.get("proven_optimal")):
                break
            # no room for another batch: the solver's deadline (a tail before the limit) has passed, so a new
            # batch would run at least a step and then its tail past the limit; or, with unfitted batch
            # lengths, the last batch took longer than what is left (spectral's roundings and their polish
            # cannot be cut: on SK N = 8000 a batch started 0.2 s before the limit ended 1 s after it)
            if (soft and deadline.expired()) or (not budget.fit and now - tb > limit - (now - t0)):
                break
            if budget.next_steps(now - tb, limit - (now - t0)) is None:
                break
    assert best_s is not None
    return Outcome(best_s, best_e, energies, batch_steps, settings, extra, time.perf_counter() - t0, time_to_best,
                   R, budget.fit, best_batch, deadline.interrupted, stopped)


def assemble_result(model: IsingModel, name: str, plan: RunPlan, out: Outcome, reduction: Reduction | None,
                    polish_result: bool) -> Result:
    """The :class:`Result` of ``out`` on the original ``model``: presolved answers expanded, the driver's
    settings added, a solver's lower bound checked (``proven_optimal``), the energy recomputed."""
    best_s = out.best_s
    settings = dict(out.settings)
    if reduction is not None:
        best_s = reduction.expand(best_s)
        settings["presolve"] = {"removed": reduction.removed, "reduced_n": reduction.kept}
    settings.update(polish=polish_result, backend=plan.backend, time_limit=plan.time_limit,
                    steps_fitted_to_budget=out.fitted)
    extra = dict(out.extra)
    if "lower_bound" in extra:  # a solver that bounds the ground energy (matching): is the answer proven?
        lb = float(extra["lower_bound"])
        extra["proven_optimal"] = bool(out.best_e <= lb + 1e-9 * max(1.0, abs(lb)))
    extra["time_to_best_s"] = out.time_to_best
    extra["batch_steps"] = out.batch_steps
    extra["best_batch"] = out.best_batch
    extra["interrupted"] = out.interrupted
    extra["stopped_early"] = out.stopped_early
    return Result(solver=name, spins=best_s, energy=float(model.energy(best_s)), energies=np.concatenate(out.energies),
                  time_s=out.elapsed, steps=max(out.batch_steps), replicas=out.replicas, batches=len(out.batch_steps),
                  seed=plan.seed, settings=settings, extra=extra)


class _TapDeadline(Deadline):
    """The run's deadline in sampling mode: also expired once the tap has all the samples it wants."""

    def __init__(self, end: float | None, tap: Tap) -> None:
        super().__init__(end)
        self.tap = tap

    def expired(self) -> bool:
        return super().expired() or self.tap.full()


def _expanding(hook: Callable | None, reduction: Reduction | None) -> Callable | None:
    """``hook`` fed with spins of the reduced model (a batch (R, n) or one state (n,)) expanded to the
    original spins."""
    if hook is None or reduction is None:
        return hook
    return lambda S: hook(reduction.expand(S))


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
    on_batch: BatchHook | None = None,
    stop: StopHook | None = None,
    keep_on_interrupt: bool = False,
    **params: Any,
) -> Result:
    """Run ``solver`` on ``model`` and return the best spins found.

    Parameters
    ----------
    model : IsingModel
    solver : str
        A key of :data:`cimsim.solvers.SOLVERS`, or ``"auto"`` for :func:`~cimsim.solvers.auto_solver`'s
        choice (``Result.solver`` names it).
    replicas, steps : int, optional
        Replicas per batch and steps per replica; the solver's defaults for this model if omitted.
    seed : int, optional
        Seed for ``numpy.random.default_rng`` (ignored when ``rng`` is given); a non-negative integer.
    rng : numpy.random.Generator, optional
    time_limit : float, optional
        Seconds. Fresh batches are run until this much wall time is used (at least one batch). When
        ``steps`` is not given, batch lengths are fitted to the budget (:class:`BudgetFit`): two short
        probe batches measure the cost per step, then each batch runs as many steps (up to the default)
        as the remaining time allows, so a call overruns its budget by at most about one probe batch. A
        solver module that sets ``BUDGET_BATCHES = k`` (annealers, whose answers keep improving with
        longer runs) lets batches grow past the default length so that about ``k`` of them fill the
        budget, and one that defines ``budget_replicas(model)`` picks the replica count of budgeted runs.
        A solver that takes a ``deadline`` gets one that ends a polish-and-scoring tail before the limit
        (estimated before the first batch, then measured), so the call as a whole ends near the limit.
        The limit counts from the start of this call (a solver's defaults may need an eigenvalue
        estimate), and such estimates are bounded by it (:mod:`cimsim.solvers.eigen`). With an explicit ``steps`` every batch runs that many steps, except that a solver whose ``run``
        takes a ``deadline`` (:mod:`cimsim.solvers.budget`: all but exact and matching) stops a batch still
        running when the limit is reached, within a fraction of a second, and reports the steps it took
        (``extra["batch_steps"]``).
    polish_result : bool
        Pass every replica through 1-flip local search before scoring (default True).
    backend : {"cpu", "gpu", "auto"}
        Resolved by :func:`~cimsim.solvers.check_backend`: a CPU-only solver refuses ``gpu``.
    presolve : bool, optional
        Solve the exactly reduced model of :func:`cimsim.presolve.reduce_model` (spins of degree 0, 1 and
        field-free degree 2 eliminated; sparse models only) and expand the answers back. Default: the
        solver's ``PRESOLVE`` attribute (on for ``sa`` and ``tabu``; off for the dynamics, whose
        trajectories users study on the model as given). Ignored when an ``initial`` state is passed.
        When every spin is eliminated the solver does not run; its parameters are still validated
        against ``model`` (:func:`check_params`).
    on_batch : callable, optional
        Called with every batch's scored spins, (R, N) int8 in ``model``'s variable order (presolved
        batches expanded), e.g. to keep every read (:class:`cimsim.ocean.CIMSampler`).
    stop : callable, optional
        Called with the best spins so far (``model``'s variable order) whenever they improve; returning
        True ends the run after that batch (``extra["stopped_early"]``), e.g. once a target is reached.
    keep_on_interrupt : bool
        Ctrl-C returns the best state so far instead of raising KeyboardInterrupt (Notes). Off by default
        so that a caller running many solves (a study) stops as a whole; :func:`cimsim.pipeline.run`
        (``cimsim solve``, :func:`cimsim.solve`) turns it on.
    **params
        Solver-specific parameters (see each solver module).

    Returns
    -------
    Result
        ``energy`` is recomputed from ``spins`` with :meth:`IsingModel.energy`. ``extra["best_batch"]`` is
        the batch that found it.

    Notes
    -----
    With ``keep_on_interrupt``, Ctrl-C (SIGINT, in the main thread) does not lose the run: a solver that
    takes a ``deadline`` ends its batch at the next chunk boundary (a fraction of a second) and returns its
    state so far; any other is stopped by KeyboardInterrupt and its batch dropped. The result is then the best state found, with
    ``extra["interrupted"] = True``. A KeyboardInterrupt before any batch finished propagates, and a
    second Ctrl-C stops at once.
    """
    started = time.perf_counter()
    name, module = resolve_solver(model, solver)
    check_samples(module, name)
    reduction = presolve_model(model, module, presolve, params)
    work = reduction.model if reduction is not None and reduction.model is not None else model
    # a solver's defaults may need an eigenvalue estimate (sfc, cfc: lambda_min): paid from the budget and
    # bounded by it (on SK N = 8000 it had taken 3 s before the driver's clock started)
    limit_now = positive_float(time_limit, "time limit") if time_limit is not None else None
    with running_under(Deadline(started + limit_now) if limit_now is not None else None):
        plan = validate_run(module, name, work, replicas, steps, time_limit, backend, seed)
    if reduction is not None and reduction.model is None:  # everything eliminated: the expansion is a ground state
        check_params(module, name, model, plan.backend, params)
        return presolved_only(model, name, reduction, plan, on_batch)
    if rng is None:
        rng = np.random.default_rng(plan.seed)
    budget = BudgetFit(module, plan)
    R = budget.replicas(module, work, plan, replicas is not None)
    out = run_batches(module, name, work, plan, budget, R, rng, polish_result, params, _expanding(on_batch, reduction),
                      _expanding(stop, reduction), keep_on_interrupt, started=started)
    return assemble_result(model, name, plan, out, reduction, polish_result)
