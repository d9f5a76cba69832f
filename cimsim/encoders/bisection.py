"""Graph bisection (physics.md 5.2): split the vertices into halves of equal size (sizes differing by
one for odd N) so that the weight of the edges between the halves is minimal.

Encoding, spin ``+1`` = side 1, objective weight ``B = 1``::

    H(s) = A (sum_i s_i)^2 + B sum_{(uv) in E} w_uv (1 - s_u s_v) / 2
         = A (n_1 - n_0)^2 + B cut(s)
    J = (B/2) W - 2A (1 1^T - I),   h = 0,   offset = A N + (B/2) sum_E w_uv

**Penalty weight.** Let ``r = N mod 2``, ``d_v = sum_u |w_uv|`` the weighted degrees sorted ascending
as ``d_(1) <= ... <= d_(N)``, and ``X = min(d_(floor(N/2)), w_max (N + r) / 2)``, the second term used
only when no weight is negative. Every ground state is a balanced minimum-cut bisection as soon as

    A > B X / (4 (1 + r))                                                        (*)

Proof: take a state with imbalance ``|sum s| = r + 2t``, ``t >= 1``, and move the ``t`` vertices of
smallest degree from the larger side ``P`` (``|P| = (N + r)/2 + t``) to the smaller. The penalty drops by
``A ((r + 2t)^2 - r^2) = 4 A t (t + r)``. The cut grows by at most the moved vertices' degrees; since P
misses only ``(N - r)/2 - t`` vertices, its i-th smallest degree is at most ``d_(i + (N - r)/2 - t)``, so
the t moved degrees are each ``<= d_(floor(N/2))``. For non-negative weights the growth is also at most
the weight between the moved vertices and the ``(N + r)/2`` that stay in ``P``: ``<= t w_max (N + r)/2``.
So the energy strictly drops when ``4 A t (t + r) > B t X``, which (*) guarantees for every ``t >= 1``:
no imbalanced state is a ground state, and on balanced states the penalty is the constant ``A r^2``.

This is Lucas's ``A / B >= min(2 Delta, N) / 8`` (unit weights, even N) with two refinements: the
inequality must be strict (with equality an imbalanced state can tie, e.g. on K2), and the maximum
degree Delta can be replaced by the median-rank degree ``d_(floor(N/2))``, which for irregular graphs
is much smaller (a star needs ``A > B/4`` instead of ``B N/8``). On a 300-vertex G(n, 0.03) graph the
bound drops from 4.25 (max degree) to 2.0, and simulated annealing (default settings, 6 seeds) found
bisections with mean cut 605.5 at the new automatic A = 2.5 against 619.7 at 1.25 x Lucas's bound (the
penalty squeezes the objective's dynamic range, physics.md 5.5). The automatic choice is
``A = 1.25 X / (4 (1 + r))`` (when the bound is 0, any ``A > 0`` works and ``A = max |w| / 4``, or 1
without edges); ``penalty=`` overrides it and
``Encoded.info`` records ``penalty``, ``penalty_bound`` and whether the given value satisfies (*).
``tests/test_encoders.py`` checks all of this by brute force, and that (*) is tight on K2 and K3.

The penalty couples every pair of spins, so J is dense (N x N float64): instances up to a few thousand
vertices are fine; larger ones are refused with a memory message rather than swapping.
"""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import Iterable

import numpy as np

from ..errors import CimsimError, CimsimWarning
from ..memory import check_dense_fits
from ..model import IsingModel
from . import Encoded, Solution
from ._common import check_options, penalty_weight
from .maxcut import count_duplicate_edges, cut_value, edges_to_matrix

__all__ = ["encode_bisection", "penalty_bound", "from_networkx", "from_file", "AUTO_FACTOR"]

#: automatic penalty = AUTO_FACTOR * penalty_bound (physics.md 5.5: 1.1-2x the bound).
AUTO_FACTOR = 1.25


