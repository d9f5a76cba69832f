"""The benchmark's outputs from its rows: the CSV (every field) and the markdown table with verdicts."""
from __future__ import annotations

import csv
import math
from dataclasses import asdict
from pathlib import Path

from .rows import BUDGET_SLACK, Row, fmt_obj, rank_key, versus, within_budget

__all__ = ["FIELDS", "write_csv", "read_csv", "markdown_table", "write_markdown", "verdicts"]

FIELDS = [f for f in Row.__dataclass_fields__]


def _csv_value(v: object) -> object:
    if isinstance(v, float):
        if math.isnan(v):
            return ""
        if math.isinf(v):
            return "inf"
        return f"{v:.6g}"
    return v


def write_csv(rows: list[Row], path: Path) -> None:
    """All rows, every field, one line each."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=FIELDS)
        w.writeheader()
        for r in rows:
            w.writerow({k: _csv_value(v) for k, v in asdict(r).items()})
    tmp.replace(path)


def _parse_field(text: str, kind: str) -> object:
    if kind == "float":
        return float(text) if text else math.nan
    if kind == "int":
        return int(float(text)) if text else 0
    return text


def read_csv(path: Path) -> list[Row]:
    """Rows back from :func:`write_csv` (to re-render a table with :func:`markdown_table`)."""
    types = {f.name: f.type for f in Row.__dataclass_fields__.values()}
    with open(path, newline="", encoding="utf-8") as fh:
        return [Row(**{k: _parse_field(d.get(k, "") or "", t) for k, t in types.items()}) for d in csv.DictReader(fh)]


# --------------------------------------------------------------------------------------------------
# markdown


def _g(v: float, fmt: str = ".4g") -> str:
    if not math.isfinite(v):
        return "inf" if v == math.inf else "-"
    return format(v, fmt)


_HEAD = ("| instance | N | solver | budget s | best | median | best known | ratio best | hits | TTS99 s "
         "(call) | TTS99 s (batch) | t mean s | updates/s | bound/s | of bound | vs peers / status |")


def _md_row(r: Row) -> str:
    if r.status != "ok":
        return (f"| {r.instance} | {r.n or '-'} | {r.solver} | {r.budget_s:g} | - | - | {_g(r.best_known, '.6g')} "
                f"| - | - | - | - | - | - | - | - | {r.status} |")
    tail = r.vs_peers if r.family == "cimsim" else "(peer)"
    if r.note:
        tail = f"{tail}; {r.note}" if tail else r.note
    return (f"| {r.instance} | {r.n} | {r.solver} | {r.budget_s:g} | {_g(r.best_obj, '.6g')} | {_g(r.median_obj, '.6g')} "
            f"| {_g(r.best_known, '.6g')} | {_g(r.ratio_best, '.4f')} | {r.hits}/{r.repeats} | {_g(r.tts99_s, '.3g')} "
            f"| {_g(r.tts99_batch_s, '.3g')} | {_g(r.elapsed_mean_s, '.2f')} | {_g(r.updates_per_s, '.3g')} "
            f"| {_g(r.bound_updates_per_s, '.3g')} | {_g(r.frac_of_bound, '.2f')} | {tail} |")


def markdown_table(rows: list[Row]) -> str:
    """The results as a markdown table (one line per row) followed by the cimsim-vs-peers verdicts."""
    out = [_HEAD, "|" + "---|" * (_HEAD.count("|") - 1)]
    out += [_md_row(r) for r in rows]
    behind = [r for r in rows if r.vs_peers.startswith("BEHIND")]
    out.append("")
    out.append(f"{len(behind)} cimsim row(s) are behind the best peer at the same budget. Best of each side "
               f"among rows that kept to the budget (mean call time <= {BUDGET_SLACK:g} x budget):")
    out.append("")
    out.extend(verdicts(rows))
    return "\n".join(out) + "\n"


def write_markdown(rows: list[Row], path: Path, *, header: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text((header + "\n\n" if header else "") + markdown_table(rows), encoding="utf-8")
    tmp.replace(path)


# --------------------------------------------------------------------------------------------------
# verdicts: the best cimsim row against the best peer row per instance x budget


def _desc(r: Row) -> str:
    return f"{r.solver} {fmt_obj(r.best_obj)} / {fmt_obj(r.median_obj)}"


def _verdict(inst: str, budget: float, here: list[Row]) -> str:
    """One verdict line from the rows of one instance x budget that ran."""
    sense = "min" if here[0].kind == "sk" else "max"
    cims = [r for r in here if r.family == "cimsim" and within_budget(r)]
    peers = [r for r in here if r.family == "peer" and within_budget(r)]
    c = max(cims, key=lambda r: rank_key(sense, r)) if cims else None
    p = max(peers, key=lambda r: rank_key(sense, r)) if peers else None
    at = f"{inst} @ {budget:g} s"
    if c is None and p is None:
        return f"- {at}: no solver kept to the budget."
    if c is None:
        fast = min((r for r in here if r.family == "cimsim"), key=lambda r: r.elapsed_mean_s, default=None)
        extra = (f" (fastest: {fast.solver}, {fast.elapsed_mean_s:.1f} s per call, {fmt_obj(fast.best_obj)})"
                 if fast is not None else "")
        return (f"- **{at}: cimsim cannot keep to this budget: no cimsim call finished "
                f"within {BUDGET_SLACK:g} x {budget:g} s{extra}; best peer within it: {_desc(p)} (best / median)**.")
    if p is None:
        return f"- {at}: best cimsim {_desc(c)}; no peer kept to the budget."
    v = versus(sense, c, p)
    line = f"{at}: best cimsim {_desc(c)} vs best peer {_desc(p)} (best / median): {v.split(' (')[0]}"
    return f"- **{line}**." if v.startswith("BEHIND") else f"- {line}."


def verdicts(rows: list[Row]) -> list[str]:
    """One line per instance x budget: best cimsim row vs best peer row, both within the budget."""
    out = []
    for inst, budget in dict.fromkeys((r.instance, r.budget_s) for r in rows):
        here = [r for r in rows if r.instance == inst and r.budget_s == budget and r.status == "ok"]
        if here:
            out.append(_verdict(inst, budget, here))
        else:
            first = next((r.status for r in rows if r.instance == inst), "")
            out.append(f"- {inst} @ {budget:g} s: no solver ran ({first}).")
    return out
