"""SA default settings on Gaussian SK N = 2000: best energy per spin of one default batch per instance.

Usage: python bench/sa_sk.py 1,2,3   (instance seeds).  Prints wall and process-CPU seconds.
"""
from __future__ import annotations

import sys
import time

import numpy as np

from cimsim.instances import sk_model
from cimsim.solvers import solve

seeds = [int(s) for s in sys.argv[1].split(",")]
steps = int(sys.argv[2]) if len(sys.argv) > 2 else None
solve(sk_model(50, 0), "sa", replicas=2, steps=3, seed=0)
es = []
for s in seeds:
    m = sk_model(2000, s)
    w, c = time.perf_counter(), time.process_time()
    r = solve(m, "sa", seed=s, steps=steps)
    es.append(r.energy / m.n)
    print(f"SK2000 seed={s} e={es[-1]:.5f} R={r.replicas} sweeps={r.steps} wall={time.perf_counter() - w:.1f}s "
          f"cpu={time.process_time() - c:.1f}s", flush=True)
print(f"mean e = {np.mean(es):.5f} over {len(es)} instances")
