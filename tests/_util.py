"""Helpers shared by the tests: ulp error, oracle calls, parameter plumbing."""

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
