"""Array backends: ``cpu`` (NumPy + numba) and ``gpu`` (CuPy).

``resolve_backend("auto")`` picks ``gpu`` only when CuPy imports *and* a CUDA device is present;
``resolve_backend("gpu")`` on a machine without either raises :class:`CimsimError` saying which is
missing and how to install the extra.
"""
from __future__ import annotations

from types import ModuleType

import numpy as np

from .errors import CimsimError

__all__ = ["BACKENDS", "resolve_backend", "array_module", "gpu_status"]

BACKENDS = ("auto", "cpu", "gpu")
GPU_INSTALL_HINT = 'install the GPU extra with: pip install "cimsim[gpu]"'


def gpu_status() -> tuple[bool, str]:
    """(available, reason): whether CuPy imports and sees at least one CUDA device."""
    try:
        import cupy  # type: ignore[import-not-found]
    except Exception:  # ImportError, or a broken CUDA runtime raising at import
        return False, f"CuPy is not installed; {GPU_INSTALL_HINT}"
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # cupy raises CUDARuntimeError without a driver
        return False, f"CuPy is installed but no CUDA device is usable ({type(exc).__name__}); run on a machine with an NVIDIA GPU and driver"
    if count < 1:
        return False, "CuPy is installed but no CUDA device was found; run on a machine with an NVIDIA GPU"
    return True, f"{count} CUDA device(s)"


def resolve_backend(name: str) -> str:
    """Map ``auto|cpu|gpu`` to ``cpu`` or ``gpu``; refuse ``gpu`` clearly when it cannot run."""
    if name not in BACKENDS:
        raise CimsimError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")
    if name == "cpu":
        return "cpu"
    ok, reason = gpu_status()
    if name == "gpu":
        if not ok:
            raise CimsimError(f"--backend gpu is unavailable: {reason}")
        return "gpu"
    return "gpu" if ok else "cpu"


def array_module(backend: str) -> ModuleType:
    """``numpy`` for ``cpu``, ``cupy`` for ``gpu``."""
    if resolve_backend(backend) == "gpu":
        import cupy  # type: ignore[import-not-found]

        return cupy
    return np
