"""Public LRN functions: validate, choose a layout once, call a kernel.

Flow: ``lrn`` -> ``_validation.resolve`` (a frozen ``Window``) -> ``_forward``
(dtype, out, layout) -> ``_kernels._forward``. The compat modules call
``_forward`` with their own window and effective alpha.
"""

import itertools

import numpy as np

from . import _validation as V
from ._dispatch import kernels as K
from ._threads import resolve_num_threads, threads_for


def lrn(x, size=5, alpha=1e-4, beta=0.75, k=2.0, *, region="across", channel_axis=1,
        average=False, out=None, num_threads=None):
    r"""Local Response Normalization, forward.

    .. math::

        s(p) = k + a \sum_{q \in W(p)} x(q)^2, \qquad y(p) = x(p)\, s(p)^{-\beta}

    Parameters
    ----------
    x : array_like or object with ``__dlpack__``, shape (N, ..., C, ...)
        Input. Any strides, read-only and non-native byte order accepted; never
        modified unless it is `out`. float32 and float64 compute natively; other
        real dtypes (bool, integers, float16) compute in and return
        ``np.result_type(x.dtype, np.float32)``.
    size : int, default 5
        Window length along each window axis. The window of position ``i`` is
        ``[i - size // 2, i + (size - 1) // 2]``: odd sizes are symmetric, even
        sizes reach one further *before* ``i`` (PyTorch's placement). Positions
        outside the array are left out of the sum (``a`` is not rescaled).
        Sizes larger than the axis are allowed.
    alpha : float, default 1e-4
        Scale of the sum of squares. ``a = alpha`` (AlexNet's formula), or
        ``alpha / size**d`` with ``average=True``.
    beta : float, default 0.75
        Exponent, ``>= 0``.
    k : float, default 2.0
        Bias, ``>= 0``. ``k = 0`` with an all-zero window gives NaN.
    region : {"across", "within"}
        ``"across"``: the window runs over neighbouring channels (needs
        ``ndim >= 2``). ``"within"``: a ``size x size x ...`` box over every
        spatial axis (all axes but axis 0 and `channel_axis`), per channel.
    channel_axis : int, default 1
        The channel axis; ``-1`` for channels-last.
    average : bool, default False
        Divide alpha by ``size**d`` (``d = 1`` across, the number of spatial
        axes within), as PyTorch, ONNX, Caffe and oneDNN do.
    out : ndarray, optional
        Written and returned; result shape and dtype. May be `x` itself (the
        result is identical to the out-of-place one).
    num_threads : int, optional
        ``None``: OpenMP's current default (``OMP_NUM_THREADS``, threadpoolctl).
        ``n > 0``: n threads; ``-1``: all cores, ``-2``: all but one. Results are
        bit-identical for every thread count.

    Returns
    -------
    y : ndarray
        Same shape as `x`; float32 or float64 as described under `x`.

    Raises
    ------
    TypeError
        A parameter of the wrong type; complex, object, string or datetime `x`;
        `out` not an ndarray or of the wrong dtype.
    ValueError
        A parameter out of range (``size < 1``, non-finite alpha/beta/k,
        negative beta or k, unknown region, invalid axis, too few dimensions,
        ``num_threads=0``); `out` of the wrong shape, read-only, or partially
        overlapping `x`.

    Examples
    --------
    >>> import numpy as np, fastlrn
    >>> x = np.ones((1, 3, 1, 1), dtype=np.float32)
    >>> fastlrn.lrn(x, size=3, alpha=1.0, beta=1.0, k=1.0).ravel()
    array([0.33333334, 0.25      , 0.33333334], dtype=float32)
    """
    xa = V.as_array(x)
    dtype = V.compute_dtype(xa.dtype)
    w = V.resolve(xa.ndim, size, alpha, beta, k, region, channel_axis, average)
    return _forward(xa, w.lo, w.hi, w.a, w.beta, w.k, w.region, w.channel_axis,
                    out, num_threads, dtype=dtype)


