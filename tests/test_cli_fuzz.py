"""Fuzz of the command line's options and parameters (issue 19.2): every bad value is one line and exit 2.

Every option of every command (read from the click command objects of :data:`cimsim.cli.COMMANDS`), every
``-p`` key of every solver (its declared ``PARAMS``) and every ``-o`` key of every encoder (its declared
``OPTIONS``) gets random values: negative, zero, huge (``1e308``, ``10**400``), NaN, inf, non-numeric, empty,
booleans, JSON lists and objects, very long strings. They are combined with the small instances of
``problems/`` and tiny step and replica counts so that a case that runs is fast.

The contract of each of the :data:`N_CASES` cases (a fixed seed makes them the same every run): exit status
0 or 2; on 2, stderr is exactly one ``cimsim: error:`` line (after any ``cimsim: warning:`` lines); never a
traceback. The cases run in this process through :func:`cimsim.cli.main`; a handful also run through the
installed ``cimsim`` program to show that the real entry point behaves the same.
"""
from __future__ import annotations

import importlib
import json
import random
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import click
import numpy as np
import pytest

from cimsim.cli import COMMANDS, main
from cimsim.encoders import PROBLEMS, get_problem
from cimsim.solvers import SOLVERS, get_solver

ROOT = Path(__file__).resolve().parents[1]
INSTANCES = ROOT / "problems"
SEED = 19
N_CASES = 2000
CHUNK = 100

HUGE_INT = "1" + "0" * 400  # 10**400: beyond every integer type
#: the values every option, parameter and encoder option is tried with
VALUES: tuple[str, ...] = (
    "-1", "-7", "-0.5", "0", "-0", "0.0", "1e-320", "0.5", "1", "1.5", "2", "3", "1e308", "-1e308", "1e309",
    HUGE_INT, "-" + HUGE_INT, "9223372036854775808", "nan", "NaN", "-nan", "inf", "-inf", "Infinity",
    "", " ", "abc", "1,2", "0x10", "1_000", "true", "false", "yes", "off", "null", "[1, 2]", "[]", "[[1]]", "{}",
    '{"a": 1}', '"x"', "x" * 5000, "\u00e9\u2202", "-", "=", "a=b", "linear:", "linear:nan,1", "constant:1e308",
    "piecewise:0@0", "adiabatic:-1,1,0", "landscape",
)


def command(name: str) -> click.Command:
    module, attr = COMMANDS[name].split(":")
    return getattr(importlib.import_module(f"cimsim.cli.{module}"), attr)


def solver_params() -> dict[str, tuple[str, ...]]:
    """solver name -> the names of its declared parameters."""
    return {name: tuple(p.name for p in getattr(get_solver(name), "PARAMS", ())) for name in SOLVERS}


def encoder_options() -> dict[str, tuple[str, ...]]:
    """problem name -> the option keys its ``from_file`` accepts."""
    return {name: tuple(get_problem(name).OPTIONS) for name in PROBLEMS}


@dataclass(frozen=True)
class Option:
    """One click option: its first spelling, whether it takes no value, its parameter name."""

    flag: str
    is_flag: bool
    name: str
    nargs: int


def options_of(name: str) -> list[Option]:
    out = []
    for p in command(name).params:
        if isinstance(p, click.Option):
            out.append(Option(p.opts[0], bool(p.is_flag), p.name, p.nargs))
            out.extend(Option(s, True, p.name, 0) for s in p.secondary_opts)  # --no-polish and the like
    return out


# ------------------------------------------------------------------------------------------ instances
def tiny_instances(tmp: Path) -> dict[str, tuple[str, list[str]]]:
    """problem -> (file, the -o options it needs): the small files of problems/, a 6-spin .npz and .qubo."""
    from cimsim.encoders.ising import save_model
    from cimsim.model import IsingModel

    rng = np.random.default_rng(SEED)
    J = np.triu(rng.standard_normal((6, 6)), 1)
    save_model(tmp / "tiny.npz", IsingModel(J + J.T, rng.standard_normal(6)))
    (tmp / "tiny.qubo").write_text("qubo 4\n0 0 -1\n0 1 2\n1 2 -1.5\n2 3 1\n3 3 -0.5\n")
    graph = str(INSTANCES / "graph16.txt")
    return {
        "maxcut": (str(INSTANCES / "maxcut_w20.txt"), []),
        "partition": (str(INSTANCES / "partition15.txt"), []),
        "bisection": (graph, []),
        "sat": (str(INSTANCES / "uf20-01.cnf"), []),
        "vertex-cover": (graph, []),
        "independent-set": (graph, []),
        "ising": (str(tmp / "tiny.npz"), []),
        "knapsack": (str(INSTANCES / "knapsack12.txt"), []),
        "coloring": (graph, ["-o", "colors=3"]),
        "clique": (graph, ["-o", "size=3"]),
        "tsp": (str(INSTANCES / "tsp8.tsp"), []),
        "qubo": (str(tmp / "tiny.qubo"), []),
    }


