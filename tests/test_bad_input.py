"""Unusual memory layouts of x and out that test_errors.py and
test_layouts.py do not cover: zero strides (broadcast views), out that
overlaps itself, out aliasing x in other ways, out with negative, permuted
or odd strides. The library must either compute the right answer or raise
ValueError naming out; it must never crash or write garbage."""

import numpy as np
import pytest
from numpy.lib.stride_tricks import as_strided, sliding_window_view

import fastlrn
from _util import assert_ulp, no_backward, oracle, randn

PARAMS = dict(size=3, alpha=0.5, beta=0.75, k=1.0)
REGIONS = [("across", 1), ("across", -1), ("within", 1)]
HAS_BACKWARD = hasattr(fastlrn, "lrn_backward")
FUNCS = ["lrn"] + (["lrn_backward"] if HAS_BACKWARD else [])


def call(func, x, **kw):
    """fastlrn.<func> on x (backward with a fixed dy of ones)."""
    if func == "lrn":
        return fastlrn.lrn(x, **kw)
    return fastlrn.lrn_backward(x, np.ones(x.shape, x.dtype), **kw)


# ---------------------------------------------------------------- x with zero strides

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("region, channel_axis", REGIONS)
@pytest.mark.parametrize("broadcast", ["channels", "spatial", "batch", "all"])
def test_zero_stride_input(rng, dtype, region, channel_axis, broadcast):
    # np.broadcast_to views (stride 0 along the broadcast axes) are valid,
    # read-only inputs: the result is that of the materialised array.
    shape = (3, 6, 5, 4) if channel_axis == 1 else (3, 5, 4, 6)
    c = channel_axis % 4
    small = list(shape)
    if broadcast == "channels":
        small[c] = 1
    elif broadcast == "spatial":
        for ax in range(1, 4):
            if ax != c:
                small[ax] = 1
    elif broadcast == "batch":
        small[0] = 1
    else:
        small = [1, 1, 1, 1]
    x = np.broadcast_to(randn(rng, small, dtype, scale=2.0), shape)
    assert 0 in x.strides
    params = dict(PARAMS, region=region, channel_axis=channel_axis)
    y = fastlrn.lrn(x, **params)
    want = fastlrn.lrn(np.ascontiguousarray(x), **params)
    np.testing.assert_array_equal(y, want)
    assert_ulp(y, oracle(x, y.dtype, **params), **params)
    assert not np.shares_memory(y, x)


@pytest.mark.skipif(not HAS_BACKWARD, reason=no_backward)
def test_zero_stride_dy_and_x_backward(rng):
    x = randn(rng, (2, 6, 5, 4), np.float32)
    dy_small = randn(rng, (1, 6, 1, 1), np.float32)
    dy = np.broadcast_to(dy_small, x.shape)
    xb = np.broadcast_to(x[:1], x.shape)
    for region in ("across", "within"):
        np.testing.assert_array_equal(
            fastlrn.lrn_backward(x, dy, region=region, **PARAMS),
            fastlrn.lrn_backward(x, np.ascontiguousarray(dy), region=region, **PARAMS))
        np.testing.assert_array_equal(
            fastlrn.lrn_backward(xb, dy, region=region, **PARAMS),
            fastlrn.lrn_backward(np.ascontiguousarray(xb), np.ascontiguousarray(dy),
                                 region=region, **PARAMS))


def test_self_overlapping_input(rng):
    # A sliding-window view: elements share memory, read-only; just an input.
    base = randn(rng, (40,), np.float64)
    x = sliding_window_view(base, 7)[None]          # (1, 34, 7)
    for region, channel_axis in (("across", 1), ("across", -1), ("within", 1)):
        params = dict(PARAMS, region=region, channel_axis=channel_axis)
        np.testing.assert_array_equal(fastlrn.lrn(x, **params),
                                      fastlrn.lrn(x.copy(), **params))


# ---------------------------------------------------------------- out that overlaps itself

def _writeable_zero_stride(shape, axis, dtype=np.float32):
    """A writeable view with stride 0 along ``axis`` (as_strided, not
    broadcast_to, which is read-only and already rejected as such)."""
    small = list(shape)
    small[axis] = 1
    base = np.zeros(small, dtype)
    strides = list(base.strides)
    strides[axis] = 0
    return base, as_strided(base, shape=shape, strides=strides)


