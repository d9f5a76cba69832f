"""One budgeted call: a cimsim solver or a peer on one instance, at one budget and seed, scored from its spins.

:class:`BenchTask` is the sweep function (``run_sweep(tasks, BenchTask(), ...)``): each task is one call.
Everything a call needs in its process lives here: which cimsim configurations the bench runs
(:data:`CIMSIM_SOLVERS`), the once-per-process warm-up (JIT compilation and lazy imports outside any
budget), the thread cap, the peers' format conversions, and the packed spins and code version stored
with each call. The machine-bounds header line (:func:`machine_line`) is a task too.
"""
from __future__ import annotations

import contextlib
import json
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import scipy.sparse as sp

import cimsim
from cimsim import CimsimError, IsingModel
from cimsim.solvers import get_solver

from . import bounds, peers
from .instances import Instance, load_instance

__all__ = ["CIMSIM_SOLVERS", "DENSE_PEER_MAX_N", "DENSE_ONLY_PEERS", "BenchTask", "cimsim_unavailable",
           "peer_skipped", "limit_threads", "machine_line", "unpack_spins", "code_version", "register_instances"]

#: label -> (cimsim solver name, extra parameters)
CIMSIM_SOLVERS: dict[str, tuple[str, dict]] = {
    "cim": ("cim", {}),
    "sa": ("sa", {}),
    "tabu": ("tabu", {}),
    # what `cimsim solve` runs by default (cimsim.solvers.auto_choice): exact for N <= 20, matching on
    # field-free 2-D lattices (Gset's toroidal graphs), cfc on other field-free models up to N = 4000 (dense:
    # 1000) and on hub-dominated graphs, else sa
    "auto": ("auto", {}),
    "sb-dsb": ("sb", {"variant": "dsb"}),
    "cfc": ("cfc", {}),
    "sfc": ("sfc", {}),
    "cac": ("cac", {}),
    "ahc": ("ahc", {}),
    "adiabatic": ("adiabatic", {}),
}

#: peers that only take a dense matrix are skipped above this many spins (memory on a shared machine)
DENSE_PEER_MAX_N = 12000
DENSE_ONLY_PEERS = {"sb_torch", "cim_optimizer_cac"}


def peer_skipped(peer: str, n: int) -> bool:
    """Whether ``peer`` is not run on an instance of ``n`` spins (dense-only peers above the size limit)."""
    return peer in DENSE_ONLY_PEERS and n > DENSE_PEER_MAX_N


# --------------------------------------------------------------------------------------------------
# per-process state: instances, warm-ups, peer conversions

#: instances handed to the runner in this process, by name (tasks on other processes load by name)
_INSTANCES: dict[str, Instance] = {}
#: instance loaded by name in this process (one kept at a time)
_LOADED: dict[str, Instance] = {}
#: per-process warm-up outcome of each cimsim solver label / peer (None = ready, else why not)
_WARM: dict[str, str | None] = {}
#: per-process peer format conversions: (instance, peer) -> (prepared input, seconds it took)
_PREPARED: dict[tuple[str, str], tuple[object, float]] = {}


def register_instances(instances: list[Instance]) -> None:
    """Make already-loaded instances available to tasks running in this process (no reload by name)."""
    for inst in instances:
        _INSTANCES[inst.name] = inst


def _instance(name: str, data: str | None) -> Instance:
    if name in _INSTANCES:
        return _INSTANCES[name]
    if name not in _LOADED:
        _LOADED.clear()
        _LOADED[name] = load_instance(name, data)
    return _LOADED[name]


# --------------------------------------------------------------------------------------------------
# availability and warm-up


def cimsim_unavailable(label: str) -> str | None:
    """None when the cimsim solver behind ``label`` imports, else why not (one line)."""
    try:
        name = CIMSIM_SOLVERS[label][0]
        get_solver("sa" if name == "auto" else name)
    except CimsimError as exc:
        return str(exc)
    except Exception as exc:  # a module being written that fails to import
        return f"import error: {type(exc).__name__}: {exc}"
    return None


