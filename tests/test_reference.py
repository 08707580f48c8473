"""The oracle itself, against values worked out by hand in this file."""

import numpy as np
import pytest

from fastlrn import reference
from _util import LONGDOUBLE_IS_EXTENDED, needs_extended, ulp_error

# The reference evaluates a handful of float64 operations; against values
# written out as exact fractions it agrees to a few float64 roundings.
# 1e-14 relative is far above that and far below any real mistake.
RTOL = 1e-14


@pytest.mark.parametrize("size, lohi", [(1, (0, 0)), (2, (1, 0)), (3, (1, 1)),
                                        (4, (2, 1)), (5, (2, 2)), (6, (3, 2))])
def test_window(size, lohi):
    assert reference.window(size) == lohi


def test_across_size3_by_hand():
    # Channels along axis 1 of shape (1, 4); window [c-1, c+1] clipped.
    x = np.array([[1.0, 2.0, 3.0, 4.0]])
    s = np.array([1 + (1 + 4), 1 + (1 + 4 + 9), 1 + (4 + 9 + 16), 1 + (9 + 16)])
    y = reference.lrn(x, 1, 1, 1.0, 1.0, 1.0)
    assert y.dtype == np.float64 and y.shape == (1, 4)
    np.testing.assert_allclose(y[0], [1 / 6, 2 / 15, 3 / 30, 4 / 26], rtol=RTOL)
    np.testing.assert_allclose(y[0], x[0] / s, rtol=RTOL)


def test_even_size2_extends_before():
    # size 2: lo=1, hi=0, the window is [c-1, c].
    x = np.array([[1.0, 2.0, 3.0, 4.0]])
    y = reference.lrn(x, *reference.window(2), 1.0, 1.0, 1.0)
    np.testing.assert_allclose(y[0], [1 / 2, 2 / 6, 3 / 14, 4 / 26], rtol=RTOL)


def test_even_size4_extends_before():
    # size 4: lo=2, hi=1, the window is [c-2, c+1].
    x = np.array([[1.0, 2.0, 3.0, 4.0]])
    y = reference.lrn(x, *reference.window(4), 1.0, 1.0, 1.0)
    s = [1 + (1 + 4), 1 + (1 + 4 + 9), 1 + (1 + 4 + 9 + 16), 1 + (4 + 9 + 16)]
    np.testing.assert_allclose(y[0], x[0] / s, rtol=RTOL)


def test_alpha_beta_k_by_hand():
    # One channel, one window element: s = k + a * x**2.
    x = np.array([[3.0], [-2.0]])
    y = reference.lrn(x, 2, 2, 0.5, 0.75, 2.0)
    np.testing.assert_allclose(
        y[:, 0], [3.0 / (2 + 0.5 * 9) ** 0.75, -2.0 / (2 + 0.5 * 4) ** 0.75],
        rtol=RTOL)


def test_across_other_axis_and_negative_axis():
    x = np.array([[1.0, 2.0, 3.0, 4.0]])
    want = [1 / 6, 2 / 15, 3 / 30, 4 / 26]
    # The same numbers laid out along axis 0, and along axis -1 of a 3-D array.
    y0 = reference.lrn(x.T, 1, 1, 1.0, 1.0, 1.0, channel_axis=0)
    np.testing.assert_allclose(y0[:, 0], want, rtol=RTOL)
    y3 = reference.lrn(x.reshape(1, 1, 4), 1, 1, 1.0, 1.0, 1.0, channel_axis=-1)
    np.testing.assert_allclose(y3.ravel(), want, rtol=RTOL)
    # Batch items are independent.
    xb = np.stack([x[0], 2 * x[0]])
    yb = reference.lrn(xb, 1, 1, 1.0, 1.0, 1.0)
    np.testing.assert_allclose(yb[0], want, rtol=RTOL)
    assert not np.allclose(yb[1], 2 * yb[0])


