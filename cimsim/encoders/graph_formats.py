"""Graph files for every graph problem (maxcut, bisection, vertex-cover, independent-set, clique, coloring).

One registry, :data:`FORMATS`, maps a format name to its file extensions, a detector and a reader:

==========  ==============================  =====================================================================
name        extensions                      what it is
==========  ==============================  =====================================================================
gset        ``.gset .rud .rudy``            Gset / rudy: ``N E`` header, then ``i j [w]`` (1-based)
edgelist    ``.edgelist .edges .el``        ``nx.write_edgelist`` / ``write_weighted_edgelist``: ``u v``,
                                            ``u v w`` or ``u v {'weight': w, ...}``; any labels
adjlist     ``.adjlist .adj``               ``nx.write_adjlist``: ``u v1 v2 ...`` (unweighted)
dimacs      ``.col .clq .dimacs``           DIMACS graph: ``c`` comments, ``p edge N E``, ``e u v``
mtx         ``.mtx .mm``                    MatrixMarket adjacency matrix (coordinate or array)
graphml     ``.graphml``                    GraphML (``nx.write_graphml``), read by ``nx.read_graphml``
gml         ``.gml``                        GML (``nx.write_gml``), read by ``nx.read_gml``
==========  ==============================  =====================================================================

:func:`read_graph_file` picks the format: an explicit ``format=`` wins; else a known extension; else the
content decides (:func:`detect_format`). GraphML (starts with ``<``), GML (``graph [``), MatrixMarket
(``%%MatrixMarket``) and DIMACS (first non-comment line ``p edge``/``p col``) carry a signature. Any
other text is tried as gset, edgelist and adjlist on its first :data:`SNIFF_LINES` lines; a format fits
when its reader accepts them (for a file that short, the whole file; when the first lines of a longer file
fit several formats, the whole file is parsed by each). Detection is stricter than reading a named
format: an edge list keeps one form on every line, and an adjacency list has the shape ``nx.write_adjlist``
gives (every vertex starts exactly one line, and a line lists only vertices whose own lines come later).
Exactly one fit is read; two or more fits that mean different graphs raise a one-line
:class:`CimsimError` naming them and ``--format NAME``; no fit reports the error of the format that read
furthest. ``-`` reads standard input.

Node labels: edgelist, adjlist, GraphML and GML keep the file's labels (integers when every label is
an integer written plainly, ``7`` or ``-3``; strings otherwise) and the answer is given in them. Gset,
DIMACS and MatrixMarket number vertices; the answer uses spin order, except for a Gset file with
``#label K JSON`` lines (as :func:`cimsim.formats.write_gset` writes them), which restore the labels.
"""
from __future__ import annotations

import ast
import json
import math
import os
import re
import shutil
import sys
import tempfile
from array import array
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

from ..errors import CimsimError
from ._text import check_count_fits, iter_lines

__all__ = ["Graph", "GraphFormat", "FORMATS", "ALIASES", "SNIFF_LINES", "read_graph_file", "detect_format",
           "format_names", "label_encoding", "gset_label_lines"]

#: lines (and characters) of a file without signature that detection parses with every line format
SNIFF_LINES = 5000
SNIFF_CHARS = 1 << 20

Lines = Iterable[tuple[int, str]]


@dataclass
class Graph:
    """A graph read from a file: ``n`` vertices, ``edges`` an (E, 3) float array ``(i, j, w)`` (0-based,
    file order, duplicates kept), ``labels[i]`` the file's name of vertex ``i`` (None: numbered vertices),
    the ``format`` it was read as and the ``name`` used in messages."""

    n: int
    edges: np.ndarray
    labels: list | None
    format: str
    name: str


class _ParseError(CimsimError):
    """A reader's error with the line where it stopped (for choosing the closest format)."""

    def __init__(self, msg: str, line: float = 0) -> None:
        super().__init__(msg)
        self.line = line


def _fail(name: str, k: int | None, msg: str, line: float | None = None) -> _ParseError:
    text = f"{name}: line {k}: {msg}" if k is not None else f"{name}: {msg}"
    return _ParseError(text, k if line is None else line)


def _short(tokens) -> str:
    s = " ".join(tokens) if not isinstance(tokens, str) else tokens
    return repr(s[:80])


