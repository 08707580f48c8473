"""MXNet's ``LRN`` operator convention (``mx.nd.LRN`` / ``mx.sym.LRN``).

::

    tmp_norm = knorm + alpha / nsize * sum_{j=c-(nsize-1)/2}^{c+(nsize-1)/2} data[b, j, h, w] ** 2
    out = data * tmp_norm ** -beta

- Window: odd sizes only (MXNet checks ``nsize % 2 == 1``), symmetric,
  clipped at the first and last channel.
- alpha is divided by nsize, the nominal size, also at the ends.
- Defaults: ``nsize`` is required; ``alpha=1e-4, beta=0.75, knorm=2``
  (AlexNet's k and beta, but alpha is divided by the size).
- Layout: channels on axis 1.
"""

from . import _common as C

__all__ = ["lrn", "lrn_backward"]

FRAMEWORK = "MXNet"

DEVIATIONS = """\
Known deviations of MXNet itself (not reproduced):

- MXNet's LRN takes 4-D float32 input only (its kernel reads a 4-D
  ``real_t`` tensor); fastlrn takes any rank >= 2, float64, and other real
  dtypes (computed in float32).
- MXNet is retired (moved to the Apache Attic in 2023); these functions are
  checked against the formula of its source (``src/operator/nn/lrn-inl.h``),
  not against a running MXNet."""

if __doc__:  # None under python -OO
    __doc__ += "\n" + DEVIATIONS + "\n"


def _params(data, nsize, alpha, beta, knorm, channel_axis):
    x = C.as_input(data, "data")
    n = C.check_count("nsize", nsize)
    alpha = C.check_real("alpha", alpha)
    beta = C.check_real("beta", beta, minimum=0)
    knorm = C.check_real("knorm", knorm, minimum=0)
    C.check_odd(FRAMEWORK, "nsize", n)
    ax, _ = C.window_axes(x, "data", "across", channel_axis)
    h = (n - 1) // 2
    # [c - (n-1)/2, c + (n-1)/2]; alpha / n.
    return x, (h, h, C.per_volume(alpha, n, 1), beta, knorm, "across", ax)


@C.docfiller(framework=FRAMEWORK, default_axis="1", deviations=DEVIATIONS)
def lrn(data, nsize, alpha=1e-4, beta=0.75, knorm=2.0, *, channel_axis=1, out=None,
        num_threads=None):
    """MXNet's ``LRN`` operator, forward, on NumPy arrays.

    ``out = data * (knorm + alpha / nsize * sum data_j**2) ** -beta`` over
    the channels ``[c - (nsize-1)/2, c + (nsize-1)/2]``, clipped at the ends;
    alpha divided by the nominal size everywhere.

    Parameters
    ----------
    data : array_like, shape (N, C, H, W)
        Channels on axis 1; any rank >= 2 (MXNet requires 4-D).
    nsize : int
        Odd (MXNet's rule): the number of channels in the window.
    alpha : float, default 1e-4
        Divided by `nsize` before it multiplies the sum of squares.
    beta : float, default 0.75
        Exponent, ``>= 0``.
    knorm : float, default 2.0
        Bias, ``>= 0``.
    %(extras)s

    Returns
    -------
    %(returns)s

    Raises
    ------
    %(raises_common)s
        An even `nsize` (MXNet's rule).

    Notes
    -----
    %(deviations)s

    Examples
    --------
    >>> import numpy as np
    >>> from fastlrn.compat import mxnet
    >>> x = np.array([1.0, 2.0, 3.0, 4.0]).reshape(1, 4, 1, 1)
    >>> mxnet.lrn(x, 3, alpha=3.0, beta=1.0, knorm=1.0).ravel()
    array([0.16666667, 0.13333333, 0.1       , 0.15384615])
    """
    x, (lo, hi, a, beta, k, region, ax) = _params(data, nsize, alpha, beta, knorm,
                                                  channel_axis)
    return C.forward(x, lo, hi, a, beta, k, region, ax, out, num_threads)


@C.docfiller(framework=FRAMEWORK, default_axis="1", deviations=DEVIATIONS)
def lrn_backward(data, dy, nsize, alpha=1e-4, beta=0.75, knorm=2.0, *, channel_axis=1,
                 out=None, num_threads=None):
    """Gradient of :func:`lrn` with respect to `data` (MXNet's ``LRNBackward``).

    ::

        grad_in = dy * tmp_norm**-beta
                  - 2 * beta * (alpha/nsize) * data * chpool(dy * data * tmp_norm**(-beta-1))

    the channel pool running over the same symmetric window.

    Parameters
    ----------
    data : array_like, shape (N, C, H, W)
        The forward input.
    %(dy)s
    nsize, alpha, beta, knorm
        As for :func:`lrn`.
    %(extras)s

    Returns
    -------
    %(returns_backward)s

    Raises
    ------
    %(raises_common)s
        An even `nsize` (MXNet's rule); `dy` of another shape.

    Examples
    --------
    >>> import numpy as np
    >>> from fastlrn.compat import mxnet
    >>> x = np.array([1.0, 2.0, 3.0, 4.0]).reshape(1, 4, 1, 1)
    >>> dy = np.ones_like(x)                      # the gradient of sum(y)
    >>> mxnet.lrn_backward(x, dy, 3, alpha=3.0, beta=1.0, knorm=1.0).ravel()
    array([ 0.09333333, -0.09333333, -0.07550296, -0.03554241])
    """
    x, (lo, hi, a, beta, k, region, ax) = _params(data, nsize, alpha, beta, knorm,
                                                  channel_axis)
    return C.backward(x, dy, lo, hi, a, beta, k, region, ax, out, num_threads)
