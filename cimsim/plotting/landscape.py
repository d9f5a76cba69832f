"""Figures for the SK landscape analysis (cimsim.landscape): phase diagram and reporter plots.

Every figure marks the transitions physics.md 2.2 predicts (a = -2, -0.93, -0.45; project convention,
pairs i<j — an all-ordered-pairs reading would double them) and, where available, the estimates from
the data with their error bars.
"""
from __future__ import annotations

import os
from typing import Iterable

import numpy as np

from .. import plotting as _plotting  # noqa: F401  (selects the Agg backend)
import matplotlib.pyplot as plt

from ..landscape.theory import TRANSITIONS, rs_solve

__all__ = ["plot_phase_diagram", "plot_reporter", "mark_transitions"]

_PRED_STYLE = {"origin_instability": ("-2 origin", "tab:gray"), "susy_breaking": ("-0.93 SUSY", "tab:purple"),
               "freezing": ("-0.45 freeze", "tab:brown")}


def mark_transitions(ax, estimates: dict | None = None, *, legend: bool = True, xlim: tuple | None = None) -> None:
    """Dashed vertical lines at the predicted transitions; shaded bands at estimates (mean +- sem)."""
    lo, hi = ax.get_xlim() if xlim is None else xlim
    for key, a in TRANSITIONS.items():
        if lo <= a <= hi:
            label, color = _PRED_STYLE[key]
            ax.axvline(a, ls="--", lw=1, color=color, label=f"predicted {label}" if legend else None)
    if estimates:
        for key, est in estimates.items():
            m, s = est.get("mean", np.nan), est.get("sem", np.nan)
            if np.isfinite(m) and lo <= m <= hi:
                color = _PRED_STYLE.get(key, ("", "k"))[1]
                s = s if np.isfinite(s) else 0.0
                ax.axvspan(m - s, m + s, color=color, alpha=0.25, label=f"estimated {m:.3f}±{s:.3f}" if legend else None)
    ax.set_xlim(lo, hi)


