"""What the machine-model solvers share: the pump in units of threshold (dopo, mfb), the readout
bookkeeping (best state per replica, optional trace, divergence), the coupling normalisation of the
feedback CIMs, and the loop of the two-variable dynamics with one product J x per step (cfc, sfc, asb,
simcim; one product = one MVM, the cost unit of their published benchmarks)."""
from __future__ import annotations

import math
import weakref
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ..errors import CimsimError, divergence_error, positive_int
from ..memory import check_batch_fits
from ..model import IsingModel
from ..params import validate
from ..sampling import active_tap
from ..schedules import Schedule, parse_schedule
from . import Batch

__all__ = ["MachinePlan", "start", "cpu_only", "replica_streams", "pump_values", "Readout", "lambda_min_cached", "feedback_dt", "coupling_norm", "field_product", "product_dtype", "DENSE_F32_MIN_N", "scaled_f32", "dense_matvec_f32", "f32_matvec", "replica_minor", "scaled_csr", "fused_csr", "integrate"]

@dataclass(frozen=True)
class MachinePlan:
    """The fields every machine model's validated plan starts with (dopo, mfb): the batch layout, the pump
    schedule in units of threshold, the coupling strength eps and the saturation parameter g^2."""

    replicas: int
    steps: int
    schedule: Schedule
    eps: float
    g2: float


def start(solver: str, declared: tuple, params: dict, replicas: Any, steps: Any) -> tuple[dict, int, int, Schedule, np.ndarray]:
    """Validate ``params`` against ``declared`` and the batch layout; returns ``(values, R, T, schedule,
    pump)`` with the parsed ``schedule`` value and its (T,) values (``values`` keeps the spec string)."""
    v = validate(declared, params, solver)
    R, T = positive_int(replicas, "replicas"), positive_int(steps, "steps")
    sched = parse_schedule(v["schedule"]) if "schedule" in v else None
    pump = (sched.values(T) if T > 1 else np.array([float(sched(0.0))])) if sched is not None else np.zeros(T)
    return v, R, T, sched, pump


def cpu_only(solver: str, backend: str) -> None:
    """Refuse ``backend="gpu"`` in one line: the machine models have CPU executors only."""
    if backend == "gpu":
        raise CimsimError(f"solver {solver!r} has no GPU executor (it runs on the CPU only); use --backend cpu")


def replica_streams(rng: np.random.Generator, replicas: int) -> np.ndarray:
    """(R,) non-zero uint64 seeds of the per-replica xorshift64* streams the kernels draw normals from."""
    return rng.integers(1, np.iinfo(np.int64).max, size=replicas, dtype=np.int64).astype(np.uint64)


_LAMBDA_MIN: "weakref.WeakKeyDictionary[IsingModel, float]" = weakref.WeakKeyDictionary()


def lambda_min_cached(model: IsingModel) -> float:
    """Smallest eigenvalue of the raw couplings J (cached per model): step-size rules of sfc and asb need it."""
    lam = _LAMBDA_MIN.get(model)
    if lam is None:
        from .sb import lambda_min

        lam = lambda_min(model) if model.n > 1 else 0.0
        _LAMBDA_MIN[model] = lam
    return lam


def pump_values(model: IsingModel, schedule: Schedule, eps: float, steps: int,
                rng: np.random.Generator) -> tuple[np.ndarray, float | None]:
    """(steps,) pump values p (units of the solitary threshold) and lambda_max of J_hat when needed.

    A ``relative`` schedule holds offsets from the network threshold p_th = 1 - eps lambda_max(J_hat),
    where the first collective mode of the coupled pulses starts to grow (physics.md 8.2)."""
    lam = None
    if getattr(schedule, "relative", False):
        from .adiabatic import lambda_max

        lam = lambda_max(model, rng)
        schedule = schedule.absolute(eps * lam - 1.0)
    return (schedule.values(steps) if steps > 1 else np.array([float(schedule(0.0))])), lam


