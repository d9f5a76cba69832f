"""bench/tts_calls.py: TTS99 from fixed-budget calls, recomputed by hand on made-up call records."""
from __future__ import annotations

import math

import pytest

from bench import tts_calls


def test_tts99_formula_and_limits():
    assert tts_calls.tts99(10.0, 0.5) == pytest.approx(10.0 * math.log(0.01) / math.log(0.5))  # 66.4 s
    assert tts_calls.tts99(10.0, 1.0) == 10.0
    assert tts_calls.tts99(10.0, 0.0) == math.inf


def _call(family, solver, objective, seconds=10.0, updates=2.0e6):
    return dict(task="call", instance="G", family=family, solver=solver, objective=objective, elapsed_s=seconds,
                updates=updates, n=1000)


def test_cells_count_hits_against_the_best_known_and_bound_a_peer_without_success():
    rows = ([_call("cimsim", "auto", 10.0)] * 3 + [_call("cimsim", "auto", 9.0)] * 3
            + [_call("peer", "dwave_neal", 9.0, seconds=12.0)] * 6 + [_call("cimsim", "sa", 10.0, seconds=4.0)]
            + [dict(task="call", instance="other", family="peer", solver="x", objective=1.0)])
    cs = {c["solver"]: c for c in tts_calls.cells(rows, "G", best_known=10.0)}
    assert set(cs) == {"auto", "neal", "sa"}
    a = cs["auto"]
    assert (a["calls"], a["hits"], a["median"]) == (6, 3, 9.5)
    assert a["tts"] == pytest.approx(tts_calls.tts99(10.0, 0.5))
    assert a["tts_lo"] < a["tts"] < a["tts_hi"]
    assert a["work"] == pytest.approx(2000.0)  # updates / N: sweeps or MVM per call
    n = cs["neal"]
    assert n["hits"] == 0 and n["tts"] == math.inf and 12.0 < n["tts_lo"] < math.inf  # a lower bound only
    text = tts_calls.report(list(cs.values()), "G", 10.0)
    assert "cimsim's best sa" in text  # 1/1 hits at 4 s: TTS 4 s, the lowest point estimate


def test_cells_refuse_mixed_budgets_unless_one_is_chosen():
    rows = [dict(_call("cimsim", "auto", 10.0), budget_s=1.0), dict(_call("cimsim", "auto", 9.0), budget_s=0.25)]
    with pytest.raises(ValueError, match="choose one"):
        tts_calls.cells(rows, "G", 10.0)
    (c,) = tts_calls.cells(rows, "G", 10.0, budget=0.25)
    assert (c["calls"], c["hits"]) == (1, 0)
