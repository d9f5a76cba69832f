"""The Ising model every part of cimsim speaks.

Convention (``physics.md`` section 1), for spins ``s`` in {-1, +1}^N::

    H(s) = -1/2 s^T J s - h^T s + offset = -sum_{i<j} J_ij s_i s_j - sum_i h_i s_i + offset

``J`` is real symmetric with a zero diagonal, stored either as a dense ``numpy.ndarray`` or as a
``scipy.sparse.csr_matrix``. A diagonal given on input is folded into ``offset`` (``s_i**2 == 1``).
A sparse ``J`` is never densified unless the caller asks for it with :meth:`IsingModel.dense_couplings`.

Related modules: :mod:`cimsim.qubo` (QUBO <-> Ising conversion), :mod:`cimsim.spins` (spin checks and
batches), :mod:`cimsim.memory` (the memory guards used before allocating).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import scipy.sparse as sp

from .errors import CimsimError
from .memory import check_dense_fits
from .spins import as_spin_batch, check_spins

__all__ = ["IsingModel", "SPARSE_MIN_N", "SPARSE_DENSITY"]


#: Above this many spins, a dense input whose fill is below ``SPARSE_DENSITY`` is stored as CSR.
SPARSE_MIN_N = 512
SPARSE_DENSITY = 0.10


def _validate_couplings(J: object, name: str = "J") -> "np.ndarray | sp.csr_matrix":
    with np.errstate(over="ignore", invalid="ignore"):  # |J - J.T| may overflow for entries near 1e308
        return _validate_couplings_(J, name)


def as_square_matrix(value: object, name: str, *, kind: str = "a numeric matrix", finite: bool = True) -> np.ndarray:
    """``value`` as a float64 (N, N) array (no copy when it already is one), or a one-line CimsimError:
    ``{name} must be {kind}``, not square, or (with ``finite``) holding NaN or infinite entries."""
    try:
        A = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise CimsimError(f"{name} must be {kind}") from None
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise CimsimError(f"{name} must be a square matrix, got shape {A.shape}")
    if finite and not np.all(np.isfinite(A)):
        raise CimsimError(f"{name} contains NaN or infinite entries")
    return A


def _validate_couplings_(J: object, name: str) -> "np.ndarray | sp.csr_matrix":
    if sp.issparse(J):
        Jm = sp.csr_matrix(J, dtype=np.float64)
        if Jm.ndim != 2 or Jm.shape[0] != Jm.shape[1]:
            raise CimsimError(f"{name} must be square, got shape {Jm.shape}")
        if not np.all(np.isfinite(Jm.data)):
            raise CimsimError(f"{name} contains NaN or infinite entries")
        asym = abs(Jm - Jm.T)
        scale = abs(Jm).max() if Jm.nnz else 0.0
        if asym.nnz and asym.max() > 1e-9 * max(scale, 1.0):
            raise CimsimError(f"{name} must be symmetric (max |{name} - {name}.T| = {asym.max():.3g})")
        Jm.sum_duplicates()
        Jm.sort_indices()
        return Jm
    Ja = as_square_matrix(J, name)
    scale = float(np.max(np.abs(Ja))) if Ja.size else 0.0
    if Ja.size and float(np.max(np.abs(Ja - Ja.T))) > 1e-9 * max(scale, 1.0):
        raise CimsimError(f"{name} must be symmetric (max |{name} - {name}.T| = {np.max(np.abs(Ja - Ja.T)):.3g})")
    return Ja


@dataclass(frozen=True, eq=False)
class IsingModel:
    """Couplings ``J`` (N x N, symmetric, zero diagonal), fields ``h`` (N,), constant ``offset``.

    Build it with :meth:`IsingModel.from_couplings` (validates, folds the diagonal, picks storage) rather
    than the raw constructor. ``labels`` optionally names the variables (in order).
    """

    J: "np.ndarray | sp.csr_matrix"
    h: np.ndarray
    offset: float = 0.0
    labels: tuple | None = None
    meta: dict = field(default_factory=dict)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_couplings(
        cls,
        J: object,
        h: object | None = None,
        offset: float = 0.0,
        labels: Sequence | None = None,
        *,
        storage: str = "auto",
    ) -> "IsingModel":
        """Validate and build a model.

        Parameters
        ----------
        J : array_like or scipy.sparse matrix, shape (N, N)
            Symmetric couplings. A non-zero diagonal is folded into ``offset`` (``-1/2 sum J_ii``).
        h : array_like, shape (N,), optional
            Fields; zeros if omitted.
        offset : float
            Constant energy offset.
        labels : sequence, optional
            One label per variable.
        storage : {"auto", "dense", "sparse"}
            ``auto`` keeps sparse input sparse and converts a large, sparse-filled dense input to CSR.
            ``dense`` densifies a sparse input (after a memory check); ``sparse`` forces CSR.
        """
        Jv = _validate_couplings(J)
        n = Jv.shape[0]
        if n == 0:
            raise CimsimError("the model has no variables")
        if h is None:
            hv = np.zeros(n)
        else:
            try:
                hv = np.asarray(h, dtype=np.float64).reshape(-1) if np.ndim(h) <= 1 else np.asarray(h, dtype=np.float64)
            except (TypeError, ValueError):
                raise CimsimError("h must be a numeric vector") from None
            if hv.shape != (n,):
                raise CimsimError(f"h has shape {np.shape(h)} but J is {n} x {n}; h must have shape ({n},)")
            if not np.all(np.isfinite(hv)):
                raise CimsimError("h contains NaN or infinite entries")
        try:
            off = float(offset)
        except (TypeError, ValueError, OverflowError):
            raise CimsimError(f"offset must be a finite number, got {offset!r}"[:200]) from None
        if not np.isfinite(off):
            raise CimsimError("offset must be finite")
        diag = Jv.diagonal()
        if np.any(diag != 0):
            with np.errstate(over="ignore", invalid="ignore"):  # an overflow is refused just below
                off -= 0.5 * float(np.sum(diag))
            if sp.issparse(Jv):
                C = Jv.tocoo()
                keep = C.row != C.col
                Jv = sp.csr_matrix((C.data[keep], (C.row[keep], C.col[keep])), shape=C.shape)
                Jv.eliminate_zeros()
            else:
                Jv = Jv.copy()
                np.fill_diagonal(Jv, 0.0)
        # |H(s)| <= 1/2 sum|J_ij| + sum|h_i| + |offset|: refuse a model whose energies overflow float64
        with np.errstate(over="ignore", invalid="ignore"):
            absj = float(np.abs(Jv.data).sum()) if sp.issparse(Jv) else float(np.abs(Jv).sum())
            bound = 0.5 * absj + float(np.abs(hv).sum()) + abs(off)
        if not np.isfinite(bound) or bound > 1e300:
            raise CimsimError("the couplings, fields or offset are so large that energies overflow float64; "
                              "rescale the model (e.g. divide J, h and the offset by a common factor)")
        if storage not in ("auto", "dense", "sparse"):
            raise CimsimError(f"storage must be auto, dense or sparse, got {storage!r}")
        if storage == "dense" and sp.issparse(Jv):
            check_dense_fits(n, copies=1)
            Jv = Jv.toarray()
        elif storage == "sparse" and not sp.issparse(Jv):
            Jv = sp.csr_matrix(Jv)
        elif storage == "auto" and not sp.issparse(Jv) and n >= SPARSE_MIN_N:
            if np.count_nonzero(Jv) < SPARSE_DENSITY * n * n:
                Jv = sp.csr_matrix(Jv)
        if sp.issparse(Jv):
            Jv = sp.csr_matrix(Jv)
            Jv.eliminate_zeros()
            Jv.sort_indices()
        if labels is not None:
            labels = tuple(labels)
            if len(labels) != n:
                raise CimsimError(f"{len(labels)} labels given for {n} variables")
        return cls(Jv, hv, off, labels)

    # ------------------------------------------------------------------ properties
    @property
    def n(self) -> int:
        """Number of spins N."""
        return int(self.J.shape[0])

    @property
    def is_sparse(self) -> bool:
        return sp.issparse(self.J)

    @property
    def has_fields(self) -> bool:
        return bool(np.any(self.h != 0))

    def dense_couplings(self) -> np.ndarray:
        """J as a dense array (copy for sparse storage, after a memory check)."""
        if self.is_sparse:
            check_dense_fits(self.n, copies=1)
            return self.J.toarray()
        return self.J

    def csr_couplings(self) -> sp.csr_matrix:
        """J as CSR with sorted indices (a view for sparse storage)."""
        return self.J if self.is_sparse else sp.csr_matrix(self.J)

    def coupling_sigma(self) -> float:
        """sigma_J = sqrt(sum_{i != j} J_ij^2 / (N (N - 1))), the entry scale used to normalise dynamics."""
        cached = self.__dict__.get("_coupling_sigma")  # every batch of a dynamics asks: computed once
        if cached is not None:
            return cached
        n = self.n
        if n < 2:
            return 1.0
        if self.is_sparse:
            sq = float(np.dot(self.J.data, self.J.data))
        else:  # a BLAS dot over the flat array: no N x N temporary (8000^2 float64 is 512 MB)
            flat = np.ascontiguousarray(self.J).reshape(-1)
            sq = float(np.dot(flat, flat))
        sigma = np.sqrt(sq / (n * (n - 1)))
        sigma = float(sigma) if sigma > 0 else 1.0
        self.__dict__["_coupling_sigma"] = sigma  # frozen dataclass: set past __setattr__, as cached_property does
        return sigma

    def coupling_scale(self) -> float:
        """sigma_J * sqrt(N): dividing J by it puts the bulk spectrum on about [-2, 2] (SK normalisation)."""
        return self.coupling_sigma() * np.sqrt(self.n)

    # ------------------------------------------------------------------ energies
    def local_fields(self, spins: np.ndarray) -> np.ndarray:
        """phi = J s + h for a batch ``spins`` of shape (R, N) (or (N,)) of +-1 values, float64."""
        S = check_spins(spins, self.n).astype(np.float64)
        if self.is_sparse:
            out = (self.J @ S.T).T if S.ndim == 2 else self.J @ S
        else:
            out = S @ self.J
        return np.asarray(out) + self.h

    def energies(self, spins: np.ndarray) -> np.ndarray:
        """H(s) for each row of ``spins`` (shape (R, N) -> (R,); (N,) -> scalar array), float64.

        Entries must be +1 or -1 (any numeric dtype); anything else (0, NaN, 2, 0.5) raises
        :class:`CimsimError` (:func:`cimsim.spins.check_spins`).
        """
        S = as_spin_batch(spins, self.n)
        if self.is_sparse:
            JS = np.asarray((self.J @ S.T).T)
        else:
            JS = S @ self.J
        e = -0.5 * np.einsum("ij,ij->i", S, JS) - S @ self.h + self.offset
        return e[0] if np.ndim(spins) == 1 else e

    def energy(self, spins: np.ndarray) -> float:
        """H(s) of one spin vector (shape (N,) or (1, N), entries +-1)."""
        S = check_spins(spins, self.n)
        if S.ndim == 2 and S.shape[0] != 1:
            raise CimsimError(f"energy takes one spin vector, got {S.shape[0]} rows; use energies() for a batch")
        return float(self.energies(S.reshape(1, -1))[0])

    # ------------------------------------------------------------------ transforms
    def scaled(self, factor: float) -> "IsingModel":
        """The model with J, h and offset multiplied by ``factor``."""
        return IsingModel(self.J * factor, self.h * factor, self.offset * factor, self.labels, dict(self.meta))

    def with_aux_spin(self) -> "IsingModel":
        """Field-free (N+1)-spin model: spin 0 is an auxiliary s0 with J_0i = h_i.

        ``H_aux(s0, s) = H(s0 * s)`` so a ground state of the auxiliary model, gauge-fixed with
        :func:`cimsim.spins.strip_aux_spin`, is a ground state of this model (physics.md 5.1).
        """
        n = self.n
        if self.is_sparse:
            h = sp.csr_matrix(self.h.reshape(1, n))
            J = sp.bmat([[None, h], [h.T, self.J]], format="csr")
            J.sort_indices()
        else:
            check_dense_fits(n + 1, copies=1)
            J = np.zeros((n + 1, n + 1))
            J[1:, 1:] = self.J
            J[0, 1:] = self.h
            J[1:, 0] = self.h
        return IsingModel(J, np.zeros(n + 1), self.offset, None, dict(self.meta))

    def to_dict(self) -> dict:
        """Small JSON-able description (not the couplings)."""
        return {
            "n_spins": self.n,
            "storage": "sparse" if self.is_sparse else "dense",
            "nnz": int(self.J.nnz) if self.is_sparse else int(np.count_nonzero(self.J)),
            "offset": self.offset,
            "has_fields": self.has_fields,
        }