def _finite(name: str, k: int, text: str) -> float:
    try:
        w = float(text)
    except ValueError:
        raise _fail(name, k, f"weight must be a number, got {text[:40]!r}") from None
    if not math.isfinite(w):
        raise _fail(name, k, f"weight must be finite, got {text[:40]!r}")
    return w


_INT = re.compile(r"-?(?:0|[1-9][0-9]{0,40})\Z")


def _typed_labels(labels: list) -> list:
    """Integers when every label is a plainly written integer (``7``, ``-3``; not ``07`` or ``+7``), else as given."""
    if labels and all(isinstance(v, str) and _INT.match(v) for v in labels):
        return [int(v) for v in labels]
    return labels


def _edges_array(ii, jj, ww) -> np.ndarray:
    count = len(ii)
    edges = np.empty((count, 3))
    if count:
        edges[:, 0] = np.frombuffer(ii, dtype=np.int64)
        edges[:, 1] = np.frombuffer(jj, dtype=np.int64)
        edges[:, 2] = np.frombuffer(ww, dtype=np.float64)
    return edges


# ---------------------------------------------------------------------------------------------- gset
def _json_label(text: str):
    v = json.loads(text)

    def freeze(x):
        if isinstance(x, list):
            return tuple(freeze(y) for y in x)
        if isinstance(x, dict):
            raise ValueError("a label cannot be an object")
        return x

    return freeze(v)


def gset_label_lines(labels) -> list[str]:
    """The ``#label K JSON`` lines :func:`_read_gset` reads back (K 1-based; strings, integers, floats,
    booleans and tuples of them keep their type, any other label is written as its ``str``)."""

    def plain(x):
        if isinstance(x, (bool, np.bool_)):
            return bool(x)
        if isinstance(x, (int, np.integer)):
            return int(x)
        if isinstance(x, (float, np.floating)) and math.isfinite(x):
            return float(x)
        if isinstance(x, str):
            return x
        if isinstance(x, tuple):
            return [plain(y) for y in x]
        return str(x)

    return [f"#label {k} {json.dumps(plain(v), ensure_ascii=False)}" for k, v in enumerate(labels, start=1)]


def _read_gset(lines: Lines, name: str, complete: bool = True, strict: bool = False) -> Graph:
    n = m = -1
    k0 = 0
    count = 0
    last = 0
    ii: array = array("q")
    jj: array = array("q")
    ww: array = array("d")
    labels: dict[int, object] = {}
    for k, line in lines:
        last = k
        t = line.split()
        if not t:
            continue
        if t[0] == "#label":
            if n < 0:
                raise _fail(name, k, "a '#label' line before the 'N E' header")
            parts = line.split(None, 2)
            try:
                if len(parts) != 3:
                    raise ValueError
                v = int(parts[1])
                label = _json_label(parts[2])
                hash(label)
            except (ValueError, TypeError, RecursionError):
                raise _fail(name, k, f"expected '#label K JSON' (K in 1..N), got {_short(line)}") from None
            if not 1 <= v <= n:
                raise _fail(name, k, f"label for vertex {v} out of range 1..{n}")
            if v in labels:
                raise _fail(name, k, f"second label for vertex {v}")
            labels[v] = label
            continue
        if t[0].startswith(("#", "c", "%")):
            continue
        if n < 0:
            try:
                if len(t) < 2:
                    raise ValueError
                n, m = int(t[0]), int(t[1])
            except ValueError:
                raise _fail(name, k, f"header must be 'N E' (vertex and edge counts), got {_short(t)}") from None
            if n < 1 or m < 0:
                raise _fail(name, k, f"header needs N >= 1 and E >= 0, got N = {n}, E = {m}")
            check_count_fits(name, n, "vertices", 48.0, f"line {k}: header declares ")
            k0 = k
            continue
        count += 1
        if count > m:
            raise _fail(name, k, f"header (line {k0}) declares {m} edges but the file has {m + 1} or more edge lines")
        if len(t) not in (2, 3):
            raise _fail(name, k, f"expected 'i j w', got {_short(t)}")
        try:
            i, j = int(t[0]), int(t[1])
        except ValueError:
            raise _fail(name, k, f"vertex numbers must be integers, got {_short(t[:2])}") from None
        w = _finite(name, k, t[2]) if len(t) == 3 else 1.0
        if not (1 <= i <= n and 1 <= j <= n):
            raise _fail(name, k, f"vertex out of range 1..{n}: {i} {j}"[:200])
        if i == j:
            raise _fail(name, k, f"self-loop on vertex {i} (a self-loop cannot be cut; remove it)")
        ii.append(i - 1)
        jj.append(j - 1)
        ww.append(w)
    if n < 0:
        raise _fail(name, None, "no 'N E' header (the file has only comments)", last + 1)
    if complete:
        if count != m:
            raise _fail(name, None, f"header declares {m} edges but the file has {count} edge lines", last + 1)
        if labels and len(labels) != n:
            raise _fail(name, None, f"'#label' lines name {len(labels)} of the {n} vertices (all or none)", last + 1)
    out = None
    if labels and complete:
        out = [labels[v] for v in range(1, n + 1)]
        if len(set(out)) != n:
            raise _fail(name, None, "two vertices have the same '#label'", last + 1)
    return Graph(n, _edges_array(ii, jj, ww), out, "gset", name)


