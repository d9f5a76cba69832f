"""SK landscape analysis of the soft-spin (classical CIM) energy E_a (physics.md sections 1, 2, 6, 7).

Submodules: ``energy`` (E_a, gradient, Hessian, batched), ``theory`` (zero-temperature RS equations,
Pastur Hessian law), ``critical`` (minima, adiabatic path, index-k saddles, de-duplication),
``hessian`` (spectra, index, densities), ``stats`` (per-a statistics), ``phase`` (the a-grid sweep and
transition estimates). The functions E_a, g and K live in ``cimsim.landscape.energy`` (not re-exported
here, so the submodule names ``energy`` and ``hessian`` are not shadowed). Convention: E_a(x) = sum(x^4/4 - a x^2/2) - 1/2 x^T J x - h^T x, J_ij ~ N(0, 1/N).
"""
from .critical import (CriticalPoints, adiabatic_path, classify, deduplicate, find_minima, find_saddles,
                       newton_polish)
from .theory import RSPoint, b_zero_point, hessian_edge, pastur_density, rs_solve, rs_table

__all__ = [
    "CriticalPoints", "adiabatic_path", "classify", "deduplicate", "find_minima", "find_saddles", "newton_polish",
    "RSPoint", "b_zero_point", "hessian_edge", "pastur_density",
    "rs_solve", "rs_table",
]

# ``cimsim.landscape(...)`` is the Python twin of ``cimsim landscape`` (cimsim.api.landscape): the package is
# made callable so that the function and this subpackage can share the name.
import sys as _sys

from ..api import CallableLandscapeModule as _Callable

_sys.modules[__name__].__class__ = _Callable
