"""``cimsim landscape`` (critical-point reporter) and ``cimsim phase-diagram`` (a-grid sweep)."""
from __future__ import annotations

import csv
import io
import math
import os
import secrets
import sys

import click
import numpy as np

from ..errors import CimsimError, positive_float, positive_int
from .common import check_new_output, force_option, write_json, write_text_atomic
from .sweep_options import (already_finished, fingerprint, interrupt_in_one_line, run_cli_sweep, say_finished,
                            sweep_options)
from .sweep_options import force_option as sweep_force_option


def _check_common(n: int, tol: float) -> tuple[int, float]:
    n = positive_int(n, "--n")
    if n < 2:
        raise CimsimError(f"--n must be at least 2, got {n}")
    if not (isinstance(tol, float) and math.isfinite(tol)) or tol <= 0:
        raise CimsimError(f"--tol must be a finite number > 0, got {tol!r}")
    return n, tol


LANDSCAPE_EPILOG = """\b
Examples:
  cimsim landscape --n 200 --a -0.5 --starts 32 --seed 1
  cimsim landscape --n 500 --a -0.5 --instances 4 --json land.json --points pts.npz --plots figs
  cimsim landscape --n 100 --a 0 --index 1 --starts 8 --json saddles.json
  cimsim plot land.json --out figs          (re-render saved results)
"""

PHASE_EPILOG = """\b
Examples:
  cimsim phase-diagram --n 100 --a-min -2.2 --a-max 0.2 --a-steps 7 --instances 2 --starts 4 --out pd
  cimsim phase-diagram --n 400 --n 800 --a-min -2.2 --a-max 0.2 --a-steps 13 --instances 8 --out pd --workers 2
  cimsim plot pd --format pdf                (re-render the figures from the stored tasks)
"""


