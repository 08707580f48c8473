"""Helpers shared by the tests: ulp error, oracle calls, parameter plumbing."""

import itertools

import numpy as np

from fastlrn import reference

# SPEC section 4: float32 within 4 ulp of the correctly rounded reference,
# float64 within 8 ulp. These are the contract's numbers, not fitted ones.
MAX_ULP = {np.dtype(np.float32): 4, np.dtype(np.float64): 8}

LONGDOUBLE_IS_EXTENDED = reference.LONGDOUBLE_IS_EXTENDED
needs_extended = (
    "np.longdouble is float64 on this platform, so reference.lrn_exact "
    "cannot evaluate squares that overflow/underflow float64"
)


def spatial_axes(ndim, channel_axis):
    """The within-channel window axes: all but axis 0 and the channel axis."""
    c = channel_axis % ndim
    return tuple(ax for ax in range(ndim) if ax not in (0, c))


def effective_alpha(alpha, size, average, region, ndim, channel_axis):
    """SPEC section 2: a = alpha, or alpha / size**d with average=True."""
    if not average:
        return alpha
    d = 1 if region == "across" else len(spatial_axes(ndim, channel_axis))
    return alpha / size**d


def expected(x, size=5, alpha=1e-4, beta=0.75, k=2.0, *, region="across",
             channel_axis=1, average=False, exact=False):
    """The oracle for ``fastlrn.lrn`` with its public parameters.

    ``exact=True`` evaluates in ``np.longdouble`` (reference.lrn_exact); the
    caller must skip where ``LONGDOUBLE_IS_EXTENDED`` is false if it relies on
    the extra exponent range.
    """
    x = np.asarray(x)
    lo, hi = reference.window(size)
    a = effective_alpha(alpha, size, average, region, x.ndim, channel_axis)
    fn = reference.lrn_exact if exact else reference.lrn
    return fn(x, lo, hi, a, beta, k, region=region, channel_axis=channel_axis)


def oracle(x, result_dtype, **params):
    """The best available oracle for a result of ``result_dtype``.

    float32 results: the float64 reference (SPEC section 4 measures float32
    against the correctly rounded float64 value). float64 results: the
    longdouble reference where longdouble is extended, else float64 (which
    is then itself only good to a few float64 ulp).
    """
    exact = np.dtype(result_dtype) == np.float64 and LONGDOUBLE_IS_EXTENDED
    return expected(x, exact=exact, **params)


def _ordered(a):
    """Map floats to integers whose order and spacing are those of the floats.

    Consecutive representable values map to consecutive integers, +0 and -0
    both map to 0, and subnormals are counted in subnormal steps.
    """
    itype = {4: np.int32, 8: np.int64}[a.dtype.itemsize]
    bits = a.view(itype).astype(np.int64)
    magnitude = bits & np.int64(np.iinfo(itype).max)
    return np.where(bits < 0, -magnitude, magnitude)


def ulp_error(result, exact):
    """Error of ``result`` in ulps of its own dtype, elementwise (float64 array).

    ``exact`` (float64 or longdouble) is first rounded to the dtype of
    ``result``; the error is the number of representable values of that
    dtype between the two (so it is measured in the ulp at the exact value,
    including the subnormal spacing for tiny values, and +0 / -0 are 0
    apart). Both NaN: 0. Equal infinities: 0. A NaN or infinity on one side
    only: inf. An exact value that rounds to infinity must be matched by
    that infinity.
    """
    result = np.asarray(result)
    dt = result.dtype
    with np.errstate(over="ignore", under="ignore"):
        exact_r = np.asarray(exact).astype(dt)
    err = np.zeros(result.shape, dtype=np.float64)
    both_nan = np.isnan(result) & np.isnan(exact_r)
    nonfinite = ~np.isfinite(result) | ~np.isfinite(exact_r)
    err[nonfinite] = np.inf
    err[both_nan | (nonfinite & (result == exact_r))] = 0.0
    fin = ~nonfinite
    a = _ordered(np.where(fin, result, 0).astype(dt))
    b = _ordered(np.where(fin, exact_r, 0).astype(dt))
    same_sign = (a >= 0) == (b >= 0)
    # Same sign: the int64 difference cannot overflow. Opposite signs: the
    # sum of magnitudes, as a float (huge anyway, its precision is moot).
    diff = np.where(same_sign, np.abs(a - np.where(same_sign, b, 0)), 0)
    far = np.abs(a).astype(np.float64) + np.abs(b).astype(np.float64)
    err[fin] = np.where(same_sign, diff.astype(np.float64), far)[fin]
    return err


