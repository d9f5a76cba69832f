"""Figures of ``cimsim anneal``: TTS against the swept parameter, energy distributions, and amplitude /
energy trajectories against the pump. Every function writes one PNG and returns its path."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .. import plotting as _agg  # noqa: F401  (selects the Agg backend first)
import matplotlib.pyplot as plt

__all__ = ["plot_tts", "plot_tts_hardware", "has_machine_time", "plot_energy_distribution", "plot_trajectories", "extract_trace"]


def _save(fig: Any, path: str | Path) -> Path:
    """Lay out, write (110 dpi) and close ``fig``; return the path written."""
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def _numeric(values: Sequence[Any]) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def _label(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("kind", "dict"))
    return str(value)


def _x_axis(rows: list[dict], swept: list[str]) -> tuple[str, list[Any], dict[str, list[dict]]]:
    """The x parameter (first swept, or ``steps``) and the curves (one per combination of the others)."""
    xkey = swept[0] if swept else "steps"
    others = [k for k in swept if k != xkey]
    curves: dict[str, list[dict]] = {}
    for r in rows:
        name = ", ".join(f"{k}={_label(r[k])}" for k in others) or "all"
        curves.setdefault(name, []).append(r)
    xs = [r[xkey] for r in rows]
    return xkey, xs, curves


UNITS = {"steps": "steps (MVMs / sweeps)", "s": "wall s", "round_trips": "round trips",
         "machine_s": "s on the modelled machine"}


def _draw_tts(ax: Any, ok: list[dict], swept: list[str], col: str) -> tuple[str, int]:
    """TTS column ``col`` with its interval on ``ax``; returns (x label, number of curves)."""
    xkey, xs, curves = _x_axis(ok, swept)
    numeric = _numeric(xs)
    cats = list(dict.fromkeys(_label(x) for x in xs))
    finite_vals = [r[col] for r in ok if np.isfinite(r[col])]
    top = max(finite_vals) * 3 if finite_vals else 1.0
    for name, rs in curves.items():
        xv = np.array([r[xkey] if numeric else cats.index(_label(r[xkey])) for r in rs], dtype=float)
        y = np.array([r[col] for r in rs], dtype=float)
        lo = np.array([r[f"{col}_lo"] for r in rs], dtype=float)
        hi = np.array([r[f"{col}_hi"] for r in rs], dtype=float)
        fin = np.isfinite(y)
        order = np.argsort(xv[fin])
        yf, lof = y[fin][order], lo[fin][order]
        hif = np.where(np.isfinite(hi[fin]), hi[fin], top)[order]
        line = ax.errorbar(xv[fin][order], yf, yerr=np.vstack([yf - lof, hif - yf]), marker="o", capsize=3,
                           label=name)
        if np.any(~fin):
            ax.scatter(xv[~fin], np.full(int(np.sum(~fin)), top), marker="^",
                       color=line[0].get_color(), zorder=3)
    if not finite_vals:
        ax.text(0.5, 0.5, "no setting reached the target (TTS = inf)", ha="center", va="center",
                transform=ax.transAxes)
    ax.set_yscale("log")
    if numeric:
        xs_f = np.array(xs, dtype=float)
        if np.all(xs_f > 0) and xs_f.max() / xs_f.min() >= 10:
            ax.set_xscale("log")
    else:
        ax.set_xticks(range(len(cats)))
        ax.set_xticklabels(cats, rotation=20, ha="right", fontsize=8)
    ax.set_xlabel(xkey)
    ax.grid(True, which="both", alpha=0.3)
    return xkey, len(curves)


def plot_tts(rows: list[dict], swept: list[str], path: str | Path, *, cost: str = "steps",
             title: str = "", level: float = 0.95, tts_target: float = 0.99) -> Path:
    """TTS (log axis) with bootstrap error bars against the first swept parameter.

    ``cost``: ``"steps"`` (column ``tts_steps``), ``"s"`` (``tts_s``, wall seconds), ``"round_trips"`` or
    ``"machine_s"`` (machine solvers). Settings that never reached the target (TTS = inf) are marked with a
    triangle at the top of the axis.
    """
    col = f"tts_{cost}"
    ok = [r for r in rows if r.get("status") in ("ok", "partial")]
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    _, n_curves = _draw_tts(ax, ok, swept, col)
    ax.set_ylabel(f"TTS{int(round(tts_target * 100))} [{UNITS[cost]}]")
    ax.set_title(title or f"time to solution, {int(round(level * 100))}% bootstrap CI (triangle: never solved)",
                 fontsize=9)
    if n_curves > 1:
        ax.legend(fontsize=7)
    return _save(fig, path)


def has_machine_time(rows: list[dict]) -> bool:
    """Whether the study's rows carry TTS in round trips (machine solvers: dopo, mfb)."""
    return any("tts_round_trips" in r for r in rows if r.get("status") in ("ok", "partial"))