# ---------------------------------------------------------------------------------------------- edgelist
_SHAPES = ("'u v'", "'u v w'", "'u v {data}'")


def _read_edgelist(lines: Lines, name: str, complete: bool = True, strict: bool = False) -> Graph:
    index: dict[str, int] = {}
    ii: array = array("q")
    jj: array = array("q")
    ww: array = array("d")
    shape0 = -1
    k0 = 0
    last = 0
    for k, line in lines:
        last = k
        line = line.split("#", 1)[0]
        parts = line.split(None, 2)
        if not parts:
            continue
        if len(parts) < 2:
            raise _fail(name, k, f"expected 'u v', 'u v w' or 'u v {{data}}', got {_short(parts)}")
        u, v = parts[0], parts[1]
        rest = parts[2].strip() if len(parts) == 3 else ""
        if not rest:
            shape, w = 0, 1.0
        elif rest.startswith("{"):
            shape = 2
            try:
                d = ast.literal_eval(rest)
            except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                raise _fail(name, k, f"edge data must be a Python dict literal, got {rest[:60]!r}") from None
            if not isinstance(d, dict):
                raise _fail(name, k, f"edge data must be a dict, got {rest[:60]!r}")
            w = d.get("weight", 1.0)
            if isinstance(w, bool) or not isinstance(w, (int, float)):
                raise _fail(name, k, f"the 'weight' must be a number, got {str(w)[:40]!r}")
            try:
                w = float(w)
            except OverflowError:
                w = math.inf
            if not math.isfinite(w):
                raise _fail(name, k, f"weight must be finite, got {str(d.get('weight'))[:40]!r}")
        else:
            if len(rest.split()) != 1:
                raise _fail(name, k, f"expected 'u v', 'u v w' or 'u v {{data}}', got {_short(line.strip())}")
            shape, w = 1, _finite(name, k, rest)
        if shape0 < 0:
            shape0, k0 = shape, k
        elif strict and shape != shape0:
            raise _fail(name, k, f"{_SHAPES[shape]} where line {k0} has {_SHAPES[shape0]} (an edge list keeps one form)", -1)
        if u == v:
            raise _fail(name, k, f"self-loop on vertex {u[:40]} (a self-loop cannot be cut; remove it)")
        a = index.setdefault(u, len(index))
        b = index.setdefault(v, len(index))
        ii.append(a)
        jj.append(b)
        ww.append(w)
    if not index:
        raise _fail(name, None, "no edges (an edge list names vertices only through its edges)", last + 1)
    return Graph(len(index), _edges_array(ii, jj, ww), _typed_labels(list(index)), "edgelist", name)


# ---------------------------------------------------------------------------------------------- adjlist
def _read_adjlist(lines: Lines, name: str, complete: bool = True, strict: bool = False) -> Graph:
    index: dict[str, int] = {}
    own: dict[str, int] = {}     # node -> the line that starts with it
    pairs: set[tuple[int, int]] = set()
    ii: array = array("q")
    jj: array = array("q")
    last = 0
    for k, line in lines:
        last = k
        t = line.split("#", 1)[0].split()
        if not t:
            continue
        u = t[0]
        if strict and u in own:
            raise _fail(name, k, f"vertex {u[:40]} already has its line ({own[u]})", -1)
        own.setdefault(u, k)
        a = index.setdefault(u, len(index))
        for v in t[1:]:
            if v == u:
                raise _fail(name, k, f"self-loop on vertex {u[:40]} (a self-loop cannot be cut; remove it)")
            if strict and v in own and own[v] < k:
                raise _fail(name, k, f"neighbour {v[:40]} already had its line ({own[v]})", -1)
            b = index.setdefault(v, len(index))
            key = (a, b) if a < b else (b, a)
            if key not in pairs:
                pairs.add(key)
                ii.append(a)
                jj.append(b)
    if not index:
        raise _fail(name, None, "no vertices", last + 1)
    if strict and complete:
        missing = next((v for v in index if v not in own), None)
        if missing is not None:
            raise _fail(name, None, f"vertex {missing[:40]} has no line of its own", -1)
    ww = array("d", bytes(8 * len(ii)))
    edges = _edges_array(ii, jj, ww)
    edges[:, 2] = 1.0
    return Graph(len(index), edges, _typed_labels(list(index)), "adjlist", name)


