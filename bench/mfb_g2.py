"""mfb success probability against the saturation parameter g^2 on the 20 SK (+-1) instances at N = 100
(issue 17; the trend of Reifenstein et al. 2021, arXiv 2108.07369, Fig. 7: flat for g^2 <~ 1e-4, falling
for g^2 > 1e-3).

In mfb's c-units the saturated amplitude c^2 -> p - 1 does not depend on g, while every quantum noise
(vacuum v0 = g^2/4 of the loss, the tap and the detector, the pump's back-conversion noise g^2 (c^2 + s^2))
scales with g^2: g^2 is the quantum noise relative to the signal, 1/g^2 the photon number at p = 2
(physics.md 8.1, 8.5). All other parameters at mfb's defaults (eps 0.2, 2000 round trips, loss 1 dB,
tap 0.1, r_inj 0.02, eta 1, unquantised). Success as in bench/mfb_bits.py: unpolished (the best state a
run measured, no 1-flip polish) and, beside it, after 1-flip polish; Clopper-Pearson 95 % intervals; a CMH
test of each g^2 against the smallest.

    python bench/mfb_g2.py --replicas 24

Writes ``mfb_g2.csv``, ``mfb_g2.md`` and ``mfb_g2.png`` under --out (default bench/results).
"""
from __future__ import annotations

import argparse
import csv
import os
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.calls import code_version  # noqa: E402
from bench.mfb_bits import plot, summarise  # noqa: E402
from bench.sk100 import cmh_test, ground_energies, success_counts  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
GRID = "1e-6,1e-5,1e-4,3e-4,1e-3,3e-3,1e-2,3e-2,1e-1"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--g2", default=GRID)
    ap.add_argument("--replicas", type=int, default=24)
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = ap.parse_args()
    ground = ground_energies()
    R, n = args.replicas, len(ground)
    rows, first = [], None
    for k, g2 in enumerate(float(v) for v in args.g2.split(",")):
        counts = success_counts("mfb", {"g2": g2}, replicas=R, steps=args.steps, seed=args.seed * 100 + k,
                                ground=ground)
        first = first or counts
        row = summarise(f"g2={g2:g}", g2, counts, R)
        row["cmh_p_pol"] = cmh_test(counts["hits_polished"], first["hits_polished"], R)[1]
        row["cmh_p"] = cmh_test(counts["hits"], first["hits"], R)[1]
        row["load1"] = round(os.getloadavg()[0], 2)
        rows.append(row)
        print({kk: (round(v, 4) if isinstance(v, float) else v) for kk, v in row.items()}, flush=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "mfb_g2.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    lines = [f"# mfb ground-state probability against g^2, {n} SK (+-1) instances at N = 100 "
             f"(commit {code_version()})", "",
             f"{R} runs per instance and g^2 ({R * n} per point), {rows[0]['round_trips']} round trips, mfb defaults "
             "otherwise. Unpolished = best measured state; polished = after 1-flip descent. Clopper-Pearson "
             f"95 % intervals; p (CMH) tests equal success with g^2 = {rows[0]['x']:g}, stratified by instance.",
             "", "| g^2 | P unpolished | 95 % CI | P polished | 95 % CI | instances solved (pol.) | mean E - E0 | "
             "p (CMH, pol.) | p (CMH, unpol.) |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['x']:g} | {r['succ']:.4f} | {r['succ_lo']:.4f}-{r['succ_hi']:.4f} | {r['succ_pol']:.4f} | "
                     f"{r['pol_lo']:.4f}-{r['pol_hi']:.4f} | {r['instances_solved_pol']}/{n} | "
                     f"{r['mean_residual']:.3f} | {r['cmh_p_pol']:.3g} | {r['cmh_p']:.3g} |")
    (out / "mfb_g2.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    plot(rows, out / "mfb_g2.png", "saturation parameter g^2", f"mfb on {n} SK instances, N = 100, {R} runs "
         "each (R21 Fig. 7: flat for g^2 <~ 1e-4, falling for g^2 > 1e-3)", logx=True)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
