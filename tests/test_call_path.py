"""The per-call path remembers what it worked out (parameter checks, array layouts)
without letting that change any answer: a value the checks refuse is refused
every time, whatever was accepted before, and arrays that differ only in
strides get their own layout."""

import numpy as np
import pytest

import fastlrn
from fastlrn.reference import lrn as reference_lrn
from fastlrn._kernels._address import data_address


@pytest.mark.parametrize("good, bad, exc", [
    (dict(alpha=1.0), dict(alpha=True), TypeError),
    (dict(size=1), dict(size=True), TypeError),
    (dict(size=5), dict(size=5.0), TypeError),
    (dict(average=True), dict(average=1), TypeError),
    (dict(beta=1), dict(beta=np.bool_(True)), TypeError),
    (dict(k=2.0), dict(k=float("nan")), ValueError),
    (dict(channel_axis=1), dict(channel_axis=1.0), TypeError),
])
def test_a_refused_value_is_refused_after_an_equal_accepted_one(good, bad, exc):
    x = np.ones((1, 4, 3, 3), np.float32)
    for _ in range(2):
        fastlrn.lrn(x, **good)
        with pytest.raises(exc):
            fastlrn.lrn(x, **bad)


def test_unhashable_parameters_are_checked_each_time():
    x = np.random.default_rng(0).standard_normal((2, 6, 3)).astype(np.float32)
    alpha = np.array(1e-2)          # 0-d array: a Real-like value, unhashable
    with pytest.raises(TypeError):
        fastlrn.lrn(x, alpha=alpha)
    np.testing.assert_array_equal(fastlrn.lrn(x, alpha=1e-2), fastlrn.lrn(x, alpha=1e-2))


def test_same_shape_other_strides_get_their_own_layout(rng):
    base = rng.standard_normal((4, 6, 5, 7)).astype(np.float32)
    views = [base, np.ascontiguousarray(base.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2),
             np.asfortranarray(base), base[:, :, :, ::-1].copy()[:, :, :, ::-1]]
    for v in views + views[::-1]:
        assert v.shape == base.shape
        y = fastlrn.lrn(v, size=3, alpha=0.5)
        expect = reference_lrn(np.asarray(v, np.float64), 1, 1, 0.5, 0.75, 2.0)
        np.testing.assert_allclose(y, expect, rtol=1e-6)


def test_data_address_is_the_first_element(rng):
    a = rng.standard_normal((6, 8)).astype(np.float32)
    for v in (a, a[1:], a[:, 2:], a[::-1], a.T, a[::2, ::-3]):
        assert data_address(v) == v.__array_interface__["data"][0]
    ro = a.copy()
    ro.flags.writeable = False
    assert data_address(ro) == ro.__array_interface__["data"][0]
