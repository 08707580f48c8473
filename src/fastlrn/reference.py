"""Plain NumPy reference implementation of LRN: the oracle the tests trust.

Slow and obvious on purpose: no running sums, no separable box, no special
cases. Every window sum is a literal sum of shifted copies of ``x**2``.

For an input ``x``, a window ``W(p)`` around each position ``p``, the
effective alpha ``a``, ``beta`` and ``k``::

    s(p) = k + a * sum_{q in W(p)} x(q)**2
    y(p) = x(p) * s(p)**(-beta)

The window along one axis, for position ``i``, is ``[i - lo, i + hi]``,
clipped to the axis; positions outside contribute nothing and do not change
``a``. ``region="across"`` uses the channel axis only; ``region="within"``
uses the box that is ``[i - lo, i + hi]`` along every spatial axis (all axes
except axis 0 and the channel axis).

Unlike :func:`fastlrn.lrn`, these functions take the window bounds and the
effective alpha explicitly; see :func:`window`.
"""

import itertools

import numpy as np

__all__ = ["window", "lrn", "lrn_backward", "lrn_exact"]


def window(size):
    """Return ``(lo, hi)`` for a window of ``size`` elements.

    The window of position ``i`` is ``[i - lo, i + hi]``: ``lo = size // 2``
    elements before the position and ``hi = (size - 1) // 2`` after it. Odd
    sizes are symmetric, even sizes extend one more element before (PyTorch's
    placement, and :func:`fastlrn.lrn`'s).

    Parameters
    ----------
    size : int
        The window length, ``>= 1``.

    Returns
    -------
    lo, hi : int
        Elements before and after the position.

    Examples
    --------
    >>> from fastlrn import reference
    >>> reference.window(5), reference.window(4), reference.window(1)
    ((2, 2), (2, 1), (0, 0))
    """
    return size // 2, (size - 1) // 2


def _shifted(a, offsets):
    """Return ``b`` with ``b[i] = a[i + d]`` (``d = offsets[axis]``), 0 outside."""
    out = np.zeros_like(a)
    dst = [slice(None)] * a.ndim
    src = [slice(None)] * a.ndim
    for axis, d in offsets.items():
        n = a.shape[axis]
        if abs(d) >= n:
            return out  # the whole shifted copy lies outside the axis
        if d >= 0:
            dst[axis], src[axis] = slice(0, n - d), slice(d, n)
        else:
            dst[axis], src[axis] = slice(-d, n), slice(0, n + d)
    out[tuple(dst)] = a[tuple(src)]
    return out


def _window_axes(ndim, region, channel_axis):
    if not -ndim <= channel_axis < ndim:
        raise ValueError(f"channel_axis {channel_axis} out of range for ndim {ndim}")
    channel_axis %= ndim
    if region == "across":
        return (channel_axis,)
    if region == "within":
        return tuple(ax for ax in range(ndim) if ax not in (0, channel_axis))
    raise ValueError(f"region must be 'across' or 'within', got {region!r}")


def lrn(x, lo, hi, a, beta, k, *, region="across", channel_axis=1,
        dtype=np.float64):
    """LRN forward, evaluated in ``dtype`` (float64 by default).

    Parameters
    ----------
    x : array_like, shape (N, ..., C, ...)
        Input; converted with ``np.asarray(x, dtype=dtype)``.
    lo, hi : int
        The window along each windowed axis is ``[i - lo, i + hi]``, clipped
        to the axis (:func:`window` gives them for a size).
    a : float
        Effective alpha (already divided by ``size**d`` if averaging).
    beta, k : float
        Exponent and bias.
    region : {"across", "within"}
        Window over the channel axis, or over every spatial axis (all axes
        but axis 0 and `channel_axis`).
    channel_axis : int
        The channel axis; negative counts from the end.
    dtype : dtype
        Working and result dtype: ``np.float64`` or ``np.longdouble``.

    Returns
    -------
    ndarray of ``dtype``, the shape of ``x``
        ``x * (k + a * sum_{W} x**2) ** (-beta)``.

    Raises
    ------
    ValueError
        `channel_axis` out of range, or an unknown `region`.

    See Also
    --------
    fastlrn.lrn : The fast implementation, with the public parameters.

    Examples
    --------
    >>> import numpy as np
    >>> from fastlrn import reference
    >>> x = np.array([[1.0, 2.0, 3.0, 4.0]])     # (N, C) = (1, 4)
    >>> lo, hi = reference.window(3)
    >>> reference.lrn(x, lo, hi, 1.0, 1.0, 1.0)   # x / (1 + sum of 3 squares)
    array([[0.16666667, 0.13333333, 0.1       , 0.15384615]])
    """
    x = np.asarray(x, dtype=dtype)
    t = x.dtype.type
    axes = _window_axes(x.ndim, region, channel_axis)
    with np.errstate(all="ignore"):  # inf/nan/0**-beta are part of the answer
        sq = x * x
        total = np.zeros_like(sq)
        # Offsets of n or more along an axis of length n reach nothing.
        ranges = [range(-min(lo, x.shape[ax]), min(hi, x.shape[ax]) + 1)
                  for ax in axes]
        for offsets in itertools.product(*ranges):
            total += _shifted(sq, dict(zip(axes, offsets)))
        s = t(k) + t(a) * total
        return x * s ** t(-beta)


