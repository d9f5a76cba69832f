"""cimsim "sa" against dwave-neal and OpenJij on the same instances, in the same process, sequentially.

Energies are per spin in the project convention. Times: wall and process CPU seconds (the machine is
shared, so compare ratios within one run). neal/openjij get the same model with the sign flip of the
dimod convention (E = h.s + sum_{i<j} J_ij s_i s_j). No polish for cimsim (the peers have none).

Usage: python bench/sa_compare.py [sk|g1] [sweeps,...]
"""
from __future__ import annotations

import sys
import time

import dimod
import neal
import numpy as np
import openjij as oj

from cimsim.encoders.maxcut import from_file
from cimsim.instances import sk_model
from cimsim.solvers import solve


def to_bqm(model) -> dimod.BinaryQuadraticModel:
    J = model.dense_couplings()
    return dimod.BinaryQuadraticModel(-model.h, -np.triu(J, 1), model.offset, dimod.SPIN)


def timed(fn):
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w, time.process_time() - c


def main() -> None:
    which = sys.argv[1] if len(sys.argv) > 1 else "sk"
    sweeps = [int(x) for x in (sys.argv[2] if len(sys.argv) > 2 else "1000,4000").split(",")]
    if which == "sk":
        cases = [(f"SK2000-s{s}", sk_model(2000, s), None) for s in (1, 2)]
    else:
        enc = from_file("/work/shared/data/gset/G1.txt")
        cases = [("G1", enc.model, enc)]
    solve(cases[0][1], "sa", replicas=2, steps=3, seed=0)  # compile outside the timings
    for name, m, enc in cases:
        n = m.n
        bqm = to_bqm(m)
        score = (lambda S: enc.decode(S).objective) if enc else (lambda S: m.energy(S) / n)
        for T in sweeps:
            r, w, c = timed(lambda: solve(m, "sa", replicas=2, steps=T, seed=1, polish_result=False))
            print(f"{name} cimsim-sa  reads=2 sweeps={T:6d} best={score(r.spins):.5f} wall={w:6.2f}s cpu={c:6.2f}s", flush=True)
            ss, w, c = timed(lambda: neal.SimulatedAnnealingSampler().sample(bqm, num_reads=2, num_sweeps=T, seed=1))
            S = np.array([ss.first.sample[i] for i in range(n)])
            print(f"{name} neal       reads=2 sweeps={T:6d} best={score(S):.5f} wall={w:6.2f}s cpu={c:6.2f}s", flush=True)
            rs, w, c = timed(lambda: oj.SASampler().sample(bqm, num_reads=2, num_sweeps=T, seed=1))
            S = np.array([rs.first.sample[i] for i in range(n)])
            print(f"{name} openjij    reads=2 sweeps={T:6d} best={score(S):.5f} wall={w:6.2f}s cpu={c:6.2f}s", flush=True)


if __name__ == "__main__":
    main()
