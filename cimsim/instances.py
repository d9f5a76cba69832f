"""Random instance ensembles, seeded and reproducible."""
from __future__ import annotations

import numpy as np

from .errors import CimsimError
from .memory import check_dense_fits
from .model import IsingModel

__all__ = ["sk_couplings", "sk_model", "PARISI_ENERGY"]

#: Parisi ground-state energy per spin of SK with J_ij ~ N(0, 1/N) (Crisanti & Rizzo 2002).
PARISI_ENERGY = -0.7631667


def sk_couplings(n: int, rng: np.random.Generator | int | None = None, *, kind: str = "gaussian") -> np.ndarray:
    """Dense SK couplings, symmetric with zero diagonal, entry variance 1/N.

    kind="gaussian": J = (A + A^T) / sqrt(2N) with A ~ N(0, 1), so J_ij ~ N(0, 1/N) (physics.md 1).
    kind="pm1":      J_ij = +-1/sqrt(N) with equal probability.
    """
    n = int(n)
    if n < 2:
        raise CimsimError(f"an SK instance needs N >= 2, got {n}")
    check_dense_fits(n, copies=3, what="SK coupling matrix")
    rng = np.random.default_rng(rng)
    if kind == "gaussian":
        A = rng.standard_normal((n, n))
        J = (A + A.T) / np.sqrt(2.0 * n)
    elif kind == "pm1":
        U = np.triu(rng.choice([-1.0, 1.0], size=(n, n)), 1)
        J = (U + U.T) / np.sqrt(n)
    else:
        raise CimsimError(f"unknown SK kind {kind!r}; choose gaussian or pm1")
    np.fill_diagonal(J, 0.0)
    return J


def sk_model(n: int, seed: int | np.random.Generator | None = None, *, kind: str = "gaussian") -> IsingModel:
    """An :class:`IsingModel` (dense, no fields) holding one SK instance."""
    J = sk_couplings(n, seed, kind=kind)
    return IsingModel(J, np.zeros(n), 0.0, None, {"ensemble": f"sk-{kind}", "n": n})
