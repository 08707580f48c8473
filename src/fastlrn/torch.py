"""fastlrn for PyTorch: ``LocalResponseNorm`` and ``local_response_norm``.

Drop-in replacements for ``torch.nn.LocalResponseNorm`` and
``torch.nn.functional.local_response_norm`` on CPU tensors, with PyTorch's
convention (``fastlrn.compat.torch``): alpha divided by ``size``, the window
``[c - size//2, c + (size-1)//2]`` over channels (axis 1), input of 3 or more
dimensions, float32 or float64.

Layers:

1. ``local_response_norm`` / ``LocalResponseNorm`` check their arguments in
   Python and call the operator ``torch.ops.fastlrn.local_response_norm``.
2. The operator is a ``torch.library.custom_op`` with a fake (meta)
   implementation, so ``torch.compile`` and ``torch.export`` see an opaque
   node with known output metadata, and an autograd formula that calls a
   second operator, ``fastlrn::local_response_norm_backward`` (the
   ``lrn_backward`` kernel), itself traceable the same way.
3. Each operator's CPU implementation views its tensors as NumPy arrays
   without copying (``Tensor.numpy()``; any strides), allocates the result
   with ``torch.empty_like`` (so real and fake outputs have the same layout)
   and lets ``fastlrn.compat.torch`` write into it.

Importing this module needs PyTorch (``pip install "fastlrn[torch]"``);
``import fastlrn`` never imports it.
"""

try:
    import torch
except ImportError as e:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        "fastlrn.torch needs PyTorch, which is not installed; install it with "
        'pip install "fastlrn[torch]" (or see https://pytorch.org for other builds)'
    ) from e

from torch import Tensor, nn

from . import _validation as V
from .compat import _common as C
from .compat import torch as _conv

__all__ = ["LocalResponseNorm", "local_response_norm"]

_DTYPES = (torch.float32, torch.float64)


# ---------------------------------------------------------------- operators


def _as_numpy(t):
    """A NumPy view of a CPU tensor's memory (no copy; any strides)."""
    return t.detach().numpy()


@torch.library.custom_op("fastlrn::local_response_norm", mutates_args=(), device_types="cpu")
def _lrn_op(input: Tensor, size: int, alpha: float, beta: float, k: float) -> Tensor:
    out = torch.empty_like(input)
    _conv.local_response_norm(_as_numpy(input), size, alpha, beta, k, out=_as_numpy(out))
    return out


@_lrn_op.register_fake
def _(input, size, alpha, beta, k):
    return torch.empty_like(input)


@torch.library.custom_op("fastlrn::local_response_norm_backward", mutates_args=(),
                         device_types="cpu")
def _lrn_backward_op(input: Tensor, grad: Tensor, size: int, alpha: float, beta: float,
                     k: float) -> Tensor:
    out = torch.empty_like(input)
    _conv.local_response_norm_backward(_as_numpy(input), _as_numpy(grad), size, alpha,
                                       beta, k, out=_as_numpy(out))
    return out


@_lrn_backward_op.register_fake
def _(input, grad, size, alpha, beta, k):
    return torch.empty_like(input)


def _setup_context(ctx, inputs, output):
    input, size, alpha, beta, k = inputs
    ctx.save_for_backward(input)
    ctx.params = (size, alpha, beta, k)


def _backward(ctx, grad):
    (input,) = ctx.saved_tensors
    dx = None
    if ctx.needs_input_grad[0]:
        # The gradient PyTorch passes may have any layout (an expanded scalar
        # has stride 0 everywhere); the kernel reads any strides.
        dx = _lrn_backward_op(input, grad, *ctx.params)
    return dx, None, None, None, None


# The gradient of the backward operator itself (double backward) is not
# implemented: torch raises a clear error if it is asked for.
_lrn_op.register_autograd(_backward, setup_context=_setup_context)


# ---------------------------------------------------------------- public API


