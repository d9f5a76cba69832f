"""Helpers shared by the command modules: option parsing and atomic output."""
from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path
from typing import Any

import click

from .. import atomic
from ..errors import CimsimError, CimsimWarning
from ..result import to_jsonable

_default_showwarning = warnings.showwarning


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Show a :class:`CimsimWarning` as one ``cimsim: warning: ...`` line on stderr (others as usual)."""
    if isinstance(category, type) and issubclass(category, CimsimWarning):
        text = " ".join(str(message).split())
        click.echo(f"cimsim: warning: {text}", err=True)
        return
    _default_showwarning(message, category, filename, lineno, file, line)


# The command modules import this one, so on the command line cimsim's own warnings are one line each.
warnings.showwarning = _one_line_warning


def parse_value(text: str) -> Any:
    """``'3'`` -> 3, ``'0.5'`` -> 0.5, ``'true'`` -> True, ``'[1,2]'`` -> [1, 2], otherwise the string."""
    low = text.strip().lower()
    if low in ("true", "yes", "on"):
        return True
    if low in ("false", "no", "off"):
        return False
    try:
        return json.loads(text)
    except ValueError:
        return text


def split_assignment(item: str, what: str = "--param", form: str = "KEY=VALUE") -> tuple[str, str]:
    """Split ``"key=text"`` into the parameter name (stripped, ``-`` read as ``_``) and the raw text;
    CimsimError (naming the option ``what`` and the expected ``form``) if it is not of that form."""
    if "=" not in item:
        raise CimsimError(f"{what} expects {form}, got {item!r}")
    key, text = item.split("=", 1)
    key = key.strip().replace("-", "_")
    if not key.isidentifier():
        raise CimsimError(f"{what}: {key!r} is not a parameter name")
    return key, text


def parse_params(items: tuple[str, ...] | list[str], what: str = "--param") -> dict[str, Any]:
    """Turn ``("dt=0.1", "variant=dsb")`` into ``{"dt": 0.1, "variant": "dsb"}``."""
    out: dict[str, Any] = {}
    for item in items:
        key, value = split_assignment(item, what)
        out[key] = parse_value(value)
    return out


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file and rename, so a reader never sees half a file.

    ``-`` writes to stdout.
    """
    if str(path) == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    p = Path(path)
    if p.parent and not p.parent.exists():
        raise CimsimError(f"{p}: directory {p.parent} does not exist")
    atomic.write_text_atomic(p, text)


def force_option(f):
    """``--force``: allow the command to overwrite existing result files (parameter ``force``)."""
    return click.option("--force", is_flag=True, help="Overwrite existing result files (refused without it).")(f)


def check_new_output(path: str | Path | None, force: bool, *, what: str = "output file") -> None:
    """Before any work: refuse to overwrite an existing ``path`` unless ``force`` (``None`` and ``-`` pass),
    and refuse a path whose directory does not exist. One-line :class:`CimsimError`."""
    if path is None or str(path) == "-":
        return
    p = Path(path)
    try:
        is_dir, parent_is_dir, exists = p.is_dir(), p.parent.is_dir(), p.exists()
    except OSError as exc:  # a name too long for the file system, a path through a file without permission
        raise path_error(p, exc) from None
    if is_dir:
        raise CimsimError(f"{p}: is a directory; give a file name for the {what}")
    if not parent_is_dir:
        raise CimsimError(f"{p}: directory {p.parent} does not exist")
    if exists and not force:
        raise CimsimError(f"{p}: {what} already exists; use --force to overwrite it")


def path_error(path: str | Path, exc: OSError) -> CimsimError:
    """The one-line error for an ``OSError`` on a path the user named (e.g. a file name longer than the file
    system allows); a very long path is shortened in the message."""
    text = str(path)
    if len(text) > 120:
        text = f"{text[:100]}... ({len(text)} characters)"
    return CimsimError(f"{text}: {exc.strerror or type(exc).__name__}")


def write_json(path: str | Path, obj: Any) -> None:
    """Write ``obj`` as indented JSON (numpy values converted), atomically."""
    write_text_atomic(path, json.dumps(to_jsonable(obj), indent=2) + "\n")


def backend_option(f):
    return click.option(
        "--backend",
        type=click.Choice(["auto", "cpu", "gpu"]),
        default="cpu",
        show_default=True,
        help="Array backend: cpu (NumPy + numba), gpu (CuPy; needs the gpu extra and a CUDA device), "
        "auto (gpu when available).",
    )(f)
