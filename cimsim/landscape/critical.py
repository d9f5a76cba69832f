"""Critical points of E_a: minima from many starts, adiabatic continuation, index-k saddles.

All routines take a dense symmetric ``J`` (N, N) with zero diagonal (project convention,
physics.md 1) and optional fields ``h``. A point counts as critical when |g(x)|/sqrt(N) < tol
(default 1e-6); every returned point has been Newton-polished far below that and its index recomputed
computed from a dense eigendecomposition of K(x) = diag(3x^2 - a) - J.

Methods (physics.md 6.1):

* minima: L-BFGS (scipy) from random Gaussian starts, then Newton polish;
* adiabatic path: a swept upward from below the origin instability, a tiny kick then L-BFGS at each a
  (the protocol of physics.md 4.3), then Newton polish and the spectrum;
* index-k saddles: eigenvector following / sign-flipped saddle-free Newton: in the eigenbasis of K
  the step is +g_i/|l_i| along the k lowest modes (uphill) and -g_i/|l_i| along the others, with a
  trust radius, so index-k saddles are attracting fixed points; then Newton polish and index check.

De-duplication treats x and -x as the same point when h = 0 (E_a(-x) = E_a(x)).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import scipy.linalg as sla
from scipy.optimize import minimize as _sp_minimize

from ..errors import CimsimError, finite_float, positive_float, positive_int
from ..memory import check_batch_fits, check_dense_fits
from .energy import energy, gradient, hessian

__all__ = [
    "CriticalPoints",
    "lbfgs_descend",
    "newton_polish",
    "classify",
    "deduplicate",
    "find_minima",
    "find_saddles",
    "adiabatic_path",
    "DEFAULT_TOL",
]

DEFAULT_TOL = 1e-6


def blas_single_thread():
    """Context manager limiting BLAS/LAPACK to one thread (threadpoolctl if installed, else a no-op).

    The workloads here are many small dense products and eigendecompositions; on a shared machine a
    multithreaded OpenBLAS is up to 100x slower on them than one thread. Parallelism belongs to the
    sweep engine (one task per worker).
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(1)


def _single_threaded(fn):
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with blas_single_thread():
            return fn(*args, **kwargs)

    return wrapper


@dataclass
class CriticalPoints:
    """A set of critical points at one pump value ``a``.

    Attributes (K points, N spins): x (K, N); energy (K,) = E_a(x); index (K,) = #negative eigenvalues of
    K(x); lambda_min (K,); grad_norm (K,) = |g|/sqrt(N); count (K,) = starts that reached the point
    (after de-duplication); starts = number of starts tried; failed = starts that did not converge
    (or converged to the wrong index).
    """

    a: float
    x: np.ndarray
    energy: np.ndarray
    index: np.ndarray
    lambda_min: np.ndarray
    grad_norm: np.ndarray
    count: np.ndarray
    starts: int = 0
    failed: int = 0
    eigenvalues: np.ndarray | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return int(self.x.shape[0])

    @property
    def n(self) -> int:
        return int(self.x.shape[1])

    def order(self) -> "CriticalPoints":
        """The same points sorted by energy (lowest first)."""
        o = np.argsort(self.energy, kind="stable")
        return self.take(o)

    def take(self, idx: np.ndarray) -> "CriticalPoints":
        ev = None if self.eigenvalues is None else self.eigenvalues[idx]
        return CriticalPoints(self.a, self.x[idx], self.energy[idx], self.index[idx], self.lambda_min[idx],
                              self.grad_norm[idx], self.count[idx], self.starts, self.failed, ev)

    @staticmethod
    def empty(a: float, n: int, starts: int = 0, failed: int = 0) -> "CriticalPoints":
        z = np.zeros(0)
        return CriticalPoints(a, np.zeros((0, n)), z, np.zeros(0, int), z, z, np.zeros(0, int), starts, failed, np.zeros((0, n)))

    @staticmethod
    def concat(parts: "list[CriticalPoints]") -> "CriticalPoints":
        parts = [p for p in parts if len(p)]
        if not parts:
            raise CimsimError("no critical points to concatenate")
        ev = None if any(p.eigenvalues is None for p in parts) else np.concatenate([p.eigenvalues for p in parts])
        return CriticalPoints(parts[0].a, *(np.concatenate([getattr(p, f) for p in parts]) for f in
                                            ("x", "energy", "index", "lambda_min", "grad_norm", "count")),
                              sum(p.starts for p in parts), sum(p.failed for p in parts), ev)


