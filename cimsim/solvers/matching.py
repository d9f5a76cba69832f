"""Ground states of 2-D lattice spin glasses by minimum-weight matching of frustrated plaquettes.

For couplings on an ``L1 x L2`` square lattice (open, cylindrical or toroidal; spin ``(r, c)`` is index
``r * L2 + c``, the row-major numbering of Gset's toroidal graphs) and no fields, write
``H(s) = -sum_b J_b s_i s_j + offset``. A bond ``b`` is *unsatisfied* when ``J_b s_i s_j < 0``; with ``U``
the set of unsatisfied bonds, ``H = -sum_b |J_b| + 2 sum_{b in U} |J_b| + offset``. Around every
plaquette, ``U`` has an odd number of bonds exactly when the plaquette is *frustrated* (an odd number of
negative bonds), so ``U``, read as edges of the dual lattice (plaquettes joined across shared bonds), is a
*T-join* of the frustrated plaquettes. The ground state is the minimum-|J| such join, a minimum-weight
perfect matching of frustrated plaquettes by dual paths (Toulouse 1977; Bieche et al. 1980; Barahona
1982), computed here by PyMatching's sparse blossom (Higgott and Gidney 2023).

On a torus a join must also cross the two non-contractible reference loops (row 0 and column 0) with the
parity fixed by their negative bonds; the matching cannot impose that. Its weight is therefore a *lower
bound* on the ground-state energy (``extra["lower_bound"]``), and an answer of the right parity attains
the bound and is a **proven ground state** (``extra["proven_optimal"]``; the driver then stops). Ties
among minimum joins are common (+-J couplings), so each replica matches a randomly relabelled dual graph
and lands on a random optimal join: on Gset G81 (200 x 100, +-1) a few relabellings find a join of the
right parity, which proves the cut 14060 optimal. When none does, each replica repairs its join by
toggling cheap non-contractible dual loops whose classes add up to the missing one (:func:`repair_join`),
which gives a real spin state, and the batch is then annealed cold (Metropolis, :mod:`cimsim.kernels.sa`),
starting at the repaired states, for ``steps`` sweeps, keeping each replica's better state. On G32
(100 x 20) no matching has the right parity and the repair reaches the optimum 1410 itself, 4 above the
lower bound, but the loop search is not exhaustive, so such answers are not proven. Open and cylindrical
lattices are planar: every join has the right parity and
the answer is always exact.

Parameters (``solve(model, "matching", ...)``): ``replicas`` randomised matchings per batch (default 4);
``steps`` sweeps of the repairing anneal (default 2000); ``beta_min``/``beta_max`` of that anneal
(default: ``ln 10 / (4 g)`` with ``g`` the median |J|, to the automatic cold end of :mod:`.sa`);
``shape`` ``(L1, L2)`` (or ``"L1xL2"``, as in ``-p shape=200x100``) to skip detection.

Requires PyMatching (a dependency of cimsim). Models with fields, or couplings off a square lattice, are
refused with a one-line error naming the reason.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..errors import CimsimError, positive_int
from ..model import IsingModel
from ..params import Param, validate
from . import Batch, check_backend

__all__ = ["PARAMS", "defaults", "run", "grid_shape", "lattice_bonds", "frustrated_plaquettes", "min_join",
           "spins_from_join", "join_parity"]


#: The parameters of :func:`run` (``solve(model, "matching", **params)``, ``-p KEY=VALUE``).
PARAMS: tuple[Param, ...] = (
    Param("shape", "any", None, "lattice shape L1xL2 (or (L1, L2)); skips detection", auto="detected"),
    Param("beta_min", "float", None, "inverse temperature of the first sweep of the repairing anneal", low=0,
          low_open=True, auto="ln 10 / (4 median|J|)"),
    Param("beta_max", "float", None, "inverse temperature of the last sweep of the repairing anneal", low=0,
          low_open=True, auto="sa's automatic beta_max"),
)


def defaults(model: IsingModel) -> dict:
    return {"replicas": 4, "steps": 2000}


def _edges(model: IsingModel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Upper-triangle bonds ``(i, j, J_ij)`` with ``i < j`` and ``J_ij != 0``."""
    J = model.J if model.is_sparse else sp.csr_matrix(model.J)
    U = sp.triu(J, k=1).tocoo()
    keep = U.data != 0
    return U.row[keep].astype(np.int64), U.col[keep].astype(np.int64), U.data[keep].astype(np.float64)


