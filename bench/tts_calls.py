"""TTS99 from fixed-budget calls (issue 20, front 4): each call of a bench/run.py store is one trial.

A call succeeds when its objective reaches the instance's best known value. With ``k`` successes in ``n``
calls of mean length ``t`` seconds, ``p = k / n`` and TTS99 = t ln(0.01) / ln(1 - p) (t when p = 1, inf when
p = 0). The 95 % interval comes from the Clopper-Pearson interval of ``p``; with no success the interval's
upper end of ``p`` still gives a lower bound on TTS99. Work per call is reported as spin updates / N: sweeps
for the annealers, matrix-vector products (per replica) for the dynamics.

    python bench/tts_calls.py bench/results/tts-g22 --instance G22 --out bench/results/tts-g22/tts99

(writes tts99.md, tts99.csv and the figure tts99.png)
"""
from __future__ import annotations

import argparse
import csv
import math
import statistics
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.sk100 import clopper_pearson  # noqa: E402

#: peers' solver names in the store, as the tables name them
PEER_NAMES = {"dwave_neal": "neal", "openjij_sa": "openjij"}


def tts99(t: float, p: float) -> float:
    """Seconds for a 99 % chance of at least one success in independent calls of ``t`` s succeeding with ``p``."""
    if p <= 0.0:
        return math.inf
    if p >= 1.0:
        return t
    return t * math.log(0.01) / math.log1p(-p)


def cells(rows: list[dict], instance: str, best_known: float, budget: float | None = None) -> list[dict]:
    """One dict per solver: calls, hits, mean seconds, TTS99 and its interval, work per call (the calls of
    one ``budget``; None: every budget, which must then be one)."""
    by: dict[str, list[dict]] = defaultdict(list)
    rows = [r for r in rows if r.get("task") == "call" and r.get("instance") == instance]
    budgets = {float(r["budget_s"]) for r in rows if "budget_s" in r}
    if budget is None and len(budgets) > 1:
        raise ValueError(f"{instance} has calls at budgets {sorted(budgets)}: choose one (--budget)")
    for r in rows:
        if budget is not None and float(r.get("budget_s", budget)) != budget:
            continue
        if r.get("objective") is not None:
            by[(r["family"], r["solver"])].append(r)
    out = []
    for (family, solver), rs in sorted(by.items()):
        n = len(rs)
        k = sum(float(r["objective"]) >= best_known - 1e-9 for r in rs)
        t = sum(float(r["elapsed_s"]) for r in rs) / n
        lo, hi = clopper_pearson(k, n)
        nspins = float(rs[0]["n"])
        work = sum(float(r["updates"] or "nan") for r in rs) / n / nspins
        out.append(dict(solver=PEER_NAMES.get(solver, solver), family=family, calls=n, hits=k, mean_s=t,
                        tts=tts99(t, k / n), tts_lo=tts99(t, hi), tts_hi=tts99(t, lo), work=work,
                        tts_work=tts99(work, k / n), median=statistics.median(float(r["objective"]) for r in rs)))
    return out


def _fmt(x: float) -> str:
    return "inf" if math.isinf(x) else f"{x:.3g}"


