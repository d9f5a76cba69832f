"""Where the benchmark instance data lives: the ONE setting shared by bench scripts and tests.

The data root holds ``gset/`` (Gset graphs ``G<k>.txt`` and ``best_known.csv``) and ``satlib/``
(``uf*.cnf``). It is, in order of precedence:

1. ``--data DIR`` on a bench script (:func:`add_data_option`, :func:`data_root`),
2. the environment variable ``CIMSIM_DATA``,
3. ``../shared/data`` relative to the repository root, found from this file's location (not the cwd).
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

from cimsim import CimsimError

__all__ = ["ENV", "DEFAULT_DATA", "data_root", "data_file", "missing_root_message", "add_data_option"]

#: the environment variable naming the data root
ENV = "CIMSIM_DATA"

#: the repository root (the parent of bench/)
REPO = Path(__file__).resolve().parent.parent

#: the data root when neither --data nor CIMSIM_DATA is given
DEFAULT_DATA = REPO.parent / "shared" / "data"


def data_root(override: str | os.PathLike | None = None) -> Path:
    """The data root: ``override`` (a ``--data`` value) if given, else ``$CIMSIM_DATA``, else the default.

    Relative paths are taken relative to the current directory (as a user typed them)."""
    chosen = override if override not in (None, "") else os.environ.get(ENV) or DEFAULT_DATA
    return Path(chosen).expanduser().resolve()


def missing_root_message(root: Path) -> str:
    """The one line said when the data root does not exist."""
    return (f"data directory {root} does not exist: set {ENV}=DIR or pass --data DIR "
            "(default ../shared/data next to the repository)")


def data_file(*parts: str, root: str | os.PathLike | None = None) -> Path:
    """``<data root>/<parts...>``; raises :class:`CimsimError` with one line if the root or the file is missing."""
    base = data_root(root)
    if not base.is_dir():
        raise CimsimError(missing_root_message(base))
    path = base.joinpath(*parts)
    if not path.exists():
        raise CimsimError(f"{path}: no such file in the data directory (set by {ENV} or --data)")
    return path


def add_data_option(parser: argparse.ArgumentParser) -> None:
    """The ``--data DIR`` option every bench script takes (default: ``$CIMSIM_DATA``, else ../shared/data)."""
    parser.add_argument("--data", default=None, metavar="DIR",
                        help=f"instance data root holding gset/ and satlib/ (default: ${ENV}, else ../shared/data "
                             "relative to the repository root)")
