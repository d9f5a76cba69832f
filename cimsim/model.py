"""The Ising model every part of cimsim speaks.

Convention (``physics.md`` section 1), for spins ``s`` in {-1, +1}^N::

    H(s) = -1/2 s^T J s - h^T s + offset = -sum_{i<j} J_ij s_i s_j - sum_i h_i s_i + offset

``J`` is real symmetric with a zero diagonal, stored either as a dense ``numpy.ndarray`` or as a
``scipy.sparse.csr_matrix``. A diagonal given on input is folded into ``offset`` (``s_i**2 == 1``).
A sparse ``J`` is never densified unless the caller asks for it with :meth:`IsingModel.dense_couplings`.

QUBO convention: ``f(x) = x^T Q x + c^T x + k`` with ``x`` in {0, 1}^N and ``s = 2x - 1``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import scipy.sparse as sp

from .errors import CimsimError

__all__ = [
    "IsingModel",
    "qubo_to_ising",
    "ising_to_qubo",
    "qubo_energies",
    "as_spin_batch",
    "check_dense_fits",
    "check_fits",
    "check_batch_fits",
    "memory_limit_bytes",
]


#: Above this many spins, a dense input whose fill is below ``SPARSE_DENSITY`` is stored as CSR.
SPARSE_MIN_N = 512
SPARSE_DENSITY = 0.10


def _available_memory_bytes() -> int:
    """Physical memory currently available (Linux ``MemAvailable``), or 8 GiB if unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 8 << 30


def memory_limit_bytes() -> int:
    """Bytes one operation may allocate: ``CIMSIM_MEMORY_LIMIT`` (bytes) if set, else half the available memory."""
    env = os.environ.get("CIMSIM_MEMORY_LIMIT", "").strip()
    try:
        limit = int(float(env)) if env else 0
    except ValueError:
        raise CimsimError(f"CIMSIM_MEMORY_LIMIT must be a number of bytes, got {env!r}") from None
    return limit if limit > 0 else _available_memory_bytes() // 2


def _big_float(x: float | int) -> float:
    """float(x), or +inf for an integer beyond the float range (a header count of 400 digits)."""
    try:
        return float(x)
    except OverflowError:
        return float("inf")


def _short(n: object) -> str:
    """``n`` for a message: integers of more than 12 digits as ``1.2e+30``."""
    t = str(n)
    return t if len(t) <= 12 else f"{_big_float(n):.3g}"


def check_fits(nbytes: float, what: str, hint: str = "use a sparse format or a smaller instance") -> None:
    """Refuse (:class:`CimsimError`, one line) an allocation of ``nbytes`` that exceeds :func:`memory_limit_bytes`.

    ``what`` names the allocation (e.g. ``"a batch of 64 x 100000 float64 amplitudes"``); ``hint`` says what
    to change. Called with a size estimate before anything is allocated.
    """
    limit = memory_limit_bytes()
    nbytes = _big_float(nbytes)
    if nbytes > limit:
        raise CimsimError(f"{what} needs {nbytes / 2**30:.3g} GiB but only {limit / 2**30:.3g} GiB may be used; {hint}")


def check_dense_fits(n: int, *, copies: int = 2, itemsize: int = 8, what: str = "coupling matrix") -> None:
    """Refuse an ``n x n`` dense array that would not fit in half the available memory.

    ``copies`` counts the dense ``n x n`` arrays the operation holds at once. Raises
    :class:`CimsimError` naming the size, so the caller never starts swapping. The limit can be set
    with the environment variable ``CIMSIM_MEMORY_LIMIT`` (bytes).
    """
    need = _big_float(n) * _big_float(n) * itemsize * copies
    check_fits(need, f"a dense {_short(n)} x {_short(n)} {what}", "use a sparse matrix (CSR) or a smaller instance")


def check_batch_fits(replicas: int, n: int, *, arrays: int = 4, itemsize: int = 8, what: str = "state") -> None:
    """Refuse a batch of ``arrays`` (replicas, n) arrays of ``itemsize`` bytes that would not fit in memory."""
    need = _big_float(replicas) * _big_float(n) * itemsize * arrays
    check_fits(need, f"a batch of {_short(replicas)} replicas x {_short(n)} spins ({what}, {arrays} arrays)",
               "use fewer replicas per batch (with --time-limit for more batches) or a smaller instance")