@click.command(context_settings={"show_default": True}, epilog=LANDSCAPE_EPILOG)
@click.option("--n", "n", type=int, required=True, help="Number of spins N (>= 2).")
@click.option("--a", "a", type=float, required=True, help="Pump a (project convention, physics.md 1).")
@click.option("--instances", type=int, default=1, help="SK instances (seeded from --seed).")
@click.option("--starts", type=int, default=16, help="Random starts (minima) or walks (saddles) per instance.")
@click.option("--index", "k", type=int, default=0, help="Hessian index k of the critical points sought (0 = minima).")
@click.option("--seed", type=int, default=None, help="Random seed [drawn at random and reported].")
@click.option("--tol", type=float, default=1e-6, help="Convergence: every reported point has |grad E_a|/sqrt(N) < tol.")
@click.option("--ensemble", type=click.Choice(["gaussian", "pm1"]), default="gaussian", help="SK coupling distribution.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, allow_dash=True), default=None, help="Write the summary and every point's statistics as JSON ('-' for stdout).")
@click.option("--points", "points_path", type=click.Path(dir_okay=False), default=None, help="Write J, a, x, index, energy, instance as .npz.")
@click.option("--plots", "plots_dir", type=click.Path(file_okay=False), default=None, help="Write PNG figures into this directory.")
@click.option("--quiet", "-q", is_flag=True, help="No table on stdout and no progress bars on stderr.")
@force_option
def landscape(n, a, instances, starts, k, seed, tol, ensemble, json_path, points_path, plots_dir, quiet, force):
    """Find critical points of the SK soft-spin energy E_a and report their statistics.

    E_a(x) = sum(x^4/4 - a x^2/2) - 1/2 x^T J x, J_ij ~ N(0, 1/N) (physics.md 1). With --index 0 the
    critical points are local minima from --starts random starts (L-BFGS + Newton); with --index k > 0
    they are index-k saddles from eigenvector following seeded at minima. Points are de-duplicated up
    to x -> -x. Every point written has |grad E_a|/sqrt(N) < --tol (default 1e-6) and the index it
    claims, recomputed from J, a and x by a dense eigendecomposition of diag(3x^2 - a) - J.

    \b
    Points file (.npz): a (scalar), tol (scalar), x (K x N), index (K), energy (K; total E_a, not per
    spin), instance (K; the instance number of each point), and J: with --instances 1 an N x N matrix,
    otherwise stacked as (instances x N x N), so the couplings of point i are J[instance[i]].

    Exit status: 0 on success, 2 on bad parameters.
    """
    from ..api import landscape as find_points
    from ..landscape.phase import check_pump

    n, tol = _check_common(n, tol)
    a = check_pump(a, "--a")
    instances = positive_int(instances, "--instances")
    starts = positive_int(starts, "--starts")
    if k < 0 or k > n:
        raise CimsimError(f"--index must be in [0, N={n}], got {k}")
    _check_landscape_outputs(json_path, points_path, plots_dir, force)
    if seed is None:
        seed = secrets.randbits(32)
    land = find_points(n, a, instances=instances, starts=starts, index=k, seed=seed, tol=tol, ensemble=ensemble,
                       progress=not quiet)
    payload = land.to_dict()
    if not quiet:
        _print_table(payload)
    if json_path:
        write_json(json_path, payload)
    if points_path:
        _write_points(points_path, land)
    if plots_dir:
        files = land.plot(plots_dir)
        if not quiet:
            click.echo(f"figures: {', '.join(files)}")


def _check_landscape_outputs(json_path, points_path, plots_dir, force: bool) -> None:
    """Before any work: no existing output is overwritten without --force."""
    check_new_output(json_path, force, what="JSON result")
    check_new_output(points_path, force, what="points file")
    if plots_dir and not force and os.path.isdir(plots_dir):
        old = sorted(f for f in os.listdir(plots_dir) if f.startswith("landscape_") and f.endswith(".png"))
        if old:
            raise CimsimError(f"{plots_dir}: already holds landscape figures ({old[0]}, ...); use --force to overwrite them")


def _write_points(path: str, land) -> None:
    """The points file (.npz, layout in the command's help), written under a temporary name then renamed."""
    found, total = land.points, land.total_points
    X = np.concatenate([p.x for p in found]) if total else np.zeros((0, land.n))
    inst = np.concatenate([np.full(len(p), i) for i, p in enumerate(found)]).astype(int) if total else np.zeros(0, int)
    idx = np.concatenate([p.index for p in found]).astype(int) if total else np.zeros(0, int)
    en = np.concatenate([p.energy for p in found]) if total else np.zeros(0)
    J = land.couplings[0] if len(land.couplings) == 1 else np.stack(land.couplings)
    tmp = path + ".tmp.npz"
    np.savez_compressed(tmp, J=J, a=np.float64(land.a), tol=np.float64(land.tol), x=X, index=idx, energy=en,
                        instance=inst)
    os.replace(tmp, path)


def _print_table(p: dict) -> None:
    kind = "minima" if p["index"] == 0 else f"index-{p['index']} saddles"
    click.echo(f"SK landscape  N={p['n']}  a={p['a']:+.4f}  {kind}  seed={p['seed']}  tol={p['tol']:g}")
    rs = p["rs_theory"]
    click.echo(f"RS theory: q={rs['q']:.4f}  eps={rs['eps']:.4f}  chi={rs['chi']:.4f}  gap={rs['gap']:.3f}")
    hdr = f"{'inst':>4} {'found':>5} {'fail':>4} {'eps_min':>9} {'eps_mean':>9} {'eps_sd':>7} {'q':>7} {'lmin(low)':>9} {'marg':>5} {'idx(0)':>6} {'-lmaxJ':>7}"
    click.echo(hdr)
    for s in p["per_instance"]:
        if s.get("distinct", 0):
            click.echo(f"{s['instance']:>4} {s['distinct']:>5} {s['failed']:>4} {s['eps_min']:>9.5f} {s['eps_mean']:>9.5f} "
                       f"{s['eps_sd']:>7.4f} {s['q_mean']:>7.4f} {s['lambda_min_lowest']:>9.4f} {s['fraction_marginal']:>5.2f} "
                       f"{s['origin_index']:>6} {-s['lambda_max_J']:>7.4f}")
        else:
            click.echo(f"{s['instance']:>4} {0:>5} {s['failed']:>4}  (no converged point of this index)")
    pts = p["points"]
    if pts:
        gmax = max(r["grad_norm"] for r in pts)
        res = max(abs(r["identity_residual"]) for r in pts)
        click.echo(f"{len(pts)} distinct points; max |g|/sqrt(N) = {gmax:.2e}; max |eps + m4/4| = {res:.2e}")


@click.command("phase-diagram", context_settings={"show_default": True}, epilog=PHASE_EPILOG)
@click.option("--n", "ns", type=int, multiple=True, required=True, help="Number of spins N (repeatable).")
@click.option("--a-min", type=float, required=True, help="Smallest a of the random-start grid.")
@click.option("--a-max", type=float, required=True, help="Largest a (also the end of the adiabatic path).")
@click.option("--a-steps", type=int, required=True, help="Points of the a-grid (linspace).")
@click.option("--instances", type=int, default=8, help="SK instances per N.")
@click.option("--starts", type=int, default=8, help="Random starts per (instance, a).")
@click.option("--path-da", type=float, default=0.05, help="Step of the adiabatic path (which starts at min(a-min, -2.2)).")
@click.option("--seed", type=int, default=0, help="Sweep seed (instances and task seeds derive from it).")
@click.option("--tol", type=float, default=1e-6, help="Convergence |grad E_a|/sqrt(N) < tol for every point.")
@click.option("--ensemble", type=click.Choice(["gaussian", "pm1"]), default="gaussian", help="SK coupling distribution.")
@click.option("--freeze-factor", type=float, default=3.0, help="Freezing = lambda_min above this multiple of its marginal floor.")
@sweep_options
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no summary on stdout.")
@sweep_force_option
def phase_diagram(ns, a_min, a_max, a_steps, instances, starts, path_da, seed, tol, ensemble, freeze_factor, out,
                  scheduler, workers, no_progress, quiet, force):
    """Sweep a x instances x starts on SK and plot the landscape phase diagram.

    For each N and instance: one adiabatic path (x followed from 0 through increasing a, physics.md
    4.3) and, at every a of the grid, minima from --starts random starts. Writes OUT/phase.json (tidy
    table + transition estimates with sem), OUT/phase.csv and OUT/phase_*.png (energy and radius vs a,
    distinct minima vs a, lambda_min vs a, amplitudes, spectra), with the transitions physics.md
    predicts (a = -2, -0.93, -0.45) drawn and the estimates from the data shaded.

    Re-running the same command resumes (only missing tasks are computed); re-running a finished one
    does nothing and says so; --force computes every task again. Exit status: 0 when complete, 1 when
    some task failed (re-run to retry), 2 on bad input, 130 on Ctrl-C (finished tasks are kept).
    """
    from ..landscape.phase import phase_tasks, run_phase_diagram

    grid = _check_phase_options(ns, a_min, a_max, a_steps, instances, starts, path_da, tol, freeze_factor)
    config = {"command": "phase-diagram", "ns": list(ns), "a_grid": grid, "instances": instances, "starts": starts,
              "path_da": path_da, "seed": seed, "tol": tol, "ensemble": ensemble, "freeze_factor": freeze_factor}
    fp = fingerprint(config)
    if not force and already_finished(out, "phase.json", fp):
        if not quiet:
            say_finished("phase-diagram", out, len(phase_tasks(list(ns), grid, instances)))
        sys.exit(0)

    def runner(tasks, fn):
        return run_cli_sweep(tasks, fn, out=out, scheduler=scheduler, workers=workers, seed=seed,
                             desc="phase-diagram", quiet=quiet, progress=not (no_progress or quiet), recompute=force)

    with interrupt_in_one_line("phase-diagram", out):
        pd = run_phase_diagram(list(ns), grid, instances=instances, starts=starts, seed=seed, tol=tol,
                               path_da=path_da, kind=ensemble, freeze_factor=freeze_factor, sweep_runner=runner)
        files = _write_phase(out, config, pd, fp)
    if not quiet:
        _print_transitions(pd, out, files)
    sys.exit(1 if pd.failed else 0)


def _check_phase_options(ns, a_min, a_max, a_steps, instances, starts, path_da, tol, freeze_factor) -> np.ndarray:
    """Refuse bad numbers before any work; returns the a-grid."""
    from ..landscape.phase import path_grid, validate_grid

    if not ns:
        raise CimsimError("give at least one --n")
    for n in ns:
        _check_common(n, tol)
    grid = validate_grid(a_min, a_max, a_steps)
    path_grid(grid, positive_float(path_da, "--path-da"))  # refuses a path of too many points before any work
    positive_float(freeze_factor, "--freeze-factor")
    positive_int(instances, "--instances")
    positive_int(starts, "--starts")
    tasks = len(ns) * instances * (1 + len(grid))  # a path and a minima task per grid point, per n and instance
    if tasks > MAX_TASKS:  # 10**400 instances built its task list for ever
        raise CimsimError(f"--n x --instances x (--a-steps + 1) makes {tasks if tasks < 10**12 else 'more than 1e12'} "
                          f"tasks; at most {MAX_TASKS}")
    return grid


#: the most tasks a phase diagram may have
MAX_TASKS = 10**6


def _write_phase(out: str, config: dict, pd, fp: str) -> list[str]:
    """The figures, phase.csv and (last, so that it marks a finished sweep) phase.json; returns the figures."""
    from ..plotting.landscape import plot_phase_diagram

    files = plot_phase_diagram(pd.raw, pd.transitions, out)
    _write_phase_csv(os.path.join(out, "phase.csv"), pd.rows)
    keep = ("command", "ns", "a_grid", "instances", "starts", "seed", "tol")
    write_json(os.path.join(out, "phase.json"), {
        **{k: config[k] for k in keep}, "transitions": pd.transitions, "failed": pd.failed, "rows": pd.rows,
        "complete": not pd.failed, "fingerprint": fp, "outputs": ["phase.csv", *(os.path.basename(f) for f in files)]})
    return files


def _write_phase_csv(path: str, rows: list[dict]) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=sorted({k for r in rows for k in r}))
    w.writeheader()
    w.writerows(rows)
    write_text_atomic(path, buf.getvalue())


def _print_transitions(pd, out: str, files: list[str]) -> None:
    click.echo("transition estimates (mean ± sem over instances; predicted -2, -0.93, -0.45):")
    for n, est in pd.transitions["by_n"].items():
        parts = [f"{k}={v['mean']:.3f}±{v['sem']:.3f}" for k, v in est.items()]
        click.echo(f"  N={n}: " + "  ".join(parts))
    if pd.failed:
        click.echo(f"{len(pd.failed)} task(s) failed; see phase.json")
    click.echo(f"wrote {os.path.join(out, 'phase.json')}, phase.csv and {len(files)} figures")