def _rs_curves(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    pts = [rs_solve(float(x)) for x in a]
    return np.array([p.q for p in pts]), np.array([p.eps for p in pts]), np.array([p.b for p in pts])


def _paths(raw: list[dict], n: int) -> list[dict]:
    return [r for r in raw if r["kind"] == "path" and r["n"] == n]


def _mean_sem(arrs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    A = np.array(arrs, dtype=float)
    sem = A.std(axis=0, ddof=1) / np.sqrt(A.shape[0]) if A.shape[0] > 1 else np.zeros(A.shape[1])
    return A.mean(axis=0), sem


def _est(transitions: dict, n: int, key: str, new: str) -> dict:
    by = transitions.get("by_n", {}).get(str(n), {})
    return {new: by[key]} if key in by else {}


def plot_phase_diagram(raw: list[dict], transitions: dict, out_dir: str, *, prefix: str = "phase") -> list[str]:
    """Write the phase-diagram figures into ``out_dir``; returns the file paths."""
    os.makedirs(out_dir, exist_ok=True)
    ns = sorted({r["n"] for r in raw if r["kind"] == "path"})
    colors = plt.cm.viridis(np.linspace(0, 0.85, max(len(ns), 1)))
    files: list[str] = []
    if not ns:
        return files
    a_all = np.asarray(_paths(raw, ns[0])[0]["a_path"], dtype=float)
    a_th = np.linspace(max(-1.995, float(a_all.min())), float(a_all.max()), 25)
    q_th, e_th, b_th = _rs_curves(a_th)
    big = ns[-1]
    freeze_est = _est(transitions, big, "freezing", "freezing")
    susy_est = _est(transitions, big, "p0_zero_crossing", "susy_breaking")
    origin_est = _est(transitions, big, "origin_instability", "origin_instability")

    # 1. energy and radius vs a
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for c, n in zip(colors, ns):
        P = _paths(raw, n)
        a = np.asarray(P[0]["a_path"], dtype=float)
        for ax, key in zip(axes, ("eps", "q")):
            m, s = _mean_sem([p[key] for p in P])
            ax.errorbar(a, m, yerr=s, color=c, lw=1.2, label=f"adiabatic min, N={n} ({len(P)} inst.)")
    axes[0].plot(a_th, e_th, "k:", label="RS theory (exact quadrature)")
    axes[1].plot(a_th, q_th, "k:", label="RS theory (exact quadrature)")
    axes[0].set_ylabel("energy per spin  ε = E_a/N")
    axes[1].set_ylabel("squared radius  q = |x|²/N")
    files.append(_pump_panels(fig, axes, [origin_est] * len(axes), "SK soft-spin landscape: followed minimum vs a",
                              out_dir, f"{prefix}_energy_radius.png"))

    # 2. lambda_min vs a
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for c, n in zip(colors, ns):
        P = _paths(raw, n)
        a = np.asarray(P[0]["a_path"], dtype=float)
        from ..landscape.phase import lowest_lambda_curve

        curves = [lowest_lambda_curve(raw, n, p["instance"])[1] for p in P]
        m, s = _mean_sem(curves)
        ok = a > -2.0
        ax.errorbar(a[ok], m[ok], yerr=s[ok], color=c, label=f"λ_min of lowest minimum found, N={n}")
        ax.axhline(n ** (-2 / 3), color=c, ls=":", lw=1, label=f"N^(-2/3) = {n ** (-2 / 3):.4f}")
    ax.set_yscale("log")
    ax.set_xlabel("pump a")
    ax.set_ylabel("smallest Hessian eigenvalue λ_min")
    mark_transitions(ax, freeze_est, xlim=(-2.0, float(a_all.max())))
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3, which="both")
    ax.set_title("Freezing: λ_min leaves the finite-size floor")
    fig.tight_layout()
    files.append(_save(fig, out_dir, f"{prefix}_lambda_min.png"))

    # 3. distinct minima vs a (random starts)
    mins = [r for r in raw if r["kind"] == "minima"]
    if mins:
        fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
        for c, n in zip(colors, ns):
            R = [r for r in mins if r["n"] == n]
            if not R:
                continue
            a_vals = sorted({r["a"] for r in R})
            for ax, key in zip(axes, ("distinct", "eps_sd")):
                vals = [[r.get(key, np.nan) for r in R if r["a"] == av] for av in a_vals]
                m = np.array([np.nanmean(v) for v in vals])
                s = np.array([np.nanstd(v, ddof=1) / np.sqrt(len(v)) if len(v) > 1 else 0 for v in vals])
                starts = R[0].get("starts", 0)
                ax.errorbar(a_vals, m, yerr=s, marker="o", color=c, label=f"N={n}, {starts} starts/instance")
        axes[0].set_ylabel("distinct minima found (x ~ -x merged)")
        axes[1].set_ylabel("sd of ε over distinct minima")
        files.append(_pump_panels(fig, axes, [None] * len(axes), "Minima from random starts",
                                  out_dir, f"{prefix}_distinct_minima.png"))

    # 4. amplitude pseudo-gap: p0 and min|x| vs a
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for c, n in zip(colors, ns):
        P = _paths(raw, n)
        a = np.asarray(P[0]["a_path"], dtype=float)
        ok = a > -1.9
        for ax, key in zip(axes, ("p0", "min_abs_x")):
            m, s = _mean_sem([p[key] for p in P])
            ax.errorbar(a[ok], m[ok], yerr=s[ok], color=c, label=f"adiabatic min, N={n}")
    ok_th = a_th > -1.9
    axes[0].plot(a_th[ok_th], np.where(b_th < 0, -b_th, 0)[ok_th] / np.sqrt(2 * np.pi * q_th[ok_th]), "k:",
                 label="RS: |b|/sqrt(2πq) (0 above b=0)")
    axes[1].plot(a_th[ok_th], np.sqrt(np.clip(b_th, 0, None))[ok_th], "k:", label="RS gap sqrt(b)")
    axes[0].set_ylabel("amplitude density at 0, p(|x|<0.05)/0.1")
    axes[1].set_ylabel("min_i |x_i|")
    files.append(_pump_panels(fig, axes, [susy_est] + [None] * (len(axes) - 1),
                              "Amplitude (pseudo-)gap at the followed minimum", out_dir, f"{prefix}_amplitudes.png"))

    # 5. spectra at chosen a (largest N, first instance) vs Pastur law
    P = _paths(raw, big)
    spectra = P[0].get("spectra", {}) if P else {}
    if spectra:
        from ..landscape.hessian import spectral_density

        keys = sorted(spectra, key=float)
        fig, axes = plt.subplots(1, len(keys), figsize=(3.6 * len(keys), 3.6), squeeze=False)
        for ax, k in zip(axes[0], keys):
            sd = spectral_density(spectra[k]["eigenvalues"], spectra[k]["x"], float(k))
            ax.bar(sd.centers, sd.density, width=sd.centers[1] - sd.centers[0], alpha=0.5, label="Hessian eigenvalues")
            ax.plot(sd.centers, sd.theory, "r-", lw=1.2, label="Pastur law (same diagonal)")
            ax.axvline(0, color="k", lw=0.8)
            ax.set_title(f"a = {float(k):+.2f}: λ_min={sd.lambda_min:.3f}, edge th.={sd.edge_theory:.3f}", fontsize=8)
            ax.set_xlabel("eigenvalue λ of K")
            ax.set_ylabel("density")
            ax.legend(fontsize=6)
        fig.suptitle(f"Hessian spectra at the followed minimum (N={big})")
        fig.tight_layout()
        files.append(_save(fig, out_dir, f"{prefix}_spectra.png"))
    return files


def plot_reporter(points_by_instance: Iterable, a: float, out_dir: str, *, J_list: list | None = None,
                  prefix: str = "landscape") -> list[str]:
    """Figures for ``cimsim landscape``: energy histogram, index vs energy, amplitudes, spectrum of the lowest point."""
    from ..landscape.hessian import spectral_density
    from ..landscape.theory import xstar

    os.makedirs(out_dir, exist_ok=True)
    pts = [p for p in points_by_instance if len(p)]
    files: list[str] = []
    if not pts:
        return files
    n = pts[0].n
    eps = np.concatenate([p.energy / n for p in pts])
    idx = np.concatenate([p.index for p in pts])
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    axes[0].hist(eps, bins=max(5, min(40, eps.size)), color="tab:blue", alpha=0.7)
    axes[0].set_xlabel("ε = E_a/N of distinct critical points")
    axes[0].set_ylabel("count")
    axes[1].scatter(eps, idx / n, s=12)
    axes[1].set_xlabel("ε = E_a/N")
    axes[1].set_ylabel("index / N")
    axes[1].set_title("index vs energy (Bray–Dean)")
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.suptitle(f"Critical points at a = {a:+.3f}, N = {n}")
    fig.tight_layout()
    files.append(_save(fig, out_dir, f"{prefix}_energies.png"))

    lowest = min(pts, key=lambda p: p.energy.min())
    j = int(np.argmin(lowest.energy))
    x = lowest.x[j]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    axes[0].hist(x, bins=60, density=True, alpha=0.6, label="amplitudes x_i (lowest point)")
    rs = rs_solve(a) if a > -2 else None
    if rs is not None and rs.q > 0:
        z = np.random.default_rng(0).standard_normal(200000)
        axes[0].hist(xstar(np.sqrt(rs.q) * z, rs.b), bins=120, density=True, histtype="step", color="k",
                     label="RS x*(√q z)")
    axes[0].set_xlabel("amplitude x_i")
    axes[0].set_ylabel("density")
    axes[0].legend(fontsize=7)
    if lowest.eigenvalues is not None:
        sd = spectral_density(lowest.eigenvalues[j], x, a)
        axes[1].bar(sd.centers, sd.density, width=sd.centers[1] - sd.centers[0], alpha=0.5, label="Hessian eigenvalues")
        axes[1].plot(sd.centers, sd.theory, "r-", label="Pastur law")
        axes[1].axvline(0, color="k", lw=0.8)
        axes[1].set_title(f"λ_min = {sd.lambda_min:.4f}, predicted edge {sd.edge_theory:.4f}", fontsize=9)
        axes[1].set_xlabel("eigenvalue λ of K")
        axes[1].set_ylabel("density")
        axes[1].legend(fontsize=7)
    fig.suptitle(f"Lowest critical point found at a = {a:+.3f}, N = {n}")
    fig.tight_layout()
    files.append(_save(fig, out_dir, f"{prefix}_lowest.png"))
    return files


def _pump_panels(fig, axes, estimates: list, title: str, out_dir: str, name: str) -> str:
    """Finish panels plotted against the pump a (x label, transition marks ``estimates[i]`` on panel i,
    legend, grid), title, lay out and save ``fig``; return the path written."""
    for ax, est in zip(axes, estimates):
        ax.set_xlabel("pump a")
        mark_transitions(ax, est)
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, out_dir, name)


def _save(fig, out_dir: str, name: str) -> str:
    path = os.path.join(out_dir, name)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
