"""Raw Ising models from files, and back: ``.npz``, MatrixMarket ``.mtx`` and QUBO text ``.qubo``.

Accepted ``.npz`` layouts:

* ``numpy.savez(path, J=J, h=h)`` with a dense ``J`` (and optional ``h``, ``offset``, ``labels``);
* ``scipy.sparse.save_npz(path, J)`` (no fields);
* ``numpy.savez(path, J_data=..., J_indices=..., J_indptr=..., J_shape=..., h=...)``: CSR parts.

``.mtx``: the symmetric coupling matrix ``J`` only (fields cannot be stored; a model with fields is
refused by :func:`save_model`). Stored ``symmetric`` (one triangle, mirrored by the reader, as
:func:`save_model` writes it) or ``general``; a ``general`` file whose off-diagonal entries all lie in one
triangle (only ``i < j``, or only ``i > j``: upper- or lower-triangular storage) lists the coupling ``J_ij``
of each pair once, and is mirrored too. Any other non-symmetric matrix is refused naming the file. ``.qubo``: the QUBO text format of :mod:`cimsim.encoders.qubo`
(``f(x) = H(2x - 1)``); the decoded answer then also carries ``x``, the 0/1 assignment.

:func:`save_model` writes any of the three so that :func:`load_model` reads back the same energies
(``.npz`` and ``.mtx`` bit for bit; ``.qubo`` to float rounding of the Ising<->QUBO conversion).
The objective is the Ising energy itself (minimised); for a ``.qubo`` file that is ``f(x)``.
"""
from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import scipy.io
import scipy.sparse as sp

from ..errors import CimsimError
from ..memory import check_fits
from ..model import IsingModel
from . import Encoded, Solution

__all__ = ["encode_ising", "from_file", "load_model", "save_model", "MODEL_SUFFIXES"]

#: file suffixes :func:`load_model` and :func:`save_model` understand
MODEL_SUFFIXES = (".npz", ".mtx", ".qubo")


def encode_ising(model: IsingModel, *, binary: bool = False) -> Encoded:
    """Wrap a model so that the objective is its energy; ``binary`` adds ``x = (s + 1) / 2`` to the answer."""

    def decode(spins: np.ndarray) -> Solution:
        ans = {"x": [int(v > 0) for v in np.asarray(spins)]} if binary else {}
        return Solution(model.energy(spins), True, ans)

    return Encoded("ising", model, decode, "min", "energy", model.to_dict())


def _npz_labels(labels: tuple | None) -> np.ndarray | None:
    """Labels as a plain numpy array (str or int), or None when they cannot be stored without pickle."""
    if labels is None:
        return None
    if all(isinstance(v, str) for v in labels):
        return np.array(labels, dtype=str)
    if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in labels):
        return np.array(labels, dtype=np.int64)
    return None


def save_model(path: str | Path, model: IsingModel, *, fmt: str | None = None) -> Path:
    """Write ``model`` to ``path`` (``.npz``, ``.mtx`` or ``.qubo``, from the suffix unless ``fmt`` says).

    ``.npz`` keeps the storage (dense ``J`` or CSR parts ``J_data/J_indices/J_indptr/J_shape``), ``h``,
    ``offset`` and string or integer labels. ``.mtx`` holds ``J`` only: a model with fields or an
    offset is refused (use ``.npz``). ``.qubo`` writes the cimsim QUBO text format. Atomic: a reader
    never sees half a file.
    """
    from ..atomic import atomic_path

    p = Path(path)
    kind = (fmt if fmt is not None else p.suffix.lower()).lstrip(".")
    if f".{kind}" not in MODEL_SUFFIXES:
        raise CimsimError(f"{p}: cannot write a model as {kind or 'a file without suffix'!r}; use .npz, .mtx or .qubo")
    if not p.parent.is_dir():
        raise CimsimError(f"{p}: directory {p.parent} does not exist")
    if kind == "qubo":
        from .qubo import write_qubo

        return write_qubo(p, model)
    if kind == "mtx":
        if model.has_fields or model.offset != 0:
            raise CimsimError(f"{p}: MatrixMarket holds J only, but the model has fields or an offset; use .npz")
        with atomic_path(p) as tmp:
            with open(tmp, "wb") as fh:
                scipy.io.mmwrite(fh, model.J if model.is_sparse else np.asarray(model.J), symmetry="symmetric",
                                 comment="cimsim Ising couplings J: H(s) = -1/2 s^T J s", precision=17)
        return p
    arrays: dict[str, np.ndarray] = {"h": model.h, "offset": np.float64(model.offset)}
    if model.is_sparse:
        J = model.J
        arrays.update(J_data=J.data, J_indices=J.indices, J_indptr=J.indptr, J_shape=np.array(J.shape))
    else:
        arrays["J"] = np.asarray(model.J)
    labels = _npz_labels(model.labels)
    if labels is not None:
        arrays["labels"] = labels
    with atomic_path(p) as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, **arrays)
    return p


