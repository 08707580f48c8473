"""Argument checking for the public functions.

Every message follows one template: "<parameter> must be <expectation>,
got <what was received>". Validation returns clean values (a frozen
``Window`` for the LRN parameters); kernels never see user objects.
"""

import functools
import math
import numbers
import operator
from dataclasses import dataclass

import numpy as np

from ._kernels._address import data_address

REGIONS = ("across", "within")


def _fail(exc, name, expected, got):
    return exc(f"{name} must be {expected}, got {got!r}")


@dataclass(frozen=True)
class Window:
    """The resolved parameters of one LRN call.

    ``lo``/``hi``: window [i - lo, i + hi] along the window axes (unclipped);
    ``a``: effective alpha; ``axes``: the window axes (channel axis across,
    the spatial axes within), normalised to non-negative ints.
    """

    lo: int
    hi: int
    a: float
    beta: float
    k: float
    region: str
    channel_axis: int
    axes: tuple


def check_size(size):
    if isinstance(size, (bool, np.bool_)):
        raise _fail(TypeError, "size", "a positive integer", size)
    try:
        n = operator.index(size)
    except TypeError:
        raise _fail(TypeError, "size", "a positive integer", size) from None
    if n < 1:
        raise _fail(ValueError, "size", "a positive integer", n)
    return n


def check_real(name, value, *, minimum=None):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise _fail(TypeError, name, "a finite real number", value)
    v = float(value)
    if not math.isfinite(v):
        raise _fail(ValueError, name, "a finite real number", value)
    if minimum is not None and v < minimum:
        raise _fail(ValueError, name, f"a finite real number >= {minimum}", value)
    return v


def check_bool(name, value):
    if not isinstance(value, (bool, np.bool_)):
        raise _fail(TypeError, name, "True or False", value)
    return bool(value)


def check_region(region):
    if not isinstance(region, str):
        raise _fail(TypeError, "region", "'across' or 'within'", region)
    if region not in REGIONS:
        raise _fail(ValueError, "region", "'across' or 'within'", region)
    return region


def check_axis(channel_axis, ndim):
    if isinstance(channel_axis, (bool, np.bool_)):
        raise _fail(TypeError, "channel_axis", "an integer", channel_axis)
    try:
        ax = operator.index(channel_axis)
    except TypeError:
        raise _fail(TypeError, "channel_axis", "an integer", channel_axis) from None
    if not -ndim <= ax < ndim:
        raise _fail(ValueError, "channel_axis",
                    f"a valid axis for an array of {ndim} dimensions "
                    f"(-{ndim} <= channel_axis < {ndim})", ax)
    return ax % ndim


def compute_dtype(dtype, name="x"):
    """The dtype a real input is computed in: result_type(dtype, float32)."""
    if dtype in _COMPUTE:
        return _COMPUTE[dtype]           # the common case, without result_type
    return _compute_dtype(dtype, name)


def _compute_dtype(dtype, name):
    if dtype.kind not in "biuf":
        raise TypeError(
            f"{name} must hold real numbers (bool, integer or float), got dtype {dtype}")
    result = np.result_type(dtype, np.float32)
    if result not in (np.float32, np.float64):
        raise TypeError(
            f"{name} must have a dtype that computes in float32 or float64, got dtype "
            f"{dtype} (extended precision is not supported; convert to float64)")
    return np.dtype(result)


_COMPUTE = {np.dtype(t): np.dtype(t) for t in (np.float32, np.float64)}


# DLPack's device type for host memory (DLDeviceType.kDLCPU).
_DLPACK_CPU = 1


def _check_dlpack(x, name):
    """Refuse, with a useful message, DLPack objects fastlrn cannot compute on.

    A tensor that requires grad would lose its graph (PyTorch refuses to
    export it anyway); an array on another device (GPU, ...) is not in host
    memory.
    """
    if getattr(x, "requires_grad", False) is True:
        raise TypeError(
            f"{name} must not require grad, got a {type(x).__name__} with "
            "requires_grad=True; for autograd use fastlrn.torch.local_response_norm "
            f"or fastlrn.torch.LocalResponseNorm, or pass {name}.detach()")
    device = getattr(x, "__dlpack_device__", None)
    if device is None:
        return  # NumPy's from_dlpack will say what is missing
    try:
        dev_type, dev_id = device()
    except Exception:  # noqa: BLE001 - a broken producer: let from_dlpack report it
        return
    if int(dev_type) != _DLPACK_CPU:
        raise TypeError(
            f"{name} must be in CPU memory (fastlrn runs on the CPU), got a "
            f"{type(x).__name__} on DLPack device ({int(dev_type)}, {dev_id}) (1 is the "
            "CPU, 2 CUDA, 10 ROCm, ...); copy it to the host first "
            "(e.g. .cpu() in PyTorch, jax.device_get in JAX)")


