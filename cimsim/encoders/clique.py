"""Cliques (physics.md 5.2). Spin ``+1`` puts a vertex in the chosen set; ``B = 1``.

**Clique of size K** (``size=K``), Lucas's Hamiltonian::

    H = A (K - sum_v x_v)^2 + B [K (K - 1) / 2 - sum_{(uv) in E} x_u x_v]

Every ground state has exactly K vertices and, among K-sets, the most edges inside (so ``H = 0`` iff a
K-clique exists) as soon as ``A > B min(K, Delta)``: from ``m < K`` vertices, adding one lowers the
penalty by ``A (2 (K - m) - 1) >= A`` and loses no edge; from ``m = K + j`` vertices, removing the one
with the fewest neighbours inside (at most ``min(Delta, K + j - 1)``) lowers the penalty by
``A (2j - 1)``, which beats ``B min(Delta, K + j - 1)`` for every ``j >= 1`` when it does for ``j = 1``.
Default ``A = B (min(K, Delta) + 1)``. Objective: edges inside the set (maximised); feasible: a K-clique.
On K-sets ``H = B (K (K - 1)/2 - edges inside)``.

**Maximum clique** (no ``size``): the maximum independent set of the complement graph,
``H = A sum_{u<v, (uv) not in E} x_u x_v - B sum_v x_v`` with ``A > B`` (default 1.25, see
:mod:`cimsim.encoders._graph`); objective: clique size (maximised); feasible: the set is a clique.
The complement has O(N^2) pairs, so this is meant for graphs of moderate size.

Edge weights in the input are ignored, parallel edges merged.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

import numpy as np

from ..errors import CimsimError, positive_int
from ..memory import check_fits
from . import Encoded, Solution
from ._common import QuboBuilder, check_options, penalty_weight
from ._graph import DEFAULT_PENALTY, simple_edges
from .graph_formats import label_encoding, read_graph_file

__all__ = ["encode_clique", "from_file"]


def encode_clique(n: int, edges: Iterable, size: int | None = None, *, penalty: float | None = None,
                  storage: str = "auto", name: str = "graph") -> Encoded:
    """Encode a clique of ``size`` K (or, with ``size=None``, a maximum clique) on ``n`` vertices, 0-based edges."""
    E = simple_edges(n, edges, name=name)
    # every pair of vertices gets a term (about 100 bytes while assembled in Python lists)
    check_fits(100.0 * float(n) * float(n) / 2, f"{name}: the clique encoding of {n} vertices (all pairs coupled)",
               "the clique encodings are for graphs of moderate size")
    adj = np.zeros((n, n), dtype=bool)
    adj[E[:, 0], E[:, 1]] = True
    adj[E[:, 1], E[:, 0]] = True
    B = 1.0
    qb = QuboBuilder(n)
    if size is None:
        bound = B
        A, guaranteed = penalty_weight(penalty, DEFAULT_PENALTY * B, bound)
        for u in range(n):
            for v in range(u + 1, n):
                if not adj[u, v]:
                    qb.add_quadratic(u, v, A)
        qb.c -= B
        K = None
    else:
        K = positive_int(size, "size")
        if K > n:
            raise CimsimError(f"{name}: clique size {K} exceeds the {n} vertices")
        delta = int(adj.sum(axis=1).max(initial=0))
        bound = B * min(K, delta)
        A, guaranteed = penalty_weight(penalty, bound + B, bound)
        # A (K - sum x)^2 = A (K^2 + (1 - 2K) sum x + 2 sum_{u<v} x_u x_v)
        qb.add_constant(A * K * K + B * K * (K - 1) / 2.0)
        qb.c += A * (1 - 2 * K)
        for u in range(n):
            for v in range(u + 1, n):
                qb.add_quadratic(u, v, 2.0 * A - (B if adj[u, v] else 0.0))
    model = qb.model(storage)

    def decode(spins: np.ndarray) -> Solution:
        x = np.asarray(spins) > 0
        members = [int(v) for v in np.flatnonzero(x)]
        m = len(members)
        inside = int(adj[np.ix_(x, x)].sum() // 2)
        is_clique = inside == m * (m - 1) // 2
        answer = {"clique": members, "size": m, "edges_inside": inside, "is_clique": bool(is_clique)}
        if K is None:
            return Solution(m, is_clique, answer)
        return Solution(inside, is_clique and m == K, answer)

    info = {
        "vertices": int(n),
        "edges": int(E.shape[0]),
        "size": K,
        "penalty": A,
        "objective_weight": B,
        "penalty_bound": bound,
        "penalty_guaranteed": guaranteed,
        "energy": ("H = A * non-edges inside - B * size" if K is None
                   else "H = A (K - size)^2 + B (K (K - 1)/2 - edges inside)"),
    }
    if K is None:
        return Encoded("clique", model, decode, "max", "size", info)
    return Encoded("clique", model, decode, "max", "edges inside", info)


#: the options ``from_file`` accepts (the command line's ``-o KEY=VALUE``)
OPTIONS: tuple[str, ...] = ("size", "penalty", "storage", "format")


def from_file(path: str | Path, **options) -> Encoded:
    """A graph file in any format of :mod:`cimsim.encoders.graph_formats` (weights ignored). Options: ``size``
    (K; omit for a maximum clique), ``penalty``, ``storage``, ``format``. Files with node labels answer in them."""
    check_options("clique", options, OPTIONS)
    g = read_graph_file(path, format=options.get("format"))
    enc = encode_clique(g.n, g.edges, options.get("size"), penalty=options.get("penalty"),
                        storage=options.get("storage", "auto"), name=g.name)
    return label_encoding(enc, g)