# ----------------------------------------------------------------------------------------------- checks
def _check(J: np.ndarray, a: float, tol: float) -> tuple[np.ndarray, float, float]:
    J = np.asarray(J, dtype=np.float64)
    if J.ndim != 2 or J.shape[0] != J.shape[1]:
        raise CimsimError(f"J must be a square matrix, got shape {J.shape}")
    if J.shape[0] < 2:
        raise CimsimError(f"the landscape needs N >= 2 spins, got N = {J.shape[0]}")
    if not np.all(np.isfinite(J)):
        raise CimsimError("J contains NaN or infinite entries")
    return J, finite_float(a, "a"), positive_float(tol, "tol")


# ----------------------------------------------------------------------------------------------- local solvers
def lbfgs_descend(J: np.ndarray, a: float, x0: np.ndarray, h: np.ndarray | None = None, *,
                  gtol: float = 1e-8, maxiter: int = 20000) -> np.ndarray:
    """Descend E_a from ``x0`` (N,) with L-BFGS (memory 20) until max|g| < gtol or maxiter."""

    def fg(x: np.ndarray) -> tuple[float, np.ndarray]:
        Jx = J @ x
        x2 = x * x
        e = float(np.sum(0.25 * x2 * x2 - 0.5 * a * x2) - 0.5 * x @ Jx)
        g = x * x2 - a * x - Jx
        if h is not None:
            e -= float(h @ x)
            g = g - h
        return e, g

    res = _sp_minimize(fg, np.asarray(x0, dtype=np.float64), jac=True, method="L-BFGS-B",
                       options={"maxcor": 20, "gtol": gtol, "ftol": 1e-16, "maxiter": maxiter, "maxfun": 2 * maxiter})
    return res.x


def newton_polish(J: np.ndarray, a: float, x: np.ndarray, h: np.ndarray | None = None, *,
                  gtol_inf: float = 1e-11, maxiter: int = 30) -> tuple[np.ndarray, bool]:
    """Newton-Raphson on g = 0 with backtracking on |g|; returns (x, converged to max|g| < gtol_inf).

    Converges quadratically to the nearest non-degenerate critical point of any index.
    """
    x = np.array(x, dtype=np.float64)
    g = gradient(x, J, a, h)
    gn = float(np.linalg.norm(g))
    for _ in range(maxiter):
        if np.max(np.abs(g)) < gtol_inf:
            return x, True
        K = hessian(x, J, a)
        try:
            dx = sla.solve(K, g, assume_a="sym", check_finite=False)
        except (sla.LinAlgError, ValueError):
            return x, False
        t = 1.0
        while t > 1e-4:
            xn = x - t * dx
            gnew = gradient(xn, J, a, h)
            gnn = float(np.linalg.norm(gnew))
            if gnn < gn:
                break
            t *= 0.5
        else:
            return x, bool(np.max(np.abs(g)) < gtol_inf)
        x, g, gn = xn, gnew, gnn
    return x, bool(np.max(np.abs(g)) < gtol_inf)


@_single_threaded
def classify(J: np.ndarray, a: float, X: np.ndarray, h: np.ndarray | None = None, *,
             keep_eigenvalues: bool = True) -> CriticalPoints:
    """Energies, |g|/sqrt(N), full Hessian spectra and indices of the points X (K, N) (no de-duplication)."""
    X = np.atleast_2d(np.asarray(X, dtype=np.float64))
    n = X.shape[1]
    if X.shape[0] == 0:
        return CriticalPoints.empty(a, n)
    ev = np.stack([sla.eigvalsh(hessian(x, J, a), check_finite=False) for x in X])
    g = gradient(X, J, a, h)
    return CriticalPoints(
        a=float(a), x=X, energy=np.atleast_1d(energy(X, J, a, h)), index=np.sum(ev < 0, axis=1).astype(int),
        lambda_min=ev[:, 0].copy(), grad_norm=np.linalg.norm(g, axis=1) / math.sqrt(n),
        count=np.ones(X.shape[0], dtype=int), eigenvalues=ev if keep_eigenvalues else None)