# ---------------------------------------------------------------------------------------------- DIMACS
def _read_dimacs(lines: Lines, name: str, complete: bool = True, strict: bool = False) -> Graph:
    n: int | None = None
    m = 0
    uu: array = array("q")
    vv: array = array("q")
    head = 0
    last = 0
    for k, line in lines:
        last = k
        t = line.split()
        if not t or t[0] == "c":
            continue
        if t[0] == "p":
            if n is not None:
                raise _fail(name, k, "second 'p' header")
            try:
                if len(t) != 4 or t[1] not in ("edge", "edges", "col"):
                    raise ValueError
                n, m = int(t[2]), int(t[3])
                if n < 1 or m < 0:
                    raise ValueError
            except ValueError:
                raise _fail(name, k, f"header must be 'p edge N E' with N >= 1, got {_short(t)}") from None
            check_count_fits(name, n, "vertices", 48.0, f"line {k}: header declares ")
            head = k
        elif t[0] == "e":
            if n is None:
                raise _fail(name, k, "edge before the 'p edge N E' header")
            try:
                if len(t) != 3:
                    raise ValueError
                u, v = int(t[1]), int(t[2])
            except ValueError:
                raise _fail(name, k, f"expected 'e u v' with integer vertices, got {_short(t)}") from None
            if not (1 <= u <= n and 1 <= v <= n):
                raise _fail(name, k, f"vertex out of range 1..{n}: {u} {v}"[:200])
            if u == v:
                raise _fail(name, k, f"self-loop on vertex {u}")
            if len(uu) >= 2 * m:
                raise _fail(name, k, f"header (line {head}) declares {m} edges but the file has {len(uu) + 1} or more")
            uu.append(u - 1)
            vv.append(v - 1)
        else:
            raise _fail(name, k, f"expected a 'c', 'p' or 'e' line, got {_short(t)}")
    if n is None:
        raise _fail(name, None, "missing 'p edge N E' header", last + 1)
    count = len(uu)
    # many published files list each edge once but count both directions, or vice versa
    if complete and count != m and not (count * 2 == m or m * 2 == count):
        raise _fail(name, head, f"header declares {m} edges but the file has {count}", last + 1)
    ww = array("d", bytes(8 * count))
    edges = _edges_array(uu, vv, ww)
    edges[:, 2] = 1.0
    return Graph(n, edges, None, "dimacs", name)


