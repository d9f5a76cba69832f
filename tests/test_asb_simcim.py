"""aSB and SimCIM (cimsim.solvers.asb, simcim): exact optima on small instances, the aSB step rule, the
SimCIM amplitude bound, one-line refusals."""
from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

import cimsim
from cimsim.errors import CimsimError
from cimsim.instances import sk_model
from cimsim.model import IsingModel
from cimsim.solvers import asb


@pytest.mark.parametrize("solver", ["asb", "simcim"])
@pytest.mark.parametrize("fields", [False, True])
def test_exact_optimum_on_small_instances(solver: str, fields: bool) -> None:
    rng = np.random.default_rng(21)
    base = sk_model(16, seed=13)
    model = IsingModel.from_couplings(base.dense_couplings(), rng.normal(scale=0.5, size=16) if fields else None)
    exact = cimsim.solvers.solve(model, "exact")
    res = cimsim.solvers.solve(model, solver, replicas=16, seed=1)
    assert res.energy == pytest.approx(exact.energy)
    assert res.energy == pytest.approx(model.energy(res.spins))
    assert res.extra["mvm"] == res.steps * res.replicas


def test_asb_step_rule() -> None:
    """dt = 1 where the linearised map is stable; below 2 / omega_max on a mostly antiferromagnetic graph."""
    dense = cimsim.encode("maxcut", nx.random_regular_graph(40, 200, seed=1)).model
    sk = sk_model(200, seed=1)
    assert asb.stable_dt(sk) == 1.0 and asb.stable_dt(sk, detuning=1.0) == 1.0
    lam = np.linalg.eigvalsh(dense.dense_couplings())[0] / dense.coupling_scale()
    for delta in (1.0, 0.5):  # 0.5 is the default detuning
        omega = np.sqrt(delta * (delta + 0.5 * -lam))
        assert asb.stable_dt(dense, detuning=delta) == pytest.approx(min(1.0, 1.8 / omega), rel=1e-3)
    assert asb.stable_dt(dense) == asb.stable_dt(dense, detuning=0.5)
    assert asb.stable_dt(dense, detuning=1.0) < 1.0
    for kw in ({}, {"detuning": 1.0}):
        res = cimsim.solvers.solve(dense, "asb", replicas=4, steps=300, seed=0, **kw)
        assert np.isfinite(res.energy)
        assert res.settings["dt"] == pytest.approx(asb.stable_dt(dense, detuning=kw.get("detuning", 0.5)))


def test_simcim_amplitudes_stay_inside_the_unit_interval() -> None:
    model = sk_model(30, seed=2)
    res = cimsim.solvers.solve(model, "simcim", replicas=4, steps=400, seed=3, record=True, readout=1,
                               polish_result=False)
    trace = np.asarray(res.extra["trace_x"])
    assert trace.shape == (400, 30) and np.abs(trace).max() < 1.0 and np.abs(trace).max() > 0.1


@pytest.mark.parametrize("solver,bad", [("asb", {"substeps": 0}), ("asb", {"kerr": -1}), ("asb", {"dt": "big"}),
                                        ("simcim", {"momentum": 1.0}), ("simcim", {"sigma": -0.1}),
                                        ("simcim", {"record": "often"})])
def test_bad_values_are_one_line_errors(solver: str, bad: dict) -> None:
    with pytest.raises(CimsimError) as err:
        cimsim.solvers.solve(sk_model(8, seed=0), solver, replicas=1, steps=2, **bad)
    assert "\n" not in str(err.value) and solver in str(err.value)