# ----------------------------------------------------------------------------------------- the cases
#: options whose valid values make a case run long (a time budget, the size of a sweep or a cluster):
#: only values that are invalid, or small, are tried for them
_WORK = {"time_limit", "workers", "scheduler", "sk_n", "n", "ns", "runs", "chunk", "n_boot", "instances", "starts",
         "a_steps", "steps", "replicas", "samples", "reference"}
#: solver parameters whose valid large values make a run long
_WORK_PARAMS = {"max_iter", "memory", "stall"}


def _value(rng: random.Random, key: str) -> str:
    value = rng.choice(VALUES)
    if key in _WORK or key in _WORK_PARAMS:
        try:
            x = float(value)
        except ValueError:
            return value
        if x == x and 3 < x < float("inf") and value not in (HUGE_INT, "9223372036854775808", "1e309"):
            return "-1"  # a valid huge budget would just run that long
        if key == "time_limit" and x == x and 0 < x <= 3:
            return "1e-3"
    return value


def _mutate_options(rng: random.Random, argv: list[str], opts: list[Option], k: int) -> list[str]:
    """``argv`` with ``k`` of the command's options set to random values (a later value overrides)."""
    out = list(argv)
    for opt in rng.sample(opts, min(k, len(opts))):
        if opt.is_flag:
            out.append(opt.flag)
        elif opt.nargs == 2:  # anneal --problem KIND FILE
            out += [opt.flag, rng.choice(["maxcut", "ising", *VALUES[:8]]), rng.choice(VALUES)]
        else:
            out += [opt.flag, _value(rng, opt.name)]
    return out


def _solve_case(rng: random.Random, inst: dict, params: dict, enc: dict, out: Path) -> list[str]:
    problem = rng.choice(sorted(PROBLEMS))
    solver = rng.choice(["auto", *SOLVERS])
    file, needed = inst[problem]
    if rng.random() < 0.03:
        file = rng.choice([*VALUES[:20], "x" * 5000, str(INSTANCES), str(INSTANCES / "nope.txt")]) or "x"
    argv = ["solve", problem, file, "--solver", solver, "--replicas", "2", "--steps", "5", "--seed", "1", "-q",
            *needed]
    what = rng.choice(["option", "param", "param", "encoder", "mixed"])
    if what in ("option", "mixed"):
        argv = _mutate_options(rng, argv, options_of("solve"), rng.randint(1, 2))
    if what in ("param", "mixed"):
        keys = params[solver] if solver != "auto" else sorted({k for v in params.values() for k in v})
        for key in rng.sample(keys or ["nonsense"], min(len(keys) or 1, rng.randint(1, 2))):
            argv += ["-p", f"{key}={_value(rng, key)}"]
    if what in ("encoder", "mixed"):
        keys = list(enc[problem]) or ["nonsense"]
        for key in rng.sample(keys, min(len(keys), rng.randint(1, 2))):
            argv += ["-o", f"{key}={rng.choice(VALUES)}"]
    if rng.random() < 0.03:
        argv += [rng.choice(["-p", "-o"]), rng.choice(["bogus=1", "noequals", "=1", "1x=2", "a-b=3", "é=1"])]
    return argv


def _sweep_base(name: str, out: Path) -> list[str]:
    if name == "anneal":
        return ["anneal", "--sk", "6", "--solver", "sa", "--runs", "2", "--chunk", "2", "--steps", "5",
                "--bootstrap", "5", "--no-record", "--no-plots", "--workers", "1", "--out", str(out), "-q"]
    return ["phase-diagram", "--n", "4", "--a-min", "-1", "--a-max", "0", "--a-steps", "2", "--instances", "1",
            "--starts", "1", "--workers", "1", "--out", str(out), "-q", "--no-progress"]