SELF_OVERLAP_CASES = {
    # stride 0 along one axis: every element of that axis is one element
    "zero-stride-channels": lambda s: _writeable_zero_stride(s, 1),
    "zero-stride-last": lambda s: _writeable_zero_stride(s, 3),
    "zero-stride-batch": lambda s: _writeable_zero_stride(s, 0),
    # rows that overlap: stride of the row axis smaller than a row
    "overlapping-rows": lambda s: (
        lambda buf: (buf, as_strided(buf, shape=s, strides=(4 * 10, 4 * 5, 4 * 2, 4))))(
            np.zeros(200, np.float32)),
    # every element the same one
    "all-zero-strides": lambda s: (
        lambda buf: (buf, as_strided(buf, shape=s, strides=(0, 0, 0, 0))))(
            np.zeros(1, np.float32)),
}


@pytest.mark.parametrize("func", FUNCS)
@pytest.mark.parametrize("case", list(SELF_OVERLAP_CASES))
def test_out_overlapping_itself_is_rejected(rng, func, case):
    # Two results would land on one element, in an order set by the thread
    # schedule: a ValueError naming out, and nothing written.
    x = randn(rng, (2, 3, 4, 5), np.float32)
    buf, out = SELF_OVERLAP_CASES[case](x.shape)
    assert out.flags.writeable
    buf[...] = 7.0
    with pytest.raises(ValueError, match=r"\bout\b.*share memory") as excinfo:
        call(func, x, out=out, **PARAMS)
    assert str(out.strides) in str(excinfo.value)
    assert (buf == 7.0).all(), "out was written before the error"


def test_zero_stride_out_on_length_one_axis_is_fine(rng):
    # A zero stride on an axis of length 1 (or an empty out) overlaps nothing.
    x = randn(rng, (2, 1, 4, 5), np.float32)
    base, out = _writeable_zero_stride(x.shape, 1)
    assert fastlrn.lrn(x, out=out, **PARAMS) is out
    np.testing.assert_array_equal(out, fastlrn.lrn(x, **PARAMS))
    empty = as_strided(np.zeros(1, np.float32), shape=(0, 3, 4, 5), strides=(0, 0, 0, 0))
    assert fastlrn.lrn(np.zeros((0, 3, 4, 5), np.float32), out=empty) is empty


def test_interleaved_out_is_computed_or_rejected(rng):
    # as_strided axes that interleave without overlapping (offsets
    # 8i + 12j, i < 3, j < 2, are distinct). The library's overlap test is
    # conservative: it may refuse this with a ValueError, but if it accepts
    # it the result must be right.
    x = randn(rng, (3, 2), np.float32)
    buf = np.full(12, np.nan, np.float32)
    out = as_strided(buf, shape=(3, 2), strides=(8, 12))
    offsets = {8 * i + 12 * j for i in range(3) for j in range(2)}
    assert len(offsets) == 6
    try:
        fastlrn.lrn(x, out=out, **PARAMS)
    except ValueError as e:
        assert "out" in str(e)
        return
    np.testing.assert_array_equal(out, fastlrn.lrn(x, **PARAMS))


# ---------------------------------------------------------------- out aliasing x

def _aliases(rng):
    """(x, out) pairs: out uses x's memory but is not x (other strides or
    offset), so some elements of out are different elements of x."""
    buf = randn(rng, (2, 6, 6, 6), np.float32)
    big = randn(rng, (2, 6, 7, 6), np.float32)
    return {
        "reversed-channels": (buf, buf[:, ::-1]),
        "reversed-all": (buf, buf[::-1, ::-1, ::-1, ::-1]),
        "transposed-spatial": (buf, buf.transpose(0, 1, 3, 2)),
        "shifted-row": (big[:, :, :6], big[:, :, 1:]),
    }


@pytest.mark.parametrize("func", FUNCS)
@pytest.mark.parametrize("view", list(_aliases(np.random.default_rng(0))))
def test_out_aliasing_x_differently_is_rejected(rng, func, view):
    # Partial overlap in SPEC section 2's sense: a ValueError, x untouched.
    x, out = _aliases(rng)[view]
    before = x.copy()
    with pytest.raises(ValueError, match="overlap"):
        call(func, x, out=out, **PARAMS)
    np.testing.assert_array_equal(x, before)


