"""The GPU backend (``--backend gpu``): CuPy arrays, cuBLAS/cuSPARSE products, fused numba.cuda step kernels.

Layout
------
:mod:`cimsim.gpu.device`
    :class:`Device` (array module ``xp``, kernel family, state dtype, on-device RNG) and
    :class:`Coupling` (dense GEMM / CSR SpMM products with J uploaded once).
:mod:`cimsim.gpu.steps`
    The fused per-step updates written against ``xp`` (the NumPy stand-in and the reference the CUDA
    kernels are tested against).
:mod:`cimsim.gpu.cuda_kernels`
    The same updates as numba.cuda kernels (one launch per step; run under the CUDA simulator in CI).
:mod:`cimsim.gpu.dynamics`
    The executors ``cim_simulate``, ``sb_simulate``, ``amplitude_simulate`` (ahc/cac) and
    ``spectral_roundings``: plain arrays in, host arrays out. The solver modules of
    :mod:`cimsim.solvers` validate parameters, draw initial states, call these for ``backend="gpu"`` and
    build the batches; nothing in this package imports a solver.
:mod:`cimsim.gpu.linalg`
    ``batched_eigvalsh``, ``hessian_spectra`` (landscape Hessians), ``top_eigenpairs`` (spectral).

Nothing here imports CuPy at module import time: on a machine without it, only asking for the GPU
(``gpu_device()``, ``backend="gpu"``) fails, with one line saying what is missing.
"""
from __future__ import annotations

from .device import Coupling, Device, gpu_device, numpy_device, pick_device
from .dynamics import CimTrajectory, amplitude_simulate, cim_simulate, sb_simulate, spectral_roundings
from .linalg import batched_eigvalsh, hessian_spectra, top_eigenpairs

__all__ = [
    "Device", "Coupling", "gpu_device", "numpy_device", "pick_device",
    "CimTrajectory", "cim_simulate", "sb_simulate", "amplitude_simulate", "spectral_roundings",
    "batched_eigvalsh", "hessian_spectra", "top_eigenpairs",
]
