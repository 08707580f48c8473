"""Property tests (hypothesis): fastlrn against the reference on random
ranks, shapes, layouts, parameters and values.

Each example draws the structure (rank 2-5, a shape with 0- and 1-sized
axes, channel axis, region, size 1-12, alpha/beta/k over wide ranges, dtype,
a memory layout: permuted axes, steps of 2, negative steps) and a value
regime (a log-uniform magnitude range plus a few special values at random
places); the values themselves come from a NumPy generator seeded by the
example, so arrays are large enough to mean something and still cheap.

Bounds are SPEC section 4's (4 ulp float32, 8 ulp float64) for the forward
pass and issue 3's (relative to the largest |gradient|) for the backward.

Profiles (tests/conftest.py): ``ci`` (default, 60 deterministic examples a
test) and ``long`` (FASTLRN_HYPOTHESIS_PROFILE=long). Pass
``--hypothesis-show-statistics`` to see how many examples ran.
"""

import numpy as np
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

import fastlrn
from _util import (LONGDOUBLE_IS_EXTENDED, assert_backward_close, assert_ulp,
                   expected, expected_backward, needs_extended, no_backward,
                   spatial_axes)

DTYPES = [np.float32, np.float64]

requires_backward = pytest.mark.skipif(not hasattr(fastlrn, "lrn_backward"),
                                       reason=no_backward)
requires_extended = pytest.mark.skipif(not LONGDOUBLE_IS_EXTENDED,
                                       reason=needs_extended)

# Total elements per example at most this: keeps the longdouble reference
# (up to 12**3 shifted copies for a 3-D within box) at milliseconds.
MAX_ELEMENTS = 3000


def _log10_uniform(lo, hi):
    return st.floats(lo, hi, allow_nan=False).map(lambda e: 10.0 ** e)


@st.composite
def structures(draw):
    """Shape, region/axis, size, average and a memory layout."""
    rank = draw(st.integers(2, 5), label="rank")
    shape = draw(st.lists(st.integers(1, 7), min_size=rank, max_size=rank),
                 label="shape")
    while int(np.prod(shape)) > MAX_ELEMENTS:
        shape[int(np.argmax(shape))] -= 1
    # About one example in eight has an empty axis.
    if draw(st.integers(0, 7), label="make_empty") == 0:
        shape[draw(st.integers(0, rank - 1), label="empty_axis")] = 0
    channel_axis = draw(st.integers(-rank, rank - 1), label="channel_axis")
    region = draw(st.sampled_from(["across", "within"]), label="region")
    if region == "within" and not spatial_axes(rank, channel_axis):
        region = "across"
    return tuple(shape), region, channel_axis, draw(layouts(rank))


@st.composite
def layouts(draw, rank):
    return dict(
        # The axis order in memory (a permutation: C, F, NHWC-like, ...).
        order=draw(st.permutations(range(rank)), label="memory_order"),
        # A step per axis: 1, 2 (a strided view) or negative (reversed).
        steps=draw(st.lists(st.sampled_from([1, 1, 2, -1, -2]), min_size=rank,
                            max_size=rank), label="steps"),
    )


def lrn_params(draw, size_max=12):
    return dict(
        size=draw(st.integers(1, size_max), label="size"),
        # alpha >= 0 keeps s = k + a * sum free of cancellation (negative
        # alpha has its own conditioned test in test_forward.py).
        alpha=draw(st.one_of(st.just(0.0), st.sampled_from([1e-4, 1.0]),
                             _log10_uniform(-30, 30)), label="alpha"),
        beta=draw(st.one_of(st.sampled_from([0.0, 0.5, 0.75, 1.0, 2.0]),
                            st.floats(0, 5)), label="beta"),
        k=draw(st.one_of(st.sampled_from([0.0, 1.0, 2.0]),
                         _log10_uniform(-10, 10)), label="k"),
        average=draw(st.booleans(), label="average"),
    )


