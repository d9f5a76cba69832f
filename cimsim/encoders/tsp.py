"""Travelling salesman on a complete graph (physics.md 5.2): the shortest closed tour through n cities.

Variables ``x_{v,j}`` = city v at tour position j. By default city 0 is pinned to position 0, leaving
``(n - 1)^2`` spins (index ``(v - 1)(n - 1) + (j - 1)``); ``pin=false`` keeps all ``n^2`` (index
``v n + j``). With ``B = 1`` and distances ``W_uv >= 0`` (asymmetric allowed)::

    H = A sum_v (1 - sum_j x_{v,j})^2 + A sum_j (1 - sum_v x_{v,j})^2
        + sum_j sum_{u,v} c_uv x_{u,j} x_{v,j+1}   (j + 1 mod n),   c_uv = B W_uv (u != v),  c_uu = A

(``c_uu = A`` is Lucas's non-edge penalty for a city following itself.) On valid tours
``H = B * length``.

**Penalty weight.** ``A > B max_v (max_u W_uv + max_w W_vw) / 2`` (at most ``B max W``; Lucas states
``A > B max W``) makes every ground state a shortest tour. Proof: all pair costs are >= 0, so removing a
1 never raises the cost term; removing one from a row (or column) with >= 2 ones changes the row term by
``-(2r - 3) <= -1`` and the column term by at most +1, so repeated removals reach a partial permutation
without raising H. If that is a full tour and the original state was not, the original had an extra 1,
i.e. a row and a column with two ones, so it was strictly higher. Otherwise filling an empty position
j with a missing city v lowers the penalty by ``2A`` and raises the cost by at most
``W_{prev,v} + W_{v,next}`` (prev/next are other cities), which A beats: strictly lower. The default is
``A = 1.25 x`` that bound; ``penalty=`` overrides it.

A 1-flip local minimum need not be a tour (moving a city takes several flips); ``repair=true`` makes the
decoder complete it by cheapest insertion (raw decoding in ``answer["raw"]``).

File formats: a plain distance matrix (first line ``N``, then N rows of N numbers; ``#`` comments), or
TSPLIB with ``EDGE_WEIGHT_TYPE: EUC_2D`` / ``CEIL_2D`` / ``ATT`` coordinates, or ``EXPLICIT`` with
``FULL_MATRIX``.
"""
from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Iterator

import numpy as np

from ..errors import CimsimError
from ..model import check_dense_fits, check_fits
from . import Encoded, Solution
from ._common import QuboBuilder, check_options, penalty_weight
from ._text import iter_lines

__all__ = ["encode_tsp", "repair_tour", "tour_length", "brute_force_tour", "read_tsp", "from_file", "AUTO_FACTOR"]

AUTO_FACTOR = 1.25


def tour_length(W: np.ndarray, tour) -> float:
    """Length of the closed tour visiting ``tour`` in order (back to the start)."""
    t = list(tour)
    return float(sum(W[t[k], t[(k + 1) % len(t)]] for k in range(len(t)))) if len(t) > 1 else 0.0


def repair_tour(tour: list[int], W: np.ndarray) -> list[int]:
    """A valid tour from a decoded one (``-1`` = empty or contested position): keep the first occurrence of
    each assigned city in position order, then insert the missing cities one by one where they lengthen
    the cycle least (cheapest insertion)."""
    n = W.shape[0]
    seen: set[int] = set()
    cycle = []
    for v in tour:
        if v >= 0 and v not in seen:
            seen.add(v)
            cycle.append(v)
    for v in range(n):
        if v in seen:
            continue
        if not cycle:
            cycle.append(v)
            continue
        m = len(cycle)
        costs = [W[cycle[k], v] + W[v, cycle[(k + 1) % m]] - W[cycle[k], cycle[(k + 1) % m]] for k in range(m)]
        cycle.insert(int(np.argmin(costs)) + 1, v)
    return cycle


