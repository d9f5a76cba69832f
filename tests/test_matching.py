"""The matching solver: proven ground states of 2-D lattice spin glasses.

Every answer is checked against an independent brute force (small lattices) or a known optimum (Gset's
toroidal graphs), and every energy is recomputed from the returned spins with plain loops.
"""
from __future__ import annotations

import json
import zlib

import numpy as np
import pytest
import scipy.sparse as sp

from cimsim import IsingModel
from cimsim.cli import main
from cimsim.encoders import maxcut
from cimsim.errors import CimsimError
from cimsim.solvers import auto_solver, solve
from cimsim.solvers import matching as M

from .conftest import PROBLEMS, SHARED, all_spin_vectors, plain_energy


def lattice(L1: int, L2: int, rng: np.random.Generator, kind: str = "pm", periodic: tuple[bool, bool] = (True, True),
            dilution: float = 0.0) -> np.ndarray:
    """Dense symmetric J of an L1 x L2 lattice (spin r * L2 + c), built with explicit loops."""
    n = L1 * L2
    J = np.zeros((n, n))
    for r in range(L1):
        for c in range(L2):
            for dr, dc, wrap in ((0, 1, periodic[1]), (1, 0, periodic[0])):
                r2, c2 = r + dr, c + dc
                if (r2 >= L1 or c2 >= L2) and not wrap:
                    continue
                i, j = r * L2 + c, (r2 % L1) * L2 + (c2 % L2)
                if rng.random() < dilution:
                    continue
                w = {"pm": rng.choice([-1.0, 1.0]), "gauss": rng.standard_normal(),
                     "int": float(rng.integers(-3, 4))}[kind]
                J[i, j] = J[j, i] = w
    return J


def brute_ground(J: np.ndarray) -> float:
    S = all_spin_vectors(J.shape[0]).astype(np.float64)
    return float(np.min(-0.5 * np.einsum("ki,ij,kj->k", S, J, S)))


CASES = [(L1, L2, kind, per, dil)
         for (L1, L2) in ((3, 3), (3, 4), (4, 4), (3, 5))
         for kind in ("pm", "gauss", "int")
         for per in ((True, True), (False, False), (True, False), (False, True))
         for dil in (0.0, 0.3)]


@pytest.mark.parametrize("L1,L2,kind,periodic,dilution", CASES)
def test_against_brute_force(L1, L2, kind, periodic, dilution):
    rng = np.random.default_rng(zlib.crc32(repr((L1, L2, kind, periodic, dilution)).encode()))
    for trial in range(3):
        J = lattice(L1, L2, rng, kind, periodic, dilution)
        if not np.any(J):
            continue
        model = IsingModel.from_couplings(sp.csr_matrix(J))
        exact = brute_ground(J)
        res = solve(model, "matching", seed=trial, shape=(L1, L2))
        e = plain_energy(J, np.zeros(L1 * L2), 0.0, res.spins)
        assert e == pytest.approx(res.energy, abs=1e-9)
        lb = res.extra["lower_bound"]
        assert lb <= exact + 1e-9  # the matching relaxes the torus's loop parity: never above the truth
        if res.extra["proven_optimal"]:
            assert e == pytest.approx(exact, abs=1e-9)
        if periodic != (True, True):  # open or cylindrical lattices are planar: always exact, always proven
            assert res.extra["proven_optimal"] and e == pytest.approx(exact, abs=1e-9)


def test_small_tori_mostly_exact():
    """Tiny tori are the hard case (a winding defect is expensive relative to the whole lattice), yet the
    loop repair and the cold anneal reach the brute-force ground state on nearly all of them."""
    rng = np.random.default_rng(11)
    exact_hits = total = 0
    for t in range(90):
        L1, L2 = [(3, 3), (3, 4), (4, 4), (3, 5)][t % 4]
        J = lattice(L1, L2, rng, ["pm", "gauss", "int"][t % 3], (True, True), 0.3 * (t % 2))
        if not np.any(J):
            continue
        res = solve(IsingModel.from_couplings(sp.csr_matrix(J)), "matching", seed=t, shape=(L1, L2))
        total += 1
        exact_hits += abs(res.energy - brute_ground(J)) <= 1e-9
    assert total >= 85 and exact_hits >= total - 3


def test_grid_shape_detection():
    rng = np.random.default_rng(1)
    J = lattice(5, 7, rng, "gauss")
    model = IsingModel.from_couplings(sp.csr_matrix(J))
    assert M.grid_shape(model) == (5, 7)
    Jh, Jv = M.lattice_bonds(model, (5, 7))
    assert Jh[2, 6] == J[2 * 7 + 6, 2 * 7 + 0] and Jv[4, 3] == J[4 * 7 + 3, 0 * 7 + 3]
    perm = rng.permutation(35)
    assert M.grid_shape(IsingModel.from_couplings(sp.csr_matrix(J[np.ix_(perm, perm)]))) is None
    J2 = J.copy()
    J2[0, 17] = J2[17, 0] = 1.0  # one bond off the lattice
    m2 = IsingModel.from_couplings(sp.csr_matrix(J2))
    assert M.grid_shape(m2) is None
    with pytest.raises(CimsimError, match="not those of a 2-D square lattice"):
        solve(m2, "matching", seed=0)
    with pytest.raises(CimsimError, match="fields"):
        solve(IsingModel.from_couplings(sp.csr_matrix(J), h=np.ones(35)), "matching", seed=0)
    with pytest.raises(CimsimError, match="does not fit"):
        solve(model, "matching", seed=0, shape=(5, 6))
    assert auto_solver(model) == "matching"
    assert auto_solver(IsingModel.from_couplings(sp.csr_matrix(J), h=np.ones(35))) == "sa"
    assert auto_solver(m2) == "cfc"  # off the lattice, small and field-free


