"""Check the benchmark issue's acceptance rules against a benchmark's results, and say plainly where cimsim is behind.

    python bench/criteria.py [--out bench/results/final] [--budget 10] [--solver auto] [--write FILE] [--data DIR]

Reads the results in ``DIR`` (see bench/README.md): the per-call store ``DIR/tasks`` when it is there (a
machine that ran the benchmark), else the committed tables ``DIR/*.csv`` that bench/run.py wrote (a fresh
clone: one row per instance x solver x budget, with its median, mean call time and best known value).
At the given budget:

* Gset: cimsim ``--solver``'s median cut against every peer's median on each graph; counts the graphs
  where it is >= every peer (ties count) and where it is strictly above the best peer; its mean ratio
  (median cut / best known) over the graphs whose best known cut applies (a truncated data file has none);
* SK: energy per spin over seeds, cimsim against every peer (the mean from a store; the tables hold the
  median only, and the report says which);
* rows whose mean call time exceeded twice the budget are flagged (their objective was bought with time).

Prints a markdown report (and writes it with ``--write``). Peers that have no call on an instance (dense-
only peers above their size limit, a peer that is not installed) are listed as absent, not as beaten.
Which solver ``auto`` picked per graph needs the instance data (``--data`` / ``CIMSIM_DATA``); without it
that line says so. No results in ``DIR``: one line on stderr, exit status 2.
"""
from __future__ import annotations

import argparse
import functools
import json
import math
import statistics
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.data import ENV as DATA_ENV, add_data_option, data_root  # noqa: E402
from bench.instances import load_instance  # noqa: E402
from bench.peers import PEERS  # noqa: E402
from bench.report import read_csv  # noqa: E402
from bench.rows import BUDGET_SLACK  # noqa: E402
from cimsim import CimsimError  # noqa: E402

__all__ = ["load_calls", "load_cells", "report", "Cell"]

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "bench" / "results" / "final"


@dataclass
class Cell:
    """One instance x solver x budget: its calls summarised."""

    median: float
    mean: float | None  # None when read from a table (which holds the median only)
    count: int
    elapsed_mean: float
    best_known: float | None = None  # from a table row (None: unknown or not in the source)
    truncated: bool = False  # the table row says its data file was truncated

    def slow(self, budget: float) -> bool:
        return self.elapsed_mean > BUDGET_SLACK * budget

    def tag(self, budget: float) -> str:
        return (" (over budget)" if self.slow(budget) else "") + f" ({self.count})"


# --------------------------------------------------------------------------------------------------
# reading the results


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


def _cells_from_store(store: Path) -> dict[tuple[str, str, float], Cell]:
    return {k: Cell(statistics.median(x[1] for x in v), statistics.fmean(x[1] for x in v), len(v),
                    statistics.fmean(x[2] for x in v))
            for k, v in load_calls(store).items()}


def _table_files(out: Path) -> list[Path]:
    """The bench/run.py tables in ``out`` (CSV files whose header is the Row fields)."""
    found = []
    for f in sorted(out.glob("*.csv")):
        with open(f, encoding="utf-8") as fh:
            head = fh.readline()
        if head.startswith("instance,") and "median_obj" in head and "elapsed_mean_s" in head:
            found.append(f)
    return found


def _cells_from_tables(files: list[Path]) -> dict[tuple[str, str, float], Cell]:
    cells = {}
    for f in files:
        for r in read_csv(f):
            if r.status != "ok":
                continue
            best = r.best_known if math.isfinite(r.best_known) else None
            cells[(r.instance, r.solver, float(r.budget_s))] = Cell(r.median_obj, None, r.repeats, r.elapsed_mean_s, best,
                                                                    "data file truncated" in r.note)
    return cells


def _shown(out: Path) -> Path:
    """``out`` relative to the repository when it lies inside it (reports are committed)."""
    try:
        return out.resolve().relative_to(REPO)
    except ValueError:
        return out