class Readout:
    """Scores the Ising readout sign(v) of (R, N) amplitudes: per-replica best (or last) state, an optional
    trace of replica 0, and a one-line divergence error naming ``what_to_change``."""

    def __init__(self, model: IsingModel, first: np.ndarray, *, solver: str, steps: int, track_best: bool,
                 record: int) -> None:
        self.model, self.solver, self.steps, self.track_best = model, solver, steps, track_best
        self.spins = np.where(first >= 0, 1, -1).astype(np.int8)
        self.energies = model.energies(self.spins)
        R, n = first.shape
        self.trace_pump = np.zeros(record)
        self.trace_x = np.zeros((record, n))
        self.trace_energy = np.zeros((record, R))
        self.count = 0
        self.steps_taken = 0  # steps done at the last readout

    def __call__(self, step: int, amplitudes: np.ndarray, pump: float, what_to_change: str) -> np.ndarray:
        """Score the readout after ``step`` (0-based) steps; returns the (R,) energies of this readout."""
        if not np.isfinite(amplitudes.sum()):
            bad = int((~np.isfinite(amplitudes).all(axis=1)).sum())
            raise divergence_error(self.solver, step + 1, self.steps, bad, amplitudes.shape[0], what_to_change)
        S = np.where(amplitudes >= 0, 1, -1).astype(np.int8)
        E = self.model.energies(S)
        self.steps_taken = step + 1
        if self.track_best:
            better = E < self.energies
            self.spins[better] = S[better]
            self.energies = np.where(better, E, self.energies)
        else:
            self.spins, self.energies = S, E
        if self.count < self.trace_pump.shape[0]:
            k = self.count
            self.trace_pump[k], self.trace_x[k], self.trace_energy[k] = pump, amplitudes[0], E
            self.count += 1
        return E

    def trace(self) -> dict[str, Any]:
        """The recorded trace (empty dict when none was asked for)."""
        if not self.trace_pump.shape[0]:
            return {}
        k = self.count
        return {"trace_pump": self.trace_pump[:k], "trace_x": self.trace_x[:k], "trace_energy": self.trace_energy[:k]}


def feedback_dt(model: IsingModel, published: float, *, p0: float, gain: float, safety: float = 1.0) -> float:
    """min(published, safety x 2 / (1 - p0 + gain |mu_min|)), mu_min the lowest eigenvalue of xi J.

    Linearised at the start of a run with pump p0, a mode of xi J with eigenvalue mu relaxes at the rate
    1 - p0 - gain mu, and explicit Euler needs dt times that rate below 2. Published Euler steps were set
    on SK (mu_min about -2.8); on mostly antiferromagnetic graphs (Gset G1: mu_min about -9.8) they are
    beyond the limit, and this rule shrinks them (physics.md 4.10). ``safety`` < 1 keeps a margin."""
    mu = lambda_min_cached(model) * coupling_norm(model)
    limit = 2.0 / (1.0 - p0 + gain * max(-mu, 0.0))
    return min(published, safety * limit)


def coupling_norm(model: IsingModel) -> float:
    """xi = sqrt(2 N / sum_ij J_ij^2): the rms of xi (J s)_i over random spins s is sqrt(2)."""
    if model.is_sparse:
        sq = float(model.J.multiply(model.J).sum())
    else:  # a BLAS dot over the flat array: no N x N temporary
        flat = np.ascontiguousarray(model.J).reshape(-1)
        sq = float(np.dot(flat, flat))
    return math.sqrt(2.0 * model.n / sq) if sq > 0 else 1.0


def field_product(model: IsingModel, xi: float, dtype: Any = np.float64,
                  product_dtype: Any = None) -> Callable[[np.ndarray, np.ndarray], None]:
    """``f(X, out)``: out = xi (X J + h) for (R, N) ``X`` of ``dtype`` (CSR stays sparse; dense uses BLAS with
    J in ``dtype``: float32 halves the bytes of J streamed per product). ``product_dtype`` float32 with float64
    ``X`` (dense only): the product alone in float32, from a float32 copy of xi J (scaled once) and float32
    copies of X and of the result, so the state and the step stay float64 (as cim's dense product)."""
    h = (np.ascontiguousarray(model.h) * xi).astype(dtype)
    if (not model.is_sparse and product_dtype is not None and np.dtype(product_dtype) == np.float32
            and np.dtype(dtype) == np.float64):
        return dense_matvec_f32(model, xi, h)
    if model.is_sparse:
        Jx = (model.J * xi).tocsr()

        def product(X: np.ndarray, out: np.ndarray) -> None:
            np.copyto(out, (Jx @ X.T).T)
            out += h
    else:
        J = np.ascontiguousarray(model.J, dtype=dtype)

        def product(X: np.ndarray, out: np.ndarray) -> None:
            np.matmul(X, J, out=out)
            out *= xi
            out += h

    return product


#: dense models from this size take the product of a float64-state solver in float32 (cim's DENSE_F32_MIN_N)
DENSE_F32_MIN_N = 256


def product_dtype(model: IsingModel, float32: bool) -> Any:
    """np.float32 where a float64-state solver's dense product runs in float32 (``float32`` set, dense J,
    N >= DENSE_F32_MIN_N), else None (the product in the state's dtype)."""
    return np.float32 if float32 and not model.is_sparse and model.n >= DENSE_F32_MIN_N else None


def scaled_f32(model: IsingModel, scale: float) -> np.ndarray:
    """A float32 copy of ``scale`` J for dense J, built by row blocks (no N x N float64 temporary)."""
    from ..memory import check_dense_fits

    check_dense_fits(model.n, copies=1, itemsize=4, what="float32 copy of J")
    J = np.asarray(model.J)
    J32 = np.empty(J.shape, dtype=np.float32)
    for r0 in range(0, J.shape[0], 512):
        np.multiply(J[r0:r0 + 512], scale, out=J32[r0:r0 + 512], casting="same_kind")
    return J32


