"""Declared solver parameters: one table per solver drives validation, help text and recorded settings.

Every solver module declares ``PARAMS: tuple[Param, ...]``. :func:`validate` turns what a user gave
(Python values from the API, or the strings and JSON scalars of the command line's ``-p KEY=VALUE``) into
a complete, checked ``dict`` with defaults filled in; anything unknown or out of range is a one-line
:class:`~cimsim.errors.CimsimError` naming the solver and the parameter. ``cimsim solvers`` prints the
same tables (:func:`describe`), and the settings a run records are the validated values.

Kinds
-----
``int``, ``float``
    Numbers, with optional bounds ``low``/``high`` (``low_open``/``high_open`` make a bound strict).
    Booleans are never numbers. Strings that parse as numbers are accepted (the command line).
``bool``
    ``True``/``False``, or the strings ``true/false/yes/no/on/off/1/0`` (any case); anything else refused.
``choice``
    One of ``choices`` (strings); ``aliases`` maps extra spellings to a choice.
``str``
    Any string.
``schedule``
    A pump schedule: a spec string such as ``linear:-0.2,1.5,relative=1``, a ``.json`` path, a dict or a
    :class:`~cimsim.schedules.Schedule`; validated to a ``Schedule`` by
    :func:`cimsim.schedules.parse_schedule`.
``any``
    Passed through unchecked (arrays such as initial states; the solver checks their shape).

A parameter given as ``None`` takes its default. A parameter whose default depends on the instance has
``default=None`` and says how it is computed in ``auto`` (e.g. ``"3 N / sum|J_ij|"``); it validates to
``None`` when not given and the solver fills it in (the recorded settings hold the filled-in value).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from .errors import CimsimError

__all__ = ["Param", "validate", "describe", "as_bool", "recorded"]

_KINDS = ("int", "float", "bool", "choice", "str", "schedule", "any")
_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


@dataclass(frozen=True)
class Param:
    """One declared parameter: name, kind, default, one-line doc and its admissible range.

    ``auto`` describes an instance-dependent default (``default`` is then ``None``).
    """

    name: str
    kind: str
    default: Any
    doc: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple[str, ...] = ()
    aliases: Mapping[str, str] = field(default_factory=dict)
    optional: bool = False
    auto: str = ""

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"parameter {self.name}: unknown kind {self.kind!r}")
        if self.kind == "choice" and not self.choices:
            raise ValueError(f"parameter {self.name}: a choice needs choices")
        if self.auto and self.default is not None:
            raise ValueError(f"parameter {self.name}: an automatic default has default=None")

    def default_text(self) -> str:
        """The default in words: the value, the ``auto`` rule, or ``none`` (left unset)."""
        if self.auto:
            return self.auto
        if self.default is None:
            return "none"
        if isinstance(self.default, bool):
            return "true" if self.default else "false"
        if isinstance(self.default, float):
            return f"{self.default:g}"
        return str(self.default)

    def range_text(self) -> str:
        """The admissible values in words, e.g. ``> 0``, ``[0, 1]``, ``cim|sb``."""
        if self.kind == "choice":
            return "|".join(self.choices)
        if self.kind == "bool":
            return "true|false"
        if self.low is None and self.high is None:
            return ""
        if self.high is None:
            return f"{'>' if self.low_open else '>='} {_num_text(self.low)}"
        if self.low is None:
            return f"{'<' if self.high_open else '<='} {_num_text(self.high)}"
        left = "(" if self.low_open else "["
        right = ")" if self.high_open else "]"
        return f"{left}{_num_text(self.low)}, {_num_text(self.high)}{right}"

    def check(self, value: Any, solver: str) -> Any:
        """``value`` converted to this parameter's kind, or a one-line CimsimError."""
        if value is None:
            if self.optional or self.default is None:
                return None
            raise CimsimError(f"{solver}: parameter {self.name} needs a value")
        where = f"{solver}: parameter {self.name}"
        if self.kind == "bool":
            return as_bool(value, where)
        if self.kind == "choice":
            text = str(value).strip().lower() if isinstance(value, str) else value
            text = self.aliases.get(text, text) if isinstance(text, str) else text
            if text not in self.choices:
                raise CimsimError(f"{where} must be one of {', '.join(self.choices)}, got {value!r}"[:300])
            return text
        if self.kind == "str":
            if not isinstance(value, str):
                raise CimsimError(f"{where} must be a string, got {value!r}"[:300])
            return value
        if self.kind == "schedule":
            from .schedules import parse_schedule

            try:
                return parse_schedule(value)
            except CimsimError as exc:
                raise CimsimError(f"{where}: {str(exc).splitlines()[0]}"[:300]) from None
        if self.kind == "any":
            return value
        number = _as_number(value, self.kind, where)
        self._check_range(number, where, value)
        return number

    def _check_range(self, number: float, where: str, raw: Any) -> None:
        bad = False
        if self.low is not None:
            bad |= number <= self.low if self.low_open else number < self.low
        if self.high is not None:
            bad |= number >= self.high if self.high_open else number > self.high
        if bad:
            text = self.range_text()
            raise CimsimError(f"{where} must be {'in ' if text[0] in '[(' else ''}{text}, got {raw!r}"[:300])


