"""Weighted MaxCut (physics.md 5.2): ``J = -W``, ``h = 0``, ``cut(s) = (W_tot - H(s)) / 2``.

Negative weights are allowed. Vertices are numbered 0..N-1 internally; the Gset/rudy file format is
1-based. The decoded ``partition`` gives side 1 to vertices with spin +1 and side 0 to spin -1.
"""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import Iterable

import numpy as np
import scipy.sparse as sp

from ..errors import CimsimError, CimsimWarning
from ..memory import check_fits
from ..model import IsingModel
from . import Encoded, Solution

__all__ = ["encode_maxcut", "from_networkx", "from_file", "read_gset", "cut_value", "edges_to_matrix",
           "count_duplicate_edges"]


def edges_to_matrix(n: int, edges: np.ndarray, *, what: str = "graph") -> sp.csr_matrix:
    """Symmetric CSR weight matrix W from an (E, 3) array of (i, j, w), 0-based; parallel edges add up."""
    try:
        E = np.asarray(edges, dtype=np.float64).reshape(-1, 3)
    except (TypeError, ValueError):
        raise CimsimError(f"{what}: edges must be numeric (i, j, w) triples") from None
    check_fits(48.0 * float(min(n, 10**100)) + 64.0 * E.shape[0], f"{what}: a graph with {n:.3g} vertices and {E.shape[0]} edges"
               if n > 10**12 else f"{what}: a graph with {n} vertices and {E.shape[0]} edges")
    if E.shape[0]:
        if not np.all(np.isfinite(E[:, :2])) or np.any(E[:, :2] != np.floor(E[:, :2])):
            raise CimsimError(f"{what}: vertex numbers must be integers")
        if E[:, :2].min() < 0 or E[:, :2].max() >= n:
            raise CimsimError(f"{what}: vertex number out of range 0..{n - 1}")
    i = E[:, 0].astype(np.int64)
    j = E[:, 1].astype(np.int64)
    w = E[:, 2]
    if E.shape[0]:
        if np.any(i == j):
            k = int(np.flatnonzero(i == j)[0])
            raise CimsimError(f"{what}: self-loop on vertex {i[k]} cannot be cut")
        if not np.all(np.isfinite(w)):
            raise CimsimError(f"{what}: edge weights must be finite")
    W = sp.coo_matrix((np.concatenate([w, w]), (np.concatenate([i, j]), np.concatenate([j, i]))), shape=(n, n))
    W = W.tocsr()
    W.sum_duplicates()
    W.sort_indices()
    return W


def cut_value(W: "sp.spmatrix | np.ndarray", partition: np.ndarray) -> float:
    """Total weight of edges whose endpoints lie on different sides of ``partition`` (0/1 or +-1)."""
    p = np.asarray(partition)
    side = p > 0 if p.min(initial=0) < 0 else p.astype(bool)
    Wc = sp.coo_matrix(W)
    mask = (side[Wc.row] != side[Wc.col]) & (Wc.row < Wc.col)
    return float(Wc.data[mask].sum())


