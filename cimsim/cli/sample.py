"""``cimsim sample PROBLEM FILE``: a solver's sampling mode, the distinct states it visited and how fairly."""
from __future__ import annotations

import json
import math
import secrets

import click

from .. import pipeline
from ..encoders import PROBLEMS
from ..errors import CimsimError
from ..solvers import SOLVERS
from .common import check_new_output, force_option, parse_params, write_json

SAMPLE_EPILOG = """\b
Examples:
  cimsim sample maxcut problems/graph16.txt --solver cfc --samples 20000 --every 5 --burn-in 100
  cimsim sample maxcut problems/maxcut_w20.txt --solver sfc --time-limit 10 --json s.json --npz s.npz
  cimsim sample ising model.npz --solver simcim --samples 5000 -p noise=0.2 --json - && cimsim plot s.json
"""


def _num(x) -> str:
    if x is None:
        return "-"
    x = float(x)
    if not math.isfinite(x):
        return str(x)
    return f"{x:.0f}" if x.is_integer() and abs(x) < 1e15 else f"{x:.6g}"


@click.command(context_settings={"show_default": True}, epilog=SAMPLE_EPILOG)
@click.argument("problem", type=click.Choice(sorted(PROBLEMS)), metavar="PROBLEM")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--solver", default="auto", type=click.Choice(["auto", *SOLVERS]),
              help="Solver with a sampling mode; auto: the first of mfb, cfc, sfc, simcim, asb that has one.")
@click.option("--samples", "-k", "samples", type=int, default=None,
              help="Stop after exactly this many samples (runs are repeated until they are taken).")
@click.option("--time-limit", "-t", type=float, default=None, help="Keep sampling fresh runs for this many seconds.")
@click.option("--every", type=int, default=1, help="Record every replica every this many steps (round trips for mfb).")
@click.option("--burn-in", type=int, default=0, help="Steps of each run before the first record.")
@click.option("--cap", type=int, default=100_000, help="Most distinct states kept (the lowest; the rest counted as dropped).")
@click.option("--reference", type=int, default=2,
              help="For N > 30 (no exact enumeration): independent runs whose union gives the target set (0: none).")
@click.option("--replicas", "-r", type=int, default=None, help="Replicas per run [solver default].")
@click.option("--steps", "-s", type=int, default=None, help="Steps per run [solver default].")
@click.option("--seed", type=int, default=None, help="Random seed [drawn at random and reported].")
@click.option("--param", "-p", "params", multiple=True, metavar="KEY=VALUE", help="Solver parameter (repeatable), e.g. -p noise=0.1.")
@click.option("--option", "-o", "options", multiple=True, metavar="KEY=VALUE", help="Encoder option (repeatable), e.g. -o penalty=2.")
@click.option("--format", "file_format", default=None, metavar="NAME", help="Format of FILE, passed to the encoder as -o format=NAME.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, allow_dash=True), default=None,
              help="Write the record (states sorted by energy, statistics) as JSON ('-' for stdout).")
@click.option("--npz", "npz_path", type=click.Path(dir_okay=False), default=None,
              help="Write the states as arrays (spins, counts, energies, objectives, first_sample) and the statistics.")
