"""Code shared by the unweighted graph encoders (vertex cover, independent set).

Both read every graph file format MaxCut reads (:mod:`cimsim.encoders.graph_formats`: Gset, networkx
edge and adjacency lists, GraphML, GML, DIMACS, MatrixMarket; by ``format=``, extension or content); they
ignore weights, merge parallel edges, and use the Lucas Hamiltonians of physics.md 5.2 with objective weight
``B = 1`` and penalty ``A`` (default :data:`DEFAULT_PENALTY`). ``A > B`` is the sufficient (and, on a
triangle, necessary) condition for every ground state to be feasible:

* independent set, ``H = A sum_E x_u x_v - B sum_v x_v``: a set with an edge inside loses at least
  ``A`` by dropping one endpoint of that edge and gives up only ``B``;
* vertex cover, ``H = A sum_E (1 - x_u)(1 - x_v) + B sum_v x_v``: adding one endpoint of an uncovered
  edge costs ``B`` and saves at least ``A``.

On feasible states ``H = -B |S|`` (independent set) and ``H = B |C|`` (cover), so the ground states
are exactly the maximum independent sets / minimum vertex covers. Spin ``+1`` (``x = 1``) means the
vertex is in the set / cover.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

import numpy as np

from ..errors import CimsimError
from . import Encoded, Solution
from ._common import QuboBuilder, check_options, penalty_weight
from .graph_formats import label_encoding, read_graph_file

__all__ = [
    "DEFAULT_PENALTY", "read_graph", "read_dimacs_graph", "simple_edges", "encode_graph_problem",
    "graph_from_file", "graph_from_networkx", "edges_from_networkx",
]

#: default A / B = 1.25 x the bound A > B. On a 300-vertex G(n, 0.03) graph, simulated annealing (5 seeds)
#: found independent sets of mean size 99.2 / 99.0 / 99.0 / 97.4 / 97.2 and covers of 201.0 / 201.0 /
#: 201.2 / 202.8 / 202.8 for A = 1.1 / 1.25 / 1.5 / 2 / 3: stay close to the bound (physics.md 5.5).
DEFAULT_PENALTY = 1.25


def simple_edges(n: int, edges: Iterable, *, name: str = "graph") -> np.ndarray:
    """Unique undirected edges as an (E, 2) int array with ``i < j`` (weights dropped, duplicates merged).

    ``edges`` holds pairs ``(i, j)`` or triples ``(i, j, w)``, 0-based; self-loops and out-of-range
    vertices raise :class:`CimsimError`.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise CimsimError(f"{name}: a graph needs a positive integer vertex count, got {n!r}")
    try:
        arr = np.asarray(list(edges) if not isinstance(edges, np.ndarray) else edges, dtype=np.float64)
    except (TypeError, ValueError):
        raise CimsimError(f"{name}: edges must be numeric (i, j) or (i, j, w) tuples") from None
    if arr.size == 0:
        return np.zeros((0, 2), dtype=np.int64)
    if arr.ndim != 2 or arr.shape[1] not in (2, 3):
        raise CimsimError(f"{name}: edges must be (i, j) or (i, j, w) tuples")
    ij = arr[:, :2]
    if not np.all(np.isfinite(ij)) or np.any(ij != np.floor(ij)):
        raise CimsimError(f"{name}: vertex numbers must be integers")
    if ij.min() < 0 or ij.max() >= n:
        raise CimsimError(f"{name}: vertex number out of range 0..{n - 1}")
    ij = ij.astype(np.int64)
    loops = np.flatnonzero(ij[:, 0] == ij[:, 1])
    if loops.size:
        raise CimsimError(f"{name}: self-loop on vertex {ij[loops[0], 0]}")
    ij = np.sort(ij, axis=1)
    return np.unique(ij, axis=0)


def read_dimacs_graph(path: str | Path) -> tuple[int, np.ndarray]:
    """Read a DIMACS graph (the clique / colouring benchmark format): ``c`` comments, a header
    ``p edge N E`` (or ``p col N E``), then ``e u v`` lines with 1-based vertices. Returns ``(n, edges)``,
    edges 0-based as an (E, 3) float array with unit weights, in file order. Read line by line.

    Policy: self-loops (``e v v``) are refused; duplicate edges are kept here and merged by the
    (unweighted) encoders. The edge count ``E`` must match the ``e`` lines, or be half or twice their
    number (published files differ on whether both directions are counted). Errors name the line.
    """
    g = read_graph_file(path, format="dimacs")
    return g.n, g.edges