def _validate_couplings(J: object, name: str = "J") -> "np.ndarray | sp.csr_matrix":
    with np.errstate(over="ignore", invalid="ignore"):  # |J - J.T| may overflow for entries near 1e308
        return _validate_couplings_(J, name)


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
    try:
        Ja = np.asarray(J, dtype=np.float64)
    except (TypeError, ValueError):
        raise CimsimError(f"{name} must be a numeric matrix") from None
    if Ja.ndim != 2 or Ja.shape[0] != Ja.shape[1]:
        raise CimsimError(f"{name} must be a square matrix, got shape {Ja.shape}")
    if not np.all(np.isfinite(Ja)):
        raise CimsimError(f"{name} contains NaN or infinite entries")
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
        n = self.n
        if n < 2:
            return 1.0
        sq = float(self.J.multiply(self.J).sum()) if self.is_sparse else float(np.sum(self.J * self.J))
        sigma = np.sqrt(sq / (n * (n - 1)))
        return float(sigma) if sigma > 0 else 1.0

    def coupling_scale(self) -> float:
        """sigma_J * sqrt(N): dividing J by it puts the bulk spectrum on about [-2, 2] (SK normalisation)."""
        return self.coupling_sigma() * np.sqrt(self.n)

    # ------------------------------------------------------------------ energies
    def local_fields(self, spins: np.ndarray) -> np.ndarray:
        """phi = J s + h for a batch ``spins`` of shape (R, N) (or (N,)), float64."""
        S = np.asarray(spins, dtype=np.float64)
        if self.is_sparse:
            out = (self.J @ S.T).T if S.ndim == 2 else self.J @ S
        else:
            out = S @ self.J
        return np.asarray(out) + self.h

    def energies(self, spins: np.ndarray) -> np.ndarray:
        """H(s) for each row of ``spins`` (shape (R, N) -> (R,); (N,) -> scalar array), float64.

        Any real entries are accepted; for Ising energies pass +-1 values.
        """
        S = as_spin_batch(spins, self.n, allow_real=True)
        if self.is_sparse:
            JS = np.asarray((self.J @ S.T).T)
        else:
            JS = S @ self.J
        e = -0.5 * np.einsum("ij,ij->i", S, JS) - S @ self.h + self.offset
        return e[0] if np.ndim(spins) == 1 else e

    def energy(self, spins: np.ndarray) -> float:
        """H(s) of one spin vector."""
        return float(self.energies(np.asarray(spins).reshape(1, -1))[0])

    # ------------------------------------------------------------------ transforms
    def scaled(self, factor: float) -> "IsingModel":
        """The model with J, h and offset multiplied by ``factor``."""
        return IsingModel(self.J * factor, self.h * factor, self.offset * factor, self.labels, dict(self.meta))

    def with_aux_spin(self) -> "IsingModel":
        """Field-free (N+1)-spin model: spin 0 is an auxiliary s0 with J_0i = h_i.

        ``H_aux(s0, s) = H(s0 * s)`` so a ground state of the auxiliary model, gauge-fixed with
        :func:`strip_aux_spin`, is a ground state of this model (physics.md 5.1).
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


def strip_aux_spin(spins: np.ndarray) -> np.ndarray:
    """Gauge-fix spins of :meth:`IsingModel.with_aux_spin` (column 0 auxiliary) back to N spins."""
    S = np.asarray(spins)
    if S.ndim == 1:
        return (S[1:] * S[0]).astype(np.int8)
    return (S[:, 1:] * S[:, :1]).astype(np.int8)


def as_spin_batch(spins: object, n: int, *, allow_real: bool = False) -> np.ndarray:
    """Return ``spins`` as a float64 (R, N) array, checking the width and (unless ``allow_real``) +-1 values."""
    S = np.asarray(spins, dtype=np.float64)
    if S.ndim == 1:
        S = S.reshape(1, -1)
    if S.ndim != 2 or S.shape[1] != n:
        raise CimsimError(f"spins must have shape (R, {n}) or ({n},), got {np.shape(spins)}")
    if not allow_real and not np.all(np.abs(S) == 1):
        raise CimsimError("spins must be +1 or -1")
    return S


def start_spins(initial: object | None, replicas: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """(replicas, n) int8 start spins of a spin-flip solver: ``initial`` ((n,) or (replicas, n) +-1;
    one row is repeated for every replica) or, when it is None, uniformly random spins drawn from ``rng``."""
    if initial is None:
        return np.where(rng.random((replicas, n)) < 0.5, -1, 1).astype(np.int8)
    S0 = as_spin_batch(initial, n)
    if S0.shape[0] == 1:
        S0 = np.repeat(S0, replicas, axis=0)
    elif S0.shape[0] != replicas:
        raise CimsimError(f"initial has {S0.shape[0]} rows but replicas = {replicas}")
    return np.ascontiguousarray(S0, dtype=np.int8)


# ---------------------------------------------------------------------- QUBO <-> Ising
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
    Qa = np.asarray(Q, dtype=np.float64)
    if Qa.ndim != 2 or Qa.shape[0] != Qa.shape[1]:
        raise CimsimError(f"Q must be a square matrix, got shape {Qa.shape}")
    if not np.all(np.isfinite(Qa)):
        raise CimsimError("Q contains NaN or infinite entries")
    d = np.diag(Qa).copy()
    Qs = 0.5 * (Qa + Qa.T)
    np.fill_diagonal(Qs, 0.0)
    return Qs, d


def qubo_to_ising(Q: object, c: object | None = None, k: float = 0.0, **kwargs: object) -> IsingModel:
    """Exact map of ``f(x) = x^T Q x + c^T x + k`` (x in {0,1}) to an :class:`IsingModel`.

    ``Q`` may be any square matrix (upper-triangular form included): it is symmetrised and its
    diagonal folded into ``c``. With ``s = 2x - 1`` (physics.md 5.1)::

        J = -Q/2,  h = -(Q 1 + c)/2,  offset = 1/4 1^T Q 1 + 1/2 c^T 1 + k

    so that ``f(x) == H(s)`` for every x. Extra keyword arguments go to :meth:`IsingModel.from_couplings`.
    """
    Qs, d = _split_qubo(Q)
    n = Qs.shape[0]
    cv = np.zeros(n) if c is None else np.asarray(c, dtype=np.float64).reshape(-1)
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
