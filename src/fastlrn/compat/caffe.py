"""Caffe's ``LRN`` layer convention (``lrn_param``).

``norm_region: ACROSS_CHANNELS`` (the default)::

    scale = k + alpha / n * sum_{j=c-(n-1)/2}^{c+(n-1)/2} x[b, j, h, w] ** 2
    y = x * scale ** -beta

``norm_region: WITHIN_CHANNEL`` (a ``local_size x local_size`` square in
each channel)::

    y = x * (1 + alpha / n**2 * sum_{|i|,|j| <= (n-1)/2} x[b, c, h+i, w+j] ** 2) ** -beta

- Window: odd sizes only, symmetric, clipped at the borders.
- alpha is divided by n across channels and by ``n**2`` within a channel,
  the nominal size, also at the borders (within: Caffe's average pooling
  with padding ``(n-1)/2`` divides by ``n**2`` everywhere).
- **Within a channel ``k`` is not used**: Caffe builds WITHIN_CHANNEL from
  a square layer, an average pool and a power layer whose shift is fixed at
  1, so the bias is 1 whatever ``k`` says (documented Caffe CPU and GPU
  behaviour, reproduced here).
- Defaults ``local_size=5, alpha=1, beta=0.75, k=1``: alpha is not
  AlexNet's (Caffe's reference AlexNet, ``models/bvlc_alexnet``, sets
  ``local_size: 5, alpha: 0.0001, beta: 0.75`` and leaves ``k`` at 1).
- Layout: 4-D blobs (num, channels, height, width).
"""

from . import _common as C

__all__ = ["lrn", "lrn_backward"]

FRAMEWORK = "Caffe"

REGIONS = ("ACROSS_CHANNELS", "WITHIN_CHANNEL")

DEVIATIONS = """\
Known deviations of Caffe itself (not reproduced; fastlrn computes the
formulas above):

- Caffe's CPU layer (``CrossChannelForward_cpu``) and its GPU kernel form
  the across-channel sums as a running sum (add the entering channel,
  subtract the leaving one), which loses accuracy as the channel count grows
  and lets a large value leaving the window spoil the channels after it.
- Caffe computes in the blob's type (float or double); fastlrn also takes
  other real dtypes (computed in float32) and channels on another axis
  (``channel_axis``), but keeps Caffe's 4-D rule."""

if __doc__:  # None under python -OO
    __doc__ += "\n" + DEVIATIONS + "\n"


def _params(x, local_size, alpha, beta, k, norm_region, channel_axis):
    xa = C.as_input(x, "x")
    n = C.check_count("local_size", local_size)
    alpha = C.check_real("alpha", alpha)
    beta = C.check_real("beta", beta, minimum=0)
    k = C.check_real("k", k, minimum=0)
    norm_region = C.check_choice("norm_region", norm_region, REGIONS)
    C.check_odd(FRAMEWORK, "local_size", n)
    if xa.ndim != 4:
        raise C.rule_error(FRAMEWORK, "LRN input blobs have 4 axes (num, channels, height, "
                           "width)", "x", "4-D", f"{xa.ndim} dimensions")
    h = (n - 1) // 2
    if norm_region == "ACROSS_CHANNELS":
        ax, _ = C.window_axes(xa, "x", "across", channel_axis)
        # [c - (n-1)/2, c + (n-1)/2]; alpha / n.
        return xa, (h, h, C.per_volume(alpha, n, 1), beta, k, "across", ax)
    ax, spatial = C.window_axes(xa, "x", "within", channel_axis)
    # The same square along each spatial axis; alpha / n**2 (n**d); k replaced by 1.
    return xa, (h, h, C.per_volume(alpha, n, len(spatial)), beta, 1.0, "within", ax)