def encode_maxcut(n: int, edges: Iterable, *, name: str = "graph", storage: str = "auto") -> Encoded:
    """Encode MaxCut on ``n`` vertices with weighted ``edges`` [(i, j, w), ...] (0-based).

    Edges given as pairs (i, j) get weight 1.
    """
    arr = np.asarray(list(edges) if not isinstance(edges, np.ndarray) else edges, dtype=np.float64)
    if arr.size == 0:
        arr = np.zeros((0, 3))
    if arr.ndim != 2 or arr.shape[1] not in (2, 3):
        raise CimsimError(f"{name}: edges must be (i, j) or (i, j, w) tuples")
    if arr.shape[1] == 2:
        arr = np.column_stack([arr, np.ones(arr.shape[0])])
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise CimsimError(f"{name}: a graph needs a positive integer vertex count, got {n!r}")
    n = int(n)
    W = edges_to_matrix(n, arr, what=name)
    duplicates = count_duplicate_edges(arr)
    if duplicates:
        warnings.warn(f"{name}: {duplicates} duplicate edge(s) merged by summing their weights", CimsimWarning,
                      stacklevel=2)
    total = float(W.sum()) / 2.0
    model = IsingModel.from_couplings(-W, storage=storage)

    def decode(spins: np.ndarray) -> Solution:
        s = np.asarray(spins)
        cut = cut_value(W, s)
        return Solution(cut, True, {"cut": cut, "partition": [int(v > 0) for v in s]})

    info = {"vertices": n, "edges": int(W.nnz // 2), "total_weight": total}
    if duplicates:
        info["duplicate_edges_merged"] = duplicates
    return Encoded("maxcut", model, decode, "max", "cut", info)


def from_networkx(graph, *, weight: str = "weight", default_weight: float = 1.0) -> Encoded:
    """Encode MaxCut on a networkx graph; vertex order is ``list(graph.nodes)`` (kept as labels).

    The decoded answer names vertices by label: ``sides`` (two lists) and ``partition`` ({node: 0/1}).
    """
    nodes = list(graph.nodes)
    index = {v: k for k, v in enumerate(nodes)}
    edges = [(index[u], index[v], d.get(weight, default_weight)) for u, v, d in graph.edges(data=True)]
    enc = encode_maxcut(len(nodes), np.asarray(edges, dtype=np.float64).reshape(-1, 3))
    from ._labels import with_node_labels

    return with_node_labels(enc, nodes)  # answers by node label (cimsim.encoders._labels)


def read_gset(path: str | Path) -> tuple[int, np.ndarray]:
    """Read a Gset/rudy edge list: header ``N E`` (trailing text ignored), then ``E`` lines ``i j [w]``.

    Vertices are 1-based in the file and returned 0-based; a missing weight is 1. Blank lines and lines
    starting with ``#``, ``c`` or ``%`` are skipped (``#label K JSON`` lines name vertices; see
    :func:`cimsim.encoders.graph_formats.read_graph_file`, which returns them). Returns ``(n, edges)`` with
    ``edges`` an (E, 3) float array, in file order. The file is read line by line (never whole).

    Policy (see docs/formats.md): a **self-loop** ``i i w`` is refused (it cannot be cut, and in a Gset
    file it means the file is not what it claims); **duplicate edges** (``i j`` twice, or ``i j`` and
    ``j i``) are returned as they are and merged by summing their weights when the model is built
    (:func:`edges_to_matrix`; :func:`encode_maxcut` warns and records the count). Weights must be finite;
    vertex numbers must lie in 1..N; the number of edge lines must equal ``E``. Every violation raises
    :class:`CimsimError` naming the file and line.
    """
    from .graph_formats import read_graph_file

    g = read_graph_file(path, format="gset")
    return g.n, g.edges


def count_duplicate_edges(edges: np.ndarray) -> int:
    """Number of edges of an (E, 2+) 0-based array that repeat an earlier pair (in either orientation)."""
    E = np.asarray(edges)
    if E.shape[0] < 2:
        return 0
    ij = np.sort(E[:, :2].astype(np.int64), axis=1)
    return int(E.shape[0] - np.unique(ij, axis=0).shape[0])


#: the options ``from_file`` accepts (the command line's ``-o KEY=VALUE``)
OPTIONS: tuple[str, ...] = ("format",)


def from_file(path: str | Path, **options) -> Encoded:
    """Encode MaxCut from a graph file in any format of :mod:`cimsim.encoders.graph_formats` (Gset, networkx
    edge and adjacency lists, GraphML, GML, DIMACS, MatrixMarket; ``-`` is standard input). Option ``format``
    names the format (default: from the extension, else from the content). Files with node labels answer in
    them (``sides`` and ``partition`` by label)."""
    from ._common import check_options
    from .graph_formats import label_encoding, read_graph_file

    check_options("maxcut", options, OPTIONS)
    g = read_graph_file(path, format=options.get("format"))
    return label_encoding(encode_maxcut(g.n, g.edges, name=g.name), g)
