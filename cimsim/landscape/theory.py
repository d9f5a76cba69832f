"""Zero-temperature replica-symmetric (RS) theory of E_a minima and the Hessian (Pastur) law.

physics.md 2.3 (RS cavity equations) and 2.4 (Hessian spectrum), project convention
H = -1/2 s^T J s, J_ij ~ N(0, 1/N). With h = sqrt(q) z, z ~ N(0, 1), and b = a + chi::

    x*(h) = global minimiser of x^4/4 - b x^2/2 - h x
    q = E[x*^2],  chi = E[z x*] / sqrt(q),  a = b - chi
    eps_RS = -(a + 2 chi) q / 4,  R = E[(3 x*^2 - b)^-2]   (RS replicon; stable iff R <= 1)

Quadrature. The integrands are even in z but not smooth at z = 0 (x* ~ z^(1/3) at b = 0, and x*
jumps at z = 0 for b > 0). The default ``quadrature="exact"`` integrates over z >= 0 with the
substitution z = t^3 and Gauss-Legendre nodes, which makes the integrands smooth; it agrees with
the closed form at b = 0 (q^(2/3) = E|z|^(2/3), chi = q^(-1/3) E|z|^(4/3), eps = -1/6 exactly) to
1e-12. ``quadrature="hermite"`` (300-point Gauss-Hermite over the whole line) is what the
physics.md 2.3 table was computed with; it is inaccurate near b = 0 (e.g. it puts b = 0 at
a = -0.93106 instead of the exact -0.92755). Both are provided so the table can be checked.

Caveat carried from physics.md 2.1: the mapping of these a values to arXiv:2309.08119 assumes its
coupling sum is over pairs i<j; under an all-ordered-pairs reading every a doubles.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np
from scipy.optimize import brentq
from scipy.special import gamma

from ..errors import CimsimError, finite_float

__all__ = [
    "RSPoint",
    "xstar",
    "rs_at_b",
    "rs_solve",
    "rs_table",
    "b_zero_point",
    "semicircle_density",
    "origin_index_fraction",
    "pastur_density",
    "hessian_edge",
    "TRANSITIONS",
]

#: Phase boundaries quoted in physics.md 2.2 (project convention; all-pairs reading would double them).
TRANSITIONS = {"origin_instability": -2.0, "susy_breaking": -0.93, "freezing": -0.45}


@dataclass(frozen=True)
class RSPoint:
    """One solution of the RS equations (all per spin)."""

    a: float
    b: float
    chi: float
    q: float
    eps: float
    replicon: float
    gap: float  # RS amplitude gap sqrt(max(b, 0))

    def to_dict(self) -> dict:
        return asdict(self)


def xstar(h: np.ndarray, b: float) -> np.ndarray:
    """Global minimiser of x^4/4 - b x^2/2 - h x, elementwise (sign(h) branch; +sqrt(b) at h = 0, b > 0).

    It is the real root of x^3 - b x - h = 0 of largest |x| with the sign of h; Newton from above
    converges monotonically because the cubic is convex there.
    """
    h = np.asarray(h, dtype=np.float64)
    ah = np.abs(h)
    x = np.sqrt(max(b, 0.0)) + np.cbrt(ah) + 1.0
    for _ in range(100):
        f = x * x * x - b * x - ah
        fp = 3.0 * x * x - b
        step = f / fp
        x = x - step
        if np.all(np.abs(step) <= 1e-15 * (1.0 + np.abs(x))):
            break
    return np.where(h < 0, -x, x)


@lru_cache(maxsize=4)
def _nodes(kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Quadrature nodes z and weights w with sum w f(z) ~ E_z[f(z)] for even f."""
    if kind == "exact":
        tmax = 12.0 ** (1.0 / 3.0)  # z up to 12: Gaussian tail weight < 1e-31
        t, w = np.polynomial.legendre.leggauss(400)
        t = 0.5 * tmax * (t + 1.0)
        w = 0.5 * tmax * w
        z = t**3
        w = w * 3.0 * t * t * 2.0 * np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
        return z, w
    if kind == "hermite":
        z, w = np.polynomial.hermite_e.hermegauss(300)
        return z, w / math.sqrt(2.0 * math.pi)
    raise CimsimError(f"unknown quadrature {kind!r}; choose exact or hermite")


def _moments(q: float, b: float, kind: str) -> tuple[float, float, float]:
    z, w = _nodes(kind)
    x = xstar(math.sqrt(q) * z, b)
    ex2 = float(w @ (x * x))
    ezx = float(w @ (z * x))
    with np.errstate(divide="ignore"):
        r = float(w @ (1.0 / (3.0 * x * x - b) ** 2))
    return ex2, ezx, r


def rs_at_b(b: float, quadrature: str = "exact") -> RSPoint:
    """The nontrivial RS solution at fixed b = a + chi (b > -1; b <= -1 only has q = 0)."""
    b = finite_float(b, "b")
    if b <= -1.0:
        raise CimsimError(f"the RS equations have a nontrivial solution only for b > -1, got {b}")

    def f(logq: float) -> float:
        q = math.exp(logq)
        return _moments(q, b, quadrature)[0] / q - 1.0

    lo, hi = math.log(1e-12), math.log(100.0)
    while f(lo) <= 0 and lo > math.log(1e-300):
        lo -= 20.0
    while f(hi) >= 0 and hi < math.log(1e300):  # q grows like b: b > 100 needs q beyond 100
        hi += 5.0
    try:
        q = math.exp(brentq(f, lo, hi, xtol=1e-15, rtol=1e-14, maxiter=300))
    except ValueError:  # no sign change, or NaN: b so large that x* overflows
        raise CimsimError(f"the RS equations have no solution in floating point at b = {b:g}") from None
    ex2, ezx, r = _moments(q, b, quadrature)
    chi = ezx / math.sqrt(q)
    a = b - chi
    return RSPoint(a=a, b=b, chi=chi, q=q, eps=-(a + 2.0 * chi) * q / 4.0, replicon=r, gap=math.sqrt(max(b, 0.0)))