def describe(**params):
    return ", ".join(f"{k}={v!r}" for k, v in params.items())


def assert_ulp(result, exact, max_ulp=None, **params):
    """Assert ``ulp_error(result, exact) <= max_ulp`` everywhere.

    ``max_ulp`` defaults to the SPEC bound for the result dtype. NaN
    positions must match exactly. The failure message prints every
    parameter, the number of failing elements and the worst one.
    """
    result = np.asarray(result)
    exact = np.asarray(exact)
    assert result.shape == exact.shape, (
        f"shape {result.shape} != expected {exact.shape}; {describe(**params)}"
    )
    if max_ulp is None:
        max_ulp = MAX_ULP[result.dtype]
    if result.size == 0:
        return
    with np.errstate(over="ignore", under="ignore"):
        exact_r = exact.astype(result.dtype)
    nan_mismatch = np.isnan(result) != np.isnan(exact_r)
    if nan_mismatch.any():
        idx = tuple(int(i) for i in np.argwhere(nan_mismatch)[0])
        raise AssertionError(
            f"NaN positions differ at {int(nan_mismatch.sum())} of "
            f"{result.size} elements; first at {idx}: result={result[idx]!r}, "
            f"expected={exact[idx]!r}; dtype={result.dtype}, shape="
            f"{result.shape}; {describe(**params)}"
        )
    err = ulp_error(result, exact)
    bad = err > max_ulp
    if bad.any():
        idx = np.unravel_index(int(np.argmax(err)), err.shape)
        idx = tuple(int(i) for i in idx)
        raise AssertionError(
            f"{int(bad.sum())} of {result.size} elements exceed {max_ulp} ulp; "
            f"worst {err[idx]:g} ulp at {idx}: result={result[idx]!r}, "
            f"expected={exact[idx]!r} (rounded {exact_r[idx]!r}); "
            f"dtype={result.dtype}, shape={result.shape}; {describe(**params)}"
        )


def assert_unmodified(x, x_copy):
    """The input must be bitwise unchanged (NaN payloads and -0 included)."""
    assert x.dtype == x_copy.dtype and x.shape == x_copy.shape
    a = np.ascontiguousarray(x).view(np.uint8)
    b = np.ascontiguousarray(x_copy).view(np.uint8)
    np.testing.assert_array_equal(a, b, err_msg="lrn modified its input")