def load_cells(out: Path) -> tuple[dict[tuple[str, str, float], Cell], str]:
    """The results in ``out`` and a description of their source; raises CimsimError when there are none."""
    if (out / "tasks").is_dir():
        return _cells_from_store(out), f"store `{_shown(out)}`"
    files = _table_files(out) if out.is_dir() else []
    if not files:
        raise CimsimError(f"no results at {out}: neither a result store ({out}/tasks) nor bench/run.py tables "
                          f"({out}/*.csv); run bench/run.py --out {out} first, or pass --out DIR")
    return _cells_from_tables(files), f"tables {', '.join(f'`{f.name}`' for f in files)} in `{_shown(out)}`"


# --------------------------------------------------------------------------------------------------
# the report


@dataclass
class _GsetTally:
    counted: int = 0
    ge: int = 0
    above: int = 0

    def __post_init__(self) -> None:
        self.ratios: list[tuple[str, float]] = []
        self.behind: list[str] = []
        self.picked: list[tuple[str, str]] = []  # what `auto` runs on each graph
        self.no_data = False


@functools.lru_cache(maxsize=1)
def _load(g: str, data: Path):
    """The instance (one kept: the best known value and the auto pick of a graph are asked in turn)."""
    return load_instance(g, data)


def _best_known(g: str, mine: Cell, from_store: bool, data: Path) -> tuple[float | None, str]:
    """(best known cut or None, table cell): from the table row, else from the instance data."""
    if not from_store:
        if mine.best_known:
            return mine.best_known, f"{mine.best_known:g}"
        return None, "n/a (truncated file)" if mine.truncated else "n/a (unknown)"
    if not data.is_dir():
        return None, f"n/a (no data: set {DATA_ENV})"
    inst = _load(g, data)
    if inst.best_known:
        return inst.best_known, f"{inst.best_known:g}"
    return None, "n/a (truncated file)" if inst.note else f"n/a ({inst.status or 'unknown'})"


def _auto_pick(g: str, data: Path) -> str | None:
    """The solver `cimsim solve` (auto) runs on graph ``g``, or None without the instance data."""
    if not data.is_dir():
        return None
    inst = _load(g, data)
    if inst.model is None:
        return None
    from cimsim.solvers import auto_solver

    return auto_solver(inst.model)


def _gset_line(g: str, solver: str, budget: float, cells: dict, from_store: bool, data: Path, t: _GsetTally) -> str:
    peers = list(PEERS.values())
    mine = cells.get((g, solver, budget))
    if mine is None:
        return f"| {g} | | no {solver} call | " + " | ".join("" for _ in peers) + " | not run |"
    m = mine.median
    theirs = {p: cells[(g, p, budget)] for p in peers if (g, p, budget) in cells}
    row_cells = [f"{theirs[p].median:g}{theirs[p].tag(budget)}" if p in theirs else "absent" for p in peers]
    t.counted += 1
    best_peer = max((c.median for c in theirs.values()), default=float("-inf"))
    t.ge += m >= best_peer
    t.above += m > best_peer
    if m < best_peer:
        who = ", ".join(p for p, c in theirs.items() if c.median > m)
        t.behind.append(f"{g}: {solver} median {m:g} < {who} ({best_peer:g})")
    verdict = "ahead" if m > best_peer else ("tied" if m == best_peer else "BEHIND")
    if solver == "auto":
        pick = _auto_pick(g, data)
        if pick is None:
            t.no_data = True
        else:
            t.picked.append((g, pick))
    best, bk = _best_known(g, mine, from_store, data)
    if best:
        t.ratios.append((g, m / best))
    return f"| {g} | {bk} | {m:g}{mine.tag(budget)} | " + " | ".join(row_cells) + f" | {verdict} |"