def _fits(n: int, L2: int, i: np.ndarray, j: np.ndarray) -> bool:
    L1 = n // L2
    ri, ci, rj, cj = i // L2, i % L2, j // L2, j % L2
    horiz = (ri == rj) & (((ci + 1) % L2 == cj) | ((cj + 1) % L2 == ci))
    vert = (ci == cj) & (((ri + 1) % L1 == rj) | ((rj + 1) % L1 == ri))
    return bool(np.all(horiz | vert))


def grid_shape(model: IsingModel) -> tuple[int, int] | None:
    """``(L1, L2)`` if every non-zero coupling joins lattice neighbours of an ``L1 x L2`` square lattice
    (row-major numbering, wrap-around allowed, ``L1, L2 >= 3``), else ``None``. When several shapes fit
    (e.g. a model with very few bonds) the one with the most columns is returned."""
    n = model.n
    i, j, _ = _edges(model)
    if i.size == 0 or n < 9:
        return None
    d = np.unique(j - i)
    if d.size > 4:  # a row-major lattice has index gaps 1, L2 - 1, L2 and N - L2 only
        return None
    candidates = sorted({int(x) for x in d} | {int(x) + 1 for x in d} | {n - int(x) for x in d}, reverse=True)
    for L2 in candidates:
        if 3 <= L2 and n % L2 == 0 and n // L2 >= 3 and _fits(n, L2, i, j):
            return n // L2, L2
    return None


