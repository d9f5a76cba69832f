"""Pump schedules a(u): progress u in [0, 1] -> pump a, as small frozen dataclasses.

Units. Every value is in the project's pump units ``a`` of the soft-spin energy (physics.md 1)::

    E_a(x) = sum_i (x_i^4/4 - a x_i^2/2) - 1/2 x^T J_hat x - h_hat^T x,   J_hat = J / coupling_scale()

so for SK (J ~ N(0, 1/N)) the origin loses stability at a = -lambda_max ~ -2. A schedule built with
``relative=True`` holds offsets from the instance threshold instead: the pump is
``a = -lambda_max(J_hat) + value`` (:meth:`Schedule.absolute` resolves it for one instance).
``__call__`` always returns the schedule's own values (offsets when relative).

Kinds (``kind`` in :meth:`Schedule.to_dict`)
--------------------------------------------
constant     a(u) = a
linear       a(u) = start + (stop - start) u
exponential  a(u) = start + (stop - start) (1 - exp(-rate u)) / (1 - exp(-rate))   (rate != 0; fast early
             for rate > 0, fast late for rate < 0; hits both end points exactly)
tanh         a(u) = start + (stop - start) (tanh(k (u - center)) - tanh(-k center))
                                           / (tanh(k (1 - center)) - tanh(-k center))
             (sigmoid ramp, steepest at u = center)
piecewise    linear interpolation through points (u_k, a_k), u strictly increasing in [0, 1];
             constant before the first and after the last point
adiabatic    staircase a_k = start + k step, k = 0 .. K (K = round((stop - start)/step)), each level held
             for an equal share of u; ``tol`` is the gradient tolerance a descent solver reaches at each
             level (the ``adiabatic`` solver uses :meth:`AdiabaticSchedule.levels` and ``tol``)
landscape    piecewise linear start -> lo -> hi -> stop spending the fraction ``slow`` of u inside the
             window [lo, hi] and the rest outside it (split in proportion to the distances). The default
             window is the one physics.md 2.2 names for SK: from the origin instability a = -2 through the
             freezing region to a = -0.1 (freezing starts near -0.45). NOTE: these constants assume the
             paper sums couplings over pairs i<j (physics.md 2.1); halve them if it sums over all i,j.

Spec strings (``parse_schedule``)
---------------------------------
``KIND:ARGS`` where ARGS is a comma-separated list of positional numbers followed by optional
``key=value`` items. ``relative=1`` (or ``rel=1``) makes any schedule relative to the threshold.

====================================  =============================================================
``constant:A``                        constant pump A
``linear:START,STOP``                 e.g. ``linear:-2.2,0.2``
``exp:START,STOP[,RATE]``             RATE default 5 (alias ``exponential``)
``tanh:START,STOP[,K[,CENTER]]``      K default 6, CENTER default 0.5 (alias ``sigmoid``)
``piecewise:A0@U0,A1@U1,...``         e.g. ``piecewise:-2.2@0,-1@0.5,0.2@1``
``adiabatic:START,STOP[,STEP]``       STEP default 0.02; ``tol=1e-6`` optional
``landscape[:START,STOP[,LO,HI[,SLOW]]]``  defaults -2.2, 0.2, -2.0, -0.1, 0.8
====================================  =============================================================

A path to a ``.json`` file holding a :meth:`Schedule.to_dict` dictionary is accepted as well.
Non-finite values, empty point lists and impossible parameters raise :class:`CimsimError` when the
schedule is constructed.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import MISSING, dataclass, fields
from typing import Any, ClassVar

import numpy as np

from .errors import CimsimError, finite_float, positive_float

__all__ = [
    "Schedule",
    "ConstantSchedule",
    "LinearSchedule",
    "ExponentialSchedule",
    "TanhSchedule",
    "PiecewiseSchedule",
    "AdiabaticSchedule",
    "LandscapeSchedule",
    "schedule_from_dict",
    "parse_schedule",
    "SK_THRESHOLD",
    "SK_FREEZE_END",
]

#: Origin instability of SK in the project convention (lambda_max -> 2).
SK_THRESHOLD = -2.0
#: Upper end of the default slow window: signs are frozen from about here on (physics.md 2.2, 7.3).
SK_FREEZE_END = -0.1

def _f(value: Any, name: str) -> float:
    return finite_float(value, name)


def _u(u: Any) -> np.ndarray | float:
    """Progress clipped to [0, 1]; refuses NaN."""
    arr = np.asarray(u, dtype=np.float64)
    if np.any(np.isnan(arr)):
        raise CimsimError("schedule progress u must not be NaN")
    out = np.clip(arr, 0.0, 1.0)
    return float(out) if out.ndim == 0 else out


def _ret(value: np.ndarray | float, like: Any) -> np.ndarray | float:
    arr = np.asarray(value, dtype=np.float64)
    return float(arr) if np.ndim(like) == 0 else arr


@dataclass(frozen=True)
class Schedule:
    """Base class: a pump schedule ``a(u)`` for progress ``u`` in [0, 1].

    Subclasses are frozen dataclasses with a class attribute ``kind``; ``relative`` marks values that are
    offsets from the instance threshold ``-lambda_max``.
    """

    kind: ClassVar[str] = "base"

    def __call__(self, u: Any) -> np.ndarray | float:
        """The pump at progress ``u`` (float -> float, array -> array of the same shape)."""
        raise NotImplementedError

    # -------------------------------------------------------------- helpers shared by all kinds
    def to_dict(self) -> dict:
        """JSON-able dictionary with ``kind`` and every field; :func:`schedule_from_dict` inverts it."""
        out: dict[str, Any] = {"kind": self.kind}
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, tuple):
                v = [list(p) if isinstance(p, tuple) else p for p in v]
            out[f.name] = v
        return out

    def values(self, n: int) -> np.ndarray:
        """The pump at ``n`` equally spaced progress points from 0 to 1 inclusive, shape (n,)."""
        n = int(n)
        if n <= 0:
            raise CimsimError(f"number of schedule points must be positive, got {n}")
        u = np.linspace(0.0, 1.0, n) if n > 1 else np.zeros(1)
        return np.asarray(self(u), dtype=np.float64)

    def absolute(self, lambda_max: float) -> "Schedule":
        """This schedule in absolute pump units for an instance with threshold ``-lambda_max``.

        A non-relative schedule is returned unchanged; a relative one is shifted by ``-lambda_max``.
        """
        if not getattr(self, "relative", False):
            return self
        shift = -float(lambda_max)
        return self._shifted(shift)

    def _shifted(self, shift: float) -> "Schedule":  # pragma: no cover - every kind overrides
        raise NotImplementedError


@dataclass(frozen=True)
class ConstantSchedule(Schedule):
    a: float
    relative: bool = False
    kind: ClassVar[str] = "constant"

    def __post_init__(self) -> None:
        object.__setattr__(self, "a", _f(self.a, "constant pump a"))
        object.__setattr__(self, "relative", bool(self.relative))

    def __call__(self, u: Any) -> np.ndarray | float:
        uu = _u(u)
        return _ret(np.full(np.shape(uu), self.a), u)

    def _shifted(self, shift: float) -> Schedule:
        return ConstantSchedule(self.a + shift)


@dataclass(frozen=True)
class LinearSchedule(Schedule):
    start: float
    stop: float
    relative: bool = False
    kind: ClassVar[str] = "linear"

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", _f(self.start, "linear schedule start"))
        object.__setattr__(self, "stop", _f(self.stop, "linear schedule stop"))
        object.__setattr__(self, "relative", bool(self.relative))

    def __call__(self, u: Any) -> np.ndarray | float:
        uu = _u(u)
        uu = np.asarray(uu)
        return _ret(self.start * (1.0 - uu) + self.stop * uu, u)

    def _shifted(self, shift: float) -> Schedule:
        return LinearSchedule(self.start + shift, self.stop + shift)


@dataclass(frozen=True)
class ExponentialSchedule(Schedule):
    start: float
    stop: float
    rate: float = 5.0
    relative: bool = False
    kind: ClassVar[str] = "exponential"

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", _f(self.start, "exponential schedule start"))
        object.__setattr__(self, "stop", _f(self.stop, "exponential schedule stop"))
        rate = _f(self.rate, "exponential schedule rate")
        if rate == 0.0 or abs(rate) > 700:
            raise CimsimError(f"exponential schedule rate must be non-zero and |rate| <= 700, got {rate!r}")
        object.__setattr__(self, "rate", rate)
        object.__setattr__(self, "relative", bool(self.relative))

    def __call__(self, u: Any) -> np.ndarray | float:
        uu = np.asarray(_u(u))
        frac = -np.expm1(-self.rate * uu) / -math.expm1(-self.rate)
        return _ret(self.start * (1.0 - frac) + self.stop * frac, u)

    def _shifted(self, shift: float) -> Schedule:
        return ExponentialSchedule(self.start + shift, self.stop + shift, self.rate)


@dataclass(frozen=True)
class TanhSchedule(Schedule):
    start: float
    stop: float
    steepness: float = 6.0
    center: float = 0.5
    relative: bool = False
    kind: ClassVar[str] = "tanh"

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", _f(self.start, "tanh schedule start"))
        object.__setattr__(self, "stop", _f(self.stop, "tanh schedule stop"))
        object.__setattr__(self, "steepness", positive_float(self.steepness, "tanh schedule steepness"))
        c = _f(self.center, "tanh schedule center")
        if not 0.0 <= c <= 1.0:
            raise CimsimError(f"tanh schedule center must lie in [0, 1], got {c!r}")
        object.__setattr__(self, "center", c)
        object.__setattr__(self, "relative", bool(self.relative))

    def __call__(self, u: Any) -> np.ndarray | float:
        uu = np.asarray(_u(u))
        k, c = self.steepness, self.center
        lo, hi = math.tanh(-k * c), math.tanh(k * (1.0 - c))
        frac = (np.tanh(k * (uu - c)) - lo) / (hi - lo)
        return _ret(self.start * (1.0 - frac) + self.stop * frac, u)

    def _shifted(self, shift: float) -> Schedule:
        return TanhSchedule(self.start + shift, self.stop + shift, self.steepness, self.center)


def _check_points(points: Any, what: str) -> tuple[tuple[float, float], ...]:
    try:
        pts = [tuple(p) for p in points]
    except TypeError:
        raise CimsimError(f"{what} points must be a list of (u, a) pairs") from None
    if not pts:
        raise CimsimError(f"{what} schedule needs at least one (u, a) point")
    out = []
    for p in pts:
        if len(p) != 2:
            raise CimsimError(f"{what} points must be (u, a) pairs, got {p!r}")
        u, a = _f(p[0], f"{what} progress u"), _f(p[1], f"{what} pump a")
        if not 0.0 <= u <= 1.0:
            raise CimsimError(f"{what} progress u must lie in [0, 1], got {u!r}")
        out.append((u, a))
    us = [p[0] for p in out]
    if any(b <= a for a, b in zip(us, us[1:])):
        raise CimsimError(f"{what} progress values must be strictly increasing, got {us}")
    return tuple(out)


@dataclass(frozen=True)
class PiecewiseSchedule(Schedule):
    """Linear interpolation through ``points`` = ((u0, a0), (u1, a1), ...), u strictly increasing."""

    points: tuple[tuple[float, float], ...]
    relative: bool = False
    kind: ClassVar[str] = "piecewise"

    def __post_init__(self) -> None:
        object.__setattr__(self, "points", _check_points(self.points, "piecewise"))
        object.__setattr__(self, "relative", bool(self.relative))

    def __call__(self, u: Any) -> np.ndarray | float:
        uu = _u(u)
        us = np.array([p[0] for p in self.points])
        as_ = np.array([p[1] for p in self.points])
        return _ret(np.interp(uu, us, as_), u)

    def _shifted(self, shift: float) -> Schedule:
        return PiecewiseSchedule(tuple((u, a + shift) for u, a in self.points))


@dataclass(frozen=True)
class AdiabaticSchedule(Schedule):
    """Staircase ``start, start + step, ..., stop``; a descent solver converges to ``tol`` at each level."""

    start: float = -2.2
    stop: float = 0.2
    step: float = 0.02
    tol: float = 1e-6
    relative: bool = False
    kind: ClassVar[str] = "adiabatic"

    def __post_init__(self) -> None:
        start = _f(self.start, "adiabatic schedule start")
        stop = _f(self.stop, "adiabatic schedule stop")
        step = positive_float(self.step, "adiabatic schedule step")
        if stop < start:
            raise CimsimError(f"adiabatic schedule must rise: start {start!r} > stop {stop!r}")
        if (stop - start) / step > 1e6:
            raise CimsimError("adiabatic schedule has more than a million levels; use a larger step")
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "stop", stop)
        object.__setattr__(self, "step", step)
        object.__setattr__(self, "tol", positive_float(self.tol, "adiabatic schedule tol"))
        object.__setattr__(self, "relative", bool(self.relative))

    @property
    def n_levels(self) -> int:
        return int(round((self.stop - self.start) / self.step)) + 1

    def levels(self) -> np.ndarray:
        """The pump levels, shape (n_levels,); the last one is exactly ``stop``."""
        k = self.n_levels
        lv = self.start + self.step * np.arange(k, dtype=np.float64)
        lv[-1] = self.stop if k > 1 else self.start
        return lv

    def __call__(self, u: Any) -> np.ndarray | float:
        uu = np.asarray(_u(u))
        lv = self.levels()
        idx = np.minimum((uu * len(lv)).astype(np.int64), len(lv) - 1)
        return _ret(lv[idx], u)

    def _shifted(self, shift: float) -> Schedule:
        return AdiabaticSchedule(self.start + shift, self.stop + shift, self.step, self.tol)


@dataclass(frozen=True)
class LandscapeSchedule(Schedule):
    """Fast to ``lo``, slow (a fraction ``slow`` of the run) through [lo, hi], fast to ``stop``."""

    start: float = -2.2
    stop: float = 0.2
    lo: float = SK_THRESHOLD
    hi: float = SK_FREEZE_END
    slow: float = 0.8
    relative: bool = False
    kind: ClassVar[str] = "landscape"

    def __post_init__(self) -> None:
        vals = {}
        for name in ("start", "stop", "lo", "hi", "slow"):
            vals[name] = _f(getattr(self, name), f"landscape schedule {name}")
            object.__setattr__(self, name, vals[name])
        if not vals["start"] <= vals["lo"] < vals["hi"] <= vals["stop"]:
            raise CimsimError(
                "landscape schedule needs start <= lo < hi <= stop, got "
                f"{vals['start']}, {vals['lo']}, {vals['hi']}, {vals['stop']}"
            )
        if not 0.0 < vals["slow"] <= 1.0:
            raise CimsimError(f"landscape schedule slow fraction must lie in (0, 1], got {vals['slow']!r}")
        object.__setattr__(self, "relative", bool(self.relative))

    def points(self) -> tuple[tuple[float, float], ...]:
        """The corners (u, a) of the piecewise-linear schedule."""
        before, after = self.lo - self.start, self.stop - self.hi
        fast = 1.0 - self.slow
        if before + after > 0:
            u1 = fast * before / (before + after)
        else:
            u1 = 0.0
        u2 = u1 + (self.slow if before + after > 0 else 1.0)
        pts = [(0.0, self.start), (u1, self.lo), (u2, self.hi), (1.0, self.stop)]
        out: list[tuple[float, float]] = []
        for u, a in pts:
            if out and u <= out[-1][0]:
                continue
            out.append((u, a))
        return tuple(out)

    def __call__(self, u: Any) -> np.ndarray | float:
        uu = _u(u)
        pts = self.points()
        return _ret(np.interp(uu, [p[0] for p in pts], [p[1] for p in pts]), u)

    def _shifted(self, shift: float) -> Schedule:
        return LandscapeSchedule(self.start + shift, self.stop + shift, self.lo + shift, self.hi + shift, self.slow)


_KINDS: dict[str, type[Schedule]] = {
    "constant": ConstantSchedule,
    "linear": LinearSchedule,
    "exponential": ExponentialSchedule,
    "tanh": TanhSchedule,
    "piecewise": PiecewiseSchedule,
    "adiabatic": AdiabaticSchedule,
    "landscape": LandscapeSchedule,
}
_ALIASES = {"exp": "exponential", "sigmoid": "tanh", "const": "constant", "piecewise-linear": "piecewise", "pwl": "piecewise"}


def _kind_class(kind: Any) -> type[Schedule]:
    if not isinstance(kind, str):
        raise CimsimError(f"schedule kind must be a string, got {kind!r}")
    key = _ALIASES.get(kind.strip().lower(), kind.strip().lower())
    if key not in _KINDS:
        raise CimsimError(f"unknown schedule kind {kind!r}; choose one of {', '.join(_KINDS)}")
    return _KINDS[key]


def schedule_from_dict(d: dict) -> Schedule:
    """Inverse of :meth:`Schedule.to_dict`; refuses unknown kinds and unknown or missing fields."""
    if not isinstance(d, dict) or "kind" not in d:
        raise CimsimError("a schedule dictionary needs a 'kind' entry")
    cls = _kind_class(d["kind"])
    names = {f.name for f in fields(cls)}
    kwargs = {k: v for k, v in d.items() if k != "kind"}
    unknown = set(kwargs) - names
    if unknown:
        raise CimsimError(f"unknown field(s) for a {cls.kind} schedule: {', '.join(sorted(unknown))}")
    if cls is PiecewiseSchedule and "points" in kwargs:
        pts = kwargs["points"]
        if not isinstance(pts, (list, tuple)):
            raise CimsimError("piecewise points must be a list of [u, a] pairs")
        kwargs["points"] = tuple(tuple(p) if isinstance(p, (list, tuple)) else p for p in pts)
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise CimsimError(f"bad {cls.kind} schedule: {exc}") from None


def _parse_bool(text: str) -> bool:
    low = text.strip().lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise CimsimError(f"expected a boolean, got {text!r}")


def _num(text: str, spec: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise CimsimError(f"schedule {spec!r}: {text!r} is not a number") from None
    if not math.isfinite(v):
        raise CimsimError(f"schedule {spec!r}: values must be finite, got {text!r}")
    return v


_POSITIONAL = {
    "constant": ("a",),
    "linear": ("start", "stop"),
    "exponential": ("start", "stop", "rate"),
    "tanh": ("start", "stop", "steepness", "center"),
    "adiabatic": ("start", "stop", "step", "tol"),
    "landscape": ("start", "stop", "lo", "hi", "slow"),
}


def parse_schedule(spec: Any) -> Schedule:
    """Build a :class:`Schedule` from a spec string, a ``.json`` path, a dict, or a Schedule (returned as is).

    See the module docstring for the grammar, e.g. ``"linear:-2.2,0.2"``, ``"piecewise:-2.2@0,-1@0.5,0.2@1"``,
    ``"landscape"``, ``"adiabatic:-2.2,0.2,0.02,tol=1e-6"``, ``"linear:-0.2,1.5,relative=1"``.
    """
    if isinstance(spec, Schedule):
        return spec
    if isinstance(spec, dict):
        return schedule_from_dict(spec)
    if not isinstance(spec, str) or not spec.strip():
        raise CimsimError(f"a schedule must be a spec string or a .json path, got {spec!r}")
    text = spec.strip()
    if text.lower().endswith(".json") or (os.path.sep in text and os.path.exists(text)):
        try:
            with open(text, encoding="utf-8") as fh:
                data = json.load(fh)
        except FileNotFoundError:
            raise CimsimError(f"schedule file {text} does not exist") from None
        except (OSError, ValueError) as exc:
            raise CimsimError(f"schedule file {text}: {str(exc).splitlines()[0]}") from None
        return schedule_from_dict(data)
    if text.startswith("{"):
        try:
            return schedule_from_dict(json.loads(text))
        except ValueError as exc:
            raise CimsimError(f"schedule JSON: {str(exc).splitlines()[0]}") from None
    kind, _, rest = text.partition(":")
    cls = _kind_class(kind)
    items = [t.strip() for t in rest.split(",") if t.strip()] if rest.strip() else []
    positional: list[str] = []
    keywords: dict[str, str] = {}
    for item in items:
        if "=" in item:
            k, v = item.split("=", 1)
            k = k.strip().lower()
            if k == "rel":
                k = "relative"
            keywords[k] = v.strip()
        else:
            if keywords:
                raise CimsimError(f"schedule {spec!r}: positional value {item!r} after key=value items")
            positional.append(item)
    kwargs: dict[str, Any] = {}
    if "relative" in keywords:
        kwargs["relative"] = _parse_bool(keywords.pop("relative"))
    if cls is PiecewiseSchedule:
        pts = []
        for item in positional:
            if "@" not in item:
                raise CimsimError(f"schedule {spec!r}: piecewise points are written A@U, got {item!r}")
            a, u = item.split("@", 1)
            pts.append((_num(u, spec), _num(a, spec)))
        if keywords:
            raise CimsimError(f"schedule {spec!r}: unknown option(s) {', '.join(keywords)}")
        return PiecewiseSchedule(tuple(pts), **kwargs)
    names = _POSITIONAL[cls.kind]
    if len(positional) > len(names):
        raise CimsimError(f"schedule {spec!r}: {cls.kind} takes at most {len(names)} values ({', '.join(names)})")
    for name, item in zip(names, positional):
        kwargs[name] = _num(item, spec)
    valid = {f.name for f in fields(cls)}
    for k, v in keywords.items():
        if k not in valid:
            raise CimsimError(f"schedule {spec!r}: unknown option {k!r} for {cls.kind}")
        kwargs[k] = _num(v, spec)
    required = [f.name for f in fields(cls) if f.default is MISSING and f.name not in kwargs]
    if required:
        raise CimsimError(f"schedule {spec!r}: {cls.kind} needs {', '.join(required)} (e.g. {_example(cls.kind)})")
    return cls(**kwargs)


def _example(kind: str) -> str:
    return {
        "constant": "constant:-0.5",
        "linear": "linear:-2.2,0.2",
        "exponential": "exp:-2.2,0.2,5",
        "tanh": "tanh:-2.2,0.2,6,0.5",
    }.get(kind, kind)
