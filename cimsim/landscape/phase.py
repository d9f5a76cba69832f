"""The phase-diagram sweep: a-grid x instances x starts -> one tidy table, and transition estimates.

Tasks (run through :func:`cimsim.sweep.run_sweep`, so results do not depend on execution order):

* ``{"kind": "path", "n", "instance"}``: the adiabatic path of instance ``instance`` over the fine
  path grid (physics.md 4.3, here Delta a = ``path_da``), with q, eps, lambda_min, amplitude stats at
  every a and lambda_max(J);
* ``{"kind": "minima", "n", "instance", "a"}``: ``starts`` random-start minima at one a of the grid.

Instance ``i`` of size ``n`` is ``sk_couplings(n, SeedSequence([seed, n, i]))`` so every task that
needs it rebuilds the same J. The tidy table has one row per (kind, n, instance, a).

Transition estimators (each per instance, then mean +- sem over instances):

* origin instability: intercept of the linear fit q(a) on the first two path points with q > 0,
  compared with -lambda_max(J) of the same instance (exact finite-N value) and -2 (N -> infinity);
* b = 0 / "SUSY breaking" (RS: -0.9276 exact, physics.md quotes -0.93): RS predicts the amplitude
  density at zero p0 = |b| / sqrt(2 pi q) for a below it and 0 above; we fit p0(a) linearly on the
  path between ``p0_fit`` and extrapolate to zero;
* freezing (physics.md quotes -0.45): lambda_min of the lowest minimum found (path and random starts)
  sits on a finite-size floor (median over a in [-1.2, -0.6]); the estimate is the a above which
  lambda_min stays above ``freeze_factor`` x floor (linear interpolation between grid points).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import CimsimError, finite_float, positive_float, positive_int
from ..instances import sk_couplings
from ..sweep import run_sweep
from .critical import adiabatic_path, blas_single_thread, check_hessian_fits, find_minima
from .stats import amplitude_stats, summarize
from .theory import TRANSITIONS

__all__ = ["instance_couplings", "validate_grid", "path_grid", "phase_tasks", "run_phase_diagram",
           "estimate_transitions", "PhaseDiagram", "SPECTRA_AT"]

#: a values at which full Hessian spectra of the path minimum are kept.
SPECTRA_AT = (-1.5, -0.93, -0.45, 0.0)
#: the pumps the landscape commands accept: |a| at most this (the origin destabilises near a = -2; far beyond
#: it the minima are trivial, and from |a| ~ 1e150 the quartic energy overflows)
PUMP_LIMIT = 1e3
#: the most points of an a-grid or of the fine adiabatic path of a phase diagram
MAX_GRID_POINTS = 10**6


def check_pump(a: float, name: str = "a") -> float:
    """``a`` as a finite float with ``|a| <= PUMP_LIMIT``; one-line CimsimError otherwise."""
    a = finite_float(a, name)
    if abs(a) > PUMP_LIMIT:
        raise CimsimError(f"{name} must lie in [-{PUMP_LIMIT:g}, {PUMP_LIMIT:g}] (the origin destabilises near -2), got {a:g}")
    return a


def instance_couplings(n: int, instance: int, seed: int, kind: str = "gaussian") -> np.ndarray:
    """The SK instance used by every task for (n, instance): sk_couplings with SeedSequence([seed, n, i])."""
    return sk_couplings(n, np.random.SeedSequence([int(seed) & 0xFFFFFFFF, int(n), int(instance)]), kind=kind)


def validate_grid(a_min: float, a_max: float, a_steps: int) -> np.ndarray:
    """linspace(a_min, a_max, a_steps) after checking the bounds are finite and a_min <= a_max."""
    a_min, a_max = check_pump(a_min, "--a-min"), check_pump(a_max, "--a-max")
    a_steps = positive_int(a_steps, "--a-steps")
    if a_steps > MAX_GRID_POINTS:
        raise CimsimError(f"--a-steps must be at most {MAX_GRID_POINTS}, got {a_steps if a_steps < 10**12 else 'more'}")
    if a_max < a_min:
        raise CimsimError(f"empty a-grid: --a-max {a_max} is below --a-min {a_min}")
    if a_steps > 1 and a_max == a_min:
        raise CimsimError("a-grid with several steps needs --a-max > --a-min")
    return np.linspace(a_min, a_max, a_steps)


def path_grid(a_grid: np.ndarray, path_da: float) -> np.ndarray:
    """Fine adiabatic grid: from min(a_grid.min(), -2.2) to a_grid.max() in steps path_da, merged with a_grid."""
    start = min(float(np.min(a_grid)), -2.2)
    stop = float(np.max(a_grid))
    points = math.floor((stop - start) / path_da + 1e-9) if math.isfinite((stop - start) / path_da) else math.inf
    if points > MAX_GRID_POINTS:
        raise CimsimError(f"--path-da {path_da:g} makes {points:g} path points from a = {start:g} to {stop:g}; "
                          f"at most {MAX_GRID_POINTS}: use a larger --path-da")
    m = int(points)
    fine = np.round(start + path_da * np.arange(m + 1), 10)
    return np.unique(np.concatenate([fine, np.round(a_grid, 10)]))


def phase_tasks(ns: list[int], a_grid: np.ndarray, instances: int, *, minima: bool = True) -> list[dict]:
    tasks: list[dict] = []
    for n in ns:
        for i in range(instances):
            tasks.append({"kind": "path", "n": int(n), "instance": i})
            if minima:
                tasks.extend({"kind": "minima", "n": int(n), "instance": i, "a": float(a)} for a in np.round(a_grid, 10))
    return tasks


def _task(params: dict, seq: np.random.SeedSequence, *, seed: int, a_grid: np.ndarray, path_da: float,
          starts: int, tol: float, kind: str) -> dict:
    n, inst = params["n"], params["instance"]
    J = instance_couplings(n, inst, seed, kind)
    rng = np.random.default_rng(seq)
    with blas_single_thread():
        if params["kind"] == "path":
            grid = path_grid(a_grid, path_da)
            p = adiabatic_path(J, grid, rng, tol=tol)
            lam_max = float(np.linalg.eigvalsh(J)[-1])
            amp = [amplitude_stats(x) for x in p.x]
            spectra = {}
            for a_s in SPECTRA_AT:
                j = int(np.argmin(np.abs(grid - a_s)))
                if abs(grid[j] - a_s) < 0.5 * path_da + 1e-9:
                    from .hessian import spectra as _spectra

                    spectra[f"{grid[j]:.4f}"] = {"eigenvalues": _spectra(J, grid[j], p.x[j]), "x": p.x[j]}
            return {"lambda_max": lam_max, "a_path": grid, "eps": p.eps, "q": p.q, "lambda_min": p.lambda_min,
                    "index": p.index, "grad_norm": p.grad_norm,
                    **{k: np.array([s[k] for s in amp]) for k in amp[0]}, "spectra": spectra}
        pts = find_minima(J, params["a"], starts, rng, tol=tol)
        out = summarize(pts)
        if len(pts):
            o = pts.order()
            amp = amplitude_stats(o.x[0])
            out.update({"lowest_" + k: v for k, v in amp.items()})
            out["eps_all"] = o.energy / n
            out["index_all"] = o.index
            out["lambda_min_all"] = o.lambda_min
            out["count_all"] = o.count
        return out


@dataclass
class PhaseDiagram:
    """Output of :func:`run_phase_diagram`: tidy rows plus per-task raw outputs and transition estimates."""

    rows: list[dict]
    raw: list[dict]
    transitions: dict
    failed: list[dict] = field(default_factory=list)


class _TaskFn:
    """Picklable task function (for distributed sweep engines)."""

    def __init__(self, **kw):
        self.kw = kw

    def __call__(self, params: dict, seq: np.random.SeedSequence) -> dict:
        return _task(params, seq, **self.kw)


def run_phase_diagram(ns: "int | list[int]", a_grid: np.ndarray, *, instances: int = 8, starts: int = 8,
                      seed: int = 0, tol: float = 1e-6, path_da: float = 0.05, kind: str = "gaussian",
                      out_dir: str | None = None, progress: bool = True, minima: bool = True,
                      freeze_factor: float = 3.0, sweep_runner: Any = None, **sweep_kw) -> PhaseDiagram:
    """Run the sweep (see module docstring) and return the tidy table and transition estimates.

    Extra keyword arguments (scheduler address, workers, ...) go to ``run_sweep`` unchanged;
    ``sweep_runner(tasks, fn) -> SweepOutcome`` replaces that call (the command line's runner).
    """
    ns = [ns] if np.ndim(ns) == 0 else list(ns)
    for n in ns:
        if positive_int(n, "--n") < 2:
            raise CimsimError(f"the landscape needs N >= 2 spins, got N = {n}")
        check_hessian_fits(int(n), starts if isinstance(starts, int) else 1)
    a_grid = np.asarray(a_grid, dtype=np.float64)
    if a_grid.ndim != 1 or a_grid.size == 0 or not np.all(np.isfinite(a_grid)):
        raise CimsimError("the a-grid must be a non-empty list of finite values")
    instances = positive_int(instances, "--instances")
    starts = positive_int(starts, "--starts")
    tol = positive_float(tol, "--tol")
    path_da = positive_float(path_da, "path_da")
    tasks = phase_tasks(ns, a_grid, instances, minima=minima)
    fn = _TaskFn(seed=seed, a_grid=a_grid, path_da=path_da, starts=starts, tol=tol, kind=kind)
    if sweep_runner is not None:
        outcome = sweep_runner(tasks, fn)
    else:
        outcome = run_sweep(tasks, fn, seed=seed, out_dir=out_dir, progress=progress, desc="phase-diagram",
                            **sweep_kw)
    rows = tidy_rows(outcome.rows)
    return PhaseDiagram(rows, outcome.rows, estimate_transitions(outcome.rows, freeze_factor=freeze_factor), outcome.failed)


def tidy_rows(raw: list[dict]) -> list[dict]:
    """Flatten task outputs into one row per (method, n, instance, a)."""
    rows: list[dict] = []
    scalar_path = ("eps", "q", "lambda_min", "index", "grad_norm", "m4", "min_abs_x", "frac_small", "p0")
    for r in raw:
        if r["kind"] == "path":
            for j, a in enumerate(r["a_path"]):
                rows.append({"method": "adiabatic", "n": r["n"], "instance": r["instance"], "a": float(a),
                             "lambda_max_J": r["lambda_max"], **{k: float(r[k][j]) for k in scalar_path}})
        else:
            keep = {k: v for k, v in r.items() if not k.endswith("_all") and k not in ("kind", "task_key")}
            rows.append({"method": "random-starts", **keep})
    return rows


def _sem(v: list[float]) -> float:
    v = np.asarray([x for x in v if np.isfinite(x)], dtype=float)
    return float(v.std(ddof=1) / math.sqrt(v.size)) if v.size > 1 else float("nan")


def _mean_sem(v: list[float]) -> dict:
    arr = [x for x in v if x is not None and np.isfinite(x)]
    return {"mean": float(np.mean(arr)) if arr else float("nan"), "sem": _sem(arr), "instances": len(arr)}


def _onset(a: np.ndarray, q: np.ndarray) -> float:
    pos = np.flatnonzero(q > 1e-10)
    if pos.size < 2:
        return float("nan")
    i0, i1 = pos[0], pos[1]
    slope = (q[i1] - q[i0]) / (a[i1] - a[i0])
    return float(a[i0] - q[i0] / slope) if slope > 0 else float("nan")


def _p0_zero(a: np.ndarray, p0: np.ndarray, lo: float = -1.6, hi: float = -1.1) -> float:
    m = (a >= lo - 1e-9) & (a <= hi + 1e-9)
    if m.sum() < 2:
        return float("nan")
    slope, icpt = np.polyfit(a[m], p0[m], 1)
    return float(-icpt / slope) if slope < 0 else float("nan")


def _freeze(a: np.ndarray, lam: np.ndarray, factor: float) -> float:
    win = (a >= -1.2 - 1e-9) & (a <= -0.6 + 1e-9)
    if not win.any():
        return float("nan")
    thr = factor * float(np.median(lam[win]))
    above = lam > thr
    if above[-1] is np.False_ or not above[-1]:
        return float("nan")
    j = len(a) - 1
    while j > 0 and above[j - 1]:
        j -= 1
    if j == 0 or a[j - 1] < -1.2:
        return float(a[j])
    # interpolate the crossing between a[j-1] (below) and a[j] (above)
    t = (thr - lam[j - 1]) / (lam[j] - lam[j - 1])
    return float(a[j - 1] + t * (a[j] - a[j - 1]))


def lowest_lambda_curve(raw: list[dict], n: int, instance: int) -> tuple[np.ndarray, np.ndarray]:
    """lambda_min(a) of the lowest minimum found (adiabatic path and random starts) for one instance."""
    path = next(r for r in raw if r["kind"] == "path" and r["n"] == n and r["instance"] == instance)
    a = np.asarray(path["a_path"], dtype=float)
    eps = np.asarray(path["eps"], dtype=float).copy()
    lam = np.asarray(path["lambda_min"], dtype=float).copy()
    for r in raw:
        if r["kind"] == "minima" and r["n"] == n and r["instance"] == instance and r.get("distinct", 0):
            j = int(np.argmin(np.abs(a - r["a"])))
            if abs(a[j] - r["a"]) < 1e-8 and r["eps_min"] < eps[j] - 1e-12:
                eps[j], lam[j] = r["eps_min"], r["lambda_min_lowest"]
    return a, lam


def estimate_transitions(raw: list[dict], *, freeze_factor: float = 3.0) -> dict:
    """Per-N transition estimates (mean +- sem over instances) vs the physics.md values."""
    out: dict = {"predicted": dict(TRANSITIONS), "freeze_factor": freeze_factor, "by_n": {}}
    ns = sorted({r["n"] for r in raw if r["kind"] == "path"})
    for n in ns:
        paths = [r for r in raw if r["kind"] == "path" and r["n"] == n]
        onset, shift, p0z, frz = [], [], [], []
        for r in paths:
            a = np.asarray(r["a_path"], dtype=float)
            o = _onset(a, np.asarray(r["q"], dtype=float))
            onset.append(o)
            shift.append(o + r["lambda_max"])
            p0z.append(_p0_zero(a, np.asarray(r["p0"], dtype=float)))
            aa, lam = lowest_lambda_curve(raw, n, r["instance"])
            frz.append(_freeze(aa, lam, freeze_factor))
        out["by_n"][str(n)] = {
            "origin_instability": _mean_sem(onset),
            "origin_minus_neg_lambda_max": _mean_sem(shift),
            "neg_lambda_max": _mean_sem([-r["lambda_max"] for r in paths]),
            "p0_zero_crossing": _mean_sem(p0z),
            "freezing": _mean_sem(frz),
        }
    return out
