"""G1 with the machine solvers (issue 17 'done means'): runs of `cimsim solve maxcut G1 --time-limit T`.

For cfc, sfc, asb and simcim the question is whether any of up to ``--runs`` seeded runs reaches the
best-known cut 11624; a solver's series stops at its first success. For dopo and mfb (at their defaults)
every run is made and the median cut is compared with 0.998 x 11624. Every run goes through the command
line exactly as a user would call it (``--target 11624``, so a run stops at the batch that reaches the
target; 1-flip polish at the CLI default, on), one at a time, so the machine load is the same for all.

    python bench/g1_machines.py --time-limit 60 --runs 10

Writes ``g1_machines.csv`` (one row per run, appended as runs finish) and ``g1_machines.md`` under --out.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.calls import code_version  # noqa: E402
from bench.data import add_data_option, data_root  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BEST = 11624
FIELDS = ["solver", "seed", "cut", "reached", "time_s", "batches", "steps_total", "load1"]


def one_run(graph: Path, solver: str, seed: int, limit: float) -> dict:
    cmd = [sys.executable, "-m", "cimsim", "solve", "maxcut", str(graph), "--solver", solver,
           "--time-limit", str(limit), "--seed", str(seed), "--target", str(BEST), "--json", "-"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    d = json.loads(out)
    return {"solver": solver, "seed": seed, "cut": int(d["cut"]), "reached": bool(d["reached"]),
            "time_s": round(d["time_s"], 2), "batches": d["batches"], "steps_total": d["steps_total"],
            "load1": round(os.getloadavg()[0], 2)}


def fixed_work_run(model, solver: str, seed: int) -> dict:
    """One batch at the solver's defaults (replicas x steps of ``defaults(model)``) through the API, with
    1-flip polish as the CLI: a measure of what the defaults reach for a given amount of work, independent
    of the machine's load (CPU seconds of this process are reported beside the wall time)."""
    from cimsim.solvers import solve

    t0, c0 = time.perf_counter(), time.process_time()
    res = solve(model, solver, seed=seed)
    cut = int(round((float(np.sum(np.abs(model.J.data))) / 2 - res.energy) / 2)) if model.is_sparse else None
    return {"solver": solver, "seed": seed, "cut": cut, "reached": cut is not None and cut >= BEST,
            "time_s": round(time.perf_counter() - t0, 2), "cpu_s": round(time.process_time() - c0, 2),
            "replicas": res.replicas, "steps": res.steps, "load1": round(os.getloadavg()[0], 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--search", default="cfc,sfc,asb,simcim", help="solvers stopped at their first success")
    ap.add_argument("--median", default="dopo,mfb", help="solvers run --runs times for the median cut")
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--time-limit", type=float, default=60.0)
    add_data_option(ap)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    ap.add_argument("--fixed-work", action="store_true",
                    help="instead of timed CLI runs: one batch at the defaults per seed for the --median solvers "
                    "(writes g1_machines_work.csv)")
    args = ap.parse_args()
    graph = data_root(args.data) / "gset" / "G1.txt"
    if args.fixed_work:
        from bench.instances import load_instance

        model = load_instance("G1", args.data).model
        with open(Path(args.out) / f"g1_machines_work_{args.median.replace(',', '_')}.csv", "w", newline="",
                  encoding="utf-8") as fh:
            w = None
            for solver in args.median.split(","):
                for seed in range(1, args.runs + 1):
                    row = fixed_work_run(model, solver, seed)
                    w = w or csv.DictWriter(fh, fieldnames=list(row))
                    if fh.tell() == 0:
                        w.writeheader()
                    w.writerow(row)
                    fh.flush()
                    print(row, flush=True)
        return
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    csv_path = out / "g1_machines.csv"
    rows: list[dict] = []
    with open(csv_path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=FIELDS)
        w.writeheader()
        for solver, stop in [(s, False) for s in args.median.split(",") if s] + \
                            [(s, True) for s in args.search.split(",") if s]:
            for seed in range(1, args.runs + 1):
                row = one_run(graph, solver, seed, args.time_limit)
                rows.append(row)
                w.writerow(row)
                fh.flush()
                print(row, flush=True)
                if stop and row["reached"]:
                    break
    lines = [f"# G1 (best known {BEST}) with the machine solvers, runs of {args.time_limit:g} s "
             f"(commit {code_version()})", "",
             "Each run: `cimsim solve maxcut G1.txt --solver S --time-limit T --seed k --target 11624` "
             "(CLI defaults: solver defaults, 1-flip polish on). Load averages at the end of each run are "
             "in the csv (2-core machine shared with other jobs).", "",
             "| solver | runs | reached 11624 | first success (seed) | median cut | min | max | median/11624 |",
             "|---|---|---|---|---|---|---|---|"]
    for solver in dict.fromkeys(r["solver"] for r in rows):
        rs = [r for r in rows if r["solver"] == solver]
        cuts = [r["cut"] for r in rs]
        first = next((r["seed"] for r in rs if r["reached"]), None)
        med = statistics.median(cuts)
        lines.append(f"| {solver} | {len(rs)} | {sum(r['reached'] for r in rs)} | {first or '-'} | {med:g} | "
                     f"{min(cuts)} | {max(cuts)} | {med / BEST:.4f} |")
    (out / "g1_machines.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