def test_join_of_a_spin_state_round_trips():
    rng = np.random.default_rng(2)
    J = lattice(6, 9, rng, "int", dilution=0.2)
    model = IsingModel.from_couplings(sp.csr_matrix(J))
    Jh, Jv = M.lattice_bonds(model, (6, 9))
    for _ in range(5):
        s = rng.choice([-1, 1], size=54).astype(np.int8)
        S = s.reshape(6, 9)
        # unsatisfied bonds, computed from the spins directly (a missing bond counts as ferromagnetic)
        ph, pv = S * np.roll(S, -1, axis=1), S * np.roll(S, -1, axis=0)
        Uh = np.where(Jh < 0, ph > 0, ph < 0)
        Uv = np.where(Jv < 0, pv > 0, pv < 0)
        assert M.join_parity(Jh, Jv, Uh, Uv) == (0, 0)
        t = M.spins_from_join(Jh, Jv, Uh, Uv)
        assert model.energy(t) == pytest.approx(model.energy(s))
        assert M._join_energy(Jh, Jv, Uh, Uv, 0.0) == pytest.approx(model.energy(s))
        # the frustrated plaquettes are exactly the odd ones of the join
        odd = (Uh.astype(int) + np.roll(Uh, -1, 0) + Uv + np.roll(Uv, -1, 1)) % 2 == 1
        assert np.array_equal(odd, M.frustrated_plaquettes(Jh, Jv))


@pytest.mark.parametrize("method", ["dp", "matching"])
def test_repair_gives_a_spin_state_at_the_predicted_energy(method):
    rng = np.random.default_rng(3)
    for _ in range(6):
        J = lattice(8, 10, rng, "pm")
        model = IsingModel.from_couplings(sp.csr_matrix(J))
        Jh, Jv = M.lattice_bonds(model, (8, 10))
        Uh, Uv = M.min_join(Jh, Jv, rng)
        Rh, Rv = M.repair_join(Jh, Jv, Uh, Uv, method=method)
        assert M.join_parity(Jh, Jv, Rh, Rv) == (0, 0)
        s = M.spins_from_join(Jh, Jv, Rh, Rv)
        assert plain_energy(J, np.zeros(80), 0.0, s) == pytest.approx(M._join_energy(Jh, Jv, Rh, Rv, 0.0))
        assert M._join_energy(Jh, Jv, Rh, Rv, 0.0) >= M._join_energy(Jh, Jv, Uh, Uv, 0.0) - 1e-9


def gset(name):
    path = SHARED / "gset" / f"{name}.txt"
    if not path.exists():
        pytest.skip(f"{path} not available")
    return path


@pytest.mark.parametrize("name,best", [("G11", 564), ("G48", 6000), ("G81", 14060)])
def test_gset_toroidal_optima_are_proven(name, best):
    path = gset(name)
    enc = maxcut.from_file(path)
    res = solve(enc.model, "auto", seed=0)
    assert res.solver == "matching" and res.extra["proven_optimal"]
    n, edges = maxcut.read_gset(path)
    part = res.spins > 0
    cut = float(sum(w for i, j, w in edges if part[int(i)] != part[int(j)]))  # recomputed from the edge list
    assert cut == best == enc.decode(res.spins).objective


def test_g32_repair_reaches_the_optimum_of_its_torus():
    """G32 (100 x 20 +-1 torus, optimum 1410) needs a homology repair: every minimum join has the wrong
    winding parity, the cheapest single loop costs 6 and a (1, 1) loop plus a free (0, 1) loop costs 4,
    which is the optimum. One batch, no time limit: the repaired state itself must reach 1410."""
    path = gset("G32")
    enc = maxcut.from_file(path)
    res = solve(enc.model, "matching", seed=0)
    assert min(res.extra["repaired_energies"]) == res.energy
    n, edges = maxcut.read_gset(path)
    part = res.spins > 0
    cut = float(sum(w for i, j, w in edges if part[int(i)] != part[int(j)]))
    assert cut == 1410 == enc.decode(res.spins).objective


def test_cli_reports_proof_and_refuses_non_lattices(tmp_path, capsys):
    rng = np.random.default_rng(4)
    J = lattice(12, 10, rng, "pm")
    path = tmp_path / "torus.txt"
    iu, ju = np.nonzero(np.triu(J))
    # MaxCut weights w = -J give the Ising couplings J back
    path.write_text(f"120 {iu.size}\n" + "".join(f"{i + 1} {j + 1} {int(-J[i, j])}\n" for i, j in zip(iu, ju)))
    with pytest.raises(SystemExit) as exc:
        main(["solve", "maxcut", str(path), "--solver", "matching", "--json", "-", "--seed", "0"])
    out, err = capsys.readouterr()
    assert exc.value.code == 0, err
    d = json.loads(out)
    assert d["solver"] == "matching" and "proven_optimal" in d and d["energy_lower_bound"] <= d["energy"]
    model = IsingModel.from_couplings(sp.csr_matrix(J))
    assert model.energy(np.array(d["spins"])) == pytest.approx(d["energy"])
    with pytest.raises(SystemExit) as exc:
        main(["solve", "maxcut", str(PROBLEMS / "G1.txt"), "--solver", "matching"])
    out, err = capsys.readouterr()
    assert exc.value.code == 2 and len(err.strip().splitlines()) == 1 and "square lattice" in err
