"""Time to solution counted in matrix-vector products (MVM) on Gset graphs, for the CIM-family dynamics.

For each (graph, solver, run length) the script runs many independent trajectories with no 1-flip polish,
counts the fraction P_s that reach the best-known cut (each replica's best readout), and reports

    TTS99 = T_run ln(0.01) / ln(1 - P_s)     (T_run = MVM of one trajectory; T_run if P_s >= 0.99)

with a bootstrap 90 % interval over trajectories, beside the published MVM counts of Reifenstein et al.
2021, Table B1 (physics.md 8.9). Each step of cac, cfc, sfc, asb, simcim and dSB costs one MVM per
trajectory (readout products are not counted, as in the paper).

    python bench/tts_mvm.py --graphs G1 --solvers cfc:1000,cfc:4000,sfc,cac:4000,sb-dsb:2000 --runs 200
    python bench/tts_mvm.py --graphs G22 --solvers cac/preset=gset:8000 --runs 400 --max-seconds 1800 --append

``--data DIR`` (or CIMSIM_DATA) locates the Gset files (default ../shared/data next to the repository).
Writes ``tts_mvm.csv`` and ``tts_mvm.md`` under ``--out`` (default bench/results); ``--append`` keeps the
rows already there (other graphs and solvers, run at other commits) and the notes under the md table.
"""
from __future__ import annotations

import argparse
import csv
import math
import os
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


def solver_params(solver: str) -> tuple[str, dict]:
    """``SOLVER[-VARIANT][/KEY=VALUE...]`` -> (solver name, parameters), e.g. ``sb-dsb`` -> ("sb",
    {"variant": "dsb"}), ``cac/preset=gset`` -> ("cac", {"preset": "gset"}); values stay strings (the solvers
    parse them as the command line's -p values)."""
    head, *pairs = solver.split("/")
    name, _, variant = head.partition("-")
    params: dict = {"variant": variant} if variant else {}
    for kv in pairs:
        key, sep, value = kv.partition("=")
        if not sep:
            raise SystemExit(f"tts_mvm: {solver}: expected KEY=VALUE after '/', got {kv!r}")
        params[key] = value
    return name, params


def run_cell(model, solver: str, steps: int | None, runs: int, seed: int, target: float, batch: int,
             max_seconds: float | None = None) -> dict:
    """``runs`` trajectories (fewer when ``max_seconds`` runs out: batches stop once it is spent, and the row
    reports the trajectories done)."""
    name, params = solver_params(solver)
    hits, t0, used_steps = [], time.perf_counter(), None
    rng = np.random.default_rng(seed)
    while len(hits) < runs:
        if hits and max_seconds is not None and time.perf_counter() - t0 >= max_seconds:
            break
        R = min(batch, runs - len(hits))
        res = solve(model, name, replicas=R, steps=steps, rng=rng, polish_result=False, **params)
        used_steps = res.steps
        hits.extend(bool(e <= target + 1e-9) for e in res.energies)
    succ = np.array(hits)
    boot = np.random.default_rng(0)
    samples = [tts(used_steps, boot.choice(succ, succ.size)) for _ in range(500)]
    # no interpolation: a resample without success has TTS = inf, and inf - inf would make the bound nan
    lo, hi = np.percentile(samples, 5, method="lower"), np.percentile(samples, 95, method="higher")
    return {"steps": used_steps, "runs": int(succ.size), "p_s": float(succ.mean()), "tts_mvm": tts(used_steps, succ),
            "tts_lo": float(lo), "tts_hi": float(hi), "wall_s": time.perf_counter() - t0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--graphs", default="G1")
    ap.add_argument("--solvers", default="cfc:1000,cfc:4000,sfc,cac:4000,sb-dsb:2000",
                    help="comma list of SOLVER[:STEPS] (sb-dsb, sb-bsb for the SB variants; SOLVER/KEY=VALUE/... "
                         "passes parameters, e.g. cac/preset=gset:2400)")
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-seconds", type=float, default=None,
                    help="per row: stop adding batches after this long (the row reports the trajectories done)")
    add_data_option(ap)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    ap.add_argument("--append", action="store_true",
                    help="keep the rows already in tts_mvm.csv (same graph, solver and steps are replaced)")
    args = ap.parse_args()
    rows = []
    for graph in args.graphs.split(","):
        inst = load_instance(graph, args.data)
        if inst.model is None or inst.energy_target is None:
            raise SystemExit(f"tts_mvm: {graph}: {inst.status or 'no best-known energy target'}")
        for spec in args.solvers.split(","):
            solver, _, steps = spec.partition(":")
            cell = run_cell(inst.model, solver, int(steps) if steps else None, args.runs, args.seed,
                            inst.energy_target, args.batch, args.max_seconds)
            row = {"graph": graph, "solver": solver, "best_known": inst.best_known, **cell,
                   "published_tts_mvm": PUBLISHED.get((graph, solver.split("/")[0]))}
            rows.append(row)
            print({k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}, flush=True)
    write(rows, Path(args.out), append=args.append)


