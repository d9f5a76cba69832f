"""Scale check: every solver on G81 (20,000 spins, CSR) and dense SK N = 8,000, in fresh processes.

    python bench/scale.py [--budget 5] [--solvers sa,cim,sb,cac,ahc,spectral,adiabatic] [--out bench/results/scale.md]
                          [--data DIR]

Each (instance, solver) runs in its own subprocess with a wall-clock budget, so the peak resident memory
(``ru_maxrss``) is that call's own. Reported per call: wall time, objective (cut or e/N), peak RSS, the
memory the couplings alone need (CSR bytes, or N^2 x 8 B dense) and the model's storage (a dense G81 would
need 3.2 GB for J alone, so a peak RSS far below that shows it was never densified).
Compare the peak with the machine's memory (``/proc/meminfo``) to see that nothing swaps.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.data import add_data_option, data_root  # noqa: E402

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, {root!r})
import numpy as np
from cimsim import solve
name, solver, budget, data = {name!r}, {solver!r}, {budget!r}, {data!r}
if name.startswith("SK"):
    from cimsim.instances import sk_model
    model = sk_model(int(name[2:]), 1)
    objective = lambda s: float(model.energy(s)) / model.n
    coupling_bytes = model.n * model.n * 8
else:
    from bench.instances import load_instance
    inst = load_instance(name, data)
    if inst.model is None:
        sys.exit(inst.status)
    model, objective = inst.model, inst.objective
    coupling_bytes = model.J.data.nbytes + model.J.indices.nbytes + model.J.indptr.nbytes
t = time.perf_counter()
r = solve(model, solver, seed=0, time_limit=budget)
dt = time.perf_counter() - t
print(json.dumps(dict(wall_s=dt, objective=objective(r.spins), batches=r.batches, replicas=r.replicas,
                      sparse=bool(model.is_sparse), n=model.n, coupling_mb=coupling_bytes / 2**20,
                      peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)))
"""


def mem_total_mb() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--budget", type=float, default=5.0, help="seconds per call (default 5)")
    ap.add_argument("--instances", default="G81,SK8000")
    ap.add_argument("--solvers", default="sa,cim,sb,cac,ahc,spectral,adiabatic")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "scale.md"))
    add_data_option(ap)
    a = ap.parse_args(argv)
    data = str(data_root(a.data))
    rows = []
    for name in a.instances.split(","):
        for solver in a.solvers.split(","):
            code = CHILD.format(root=str(ROOT), name=name, solver=solver, budget=a.budget, data=data)
            t = time.perf_counter()
            p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
            if p.returncode != 0:
                err = (p.stderr.strip().splitlines() or ["?"])[-1]
                rows.append(f"| {name} | {solver} | failed: {err[:120]} | | | | | |")
            else:
                d = json.loads(p.stdout.strip().splitlines()[-1])
                rows.append(f"| {name} | {solver} | {d['wall_s']:.1f} | {d['objective']:.6g} | {d['batches']} x {d['replicas']} "
                            f"| {'CSR' if d['sparse'] else 'dense'} | {d['coupling_mb']:.1f} | {d['peak_rss_mb']:.0f} |")
            print(rows[-1], f"({time.perf_counter() - t:.0f} s with start-up)", flush=True)
    text = (f"# Scale check ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, budget {a.budget:g} s per call, "
            f"machine memory {mem_total_mb():.0f} MB)\n\n`python bench/scale.py`: each call in a fresh process; peak RSS "
            "is that process's own (interpreter, numba and the instance included).\n\n"
            "| instance | solver | wall s | objective | batches x replicas | J storage | J MB | peak RSS MB |\n"
            "|---|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n")
    Path(a.out).write_text(text, encoding="utf-8")
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
