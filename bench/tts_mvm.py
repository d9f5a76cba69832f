"""Time to solution counted in matrix-vector products (MVM) on Gset graphs, for the CIM-family dynamics.

For each (graph, solver, run length) the script runs many independent trajectories with no 1-flip polish,
counts the fraction P_s that reach the best-known cut (each replica's best readout), and reports

    TTS99 = T_run ln(0.01) / ln(1 - P_s)     (T_run = MVM of one trajectory; T_run if P_s >= 0.99)

with a bootstrap 90 % interval over trajectories, beside the published MVM counts of Reifenstein et al.
2021, Table B1 (physics.md 8.9). Each step of cac, cfc, sfc, asb, simcim and dSB costs one MVM per
trajectory (readout products are not counted, as in the paper).

    python bench/tts_mvm.py --graphs G1 --solvers cfc:1000,cfc:4000,sfc,cac:4000,sb-dsb:2000 --runs 200

``--data DIR`` (or CIMSIM_DATA) locates the Gset files (default ../shared/data next to the repository).
Writes ``tts_mvm.csv`` and ``tts_mvm.md`` under ``--out`` (default bench/results).
"""
from __future__ import annotations

import argparse
import csv
import math
import sys
import time
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.calls import code_version  # noqa: E402
from bench.data import add_data_option  # noqa: E402
from bench.instances import load_instance  # noqa: E402
from cimsim.solvers import solve  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
#: Reifenstein et al. 2021, Table B1: TTS in MVM
PUBLISHED = {("G1", "cac"): 90805, ("G1", "cfc"): 60078, ("G1", "sb-dsb"): 339332,
             ("G22", "cac"): 2516544, ("G22", "cfc"): 2718081, ("G22", "sb-dsb"): 8401394}


def tts(t_run: float, successes: np.ndarray) -> float:
    p = float(np.mean(successes))
    if p >= 0.99:
        return t_run
    if p == 0:
        return math.inf
    return t_run * math.log(0.01) / math.log(1.0 - p)


def run_cell(model, solver: str, steps: int | None, runs: int, seed: int, target: float, batch: int) -> dict:
    name, _, variant = solver.partition("-")
    params = {"variant": variant} if variant else {}
    hits, t0, used_steps = [], time.perf_counter(), None
    rng = np.random.default_rng(seed)
    while len(hits) < runs:
        R = min(batch, runs - len(hits))
        res = solve(model, name, replicas=R, steps=steps, rng=rng, polish_result=False, **params)
        used_steps = res.steps
        hits.extend(bool(e <= target + 1e-9) for e in res.energies)
    succ = np.array(hits)
    boot = np.random.default_rng(0)
    samples = [tts(used_steps, boot.choice(succ, succ.size)) for _ in range(500)]
    lo, hi = np.percentile(samples, [5, 95])
    return {"steps": used_steps, "runs": runs, "p_s": float(succ.mean()), "tts_mvm": tts(used_steps, succ),
            "tts_lo": float(lo), "tts_hi": float(hi), "wall_s": time.perf_counter() - t0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--graphs", default="G1")
    ap.add_argument("--solvers", default="cfc:1000,cfc:4000,sfc,cac:4000,sb-dsb:2000",
                    help="comma list of SOLVER[:STEPS] (sb-dsb, sb-bsb for the SB variants)")
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seed", type=int, default=1)
    add_data_option(ap)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = ap.parse_args()
    rows = []
    for graph in args.graphs.split(","):
        inst = load_instance(graph, args.data)
        if inst.model is None or inst.energy_target is None:
            raise SystemExit(f"tts_mvm: {graph}: {inst.status or 'no best-known energy target'}")
        for spec in args.solvers.split(","):
            solver, _, steps = spec.partition(":")
            cell = run_cell(inst.model, solver, int(steps) if steps else None, args.runs, args.seed,
                            inst.energy_target, args.batch)
            row = {"graph": graph, "solver": solver, "best_known": inst.best_known, **cell,
                   "published_tts_mvm": PUBLISHED.get((graph, solver))}
            rows.append(row)
            print({k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}, flush=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "tts_mvm.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    lines = [f"# TTS99 in matrix-vector products (commit {code_version()}, {args.runs} trajectories per row, no polish)",
             "", "| graph | solver | steps | P_s | TTS99 (MVM) | 90 % interval | published | ratio |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        pub = r["published_tts_mvm"]
        ratio = f"{r['tts_mvm'] / pub:.2f}" if pub and math.isfinite(r["tts_mvm"]) else "-"
        lines.append(f"| {r['graph']} | {r['solver']} | {r['steps']} | {r['p_s']:.3f} | {r['tts_mvm']:.3g} | "
                     f"{r['tts_lo']:.3g}-{r['tts_hi']:.3g} | {pub or '-'} | {ratio} |")
    (out / "tts_mvm.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
