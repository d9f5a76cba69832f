"""Weighted MaxCut (physics.md 5.2): ``J = -W``, ``h = 0``, ``cut(s) = (W_tot - H(s)) / 2``.

Negative weights are allowed. Vertices are numbered 0..N-1 internally; the Gset/rudy file format is
1-based. The decoded ``partition`` gives side 1 to vertices with spin +1 and side 0 to spin -1.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

import numpy as np
import scipy.sparse as sp

from ..errors import CimsimError
from ..model import IsingModel
from . import Encoded, Solution, read_text

__all__ = ["encode_maxcut", "from_networkx", "from_file", "read_gset", "cut_value", "edges_to_matrix"]


def edges_to_matrix(n: int, edges: np.ndarray, *, what: str = "graph") -> sp.csr_matrix:
    """Symmetric CSR weight matrix W from an (E, 3) array of (i, j, w), 0-based; parallel edges add up."""
    E = np.asarray(edges, dtype=np.float64).reshape(-1, 3)
    i = E[:, 0].astype(np.int64)
    j = E[:, 1].astype(np.int64)
    w = E[:, 2]
    if E.shape[0]:
        if np.any(E[:, :2] != np.floor(E[:, :2])):
            raise CimsimError(f"{what}: vertex numbers must be integers")
        if i.min() < 0 or j.min() < 0 or i.max() >= n or j.max() >= n:
            raise CimsimError(f"{what}: vertex number out of range 0..{n - 1}")
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
    if n < 1:
        raise CimsimError(f"{name}: a graph needs at least one vertex")
    W = edges_to_matrix(n, arr, what=name)
    total = float(W.sum()) / 2.0
    model = IsingModel.from_couplings(-W, storage=storage)

    def decode(spins: np.ndarray) -> Solution:
        s = np.asarray(spins)
        cut = cut_value(W, s)
        return Solution(cut, True, {"cut": cut, "partition": [int(v > 0) for v in s]})

    info = {"vertices": n, "edges": int(W.nnz // 2), "total_weight": total}
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
    """Read a Gset/rudy edge list: header ``N E`` (trailing text ignored), then ``E`` lines ``i j w``.

    Vertices are 1-based in the file and returned 0-based. Blank lines and lines starting with ``#``
    or ``c`` are skipped. Returns ``(n, edges)`` with ``edges`` an (E, 3) float array.
    """
    p = Path(path)
    lines = read_text(p).splitlines()
    rows = [(k + 1, ln.split()) for k, ln in enumerate(lines)]
    rows = [(k, t) for k, t in rows if t and not t[0].startswith(("#", "c", "%"))]
    if not rows:
        raise CimsimError(f"{p}: empty file")
    k0, head = rows[0]
    try:
        if len(head) < 2:
            raise ValueError
        n, m = int(head[0]), int(head[1])
    except ValueError:
        raise CimsimError(f"{p}: line {k0}: header must be 'N E' (vertex and edge counts), got {' '.join(head)!r}") from None
    if n < 1 or m < 0:
        raise CimsimError(f"{p}: line {k0}: header needs N >= 1 and E >= 0, got N = {n}, E = {m}")
    body = rows[1:]
    if len(body) != m:
        raise CimsimError(f"{p}: header declares {m} edges but the file has {len(body)} edge lines")
    edges = np.empty((m, 3))
    for r, (k, t) in enumerate(body):
        if len(t) not in (2, 3):
            raise CimsimError(f"{p}: line {k}: expected 'i j w', got {' '.join(t)!r}")
        try:
            i, j = int(t[0]), int(t[1])
        except ValueError:
            raise CimsimError(f"{p}: line {k}: vertex numbers must be integers, got {' '.join(t[:2])!r}") from None
        try:
            w = float(t[2]) if len(t) == 3 else 1.0
        except ValueError:
            raise CimsimError(f"{p}: line {k}: weight must be a number, got {t[2]!r}") from None
        if not np.isfinite(w):
            raise CimsimError(f"{p}: line {k}: weight must be finite, got {t[2]!r}")
        if not (1 <= i <= n and 1 <= j <= n):
            raise CimsimError(f"{p}: line {k}: vertex out of range 1..{n}: {i} {j}")
        if i == j:
            raise CimsimError(f"{p}: line {k}: self-loop on vertex {i}")
        edges[r] = (i - 1, j - 1, w)
    return n, edges


def from_file(path: str | Path, **options) -> Encoded:
    """Encode MaxCut from a Gset/rudy edge-list file."""
    if options:
        raise CimsimError(f"maxcut takes no options, got {', '.join(options)}")
    n, edges = read_gset(path)
    return encode_maxcut(n, edges, name=str(path))
