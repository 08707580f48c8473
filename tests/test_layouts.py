"""Memory layouts, input kinds, dtype conversion, ``out`` and in-place."""

import numpy as np
import pytest

import fastlrn
from _util import assert_ulp, assert_unmodified, expected, oracle, randn

PARAMS = dict(size=5, alpha=0.5, beta=0.75, k=1.0)
# (region, channel_axis) combinations that cover the three kernel layouts:
# across with channels on a planar axis, across channels-last, within.
REGIONS = [("across", 1), ("across", -1), ("within", 1), ("within", -1)]


def check(x, **params):
    """lrn(x) matches the oracle and leaves x bitwise untouched; returns y."""
    x_copy = x.copy(order="K")
    p = {**PARAMS, **params}
    y = fastlrn.lrn(x, **p)
    assert_unmodified(x, x_copy)
    dt = np.result_type(x.dtype, np.float32)
    assert y.dtype == dt and y.shape == x.shape
    assert_ulp(y, oracle(x, dt, **p), strides=x.strides, **p)
    return y


def _views(base):
    """Non-contiguous views of a 4-D array, all of which must work."""
    return {
        "strided_channels": base[:, ::2],
        "strided_spatial": base[:, :, 1::3, ::2],
        "negative_last": base[..., ::-1],
        "negative_all": base[::-1, ::-1, ::-1, ::-1],
        "fortran": np.asfortranarray(base),
        "transposed_nhwc": base.transpose(0, 2, 3, 1),
        "transposed_full": base.T,
        "swapped_spatial": base.swapaxes(2, 3),
    }


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("region, channel_axis", REGIONS)
@pytest.mark.parametrize("view", list(_views(np.empty((1, 1, 1, 1)))))
def test_views(rng, view, region, channel_axis, dtype):
    base = randn(rng, (3, 10, 11, 9), dtype, scale=2.0)
    x = _views(base)[view]
    y = check(x, region=region, channel_axis=channel_axis)
    # The result is a fresh array, not a view of the input.
    assert not np.shares_memory(y, base)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("region, channel_axis", REGIONS)
def test_byte_swapped(rng, region, channel_axis, dtype):
    x = randn(rng, (2, 7, 5, 6), dtype, scale=2.0)
    xs = x.astype(x.dtype.newbyteorder())
    y = check(xs, region=region, channel_axis=channel_axis)
    assert y.dtype.isnative
    np.testing.assert_array_equal(
        y, fastlrn.lrn(x, region=region, channel_axis=channel_axis, **PARAMS))


@pytest.mark.parametrize("region, channel_axis", REGIONS)
def test_read_only(rng, region, channel_axis):
    x = randn(rng, (2, 7, 5, 6), np.float32, scale=2.0)
    x.flags.writeable = False
    check(x, region=region, channel_axis=channel_axis)


def test_nested_lists_and_scalars_types():
    x = [[1.0, 2.0, 3.0, 4.0], [0.5, -1.0, 0.0, 2.0]]
    y = fastlrn.lrn(x, size=3, alpha=1.0, k=1.0, beta=1.0)
    # A list of Python floats is float64, as np.asarray makes it.
    assert y.dtype == np.float64
    assert_ulp(y, expected(np.asarray(x), size=3, alpha=1.0, k=1.0, beta=1.0,
                           exact=True))


class _DLPackOnly:
    """An object that only exposes the DLPack protocol (like a CPU tensor)."""

    def __init__(self, array):
        self._array = array

    def __dlpack__(self, **kwargs):
        return self._array.__dlpack__(**kwargs)

    def __dlpack_device__(self):
        return self._array.__dlpack_device__()


def test_dlpack_input(rng):
    # SPEC section 2: objects exposing __dlpack__ are accepted.
    x = randn(rng, (2, 6, 4, 5), np.float32)
    y = fastlrn.lrn(_DLPackOnly(x), **PARAMS)
    np.testing.assert_array_equal(y, fastlrn.lrn(x, **PARAMS))


EMPTY_SHAPES = [(0, 5, 3, 3), (2, 0, 3, 3), (2, 5, 0, 3), (2, 5, 3, 0),
                (0, 0, 0, 0), (2, 0), (0, 3), (0, 4, 5)]


@pytest.mark.parametrize("dtype, result", [(np.float32, np.float32),
                                           (np.float64, np.float64),
                                           (np.float16, np.float32),
                                           (np.int64, np.float64)])
@pytest.mark.parametrize("shape", EMPTY_SHAPES)
def test_empty(shape, dtype, result):
    x = np.zeros(shape, dtype=dtype)
    regions = [("across", 1), ("across", -1)]
    if len(shape) >= 3:
        regions += [("within", 1), ("within", -1)]
    for region, channel_axis in regions:
        y = fastlrn.lrn(x, region=region, channel_axis=channel_axis)
        assert y.shape == shape and y.dtype == result, (region, channel_axis)
        out = np.empty(shape, dtype=result)
        assert fastlrn.lrn(x, region=region, channel_axis=channel_axis,
                           out=out) is out


