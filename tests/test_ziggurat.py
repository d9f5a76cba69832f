"""The ziggurat normals of cimsim.kernels.descent (the mfb Wigner kernels' noise) follow N(0, 1)."""
import numpy as np
from scipy import stats

from cimsim.kernels.descent import ZIG_RATIO, ZIG_X, fill_normals_zig


def test_ziggurat_layers_have_equal_area():
    # every layer i >= 1 is a rectangle x[i] (f(x[i+1]) - f(x[i])) of area v (Doornik's ZIGNOR, v = 9.9126e-3)
    f = np.exp(-0.5 * ZIG_X**2)
    areas = ZIG_X[1:-1] * (f[2:] - f[1:-1])
    assert np.allclose(areas, 9.91256303526217e-3, rtol=1e-9)
    assert ZIG_X[-1] == 0.0 and np.allclose(ZIG_RATIO, ZIG_X[1:] / ZIG_X[:-1])


def test_ziggurat_normals_follow_the_standard_normal_law():
    state = np.arange(1, 5, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    out = np.empty((4, 500_000))
    fill_normals_zig(out, state)
    z = out.ravel()
    assert abs(z.mean()) < 5 / np.sqrt(z.size) and abs(z.var() - 1.0) < 5 * np.sqrt(2 / z.size)
    assert stats.kstest(z, "norm").pvalue > 1e-3
    # the wedges and the tail beyond r = 3.4426 (about 1.2 % of draws) carry the right mass
    for a in (1.5, 3.0, 3.4426, 4.0):
        expect = 2 * stats.norm.sf(a) * z.size
        assert abs((np.abs(z) > a).sum() - expect) < 5 * np.sqrt(expect), a
    for r in range(4):  # rows are the replicas' own streams
        assert stats.kstest(out[r], "norm").pvalue > 1e-4
