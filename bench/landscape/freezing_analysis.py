"""Analysis of the freezing finite-size study (``python bench/landscape/freezing.py analyze``).

Estimators, each computed per instance from lambda_min(a) of the adiabatically followed minimum (and, where
random starts were run, of the lowest minimum found), then mean +- sem over instances per N:

* ``thr_f{2,3,4}``: the project's rule (cimsim.landscape.phase): floor = median of lambda_min over
  a in [-1.2, -0.6]; the estimate is the a above which lambda_min stays above f x floor (linear interpolation
  of the last up-crossing on the 0.05 grid);
* ``gap_0.05``, ``gap_0.10``: the same last up-crossing of a fixed gap lambda_min = g0 (g0 in the units of
  E_a; N-independent threshold);
* ``gap_3N^-2/3``: last up-crossing of lambda_min = 3 N^(-2/3) (docs/landscape.md 2.5's marginal/gapped cut:
  the edge level spacing of an N x N GOE-like spectrum is ~ N^(-2/3));
* ``frac_gapped``: from the random-start minima at the a of START_GRID, the fraction with
  lambda_min > 3 N^(-2/3); the estimate is the a where that fraction (per instance) first reaches 1/2
  (linear interpolation), only for N with random starts;
* ``lowest_thr_f3``: the threshold rule (f = 3) on lambda_min of the lowest minimum found (path minimum,
  replaced at the a of START_GRID by the lowest random-start minimum when that is lower), as phase.py does;
* ``pooled_f3``, ``pooled_0.05``: the threshold rule (f = 3, floor = median of the pooled curve on the
  floor window) and the fixed-gap 0.05 crossing applied once per N to the pooled curve exp(mean_i log
  lambda_min_i(a)) (geometric mean over instances, which smooths the instance-by-instance jumps of the
  followed minimum); the error is the bootstrap sd over instances (2000 resamples).

Also: the finite-size exponent theta(a) of lambda_min ~ N^theta (weighted fit of the per-N mean of
log lambda_min against log N): a marginal minimum has theta ~ -2/3, a gap that survives N -> infinity
gives theta -> 0. ``theta_cross``: the a above which theta(a) (computed on the whole 0.05 grid) stays above
-1/3, halfway between the two behaviours: a single estimate from all N together (no extrapolation), error =
bootstrap sd (instances resampled within each N, 1000 resamples).

Extrapolation: weighted least squares of the per-N means against x = N^(-2/3) and against x = 1/N, weights
1/sem^2 (for N with fewer than 4 instances the sem is max(own, sd of the next smaller N / sqrt(count))); the intercept's standard error is from the fit covariance, inflated by sqrt(chi2/dof) when that
exceeds 1; residuals are reported in units of the sem.
"""
from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np

SEED_VALUE = -0.45
FLOOR_WIN = (-1.2, -0.6)
GAP_FRAC_C = 3.0


def last_upcrossing(a: np.ndarray, lam: np.ndarray, thr: float, lo: float = FLOOR_WIN[0]) -> float:
    """The a above which lam stays above thr (interpolated), restricted to a >= lo; nan if lam[-1] <= thr."""
    m = a >= lo - 1e-9
    a, lam = a[m], lam[m]
    above = lam > thr
    if not above[-1]:
        return float("nan")
    j = len(a) - 1
    while j > 0 and above[j - 1]:
        j -= 1
    if j == 0:
        return float(a[0])
    t = (thr - lam[j - 1]) / (lam[j] - lam[j - 1])
    return float(a[j - 1] + t * (a[j] - a[j - 1]))


def floor_of(a: np.ndarray, lam: np.ndarray) -> float:
    win = (a >= FLOOR_WIN[0] - 1e-9) & (a <= FLOOR_WIN[1] + 1e-9)
    return float(np.median(lam[win]))