def _warm_model(sparse: bool) -> IsingModel:
    rng = np.random.default_rng(0)
    A = rng.standard_normal((24, 24))
    J = (A + A.T) / 2
    np.fill_diagonal(J, 0)
    return IsingModel.from_couplings(J, storage="sparse" if sparse else "dense")


def _torus_model(side: int = 6) -> IsingModel:
    """A +-1 toroidal lattice (what `auto` hands to the matching solver)."""
    rng = np.random.default_rng(0)
    n = side * side
    J = sp.lil_matrix((n, n))
    for i in range(n):
        r, c = divmod(i, side)
        for j in (r * side + (c + 1) % side, ((r + 1) % side) * side + c):
            J[i, j] = J[j, i] = rng.choice([-1.0, 1.0])
    return IsingModel.from_couplings(sp.csr_matrix(J))


def _warmup_cimsim(label: str) -> str | None:
    """Compile numba kernels on a tiny model so JIT time is not charged to the first budget."""
    name, params = CIMSIM_SOLVERS[label]
    try:
        for sparse in (False, True):
            cimsim.solve(_warm_model(sparse), name, replicas=2, steps=5, seed=0, **params)
        if name in ("auto", "matching"):  # import PyMatching and compile the anneal it may call
            cimsim.solve(_torus_model(), name, replicas=2, steps=5, seed=0, **params)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}".splitlines()[0]
    return None


def _warmup_peer(name: str) -> str | None:
    try:
        peers.get_peer(name).warmup()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}".splitlines()[0]
    return None


def _warm(family: str, solver: str) -> None:
    """JIT/lazy-import warm-up once per process, outside any budget; raises if it fails."""
    key = f"{family}:{solver}:{json.dumps(CIMSIM_SOLVERS.get(solver) if family == 'cimsim' else None)}"
    if key not in _WARM:
        _WARM[key] = _warmup_cimsim(solver) if family == "cimsim" else _warmup_peer(solver)
    if _WARM[key] is not None:
        raise RuntimeError(f"warm-up failed: {_WARM[key]}")


# --------------------------------------------------------------------------------------------------
# running one call


def _run_cimsim(label: str, model: IsingModel, budget: float, seed: int) -> tuple[np.ndarray, dict]:
    """One ``cimsim.solve`` call at ``budget``: (spins (N,), call statistics)."""
    name, params = CIMSIM_SOLVERS[label]
    res = cimsim.solve(model, name, time_limit=budget, seed=seed, **params)
    E = np.asarray(res.energies, dtype=np.float64)
    per_batch = E.reshape(res.batches, -1).min(axis=1) if E.size == res.batches * res.replicas else E[:1]
    # spin updates actually made: batches may differ in length (budget fitting), and with presolve the
    # solver worked on the reduced model
    n_work = int(res.settings.get("presolve", {}).get("reduced_n", model.n)) if isinstance(res.settings, dict) else model.n
    steps_done = sum(res.extra.get("batch_steps", [])) or res.steps * res.batches
    updates = float(res.replicas) * n_work * steps_done
    return np.asarray(res.spins), dict(elapsed_s=float(res.time_s), batches=int(res.batches), updates=updates,
                                       replicas=int(res.replicas), batch_energies=per_batch, setup_s=0.0)


def _prepared(name: str, inst: Instance) -> tuple[object, float]:
    """The peer's input for ``inst`` and the seconds its conversion took (once per instance and process)."""
    key = (inst.name, name)
    if key not in _PREPARED:
        if any(k[0] != inst.name for k in _PREPARED):
            _PREPARED.clear()  # one instance's conversions at a time (dense peers hold an N x N copy)
        t = time.perf_counter()
        _PREPARED[key] = (peers.get_peer(name).prepare(inst.model), time.perf_counter() - t)
    return _PREPARED[key]