# 3x3 plane 1..9, size 3 box clipped at the borders; the sums of squares
# of each clipped 3x3 neighbourhood of [[1,4,9],[16,25,36],[49,64,81]]:
PLANE = np.arange(1.0, 10.0).reshape(3, 3)
PLANE_SUMS = np.array([[1 + 4 + 16 + 25, 1 + 4 + 9 + 16 + 25 + 36, 4 + 9 + 25 + 36],
                       [1 + 4 + 16 + 25 + 49 + 64, 285, 4 + 9 + 25 + 36 + 64 + 81],
                       [16 + 25 + 49 + 64, 16 + 25 + 36 + 49 + 64 + 81, 25 + 36 + 64 + 81]])


def test_within_plane_by_hand():
    assert PLANE_SUMS.tolist() == [[46, 91, 74], [159, 285, 219], [154, 271, 206]]
    want = PLANE / (1 + PLANE_SUMS)
    # NCHW: the plane is axes (2, 3).
    y = reference.lrn(PLANE.reshape(1, 1, 3, 3), 1, 1, 1.0, 1.0, 1.0,
                      region="within")
    np.testing.assert_allclose(y[0, 0], want, rtol=RTOL)
    # NHWC: the plane is axes (1, 2); two channels stay independent.
    x = np.stack([PLANE, 10 * PLANE], axis=-1)[None]
    y = reference.lrn(x, 1, 1, 1.0, 1.0, 1.0, region="within", channel_axis=-1)
    np.testing.assert_allclose(y[0, :, :, 0], want, rtol=RTOL)
    np.testing.assert_allclose(
        y[0, :, :, 1], 10 * PLANE / (1 + 100 * PLANE_SUMS), rtol=RTOL)


def test_within_even_size_box():
    # size 2: box [i-1, i] x [j-1, j].
    y = reference.lrn(PLANE.reshape(1, 1, 3, 3), 1, 0, 1.0, 1.0, 1.0,
                      region="within")
    sums = np.array([[1, 1 + 4, 4 + 9],
                     [1 + 16, 1 + 4 + 16 + 25, 4 + 9 + 25 + 36],
                     [16 + 49, 16 + 25 + 49 + 64, 25 + 36 + 64 + 81]])
    np.testing.assert_allclose(y[0, 0], PLANE / (1 + sums), rtol=RTOL)


def test_within_1d_and_channel_axis_0():
    # One spatial axis (rank 3, NCL) with size 2 is the 1-D window [i-1, i].
    x = np.array([1.0, 2.0, 3.0, 4.0])
    want = [1 / 2, 2 / 6, 3 / 14, 4 / 26]
    y = reference.lrn(x.reshape(1, 1, 4), 1, 0, 1.0, 1.0, 1.0, region="within")
    np.testing.assert_allclose(y.ravel(), want, rtol=RTOL)
    # channel_axis=0 on 2-D: axis 1 is the only spatial axis.
    y = reference.lrn(x.reshape(1, 4), 1, 0, 1.0, 1.0, 1.0, region="within",
                      channel_axis=0)
    np.testing.assert_allclose(y.ravel(), want, rtol=RTOL)


def test_tensorflow_seed_example():
    # The seed article's example: tf.nn.local_response_normalization on
    # 1..32 as (2, 2, 2, 4), channels last, depth_radius=2 (size 5),
    # alpha=1, bias=1, beta=0.75.
    x = np.arange(1, 33, dtype=np.float32).reshape(2, 2, 2, 4)
    y = reference.lrn(x, 2, 2, 1.0, 0.75, 1.0, channel_axis=-1)
    # These are TensorFlow's real float32 outputs, printed to ~8 significant
    # digits: rtol 1e-6 covers float32 rounding plus the printing, and is
    # far below any window or formula mistake.
    np.testing.assert_allclose(
        y[0, 0, 0], [0.13119929, 0.15223296, 0.22834945, 0.3120463], rtol=1e-6)
    np.testing.assert_allclose(
        y[1, 1, 1], [0.07735948, 0.06289289, 0.06498932, 0.08126954], rtol=1e-6)


def test_nan_inf_locality():
    x = np.ones((1, 7))
    x[0, 3] = np.nan
    y = reference.lrn(x, 1, 1, 1.0, 0.75, 1.0)
    assert np.isnan(y[0]).tolist() == [False, False, True, True, True, False, False]
    x[0, 3] = np.inf
    y = reference.lrn(x, 1, 1, 1.0, 0.75, 1.0)
    # inf**2 = inf in the sum: windows holding it give 1 * inf**-0.75 = 0,
    # and the inf itself gives inf * 0 = NaN.
    assert y[0, 2] == 0 and y[0, 4] == 0 and np.isnan(y[0, 3])


