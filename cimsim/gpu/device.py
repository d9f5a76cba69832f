"""Where the GPU dynamics run: an array module, a step-kernel family, a state dtype and an RNG.

:class:`Device` bundles

``xp``
    ``cupy`` on a GPU; ``numpy`` as the CI stand-in (same code path, same call sequence).
``kernels``
    ``"cuda"``: the fused numba.cuda kernels of :mod:`cimsim.gpu.cuda_kernels` (real device, or the
    CUDA simulator on NumPy arrays); ``"xp"``: the array-module references of :mod:`cimsim.gpu.steps`.
``dtype``
    State dtype: float32 on the GPU (default), float64 to reproduce the CPU solvers bit for bit.

and :class:`Coupling`, the product ``out = Z J`` for a batch ``Z`` (rows are replicas): dense J through
``xp.matmul`` (cuBLAS GEMM on the device), CSR J through ``cupyx.scipy.sparse`` (cuSPARSE SpMM) or
``scipy.sparse`` for the stand-in. J is uploaded once, in the state dtype; a sparse J stays CSR.
Energies are always accumulated in float64.
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Callable

import numpy as np
import scipy.sparse as sp

from ..backends import resolve_backend
from ..errors import CimsimError
from ..memory import check_dense_fits
from ..model import IsingModel
from . import steps as ref

__all__ = ["Device", "Coupling", "coupling_for", "gpu_device", "numpy_device", "pick_device"]

#: device copies of J, kept while the model lives (repeated batches under a time limit upload J once)
_COUPLINGS: "weakref.WeakKeyDictionary[IsingModel, dict]" = weakref.WeakKeyDictionary()


@dataclass
class Device:
    """Array module + kernel family + state dtype (see the module docstring)."""

    xp: ModuleType
    kernels: str = "xp"
    dtype: Any = np.float32

    def __post_init__(self) -> None:
        if self.kernels not in ("xp", "cuda"):
            raise CimsimError(f"unknown kernel family {self.kernels!r}; choose xp or cuda")
        self.dtype = np.dtype(self.dtype)
        if self.dtype not in (np.float32, np.float64):
            raise CimsimError(f"state dtype must be float32 or float64, got {self.dtype}")

    # ------------------------------------------------------------------ identity
    @property
    def on_gpu(self) -> bool:
        return self.xp.__name__ == "cupy"

    @property
    def name(self) -> str:
        return f"{self.xp.__name__}/{self.kernels}/{self.dtype.name}"

    # ------------------------------------------------------------------ transfers
    def asarray(self, a: Any, dtype: Any = None) -> Any:
        """A C-contiguous copy of ``a`` on this device (never a view of the caller's array)."""
        return self.xp.array(a, dtype=dtype, order="C", copy=True)

    def to_host(self, a: Any) -> np.ndarray:
        """Download ``a`` to a NumPy array (no-op on NumPy)."""
        if self.on_gpu:
            return self.xp.asnumpy(a)
        return np.asarray(a)

    def synchronize(self) -> None:
        if self.on_gpu:
            self.xp.cuda.get_current_stream().synchronize()

    # ------------------------------------------------------------------ randomness
    def normal_source(self, rng: np.random.Generator) -> Callable[[Any], None]:
        """``fill(out)``: standard normals into ``out``.

        NumPy stand-in: drawn from ``rng`` itself, in the same order as the CPU solvers, so a seeded run
        reproduces the CPU trajectory exactly. GPU: an on-device generator (cuRAND via
        ``cupy.random.RandomState``) seeded from one draw of ``rng``; no host round-trip per step.
        """
        if not self.on_gpu:
            def fill(out: np.ndarray) -> None:
                if out.dtype == np.float64:
                    rng.standard_normal(out=out)
                else:
                    out[...] = rng.standard_normal(out.shape)
            return fill
        seed = int(rng.integers(0, 2**63 - 1))
        state = self.xp.random.RandomState(seed)
        dtype = self.dtype

        def fill_gpu(out: Any) -> None:
            out[...] = state.standard_normal(size=out.shape, dtype=dtype)

        return fill_gpu

    def stream_normal_source(self, rng: np.random.Generator, replicas: int) -> Callable[[Any], None]:
        """``fill(out)``: standard normals for the CIM dynamics noise.

        NumPy stand-in: the per-replica xorshift64* streams and polar-method normals of the CPU solver's
        fused Euler step (:func:`cimsim.kernels.descent.euler_step_noisy`), seeded by the same draw of
        ``rng``, so a seeded run reproduces the CPU trajectory exactly. GPU: as :meth:`normal_source`.
        """
        if not self.on_gpu:
            from ..kernels.descent import fill_normals

            streams = rng.integers(1, np.iinfo(np.int64).max, size=replicas, dtype=np.int64).astype(np.uint64)

            def fill(out: np.ndarray) -> None:
                if out.dtype == np.float64:
                    fill_normals(out, streams)
                else:
                    tmp = np.empty(out.shape)
                    fill_normals(tmp, streams)
                    out[...] = tmp
            return fill
        return self.normal_source(rng)

    # ------------------------------------------------------------------ fused steps
    def kview(self, a: Any) -> Any:
        """The handle the step kernels take for array ``a``: on a GPU with numba.cuda kernels, a numba
        device-array view made once (``sync=False``, so a launch never blocks the host on the stream as
        a per-launch ``__cuda_array_interface__`` import would); otherwise ``a`` itself."""
        if self.on_gpu and self.kernels == "cuda":
            from numba import cuda

            return cuda.as_cuda_array(a, sync=False)
        return a

    def _fused(self, reference: str, launcher: str, args: tuple) -> None:
        """Run the numba.cuda launcher ``cuda_kernels.<launcher>`` (kernels="cuda") or the xp reference
        ``steps.<reference>`` on ``args`` (both looked up at the call)."""
        if self.kernels == "cuda":
            from . import cuda_kernels

            getattr(cuda_kernels, launcher)(*args)
        else:
            getattr(ref, reference)(*args)

    def cim_step(self, *args: Any) -> None:
        self._fused("cim_step", "launch_cim", args)

    def sb_step(self, *args: Any) -> None:
        self._fused("sb_step", "launch_sb", args)

    def amp_step(self, *args: Any) -> None:
        self._fused("amp_step", "launch_amp", args)

    def readout(self, *args: Any) -> None:
        """Energies of the readout and best-so-far update (:func:`steps.readout` arguments)."""
        self._fused("readout", "launch_readout", args)

    def amp_control(self, *args: Any) -> None:
        """ahc/cac per-replica control after a step (:func:`steps.amp_control` arguments)."""
        self._fused("amp_control", "launch_amp_control", args)

    def sb_readout(self, X: Any, V: Any, P: Any, h: Any, offset: float, coupling: "Coupling", best_E: Any,
                   best_S: Any) -> None:
        """Exact discrete-SB readout from the dynamics product (:func:`steps.sb_readout`)."""
        if self.kernels == "cuda":
            from .cuda_kernels import launch_sb_readout

            launch_sb_readout(X, V, P, h, offset, coupling.kernel_handle(), best_E, best_S)
        else:
            def zero_fields(Z: Any) -> Any:
                out = self.xp.empty_like(Z)
                coupling.product(Z, out)
                return out

            ref.sb_readout(X, V, P, h, offset, zero_fields, best_E, best_S)

    # ------------------------------------------------------------------ helpers
    def energies(self, S: Any, PHI: Any, h: Any, offset: float) -> Any:
        """H = offset - sum_i S_i (PHI_i / 2 + h_i) per row, float64, from the raw products PHI = S J."""
        return ref.energies(S, PHI, h, offset)


class Coupling:
    """``product(Z, out)``: ``out = Z J`` for Z (M, N) on ``device`` (J uploaded once, in the state dtype).

    Dense J: one GEMM (cuBLAS on the GPU) into ``out``. CSR J: ``(J Z^T)^T`` with
    ``cupyx.scipy.sparse.csr_matrix`` (cuSPARSE) on the GPU, ``scipy.sparse`` on the stand-in.
    """

    def __init__(self, model: IsingModel, device: Device) -> None:
        self.device = device
        self._handle: Any = None
        self.n = model.n
        self.sparse = model.is_sparse
        xp = device.xp
        if self.sparse:
            J = model.J
            if device.on_gpu:
                import cupyx.scipy.sparse as csp  # type: ignore[import-not-found]

                self.J = csp.csr_matrix(
                    (xp.asarray(J.data, dtype=device.dtype), xp.asarray(J.indices), xp.asarray(J.indptr)),
                    shape=J.shape,
                )
            else:
                self.J = sp.csr_matrix((J.data.astype(device.dtype), J.indices, J.indptr), shape=J.shape)
        else:
            check_dense_fits(model.n, copies=1, itemsize=device.dtype.itemsize, what="device copy of J")
            self.J = device.asarray(model.J, dtype=device.dtype)

    def kernel_handle(self) -> Any:
        """J as the step kernels take it: a dense device array, or ``(indptr, indices, data)`` for CSR."""
        if self._handle is None:
            dev = self.device
            if self.sparse:
                self._handle = (dev.kview(self.J.indptr), dev.kview(self.J.indices), dev.kview(self.J.data))
            else:
                self._handle = dev.kview(self.J)
        return self._handle

    def product(self, Z: Any, out: Any) -> None:
        """out[...] = Z @ J for Z, out of shape (M, N) in the state dtype."""
        if self.sparse:
            out[...] = (self.J @ Z.T).T
        else:
            self.device.xp.matmul(Z, self.J, out=out)


def coupling_for(model: IsingModel, device: Device) -> Coupling:
    """The cached :class:`Coupling` of ``model`` on ``device`` (built on first use)."""
    per_model = _COUPLINGS.setdefault(model, {})
    key = (device.xp.__name__, device.dtype.name)
    if key not in per_model:
        per_model[key] = Coupling(model, device)
    return per_model[key]


def numpy_device(kernels: str = "xp", dtype: Any = np.float64) -> Device:
    """The CI stand-in: NumPy arrays, reference (``xp``) or simulated numba.cuda (``cuda``) kernels."""
    return Device(np, kernels, dtype)


def gpu_device(dtype: Any = np.float32, kernels: str | None = None) -> Device:
    """The real thing: CuPy arrays and the fused numba.cuda kernels (or, when numba.cuda cannot compile
    here, :func:`cimsim.backends.numba_cuda_usable`, the unfused CuPy references). Raises CimsimError (one
    line, with the install hint) when CuPy or a device is missing."""
    from ..backends import numba_cuda_usable

    resolve_backend("gpu")
    import cupy  # type: ignore[import-not-found]

    if kernels is None:
        kernels = "cuda" if numba_cuda_usable() else "xp"
    return Device(cupy, kernels, dtype)


def pick_device(device: Device | None) -> Device:
    """``device``, or the GPU (:func:`gpu_device`) when it is ``None``: the default of every executor."""
    return gpu_device() if device is None else device