def _run_peer_call(name: str, inst: Instance, budget: float, seed: int) -> tuple[np.ndarray, dict]:
    """One peer call at ``budget`` (format conversion done once per instance and process, not timed)."""
    model = inst.model
    prep, setup = _prepared(name, inst)
    pr = peers.run_peer(name, model, budget, seed, prepared=prep, setup_s=setup)
    E = model.energies(pr.batch_spins)
    k = int(np.argmin(E))
    return pr.batch_spins[k], dict(elapsed_s=float(pr.elapsed_s), batches=int(pr.batches),
                                   updates=float(pr.spin_updates), replicas=int(pr.replicas), batch_energies=E,
                                   setup_s=float(setup))


def _measure_bound(model: IsingModel, replicas: int) -> dict:
    """This machine's throughput bound for ``model`` at ``replicas`` (stored with the row's first call)."""
    if replicas <= 0:
        return {}
    try:
        b = bounds.bound_for(model, replicas)
    except Exception as exc:  # e.g. not enough memory for the matmul probe
        return {"bound_error": type(exc).__name__}
    return {"bound_kind": b.kind, "bound_updates_per_s": b.updates_per_s,
            "bound_f32_updates_per_s": b.updates_per_s_f32}


@contextlib.contextmanager
def limit_threads(threads: int | None, *, torch: bool = False) -> Iterator[None]:
    """Cap BLAS (threadpoolctl, if installed), numba and torch threads at ``threads`` inside the block.

    On a loaded machine, BLAS and torch worker threads that spin-wait can make a 2-thread run many
    times slower than one thread, so all solvers get the same cap.
    """
    if threads is None:
        yield
        return
    import numba

    old_numba = numba.get_num_threads()
    numba.set_num_threads(max(1, min(int(threads), numba.config.NUMBA_NUM_THREADS)))
    old_torch = _set_torch_threads(int(threads)) if torch else None
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        threadpool_limits = None
    try:
        if threadpool_limits is not None:
            with threadpool_limits(int(threads)):
                yield
        else:
            yield
    finally:
        numba.set_num_threads(old_numba)
        if old_torch is not None:
            _set_torch_threads(old_torch)


def _set_torch_threads(threads: int) -> int | None:
    """Set torch's thread count; returns the previous one (None when torch is not installed)."""
    try:
        import torch as _torch
    except ImportError:
        return None
    old = _torch.get_num_threads()
    _torch.set_num_threads(threads)
    return old


def machine_line(threads: int | None) -> str:
    """This machine's measured bounds, for the table header (same thread cap as the run)."""
    with limit_threads(threads):
        bw = bounds.triad_bandwidth()
        t64 = bounds.matmul_seconds(32, 1000, "float64")
        t32 = bounds.matmul_seconds(32, 1000, "float32")
    gf = lambda t: 2 * 32 * 1000 * 1000 / t / 1e9  # noqa: E731
    return (f"Machine, measured in this run: memory bandwidth (numpy triad/copy) {bw / 1e9:.1f} GB/s; "
            f"(32, 1000) @ (1000, 1000) matmul {gf(t64):.1f} GFLOP/s float64, {gf(t32):.1f} GFLOP/s float32. "
            "Load from other processes is not controlled; see bench/README.md.")


def _pack_spins(spins: np.ndarray) -> str:
    """Spins (N,) of +-1 as hex of their packed sign bits (bit 1 = +1), to store every returned state."""
    return np.packbits(np.asarray(spins).reshape(-1) > 0).tobytes().hex()


def unpack_spins(text: str, n: int) -> np.ndarray:
    """Inverse of the stored ``spins_hex`` field: int8 spins (N,) of +-1."""
    bits = np.unpackbits(np.frombuffer(bytes.fromhex(text), dtype=np.uint8))[:n]
    return np.where(bits > 0, 1, -1).astype(np.int8)


_CODE: list[str] = []


