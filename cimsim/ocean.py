"""Interoperability with D-Wave Ocean's ``dimod`` (the ``ocean`` extra).

``to_bqm`` / ``from_bqm`` convert exactly between :class:`~cimsim.model.IsingModel` and
``dimod.BinaryQuadraticModel`` (SPIN vartype; a BINARY model is converted first). Conventions differ only in
sign: dimod's Ising energy is ``sum_i h_i s_i + sum_{i<j} J_ij s_i s_j + offset``, ours is
``-sum_{i<j} J_ij s_i s_j - sum_i h_i s_i + offset``, so couplings and fields change sign.

``CimsimSampler`` is a ``dimod.Sampler``: ``CimsimSampler().sample(bqm, solver="sa", time_limit=1)`` returns a
SampleSet with one sample per replica run of the last batch (energies recomputed by dimod).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from .errors import CimsimError
from .model import IsingModel

__all__ = ["to_bqm", "from_bqm", "CimsimSampler"]


def _dimod():
    try:
        import dimod  # type: ignore[import-not-found]
    except ImportError:
        raise CimsimError('dimod is not installed; install the Ocean extra with: pip install "cimsim[ocean]"') from None
    return dimod


def to_bqm(model: IsingModel):
    """A SPIN ``dimod.BinaryQuadraticModel`` with the same energy as ``model`` for every spin vector."""
    dimod = _dimod()
    labels = list(model.labels) if model.labels is not None else list(range(model.n))
    C = sp.triu(model.csr_couplings(), k=1).tocoo()
    linear = {labels[i]: -float(model.h[i]) for i in range(model.n)}
    quadratic = {(labels[i], labels[j]): -float(w) for i, j, w in zip(C.row, C.col, C.data)}
    return dimod.BinaryQuadraticModel(linear, quadratic, float(model.offset), dimod.SPIN)


def from_bqm(bqm) -> IsingModel:
    """An :class:`IsingModel` (labels kept, in ``bqm.variables`` order) equal in energy to ``bqm``."""
    dimod = _dimod()
    spin = bqm.change_vartype(dimod.SPIN, inplace=False) if bqm.vartype is not dimod.SPIN else bqm
    labels = list(spin.variables)
    index = {v: k for k, v in enumerate(labels)}
    n = len(labels)
    h = np.array([-spin.get_linear(v) for v in labels], dtype=np.float64)
    rows, cols, vals = [], [], []
    for (u, v), bias in spin.quadratic.items():
        i, j = index[u], index[v]
        rows += [i, j]
        cols += [j, i]
        vals += [-bias, -bias]
    J = sp.csr_matrix((vals, (rows, cols)), shape=(n, n))
    return IsingModel.from_couplings(J, h, float(spin.offset), labels)


class CimsimSampler:
    """dimod-style sampler running any cimsim solver (``solver=`` keyword, default ``sa``)."""

    properties: dict = {"solvers": None}
    parameters: dict = {"solver": [], "replicas": [], "steps": [], "seed": [], "time_limit": []}

    def sample(self, bqm, *, solver: str = "sa", **kwargs: Any):
        dimod = _dimod()
        from .solvers import solve

        model = from_bqm(bqm)
        res = solve(model, solver, **kwargs)
        samples = np.asarray(res.spins, dtype=np.int8)[None, :]
        ss = dimod.SampleSet.from_samples_bqm((samples, list(model.labels)), bqm.change_vartype(dimod.SPIN, inplace=False))
        ss.info.update(solver=solver, time_s=res.time_s, cimsim_energy=res.energy)
        return ss.change_vartype(bqm.vartype, inplace=False)