def _canonical(x: np.ndarray) -> np.ndarray:
    """Sign convention for x ~ -x: the largest-|x_i| entry is positive (first one on ties)."""
    i = int(np.argmax(np.abs(x)))
    return -x if x[i] < 0 else x


def deduplicate(points: CriticalPoints, *, symmetric: bool = True, rtol: float = 1e-6) -> CriticalPoints:
    """Merge points that coincide (|x - y| <= rtol * (1 + |x|) sqrt... ) up to x -> -x when ``symmetric``.

    Two points are the same when |x - y| / sqrt(N) < rtol * (1 + |x|/sqrt(N)) after both are put in the
    canonical sign (largest-|x_i| entry positive), or directly compared with y and -y. Counts add up.
    Output is sorted by energy.
    """
    if len(points) == 0:
        return points
    p = points.order()
    n = p.n
    X = np.array([_canonical(x) for x in p.x]) if symmetric else p.x.copy()
    keep: list[int] = []
    counts: list[int] = []
    for k in range(len(p)):
        xk = X[k]
        scale = rtol * (1.0 + np.linalg.norm(xk) / math.sqrt(n))
        hit = -1
        for j, kj in enumerate(keep):
            d = np.linalg.norm(X[kj] - xk)
            if symmetric:
                d = min(d, np.linalg.norm(X[kj] + xk))
            if d / math.sqrt(n) < scale:
                hit = j
                break
        if hit < 0:
            keep.append(k)
            counts.append(int(p.count[k]))
        else:
            counts[hit] += int(p.count[k])
    out = p.take(np.array(keep, dtype=int))
    out.x = X[keep]
    out.count = np.array(counts, dtype=int)
    return out


# ----------------------------------------------------------------------------------------------- drivers
def _rng(seed: "np.random.Generator | np.random.SeedSequence | int | None") -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


@_single_threaded
def check_hessian_fits(n: int, batch: int = 1) -> None:
    """Refuse (CimsimError, before allocating) an N at which the dense Hessian work does not fit in memory:
    J itself, the Hessian and the eigendecomposition's N x N workspace and eigenvectors."""
    check_dense_fits(n, copies=4, what="Hessian with its eigendecomposition workspace")
    check_batch_fits(max(int(batch), 1), n, arrays=4, what="critical-point state")


def find_minima(J: np.ndarray, a: float, starts: int, seed=None, *, h: np.ndarray | None = None,
                tol: float = DEFAULT_TOL, init_scale: float | None = None, x0: np.ndarray | None = None,
                progress: bool = False) -> CriticalPoints:
    """Local minima of E_a from ``starts`` random Gaussian starts (or the rows of ``x0``), de-duplicated.

    Each start is descended by L-BFGS, Newton-polished, and kept only if |g|/sqrt(N) < tol and the
    Hessian has index 0. ``init_scale`` is the rms of the starts (default sqrt(max(a + 2, 0.1))).
    """
    J, a, tol = _check(J, a, tol)
    n = J.shape[0]
    check_hessian_fits(n, 1 if x0 is None else np.shape(x0)[0])
    rng = _rng(seed)
    if x0 is None:
        starts = positive_int(starts, "starts")
        check_batch_fits(starts, n, arrays=2, what="minimum search starts and points")
        s = math.sqrt(max(a + 2.0, 0.1)) if init_scale is None else positive_float(init_scale, "init_scale")
        x0 = s * rng.standard_normal((starts, n))
    else:
        x0 = np.atleast_2d(np.asarray(x0, dtype=np.float64))
        starts = x0.shape[0]
    it = range(starts)
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(it, desc=f"minima a={a:+.3f}", unit="start", leave=False, disable=None)
    found = []
    for k in it:
        x = lbfgs_descend(J, a, x0[k], h)
        x, _ = newton_polish(J, a, x, h)
        found.append(x)
    pts = classify(J, a, np.array(found), h)
    ok = (pts.grad_norm < tol) & (pts.index == 0)
    pts = pts.take(np.flatnonzero(ok))
    pts.starts, pts.failed = starts, int(starts - ok.sum())
    return deduplicate(pts, symmetric=h is None) if len(pts) else pts


