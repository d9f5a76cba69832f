"""Streaming text input shared by the file parsers.

:func:`iter_lines` reads a file line by line (never the whole file at once), so a multi-gigabyte edge
list costs memory only for what the parser keeps. Every problem with the file itself (missing,
a directory, unreadable, not UTF-8 text, NUL bytes, empty) becomes a one-line :class:`CimsimError`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

from ..errors import CimsimError
from ..memory import check_fits

__all__ = ["iter_lines", "iter_tokens", "check_count_fits", "file_error"]


def file_error(p: Path, exc: OSError) -> CimsimError:
    """The one-line error for an ``OSError`` raised opening or reading ``p``."""
    if isinstance(exc, FileNotFoundError):
        return CimsimError(f"{p}: no such file")
    if isinstance(exc, IsADirectoryError):
        return CimsimError(f"{p}: is a directory, not a file")
    return CimsimError(f"{p}: cannot read ({exc.strerror or type(exc).__name__})")


def iter_lines(path: str | Path, name: str | None = None) -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, line)`` (1-based, newline stripped, a leading BOM removed) of a UTF-8 text file.

    Raises :class:`CimsimError` for a missing or unreadable file, a directory, bytes that are not UTF-8,
    NUL bytes (binary data), and a file with nothing but white space. Messages name the file ``name``
    (default: ``path``; e.g. ``<stdin>`` for a copy of standard input).
    """
    path = Path(path)
    p = Path(name) if name is not None else path
    try:
        fh = open(path, "r", encoding="utf-8", errors="strict", newline=None)
    except OSError as exc:
        raise file_error(p, exc) from None
    seen = False
    k = 0
    with fh:
        try:
            for k, line in enumerate(fh, start=1):
                if k == 1 and line.startswith("\ufeff"):
                    line = line[1:]
                if "\x00" in line:
                    raise CimsimError(f"{p}: line {k}: not a text file (NUL byte)")
                line = line.rstrip("\r\n")
                if not seen and line.strip():
                    seen = True
                yield k, line
        except UnicodeDecodeError:
            raise CimsimError(f"{p}: line {k + 1}: not a text file (invalid UTF-8)") from None
        except OSError as exc:
            raise file_error(p, exc) from None
    if not seen:
        raise CimsimError(f"{p}: empty file")


def iter_tokens(path: str | Path, comment: str | None = None) -> Iterator[tuple[int, list[str]]]:
    """``(line_number, tokens)`` of every line with at least one token; text after ``comment`` is dropped."""
    for k, line in iter_lines(path):
        if comment is not None:
            line = line.split(comment, 1)[0]
        t = line.split()
        if t:
            yield k, t


def check_count_fits(p: Path | str, count: int, what: str, bytes_each: float, where: str = "") -> None:
    """Refuse a header that declares so many ``what`` that the model could not fit in memory."""
    try:
        need = float(count) * bytes_each
    except OverflowError:
        need = float("inf")
    shown = str(count) if len(str(count)) <= 12 else f"{need / bytes_each:.3g}"
    check_fits(need, f"{p}: {where}{shown} {what}",
               "the header count is too large for this machine (or the file is malformed)")
