"""Number partitioning (physics.md 5.2): split numbers n_i into two sets with sums as equal as possible.

Encoding, with spin ``s_i = +1`` putting ``n_i`` in the first subset::

    H(s) = (sum_i a_i s_i)^2,   a_i = n_i / scale,   J = -2 a a^T (zero diagonal),  h = 0,
    offset = sum_i a_i^2

so ``H(s) = (D(s) / scale)^2`` where ``D(s) = sum(first) - sum(second)`` is the subset-sum difference
in the input's units. ``scale = max |n_i|`` by default (``normalize=False`` gives ``scale = 1``), which
keeps the couplings in [-2, 2] whatever the size of the numbers; a perfect partition has ``H = 0``.
``Encoded.info["scale"]`` records it. The penalty weight A of Lucas's form only rescales H, so there is
no ``penalty`` option.

The decoder recomputes sums from the original numbers (exactly, with Python integers, when every input
is an integer). Any finite real numbers are accepted, negative ones included.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import CimsimError
from ..memory import check_dense_fits
from ..model import IsingModel
from . import Encoded, Solution
from ._common import check_options
from ._text import iter_tokens

__all__ = ["encode_partition", "from_file", "read_numbers", "subset_difference"]


def _parse_number(tok: str) -> int | float:
    """int for integer tokens, else float; ValueError for anything else (NaN and inf included)."""
    try:
        return int(tok)
    except ValueError:
        pass
    x = float(tok)
    if not math.isfinite(x):
        raise ValueError(tok)
    return x


def _as_float(x: int | float, name: str, i: int) -> float:
    """float(x), refusing integers beyond the float range with a one-line error."""
    try:
        return float(x)
    except OverflowError:
        raise CimsimError(f"{name}: entry {i} is too large for floating point ({str(x)[:20]}... has {len(str(x))} digits)") from None


def read_numbers(path: str | Path) -> list[int | float]:
    """Numbers from a text file: whitespace separated, any number per line; ``#`` starts a comment.

    Integer tokens come back as ``int`` (exact however large), others as ``float``. A token that is not
    a finite number raises :class:`CimsimError` naming the line.
    """
    p = Path(path)
    out: list[int | float] = []
    for k, toks in iter_tokens(p, comment="#"):
        for tok in toks:
            try:
                out.append(_parse_number(tok))
            except ValueError:
                raise CimsimError(f"{p}: line {k}: expected a finite number, got {tok[:40]!r}") from None
            if len(out) > 1 << 16 and len(out) & 0xFFFF == 0:
                check_dense_fits(len(out), copies=2, what="partition coupling matrix")
    if not out:
        raise CimsimError(f"{p}: no numbers in the file")
    return out


def _exact_sum(values: Sequence[int | float]) -> int | float:
    """Exact int sum for integers, correctly rounded float sum otherwise."""
    if all(isinstance(x, int) for x in values):
        return int(sum(values))
    try:
        return float(math.fsum(values))
    except OverflowError:  # partial sums beyond the float range: the correctly rounded sum is +-inf
        return float(sum(float(x) for x in values))


def subset_difference(numbers: Sequence[int | float], spins: np.ndarray) -> int | float:
    """Sum of the numbers with spin +1 minus the sum of those with spin -1 (exact for integer input)."""
    s = np.asarray(spins).reshape(-1)
    return _exact_sum([x for x, v in zip(numbers, s) if v > 0]) - _exact_sum([x for x, v in zip(numbers, s) if v <= 0])


def encode_partition(numbers: Sequence[int | float], *, normalize: bool = True, name: str = "numbers") -> Encoded:
    """Encode number partitioning of ``numbers`` (a sequence of finite reals, length N >= 1).

    Returns an :class:`Encoded` with N spins (dense couplings), minimising ``|difference|``.
    """
    nums = list(numbers.tolist() if isinstance(numbers, np.ndarray) else numbers)
    if not nums:
        raise CimsimError(f"{name}: need at least one number")
    for i, x in enumerate(nums):
        if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, float, np.integer, np.floating)):
            raise CimsimError(f"{name}: entry {i} is not a number: {x!r}")
        if not math.isfinite(_as_float(x, name, i)):
            raise CimsimError(f"{name}: entry {i} is not finite: {x!r}")
    nums = [int(x) if isinstance(x, (int, np.integer)) else float(x) for x in nums]
    n = len(nums)
    check_dense_fits(n, copies=2)
    big = max(abs(float(x)) for x in nums)
    if not normalize and big * big * n > 1e300:
        raise CimsimError(f"{name}: numbers up to {big:.3g} are too large to encode (the energy scale would overflow)")
    scale = big if (normalize and big > 0) else 1.0
    a = np.array([float(x) for x in nums]) / scale
    # J_ii = -2 a_i^2 is folded by from_couplings into offset = sum a_i^2
    model = IsingModel.from_couplings(-2.0 * np.outer(a, a), storage="dense")
    total = _exact_sum(nums)
    if sum(abs(float(x)) for x in nums) > 1e300:
        raise CimsimError(f"{name}: the numbers are too large: their sum overflows floating point")

    def decode(spins: np.ndarray) -> Solution:
        s = np.asarray(spins)
        first = [i for i in range(n) if s[i] > 0]
        second = [i for i in range(n) if s[i] <= 0]
        sums = [_exact_sum([nums[i] for i in first]), _exact_sum([nums[i] for i in second])]
        d = abs(sums[0] - sums[1])
        return Solution(d, True, {"subsets": [first, second], "sums": sums, "difference": d})

    info = {"numbers": n, "total": total, "scale": scale, "energy": "H = (difference / scale)^2"}
    return Encoded("partition", model, decode, "min", "difference", info)


#: the options ``from_file`` accepts (the command line's ``-o KEY=VALUE``)
OPTIONS: tuple[str, ...] = ("normalize",)


def from_file(path: str | Path, **options) -> Encoded:
    """Encode number partitioning from a file of numbers. Options: ``normalize`` (bool, default True)."""
    check_options("partition", options, OPTIONS)
    normalize = options.get("normalize", True)
    if not isinstance(normalize, bool):
        raise CimsimError(f"partition: normalize must be true or false, got {normalize!r}")
    return encode_partition(read_numbers(path), normalize=normalize, name=str(path))
