"""TensorFlow's LRN convention: ``tf.nn.lrn`` (``tf.nn.local_response_normalization``).

::

    sqr_sum[b, h, w, c] = sum(input[b, h, w, c - r : c + r + 1] ** 2)
    output = input / (bias + alpha * sqr_sum) ** beta

- Window: ``depth_radius`` r gives the channels ``[c - r, c + r]``, clipped
  at the ends; the size is always ``2r + 1`` (odd), ``r = 0`` is allowed.
- alpha multiplies the *raw* sum (not divided by the size), as in the
  AlexNet paper.
- Defaults ``depth_radius=5, bias=1, alpha=1, beta=0.5``: not AlexNet's
  (``n=5, k=2, alpha=1e-4, beta=0.75`` is ``depth_radius=2, bias=2,
  alpha=1e-4, beta=0.75``).
- Layout: channels last (NHWC).
"""

from . import _common as C

__all__ = ["lrn", "lrn_backward"]

FRAMEWORK = "TensorFlow"

DEVIATIONS = """\
Known deviations of TensorFlow itself (not reproduced; fastlrn computes the
formula above):

- ``tf.nn.lrn`` takes only 4-D NHWC tensors of float16, bfloat16 or
  float32. fastlrn takes any rank >= 2 (channels on the last axis, or on
  ``channel_axis``) and float64.
- On the CPU, with more than 384 channels and ``beta`` 0.5 or 1, TensorFlow
  forms the window sums as a running sum (add the entering channel, subtract
  the leaving one): on normal data measured 20-53 ulp from the correctly
  rounded float32 result (385-500 channels, TF 2.21), and a large value
  leaving the window corrupts the windows after it (one channel of 1e10
  among ones, ``depth_radius=1, alpha=beta=bias=1``: 0.5 instead of 0.25
  downstream). Up to 384 channels, or other betas, it multiplies by a band
  matrix and is accurate."""

if __doc__:  # None under python -OO
    __doc__ += "\n" + DEVIATIONS + "\n"


def _params(input, depth_radius, bias, alpha, beta, channel_axis):
    x = C.as_input(input, "input")
    r = C.check_count("depth_radius", depth_radius, minimum=0)
    bias = C.check_real("bias", bias, minimum=0)
    alpha = C.check_real("alpha", alpha)
    beta = C.check_real("beta", beta, minimum=0)
    ax, _ = C.window_axes(x, "input", "across", channel_axis)
    # [c - r, c + r]; alpha multiplies the raw sum.
    return x, (r, r, alpha, beta, bias, "across", ax)


@C.docfiller(framework=FRAMEWORK, default_axis="-1", deviations=DEVIATIONS)
def lrn(input, depth_radius=5, bias=1.0, alpha=1.0, beta=0.5, *, channel_axis=-1,
        out=None, num_threads=None):
    """LRN across channels with TensorFlow's parameters (``tf.nn.lrn``).

    ``y = input / (bias + alpha * sum_{j=c-r}^{c+r} input_j**2) ** beta``,
    channels last, the window clipped at the first and last channel.

    Parameters
    ----------
    input : array_like, shape (N, ..., C)
        The input, channels last. TensorFlow requires 4-D (N, H, W, C) and
        float16/bfloat16/float32; fastlrn accepts any rank >= 2 and float64
        too.
    depth_radius : int, default 5
        Half-width r of the window ``[c - r, c + r]`` (``2r + 1`` channels);
        ``>= 0``.
    bias : float, default 1.0
        ``>= 0``.
    alpha : float, default 1.0
        Multiplies the raw sum of squares (no division by the window size).
    beta : float, default 0.5
        Exponent, ``>= 0``.
    %(extras)s

    Returns
    -------
    %(returns)s

    Raises
    ------
    %(raises_common)s

    Notes
    -----
    %(deviations)s

    Examples
    --------
    >>> import numpy as np
    >>> from fastlrn.compat import tensorflow as tf_lrn
    >>> x = np.array([1.0, 2.0, 3.0, 4.0]).reshape(1, 1, 1, 4)
    >>> tf_lrn.lrn(x, depth_radius=1, bias=1.0, alpha=1.0, beta=1.0).ravel()
    array([0.16666667, 0.13333333, 0.1       , 0.15384615])
    """
    x, (lo, hi, a, beta, k, region, ax) = _params(input, depth_radius, bias, alpha, beta,
                                                  channel_axis)
    return C.forward(x, lo, hi, a, beta, k, region, ax, out, num_threads)


@C.docfiller(framework=FRAMEWORK, default_axis="-1", deviations=DEVIATIONS)
def lrn_backward(input, dy, depth_radius=5, bias=1.0, alpha=1.0, beta=0.5, *,
                 channel_axis=-1, out=None, num_threads=None):
    """Gradient of :func:`lrn` with respect to `input` (TensorFlow's ``LRNGrad``).

    ``dx_q = dy_q * s_q**-beta - 2 * alpha * beta * x_q * sum_p dy_p * x_p * s_p**(-beta-1)``
    over the channels p whose window contains q (``[q - r, q + r]``).

    Parameters
    ----------
    input : array_like, shape (N, ..., C)
        The forward input, channels last.
    %(dy)s
    depth_radius, bias, alpha, beta
        As for :func:`lrn`.
    %(extras)s

    Returns
    -------
    %(returns_backward)s

    Raises
    ------
    %(raises_common)s
        Also: `dy` of another shape.

    Examples
    --------
    >>> import numpy as np
    >>> from fastlrn.compat import tensorflow as tf_lrn
    >>> x = np.array([1.0, 2.0, 3.0, 4.0]).reshape(1, 1, 1, 4)
    >>> dy = np.ones_like(x)                      # the gradient of sum(y)
    >>> tf_lrn.lrn_backward(x, dy, depth_radius=1, bias=1.0, alpha=1.0, beta=1.0).ravel()
    array([ 0.09333333, -0.09333333, -0.07550296, -0.03554241])
    """
    x, (lo, hi, a, beta, k, region, ax) = _params(input, depth_radius, bias, alpha, beta,
                                                  channel_axis)
    return C.backward(x, dy, lo, hi, a, beta, k, region, ax, out, num_threads)