def _other_case(rng: random.Random, name: str, params: dict, out: Path) -> list[str]:
    if name in ("anneal", "phase-diagram"):
        argv = _mutate_options(rng, _sweep_base(name, out), options_of(name), rng.randint(1, 2))
        if name == "anneal" and rng.random() < 0.5:
            key = rng.choice(params["sa"])
            argv += [rng.choice(["-p", "--sweep"]), f"{key}={_value(rng, key)}"]
        return argv
    if name == "landscape":
        return _mutate_options(rng, ["landscape", "--n", "6", "--a", "0.1", "--starts", "2", "-q"],
                               options_of(name), rng.randint(1, 2))
    if name == "plot":
        return _mutate_options(rng, ["plot", rng.choice(VALUES) or "x", "-q"], options_of(name), 1)
    argv = ["solvers", rng.choice([*SOLVERS, *VALUES[:30]])]
    return _mutate_options(rng, argv, options_of(name), rng.randint(0, 2))


def make_cases(tmp: Path) -> list[list[str]]:
    """The :data:`N_CASES` command lines, the same every run (seeded)."""
    rng = random.Random(SEED)
    inst, params, enc = tiny_instances(tmp), solver_params(), encoder_options()
    kinds = ["solve"] * 80 + ["anneal"] * 5 + ["landscape"] * 5 + ["phase-diagram"] * 3 + ["plot"] * 3 + ["solvers"] * 4
    cases = []
    for i in range(N_CASES):
        out = tmp / f"out{i}"
        kind = rng.choice(kinds)
        argv = _solve_case(rng, inst, params, enc, out) if kind == "solve" else _other_case(rng, kind, params, out)
        cases.append([str(a) for a in argv])
    return cases


#: cases of ``cimsim sample``, drawn from their own seeded stream after the others (so adding the command
#: left the :data:`N_CASES` cases unchanged); each mutates one option in turn plus one or two at random
N_SAMPLE_CASES = 60


def make_sample_cases(tmp: Path) -> list[list[str]]:
    from cimsim.sampler import sampling_solvers

    rng = random.Random(SEED + 18)
    inst, params = tiny_instances(tmp), solver_params()
    opts = options_of("sample")
    samplers = sampling_solvers()
    cases = []
    for i in range(N_SAMPLE_CASES):
        problem = rng.choice(["maxcut", "partition", "ising", "qubo", "sat", "vertex-cover"])
        file, needed = inst[problem]
        solver = rng.choice(["auto", *samplers, *samplers, "exact", "spectral"])
        argv = ["sample", problem, file, "--solver", solver, "--replicas", "2", "--steps", "20", "--samples", "50",
                "--seed", "1", "-q", *needed]
        opt = opts[i % len(opts)]
        argv = _mutate_options(rng, argv, [opt], 1)
        argv = _mutate_options(rng, argv, opts, rng.randint(0, 1))
        if rng.random() < 0.3 and solver in params and params[solver]:
            key = rng.choice(params[solver])
            argv += ["-p", f"{key}={_value(rng, key)}"]
        cases.append([str(a) for a in argv])
    return cases


# ------------------------------------------------------------------------------------------- running
def run_in_process(argv: list[str]) -> tuple[int, str, str]:
    from click.testing import CliRunner

    code = 0
    with CliRunner().isolation() as (out, err, _):
        try:
            main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return code, out.getvalue().decode("utf-8", "replace"), err.getvalue().decode("utf-8", "replace")


def problem_with(code: int, err: str) -> str | None:
    """What is wrong with a case's exit status and stderr, or None."""
    if "Traceback" in err:
        return "traceback"
    if code == 0:
        return None
    if code != 2:
        return f"exit {code}"
    lines = [ln for ln in err.splitlines() if ln.strip()]
    if not lines or not lines[-1].startswith("cimsim: error: "):
        return "stderr does not end in one 'cimsim: error:' line"
    if not all(ln.startswith("cimsim: warning: ") for ln in lines[:-1]):
        return "more than one line of error"
    return None


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cli-fuzz")


@pytest.fixture(scope="module")
def cases(workdir) -> list[list[str]]:
    return make_cases(workdir)


@pytest.fixture(scope="module")
def sample_cases(workdir) -> list[list[str]]:
    return make_sample_cases(workdir)


