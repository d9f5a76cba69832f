"""``cimsim solve PROBLEM FILE``."""
from __future__ import annotations

import secrets

import click

from .. import pipeline
from ..encoders import PROBLEMS
from ..errors import finite_float
from ..solvers import SOLVERS
from .common import backend_option, check_new_output, force_option, parse_params, write_json


#: a summary value this small is float rounding of zero (e.g. 0.1 + 0.2 - 0.3) and prints as 0; the JSON
#: record keeps the exact float
ZERO = 1e-12


def _format_number(x: float, digits: int = 6) -> str:
    x = float(x)
    if abs(x) < ZERO:
        return "0"
    return f"{x:.0f}" if x.is_integer() and abs(x) < 1e15 else f"{x:.{digits}g}"


SOLVE_EPILOG = """\b
Examples:
  cimsim solve maxcut problems/G1.txt --target 11624
  cimsim solve maxcut problems/G1.txt --solver cac --time-limit 10 --seed 1 --json g1.json
  cimsim solve sat problems/uf20-01.cnf --solver sa --json -
  cimsim solve vertex-cover problems/graph16.txt -o penalty=2
  cimsim solve ising model.qubo --solver sb --variant dsb -p dt=0.5
"""


@click.command(context_settings={"show_default": True}, epilog=SOLVE_EPILOG)
@click.argument("problem", type=click.Choice(sorted(PROBLEMS)), metavar="PROBLEM")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--solver", default="auto", type=click.Choice(["auto", *SOLVERS]), help="Solver; auto picks the best for the instance.")
@click.option("--replicas", "-r", type=int, default=None, help="Replicas per batch [solver default].")
@click.option("--steps", "-s", type=int, default=None, help="Steps (or sweeps) per replica [solver default].")
@click.option("--time-limit", "-t", type=float, default=None, help="Keep running fresh batches for this many seconds.")
@click.option("--seed", type=int, default=None, help="Random seed [drawn at random and reported].")
@backend_option
@click.option("--json", "json_path", type=click.Path(dir_okay=False, allow_dash=True), default=None, help="Write the result as JSON to this path ('-' for stdout).")
@click.option("--target", type=float, default=None, help="Known optimum of the objective; the summary reports the gap, and a time-limited run stops once it is reached.")
@click.option("--stop-at-target/--no-stop-at-target", default=True, help="With --target and --time-limit: stop after the batch that reaches the target (else use the whole time limit).")
@click.option("--polish/--no-polish", default=None,
              help="Pass every replica through 1-flip local search [default: on, except where the encoding "
              "advises against it (TSP)].")