# ---------------------------------------------------------------------------------------------- MatrixMarket
def _read_mtx(lines: Lines, name: str, complete: bool = True, strict: bool = False) -> Graph:
    it = iter(lines)
    first = next(it, None)
    if first is None:
        raise _fail(name, None, "empty file")
    k, line = first
    h = line.lower().split()
    if len(h) != 5 or h[0] != "%%matrixmarket" or h[1] != "matrix":
        raise _fail(name, k, "expected a '%%MatrixMarket matrix coordinate|array real|integer|pattern "
                             f"general|symmetric' header, got {_short(line)}")
    layout, field, symmetry = h[2], h[3], h[4]
    if layout not in ("coordinate", "array") or field not in ("real", "integer", "pattern", "double") \
            or symmetry not in ("general", "symmetric") or (layout == "array" and field == "pattern"):
        raise _fail(name, k, f"a graph needs a real, integer or pattern matrix, general or symmetric; got {' '.join(h[2:])!r}")
    n = -1
    nnz = 0
    head = 0
    count = 0
    last = k
    ii: array = array("q")
    jj: array = array("q")
    ww: array = array("d")
    row = col = 0  # array layout: next position (column-major)
    for k, line in it:
        last = k
        t = line.split()
        if not t or t[0].startswith("%"):
            continue
        if n < 0:
            try:
                if len(t) != (3 if layout == "coordinate" else 2):
                    raise ValueError
                r, c = int(t[0]), int(t[1])
                nnz = int(t[2]) if layout == "coordinate" else 0
            except ValueError:
                want = "'ROWS COLS ENTRIES'" if layout == "coordinate" else "'ROWS COLS'"
                raise _fail(name, k, f"size line must be {want}, got {_short(t)}") from None
            if r != c or r < 1 or nnz < 0:
                raise _fail(name, k, f"an adjacency matrix is square with N >= 1, got {r} x {c}")
            n = r
            check_count_fits(name, n, "vertices", 48.0, f"line {k}: size line declares ")
            if layout == "array":
                nnz = n * n if symmetry == "general" else n * (n + 1) // 2
                check_count_fits(name, nnz, "matrix entries", 8.0, f"line {k}: size line declares ")
            head = k
            continue
        if layout == "coordinate":
            count += 1
            if count > nnz:
                raise _fail(name, k, f"size line (line {head}) declares {nnz} entries but the file has more")
            want = 2 if field == "pattern" else 3
            if len(t) != want:
                raise _fail(name, k, f"expected {'i j' if want == 2 else 'i j value'}, got {_short(t)}")
            try:
                i, j = int(t[0]), int(t[1])
            except ValueError:
                raise _fail(name, k, f"indices must be integers, got {_short(t[:2])}") from None
            if not (1 <= i <= n and 1 <= j <= n):
                raise _fail(name, k, f"index out of range 1..{n}: {i} {j}"[:200])
            w = 1.0 if field == "pattern" else _finite(name, k, t[2])
            entries = [(i - 1, j - 1, w)]
        else:
            entries = []
            for tok in t:
                count += 1
                if count > nnz:
                    raise _fail(name, k, f"size line (line {head}) declares {nnz} values but the file has more")
                entries.append((row, col, _finite(name, k, tok)))
                row += 1
                if row == n:
                    col += 1
                    row = col if symmetry == "symmetric" else 0
        for i, j, w in entries:
            if i == j:
                if w != 0:
                    raise _fail(name, k, f"diagonal entry ({i + 1}, {i + 1}) is a self-loop (a self-loop cannot be cut)")
                continue
            if w == 0:
                continue
            ii.append(i)
            jj.append(j)
            ww.append(w)
    if n < 0:
        raise _fail(name, None, "missing the size line", last + 1)
    if complete and count != nnz:
        raise _fail(name, None, f"size line (line {head}) declares {nnz} entries but the file has {count}", last + 1)
    edges = _edges_array(ii, jj, ww)
    if symmetry == "general" and edges.shape[0]:
        edges = _symmetric_part(edges, name)
    return Graph(n, edges, None, "mtx", name)


def _symmetric_part(edges: np.ndarray, name: str) -> np.ndarray:
    """A general matrix's graph: ``(i, j)`` and ``(j, i)`` are one edge and must hold the same weight; an entry
    whose mirror is absent is an edge of its own (an upper or lower triangle stored as 'general')."""
    import scipy.sparse as sp

    i, j, w = edges[:, 0].astype(np.int64), edges[:, 1].astype(np.int64), edges[:, 2]
    n = int(max(i.max(), j.max())) + 1
    A = sp.coo_matrix((w, (i, j)), shape=(n, n)).tocsr()
    A.sum_duplicates()
    U = sp.triu(A, k=1).tocsr()
    L = sp.tril(A, k=-1).T.tocsr()
    D = (U.multiply(L != 0) - L.multiply(U != 0)).tocsr()
    if D.nnz and np.abs(D.data).max() > 1e-12 * max(1.0, float(np.abs(A.data).max())):
        raise _fail(name, None, "the 'general' matrix is not symmetric: an edge (i, j) and its mirror (j, i) differ")
    G = (U + L - L.multiply(U != 0)).tocoo()
    return np.column_stack([G.row, G.col, G.data]).astype(np.float64)


# ---------------------------------------------------------------------------------------------- networkx readers
def _check_size(path: Path, name: str, factor: float) -> None:
    try:
        size = path.stat().st_size
    except OSError:
        return  # the reader reports it
    from ..memory import check_fits

    check_fits(factor * size, f"{name}: reading a {size / 2**20:.3g} MiB file into memory",
               "convert it to an edge list (nx.write_edgelist), which is read line by line")


