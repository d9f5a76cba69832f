"""The measurement-feedback CIM as a round-trip map (physics.md 8.5), truncated-Wigner samples.

One step is one round trip of the ring. Every pulse, a Wigner sample (X, P) in c-units (vacuum variance
v0 = g^2/4), passes

1. the crystal: phase-sensitive gain X e^{p dT}, P e^{-p dT}, then saturation -dT (X^2 + P^2) (X, P) and
   the pump's back-conversion noise g sqrt((X^2 + P^2) dT);
2. the background loss L (vacuum mixed in);
3. the extraction tap of reflectivity ``tap``, whose output is homodyned with efficiency ``eta``:
   the measured amplitude c~ = y / sqrt(eta tap) carries the vacuum noise of the tap and the detector;
4. the digital feedback, computed from the measured values of all pulses:
   f_i = Q_DAC(dT [eps sum_j Q_J(J_hat_ij) Q_ADC(c~_j) + eps^(3/2) h_hat_i]), with ``adc_bits``, ``j_bits``
   and ``dac_bits`` quantisers (symmetric mid-tread; unquantised when not given) and optionally the
   values of the previous round trip (``latency=true``);
5. the injection coupler of reflectivity ``r_inj``, which adds f_i.

The round-trip time dT (units of the signal decay time 1/kappa) is set by the total round-trip power
loss ``loss_db``: e^{-2 dT} = 10^{-loss_db/10}; the background loss L is what the tap and the injection
coupler leave of it, (1 - L)(1 - tap)(1 - r_inj) = e^{-2 dT}. The pump p (units of the solitary
threshold) follows a schedule over round trips; ``relative=1`` gives offsets from the network threshold
1 - eps lambda_max(J_hat). The Ising readout sign(c~) is scored every ``readout`` round trips (10) and at
the last, with the unquantised J; every replica returns the best state it measured at those round trips. (A
score is an energy evaluation, one product with J like the feedback's: scoring every round trip doubled the
cost of a round trip on dense J.) Results count time in round trips and, given
``rep_rate`` (pulses per second, one slot per spin), in seconds.

``representation="moments"`` runs the same map on Gaussian moments instead of Wigner samples: per pulse
the in-phase mean and variance and the quadrature variance, the crystal in the Gaussian closure of the
saturation, and each homodyne outcome drawn from its distribution with the mean and variance conditioned
on it. The pulses never become entangled (the feedback is a classical displacement), so this is exact for
the linear optics and O(N) per replica, and it gives the conditional variance of physics.md 8.6 T9.
"""
from __future__ import annotations

import math
import weakref
from dataclasses import dataclass, fields
from typing import Any, Callable

import numpy as np

from ..errors import CimsimError
from ..kernels.mfb import inject, inject_moments, propagate, propagate_moments, quantise
from ..memory import check_batch_fits, check_dense_fits
from ..model import IsingModel
from ..params import Param
from ..sampling import active_tap
from . import Batch
from .machine import cpu_only, f32_matvec, MachinePlan, product_dtype, pump_values, Readout, replica_streams, start

__all__ = ["PARAMS", "defaults", "run", "plan", "Plan", "simulate", "quantiser", "round_trip_time"]

#: sampling mode (cimsim.sampling): the measured signs sign(c~) of every replica after the tap's round trips
SAMPLES = True

