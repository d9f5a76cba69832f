"""Measurement run behind docs/landscape.md (modest: the machine is shared).

    python bench/landscape/measure.py OUT.pkl N [N ...] [--minima]

Adiabatic paths (Delta a = 0.05) for 8 SK instances per N, plus (with --minima) 8 random-start minima
at each a of A_GRID. Writes the raw task outputs and the transition estimates as a pickle.
"""
from __future__ import annotations

import pickle
import sys
import time

import numpy as np

from cimsim.landscape.phase import run_phase_diagram

A_GRID = np.array([-1.5, -1.2, -0.9, -0.7, -0.6, -0.45, -0.3, -0.15, 0.0])

if __name__ == "__main__":
    out = sys.argv[1]
    ns = [int(v) for v in sys.argv[2:] if not v.startswith("--")]
    t0 = time.time()
    pd = run_phase_diagram(ns, A_GRID, instances=8, starts=8, seed=2026, minima="--minima" in sys.argv, progress=True)
    with open(out, "wb") as fh:
        pickle.dump({"raw": pd.raw, "transitions": pd.transitions, "failed": pd.failed, "ns": ns,
                     "a_grid": A_GRID, "seconds": time.time() - t0}, fh)
    print(pd.transitions, time.time() - t0)