def randn(rng, shape, dtype, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(dtype)


# ---------------------------------------------------------------- backward

# Issue 3 ("Done means"): the gradient's error, relative to the largest
# |reference| value, at most 4e-6 for float32 and 1e-12 for float64. A
# gradient is a difference of two terms, so an elementwise ulp bound cannot
# hold where they cancel; the bound is relative to the array's scale.
BACKWARD_REL = {np.dtype(np.float32): 4e-6, np.dtype(np.float64): 1e-12}

no_backward = "lrn_backward not built yet"


def _box_sum(v, lo, hi, axes):
    """out[p] = sum of v[p + d] for d in [-lo, hi] along every axis in axes."""
    total = np.zeros_like(v)
    ranges = [range(-min(lo, v.shape[ax]), min(hi, v.shape[ax]) + 1) for ax in axes]
    for offsets in itertools.product(*ranges):
        dst = [slice(None)] * v.ndim
        src = [slice(None)] * v.ndim
        for ax, d in zip(axes, offsets):
            n = v.shape[ax]
            if abs(d) >= n:
                break
            dst[ax] = slice(max(0, -d), n - max(0, d))
            src[ax] = slice(max(0, d), n + min(0, d))
        else:
            total[tuple(dst)] += v[tuple(src)]
    return total


def expected_backward(x, dy, size=5, alpha=1e-4, beta=0.75, k=2.0, *,
                      region="across", channel_axis=1, average=False,
                      dtype=np.float64, with_scale=False):
    """SPEC section 1's gradient, evaluated literally in ``dtype``.

    dx(q) = g(q) s(q)^-beta - 2 a beta x(q) sum_{p: q in W(p)} g(p) x(p) s(p)^(-beta-1)

    ``{p : q in W(p)}`` is the mirrored window [q - hi, q + lo]. Written
    here, independently of the library, so that the backward tests exist
    before ``fastlrn.reference`` has its gradient. ``with_scale=True`` also
    returns ``|first term| + |second term|`` elementwise: the size of what
    cancels, for error bounds.
    """
    x = np.asarray(x, dtype=dtype)
    g = np.asarray(dy, dtype=dtype)
    t = x.dtype.type
    lo, hi = reference.window(size)
    a = effective_alpha(alpha, size, average, region, x.ndim, channel_axis)
    c = channel_axis % x.ndim
    axes = (c,) if region == "across" else spatial_axes(x.ndim, channel_axis)
    with np.errstate(all="ignore"):
        s = t(k) + t(a) * _box_sum(x * x, lo, hi, axes)
        inner = g * x * s ** t(-beta - 1)
        mirrored = _box_sum(inner, hi, lo, axes)
        first = g * s ** t(-beta)
        second = t(2 * a * beta) * x * mirrored
        if with_scale:
            return first - second, np.abs(first) + np.abs(second)
        return first - second


def assert_backward_close(result, exact, scale=None, rel=None, **params):
    """max |result - exact| <= rel * max |scale| over the finite positions.

    ``scale`` defaults to ``exact``: issue 3's bound, relative to the largest
    gradient. Pass the ``|first| + |second|`` terms of expected_backward
    where the two terms may cancel everywhere (k = 0 and beta = 0.5 make
    y = sign(x) / sqrt(a), whose gradient is exactly 0; the rounding of the
    terms is then all there is). Non-finite positions (k = 0 and an all-zero
    window) must coincide.
    """
    result = np.asarray(result)
    assert result.shape == exact.shape, (result.shape, exact.shape)
    if rel is None:
        rel = BACKWARD_REL[result.dtype]
    if result.size == 0:
        return
    with np.errstate(over="ignore", under="ignore"):
        # Rounded to the result dtype first: an exact gradient beyond that
        # dtype's range is correctly returned as an infinity.
        exact_r = np.asarray(exact).astype(result.dtype).astype(np.float64)
    fin = np.isfinite(exact_r)
    mismatch = fin != np.isfinite(result)
    assert not mismatch.any(), (
        f"finite/non-finite positions differ at {int(mismatch.sum())} of "
        f"{result.size}; first at {tuple(np.argwhere(mismatch)[0])}; "
        f"{describe(**params)}")
    if not fin.any():
        return
    scale_r = np.abs(exact_r if scale is None else np.asarray(scale, np.float64))
    scale = float(np.max(scale_r[fin]))
    err = np.abs(result[fin].astype(np.float64) - exact_r[fin])
    worst = float(err.max())
    # The bound cannot be finer than the result dtype's own spacing at that
    # scale: for subnormal gradients (dy ~ 1e-41) rel * scale is below half
    # a float32 ulp there, so only exact rounding would meet it; one ulp at
    # the scale is allowed (at normal scales rel * scale is tens of ulps).
    tol = max(rel * scale, float(np.spacing(np.abs(result.dtype.type(scale)))))
    assert worst <= tol, (
        f"max error {worst:g} > {rel:g} * scale ({scale:g}); "
        f"dtype={result.dtype}, shape={result.shape}; {describe(**params)}")