def _forward(x, lo, hi, a, beta, k, region, channel_axis, out, num_threads, *, dtype=None):
    """Forward LRN with an explicit window [i - lo, i + hi] and effective alpha.

    The entry point for fastlrn.compat: the caller has checked lo, hi (ints
    >= 0), a, beta, k, region and channel_axis (a normalised axis); `x` may
    be any array-like.
    """
    x = V.as_array(x)
    if dtype is None:
        dtype = V.compute_dtype(x.dtype)
    nthreads = resolve_num_threads(num_threads)
    if out is not None:
        V.check_out(out, x.shape, dtype, [("x", x)])
    xc = V.prepare_input(x, dtype)
    if out is None:
        y = np.empty_like(xc, order="K")
    else:
        y = out
    if y.size == 0:
        return y
    # Write straight into out unless it cannot be addressed in elements.
    target = y if y.flags.aligned else np.empty_like(xc, order="K")
    nthreads = threads_for(nthreads, xc.size)
    if region == "across":
        _run_across(xc, target, lo, hi, a, beta, k, channel_axis, nthreads)
    else:
        _run_within(xc, target, lo, hi, a, beta, k, channel_axis, nthreads)
    if target is not y:
        np.copyto(y, target)
    return y


# ---------------------------------------------------------------- layouts

def _estrides(arr):
    return [s // arr.itemsize for s in arr.strides]


def _group_dims(axes, shape, strides_list):
    """Order `axes` by decreasing |stride| of the first array and merge neighbours.

    Returns dims as (length, [stride per array]) with the innermost last; a
    dim is merged into the next one when it is contiguous over it in every array.
    """
    order = sorted(axes, key=lambda ax: -abs(strides_list[0][ax]))
    dims = []
    for ax in order:
        if shape[ax] == 1:
            continue
        n, st = shape[ax], [s[ax] for s in strides_list]
        if dims:
            pn, pst = dims[-1]
            if all(ps == s * n for ps, s in zip(pst, st)):
                dims[-1] = (pn * n, st)
                continue
        dims.append((n, st))
    return dims


def _address(arr):
    return arr.__array_interface__["data"][0]


def _run_across(x, y, lo, hi, a, beta, k, axis, nthreads):
    C = x.shape[axis]
    lo, hi = min(lo, C - 1), min(hi, C - 1)
    xs, ys = _estrides(x), _estrides(y)
    others = [ax for ax in range(x.ndim) if ax != axis]
    dims = _group_dims(others, x.shape, [xs, ys]) or [(1, [0, 0])]
    inner = dims[-1]
    outer = dims[-2] if len(dims) >= 2 else (1, [0, 0])
    loops = dims[:-2]
    # Channels contiguous (or no inner run to vectorise over): one line per position.
    lines = inner[0] == 1 or abs(xs[axis]) < abs(inner[1][0])
    xbase, ybase = _address(x), _address(y)
    isz = x.itemsize
    for idx in itertools.product(*(range(n) for n, _ in loops)):
        xo = sum(i * st[0] for i, (_, st) in zip(idx, loops))
        yo = sum(i * st[1] for i, (_, st) in zip(idx, loops))
        K.across_forward(x.dtype == np.float64, xbase + xo * isz, ybase + yo * isz,
                         outer[0], C, inner[0],
                         outer[1][0], xs[axis], inner[1][0],
                         outer[1][1], ys[axis], inner[1][1],
                         lo, hi, a, beta, k, nthreads, lines)


def _run_within(x, y, lo, hi, a, beta, k, axis, nthreads):
    xs, ys = _estrides(x), _estrides(y)
    plane_axes = sorted({0, axis})
    spatial = [ax for ax in range(x.ndim) if ax not in plane_axes]
    # The box is symmetric in its axes: order them so the last is the most contiguous.
    spatial.sort(key=lambda ax: -abs(xs[ax]))
    shape = [x.shape[ax] for ax in spatial]
    P = [(x.shape[ax], xs[ax], ys[ax]) for ax in plane_axes] + [(1, 0, 0)]
    (P1, xp1, yp1), (P2, xp2, yp2) = P[0], P[1]
    K.within_forward(x.dtype == np.float64, _address(x), _address(y),
                     P1, P2, xp1, xp2, yp1, yp2,
                     shape, [xs[ax] for ax in spatial], [ys[ax] for ax in spatial],
                     [min(lo, n - 1) for n in shape], [min(hi, n - 1) for n in shape],
                     a, beta, k, nthreads)
