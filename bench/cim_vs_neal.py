"""Issue 20 fronts 2 and 3: a cimsim solver's median objective against the peers', per instance, from a
harness run table (``bench/run.py ... --tag T`` wrote ``DIR/T.csv``).

    python bench/cim_vs_neal.py bench/results/cim-vs-neal/cim-vs-neal-10s.csv --solver cfc \
        --out bench/results/cim-vs-neal/summary-10s

writes ``<out>.md`` (the table, the counts and the notes), ``<out>.csv`` and ``<out>.png``. The counts are
taken over the Gset rows: at or above neal's median, at or above every peer's, strictly above the best peer,
median equal to the best known (only where the best known is valid: the truncated G58/G63 files have none).
SK rows compare energy per spin (lower is better). Per-seed values come from the run's task store when
``DIR/tasks`` exists.
"""
from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
from pathlib import Path

PEERS = ("neal", "openjij")


def _labels() -> dict[str, str]:
    """Peer adapter name -> harness label (bench.peers.PEERS)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.peers import PEERS as registry

    return dict(registry)


LABELS = _labels()


def _float(x: str) -> float | None:
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def per_seed(store: Path) -> dict[tuple[str, str], list[float]]:
    """(instance, solver) -> objectives by seed, from ``store/tasks/*.json`` (empty when there is none)."""
    out: dict[tuple[str, str], dict[int, float]] = {}
    tasks = store / "tasks"
    if not tasks.is_dir():
        return {}
    for f in tasks.glob("*.json"):
        try:
            d = json.loads(f.read_text())
        except (OSError, ValueError):
            continue
        par, row = d.get("params") or {}, d.get("row") or {}
        if not isinstance(par, dict) or par.get("task") != "call" or row.get("objective") is None:
            continue
        name = par["solver"] if par.get("family") == "cimsim" else LABELS.get(par["solver"], par["solver"])
        out.setdefault((par["instance"], name), {})[int(par["seed"])] = float(row["objective"])
    return {k: [v[s] for s in sorted(v)] for k, v in out.items()}


def summarise(rows: list[dict], solver: str, seeds: dict) -> tuple[list[dict], dict]:
    by = {(r["instance"], r["solver"]): r for r in rows}
    table, counts = [], {"gset": 0, "ge_neal": 0, "ge_all_peers": 0, "gt_best_peer": 0, "valid_bk": 0, "eq_bk": 0}
    for inst in dict.fromkeys(r["instance"] for r in rows):
        me = by.get((inst, solver))
        if me is None:
            continue
        kind = me["kind"]
        sign = -1.0 if kind == "sk" else 1.0  # compare as "higher is better"
        med = _float(me["median_obj"])
        peers = {p: _float(by[(inst, p)]["median_obj"]) if (inst, p) in by else None for p in PEERS}
        bk = _float(me["best_known"])
        valid_bk = kind == "gset" and bk is not None and "truncated" not in (me.get("note") or "")
        row = {"instance": inst, "kind": kind, "n": me["n"], "solver": solver, "median": med,
               **{f"{p}_median": v for p, v in peers.items()}, "best_known": bk if valid_bk or kind != "gset" else None,
               "seeds": json.dumps(seeds.get((inst, solver), [])),
               "neal_seeds": json.dumps(seeds.get((inst, "neal"), [])),
               "openjij_seeds": json.dumps(seeds.get((inst, "openjij"), []))}
        known = [v for v in peers.values() if v is not None]
        if med is not None and known:
            best_peer = max(sign * v for v in known)
            row["ge_neal"] = peers["neal"] is not None and sign * med >= sign * peers["neal"]
            row["ge_all_peers"] = sign * med >= best_peer
            row["gt_best_peer"] = sign * med > best_peer
        row["eq_best_known"] = bool(valid_bk and med is not None and med >= bk)
        if kind == "gset":
            counts["gset"] += 1
            counts["ge_neal"] += bool(row.get("ge_neal"))
            counts["ge_all_peers"] += bool(row.get("ge_all_peers"))
            counts["gt_best_peer"] += bool(row.get("gt_best_peer"))
            counts["valid_bk"] += valid_bk
            counts["eq_bk"] += row["eq_best_known"]
        table.append(row)
    return table, counts


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.6g}" if abs(v) < 10 else f"{v:.0f}"
    return str(v)


def write(table: list[dict], counts: dict, solver: str, header: str, out: Path, notes: list[str]) -> None:
    cols = ["instance", "n", "median", "neal_median", "openjij_median", "best_known", "ge_neal", "ge_all_peers",
            "gt_best_peer", "eq_best_known", "seeds", "neal_seeds", "openjij_seeds"]
    with open(out.with_suffix(".csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["solver", "kind", *cols], extrasaction="ignore")
        w.writeheader()
        w.writerows(table)
    lines = [f"# {solver} against neal and OpenJij: median objective per instance", "", header, "",
             f"| instance | N | {solver} median | neal median | OpenJij median | best known | >= neal | >= every peer "
             f"| > best peer | = best known | {solver} per seed | neal per seed | OpenJij per seed |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in table:
        lines.append("| " + " | ".join(_fmt(r.get(c)) for c in cols).replace('"', "") + " |")
    c = counts
    lines += ["", f"**Gset ({c['gset']} graphs):** {solver} median at or above neal's on **{c['ge_neal']}/{c['gset']}**, "
              f"at or above every peer on {c['ge_all_peers']}/{c['gset']}, strictly above the best peer on "
              f"{c['gt_best_peer']}/{c['gset']}; median equal to the best known on {c['eq_bk']}/{c['valid_bk']} graphs "
              "with a valid best known.", ""]
    lines += notes
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    _figure(table, solver, out.with_suffix(".png"))


def _figure(table: list[dict], solver: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    g = [r for r in table if r["kind"] == "gset" and r["median"] is not None and r["neal_median"]]
    if not g:
        return
    x = np.arange(len(g))
    fig, ax = plt.subplots(figsize=(11, 4))
    ref = np.array([r["neal_median"] for r in g])
    for k, (key, label) in enumerate(((("median"), solver), ("openjij_median", "OpenJij"), ("best_known", "best known"))):
        y = np.array([(r.get(key) or np.nan) for r in g], dtype=float)
        ax.bar(x + (k - 1) * 0.27, y - ref, width=0.27, label=label)
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xticks(x, [r["instance"] for r in g], rotation=45)
    ax.set_ylabel("median cut - neal's median cut")
    ax.set_title(f"{solver} vs neal at equal wall-clock budget (G58/G63: truncated files, no best known)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("table", help="a harness run table (DIR/<tag>.csv)")
    p.add_argument("--solver", required=True)
    p.add_argument("--out", required=True, help="output stem (writes .md, .csv, .png)")
    p.add_argument("--note", action="append", default=[], help="a line appended to the markdown (repeatable)")
    a = p.parse_args(argv)
    src = Path(a.table)
    if not src.is_file():
        print(f"cim_vs_neal: error: no table {src}", file=sys.stderr)
        return 2
    rows = list(csv.DictReader(open(src)))
    md = src.with_suffix(".md")
    header = next((ln for ln in md.read_text().splitlines() if ln.startswith("Started")), "") if md.is_file() else ""
    table, counts = summarise(rows, a.solver, per_seed(src.parent))
    write(table, counts, a.solver, header, Path(a.out), a.note)
    print(Path(a.out).with_suffix(".md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