def _from_networkx(G, name: str, fmt: str) -> Graph:
    nodes = list(G.nodes)
    if not nodes:
        raise _fail(name, None, "the graph has no vertices")
    index = {v: k for k, v in enumerate(nodes)}
    rows = []
    for u, v, d in G.edges(data=True):
        if u == v:
            raise _fail(name, None, f"self-loop on vertex {str(u)[:40]} (a self-loop cannot be cut; remove it)")
        w = d.get("weight", 1.0)
        try:
            if isinstance(w, bool):
                raise ValueError
            w = float(w)
        except (TypeError, ValueError, OverflowError):
            raise _fail(name, None, f"edge {str(u)[:30]} - {str(v)[:30]}: weight must be a number, got {str(w)[:40]!r}") from None
        if not math.isfinite(w):
            raise _fail(name, None, f"edge {str(u)[:30]} - {str(v)[:30]}: weight must be finite, got {w}")
        rows.append((index[u], index[v], w))
    edges = np.asarray(rows, dtype=np.float64).reshape(-1, 3)
    return Graph(len(nodes), edges, _typed_labels(nodes), fmt, name)


def _one_line(exc: BaseException) -> str:
    msg = " ".join(str(exc).split())
    return (msg[:160] + "...") if len(msg) > 160 else (msg or type(exc).__name__)


def _read_graphml(path: Path, name: str) -> Graph:
    import networkx as nx

    _check_size(path, name, 40.0)
    try:
        G = nx.read_graphml(path)
    except OSError as exc:
        from ._text import file_error

        raise file_error(Path(name), exc) from None
    except Exception as exc:  # the XML parser and networkx raise many kinds  # noqa: BLE001
        raise CimsimError(f"{name}: not a GraphML file networkx can read ({_one_line(exc)})") from None
    return _from_networkx(G, name, "graphml")


def _read_gml(path: Path, name: str) -> Graph:
    import networkx as nx

    _check_size(path, name, 40.0)
    try:
        try:
            G = nx.read_gml(path, label="label")
        except nx.NetworkXError as exc:
            if "'label'" not in str(exc):
                raise
            G = nx.read_gml(path, label="id")  # nodes without labels are named by their ids
    except OSError as exc:
        from ._text import file_error

        raise file_error(Path(name), exc) from None
    except Exception as exc:  # noqa: BLE001
        raise CimsimError(f"{name}: not a GML file networkx can read ({_one_line(exc)})") from None
    return _from_networkx(G, name, "gml")


# ---------------------------------------------------------------------------------------------- registry
@dataclass(frozen=True)
class GraphFormat:
    """A graph file format: ``extensions`` (lower case, with the dot) choose it; ``signature(head)`` says
    whether the first lines carry its mark (None: detected by parsing, see :func:`detect_format`);
    ``read(path, name)`` reads a whole file; ``parse(lines, name, complete, strict)`` (line formats) reads
    numbered lines (``complete``: whether they are the whole file, tested after the last one)."""

    name: str
    extensions: tuple[str, ...]
    description: str
    read: Callable[[Path, str], Graph]
    signature: Callable[[list[str]], bool] | None = None
    parse: Callable[..., Graph] | None = None


def _line_reader(parse) -> Callable[[Path, str], Graph]:
    def read(path: Path, name: str) -> Graph:
        return parse(iter_lines(path, name=name), name)

    return read


def _data_lines(head: list[str], comments: tuple[str, ...] = ()) -> list[str]:
    return [ln.strip() for ln in head if ln.strip() and not ln.strip().startswith(comments)]


def _is_graphml(head: list[str]) -> bool:
    rows = _data_lines(head)
    return bool(rows) and rows[0].startswith("<")


def _is_gml(head: list[str]) -> bool:
    toks = " ".join(_data_lines(head, ("#",))[:4]).replace("[", " [ ").split()
    while len(toks) >= 2 and toks[0] in ("Creator", "Version"):
        toks = toks[2:]
    return len(toks) >= 2 and toks[0] == "graph" and toks[1] == "["


def _is_mtx(head: list[str]) -> bool:
    rows = _data_lines(head)
    return bool(rows) and rows[0].lower().startswith("%%matrixmarket")


