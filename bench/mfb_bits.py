"""mfb success probability against converter resolution on the 20 SK (+-1) instances at N = 100 (issue 17).

For each setting (unquantised, then adc_bits = j_bits = dac_bits = b) ``--replicas`` independent machine runs
of the default length (2000 round trips, the default pump ramp) per instance, with independent seeds per
setting. A run succeeds when the state it reports (the best state it measured, mfb's default) has the
ground-state energy of bench/sk100.py: **unpolished** (no 1-flip polish; the primary number) and, beside it,
after 1-flip polish of that state. Per setting: pooled success with a Clopper-Pearson 95 % interval, the
mean residual energy E - E0, and against the unquantised setting a Cochran-Mantel-Haenszel test stratified
by instance (p-value; large p = no detectable difference) on the polished counts (and unpolished where
not all zero).

    python bench/mfb_bits.py --replicas 32 --bits 16,12,8,6,4,3,2

Writes ``mfb_bits.csv``, ``mfb_bits.md`` and ``mfb_bits.png`` under --out (default bench/results).
"""
from __future__ import annotations

import argparse
import csv
import os
import sys
from pathlib import Path

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.calls import code_version  # noqa: E402
from bench.sk100 import clopper_pearson, cmh_test, ground_energies, success_counts  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def summarise(label: str, value: float, counts: dict, R: int) -> dict:
    n = R * len(counts["hits"])
    k, kp = sum(counts["hits"]), sum(counts["hits_polished"])
    lo, hi = clopper_pearson(k, n)
    plo, phi = clopper_pearson(kp, n)
    return {"setting": label, "x": value, "runs": n, "round_trips": counts["round_trips"],
            "succ": k / n, "succ_lo": lo, "succ_hi": hi, "succ_pol": kp / n, "pol_lo": plo, "pol_hi": phi,
            "instances_solved_pol": sum(h > 0 for h in counts["hits_polished"]),
            "mean_residual": float(np.mean(counts["mean_residual"])),
            "hits": " ".join(map(str, counts["hits"])), "hits_polished": " ".join(map(str, counts["hits_polished"]))}


def plot(rows: list[dict], path: Path, xlabel: str, title: str, logx: bool = False, ref: dict | None = None) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 2, figsize=(10, 4))
    xs = np.array([r["x"] for r in rows], dtype=float)
    for key, lo, hi, lab in (("succ_pol", "pol_lo", "pol_hi", "after 1-flip polish"),
                             ("succ", "succ_lo", "succ_hi", "unpolished")):
        y = np.array([r[key] for r in rows])
        err = np.array([[r[key] - r[lo] for r in rows], [r[hi] - r[key] for r in rows]])
        ax[0].errorbar(xs, y, yerr=err, marker="o", capsize=3, label=lab)
    if ref is not None:
        for key, ls in (("succ_pol", "--"), ("succ", ":")):
            ax[0].axhline(ref[key], ls=ls, color="grey")
        ax[0].axhspan(ref["pol_lo"], ref["pol_hi"], color="grey", alpha=0.15, label="unquantised (95 % CI)")
    ax[1].plot(xs, [r["mean_residual"] for r in rows], marker="o")
    for a in ax:
        a.set_xlabel(xlabel)
        if logx:
            a.set_xscale("log")
    ax[0].set_ylabel("ground-state probability per run")
    ax[0].legend(fontsize=8)
    ax[1].set_ylabel("mean residual energy E - E0 (unpolished)")
    ax[1].set_yscale("log")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bits", default="16,12,8,6,4,3,2")
    ap.add_argument("--replicas", type=int, default=32)
    ap.add_argument("--steps", type=int, default=None, help="round trips per run (default: mfb's)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    ap.add_argument("--split", type=int, default=None, metavar="B",
                    help="diagnostic instead: quantise one converter at a time (ADC, J, DAC) to B bits "
                    "(writes mfb_bits_split.*)")
    args = ap.parse_args()
    ground = ground_energies()
    R = args.replicas
    if args.split:
        b = args.split
        settings = [("unquantised", None)] + [(f"{key} {b} bits", (key, b)) for key in ("adc_bits", "j_bits", "dac_bits")]
    else:
        settings = [("unquantised", None)] + [(f"{b} bits", int(b)) for b in args.bits.split(",")]
    rows, raw = [], {}
    for k, (label, b) in enumerate(settings):
        if isinstance(b, tuple):
            params = {b[0]: b[1]}
        else:
            params = {} if b is None else {"adc_bits": b, "j_bits": b, "dac_bits": b}
        counts = success_counts("mfb", params, replicas=R, steps=args.steps, seed=args.seed * 100 + k,
                                ground=ground)
        raw[label] = counts
        row = summarise(label, float(b) if isinstance(b, int) else float("nan"), counts, R)
        ref = raw["unquantised"]
        row["cmh_p_pol"] = cmh_test(counts["hits_polished"], ref["hits_polished"], R)[1]
        row["cmh_p"] = cmh_test(counts["hits"], ref["hits"], R)[1]
        row["load1"] = round(os.getloadavg()[0], 2)
        rows.append(row)
        print({kk: (round(v, 4) if isinstance(v, float) else v) for kk, v in row.items()}, flush=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = "mfb_bits_split" if args.split else "mfb_bits"
    with open(out / f"{stem}.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    n = len(ground)
    lines = [f"# mfb ground-state probability against ADC/J/DAC bits, {n} SK (+-1) instances at N = 100 "
             f"(commit {code_version()})", "",
             f"{R} runs per instance and setting ({R * n} per setting), {rows[0]['round_trips']} round trips each, "
             "mfb defaults otherwise (eps 0.2, g2 1e-4, loss 1 dB, tap 0.1, r_inj 0.02, eta 1, adc_range 1). "
             "'unpolished' = the best state the run measured, no 1-flip polish; 'polished' = the same state "
             "after 1-flip descent. Intervals: Clopper-Pearson 95 %. p (CMH): Cochran-Mantel-Haenszel test, "
             "stratified by instance, of equal success with the unquantised setting.", "",
             "| setting | P unpolished | 95 % CI | P polished | 95 % CI | instances solved (pol.) | "
             "mean E - E0 | p (CMH, pol.) | p (CMH, unpol.) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['setting']} | {r['succ']:.4f} | {r['succ_lo']:.4f}-{r['succ_hi']:.4f} | "
                     f"{r['succ_pol']:.4f} | {r['pol_lo']:.4f}-{r['pol_hi']:.4f} | {r['instances_solved_pol']}/{n} | "
                     f"{r['mean_residual']:.3f} | {r['cmh_p_pol']:.3g} | {r['cmh_p']:.3g} |")
    (out / f"{stem}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    if args.split:
        print("\n".join(lines))
        return
    quant = [r for r in rows if r["setting"] != "unquantised"]
    plot(quant, out / "mfb_bits.png", "bits (ADC = J = DAC)",
         f"mfb on {n} SK instances, N = 100, {R} runs each (grey: unquantised)", ref=rows[0])
    print("\n".join(lines))


if __name__ == "__main__":
    main()
