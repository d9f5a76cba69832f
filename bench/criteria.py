"""Check the benchmark issue's acceptance rules against a result store, and say plainly where cimsim is behind.

    python bench/criteria.py [--out bench/results/full] [--budget 10] [--solver auto] [--write FILE]

Reads every finished call in ``DIR/tasks`` (see bench/README.md) and, at the given budget:

* Gset: cimsim ``--solver``'s median cut against every peer's median on each graph; counts the graphs
  where it is >= every peer (ties count) and where it is strictly above the best peer; its mean ratio
  (median cut / best known) over the graphs whose best known cut applies (a truncated data file has none);
* SK: mean energy per spin over seeds, cimsim against every peer;
* rows whose mean call time exceeded twice the budget are flagged (their objective was bought with time).

Prints a markdown report (and writes it with ``--write``). Peers that have no call on an instance (dense-
only peers above their size limit, a peer that is not installed) are listed as absent, not as beaten.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.rows import BUDGET_SLACK  # noqa: E402
from bench.instances import load_instance  # noqa: E402
from bench.peers import PEERS  # noqa: E402
from cimsim.solvers import auto_solver  # noqa: E402

__all__ = ["load_calls", "report"]


def load_calls(store: Path) -> dict[tuple[str, str, float], list[tuple[int, float, float]]]:
    """(instance, solver label, budget) -> [(seed, objective, elapsed_s)] of every finished call."""
    calls: dict[tuple[str, str, float], list[tuple[int, float, float]]] = defaultdict(list)
    for f in sorted((store / "tasks").glob("*.json")):
        d = json.loads(f.read_text())
        p = d.get("params", {})
        if p.get("task") != "call" or d.get("status") != "ok":
            continue
        label = PEERS.get(p["solver"], p["solver"]) if p["family"] == "peer" else p["solver"]
        row = d["row"]
        calls[(p["instance"], label, float(p["budget_s"]))].append(
            (int(p["seed"]), float(row["objective"]), float(row["elapsed_s"])))
    return calls


def report(store: Path, budget: float, solver: str) -> str:
    calls = load_calls(store)
    peers = list(PEERS.values())
    instances = sorted({k[0] for k in calls if k[2] == budget},
                       key=lambda s: (not s.startswith("G"), int(s[1:]) if s[1:].isdigit() else 0, s))
    out = [f"# Acceptance check: `{solver}` against the peers at {budget:g} s (store `{store}`)", ""]
    med = lambda xs: statistics.median(x[1] for x in xs)  # noqa: E731
    mean = lambda xs: statistics.fmean(x[1] for x in xs)  # noqa: E731
    slow = lambda xs: statistics.fmean(x[2] for x in xs) > BUDGET_SLACK * budget  # noqa: E731

    gset = [i for i in instances if i.startswith("G")]
    out += ["| graph | best known | " + f"{solver} median | " + " | ".join(f"{p} median" for p in peers)
            + " | verdict |", "|" + "---|" * (len(peers) + 4)]
    ge = above = counted = 0
    ratios: list[tuple[str, float]] = []
    behind: list[str] = []
    picked: list[tuple[str, str]] = []  # what `auto` runs on each graph
    for g in gset:
        mine = calls.get((g, solver, budget))
        if not mine:
            out.append(f"| {g} | | no {solver} call | " + " | ".join("" for _ in peers) + " | not run |")
            continue
        inst = load_instance(g)
        m = med(mine)
        cells, theirs = [], {}
        for p in peers:
            c = calls.get((g, p, budget))
            if c:
                theirs[p] = med(c)
                cells.append(f"{theirs[p]:g}" + (" (over budget)" if slow(c) else "") + f" ({len(c)})")
            else:
                cells.append("absent")
        counted += 1
        best_peer = max(theirs.values()) if theirs else float("-inf")
        if m >= best_peer:
            ge += 1
        if m > best_peer:
            above += 1
        if m < best_peer:
            who = ", ".join(p for p, v in theirs.items() if v > m)
            behind.append(f"{g}: {solver} median {m:g} < {who} ({best_peer:g})")
        verdict = "ahead" if m > best_peer else ("tied" if m == best_peer else "BEHIND")
        if solver == "auto":
            picked.append((g, auto_solver(inst.model)))
        if inst.best_known:
            ratios.append((g, m / inst.best_known))
        bk = f"{inst.best_known:g}" if inst.best_known else "n/a (truncated file)"
        out.append(f"| {g} | {bk} | {m:g} ({len(mine)}){' (over budget)' if slow(mine) else ''} | "
                   + " | ".join(cells) + f" | {verdict} |")
    out.append("")
    if counted:
        mr = statistics.fmean(r for _, r in ratios) if ratios else float("nan")
        out.append(f"- Median cut >= every peer's on **{ge} of {counted}** graphs (rule: >= 18 of 20); strictly above "
                   f"the best peer on **{above}** (rule: >= 8).")
        lowest = ", ".join(f"{g} {r:.4f}" for g, r in sorted(ratios, key=lambda t: t[1])[:4])
        out.append(f"- Mean ratio of the median cut to the best known over the {len(ratios)} graphs with a valid "
                   f"best known: **{mr:.5f}** (rule: >= 0.999); lowest: {lowest}.")
        out.append("- Behind: " + ("; ".join(behind) if behind else "nowhere") + ".")
        if picked:
            by: dict[str, list[str]] = defaultdict(list)
            for g, name in picked:
                by[name].append(g)
            out.append("- `auto` ran " + "; ".join(f"`{k}` on {', '.join(v)}" for k, v in sorted(by.items())) + ".")
    sk = [i for i in instances if i.startswith("SK")]
    if sk:
        out += ["", "| SK | " + f"{solver} mean e/N | " + " | ".join(f"{p} mean e/N" for p in peers) + " |",
                "|" + "---|" * (len(peers) + 2)]
        for name in sk:
            mine = calls.get((name, solver, budget))
            cells = []
            for p in peers:
                c = calls.get((name, p, budget))
                cells.append(f"{mean(c):.5f}" + (" (over budget)" if slow(c) else "") + f" ({len(c)})" if c else "absent")
            out.append(f"| {name} | " + (f"{mean(mine):.5f} ({len(mine)})" if mine else "not run") + " | "
                       + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="bench/results/full", help="result store (default bench/results/full)")
    ap.add_argument("--budget", type=float, default=10.0)
    ap.add_argument("--solver", default="auto", help="cimsim solver label (default auto: what `cimsim solve` runs)")
    ap.add_argument("--write", default=None, help="also write the report to this file")
    a = ap.parse_args(argv)
    store = Path(a.out)
    if not (store / "tasks").is_dir():
        print(f"criteria: no result store at {store} (run bench/run.py --out {store} first)", file=sys.stderr)
        return 2
    text = report(store, a.budget, a.solver)
    print(text, end="")
    if a.write:
        Path(a.write).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
