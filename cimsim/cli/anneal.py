"""``cimsim anneal``: schedule / parameter study on one instance: success probability, TTS99 with bootstrap
intervals, energy distributions, trajectories, as CSV + JSON + PNG."""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from ..errors import CimsimError, finite_float
from ..solvers import SOLVERS
from .common import parse_params, write_json
from .sweep_options import (already_finished, exit_code, fingerprint, force_option, interrupt_in_one_line,
                            run_cli_sweep, say_finished, sweep_options)

STUDY_SOLVERS = [s for s in SOLVERS if s not in ("exact", "matching")]  # deterministic answers: nothing to study


def _fmt(x: float, digits: int = 4) -> str:
    if x is None:
        return "-"
    if isinstance(x, float) and not math.isfinite(x):
        return "inf"
    return f"{x:.{digits}g}"


def _label(v) -> str:
    return str(v.get("kind", "dict")) if isinstance(v, dict) else str(v)


def _record(prepared, seed: int, max_settings: int = 4) -> tuple[list, str | None]:
    """Re-run up to ``max_settings`` settings with trajectory recording on a few replicas."""
    from ..plotting.anneal import extract_trace
    from ..solvers import solve
    from ..studies import single_thread

    P = prepared
    n = len(P.settings)
    m = min(n, max_settings)
    picks = sorted({round(i * (n - 1) / max(1, m - 1)) for i in range(m)})
    traces = []
    flag = {"record": True}
    for i in picks:
        t = P.tasks[i * -(-P.runs // P.chunk)]
        params = {k: v for k, v in t.items() if k not in ("instance", "solver", "polish", "replicas", "chunk", "steps")}
        try:
            with single_thread():
                res = solve(P.model, P.solver, replicas=min(8, P.runs), steps=t["steps"], seed=seed,
                            polish_result=False, **{"presolve": False, **params}, **flag)
        except CimsimError as exc:
            return [], f"solver {P.solver} cannot record trajectories ({exc}); no trajectory figure"
        tr = extract_trace(res.extra)
        if tr is None:
            return [], f"solver {P.solver} recorded no trajectory; no trajectory figure"
        label = ", ".join(f"{k}={_label(P.settings[i][k])}" for k in P.settings[i]) or f"steps={t['steps']}"
        traces.append((label, tr))
    return traces, None


def _options(*decorators):
    """Apply a group of click options in the order listed (the order --help shows)."""
    def apply(f):
        for d in reversed(decorators):
            f = d(f)
        return f
    return apply


instance_options = _options(
    click.option("--problem", nargs=2, type=(click.Choice(["maxcut", "ising"]), click.Path(dir_okay=False)),
                 default=None, metavar="KIND FILE",
                 help="Instance from a file: 'maxcut G1.txt' (Gset/rudy) or 'ising J.npz'."),
    click.option("--sk", "sk_n", type=int, default=None, metavar="N",
                 help="Generated SK instance with N spins (Gaussian J, variance 1/N)."),
    click.option("--instance-seed", type=int, default=0, help="Seed of the generated SK instance."),
)

study_options = _options(
    click.option("--solver", default="cim", type=click.Choice(STUDY_SOLVERS), help="Solver under study."),
    click.option("--schedule", default=None, help="Fixed pump schedule (spec string or .json; see cimsim.schedules)."),
    click.option("--param", "-p", "params", multiple=True, metavar="KEY=VALUE",
                 help="Fixed solver parameter (repeatable)."),
    click.option("--sweep", "sweeps", multiple=True, metavar="KEY=V1,V2,...",
                 help="Swept parameter (repeatable; cartesian product). Values split on ',' or ';' when any ';' is "
                 "present; schedule specs need ';' or one --sweep schedule=SPEC per value. 'steps' is sweepable."),
    click.option("--steps", "-s", type=int, default=None, help="Fixed steps per run [solver default]."),
    click.option("--runs", "-R", type=int, default=100, help="Independent runs (replicas) per setting."),
    click.option("--chunk", type=int, default=50, help="Runs per task (one solve call with this many replicas)."),
)

analysis_options = _options(
    click.option("--target", type=float, default=None, help="Target objective (cut for maxcut, energy for ising/SK)."),
    click.option("--target-energy", type=float, default=None, help="Target Ising energy H (overrides --target)."),
    click.option("--tts-probability", type=float, default=0.99, help="Success probability P of the TTS."),
    click.option("--bootstrap", "n_boot", type=int, default=2000, help="Bootstrap resamples for the intervals."),
    click.option("--ci", "ci_level", type=float, default=0.95, help="Confidence level of the intervals."),
    click.option("--seed", type=int, default=0, help="Study seed (task seeds derive from it and the task)."),
    click.option("--polish/--no-polish", default=True, help="1-flip local search on every run before scoring."),
    click.option("--record/--no-record", default=True,
                 help="Re-run a few settings with trajectory recording for the figure."),
    click.option("--plots/--no-plots", default=True, help="Write PNG figures."),
)


@dataclass(frozen=True)
class Analysis:
    """How the runs are scored and reported (none of it changes a task)."""

    target: float | None
    target_energy: float | None
    tts_probability: float
    n_boot: int
    ci_level: float
    plots: bool
    record: bool

    @classmethod
    def from_options(cls, o: dict) -> "Analysis":
        a = cls(o["target"], o["target_energy"], o["tts_probability"], o["n_boot"], o["ci_level"], o["plots"],
                o["record"])
        if not 0 < a.tts_probability < 1:
            raise CimsimError(f"--tts-probability must lie in (0, 1), got {a.tts_probability}")
        if not 0 < a.ci_level < 1:
            raise CimsimError(f"--ci must lie in (0, 1), got {a.ci_level}")
        if not 1 <= a.n_boot <= 10**6:  # 2**63 resamples ended in numpy's 'Maximum allowed dimension exceeded'
            raise CimsimError(f"--bootstrap must be a positive integer of at most 1000000, got {a.n_boot}"[:200])
        if a.target_energy is not None:
            finite_float(a.target_energy, "--target-energy")
        if a.target is not None:
            finite_float(a.target, "--target")
        return a


@dataclass(frozen=True)
class Execution:
    """Where the tasks run and how much is said about it."""

    out: Path
    scheduler: str | None
    workers: int | None
    seed: int
    quiet: bool
    force: bool

    @classmethod
    def from_options(cls, o: dict) -> "Execution":
        return cls(Path(o["out"]), o["scheduler"], o["workers"], o["seed"], o["quiet"], o["force"])


def _instance_spec(o: dict):
    from ..studies import InstanceSpec

    problem, sk_n = o["problem"], o["sk_n"]
    if (problem is None) == (sk_n is None):
        raise CimsimError("give exactly one instance: --problem KIND FILE or --sk N")
    return InstanceSpec.sk(sk_n, o["instance_seed"]) if sk_n is not None else InstanceSpec.from_file(*problem)


def _prepare(o: dict):
    """Check the instance and the settings and build the task list (tiny trial solves, no real work)."""
    from ..studies import parse_sweep, prepare_study

    spec = _instance_spec(o)
    fixed = parse_params(o["params"])
    if o["schedule"] is not None:
        fixed["schedule"] = o["schedule"]
    if o["steps"] is not None:
        fixed["steps"] = o["steps"]
    swept = parse_sweep(o["sweeps"])
    if o["sweeps"] and not swept:
        raise CimsimError("--sweep: nothing to sweep")
    return prepare_study(spec, solver=o["solver"], sweeps=swept, fixed=fixed, runs=o["runs"], chunk=o["chunk"],
                         polish=o["polish"])


def _fingerprint(prepared, analysis: Analysis, seed: int) -> str:
    from ..studies import AnnealTask
    from ..sweep import fn_identity

    return fingerprint({"command": "anneal", "tasks": prepared.tasks, "fn": fn_identity(AnnealTask(prepared.spec)),
                        "seed": seed, "analysis": analysis.__dict__})


def _run(prepared, analysis: Analysis, ex: Execution):
    from ..studies import run_anneal_study

    def runner(tasks, fn):
        return run_cli_sweep(tasks, fn, out=str(ex.out), scheduler=ex.scheduler, workers=ex.workers, seed=ex.seed,
                             desc="anneal", quiet=ex.quiet, recompute=ex.force)

    return run_anneal_study(
        prepared, seed=ex.seed, target_energy=analysis.target_energy, target_objective=analysis.target,
        tts_target=analysis.tts_probability, n_boot=analysis.n_boot, ci_level=analysis.ci_level, sweep_runner=runner,
    )


def _figures(prepared, study, analysis: Analysis, ex: Execution) -> dict[str, str]:
    """The PNG figures (none when every setting failed); a note in ``study.notes`` when no trajectory figure."""
    if not analysis.plots or all(r.get("status") == "failed" for r in study.rows):
        return {}
    from ..plotting.anneal import (has_machine_time, plot_energy_distribution, plot_trajectories, plot_tts,
                                   plot_tts_hardware)

    outdir, level, target = ex.out, analysis.ci_level, analysis.tts_probability
    figures = {
        "tts_steps": plot_tts(study.rows, study.swept, outdir / "tts_steps.png", cost="steps", level=level,
                              tts_target=target),
        "tts_seconds": plot_tts(study.rows, study.swept, outdir / "tts_seconds.png", cost="s", level=level,
                                tts_target=target),
        **({"tts_hardware": plot_tts_hardware(study.rows, study.swept, outdir / "tts_hardware.png", level=level,
                                              tts_target=target)} if has_machine_time(study.rows) else {}),
        "energies": plot_energy_distribution(study.rows, study.swept, outdir / "energies.png",
                                             target_energy=study.target_energy, title=""),
    }
    if analysis.record:
        traces, note = _record(prepared, ex.seed)
        if traces:
            title = f"{prepared.spec.ident}, {prepared.solver}, {study.runs} runs/setting"
            figures["trajectories"] = plot_trajectories(traces, outdir / "trajectories.png",
                                                        target_energy=study.target_energy, title=title)
        elif note:
            study.notes.append(note)
    return {k: str(v) for k, v in figures.items()}


def _write(study, outcome, figures: dict[str, str], fp: str, outdir: Path) -> None:
    """anneal.csv and anneal.json (with the fingerprint and output list a re-run checks)."""
    from ..sweep import write_table_csv

    payload = study.to_dict()
    payload["figures"] = figures
    payload["complete"] = outcome.complete
    payload["csv_columns"] = write_table_csv(outdir / "anneal.csv", study.rows)
    payload["fingerprint"] = fp
    payload["outputs"] = ["anneal.csv", *(Path(f).name for f in figures.values())]
    write_json(outdir / "anneal.json", payload)


def _table(prepared, study, figures: dict[str, str], seed: int, outdir: Path) -> str:
    """The report printed on stdout: target, one line per setting, notes."""
    obj = study.instance["objective_name"]
    tgt = f"H = {study.target_energy:.10g}"
    if obj != "energy":
        tgt += f" ({obj} {study.target_objective:.10g})"
    lines = [
        f"anneal {prepared.spec.ident} ({prepared.model.n} spins), solver {prepared.solver}, {study.runs} runs per "
        f"setting, seed {seed}",
        f"  target {tgt}: {study.target_source}",
    ]
    hardware = any("tts_round_trips" in r for r in study.rows)
    head = [*study.swept, "steps_taken"] if "steps" not in study.swept else list(study.swept)
    width = {h: max([len(h)] + [len(_label(r.get(h, "-"))) for r in study.rows]) for h in head}
    lines.append("  " + "  ".join(f"{h:>{width[h]}}" for h in head)
                 + f"  {'p':>6} {'TTS99 steps':>12} {'[CI]':>23} {'TTS99 s':>10}"
                 + (f" {'TTS99 trips':>12} {'machine s':>11}" if hardware else "")
                 + f" {'E mean':>11} {'E min':>11}")
    for r in study.rows:
        vals = "  ".join(f"{_label(r.get(h, '-')):>{width[h]}}" for h in head)
        if r.get("status") == "failed":
            lines.append(f"  {vals}  all tasks failed")
            continue
        ci = f"[{_fmt(r['tts_steps_lo'])}, {_fmt(r['tts_steps_hi'])}]"
        hw = (f" {_fmt(r.get('tts_round_trips')):>12} {_fmt(r.get('tts_machine_s')):>11}"
              if hardware else "")
        lines.append(f"  {vals}  {r['p_success']:6.3f} {_fmt(r['tts_steps']):>12} {ci:>23} "
                     f"{_fmt(r['tts_s']):>10}{hw} {r['energy_mean']:11.6g} {r['energy_min']:11.6g}")
    for note in study.notes:
        lines.append(f"  note: {note}")
    lines.append(f"  wrote {outdir / 'anneal.csv'}, {outdir / 'anneal.json'}"
                 + (f", {len(figures)} figure(s)" if figures else ""))
    return "\n".join(lines)


@click.command(context_settings={"show_default": True})
@instance_options
@study_options
@analysis_options
@sweep_options
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no table on stdout.")
@force_option
def anneal(**options: Any) -> None:
    """Success probability and TTS of a solver on ONE instance while sweeping schedule or solver parameters.

    \b
    Every setting (a point of the cartesian product of the --sweep values, with the -p/--schedule/--steps
    values fixed) gets --runs independent runs. Per setting: success probability of reaching the target
    (--target/--target-energy, else the known optimum: best_known.csv next to a Gset file or exact
    enumeration for N <= 20, else the best energy seen in the whole study, which the report says),
    TTS = T_run ln(1-P)/ln(1-p) in steps and in wall seconds with bootstrap intervals (machine solvers
    also in round trips and, mfb with -p rep_rate=HZ, in seconds of the modelled machine), the
    final-energy distribution, wall time and steps x runs.

    \b
    Writes to --out DIR: anneal.csv, anneal.json, tts_steps.png, tts_seconds.png, tts_hardware.png
    (dopo, mfb: success, TTS in round trips and in machine seconds), energies.png,
    trajectories.png (solvers with record/trace), and the task store (tasks/, results.csv, summary.json).
    Re-running the same command resumes: only missing tasks are computed; re-running a finished study
    does nothing and says so; --force computes every task again. Ctrl-C stops with exit status 130,
    keeping the finished tasks.

    \b
    Examples:
      cimsim anneal --sk 64 --instance-seed 1 --sweep steps=100,300,1000 --runs 200 --out study1
      cimsim anneal --problem maxcut G1.txt --sweep 'schedule=linear:-0.5,1;linear:-0.2,1.5' -R 64 --out g1
      cimsim anneal --sk 200 --solver sa --sweep steps=100,1000 --workers 2 --out sa200

    Exit status: 0 when complete, 1 when some task failed (re-run to retry), 2 on bad input, 130 on Ctrl-C.
    """
    analysis = Analysis.from_options(options)
    ex = Execution.from_options(options)
    with interrupt_in_one_line("anneal", ex.out):
        prepared = _prepare(options)
        fp = _fingerprint(prepared, analysis, ex.seed)
        if not ex.force and already_finished(ex.out, "anneal.json", fp):
            if not ex.quiet:
                say_finished("anneal", ex.out, len(prepared.tasks))
            sys.exit(0)
        study, outcome = _run(prepared, analysis, ex)
        figures = _figures(prepared, study, analysis, ex)
        _write(study, outcome, figures, fp, ex.out)
    if not ex.quiet:
        click.echo(_table(prepared, study, figures, ex.seed, ex.out))
    sys.exit(exit_code(outcome))
