"""Freezing point of the soft-spin SK landscape: finite-size study (issue 17 item 8).

    python bench/landscape/freezing.py run  --n 400 --instances 8 [--out DIR] [--seed 2026] [--starts 0]
    python bench/landscape/freezing.py analyze [--out DIR]

``run`` follows the adiabatic minimum of E_a(x) = sum(x^4/4 - a x^2/2) - 1/2 x^T J x (SK, J_ij ~ N(0, 1/N),
instance i of size N is ``cimsim.landscape.phase.instance_couplings(N, i, seed)``, the same J as the
phase-diagram sweep and docs/landscape.md section 2 for the same seed) over a from -2.2 to +0.2 in steps of
0.05 (the physics.md 4.3 protocol: kick 1e-4 per spin, then L-BFGS to max|g| < 1e-8), and records at every
a >= -1.25 the smallest Hessian eigenvalue lambda_min of K = diag(3x^2 - a) - J from a Lanczos solve
(scipy eigsh on K as a linear operator, warm-started with the previous eigenvector: no dense N x N Hessian,
no dense eigendecomposition, so N = 6400 fits). With ``--starts S > 0`` it also descends S random starts
(rms sqrt(a + 2), as find_minima) at each a of START_GRID and records their energies and lambda_min
(separate file DIR/raw/n{N}_i{i}_starts{S}.json).

One file per (N, instance): DIR/raw/n{N}_i{i}.json, written when that instance is finished; a re-run skips
finished files (resumable, and instances can be added later with a larger --instances).

``analyze`` reads all raw files, computes the freezing estimators per instance (see ESTIMATORS in the
docstring of :func:`estimators`), mean +- sem over instances per N, weighted fits in 1/N and in N^(-2/3),
and writes DIR/freezing.csv, DIR/freezing.md, DIR/freezing_vs_n.png and DIR/lambda_min_n{N}.png.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse.linalg as spla

from cimsim.landscape.critical import blas_single_thread, lbfgs_descend
from cimsim.landscape.phase import instance_couplings

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE.parent / "results" / "freezing"
PATH_DA = 0.05
A_START, A_STOP = -2.2, 0.2
EIG_FROM = -1.25  # lambda_min is computed from here on (the floor window starts at -1.2)
START_GRID = (-0.8, -0.6, -0.5, -0.45, -0.4, -0.35, -0.3, -0.2, -0.1, 0.0)
KICK = 1e-4


def path_grid() -> np.ndarray:
    m = int(round((A_STOP - A_START) / PATH_DA))
    return np.round(A_START + PATH_DA * np.arange(m + 1), 10)


def lowest_eig(J: np.ndarray, x: np.ndarray, a: float, v0: np.ndarray | None, k: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """The k smallest eigenvalues (ascending) of K = diag(3x^2 - a) - J and the lowest eigenvector (Lanczos)."""
    n = x.size
    d = 3.0 * x * x - a
    op = spla.LinearOperator((n, n), matvec=lambda v: d * v.ravel() - J @ v.ravel(), dtype=np.float64)
    w, V = spla.eigsh(op, k=k, which="SA", v0=v0, tol=1e-10, ncv=max(20, 2 * k + 1), maxiter=20 * n)
    o = np.argsort(w)
    return w[o], V[:, o[0]]


def descend(J: np.ndarray, a: float, x0: np.ndarray) -> tuple[np.ndarray, float, float]:
    """L-BFGS (cimsim.landscape.critical.lbfgs_descend) -> (x, eps = E/N, max|g|)."""
    x = lbfgs_descend(J, a, x0, gtol=1e-9)
    Jx = J @ x
    x2 = x * x
    e = float(np.sum(0.25 * x2 * x2 - 0.5 * a * x2) - 0.5 * x @ Jx)
    g = x * x2 - a * x - Jx
    return x, e / x.size, float(np.max(np.abs(g)))


def run_instance(n: int, inst: int, seed: int) -> dict:
    """The adiabatic path of instance ``inst`` of size ``n`` with lambda_min from a = EIG_FROM on."""
    J = instance_couplings(n, inst, seed)
    rng = np.random.default_rng(np.random.SeedSequence([seed, n, inst, 17]))
    grid = path_grid()
    x = np.zeros(n)
    v = None
    rec: dict = {"n": n, "instance": inst, "seed": seed, "a": [], "eps": [], "q": [], "gmax": [], "lambda_min": [],
                 "lambda_2": [], "min_abs_x": []}
    t0 = time.time()
    for a in grid:
        x = x + KICK * rng.standard_normal(n)
        x, eps, gmax = descend(J, a, x)
        rec["a"].append(float(a))
        rec["eps"].append(eps)
        rec["q"].append(float(x @ x / n))
        rec["gmax"].append(gmax)
        rec["min_abs_x"].append(float(np.min(np.abs(x))))
        if a >= EIG_FROM - 1e-9:
            w, v = lowest_eig(J, x, a, v)
            rec["lambda_min"].append(float(w[0]))
            rec["lambda_2"].append(float(w[1]))
        else:
            rec["lambda_min"].append(None)
            rec["lambda_2"].append(None)
    rec["path_seconds"] = time.time() - t0
    return rec


def run_starts(n: int, inst: int, seed: int, starts: int) -> dict:
    """``starts`` random-start minima (L-BFGS from rms sqrt(a + 2) Gaussian starts) at each a of START_GRID."""
    J = instance_couplings(n, inst, seed)
    rng = np.random.default_rng(np.random.SeedSequence([seed, n, inst, 18, starts]))
    rec: dict = {"n": n, "instance": inst, "seed": seed, "starts": starts, "rows": []}
    t0 = time.time()
    for a in START_GRID:
        s = math.sqrt(max(a + 2.0, 0.1))
        row = {"a": a, "eps": [], "lambda_min": [], "gmax": []}
        for _ in range(starts):
            y, eps, gmax = descend(J, a, s * rng.standard_normal(n))
            w, _ = lowest_eig(J, y, a, None)
            row["eps"].append(eps)
            row["lambda_min"].append(float(w[0]))
            row["gmax"].append(gmax)
        rec["rows"].append(row)
    rec["seconds"] = time.time() - t0
    return rec


def _write(f: Path, rec: dict) -> None:
    tmp = f.with_suffix(".tmp")
    tmp.write_text(json.dumps(rec))
    os.replace(tmp, f)


def cmd_run(args: argparse.Namespace) -> None:
    raw = Path(args.out) / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for n in args.n:
        for inst in range(args.instances):
            jobs = [] if args.no_path else [(raw / f"n{n}_i{inst}.json", lambda: run_instance(n, inst, args.seed))]
            if args.starts > 0:
                jobs.append((raw / f"n{n}_i{inst}_starts{args.starts}.json",
                             lambda: run_starts(n, inst, args.seed, args.starts)))
            for f, job in jobs:
                if f.exists():
                    print(f"skip {f.name} (finished)", file=sys.stderr)
                    continue
                t0 = time.time()
                with blas_single_thread():
                    _write(f, job())
                print(f"{f.name}: {time.time() - t0:.0f} s", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--n", type=int, action="append", required=True)
    r.add_argument("--instances", type=int, default=8)
    r.add_argument("--starts", type=int, default=0, help="random starts per a of START_GRID (0: none)")
    r.add_argument("--no-path", action="store_true", help="only the random starts")
    r.add_argument("--seed", type=int, default=2026)
    r.add_argument("--out", default=str(DEFAULT_OUT))
    an = sub.add_parser("analyze")
    an.add_argument("--out", default=str(DEFAULT_OUT))
    args = p.parse_args(argv)
    if args.cmd == "run":
        cmd_run(args)
    else:
        from freezing_analysis import analyze  # noqa: E402  (same directory)

        analyze(Path(args.out))


if __name__ == "__main__":
    main()
