"""Helpers shared by the penalty-based encoders (options, penalty weights, QUBO assembly)."""
from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from ..errors import CimsimError, positive_float
from ..memory import check_dense_fits
from ..model import SPARSE_DENSITY, SPARSE_MIN_N, IsingModel
from ..qubo import qubo_to_ising

__all__ = ["check_options", "penalty_weight", "QuboBuilder", "STORAGES"]

STORAGES = ("auto", "dense", "sparse")


def check_options(problem: str, options: dict[str, Any], allowed: tuple[str, ...]) -> None:
    """Refuse options ``from_file`` does not know, naming the ones it does."""
    unknown = [k for k in options if k not in allowed]
    if unknown:
        known = ", ".join(allowed) if allowed else "none"
        raise CimsimError(f"{problem}: unknown option{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} (known: {known})")


def penalty_weight(value: object | None, auto: float, bound: float, *, strict: bool = True) -> tuple[float, bool]:
    """Return ``(A, guaranteed)``: the user's penalty (or ``auto``) and whether it beats ``bound``.

    ``guaranteed`` says the Ising ground state is provably a feasible optimum (``A > bound``, or
    ``A >= bound`` when ``strict`` is False). A non-positive or non-finite penalty is refused.
    """
    A = auto if value is None else positive_float(value, "penalty")
    ok = A > bound if strict else A >= bound
    return float(A), bool(ok)


class QuboBuilder:
    """Accumulates ``f(x) = sum_{i<j} q_ij x_i x_j + sum_i c_i x_i + k`` over 0/1 variables.

    Terms are added as affine "literal" factors ``a + b x_v`` so that products of literals (for
    example the false-indicator of a negated variable, ``x_v``, or of a plain one, ``1 - x_v``)
    expand without the caller doing the algebra. Memory is O(number of terms): nothing is dense.
    """

    def __init__(self, n: int) -> None:
        self.n = int(n)
        self._rows: list[int] = []
        self._cols: list[int] = []
        self._vals: list[float] = []
        self.c = np.zeros(self.n)
        self.k = 0.0

    def add_constant(self, w: float) -> None:
        self.k += float(w)

    def add_linear(self, i: int, w: float) -> None:
        self.c[i] += w

    def add_quadratic(self, i: int, j: int, w: float) -> None:
        """Add ``w x_i x_j`` (``i == j`` means ``w x_i``)."""
        if i == j:
            self.c[i] += w
            return
        self._rows.append(i)
        self._cols.append(j)
        self._vals.append(float(w))

    def add_affine(self, w: float, f: tuple[float, float, int]) -> None:
        """Add ``w (a + b x_v)`` for ``f = (a, b, v)``."""
        a, b, v = f
        self.k += w * a
        self.c[v] += w * b

    def add_affine_product(self, w: float, f: tuple[float, float, int], g: tuple[float, float, int]) -> None:
        """Add ``w (a + b x_u)(c + d x_v)``."""
        a, b, u = f
        c, d, v = g
        self.k += w * a * c
        self.c[v] += w * a * d
        self.c[u] += w * b * c
        self.add_quadratic(u, v, w * b * d)

    def model(self, storage: str = "auto") -> IsingModel:
        """The exact Ising model of the accumulated QUBO (``f(x) == H(s)`` for ``s = 2x - 1``).

        ``storage="auto"`` follows :meth:`IsingModel.from_couplings`: dense couplings below
        :data:`cimsim.model.SPARSE_MIN_N` spins or when at least :data:`cimsim.model.SPARSE_DENSITY` of the
        entries are non-zero (e.g. a K-clique penalty couples every pair), CSR otherwise;
        ``"dense"`` / ``"sparse"`` force one.
        """
        if storage not in STORAGES:
            raise CimsimError(f"storage must be one of {', '.join(STORAGES)}, got {storage!r}")
        n = self.n
        Q = sp.coo_matrix((self._vals, (self._rows, self._cols)), shape=(n, n)).tocsr()
        Q.sum_duplicates()
        Q = 0.5 * (Q + Q.T)  # symmetric, each pair split over (i, j) and (j, i)
        Q.eliminate_zeros()
        if storage == "auto":
            storage = "dense" if n < SPARSE_MIN_N or Q.nnz >= SPARSE_DENSITY * n * n else "sparse"
        if storage == "dense":
            check_dense_fits(n, copies=3)
            return qubo_to_ising(Q.toarray(), self.c, self.k, storage="dense")
        return qubo_to_ising(Q, self.c, self.k, storage="sparse")
