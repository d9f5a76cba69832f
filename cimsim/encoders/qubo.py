"""QUBO text files: read and write ``f(x) = sum_k q_k x_{i_k} x_{j_k} + offset`` over ``x`` in {0, 1}^N.

The cimsim QUBO format (``.qubo``; UTF-8 text)::

    # MaxCut of a triangle as a QUBO          <- '#' starts a comment (whole line or after the data)
    qubo 3 0.0                                 <- header: 'qubo N [OFFSET]'
    0 0 -2                                     <- 'i j q' lines, 0-based: i == j is the linear term q x_i
    1 1 -2
    2 2 -2
    0 1 2                                      <- i != j is the quadratic term q x_i x_j
    0 2 2
    1 2 2

* Indices are 0-based integers in ``0..N-1``; ``q`` is any finite real (``1e-3``, ``-2.5``, ``inf`` is
  refused). Entries may come in any order; repeated ``(i, j)`` pairs and ``(i, j)`` / ``(j, i)`` add up.
* ``OFFSET`` (default 0) is a constant added to every ``f(x)``.
* Variables with no entry are allowed (they do not change ``f``).

The qbsolv / D-Wave ``.qubo`` format is read too (sniffed from its ``p qubo`` header): ``c`` comment lines,
a header ``p qubo TOPOLOGY MAXNODES NNODES NCOUPLERS``, then NNODES ``i i q`` diagonal lines and NCOUPLERS
``i j q`` lines (0-based; the counts are checked); a comment ``c offset = K`` (which cimsim writes, as the
format has no constant) sets the offset. :func:`write_qubo` writes either format.

With ``s = 2x - 1`` the QUBO maps exactly to an Ising model (:func:`cimsim.qubo.qubo_to_ising`), so for every
``x``, ``f(x) == H(2x - 1)``: ``cimsim solve qubo model.qubo`` (or ``cimsim solve ising model.qubo``) minimises
``f`` and reports ``x``.

The problem ``qubo`` (:func:`encode_qubo`) also takes a QUBO in memory: ``cimsim.solve("qubo", Q)`` or
``cimsim.solve(Q)`` with ``Q`` a ``{(u, v): q}`` dictionary (dimod's form; any hashable labels, kept in the
answer) or a square matrix.
Couplings are assembled sparse (CSR) and stored dense only when :meth:`IsingModel.from_couplings` decides so
(small or densely filled models).
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from ..errors import CimsimError
from ..memory import check_fits
from ..model import IsingModel
from ..qubo import ising_to_qubo, qubo_to_ising
from . import Encoded, Solution, read_text

__all__ = ["QuboData", "read_qubo", "parse_qubo", "load_qubo_model", "write_qubo", "qubo_entries", "QUBO_FORMATS",
           "encode_qubo", "from_file", "from_data"]

QUBO_FORMATS = ("cimsim", "qbsolv")


class QuboData:
    """A QUBO as read from a file: ``n`` variables, upper-triangular CSR ``Q`` (diagonal = linear terms) and ``offset``.

    ``value(x)`` evaluates ``f`` for a batch ``x`` of shape (R, N) or (N,) of 0/1 values (float64).
    """

    def __init__(self, n: int, Q: sp.csr_matrix, offset: float) -> None:
        self.n = int(n)
        self.Q = Q
        self.offset = float(offset)

    def value(self, x: np.ndarray) -> np.ndarray | float:
        X = np.atleast_2d(np.asarray(x, dtype=np.float64))
        f = np.einsum("ij,ij->i", X, np.asarray((self.Q @ X.T).T)) + self.offset
        return f if np.ndim(x) == 2 else float(f[0])

    def model(self, storage: str = "auto") -> IsingModel:
        """The exact Ising model: ``f(x) == H(2x - 1)`` for every ``x``."""
        return qubo_to_ising(self.Q, None, self.offset, storage=storage)


def _number(tok: str, where: str) -> float:
    try:
        v = float(tok)
    except ValueError:
        raise CimsimError(f"{where}: expected a number, got {tok!r}") from None
    if not math.isfinite(v):
        raise CimsimError(f"{where}: value must be finite, got {tok!r}")
    return v


def _index(tok: str, n: int, where: str) -> int:
    try:
        i = int(tok)
    except ValueError:
        raise CimsimError(f"{where}: variable index must be an integer, got {tok!r}") from None
    if not 0 <= i < n:
        raise CimsimError(f"{where}: variable index {i} out of range 0..{n - 1}")
    return i


def parse_qubo(text: str, name: str = "<qubo>") -> QuboData:
    """Parse QUBO text in the cimsim or qbsolv format (see the module docstring); errors name the line."""
    lines = text.lstrip("\ufeff").splitlines()
    rows: list[tuple[int, list[str]]] = []
    for k, line in enumerate(lines, start=1):
        t = line.split("#", 1)[0].split()
        if t:
            rows.append((k, t))
    if not rows:
        raise CimsimError(f"{name}: no QUBO header ('qubo N [OFFSET]' or 'p qubo ...')")
    qbsolv = any(t[0] == "p" for _, t in rows) or rows[0][1][0] == "c"
    offset = 0.0
    if qbsolv:
        for k, t in rows:  # cimsim's own qbsolv writer keeps the constant in a comment: 'c offset = K'
            if t[0] == "c" and len(t) == 4 and t[1:3] == ["offset", "="]:
                offset = _number(t[3], f"{name}: line {k}: offset")
        rows = [(k, t) for k, t in rows if t[0] != "c"]
        if not rows or rows[0][1][0] != "p":
            raise CimsimError(f"{name}: line {rows[0][0] if rows else 1}: expected the 'p qubo' header first")
    k0, head = rows[0]
    where0 = f"{name}: line {k0}"
    expect: tuple[int, int] | None = None
    if qbsolv:
        if len(head) != 6 or head[1] != "qubo":
            raise CimsimError(f"{where0}: header must be 'p qubo TOPOLOGY MAXNODES NNODES NCOUPLERS', got {' '.join(head)!r}")
        try:
            n, nodes, couplers = int(head[3]), int(head[4]), int(head[5])
        except ValueError:
            raise CimsimError(f"{where0}: header counts must be integers, got {' '.join(head)!r}") from None
        if n < 1 or nodes < 0 or couplers < 0:
            raise CimsimError(f"{where0}: header needs MAXNODES >= 1 and non-negative counts")
        expect = (nodes, couplers)
    else:
        if head[0] != "qubo" or len(head) not in (2, 3):
            raise CimsimError(f"{where0}: header must be 'qubo N [OFFSET]', got {' '.join(head)!r}")
        try:
            n = int(head[1])
        except ValueError:
            raise CimsimError(f"{where0}: N must be an integer, got {head[1]!r}") from None
        if n < 1:
            raise CimsimError(f"{where0}: N must be at least 1, got {n}")
        if len(head) == 3:
            offset = _number(head[2], f"{where0}: OFFSET")
    check_fits(48.0 * n, f"{where0}: a QUBO of {n} variables", "the header count is too large for this machine")
    body = rows[1:]
    m = len(body)
    I = np.empty(m, dtype=np.int64)
    Jc = np.empty(m, dtype=np.int64)
    V = np.empty(m, dtype=np.float64)
    diag = 0
    for r, (k, t) in enumerate(body):
        where = f"{name}: line {k}"
        if len(t) != 3:
            raise CimsimError(f"{where}: expected 'i j value', got {' '.join(t)!r}")
        i, j = _index(t[0], n, where), _index(t[1], n, where)
        v = _number(t[2], where)
        if qbsolv and i == j and r != diag:
            raise CimsimError(f"{where}: qbsolv format lists the diagonal ('i i q') lines before the couplers")
        diag += i == j
        I[r], Jc[r], V[r] = min(i, j), max(i, j), v
    if expect is not None and (diag, m - diag) != expect:
        raise CimsimError(f"{where0}: header declares {expect[0]} diagonal and {expect[1]} coupler lines, "
                          f"the file has {diag} and {m - diag}")
    Q = sp.coo_matrix((V, (I, Jc)), shape=(n, n)).tocsr()
    Q.sum_duplicates()
    Q.sort_indices()
    return QuboData(n, Q, offset)


def read_qubo(path: str | Path) -> QuboData:
    """Read a QUBO file (cimsim or qbsolv format, sniffed); :class:`CimsimError` with the line on bad input."""
    return parse_qubo(read_text(path), str(path))


def load_qubo_model(path: str | Path, storage: str = "auto") -> IsingModel:
    """The Ising model of a QUBO file (``f(x) == H(2x - 1)``)."""
    return read_qubo(path).model(storage)


def qubo_entries(model: IsingModel) -> tuple[int, np.ndarray, np.ndarray, np.ndarray, float]:
    """``(n, i, j, q, offset)`` with ``i <= j``: the QUBO of ``model`` as upper-triangular entries.

    ``f(x) = sum q x_i x_j + offset`` equals ``H(2x - 1)`` exactly (up to float rounding); linear terms
    are the ``i == j`` entries. Zero entries are dropped; a sparse model stays sparse.
    """
    Q, c, k = ising_to_qubo(model)  # x^T Q x + c^T x + k, Q symmetric with zero diagonal
    U = sp.triu(sp.csr_matrix(Q), k=1).tocoo()
    nz = np.flatnonzero(c)
    i = np.concatenate([nz, U.row]).astype(np.int64)
    j = np.concatenate([nz, U.col]).astype(np.int64)
    q = np.concatenate([c[nz], 2.0 * U.data])
    keep = q != 0
    return model.n, i[keep], j[keep], q[keep], float(k)


def write_qubo(path: str | Path, model: IsingModel, *, fmt: str = "cimsim", comment: str | None = None) -> Path:
    """Write ``model`` as a QUBO file (``f(x) = H(2x - 1)``) in the cimsim (default) or qbsolv format.

    Values are written with 17 significant digits, so reading the file back reproduces every
    coefficient to the last bit of the conversion. The qbsolv format has no offset field; it is written
    as a ``c offset = K`` comment, which qbsolv ignores and :func:`read_qubo` reads back.
    """
    from ..atomic import write_text_atomic

    if fmt not in QUBO_FORMATS:
        raise CimsimError(f"unknown QUBO format {fmt!r}; choose one of {', '.join(QUBO_FORMATS)}")
    n, i, j, q, k = qubo_entries(model)
    out: list[str] = []
    mark = "#" if fmt == "cimsim" else "c"
    out.append(f"{mark} QUBO f(x) = sum q x_i x_j + offset, x in {{0,1}}, 0-based; written by cimsim")
    if comment:
        out.extend(f"{mark} {line}" for line in comment.splitlines())
    d = i == j
    if fmt == "cimsim":
        out.append(f"qubo {n} {k:.17g}")
        order = np.lexsort((j, i))
        out.extend(f"{i[r]} {j[r]} {q[r]:.17g}" for r in order)
    else:
        out.append(f"c offset = {k:.17g}")
        out.append(f"p qubo 0 {n} {int(d.sum())} {int((~d).sum())}")
        out.extend(f"{i[r]} {i[r]} {q[r]:.17g}" for r in np.flatnonzero(d))
        off = np.flatnonzero(~d)
        off = off[np.lexsort((j[off], i[off]))]
        out.extend(f"{i[r]} {j[r]} {q[r]:.17g}" for r in off)
    p = Path(path)
    write_text_atomic(p, "\n".join(out) + "\n")
    return p


def encode_qubo(Q: object, offset: float = 0.0, *, storage: str = "auto") -> Encoded:
    """The problem ``qubo``: minimise ``f(x) = sum q x_u x_v + offset`` over x in {0, 1}.

    ``Q`` is a ``{(u, v): q}`` dictionary (dimod / neal / qbsolv form: ``(u, u)`` linear, ``(u, v)`` and
    ``(v, u)`` both add; labels any hashable, numbered in order of first appearance), a square matrix
    (``x^T Q x``, any triangle) or a :class:`QuboData`. The objective is ``f(x)``; the answer holds ``x``
    (0/1 per variable, in the model's order) and, when the variables have labels, ``sample``:
    ``{label: 0 or 1}``.
    """
    if isinstance(Q, QuboData):
        model = Q.model(storage)
    else:
        model = qubo_to_ising(Q, None, offset, storage=storage)
    labels = model.labels

    def decode(spins: np.ndarray) -> Solution:
        x = [int(v > 0) for v in np.asarray(spins)]
        ans: dict = {"x": x}
        if labels is not None:
            ans["sample"] = dict(zip(labels, x))
        return Solution(model.energy(spins), True, ans)

    info = model.to_dict()
    if labels is not None:
        info["labels"] = [str(v) for v in labels]
    return Encoded("qubo", model, decode, "min", "f(x)", info)


#: the options ``from_file`` accepts (the command line's ``-o KEY=VALUE``)
OPTIONS: tuple[str, ...] = ("storage",)


def from_file(path: str | Path, **options) -> Encoded:
    """The problem ``qubo`` from a ``.qubo`` file (cimsim or qbsolv format); option ``storage``."""
    unknown = set(options) - {"storage"}
    if unknown:
        raise CimsimError(f"qubo: unknown option{'s' if len(unknown) > 1 else ''} {', '.join(sorted(unknown))} (known: storage)")
    return encode_qubo(read_qubo(path), **options)


def from_data(data: object, **options) -> Encoded:
    """The problem ``qubo`` from data in memory: a ``{(u, v): q}`` dictionary or a square matrix
    (options ``offset``, ``storage``)."""
    unknown = set(options) - {"offset", "storage"}
    if unknown:
        raise CimsimError(f"qubo: unknown option{'s' if len(unknown) > 1 else ''} {', '.join(sorted(unknown))} "
                          "(known: offset, storage)")
    return encode_qubo(data, **options)
