"""Raw Ising models from files: ``.npz`` (dense ``J`` or scipy sparse, optional ``h``) or MatrixMarket ``.mtx``.

Accepted ``.npz`` layouts:

* ``numpy.savez(path, J=J, h=h)`` with a dense ``J`` (and optional ``h``, ``offset``);
* ``scipy.sparse.save_npz(path, J)`` (no fields);
* ``numpy.savez(path, J_data=..., J_indices=..., J_indptr=..., J_shape=..., h=...)``: CSR parts.

The objective is the Ising energy itself (minimised).
"""
from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import scipy.io
import scipy.sparse as sp

from ..errors import CimsimError
from ..model import IsingModel
from . import Encoded, Solution

__all__ = ["encode_ising", "from_file", "load_model"]


def encode_ising(model: IsingModel) -> Encoded:
    """Wrap a model so that the objective is its energy."""

    def decode(spins: np.ndarray) -> Solution:
        return Solution(model.energy(spins), True, {})

    return Encoded("ising", model, decode, "min", "energy", model.to_dict())


def load_model(path: str | Path) -> IsingModel:
    """Read an :class:`IsingModel` from ``.npz`` or ``.mtx`` (see the module docstring)."""
    p = Path(path)
    if not p.is_file():
        raise CimsimError(f"{p}: no such file")
    suffix = p.suffix.lower()
    try:
        if suffix == ".mtx":
            J = scipy.io.mmread(str(p))
            return IsingModel.from_couplings(sp.csr_matrix(J) if sp.issparse(J) else np.asarray(J))
        if suffix != ".npz":
            raise CimsimError(f"{p}: expected a .npz or .mtx file")
        with np.load(p, allow_pickle=False) as z:
            keys = set(z.files)
            h = z["h"] if "h" in keys else None
            offset = float(z["offset"]) if "offset" in keys else 0.0
            if "J" in keys:
                J = z["J"]
            elif {"J_data", "J_indices", "J_indptr", "J_shape"} <= keys:
                J = sp.csr_matrix((z["J_data"], z["J_indices"], z["J_indptr"]), shape=tuple(z["J_shape"]))
            elif {"data", "indices", "indptr", "shape", "format"} <= keys:
                J = sp.load_npz(p)
            else:
                raise CimsimError(f"{p}: no coupling matrix 'J' in the archive (found {', '.join(sorted(keys)) or 'nothing'})")
    except CimsimError:
        raise
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise CimsimError(f"{p}: cannot read {suffix} file ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") from None
    return IsingModel.from_couplings(J, h, offset)


def from_file(path: str | Path, **options) -> Encoded:
    if options:
        raise CimsimError(f"ising takes no options, got {', '.join(options)}")
    return encode_ising(load_model(path))
