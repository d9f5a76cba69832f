"""Graph features behind ``--solver auto`` (cimsim/solvers/features.py): exact values on small graphs, the
same values from dense and sparse storage, and the generated benchmark families (bench/generated.py)."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from cimsim import IsingModel
from cimsim.encoders.maxcut import encode_maxcut
from cimsim.solvers.features import bfs_parity, graph_features


def maxcut(n, edges, storage="sparse"):
    return encode_maxcut(n, np.asarray(edges, dtype=float), storage=storage).model


def cycle(n):
    return [(i, (i + 1) % n, 1.0) for i in range(n)]


def torus_edges(L, w=None):
    out = []
    for r in range(L):
        for c in range(L):
            v = r * L + c
            out.append((v, r * L + (c + 1) % L))
            out.append((v, ((r + 1) % L) * L + c))
    w = np.ones(len(out)) if w is None else w
    return [(min(a, b), max(a, b), x) for (a, b), x in zip(out, w)]


def test_odd_cycle_exact_values():
    f = graph_features(maxcut(5, cycle(5)))
    assert (f.n, f.edges, f.max_degree, f.components, f.odd_edges) == (5, 5, 2, 1, 1)
    assert f.density == pytest.approx(0.5)
    assert f.mean_degree == 2.0 and f.degree_cv == 0.0
    assert f.weights == "uniform" and f.negative_fraction == 1.0  # MaxCut: J = -W
    assert f.euler_planar and f.lattice is None and not f.bipartite and f.one_sign and not f.has_fields


def test_even_cycle_is_bipartite():
    f = graph_features(maxcut(6, cycle(6)))
    assert f.odd_edges == 0 and f.bipartite


def test_star_degree_spread():
    # degrees 4, 1, 1, 1, 1: mean 1.6, std 1.2, cv 0.75
    f = graph_features(maxcut(5, [(0, k, 1.0) for k in range(1, 5)]))
    assert f.mean_degree == pytest.approx(1.6) and f.degree_cv == pytest.approx(0.75)
    assert f.max_degree == 4 and f.bipartite


def test_components_and_odd_edges_per_component():
    # two triangles and an isolated vertex: 3 components, one odd edge in each triangle
    f = graph_features(maxcut(7, [(0, 1, 1), (1, 2, 1), (0, 2, 1), (3, 4, 1), (4, 5, 1), (3, 5, 1)]))
    assert f.components == 3 and f.odd_edges == 2 and f.edges == 6


def test_weight_kinds_and_signs():
    assert graph_features(maxcut(4, [(0, 1, 1), (1, 2, 2), (2, 3, 3)])).weights == "integer"
    assert graph_features(maxcut(4, [(0, 1, 1), (1, 2, -1), (2, 3, 1), (0, 3, -1)])).weights == "uniform"
    f = graph_features(maxcut(4, [(0, 1, 1.0), (1, 2, -1.0), (2, 3, 1.0), (0, 3, -1.0)]))
    assert f.negative_fraction == 0.5 and not f.one_sign
    assert graph_features(maxcut(3, [(0, 1, 0.5), (1, 2, np.sqrt(2))])).weights == "continuous"


def test_euler_bound_k4_k5():
    k = lambda n: [(i, j, 1.0) for i in range(n) for j in range(i + 1, n)]  # noqa: E731
    assert graph_features(maxcut(4, k(4))).euler_planar  # 6 <= 3*4-6
    f5 = graph_features(maxcut(5, k(5)))
    assert not f5.euler_planar and f5.density == 1.0  # 10 > 9


def test_lattice_detected_and_odd_torus_not_bipartite():
    rng = np.random.default_rng(0)
    f = graph_features(maxcut(16, torus_edges(4, rng.choice([-1.0, 1.0], 32))))
    assert f.lattice == (4, 4) and f.odd_edges == 0 and f.mean_degree == 4 and f.degree_cv == 0
    f3 = graph_features(maxcut(9, torus_edges(3)))
    assert f3.lattice == (3, 3) and f3.odd_edges > 0  # rows of three close triangles
    assert graph_features(maxcut(16, torus_edges(4)), lattice=False).lattice is None


def test_fields_reported_and_lattice_not_tested():
    J = -encode_maxcut(16, np.asarray(torus_edges(4), float)).model.J
    m = IsingModel.from_couplings(sp.csr_matrix(J), h=np.ones(16))
    f = graph_features(m)
    assert f.has_fields and f.lattice is None


def test_dense_and_sparse_storage_agree():
    rng = np.random.default_rng(3)
    n = 30
    iu, ju = np.triu_indices(n, 1)
    keep = rng.random(iu.size) < 0.2
    edges = np.column_stack([iu[keep], ju[keep], rng.choice([-2.0, 1.0, 3.0], keep.sum())])
    a = graph_features(maxcut(n, edges, "sparse"))
    b = graph_features(maxcut(n, edges, "dense"))
    assert a == b


def test_dense_complete_graph_skips_colouring():
    n = 12
    edges = [(i, j, 1.0) for i in range(n) for j in range(i + 1, n)]
    f = graph_features(maxcut(n, edges, "dense"))
    assert f.edges == 66 and f.odd_edges is None and f.components == 1 and f.density == 1.0
    # K_11 plus an isolated vertex: still over N^2/4 edges, two components
    g = graph_features(maxcut(n, [e for e in edges if e[1] != n - 1], "dense"))
    assert g.components == 2 and g.edges == 55


def test_bfs_parity_path_and_components():
    A = sp.csr_matrix(encode_maxcut(6, np.array([[0, 1, 1], [1, 2, 1], [2, 3, 1], [4, 5, 1.0]])).model.J != 0)
    par = bfs_parity(A.astype(np.int8))
    assert list(par) == [0, 1, 0, 1, 0, 1]


def test_generated_families_features():
    from bench.generated import generate

    def feats(name):
        n, e = generate(name)
        return graph_features(encode_maxcut(n, e).model)

    assert feats("gen-toruspm-36").lattice == (6, 6)
    r = feats("gen-3reg-40")
    assert r.max_degree == 3 and r.degree_cv == 0 and r.edges == 60
    b = feats("gen-bipartite-200")
    assert b.odd_edges is not None and 0 < b.odd_edges
    assert feats("gen-planar-100").euler_planar
    c = feats("gen-completegauss-30")
    assert c.density == 1.0 and c.weights == "continuous" and 0 < c.negative_fraction < 1


# ------------------------------------------------------------------------------ the auto policy
from cimsim.solvers import auto_choice, auto_solver  # noqa: E402


def test_odd_edges_of_a_nearly_bipartite_graph_are_few():
    from bench.generated import generate

    n, e = generate("gen-bipartite-400")
    inside = int(np.sum((e[:, 0] < n // 2) == (e[:, 1] < n // 2)))
    f = graph_features(encode_maxcut(n, e).model)
    assert inside <= f.odd_edges <= 2 * inside  # the recolouring gets close to the planted sides


def test_policy_small_is_exact():
    c = auto_choice(maxcut(16, torus_edges(4)))
    assert c.solver == "exact" and c.features is None and "20" in c.reason


def test_policy_lattices_go_to_matching_with_any_weights():
    rng = np.random.default_rng(1)
    pm = maxcut(36, torus_edges(6, rng.choice([-1.0, 1.0], 72)))
    gauss = maxcut(36, torus_edges(6, rng.standard_normal(72)))
    for m in (pm, gauss):
        c = auto_choice(m)
        assert c.solver == "matching" and c.features.lattice == (6, 6) and "6 x 6" in c.reason
    with_fields = IsingModel.from_couplings(sp.csr_matrix(pm.J), h=np.full(36, 0.5))
    assert auto_solver(with_fields) == "sa"


@pytest.mark.parametrize("name, words", [
    ("gen-completepm-40", "dense"), ("gen-3reg-60", "sparse graph"), ("gen-bipartite-400", "nearly bipartite"),
    ("gen-scalefreepm-300", "degree spread"), ("gen-rudygauss-200", "continuous weights of mixed signs"),
    ("gen-planar-100", "sparse graph")])
def test_policy_field_free_models_up_to_the_size_limits_go_to_cfc_and_say_why(name, words):
    from bench.generated import generate

    n, e = generate(name)
    c = auto_choice(encode_maxcut(n, e).model)
    assert c.solver == "cfc" and words in c.reason and c.features.n == n and c.seconds >= 0
    assert f"N = {n} <=" in c.reason


def test_policy_fields_big_dense_and_big_sparse_models_anneal():
    from cimsim.solvers import CFC_AUTO_MAX_DENSE_N, CFC_AUTO_MAX_N

    rng = np.random.default_rng(4)
    n = CFC_AUTO_MAX_DENSE_N + 1  # dense above the dense limit
    J = np.triu(rng.choice([-1.0, 1.0], size=(n, n)), 1)
    c = auto_choice(IsingModel.from_couplings(J + J.T))
    assert c.solver == "sa" and "dense" in c.reason and c.features.density >= 0.5
    n = CFC_AUTO_MAX_N + 1  # a sparse random graph (mean degree 6) above the sparse limit
    i = rng.integers(0, n, 3 * n)
    j = (i + rng.integers(1, n, 3 * n)) % n
    e = np.unique(np.sort(np.stack([i, j], 1), axis=1), axis=0)
    m = encode_maxcut(n, np.column_stack([e, np.ones(len(e))])).model
    assert auto_choice(m).solver == "sa"
    small = maxcut(36, [(k, (k + 5) % 36, 1.0) for k in range(36)] + [(k, (k + 11) % 36, -1.0) for k in range(36)])
    assert auto_solver(small) == "cfc"
    with_fields = IsingModel.from_couplings(sp.csr_matrix(small.J), h=np.full(36, 0.5))
    assert auto_solver(with_fields) == "sa"  # fields: SAT and constrained encodings keep annealing


def test_pipeline_records_the_choice():
    import cimsim

    rng = np.random.default_rng(2)
    enc = encode_maxcut(36, np.asarray(torus_edges(6, rng.choice([-1.0, 1.0], 72)), float))
    r = cimsim.solve(enc, seed=0)
    assert r.solver == "matching" and r.extra["auto"]["solver"] == "matching"
    assert cimsim.api.record(r)["auto"]["features"]["lattice"] == [6, 6]
    assert "auto" not in cimsim.solve(enc, "sa", seed=0, steps=20).extra


def test_policy_hub_graphs_of_one_sign_go_to_cfc_at_any_size():
    from bench.generated import generate
    from cimsim.solvers import CFC_AUTO_MAX_N

    n, e = generate("gen-scalefree-4500")
    assert n > CFC_AUTO_MAX_N
    c = auto_choice(encode_maxcut(n, e).model)
    assert c.solver == "cfc" and c.features.degree_cv >= 0.8 and c.features.mean_degree <= 7
    assert "preferential-attachment" in c.reason
    # the same hubs plus two rings of shortcuts: mean degree > 7 (like G14/G35) is no hub graph, and above
    # the size limit it anneals
    extra = np.array([[i, (i + 7) % n, 1.0] for i in range(n)] + [[i, (i + 13) % n, 1.0] for i in range(n)])
    both = np.concatenate([e, extra])
    dense = encode_maxcut(n, both[np.unique(np.sort(both[:, :2], axis=1), axis=0, return_index=True)[1]]).model
    f = graph_features(dense)
    assert f.mean_degree > 7 and auto_choice(dense).solver == "sa"