def special_values(dtype):
    fi = np.finfo(dtype)
    return [0.0, -0.0, 1.0, -1.0, float(fi.max), -float(fi.max),
            float(fi.smallest_subnormal), -float(fi.smallest_subnormal),
            float(fi.smallest_normal), float(fi.tiny) * 3, float(fi.max) / 7]


def draw_values(draw, shape, dtype, lo_exp, hi_exp, specials=None):
    """An array of ``shape``: log-uniform magnitudes in [10**lo_exp,
    10**hi_exp], random signs, some zeros, and up to 4 special values
    (``specials``, default: zeros, ones, extremes of the dtype)."""
    if specials is None:
        specials = special_values(dtype)
    lo = draw(st.floats(lo_exp, hi_exp), label="log10_min")
    hi = draw(st.floats(lo, hi_exp), label="log10_max")
    seed = draw(st.integers(0, 2**32 - 1), label="value_seed")
    rng = np.random.default_rng(seed)
    with np.errstate(over="ignore", under="ignore"):
        v = 10.0 ** rng.uniform(lo, hi, shape) * rng.choice([-1.0, 1.0], shape)
        v = v.astype(dtype)
    v[rng.random(shape) < 0.1] = 0.0
    n = v.size
    if n:
        for _ in range(draw(st.integers(0, 4), label="n_special")):
            pos = draw(st.integers(0, n - 1), label="special_at")
            v.flat[pos] = draw(st.sampled_from(specials), label="special")
    return v


def with_layout(values, layout):
    """A view with ``values``' contents, laid out in memory as ``layout`` says.

    The data live in a larger buffer in the permuted axis order; the view is
    taken with the drawn steps (negative: reversed) and transposed back.
    """
    order, steps = layout["order"], layout["steps"]
    shape = values.shape
    big = tuple(shape[ax] * abs(steps[ax]) for ax in order)
    buf = np.full(big, np.nan, dtype=values.dtype)
    view = buf[tuple(slice(None, None, steps[ax]) for ax in order)]
    view = view.transpose(np.argsort(order))
    view[...] = values
    assert view.shape == shape
    return view


def check_forward(x, **params):
    dtype = x.dtype
    before = x.copy()
    y = fastlrn.lrn(x, **params)
    np.testing.assert_array_equal(x, before, err_msg="lrn modified its input")
    assert y.dtype == dtype and y.shape == x.shape
    # The longdouble oracle where it is extended: even for float32 inputs,
    # float64 can overflow in s**-beta (k = 0, alpha 1e-30, subnormal
    # squares) where the float32 answer is finite.
    ref = expected(x, exact=LONGDOUBLE_IS_EXTENDED, **params)
    assert_ulp(y, ref, strides=x.strides, **params)


@given(data=st.data())
@pytest.mark.parametrize("dtype", DTYPES)
def test_forward_wide_range(data, dtype):
    """Magnitudes over the whole range whose squares float64 holds."""
    shape, region, channel_axis, layout = data.draw(structures())
    params = lrn_params(data.draw)
    if LONGDOUBLE_IS_EXTENDED:
        exps = (-45, 38) if dtype == np.float32 else (-150, 150)
    else:
        # Without the longdouble oracle the float64 reference must not
        # overflow in s**-beta (s down to 1e-30 * 1e-60 with beta 5).
        exps = (-12, 12)
        params["alpha"] = max(params["alpha"], 1e-6) if params["alpha"] else 0.0
        params["k"] = max(params["k"], 1e-6) if params["k"] else 0.0
    values = draw_values(data.draw, shape, dtype, *exps)
    x = with_layout(values, layout)
    note(f"x.strides={x.strides}")
    check_forward(x, region=region, channel_axis=channel_axis, **params)


@requires_extended
@given(data=st.data())
def test_forward_float64_squares_overflow_or_underflow(data):
    """float64 values whose squares overflow (|x| > 1.3e154) or underflow
    (|x| < 1.5e-162): only the longdouble oracle can judge these."""
    shape, region, channel_axis, layout = data.draw(structures())
    params = lrn_params(data.draw)
    regime = data.draw(st.sampled_from([(150, 308), (-323, -150), (-323, 308)]),
                       label="regime")
    values = draw_values(data.draw, shape, np.float64, *regime)
    x = with_layout(values, layout)
    check_forward(x, region=region, channel_axis=channel_axis, **params)