def encode_tsp(distances, *, penalty: float | None = None, pin: bool = True, repair: bool = False,
               storage: str = "auto", name: str = "tsp") -> Encoded:
    """Encode the TSP for an (n, n) matrix of non-negative finite ``distances`` (n >= 3; diagonal ignored).

    With ``repair=True`` the decoder turns an invalid assignment into a tour with :func:`repair_tour`
    (the raw decoding is kept in ``answer["raw"]``); a valid one is left as it is.
    """
    try:
        W = np.array(distances, dtype=np.float64)
    except (TypeError, ValueError):
        raise CimsimError(f"{name}: distances must be a numeric matrix") from None
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise CimsimError(f"{name}: distances must be a square matrix, got shape {W.shape}")
    n = W.shape[0]
    if n < 3:
        raise CimsimError(f"{name}: a tour needs at least 3 cities, got {n}")
    np.fill_diagonal(W, 0.0)
    if not np.all(np.isfinite(W)) or np.any(W < 0) or (W.size and W.max() > 1e150):
        raise CimsimError(f"{name}: distances must be finite, non-negative and below 1e150")
    # the QUBO has about n^3 pair terms while it is assembled (about 100 bytes each in Python lists)
    check_fits(100.0 * float(n) ** 3, f"{name}: the TSP encoding of {n} cities ({n}^3 terms)",
               "the TSP encoding is for small instances (a few hundred cities at most)")
    for flag, val in (("pin", pin), ("repair", repair)):
        if not isinstance(val, bool):
            raise CimsimError(f"{name}: {flag} must be true or false, got {val!r}")
    B = 1.0
    bound = B * float(np.max(W.max(axis=0) + W.max(axis=1))) / 2.0
    A, guaranteed = penalty_weight(penalty, AUTO_FACTOR * bound if bound > 0 else 1.0, bound)
    cities = list(range(1, n)) if pin else list(range(n))
    slots = list(range(1, n)) if pin else list(range(n))
    m = len(cities)

    def var(v: int, j: int) -> int:
        return (v - 1) * m + (j - 1) if pin else v * n + j

    qb = QuboBuilder(m * m)
    for group in ([[(v, j) for j in slots] for v in cities] + [[(v, j) for v in cities] for j in slots]):
        # A (1 - sum x)^2 = A - A sum x + 2A sum_{a<b} x_a x_b
        qb.add_constant(A)
        idx = [var(v, j) for v, j in group]
        for a in range(len(idx)):
            qb.add_linear(idx[a], -A)
            for b in range(a + 1, len(idx)):
                qb.add_quadratic(idx[a], idx[b], 2.0 * A)
    cost = B * W
    np.fill_diagonal(cost, A)
    for j in range(n):
        k = (j + 1) % n
        for u in range(n):
            for v in range(n):
                c = cost[u, v]
                if c == 0:
                    continue
                if pin and (u == 0 or v == 0):
                    if u == 0 and v == 0:
                        continue  # city 0 only sits at position 0, never at two consecutive ones
                    if u == 0 and j == 0:  # x_{0,0} = 1: linear in x_{v,1}
                        qb.add_linear(var(v, k), c)
                    elif v == 0 and k == 0:  # x_{u,n-1} x_{0,0}
                        qb.add_linear(var(u, j), c)
                    continue
                if pin and (j == 0 or k == 0):
                    continue  # position 0 holds city 0 only
                qb.add_quadratic(var(u, j), var(v, k), c)
    model = qb.model(storage)

    def decode(spins: np.ndarray) -> Solution:
        X = (np.asarray(spins) > 0).reshape(m, m)
        rows_ok = bool(np.all(X.sum(axis=1) == 1))
        cols_ok = bool(np.all(X.sum(axis=0) == 1))
        tour = [0] if pin else []
        for jj in range(m):
            col = np.flatnonzero(X[:, jj])
            tour.append(int(cities[col[0]]) if col.size == 1 else -1)
        valid = rows_ok and cols_ok
        visited = [v for v in tour if v >= 0]
        length = tour_length(W, visited)
        raw = {"tour": tour, "length": length, "valid_tour": valid}
        if not repair or valid:
            if repair:
                raw["repaired"] = False
            return Solution(length, valid, raw)
        fixed = repair_tour(tour, W)
        if pin:  # rotate so that city 0 comes first, as in the raw decoding
            z = fixed.index(0)
            fixed = fixed[z:] + fixed[:z]
        L = tour_length(W, fixed)
        return Solution(L, True, {"tour": fixed, "length": L, "valid_tour": True, "repaired": True, "raw": raw})

    info = {
        "cities": n,
        "pinned": pin,
        "penalty": A,
        "objective_weight": B,
        "penalty_bound": bound,
        "penalty_guaranteed": guaranteed,
        "repair": repair,
        "energy": "H = B * length on valid tours",
    }
    return Encoded("tsp", model, decode, "min", "length", info)


