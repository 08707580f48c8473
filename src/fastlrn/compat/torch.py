"""PyTorch's LRN convention: ``torch.nn.functional.local_response_norm``
(and ``torch.nn.LocalResponseNorm``).

::

    s[b, c, ...] = k + alpha / n * sum_{j=c-n//2}^{c+(n-1)//2} input[b, j, ...] ** 2
    output = input / s ** beta

- Window: ``[c - n//2, c + (n-1)//2]``, clipped at the ends: odd sizes are
  symmetric, even sizes reach one channel further *before* ``c`` (PyTorch
  pads ``n//2`` zeros in front and ``(n-1)//2`` behind, then takes an
  average pool of width n). This is also fastlrn's own placement.
- alpha is divided by n, the nominal size, also at the clipped ends
  (the average pool counts the zero padding).
- Defaults: ``size`` is required; ``alpha=1e-4, beta=0.75, k=1`` (``k`` is
  not AlexNet's 2).
- Layout: channels on axis 1, input of 3 or more dimensions.
"""

from . import _common as C

__all__ = ["local_response_norm", "local_response_norm_backward"]

FRAMEWORK = "PyTorch"

DEVIATIONS = """\
Known deviations of PyTorch itself (not reproduced; fastlrn computes the
formula above):

- PyTorch evaluates the formula as a chain of tensor operations in the
  input dtype (square, zero-pad, average pool, multiply, add, power,
  divide), so float32 results carry a few roundings: measured up to 4 ulp
  from the correctly rounded value (torch 2.13, CPU), where fastlrn is
  within 1 ulp almost always. The gradient is autograd through that chain.
- float16 and bfloat16 are computed in those types by PyTorch; fastlrn
  computes them in float32 and returns float32. fastlrn also accepts
  channels on any axis (``channel_axis``)."""

if __doc__:  # None under python -OO
    __doc__ += "\n" + DEVIATIONS + "\n"


def _params(input, size, alpha, beta, k, channel_axis):
    x = C.as_input(input, "input")
    n = C.check_count("size", size)
    alpha = C.check_real("alpha", alpha)
    beta = C.check_real("beta", beta, minimum=0)
    k = C.check_real("k", k, minimum=0)
    if x.ndim < 3:
        raise C.rule_error(FRAMEWORK, "local_response_norm expects 3-D or higher input",
                           "input", "at least 3-D", f"{x.ndim} dimensions")
    ax, _ = C.window_axes(x, "input", "across", channel_axis)
    # [c - n//2, c + (n-1)//2]; alpha / n.
    return x, (n // 2, (n - 1) // 2, C.per_volume(alpha, n, 1), beta, k, "across", ax)


@C.docfiller(framework=FRAMEWORK, default_axis="1", deviations=DEVIATIONS)
def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0, *, channel_axis=1,
                        out=None, num_threads=None):
    """LRN across channels with PyTorch's parameters (``F.local_response_norm``).

    ``y = input / (k + alpha / size * sum_{j=c-size//2}^{c+(size-1)//2} input_j**2) ** beta``,
    the window clipped at the first and last channel, alpha divided by the
    nominal size everywhere.

    Parameters
    ----------
    input : array_like, shape (N, C, D1, ...)
        At least 3 dimensions (PyTorch's rule), channels on axis 1.
    size : int
        Number of channels in the window; any positive size. Even sizes
        reach one channel further before ``c`` than after it.
    alpha : float, default 1e-4
        Divided by `size` before it multiplies the sum of squares.
    beta : float, default 0.75
        Exponent, ``>= 0``.
    k : float, default 1.0
        Bias, ``>= 0``.
    %(extras)s

    Returns
    -------
    %(returns)s

    Raises
    ------
    %(raises_common)s
        An input of fewer than 3 dimensions (a PyTorch rule).

    Notes
    -----
    %(deviations)s

    Examples
    --------
    >>> import numpy as np
    >>> from fastlrn.compat import torch as torch_lrn
    >>> x = np.array([1.0, 2.0, 3.0, 4.0]).reshape(1, 4, 1)
    >>> torch_lrn.local_response_norm(x, 2, alpha=1.0, beta=1.0, k=1.0).ravel()
    array([0.66666667, 0.57142857, 0.4       , 0.2962963 ])
    """
    x, (lo, hi, a, beta, k, region, ax) = _params(input, size, alpha, beta, k, channel_axis)
    return C.forward(x, lo, hi, a, beta, k, region, ax, out, num_threads)


@C.docfiller(framework=FRAMEWORK, default_axis="1", deviations=DEVIATIONS)
def local_response_norm_backward(input, dy, size, alpha=1e-4, beta=0.75, k=1.0, *,
                                 channel_axis=1, out=None, num_threads=None):
    """Gradient of :func:`local_response_norm` with respect to `input`.

    What ``torch.autograd`` gives for ``F.local_response_norm``:
    ``dx_q = dy_q * s_q**-beta - 2 * (alpha/size) * beta * x_q * S_q``, where ``S_q =
    sum_p dy_p * x_p * s_p**(-beta-1)``
    over the channels p whose window contains q, ``[q - (size-1)//2, q + size//2]``
    (the mirror of the forward window; they differ for even sizes).

    Parameters
    ----------
    input : array_like, shape (N, C, D1, ...)
        The forward input.
    %(dy)s
    size, alpha, beta, k
        As for :func:`local_response_norm`.
    %(extras)s

    Returns
    -------
    %(returns_backward)s

    Raises
    ------
    %(raises_common)s
        An input of fewer than 3 dimensions (a PyTorch rule); `dy` of
        another shape.

    Examples
    --------
    >>> import numpy as np
    >>> from fastlrn.compat import torch as torch_lrn
    >>> x = np.array([1.0, 2.0, 3.0, 4.0]).reshape(1, 4, 1)
    >>> dy = np.ones_like(x)                      # the gradient of sum(y)
    >>> torch_lrn.local_response_norm_backward(x, dy, 2, alpha=1.0, beta=1.0, k=1.0).ravel()
    array([ 0.05895692, -0.14748299, -0.09251029, -0.01371742])
    """
    x, (lo, hi, a, beta, k, region, ax) = _params(input, size, alpha, beta, k, channel_axis)
    return C.backward(x, dy, lo, hi, a, beta, k, region, ax, out, num_threads)
