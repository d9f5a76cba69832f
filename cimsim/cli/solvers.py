"""``cimsim solvers [NAME]``: every solver, its backends and its declared parameters."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ..errors import CimsimError
from ..params import describe
from ..result import EXTRA_KEYS
from ..solvers import EXECUTORS, SOLVERS, get_solver

SOLVERS_EPILOG = """\b
Examples:
  cimsim solvers
  cimsim solvers sa
  cimsim solvers cac --json
"""


def solver_info(name: str) -> dict[str, Any]:
    """``{name, description, backends, parameters}`` of solver ``name`` (parameters as
    :func:`cimsim.params.describe` rows); CimsimError for an unknown name."""
    module = get_solver(name)
    return {
        "name": name,
        "description": SOLVERS[name],
        "backends": list(EXECUTORS.get(name, ("cpu",))),
        "parameters": describe(getattr(module, "PARAMS", ())),
    }


def format_text(info: dict[str, Any]) -> str:
    """One solver as indented text: name and description, backends, then one line per parameter."""
    lines = [f"{info['name']}: {info['description']}", f"  backends: {', '.join(info['backends'])}"]
    rows = info["parameters"]
    if not rows:
        lines.append("  parameters: none")
        return "\n".join(lines)
    lines.append("  parameters:")
    w_name = max(len(r["name"]) for r in rows)
    w_kind = max(len(r["kind"]) for r in rows)
    for r in rows:
        extra = f"default {r['default']}" + (f"; {r['range']}" if r["range"] else "")
        lines.append(f"    {r['name']:<{w_name}}  {r['kind']:<{w_kind}}  {r['doc']} [{extra}]")
    return "\n".join(lines)


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|")


def markdown_table(names: list[str] | None = None) -> str:
    """The parameter table of docs/solvers.md: one row per (solver, parameter)."""
    lines = ["| solver | parameter | kind | default | range | meaning |", "|---|---|---|---|---|---|"]
    for name in names or list(SOLVERS):
        info = solver_info(name)
        rows = info["parameters"] or [{"name": "(none)", "kind": "", "default": "", "range": "", "doc": ""}]
        for r in rows:
            cells = [f"`{name}`", f"`{r['name']}`" if r["kind"] else r["name"], r["kind"],
                     f"`{_cell(r['default'])}`" if r["kind"] else "", f"`{_cell(r['range'])}`" if r["range"] else "",
                     _cell(r["doc"])]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def extra_markdown() -> str:
    """The ``Result.extra`` vocabulary (:data:`cimsim.result.EXTRA_KEYS`) as the table of docs/solvers.md."""
    lines = ["| key | shape | meaning | set by |", "|---|---|---|---|"]
    for key, shape, meaning, who in EXTRA_KEYS:
        lines.append(f"| `{key}` | {_cell(shape)} | {_cell(meaning)} | {_cell(who)} |")
    return "\n".join(lines) + "\n"


def markdown_all() -> str:
    """What ``cimsim solvers --markdown`` prints: the parameter table, a blank line, the extra table."""
    return markdown_table() + "\n" + extra_markdown()


DOC_BEGIN = "<!-- begin: cimsim solvers --markdown -->\n"
DOC_END = "<!-- end: cimsim solvers --markdown -->\n"


def docs_block(text: str) -> str:
    """The generated part of docs/solvers.md (between the markers); CimsimError if the markers are missing."""
    if DOC_BEGIN not in text or DOC_END not in text:
        raise CimsimError("docs/solvers.md: the generated-table markers are missing")
    return text.split(DOC_BEGIN, 1)[1].split(DOC_END, 1)[0]


def update_docs(path: str | Path) -> None:
    """Rewrite the generated tables of docs/solvers.md (between the markers) from the declarations."""
    p = Path(path)
    text = p.read_text(encoding="utf-8")
    old = docs_block(text)
    p.write_text(text.replace(DOC_BEGIN + old + DOC_END, DOC_BEGIN + markdown_all() + DOC_END), encoding="utf-8")


@click.command(epilog=SOLVERS_EPILOG)
@click.argument("name", required=False, metavar="[NAME]")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON instead of text.")
@click.option("--markdown", is_flag=True, help="Print the tables of docs/solvers.md (parameters; with no NAME also "
              "the Result.extra keys).")
def solvers(name: str | None, as_json: bool, markdown: bool) -> None:
    """List every solver with its description, backends and parameters (or only solver NAME).

    Parameters are given to 'cimsim solve' as -p KEY=VALUE (to solve() as keyword arguments). A default
    in words (e.g. '3 N / sum|J_ij|') depends on the instance; the recorded settings hold its value.
    """
    names = [name] if name is not None else list(SOLVERS)
    if markdown:
        click.echo(markdown_all() if name is None else markdown_table(names), nl=False)
        return
    infos = [solver_info(n) for n in names]
    if as_json:
        click.echo(json.dumps(infos[0] if name is not None else infos, indent=2))
        return
    click.echo("\n\n".join(format_text(info) for info in infos))