def test_cases_cover_every_option_parameter_and_encoder_option(cases, sample_cases):
    """The generated cases reach every option of every command, every -p key and every -o key."""
    assert len(cases) == N_CASES
    cases = cases + sample_cases
    seen = {a for argv in cases for a in argv}
    for name in COMMANDS:
        for opt in options_of(name):
            if name == "plot" and opt.flag == "--out":
                continue  # plot's -o/--out: covered by plot's own cases, not distinguishable from solve's -o
            assert any(argv[0] == name and opt.flag in argv for argv in cases), (name, opt.flag)
    assigned = {a.split("=", 1)[0] for a in seen if "=" in a}
    for solver, keys in solver_params().items():
        assert set(keys) <= assigned, (solver, set(keys) - assigned)
    for problem, keys in encoder_options().items():
        assert set(keys) <= assigned, (problem, set(keys) - assigned)


@pytest.mark.parametrize("chunk", range(N_CASES // CHUNK))
def test_fuzz_command_line(chunk, cases, workdir, monkeypatch):
    """Each case exits 0 or 2; on 2 with exactly one 'cimsim: error:' line; never a traceback."""
    import cimsim.plotting.landscape

    monkeypatch.chdir(workdir)  # output paths given as random values land here
    # a phase diagram that runs spends seconds drawing its figures (test_landscape draws them); here: none
    monkeypatch.setattr(cimsim.plotting.landscape, "plot_phase_diagram", lambda *a, **k: [])
    bad = []
    for argv in cases[chunk * CHUNK:(chunk + 1) * CHUNK]:
        code, _, err = run_in_process(argv)
        what = problem_with(code, err)
        if what:
            bad.append(f"{what}: cimsim {' '.join(a[:60] for a in argv)}\n    {err.strip()[-300:]}")
    assert not bad, f"{len(bad)} failing case(s):\n" + "\n".join(bad)


def test_fuzz_sample_command(sample_cases, workdir, monkeypatch):
    """``cimsim sample`` under the same contract: exit 0 or 2, one error line, no traceback."""
    monkeypatch.chdir(workdir)
    bad = []
    for argv in sample_cases:
        code, _, err = run_in_process(argv)
        what = problem_with(code, err)
        if what:
            bad.append(f"{what}: cimsim {' '.join(a[:60] for a in argv)}\n    {err.strip()[-300:]}")
    assert not bad, f"{len(bad)} failing case(s):\n" + "\n".join(bad)


def test_installed_entry_point_behaves_the_same(cases, workdir):
    """A handful of cases through the installed ``cimsim`` program: the same exit status, stderr one line."""
    exe = shutil.which("cimsim")
    argvs = [argv for argv in cases if argv[0] == "solve"][:6] + [argv for argv in cases if argv[0] != "solve"][:2]
    for argv in argvs:
        cmd = [exe, *argv] if exe else [sys.executable, "-m", "cimsim", *argv]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=workdir)
        assert problem_with(proc.returncode, proc.stderr) is None, (argv, proc.stderr[-500:])
        assert proc.returncode == run_in_process(argv)[0], argv


# ------------------------------------------------------------------------- regressions found by the fuzz
LONG = "x" * 5000
W20 = str(INSTANCES / "maxcut_w20.txt")
G16 = str(INSTANCES / "graph16.txt")
B63 = str(2**63)
_SOLVE = ["solve", "maxcut", W20, "--replicas", "2", "--steps", "5", "--seed", "1", "-q"]
_PHASE = ["phase-diagram", "--n", "4", "--a-min", "-1", "--a-max", "0", "--a-steps", "2", "--instances", "1",
          "--starts", "1", "--workers", "1", "-q", "--no-progress"]
_ANNEAL = ["anneal", "--sk", "6", "--solver", "sa", "--runs", "2", "--chunk", "2", "--steps", "5", "--bootstrap", "5",
           "--no-record", "--no-plots", "--workers", "1", "-q"]

REGRESSIONS = [
    # input, a piece of the one-line error; before the fix: what happened
    (["solve", "maxcut", W20, "--seed", "-1"], "seed must be a non-negative integer"),  # numpy traceback, exit 1
    ([*_SOLVE, "--solver", "tabu", "-p", "tenure_rand=abc"], "tenure_rand must be a number"),  # ValueError traceback
    ([*_SOLVE, "--json", LONG], "File name too long"),  # OSError traceback from the --json check
    (["plot", LONG], "File name too long"),  # OSError traceback
    (["plot", W20, "--out", LONG], "File name too long"),  # OSError traceback
    (["solve", "ising", LONG], "File name too long"),  # OSError traceback from load_model
    ([*_ANNEAL, "--out", LONG], "File name too long"),  # OSError traceback from the task store (caught by main)
    ([*_SOLVE, "--solver", "sa", "--steps", HUGE_INT], "steps must be at most 2**40"),  # OverflowError in sa
    ([*_SOLVE, "--solver", "cim", "--steps", B63], "steps must be at most 2**40"),  # IndexError in the schedule
    (["solve", "coloring", G16, "-o", "colors=3", "--solver", "tabu", "--replicas", B63, "-q"],
     "replicas"),  # numpy 'Maximum allowed dimension exceeded'
    ([*_SOLVE, "--solver", "adiabatic", "-p", f"memory={2**62}"], "L-BFGS history"),  # numpy ValueError
    ([*_SOLVE, "--solver", "tabu", "-p", "breakout_flips=1e308"], "below 2**63"),  # OverflowError in the kernel
    (["solve", "knapsack", str(INSTANCES / "knapsack12.txt"), "-o", "penalty=1e308", "-q"],
     "penalty 1e+308 is too large"),  # numpy overflow warnings above the error line
    (["landscape", "--n", "6", "--a", "1e100", "-q"], "--a must lie in"),  # overflow warnings, garbage minima
    ([*_PHASE, "--a-max", "1e301", "--out", "pd1"], "--a-max must lie in"),  # every task failed: exit 1
    ([*_PHASE, "--path-da", "1e-300", "--out", "pd2"], "path points"),  # every task failed: exit 1
    ([*_PHASE, "--a-steps", HUGE_INT, "--out", "pd3"], "--a-steps must be at most"),  # numpy error
    ([*_PHASE, "--instances", HUGE_INT, "--out", "pd4"], "tasks; at most"),  # built its task list for ever
    ([*_PHASE, "--workers", B63, "--out", "pd5"], "workers must be a positive integer of at most"),  # hung
    ([*_ANNEAL, "--steps", HUGE_INT, "--out", "an1"], "steps must be at most 2**40"),  # every task failed: exit 1
    ([*_ANNEAL, "--runs", HUGE_INT, "--out", "an2"], "tasks (settings x runs / chunk)"),  # hung building tasks
    ([*_ANNEAL, "--bootstrap", B63, "--out", "an3"], "--bootstrap must be"),  # numpy ValueError, exit 1
    ([*_ANNEAL, "--instance-seed", "-1", "--out", "an4"], "--instance-seed must be"),  # SeedSequence ValueError
]


@pytest.mark.parametrize("argv, message", REGRESSIONS, ids=[f"{a[0]}-{m[:24]}" for a, m in REGRESSIONS])
def test_regression_is_one_line(argv, message, workdir, monkeypatch):
    monkeypatch.chdir(workdir)
    code, _, err = run_in_process(argv)
    assert code == 2 and problem_with(code, err) is None, err[-800:]
    assert message in err.strip().splitlines()[-1], err[-800:]


@pytest.mark.parametrize("seed", [-1, 1.5, "3", True])
def test_api_refuses_bad_seeds(seed):
    import cimsim
    from cimsim.errors import CimsimError

    with pytest.raises(CimsimError, match="seed must be a non-negative integer"):
        cimsim.solve("maxcut", W20, seed=seed, steps=5, replicas=2)


def test_api_refuses_huge_integer_parameters():
    import cimsim
    from cimsim.errors import CimsimError

    with pytest.raises(CimsimError, match="breakout_flips must be an integer below 2"):
        cimsim.solve("maxcut", W20, solver="tabu", seed=1, steps=5, replicas=2, breakout_flips=10**400)


def test_rs_theory_far_above_the_transition():
    """landscape --a 100 raised brentq's sign error: the q bracket stopped at 100. The solution satisfies its
    own definitions (a = b - chi) and chi tends to sqrt(2/pi) as the pump grows (x* ~ sign(z) sqrt(b))."""
    import math

    from cimsim.landscape.theory import rs_solve

    for a in (100.0, 1000.0):
        p = rs_solve(a)
        assert p.a == pytest.approx(a) and p.b - p.chi == pytest.approx(a)
        assert p.q > a and p.chi == pytest.approx(math.sqrt(2 / math.pi), rel=5e-3)
