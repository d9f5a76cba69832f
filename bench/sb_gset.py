"""dSB done-means check: best-known cut of Gset graphs in independent runs of a fixed time limit.

Usage: python bench/sb_gset.py G1 11624 10 20   (graph, target cut, runs, seconds per run)
"""
from __future__ import annotations

import sys
import time

from cimsim.encoders.maxcut import from_file
from cimsim.solvers import solve


def main() -> None:
    name, target, runs, limit = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    enc = from_file(f"/work/shared/data/gset/{name}.txt")
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


if __name__ == "__main__":
    main()
