"""float64 across channels, windows of more than 4 channels: plain sums first.

The sums of such windows are compensated (SPEC section 4), but where a
window's plain double sum puts t = a*sum/k in the low series tier, a few
ulps of that sum move y by far less than an ulp, so the element takes the
low series with the plain sum and the compensated sum is only formed for
rows (or lines) that hold an element outside the tier (plain_low_row,
finish_after_plain in _common.pxd). These tests check that an element's
value depends only on its own window, whatever else its row holds, and the
8 ulp bound.
"""

import numpy as np
import pytest

import fastlrn
from _util import assert_ulp, oracle


def _mixed(rng, shape, fraction):
    x = rng.standard_normal(shape)
    x[rng.random(shape) < fraction] *= 300.0
    return x


@pytest.mark.parametrize("fraction", [0.0, 0.05, 0.7])
@pytest.mark.parametrize("size", [5, 6, 9])
def test_layouts_agree_and_bound_holds(rng, fraction, size):
    x = _mixed(rng, (2, 14, 9, 11), fraction)
    params = dict(size=size, alpha=1e-4, beta=0.75, k=2.0)
    want = fastlrn.lrn(x, **params)
    xt = np.ascontiguousarray(np.moveaxis(x, 1, -1))
    np.testing.assert_array_equal(np.moveaxis(fastlrn.lrn(xt, channel_axis=-1, **params), -1, 1),
                                  want)
    buf = x.copy()
    fastlrn.lrn(buf, out=buf, **params)
    np.testing.assert_array_equal(buf, want)
    assert_ulp(want, oracle(x, np.float64, **params), **params)


def test_an_element_does_not_depend_on_its_row(rng):
    # Spoiling one value makes its row take the compensated sums; the other
    # elements of that row keep their bits.
    x = rng.standard_normal((1, 12, 8, 8))
    params = dict(size=5, alpha=1e-4, beta=0.75, k=2.0)
    clean = fastlrn.lrn(x, **params)
    x2 = x.copy()
    x2[0, 6, 3, 3] = 1e3
    got = fastlrn.lrn(x2, **params)
    changed = got != clean
    assert changed[0, 4:9, 3, 3].all()          # the windows that hold it
    changed[0, 4:9, 3, 3] = False
    assert not changed.any()