def _gset_summary(t: _GsetTally, solver: str) -> list[str]:
    if not t.counted:
        return []
    mr = statistics.fmean(r for _, r in t.ratios) if t.ratios else float("nan")
    lowest = ", ".join(f"{g} {r:.4f}" for g, r in sorted(t.ratios, key=lambda x: x[1])[:4])
    out = [f"- Median cut >= every peer's on **{t.ge} of {t.counted}** graphs (rule: >= 18 of 20); strictly above "
           f"the best peer on **{t.above}** (rule: >= 8).",
           f"- Mean ratio of the median cut to the best known over the {len(t.ratios)} graphs with a valid "
           f"best known: **{mr:.5f}** (rule: >= 0.999); lowest: {lowest}.",
           "- Behind: " + ("; ".join(t.behind) if t.behind else "nowhere") + "."]
    if t.picked:
        by: dict[str, list[str]] = defaultdict(list)
        for g, name in t.picked:
            by[name].append(g)
        out.append("- `auto` ran " + "; ".join(f"`{k}` on {', '.join(v)}" for k, v in sorted(by.items())) + ".")
    elif solver == "auto" and t.no_data:
        out.append(f"- Which solver `auto` ran per graph needs the instance data (set {DATA_ENV} or pass --data).")
    return out


def _sk_table(sk: list[str], solver: str, budget: float, cells: dict, from_store: bool) -> list[str]:
    peers = list(PEERS.values())
    what = "mean" if from_store else "median"
    val = (lambda c: c.mean) if from_store else (lambda c: c.median)  # noqa: E731
    out = ["", f"| SK | {solver} {what} e/N | " + " | ".join(f"{p} {what} e/N" for p in peers) + " |",
           "|" + "---|" * (len(peers) + 2)]
    for name in sk:
        mine = cells.get((name, solver, budget))
        row_cells = []
        for p in peers:
            c = cells.get((name, p, budget))
            row_cells.append(f"{val(c):.5f}{c.tag(budget)}" if c else "absent")
        out.append(f"| {name} | " + (f"{val(mine):.5f} ({mine.count})" if mine else "not run") + " | "
                   + " | ".join(row_cells) + " |")
    return out


def report(store: Path, budget: float, solver: str, data: str | Path | None = None) -> str:
    """The acceptance report (markdown) for ``solver`` at ``budget`` from the results in ``store``."""
    cells, source = load_cells(store)
    from_store = source.startswith("store")
    root = data_root(data)
    peers = list(PEERS.values())
    instances = sorted({k[0] for k in cells if k[2] == budget},
                       key=lambda s: (not s.startswith("G"), int(s[1:]) if s[1:].isdigit() else 0, s))
    out = [f"# Acceptance check: `{solver}` against the peers at {budget:g} s ({source})", ""]
    out += ["| graph | best known | " + f"{solver} median | " + " | ".join(f"{p} median" for p in peers)
            + " | verdict |", "|" + "---|" * (len(peers) + 4)]
    tally = _GsetTally()
    for g in (i for i in instances if i.startswith("G")):
        out.append(_gset_line(g, solver, budget, cells, from_store, root, tally))
    out.append("")
    out += _gset_summary(tally, solver)
    sk = [i for i in instances if i.startswith("SK")]
    if sk:
        out += _sk_table(sk, solver, budget, cells, from_store)
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=str(DEFAULT_OUT),
                    help="results: a result store (DIR/tasks) or bench/run.py tables (DIR/*.csv) "
                         "(default bench/results/final)")
    ap.add_argument("--budget", type=float, default=10.0)
    ap.add_argument("--solver", default="auto", help="cimsim solver label (default auto: what `cimsim solve` runs)")
    ap.add_argument("--write", default=None, help="also write the report to this file")
    add_data_option(ap)
    a = ap.parse_args(argv)
    try:
        text = report(Path(a.out), a.budget, a.solver, a.data)
    except CimsimError as exc:
        print(f"criteria: {exc}", file=sys.stderr)
        return 2
    print(text, end="")
    if a.write:
        Path(a.write).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
