"""make_params defines every route switch, whatever the parameters.

A float64 call with beta > 2 takes the long double path and calls no
series_params; its series switches were once left as stack bytes, so a
call could take the low series tier with garbage coefficients (seen as
-0.0 for -inf in test_forward_wide_range, alpha = k = 0, beta = 3).
"""
import itertools

import numpy as np
import pytest

import fastlrn
from fastlrn import _dispatch

PARAMS = list(itertools.product((0.0, 1e-4, 1.0), (0.0, 0.5, 0.75, 1.0, 0.6, 2.5, 3.0, 5.0),
                                (0.0, 1.0, 2.0), (1.0, 5.0, 25.0), (False, True)))


@pytest.mark.parametrize("isa", _dispatch.available())
def test_every_switch_is_defined(isa):
    mod = _dispatch._module(isa)
    for a, beta, k, taps, is_float in PARAMS:
        got = mod.params_probe(a, beta, k, taps, is_float)
        for name in ("compensated", "tree", "poly_ok", "poly1_ok", "f32s_ok", "f32b_ok", "pw_ok"):
            assert got[name] in (0, 1), (a, beta, k, taps, is_float, name, got[name])
        assert 0 <= got["mode"] <= 4
        if not is_float and beta > 2.0:
            # float64 beyond beta 2: the long double path, no tier on
            assert got["poly_ok"] == got["poly1_ok"] == got["pw_ok"] == got["f32s_ok"] == 0


@pytest.mark.parametrize("size", [1, 2, 5, 6])
def test_zero_sum_with_beta_above_two_float64(size):
    """alpha = k = 0: s = 0 and y = x * 0**-beta = x * inf (NaN at x = 0),
    by IEEE rules for each element (hand-derived, no reference needed)."""
    x = np.array([[-1.0], [-1.0], [0.0], [2.0]])
    for beta in (2.5, 3.0):
        y = fastlrn.lrn(x, size=size, alpha=0.0, k=0.0, beta=beta, channel_axis=0)
        np.testing.assert_array_equal(y.ravel(), [-np.inf, -np.inf, np.nan, np.inf])