def rs_solve(a: float, quadrature: str = "exact") -> RSPoint:
    """RS solution at pump ``a``: the trivial origin (q = 0, chi = 1/(-a)) for a <= -2, else root-find b."""
    a = finite_float(a, "a")
    if a <= -2.0:
        chi = -1.0 / a  # x* = 0, chi = E[dx*/dh] = 1/(-b) with b = a + chi -> chi^2 + a chi + 1 = 0 small root
        chi = (-a - math.sqrt(a * a - 4.0)) / 2.0 if a < -2.0 else 1.0
        b = a + chi
        return RSPoint(a=a, b=b, chi=chi, q=0.0, eps=0.0, replicon=1.0 / (b * b), gap=0.0)

    def f(b: float) -> float:
        return rs_at_b(b, quadrature).a - a

    lo = -1.0 + 1e-9
    hi = max(a + 2.0, 1.0)
    while f(hi) < 0:
        hi *= 2.0
    if f(lo) > 0:  # numerically at the onset
        return rs_at_b(lo, quadrature)
    b = brentq(f, lo, hi, xtol=1e-13, rtol=1e-13, maxiter=200)
    return rs_at_b(b, quadrature)


def rs_table(a_values: "list[float] | np.ndarray", quadrature: str = "exact") -> list[RSPoint]:
    """``rs_solve`` for each value of a."""
    return [rs_solve(float(a), quadrature) for a in a_values]


def b_zero_point() -> RSPoint:
    """Closed form of the RS point where the effective potential turns double-welled (b = 0).

    q^(2/3) = E|z|^(2/3), chi = q^(-1/3) E|z|^(4/3), a = -chi, eps = -chi q / 4 = -1/6 exactly.
    """
    m = lambda p: 2.0 ** (p / 2.0) * gamma((p + 1.0) / 2.0) / math.sqrt(math.pi)  # E|z|^p
    q = m(2.0 / 3.0) ** 1.5
    chi = q ** (-1.0 / 3.0) * m(4.0 / 3.0)
    return RSPoint(a=-chi, b=0.0, chi=chi, q=q, eps=-chi * q / 4.0, replicon=math.inf, gap=0.0)


# ---------------------------------------------------------------------------------------------- Hessian law
def semicircle_density(lam: np.ndarray, center: float = 0.0, radius: float = 2.0) -> np.ndarray:
    """Wigner semicircle density on [center - radius, center + radius]."""
    u = (np.asarray(lam, dtype=np.float64) - center) / radius
    return np.where(np.abs(u) < 1, 2.0 / (math.pi * radius) * np.sqrt(np.clip(1 - u * u, 0, None)), 0.0)


def origin_index_fraction(a: float) -> float:
    """Large-N index(0)/N = fraction of the J-semicircle above -a (physics.md 2.4)."""
    t = float(np.clip(-a / 2.0, -1.0, 1.0))
    # mass of the semicircle on [t, 1] in units of the radius
    return float(0.5 - (t * math.sqrt(1 - t * t) + math.asin(t)) / math.pi)


def _weighted_diag(d: np.ndarray, bins: int = 256) -> tuple[np.ndarray, np.ndarray]:
    d = np.asarray(d, dtype=np.float64).ravel()
    if d.size <= bins:
        return d, np.full(d.size, 1.0 / d.size)
    counts, edges = np.histogram(d, bins=bins)
    centers = 0.5 * (edges[1:] + edges[:-1])
    keep = counts > 0
    return centers[keep], counts[keep] / d.size


def pastur_density(d: np.ndarray, lam: np.ndarray, *, eta: float = 1e-3, iters: int = 2000, bins: int = 128) -> np.ndarray:
    """Density of K = diag(d) - J (J GOE, semicircle radius 2) at ``lam``: rho = -Im G(lam + i eta)/pi.

    G solves G = mean_i 1/(z - d_i - G) (Pastur / free convolution); the diagonal is binned into
    ``bins`` weighted atoms, and the fixed point is iterated with damping from G = 1/(z - mean d).
    """
    dc, wc = _weighted_diag(d, bins)
    z = np.asarray(lam, dtype=np.float64) + 1j * eta
    G = 1.0 / (z - dc @ wc + 1j)  # start in the lower half-plane (Im G < 0 for Im z > 0)
    for _ in range(iters):
        Gn = (wc[None, :] / (z[:, None] - dc[None, :] - G[:, None])).sum(axis=1)
        if np.max(np.abs(Gn - G)) < 1e-9:
            G = Gn
            break
        G = 0.5 * G + 0.5 * Gn
    return -G.imag / math.pi


def hessian_edge(d: np.ndarray) -> float:
    """Predicted lower spectral edge of diag(d) - J: max over u < min d of u + mean 1/(u - d)."""
    d = np.asarray(d, dtype=np.float64).ravel()
    dmin = float(d.min())

    def fp(u: float) -> float:  # derivative of u + mean 1/(u-d): 1 - mean 1/(d-u)^2 (decreasing)
        return 1.0 - float(np.mean(1.0 / (d - u) ** 2))

    hi = dmin - 1e-12 * max(1.0, abs(dmin))
    lo = dmin - 1.0
    while fp(lo) < 0:
        lo = dmin - 2.0 * (dmin - lo)
    if fp(hi) > 0:
        u = hi
    else:
        u = brentq(fp, lo, hi, xtol=1e-14, maxiter=200)
    return float(u + np.mean(1.0 / (u - d)))