FIELDS = ["graph", "solver", "best_known", "steps", "runs", "p_s", "tts_mvm", "tts_lo", "tts_hi", "wall_s",
          "published_tts_mvm", "commit", "load1"]


def write(rows: list[dict], out: Path, *, append: bool) -> None:
    """Write ``tts_mvm.csv`` and the table of ``tts_mvm.md``. With ``append`` the rows already in the csv are
    kept (a new row replaces an old one of the same graph, solver and steps) and the text under the table
    in the md (notes written by hand) is kept too; every row carries the commit it ran at."""
    out.mkdir(parents=True, exist_ok=True)
    csv_path, md_path = out / "tts_mvm.csv", out / "tts_mvm.md"
    commit = code_version()
    load1 = round(os.getloadavg()[0], 2)
    new = [{**r, "commit": r.get("commit") or commit, "load1": r.get("load1") or load1} for r in rows]
    old: list[dict] = []
    notes = ""
    if append and csv_path.is_file():
        with open(csv_path, encoding="utf-8") as fh:
            old = list(csv.DictReader(fh))
        keys = {(r["graph"], r["solver"], str(r["steps"])) for r in new}
        old = [r for r in old if (r["graph"], r["solver"], str(r["steps"])) not in keys]
    if append and md_path.is_file():
        text = md_path.read_text(encoding="utf-8").splitlines()
        last = max((i for i, line in enumerate(text) if line.startswith("|")), default=len(text) - 1)
        notes = "\n".join(text[last + 1:]).strip("\n")
    all_rows = old + new
    with open(csv_path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=FIELDS, extrasaction="ignore", restval="")
        w.writeheader()
        w.writerows(all_rows)
    lines = ["# TTS99 in matrix-vector products (no polish; each row with the commit it ran at)", "",
             "| graph | solver | steps | runs | P_s | TTS99 (MVM) | 90 % interval | published | ratio | commit |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in all_rows:
        pub = float(r["published_tts_mvm"]) if r.get("published_tts_mvm") not in (None, "") else None
        t = float(r["tts_mvm"])
        ratio = f"{t / pub:.2f}" if pub and math.isfinite(t) else "-"
        interval = f"{float(r['tts_lo']):.3g}-{float(r['tts_hi']):.3g}" if math.isfinite(t) else "-"
        lines.append(f"| {r['graph']} | {r['solver']} | {r['steps']} | {r['runs']} | {float(r['p_s']):.4f} | "
                     f"{t:.3g} | {interval} | {f'{pub:.0f}' if pub else '-'} | {ratio} | {r.get('commit') or '-'} |")
    md_path.write_text("\n".join(lines) + "\n" + (f"\n{notes}\n" if notes else ""), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