def _box_sum(v, lo, hi, axes):
    """Sum of v over [i - lo, i + hi] along every axis in `axes` (clipped), obviously."""
    total = np.zeros_like(v)
    ranges = [range(-min(lo, v.shape[ax]), min(hi, v.shape[ax]) + 1) for ax in axes]
    for offsets in itertools.product(*ranges):
        total += _shifted(v, dict(zip(axes, offsets)))
    return total


def lrn_backward(x, dy, lo, hi, a, beta, k, *, region="across", channel_axis=1,
                 dtype=np.float64):
    """The gradient dL/dx of LRN, evaluated in ``dtype`` (float64 by default).

    With ``s(p) = k + a * sum_{q in W(p)} x(q)**2`` and ``g = dy``::

        dx(q) = g(q) s(q)**-beta
                - 2 a beta x(q) * sum_{p : q in W(p)} g(p) x(p) s(p)**(-beta-1)

    ``{p : q in W(p)}`` is the mirrored window ``[q - hi, q + lo]`` along
    each windowed axis.

    Parameters
    ----------
    x : array_like
        The forward input.
    dy : array_like, the shape of `x`
        The upstream gradient dL/dy.
    lo, hi, a, beta, k, region, channel_axis, dtype
        As for :func:`lrn`.

    Returns
    -------
    ndarray of ``dtype``, the shape of ``x``
        dL/dx.

    Raises
    ------
    ValueError
        `channel_axis` out of range, or an unknown `region`.

    See Also
    --------
    fastlrn.lrn_backward : The fast implementation.

    Examples
    --------
    >>> import numpy as np
    >>> from fastlrn import reference
    >>> x = np.array([[1.0, 2.0, 3.0, 4.0]])
    >>> reference.lrn_backward(x, np.ones_like(x), 1, 1, 1.0, 1.0, 1.0)
    array([[ 0.09333333, -0.09333333, -0.07550296, -0.03554241]])
    """
    x = np.asarray(x, dtype=dtype)
    g = np.asarray(dy, dtype=dtype)
    t = x.dtype.type
    axes = _window_axes(x.ndim, region, channel_axis)
    with np.errstate(all="ignore"):
        s = t(k) + t(a) * _box_sum(x * x, lo, hi, axes)
        p = s ** t(-beta)
        w = g * x * p / s
        return g * p - t(2) * t(a) * t(beta) * x * _box_sum(w, hi, lo, axes)


LONGDOUBLE_IS_EXTENDED = (
    np.finfo(np.longdouble).maxexp > np.finfo(np.float64).maxexp
)
"""True where ``np.longdouble`` has a wider exponent range than float64.

On x86-64 Linux it is the 80-bit x87 format (64-bit significand, 15-bit
exponent). On MSVC and on aarch64 macOS ``longdouble`` is float64, and
:func:`lrn_exact` is then no better than :func:`lrn`; tests that need it
must skip there.
"""


def lrn_exact(x, lo, hi, a, beta, k, *, region="across", channel_axis=1):
    """:func:`lrn` evaluated in ``np.longdouble``; returns ``np.longdouble``.

    Where ``longdouble`` is the x87 extended format (see
    `LONGDOUBLE_IS_EXTENDED`) the squares and sums of any float64 values
    neither overflow nor underflow, and the 64-bit significand makes the
    result accurate to far below one float64 ulp: an "exact" oracle for
    float64 inputs, including those whose squares overflow (``|x| > ~1e154``)
    or underflow (``|x| < ~1e-162``) in float64. Elsewhere it equals
    :func:`lrn`.

    Parameters
    ----------
    x : array_like
        Input.
    lo, hi, a, beta, k, region, channel_axis
        As for :func:`lrn`.

    Returns
    -------
    ndarray of ``np.longdouble``, the shape of ``x``

    Raises
    ------
    ValueError
        `channel_axis` out of range, or an unknown `region`.

    Examples
    --------
    >>> import numpy as np
    >>> from fastlrn import reference
    >>> x = np.array([[1e200, 1e200]])          # the squares overflow float64
    >>> reference.lrn(x, 1, 0, 1.0, 0.5, 0.0)   # float64: s = inf, y = 0
    array([[0., 0.]])
    >>> y = reference.lrn_exact(x, 1, 0, 1.0, 0.5, 0.0)
    >>> y.dtype == np.longdouble
    True
    >>> [float(v) for v in y[0]]   # x87 long double (x86-64 Linux); elsewhere as lrn
    [1.0, 0.7071067811865476]
    """
    return lrn(x, lo, hi, a, beta, k, region=region,
               channel_axis=channel_axis, dtype=np.longdouble)
