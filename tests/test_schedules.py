"""Pump schedules: values at known points, JSON round trips, spec grammar, refusals."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from cimsim.errors import CimsimError
from cimsim.schedules import (
    AdiabaticSchedule,
    ConstantSchedule,
    ExponentialSchedule,
    LandscapeSchedule,
    LinearSchedule,
    PiecewiseSchedule,
    TanhSchedule,
    parse_schedule,
    schedule_from_dict,
)

SPECS = [
    "constant:-0.5",
    "linear:-2.2,0.2",
    "exp:-2.2,0.2",
    "exp:-2.2,0.2,-3",
    "tanh:-2.2,0.2",
    "sigmoid:-2,0,4,0.3",
    "piecewise:-2.2@0,-1@0.5,0.2@1",
    "adiabatic:-2.2,0.2,0.02",
    "adiabatic:-2.2,0.2,0.05,tol=1e-7",
    "landscape",
    "landscape:-2.5,1.0,-2.0,-0.45,0.9",
    "linear:-0.2,1.5,relative=1",
]


@pytest.mark.parametrize("spec", SPECS)
def test_json_round_trip_exact(spec, tmp_path):
    s = parse_schedule(spec)
    d = s.to_dict()
    assert "kind" in d
    back = schedule_from_dict(json.loads(json.dumps(d)))
    assert back == s
    u = np.linspace(0, 1, 101)
    np.testing.assert_array_equal(back(u), s(u))
    p = tmp_path / "s.json"
    p.write_text(json.dumps(d))
    assert parse_schedule(str(p)) == s


def test_known_values():
    assert parse_schedule("constant:-0.5")(0.3) == -0.5
    lin = parse_schedule("linear:-2.2,0.2")
    assert lin(0.0) == -2.2 and lin(1.0) == 0.2
    assert lin(0.5) == pytest.approx(-1.0, abs=1e-15)
    np.testing.assert_allclose(lin(np.array([0.0, 0.25, 1.0])), [-2.2, -1.6, 0.2], atol=1e-15)
    pw = parse_schedule("piecewise:-2.2@0,-1@0.5,0.2@1")
    assert pw.points == ((0.0, -2.2), (0.5, -1.0), (1.0, 0.2))
    assert pw(0.25) == pytest.approx(-1.6) and pw(0.75) == pytest.approx(-0.4) and pw(1.0) == 0.2
    ex = ExponentialSchedule(0.0, 1.0, 2.0)
    assert ex(0.0) == 0.0 and ex(1.0) == pytest.approx(1.0, abs=1e-15)
    assert ex(0.5) == pytest.approx((1 - math.exp(-1.0)) / (1 - math.exp(-2.0)))
    th = TanhSchedule(-1.0, 1.0, 6.0, 0.5)
    assert th(0.5) == pytest.approx(0.0, abs=1e-15) and th(0.0) == pytest.approx(-1.0) and th(1.0) == pytest.approx(1.0)
    ad = AdiabaticSchedule(-1.0, 0.0, 0.25)
    np.testing.assert_allclose(ad.levels(), [-1.0, -0.75, -0.5, -0.25, 0.0])
    assert ad(0.0) == -1.0 and ad(0.19) == -1.0 and ad(0.21) == -0.75 and ad(1.0) == 0.0
    ls = LandscapeSchedule(-2.2, 0.2, -2.0, -0.1, 0.8)
    pts = ls.points()
    assert pts[0] == (0.0, -2.2) and pts[-1] == (1.0, 0.2)
    (u1, a1), (u2, a2) = pts[1], pts[2]
    assert (a1, a2) == (-2.0, -0.1) and u2 - u1 == pytest.approx(0.8)
    # slow window: the pump rate inside [lo, hi] is lower than outside
    assert (a2 - a1) / (u2 - u1) < (a1 + 2.2) / u1
    # progress is clipped to [0, 1]
    assert lin(-1.0) == -2.2 and lin(2.0) == 0.2


def test_values_and_relative_shift():
    s = parse_schedule("linear:-0.2,1.5,relative=1")
    assert s.relative
    np.testing.assert_allclose(s.values(3), [-0.2, 0.65, 1.5])
    absolute = s.absolute(1.97)
    assert not absolute.relative
    np.testing.assert_allclose(absolute.values(3), [-2.17, -1.32, -0.47])
    plain = LinearSchedule(-2.0, 0.0)
    assert plain.absolute(1.9) is plain


@pytest.mark.parametrize(
    "bad",
    [
        "linear:nan,1",
        "linear:0,inf",
        "constant:nan",
        "piecewise:",
        "piecewise:1@0.5,2@0.5",
        "piecewise:1@1.5",
        "linear:1",
        "wobble:1,2",
        "exp:0,1,0",
        "adiabatic:1,0",
        "adiabatic:0,1,-0.1",
        "landscape:-2,0,-1,-3",
        "linear:1,2,bogus=3",
        "",
        "/no/such/schedule.json",
    ],
)
def test_refused(bad):
    with pytest.raises(CimsimError):
        parse_schedule(bad)


def test_constructors_refuse_non_finite_and_empty():
    with pytest.raises(CimsimError):
        ConstantSchedule(float("nan"))
    with pytest.raises(CimsimError):
        LinearSchedule(0.0, float("inf"))
    with pytest.raises(CimsimError):
        PiecewiseSchedule(())
    with pytest.raises(CimsimError):
        schedule_from_dict({"kind": "linear", "start": 0.0})
    with pytest.raises(CimsimError):
        schedule_from_dict({"kind": "linear", "start": 0.0, "stop": 1.0, "extra": 2})
    with pytest.raises(CimsimError):
        parse_schedule("linear:0,1")(float("nan"))