def _check_cities(p: Path, n: int, where: str) -> None:
    check_dense_fits(n, copies=3, what=f"distance matrix ({where})")


def _tsplib(p: Path, lines: Iterator[tuple[int, str]]) -> np.ndarray:
    spec: dict[str, str] = {}
    section = ""
    for _, line in lines:
        s = line.strip()
        if not s or s == "EOF":
            continue
        if s.startswith(("NODE_COORD_SECTION", "EDGE_WEIGHT_SECTION")):
            section = s.split()[0]
            break
        if ":" in s:
            key, val = s.split(":", 1)
            spec[key.strip().upper()] = val.strip()
    if not section:
        raise CimsimError(f"{p}: TSPLIB file without NODE_COORD_SECTION or EDGE_WEIGHT_SECTION")
    try:
        n = int(spec.get("DIMENSION", ""))
        if n < 1:
            raise ValueError
    except ValueError:
        raise CimsimError(f"{p}: TSPLIB DIMENSION missing or not a positive integer") from None
    _check_cities(p, n, f"DIMENSION {n}")
    kind = spec.get("EDGE_WEIGHT_TYPE", "").upper()
    if section == "NODE_COORD_SECTION":
        if kind not in ("EUC_2D", "CEIL_2D", "ATT"):
            raise CimsimError(f"{p}: EDGE_WEIGHT_TYPE {kind[:40] or '(missing)'} not supported (EUC_2D, CEIL_2D, ATT, EXPLICIT)")
    elif kind != "EXPLICIT" or spec.get("EDGE_WEIGHT_FORMAT", "").upper() != "FULL_MATRIX":
        raise CimsimError(f"{p}: only EXPLICIT FULL_MATRIX edge weights are supported")
    xy = np.zeros((n, 2))
    given = np.zeros(n, dtype=bool)
    vals: list[float] = []
    count = 0
    for line_no, line in lines:
        s = line.strip()
        if not s or s == "EOF" or s.endswith("SECTION"):
            break
        t = s.split()
        if section == "NODE_COORD_SECTION":
            if count >= n:
                break
            try:
                i, x, y = int(t[0]), float(t[1]), float(t[2])
            except (ValueError, IndexError):
                raise CimsimError(f"{p}: line {line_no}: expected 'index x y'") from None
            if not 1 <= i <= n:
                raise CimsimError(f"{p}: line {line_no}: node {i} out of range 1..{n}"[:200])
            if given[i - 1]:
                raise CimsimError(f"{p}: line {line_no}: node {i} given twice")
            if not (math.isfinite(x) and math.isfinite(y) and abs(x) < 1e150 and abs(y) < 1e150):
                raise CimsimError(f"{p}: line {line_no}: coordinates must be finite numbers below 1e150")
            given[i - 1] = True
            xy[i - 1] = (x, y)
            count += 1
        else:
            for tok in t:
                try:
                    vals.append(float(tok))
                except ValueError:
                    raise CimsimError(f"{p}: line {line_no}: expected a number, got {tok[:40]!r}") from None
                if len(vals) > n * n:
                    raise CimsimError(f"{p}: line {line_no}: FULL_MATRIX has more than {n * n} numbers")
    if section == "NODE_COORD_SECTION":
        if count < n:
            raise CimsimError(f"{p}: DIMENSION {n} but only {count} coordinate lines")
        d = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1))
        if kind == "EUC_2D":
            return np.floor(d + 0.5)
        if kind == "CEIL_2D":
            return np.ceil(d)
        r = d / math.sqrt(10.0)
        t2 = np.floor(r + 0.5)
        return np.where(t2 < r, t2 + 1, t2)
    if len(vals) != n * n:
        raise CimsimError(f"{p}: FULL_MATRIX needs {n * n} numbers, found {len(vals)}")
    return np.array(vals).reshape(n, n)


