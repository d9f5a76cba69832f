"""Tables and figures for docs/landscape.md from measure.py pickles.

    python bench/landscape/analyze.py OUT_DIR RUN.pkl [RUN.pkl ...]
"""
from __future__ import annotations

import math
import pickle
import sys

import numpy as np

from cimsim.landscape.phase import estimate_transitions
from cimsim.landscape.theory import rs_solve
from cimsim.plotting.landscape import plot_phase_diagram

REF_73 = {  # physics.md 7.3: a -> (q N=1600, eps N=1600, lmin N=800, lmin N=1600)
    -1.9: (0.040, -0.0010, None, None), -1.5: (0.261, -0.0297, None, None), -1.2: (0.474, -0.084, 0.017, 0.021),
    -1.0: (0.632, -0.139, 0.031, 0.020), -0.8: (0.803, -0.211, 0.039, 0.032), -0.6: (0.981, -0.300, 0.049, 0.035),
    -0.4: (1.165, -0.408, 0.036, 0.040), -0.3: (1.259, -0.469, 0.10, 0.08), -0.2: (1.354, -0.534, 0.16, 0.20),
    0.0: (1.544, -0.680, 0.34, 0.37), 0.2: (1.736, -0.844, 0.56, 0.58)}
REF_25 = {-1.5: 0.19, -1.0: 0.05, -0.6: 0.009, -0.45: 0.0025, -0.3: 0.0}
REF_25_MIN = {-0.3: 0.28, 0.0: 0.51, 0.2: 0.64}


def ms(v):
    v = np.asarray(v, dtype=float)
    return v.mean(), (v.std(ddof=1) / math.sqrt(v.size) if v.size > 1 else float("nan"))


def fmt(m, s, d=4):
    return f"{m:.{d}f} ± {s:.{d}f}"


def main() -> None:
    out = sys.argv[1]
    raw = []
    for path in sys.argv[2:]:
        with open(path, "rb") as fh:
            raw += pickle.load(fh)["raw"]
    tr = estimate_transitions(raw)
    files = plot_phase_diagram(raw, tr, out)
    ns = sorted({r["n"] for r in raw if r["kind"] == "path"})
    print("figures:", files)
    print("\n### Transitions (mean ± sem over instances)\n")
    print("| N | inst. | onset fit a_c | a_c + λ_max(J) | −λ_max(J) | p0 → 0 (b=0) | freezing |")
    print("|---|---|---|---|---|---|---|")
    for n in ns:
        t = tr["by_n"][str(n)]
        g = lambda k, d=4: fmt(t[k]["mean"], t[k]["sem"], d) + (f" ({t[k]['instances']})" if k == "freezing" else "")
        print(f"| {n} | {t['neg_lambda_max']['instances']} | {g('origin_instability')} | {g('origin_minus_neg_lambda_max', 5)} | "
              f"{g('neg_lambda_max')} | {g('p0_zero_crossing', 3)} | {g('freezing', 3)} |")
    for fac in (2.0, 4.0):
        t2 = estimate_transitions(raw, freeze_factor=fac)
        print(f"\nfreezing with factor {fac}: " + ", ".join(
            f"N={n}: {fmt(t2['by_n'][str(n)]['freezing']['mean'], t2['by_n'][str(n)]['freezing']['sem'], 3)}" for n in ns))
    print("\n### Adiabatic path vs physics.md 7.3 (mean ± sem over instances)\n")
    hdr = "| a | " + " | ".join(f"q N={n} | ε N={n} | λ_min N={n}" for n in ns) + " | ref q,ε (1600) | ref λ_min 800/1600 | RS q, ε |"
    print(hdr)
    print("|" + "---|" * (1 + 3 * len(ns) + 3))
    for a, ref in REF_73.items():
        cells = []
        for n in ns:
            P = [r for r in raw if r["kind"] == "path" and r["n"] == n]
            A = np.asarray(P[0]["a_path"])
            j = int(np.argmin(np.abs(A - a)))
            if abs(A[j] - a) > 1e-6:
                cells += ["—"] * 3
                continue
            for key, d in (("q", 3), ("eps", 4), ("lambda_min", 3)):
                cells.append(fmt(*ms([p[key][j] for p in P]), d))
        rs = rs_solve(a)
        lm = "/".join("—" if v is None else f"{v}" for v in ref[2:])
        print(f"| {a:+.1f} | " + " | ".join(cells) + f" | {ref[0]}, {ref[1]} | {lm} | {rs.q:.3f}, {rs.eps:.4f} |")
    print("\n### Amplitude pseudo-gap (largest N; mean ± sem)\n")
    n = ns[-1]
    P = [r for r in raw if r["kind"] == "path" and r["n"] == n]
    A = np.asarray(P[0]["a_path"])
    print(f"| a | frac |x|<0.2 (N={n}) | ref 2.5 | min|x| (N={n}) | ref | RS gap √b |")
    print("|---|---|---|---|---|---|")
    for a in (-1.5, -1.0, -0.6, -0.45, -0.3, 0.0, 0.2):
        j = int(np.argmin(np.abs(A - a)))
        if abs(A[j] - a) > 1e-6:
            continue
        f = ms([p["frac_small"][j] for p in P])
        mn = ms([p["min_abs_x"][j] for p in P])
        print(f"| {a:+.2f} | {fmt(*f)} | {REF_25.get(a, '—')} | {fmt(*mn, 3)} | {REF_25_MIN.get(a, '—')} | {rs_solve(a).gap:.3f} |")
    mins = [r for r in raw if r["kind"] == "minima"]
    if mins:
        print("\n### Random-start minima (8 starts per instance; mean ± sem over instances)\n")
        print("| N | a | distinct | sd ε | ε lowest | ε path | λ_min lowest | frac. marginal |")
        print("|---|---|---|---|---|---|---|---|")
        for n in sorted({r["n"] for r in mins}):
            P = {r["instance"]: r for r in raw if r["kind"] == "path" and r["n"] == n}
            for a in sorted({r["a"] for r in mins}):
                R = [r for r in mins if r["n"] == n and r["a"] == a and r.get("distinct", 0)]
                if not R:
                    continue
                A = np.asarray(next(iter(P.values()))["a_path"])
                j = int(np.argmin(np.abs(A - a)))
                pe = ms([P[r["instance"]]["eps"][j] for r in R])
                print(f"| {n} | {a:+.2f} | {fmt(*ms([r['distinct'] for r in R]), 2)} | {fmt(*ms([r['eps_sd'] for r in R]), 4)} | "
                      f"{fmt(*ms([r['eps_min'] for r in R]))} | {fmt(*pe)} | {fmt(*ms([r['lambda_min_lowest'] for r in R]), 3)} | "
                      f"{fmt(*ms([r['fraction_marginal'] for r in R]), 2)} |")


if __name__ == "__main__":
    main()
