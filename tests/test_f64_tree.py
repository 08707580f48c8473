"""float64 across channels: tree-order sums for 5 to 8 taps (beta 0.5, 0.75
or 1) and 9 to 16 taps (beta 0.5 or 1).

Such windows are summed without compensation in the tree order
((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7)), then the same of s8 ..
s15 (Params.tree in _common.pxd), so that no square passes more than 3
additions (4 beyond 8 taps); the written bound (make_params) is 5.5 / 6
(beta 0.5), 7.5 (beta 0.75, by sqrt(1/(s sqrt(s)))) and 6.5 / 7.5 (beta 1)
ulp. These tests check the 8 ulp bound
against the long double reference on data of every scale, that the
planar, channels-last, strided, in-place and channel-block routes give
the same bits (a clipped window at the edge is the tree over the whole
window with zeros, as the zero-padded lines have it), and which calls
take the tree.
"""

import numpy as np
import pytest

import fastlrn
from fastlrn import _dispatch
from _util import assert_ulp, oracle

# scale, k: ordinary sums, huge ones (x 1e30: s near 1e56) and tiny ones
# (x 1e-30 with k = 1e-70)
SCALES = [(1.0, 2.0), (10.0, 2.0), (300.0, 1.0), (1e30, 2.0), (1e-30, 1e-70)]


@pytest.mark.parametrize("beta", [0.5, 0.75, 1.0])
@pytest.mark.parametrize("size", [4, 5, 6, 7, 8, 9, 11, 16, 17])
@pytest.mark.parametrize("scale,k", SCALES)
def test_bound_and_layouts(rng, beta, size, scale, k):
    x = rng.standard_normal((2, 19, 5, 7)) * scale
    x[:, :, 0, :] = np.maximum(x[:, :, 0, :], 0.0)          # ReLU'd values, zeros
    params = dict(size=size, alpha=1e-4, beta=beta, k=k)
    want = fastlrn.lrn(x, **params)
    assert_ulp(want, oracle(x, np.float64, **params), **params)
    xt = np.ascontiguousarray(np.moveaxis(x, 1, -1))
    np.testing.assert_array_equal(np.moveaxis(fastlrn.lrn(xt, channel_axis=-1, **params), -1, 1),
                                  want)
    out = np.empty(x.shape[:-1] + (2 * x.shape[-1],))[..., ::2]   # strided output
    fastlrn.lrn(x, out=out, **params)
    np.testing.assert_array_equal(out, want)
    buf = x.copy()
    fastlrn.lrn(buf, out=buf, **params)
    np.testing.assert_array_equal(buf, want)
    # a block of channels around c (as fastlrn.io.apply splits them) gives c
    # the same bits: its window is whole there, or clipped at the same edge;
    # (.., 1, 1) blocks take the channels-last lines
    C = x.shape[1]
    for c in range(C):
        b0, b1 = max(0, c - size), min(C, c + size + 1)
        np.testing.assert_array_equal(fastlrn.lrn(x[:, b0:b1], **params)[:, c - b0], want[:, c])
        np.testing.assert_array_equal(fastlrn.lrn(x[:, b0:b1, :1, :1], **params)[:, c - b0],
                                      want[:, c, :1, :1])


def test_sums_of_every_binade_match_the_reference():
    # s from 2**-300 to 2**300 in steps of 2**5, one channel (sizes 5 and 11
    # see it alone): y = x * s**-beta against the long double reference
    e = np.arange(-300, 301, 5, dtype=np.float64)
    x = np.sqrt(np.exp2(e) * 1e4).reshape(1, 1, 1, -1)
    for beta in (0.5, 0.75, 1.0):
        for size in (5, 11):
            params = dict(size=size, alpha=1e-4, beta=beta, k=2.0 ** -400)
            assert_ulp(fastlrn.lrn(x, **params), oracle(x, np.float64, **params), **params)


@pytest.mark.parametrize("size", [3, 5, 9])
def test_beta_075_beyond_the_closed_forms_range(size):
    # beta 0.75's sqrt(1/(s sqrt(s))) needs s**1.5 normal, so s outside
    # [2**-680, 2**680] takes the long double path (make_params): s from
    # 2**-1000 to 2**1010 in steps of 2**5, across both edges, one channel
    # alone in its window, and a second row with the window full
    e = np.arange(-1000, 1011, 5, dtype=np.float64)
    x = np.sqrt(np.exp2(e) * 1e4)
    x = np.stack([x, x * 0.75, x * 0.5]).reshape(1, 3, 1, -1)
    x[:, 1:, :, e < -900] = 0.0          # keep the tiny sums from the others' squares
    params = dict(size=size, alpha=1e-4, beta=0.75, k=2.0 ** -1020)
    got = fastlrn.lrn(x, **params)
    assert_ulp(got, oracle(x, np.float64, **params), **params)
    assert np.isfinite(got).all() and (got[0, 0] > 0).all()


@pytest.mark.parametrize("isa", _dispatch.available())
def test_which_calls_take_the_tree(isa):
    mod = _dispatch._module(isa)
    for beta in (0.5, 0.75, 1.0):
        for taps in (5.0, 6.0, 7.0, 8.0):
            assert mod.params_probe(1e-4, beta, 2.0, taps, False)["tree"] == 1
        for taps in (9.0, 11.0, 16.0):      # 4 additions: beta 0.75's bound would be 8.25
            assert mod.params_probe(1e-4, beta, 2.0, taps, False)["tree"] == (beta != 0.75)
        assert mod.params_probe(1e-4, beta, 2.0, 17.0, False)["tree"] == 0     # compensated
        assert mod.params_probe(1e-4, beta, 2.0, 4.0, False)["tree"] == 0      # plain, in order
        assert mod.params_probe(-1e-4, beta, 2.0, 5.0, False)["tree"] == 0     # a < 0
        assert mod.params_probe(1e-4, beta, 2.0, 5.0, True)["tree"] == 0       # float32
    assert mod.params_probe(1e-4, 0.6, 2.0, 5.0, False)["tree"] == 0           # pow
