"""Gset / SK measurements for the ahc and cac solvers (numbers go to bench/ahc_cac_notes.md).

    python bench/ahc_cac_bench.py gset G1 11624 --solver cac --runs 10 --time-limit 48
    python bench/ahc_cac_bench.py sk 1000 --solver ahc --runs 3 --time-limit 30

Each run is ``cimsim.solve(model, solver, time_limit=..., seed=k)`` with the solver's defaults and
polish on. Prints one line per run (cut or energy per spin, wall time, time to best) and a summary.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.data import add_data_option, data_file  # noqa: E402
from cimsim import CimsimError  # noqa: E402
from cimsim.encoders.maxcut import from_file  # noqa: E402
from cimsim.instances import sk_model  # noqa: E402
from cimsim.solvers import solve  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("kind", choices=["gset", "sk"])
    ap.add_argument("name")
    ap.add_argument("best", nargs="?", type=float, default=None)
    ap.add_argument("--solver", default="cac")
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--time-limit", type=float, default=48.0)
    ap.add_argument("--seed0", type=int, default=0)
    ap.add_argument("--params", default="{}", help="JSON dict of solver parameters")
    add_data_option(ap)
    args = ap.parse_args()
    params = json.loads(args.params)
    if args.kind == "gset":
        try:
            enc = from_file(data_file("gset", f"{args.name}.txt", root=args.data))
        except CimsimError as exc:
            print(f"ahc_cac_bench: {exc}", file=sys.stderr)
            return 2
        model, W = enc.model, enc.info["total_weight"]
        score = lambda e: (W - e) / 2.0  # noqa: E731  cut value
    else:
        model = sk_model(int(args.name), seed=12345)
        score = lambda e: e / model.n  # noqa: E731  energy per spin
    solve(model, args.solver, replicas=1, steps=10, seed=0, **params)  # compile outside the timing
    rows = []
    for k in range(args.seed0, args.seed0 + args.runs):
        t0 = time.perf_counter()
        r = solve(model, args.solver, time_limit=args.time_limit, seed=k, **params)
        wall = time.perf_counter() - t0
        v = score(r.energy)
        hit = args.best is not None and v >= args.best - 1e-9
        rows.append((v, wall, r.extra["time_to_best_s"], r.batches * r.replicas, hit))
        print(f"{args.solver} {args.name} seed={k} value={v:.6g} wall={wall:.1f}s time_to_best={r.extra['time_to_best_s']:.1f}s "
              f"replica_runs={r.batches * r.replicas} hit={hit}", flush=True)
    vals = np.array([r[0] for r in rows])
    hits = [r for r in rows if r[4]]
    print(f"SUMMARY {args.solver} {args.name}: best={vals.max() if args.kind == 'gset' else vals.min():.6g} "
          f"mean={vals.mean():.6g} hits={len(hits)}/{len(rows)} "
          f"median_wall={np.median([r[1] for r in rows]):.1f}s "
          f"time_to_best_of_hits={[round(r[2], 1) for r in hits]}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