@C.docfiller(framework=FRAMEWORK, default_axis="1", deviations=DEVIATIONS)
def lrn(x, local_size=5, alpha=1.0, beta=0.75, k=1.0, norm_region="ACROSS_CHANNELS", *,
        channel_axis=1, out=None, num_threads=None):
    """Caffe's ``LRN`` layer, forward, on NumPy arrays.

    Across channels: ``y = x * (k + alpha / n * sum x_j**2) ** -beta`` over
    ``[c - (n-1)/2, c + (n-1)/2]``. Within a channel: ``y = x * (1 + alpha /
    n**2 * sum x**2) ** -beta`` over the ``n x n`` square around each pixel
    (``k`` is ignored, as Caffe does). Windows are clipped at the borders;
    alpha's divisor is the nominal ``n`` or ``n**2`` everywhere.

    Parameters
    ----------
    x : array_like, shape (N, C, H, W)
        A 4-D blob (Caffe's rule), channels on axis 1.
    local_size : int, default 5
        Odd (Caffe's rule): channels in the window across, side of the
        square within.
    alpha : float, default 1.0
        Divided by ``local_size`` (across) or ``local_size**2`` (within).
    beta : float, default 0.75
        Exponent, ``>= 0``.
    k : float, default 1.0
        Bias across channels, ``>= 0``. Not used within a channel, where
        Caffe's bias is always 1.
    norm_region : {"ACROSS_CHANNELS", "WITHIN_CHANNEL"}
        Caffe's ``NormRegion`` enum, spelled as in a prototxt.
    %(extras)s
        With a `channel_axis` other than 1 the two remaining non-batch axes
        are the spatial ones.

    Returns
    -------
    %(returns)s

    Raises
    ------
    %(raises_common)s
        An even `local_size` or an input that is not 4-D (Caffe's rules); an
        unknown `norm_region`.

    Notes
    -----
    %(deviations)s

    Examples
    --------
    >>> import numpy as np
    >>> from fastlrn.compat import caffe
    >>> x = np.array([1.0, 2.0, 3.0, 4.0]).reshape(1, 4, 1, 1)
    >>> caffe.lrn(x, local_size=3, alpha=3.0, beta=1.0, k=1.0).ravel()
    array([0.16666667, 0.13333333, 0.1       , 0.15384615])
    """
    xa, (lo, hi, a, beta, k, region, ax) = _params(x, local_size, alpha, beta, k,
                                                   norm_region, channel_axis)
    return C.forward(xa, lo, hi, a, beta, k, region, ax, out, num_threads)


@C.docfiller(framework=FRAMEWORK, default_axis="1", deviations=DEVIATIONS)
def lrn_backward(x, dy, local_size=5, alpha=1.0, beta=0.75, k=1.0,
                 norm_region="ACROSS_CHANNELS", *, channel_axis=1, out=None,
                 num_threads=None):
    """Gradient of :func:`lrn` with respect to `x` (Caffe's ``Backward_cpu``).

    ``dx_q = dy_q * s_q**-beta - 2 * a * beta * x_q * sum_p dy_p * x_p * s_p**(-beta-1)``
    with the windows, ``a`` and bias of :func:`lrn` (windows are symmetric,
    so the sum runs over the same window around q).

    Parameters
    ----------
    x : array_like, shape (N, C, H, W)
        The forward input.
    %(dy)s
    local_size, alpha, beta, k, norm_region
        As for :func:`lrn`.
    %(extras)s

    Returns
    -------
    %(returns_backward)s

    Raises
    ------
    %(raises_common)s
        An even `local_size` or an input that is not 4-D (Caffe's rules); an
        unknown `norm_region`; `dy` of another shape.

    Examples
    --------
    >>> import numpy as np
    >>> from fastlrn.compat import caffe
    >>> x = np.array([1.0, 2.0, 3.0, 4.0]).reshape(1, 4, 1, 1)
    >>> dy = np.ones_like(x)                      # the gradient of sum(y)
    >>> caffe.lrn_backward(x, dy, local_size=3, alpha=3.0, beta=1.0, k=1.0).ravel()
    array([ 0.09333333, -0.09333333, -0.07550296, -0.03554241])
    """
    xa, (lo, hi, a, beta, k, region, ax) = _params(x, local_size, alpha, beta, k,
                                                   norm_region, channel_axis)
    return C.backward(xa, dy, lo, hi, a, beta, k, region, ax, out, num_threads)
