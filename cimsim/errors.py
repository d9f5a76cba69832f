"""User-facing errors.

Anything the user can cause (a malformed file, an impossible parameter, a matrix that will not fit in
memory) raises :class:`CimsimError` with a one-line message. The command line turns it into that line on
stderr and exit status 2; library users catch it like any ``ValueError``.
"""
from __future__ import annotations

import math


class CimsimError(ValueError):
    """A problem with the user's input or parameters, described in one line."""


class CimsimWarning(UserWarning):
    """Input that cimsim accepted after a documented repair (e.g. duplicate edges merged), in one line."""


def positive_int(value: object, name: str) -> int:
    """Return ``value`` as an int, refusing anything that is not a positive integer."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise CimsimError(f"{name} must be a positive integer, got {value!r}"[:200])
    if isinstance(value, int):  # exact, however large
        if value <= 0:
            raise CimsimError(f"{name} must be a positive integer, got {value!r}"[:200])
        return int(value)
    try:
        fvalue = float(value)
    except (ValueError, OverflowError):
        raise CimsimError(f"{name} must be a positive integer, got {value!r}"[:200]) from None
    if not fvalue.is_integer() or fvalue <= 0:
        raise CimsimError(f"{name} must be a positive integer, got {value!r}")
    return int(fvalue)


def positive_float(value: object, name: str, *, allow_zero: bool = False) -> float:
    """Return ``value`` as a finite float > 0 (or >= 0 with ``allow_zero``)."""
    fvalue = finite_float(value, name)
    if fvalue < 0 or (fvalue == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise CimsimError(f"{name} must be {bound}, got {value!r}")
    return fvalue


def finite_float(value: object, name: str, *, kind: str = "a number") -> float:
    """Return ``value`` as a finite float (``kind`` names what it must be in the error)."""
    try:
        fvalue = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise CimsimError(f"{name} must be {kind}, got {value!r}"[:200]) from None
    except OverflowError:
        fvalue = math.inf
    if not math.isfinite(fvalue):
        raise CimsimError(f"{name} must be finite, got {value!r}"[:200])
    return fvalue


def divergence_error(solver: str, step: int, steps: int, bad: int, replicas: int, change: str) -> CimsimError:
    """The one-line error of a run whose amplitudes went to inf/NaN: where it happened and what to change.

    ``change`` names the parameters to lower, e.g. ``"lower dt (now 5)"``.
    """
    return CimsimError(f"{solver}: the amplitudes diverged (inf/NaN) by step {step} of {steps} in {bad} of {replicas} "
                       f"replica{'s' if replicas != 1 else ''}: the integration is unstable for these parameters; {change}")
