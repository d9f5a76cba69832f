"""Benchmark cimsim against peers and this machine's bounds.

    python bench/run.py --suite quick|full|peers [--budgets 1,10] [--out bench/results]
                        [--instances G1,G43,...] [--solvers cim,sa,...] [--peers neal,openjij,...|none]
                        [--repeats K] [--tag NAME] [--workers N | --scheduler ADDRESS] [--data DIR]

Installs nothing: peers come from ``bench/requirements-peers.txt`` (see bench/README.md); a peer that
does not import gets rows saying so. Every budgeted call (instance x solver x budget x seed) is one
task of a checkpointed sweep stored in ``<out>/tasks/``: re-running the same command computes only the
calls not stored yet. Writes ``<out>/results.csv`` (one line per call), ``<out>/summary.json``,
``<out>/<tag>.csv`` and ``<out>/<tag>.md`` (tag defaults to the suite name) and prints the markdown
table. Exit status 0 when every call ran, 1 when some failed (re-run to retry them), 2 on bad options.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import os
import platform
import sys
from pathlib import Path
from types import SimpleNamespace

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cimsim import CimsimError  # noqa: E402

from cimsim.sweep import check_scheduler_address  # noqa: E402

from bench.calls import CIMSIM_SOLVERS, machine_line  # noqa: E402
from bench.data import add_data_option, data_root, missing_root_message  # noqa: E402
from bench.generated import is_generated, parse_name  # noqa: E402
from bench.instances import SUITES, all_instance_names, load_instance, needs_data  # noqa: E402
from bench.report import read_csv, write_csv, write_markdown  # noqa: E402
from bench.rows import recompare  # noqa: E402
from bench.runner import run_bench_sweep  # noqa: E402
from bench.peers import PEERS  # noqa: E402

DEFAULT_BUDGETS = {"quick": "1", "peers": "10", "full": "1,10", "generated": "10"}
DEFAULT_REPEATS = {"quick": 3, "peers": 1, "full": 5, "generated": 2}


def _budgets(text: str) -> list[float]:
    out = []
    for tok in text.split(","):
        tok = tok.strip()
        try:
            b = float(tok)
        except ValueError:
            raise CimsimError(f"--budgets: {tok!r} is not a number of seconds") from None
        if not (b > 0) or b == float("inf"):
            raise CimsimError(f"--budgets: budgets must be positive and finite, got {tok!r}")
        out.append(b)
    if not out:
        raise CimsimError("--budgets: give at least one budget")
    return out


def _names(text: str | None, allowed: list[str], what: str) -> list[str] | None:
    if text is None:
        return None
    names = [t.strip() for t in text.split(",") if t.strip()]
    bad = [t for t in names if t not in allowed]
    if bad:
        raise CimsimError(f"unknown {what} {', '.join(bad)}; choose from {', '.join(allowed)}")
    return names


def _peer_keys(text: str | None) -> list[str]:
    if text is None:
        return list(PEERS)
    if text.strip().lower() == "none":
        return []
    by_label = {v: k for k, v in PEERS.items()}
    labels = _names(text, list(by_label) + list(PEERS), "peer") or []
    return [by_label.get(t, t) for t in labels]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench/run.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--suite", choices=sorted(SUITES), default="quick")
    p.add_argument("--budgets", default=None, help="comma-separated seconds per call (suite default)")
    p.add_argument("--out", default=str(Path(__file__).resolve().parent / "results"), metavar="DIR",
                   help="result store: one JSON file per finished call in DIR/tasks, DIR/results.csv (one line "
                        "per call), DIR/summary.json, DIR/<tag>.csv and DIR/<tag>.md. Re-running with the same DIR "
                        "computes only the missing calls (default: bench/results)")
    p.add_argument("--instances", default=None, help="comma-separated instance names (overrides the suite)")
    p.add_argument("--solvers", default=None, help=f"cimsim solvers ({','.join(CIMSIM_SOLVERS)})")
    p.add_argument("--peers", default=None, help=f"peers ({','.join(PEERS.values())}) or none")
    p.add_argument("--repeats", type=int, default=None, help="seeds per instance x solver x budget")
    p.add_argument("--threads", default="1",
                   help="BLAS/numba/torch threads for every solver and bound probe: a number or 'all' (default 1: "
                        "on a shared machine spinning worker threads make multi-threaded runs erratic)")
    p.add_argument("--render", default=None, metavar="CSV",
                   help="only re-render the markdown table of an earlier run's CSV (next to it) and print it")
    p.add_argument("--tag", default=None, help="output file stem (default: the suite name)")
    p.add_argument("--workers", type=int, default=1,
                   help="calls run at once (default 1, in this process). The budgets are wall-clock seconds: "
                        "parallel workers on a small machine compete for cores and distort every timing, so "
                        "use more than 1 only on a cluster or with cores to spare (N > 1 starts a local dask "
                        "cluster of N single-threaded processes)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run the calls on a running dask scheduler, e.g. tcp://10.0.0.5:8786 (workers need this "
                        "repository on their PYTHONPATH; a local cluster is given the data root in CIMSIM_DATA)")
    p.add_argument("--quiet", action="store_true", help="no progress bar or per-row lines")
    add_data_option(p)
    return p.parse_args(argv)


def _render(path: Path) -> int:
    if not path.is_file():
        print(f"error: {path}: no such file", file=sys.stderr)
        return 2
    md = path.with_suffix(".md")
    old = md.read_text(encoding="utf-8") if md.exists() else ""
    header = old.split("\n| instance |")[0].strip() if old else f"# cimsim benchmark: {path.stem}"
    rows = recompare(read_csv(path))
    write_markdown(rows, md, header=header)
    print(md.read_text(encoding="utf-8"))
    return 0


def _instance_names(args: argparse.Namespace) -> list[str]:
    if args.instances is None:
        return SUITES[args.suite]
    names = [t.strip() for t in args.instances.split(",") if t.strip()]
    unknown = [t for t in names if t not in all_instance_names() and not (t.startswith("SK") and t[2:].isdigit())
               and not is_generated(t)]
    if unknown:
        raise CimsimError(f"unknown instance {', '.join(unknown)}; choose from {', '.join(all_instance_names())}, SK<N> "
                          "or gen-<family>-<n> (bench/generated.py)")
    for t in names:
        if is_generated(t):
            parse_name(t)  # a malformed gen- name is one line here, not a row
    return names


def _threads(text: str) -> int | None:
    if text == "all":
        return None
    try:
        threads = int(text)
    except ValueError:
        threads = 0
    if threads < 1:
        raise CimsimError(f"--threads must be a positive integer or 'all', got {text!r}")
    return threads


def _settings(args: argparse.Namespace) -> SimpleNamespace:
    """The validated run settings; raises CimsimError (one line) on a bad option."""
    names = _instance_names(args)
    data = data_root(args.data)
    if any(needs_data(n) for n in names) and not data.is_dir():
        raise CimsimError(missing_root_message(data))
    repeats = args.repeats if args.repeats is not None else DEFAULT_REPEATS[args.suite]
    if repeats < 1:
        raise CimsimError(f"--repeats must be a positive integer, got {repeats}")
    if args.workers < 1:
        raise CimsimError(f"--workers must be a positive integer, got {args.workers}")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise CimsimError(f"--out {out}: exists and is not a directory")
    solvers = _names(args.solvers, list(CIMSIM_SOLVERS), "solver")
    return SimpleNamespace(
        names=names, data=data, repeats=repeats, out=out, tag=args.tag or args.suite,
        budgets=_budgets(args.budgets or DEFAULT_BUDGETS[args.suite]),
        solvers=list(CIMSIM_SOLVERS) if solvers is None else solvers, peers=_peer_keys(args.peers),
        threads=_threads(args.threads),
        scheduler=None if args.scheduler is None else check_scheduler_address(args.scheduler))


def _header(s: SimpleNamespace, run, started: _dt.datetime, threads_text: str) -> str:
    header = (
        f"# cimsim benchmark: {s.tag}\n\n"
        f"Started {started:%Y-%m-%d %H:%M} UTC on {platform.node() or 'this machine'} ({os.cpu_count()} cores), "
        f"budgets {', '.join(f'{b:g} s' for b in s.budgets)}, {s.repeats} repeat(s) (seeds 0..{s.repeats - 1}), "
        f"threads per solver: {threads_text}. "
        "Objectives recomputed from returned spins with cimsim's model. Gset: cut (higher is better); "
        "SK: energy per spin (lower is better; ratio = e / Parisi e0); SAT: satisfied clauses."
    )
    if run.code:
        mixed = " (MIXED: calls made by different code versions; use a fresh --out for one version)" \
            if len(run.code) > 1 else ""
        header += f" Calls made at commit {', '.join(run.code)}{mixed}."
    return header + "\n\n" + (run.machine or machine_line(s.threads))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.render:
        return _render(Path(args.render))
    try:
        s = _settings(args)
    except CimsimError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    instances = [load_instance(n, s.data) for n in s.names]
    started = _dt.datetime.now(_dt.timezone.utc)
    log = (lambda msg: None) if args.quiet else None
    try:
        run = run_bench_sweep(instances, solvers=s.solvers, peers=s.peers, budgets=s.budgets, repeats=s.repeats,
                              threads=s.threads, log=log, out_dir=s.out, scheduler=s.scheduler,
                              workers=None if s.scheduler else args.workers, progress=not args.quiet, data=s.data)
    except CimsimError as exc:  # e.g. the store cannot be created, the scheduler cannot be reached
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"bench: interrupted; finished calls are stored in {s.out}/tasks: re-run the same command to resume",
              file=sys.stderr)
        return 130
    write_csv(run.rows, s.out / f"{s.tag}.csv")
    write_markdown(run.rows, s.out / f"{s.tag}.md", header=_header(s, run, started, args.threads))
    print((s.out / f"{s.tag}.md").read_text(encoding="utf-8"))
    oc = run.outcome
    print(f"bench: {oc.summary()}", file=sys.stderr)
    if not oc.complete:
        print(f"bench: incomplete ({len(oc.failed)} call(s) failed, listed in {s.out}/summary.json); "
              "re-run the same command to retry them", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
