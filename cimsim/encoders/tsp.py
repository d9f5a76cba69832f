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

**Which solvers suit it.** Tabu search and simulated annealing move between permutations one flip at a
time and return tours; the amplitude dynamics (cim, ahc, cac, sb) and spectral rounding do not: their
continuous relaxation of each one-hot row and column is minimised by the symmetric state x = 1/m, so the
readout sign(x) assigns no city. ``Encoded.info`` says so (``auto_solver``, ``suited_solvers``,
``polish``) and the solve pipeline follows it. Even tabu's tours are far from 2-opt's beyond about 20
cities (bench/tsp.py): the penalty encoding is a study object, not a competitive TSP heuristic.

**Size.** The model has ``(n - 1)^2`` spins and about ``2 n^3`` coupled pairs; it is assembled with array
operations straight into CSR (300 cities: 89,401 spins, 1.1e8 stored couplings, about 4 GB at peak),
after the estimate is checked against the memory limit.

File formats: a plain distance matrix (first line ``N``, then N rows of N numbers; ``#`` comments), or
TSPLIB with ``EDGE_WEIGHT_TYPE: EUC_2D`` / ``CEIL_2D`` / ``ATT`` / ``GEO`` coordinates, or ``EXPLICIT`` with
``FULL_MATRIX``.
"""
from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Iterator

import numpy as np
import scipy.sparse as sp

from ..errors import CimsimError
from ..memory import check_dense_fits, check_fits
from ..model import SPARSE_MIN_N, IsingModel, as_square_matrix
from . import Encoded, Solution
from ._common import STORAGES, check_options, penalty_weight
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


def _pair_count(n: int, pin: bool) -> int:
    """Coupled pairs (before merging duplicates) of the TSP QUBO: one-hot rows and columns, and the
    successor costs between consecutive positions."""
    m = n - 1 if pin else n
    onehot = 2 * m * (m * (m - 1) // 2)
    successor = (m - 1) * m * m if pin else n * m * m
    return onehot + successor


def _assembly_bytes(n: int, pin: bool) -> float:
    """Peak bytes of :func:`_tsp_model`: COO triplets (16 bytes a pair), the symmetric CSR (2 x 12 bytes)
    and one more CSR-sized copy while the model is validated."""
    return 72.0 * float(_pair_count(n, pin)) + 64.0 * float(n) ** 2


def _tsp_model(W: np.ndarray, A: float, B: float, pin: bool, storage: str):
    """The Ising model of the TSP QUBO (module docstring), assembled with array operations.

    ``f(x) = sum_pairs w x_i x_j + c^T x + k`` maps to ``H(s)`` with ``s = 2x - 1`` through
    ``J_ij = J_ji = -w/4``, ``h_i = -(c_i/2 + sum_j w_ij/4)`` and ``offset = k + sum c/2 + sum w/4``.
    Nothing of size (spins x spins) is ever dense unless ``storage="dense"`` asks for it.
    """
    n = W.shape[0]
    m = n - 1 if pin else n
    nv = m * m
    itype = np.int32 if nv < 2**31 - 1 else np.int64
    grid = np.arange(nv, dtype=itype).reshape(m, m)  # grid[a, b]: city a (of the kept ones) at slot b
    iu, ju = np.triu_indices(m, 1)
    rows = [grid[:, iu].ravel(), grid[iu, :].ravel()]  # same city, two slots / same slot, two cities
    cols = [grid[:, ju].ravel(), grid[ju, :].ravel()]
    vals = [np.full(rows[0].size + rows[1].size, 2.0 * A)]
    c = np.full(nv, -2.0 * A)  # -A from the city's row, -A from the slot's column
    k = 2.0 * m * A
    cost = B * W
    np.fill_diagonal(cost, A)  # a city following itself pays the one-hot penalty (Lucas)
    kept = np.arange(1, n) if pin else np.arange(n)
    sub = cost[np.ix_(kept, kept)].ravel()
    for b in range(m - 1 if pin else m):
        nb = b + 1 if pin else (b + 1) % m
        rows.append(np.repeat(grid[:, b], m))
        cols.append(np.tile(grid[:, nb], m))
        vals.append(sub)
    if pin:  # city 0 sits at position 0: its successor and predecessor costs are linear
        c[grid[:, 0]] += cost[0, kept]
        c[grid[:, m - 1]] += cost[kept, 0]
    r = np.concatenate(rows)
    q = np.concatenate(cols)
    w = np.concatenate(vals)
    del rows, cols, vals
    keep = w != 0
    if not keep.all():
        r, q, w = r[keep], q[keep], w[keep]
    h = -0.5 * c - 0.25 * (np.bincount(r, weights=w, minlength=nv) + np.bincount(q, weights=w, minlength=nv))
    offset = k + 0.5 * float(c.sum()) + 0.25 * float(w.sum())
    J = sp.coo_matrix((np.concatenate([w, w]) * -0.25, (np.concatenate([r, q]), np.concatenate([q, r]))),
                      shape=(nv, nv)).tocsr()
    del r, q, w
    J.sum_duplicates()
    if storage == "dense" or (storage == "auto" and nv < SPARSE_MIN_N):
        check_dense_fits(nv, copies=3)
        return IsingModel.from_couplings(J.toarray(), h, offset, storage="dense")
    return IsingModel.from_couplings(J, h, offset, storage="sparse")


def encode_tsp(distances, *, penalty: float | None = None, pin: bool = True, repair: bool = False,
               storage: str = "auto", name: str = "tsp") -> Encoded:
    """Encode the TSP for an (n, n) matrix of non-negative finite ``distances`` (n >= 3; diagonal ignored).

    With ``repair=True`` the decoder turns an invalid assignment into a tour with :func:`repair_tour`
    (the raw decoding is kept in ``answer["raw"]``); a valid one is left as it is.
    """
    W = as_square_matrix(distances, f"{name}: distances", finite=False).copy()
    n = W.shape[0]
    if n < 3:
        raise CimsimError(f"{name}: a tour needs at least 3 cities, got {n}")
    np.fill_diagonal(W, 0.0)
    if not np.all(np.isfinite(W)) or np.any(W < 0) or (W.size and W.max() > 1e150):
        raise CimsimError(f"{name}: distances must be finite, non-negative and below 1e150")
    for flag, val in (("pin", pin), ("repair", repair)):
        if not isinstance(val, bool):
            raise CimsimError(f"{name}: {flag} must be true or false, got {val!r}")
    if storage not in STORAGES:
        raise CimsimError(f"{name}: storage must be one of {', '.join(STORAGES)}, got {storage!r}")
    B = 1.0
    bound = B * float(np.max(W.max(axis=0) + W.max(axis=1))) / 2.0
    A, guaranteed = penalty_weight(penalty, AUTO_FACTOR * bound if bound > 0 else 1.0, bound)
    cities = list(range(1, n)) if pin else list(range(n))
    m = len(cities)
    check_fits(_assembly_bytes(n, pin), f"{name}: the TSP encoding of {n} cities ({m * m} spins, "
               f"{_pair_count(n, pin):,} coupled pairs)", "the TSP encoding is for small instances")
    model = _tsp_model(W, A, B, pin, storage)
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
        # Which solvers suit this encoding (bench/tsp.py): the soft-spin dynamics (cim, ahc, cac, sb) and
        # spectral rounding relax each one-hot constraint to its symmetric point x = 1/m, whose readout
        # assigns no city at all; discrete single-flip search keeps permutations. The pipeline runs `auto`
        # as `auto_solver`, warns for solvers outside `suited_solvers`, and does not 1-flip polish by
        # default (polishing an empty assignment fills the identity tour, which hides that the solver
        # produced no tour).
        "auto_solver": "tabu",
        "suited_solvers": ["tabu", "sa", "exact"],
        "polish": False,
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
        if kind not in ("EUC_2D", "CEIL_2D", "ATT", "GEO"):
            raise CimsimError(f"{p}: EDGE_WEIGHT_TYPE {kind[:40] or '(missing)'} not supported "
                              "(EUC_2D, CEIL_2D, ATT, GEO, EXPLICIT)")
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
        if kind == "GEO":
            return _geo_distances(xy)
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


def _geo_distances(xy: np.ndarray) -> np.ndarray:
    """TSPLIB ``GEO`` distances (integer kilometres on the TSPLIB sphere) for (n, 2) coordinates given as
    DDD.MM latitude and longitude (degrees, then minutes after the point), as the TSPLIB format defines them."""
    deg = np.trunc(xy)
    rad = np.pi * (deg + 5.0 * (xy - deg) / 3.0) / 180.0  # TSPLIB uses pi = 3.141592; the difference is below 1e-6
    lat, lon = rad[:, 0], rad[:, 1]
    q1 = np.cos(lon[:, None] - lon[None, :])
    q2 = np.cos(lat[:, None] - lat[None, :])
    q3 = np.cos(lat[:, None] + lat[None, :])
    arg = np.clip(0.5 * ((1.0 + q1) * q2 - (1.0 - q1) * q3), -1.0, 1.0)
    d = np.trunc(6378.388 * np.arccos(arg) + 1.0)
    np.fill_diagonal(d, 0.0)
    return d


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


#: the options ``from_file`` accepts (the command line's ``-o KEY=VALUE``)
OPTIONS: tuple[str, ...] = ("penalty", "pin", "repair", "storage")


def from_file(path: str | Path, **options) -> Encoded:
    """Encode a TSP file. Options: ``penalty`` (A; default 1.25 x bound), ``pin`` (bool, default true),
    ``repair`` (bool, default false), ``storage``."""
    check_options("tsp", options, OPTIONS)
    return encode_tsp(read_tsp(path), penalty=options.get("penalty"), pin=options.get("pin", True),
                      repair=options.get("repair", False), storage=options.get("storage", "auto"), name=str(path))