def _saddle_follow(J: np.ndarray, a: float, x: np.ndarray, k: int, h: np.ndarray | None, *,
                   maxiter: int, radius: float, floor: float = 1e-3, track: bool = True) -> np.ndarray:
    """Eigenvector following toward an index-k saddle (see module docstring).

    With ``track`` the k uphill modes are followed from step to step (among the k + 4 softest modes,
    the k with the largest overlap with the previous uphill subspace), so near-degenerate soft modes do
    not swap roles every step; otherwise they are simply the k softest modes.
    """
    n = x.size
    U = None
    for _ in range(maxiter):
        g = gradient(x, J, a, h)
        if np.max(np.abs(g)) < 1e-11:
            break
        lam, V = sla.eigh(hessian(x, J, a), check_finite=False)
        up = np.arange(k)
        if track and U is not None and k:
            m = min(n, k + 4)
            ov = np.sum((U.T @ V[:, :m]) ** 2, axis=0)
            up = np.sort(np.argsort(-ov)[:k])
        U = V[:, up]
        gt = V.T @ g
        curv = np.maximum(np.abs(lam), floor)
        step = -gt / curv
        step[up] = gt[up] / curv[up]
        # uphill modes the gradient does not yet push along: kick them so the walk can leave a minimum
        if k and np.all(np.abs(gt[up]) < 1e-9 * math.sqrt(n)):
            step[up] += radius * np.sign(V[0, up] + 1e-300) / math.sqrt(k)
        dx = V @ step
        nrm = np.linalg.norm(dx)
        if nrm > radius:
            dx *= radius / nrm
        x = x + dx
    return x


@_single_threaded
def find_saddles(J: np.ndarray, a: float, k: int, starts: int, seed=None, *, h: np.ndarray | None = None,
                 tol: float = DEFAULT_TOL, from_minima: CriticalPoints | None = None, displacement: float = 0.02,
                 radius: float = 0.02, maxiter: int = 200, restarts: int = 1, any_index: bool = False,
                 progress: bool = False) -> CriticalPoints:
    """Index-``k`` saddles of E_a by eigenvector following, de-duplicated (k = 0 gives minima).

    Starts: each of ``starts`` walks begins at a minimum (from ``from_minima`` or found by
    :func:`find_minima` from random starts) displaced along a random combination of its k softest
    Hessian modes by ``displacement`` * sqrt(N * q) (q = |x|^2/N). Walks that end with |g|/sqrt(N) >= tol
    or an index other than k count as failed.
    """
    J, a, tol = _check(J, a, tol)
    n = J.shape[0]
    check_hessian_fits(n, 1)
    if isinstance(k, bool) or int(k) != k or k < 0 or k > n:
        raise CimsimError(f"index k must be an integer in [0, N={n}], got {k!r}")
    k = int(k)
    starts = positive_int(starts, "starts")
    rng = _rng(seed)
    if k == 0:
        return find_minima(J, a, starts, rng, h=h, tol=tol, progress=progress)
    if from_minima is None or len(from_minima) == 0:
        from_minima = find_minima(J, a, max(2, min(starts, 8)), rng, h=h, tol=tol)
    radius = positive_float(radius, "radius") * math.sqrt(n)
    if isinstance(restarts, bool) or int(restarts) != restarts or restarts < 0:
        raise CimsimError(f"restarts must be a non-negative integer, got {restarts!r}")
    restarts = int(restarts)
    it = range(starts)
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(it, desc=f"index-{k} a={a:+.3f}", unit="walk", leave=False, disable=None)
    found = []
    for w in it:
        if len(from_minima):
            x = from_minima.x[w % len(from_minima)]
        else:
            x = math.sqrt(max(a + 2.0, 0.1)) * rng.standard_normal(n)
        for attempt in range(1 + restarts):
            # displace along a random combination of the k softest modes of the current point
            lam, V = sla.eigh(hessian(x, J, a), subset_by_index=[0, min(k, n) - 1], check_finite=False)
            c = rng.standard_normal(k)
            c /= np.linalg.norm(c)
            x = x + displacement * max(np.linalg.norm(x), math.sqrt(0.01 * n)) * (V @ c)
            x = _saddle_follow(J, a, x, k, h, maxiter=maxiter, radius=radius)
            x, _ = newton_polish(J, a, x, h)
            g_ok = np.linalg.norm(gradient(x, J, a, h)) / math.sqrt(n) < tol
            if g_ok and int(np.sum(sla.eigvalsh(hessian(x, J, a), check_finite=False) < 0)) == k:
                break
        found.append(x)
    pts = classify(J, a, np.array(found), h)
    ok = (pts.grad_norm < tol) & ((pts.index == k) | any_index)
    pts = pts.take(np.flatnonzero(ok))
    pts.starts, pts.failed = starts, int(starts - ok.sum())
    return deduplicate(pts, symmetric=h is None) if len(pts) else pts


