"""Figures rendered from saved results by ``cimsim plot``: a solve record, a landscape summary, and the output
format switch shared by every figure module.

Every function writes one figure file and returns its path; the format follows the path's suffix
(``.png`` or ``.pdf``).
"""
from __future__ import annotations

import contextlib
import math
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from .. import plotting as _agg  # noqa: F401  (selects the Agg backend first)
import matplotlib.figure
import matplotlib.pyplot as plt

__all__ = ["plot_solve_record", "plot_landscape_summary", "figure_format", "FORMATS"]

FORMATS = ("png", "pdf")


@contextlib.contextmanager
def figure_format(fmt: str, written: list[str] | None = None) -> Iterator[None]:
    """Within the block, every ``Figure.savefig`` to a ``.png`` path writes ``fmt`` instead (same stem).

    The figure modules name their files ``*.png``; this lets ``cimsim plot --format pdf`` reuse them
    unchanged. Paths actually written are appended to ``written`` when given.
    """
    original = matplotlib.figure.Figure.savefig

    def savefig(self: Any, fname: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(fname, (str, Path)):
            p = Path(fname)
            if p.suffix.lower() == ".png" and fmt != "png":
                p = p.with_suffix(f".{fmt}")
                kwargs.pop("format", None)
            fname = str(p) if isinstance(fname, str) else p
            if written is not None:
                written.append(str(p))
        return original(self, fname, *args, **kwargs)

    matplotlib.figure.Figure.savefig = savefig  # type: ignore[method-assign]
    try:
        yield
    finally:
        matplotlib.figure.Figure.savefig = original  # type: ignore[method-assign]


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.10g}" if math.isfinite(v) else str(v)
    return str(v)


def plot_solve_record(record: dict, path: str | Path, *, title: str = "") -> Path:
    """One ``cimsim solve --json`` record (or ``Result.to_dict()``): the spin configuration as a raster,
    the replica energies when present (``energies`` list), and a text panel with the answer's figures."""
    spins = np.asarray(record.get("spins", []), dtype=float)
    energies = record.get("energies")
    has_e = isinstance(energies, list) and len(energies) > 1
    ncols = 3 if has_e else 2
    fig, axes = plt.subplots(1, ncols, figsize=(4.2 * ncols, 4.0))
    ax = axes[0]
    if spins.size:
        w = int(math.ceil(math.sqrt(spins.size)))
        grid = np.full(w * w, np.nan)
        grid[: spins.size] = spins
        ax.imshow(grid.reshape(w, w), cmap="coolwarm", vmin=-1, vmax=1, interpolation="nearest")
        ax.set_title(f"spins (N = {spins.size}; red +1, blue -1)", fontsize=9)
        ax.set_xlabel(f"row-major, {w} per row", fontsize=8)
    else:
        ax.text(0.5, 0.5, "no spins in the record", ha="center", va="center", transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])
    if has_e:
        ax = axes[1]
        e = np.asarray(energies, dtype=float)
        ax.hist(e, bins=max(5, min(40, e.size // 2)), color="C0", alpha=0.7)
        ax.axvline(float(record.get("energy", e.min())), color="C3", ls="--", lw=1, label="best")
        ax.set_xlabel("final Ising energy H per replica")
        ax.set_ylabel("replicas")
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    ax = axes[-1]
    ax.axis("off")
    keys = ["problem", "file", "solver", "n_spins", "objective_name", "objective", "energy", "feasible", "target",
            "gap", "replicas", "steps", "batches", "time_s", "seed"]
    lines = [f"{k:<15}{_fmt(record[k])}" for k in keys if k in record and record[k] is not None]
    ax.text(0.0, 1.0, "\n".join(lines), va="top", ha="left", family="monospace", fontsize=8, transform=ax.transAxes)
    fig.suptitle(title or f"{record.get('problem', 'solve')} result", fontsize=10)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def plot_landscape_summary(payload: dict, path: str | Path) -> Path:
    """A ``cimsim landscape --json`` file: eps = E_a/N histogram and Hessian index / N against eps (the
    amplitudes and spectra need the ``--points`` file instead)."""
    pts = payload.get("points", [])
    eps = np.array([p["eps"] for p in pts], dtype=float)
    idx = np.array([p["index_frac"] for p in pts], dtype=float)
    lam = np.array([p["lambda_min"] for p in pts], dtype=float)
    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    if eps.size:
        axes[0].hist(eps, bins=max(5, min(40, eps.size)), color="tab:blue", alpha=0.7)
        axes[1].scatter(eps, idx, s=12)
        axes[2].scatter(eps, lam, s=12, color="tab:green")
    rs = payload.get("rs_theory") or {}
    if "eps" in rs and math.isfinite(rs["eps"]):
        axes[0].axvline(rs["eps"], color="k", ls="--", lw=1, label=f"RS eps = {rs['eps']:.4f}")
        axes[0].legend(fontsize=7)
    axes[0].set_xlabel("ε = E_a/N")
    axes[0].set_ylabel("distinct critical points")
    axes[1].set_xlabel("ε = E_a/N")
    axes[1].set_ylabel("Hessian index / N")
    axes[2].set_xlabel("ε = E_a/N")
    axes[2].set_ylabel("λ_min of the Hessian")
    axes[2].axhline(0, color="k", lw=0.8)
    for ax in axes:
        ax.grid(alpha=0.3)
    kind = "minima" if payload.get("index", 0) == 0 else f"index-{payload.get('index')} saddles"
    fig.suptitle(f"SK landscape: {kind} at a = {payload.get('a', float('nan')):+.3f}, N = {payload.get('n')}, "
                 f"{len(pts)} points", fontsize=10)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
