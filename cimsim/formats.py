"""Every file format cimsim reads, with a writer for each where one makes sense.

========================  ===============================  ========================================
format                    read                             write
========================  ===============================  ========================================
Gset / rudy edge list     :func:`read_gset`                :func:`write_gset` (1-based ``i j w``, labels)
any graph file            :func:`read_graph_file`          (edgelist, adjlist, GraphML, GML, DIMACS, .mtx)
DIMACS CNF / WCNF         :func:`read_cnf`                 :func:`write_cnf`
Ising ``.npz``            :func:`load_model`               :func:`save_model` (dense or CSR, h, offset)
MatrixMarket ``.mtx``     :func:`load_model`               :func:`save_model` (J only)
QUBO text ``.qubo``       :func:`read_qubo`/`load_model`   :func:`write_qubo` / :func:`save_model`
result JSON               ``json.load``                    ``cimsim solve --json`` / ``Result.to_json``
sweep tables CSV          ``csv``                          :func:`cimsim.sweep.write_table_csv`
========================  ===============================  ========================================

Writers are atomic (temporary file + rename) and refuse a missing directory with one
:class:`~cimsim.errors.CimsimError` line; what they write reads back to the same model or data.
The QUBO format is documented in :mod:`cimsim.encoders.qubo`.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import scipy.sparse as sp

from .atomic import write_text_atomic
from .encoders.ising import load_model, save_model
from .encoders.graph_formats import gset_label_lines, read_graph_file
from .encoders.maxcut import read_gset
from .encoders.qubo import read_qubo, write_qubo
from .encoders.sat import read_cnf
from .errors import CimsimError

__all__ = ["read_gset", "read_graph_file", "write_gset", "read_cnf", "write_cnf", "load_model", "save_model", "read_qubo",
           "write_qubo", "graph_edges"]


def _target(path: str | Path) -> Path:
    p = Path(path)
    if not p.parent.is_dir():
        raise CimsimError(f"{p}: directory {p.parent} does not exist")
    return p


def _weight_text(w: float) -> str:
    return str(int(w)) if float(w).is_integer() and abs(w) < 2**53 else f"{w:.17g}"


def graph_edges(graph) -> tuple[int, np.ndarray, list]:
    """``(n, edges (E, 3) float, nodes)`` of a networkx graph (attribute ``weight``, default 1), 0-based in
    ``list(graph.nodes)`` order, or of a symmetric weight matrix (dense or sparse; upper triangle)."""
    if sp.issparse(graph) or isinstance(graph, np.ndarray):
        W = sp.triu(sp.csr_matrix(graph), k=1).tocoo()
        n = int(graph.shape[0])
        return n, np.column_stack([W.row, W.col, W.data]).astype(np.float64), list(range(n))
    nodes = list(graph.nodes)
    index = {v: k for k, v in enumerate(nodes)}
    rows = [(index[u], index[v], float(d.get("weight", 1.0))) for u, v, d in graph.edges(data=True)]
    return len(nodes), np.asarray(rows, dtype=np.float64).reshape(-1, 3), nodes


def write_gset(path: str | Path, n: int | object, edges: Iterable | None = None, *, comment: str | None = None,
               labels: Sequence | bool | None = None) -> Path:
    """Write a Gset/rudy edge list: header ``N E``, then one ``i j w`` line per edge (1-based vertices).

    Either ``write_gset(path, n, edges)`` with 0-based ``(i, j)`` or ``(i, j, w)`` edges, or
    ``write_gset(path, graph)`` with a networkx graph or a symmetric weight matrix (vertices in
    ``list(graph.nodes)`` order). ``comment`` lines are written as ``#`` lines before the header (the
    reader skips them). Integer weights are written as integers.

    Node labels: a networkx graph's labels are kept (``labels=False`` drops them), or ``labels`` gives one
    per vertex. They are written after the header as ``#label K JSON`` lines (vertex K, 1-based; strings,
    integers and tuples keep their type, other labels become their ``str``), which Gset readers skip as
    comments and :func:`cimsim.encoders.graph_formats.read_graph_file` (so ``cimsim solve``) reads back:
    the answer names vertices by label again.
    """
    names = None
    if edges is None:
        matrix = sp.issparse(n) or isinstance(n, np.ndarray)
        n, E, nodes = graph_edges(n)
        if (labels is None and not matrix) or labels is True:
            names = nodes
    else:
        E = np.asarray(list(edges) if not isinstance(edges, np.ndarray) else edges, dtype=np.float64)
        E = E.reshape(-1, E.shape[-1] if E.ndim == 2 else 3) if E.size else np.zeros((0, 3))
        if E.shape[1] == 2:
            E = np.column_stack([E, np.ones(E.shape[0])])
        if E.shape[1] != 3:
            raise CimsimError("edges must be (i, j) or (i, j, w) tuples")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise CimsimError(f"a graph needs a positive integer vertex count, got {n!r}")
    if E.size:
        ij = E[:, :2]
        if np.any(ij != np.floor(ij)) or ij.min() < 0 or ij.max() >= n:
            raise CimsimError(f"edge endpoints must be integers in 0..{n - 1}")
        if np.any(E[:, 0] == E[:, 1]):
            raise CimsimError("self-loops cannot be written to a Gset file")
        if not np.all(np.isfinite(E[:, 2])):
            raise CimsimError("edge weights must be finite")
    if labels is not None and not isinstance(labels, bool):
        names = list(labels)
    if names is not None:
        if len(names) != n:
            raise CimsimError(f"{len(names)} labels for {n} vertices")
        if len(set(names)) != n:
            raise CimsimError("labels must be distinct")
    lines = [f"# {c}" for c in (comment.splitlines() if comment else [])]
    lines.append(f"{int(n)} {E.shape[0]}")
    if names is not None:
        lines.extend(gset_label_lines(names))
    lines.extend(f"{int(i) + 1} {int(j) + 1} {_weight_text(w)}" for i, j, w in E)
    p = _target(path)
    write_text_atomic(p, "\n".join(lines) + "\n")
    return p


def write_cnf(path: str | Path, n_vars: int, clauses: Sequence[Sequence[int]], *,
              weights: Sequence[float] | None = None, top: float | None = None, comment: str | None = None) -> Path:
    """Write DIMACS CNF (``p cnf V C``, clauses ending in ``0``), or classic WCNF when ``weights`` are given
    (``p wcnf V C [TOP]``, each clause prefixed by its weight). Literals are signed 1-based integers."""
    if isinstance(n_vars, bool) or not isinstance(n_vars, (int, np.integer)) or n_vars < 1:
        raise CimsimError(f"n_vars must be a positive integer, got {n_vars!r}")
    cls = [list(c) for c in clauses]
    for k, c in enumerate(cls):
        if not c:
            raise CimsimError(f"clause {k} is empty")
        for lit in c:
            if isinstance(lit, bool) or not isinstance(lit, (int, np.integer)) or lit == 0 or abs(lit) > n_vars:
                raise CimsimError(f"clause {k}: literal {lit!r} is not a non-zero integer in -{n_vars}..{n_vars}")
    lines = [f"c {c}" for c in (comment.splitlines() if comment else [])]
    if weights is None:
        lines.append(f"p cnf {int(n_vars)} {len(cls)}")
        lines.extend(" ".join(str(int(v)) for v in c) + " 0" for c in cls)
    else:
        if len(weights) != len(cls):
            raise CimsimError(f"{len(weights)} weights for {len(cls)} clauses")
        for w in weights:
            if not (isinstance(w, (int, float, np.number)) and math.isfinite(w) and w > 0):
                raise CimsimError(f"clause weights must be finite and positive, got {w!r}")
        head = f"p wcnf {int(n_vars)} {len(cls)}" + (f" {_weight_text(top)}" if top is not None else "")
        lines.append(head)
        lines.extend(f"{_weight_text(w)} " + " ".join(str(int(v)) for v in c) + " 0" for w, c in zip(weights, cls))
    p = _target(path)
    write_text_atomic(p, "\n".join(lines) + "\n")
    return p