def _check_mtx_size(p: Path) -> str:
    """Validate a MatrixMarket file line by line before scipy reads it, and refuse a declared size that
    cannot fit in memory. scipy's C++ reader crashes the interpreter (SIGSEGV, scipy 1.1x) on some malformed
    bodies, e.g. a real value in an ``integer`` file or an extra value in a ``pattern`` file, so nothing
    malformed may reach it (found by tests/test_fuzz.py). Returns the header's symmetry."""
    from ._text import iter_lines

    lines = iter_lines(p)
    head = next(lines, (1, ""))[1].split()
    if len(head) != 5 or head[0].lower() != "%%matrixmarket" or head[1].lower() != "matrix":
        raise CimsimError(f"{p}: line 1: expected '%%MatrixMarket matrix FORMAT FIELD SYMMETRY'")
    fmt, field, symmetry = (h.lower() for h in head[2:])
    if fmt not in ("coordinate", "array") or field not in ("real", "integer", "pattern", "double") or \
            symmetry not in ("general", "symmetric", "skew-symmetric") or (fmt == "array" and field == "pattern"):
        raise CimsimError(f"{p}: line 1: unsupported MatrixMarket type {' '.join(head[2:])[:60]!r} "
                          "(real, integer or pattern; general or symmetric)")
    size: list[int] | None = None
    count = 0
    want = (2 if field == "pattern" else 3) if fmt == "coordinate" else 1
    for k, line in lines:
        t = line.split()
        if not t or t[0].startswith("%"):
            continue
        if size is None:
            try:
                size = [int(x) for x in t]
            except ValueError:
                size = []
            if len(size) != (3 if fmt == "coordinate" else 2) or min(size) < 0:
                raise CimsimError(f"{p}: line {k}: expected the size line 'ROWS COLS{' ENTRIES' if fmt == 'coordinate' else ''}'")
            rows, cols = size[0], size[1]
            entries = size[2] if fmt == "coordinate" else rows * cols
            need = 8.0 * rows * cols if fmt == "array" else 64.0 * entries + 48.0 * max(rows, cols)
            check_fits(need, f"{p}: a {rows} x {cols} matrix with {entries} entries", "the declared size is too large")
            continue
        count += 1
        if len(t) != want or count > entries:
            raise CimsimError(f"{p}: line {k}: malformed MatrixMarket entry {' '.join(t)[:60]!r}")
        try:
            if fmt == "coordinate":
                i, j = int(t[0]), int(t[1])
                if not (1 <= i <= rows and 1 <= j <= cols):
                    raise ValueError
            if field == "integer":
                int(t[-1])
            elif field != "pattern":
                float(t[-1])
        except ValueError:
            raise CimsimError(f"{p}: line {k}: malformed MatrixMarket entry {' '.join(t)[:60]!r}") from None
    if size is None:
        raise CimsimError(f"{p}: no size line")
    if fmt == "coordinate" and count != entries:
        raise CimsimError(f"{p}: the size line declares {entries} entries but the file has {count}")
    return symmetry