def _is_dimacs(head: list[str]) -> bool:
    for ln in head:
        t = ln.split()
        if not t or t[0] == "c":
            continue
        return t[0] == "p" and len(t) >= 2 and t[1] in ("edge", "edges", "col")
    return False


FORMATS: dict[str, GraphFormat] = {
    "gset": GraphFormat("gset", (".gset", ".rud", ".rudy"), "Gset/rudy: 'N E' header, 'i j [w]' lines, 1-based",
                        _line_reader(_read_gset), parse=_read_gset),
    "edgelist": GraphFormat("edgelist", (".edgelist", ".edges", ".el"),
                            "networkx edge list: 'u v', 'u v w' or 'u v {data}' per line, any labels",
                            _line_reader(_read_edgelist), parse=_read_edgelist),
    "adjlist": GraphFormat("adjlist", (".adjlist", ".adj"), "networkx adjacency list: 'u v1 v2 ...' per line",
                           _line_reader(_read_adjlist), parse=_read_adjlist),
    "dimacs": GraphFormat("dimacs", (".col", ".clq", ".dimacs"), "DIMACS graph: 'p edge N E', 'e u v' lines",
                          _line_reader(_read_dimacs), _is_dimacs, _read_dimacs),
    "mtx": GraphFormat("mtx", (".mtx", ".mm"), "MatrixMarket adjacency matrix", _line_reader(_read_mtx), _is_mtx,
                       _read_mtx),
    "graphml": GraphFormat("graphml", (".graphml",), "GraphML (networkx reader)", _read_graphml, _is_graphml),
    "gml": GraphFormat("gml", (".gml",), "GML (networkx reader)", _read_gml, _is_gml),
}

#: other names accepted by ``format=``
ALIASES = {"rudy": "gset", "edges": "edgelist", "weighted_edgelist": "edgelist", "weighted-edgelist": "edgelist",
           "adjacency": "adjlist", "col": "dimacs", "clq": "dimacs", "matrixmarket": "mtx", "mm": "mtx"}


def format_names() -> str:
    return ", ".join(FORMATS)


def _format_by_name(fmt: object) -> GraphFormat:
    key = str(fmt).strip().lower()
    key = ALIASES.get(key, key)
    if key not in FORMATS:
        raise CimsimError(f"unknown graph format {str(fmt)[:40]!r}; choose one of {format_names()}")
    return FORMATS[key]


def _by_extension(path: Path) -> GraphFormat | None:
    suffix = path.suffix.lower()
    for f in FORMATS.values():
        if suffix in f.extensions:
            return f
    return None


class _Prefix:
    """The first lines of a file (at most SNIFF_LINES, and about SNIFF_CHARS), streamed anew each time it is
    iterated (nothing is kept); true, once iterated to its end, when those lines were the whole file."""

    def __init__(self, path: Path, name: str, lines: int = SNIFF_LINES) -> None:
        self.path, self.name, self.lines = path, name, lines
        self.whole = False

    def __iter__(self) -> Iterator[tuple[int, str]]:
        gen = iter_lines(self.path, name=self.name)
        count = chars = 0
        self.whole = False
        try:
            for item in gen:
                if count >= self.lines or chars > SNIFF_CHARS:
                    return
                count += 1
                chars += len(item[1]) + 1
                yield item
            self.whole = True
        finally:
            gen.close()

    def __bool__(self) -> bool:
        return self.whole


def _same_graph(a: Graph, b: Graph) -> bool:
    if a.n != b.n or a.labels is None or b.labels is None or a.edges.shape != b.edges.shape:
        return False

    def canon(g: Graph):
        lab = [repr(v) for v in g.labels]
        return sorted(tuple(sorted((lab[int(i)], lab[int(j)]))) + (float(w),) for i, j, w in g.edges)

    return sorted(map(repr, a.labels)) == sorted(map(repr, b.labels)) and canon(a) == canon(b)


