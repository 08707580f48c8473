"""fastlrn.lrn_backward against the float64 reference gradient, finite
differences of fastlrn.lrn, and the API rules it shares with fastlrn.lrn."""

import itertools

import numpy as np
import pytest

import fastlrn
from fastlrn import reference

from _util import BACKWARD_REL, assert_backward_close, effective_alpha, expected_backward

BETAS = (0.0, 0.5, 0.6, 0.75, 1.0, 2.0)


def _case(rng, shape, dtype, scale=1.0):
    x = (rng.standard_normal(shape) * scale).astype(dtype)
    dy = rng.standard_normal(shape).astype(dtype)
    return x, dy


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("region", ["across", "within"])
def test_every_size_against_reference(rng, dtype, region):
    """Sizes 1 to C+2 (even ones reach one further back: the mirrored window differs)."""
    shape = (2, 5, 6, 4)
    C = 5 if region == "across" else 6
    for size, beta, average, axis in itertools.product(range(1, C + 3), BETAS, (False, True),
                                                       (1, -1)):
        x, dy = _case(rng, shape, dtype, 2.0)
        params = dict(size=size, alpha=0.7, beta=beta, k=0.5, region=region,
                      channel_axis=axis, average=average)
        got = fastlrn.lrn_backward(x, dy, **params)
        assert got.dtype == dtype
        # The independent formula in tests/_util.py, and fastlrn.reference's.
        want = expected_backward(x, dy, **params)
        assert_backward_close(got, want, **params)
        lo, hi = reference.window(size)
        a = effective_alpha(0.7, size, average, region, x.ndim, axis)
        ref = reference.lrn_backward(x, dy, lo, hi, a, beta, 0.5, region=region,
                                     channel_axis=axis)
        assert_backward_close(got, ref, **params)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,region,axis", [
    ((3, 7), "across", 1), ((7, 3), "across", 0),
    ((2, 4, 9), "across", 1), ((2, 9, 4), "across", -1), ((2, 4, 9), "within", 1),
    ((2, 3, 5, 6, 4), "across", 1), ((2, 5, 6, 4, 3), "across", -1),
    ((2, 3, 5, 6, 4), "within", 1), ((2, 5, 6, 4, 3), "within", -1),
    ((2, 5, 9), "within", 0),
])
def test_ranks_and_layouts(rng, dtype, shape, region, axis):
    for size in (2, 3, 4, 5):
        x, dy = _case(rng, shape, dtype)
        params = dict(size=size, alpha=0.2, beta=0.75, k=1.0, region=region, channel_axis=axis)
        assert_backward_close(fastlrn.lrn_backward(x, dy, **params),
                              expected_backward(x, dy, **params), **params)


def test_alexnet_defaults(rng):
    x, dy = _case(rng, (2, 96, 13, 13), np.float32, 3.0)
    assert_backward_close(fastlrn.lrn_backward(x, dy), expected_backward(x, dy))


@pytest.mark.parametrize("region,axis", [("across", 1), ("across", -1), ("within", 1)])
@pytest.mark.parametrize("size", [1, 2, 3, 4, 5])
def test_finite_differences(rng, region, axis, size):
    """Central differences of fastlrn.lrn (float64) agree with lrn_backward.

    The step h = 1e-5 on values of order 1 gives a truncation error of order
    h**2 ~ 1e-10 and a rounding error of order eps/h ~ 1e-11, relative; 1e-7
    (the issue's bound) leaves a wide margin.
    """
    shape = (1, 4, 3, 3)
    x = rng.standard_normal(shape)
    dy = rng.standard_normal(shape)
    params = dict(size=size, alpha=0.5, beta=0.75, k=1.0, region=region, channel_axis=axis)
    got = fastlrn.lrn_backward(x, dy, **params)
    h = 1e-5
    num = np.empty_like(x)
    for idx in np.ndindex(shape):
        xp, xm = x.copy(), x.copy()
        xp[idx] += h
        xm[idx] -= h
        num[idx] = np.sum(dy * (fastlrn.lrn(xp, **params) - fastlrn.lrn(xm, **params))) / (2 * h)
    np.testing.assert_allclose(got, num, rtol=1e-7, atol=1e-7 * np.max(np.abs(num)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,region,axis", [
    ((8, 16, 40, 40), "across", 1), ((8, 40, 40, 16), "across", -1),
    ((4, 8, 40, 40), "within", 1),
])
def test_thread_counts_give_identical_results(rng, dtype, shape, region, axis):
    x, dy = _case(rng, shape, dtype)
    params = dict(size=5, alpha=0.3, beta=0.75, k=1.0, region=region, channel_axis=axis)
    one = fastlrn.lrn_backward(x, dy, num_threads=1, **params)
    for n in (2, 3, -1):
        np.testing.assert_array_equal(fastlrn.lrn_backward(x, dy, num_threads=n, **params), one)


@pytest.mark.parametrize("region,axis", [("across", 1), ("across", -1), ("within", 1)])
def test_out_and_in_place(rng, region, axis):
    x, dy = _case(rng, (2, 6, 7, 5), np.float32)
    params = dict(size=4, alpha=0.3, beta=0.75, k=1.0, region=region, channel_axis=axis)
    want = fastlrn.lrn_backward(x, dy, **params)
    out = np.empty_like(x)
    assert fastlrn.lrn_backward(x, dy, out=out, **params) is out
    np.testing.assert_array_equal(out, want)
    # out may be x or dy itself; the result equals the out-of-place one bit for bit
    xc, dyc = x.copy(), dy.copy()
    assert fastlrn.lrn_backward(xc, dy, out=xc, **params) is xc
    np.testing.assert_array_equal(xc, want)
    xc, dyc = x.copy(), dy.copy()
    assert fastlrn.lrn_backward(xc, dyc, out=dyc, **params) is dyc
    np.testing.assert_array_equal(dyc, want)
    # out in another layout
    outf = np.empty(x.shape, x.dtype, order="F")
    fastlrn.lrn_backward(x, dy, out=outf, **params)
    np.testing.assert_array_equal(outf, want)