def _mtx_couplings(p: Path, J: "np.ndarray | sp.spmatrix", symmetry: str) -> "np.ndarray | sp.csr_matrix":
    """J of a MatrixMarket file: a ``general`` matrix with off-diagonal entries in one triangle only lists
    each pair's coupling once and is mirrored into the symmetric J; any other asymmetric matrix is refused."""
    if sp.issparse(J):
        J = sp.csr_matrix(J, dtype=np.float64)
        upper, lower, diag = sp.triu(J, k=1), sp.tril(J, k=-1), sp.diags(J.diagonal())
        one_triangle = upper.count_nonzero() == 0 or lower.count_nonzero() == 0
    else:
        J = np.asarray(J, dtype=np.float64)
        upper, lower, diag = np.triu(J, 1), np.tril(J, -1), np.diag(np.diag(J))
        one_triangle = not np.any(upper) or not np.any(lower)
    if J.shape[0] != J.shape[1]:
        raise CimsimError(f"{p}: the coupling matrix must be square, got {J.shape[0]} x {J.shape[1]}")
    if symmetry == "general" and one_triangle:
        T = upper + lower
        return sp.csr_matrix(T + T.T + diag) if sp.issparse(J) else T + T.T + diag
    with np.errstate(over="ignore", invalid="ignore"):
        A = abs(J - J.T)
        gap = float(A.max()) if A.shape[0] and (not sp.issparse(A) or A.nnz) else 0.0
        scale = float(abs(J).max()) if J.shape[0] and (not sp.issparse(J) or J.nnz) else 0.0
    if gap > 1e-9 * max(scale, 1.0):  # NaN entries pass on, to be refused as NaN by IsingModel.from_couplings
        raise CimsimError(f"{p}: the coupling matrix is not symmetric (max |J_ij - J_ji| = {gap:.3g}); write it with "
                          "'symmetric' in the header, or as 'general' listing each pair's coupling once (only i < j)")
    return J


def _check_npz_size(p: Path) -> None:
    """Refuse (before decompressing) an .npz whose arrays, as declared in their headers, cannot fit in memory."""
    total = 0.0
    with zipfile.ZipFile(p) as zf:
        for info in zf.infolist():
            if not info.filename.endswith(".npy"):
                continue
            with zf.open(info) as fh:
                version = np.lib.format.read_magic(fh)
                if version == (1, 0):
                    shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
                elif version == (2, 0):
                    shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
                else:
                    continue
                total += float(np.prod(shape, dtype=np.float64)) * dtype.itemsize
    check_fits(total, f"{p}: the arrays in the archive", "the archive is too large for this machine")


def load_model(path: str | Path) -> IsingModel:
    """Read an :class:`IsingModel` from ``.npz``, ``.mtx`` or ``.qubo`` (see the module docstring)."""
    p = Path(path)
    try:
        is_file = p.is_file()
    except OSError as exc:  # e.g. a name longer than the file system allows
        from ._text import file_error

        raise file_error(p, exc) from None
    if not is_file:
        raise CimsimError(f"{p}: no such file")
    suffix = p.suffix.lower()
    labels = None
    if suffix == ".qubo":
        from .qubo import load_qubo_model

        return load_qubo_model(p)
    try:
        if suffix == ".mtx":
            symmetry = _check_mtx_size(p)
            return IsingModel.from_couplings(_mtx_couplings(p, scipy.io.mmread(str(p)), symmetry))
        if suffix != ".npz":
            raise CimsimError(f"{p}: expected a .npz, .mtx or .qubo file")
        _check_npz_size(p)
        with np.load(p, allow_pickle=False) as z:
            keys = set(z.files)
            h = z["h"] if "h" in keys else None
            offset = float(z["offset"]) if "offset" in keys else 0.0
            labels = [v.item() for v in z["labels"]] if "labels" in keys else None
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
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, IndexError, TypeError, OverflowError) as exc:
        raise CimsimError(f"{p}: cannot read {suffix} file ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") from None
    if labels is not None and len(labels) != J.shape[0]:
        raise CimsimError(f"{p}: {len(labels)} labels for a {J.shape[0]} x {J.shape[0]} coupling matrix")
    return IsingModel.from_couplings(J, h, offset, labels)


#: the options ``from_file`` accepts: none
OPTIONS: tuple[str, ...] = ()


def from_file(path: str | Path, **options) -> Encoded:
    """Ising model from ``.npz``, ``.mtx`` or ``.qubo`` (the answer of a ``.qubo`` also has ``x``, 0/1)."""
    if options:
        raise CimsimError(f"ising takes no options, got {', '.join(options)}")
    return encode_ising(load_model(path), binary=Path(path).suffix.lower() == ".qubo")