@pytest.mark.parametrize("func", FUNCS)
def test_out_interleaved_with_x_is_allowed(rng, func):
    # x and out are the even and odd elements of one buffer: they share a
    # buffer (np.may_share_memory) but no element, so this is fine.
    big = randn(rng, (2, 6, 5, 12), np.float32)
    x, out = big[..., 0::2], big[..., 1::2]
    assert np.may_share_memory(x, out) and not np.shares_memory(x, out)
    before = x.copy()
    assert call(func, x, out=out, **PARAMS) is out
    np.testing.assert_array_equal(out, call(func, before, **PARAMS))
    np.testing.assert_array_equal(x, before)


def test_out_same_memory_as_cast_input(rng):
    # x is int16 (computed in float32) and out a float32 array starting at
    # the same address with x's shape but wider elements: they overlap
    # partially, so this is refused even though x is converted to a copy
    # before anything is written.
    shape = (2, 5, 4, 4)
    raw = np.zeros(int(np.prod(shape)) * 4, np.uint8)
    x = raw[: raw.size // 2].view(np.int16).reshape(shape)
    x[...] = rng.integers(-50, 50, shape)
    out = raw.view(np.float32).reshape(shape)
    before = x.copy()
    with pytest.raises(ValueError, match="overlap"):
        fastlrn.lrn(x, out=out, **PARAMS)
    np.testing.assert_array_equal(x, before)


@pytest.mark.parametrize("region, channel_axis", REGIONS)
def test_out_same_bytes_as_byte_swapped_input(rng, region, channel_axis):
    # x is a byte-swapped view of out's own bytes: same address, shape and
    # strides, so in place, with a conversion. x must be read (converted)
    # before out is written; the result is that of the converted copy.
    out = np.zeros((2, 6, 5, 4), np.float32)
    x = out.view(out.dtype.newbyteorder())
    x[...] = randn(rng, x.shape, np.float32, scale=2.0)
    params = dict(PARAMS, region=region, channel_axis=channel_axis)
    want = fastlrn.lrn(x.astype(np.float32), **params)
    assert fastlrn.lrn(x, out=out, **params) is out
    np.testing.assert_array_equal(out, want)


# ---------------------------------------------------------------- odd but valid out

def _out_views(shape, dtype):
    """(name, holder, view): views of shape into a NaN-filled holder."""
    n0, n1, n2, n3 = shape
    views = {}
    h = np.full((n0, n1, n2, n3), np.nan, dtype)
    views["negative-last"] = (h, h[..., ::-1])
    h = np.full((n0, n1, n2, n3), np.nan, dtype)
    views["negative-all"] = (h, h[::-1, ::-1, ::-1, ::-1])
    h = np.full((n3, n2, n1, n0), np.nan, dtype)
    views["fortran"] = (h, h.T)
    h = np.full((n0, n2, n3, n1), np.nan, dtype)
    views["channels-last"] = (h, h.transpose(0, 3, 1, 2))
    h = np.full((n0, n3, n1, n2), np.nan, dtype)
    views["permuted-negative"] = (h, h.transpose(0, 2, 3, 1)[:, ::-1, :, ::-1])
    h = np.full((2 * n0, 3 * n1, n2, 2 * n3), np.nan, dtype)
    views["strided-gaps"] = (h, h[::2, 1::3, :, ::-2])
    # Strides that are not multiples of the item size: a packed record's field.
    rec = np.zeros(shape, dtype=np.dtype([("tag", "u1"), ("v", dtype)], align=False))
    views["packed-field"] = (None, rec["v"])
    return views


@pytest.mark.parametrize("func", FUNCS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("region, channel_axis", REGIONS)
@pytest.mark.parametrize("name", list(_out_views((1, 1, 1, 1), np.float32)))
def test_out_with_odd_layout(rng, func, dtype, region, channel_axis, name):
    x = randn(rng, (2, 7, 5, 6), dtype, scale=2.0)
    holder, out = _out_views(x.shape, dtype)[name]
    params = dict(PARAMS, region=region, channel_axis=channel_axis)
    want = call(func, x, **params)
    assert call(func, x, out=out, **params) is out
    np.testing.assert_array_equal(out, want)
    if holder is not None:
        # Exactly the view's elements were written, nothing around them.
        written = np.isfinite(holder).sum()
        assert written == x.size, f"{written} elements written, expected {x.size}"
    # In place on the same odd layout equals out of place on that layout
    # (SPEC section 2). Not necessarily `want`: within-channel float64 sums
    # the box axis by axis, innermost axis first, so x's own layout may
    # change the last bit (within SPEC section 4's bound).
    out[...] = x
    want_here = call(func, out, **params)
    assert call(func, out, out=out, **params) is out
    np.testing.assert_array_equal(out, want_here)