def _check(input, size, alpha, beta, k):
    if not isinstance(input, Tensor):
        raise V._fail(TypeError, "input", "a torch.Tensor", type(input).__name__)
    if input.device.type != "cpu":
        raise TypeError(f"input must be a CPU tensor (fastlrn runs on the CPU), got a tensor "
                        f"on {input.device}")
    if input.dtype not in _DTYPES:
        raise TypeError(f"input must have dtype torch.float32 or torch.float64, got "
                        f"{input.dtype}")
    if input.dim() < 3:
        raise C.rule_error("PyTorch", "local_response_norm expects 3-D or higher input",
                           "input", "at least 3-D", f"{input.dim()} dimensions")
    return (C.check_count("size", size), C.check_real("alpha", alpha),
            C.check_real("beta", beta, minimum=0), C.check_real("k", k, minimum=0))


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """LRN across channels, as ``torch.nn.functional.local_response_norm``.

    ``y = input / (k + alpha / size * sum_{j=c-size//2}^{c+(size-1)//2} input_j**2) ** beta``
    over the channels (axis 1), the window clipped at the first and last
    channel, alpha divided by the nominal size everywhere. Differentiable
    (the gradient is fastlrn's ``lrn_backward`` kernel), usable under
    ``torch.compile``.

    Parameters
    ----------
    input : torch.Tensor, shape (N, C, D1, ...)
        A CPU tensor of 3 or more dimensions, float32 or float64, any strides
        (the result has the input's memory layout, e.g. channels-last stays
        channels-last).
    size : int
        Number of channels in the window; even sizes reach one channel
        further before ``c`` than after it.
    alpha : float, default 1e-4
        Divided by `size` before it multiplies the sum of squares.
    beta : float, default 0.75
        Exponent, ``>= 0``.
    k : float, default 1.0
        Bias, ``>= 0``.

    Returns
    -------
    torch.Tensor
        The input's shape, dtype and layout.

    Raises
    ------
    TypeError
        `input` not a tensor, not on the CPU, or not float32/float64; a
        parameter of the wrong type.
    ValueError
        Fewer than 3 dimensions; a parameter out of range.

    Examples
    --------
    >>> import torch
    >>> from fastlrn.torch import local_response_norm
    >>> x = torch.arange(1.0, 5.0, dtype=torch.float64).reshape(1, 4, 1)
    >>> local_response_norm(x, 2, alpha=1.0, beta=1.0, k=1.0).flatten()
    tensor([0.6667, 0.5714, 0.4000, 0.2963], dtype=torch.float64)
    """
    size, alpha, beta, k = _check(input, size, alpha, beta, k)
    return _lrn_op(input, size, alpha, beta, k)


class LocalResponseNorm(nn.Module):
    """Drop-in for ``torch.nn.LocalResponseNorm``, computed by fastlrn.

    Same constructor, attributes (``size``, ``alpha``, ``beta``, ``k``) and
    ``repr`` as PyTorch's module; see :func:`local_response_norm` for the
    formula and the accepted inputs (CPU tensors of 3 or more dimensions,
    float32 or float64). The parameters are checked when the module is built.

    Parameters
    ----------
    size : int
        Number of channels in the window.
    alpha : float, default 1e-4
        Divided by `size` before it multiplies the sum of squares.
    beta : float, default 0.75
        Exponent, ``>= 0``.
    k : float, default 1.0
        Bias, ``>= 0``.

    Examples
    --------
    >>> import torch
    >>> from fastlrn.torch import LocalResponseNorm
    >>> lrn = LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0)
    >>> lrn
    LocalResponseNorm(5, alpha=0.0001, beta=0.75, k=2.0)
    >>> lrn(torch.ones(1, 8, 2, 2)).shape
    torch.Size([1, 8, 2, 2])
    """

    __constants__ = ["size", "alpha", "beta", "k"]

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__()
        # Checked here, once, so a bad layer fails where it is built.
        C.check_count("size", size)
        C.check_real("alpha", alpha)
        C.check_real("beta", beta, minimum=0)
        C.check_real("k", k, minimum=0)
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input):
        return local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return "{size}, alpha={alpha}, beta={beta}, k={k}".format(**self.__dict__)