def as_array(x, name="x"):
    """``x`` as an ndarray without copying where possible (DLPack objects too)."""
    if isinstance(x, np.ndarray):
        return x
    if hasattr(x, "__dlpack__") and not isinstance(x, np.generic):
        _check_dlpack(x, name)
        try:
            return np.from_dlpack(x)  # a view where the producer allows one
        except (TypeError, BufferError, RuntimeError) as e:
            raise TypeError(
                f"{name} must be a CPU array; converting it through DLPack failed: {e}"
            ) from None
    try:
        return np.asarray(x)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{name} must be array-like, got {type(x).__name__}: {e}") from None


def prepare_input(x, dtype, name="x"):
    """A native, aligned array of ``dtype`` with x's values (x itself when possible)."""
    if x.dtype == dtype and x.flags.aligned:
        return x
    return x.astype(dtype)  # casting, byte order or alignment: a copy is unavoidable


def resolve(x_ndim, size, alpha, beta, k, region, channel_axis, average):
    """Check the LRN parameters against an input of ``x_ndim`` dimensions.

    Results are remembered per argument values and types (checking them
    again took about 4 us of a call's 20); unhashable arguments, and every
    argument that fails, are checked each time.
    """
    args = (x_ndim, size, alpha, beta, k, region, channel_axis, average)
    try:
        hash(args)
    except TypeError:
        return _resolve(*args)
    return _resolve_cached(*args)


def _resolve(x_ndim, size, alpha, beta, k, region, channel_axis, average):
    size = check_size(size)
    alpha = check_real("alpha", alpha)
    beta = check_real("beta", beta, minimum=0)
    k = check_real("k", k, minimum=0)
    region = check_region(region)
    average = check_bool("average", average)
    if region == "across" and x_ndim < 2:
        raise ValueError(
            f"x must have at least 2 dimensions for region='across', got {x_ndim}")
    if x_ndim < 1:
        raise ValueError(f"x must have at least 1 dimension, got {x_ndim}")
    ax = check_axis(channel_axis, x_ndim)
    if region == "across":
        axes = (ax,)
    else:
        axes = tuple(i for i in range(x_ndim) if i not in (0, ax))
        if not axes:
            raise ValueError(
                "region='within' needs at least one spatial axis (an axis other than "
                f"axis 0 and channel_axis), got an array of {x_ndim} dimensions with "
                f"channel_axis={channel_axis}")
    a = alpha
    if average:
        taps = size ** len(axes)
        a = alpha / taps if taps < 2 ** 53 else alpha / float(size) ** len(axes)
    return Window(lo=size // 2, hi=(size - 1) // 2, a=a, beta=beta, k=k,
                  region=region, channel_axis=ax, axes=axes)


@functools.lru_cache(maxsize=256, typed=True)
def _resolve_cached(*args):
    return _resolve(*args)


def _may_overlap_itself(a):
    """True when two elements of ``a`` may share memory.

    Sorted by stride, each axis must step past everything the smaller axes
    span. Every view NumPy itself makes of a non-overlapping array (slices,
    negative steps, transposes, reshapes) passes; a zero stride
    (``broadcast_to``, ``as_strided``) on an axis longer than 1 fails, and so
    do ``as_strided`` layouts that interleave axes, which this conservative
    test cannot tell from overlapping ones.
    """
    if a.flags.c_contiguous or a.flags.f_contiguous:
        return False
    if a.size == 0:
        return False  # no elements; NumPy may give an empty array zero strides
    span = a.itemsize
    for stride, n in sorted((abs(s), n) for s, n in zip(a.strides, a.shape) if n > 1):
        if stride < span:
            return True
        span += stride * (n - 1)
    return False


def check_out(out, shape, dtype, inputs):
    """``out`` checked against the result; returns (out, in_place_of) or raises."""
    if not isinstance(out, np.ndarray):
        raise _fail(TypeError, "out", "None or a numpy.ndarray", type(out).__name__)
    if out.shape != shape:
        raise ValueError(f"out must have the result shape {shape}, got shape {out.shape}")
    if out.dtype != dtype:
        raise TypeError(f"out must have the result dtype {dtype}, got dtype {out.dtype}")
    if not out.flags.writeable:
        raise ValueError("out must be writeable, got a read-only array")
    if _may_overlap_itself(out):
        # Several results would land on one element, in an order that depends
        # on the thread schedule: refuse rather than write garbage.
        raise ValueError(
            "out must not have elements that share memory, got an array of shape "
            f"{out.shape} with strides {out.strides} (e.g. from broadcast_to or "
            "as_strided)")
    for name, arr in inputs:
        if not np.may_share_memory(out, arr):
            continue
        same = (data_address(out) == data_address(arr)
                and out.strides == arr.strides and out.shape == arr.shape)
        if same:
            continue
        try:
            overlap = np.shares_memory(out, arr, max_work=100_000)
        except np.exceptions.TooHardError:
            overlap = True
        if overlap:
            raise ValueError(
                f"out must be {name} itself or not overlap it; got an array that "
                f"partially overlaps {name}")
    return out
