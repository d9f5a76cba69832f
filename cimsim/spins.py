"""Spin vectors and batches: the one check every user-supplied spin vector passes, and batch helpers.

A spin vector has N entries, each exactly +1 or -1 (any integer or float dtype). A batch is an (R, N)
array of R such rows. :func:`check_spins` refuses anything else (0, NaN, 2, 0.5, True/False, text) with
one :class:`~cimsim.errors.CimsimError` line naming the first offending entry; nothing is rounded or
sign-mapped, so a vector of 0/1 values given where spins are expected is an error, not a silent
reinterpretation. Solver kernels do not call it on their own outputs (the solver driver converts those).
"""
from __future__ import annotations

import numpy as np

from .errors import CimsimError

__all__ = ["check_spins", "as_spin_batch", "strip_aux_spin", "start_spins"]


def _shape_text(n: int | None) -> str:
    return f"(R, {n}) or ({n},)" if n is not None else "(R, N) or (N,)"


def check_spins(spins: object, n: int | None = None, *, name: str = "spins") -> np.ndarray:
    """Return ``spins`` ((N,) or (R, N)) as an int8 array of the same shape, refusing any entry not +1 or -1.

    ``n`` (optional) is the required number of spins per vector. Raises :class:`CimsimError` (one line)
    for a wrong shape, a non-numeric input, or an entry such as 0, NaN, 2 or 0.5.
    """
    try:
        S = np.asarray(spins)
        if S.dtype.kind == "O":  # e.g. Fractions: numbers only if each converts to float
            S = S.astype(np.float64)
        elif S.dtype.kind not in "iuf":  # bool, str, complex: not spins
            raise TypeError
    except (TypeError, ValueError):
        raise CimsimError(f"{name} must be an array of numbers +1 or -1, got a {type(spins).__name__} that is not") from None
    if S.ndim not in (1, 2) or (n is not None and S.shape[-1] != n):
        raise CimsimError(f"{name} must have shape {_shape_text(n)}, got {S.shape}")
    bad = np.abs(S) != 1
    if bad.any():
        where = tuple(int(k) for k in np.argwhere(bad)[0])
        at = f"entry {where[0]}" if S.ndim == 1 else f"row {where[0]}, entry {where[1]}"
        value = S[where]
        text = f"{value:g}" if S.dtype.kind == "f" else str(value)
        raise CimsimError(f"{name} must be +1 or -1, but {at} is {text} "
                          f"({int(bad.sum())} of {S.size} entries are not +-1)")
    return S.astype(np.int8, copy=False)


def as_spin_batch(spins: object, n: int) -> np.ndarray:
    """``spins`` ((N,) or (R, N), entries +-1, checked by :func:`check_spins`) as a float64 (R, N) array."""
    S = check_spins(spins, n)
    return S.reshape(1, -1).astype(np.float64) if S.ndim == 1 else S.astype(np.float64)


def strip_aux_spin(spins: np.ndarray) -> np.ndarray:
    """Gauge-fix spins of :meth:`IsingModel.with_aux_spin` (column 0 auxiliary) back to N spins."""
    S = np.asarray(spins)
    if S.ndim == 1:
        return (S[1:] * S[0]).astype(np.int8)
    return (S[:, 1:] * S[:, :1]).astype(np.int8)


def start_spins(initial: object | None, replicas: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """(replicas, n) int8 start spins of a spin-flip solver: ``initial`` ((n,) or (replicas, n) +-1;
    one row is repeated for every replica) or, when it is None, uniformly random spins drawn from ``rng``."""
    if initial is None:
        return np.where(rng.random((replicas, n)) < 0.5, -1, 1).astype(np.int8)
    S0 = check_spins(initial, n, name="initial spins")
    if S0.ndim == 1:
        S0 = S0.reshape(1, -1)
    if S0.shape[0] == 1:
        S0 = np.repeat(S0, replicas, axis=0)
    elif S0.shape[0] != replicas:
        raise CimsimError(f"initial has {S0.shape[0]} rows but replicas = {replicas}")
    return np.array(S0, dtype=np.int8, order="C")  # a copy: the solvers flip it in place, not the caller's array
