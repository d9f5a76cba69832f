"""dSB done-means check: best-known cut of Gset graphs in independent runs of a fixed time limit.

Usage: python bench/sb_gset.py G1 11624 10 20 [--data DIR]   (graph, target cut, runs, seconds per run)
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.data import add_data_option, data_file  # noqa: E402
from cimsim import CimsimError  # noqa: E402
from cimsim.encoders.maxcut import from_file  # noqa: E402
from cimsim.solvers import solve  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("graph")
    ap.add_argument("target", type=float, help="target cut")
    ap.add_argument("runs", type=int)
    ap.add_argument("seconds", type=float, help="seconds per run")
    add_data_option(ap)
    args = ap.parse_args(argv)
    name, target, runs, limit = args.graph, args.target, args.runs, args.seconds
    try:
        enc = from_file(data_file("gset", f"{name}.txt", root=args.data))
    except CimsimError as exc:
        print(f"sb_gset: {exc}", file=sys.stderr)
        return 2
    solve(enc.model, "sb", replicas=2, steps=5, seed=0)  # compile outside the timed runs
    hits = 0
    for seed in range(runs):
        c0 = time.process_time()
        r = solve(enc.model, "sb", seed=seed, time_limit=limit)
        cut = enc.decode(r.spins).objective
        hits += cut >= target
        print(f"{name} seed={seed} cut={cut:.0f} hit={cut >= target} time_to_best={r.extra['time_to_best_s']:.1f}s "
              f"wall={r.time_s:.1f}s cpu={time.process_time() - c0:.1f}s batches={r.batches} "
              f"R={r.replicas} steps={r.steps} dt={r.settings['dt']:.3f}", flush=True)
    print(f"{name}: {hits}/{runs} runs reached {target:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
