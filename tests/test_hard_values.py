"""Hard inputs (SPEC section 4): overflow, underflow, subnormals, dynamic
range, cancellation, signed zeros, NaN and infinity locality.

Bounds everywhere are the contract's: 4 ulp for float32 against the float64
reference, 8 ulp for float64 against the longdouble reference.
"""

import numpy as np
import pytest

import fastlrn
from _util import (LONGDOUBLE_IS_EXTENDED, assert_ulp, expected, needs_extended,
                   oracle)

# The three kernel layouts: across planar (NCHW), across channels-last,
# within channel.
LAYOUTS = [("across", 1), ("across", -1), ("within", 1)]
BETAS = (0.5, 0.6, 0.75, 1.0, 2.0)

requires_extended = pytest.mark.skipif(not LONGDOUBLE_IS_EXTENDED,
                                       reason=needs_extended)


def check(x, **params):
    dt = np.result_type(x.dtype, np.float32)
    if dt == np.float64 and not LONGDOUBLE_IS_EXTENDED:
        pytest.skip(needs_extended)
    y = fastlrn.lrn(x, **params)
    assert y.dtype == dt
    assert_ulp(y, oracle(x, dt, **params), **params)
    return y


def log_uniform(rng, shape, lo_exp, hi_exp, dtype, signed=True):
    """Values 10**u, u uniform in [lo_exp, hi_exp], with random signs."""
    with np.errstate(over="ignore", under="ignore"):
        v = 10.0 ** rng.uniform(lo_exp, hi_exp, shape)
        if signed:
            v *= rng.choice([-1.0, 1.0], shape)
        return v.astype(dtype)


def _sweep(x, layouts=LAYOUTS, sizes=(1, 2, 3, 5), ks=((2.0, 1e-4), (1.0, 1.0), (0.0, 1.0))):
    for region, channel_axis in layouts:
        for size in sizes:
            for beta in BETAS:
                for k, alpha in ks:
                    check(x, size=size, alpha=alpha, beta=beta, k=k,
                          region=region, channel_axis=channel_axis)


def test_float32_squares_overflow(rng):
    # |x| from 1e20 (square 1e40 > float32 max 3.4e38) up to 3e38.
    x = log_uniform(rng, (2, 7, 4, 5), 20, np.log10(3e38), np.float32)
    assert np.isfinite(x).all()
    _sweep(x)


def test_float32_overflowing_among_ordinary(rng):
    # Only some windows overflow; the rest must be unaffected and accurate.
    x = rng.standard_normal((2, 9, 4, 5)).astype(np.float32)
    x[0, 4, 1, 2] = 3e38
    x[1, 0, 3, 4] = -1e25
    x[1, 8, 0, 0] = 2e19
    _sweep(x)