@pytest.mark.parametrize("shape", [(1, 1), (1, 1, 1, 1), (1, 5, 1, 1),
                                   (3, 1, 4, 4), (1, 1, 6, 1), (2, 4, 1, 7),
                                   (1, 3, 1), (4, 1, 1, 1, 5)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_length_one_axes(rng, shape, dtype):
    x = randn(rng, shape, dtype, scale=3.0)
    for region in ("across", "within"):
        for channel_axis in (1, -1):
            if region == "within" and len(shape) < 3:
                continue
            for size in (1, 2, 3, 5):
                check(x, region=region, channel_axis=channel_axis, size=size)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_channels_last_4d(rng, dtype):
    # NHWC with C = 96 (AlexNet LRN1 channels), a contiguous channel row.
    x = randn(rng, (2, 5, 7, 96), dtype, scale=3.0)
    for size in (1, 2, 5, 9, 96, 97):
        check(x, channel_axis=-1, size=size)
        check(x, channel_axis=3, size=size, average=True)


# ---------------------------------------------------------------- dtypes

@pytest.mark.parametrize("dtype, result", [
    (np.bool_, np.float32), (np.int8, np.float32), (np.uint8, np.float32),
    (np.int16, np.float32), (np.uint16, np.float32), (np.float16, np.float32),
    (np.int32, np.float64), (np.uint32, np.float64), (np.int64, np.float64),
    (np.uint64, np.float64),
])
def test_other_real_dtypes(rng, dtype, result):
    # SPEC section 2: computed in and returned as result_type(dtype, float32).
    assert np.result_type(dtype, np.float32) == result
    if dtype == np.bool_:
        x = rng.integers(0, 2, (2, 6, 3, 4)).astype(dtype)
    elif dtype == np.float16:
        x = randn(rng, (2, 6, 3, 4), dtype, scale=3.0)
    else:
        hi = min(int(np.iinfo(dtype).max), 100)
        lo = max(int(np.iinfo(dtype).min), -100)
        x = rng.integers(lo, hi, (2, 6, 3, 4), endpoint=True).astype(dtype)
    for region in ("across", "within"):
        y = check(x, region=region, size=3)
        assert y.dtype == result


def test_large_integers_are_converted_exactly():
    # int64 values above 2**24 are not float32-representable: the float64
    # computation must see them exactly (2**40 + 1), and its result match.
    x = np.array([[2**40 + 1, 3, -(2**53)]], dtype=np.int64)
    y = check(x, size=3, alpha=1e-30, k=1.0, beta=0.5)
    assert y.dtype == np.float64


# ---------------------------------------------------------------- out / in place

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("region, channel_axis", REGIONS)
def test_in_place_equals_out_of_place(rng, region, channel_axis, dtype):
    x = randn(rng, (3, 12, 9, 10), dtype, scale=3.0)
    params = dict(PARAMS, region=region, channel_axis=channel_axis)
    for size in (1, 2, 5, 6):
        params["size"] = size
        want = fastlrn.lrn(x, **params)
        buf = x.copy()
        got = fastlrn.lrn(buf, out=buf, **params)
        assert got is buf
        # SPEC section 2: in place must equal out of place exactly.
        np.testing.assert_array_equal(got, want, err_msg=f"size={size}, {params}")


@pytest.mark.parametrize("region, channel_axis", REGIONS)
def test_in_place_on_non_contiguous_view(rng, region, channel_axis):
    base = randn(rng, (3, 12, 9, 10), np.float64, scale=3.0)
    want = fastlrn.lrn(base[:, :, ::-1, 1::2], region=region,
                       channel_axis=channel_axis, **PARAMS)
    view = base[:, :, ::-1, 1::2]
    got = fastlrn.lrn(view, out=view, region=region, channel_axis=channel_axis,
                      **PARAMS)
    assert got is view
    np.testing.assert_array_equal(base[:, :, ::-1, 1::2], want)


@pytest.mark.parametrize("region, channel_axis", REGIONS)
def test_out_fresh_array(rng, region, channel_axis):
    x = randn(rng, (2, 8, 5, 6), np.float32, scale=2.0)
    out = np.full(x.shape, np.nan, dtype=np.float32)
    got = fastlrn.lrn(x, out=out, region=region, channel_axis=channel_axis,
                      **PARAMS)
    assert got is out
    np.testing.assert_array_equal(
        out, fastlrn.lrn(x, region=region, channel_axis=channel_axis, **PARAMS))


def test_out_non_contiguous_and_for_converted_dtype(rng):
    x = randn(rng, (2, 8, 5, 6), np.float64, scale=2.0)
    holder = np.zeros((2, 8, 5, 12))
    out = holder[..., ::2]
    assert fastlrn.lrn(x, out=out, **PARAMS) is out
    np.testing.assert_array_equal(out, fastlrn.lrn(x, **PARAMS))
    assert (holder[..., 1::2] == 0).all(), "wrote outside the out view"
    # int16 computes in float32: out must be float32.
    xi = np.arange(48, dtype=np.int16).reshape(2, 4, 6)
    out = np.empty(xi.shape, dtype=np.float32)
    assert fastlrn.lrn(xi, out=out, **PARAMS) is out
    np.testing.assert_array_equal(out, fastlrn.lrn(xi, **PARAMS))


def test_out_disjoint_part_of_same_buffer(rng):
    # out and x in one buffer but not overlapping: allowed.
    buf = randn(rng, (2, 2, 6, 5, 4), np.float32)
    x, out = buf[0], buf[1]
    want = fastlrn.lrn(x, **PARAMS)
    assert fastlrn.lrn(x, out=out, **PARAMS) is out
    np.testing.assert_array_equal(out, want)


def test_out_wrong_shape_dtype_and_overlap_raise(rng):
    x = randn(rng, (2, 6, 4, 5), np.float32)
    with pytest.raises(ValueError, match="out"):
        fastlrn.lrn(x, out=np.empty((2, 6, 4, 4), np.float32))
    with pytest.raises(TypeError, match="out"):
        fastlrn.lrn(x, out=np.empty(x.shape, np.float64))
    # Partial overlap: out is x shifted by one element.
    buf = np.zeros(x.size + 1, dtype=np.float32)
    buf[:-1] = x.ravel()
    xv = buf[:-1].reshape(x.shape)
    ov = buf[1:].reshape(x.shape)
    before = buf.copy()
    with pytest.raises(ValueError, match="overlap"):
        fastlrn.lrn(xv, out=ov)
    np.testing.assert_array_equal(buf, before)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("region, channel_axis", REGIONS)
def test_in_place_with_hard_values(rng, region, channel_axis, dtype):
    # Windows recomputed on the safe path read neighbours of x: in place,
    # those must still be the inputs, not already-written outputs.
    x = randn(rng, (2, 12, 9, 10), dtype, scale=3.0)
    big = 1e30 if dtype == np.float32 else 1e200
    x[0, 5] = big
    x[1, :, 4, 4] = -big
    x[1, 2, 2, 2] = np.finfo(dtype).smallest_subnormal
    x[0, 9, 7, 7] = np.nan
    for size in (2, 5):
        params = dict(size=size, alpha=1.0, beta=0.75, k=0.0, region=region,
                      channel_axis=channel_axis)
        want = fastlrn.lrn(x, **params)
        buf = x.copy()
        assert fastlrn.lrn(buf, out=buf, **params) is buf
        np.testing.assert_array_equal(buf, want, err_msg=str(params))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("region, channel_axis", REGIONS)
def test_unaligned_input_and_out(rng, region, channel_axis, dtype):
    # Views at an odd byte offset: not aligned for the element type.
    def unaligned(shape):
        n = int(np.prod(shape)) * np.dtype(dtype).itemsize
        a = np.zeros(n + 1, dtype=np.uint8)[1:].view(dtype).reshape(shape)
        assert not a.flags.aligned
        return a

    shape = (2, 7, 5, 6)
    x = unaligned(shape)
    x[...] = randn(rng, shape, dtype, scale=2.0)
    params = dict(PARAMS, region=region, channel_axis=channel_axis)
    want = fastlrn.lrn(x.copy(), **params)
    np.testing.assert_array_equal(check(x, **params), want)
    out = unaligned(shape)
    assert fastlrn.lrn(x, out=out, **params) is out
    np.testing.assert_array_equal(out, want)
    assert fastlrn.lrn(x, out=x, **params) is x
    np.testing.assert_array_equal(x, want)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("size", [3, 4, 5])
def test_within_bits_do_not_depend_on_layout(dtype, size):
    # The box sums are separable and their rounding depends on the order
    # of the axes: the kernels must take the spatial axes in their logical
    # order whatever the strides. (They once put the most contiguous axis
    # last: on this data a Fortran-order input, size 4, differed by an ulp
    # at (0, 0, 16, 15), a near-tie.) Normal and x 30 data (the float tier
    # and the power step).
    rng = np.random.default_rng(0)
    for scale in (1.0, 30.0):
        for _ in range(4):
            x = (rng.standard_normal((2, 3, 20, 16)) * scale).astype(dtype)
            want = fastlrn.lrn(x, size=size, region="within")
            for view in (np.asfortranarray(x), x.swapaxes(2, 3).copy().swapaxes(2, 3),
                         x.transpose(0, 2, 3, 1).copy().transpose(0, 3, 1, 2)):
                np.testing.assert_array_equal(fastlrn.lrn(view, size=size, region="within"),
                                              want)
            back = fastlrn.lrn_backward(x, x[::-1].copy(), size=size, region="within")
            np.testing.assert_array_equal(
                fastlrn.lrn_backward(np.asfortranarray(x), x[::-1].copy(), size=size,
                                     region="within"), back)