PARAMS: tuple[Param, ...] = (
    Param("schedule", "str", "linear:-0.04,0.3,relative=1",
          "pump p over the round trips; relative=1: offsets from the network threshold 1 - eps lambda_max"),
    Param("eps", "float", 0.2, "feedback gain: xi = eps J / coupling_scale()", low=0.0, low_open=True),
    Param("g2", "float", 1e-4, "saturation parameter g^2 (sets the vacuum noise, v0 = g^2/4)", low=0.0, high=1.0,
          low_open=True),
    Param("loss_db", "float", 1.0, "total round-trip power loss in dB (background, tap and injection coupler)",
          low=0.0, low_open=True),
    Param("tap", "float", 0.1, "extraction beam-splitter reflectivity (to the homodyne detector)", low=0.0,
          high=1.0, low_open=True, high_open=True),
    Param("r_inj", "float", 0.02, "injection coupler reflectivity", low=0.0, high=1.0, high_open=True),
    Param("eta", "float", 1.0, "homodyne detection efficiency", low=0.0, high=1.0, low_open=True),
    Param("adc_bits", "int", None, "ADC resolution of the measured amplitudes (unquantised if not given)",
          low=1, high=52, optional=True),
    Param("adc_range", "float", 1.0, "ADC full scale in c-units (values beyond it clip)", low=0.0, low_open=True),
    Param("j_bits", "int", None, "resolution of the stored couplings (full scale max|J|)", low=1, high=52,
          optional=True),
    Param("dac_bits", "int", None, "DAC resolution of the feedback (full scale: the largest possible feedback)",
          low=1, high=52, optional=True),
    Param("latency", "bool", False, "feed back the values measured one round trip earlier"),
    Param("rep_rate", "float", None, "pulse repetition rate in Hz (reports time in seconds)", low=0.0,
          low_open=True, optional=True),
    Param("representation", "choice", "wigner", "wigner: truncated-Wigner samples per pulse; moments: Gaussian "
          "moments (mean, in-phase and quadrature variances) conditioned on each measurement",
          choices=("wigner", "moments")),
    Param("float32", "bool", True, "dense J from N = 256: the feedback product in float32 (a float32 copy of "
          "Q_J(J_hat), half the bytes streamed per round trip); pulses, optics and energies stay float64 (false: float64)"),
    Param("readout", "int", 10, "score the measured signs sign(c~) every this many round trips (and the last; each "
          "score is an energy evaluation, as costly as the feedback product)", low=1),
    Param("track_best", "bool", True, "return each replica's best measured state (false: its last one)"),
    Param("record", "bool", False, "store replica 0's measured amplitudes at every readout in extra"),
)


def defaults(model: IsingModel) -> dict:
    """32 replicas x 2000 round trips up to N = 200; beyond, the pump ramp grows as 12.5 N round trips up to
    10000 and the replicas fall to 8.

    A slower ramp lets the collective modes near the network threshold (whose gaps shrink with N) settle;
    on G1 (N = 800) four runs reached cuts up to 11563 in 4000 round trips and 11595 in 10000, and no more
    in 20000 (11594). Replicas are independent runs of the machine, so fewer per batch give a time-limited
    call more batches of the full ramp."""
    n = model.n
    if n <= 200:
        return {"replicas": 32, "steps": 2000}
    return {"replicas": 8, "steps": int(min(12.5 * n, 10000))}


def round_trip_time(loss_db: float) -> float:
    """dT in units of 1/kappa for a total round-trip power loss of ``loss_db`` dB: e^{-2 dT} = 10^{-loss_db/10}."""
    return loss_db * math.log(10.0) / 20.0


@dataclass(frozen=True)
class Plan(MachinePlan):
    """Validated parameters of one mfb batch (built by :func:`plan`)."""

    loss_db: float
    tap: float
    r_inj: float
    eta: float
    adc_bits: int | None
    adc_range: float
    j_bits: int | None
    dac_bits: int | None
    latency: bool
    rep_rate: float | None
    representation: str
    float32: bool
    readout: int
    track_best: bool
    record: bool

    @property
    def dT(self) -> float:
        return round_trip_time(self.loss_db)

    @property
    def background_loss(self) -> float:
        """L from (1 - L)(1 - tap)(1 - r_inj) = e^{-2 dT}."""
        return 1.0 - math.exp(-2.0 * self.dT) / ((1.0 - self.tap) * (1.0 - self.r_inj))


def plan(*, replicas: int, steps: int, **params: Any) -> Plan:
    """Validate the mfb parameters (:data:`PARAMS`), including that the round-trip loss covers the tap and
    the injection coupler, before any work starts."""
    v, R, T, sched, _ = start("mfb", PARAMS, params, replicas, steps)
    del v["schedule"]
    p = Plan(R, T, sched, **v)
    if p.background_loss < 0:
        need = -10.0 * math.log10((1.0 - p.tap) * (1.0 - p.r_inj))
        raise CimsimError(f"mfb: loss_db = {p.loss_db:g} dB is less than the tap and the injection coupler alone "
                          f"remove ({need:.3g} dB); raise loss_db or lower tap / r_inj")
    return p