def git_head(tree: str | Path) -> str:
    """The HEAD commit (12 hex digits) of the git checkout ``tree``, or "unknown"."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=Path(tree), capture_output=True,
                              text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        head = ""
    return head or "unknown"


def code_version() -> str:
    """The repository's HEAD commit (12 hex digits) where this process runs, or "unknown".

    Stored with every call (not part of its key, so a run resumes across commits): the table header
    lists the commits its calls were made at, so a table mixing code versions says so.
    """
    if not _CODE:
        _CODE.append(git_head(Path(__file__).resolve().parent))
    return _CODE[0]


# --------------------------------------------------------------------------------------------------
# the sweep function


def threads_param(threads: int | None) -> int | str:
    return "all" if threads is None else int(threads)


def call_params(inst: str, family: str, solver: str, budget: float, seed: int, threads: int | None) -> dict:
    """The task parameters of one call (their hash is the call's key in the store)."""
    p = {"task": "call", "instance": inst, "family": family, "solver": solver, "budget_s": float(budget),
         "seed": int(seed), "threads": threads_param(threads), "bound": seed == 0}
    if family == "cimsim":
        name, params = CIMSIM_SOLVERS[solver]
        p["config"] = [name, dict(params)]
    return p


@dataclass(frozen=True)
class BenchTask:
    """The sweep function (``run_sweep(tasks, BenchTask(), ...)``): one task = one budgeted call.

    Task parameters (all JSON): ``task`` ("call" or "machine"), ``instance`` (name), ``family``
    ("cimsim" or "peer"), ``solver`` (a :data:`CIMSIM_SOLVERS` label or a peer key), ``config`` (the
    cimsim solver name and parameters, so a changed entry is a new task), ``budget_s``, ``seed``,
    ``threads`` (int or "all"), ``bound`` (measure the throughput bound for this row's replica count).

    Returns the call's objective and energy recomputed from its spins, its wall time, batches, spin
    updates, replicas, per-batch best energies, peer setup time, the spins themselves (``spins_hex``,
    see :func:`unpack_spins`) and, with ``bound``, the bound measurement. The sweep seed is not used:
    seeds are the bench's own 0..repeats-1 so rows compare with earlier runs.

    ``data`` is the instance data root for tasks that load their instance by name (None: ``CIMSIM_DATA``
    or the default). Where the data lives does not change a call's result, so it is not part of the
    function's identity in the store (:meth:`sweep_identity`).
    """

    data: str | None = None

    def sweep_identity(self) -> dict:
        return {}

    def __call__(self, params: dict, seed_seq: object = None) -> dict:
        threads = None if params["threads"] == "all" else int(params["threads"])
        if params["task"] == "machine":
            return {"machine": machine_line(threads)}
        inst = _instance(params["instance"], self.data)
        if inst.model is None or inst.objective is None:
            raise RuntimeError(f"instance {inst.name} did not load: {inst.status}")
        family, solver = params["family"], params["solver"]
        with limit_threads(threads, torch=family == "peer" and solver in DENSE_ONLY_PEERS):
            out = self._scored_call(inst, family, solver, float(params["budget_s"]), int(params["seed"]),
                                    bool(params.get("bound")))
        return out

    @staticmethod
    def _scored_call(inst: Instance, family: str, solver: str, budget: float, seed: int, bound: bool) -> dict:
        """Warm up, make the call, and score its spins with cimsim's model (never the solver's own claim)."""
        _warm(family, solver)
        if family == "cimsim":
            spins, stats = _run_cimsim(solver, inst.model, budget, seed)
        else:
            spins, stats = _run_peer_call(solver, inst, budget, seed)
        out = dict(objective=float(inst.objective(spins)), energy=float(inst.model.energy(spins)), **stats)
        if bound:
            out.update(_measure_bound(inst.model, stats["replicas"]))
        out["batch_energies"] = np.asarray(out["batch_energies"], dtype=np.float64).tolist()
        out["n"] = int(inst.model.n)
        out["code"] = code_version()
        out["spins_hex"] = _pack_spins(spins)
        return out


# Stores written before the harness was split name their function "bench.harness.BenchTask" (cimsim.sweep
# matches stored calls by module and class name); bench.harness re-exports this class, so keeping that name
# lets those stores resume, and pickling by reference still finds the class.
BenchTask.__module__ = "bench.harness"