def lattice_bonds(model: IsingModel, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Couplings as two ``(L1, L2)`` arrays: ``Jh[r, c]`` joins ``(r, c)``-``(r, c+1)`` and ``Jv[r, c]``
    joins ``(r, c)``-``(r+1, c)`` (indices mod L1, L2; 0 where there is no bond)."""
    L1, L2 = shape
    n = model.n
    if L1 * L2 != n or L1 < 3 or L2 < 3:
        raise CimsimError(f"matching: shape {L1} x {L2} does not fit a model of N = {n} spins (need L1, L2 >= 3)")
    i, j, w = _edges(model)
    if not _fits(n, L2, i, j):
        raise CimsimError(f"matching: the couplings are not those of an {L1} x {L2} square lattice")
    ri, ci, rj, cj = i // L2, i % L2, j // L2, j % L2
    Jh = np.zeros((L1, L2))
    Jv = np.zeros((L1, L2))
    h = ri == rj
    ch = np.where((ci + 1) % L2 == cj, ci, cj)
    np.add.at(Jh, (ri[h], ch[h]), w[h])
    rv = np.where((ri + 1) % L1 == rj, ri, rj)
    np.add.at(Jv, (rv[~h], ci[~h]), w[~h])
    return Jh, Jv


def frustrated_plaquettes(Jh: np.ndarray, Jv: np.ndarray) -> np.ndarray:
    """(L1, L2) bool: plaquette ``(r, c)`` (corners ``(r, c)``, ``(r, c+1)``, ``(r+1, c)``, ``(r+1, c+1)``)
    has an odd number of negative bonds."""
    nh = (Jh < 0).astype(np.int8)
    nv = (Jv < 0).astype(np.int8)
    return ((nh + np.roll(nh, -1, axis=0) + nv + np.roll(nv, -1, axis=1)) % 2).astype(bool)


def open_directions(Jh: np.ndarray, Jv: np.ndarray) -> tuple[bool, bool]:
    """``(rows_open, cols_open)``: the lattice has no bond from its last row back to row 0 (every
    ``Jv[L1-1, :]`` is 0), or none from its last column back to column 0 (every ``Jh[:, L2-1]`` is 0)."""
    return (not np.any(Jv[-1, :]), not np.any(Jh[:, -1]))


def _dual(Jh: np.ndarray, Jv: np.ndarray) -> tuple[sp.csc_matrix, np.ndarray, np.ndarray, np.ndarray]:
    """The dual graph as a node-by-bond incidence matrix, for PyMatching.

    Nodes are the plaquettes (index ``r * L2 + c``); bond ``Jh[r, c]`` separates plaquettes ``(r-1, c)``
    and ``(r, c)``, ``Jv[r, c]`` separates ``(r, c-1)`` and ``(r, c)``; bonds are numbered horizontal then
    vertical, each row-major (2 L1 L2 in all). On a torus, or a lattice open both ways (whose missing
    wrap-around bonds, of weight 0, merge the boundary strips into one outer face), that is the whole
    dual. On a cylinder (open one way) the strip of plaquettes across the open side is not a face: it is
    replaced by the two boundary faces (two extra nodes), and the bonds inside it are dropped.

    Returns ``(inc, weights, syndrome, bonds)``: incidence (nodes, len(bonds)) over the kept ``bonds``,
    their weights |J|, and the odd (frustrated) nodes.
    """
    L1, L2 = Jh.shape
    P = np.arange(L1 * L2).reshape(L1, L2)
    a = np.concatenate([np.roll(P, 1, axis=0).ravel(), np.roll(P, 1, axis=1).ravel()])
    b = np.concatenate([P.ravel(), P.ravel()])
    m = 2 * L1 * L2
    keep = np.ones(m, dtype=bool)
    syndrome = frustrated_plaquettes(Jh, Jv).ravel().astype(np.uint8)
    rows_open, cols_open = open_directions(Jh, Jv)
    nodes = L1 * L2
    if rows_open != cols_open:
        first, second = nodes, nodes + 1
        nodes += 2
        if rows_open:  # strip: plaquette row L1-1; faces above spin row 0 and below spin row L1-1
            a[np.arange(L2)] = first  # Jh[0, c]
            b[(L1 - 1) * L2 + np.arange(L2)] = second  # Jh[L1-1, c]
            keep[L1 * L2 + (L1 - 1) * L2 + np.arange(L2)] = False  # Jv[L1-1, c], inside the strip
            strip = P[L1 - 1]
            odd = [np.count_nonzero(Jh[0] < 0) % 2, np.count_nonzero(Jh[L1 - 1] < 0) % 2]
        else:  # strip: plaquette column L2-1; faces left of spin column 0 and right of spin column L2-1
            a[L1 * L2 + np.arange(L1) * L2] = first  # Jv[r, 0]
            b[L1 * L2 + np.arange(L1) * L2 + L2 - 1] = second  # Jv[r, L2-1]
            keep[np.arange(L1) * L2 + L2 - 1] = False  # Jh[r, L2-1], inside the strip
            strip = P[:, L2 - 1]
            odd = [np.count_nonzero(Jv[:, 0] < 0) % 2, np.count_nonzero(Jv[:, L2 - 1] < 0) % 2]
        syndrome[strip] = 0  # no longer faces: isolated nodes
        syndrome = np.concatenate([syndrome, np.array(odd, dtype=np.uint8)])
    bonds = np.flatnonzero(keep)
    k = bonds.size
    rows = np.stack([a[bonds], b[bonds]], axis=1).ravel()
    cols = np.repeat(np.arange(k), 2)
    inc = sp.csc_matrix((np.ones(2 * k, dtype=np.uint8), (rows, cols)), shape=(nodes, k))
    weights = np.abs(np.concatenate([Jh.ravel(), Jv.ravel()]))[bonds]
    return inc, weights, syndrome, bonds


def min_join(Jh: np.ndarray, Jv: np.ndarray, rng: np.random.Generator | None = None,
             dual: tuple | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A minimum-|J| set of bonds whose dual edges join the frustrated plaquettes in pairs.

    Returns ``(Uh, Uv)``, (L1, L2) bool arrays over the bonds of :func:`lattice_bonds`. With ``rng`` the
    dual nodes and bonds are relabelled at random first, so that ties among minimum joins are broken at
    random (PyMatching breaks them by label order). ``dual``: :func:`_dual`'s result, to reuse.
    """
    import pymatching

    L1, L2 = Jh.shape
    inc, weights, syndrome, bonds = dual if dual is not None else _dual(Jh, Jv)
    nodes, k = inc.shape
    ends = inc.indices.reshape(k, 2)  # the two nodes of each kept bond (csc: two entries per column)
    keys = ends.min(axis=1) * nodes + ends.max(axis=1)
    order = np.argsort(keys)
    if rng is not None:
        prow = rng.permutation(nodes)  # new label of each node
        pcol = rng.permutation(k)  # column order: pcol[q] is the kept bond placed in column q
        e2 = prow[ends[pcol]]
        inc = sp.csc_matrix((np.ones(2 * k, dtype=np.uint8), e2.ravel(), np.arange(0, 2 * k + 1, 2)), shape=(nodes, k))
        weights = weights[pcol]
        syn = np.zeros_like(syndrome)
        syn[prow] = syndrome
        syndrome = syn
        back = np.argsort(prow)  # original label of each new label
    else:
        back = np.arange(nodes)
    matcher = pymatching.Matching.from_check_matrix(inc, weights=weights)
    pairs = back[np.asarray(matcher.decode_to_edges_array(syndrome), dtype=np.int64).reshape(-1, 2)]
    found = np.minimum(pairs[:, 0], pairs[:, 1]) * nodes + np.maximum(pairs[:, 0], pairs[:, 1])
    pos = np.searchsorted(keys[order], found)
    if pairs.size and (np.any(pos >= k) or np.any(keys[order][np.minimum(pos, k - 1)] != found)):
        raise RuntimeError("matching: PyMatching returned an edge that is not a bond of the dual lattice")
    U = np.zeros(2 * L1 * L2, dtype=bool)
    U[bonds[order[pos]]] = True
    return U[: L1 * L2].reshape(L1, L2), U[L1 * L2:].reshape(L1, L2)


def join_parity(Jh: np.ndarray, Jv: np.ndarray, Uh: np.ndarray, Uv: np.ndarray) -> tuple[int, int]:
    """Parities ``(p_row, p_col)`` of a join against the reference loops (row 0's horizontal bonds and
    column 0's vertical bonds; a loop through a missing wrap-around bond does not constrain and counts
    0): ``(0, 0)`` exactly when the join is the unsatisfied set of a spin state."""
    rows_open, cols_open = open_directions(Jh, Jv)
    p_row = 0 if cols_open else (int(np.count_nonzero(Uh[0])) + int(np.count_nonzero(Jh[0] < 0))) % 2
    p_col = 0 if rows_open else (int(np.count_nonzero(Uv[:, 0])) + int(np.count_nonzero(Jv[:, 0] < 0))) % 2
    return p_row, p_col


#: lattices up to this many spins also try loops of any shape (one matching per seam bond) when the
#: row-by-row loops cannot repair a join for free (G32, 2000 spins: 0.3 s per join)
LOOP_MATCHING_MAX_N = 5000
#: widest lateral run (in plaquettes) a repairing loop may take within one row
LOOP_WIDTH = 6


def _cheapest_loop(ch: np.ndarray, cv: np.ndarray, wind_across: int, width: int = LOOP_WIDTH) -> tuple[float, np.ndarray, np.ndarray]:
    """Cheapest dual loop winding once down the lattice and ``wind_across`` (0 or 1) times across it (mod
    2), among loops that visit each plaquette row once (one lateral run of at most ``width`` steps per
    row, then one step down), by dynamic programming over rows for every start column at once:
    O(L1 L2^2 width) work.

    ``ch[r, c]``: cost of stepping from plaquette ``(r-1, c)`` down to ``(r, c)``; ``cv[r, c]``: cost of
    stepping between plaquettes ``(r, c-1)`` and ``(r, c)`` (``c = 0``: across the column seam). Returns
    ``(cost, toggle_h, toggle_v)`` with the crossed bonds as (L1, L2) bool arrays (cost inf: no such loop).
    """
    L1, L2 = ch.shape
    W = max(0, min(width, (L2 - 1) // 2))
    idx = np.arange(L2)
    shifts = np.arange(-W, W + 1)  # a run ending at column b started at b - k
    # lat[r, b, k]: cost of the run from b - k to b; rightward (k > 0) crosses cv[r, b-k+1 .. b],
    # leftward (k < 0) crosses cv[r, b+1 .. b-k]
    ext = np.concatenate([cv, cv, cv], axis=1)
    pre = np.concatenate([np.zeros((L1, 1)), np.cumsum(ext, axis=1)], axis=1)  # pre[r, q] = sum ext[r, :q]
    bb = idx[:, None] + L2  # b in the middle copy
    lo = np.where(shifts > 0, bb - shifts + 1, bb + 1)  # (L2, 2W+1) first crossed column (extended)
    hi = np.where(shifts > 0, bb + 1, bb - shifts + 1)  # one past the last
    lat = pre[:, hi] - pre[:, lo]  # (L1, L2, 2W+1); zero for k = 0
    src = (idx[:, None] - shifts[None, :]) % L2  # (L2, 2W+1) start column of each run
    cross = ((shifts > 0) & (idx[:, None] < shifts)) | ((shifts < 0) & (idx[:, None] - shifts >= L2))
    flip = cross.astype(np.int64)  # (L2, 2W+1): the run crosses the column seam (bond cv[r, 0])
    # g[q, s, c]: cheapest path from start column s (entering row 0 through the row seam at s) that has
    # just stepped into the current row at column c, having crossed the column seam q times (mod 2)
    g = np.full((2, L2, L2), np.inf)
    g[0, idx, idx] = ch[0, idx]
    back = np.empty((L1, 2, L2, L2), dtype=np.int8)  # index of the run's shift
    closing = np.full(L2, np.inf)
    for r in range(L1):
        f = np.empty_like(g)
        for q in (0, 1):
            src_q = (q ^ flip)  # (L2, 2W+1) parity before the run
            tot = g[src_q, :, src]  # (L2 b, 2W+1 k, L2 s)
            tot = np.moveaxis(tot, 2, 0) + lat[r][None, :, :]  # (s, b, k)
            k = np.argmin(tot, axis=2)
            back[r, q] = k
            f[q] = np.take_along_axis(tot, k[:, :, None], axis=2)[:, :, 0]
        if r + 1 < L1:
            g = f + ch[r + 1][None, None, :]
        else:
            closing = f[wind_across, idx, idx]  # the loop steps down through the row seam at its start
    s0 = int(np.argmin(closing))
    th = np.zeros((L1, L2), dtype=bool)
    tv = np.zeros((L1, L2), dtype=bool)
    if not np.isfinite(closing[s0]):
        return float("inf"), th, tv
    th[0, s0] = True
    b, q = s0, wind_across
    for r in range(L1 - 1, -1, -1):
        ki = int(back[r, q, s0, b])
        k = int(shifts[ki])
        cols = (b - np.arange(k)) % L2 if k > 0 else (b + 1 + np.arange(-k)) % L2
        tv[r, cols] = True
        q ^= int(flip[b, ki])
        a = (b - k) % L2
        if r > 0:
            th[r, a] = True
        b = a
    return float(closing[s0]), th, tv


def _toggle_costs(Jh: np.ndarray, Jv: np.ndarray, Uh: np.ndarray, Uv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Energy change / 2 of toggling each bond's membership in the join."""
    return np.abs(Jh) * np.where(Uh, -1.0, 1.0), np.abs(Jv) * np.where(Uv, -1.0, 1.0)


def _loop_by_matching(Jh: np.ndarray, Jv: np.ndarray, Uh: np.ndarray, Uv: np.ndarray, axis: int,
                      block_other: bool) -> tuple[float, np.ndarray]:
    """Cheapest dual loop crossing the reference loop of ``axis`` (0: row 0's horizontal bonds, 1: column
    0's vertical bonds) exactly once, at any shape: for each seam bond, the cheapest dual path between its
    two plaquettes in the lattice with the seam removed, a minimum {s, t}-join (PyMatching, signed
    weights). ``block_other`` removes the other seam too, so the loop winds one way only. Returns
    ``(cost, toggled)`` with ``toggled`` over the bonds of :func:`_dual` (2 L1 L2,)."""
    import pymatching

    L1, L2 = Jh.shape
    inc, _, _, bonds = _dual(Jh, Jv)
    assert bonds.size == 2 * L1 * L2, "loops are only searched on tori, whose dual keeps every bond"
    ch, cv = _toggle_costs(Jh, Jv, Uh, Uv)
    cost = np.concatenate([ch.ravel(), cv.ravel()])
    row_seam = np.arange(L2)  # Jh[0, c] separates plaquettes (L1 - 1, c) and (0, c)
    col_seam = L1 * L2 + np.arange(L1) * L2  # Jv[r, 0] separates plaquettes (r, L2 - 1) and (r, 0)
    if axis == 0:
        seam, other = row_seam, col_seam
        ends = np.stack([(L1 - 1) * L2 + np.arange(L2), np.arange(L2)], axis=1)
    else:
        seam, other = col_seam, row_seam
        ends = np.stack([np.arange(L1) * L2 + L2 - 1, np.arange(L1) * L2], axis=1)
    keep = np.ones(cost.size, dtype=bool)
    keep[seam] = False
    if block_other:
        keep[other] = False
    cols = np.flatnonzero(keep)
    matcher = pymatching.Matching.from_check_matrix(
        sp.csc_matrix(inc[:, cols]), weights=cost[cols], faults_matrix=sp.identity(cols.size, dtype=np.uint8, format="csc"))
    best_cost, best = np.inf, np.zeros(cost.size, dtype=bool)
    syndrome = np.zeros(L1 * L2, dtype=np.uint8)
    for e, (a, b) in zip(seam, ends):
        syndrome[:] = 0
        syndrome[a] = syndrome[b] = 1
        try:
            path = np.asarray(matcher.decode(syndrome), dtype=bool)
        except ValueError:  # no path (the blocked lattice is disconnected)
            continue
        c = float(cost[cols][path].sum() + cost[e])
        if c < best_cost:
            best_cost = c
            best = np.zeros(cost.size, dtype=bool)
            best[cols[path]] = True
            best[e] = True
    return best_cost, best


def _loop(Jh: np.ndarray, Jv: np.ndarray, Uh: np.ndarray, Uv: np.ndarray, cls: tuple[int, int],
          method: str) -> tuple[float, np.ndarray, np.ndarray]:
    """Cheapest loop found of homology class ``cls`` (windings down, across; mod 2), ``cls != (0, 0)``:
    ``(cost, toggle_h, toggle_v)``. ``method="dp"``: :func:`_cheapest_loop`'s; ``"matching"``: the cheaper
    of that and :func:`_loop_by_matching`'s, which is skipped when the row-by-row loop is already free."""
    ch, cv = _toggle_costs(Jh, Jv, Uh, Uv)
    if cls[0]:
        dp = _cheapest_loop(ch, cv, cls[1])
    else:
        c, tv_t, th_t = _cheapest_loop(cv.T, ch.T, 0)
        dp = c, th_t.T, tv_t.T
    if method == "dp" or dp[0] <= 0.0:  # a free loop cannot be beaten from a minimum join
        return dp
    m = _loop_matching(Jh, Jv, Uh, Uv, cls)
    return m if m[0] < dp[0] else dp


def _loop_matching(Jh: np.ndarray, Jv: np.ndarray, Uh: np.ndarray, Uv: np.ndarray,
                   cls: tuple[int, int]) -> tuple[float, np.ndarray, np.ndarray]:
    """:func:`_loop` by :func:`_loop_by_matching`."""
    L = Jh.size
    if cls == (1, 1):
        c, X = _loop_by_matching(Jh, Jv, Uh, Uv, 0, block_other=False)
        th, tv = X[:L].reshape(Jh.shape), X[L:].reshape(Jh.shape)
        if (int(th[0].sum()) % 2, int(tv[:, 0].sum()) % 2) != (1, 1):
            return float("inf"), th, tv
        return c, th, tv
    c, X = _loop_by_matching(Jh, Jv, Uh, Uv, 0 if cls[0] else 1, block_other=True)
    return c, X[:L].reshape(Jh.shape), X[L:].reshape(Jh.shape)


def repair_join(Jh: np.ndarray, Jv: np.ndarray, Uh: np.ndarray, Uv: np.ndarray, *, method: str = "dp") -> tuple[np.ndarray, np.ndarray]:
    """Give a join parity (0, 0) by toggling cheap dual loops: one loop of its class ``p``, or two loops of
    the other two non-zero classes (which add up to ``p``), whichever is cheapest, tried from the join and
    from every other minimum join its free (cost <= 0) loops lead to. Toggling a loop keeps
    every plaquette's parity, so the result is still a join, now the unsatisfied set of a real spin state;
    it costs twice the loops' cost in energy.

    Why pairs: for a minimum join ``U`` and the best join ``U*`` of parity (0, 0), ``U ^ U*`` is a union
    of edge-disjoint dual cycles whose classes add up to ``p``, each of cost >= 0 relative to ``U`` (``U``
    is minimal); cycles of class (0, 0) and pairs of one class can be dropped, which leaves one cycle of
    class ``p`` or two of the other classes. On Gset G32 (100 x 20, parity (1, 0)) the cheapest single
    loop costs 6 and a (1, 1) loop plus a free (0, 1) loop costs 4, the gap to the best known cut.

    ``method="dp"``: loops with one lateral run (<= :data:`LOOP_WIDTH` plaquettes) per row, by dynamic
    programming (:func:`_cheapest_loop`; milliseconds on G81). ``method="matching"``: loops of any shape
    crossing the seam once (:func:`_loop_by_matching`; one matching per seam bond, so seconds on G81).
    Neither search is exhaustive, so the repair is a heuristic: the answer is proven only when it meets
    the matching's lower bound.
    """
    p = join_parity(Jh, Jv, Uh, Uv)
    if p == (0, 0):
        return Uh.copy(), Uv.copy()
    classes = ((1, 0), (0, 1), (1, 1))
    # free loops (cost <= 0) lead to other minimum joins, of other parities: collect one join per parity
    # reachable that way, with the loops found from each (their first loops below)
    tol = 1e-9 * max(1.0, float(np.abs(Jh).sum() + np.abs(Jv).sum()))
    joins: dict = {p: (Uh, Uv)}
    loops: dict = {}
    todo = [p]
    while todo:
        cur = todo.pop()
        Ch, Cv = joins[cur]
        for q in classes:
            loops[cur, q] = c, th, tv = _loop(Jh, Jv, Ch, Cv, q, method)
            nxt = (cur[0] ^ q[0], cur[1] ^ q[1])
            if c <= tol and nxt not in joins:
                joins[nxt] = (Ch ^ th, Cv ^ tv)
                if nxt == (0, 0):
                    return joins[nxt]
                todo.append(nxt)
    options = []
    for cur, (Ch, Cv) in joins.items():
        c, th, tv = loops[cur, cur]
        if np.isfinite(c):
            options.append((Ch ^ th, Cv ^ tv))
        for q in classes:
            c1, th1, tv1 = loops[cur, q]
            if q == cur or not np.isfinite(c1):
                continue
            Ah, Av = Ch ^ th1, Cv ^ tv1
            c2, th2, tv2 = _loop(Jh, Jv, Ah, Av, (cur[0] ^ q[0], cur[1] ^ q[1]), method)
            if np.isfinite(c2):
                options.append((Ah ^ th2, Av ^ tv2))
    options = [o for o in options if join_parity(Jh, Jv, o[0], o[1]) == (0, 0)]
    if not options:  # no loop of the class within reach (tiny or blocked lattices): straight loops always exist
        return _straight_repair(Jh, Jv, Uh, Uv)
    return min(options, key=lambda o: _join_energy(Jh, Jv, o[0], o[1], 0.0))


def _straight_repair(Jh: np.ndarray, Jv: np.ndarray, Uh: np.ndarray, Uv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Toggle the cheapest straight loop(s): a column of horizontal bonds, a row of vertical bonds."""
    Uh, Uv = Uh.copy(), Uv.copy()
    p_row, p_col = join_parity(Jh, Jv, Uh, Uv)
    if p_row:
        c0 = int(np.argmin((np.abs(Jh) * np.where(Uh, -1.0, 1.0)).sum(axis=0)))
        Uh[:, c0] = ~Uh[:, c0]
    if p_col:
        r0 = int(np.argmin((np.abs(Jv) * np.where(Uv, -1.0, 1.0)).sum(axis=1)))
        Uv[r0, :] = ~Uv[r0, :]
    return Uh, Uv


def spins_from_join(Jh: np.ndarray, Jv: np.ndarray, Uh: np.ndarray, Uv: np.ndarray) -> np.ndarray:
    """The (L1 L2,) spin state (spin 0 up) whose unsatisfied bonds are ``U`` (parity (0, 0) required):
    along row 0, then down every column, ``s_j = s_i sign(J_b) (-1)^[b in U]`` (zero bonds count as +)."""
    if join_parity(Jh, Jv, Uh, Uv) != (0, 0):
        raise ValueError("the join is not the unsatisfied set of any spin state (wrong loop parity)")
    L1, L2 = Jh.shape
    step_h = np.where(Jh < 0, -1, 1) * np.where(Uh, -1, 1)
    step_v = np.where(Jv < 0, -1, 1) * np.where(Uv, -1, 1)
    row0 = np.concatenate([[1], np.cumprod(step_h[0, : L2 - 1])])
    down = np.vstack([np.ones((1, L2), dtype=np.int64), np.cumprod(step_v[: L1 - 1], axis=0)])
    return (down * row0[None, :]).astype(np.int8).ravel()


def _join_energy(Jh: np.ndarray, Jv: np.ndarray, Uh: np.ndarray, Uv: np.ndarray, offset: float) -> float:
    total = float(np.abs(Jh).sum() + np.abs(Jv).sum())
    return -total + 2.0 * float(np.abs(Jh)[Uh].sum() + np.abs(Jv)[Uv].sum()) + offset


def run(
    model: IsingModel,
    *,
    replicas: int,
    steps: int,
    rng: np.random.Generator,
    backend: str = "cpu",
    **params,
) -> Batch:
    """``replicas`` randomised matchings; a proven ground state if one has the right loop parity, else
    the repaired states annealed cold for ``steps`` sweeps. Parameters: :data:`PARAMS`."""
    prm = validate(PARAMS, params, "matching")
    shape, beta_min, beta_max = prm["shape"], prm["beta_min"], prm["beta_max"]
    replicas = positive_int(replicas, "replicas")
    steps = positive_int(steps, "steps")
    check_backend("matching", backend)
    if model.has_fields:
        raise CimsimError("matching: the model has fields h; the plaquette matching needs h = 0 (use sa)")
    if shape is None:
        shape = grid_shape(model)
        if shape is None:
            raise CimsimError("matching: the couplings are not those of a 2-D square lattice "
                              "(spin r * L2 + c bonded only to its lattice neighbours, L1, L2 >= 3); use sa")
    else:
        try:
            parts = shape.lower().replace("x", ",").split(",") if isinstance(shape, str) else list(shape)  # type: ignore[arg-type]
            if len(parts) != 2:
                raise ValueError
            shape = (int(parts[0]), int(parts[1]))
        except (TypeError, ValueError):
            raise CimsimError(f"matching: shape must be two integers (L1, L2), got {shape!r}") from None
    try:
        import pymatching  # noqa: F401
    except ImportError:
        raise CimsimError("the matching solver needs PyMatching: pip install pymatching") from None
    Jh, Jv = lattice_bonds(model, shape)
    offset = float(model.offset)
    tol = 1e-9 * max(1.0, float(np.abs(Jh).sum() + np.abs(Jv).sum()))
    settings: dict = {"shape": list(shape), "beta_min": beta_min, "beta_max": beta_max}
    lower = np.inf
    parities: list[list[int]] = []
    repaired: list[np.ndarray] = []
    joins: list[tuple[np.ndarray, np.ndarray]] = []
    proven: np.ndarray | None = None
    dual = _dual(Jh, Jv)
    for k in range(replicas):  # first the matchings alone: one of parity (0, 0) is a proof, no repair needed
        Uh, Uv = min_join(Jh, Jv, rng if k else None, dual)
        lower = min(lower, _join_energy(Jh, Jv, Uh, Uv, offset))
        parities.append(list(join_parity(Jh, Jv, Uh, Uv)))
        if parities[-1] == [0, 0]:
            proven = spins_from_join(Jh, Jv, Uh, Uv)
            break
        joins.append((Uh, Uv))
    if proven is None:
        for Uh, Uv in joins:
            Rh, Rv = repair_join(Jh, Jv, Uh, Uv)
            spins = spins_from_join(Jh, Jv, Rh, Rv)
            if _join_energy(Jh, Jv, Rh, Rv, offset) <= lower + tol:  # a free repair
                proven = spins
                break
            repaired.append(spins)
    if proven is None and model.n <= LOOP_MATCHING_MAX_N:
        # the row-by-row loops missed a free repair: search loops of any shape (one matching per seam bond)
        # for the first join only. Every minimum join is the same distance from the best join of parity
        # (0, 0) (the loops of U ^ U* cost that gap from any of them), so a second search mostly repeats
        # the first; the other joins keep their row-by-row repairs, as varied starts for the anneal.
        Uh, Uv = joins[0]
        Rh, Rv = repair_join(Jh, Jv, Uh, Uv, method="matching")
        spins = spins_from_join(Jh, Jv, Rh, Rv)
        if model.energy(spins) < model.energy(repaired[0]):
            repaired[0] = spins
        if _join_energy(Jh, Jv, Rh, Rv, offset) <= lower + tol:
            proven = spins
    settings["matchings"] = len(parities)
    extra: dict = {"lower_bound": float(lower), "join_parities": parities}
    if proven is not None:
        extra["proven_optimal"] = True
        return Batch(proven[None, :], 1, settings, extra)
    # no matching had a spin-state parity and no cheap loop repaired one at no cost: anneal the repaired
    # states cold on the model itself
    from . import sa

    S0 = np.stack(repaired)
    g = float(np.median(np.abs(np.concatenate([Jh[Jh != 0], Jv[Jv != 0]]))))  # a typical bond
    b1 = beta_max if beta_max is not None else sa.beta_range(model)[1]
    b0 = beta_min if beta_min is not None else min(np.log(10.0) / (4.0 * g), b1)
    batch = sa.run(model, replicas=S0.shape[0], steps=steps, rng=rng, initial=S0, beta_min=b0, beta_max=b1)
    E0 = model.energies(S0)
    E1 = model.energies(batch.spins)
    S = np.where((E1 <= E0)[:, None], batch.spins, S0)  # the anneal may not beat its start: keep the better
    extra["proven_optimal"] = bool(min(E0.min(), E1.min()) <= lower + tol)
    extra["repaired_energies"] = E0.tolist()
    settings.update(beta_min=float(b0), beta_max=float(b1))
    return Batch(S, steps, settings, extra)
