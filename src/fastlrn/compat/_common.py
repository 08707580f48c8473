"""What the compat modules share: checks that name a framework's rule, the
docstring fragments, and the two calls into the core.

Each compat function

1. checks its input and its framework's parameters here (the messages follow
   ``fastlrn._validation``'s template, "<parameter> must be <expectation>,
   got <received>", and a framework rule says whose rule it is);
2. translates them into a window ``[i - lo, i + hi]``, an effective alpha
   ``a`` and a region, in the module itself, where the convention can be
   read in a few lines;
3. calls :func:`forward` or :func:`backward`, which hand everything to
   ``fastlrn._api``.

Nothing here looks at array values; no framework is imported.
"""

import operator
import re

import numpy as np

from .. import _validation as V
from .._api import _forward

# ---------------------------------------------------------------- checks

check_real = V.check_real  # alpha, beta, k: finite reals, named in the message


def check_count(name, value, minimum=1):
    """An integer window parameter (size, radius) ``>= minimum``.

    The rules of ``fastlrn.lrn``'s ``size``: any integer type, not bool,
    not float.
    """
    expected = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
    if isinstance(value, (bool, np.bool_)):
        raise V._fail(TypeError, name, expected, value)
    try:
        n = operator.index(value)
    except TypeError:
        raise V._fail(TypeError, name, expected, value) from None
    if n < minimum:
        raise V._fail(ValueError, name, expected, n)
    return n


def rule_error(framework, rule, name, expected, got):
    """A ``ValueError`` for something the framework itself refuses.

    ``got`` is the text that describes what was received.
    """
    return ValueError(f"{name} must be {expected} ({framework} rule: {rule}), got {got}")


def check_odd(framework, name, n):
    """Caffe and MXNet refuse even window sizes."""
    if n % 2 == 0:
        raise rule_error(framework, f"its LRN supports only odd {name}", name, "odd", repr(n))
    return n


def check_choice(name, value, choices):
    """``value`` must be one of the strings ``choices`` (exact spelling)."""
    expected = " or ".join(repr(c) for c in choices)
    if not isinstance(value, str):
        raise V._fail(TypeError, name, expected, value)
    if value not in choices:
        raise V._fail(ValueError, name, expected, value)
    return value


def as_input(x, name):
    """``x`` as an ndarray (no copy where possible), checked for a real dtype."""
    xa = V.as_array(x, name)
    V.compute_dtype(xa.dtype, name)
    return xa


def window_axes(x, name, region, channel_axis):
    """The normalised channel axis and the spatial axes of ``x``.

    fastlrn's own requirements: across channels needs ``ndim >= 2``; within
    a channel needs at least one spatial axis (an axis other than axis 0 and
    the channel axis).
    """
    ndim = x.ndim
    if ndim < 2:
        raise ValueError(f"{name} must have at least 2 dimensions (batch and channels), "
                         f"got {ndim}")
    ax = V.check_axis(channel_axis, ndim)
    spatial = tuple(i for i in range(ndim) if i not in (0, ax))
    if region == "within" and not spatial:
        raise ValueError(
            f"{name} must have a spatial axis (an axis other than axis 0 and "
            f"channel_axis) for a window within the channel, got {ndim} dimensions "
            f"with channel_axis={channel_axis}")
    return ax, spatial


def per_volume(alpha, n, d):
    """``alpha / n**d``: alpha scaled by the nominal window (n per axis, d axes)."""
    taps = n ** d
    return alpha / taps if taps < 2 ** 53 else alpha / float(n) ** d


# ---------------------------------------------------------------- core calls


def forward(x, lo, hi, a, beta, k, region, channel_axis, out, num_threads):
    return _forward(x, lo, hi, a, beta, k, region, channel_axis, out, num_threads)


def backward(x, dy, lo, hi, a, beta, k, region, channel_axis, out, num_threads):
    # Imported here: the compat modules load whether or not the core has it.
    # The core checks dy (shape, dtype) as lrn_backward does.
    from .._api import _backward
    return _backward(x, dy, lo, hi, a, beta, k, region, channel_axis, out, num_threads)


# ---------------------------------------------------------------- docstrings

DOCS = {
    "extras": """\
channel_axis : int, default %(default_axis)s
    fastlrn extension, not a parameter of %(framework)s: the channel
    axis, any valid axis (negative counts from the end).
out : ndarray, optional
    fastlrn extension: written and returned; the result's shape and dtype.
    May be the input itself (the result equals the out-of-place one).
num_threads : int, optional
    fastlrn extension: ``None`` uses OpenMP's current default
    (``OMP_NUM_THREADS``, threadpoolctl); ``n > 0`` n threads; ``-1`` all
    cores, ``-2`` all but one. Results are bit-identical for every count.""",
    "dy": """\
dy : array_like
    Upstream gradient ``dL/dy``, the shape of the input; cast like it.""",
    "returns": """\
y : ndarray
    The input's shape. float32 and float64 inputs keep their dtype; other
    real dtypes (bool, integers, float16) compute in and return
    ``np.result_type(dtype, np.float32)``.""",
    "returns_backward": """\
dx : ndarray
    ``dL/dx``, the input's shape, dtype as for the forward result.""",
    "raises_common": """\
TypeError
    A parameter of the wrong type (sizes must be integers, not bool or
    float); a complex, object, string or datetime input; `out` of the wrong
    type or dtype.
ValueError
    A parameter out of range (non-finite alpha, beta or bias, negative beta
    or bias, a size below its minimum, an invalid `channel_axis`,
    ``num_threads=0``), too few dimensions, or `out` of the wrong shape,
    read-only or partially overlapping the input.""",
}


def docfiller(**extra):
    """Fill ``%(name)s`` placeholders in a docstring.

    A placeholder alone on its line takes a (multi-line) fragment, indented
    to the placeholder's column, so fragments are written flush left once
    and used in every module (scipy.ndimage's ``docfiller`` idea); one
    inside a line takes a short value. ``extra`` supplies per-module values,
    which may also appear inside fragments. Other ``%`` signs are left alone.
    """
    values = dict(DOCS, **extra)

    def inline(text):
        return re.sub(r"%\((\w+)\)s", lambda m: values[m.group(1)], text)

    def block(m):
        indent, body = m.group(1), inline(values[m.group(2)])
        return "\n".join(indent + ln if ln else ln for ln in body.split("\n"))

    def decorate(f):
        if f.__doc__ is None:  # python -OO
            return f
        text = re.sub(r"(?m)^([ \t]*)%\((\w+)\)s[ \t]*$", block, f.__doc__)
        f.__doc__ = inline(text)
        return f

    return decorate
