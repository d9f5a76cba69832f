"""Graph features of an Ising model, cheap enough to compute before every ``--solver auto`` run.

Everything here is one or a few passes over the stored couplings (O(N + nnz)); the lattice test is
:func:`cimsim.solvers.matching.grid_shape`, which looks at the index gaps of the couplings first and so
costs one pass too. :func:`auto_choice` (in :mod:`cimsim.solvers`) reads them to pick a solver.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from ..model import IsingModel

__all__ = ["GraphFeatures", "graph_features", "bfs_parity"]


@dataclass(frozen=True)
class GraphFeatures:
    """What the solver choice looks at (``J`` without its diagonal; an edge is a pair i < j with J_ij != 0).

    n : spins
    edges : couplings i < j that are not zero
    density : edges / (N (N - 1) / 2)
    mean_degree, max_degree : over the spins
    degree_cv : standard deviation / mean of the degrees (0 for a regular graph)
    weights : ``"uniform"`` (one |J| value), ``"integer"`` (every |J| a multiple of the smallest, at most 256
        values), ``"continuous"`` (anything else)
    negative_fraction : share of the edges with J_ij < 0 (a MaxCut graph with positive weights has all of
        them negative: cimsim's MaxCut model is J = -W)
    has_fields : some h_i != 0
    lattice : ``(L1, L2)`` when every coupling joins neighbours of an L1 x L2 square lattice (periodic or
        open), else None
    odd_edges : edges joining two spins of the same colour in a 2-colouring (breadth-first per connected
        component, then improving recolourings); 0 exactly when the graph is bipartite, and few when it
        is nearly so (an upper bound on the edges to delete to make it bipartite). None above N^2/4 edges
    components : connected components (isolated spins count)
    euler_planar : edges <= 3N - 6, the edge bound every planar graph meets (a necessary condition only)
    """

    n: int
    edges: int
    density: float
    mean_degree: float
    max_degree: int
    degree_cv: float
    weights: str
    negative_fraction: float
    has_fields: bool
    lattice: tuple[int, int] | None
    odd_edges: int
    components: int
    euler_planar: bool

    @property
    def bipartite(self) -> bool:
        return self.edges > 0 and self.odd_edges == 0

    @property
    def one_sign(self) -> bool:
        """Every coupling has the same sign (a +1-weight MaxCut graph, a ferromagnet)."""
        return self.negative_fraction in (0.0, 1.0)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["lattice"] = list(self.lattice) if self.lattice is not None else None
        return d


def _upper_csr(J) -> sp.csr_matrix:
    """The couplings above the diagonal as CSR with explicit zeros removed."""
    U = sp.triu(J if sp.issparse(J) else sp.csr_matrix(J), k=1, format="csr")
    U.eliminate_zeros()
    return U


def _weight_kind(w: np.ndarray) -> str:
    a = np.abs(w)
    if a.size == 0 or np.all(a == a[0]):
        return "uniform"
    v = np.unique(a)
    if v.size > 256:
        return "continuous"
    q = v / v[0]
    return "integer" if np.all(np.abs(q - np.round(q)) <= 1e-9 * q) else "continuous"


def bfs_parity(A: sp.csr_matrix) -> np.ndarray:
    """(N,) 0/1: the parity of each vertex's breadth-first depth from the first vertex of its connected
    component, for a symmetric adjacency ``A``. Frontier by frontier, each a vectorised gather of the
    frontier's CSR rows: O(N + nnz) work in all, plus one numpy call per BFS level."""
    n = A.shape[0]
    ncomp, labels = connected_components(A, directed=False)
    depth = np.full(n, -1, dtype=np.int64)
    stamp = np.empty(n, dtype=np.int64)
    _, roots = np.unique(labels, return_index=True)
    frontier = roots.astype(np.int64)
    depth[frontier] = 0
    indptr, indices = A.indptr, A.indices
    d = 0
    while frontier.size:
        starts, ends = indptr[frontier], indptr[frontier + 1]
        lens = ends - starts
        total = int(lens.sum())
        if total == 0:
            break
        offs = np.repeat(starts - np.concatenate([[0], np.cumsum(lens)[:-1]]), lens)
        nb = indices[offs + np.arange(total)]
        nb = nb[depth[nb] < 0]
        stamp[nb] = np.arange(nb.size)  # keep one copy of each vertex without sorting
        nb = nb[stamp[nb] == np.arange(nb.size)]
        d += 1
        depth[nb] = d
        frontier = nb
    return (depth % 2).astype(np.int8)


#: most rounds of improving flips after the breadth-first colouring (each one pass over the edges; they
#: stop earlier once a round removes fewer than 0.2 % of the odd edges left)
ODD_ROUNDS = 16


def _odd_edges(U: sp.csr_matrix) -> int:
    """Edges of ``U`` (upper triangle) whose ends share a colour: a :func:`bfs_parity` colouring, then up to
    :data:`ODD_ROUNDS` rounds that recolour, all at once, the vertices with more same-colour than
    other-colour neighbours that beat every such neighbour on (excess, index) -- an independent set, so
    every round removes odd edges and none comes back. A breadth-first colouring alone lets one odd edge
    on a shortest path flip a whole region (a bipartite graph plus 1 % inside edges: 6 % odd)."""
    n = U.shape[0]
    A = (U + U.T).tocsr()
    par = bfs_parity(A)
    rows = np.repeat(np.arange(n), np.diff(A.indptr))
    cols = A.indices
    deg = np.diff(A.indptr)
    idx = np.arange(n, dtype=np.float64)
    has = deg > 0
    before = np.inf
    for _ in range(ODD_ROUNDS):
        same = par[rows] == par[cols]
        odd = int(np.count_nonzero(same)) // 2
        if odd == 0 or before - odd < 0.002 * odd:  # nothing left, or the rounds have stopped paying
            break
        before = odd
        excess = 2 * np.bincount(rows, weights=same, minlength=n) - deg  # same - other neighbours
        cand = excess > 0
        if not cand.any():
            break
        key = np.where(cand, excess * (n + 1.0) + idx, -1.0)
        nb = np.full(n, -1.0)  # the largest key among each vertex's neighbours (CSR rows are contiguous)
        nb[has] = np.maximum.reduceat(key[cols], A.indptr[:-1][has])
        par[cand & (key > nb)] ^= 1
    urows = np.repeat(np.arange(n), np.diff(U.indptr))
    return int(np.count_nonzero(par[urows] == par[U.indices]))


def _dense_components(nz: np.ndarray) -> int:
    """Connected components of a dense boolean adjacency (no diagonal) without a sparse copy: breadth-first,
    each vertex's row read once when it joins a frontier, so O(N^2) in all."""
    n = nz.shape[0]
    seen = ~nz.any(axis=1)  # isolated vertices: one component each
    comp = int(seen.sum())
    for root in range(n):
        if seen[root]:
            continue
        comp += 1
        seen[root] = True
        frontier = np.array([root])
        while frontier.size:
            reach = nz[frontier].any(axis=0) & ~seen
            frontier = np.flatnonzero(reach)
            seen[frontier] = True
    return comp


def graph_features(model: IsingModel, *, lattice: bool = True) -> GraphFeatures:
    """The :class:`GraphFeatures` of ``model`` in O(N + nnz) (dense storage: O(N^2), its nnz).

    ``odd_edges`` is None when the graph has more than N^2 / 4 edges (no such graph is bipartite, so the
    colouring is skipped); ``lattice=False`` skips the lattice test (``lattice`` is then None)."""
    n = int(model.n)
    if model.is_sparse or n < 2:
        U = _upper_csr(model.J)
        m = int(U.nnz)
        deg = (np.bincount(U.indices, minlength=n) + np.diff(U.indptr)).astype(np.float64)
        w = U.data
        neg = int(np.count_nonzero(w < 0))
    else:  # dense: count in place, build a CSR copy only when the graph is sparse enough to colour
        J = model.J
        nz = J != 0
        np.fill_diagonal(nz, False)
        deg = nz.sum(axis=1).astype(np.float64)
        m = int(deg.sum()) // 2
        neg = int(np.count_nonzero(J < 0) - np.count_nonzero(np.diag(J) < 0)) // 2
        rows = J[: min(n, 64)]  # a sample of rows tells the weight kind (as sa.beta_range does)
        w = rows[np.triu(np.ones(rows.shape, dtype=bool), k=1) & (rows != 0)]
        U = None
    odd = None
    comp = n
    if m:
        if U is None and m <= n * n / 4:
            U = _upper_csr(model.J)
        if U is not None:
            comp = int(connected_components(U, directed=False)[0])
            odd = _odd_edges(U) if m <= n * n / 4 else None
        else:
            comp = _dense_components(nz)
    mean = float(deg.mean()) if n else 0.0
    shape = None
    if lattice and m and not model.has_fields and model.is_sparse and n >= 9 and deg.max() <= 4:
        # a square lattice has degree <= 4 and at most 4 index gaps j - i: a sample of gaps rules most
        # graphs out before matching.grid_shape reads every coupling
        gaps = U.indices[: 4096] - np.repeat(np.arange(n), np.diff(U.indptr))[: min(m, 4096)]
        if np.unique(gaps).size <= 4:
            from .matching import grid_shape

            shape = grid_shape(model)
    return GraphFeatures(
        n=n, edges=m, density=float(m / (n * (n - 1) / 2)) if n > 1 else 0.0, mean_degree=mean,
        max_degree=int(deg.max()) if n else 0, degree_cv=float(deg.std() / mean) if mean > 0 else 0.0,
        weights=_weight_kind(w), negative_fraction=float(neg / m) if m else 0.0, has_fields=bool(model.has_fields),
        lattice=shape, odd_edges=odd, components=comp, euler_planar=bool(n < 3 or m <= 3 * n - 6))