def first_crossing_up(a: np.ndarray, y: np.ndarray, level: float) -> float:
    """First a at which y reaches ``level`` (linear interpolation); nan if never."""
    for j in range(len(a)):
        if y[j] >= level:
            if j == 0:
                return float(a[0])
            t = (level - y[j - 1]) / (y[j] - y[j - 1])
            return float(a[j - 1] + t * (a[j] - a[j - 1]))
    return float("nan")


def load(out: Path) -> tuple[dict, dict]:
    paths, starts = {}, {}
    for f in sorted((out / "raw").glob("n*_i*.json")):
        rec = json.loads(f.read_text())
        if "_starts" in f.stem:
            starts.setdefault((rec["n"], rec["instance"]), []).append(rec)
        else:
            paths[(rec["n"], rec["instance"])] = rec
    return paths, starts


def path_curve(rec: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a = np.asarray(rec["a"], dtype=float)
    lam = np.array([np.nan if v is None else v for v in rec["lambda_min"]], dtype=float)
    m = np.isfinite(lam)
    return a[m], lam[m], np.asarray(rec["eps"], dtype=float)[m]


def lowest_curve(rec: dict, srecs: list[dict]) -> tuple[np.ndarray, np.ndarray, int]:
    """lambda_min(a) of the lowest minimum found; returns also how many grid a the random starts won."""
    a, lam, eps = path_curve(rec)
    lam, eps = lam.copy(), eps.copy()
    won = 0
    for s in srecs:
        for row in s["rows"]:
            j = int(np.argmin(np.abs(a - row["a"])))
            if abs(a[j] - row["a"]) > 1e-8:
                continue
            k = int(np.argmin(row["eps"]))
            if row["eps"][k] < eps[j] - 1e-12:
                eps[j], lam[j] = row["eps"][k], row["lambda_min"][k]
                won += 1
    return a, lam, won


def gapped_fraction(srecs: list[dict], n: int) -> tuple[np.ndarray, np.ndarray]:
    cut = GAP_FRAC_C * n ** (-2.0 / 3.0)
    rows = {}
    for s in srecs:
        for row in s["rows"]:
            rows.setdefault(row["a"], []).extend(row["lambda_min"])
    a = np.array(sorted(rows))
    return a, np.array([np.mean(np.asarray(rows[v]) > cut) for v in a])


ESTIMATORS = ("thr_f2", "thr_f3", "thr_f4", "gap_0.05", "gap_0.10", "gap_3N^-2/3", "frac_gapped", "lowest_thr_f3",
              "pooled_f3", "pooled_0.05")
POOLED = ("pooled_f3", "pooled_0.05")


def _pooled_estimates(curves: np.ndarray, a: np.ndarray) -> tuple[float, float]:
    g = np.exp(np.mean(np.log(np.maximum(curves, 1e-12)), axis=0))
    return last_upcrossing(a, g, 3 * floor_of(a, g)), last_upcrossing(a, g, 0.05)


def pooled(paths: dict, n: int, boots: int = 2000) -> dict:
    """Pooled-curve estimators for one N: value, bootstrap sd over instances, instance count."""
    recs = [rec for (m, _), rec in sorted(paths.items()) if m == n]
    a = path_curve(recs[0])[0]
    curves = np.array([path_curve(r)[1] for r in recs])
    val = _pooled_estimates(curves, a)
    rng = np.random.default_rng(np.random.SeedSequence([2026, n, 99]))
    bs = np.array([_pooled_estimates(curves[rng.integers(0, len(recs), len(recs))], a) for _ in range(boots)])
    out = {}
    for k, v, col in zip(POOLED, val, bs.T):
        col = col[np.isfinite(col)]
        out[k] = (float(v), float(col.std(ddof=1)) if len(recs) > 1 and col.size > 1 else float("nan"), len(recs))
    return out


THETA_CUT = -1.0 / 3.0


def _theta_curve(curves: dict, ns: list[int]) -> np.ndarray:
    """theta(a) on the common grid from {n: (instances, A) array of lambda_min}."""
    x = np.log(np.array(ns, dtype=float))
    th = []
    logs = {n: np.log(np.maximum(curves[n], 1e-12)) for n in ns}
    for j in range(next(iter(curves.values())).shape[1]):
        y = np.array([logs[n][:, j].mean() for n in ns])
        s = np.array([logs[n][:, j].std(ddof=1) / math.sqrt(logs[n].shape[0]) for n in ns])
        th.append(wls(x, y, np.maximum(s, 1e-6))["c1"])
    return np.array(th)


def theta_crossing(paths: dict, ns: list[int], boots: int = 1000, cut: float = THETA_CUT) -> dict:
    ns = [n for n in ns if sum(1 for m, _ in paths if m == n) >= 2]
    curves = {n: np.array([path_curve(r)[1] for (m, _), r in sorted(paths.items()) if m == n]) for n in ns}
    a = path_curve(next(iter(paths.values())))[0]
    th = _theta_curve(curves, ns)
    val = last_upcrossing(a, th, cut)
    rng = np.random.default_rng(np.random.SeedSequence([2026, 7]))
    bs = []
    for _ in range(boots):
        c = {n: v[rng.integers(0, len(v), len(v))] for n, v in curves.items()}
        bs.append(last_upcrossing(a, _theta_curve(c, ns), cut))
    bs = np.array(bs)
    bs = bs[np.isfinite(bs)]
    return {"a": a, "theta": th, "value": val, "sd": float(bs.std(ddof=1)), "ns": ns,
            "q16": float(np.quantile(bs, 0.16)), "q84": float(np.quantile(bs, 0.84))}


def theta_table(paths: dict, ns: list[int], sel: tuple) -> list[tuple]:
    """Per a: (a, theta, se, chi2, dof) from the weighted fit of mean log lambda_min vs log N."""
    rows = []
    for av in sel:
        x, y, s = [], [], []
        for n in ns:
            v = []
            for (m, _), rec in paths.items():
                if m == n:
                    a, lam, _ = path_curve(rec)
                    j = int(np.argmin(np.abs(a - av)))
                    if abs(a[j] - av) < 1e-8:
                        v.append(math.log(lam[j]))
            mu, se, c = mean_sem(v)
            if c >= 2:
                x.append(math.log(n)), y.append(mu), s.append(se)
        if len(x) >= 3:
            r = wls(np.array(x), np.array(y), np.array(s))
            rows.append((av, r["c1"], r["se1"], r["chi2"], r["dof"]))
    return rows


def per_instance(paths: dict, starts: dict) -> dict:
    est: dict = {}
    for (n, i), rec in sorted(paths.items()):
        a, lam, _ = path_curve(rec)
        fl = floor_of(a, lam)
        e = {f"thr_f{f}": last_upcrossing(a, lam, f * fl) for f in (2, 3, 4)}
        e["gap_0.05"] = last_upcrossing(a, lam, 0.05)
        e["gap_0.10"] = last_upcrossing(a, lam, 0.10)
        e["gap_3N^-2/3"] = last_upcrossing(a, lam, GAP_FRAC_C * n ** (-2.0 / 3.0))
        e["floor"] = fl
        if (n, i) in starts:
            sa, frac = gapped_fraction(starts[(n, i)], n)
            e["frac_gapped"] = first_crossing_up(sa, frac, 0.5)
            la, ll, won = lowest_curve(rec, starts[(n, i)])
            e["lowest_thr_f3"] = last_upcrossing(la, ll, 3 * floor_of(la, ll))
            e["starts_won"] = won
        est[(n, i)] = e
    return est


def mean_sem(v: list[float]) -> tuple[float, float, int]:
    v = np.asarray([x for x in v if np.isfinite(x)], dtype=float)
    if v.size == 0:
        return float("nan"), float("nan"), 0
    return float(v.mean()), float(v.std(ddof=1) / math.sqrt(v.size)) if v.size > 1 else float("nan"), int(v.size)


FEW = 4


def fit_sem(col: dict, ns: list[int], n: int) -> float:
    """The sem used as fit weight: with fewer than FEW instances at n, a sem from 2-3 values is unreliable, so
    use max(own sem, sd of the next smaller N / sqrt(count)) (assumes the instance spread does not grow with N)."""
    m, se, c = col[n]
    if c >= FEW:
        return se
    smaller = [v for v in ns if v < n and col[v][2] >= FEW]
    if not smaller:
        return se
    p = col[max(smaller)]
    return max(se, p[1] * math.sqrt(p[2]) / math.sqrt(c))


def wls(x: np.ndarray, y: np.ndarray, s: np.ndarray) -> dict:
    """Weighted straight-line fit y = c0 + c1 x; intercept c0 +- se (inflated by sqrt(chi2/dof) if > 1)."""
    w = 1.0 / s**2
    A = np.vstack([np.ones_like(x), x]).T
    cov = np.linalg.inv(A.T @ (A * w[:, None]))
    c = cov @ (A.T @ (w * y))
    res = (y - A @ c) / s
    dof = len(x) - 2
    chi2 = float(np.sum(res**2))
    infl = math.sqrt(chi2 / dof) if dof > 0 and chi2 > dof else 1.0
    se = np.sqrt(np.diag(cov)) * infl
    return {"c0": float(c[0]), "se0": float(se[0]), "c1": float(c[1]), "se1": float(se[1]), "chi2": chi2, "dof": dof,
            "residuals": [float(r) for r in res], "inflation": infl}


def analyze(out: Path) -> dict:
    paths, starts = load(out)
    est = per_instance(paths, starts)
    ns = sorted({n for n, _ in paths})
    table = {k: {} for k in ESTIMATORS + ("floor",)}
    for k in table:
        for n in ns:
            if k not in POOLED:
                table[k][n] = mean_sem([e.get(k, float("nan")) for (m, _), e in est.items() if m == n])
    for n in ns:
        for k, v in pooled(paths, n).items():
            table[k][n] = v
    fits = {}
    for k in ESTIMATORS:
        good = [n for n in ns if table[k][n][2] >= 2 and np.isfinite(table[k][n][1]) and table[k][n][1] > 0]
        if len(good) < 3:
            continue
        y = np.array([table[k][n][0] for n in good])
        s = np.array([fit_sem(table[k], good, n) for n in good])
        nn = np.array(good, dtype=float)
        fits[k] = {"ns": good, "N^-2/3": wls(nn ** (-2 / 3), y, s), "1/N": wls(1 / nn, y, s)}
    tc = theta_crossing(paths, ns)
    tc["half"] = theta_crossing(paths, ns, cut=-0.5)
    write_csv(out, est)
    write_md(out, ns, table, fits, est, paths, tc)
    figures(out, ns, table, fits, paths, starts, tc)
    return {"table": table, "fits": fits, "theta": tc}


def write_csv(out: Path, est: dict) -> None:
    keys = ("floor",) + ESTIMATORS + ("starts_won",)
    with open(out / "freezing.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(("n", "instance") + keys)
        for (n, i), e in sorted(est.items()):
            w.writerow((n, i) + tuple("" if k not in e else (f"{e[k]:.5f}" if isinstance(e[k], float) else e[k])
                                      for k in keys))


def _fmt(m: float, s: float, c: int) -> str:
    if not np.isfinite(m):
        return "—"
    return f"{m:.3f} ± {s:.3f} ({c})" if np.isfinite(s) else f"{m:.3f} ({c})"


def write_md(out: Path, ns: list[int], table: dict, fits: dict, est: dict, paths: dict, tc: dict) -> None:
    L = ["# Freezing point: finite-size study (generated by bench/landscape/freezing.py analyze)", "",
         "Per-N mean ± sem over instances (instances with an estimate in parentheses).", "",
         "| estimator | " + " | ".join(f"N = {n}" for n in ns) + " |", "|---|" + "---|" * len(ns)]
    for k in ("floor",) + ESTIMATORS:
        if all(table[k][n][2] == 0 for n in ns):
            continue
        L.append(f"| {k} | " + " | ".join(_fmt(*table[k][n]) for n in ns) + " |")
    L += ["", "Extrapolations (weighted least squares; intercept ± se, se inflated by sqrt(χ²/dof) when > 1; "
          "residuals in units of the per-N sem used as weight (for N with < 4 instances: max(own sem, sd at the next smaller N / √count)); "
          "'vs −0.45' = (intercept + 0.45)/se):", "",
          "| estimator | Ns | x | intercept | slope | χ²/dof | residuals | vs −0.45 |", "|---|---|---|---|---|---|---|---|"]
    for k, f in fits.items():
        for xl in ("N^-2/3", "1/N"):
            r = f[xl]
            L.append(f"| {k} | {','.join(map(str, f['ns']))} | {xl} | {r['c0']:.3f} ± {r['se0']:.3f} | "
                     f"{r['c1']:.2f} ± {r['se1']:.2f} | {r['chi2']:.2f}/{r['dof']} | "
                     f"{', '.join(f'{v:+.1f}' for v in r['residuals'])} | {(r['c0'] - SEED_VALUE) / r['se0']:+.1f}σ |")
    # lambda_min of the followed minimum at selected a
    sel = (-1.0, -0.6, -0.45, -0.3, -0.2, -0.1, 0.0, 0.2)
    L += ["", "λ_min of the followed minimum (mean ± sem over instances):", "",
          "| a | " + " | ".join(f"N = {n}" for n in ns) + " |", "|---|" + "---|" * len(ns)]
    for av in sel:
        cells = []
        for n in ns:
            v = []
            for (m, _), rec in paths.items():
                if m != n:
                    continue
                a, lam, _ = path_curve(rec)
                j = int(np.argmin(np.abs(a - av)))
                if abs(a[j] - av) < 1e-8:
                    v.append(lam[j])
            cells.append(_fmt(*mean_sem(v)).rsplit(" (", 1)[0])
        L.append(f"| {av:+.2f} | " + " | ".join(cells) + " |")
    L += ["", "Finite-size exponent of λ_min of the followed minimum, λ_min ∝ N^θ (weighted fit of the per-N mean of "
          "log λ_min vs log N; marginal: θ ≈ −2/3, gap surviving N → ∞: θ → 0):", "",
          "| a | θ | χ²/dof |", "|---|---|---|"]
    for av, th, se, chi2, dof in theta_table(paths, ns, sel):
        L.append(f"| {av:+.2f} | {th:+.2f} ± {se:.2f} | {chi2:.1f}/{dof} |")
    L += ["", f"theta_cross (θ(a) last up-crossing of {THETA_CUT:.3f}, N = {','.join(map(str, tc['ns']))}): "
          f"{tc['value']:.3f} ± {tc['sd']:.3f} (bootstrap 16–84%: {tc['q16']:.3f} … {tc['q84']:.3f}); "
          f"vs −0.45: {(tc['value'] - SEED_VALUE) / tc['sd']:+.1f}σ. With the cut at −1/2 instead: "
          f"{tc['half']['value']:.3f} ± {tc['half']['sd']:.3f} ({(tc['half']['value'] - SEED_VALUE) / tc['half']['sd']:+.1f}σ)."]
    secs = {n: np.mean([rec["path_seconds"] for (m, _), rec in paths.items() if m == n]) for n in ns}
    L += ["", "Mean wall time per path (shared machine): " + ", ".join(f"N={n}: {secs[n]:.0f} s" for n in ns) + "."]
    (out / "freezing.md").write_text("\n".join(L) + "\n")


def figures(out: Path, ns: list[int], table: dict, fits: dict, paths: dict, starts: dict, tc: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.4), sharey=True)
    colors = dict(zip(ESTIMATORS, plt.cm.tab10.colors))
    for ax, xl in zip(axes, ("N^-2/3", "1/N")):
        for k, f in fits.items():
            nn = np.array(f["ns"], dtype=float)
            x = nn ** (-2 / 3) if xl == "N^-2/3" else 1 / nn
            y = [table[k][n][0] for n in f["ns"]]
            s = [fit_sem(table[k], f["ns"], n) for n in f["ns"]]
            ax.errorbar(x, y, s, fmt="o", color=colors[k], ms=4, capsize=2, label=k)
            xx = np.linspace(0, x.max() * 1.05, 50)
            r = f[xl]
            ax.plot(xx, r["c0"] + r["c1"] * xx, "-", color=colors[k], lw=0.8)
            ax.errorbar([0], [r["c0"]], [r["se0"]], fmt="s", color=colors[k], ms=5, capsize=3)
        ax.axhline(SEED_VALUE, color="k", ls="--", lw=0.8, label="seed −0.45")
        ax.set_xlabel(f"$N^{{-2/3}}$" if xl == "N^-2/3" else "$1/N$")
        ax.set_xlim(left=-0.002 if xl == "N^-2/3" else -0.0001)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("freezing estimate a_f")
    axes[1].legend(fontsize=7, loc="best")
    fig.suptitle("freezing estimators vs system size, weighted linear fits (squares: N → ∞ intercepts)")
    fig.tight_layout()
    fig.savefig(out / "freezing_vs_n.png", dpi=120)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.plot(tc["a"], tc["theta"], "k.-", label=f"θ(a), N = {', '.join(map(str, tc['ns']))}")
    ax.axhline(-2 / 3, color="C0", ls="--", lw=0.8, label="marginal, −2/3")
    ax.axhline(0, color="C3", ls="--", lw=0.8, label="gapped, 0")
    ax.axhline(THETA_CUT, color="0.5", ls=":", lw=0.8)
    ax.axvspan(tc["value"] - tc["sd"], tc["value"] + tc["sd"], color="C2", alpha=0.2, label="θ crosses −1/3 (± sd)")
    ax.axvline(SEED_VALUE, color="k", ls=":", lw=0.8, label="seed −0.45")
    ax.set_xlabel("a")
    ax.set_ylabel("θ in λ_min ∝ N^θ")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out / "theta_vs_a.png", dpi=120)
    plt.close(fig)

    for n in ns:
        fig, ax = plt.subplots(figsize=(6.4, 4.4))
        curves = []
        for (m, i), rec in sorted(paths.items()):
            if m != n:
                continue
            a, lam, _ = path_curve(rec)
            ax.semilogy(a, lam, color="0.6", lw=0.6)
            curves.append(lam)
        mean = np.exp(np.mean(np.log(np.array(curves)), axis=0))
        ax.semilogy(a, mean, "k-", lw=2, label=f"geometric mean, {len(curves)} instances")
        fl = table["floor"][n][0]
        for f, ls in ((2, ":"), (3, "--"), (4, "-.")):
            ax.axhline(f * fl, color="C0", ls=ls, lw=0.8, label=f"{f} × mean floor")
        ax.axhline(0.05, color="C3", ls="--", lw=0.8, label="fixed gap 0.05")
        ax.axhline(GAP_FRAC_C * n ** (-2 / 3), color="C2", ls="--", lw=0.8, label="3 N^(-2/3)")
        for k, c in (("thr_f3", "C0"), ("gap_0.05", "C3")):
            mu, se, _ = table[k][n]
            if np.isfinite(mu):
                ax.axvspan(mu - (se if np.isfinite(se) else 0), mu + (se if np.isfinite(se) else 0), color=c, alpha=0.15)
        ax.axvline(SEED_VALUE, color="k", ls=":", lw=0.8)
        ax.set_xlabel("a")
        ax.set_ylabel("λ_min of the followed minimum")
        ax.set_title(f"N = {n}")
        ax.set_ylim(1e-3, 2)
        ax.legend(fontsize=7, loc="upper left")
        ax.grid(alpha=0.3, which="both")
        fig.tight_layout()
        fig.savefig(out / f"lambda_min_n{n}.png", dpi=110)
        plt.close(fig)