def _num_text(x: float | None) -> str:
    return "" if x is None else (str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else f"{x:g}")


def as_bool(value: Any, where: str) -> bool:
    """``True``/``False`` (also numpy bools) or one of the strings true/false/yes/no/on/off/1/0."""
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return bool(value)
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        low = value.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
    raise CimsimError(f"{where} must be true or false, got {value!r}"[:300])


def _as_number(value: Any, kind: str, where: str) -> float | int:
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        raise CimsimError(f"{where} must be a number, got {value!r}")
    if isinstance(value, str):
        text = value.strip()
        try:
            value = int(text) if kind == "int" and text.lstrip("+-").isdigit() else float(text)
        except ValueError:
            raise CimsimError(f"{where} must be a number, got {text!r}"[:300]) from None
    try:
        number = float(value)
    except OverflowError:  # an integer beyond the float range (10**400)
        number = math.inf if value > 0 else -math.inf
    except (TypeError, ValueError):
        raise CimsimError(f"{where} must be a number, got {value!r}"[:300]) from None
    if kind == "int":
        if isinstance(value, int) or type(value).__name__.startswith("int"):
            result = int(value)
        elif not math.isfinite(number) or not number.is_integer():
            raise CimsimError(f"{where} must be an integer, got {value!r}"[:300])
        else:
            result = int(number)
        if not -2**63 <= result < 2**63:  # the kernels count in int64: 1e308 overflowed inside numba
            from .memory import _short

            raise CimsimError(f"{where} must be an integer below 2**63 in magnitude, got {_short(result)}")
        return result
    if not math.isfinite(number):
        raise CimsimError(f"{where} must be finite, got {value!r}"[:300])
    return number


def validate(declared: Iterable[Param], given: Mapping[str, Any], solver: str) -> dict[str, Any]:
    """Checked values of every declared parameter (defaults filled in) from ``given``.

    Unknown keys are refused with the list of known ones; a value given as ``None`` takes the default.
    """
    table = {p.name: p for p in declared}
    unknown = sorted(set(given) - set(table), key=str)
    if unknown:
        known = ", ".join(table) or "none"
        names = " ".join(", ".join(str(k) for k in unknown).split())  # one line whatever the keys hold
        raise CimsimError(f"{solver}: unknown parameter{'s' if len(unknown) > 1 else ''} "
                          f"{names}; known: {known}"[:400])
    out: dict[str, Any] = {}
    for name, p in table.items():
        value = given.get(name)
        out[name] = p.check(p.default if value is None else value, solver)
    return out


def describe(declared: Iterable[Param]) -> list[dict[str, Any]]:
    """Rows ``{name, kind, default, range, doc, ...}`` for help text, documentation tables and JSON.

    ``default`` is :meth:`Param.default_text` (a string: the value, the automatic rule, or ``none``) and
    ``range`` :meth:`Param.range_text`; the typed ``default_value`` (``None`` when automatic or unset),
    ``automatic``, ``low``/``high`` (with ``low_open``/``high_open``) and ``choices`` follow for programs.
    """
    rows = []
    for p in declared:
        value = p.default if isinstance(p.default, (bool, int, float, str)) else None
        rows.append({"name": p.name, "kind": p.kind, "default": p.default_text(), "range": p.range_text(), "doc": p.doc,
                     "default_value": value, "automatic": bool(p.auto), "low": p.low, "high": p.high,
                     "low_open": p.low_open, "high_open": p.high_open, "choices": list(p.choices)})
    return rows


def recorded(value: Any) -> Any:
    """How a validated ``any`` value (an initial state) is recorded in the settings: ``None``, or
    ``"array (R, N)"`` for an array-like (the settings stay small and JSON-able)."""
    if value is None:
        return None
    shape = getattr(value, "shape", None)
    if shape is None:
        try:
            import numpy as np

            shape = np.shape(value)
        except (TypeError, ValueError):
            return "given"
    return f"array {tuple(int(k) for k in shape)}"