def quantiser(bits: int | None, full_scale: float) -> Callable[[np.ndarray], np.ndarray]:
    """``Q(u)`` of ``bits`` bits and full scale ``full_scale`` (identity when ``bits`` is None)."""
    if bits is None:
        return lambda u: u

    def q(u: np.ndarray) -> np.ndarray:
        flat = np.ascontiguousarray(u, dtype=np.float64).reshape(-1)
        out = np.empty_like(flat)
        quantise(flat, float(full_scale), int(bits), out)
        return out.reshape(np.shape(u))

    return q


#: the last dense feedback matrix built, kept for the next batch on the same model: (weak reference to the
#: model, (j_bits, float32), (matrix, row bound)). At N = 8000 building it (scale, quantise, float32 copy,
#: row sums) took about 2.5 s, which every batch of a time-limited run paid again before its first
#: deadline check (SK8000 at 10 s ended at 12 s).
_DENSE_FEEDBACK: list = []


def _dense_feedback(model: IsingModel, j_bits: int | None, float32: bool) -> tuple[np.ndarray, float]:
    """(Q_J(J_hat) as float64, or float32 where :func:`product_dtype` says so; max row sum of |.|), built
    once per model and settings (the last one is cached, released with the model)."""
    key = (j_bits, product_dtype(model, float32) is not None)
    if _DENSE_FEEDBACK and _DENSE_FEEDBACK[0][0]() is model and _DENSE_FEEDBACK[0][1] == key:
        return _DENSE_FEEDBACK[0][2]
    _DENSE_FEEDBACK.clear()  # drop the old matrix before building the new one
    check_dense_fits(model.n, copies=1, what="feedback coupling matrix")
    Jh = np.asarray(model.J) * (1.0 / model.coupling_scale())
    if j_bits is not None and model.n > 1:
        Jh = quantiser(j_bits, float(np.abs(Jh).max()))(Jh)
    bound = float(np.abs(Jh).sum(axis=1).max()) if model.n else 0.0
    if key[1]:
        Jh = Jh.astype(np.float32)
    out = (Jh, bound)
    _DENSE_FEEDBACK.append((weakref.ref(model, lambda _: _DENSE_FEEDBACK.clear()), key, out))
    return out


def _feedback_matvec(model: IsingModel, j_bits: int | None,
                     float32: bool = False) -> tuple[Callable[[np.ndarray], np.ndarray], float]:
    """``(matvec, row_bound)``: U -> U Q_J(J_hat)^T for (R, N) U, and max_i sum_j |Q_J(J_hat)_ij|.
    ``float32`` (dense J from N = 256): the product from a float32 copy of Q_J(J_hat), U through a float32
    buffer; the result comes back float64. The dense matrix is built once per model (:func:`_dense_feedback`)."""
    scale = model.coupling_scale()
    if model.is_sparse:
        Jh = (model.J * (1.0 / scale)).tocsr()
        if j_bits is not None and Jh.nnz:
            Jh.data = quantiser(j_bits, float(np.abs(Jh.data).max()))(Jh.data)
        bound = float(np.abs(Jh).sum(axis=1).max()) if Jh.nnz else 0.0
        return (lambda U: np.asarray((Jh @ U.T).T)), bound
    Jd, bound = _dense_feedback(model, j_bits, float32)
    if Jd.dtype == np.float32:
        into = f32_matvec(Jd)

        def matvec32(U: np.ndarray) -> np.ndarray:
            out = np.empty(U.shape)
            into(U, out)
            return out

        return matvec32, bound
    return (lambda U: U @ Jd), bound


