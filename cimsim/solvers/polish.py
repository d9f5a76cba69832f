"""1-flip greedy local search that any solver's output can go through."""
from __future__ import annotations

import numpy as np

from ..kernels.localsearch import polish_csr, polish_dense
from ..model import IsingModel


def polish(model: IsingModel, spins: np.ndarray, *, tol: float | None = None) -> np.ndarray:
    """Return a copy of ``spins`` (R, N) after 1-flip descent: no single flip lowers H afterwards.

    ``tol`` (default ``1e-12 * max|J|``) is the smallest energy decrease that counts, so rounding noise
    cannot make the search cycle.
    """
    S = np.array(np.atleast_2d(spins), dtype=np.int8, copy=True)
    phi = np.ascontiguousarray(model.local_fields(S), dtype=np.float64)
    if model.is_sparse:
        J = model.J
        scale = float(np.max(np.abs(J.data))) if J.nnz else 1.0
        polish_csr(J.indptr, J.indices, J.data, S, phi, 1e-12 * scale if tol is None else tol)
    else:
        J = np.ascontiguousarray(model.J)
        scale = max(float(J.max()), -float(J.min())) if J.size else 1.0  # max|J| without an N x N temporary
        polish_dense(J, S, phi, 1e-12 * scale if tol is None else tol)
    return S