def test_float32_max_magnitude_everywhere():
    x = np.full((1, 6, 3, 3), np.finfo(np.float32).max, dtype=np.float32)
    x[0, ::2] *= -1
    _sweep(x)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_subnormals(rng, dtype):
    fi = np.finfo(dtype)
    # Subnormal magnitudes only: from the smallest subnormal to the
    # smallest normal.
    lo = np.log10(float(fi.smallest_subnormal))
    hi = np.log10(float(fi.smallest_normal))
    x = log_uniform(rng, (2, 6, 4, 5), lo, hi, dtype)
    x[0, 0, 0, :3] = fi.smallest_subnormal
    x[0, 1, 0, :3] = -fi.smallest_subnormal
    # k = 0: the squares underflow to 0 in the working type but s is not 0.
    _sweep(x, ks=((2.0, 1e-4), (0.0, 1.0), (0.0, 1e-4)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_subnormals_next_to_normals(rng, dtype):
    x = rng.standard_normal((2, 6, 4, 5)).astype(dtype)
    x[:, ::2] *= np.finfo(dtype).smallest_normal / 8
    _sweep(x, ks=((2.0, 1e-4), (0.0, 1.0)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("channel_axis", [1, -1])
def test_large_value_among_many_channels(dtype, channel_axis):
    # A window holding 1e4 among 400 channels of ones: 1e8 + 4 in the sum.
    # Any running sum that adds 1e8 and later subtracts it in float32 leaves
    # garbage (TensorFlow's >384-channel path and ONNX Runtime do this).
    shape = (2, 400, 3, 3) if channel_axis == 1 else (2, 3, 3, 400)
    x = np.ones(shape, dtype=dtype)
    idx = [slice(None)] * 4
    idx[channel_axis] = 200
    x[tuple(idx)] = 1e4
    idx[channel_axis] = 3
    x[tuple(idx)] = -1e4
    for size in (5, 6, 401):
        for k, alpha in ((2.0, 1e-4), (1.0, 1.0), (0.0, 1.0)):
            check(x, size=size, alpha=alpha, k=k, channel_axis=channel_axis)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_huge_value_leaving_window(rng, dtype):
    # 1e30 in channel 3 of 40, then small values: the windows after it
    # (channels >= 3 + lo + 1) must be as accurate as anywhere else.
    for channel_axis in (1, -1):
        shape = (2, 40, 3, 5) if channel_axis == 1 else (2, 3, 5, 40)
        x = (rng.standard_normal(shape) * 1e-3).astype(dtype)
        idx = [slice(None)] * 4
        idx[channel_axis] = 3
        x[tuple(idx)] = 1e30
        for size in (2, 5, 9):
            for beta in BETAS:
                check(x, size=size, alpha=1.0, beta=beta, k=1.0,
                      channel_axis=channel_axis)
                check(x, size=size, alpha=1e-4, beta=beta, k=2.0,
                      channel_axis=channel_axis)


def test_huge_value_leaving_window_within(rng):
    # The within-channel box sums: 1e30 at one pixel, small values around.
    x = (rng.standard_normal((1, 2, 20, 21)) * 1e-3).astype(np.float32)
    x[:, :, 3, 4] = 1e30
    for size in (2, 3, 5):
        check(x, size=size, alpha=1.0, k=1.0, region="within")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mixed_magnitudes_in_one_window(rng, dtype):
    # Magnitudes from 1e-30 to 1e30 inside one window: squares from 1e-60
    # (below float32's subnormals) to 1e60 (above float32's max).
    x = log_uniform(rng, (2, 8, 5, 6), -30, 30, dtype)
    _sweep(x, sizes=(2, 3, 5, 9), ks=((2.0, 1e-4), (1.0, 1.0), (0.0, 1e-4)))


@requires_extended
@pytest.mark.parametrize("lo_exp, hi_exp", [(160, 300), (-300, -170), (-300, 300)])
def test_float64_squares_overflow_or_underflow(rng, lo_exp, hi_exp):
    # float64 squares overflow above ~1.3e154 and underflow below ~1.5e-162;
    # the oracle is the longdouble reference (15-bit exponent).
    x = log_uniform(rng, (2, 6, 4, 5), lo_exp, hi_exp, np.float64)
    _sweep(x, ks=((2.0, 1e-4), (1.0, 1.0), (0.0, 1.0), (0.0, 1e-4)))


@requires_extended
def test_float64_extremes():
    fi = np.finfo(np.float64)
    x = np.array([[fi.max, -fi.max, fi.smallest_subnormal, 1.0, fi.max / 3,
                   -fi.smallest_normal, 1e-300, 0.0]]).reshape(1, 8, 1, 1)
    _sweep(x, layouts=[("across", 1)], sizes=(1, 2, 3, 5, 9))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("alpha", [1e30, 1e-30])
def test_extreme_alpha_k0_beta2(rng, dtype, alpha):
    for x in (rng.standard_normal((2, 6, 4, 5)).astype(dtype),
              log_uniform(rng, (2, 6, 4, 5), -20, 20, dtype)):
        for region, channel_axis in LAYOUTS:
            for beta in (0.75, 2.0):
                for k in (0.0, 1.0):
                    check(x, size=3, alpha=alpha, beta=beta, k=k,
                          region=region, channel_axis=channel_axis)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("region, channel_axis", LAYOUTS)
def test_negative_zero_keeps_sign(rng, dtype, region, channel_axis):
    x = rng.standard_normal((2, 6, 4, 5)).astype(dtype)
    zero = rng.random(x.shape) < 0.3
    x[zero] = 0.0
    neg = zero & (rng.random(x.shape) < 0.5)
    x[neg] = -0.0
    x[1] = 0.0
    x[1, ::2] = -0.0  # whole all-zero windows, signed
    for k in (2.0, 1.0):
        for beta in BETAS:
            y = check(x, alpha=1.0, beta=beta, k=k, region=region,
                      channel_axis=channel_axis)
            np.testing.assert_array_equal(
                np.signbit(y[zero]), np.signbit(x[zero]),
                err_msg=f"sign of zero not kept; k={k}, beta={beta}")
            assert (y[zero] == 0).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("region, channel_axis", LAYOUTS)
def test_k0_all_zero_window_is_nan(dtype, region, channel_axis):
    # SPEC section 4: k = 0 and an all-zero window gives NaN (0 * 0**-beta).
    x = np.zeros((1, 9, 9, 9), dtype=dtype)
    x[0, 4, 4, 4] = 1.5
    for size in (1, 3, 5):
        y = check(x, size=size, alpha=1.0, k=0.0, region=region,
                  channel_axis=channel_axis)
        # NaN exactly where the window misses the one non-zero value.
        hit = _windows_containing(x.shape, (0, 4, 4, 4), size, region,
                                  channel_axis)
        np.testing.assert_array_equal(np.isnan(y), ~hit)
        # The value itself: 1.5 * (1.5**2)**-0.75 = 1.5**-0.5 (rel 1e-6:
        # float32 rounding, the ulp bound is already checked above).
        assert y[0, 4, 4, 4] == pytest.approx(1.5**-0.5, rel=1e-6)


def _windows_containing(shape, pos, size, region, channel_axis):
    """Boolean mask of the outputs whose window contains input position pos."""
    lo, hi = size // 2, (size - 1) // 2
    ndim = len(shape)
    c = channel_axis % ndim
    axes = (c,) if region == "across" else tuple(
        a for a in range(ndim) if a not in (0, c))
    mask = np.zeros(shape, dtype=bool)
    sl = []
    for ax in range(ndim):
        if ax in axes:
            # p's window [p - lo, p + hi] holds q iff p in [q - hi, q + lo].
            sl.append(slice(max(pos[ax] - hi, 0), pos[ax] + lo + 1))
        else:
            sl.append(slice(pos[ax], pos[ax] + 1))
    mask[tuple(sl)] = True
    return mask


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("region, channel_axis", LAYOUTS + [("within", -1)])
def test_nan_inf_locality(rng, bad, dtype, region, channel_axis):
    clean = (rng.standard_normal((2, 11, 7, 8)) * 2).astype(dtype)
    for pos in [(1, 5, 3, 4), (0, 0, 0, 0), (1, 10, 6, 7)]:
        x = clean.copy()
        x[pos] = bad
        for size in (1, 2, 3, 5):
            for beta in (0.0,) + BETAS:
                params = dict(size=size, alpha=1.0, beta=beta, k=1.0,
                              region=region, channel_axis=channel_axis)
                y = fastlrn.lrn(x, **params)
                y_clean = fastlrn.lrn(clean, **params)
                hit = _windows_containing(x.shape, pos, size, region,
                                          channel_axis)
                # Outside the windows holding the bad value: untouched, bit
                # for bit.
                np.testing.assert_array_equal(
                    y[~hit], y_clean[~hit],
                    err_msg=f"{bad} at {pos} leaked; {params}")
                # Inside: as the float64 reference (NaN where it is NaN,
                # and e.g. x * inf**-beta = +-0 next to an infinity).
                assert_ulp(y[hit], expected(x, **params)[hit], pos=pos,
                           bad=bad, **params)


def test_nan_payload_and_several_nans(rng):
    x = rng.standard_normal((2, 16, 6, 6)).astype(np.float32)
    x[0, 2, 1, 1] = np.nan
    x[0, 9, 1, 1] = -np.nan
    x[1, :, 4, 4] = np.nan
    for region, channel_axis in LAYOUTS:
        check(x, size=3, alpha=1.0, k=1.0, region=region,
              channel_axis=channel_axis)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("beta", [3.0, 5.0, 10.0])
def test_large_beta(rng, dtype, beta):
    # SPEC section 4's bounds hold for every beta >= 0. A large beta
    # multiplies the relative error of s by beta, so s must be computed
    # more accurately than the working type for the bound to hold.
    x = (rng.standard_normal((3, 24, 6, 7)) * 3).astype(dtype)
    for region, channel_axis in LAYOUTS:
        for size in (3, 5, 9):
            check(x, size=size, alpha=1.0, beta=beta, k=1.0, region=region,
                  channel_axis=channel_axis)