def simulate(model: IsingModel, X: np.ndarray, P: np.ndarray, pump: np.ndarray, p: Plan, rng: np.random.Generator,
             readout_fn: Callable[[int, np.ndarray], None] | None = None,
             U: np.ndarray | None = None, deadline: Any = None,
             tapped_energies: Callable[[int], np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run ``len(pump)`` round trips from the (R, N) state (in place); after every ``p.readout`` of them and
    the last, ``readout_fn(k, measured)`` sees the (R, N) measured amplitudes. The active sampling tap records
    the measured signs after the round trips it wants (with the energies ``tapped_energies(k)`` of a scored
    round trip, when given; else the tap computes them). Returns ``(X, P, measured)`` of the last round trip.

    With ``representation="wigner"`` ``X``, ``P`` are Wigner samples of the in-phase and quadrature
    amplitudes; with ``"moments"`` they are the in-phase means and variances and ``U`` the quadrature
    variances."""
    R, n = X.shape
    g = math.sqrt(p.g2)
    dT, L = p.dT, p.background_loss
    matvec, row_bound = _feedback_matvec(model, p.j_bits, p.float32)
    field = (model.h / model.coupling_scale()) * p.eps**1.5
    adc = quantiser(p.adc_bits, p.adc_range)
    dac_scale = dT * (p.eps * row_bound * p.adc_range + float(np.abs(field).max(initial=0.0)))
    dac = quantiser(p.dac_bits, dac_scale if dac_scale > 0 else 1.0)
    streams = replica_streams(rng, R)
    moments = p.representation == "moments"
    if moments and U is None:
        raise CimsimError("mfb: the moment representation needs the quadrature variances U")
    Y = np.zeros((R, n))
    T, tap = pump.shape[0], active_tap()
    fed = np.zeros((R, n))  # the quantised measurement the feedback uses (previous one with latency)
    for k in range(T):
        if moments:
            propagate_moments(X, P, U, Y, float(pump[k]), dT, g, L, p.tap, p.eta, streams)
        else:
            propagate(X, P, Y, float(pump[k]), dT, g, L, p.tap, p.eta, streams)
        if not p.latency:
            fed = adc(Y)
        F = np.ascontiguousarray(dac(dT * (p.eps * matvec(fed) + field)))
        if moments:
            inject_moments(X, P, U, F, p.r_inj, g)
        else:
            inject(X, P, F, p.r_inj, g, streams)
        if p.latency:
            fed = adc(Y)
        last = k == T - 1 or (deadline is not None and deadline.expired())
        scored = (k + 1) % p.readout == 0 or last
        if readout_fn is not None and scored:
            readout_fn(k, Y)
        if readout_fn is not None and tap is not None and tap.wants(k + 1):  # sampling: a step is a round trip
            tap.record(k + 1, Y, tapped_energies(k) if scored and tapped_energies is not None else None)
        if last:
            break
    return X, P, Y


def run(model: IsingModel, *, replicas: int, steps: int, rng: np.random.Generator, backend: str = "cpu",
        deadline: Any = None, **params: Any) -> Batch:
    """Solver contract: ``replicas`` machine runs of ``steps`` round trips each."""
    cpu_only("mfb", backend)
    p = plan(replicas=replicas, steps=steps, **params)
    R, n = p.replicas, model.n
    check_batch_fits(R, n, arrays=6, what="mfb pulse samples")
    pump, lam = pump_values(model, p.schedule, p.eps, p.steps, rng)
    v = 0.5 * math.sqrt(p.g2)
    if p.representation == "moments":  # the ring starts in vacuum: mean 0, both variances v0
        X, P, U = np.zeros((R, n)), np.full((R, n), v * v), np.full((R, n), v * v)
    else:
        X = rng.standard_normal((R, n)) * v
        P = rng.standard_normal((R, n)) * v
        U = None
    readout = Readout(model, X, solver="mfb", steps=p.steps, track_best=p.track_best,
                      record=(p.steps + p.readout - 1) // p.readout if p.record else 0)

    last_scored: dict[int, np.ndarray] = {}

    def score(k: int, Y: np.ndarray) -> None:
        last_scored.clear()
        last_scored[k] = readout(k, Y, float(pump[k]), f"lower the pump (p reaches {float(np.max(pump[:k + 1])):.3g}) or eps")

    with np.errstate(over="ignore", invalid="ignore"):
        X, P, Y = simulate(model, X, P, pump, p, rng, score, U, deadline, last_scored.get)
    extra: dict[str, Any] = {
        "final_energies": model.energies(np.where(Y >= 0, 1, -1).astype(np.int8)),
        "round_trips": readout.steps_taken,
        "machine_time_s": readout.steps_taken * n / p.rep_rate if p.rep_rate else None,
        "round_trip_time_kappa": p.dT,
        "background_loss": p.background_loss,
        "photon_number": (float(np.mean(X * X + P + U)) if U is not None else float(np.mean(X * X + P * P)))
        / p.g2 - 0.5,
        **readout.trace(),
    }
    if lam is not None:
        extra["lambda_max"] = lam
    settings = {f.name: getattr(p, f.name) for f in fields(Plan) if f.name not in ("replicas", "steps")}
    settings["schedule"] = p.schedule.to_dict()
    return Batch(readout.spins, readout.steps_taken, settings, extra)