def penalty_bound(n: int, W) -> float:
    """The right-hand side of (*) in the module docstring, for B = 1: A must exceed it."""
    r = n % 2
    deg = np.sort(np.asarray(abs(W).sum(axis=1)).reshape(-1))
    if n < 2 or deg[-1] == 0:
        return 0.0
    X = float(deg[n // 2 - 1])
    data = W.data if hasattr(W, "data") else np.asarray(W).ravel()
    if data.size and data.min() >= 0:
        X = min(X, float(data.max()) * (n + r) / 2.0)
    return X / (4.0 * (1 + r))


def _as_edges(edges: Iterable, name: str) -> np.ndarray:
    arr = np.asarray(list(edges) if not isinstance(edges, np.ndarray) else edges, dtype=np.float64)
    if arr.size == 0:
        return np.zeros((0, 3))
    if arr.ndim != 2 or arr.shape[1] not in (2, 3):
        raise CimsimError(f"{name}: edges must be (i, j) or (i, j, w) tuples")
    if arr.shape[1] == 2:
        arr = np.column_stack([arr, np.ones(arr.shape[0])])
    return arr


def encode_bisection(n: int, edges: Iterable, *, penalty: float | None = None, name: str = "graph") -> Encoded:
    """Encode minimum bisection of ``n`` vertices with weighted ``edges`` [(i, j, w) or (i, j)], 0-based.

    ``penalty`` is A (with B = 1); by default ``AUTO_FACTOR`` times the proven bound. Dense J.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise CimsimError(f"{name}: a graph needs a positive integer vertex count, got {n!r}")
    n = int(n)
    arr = _as_edges(edges, name)
    W = edges_to_matrix(n, arr, what=name)
    duplicates = count_duplicate_edges(arr)
    if duplicates:  # policy (docs/formats.md): merged by summing their weights, as for maxcut
        warnings.warn(f"{name}: {duplicates} duplicate edge(s) merged by summing their weights", CimsimWarning,
                      stacklevel=2)
    bound = penalty_bound(n, W)
    if bound > 0:
        auto = AUTO_FACTOR * bound
    else:  # any A > 0 works; keep it on the scale of the weights
        auto = 0.25 * float(abs(W).max()) if W.nnz else 1.0
    A, guaranteed = penalty_weight(penalty, auto, bound)
    B = 1.0
    check_dense_fits(n, copies=2)
    J = np.full((n, n), -2.0 * A)
    np.fill_diagonal(J, 0.0)
    J += (0.5 * B) * W.toarray()
    total = float(W.sum()) / 2.0
    model = IsingModel.from_couplings(J, None, A * n + 0.5 * B * total, storage="dense")
    r = n % 2

    def decode(spins: np.ndarray) -> Solution:
        s = np.asarray(spins)
        side1 = [int(i) for i in np.flatnonzero(s > 0)]
        side0 = [int(i) for i in np.flatnonzero(s <= 0)]
        cut = cut_value(W, s)
        balance = abs(len(side1) - len(side0))
        return Solution(cut, balance == r, {"cut": cut, "sides": [side0, side1], "balance": balance,
                                             "partition": [int(v > 0) for v in s]})

    info = {
        "vertices": n,
        "edges": int(W.nnz // 2),
        "total_weight": total,
        "penalty": A,
        "objective_weight": B,
        "penalty_bound": bound,
        "penalty_guaranteed": guaranteed,
        "energy": "H = A * (n1 - n0)^2 + B * cut",
    }
    if duplicates:
        info["duplicate_edges_merged"] = duplicates
    return Encoded("bisection", model, decode, "min", "cut", info)


def from_networkx(graph, *, weight: str = "weight", default_weight: float = 1.0, penalty: float | None = None) -> Encoded:
    """Encode minimum bisection of a networkx graph (vertex order ``list(graph.nodes)``)."""
    nodes = list(graph.nodes)
    index = {v: k for k, v in enumerate(nodes)}
    edges = [(index[u], index[v], d.get(weight, default_weight)) for u, v, d in graph.edges(data=True)]
    enc = encode_bisection(len(nodes), np.asarray(edges, dtype=np.float64).reshape(-1, 3), penalty=penalty)
    from ._labels import with_node_labels

    return with_node_labels(enc, nodes)  # sides and partition by node label


#: the options ``from_file`` accepts (the command line's ``-o KEY=VALUE``)
OPTIONS: tuple[str, ...] = ("penalty", "format")


def from_file(path: str | Path, **options) -> Encoded:
    """A weighted graph file in any format of :mod:`cimsim.encoders.graph_formats` (as for maxcut). Options:
    ``penalty`` (A with B = 1; default 1.25 x the bound), ``format``. Files with node labels answer in them."""
    from .graph_formats import label_encoding, read_graph_file

    check_options("bisection", options, OPTIONS)
    g = read_graph_file(path, format=options.get("format"))
    return label_encoding(encode_bisection(g.n, g.edges, penalty=options.get("penalty"), name=g.name), g)
