"""The generated-instance table beside the shared one: auto against the best peer, per instance, and a figure.

    python bench/generated_report.py [--csv bench/results/generated/generated-10s.csv] [--load "LOAD TEXT"]

Reads a bench/run.py table (one row per instance x solver-or-peer, median over seeds) of ``auto`` and the
peers on the generated instances (bench/generated.py), and writes next to it ``<stem>-summary.md`` (per
instance: the feature class and solver ``auto`` picked with its reason, auto's median cut, each peer's,
the ratio to the best peer, the verdict; the counts "at or above every peer" and "strictly above the best
peer", on the median cut) and ``<stem>.png`` (the ratio per instance). Exit 2 with one line on a bad CSV.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cimsim import CimsimError  # noqa: E402

from bench.report import read_csv  # noqa: E402

__all__ = ["summarise", "main"]

PEERS = ("neal", "openjij")


def summarise(rows: list, cimsim_label: str = "auto") -> list[dict]:
    """One dict per instance: ``instance``, ``n``, ``auto`` (median), ``peers`` {label: median}, ``best_peer``,
    ``ratio`` (auto / best peer median), ``verdict`` (``ahead``, ``tied``, ``BEHIND``)."""
    by: dict[str, dict] = {}
    for r in rows:
        if r.status != "ok":
            continue
        d = by.setdefault(r.instance, {"instance": r.instance, "n": r.n, "peers": {}})
        if r.solver == cimsim_label:
            d["auto"] = float(r.median_obj)
            d["auto_best"] = float(r.best_obj)
            d["seeds"] = int(r.repeats)
        elif r.solver in PEERS:
            d["peers"][r.solver] = float(r.median_obj)
    out = []
    for d in by.values():
        if "auto" not in d or not d["peers"]:
            continue
        label, best = max(d["peers"].items(), key=lambda kv: kv[1])
        d["best_peer"] = label
        d["ratio"] = d["auto"] / best if best else float("nan")
        d["verdict"] = "ahead" if d["auto"] > best else ("tied" if d["auto"] == best else "BEHIND")
        out.append(d)
    return out


def _choices(names: list[str]) -> dict[str, tuple[str, str]]:
    """instance -> (solver auto picks, its reason), recomputed from the instance (the same code as the run)."""
    from bench.instances import load_instance
    from cimsim.solvers import auto_choice

    out = {}
    for name in names:
        inst = load_instance(name)
        if inst.model is not None:
            c = auto_choice(inst.model)
            out[name] = (c.solver, c.reason.split(":")[0])
    return out


def write_summary(summary: list[dict], path: Path, *, header: str = "") -> Path:
    picks = _choices([d["instance"] for d in summary])
    lines = [header.rstrip(), ""] if header else []
    lines += ["| instance | N | auto picks | feature class | auto median | neal median | openjij median | "
              "auto / best peer | verdict |", "|---|---|---|---|---|---|---|---|---|"]
    for d in summary:
        solver, why = picks.get(d["instance"], ("?", ""))
        peers = [f"{d['peers'][p]:.6g}" if p in d["peers"] else "-" for p in PEERS]
        lines.append(f"| {d['instance']} | {d['n']} | {solver} | {why} | {d['auto']:.6g} | {peers[0]} | {peers[1]} | "
                     f"{d['ratio']:.5f} | {d['verdict']} |")
    at = sum(d["verdict"] != "BEHIND" for d in summary)
    above = sum(d["verdict"] == "ahead" for d in summary)
    lines += ["", f"Median cut over the seeds: `auto` at or above every peer on **{at} of {len(summary)}** "
                  f"generated instances, strictly above the best peer on **{above}**."]
    behind = [d for d in summary if d["verdict"] == "BEHIND"]
    if behind:
        lines.append("Behind: " + "; ".join(f"{d['instance']} ({d['auto']:.6g} vs {d['best_peer']} "
                                            f"{d['peers'][d['best_peer']]:.6g})" for d in behind) + ".")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def plot(summary: list[dict], path: Path, title: str) -> Path:
    import cimsim.plotting  # noqa: F401  (selects the Agg backend)
    import matplotlib.pyplot as plt

    picks = _choices([d["instance"] for d in summary])
    colour = {"sa": "tab:blue", "matching": "tab:green", "cfc": "tab:orange", "exact": "tab:gray"}
    fig, ax = plt.subplots(figsize=(8, 0.32 * len(summary) + 1.5))
    ys = range(len(summary))
    vals = [100.0 * (d["ratio"] - 1.0) for d in summary]
    ax.barh(list(ys), vals, color=[colour.get(picks.get(d["instance"], ("?",))[0], "k") for d in summary])
    ax.set_yticks(list(ys), [f"{d['instance']} ({picks.get(d['instance'], ('?',))[0]})" for d in summary], fontsize=8)
    ax.axvline(0.0, color="k", lw=0.8)
    ax.invert_yaxis()
    ax.set_xlabel("auto median cut / best peer median cut - 1  (%)")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench/generated_report.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--csv", default=str(Path(__file__).resolve().parent / "results" / "generated" / "generated-10s.csv"))
    p.add_argument("--header", default="", help="text put above the summary table (commands, commit, load)")
    args = p.parse_args(argv)
    path = Path(args.csv)
    try:
        if not path.is_file():
            raise CimsimError(f"{path}: no such file")
        summary = summarise(read_csv(path))
        if not summary:
            raise CimsimError(f"{path}: no instance has both an auto row and a peer row")
    except CimsimError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    md = write_summary(summary, path.with_name(path.stem + "-summary.md"), header=args.header)
    png = plot(summary, path.with_suffix(".png"), f"{path.stem}: auto against the best of neal and OpenJij (median)")
    print(md.read_text(encoding="utf-8"))
    print(png)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
