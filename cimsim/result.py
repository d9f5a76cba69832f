"""The one result type every solver returns."""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

__all__ = ["Result", "to_jsonable", "EXTRA_KEYS", "extra_table"]


def to_jsonable(value: Any, *, nonfinite_as_str: bool = True) -> Any:
    """Convert numpy scalars/arrays (recursively) to plain Python for ``json``, tuples to lists, objects
    with ``to_dict`` to their dict; inf/nan become strings (stay floats with ``nonfinite_as_str=False``)."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v, nonfinite_as_str=nonfinite_as_str) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v, nonfinite_as_str=nonfinite_as_str) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist(), nonfinite_as_str=nonfinite_as_str)
    if isinstance(value, np.generic):
        return to_jsonable(value.item(), nonfinite_as_str=nonfinite_as_str)
    if nonfinite_as_str and isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if hasattr(value, "to_dict") and not isinstance(value, type):
        return to_jsonable(value.to_dict(), nonfinite_as_str=nonfinite_as_str)
    return value


#: The keys of ``Result.extra`` (and ``Batch.extra``): ``(key, shape, meaning, set by)``. A solver sets only
#: the keys that apply to it; R is the batch's replica count, N the number of spins, T the number of
#: recorded rows, L the number of pump levels. Energies are Ising energies H(s) before the driver's polish.
EXTRA_KEYS: tuple[tuple[str, str, str, str], ...] = (
    ("best_energies", "(R,)", "energy of the state each replica returned: the best it visited", "ahc, cac, sb, tabu, exact"),
    ("final_energies", "(R,)", "energy of each replica's last state", "cim, adiabatic, sa, dopo, mfb, cfc, sfc, asb, simcim"),
    ("steps_to_best", "(R,)", "step (iteration) at which each replica found the state it returned", "ahc, cac, tabu"),
    ("steps_taken", "(R,)", "steps each replica ran (a target energy stops it early)", "ahc, cac"),
    ("lambda_max", "float", "largest eigenvalue of J / coupling_scale (the pump threshold is a = -lambda_max)",
     "cim, dopo, mfb (when computed), adiabatic, spectral"),
    ("coupling_scale", "float", "sigma_J sqrt(N): the normalisation of J in lambda_max and the dynamics",
     "cim, adiabatic, sb, spectral"),
    ("eigenvalues", "(k,)", "top eigenvalues of J / coupling_scale, descending", "spectral"),
    ("trace_energy", "(T, R)", "energy of every replica at each recorded row", "every solver with record=True"),
    ("trace_a", "(T,)", "pump a at each recorded row", "cim, adiabatic (record)"),
    ("trace_x", "(T, N)", "amplitudes of replica 0 at each recorded row", "every amplitude solver with record=True"),
    ("trace_beta", "(T,)", "inverse temperature of each recorded sweep", "sa (record)"),
    ("trace_pump", "(T,)", "the pump at each recorded row in the solver's own units (dopo, mfb: p, threshold 1)",
     "dopo, mfb, cfc, sfc, asb, simcim (record)"),
    ("accepted_flips", "(R,)", "accepted Metropolis flips per replica", "sa"),
    ("finish_iterations", "int", "L-BFGS iterations of the finishing descent", "cim (preset=constant)"),
    ("levels", "(L,)", "pump value of every level", "adiabatic"),
    ("q", "(L,)", "mean x^2 / N after each level's descent", "adiabatic"),
    ("soft_energy_per_spin", "(L,)", "mean soft-spin energy E_a(x) / N after each level", "adiabatic"),
    ("iterations", "(L,)", "L-BFGS iterations of each level", "adiabatic"),
    ("total_iterations", "int", "L-BFGS iterations of all levels", "adiabatic"),
    ("unconverged_level_replicas", "int", "(level, replica) descents that hit max_iter", "adiabatic"),
    ("photon_number", "float", "mean photons per pulse at the end (None without quantum noise)", "dopo, mfb"),
    ("round_trips", "float", "length of the run in round trips", "dopo, mfb"),
    ("time_kappa", "float", "length of the run in units of 1/kappa", "dopo"),
    ("round_trip_time_kappa", "float", "one round trip in units of 1/kappa", "mfb"),
    ("machine_time_s", "float", "length of the run in seconds on the modelled machine (None without rep_rate)", "mfb"),
    ("background_loss", "float", "power loss per round trip besides the tap and the injection coupler", "mfb"),
    ("mvm", "int", "products of J with a state vector in the batch (steps x R)", "cfc, sfc, asb, simcim"),
    ("coupling_norm", "float", "the factor xi of the couplings in the dynamics (xi J, xi h)", "cfc, sfc, asb, simcim"),
    ("units", "dict", "the run's scales in the project's units (project_units: a, x, tau, T_eff)", "dopo"),
    ("aux_spin", "bool", "fields were handled with an auxiliary spin", "ahc, cac"),
    ("lower_bound", "float", "a lower bound on the ground-state energy", "matching"),
    ("proven_optimal", "bool", "the best energy attains lower_bound", "matching (checked by the driver)"),
    ("join_parities", "list", "winding parities of each matching", "matching"),
    ("repaired_energies", "(R,)", "energies of the repaired joins before the anneal", "matching"),
    ("degeneracy", "int", "number of ground states", "exact"),
    ("device", "str", "the device a GPU run used", "GPU runs"),
    ("auto", "dict", "--solver auto: the solver picked, the reason, the graph features read and their seconds",
     "the pipeline (solver auto)"),
    ("time_to_best_s", "float", "seconds from the start of the call to the best answer", "the driver (every solver)"),
    ("batch_steps", "list", "steps of every batch run", "the driver (every solver)"),
    ("best_batch", "int", "index in batch_steps of the batch that found the answer", "the driver (every solver)"),
    ("interrupted", "bool", "Ctrl-C stopped the run: the answer is the best state found until then",
     "the driver (every solver)"),
    ("stopped_early", "bool", "the run stopped once its stop condition held (cimsim solve: --target reached)",
     "the driver (every solver)"),
    ("problem", "str", "the problem the model encodes (maxcut, sat, ...)", "cimsim.solve on a problem (the pipeline)"),
    ("encoding", "dict", "the encoder's description of the encoding (penalties, sizes, suited solvers)",
     "cimsim.solve on a problem (the pipeline)"),
    ("objective_name", "str", "what the objective counts (cut, satisfied, ...)", "cimsim.solve on a problem (the pipeline)"),
    ("sense", "str", "max or min: the direction of the objective", "cimsim.solve on a problem (the pipeline)"),
    ("file", "str", "the file the problem was read from", "cimsim.solve on a file (the pipeline)"),
)


def extra_table(indent: str = "") -> str:
    """:data:`EXTRA_KEYS` as a reStructuredText simple table (for the docstring of :class:`Result`)."""
    heads = ("key", "shape", "meaning", "set by")
    widths = [max(len(h), *(len(row[k]) for row in EXTRA_KEYS)) for k, h in enumerate(heads)]
    rule = indent + "  ".join("=" * w for w in widths)
    def line(cells):
        return indent + "  ".join(f"{c:<{w}}" for c, w in zip(cells, widths)).rstrip()
    return "\n".join([rule, line(heads), rule, *(line(row) for row in EXTRA_KEYS), rule])


@dataclass
class Result:
    """Outcome of one solver call.

    Attributes
    ----------
    solver : str
        Solver name (``cim``, ``sa``, ...).
    spins : ndarray of int8, shape (N,)
        Best spin vector found, +-1, in the model's variable order.
    energy : float
        ``H(spins)`` recomputed from the returned spins (float64).
    energies : ndarray of float64, shape (R_total,)
        Final energy of every replica run (all batches when a time limit ran several).
    time_s : float
        Wall time of the whole call, compile time included.
    steps : int
        Dynamics steps (or sweeps) per replica run.
    replicas : int
        Replicas per batch.
    batches : int
        Batches run (more than one only with a time limit).
    seed : int | None
        Seed the generator was made from, when known.
    settings : dict
        The solver's validated parameters (every declared parameter of ``cimsim.solvers.<name>.PARAMS``,
        defaults and instance-dependent values filled in, a pump schedule as its resolved dict), plus the
        driver's ``polish``, ``backend``, ``time_limit``, ``steps_fitted_to_budget`` (and ``presolve``).
    objective, feasible, answer
        Filled in by a problem's decoder: objective in the problem's units, feasibility, and the
        problem's own answer (cut sides, subsets, assignment, ...).
    extra : dict
        Diagnostics of the last batch, in one vocabulary (below). R is the batch's replica count, N the
        number of spins, T the number of recorded rows. Energies are Ising energies ``H(s)`` of the
        model the solver ran on, before the driver's 1-flip polish.

    Notes
    -----
    The keys of ``extra`` are one vocabulary for every solver, :data:`EXTRA_KEYS` (the table below is
    generated from it). Rows of a trace are the recorded points in order: every ``readout`` steps (cim),
    every level (adiabatic), every sweep (sa); ``trace_*`` keys appear only with ``record=True``.

    """

    solver: str
    spins: np.ndarray
    energy: float
    energies: np.ndarray
    time_s: float
    steps: int
    replicas: int
    batches: int = 1
    seed: int | None = None
    settings: dict = field(default_factory=dict)
    objective: float | None = None
    feasible: bool | None = None
    answer: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)

    @property
    def n_spins(self) -> int:
        return int(self.spins.shape[0])

    def to_dict(self, *, include_energies: bool = False) -> dict:
        d = asdict(self)
        d["spins"] = [int(v) for v in self.spins]
        if not include_energies:
            d.pop("energies")
            e = np.asarray(self.energies)
            d["energies_summary"] = {
                "count": int(e.size),
                "min": float(e.min()) if e.size else None,
                "mean": float(e.mean()) if e.size else None,
                "max": float(e.max()) if e.size else None,
            }
        d["n_spins"] = self.n_spins
        d.update(self.answer)
        d.pop("answer")
        return to_jsonable(d)

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), **kwargs)


if Result.__doc__:  # python -OO strips docstrings
    Result.__doc__ = Result.__doc__.rstrip() + "\n\n" + extra_table("    ") + "\n"