def read_graph(path: str | Path, format: str | None = None) -> tuple[int, np.ndarray]:
    """``(n, edges)`` from a graph file in any format of :mod:`cimsim.encoders.graph_formats` (``format``
    as there: explicit, else by extension, else by content). Labels are dropped; use
    :func:`~cimsim.encoders.graph_formats.read_graph_file` to keep them."""
    g = read_graph_file(path, format=format)
    return g.n, g.edges


def edges_from_networkx(graph) -> tuple[int, np.ndarray, list]:
    """``(n, edges, nodes)`` of a networkx graph, vertices numbered in ``list(graph.nodes)`` order."""
    nodes = list(graph.nodes)
    index = {v: k for k, v in enumerate(nodes)}
    edges = np.array([(index[u], index[v]) for u, v in graph.edges()], dtype=np.int64).reshape(-1, 2)
    return len(nodes), edges, nodes


def encode_graph_problem(kind: str, n: int, edges: Iterable, *, penalty: float | None = None,
                         storage: str = "auto", name: str = "graph") -> Encoded:
    """Encode ``kind`` in {"vertex-cover", "independent-set"} on ``n`` vertices (see module docstring)."""
    E = simple_edges(n, edges, name=name)
    A, guaranteed = penalty_weight(penalty, DEFAULT_PENALTY, 1.0)
    B = 1.0
    qb = QuboBuilder(n)
    if kind == "independent-set":
        for u, v in E:
            qb.add_quadratic(int(u), int(v), A)
        qb.c -= B
    elif kind == "vertex-cover":
        for u, v in E:
            qb.add_affine_product(A, (1.0, -1.0, int(u)), (1.0, -1.0, int(v)))
        qb.c += B
    else:  # pragma: no cover - internal use only
        raise CimsimError(f"unknown graph problem {kind!r}")
    model = qb.model(storage)
    eu, ev = E[:, 0], E[:, 1]

    def decode(spins: np.ndarray) -> Solution:
        x = np.asarray(spins) > 0
        chosen = [int(i) for i in np.flatnonzero(x)]
        if kind == "independent-set":
            bad = int(np.count_nonzero(x[eu] & x[ev]))
            return Solution(len(chosen), bad == 0, {"set": chosen, "size": len(chosen), "edges_inside": bad})
        bad = int(np.count_nonzero(~x[eu] & ~x[ev]))
        return Solution(len(chosen), bad == 0, {"cover": chosen, "size": len(chosen), "uncovered_edges": bad})

    if kind == "independent-set":
        energy = "H = A * edges_inside - B * size"
    else:
        energy = "H = A * uncovered_edges + B * size"
    info = {
        "vertices": int(n),
        "edges": int(E.shape[0]),
        "penalty": A,
        "objective_weight": B,
        "penalty_bound": "A > B",
        "penalty_guaranteed": guaranteed,
        "energy": energy,
    }
    sense = "max" if kind == "independent-set" else "min"
    return Encoded(kind, model, decode, sense, "size", info)


#: the options of :func:`graph_from_file` (vertex cover and independent set: their ``OPTIONS``)
GRAPH_OPTIONS: tuple[str, ...] = ("penalty", "storage", "format")


def graph_from_file(kind: str, path: str | Path, options: dict) -> Encoded:
    """``from_file`` for vertex cover and independent set: a graph file in any format of
    :mod:`cimsim.encoders.graph_formats` (weights ignored); options ``penalty``, ``storage``, ``format``.
    Files with node labels answer in them."""
    check_options(kind, options, GRAPH_OPTIONS)
    g = read_graph_file(path, format=options.get("format"))
    enc = encode_graph_problem(kind, g.n, g.edges, penalty=options.get("penalty"),
                               storage=options.get("storage", "auto"), name=g.name)
    return label_encoding(enc, g)


def graph_from_networkx(kind: str, graph, penalty: float | None) -> Encoded:
    """``from_networkx`` for vertex cover and independent set; ``info["labels"]`` maps spin index -> node."""
    n, edges, nodes = edges_from_networkx(graph)
    from ._labels import with_node_labels

    return with_node_labels(encode_graph_problem(kind, n, edges, penalty=penalty), nodes)