def plot_tts_hardware(rows: list[dict], swept: list[str], path: str | Path, *, title: str = "",
                      level: float = 0.95, tts_target: float = 0.99) -> Path:
    """Success probability and TTS of a hardware study side by side: left the success probability with its
    interval, middle TTS in round trips, right TTS in seconds of the modelled machine (mfb with
    ``rep_rate``; the panel says so when the rows have no machine time)."""
    ok = [r for r in rows if r.get("status") in ("ok", "partial")]
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
    xkey, xs, curves = _x_axis(ok, swept)
    numeric = _numeric(xs)
    cats = list(dict.fromkeys(_label(x) for x in xs))
    for name, rs in curves.items():
        xv = np.array([r[xkey] if numeric else cats.index(_label(r[xkey])) for r in rs], dtype=float)
        order = np.argsort(xv)
        p = np.array([r["p_success"] for r in rs])[order]
        lo = np.array([r["p_lo"] for r in rs])[order]
        hi = np.array([r["p_hi"] for r in rs])[order]
        axes[0].errorbar(xv[order], p, yerr=np.vstack([p - lo, hi - p]), marker="o", capsize=3, label=name)
    if numeric:
        xs_f = np.array(xs, dtype=float)
        if np.all(xs_f > 0) and xs_f.max() / xs_f.min() >= 10:
            axes[0].set_xscale("log")
    else:
        axes[0].set_xticks(range(len(cats)))
        axes[0].set_xticklabels(cats, rotation=20, ha="right", fontsize=8)
    axes[0].set_xlabel(xkey)
    axes[0].set_ylabel("success probability per run")
    axes[0].grid(True, alpha=0.3)
    t = int(round(tts_target * 100))
    for ax, cost in ((axes[1], "round_trips"), (axes[2], "machine_s")):
        if any(f"tts_{cost}" in r for r in ok):
            _draw_tts(ax, [r for r in ok if f"tts_{cost}" in r], swept, f"tts_{cost}")
        else:
            ax.text(0.5, 0.5, "no machine time (give -p rep_rate=HZ)", ha="center", va="center",
                    transform=ax.transAxes)
        ax.set_ylabel(f"TTS{t} [{UNITS[cost]}]")
    if len(curves) > 1:
        axes[0].legend(fontsize=7)
    fig.suptitle(title or f"hardware study, {int(round(level * 100))}% intervals (triangle: never solved)",
                 fontsize=9)
    return _save(fig, path)


