"""The ONNX ``LRN`` operator's convention (also cuDNN's ``cudnnLRNCrossChannelForward``).

::

    square_sum[n, c, d1, ...] = sum(X[n, i, d1, ...] ** 2)
        for max(0, c - floor((size - 1) / 2)) <= i <= min(C - 1, c + ceil((size - 1) / 2))
    Y = X / (bias + alpha / size * square_sum) ** beta

- Window: ``[c - (n-1)//2, c + n//2]``: odd sizes are symmetric, even sizes
  reach one channel further *after* ``c`` (the opposite of PyTorch).
  cuDNN's ``lrnN`` window is the same: look-behind ``floor((n-1)/2)``,
  look-ahead ``n - 1 - floor((n-1)/2)``.
- alpha is divided by n, the nominal size, also at the clipped ends.
- Defaults: ``size`` is required; ``alpha=1e-4, beta=0.75, bias=1``.
- Layout: channels on axis 1 (``N x C x D1 x ... x Dk``).
"""

from . import _common as C

__all__ = ["lrn", "lrn_backward"]

FRAMEWORK = "ONNX"

DEVIATIONS = """\
Known deviations of the implementations (not reproduced; fastlrn computes
the operator's formula above):

- ONNX Runtime's CPU kernel accepts only odd sizes (the session fails to
  load with ``size_ % 2 == 1 was false``), only float32 and only 4-D input;
  fastlrn follows the ONNX specification for even sizes and also takes
  float64 and other ranks.
- ONNX Runtime forms the window sums as a running sum along the channels
  (add the entering channel, subtract the leaving one), so its error grows
  with the channel count: measured (onnxruntime 1.32, alpha=1, beta=0.75,
  bias=1, normal data) 4-6 ulp at 8 channels, 13-17 at 96, 24-29 at 256,
  30-43 at 500; one large value leaving the window spoils the channels after
  it (a channel of 1e10 among ones: ``inf`` downstream).
- ``onnx.reference`` (the Python ReferenceEvaluator, onnx 1.23) loops over
  the batch axis instead of the channel axis: only the first N channels
  (N = batch size) are normalised, the others come back as
  ``X / bias**beta``; and it takes only 4-D input.
- cuDNN limits ``lrnN`` to 1..16, ``lrnK >= 1e-5`` and ``lrnBeta >= 0.01``;
  fastlrn takes any size, ``bias >= 0`` and ``beta >= 0``."""

if __doc__:  # None under python -OO
    __doc__ += "\n" + DEVIATIONS + "\n"


def _params(X, size, alpha, beta, bias, channel_axis):
    x = C.as_input(X, "X")
    n = C.check_count("size", size)
    alpha = C.check_real("alpha", alpha)
    beta = C.check_real("beta", beta, minimum=0)
    bias = C.check_real("bias", bias, minimum=0)
    ax, _ = C.window_axes(x, "X", "across", channel_axis)
    # [c - (n-1)//2, c + n//2]; alpha / n.
    return x, ((n - 1) // 2, n // 2, C.per_volume(alpha, n, 1), beta, bias, "across", ax)


@C.docfiller(framework=FRAMEWORK, default_axis="1", deviations=DEVIATIONS)
def lrn(X, size, alpha=1e-4, beta=0.75, bias=1.0, *, channel_axis=1, out=None,
        num_threads=None):
    """The ONNX ``LRN`` operator (and cuDNN's cross-channel LRN) on NumPy arrays.

    ``Y = X / (bias + alpha / size * sum_{i=c-(size-1)//2}^{c+size//2} X_i**2) ** beta``,
    the window clipped at the first and last channel, alpha divided by the
    nominal size everywhere.

    Parameters
    ----------
    X : array_like, shape (N, C, D1, ...)
        Channels on axis 1; any rank >= 2 (ONNX Runtime requires 4-D).
    size : int
        Number of channels in the window; any positive size (ONNX Runtime
        accepts only odd ones). Even sizes reach one channel further after
        ``c`` than before it.
    alpha : float, default 1e-4
        Divided by `size` before it multiplies the sum of squares.
    beta : float, default 0.75
        Exponent, ``>= 0``.
    bias : float, default 1.0
        ``>= 0``.
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
    >>> from fastlrn.compat import onnx as onnx_lrn
    >>> x = np.array([1.0, 2.0, 3.0, 4.0]).reshape(1, 4, 1, 1)
    >>> onnx_lrn.lrn(x, 2, alpha=1.0, beta=1.0, bias=1.0).ravel()
    array([0.28571429, 0.26666667, 0.22222222, 0.44444444])
    """
    x, (lo, hi, a, beta, k, region, ax) = _params(X, size, alpha, beta, bias, channel_axis)
    return C.forward(x, lo, hi, a, beta, k, region, ax, out, num_threads)


@C.docfiller(framework=FRAMEWORK, default_axis="1", deviations=DEVIATIONS)
def lrn_backward(X, dy, size, alpha=1e-4, beta=0.75, bias=1.0, *, channel_axis=1,
                 out=None, num_threads=None):
    """Gradient of :func:`lrn` with respect to `X`.

    ``dX_q = dy_q * s_q**-beta - 2 * (alpha/size) * beta * X_q * S_q``, where ``S_q =
    sum_p dy_p * X_p * s_p**(-beta-1)``
    over the channels p whose window contains q, ``[q - size//2, q + (size-1)//2]``
    (the mirror of the forward window; they differ for even sizes).

    Parameters
    ----------
    X : array_like, shape (N, C, D1, ...)
        The forward input.
    %(dy)s
    size, alpha, beta, bias
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
    >>> from fastlrn.compat import onnx as onnx_lrn
    >>> x = np.array([1.0, 2.0, 3.0, 4.0]).reshape(1, 4, 1, 1)
    >>> dy = np.ones_like(x)                      # the gradient of sum(y)
    >>> onnx_lrn.lrn_backward(x, dy, 2, alpha=1.0, beta=1.0, bias=1.0).ravel()
    array([ 0.20408163, -0.10104308, -0.08197531, -0.15226337])
    """
    x, (lo, hi, a, beta, k, region, ax) = _params(X, size, alpha, beta, bias, channel_axis)
    return C.backward(x, dy, lo, hi, a, beta, k, region, ax, out, num_threads)
