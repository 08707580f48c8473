"""oneDNN's LRN primitive convention (``dnnl::lrn_forward``), which OpenVINO's
``LRN`` operation shares (axes ``[1]``: across; axes ``[2, 3]``: within).

``lrn_across_channels``::

    dst = src * (k + alpha / n * sum_{i=c-(n-1)//2}^{c+(n-1)//2} src[b, i, ...] ** 2) ** -beta

``lrn_within_channel`` (a box of side ``(n-1)//2 * 2 + 1`` along every
spatial axis, d spatial axes)::

    dst = src * (k + alpha / n**d * sum_box src[b, c, ...] ** 2) ** -beta

- Window: ``[i - (n-1)//2, i + (n-1)//2]`` along each window axis. Odd sizes
  give n taps; **even sizes give n - 1 taps** (symmetric, one short), yet
  alpha is still divided by n (or ``n**d``). So ``local_size=4`` sums the
  same 3 channels as ``local_size=3`` and divides by 4.
- alpha is divided by the nominal ``n`` (across) or ``n**d`` (within, d the
  number of spatial axes: ``n**2`` for images), also at the borders.
- Defaults: none; every parameter is required (the primitive descriptor has
  no defaults).
- Layout: channels on axis 1 (oneDNN's logical ``nc*`` order; its physical
  formats nchw, nhwc, blocked are all this logical order).
"""

from . import _common as C

__all__ = ["lrn", "lrn_backward"]

FRAMEWORK = "oneDNN"

ALGORITHMS = ("across_channels", "within_channel", "lrn_across_channels",
              "lrn_within_channel")

DEVIATIONS = """\
Known deviations of the implementations (not reproduced; fastlrn computes
the formulas above):

- OpenVINO's CPU plugin truncates the bias ``k`` to an integer before it
  reaches oneDNN (measured, OpenVINO 2026.4: ``bias=1.5`` gives the
  ``bias=1`` result). Its reference implementation and fastlrn use ``k`` as
  given.
- oneDNN's documentation writes the within-channel formula with
  ``alpha / n``; its implementation (and its benchdnn reference) divide by
  ``n**d``, as OpenVINO's ``alpha / size**len(axes)`` does. fastlrn follows
  the implementations.
- oneDNN accumulates in float32 and for ``beta = 0.75`` uses
  ``sqrtf(1 / (sqrtf(s) * s))``: a few ulp. OpenVINO's LRN also accepts
  other axis sets (e.g. ``[1, 2, 3]``, channels and space together), which
  fastlrn does not express."""

if __doc__:  # None under python -OO
    __doc__ += "\n" + DEVIATIONS + "\n"


def _params(src, local_size, alpha, beta, k, algorithm, channel_axis):
    x = C.as_input(src, "src")
    n = C.check_count("local_size", local_size)
    alpha = C.check_real("alpha", alpha)
    beta = C.check_real("beta", beta, minimum=0)
    k = C.check_real("k", k, minimum=0)
    algorithm = C.check_choice("algorithm", algorithm, ALGORITHMS)
    h = (n - 1) // 2  # even n: n - 1 taps
    if algorithm.endswith("across_channels"):
        ax, _ = C.window_axes(x, "src", "across", channel_axis)
        return x, (h, h, C.per_volume(alpha, n, 1), beta, k, "across", ax)
    ax, spatial = C.window_axes(x, "src", "within", channel_axis)
    return x, (h, h, C.per_volume(alpha, n, len(spatial)), beta, k, "within", ax)


@C.docfiller(framework=FRAMEWORK, default_axis="1", deviations=DEVIATIONS)
def lrn(src, local_size, alpha, beta, k, algorithm="across_channels", *, channel_axis=1,
        out=None, num_threads=None):
    """oneDNN's (and OpenVINO's) LRN, forward, on NumPy arrays.

    ``dst = src * (k + alpha / n**d * sum src**2) ** -beta`` with the window
    ``[i - (n-1)//2, i + (n-1)//2]`` along the channel axis (across, d = 1)
    or along every spatial axis (within, d = number of spatial axes),
    clipped at the borders.

    Parameters
    ----------
    src : array_like, shape (N, C, D1, ...)
        Channels on axis 1; any rank >= 2 across, >= 3 within.
    local_size : int
        Positive. Even sizes sum ``local_size - 1`` taps per axis but still
        divide alpha by ``local_size`` (per axis).
    alpha : float
        Divided by ``local_size`` (across) or ``local_size**d`` (within).
    beta : float
        Exponent, ``>= 0``.
    k : float
        Bias, ``>= 0``; used as given (OpenVINO's CPU plugin truncates it to
        an integer).
    algorithm : {"across_channels", "within_channel"}
        ``dnnl::algorithm::lrn_across_channels`` / ``lrn_within_channel``;
        the names with the ``lrn_`` prefix are accepted too.
    %(extras)s

    Returns
    -------
    %(returns)s

    Raises
    ------
    %(raises_common)s
        An unknown `algorithm`.

    Notes
    -----
    %(deviations)s

    Examples
    --------
    >>> import numpy as np
    >>> from fastlrn.compat import onednn
    >>> x = np.array([1.0, 2.0, 3.0, 4.0]).reshape(1, 4, 1, 1)
    >>> onednn.lrn(x, 2, alpha=1.0, beta=1.0, k=1.0).ravel()
    array([0.66666667, 0.66666667, 0.54545455, 0.44444444])
    """
    x, (lo, hi, a, beta, k, region, ax) = _params(src, local_size, alpha, beta, k,
                                                  algorithm, channel_axis)
    return C.forward(x, lo, hi, a, beta, k, region, ax, out, num_threads)


@C.docfiller(framework=FRAMEWORK, default_axis="1", deviations=DEVIATIONS)
def lrn_backward(src, dy, local_size, alpha, beta, k, algorithm="across_channels", *,
                 channel_axis=1, out=None, num_threads=None):
    """Gradient of :func:`lrn` with respect to `src` (``dnnl::lrn_backward``'s ``diff_src``).

    ``diff_src_q = dy_q * s_q**-beta - 2 * a * beta * src_q * sum_p dy_p * src_p * s_p**(-beta-1)``
    with ``a = alpha / n**d`` and the (symmetric) window of :func:`lrn`.

    Parameters
    ----------
    src : array_like, shape (N, C, D1, ...)
        The forward input.
    %(dy)s
    local_size, alpha, beta, k, algorithm
        As for :func:`lrn`.
    %(extras)s

    Returns
    -------
    %(returns_backward)s

    Raises
    ------
    %(raises_common)s
        An unknown `algorithm`; `dy` of another shape.

    Examples
    --------
    >>> import numpy as np
    >>> from fastlrn.compat import onednn
    >>> x = np.array([1.0, 2.0, 3.0, 4.0]).reshape(1, 4, 1, 1)
    >>> dy = np.ones_like(x)                      # the gradient of sum(y)
    >>> onednn.lrn_backward(x, dy, 2, alpha=1.0, beta=1.0, k=1.0).ravel()
    array([ 0.22222222, -0.11111111, -0.11570248, -0.08641975])
    """
    x, (lo, hi, a, beta, k, region, ax) = _params(src, local_size, alpha, beta, k,
                                                  algorithm, channel_axis)
    return C.backward(x, dy, lo, hi, a, beta, k, region, ax, out, num_threads)
