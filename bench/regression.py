"""Same answers and same speed after a refactor: this tree against an earlier commit, in one run.

Every call runs in a fresh subprocess whose ``PYTHONPATH`` is either this repository or a git worktree of
the base commit, alternating between the two so that the machine's load falls on both alike:

* quality: ``auto`` at a wall-clock budget on Gset graphs, several seeds: the median cut of each tree,
  beside the committed 10 s table (``bench/results/final/final-10s.csv``);
* speed: the dense and sparse dynamics (``cim``, ``cac``, ``sb`` dSB) on SK N = 2000 and G22 with a fixed
  number of steps, after a warm-up call in the same process (compilation excluded): spin updates per
  second of each tree and their ratio (new / old).

    git worktree add /some/dir/base <commit>
    python bench/regression.py --base /some/dir/base --graphs G1,G43,G22,G55,G70 --seeds 3 --budget 10

Writes ``regression.md`` and ``regression.csv`` under ``--out``.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.calls import git_head  # noqa: E402
from bench.data import add_data_option, data_root  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

QUALITY = """
import json, sys, cimsim
enc = cimsim.encode("maxcut", sys.argv[1])
res = cimsim.solvers.solve(enc.model, "auto", seed=int(sys.argv[2]), time_limit=float(sys.argv[3]))
print(json.dumps({"cut": float(enc.decode(res.spins).objective), "solver": res.solver, "time_s": res.time_s}))
"""

SPEED = """
import json, sys, time, cimsim
from cimsim.instances import sk_model
name, solver, steps, replicas = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
model = sk_model(2000, seed=1) if name == "SK2000" else cimsim.encode("maxcut", name).model
solver, _, variant = solver.partition("-")
kw = {"variant": variant} if variant else {}
cimsim.solvers.solve(model, solver, replicas=replicas, steps=20, seed=0, polish_result=False, **kw)  # compile
t0 = time.perf_counter()
res = cimsim.solvers.solve(model, solver, replicas=replicas, steps=steps, seed=1, polish_result=False, **kw)
dt = time.perf_counter() - t0
print(json.dumps({"updates_per_s": replicas * res.steps * model.n / dt, "time_s": dt}))
"""


def call(tree: Path, script: str, *args: str) -> dict:
    env = dict(os.environ, PYTHONPATH=str(tree), OMP_NUM_THREADS="2")
    out = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, env=env,
                         cwd=str(tree), timeout=3600)
    if out.returncode != 0:
        raise SystemExit(f"regression: call failed in {tree}: {out.stderr.strip().splitlines()[-1:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def committed_medians() -> dict[str, float]:
    """Median cut of the 'auto' rows of the committed 10 s table, per graph."""
    path = ROOT / "bench" / "results" / "final" / "final-10s.csv"
    out: dict[str, float] = {}
    if path.is_file():
        with open(path, encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                if row.get("solver") == "auto" and row.get("median_obj"):
                    out[row["instance"]] = float(row["median_obj"])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", required=True, help="a git worktree of the commit to compare with")
    ap.add_argument("--graphs", default="G1,G43,G22,G55,G70")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--budget", type=float, default=10.0)
    ap.add_argument("--speed", default="SK2000:cim:300:32,SK2000:cac:300:32,SK2000:sb-dsb:300:32,"
                                       "G22:cim:1000:32,G22:cac:1000:32,G22:sb-dsb:1000:32")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    add_data_option(ap)
    args = ap.parse_args()
    trees = {"new": ROOT, "old": Path(args.base).resolve()}
    gset = data_root(args.data) / "gset"
    rows: list[dict] = []
    for graph in filter(None, args.graphs.split(",")):
        for seed in range(args.seeds):
            for label in ("old", "new") if seed % 2 else ("new", "old"):
                r = call(trees[label], QUALITY, str(gset / f"{graph}.txt"), str(seed), str(args.budget))
                rows.append({"kind": "quality", "case": graph, "tree": label, "seed": seed, **r})
                print(rows[-1], flush=True)
    for spec in filter(None, args.speed.split(",")):
        name, solver, steps, replicas = spec.split(":")
        target = name if name.startswith("SK") else str(gset / f"{name}.txt")
        for rep in range(args.repeats):
            for label in ("old", "new") if rep % 2 else ("new", "old"):
                r = call(trees[label], SPEED, target, solver, steps, replicas)
                rows.append({"kind": "speed", "case": f"{name} {solver}", "tree": label, "seed": rep, **r})
                print(rows[-1], flush=True)
    write(rows, Path(args.out), committed_medians(), args)


def write(rows: list[dict], out: Path, committed: dict[str, float], args: argparse.Namespace) -> None:
    out.mkdir(parents=True, exist_ok=True)
    keys = sorted({k for r in rows for k in r})
    with open(out / "regression.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=keys)
        w.writeheader()
        w.writerows(rows)
    base, head = git_head(args.base), git_head(ROOT)
    lines = [f"# Regression: {head} (new) against {base} (old), one run, calls alternating", "",
             f"Quality: `auto` at {args.budget:g} s, {args.seeds} seeds; median cut per tree and the committed "
             "10 s table (bench/results/final).", "",
             "| graph | old median | new median | committed median | old cuts | new cuts |", "|---|---|---|---|---|---|"]
    for graph in dict.fromkeys(r["case"] for r in rows if r["kind"] == "quality"):
        cuts = {t: [r["cut"] for r in rows if r["case"] == graph and r["tree"] == t] for t in ("old", "new")}
        lines.append(f"| {graph} | {statistics.median(cuts['old']):g} | {statistics.median(cuts['new']):g} | "
                     f"{committed.get(graph, float('nan')):g} | {', '.join(f'{c:g}' for c in cuts['old'])} | "
                     f"{', '.join(f'{c:g}' for c in cuts['new'])} |")
    lines += ["", "Speed: spin updates per second after a warm-up call (median of the repeats), new / old.", "",
              "| case | old (M/s) | new (M/s) | new / old |", "|---|---|---|---|"]
    for case in dict.fromkeys(r["case"] for r in rows if r["kind"] == "speed"):
        rate = {t: statistics.median([r["updates_per_s"] for r in rows if r["case"] == case and r["tree"] == t])
                for t in ("old", "new")}
        lines.append(f"| {case} | {rate['old'] / 1e6:.2f} | {rate['new'] / 1e6:.2f} | {rate['new'] / rate['old']:.3f} |")
    (out / "regression.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
