"""TSP tour lengths of cimsim's solvers against a plain 2-opt baseline, same wall-clock budget.

The Ising encoding of the TSP (cimsim/encoders/tsp.py) has (n - 1)^2 spins and one-hot penalties; this
benchmark says how far its answers are from what a textbook heuristic gets in the same time: 2-opt
descent from random tours, restarted until the budget is used (best tour kept). Instances are the TSPLIB
files shipped in problems/ (optimal lengths from TSPLIB, in their COMMENT lines) and problems/tsp8.tsp.

    python bench/tsp.py [--time-limit 5] [--seeds 3] [--solvers auto,tabu,sa,cim,cac,sb] [--out bench/results]

Writes ``tsp.csv`` (one row per call) and ``tsp.md`` (medians over seeds, ratio to the optimum,
fraction of feasible answers) under ``--out``.
"""
from __future__ import annotations

import argparse
import csv
import statistics
import sys
import time
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cimsim  # noqa: E402
from bench.calls import code_version  # noqa: E402
from cimsim.encoders.tsp import read_tsp, tour_length  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
INSTANCES = {
    "tsp8": (ROOT / "problems" / "tsp8.tsp", 256.0),
    "burma14": (ROOT / "problems" / "tsplib" / "burma14.tsp", 3323.0),
    "ulysses16": (ROOT / "problems" / "tsplib" / "ulysses16.tsp", 6859.0),
    "eil51": (ROOT / "problems" / "tsplib" / "eil51.tsp", 426.0),
}


def two_opt(W: np.ndarray, tour: list[int]) -> list[int]:
    """2-opt descent: reverse a segment while that shortens the closed tour (first improvement)."""
    t = list(tour)
    n = len(t)
    improved = True
    while improved:
        improved = False
        for i in range(n - 1):
            for j in range(i + 2, n if i else n - 1):
                a, b, c, d = t[i], t[i + 1], t[j], t[(j + 1) % n]
                if W[a, c] + W[b, d] < W[a, b] + W[c, d] - 1e-9:
                    t[i + 1:j + 1] = t[i + 1:j + 1][::-1]
                    improved = True
    return t


def two_opt_restarts(W: np.ndarray, budget: float, seed: int) -> tuple[float, int]:
    """Best 2-opt tour length from random starts within ``budget`` seconds (at least one start)."""
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    best, starts = np.inf, 0
    while starts == 0 or time.perf_counter() - t0 < budget:
        best = min(best, tour_length(W, two_opt(W, list(rng.permutation(W.shape[0])))))
        starts += 1
    return float(best), starts


def run_solver(path: Path, solver: str, budget: float, seed: int) -> dict:
    """One cimsim call on the TSP file; length and feasibility as the decoder reports them."""
    t0 = time.perf_counter()
    res = cimsim.solve("tsp", str(path), solver, seed=seed, time_limit=budget)
    return {"solver": res.solver if solver != "auto" else f"auto ({res.solver})", "length": float(res.objective),
            "feasible": bool(res.feasible), "time_s": time.perf_counter() - t0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--time-limit", type=float, default=5.0)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--solvers", default="auto,tabu,sa,cim,cac,sb")
    ap.add_argument("--instances", default=",".join(INSTANCES))
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = ap.parse_args()
    rows: list[dict] = []
    for name in args.instances.split(","):
        path, optimum = INSTANCES[name]
        W = read_tsp(path)
        for seed in range(args.seeds):
            length, starts = two_opt_restarts(W, args.time_limit, seed)
            rows.append({"instance": name, "solver": "2-opt baseline", "seed": seed, "length": length,
                         "feasible": True, "time_s": args.time_limit, "optimum": optimum, "note": f"{starts} starts"})
            for solver in args.solvers.split(","):
                r = run_solver(path, solver, args.time_limit, seed)
                rows.append({"instance": name, "seed": seed, "optimum": optimum, "note": "", **r})
                print(name, seed, r["solver"], r["length"], r["feasible"], flush=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "tsp.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=["instance", "solver", "seed", "length", "feasible", "time_s", "optimum", "note"])
        w.writeheader()
        w.writerows(rows)
    lines = [f"# TSP: cimsim solvers against 2-opt with random restarts ({args.time_limit:g} s each, "
             f"{args.seeds} seeds, commit {code_version()})", "",
             "Median tour length over seeds among feasible answers; ratio = median / optimum; "
             "'feasible' = answers that are tours (no repair).", "",
             "| instance | optimum | solver | median length | ratio | feasible |", "|---|---|---|---|---|---|"]
    for name in args.instances.split(","):
        sub = [r for r in rows if r["instance"] == name]
        for solver in dict.fromkeys(r["solver"] for r in sub):
            rs = [r for r in sub if r["solver"] == solver]
            ok = [r["length"] for r in rs if r["feasible"]]
            med = statistics.median(ok) if ok else float("nan")
            opt = rs[0]["optimum"]
            lines.append(f"| {name} | {opt:g} | {solver} | {med:g} | {med / opt:.3f} | {len(ok)}/{len(rs)} |")
    (out / "tsp.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