def report(cs: list[dict], instance: str, best_known: float) -> str:
    lines = [f"| solver | calls | hits (objective >= {best_known:g}) | median | mean call s | TTS99 s [95 %] | "
             "work / call (sweeps or MVM) | TTS99 in sweeps or MVM |", "|---|---|---|---|---|---|---|---|"]
    for c in cs:
        lines.append(f"| {c['solver']}{' (peer)' if c['family'] == 'peer' else ''} | {c['calls']} | {c['hits']} | "
                     f"{c['median']:g} | {c['mean_s']:.2f} | {_fmt(c['tts'])} [{_fmt(c['tts_lo'])}, {_fmt(c['tts_hi'])}] | "
                     f"{c['work']:.3g} | {_fmt(c['tts_work'])} |")
    ours = [c for c in cs if c["family"] == "cimsim"]
    peers = [c for c in cs if c["family"] == "peer"]
    if ours and peers:
        best = min(ours, key=lambda c: (c["tts"], c["tts_lo"]))
        bp = min(peers, key=lambda c: (c["tts"], c["tts_lo"]))
        lo = best["tts_lo"] / bp["tts_hi"] if not math.isinf(bp["tts_hi"]) else 0.0
        hi = best["tts_hi"] / bp["tts_lo"]
        ratio = best["tts"] / bp["tts"] if not math.isinf(bp["tts"]) else 0.0
        verdict = ("shown (the interval's upper end <= 0.5)" if hi <= 0.5 else
                   "point estimate only (the interval reaches above 0.5)" if ratio <= 0.5 else "not met")
        peer = (f"{bp['solver']} {_fmt(bp['tts'])} s" if not math.isinf(bp["tts"]) else
                f"{bp['solver']} (no success in {bp['calls']} calls: > {_fmt(bp['tts_lo'])} s)")
        lines += ["", f"{instance}: cimsim's best {best['solver']} TTS99 {_fmt(best['tts'])} s against the best peer "
                      f"{peer}: ratio {ratio:.3g} [{lo:.3g}, {_fmt(hi)}]; at most 0.5: {verdict}."]
    return "\n".join(lines) + "\n"


def figure(cs: list[dict], instance: str, path: str) -> None:
    """TTS99 per solver with its 95 % interval (log scale); a solver without a success is drawn from its
    interval's lower end, marked as a lower bound."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 3.2))
    for k, c in enumerate(cs):
        colour = "tab:blue" if c["family"] == "cimsim" else "tab:gray"
        if math.isinf(c["tts"]):
            ax.plot([k, k], [c["tts_lo"], c["tts_lo"] * 3], color=colour, lw=2)
            ax.plot(k, c["tts_lo"], marker="^", color=colour)
            ax.annotate(f"{c['hits']}/{c['calls']}: > {c['tts_lo']:.0f} s", (k, c["tts_lo"]), textcoords="offset points",
                        xytext=(6, 0), fontsize=8)
        else:
            hi = c["tts_hi"] if not math.isinf(c["tts_hi"]) else c["tts"] * 10
            ax.errorbar(k, c["tts"], yerr=[[c["tts"] - c["tts_lo"]], [hi - c["tts"]]], fmt="o", color=colour, capsize=4)
            ax.annotate(f"{c['hits']}/{c['calls']}: {c['tts']:.3g} s", (k, c["tts"]), textcoords="offset points",
                        xytext=(6, 0), fontsize=8)
    ax.set_xticks(range(len(cs)), [c["solver"] for c in cs])
    ax.set_xlim(-0.5, len(cs) - 0.2)
    ax.set_yscale("log")
    ax.set_ylabel("TTS99 (s), 95 % interval")
    ax.set_title(f"{instance}: time to the best-known cut (blue: cimsim, grey: peers)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("store", help="a bench/run.py result directory (its tasks/: every call of every run into it)")
    ap.add_argument("--instance", required=True)
    ap.add_argument("--budget", type=float, default=None, help="the calls of this budget (needed when there are several)")
    ap.add_argument("--best-known", type=float, default=None, help="default: the gset best_known.csv value")
    ap.add_argument("--out", help="write OUT.md and OUT.csv")
    a = ap.parse_args(argv)
    from cimsim.sweep import load_store

    rows = [{**rec["params"], **rec["row"]} for rec in load_store(a.store).values()
            if rec.get("status") == "ok" and rec.get("row")]
    best = a.best_known
    if best is None:
        from bench.instances import gset_best_known

        best = float(gset_best_known()[a.instance])
    cs = cells(rows, a.instance, best, a.budget)
    text = report(cs, a.instance, best)
    print(text, end="")
    if a.out:
        Path(a.out + ".md").write_text(text)
        with open(a.out + ".csv", "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(cs[0]))
            w.writeheader()
            w.writerows(cs)
        figure(cs, a.instance, a.out + ".png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
