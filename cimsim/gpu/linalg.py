"""Device linear algebra: batched Hessian spectra and the top eigenpairs of J.

``batched_eigvalsh(K)``
    Eigenvalues of a stack (B, n, n) of symmetric matrices in one call (``cupy.linalg.eigvalsh``, which
    batches on the device; ``numpy.linalg.eigvalsh`` on the stand-in).
``hessian_spectra(J, a, X)``
    Sorted eigenvalues of K(x) = diag(3 x^2 - a) - J (physics.md 2.4) at every row of X (B, N): the
    Hessians are formed on the device in chunks of at most ``max_bytes`` and diagonalised batched.
    The landscape code can call it instead of its per-point SciPy loop.
``top_eigenpairs(model, k, rng)``
    The k largest eigenvalues (descending) and eigenvectors (N, k) of J on the device: dense
    ``eigh`` for N <= 400 (as the CPU spectral solver), else Lanczos (``cupyx.scipy.sparse.linalg.eigsh``,
    ``which="LA"``) on the CSR or dense J, started from the same host draw ``v0 = rng.standard_normal(N)``.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import CimsimError
from ..model import IsingModel
from .device import Device, pick_device

__all__ = ["batched_eigvalsh", "hessian_spectra", "top_eigenpairs", "DENSE_EIGH_MAX_N"]

DENSE_EIGH_MAX_N = 400


def _dev(device: Device | None) -> Device:
    return pick_device(device)


def batched_eigvalsh(K: Any, device: Device | None = None) -> Any:
    """Ascending eigenvalues of a symmetric (n, n) or stacked (B, n, n) array ``K``, on ``device``.

    Returns a device array of shape (n,) or (B, n) (float64 for float64 input).
    """
    dev = _dev(device)
    A = dev.xp.asarray(K)
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise CimsimError(f"batched_eigvalsh needs (n, n) or (B, n, n) matrices, got shape {tuple(A.shape)}")
    if A.ndim == 2:
        return dev.xp.linalg.eigvalsh(A)
    try:
        return dev.xp.linalg.eigvalsh(A)  # one batched call (CuPy >= 12 batches with syevj)
    except (ValueError, NotImplementedError, TypeError):  # older CuPy: 2-D only
        flat = A.reshape((-1,) + A.shape[-2:])
        out = dev.xp.stack([dev.xp.linalg.eigvalsh(k) for k in flat])
        return out.reshape(A.shape[:-1])


def hessian_spectra(J: Any, a: float, X: Any, device: Device | None = None, *, max_bytes: int = 1 << 28) -> np.ndarray:
    """Host (B, N) sorted eigenvalues of K(x) = diag(3 x^2 - a) - J for each row x of X (or (N,) for one x).

    J must be dense (N, N). Chunks of Hessians, each at most ``max_bytes`` of float64, are built and
    diagonalised on the device.
    """
    dev = _dev(device)
    xp = dev.xp
    Jh = np.asarray(J, dtype=np.float64)
    Xh = np.asarray(X, dtype=np.float64)
    one = Xh.ndim == 1
    Xh = np.atleast_2d(Xh)
    B, N = Xh.shape
    if Jh.shape != (N, N):
        raise CimsimError(f"J has shape {Jh.shape} but the points have {N} coordinates")
    Jd = dev.asarray(Jh, dtype=np.float64)
    chunk = max(1, int(max_bytes // (8 * N * N)))
    out = np.empty((B, N))
    idx = xp.arange(N)
    for b0 in range(0, B, chunk):
        b1 = min(B, b0 + chunk)
        Xd = dev.asarray(Xh[b0:b1], dtype=np.float64)
        K = xp.broadcast_to(-Jd, (b1 - b0, N, N)).copy()
        K[:, idx, idx] += 3.0 * Xd * Xd - a
        out[b0:b1] = dev.to_host(batched_eigvalsh(K, dev))
    return out[0] if one else out


def top_eigenpairs(model: IsingModel, k: int, rng: np.random.Generator, device: Device | None = None) -> tuple[Any, Any]:
    """Device ``(w, V)``: the k largest eigenvalues of J, descending, and eigenvectors (N, k), float64.

    Mirrors the CPU spectral solver's eigenpairs (same k clamp, same method switch, same
    host draw of ``v0``), with the eigensolver on the device.
    """
    dev = _dev(device)
    xp = dev.xp
    n = model.n
    k = max(1, min(k, n - 1 if n > 2 else n))
    if n <= DENSE_EIGH_MAX_N or n <= k + 1:
        w, V = xp.linalg.eigh(dev.asarray(model.dense_couplings(), dtype=np.float64))
        w, V = w[n - k:], V[:, n - k:]
    else:
        v0 = rng.standard_normal(n)
        if dev.on_gpu:
            import cupyx.scipy.sparse as csp  # type: ignore[import-not-found]
            import cupyx.scipy.sparse.linalg as csla  # type: ignore[import-not-found]

            J = model.J
            A = csp.csr_matrix((xp.asarray(J.data), xp.asarray(J.indices), xp.asarray(J.indptr)), shape=J.shape) \
                if model.is_sparse else xp.asarray(J, dtype=np.float64)
            w, V = csla.eigsh(A, k=k, which="LA", v0=xp.asarray(v0), tol=1e-8, maxiter=max(1000, 20 * n))
        else:
            import scipy.sparse.linalg as sla_sparse

            w, V = sla_sparse.eigsh(model.J, k=k, which="LA", v0=v0, tol=1e-8, maxiter=max(1000, 20 * n))
    order = xp.argsort(w)[::-1]
    return w[order], xp.ascontiguousarray(V[:, order])
