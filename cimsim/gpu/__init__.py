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
    ``cim_run``, ``sb_run``, ``ahc_run``, ``cac_run``, ``spectral_run``: the solver contract on the device.
:mod:`cimsim.gpu.linalg`
    ``batched_eigvalsh``, ``hessian_spectra`` (landscape Hessians), ``top_eigenpairs`` (spectral).

Nothing here imports CuPy at module import time: on a machine without it, only asking for the GPU
(``gpu_device()``, ``backend="gpu"``) fails, with one line saying what is missing.
"""
from __future__ import annotations

from typing import Any

from .device import Coupling, Device, gpu_device, numpy_device
from .dynamics import ahc_run, amplitude_simulate, cac_run, cim_run, sb_run, sb_simulate, spectral_run
from .linalg import batched_eigvalsh, hessian_spectra, top_eigenpairs

__all__ = [
    "Device", "Coupling", "gpu_device", "numpy_device", "RUNNERS", "run",
    "cim_run", "sb_run", "ahc_run", "cac_run", "spectral_run", "amplitude_simulate", "sb_simulate",
    "batched_eigvalsh", "hessian_spectra", "top_eigenpairs",
]

#: solver name -> device implementation of its ``run``
RUNNERS = {"cim": cim_run, "sb": sb_run, "ahc": ahc_run, "cac": cac_run, "spectral": spectral_run}


def run(solver: str, model: Any, **kwargs: Any) -> Any:
    """``run(model, ...)`` of ``solver`` on the device: what the CPU solvers dispatch to for ``backend="gpu"``."""
    return RUNNERS[solver](model, **kwargs)