@click.option("--quiet", "-q", is_flag=True, help="No summary on stdout.")
@force_option
def sample(problem, file, solver, samples, time_limit, every, burn_in, cap, reference, replicas, steps, seed, params,
           options, file_format, json_path, npz_path, quiet, force):
    """Run a solver in its sampling mode on PROBLEM from FILE and report every distinct low-energy state it
    visited, with counts, energies and objectives, and the sampling statistics (physics.md 8.8).

    \b
    After --burn-in steps of each run the sign pattern of every replica is recorded every --every steps,
    unpolished; states s and -s are one state when the model has no fields. Statistics: ground-state
    probability per sample, residual-energy histogram, Hamming distances to the nearest ground state and
    between successive distinct samples, the coverage time of every state up to the first excited level
    (exact enumeration for N <= 30, else the union of --reference runs), fairness over degenerate ground
    states (counts thinned by the autocorrelation time) and an effective temperature.

    Give --samples or --time-limit (not both); with neither, one run of --steps steps.

    Ctrl-C ends the sampling run: the samples taken until then are summarised and written, and the exit
    status is 130.

    Exit status: 0 on success, 2 on bad input or parameters, 130 when interrupted.
    """
    if samples is not None and time_limit is not None:
        raise CimsimError("give --samples or --time-limit, not both")
    if samples is not None and samples <= 0:
        raise CimsimError(f"--samples must be a positive integer, got {samples}")
    if every <= 0:
        raise CimsimError(f"--every must be a positive integer, got {every}")
    if burn_in < 0:
        raise CimsimError(f"--burn-in must be >= 0, got {burn_in}")
    if cap <= 0:
        raise CimsimError(f"--cap must be a positive integer, got {cap}")
    if reference < 0:
        raise CimsimError(f"--reference must be >= 0, got {reference}")
    if time_limit is not None and not (math.isfinite(time_limit) and time_limit > 0):
        raise CimsimError(f"--time-limit must be a finite number > 0, got {time_limit}")
    check_new_output(json_path, force, what="JSON record")
    check_new_output(npz_path, force, what="npz file")
    if json_path is not None and npz_path is not None and json_path == npz_path:
        raise CimsimError("--json and --npz name the same file")
    solver_params = parse_params(params)
    enc_options = parse_params(options, "--option")
    if file_format is not None:
        enc_options["format"] = file_format
    from ..sampler import resolve_sampling_solver

    name = resolve_sampling_solver(solver)  # refuse a solver without a sampling mode before reading FILE
    encoded = pipeline.encode(problem, file, enc_options)
    if seed is None:
        seed = secrets.randbits(32)
    spec = pipeline.SolverSpec(name=name, params=solver_params, replicas=replicas, steps=steps, seed=seed,
                               time_limit=time_limit)
    rec = pipeline.sample(encoded, spec, every=every, burn_in=burn_in, cap=cap, samples=samples,
                          reference=reference, file=file)
    payload = rec.to_dict()
    if not quiet and json_path != "-":
        click.echo(summary(payload))
    if npz_path is not None:
        write_npz(npz_path, payload)
    if json_path is not None:
        write_json(json_path, payload)
    if payload["interrupted"]:
        from . import fail

        fail("interrupted" + ("" if json_path is None and npz_path is None else
                              " (the samples taken until then were written)"), 130)


def write_npz(path: str, payload: dict) -> None:
    """The states of a sample record as arrays, and the rest of the record as JSON text (``record``),
    written atomically."""
    import numpy as np

    from ..atomic import atomic_path

    states = payload["states"]
    n = int(payload["n_spins"])
    arrays = {
        "spins": np.array([s["spins"] for s in states], dtype=np.int8).reshape(len(states), n),
        "counts": np.array([s["count"] for s in states], dtype=np.int64),
        "energies": np.array([s["energy"] for s in states], dtype=np.float64),
        "objectives": np.array([s["objective"] for s in states], dtype=np.float64),
        "first_sample": np.array([s["first_sample"] for s in states], dtype=np.int64),
        "record": np.array(json.dumps({k: v for k, v in payload.items() if k != "states"})),
    }
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, **arrays)


def summary(rec: dict) -> str:
    """The lines ``cimsim sample`` prints."""
    g, t, f, te = rec["ground"], rec["target"], rec["fairness"], rec["effective_temperature"]
    rows = [
        ("samples", f"{rec['samples']} ({rec['runs']} run{'s' if rec['runs'] != 1 else ''} of {rec['replicas']} replicas, "
                    f"every {rec['every']} steps after {rec['burn_in']})"),
        ("distinct", f"{rec['distinct']} states kept, {rec['dropped_states']} dropped ({rec['dropped_samples']} samples)"),
        ("ground", f"E0 = {_num(g['energy'])} ({g['source']}), degeneracy {g['degeneracy']}"
                   + (f", first excited {_num(g['first_excited'])}" if g.get("first_excited") is not None else "")),
        ("lowest found", f"{_num(g['lowest_found'])}, P per sample {_num(g['p_lowest_found'])}"
                         + (f"; P(E0) {_num(g['p_ground'])}" if g.get("p_ground") is not None else "")),
    ]
    if t["size"]:
        cov = t["coverage_samples"]
        rows.append(("target set", f"{t['size']} states up to E1 ({t['source']}), {t['seen']} seen; coverage "
                     + (f"{_num(cov)} samples = {_num(t['coverage_steps'])} steps" if cov not in (None, math.inf, "inf")
                        else "not reached")))
    rows.append(("fairness", f"{f['states']} ground states: entropy {_num(f['entropy'])}, max/min {_num(f['max_min_ratio'])}, "
                 f"chi2 p {_num(f['p_value'])} (counts / tau = {_num(f['tau'])})"))
    rows.append(("T_eff", f"{_num(te['T'])} ({te['support']})"))
    rows.append(("time", f"{rec['time_s']:.2f} s"))
    best = rec["states"][0] if rec["states"] else None
    if best is not None:
        rows.append((f"best {rec['objective_name']}", f"{_num(best['objective'])} (energy {_num(best['energy'])}, "
                     f"seen {best['count']} times)"))
    width = max(len(k) for k, _ in rows) + 2
    head = (f"{rec['problem']} {rec['file']}: {rec['n_spins']} spins, solver {rec['solver']} (seed {rec['seed']})")
    return "\n".join([head, *(f"  {k:<{width}}{v}" for k, v in rows)])
