"""Index vs energy of critical points (Bray-Dean picture) on small SK instances.

    python bench/landscape/bray_dean.py OUT_DIR

N = 100, 4 instances, a in {-1.0, -0.5, 0.0}: minima from 16 random starts plus eigenvector-following
walks targeting k = 1..6 (6 walks each); every converged end point is kept with its recomputed index.
"""
from __future__ import annotations

import json
import os
import sys

import numpy as np

from cimsim.landscape.critical import CriticalPoints, deduplicate, find_minima, find_saddles
from cimsim.landscape.phase import instance_couplings
from cimsim.plotting.landscape import plt
from cimsim.result import to_jsonable

if __name__ == "__main__":
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    n, rows = 100, []
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for a, c in zip((-1.0, -0.5, 0.0), ("tab:blue", "tab:orange", "tab:green")):
        eps, idx = [], []
        tried = ok = 0
        for inst in range(4):
            J = instance_couplings(n, inst, 7)
            rng = np.random.default_rng([inst, 11])
            mins = find_minima(J, a, 16, rng)
            parts = [mins]
            for k in range(1, 7):
                s = find_saddles(J, a, k, 6, rng, from_minima=mins, any_index=True)
                tried += s.starts
                ok += s.starts - s.failed
                parts.append(s)
            allp = deduplicate(CriticalPoints.concat(parts))
            eps += list(allp.energy / n)
            idx += list(allp.index / n)
        rows.append({"a": a, "eps": eps, "index_frac": idx, "walks": tried, "converged_walks": ok})
        ax.scatter(eps, idx, s=14, color=c, label=f"a = {a:+.1f} ({len(eps)} points)")
        if len(eps) > 2:
            p = np.polyfit(eps, idx, 1)
            xs = np.linspace(min(eps), max(eps), 10)
            ax.plot(xs, np.polyval(p, xs), color=c, lw=1, ls="--")
            rows[-1]["slope"] = float(p[0])
            rows[-1]["corr"] = float(np.corrcoef(eps, idx)[0, 1])
    ax.set_xlabel("energy per spin ε = E_a/N")
    ax.set_ylabel("index / N")
    ax.set_title("Index vs energy of critical points, SK N=100 (4 instances)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "bray_dean.png"), dpi=110)
    with open(os.path.join(out, "bray_dean.json"), "w") as fh:
        json.dump(to_jsonable(rows), fh, indent=1)
    for r in rows:
        print(r["a"], len(r["eps"]), r["walks"], r["converged_walks"], r.get("slope"), r.get("corr"))
