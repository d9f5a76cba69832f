"""GPU throughput of the device solvers: spin updates per second against the device's own cuBLAS rate.

Run on a machine with an NVIDIA GPU and CuPy (``pip install "cimsim[gpu]"``)::

    python bench/gpu_bench.py                       # dense N = 2000, 8000 and Gset G22, G81; cim, sb, cac
    python bench/gpu_bench.py --solvers sb --replicas 128 --steps 1000 --json gpu.json

For every (instance, solver) it reports

``sus``
    spin updates per second: replicas x N x steps / wall seconds (device synchronised, compile excluded);
``product_sus``
    the same quantity for the coupling product alone, measured in the same run with the same shapes
    (cuBLAS GEMM (R, N) x (N, N) for dense J, cuSPARSE SpMM for CSR J): the step's ceiling;
``ratio_product``
    sus / product_sus (1.0 means the fused step and the bookkeeping cost nothing beyond the product);
``gflops`` and ``ratio_gemm_peak``
    2 R nnz(J) steps / seconds, and its ratio to the device's measured square-GEMM rate (float32,
    4096^3), the "how much of the GPU did we use" number.

Before timing, the kernels are checked against their references on the device (cimsim.gpu.selfcheck);
the script exits 1 if they disagree. Without a usable GPU it prints one line saying why and exits 2. ``--standin`` runs the identical code
path with NumPy standing in for CuPy on tiny instances (a smoke test of this script, not a benchmark).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.data import add_data_option, data_root, missing_root_message  # noqa: E402

SOLVERS = ("cim", "sb", "cac")


def _fail(msg: str) -> int:
    print(f"gpu_bench: {msg}", file=sys.stderr)
    return 2


def _timer(dev) -> Callable[[Callable[[], Any]], float]:
    """Seconds taken by ``fn()`` with the device synchronised before and after."""

    def timed(fn: Callable[[], Any]) -> float:
        dev.synchronize()
        t0 = time.perf_counter()
        fn()
        dev.synchronize()
        return time.perf_counter() - t0

    return timed


def gemm_peak_flops(dev, n: int, repeats: int = 5) -> float:
    """Measured float32 GEMM rate (FLOP/s) of an (n, n) x (n, n) product on ``dev``."""
    xp = dev.xp
    A = xp.asarray(np.random.default_rng(0).standard_normal((n, n)), dtype=xp.float32)
    C = xp.empty_like(A)
    timed = _timer(dev)
    timed(lambda: xp.matmul(A, A, out=C))
    t = min(timed(lambda: xp.matmul(A, A, out=C)) for _ in range(repeats))
    return 2.0 * n**3 / t


def product_rate(dev, model, R: int, repeats: int = 20) -> float:
    """Spin updates per second if a step were only the coupling product (R, N) x J on ``dev``."""
    from cimsim.gpu import Coupling

    xp = dev.xp
    cpl = Coupling(model, dev)
    Z = xp.asarray(np.sign(np.random.default_rng(1).standard_normal((R, model.n))), dtype=dev.dtype)
    W = xp.empty_like(Z)
    timed = _timer(dev)
    timed(lambda: cpl.product(Z, W))

    def many() -> None:
        for _ in range(repeats):
            cpl.product(Z, W)

    return R * model.n * repeats / timed(many)


def instances(standin: bool, gset: Path) -> list[tuple[str, Any]]:
    """(label, model builder) pairs; Gset graphs come from ``gset`` (the data root's gset/)."""
    from cimsim.encoders.maxcut import encode_maxcut, read_gset
    from cimsim.instances import sk_model

    if standin:
        n, edges = read_gset(gset / "G1.txt") if (gset / "G1.txt").exists() else (0, None)
        out = [("SK N=64", lambda: sk_model(64, seed=0))]
        if edges is not None:
            out.append(("G1 (sparse)", lambda: encode_maxcut(n, edges, storage="sparse").model))
        return out
    out: list[tuple[str, Any]] = [(f"SK N={n}", (lambda n=n: sk_model(n, seed=0))) for n in (2000, 8000)]
    for g in ("G22", "G81"):
        path = gset / f"{g}.txt"

        def load(path: Path = path) -> Any:
            n, edges = read_gset(path)
            return encode_maxcut(n, edges, name=path.stem, storage="sparse").model

        out.append((f"{g} (sparse)", load))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--solvers", default=",".join(SOLVERS), help="comma-separated subset of cim,sb,cac")
    ap.add_argument("--replicas", type=int, default=64)
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--json", type=Path, default=None, help="also write the rows to this JSON file")
    ap.add_argument("--standin", action="store_true", help="NumPy stand-in on tiny instances (smoke test)")
    add_data_option(ap)
    args = ap.parse_args(argv)
    gset = data_root(args.data) / "gset"
    solvers = [s.strip() for s in args.solvers.split(",") if s.strip()]
    bad = [s for s in solvers if s not in SOLVERS]
    if bad:
        return _fail(f"unknown solver(s) {', '.join(bad)}; choose from {', '.join(SOLVERS)}")
    if args.replicas < 1 or args.steps < 2:
        return _fail("--replicas must be >= 1 and --steps >= 2")

    from cimsim import gpu
    from cimsim.backends import gpu_status
    from cimsim.solvers import get_solver

    if args.standin:
        dev = gpu.numpy_device("xp", np.float32)
        R, T, gemm_n = min(args.replicas, 8), min(args.steps, 20), 256
    else:
        ok, reason = gpu_status()
        if not ok:
            return _fail(f"no GPU to benchmark: {reason}")
        dev = gpu.gpu_device()
        R, T, gemm_n = args.replicas, args.steps, 4096
        if not gset.parent.is_dir():
            return _fail(missing_root_message(gset.parent))
        if not gset.is_dir():
            return _fail(f"Gset directory {gset} not found (data root set by CIMSIM_DATA or --data)")
    if dev.kernels == "cuda" and not args.standin:
        # numbers from kernels that disagree with their references would be meaningless
        from cimsim.gpu.selfcheck import TOLERANCE, run_all

        diffs = run_all(on_gpu=True)
        bad = {k: v for k, v in diffs.items() if v > TOLERANCE[k]}
        if bad:
            print(f"gpu_bench: kernels disagree with their references on this device: {bad}", file=sys.stderr)
            return 1
    peak = gemm_peak_flops(dev, gemm_n)
    timed = _timer(dev)
    rows = []
    print(f"device {dev.name}: float32 GEMM {peak / 1e12:.2f} TFLOP/s ({gemm_n}^3)")
    print(f"{'instance':<16} {'solver':<5} {'R':>4} {'steps':>6} {'sus':>10} {'product_sus':>12} "
          f"{'ratio_prod':>10} {'GFLOP/s':>9} {'ratio_peak':>10}")
    for label, build in instances(args.standin, gset):
        model = build()
        nnz = int(model.J.nnz) if model.is_sparse else model.n * model.n
        bound = product_rate(dev, model, R)
        for name in solvers:
            fn = get_solver(name).run  # the solver's own run dispatches to its device executor
            kw: dict[str, Any] = {"replicas": R, "rng": np.random.default_rng(0), "backend": "gpu", "device": dev}
            if name == "cim":  # absolute pump ramp: no host eigensolver inside the timed call
                kw.update(schedule="linear:-1,1")
            fn(model, steps=2, **kw)  # compile the kernels, warm the memory pool and the sb dt cache
            # per-step cost: difference of a long and a 2-step run (uploads and set-up cancel)
            kw["rng"] = np.random.default_rng(1)
            short = timed(lambda: fn(model, steps=2, **kw))
            kw["rng"] = np.random.default_rng(1)
            sec = max(timed(lambda: fn(model, steps=T, **kw)) - short, 1e-9) * T / (T - 2)
            sus = R * model.n * T / sec
            gflops = 2.0 * R * nnz * T / sec
            row = dict(instance=label, solver=name, n=model.n, nnz=nnz, replicas=R, steps=T, seconds=sec, sus=sus,
                       product_sus=bound, ratio_product=sus / bound, gflops=gflops / 1e9,
                       ratio_gemm_peak=gflops / peak, device=dev.name, gemm_peak_tflops=peak / 1e12)
            rows.append(row)
            print(f"{label:<16} {name:<5} {R:>4} {T:>6} {sus:>10.3g} {bound:>12.3g} {sus / bound:>10.2f} "
                  f"{gflops / 1e9:>9.1f} {gflops / peak:>10.3f}")
    if args.json is not None:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