def read_tsp(path: str | Path) -> np.ndarray:
    """Distance matrix from a plain matrix file (``N`` then N rows) or a TSPLIB file (see module docstring).

    Read line by line; the header size is checked against the memory limit before the matrix is allocated.
    """
    p = Path(path)
    it = iter_lines(p)
    head = list(itertools.islice(it, 20))
    lines = itertools.chain(head, it)
    if any(ln.strip().upper().startswith(("DIMENSION", "NAME")) for _, ln in head):
        return _tsplib(p, lines)
    n = -1
    W = np.zeros((0, 0))
    r = 0
    for k, ln in lines:
        t = ln.split("#", 1)[0].split()
        if not t:
            continue
        if n < 0:
            try:
                if len(t) != 1:
                    raise ValueError
                n = int(t[0])
                if n < 1:
                    raise ValueError
            except ValueError:
                raise CimsimError(f"{p}: line {k}: first line must be the number of cities N, got {' '.join(t)[:80]!r}") from None
            _check_cities(p, n, f"N = {n} on line {k}")
            W = np.zeros((n, n))
            continue
        if r >= n:
            raise CimsimError(f"{p}: line {k}: more than the N = {n} matrix rows")
        if len(t) != n:
            raise CimsimError(f"{p}: line {k}: expected {n} distances, got {len(t)}")
        for c, tok in enumerate(t):
            try:
                W[r, c] = float(tok)
            except ValueError:
                raise CimsimError(f"{p}: line {k}: expected a number, got {tok[:40]!r}") from None
            if not (math.isfinite(W[r, c]) and W[r, c] >= 0):
                raise CimsimError(f"{p}: line {k}: distances must be finite and non-negative, got {tok[:40]!r}")
        r += 1
    if n < 0:
        raise CimsimError(f"{p}: no data in the file")
    if r != n:
        raise CimsimError(f"{p}: N = {n} but the file has {r} matrix rows")
    return W


def brute_force_tour(W: np.ndarray) -> tuple[list[int], float]:
    """Shortest tour by enumerating all (n-1)! tours starting at city 0 (small n only)."""
    n = W.shape[0]
    best = (list(range(n)), tour_length(W, range(n)))
    for perm in itertools.permutations(range(1, n)):
        t = [0, *perm]
        L = tour_length(W, t)
        if L < best[1]:
            best = (t, L)
    return best


def from_file(path: str | Path, **options) -> Encoded:
    """Encode a TSP file. Options: ``penalty`` (A; default 1.25 x bound), ``pin`` (bool, default true),
    ``repair`` (bool, default false), ``storage``."""
    check_options("tsp", options, ("penalty", "pin", "repair", "storage"))
    return encode_tsp(read_tsp(path), penalty=options.get("penalty"), pin=options.get("pin", True),
                      repair=options.get("repair", False), storage=options.get("storage", "auto"), name=str(path))
