"""0/1 knapsack (physics.md 5.2 with the binary slack of 5.3): choose items of integer weight ``w_a`` and
value ``c_a > 0`` with total weight at most the capacity ``W``, maximising the total value.

Variables: ``x_a`` (one spin per item, ``+1`` = packed) then ``M + 1`` slack bits ``y_k``,
``M = floor(log2 W)``, with ``S = sum_{k<M} 2^k y_k + (W + 1 - 2^M) y_M`` taking exactly the integers
0..W (none for ``W = 0``). With objective weight ``B = 1``::

    H(x, y) = A (sum_a w_a x_a + S - W)^2 - B sum_a c_a x_a

**Penalty weight.** ``A > B max_a c_a`` makes every ground state a feasible optimum (integer weights
needed). Feasible x: some S equals ``W - sum w x`` so the penalty can vanish and ``min_y H = -B value``.
Infeasible x with excess ``e = sum w x - W >= 1``: the penalty is at least ``A e^2`` for every S;
dropping packed items one at a time until the load fits removes at most ``e`` items (each removes at
least 1 from the excess), i.e. at most ``e B max c <= e^2 B max c < A e^2`` of value, and the slack
then zeroes the penalty, so the energy strictly drops. The default is ``A = 2 B max c``
(``penalty=`` overrides; ``Encoded.info`` records it and whether it beats the bound).

Items heavier than the capacity are kept as spins (they are simply never packed in a ground state).
Unlike the graph encodings, a 1-flip local minimum can be infeasible here (dropping an item may
overshoot into a large negative excess); ``repair=true`` makes the decoder fix and greedily fill the
packing, keeping the raw decoding in ``answer["raw"]``.
File format: first line ``N CAPACITY``, then N lines ``weight value``; ``#`` starts a comment.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import CimsimError
from ..memory import check_dense_fits
from . import Encoded, Solution
from ._common import QuboBuilder, check_options, penalty_weight
from ._text import iter_tokens

__all__ = ["encode_knapsack", "greedy_repair", "slack_coefficients", "read_knapsack", "from_file", "DEFAULT_FACTOR"]

#: default A = DEFAULT_FACTOR * max value (B = 1)
DEFAULT_FACTOR = 2.0
#: largest weight / capacity accepted: integers up to 2^53 are exact in float64.
MAX_INT = 2**53


def slack_coefficients(W: int) -> list[int]:
    """Coefficients of the binary slack for 0 <= S <= W (physics.md 5.3): every integer in [0, W], none above."""
    if W <= 0:
        return []
    M = int(W).bit_length() - 1
    return [1 << k for k in range(M)] + [W + 1 - (1 << M)]


def _int_value(x: object, what: str) -> int:
    if isinstance(x, (bool, np.bool_)):
        raise CimsimError(f"{what} must be a non-negative integer, got {x!r}")
    try:
        f = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        raise CimsimError(f"{what} must be a non-negative integer, got {x!r}") from None
    if not np.isfinite(f) or f != int(f) or f < 0:
        raise CimsimError(f"{what} must be a non-negative integer, got {x!r}"[:200])
    v = int(x) if isinstance(x, (int, np.integer)) else int(f)
    if v > MAX_INT:
        raise CimsimError(f"{what} must be at most 2^53 (exact in floating point), got {v:.3g}")
    return v


def greedy_repair(x: np.ndarray, weights: Sequence[int], values: np.ndarray, capacity: int) -> np.ndarray:
    """Make a packing feasible and maximal: drop packed items of lowest value/weight until the load fits,
    then add unpacked items in decreasing value/weight order while they fit. Returns a new bool array."""
    x = np.array(x, dtype=bool)
    w = np.asarray(weights, dtype=np.float64)
    ratio = np.divide(values, w, out=np.full(len(w), np.inf), where=w > 0)
    load = int(np.asarray(weights)[x].sum())
    for a in np.argsort(ratio, kind="stable"):
        if load <= capacity:
            break
        if x[a] and w[a] > 0:
            x[a] = False
            load -= int(weights[a])
    for a in np.argsort(-ratio, kind="stable"):
        if not x[a] and load + int(weights[a]) <= capacity:
            x[a] = True
            load += int(weights[a])
    return x


def encode_knapsack(weights: Sequence[int], values: Sequence[float], capacity: int, *,
                    penalty: float | None = None, repair: bool = False, storage: str = "auto",
                    name: str = "knapsack") -> Encoded:
    """Encode the 0/1 knapsack with integer ``weights`` (>= 0), positive ``values`` and integer ``capacity``.

    With ``repair=True`` the decoder passes the packing through :func:`greedy_repair` (physics.md 5.5:
    solvers' outputs are repaired, the raw result is kept in ``answer["raw"]``).
    """
    w = [_int_value(x, f"{name}: weight {a}") for a, x in enumerate(weights)]
    try:
        c = np.asarray(values, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise CimsimError(f"{name}: values must be numbers") from None
    if len(w) == 0:
        raise CimsimError(f"{name}: need at least one item")
    if c.shape != (len(w),):
        raise CimsimError(f"{name}: {len(w)} weights but {c.size} values")
    if not np.all(np.isfinite(c)) or np.any(c <= 0):
        raise CimsimError(f"{name}: values must be positive and finite")
    W = _int_value(capacity, f"{name}: capacity")
    n = len(w)
    check_dense_fits(n, copies=3, what="knapsack coupling matrix (every pair of items is coupled)")
    slack = slack_coefficients(W)
    B = 1.0
    bound = B * float(c.max())
    A, guaranteed = penalty_weight(penalty, DEFAULT_FACTOR * bound, bound)
    # A (sum_t a_t z_t - W)^2 over z = (x, y), a = (w, slack): expand with z_t^2 = z_t
    coef = np.array(w + slack, dtype=np.float64)
    span = float(np.abs(coef).max()) + float(W)
    if not np.isfinite(A * span * span):  # Python floats: inf, before numpy warns of the overflow term by term
        raise CimsimError(f"{name}: penalty {A:g} is too large: its terms A (weight + capacity)^2 overflow")
    qb = QuboBuilder(n + len(slack))
    qb.add_constant(A * W * W)
    qb.c += A * coef * coef - 2.0 * A * W * coef
    nz = np.flatnonzero(coef)
    for p in range(len(nz)):
        for q in range(p + 1, len(nz)):
            s, t = nz[p], nz[q]
            qb.add_quadratic(int(s), int(t), 2.0 * A * coef[s] * coef[t])
    qb.c[:n] -= B * c
    model = qb.model(storage)

    if not isinstance(repair, bool):
        raise CimsimError(f"{name}: repair must be true or false, got {repair!r}")

    def describe(x: np.ndarray) -> dict:
        items = [int(a) for a in np.flatnonzero(x)]
        load = int(sum(w[a] for a in items))
        return {"items": items, "weight": load, "value": float(c[x].sum()), "capacity": W, "feasible": load <= W}

    def decode(spins: np.ndarray) -> Solution:
        x = np.asarray(spins)[:n] > 0
        raw = describe(x)
        if not repair:
            feasible = raw.pop("feasible")
            return Solution(raw["value"], feasible, raw)
        fixed = describe(greedy_repair(x, w, c, W))
        feasible = fixed.pop("feasible")
        fixed["repaired"] = fixed["items"] != raw["items"]
        fixed["raw"] = raw
        return Solution(fixed["value"], feasible, fixed)

    info = {
        "items": n,
        "capacity": W,
        "slack_bits": len(slack),
        "slack_coefficients": slack,
        "penalty": A,
        "objective_weight": B,
        "penalty_bound": bound,
        "penalty_guaranteed": guaranteed,
        "repair": repair,
        "energy": "min over slack of H = -B * value on feasible packings",
    }
    return Encoded("knapsack", model, decode, "max", "value", info)


def read_knapsack(path: str | Path) -> tuple[list[int], list[float], int]:
    """Read ``N CAPACITY`` then N lines ``weight value`` (``#`` comments); returns (weights, values, capacity)."""
    p = Path(path)
    n = cap = -1
    k0 = 0
    weights: list[int] = []
    values: list[float] = []
    for k, t in iter_tokens(p, comment="#"):
        if n < 0:
            try:
                if len(t) != 2:
                    raise ValueError
                n, cap = int(t[0]), int(t[1])
                if n < 1 or not 0 <= cap <= MAX_INT:
                    raise ValueError
            except ValueError:
                raise CimsimError(f"{p}: line {k}: header must be 'N CAPACITY' (N >= 1, integer 0 <= CAPACITY <= 2^53),"
                                  f" got {' '.join(t)[:80]!r}") from None
            check_dense_fits(n, copies=3, what="knapsack coupling matrix (every pair of items is coupled)")
            k0 = k
            continue
        if len(weights) >= n:
            raise CimsimError(f"{p}: line {k}: header (line {k0}) declares {n} items but the file has {n + 1} or more item lines")
        if len(t) != 2:
            raise CimsimError(f"{p}: line {k}: expected 'weight value', got {' '.join(t)[:80]!r}")
        try:
            wt = int(t[0])
            if not 0 <= wt <= MAX_INT:
                raise ValueError
        except ValueError:
            raise CimsimError(f"{p}: line {k}: weight must be an integer in 0..2^53, got {t[0][:40]!r}") from None
        try:
            v = float(t[1])
        except ValueError:
            v = float("nan")
        if not (np.isfinite(v) and 0 < v < 1e150):
            raise CimsimError(f"{p}: line {k}: value must be a positive number below 1e150, got {t[1][:40]!r}")
        weights.append(wt)
        values.append(v)
    if n < 0:
        raise CimsimError(f"{p}: no data in the file")
    if len(weights) != n:
        raise CimsimError(f"{p}: header declares {n} items but the file has {len(weights)} item lines")
    return weights, values, cap


#: the options ``from_file`` accepts (the command line's ``-o KEY=VALUE``)
OPTIONS: tuple[str, ...] = ("penalty", "repair", "storage")


def from_file(path: str | Path, **options) -> Encoded:
    """Encode a knapsack file (see the module docstring).

    Options: ``penalty`` (A; default 2 max value), ``repair`` (bool, see :func:`encode_knapsack`), ``storage``.
    """
    check_options("knapsack", options, OPTIONS)
    w, v, cap = read_knapsack(path)
    return encode_knapsack(w, v, cap, penalty=options.get("penalty"), repair=options.get("repair", False),
                           storage=options.get("storage", "auto"), name=str(path))
