"""SK figures: Ising energy per spin against N for several CIM variants (the seed talk's plot)."""
from __future__ import annotations

from pathlib import Path
from typing import Mapping

import numpy as np

# the package __init__ (imported first) selects the Agg backend
import matplotlib.pyplot as plt

__all__ = ["energy_vs_n_figure"]

_STYLE = {
    "adiabatic": dict(color="tab:red", marker="o"),
    "constant (best a)": dict(color="tab:blue", marker="s"),
    "bifurcation": dict(color="tab:green", marker="^", markersize=8),
    "spectral": dict(color="tab:gray", marker="v", linestyle="--"),
}


def energy_vs_n_figure(
    series: Mapping[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
    path: str | Path,
    *,
    parisi: float = -0.7631667,
    reference: Mapping[int, tuple[float, float]] | None = None,
    title: str = "SK: Ising energy per spin of the final signs",
) -> Path:
    """Write a PNG of e(N) per variant with error bars, the Parisi line and optional reference points.

    series : label -> (N values (K,), mean e (K,), sem (K,))
    reference : N -> (mean, sem) of the physics.md 7.2 adiabatic reference, drawn as open circles.
    """
    fig, ax = plt.subplots(figsize=(7.0, 4.8), dpi=120)
    for label, (ns, mean, sem) in series.items():
        style = dict(markersize=5, linewidth=1.4, capsize=3)
        style.update(_STYLE.get(label, {}))
        err = np.where(np.isfinite(sem), sem, 0.0)
        ax.errorbar(ns, mean, yerr=err, label=label, **style)
    if reference:
        rn = np.array(sorted(reference))
        ax.errorbar(rn, [reference[n][0] for n in rn], yerr=[reference[n][1] for n in rn], fmt="o",
                    mfc="none", color="black", capsize=2, markersize=7, label="adiabatic, physics.md 7.2")
    ax.axhline(parisi, color="black", linewidth=1.0, linestyle=":", label=f"Parisi {parisi:.4f}")
    ax.set_xscale("log")
    ax.set_xlabel("N (spins)")
    ax.set_ylabel("energy per spin  H(s)/N")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="center right", framealpha=0.9)
    fig.tight_layout()
    p = Path(path)
    fig.savefig(p)
    plt.close(fig)
    return p
