"""QUBO <-> Ising: exact conversion between ``f(x) = x^T Q x + c^T x + k`` over x in {0, 1}^N and an
:class:`~cimsim.model.IsingModel` (``H(s) = -1/2 s^T J s - h^T s + offset``) with ``s = 2x - 1``.

``Q`` is a square matrix (dense or scipy.sparse, any triangle, any diagonal) or a dictionary
``{(u, v): q}`` as dimod, neal and qbsolv users write it:

* keys are pairs of any hashable labels; ``(u, u)`` is the linear term ``q x_u``; ``(u, v)`` with
  ``u != v`` is ``q x_u x_v``, and ``(u, v)`` and ``(v, u)`` both add (so ``{(0, 1): 1, (1, 0): 1}``
  means ``2 x_0 x_1``), exactly as in ``dimod.BinaryQuadraticModel.from_qubo``;
* variables are numbered in order of first appearance in the keys (dimod's order too) and their labels
  are kept in :attr:`IsingModel.labels`, so answers can name them;
* ``c`` may then be ``None`` or a ``{label: coefficient}`` dictionary, and ``k`` is the constant.

Sign convention against dimod (also in docs/formats.md): dimod's BQM energy is
``sum_i h_i s_i + sum_{i<j} J_ij s_i s_j + offset``; cimsim's is ``-sum_i h_i s_i - sum_{i<j} J_ij s_i s_j +
offset``, so ``h`` and ``J`` change sign and the offset is the same. The QUBO side is identical
(``x^T Q x + offset`` in both).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import scipy.sparse as sp

from .errors import CimsimError, finite_float
from .model import IsingModel, as_square_matrix

__all__ = ["qubo_to_ising", "ising_to_qubo", "qubo_energies", "qubo_from_dict"]


def _coefficient(value: object, what: str) -> float:
    if isinstance(value, (bool, np.bool_, str, bytes)):
        raise CimsimError(f"{what} must be a real number, got {value!r}"[:200])
    return finite_float(value, what, kind="a real number")


def qubo_from_dict(Q: Mapping, c: Mapping | None = None) -> tuple[sp.csr_matrix, tuple]:
    """``(Q as an N x N CSR matrix, labels)`` of a ``{(u, v): q}`` QUBO dictionary (see the module docstring).

    Entry ``[i, j]`` of the matrix holds the sum of the values of every key ``(labels[i], labels[j])``,
    so ``x^T Q x`` is the dictionary's ``sum q x_u x_v``. ``c`` (``{label: coefficient}``, optional) adds
    linear terms on the diagonal and may introduce labels of its own. Labels are numbered in order of first
    appearance (keys first, then ``c``). Bad keys or values raise :class:`CimsimError` naming the key.
    """
    index: dict[Any, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []

    def number(label: Any, key: Any) -> int:
        try:
            return index.setdefault(label, len(index))
        except TypeError:
            raise CimsimError(f"QUBO key {key!r}: label {label!r} is not hashable"[:200]) from None

    for key, value in Q.items():
        if not isinstance(key, tuple) or len(key) != 2:
            raise CimsimError(f"QUBO dictionary keys must be pairs (u, v) of variable labels, got {key!r}"[:200])
        i, j = number(key[0], key), number(key[1], key)
        rows.append(i)
        cols.append(j)
        vals.append(_coefficient(value, f"QUBO entry {key!r}"))
    if c is not None:
        if not isinstance(c, Mapping):
            raise CimsimError(f"with a QUBO dictionary, c must be a {{label: coefficient}} dictionary, got {type(c).__name__}")
        for label, value in c.items():
            i = number(label, label)
            rows.append(i)
            cols.append(i)
            vals.append(_coefficient(value, f"linear coefficient of {label!r}"))
    n = len(index)
    if n == 0:
        raise CimsimError("the QUBO dictionary has no variables")
    M = sp.coo_matrix((np.asarray(vals, dtype=np.float64), (np.asarray(rows, dtype=np.int64),
                                                            np.asarray(cols, dtype=np.int64))), shape=(n, n)).tocsr()
    M.sum_duplicates()  # (u, v) given twice, or (u, v) and (v, u): both add, as in dimod
    return M, tuple(index)


def _split_qubo(Q: object) -> tuple["np.ndarray | sp.csr_matrix", np.ndarray]:
    """Symmetrise Q and move its diagonal into the linear term (x_i**2 == x_i)."""
    if sp.issparse(Q):
        Qm = sp.csr_matrix(Q, dtype=np.float64)
        if Qm.shape[0] != Qm.shape[1]:
            raise CimsimError(f"Q must be square, got shape {Qm.shape}")
        if not np.all(np.isfinite(Qm.data)):
            raise CimsimError("Q contains NaN or infinite entries")
        d = Qm.diagonal().copy()
        Qs = ((Qm + Qm.T) * 0.5).tocoo()
        off = Qs.row != Qs.col  # drop the diagonal without a LIL round trip (O(nnz), not O(N) Python work)
        Qs = sp.csr_matrix((Qs.data[off], (Qs.row[off], Qs.col[off])), shape=Qs.shape)
        return Qs, d
    Qa = as_square_matrix(Q, "Q", kind=f"a square numeric matrix or a {{(u, v): q}} dictionary, got {type(Q).__name__}")
    d = np.diag(Qa).copy()
    Qs = 0.5 * (Qa + Qa.T)
    np.fill_diagonal(Qs, 0.0)
    return Qs, d


def qubo_to_ising(Q: object, c: object | None = None, k: float = 0.0, **kwargs: object) -> IsingModel:
    """Exact map of ``f(x) = x^T Q x + c^T x + k`` (x in {0,1}) to an :class:`IsingModel`.

    ``Q`` may be any square matrix (upper-triangular form included): it is symmetrised and its
    diagonal folded into ``c``. With ``s = 2x - 1`` (physics.md 5.1)::

        J = -Q/2,  h = -(Q 1 + c)/2,  offset = 1/4 1^T Q 1 + 1/2 c^T 1 + k

    so that ``f(x) == H(s)`` for every x. ``Q`` may also be a ``{(u, v): q}`` dictionary (dimod's form,
    :func:`qubo_from_dict`; ``c`` then a ``{label: coefficient}`` dictionary or None): the model then
    carries the labels, in order of first appearance. Extra keyword arguments go to
    :meth:`IsingModel.from_couplings`.
    """
    if isinstance(Q, Mapping):
        if "labels" in kwargs:
            raise CimsimError("a QUBO dictionary names its variables itself; do not pass labels=")
        Q, kwargs["labels"] = qubo_from_dict(Q, c)
        c = None
    elif isinstance(c, Mapping):
        raise CimsimError("c may be a {label: coefficient} dictionary only when Q is a {(u, v): q} dictionary")
    k = _coefficient(k, "the constant k")
    Qs, d = _split_qubo(Q)
    n = Qs.shape[0]
    try:
        cv = np.zeros(n) if c is None else np.asarray(c, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise CimsimError(f"c must be a numeric vector, got {type(c).__name__}") from None
    if cv.shape != (n,):
        raise CimsimError(f"c has {cv.size} entries but Q is {n} x {n}")
    if not np.all(np.isfinite(cv)):
        raise CimsimError("c contains NaN or infinite entries")
    cv = cv + d
    row = np.asarray(Qs.sum(axis=1)).reshape(-1)
    J = -0.5 * Qs
    h = -0.5 * (row + cv)
    offset = 0.25 * float(row.sum()) + 0.5 * float(cv.sum()) + float(k)
    return IsingModel.from_couplings(J, h, offset, **kwargs)  # type: ignore[arg-type]


def ising_to_qubo(model: IsingModel) -> tuple["np.ndarray | sp.csr_matrix", np.ndarray, float]:
    """Exact inverse of :func:`qubo_to_ising`: returns ``(Q, c, k)`` with Q symmetric, zero diagonal.

    ``Q = -2J``, ``c = 2 J 1 - 2h``, ``k = -1/2 1^T J 1 + h^T 1 + offset``.
    """
    J = model.J
    row = np.asarray(J.sum(axis=1)).reshape(-1)
    Q = -2.0 * J
    c = 2.0 * row - 2.0 * model.h
    k = -0.5 * float(row.sum()) + float(model.h.sum()) + model.offset
    return Q, c, k


def qubo_energies(Q: object, c: object | None, k: float, x: np.ndarray) -> np.ndarray:
    """f(x) = x^T Q x + c^T x + k for each row of the 0/1 batch ``x`` (R, N); Q used as given."""
    X = np.atleast_2d(np.asarray(x, dtype=np.float64))
    QX = np.asarray((Q @ X.T).T) if sp.issparse(Q) else X @ np.asarray(Q, dtype=np.float64).T
    e = np.einsum("ij,ij->i", X, QX) + float(k)
    if c is not None:
        e = e + X @ np.asarray(c, dtype=np.float64)
    return e