def test_k0_all_zero_window_is_nan():
    y = reference.lrn(np.zeros((1, 3)), 1, 1, 1.0, 0.75, 0.0)
    assert np.isnan(y).all()


def test_size_larger_than_axis():
    x = np.array([[1.0, 2.0, 3.0]])
    y = reference.lrn(x, 5, 5, 1.0, 1.0, 1.0)
    np.testing.assert_allclose(y[0], x[0] / 15, rtol=RTOL)


def test_lrn_exact_matches_lrn_on_ordinary_values(rng):
    x = rng.standard_normal((2, 6, 3, 4))
    for region in ("across", "within"):
        y = reference.lrn(x, 2, 1, 0.3, 0.75, 2.0, region=region)
        e = reference.lrn_exact(x, 2, 1, 0.3, 0.75, 2.0, region=region)
        assert e.dtype == np.longdouble
        # float64 reference vs longdouble: a few float64 roundings apart.
        assert ulp_error(y, e).max() <= 2, region


@pytest.mark.skipif(not LONGDOUBLE_IS_EXTENDED, reason=needs_extended)
def test_lrn_exact_survives_float64_overflow_and_underflow():
    # s = 2 * 1e400, y = 1e200 / sqrt(2e400) = 1/sqrt(2): float64 squares
    # would overflow to inf and give 0.
    x = np.array([[1e200, 1e200]])
    e = reference.lrn_exact(x, 1, 1, 1.0, 0.5, 0.0)
    np.testing.assert_allclose(e[0].astype(np.float64), [2**-0.5] * 2, rtol=RTOL)
    assert (reference.lrn(x, 1, 1, 1.0, 0.5, 0.0) == 0).all()
    # And the squares of 1e-200 would underflow to 0 (then 1e-200 * inf).
    x = np.array([[1e-200, 1e-200]])
    e = reference.lrn_exact(x, 1, 1, 1.0, 0.5, 0.0)
    np.testing.assert_allclose(e[0].astype(np.float64), [2**-0.5] * 2, rtol=RTOL)
    assert np.isinf(reference.lrn(x, 1, 1, 1.0, 0.5, 0.0)).all()


def test_input_not_modified_and_dtype():
    x = np.arange(1, 7, dtype=np.float32).reshape(1, 6)
    x_copy = x.copy()
    y = reference.lrn(x, 2, 2, 1e-4, 0.75, 2.0)
    np.testing.assert_array_equal(x, x_copy)
    assert y.dtype == np.float64


def test_ulp_error_helper():
    one = np.float32(1)
    nxt = np.nextafter(one, np.float32(2))
    assert ulp_error(np.array([nxt]), np.array([1.0])).tolist() == [1.0]
    # Across the 1.0 binade boundary 1 - 2**-24 and 1 + 2**-23 are two
    # representable steps apart although the ulps on each side differ.
    below = np.nextafter(one, np.float32(0))
    assert ulp_error(np.array([nxt]), np.array([float(below)])).tolist() == [2.0]
    # Subnormals count in subnormal steps; +0/-0 are the same value.
    tiny = np.float32(np.finfo(np.float32).smallest_subnormal)
    assert ulp_error(np.array([3 * tiny]), np.array([0.0])).tolist() == [3.0]
    assert ulp_error(np.array([-tiny]), np.array([tiny * 1.0])).tolist() == [2.0]
    assert ulp_error(np.array([np.float32(-0.0)]), np.array([0.0])).tolist() == [0.0]
    # NaN/inf match only themselves; an exact value past float32 max must
    # round to inf.
    r = np.array([np.nan, np.inf, np.inf, 1.0, np.inf], dtype=np.float32)
    e = np.array([np.nan, np.inf, -np.inf, np.nan, 1e39])
    assert ulp_error(r, e).tolist() == [0.0, 0.0, np.inf, np.inf, 0.0]
    # float64 against a longdouble oracle.
    r = np.array([1.0 + 2**-52])
    assert ulp_error(r, np.array([1.0], dtype=np.longdouble)).tolist() == [1.0]