@given(data=st.data())
@pytest.mark.parametrize("dtype", DTYPES)
def test_forward_out_and_in_place(data, dtype):
    """out= of any layout, and in place, give the out-of-place result
    exactly (SPEC section 2 for in place; for out=, each element's formula
    depends on its own window sum only, whatever the layout of out)."""
    shape, region, channel_axis, layout = data.draw(structures())
    params = lrn_params(data.draw, size_max=6)
    params.update(region=region, channel_axis=channel_axis)
    x = with_layout(draw_values(data.draw, shape, dtype, -3, 3), layout)
    want = fastlrn.lrn(x, **params)
    out = with_layout(np.zeros(shape, dtype),
                      data.draw(layouts(x.ndim), label="out_layout"))
    note(f"x.strides={x.strides}, out.strides={out.strides}")
    assert fastlrn.lrn(x, out=out, **params) is out
    np.testing.assert_array_equal(out, want)
    assert fastlrn.lrn(x, out=x, **params) is x
    np.testing.assert_array_equal(x, want)


# ---------------------------------------------------------------- backward

# Signed zeros and ones: the extremes of the dtype belong to the backward
# pass's own hard-value tests; here the bound is relative to the array's
# scale, which one 1e308 would make meaningless.
BACKWARD_SPECIALS = [0.0, -0.0, 1.0, -1.0]

@requires_backward
@given(data=st.data())
@pytest.mark.parametrize("dtype", DTYPES)
def test_backward_against_reference(data, dtype):
    shape, region, channel_axis, layout = data.draw(structures())
    params = lrn_params(data.draw)
    # Issue 3's bound is relative to max |gradient|; magnitudes within a
    # few decades keep that scale meaningful for every element class.
    params["alpha"] = min(params["alpha"], 1e3)
    params["k"] = max(params["k"], 1e-3) if params["k"] else 0.0
    x = with_layout(draw_values(data.draw, shape, dtype, -4, 2, BACKWARD_SPECIALS),
                    layout)
    dy_layout = data.draw(layouts(x.ndim), label="dy_layout")
    dy = with_layout(draw_values(data.draw, shape, dtype, -2, 2, BACKWARD_SPECIALS),
                     dy_layout)
    params.update(region=region, channel_axis=channel_axis)
    before = (x.copy(), dy.copy())
    dx = fastlrn.lrn_backward(x, dy, **params)
    np.testing.assert_array_equal(x, before[0])
    np.testing.assert_array_equal(dy, before[1])
    assert dx.dtype == dtype and dx.shape == x.shape
    exact, scale = expected_backward(
        x, dy, **params, with_scale=True,
        dtype=np.longdouble if LONGDOUBLE_IS_EXTENDED else np.float64)
    assert_backward_close(dx, exact, scale, strides=(x.strides, dy.strides),
                          **params)


@requires_backward
@given(data=st.data())
@pytest.mark.parametrize("dtype", DTYPES)
def test_backward_out_and_thread_counts_agree(data, dtype):
    shape, region, channel_axis, layout = data.draw(structures())
    params = lrn_params(data.draw, size_max=6)
    params.update(region=region, channel_axis=channel_axis)
    x = with_layout(draw_values(data.draw, shape, dtype, -2, 2, BACKWARD_SPECIALS),
                    layout)
    dy = draw_values(data.draw, shape, dtype, -2, 2, BACKWARD_SPECIALS)
    want = fastlrn.lrn_backward(x, dy, num_threads=1, **params)
    np.testing.assert_array_equal(
        fastlrn.lrn_backward(x, dy, num_threads=2, **params), want)
    out = with_layout(np.zeros(shape, dtype), layout)
    assert fastlrn.lrn_backward(x, dy, out=out, **params) is out
    np.testing.assert_array_equal(out, want)