def test_strided_readonly_and_unmodified(rng):
    base_x, base_dy = _case(rng, (3, 10, 8, 9), np.float64)
    x = base_x[:, ::2, :, ::-1]
    dy = np.asfortranarray(base_dy)[:, 1::2, :, ::-1]
    x_copy, dy_copy = x.copy(), dy.copy()
    x.flags.writeable = False
    params = dict(size=3, alpha=0.4, beta=0.6, k=1.5)
    got = fastlrn.lrn_backward(x, dy, **params)
    assert_backward_close(got, expected_backward(x_copy, dy_copy, **params), **params)
    np.testing.assert_array_equal(x, x_copy)
    np.testing.assert_array_equal(dy, dy_copy)


def test_dtype_rules(rng):
    x = rng.integers(-3, 4, (2, 5, 3, 3)).astype(np.int16)
    dy = rng.standard_normal((2, 5, 3, 3))            # float64 dy is cast to x's float32
    got = fastlrn.lrn_backward(x, dy, size=3, alpha=0.1)
    assert got.dtype == np.float32
    want = expected_backward(x.astype(np.float32), dy.astype(np.float32), size=3, alpha=0.1)
    assert_backward_close(got, want)
    assert fastlrn.lrn_backward(x.astype(np.int64), dy, size=3).dtype == np.float64
    empty = np.zeros((0, 4, 3, 3), np.float32)
    assert fastlrn.lrn_backward(empty, empty).shape == empty.shape


def test_hard_values_float32():
    """Squares that overflow float32, subnormals, and a huge value among ones."""
    x = np.ones((1, 40, 1, 1), np.float32)
    x[0, 10] = 3e38
    x[0, 20] = 1e-45
    dy = np.ones_like(x)
    params = dict(size=5, alpha=1.0, beta=0.75, k=1.0)
    got = fastlrn.lrn_backward(x, dy, **params)
    assert_backward_close(got, expected_backward(x, dy, dtype=np.longdouble, **params), **params)


def test_float64_overflowing_intermediates():
    """g * x overflows double while the gradient does not: recomputed in long double."""
    if not reference.LONGDOUBLE_IS_EXTENDED:
        pytest.skip("long double is double on this platform")
    x = np.array([[[2.0, 3.0, 1e160]]])
    dy = np.array([[[1.7e308, 1.0, 1e160]]])
    params = dict(size=1, alpha=0.0, beta=0.0, k=1.0, channel_axis=0)
    got = fastlrn.lrn_backward(x, dy, **params)
    np.testing.assert_array_equal(got, dy)   # a = 0: dx = dy * k**-0 exactly


def test_nan_stays_local():
    x = np.ones((1, 12, 1, 1))
    x[0, 5] = np.nan
    dy = np.ones_like(x)
    got = fastlrn.lrn_backward(x, dy, size=3, alpha=0.5, beta=0.75, k=1.0)
    # q depends on s(p) for p in [q-1, q+1], and s(p) on x in [p-1, p+1]
    bad = np.isnan(got.ravel())
    assert bad[3:8].all() and not bad[:3].any() and not bad[8:].any()


@pytest.mark.parametrize("kwargs,exc,match", [
    (dict(dy=np.ones((2, 3, 4))), ValueError, "dy must have the shape"),
    (dict(dy=np.ones((2, 5, 4, 4), np.complex64)), TypeError, "dy must hold real"),
    (dict(dy=np.ones((2, 5, 4, 4)), size=0), ValueError, "size"),
    (dict(dy=np.ones((2, 5, 4, 4)), num_threads=0), ValueError, "num_threads"),
    (dict(dy=np.ones((2, 5, 4, 4)), out=np.ones((2, 5, 4, 4), np.float64)), TypeError, "out"),
])
def test_errors(kwargs, exc, match):
    x = np.ones((2, 5, 4, 4), np.float32)
    dy = kwargs.pop("dy")
    with pytest.raises(exc, match=match):
        fastlrn.lrn_backward(x, dy, **kwargs)


def test_partial_overlap_with_dy_is_rejected():
    buf = np.ones(2 * 5 * 4 * 4 + 1, np.float32)
    x = np.ones((2, 5, 4, 4), np.float32)
    dy = buf[:-1].reshape(x.shape)
    out = buf[1:].reshape(x.shape)
    with pytest.raises(ValueError, match="overlap"):
        fastlrn.lrn_backward(x, dy, out=out)


def test_matches_torch_autograd(rng):
    """average=True is PyTorch's convention: equal to its autograd for sizes 1 to 9."""
    from _frameworks import require
    torch = require("torch")
    for size in range(1, 10):
        x, dy = _case(rng, (2, 7, 5, 4), np.float64)
        xt = torch.tensor(x, requires_grad=True)
        yt = torch.nn.functional.local_response_norm(xt, size, alpha=0.3, beta=0.75, k=1.0)
        yt.backward(torch.tensor(dy))
        got = fastlrn.lrn_backward(x, dy, size=size, alpha=0.3, beta=0.75, k=1.0,
                                   average=True)
        # torch computes in float64 too, by another order of operations
        assert_backward_close(got, xt.grad.numpy(), rel=BACKWARD_REL[np.dtype(np.float64)])