@click.option("--variant", default=None, help="Solver variant (sb: bsb|dsb).")
@click.option("--schedule", default=None, help="Pump schedule (cim, adiabatic): a .json file or KIND:ARGS, KIND one of constant:A, linear:A0,A1, exp:A0,A1[,RATE], tanh:A0,A1[,K[,CENTER]], piecewise:A0@U0,A1@U1,..., adiabatic:A0,A1[,STEP][,tol=T], landscape[:A0,A1[,LO,HI[,SLOW]]]; append ',relative=1' for offsets from the threshold -lambda_max (see cimsim.schedules).")
@click.option("--param", "-p", "params", multiple=True, metavar="KEY=VALUE", help="Solver parameter (repeatable), e.g. -p dt=0.05.")
@click.option("--option", "-o", "options", multiple=True, metavar="KEY=VALUE", help="Encoder option (repeatable), e.g. -o penalty=2.")
@click.option("--format", "file_format", default=None, metavar="NAME", help="Format of FILE, passed to the encoder as -o format=NAME [the encoder's default].")
@click.option("--quiet", "-q", is_flag=True, help="No summary on stdout and no progress bar on stderr.")
@force_option
def solve(problem, file, solver, replicas, steps, time_limit, seed, backend, json_path, target, stop_at_target, polish, variant, schedule, params, options, file_format, quiet, force):
    """Encode PROBLEM from FILE as an Ising model, solve it, and decode the answer.

    \b
    PROBLEM and FILE format:
      maxcut           graph file: Gset/rudy ('N E' header, 'i j w' lines), networkx edge or
                       adjacency list, GraphML, GML, DIMACS, MatrixMarket; by --format NAME, else
                       the extension, else the content (docs/formats.md); FILE '-' is stdin
      partition        numbers, one per line or whitespace separated
      bisection        graph file as for maxcut; balanced halves minimising the cut
      sat              DIMACS CNF (MAX-SAT: maximise satisfied clauses)
      vertex-cover     graph file as for maxcut (weights ignored)
      independent-set  graph file as for maxcut (weights ignored)
      ising            .npz with J (dense or scipy sparse) and optional h, MatrixMarket .mtx,
                       or QUBO text .qubo ('qubo N [OFFSET]' then 'i j q' lines; see cimsim.encoders.qubo)
      knapsack         'N CAPACITY' line, then 'weight value' per item (-o repair=true)
      coloring         graph file as for maxcut; -o colors=K
      clique           graph file as for maxcut; -o size=K for a K-clique, none for a maximum clique
      tsp              TSPLIB file or a plain distance matrix (-o repair=true)

    Encoder options (-o KEY=VALUE) include penalty= for constrained problems.

    Ctrl-C stops the run (sa, tabu and adiabatic within about a second; other solvers drop the batch
    they are in): the best answer found so far is summarised and, with --json, written with
    "interrupted": true; the exit status is then 130.

    Exit status: 0 on success, 2 on bad input or parameters, 130 when interrupted.
    """
    check_new_output(json_path, force, what="JSON result")
    solver_params = parse_params(params)
    if variant is not None:
        solver_params["variant"] = variant
    if schedule is not None:
        solver_params["schedule"] = schedule
    enc_options = parse_params(options, "--option")
    if file_format is not None:
        enc_options["format"] = file_format
    if target is not None:
        target = finite_float(target, "--target")
    encoded = pipeline.encode(problem, file, enc_options)
    if seed is None:
        seed = secrets.randbits(32)
    spec = pipeline.SolverSpec(name=solver, params=solver_params, replicas=replicas, steps=steps, seed=seed,
                               time_limit=time_limit, backend=backend, polish=polish)
    choice = pipeline.auto_pick(encoded, spec)  # --solver auto: the pick and why, recorded with the result
    name = choice["solver"] if choice is not None else spec.name
    from .progress import timed_progress

    with timed_progress(f"{name} on {encoded.model.n} spins", time_limit, quiet=quiet):
        result = pipeline.run(encoded, spec.with_name(name), file=file, target=target, stop_at_target=stop_at_target)
    if choice is not None:
        result.extra["auto"] = choice
    payload = pipeline.record(result, target=target)
    if not quiet and json_path != "-":
        click.echo(_summary(payload))
    if json_path is not None:
        write_json(json_path, payload)
    if payload["interrupted"]:
        from . import fail

        where = "" if json_path is None else (" (best answer so far written to stdout)" if json_path == "-"
                                              else f" (best answer so far written to {json_path})")
        fail(f"interrupted{where}", 130)


def _summary(rec: dict) -> str:
    """The lines ``cimsim solve`` prints, from the record of :func:`cimsim.pipeline.record`."""
    batches = rec["batches"]
    gap = rec.get("gap")
    if batches == 1:
        run = f"{rec['replicas']} replicas x {rec['steps']} steps, 1 batch"
    else:
        run = (f"{rec['replicas']} replicas x {rec['steps']} steps in the best of {batches} batches, "
               f"{rec['steps_total']} steps in all")
    rows = [(rec["objective_name"], _format_number(rec["objective"])
             + (f"   (target {_format_number(rec['target'])}, gap {100 * gap:.3f}%)" if gap is not None else ""))]
    if rec["objective_name"] != "energy":  # an ising problem's objective is the energy: print it once
        rows.append(("energy", _format_number(rec["energy"], 10)))
    rows.append(("feasible", "yes" if rec["feasible"] else "no"))
    if "energy_lower_bound" in rec:
        rows.append(("optimal", "yes (proven: the energy equals the matching lower bound)" if rec["proven_optimal"]
                     else f"not proven (energy lower bound {_format_number(rec['energy_lower_bound'], 10)})"))
    if rec.get("stopped_at_target"):
        rows.append(("stopped", f"target reached in batch {batches}"))
    if rec.get("interrupted"):
        rows.append(("interrupted", f"yes: the best answer of {batches} batch{'es' if batches > 1 else ''}"))
    if rec.get("auto"):  # --solver auto: why this solver (cimsim.solvers.auto_choice or the encoding's advice)
        rows.append(("auto", str(rec["auto"].get("reason", ""))))
    rows.append(("time", f"{rec['time_s']:.2f} s"))
    width = max(12, *(len(label) + 2 for label, _ in rows))
    return "\n".join([f"{rec['problem']} {rec['file']}: {rec['n_spins']} spins, solver {rec['solver']} "
                      f"({run}, seed {rec['seed']})", *(f"  {label:<{width}}{value}" for label, value in rows)])
