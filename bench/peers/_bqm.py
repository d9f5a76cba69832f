"""Shared conversion of a cimsim model to a dimod BQM (used by the neal and OpenJij adapters)."""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from cimsim import IsingModel


def to_bqm(model: IsingModel):
    """dimod SPIN BQM with the same energies: dimod's E = sum h_i s_i + sum_{i<j} J_ij s_i s_j.

    cimsim's H = -sum_{i<j} J_ij s_i s_j - sum h_i s_i + offset, so both signs flip. Sparse J stays
    sparse (only the stored upper-triangle entries are passed).
    """
    import dimod

    if model.is_sparse:
        U = sp.triu(model.J, k=1).tocoo()
        row, col, val = U.row, U.col, U.data
    else:
        row, col = np.triu_indices(model.n, 1)
        val = model.J[row, col]
        keep = val != 0
        row, col, val = row[keep], col[keep], val[keep]
    return dimod.BinaryQuadraticModel.from_numpy_vectors(
        -model.h, (row, col, -val), model.offset, dimod.SPIN
    )


def reads_per_batch(model: IsingModel, sweeps: int = 1000, work: float = 2e8) -> int:
    """Reads per call so that one call is about ``work`` coupling visits (keeps budget overshoot small)."""
    nnz = model.J.nnz if model.is_sparse else model.n * (model.n - 1)
    return int(max(1, min(16, work // max(1.0, float(sweeps) * nnz))))


def sampleset_spins(sampleset, n: int) -> np.ndarray:
    """(reads, N) spins in variable order 0..N-1 from a dimod-like sample set."""
    rec = sampleset.record.sample
    order = list(sampleset.variables)
    if order != list(range(n)):
        out = np.empty((rec.shape[0], n), dtype=np.int8)
        out[:, np.asarray(order, dtype=np.int64)] = rec
        return out
    return np.asarray(rec, dtype=np.int8)
