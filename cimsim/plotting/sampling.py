"""Figures of a ``cimsim sample`` record: residual-energy histogram, Hamming histograms, coverage curve."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .. import plotting as _agg  # noqa: F401  (selects the Agg backend first)
import matplotlib.pyplot as plt

__all__ = ["plot_sample_record"]


def _finite(x) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def plot_sample_record(record: dict, path: str | Path) -> Path:
    """One figure of four panels from a sample record (:class:`cimsim.sampler.SampleRecord` as a dict):
    the residual energy per spin over the samples, the Hamming distance of each sample to the nearest
    ground state, the distance between successive distinct samples of a replica, and the coverage curve
    (distinct target states seen against samples taken, with the coverage time marked)."""
    fig, axes = plt.subplots(2, 2, figsize=(10, 7.5))
    n = int(record.get("n_spins", 0))

    ax = axes[0, 0]
    rh = record.get("residual_histogram") or {}
    edges, counts = np.asarray(rh.get("edges", []), float), np.asarray(rh.get("counts", []), float)
    if counts.size and edges.size == counts.size + 1:
        ax.bar(edges[:-1], counts, width=np.diff(edges), align="edge", color="C0", alpha=0.8)
        ax.set_yscale("log" if counts.max() > 50 * max(counts[counts > 0].min(), 1) else "linear")
    ax.set_xlabel(f"residual energy per spin (H - E0)/N, E0 = {rh.get('e0', '?')}")
    ax.set_ylabel("samples")
    ax.set_title(f"{record.get('samples', 0)} samples, {record.get('distinct', 0)} distinct states", fontsize=9)

    for ax, hist, label in ((axes[0, 1], (record.get("hamming_to_ground") or {}).get("counts", []),
                             "Hamming distance to the nearest ground state"),
                            (axes[1, 0], record.get("hamming_jumps", []),
                             "Hamming distance between successive distinct samples")):
        h = np.asarray(hist, dtype=float)
        if h.size:
            ax.bar(np.arange(h.size), h, width=0.9, color="C1", alpha=0.8)
            if h.max() > 50 * max(h[h > 0].min(), 1):
                ax.set_yscale("log")
        flip = record.get("canonical") and ax is axes[0, 1]
        ax.set_xlabel(label + (" (up to the global flip)" if flip else ""), fontsize=8)
        ax.set_ylabel("samples" if ax is axes[0, 1] else "jumps")
        ax.set_xlim(-0.5, max(n, h.size - 1, 1) + 0.5)

    ax = axes[1, 1]
    tgt = record.get("target") or {}
    curve = tgt.get("curve") or {}
    xs, ys = np.asarray(curve.get("samples", []), float), np.asarray(curve.get("seen", []), float)
    size = int(tgt.get("size") or 0)
    total = int(record.get("samples", 0))
    if xs.size:
        ax.step(np.concatenate([[0], xs, [max(total, xs[-1])]]), np.concatenate([[0], ys, [ys[-1]]]), where="post",
                color="C2")
    elif total:
        ax.plot([0, total], [0, 0], color="C2")  # no target state seen
    ax.set_xscale("symlog", linthresh=1)
    ax.set_xlim(0, max(total, float(xs[-1]) if xs.size else 0, 1))
    ax.set_ylim(0, 1.05 * max(size, float(ys[-1]) if ys.size else 0, 1))
    if size:
        ax.axhline(size, color="k", ls=":", lw=1, label=f"target set: {size} states ({tgt.get('source')})")
    cov = _finite(tgt.get("coverage_samples"))
    if cov is not None:
        ax.axvline(cov, color="C3", ls="--", lw=1, label=f"coverage: {cov:.0f} samples = {cov * record.get('every', 1):.0f} steps")
    if size or cov is not None:
        ax.legend(fontsize=7, loc="lower right")
    ax.set_xlabel(f"samples (x every = {record.get('every', 1)} steps)")
    ax.set_ylabel("distinct target states seen")
    ax.set_title("states up to the first excited level" if size else "no target set", fontsize=9)

    for a in axes.flat:
        a.grid(alpha=0.3)
    fig.suptitle(f"{record.get('problem', '')} {record.get('file') or ''}: N = {n}, solver {record.get('solver', '')}",
                 fontsize=10)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
