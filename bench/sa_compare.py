"""cimsim "sa" against dwave-neal and OpenJij on the same instances, in the same process, sequentially.

Energies are per spin in the project convention. Times: wall and process CPU seconds (the machine is
shared, so compare ratios within one run). neal/openjij get the same model with the sign flip of the
dimod convention (E = h.s + sum_{i<j} J_ij s_i s_j). No polish for cimsim (the peers have none).

Usage: python bench/sa_compare.py [sk|g1] [sweeps,...] [--data DIR]
"""
from __future__ import annotations

import argparse
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


def to_bqm(model):
    import dimod

    J = model.dense_couplings()
    return dimod.BinaryQuadraticModel(-model.h, -np.triu(J, 1), model.offset, dimod.SPIN)


def timed(fn):
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w, time.process_time() - c


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("which", nargs="?", choices=["sk", "g1"], default="sk")
    ap.add_argument("sweeps", nargs="?", default="1000,4000", help="comma-separated sweep counts")
    add_data_option(ap)
    args = ap.parse_args(argv)
    try:
        import neal
        import openjij as oj
    except ImportError as exc:
        print(f"sa_compare: needs the peers dwave-neal and openjij (pip install -r bench/requirements-peers.txt): {exc}", file=sys.stderr)
        return 2
    which = args.which
    sweeps = [int(x) for x in args.sweeps.split(",")]
    if which == "sk":
        cases = [(f"SK2000-s{s}", sk_model(2000, s), None) for s in (1, 2)]
    else:
        try:
            enc = from_file(data_file("gset", "G1.txt", root=args.data))
        except CimsimError as exc:
            print(f"sa_compare: {exc}", file=sys.stderr)
            return 2
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