def plot_energy_distribution(rows: list[dict], swept: list[str], path: str | Path, *,
                             target_energy: float | None = None, title: str = "") -> Path:
    """Box-style summary (5/25/50/75/95 % quantiles, mean, min) of final energies per setting."""
    ok = [r for r in rows if r.get("status") in ("ok", "partial")]
    fig, ax = plt.subplots(figsize=(max(6.4, 0.5 * len(ok) + 2), 4.4))
    labels = []
    for i, r in enumerate(ok):
        ax.vlines(i, r["energy_q05"], r["energy_q95"], color="0.5")
        ax.add_patch(plt.Rectangle((i - 0.3, r["energy_q25"]), 0.6, r["energy_q75"] - r["energy_q25"],
                                   facecolor="C0", alpha=0.4, edgecolor="C0"))
        ax.hlines(r["energy_q50"], i - 0.3, i + 0.3, color="C0")
        ax.plot(i, r["energy_mean"], "kx")
        ax.plot(i, r["energy_min"], "v", color="C3")
        labels.append(", ".join(f"{k}={_label(r[k])}" for k in swept) or f"setting {r['setting']}")
    if target_energy is not None:
        ax.axhline(target_energy, color="C2", ls="--", lw=1, label="target")
        ax.legend(fontsize=7)
    ax.set_xticks(range(len(ok)))
    ax.set_xticklabels(labels, rotation=30, ha="right", fontsize=7)
    ax.set_xlim(-0.7, len(ok) - 0.3)
    ax.set_ylabel("final Ising energy H")
    ax.set_title(title or "final energies: box 25-75%, whiskers 5-95%, x mean, triangle min", fontsize=9)
    ax.grid(True, axis="y", alpha=0.3)
    return _save(fig, path)


def extract_trace(extra: dict) -> dict | None:
    """Pull a recorded trajectory out of a solver's ``extra``.

    Returns ``{"a": (T,), "x": (T, N) or None, "energy": (T, R) or None}`` or None when nothing was
    recorded. Understands ``trace_a`` / ``trace_x`` / ``trace_energy`` (the CIM-family ``record=True``
    convention, also SA's: ``trace_energy`` (T, R) without a pump, so progress is used instead) and
    ``energy_trace`` (R, steps), SA's key in results saved before the names were unified.
    """
    if not extra:
        return None
    a = extra.get("trace_a", extra.get("trace_pump"))
    x = extra.get("trace_x")
    e = extra.get("trace_energy")
    if e is None and extra.get("energy_trace") is not None:
        et = np.asarray(extra["energy_trace"], dtype=float)
        e = et.T if et.ndim == 2 else et
    if a is None and x is None and e is None:
        return None
    x = None if x is None else np.asarray(x, dtype=float)
    if x is not None and x.ndim == 3:  # (T, R, N): replica 0
        x = x[:, 0, :]
    e = None if e is None else np.asarray(e, dtype=float)
    if e is not None and e.ndim == 1:
        e = e[:, None]
    T = len(a) if a is not None else (x.shape[0] if x is not None else e.shape[0])
    return {"a": None if a is None else np.asarray(a, dtype=float).reshape(-1), "x": x, "energy": e, "T": T}


def plot_trajectories(traces: list[tuple[str, dict]], path: str | Path, *, target_energy: float | None = None,
                      max_spins: int = 24, title: str = "") -> Path:
    """Amplitudes x_i (replica 0, up to ``max_spins`` spins) and Ising energies of the readout against the
    pump ``a``, one column per setting in ``traces`` (label, :func:`extract_trace` output)."""
    k = max(1, len(traces))
    fig, axes = plt.subplots(2, k, figsize=(3.6 * k + 1, 6), squeeze=False, sharex="col")
    for c, (label, tr) in enumerate(traces):
        a = tr["a"]
        T = tr["T"]
        xa = a if a is not None and len(a) == T else np.linspace(0, 1, T)
        xlabel = "pump a" if a is not None and len(a) == T else "progress u"
        ax = axes[0, c]
        if tr["x"] is not None:
            X = tr["x"]
            ax.plot(xa[: X.shape[0]], X[:, :max_spins], lw=0.7)
        else:
            ax.text(0.5, 0.5, "no amplitudes recorded", ha="center", va="center", transform=ax.transAxes)
        ax.set_title(label, fontsize=8)
        ax.set_ylabel("amplitude x_i (replica 0)" if c == 0 else "")
        ax.axhline(0, color="0.6", lw=0.5)
        ax = axes[1, c]
        if tr["energy"] is not None:
            E = tr["energy"]
            ax.plot(xa[: E.shape[0]], E, lw=0.6, alpha=0.6)
            if target_energy is not None:
                ax.axhline(target_energy, color="k", ls="--", lw=0.8)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("Ising energy H(sign x)" if c == 0 else "")
    fig.suptitle(title or "trajectories against the pump (dashed: target energy)", fontsize=9)
    return _save(fig, path)