def detect_format(path: str | Path, name: str | None = None) -> tuple[GraphFormat, Graph | None]:
    """The format of a file without a known extension (see the module docstring), and the graph when
    detection already read all of it. Raises the one-line ambiguity or no-fit errors."""
    p = Path(path)
    name = str(path) if name is None else name
    texts = [ln for _, ln in _Prefix(p, name, 50)]
    for f in FORMATS.values():
        if f.signature is not None and f.signature(texts):
            return f, None
    fits: list[tuple[GraphFormat, Graph]] = []
    errors: list[tuple[float, int, GraphFormat, _ParseError]] = []
    complete = False
    for rank, f in enumerate(FORMATS.values()):
        if f.signature is not None or f.parse is None:
            continue
        head = _Prefix(p, name)
        try:
            fits.append((f, f.parse(head, name, complete=head, strict=True)))
            complete = bool(head)  # a fit read all of its lines: whether they were the whole file
        except _ParseError as exc:
            errors.append((exc.line, -rank, f, exc))
    if len(fits) > 1 and not complete:
        # the first lines fit several formats: the whole file decides (read once per candidate, streaming)
        again: list[tuple[GraphFormat, Graph]] = []
        for f, _ in fits:
            try:
                again.append((f, f.parse(iter_lines(p, name=name), name, complete=True, strict=True)))
            except _ParseError as exc:
                errors.append((exc.line, -list(FORMATS).index(f.name), f, exc))
        if not again:
            errors = errors[-len(fits):]
        fits, complete = again, True
    if len(fits) == 1:
        return fits[0][0], (fits[0][1] if complete else None)
    if len(fits) > 1:
        if complete and all(_same_graph(fits[0][1], g) for _, g in fits[1:]):
            return fits[0][0], fits[0][1]
        names = [f.name for f, _ in fits]
        raise CimsimError(f"{name}: the file fits more than one graph format ({' and '.join(names)}) with different "
                          f"graphs; choose one with --format NAME (e.g. --format {names[0]}; format= in Python)")
    _, _, f, exc = max(errors, key=lambda e: (e[0], e[1]))
    raise CimsimError(f"{exc} (read as {f.name}, the closest: the content fits none of "
                      f"{', '.join(g.name for _, _, g, _ in sorted(errors, key=lambda e: -e[1]))}; "
                      "--format NAME picks one)")


@contextmanager
def _stdin_file() -> Iterator[Path]:
    """Standard input copied (in chunks, never whole in memory) to a temporary file, removed afterwards."""
    src = getattr(sys.stdin, "buffer", None)
    fd, tmp = tempfile.mkstemp(prefix="cimsim-stdin-")
    try:
        with os.fdopen(fd, "wb") as out:
            if src is not None:
                shutil.copyfileobj(src, out, 1 << 20)
            else:  # a text stream (e.g. replaced by a test harness)
                for chunk in iter(lambda: sys.stdin.read(1 << 20), ""):
                    out.write(chunk.encode("utf-8", "surrogateescape"))
        yield Path(tmp)
    except OSError as exc:
        raise CimsimError(f"<stdin>: cannot read ({exc.strerror or type(exc).__name__})") from None
    finally:
        try:
            os.unlink(tmp)
        except OSError:
            pass


def read_graph_file(path: str | Path, format: str | None = None) -> Graph:
    """Read a graph file in any format of :data:`FORMATS` (``path`` ``-`` reads standard input).

    ``format`` (a name of :data:`FORMATS` or :data:`ALIASES`) wins; else the extension decides; else the
    content (:func:`detect_format`). Every problem raises a one-line :class:`CimsimError`.
    """
    fmt = _format_by_name(format) if format is not None else None
    if str(path) == "-":
        with _stdin_file() as tmp:
            return _read(tmp, "<stdin>", fmt)
    return _read(Path(path), str(path), fmt)


def _read(p: Path, name: str, fmt: GraphFormat | None) -> Graph:
    if fmt is None:
        fmt = _by_extension(p)
    if fmt is None:
        fmt, graph = detect_format(p, name)
        if graph is not None:
            return graph
    try:
        return fmt.read(p, name)
    except _ParseError as exc:
        raise CimsimError(str(exc)) from None


def label_encoding(enc, graph: Graph, spins_per_vertex: int | None = None):
    """``enc`` answering in the graph file's labels (when it has any), with ``info["format"]`` recorded.

    ``spins_per_vertex=k`` (colouring) labels spin ``v k + c`` as ``(label, c)``."""
    enc.info["format"] = graph.format
    if graph.labels is None:
        return enc
    from ._labels import with_node_labels

    spins = None
    if spins_per_vertex is not None:
        spins = [(v, c) for v in graph.labels for c in range(spins_per_vertex)]
    return with_node_labels(enc, graph.labels, spins)
