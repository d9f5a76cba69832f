"""Weighted MaxCut (physics.md 5.2): ``J = -W``, ``h = 0``, ``cut(s) = (W_tot - H(s)) / 2``.

Negative weights are allowed. Vertices are numbered 0..N-1 internally; the Gset/rudy file format is
1-based. The decoded ``partition`` gives side 1 to vertices with spin +1 and side 0 to spin -1.
"""
from __future__ import annotations

import math
import warnings
from array import array
from pathlib import Path
from typing import Iterable

import numpy as np
import scipy.sparse as sp

from ..errors import CimsimError, CimsimWarning
from ..memory import check_fits
from ..model import IsingModel
from . import Encoded, Solution
from ._text import check_count_fits, iter_tokens

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
    starting with ``#``, ``c`` or ``%`` are skipped. Returns ``(n, edges)`` with ``edges`` an (E, 3)
    float array, in file order. The file is read line by line (never whole).

    Policy (see docs/formats.md): a **self-loop** ``i i w`` is refused (it cannot be cut, and in a Gset
    file it means the file is not what it claims); **duplicate edges** (``i j`` twice, or ``i j`` and
    ``j i``) are returned as they are and merged by summing their weights when the model is built
    (:func:`edges_to_matrix`; :func:`encode_maxcut` warns and records the count). Weights must be finite;
    vertex numbers must lie in 1..N; the number of edge lines must equal ``E``. Every violation raises
    :class:`CimsimError` naming the file and line.
    """
    p = Path(path)
    n = m = -1
    k0 = 0
    count = 0
    ii: array = array("q")
    jj: array = array("q")
    ww: array = array("d")
    for k, t in iter_tokens(p):
        if t[0].startswith(("#", "c", "%")):
            continue
        if n < 0:
            try:
                if len(t) < 2:
                    raise ValueError
                n, m = int(t[0]), int(t[1])
            except ValueError:
                raise CimsimError(f"{p}: line {k}: header must be 'N E' (vertex and edge counts), got {' '.join(t)[:80]!r}") from None
            if n < 1 or m < 0:
                raise CimsimError(f"{p}: line {k}: header needs N >= 1 and E >= 0, got N = {n}, E = {m}")
            check_count_fits(p, n, "vertices", 48.0, f"line {k}: header declares ")
            k0 = k
            continue
        count += 1
        if count > m:
            raise CimsimError(f"{p}: line {k}: header (line {k0}) declares {m} edges but the file has {m + 1} or more edge lines")
        if len(t) not in (2, 3):
            raise CimsimError(f"{p}: line {k}: expected 'i j w', got {' '.join(t)[:80]!r}")
        try:
            i, j = int(t[0]), int(t[1])
        except ValueError:
            raise CimsimError(f"{p}: line {k}: vertex numbers must be integers, got {' '.join(t[:2])[:80]!r}") from None
        try:
            w = float(t[2]) if len(t) == 3 else 1.0
        except ValueError:
            raise CimsimError(f"{p}: line {k}: weight must be a number, got {t[2][:40]!r}") from None
        if not math.isfinite(w):
            raise CimsimError(f"{p}: line {k}: weight must be finite, got {t[2][:40]!r}")
        if not (1 <= i <= n and 1 <= j <= n):
            raise CimsimError(f"{p}: line {k}: vertex out of range 1..{n}: {i} {j}"[:200])
        if i == j:
            raise CimsimError(f"{p}: line {k}: self-loop on vertex {i} (a self-loop cannot be cut; remove it)")
        ii.append(i - 1)
        jj.append(j - 1)
        ww.append(w)
    if n < 0:
        raise CimsimError(f"{p}: no 'N E' header (the file has only comments)")
    if count != m:
        raise CimsimError(f"{p}: header declares {m} edges but the file has {count} edge lines")
    edges = np.empty((count, 3))
    edges[:, 0] = np.frombuffer(ii, dtype=np.int64) if count else 0
    edges[:, 1] = np.frombuffer(jj, dtype=np.int64) if count else 0
    edges[:, 2] = np.frombuffer(ww, dtype=np.float64) if count else 0
    return n, edges


def count_duplicate_edges(edges: np.ndarray) -> int:
    """Number of edges of an (E, 2+) 0-based array that repeat an earlier pair (in either orientation)."""
    E = np.asarray(edges)
    if E.shape[0] < 2:
        return 0
    ij = np.sort(E[:, :2].astype(np.int64), axis=1)
    return int(E.shape[0] - np.unique(ij, axis=0).shape[0])


def from_file(path: str | Path, **options) -> Encoded:
    """Encode MaxCut from a Gset/rudy edge-list file."""
    if options:
        raise CimsimError(f"maxcut takes no options, got {', '.join(options)}")
    n, edges = read_gset(path)
    return encode_maxcut(n, edges, name=str(path))
