"""Array backends: ``cpu`` (NumPy + numba) and ``gpu`` (CuPy).

``resolve_backend("auto")`` picks ``gpu`` only when CuPy imports *and* a CUDA device is present;
``resolve_backend("gpu")`` on a machine without either raises :class:`CimsimError` saying which is
missing and how to install the extra.
"""
from __future__ import annotations

from .errors import CimsimError

__all__ = ["BACKENDS", "resolve_backend", "gpu_status", "numba_cuda_usable"]

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


_NUMBA_CUDA_OK: bool | None = None


def numba_cuda_usable() -> bool:
    """Whether numba.cuda can compile and launch a kernel on CuPy memory here (needs the CUDA
    toolkit's NVVM, which CuPy wheels do not ship). The GPU backend falls back to unfused CuPy
    element-wise operations (cimsim.gpu.steps) when it cannot. Cached after the first call."""
    global _NUMBA_CUDA_OK
    if _NUMBA_CUDA_OK is None:
        try:
            import cupy  # type: ignore[import-not-found]
            from numba import cuda

            @cuda.jit
            def _probe(a):  # pragma: no cover - device code
                i = cuda.grid(1)
                if i < a.shape[0]:
                    a[i] = 2.0 * a[i]

            arr = cupy.ones(4, dtype=cupy.float32)
            _probe[1, 32](arr)
            _NUMBA_CUDA_OK = bool(float(arr.sum().get()) == 8.0)
        except Exception:
            _NUMBA_CUDA_OK = False
    return _NUMBA_CUDA_OK