def dense_matvec_f32(model: IsingModel, scale: float, h: np.ndarray | None = None) -> Callable[[np.ndarray, np.ndarray], None]:
    """``f(X, out)``: out = X (scale J) (+ ``h``) for float64 (R, N) ``X`` and ``out`` and dense J, the product
    in float32: a float32 copy of scale J (made once), X and the result through float32 buffers (per row count)."""
    return f32_matvec(scaled_f32(model, scale), h)


def f32_matvec(J32: np.ndarray, h: np.ndarray | None = None) -> Callable[[np.ndarray, np.ndarray], None]:
    """``f(X, out)``: out = X J32 (+ ``h``) for float64 (R, N) ``X`` and ``out`` and a float32 (N, N) matrix,
    X and the product through float32 buffers kept per row count."""
    bufs: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def matvec(X: np.ndarray, out: np.ndarray) -> None:
        b = bufs.get(X.shape[0])
        if b is None:
            b = bufs[X.shape[0]] = (np.empty(X.shape, np.float32), np.empty(X.shape, np.float32))
        np.copyto(b[0], X, casting="same_kind")
        np.matmul(b[0], J32, out=b[1])
        if h is None:
            np.copyto(out, b[1])
        else:
            np.add(b[1], h, out=out)

    return matvec


def replica_minor(X: np.ndarray) -> np.ndarray:
    """The (R, N) view of a C-contiguous (N, R) copy of ``X``: the layout of the fused sparse kernels
    (kernels.correction), whose step works on ``view.T`` (each spin's R replicas contiguous)."""
    return np.ascontiguousarray(X.T).T


def scaled_csr(model: IsingModel, xi: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(indptr, indices, xi data, xi h) of a sparse model's couplings: the fused kernels' field arguments."""
    Jx = (model.J * xi).tocsr()
    return Jx.indptr, Jx.indices, np.ascontiguousarray(Jx.data, dtype=np.float64), np.ascontiguousarray(model.h) * xi


def fused_csr(model: IsingModel, X: np.ndarray, E: np.ndarray, xi: float, float32: bool) -> tuple:
    """What the fused sparse kernels of cfc and sfc start from: ``(X, E, indptr, indices, data, h, XN)`` with
    ``X``, ``E`` in the replica-minor layout, the scaled CSR field arguments, and the (N, R) scratch ``XN``;
    all float32 when ``float32`` (physics.md 4.10), else float64."""
    ft = np.float32 if float32 else np.float64
    indptr, indices, data, h = scaled_csr(model, xi)
    return (replica_minor(X.astype(ft)), replica_minor(E.astype(ft)), indptr, indices, data.astype(ft), h.astype(ft),
            np.empty((model.n, X.shape[0]), dtype=ft))


def integrate(model: IsingModel, X: np.ndarray, E: np.ndarray, *, solver: str, steps: int, readout: int,
              track_best: bool, record: bool, step: Callable[[int, np.ndarray, np.ndarray, np.ndarray], None],
              pump: np.ndarray, settings: dict[str, Any], what_to_change: str, xi: float,
              deadline: Any = None, fused: bool = False, product_dtype: Any = None) -> Batch:
    """Run ``steps`` steps of ``step(t, X, E, PHI)`` (which updates X and E in place from the field
    PHI = xi (X J + h)) from the (R, N) amplitudes ``X`` and second variables ``E`` (error signals,
    momenta); score sign(x) every ``readout`` steps and at the end. One product with J per step.
    A ``deadline`` (:class:`~cimsim.solvers.budget.Deadline`) that expires ends the run early, scored.
    ``fused``: ``step`` computes the field itself (the sparse fused kernels); PHI is then its scratch.
    ``product_dtype``: see :func:`field_product` (float32: a float32 product for float64 state on dense J)."""
    R, n = X.shape
    check_batch_fits(R, n, arrays=4, what=f"{solver} state")
    product = field_product(model, xi, X.dtype, product_dtype)
    PHI = np.empty_like(X)
    board = Readout(model, X, solver=solver, steps=steps, track_best=track_best,
                    record=(steps + readout - 1) // readout if record else 0)
    tap = active_tap()
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(steps):
            if not fused:
                product(X, PHI)
            step(t, X, E, PHI)
            if tap is not None and tap.wants(t + 1):
                tap.record(t + 1, X)
            last = t == steps - 1 or (deadline is not None and deadline.expired())
            if (t + 1) % readout == 0 or last:
                board(t, X, float(pump[t]), what_to_change)
            if last:
                break
    steps = board.steps_taken
    extra: dict[str, Any] = {
        "final_energies": model.energies(np.where(X >= 0, 1, -1).astype(np.int8)),
        "mvm": steps * R,
        "coupling_norm": xi,
        **board.trace(),
    }
    return Batch(board.spins, steps, settings, extra)