@dataclass
class AdiabaticPath:
    """A minimum followed in a (physics.md 4.3). Arrays have one entry per a (shape (A,)) or (A, N)."""

    a: np.ndarray
    x: np.ndarray
    energy: np.ndarray
    q: np.ndarray
    lambda_min: np.ndarray
    index: np.ndarray
    grad_norm: np.ndarray

    @property
    def eps(self) -> np.ndarray:
        return self.energy / self.x.shape[1]


def morse_index(H: np.ndarray) -> int:
    """The number of negative eigenvalues of the symmetric matrix ``H`` (its Morse index as a Hessian),
    from the inertia of an LDL^T factorisation (Sylvester's law), a third of the cost of the eigenvalues."""
    _, D, _ = sla.ldl(np.asarray(H, dtype=np.float64), lower=True, check_finite=False)
    count, i, n = 0, 0, D.shape[0]
    while i < n:
        if i + 1 < n and D[i + 1, i] != 0.0:  # a 2x2 block: its eigenvalues' signs
            count += int(np.sum(np.linalg.eigvalsh(D[i:i + 2, i:i + 2]) < 0))
            i += 2
        else:
            count += int(D[i, i] < 0)
            i += 1
    return count


@_single_threaded
def adiabatic_path(J: np.ndarray, a_grid: np.ndarray, seed=None, *, h: np.ndarray | None = None,
                   kick: float = 1e-4, tol: float = DEFAULT_TOL, progress: bool = False) -> AdiabaticPath:
    """Follow a minimum through increasing ``a_grid`` from x = 0 (kick + L-BFGS + Newton at every a).

    The kick (``kick`` * N(0, 1) per spin) lets the walk leave the origin once it turns unstable at
    a = -lambda_max(J). Points whose Newton polish fails keep the L-BFGS result; ``grad_norm`` says how
    converged each is. lambda_min is computed with a partial eigendecomposition, at the point after the
    Newton polish; ``index`` is the Morse index there (0 when lambda_min >= 0, else the number of negative
    Hessian eigenvalues from :func:`morse_index`), so a polish that lands on a saddle says which kind.
    """
    J = np.asarray(J, dtype=np.float64)
    a_grid = np.asarray(a_grid, dtype=np.float64)
    if a_grid.ndim != 1 or a_grid.size == 0 or not np.all(np.isfinite(a_grid)):
        raise CimsimError("the a-grid must be a non-empty 1-D array of finite values")
    if np.any(np.diff(a_grid) <= 0):
        raise CimsimError("the adiabatic a-grid must be strictly increasing")
    _check(J, a_grid[0], tol)
    rng = _rng(seed)
    n = J.shape[0]
    x = np.zeros(n)
    out_x, lmin = np.empty((a_grid.size, n)), np.empty(a_grid.size)
    index = np.zeros(a_grid.size, dtype=int)
    it = enumerate(a_grid)
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(list(it), desc="adiabatic path", unit="a", leave=False, disable=None)
    for i, a in it:
        x = x + kick * rng.standard_normal(n)
        x = lbfgs_descend(J, a, x, h)
        xp, ok = newton_polish(J, a, x, h)
        if ok:
            x = xp
        out_x[i] = x
        H = hessian(x, J, a)
        lmin[i] = sla.eigvalsh(H, subset_by_index=[0, 0], check_finite=False)[0]
        if lmin[i] < 0:
            index[i] = morse_index(H)
    e = np.array([energy(x, J, a, h) for x, a in zip(out_x, a_grid)])
    g = np.array([np.linalg.norm(gradient(x, J, a, h)) / math.sqrt(n) for x, a in zip(out_x, a_grid)])
    return AdiabaticPath(a_grid, out_x, e, np.sum(out_x**2, axis=1) / n, lmin, index, g)
