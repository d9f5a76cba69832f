"""bench/generated.py: the generated benchmark instances are pure functions of their names, have the
structure their family promises, and round-trip through the Gset files they are written as."""
from __future__ import annotations

import numpy as np
import pytest

from bench.generated import FAMILIES, GENERATED, generate, parse_name, write_all
from cimsim import CimsimError
from cimsim.encoders.graph_formats import read_graph_file


def test_same_name_same_graph_other_seed_other_graph():
    n, a = generate("gen-sparsepm-300")
    _, b = generate("gen-sparsepm-300")
    _, c = generate("gen-sparsepm-300-s2")
    assert n == 300 and np.array_equal(a, b) and not np.array_equal(a, c)


def test_simple_sorted_edges_every_family():
    for fam in FAMILIES:
        n = 64 if fam.startswith("torus") else 60
        _, e = generate(f"gen-{fam}-{n}")
        i, j = e[:, 0].astype(int), e[:, 1].astype(int)
        assert np.all(i < j) and j.max() < n
        assert np.unique(e[:, :2], axis=0).shape[0] == e.shape[0]  # no duplicate edges


def test_family_structure():
    _, e = generate("gen-3regpm-100")
    assert np.all(np.bincount(e[:, :2].astype(int).ravel(), minlength=100) == 3)
    assert set(np.unique(e[:, 2])) == {-1.0, 1.0}
    n, e = generate("gen-planar-200")
    assert e.shape[0] <= 3 * n - 6
    n, e = generate("gen-torus-49")
    assert e.shape[0] == 2 * n and np.all(e[:, 2] == 1)
    n, e = generate("gen-bipartite-400")
    inside = np.sum((e[:, 0] < n // 2) == (e[:, 1] < n // 2))
    assert inside == round(0.01 * (e.shape[0] - inside))  # 1 % odd edges inside the sides
    n, e = generate("gen-complete-30")
    assert e.shape[0] == 30 * 29 // 2


def test_written_files_read_back(tmp_path):
    names = ["gen-rudygauss-50", "gen-toruspm-25", "gen-bipartite-40"]
    for name, path in zip(names, write_all(tmp_path, names)):
        g = read_graph_file(path)
        n, e = generate(name)
        assert g.n == n and np.array_equal(np.asarray(g.edges, dtype=float), e)


def test_suite_names_parse():
    for name in GENERATED:
        fam, n, seed = parse_name(name)
        assert 800 <= n <= 3000 and seed >= 1 and fam in FAMILIES


@pytest.mark.parametrize("bad", ["gen-nope-100", "gen-rudy-x", "gen-rudy-2", "gen-torus-50", "gen-3reg-101",
                                 "gen-complete-5000"])
def test_bad_names_one_line(bad):
    with pytest.raises(CimsimError) as exc:
        generate(bad)
    assert "\n" not in str(exc.value)


def test_report_counts_at_or_above_and_strictly_above(tmp_path):
    from types import SimpleNamespace

    from bench.generated_report import main, summarise

    def row(inst, solver, med):
        return SimpleNamespace(status="ok", instance=inst, n=10, solver=solver, median_obj=med, best_obj=med, repeats=2)

    rows = [row("a", "auto", 5), row("a", "neal", 4), row("a", "openjij", 5),   # tied with the best peer
            row("b", "auto", 7), row("b", "neal", 6), row("b", "openjij", 5),   # ahead
            row("c", "auto", 3), row("c", "neal", 4),                            # behind
            row("d", "auto", 1)]                                                 # no peer: left out
    s = {d["instance"]: d for d in summarise(rows)}
    assert set(s) == {"a", "b", "c"}
    assert [s[k]["verdict"] for k in "abc"] == ["tied", "ahead", "BEHIND"]
    assert s["b"]["best_peer"] == "neal" and s["b"]["ratio"] == pytest.approx(7 / 6)
    assert main(["--csv", str(tmp_path / "missing.csv")]) == 2
