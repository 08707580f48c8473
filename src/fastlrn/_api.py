"""Public LRN functions: validate, choose a layout once, call a kernel.

Flow: ``lrn`` -> ``_validation.resolve`` (a frozen ``Window``) -> ``_forward``
(dtype, out, layout) -> ``_kernels._forward``. The compat modules call
``_forward`` with their own window and effective alpha.
"""

import itertools

import numpy as np

from . import _validation as V
from ._dispatch import kernels as K
from ._kernels._address import data_address
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

    See Also
    --------
    lrn_backward : The gradient.
    fastlrn.reference.lrn : The float64 NumPy oracle, with an explicit window.
    fastlrn.compat : The same computation with other frameworks' parameters.

    Examples
    --------
    >>> import numpy as np, fastlrn
    >>> x = np.ones((1, 3, 1, 1), dtype=np.float32)
    >>> fastlrn.lrn(x, size=3, alpha=1.0, beta=1.0, k=1.0).ravel()
    array([0.33333334, 0.25      , 0.33333334], dtype=float32)

    The window is clipped at the first and last channel: the ends sum two
    squares, the middle one three. ``average=True`` divides alpha by the
    size (here 3 / 3 = 1, the same result):

    >>> fastlrn.lrn(x, size=3, alpha=3.0, beta=1.0, k=1.0, average=True).ravel()
    array([0.33333334, 0.25      , 0.33333334], dtype=float32)

    Channels last, and a 3 x 3 window within each channel:

    >>> x = np.random.default_rng(0).standard_normal((2, 8, 8, 16), dtype=np.float32)
    >>> fastlrn.lrn(x, channel_axis=-1).shape
    (2, 8, 8, 16)
    >>> fastlrn.lrn(x, size=3, region="within", channel_axis=-1).dtype
    dtype('float32')
    """
    xa = V.as_array(x)
    dtype = V.compute_dtype(xa.dtype)
    w = V.resolve(xa.ndim, size, alpha, beta, k, region, channel_axis, average)
    return _forward(xa, w.lo, w.hi, w.a, w.beta, w.k, w.region, w.channel_axis,
                    out, num_threads, dtype=dtype)


def lrn_backward(x, dy, size=5, alpha=1e-4, beta=0.75, k=2.0, *, region="across",
                 channel_axis=1, average=False, out=None, num_threads=None):
    r"""Gradient of :func:`lrn` with respect to `x`.

    .. math::

        \dfrac{\partial L}{\partial x(q)} = g(q)\, s(q)^{-\beta}
            - 2 a \beta\, x(q) \sum_{p:\, q \in W(p)} g(p)\, x(p)\, s(p)^{-\beta-1}

    with ``g = dy`` and ``s`` as in :func:`lrn`. The positions ``p`` whose
    window holds ``q`` form the mirrored window ``[q - (size - 1) // 2,
    q + size // 2]`` (for even sizes it differs from the forward window).
    ``s`` is recomputed from `x`.

    Parameters
    ----------
    x : array_like or object with ``__dlpack__``
        The forward input.
    dy : array_like, the shape of `x`
        The upstream gradient dL/dy; cast like `x`.
    size, alpha, beta, k, region, channel_axis, average, num_threads
        As for :func:`lrn`.
    out : ndarray, optional
        Written and returned; result shape and dtype. May be `x` or `dy`
        itself.

    Returns
    -------
    dx : ndarray
        dL/dx, the shape of `x`, float32 or float64 as for :func:`lrn`.

    Raises
    ------
    TypeError, ValueError
        As for :func:`lrn`; ``ValueError`` when `dy` does not have the shape
        of `x`, ``TypeError`` when it does not hold real numbers.

    See Also
    --------
    lrn : The forward function.
    fastlrn.reference.lrn_backward : The float64 NumPy oracle.

    Examples
    --------
    >>> import numpy as np, fastlrn
    >>> x = np.array([[1.0, 2.0]])
    >>> fastlrn.lrn_backward(x, np.ones_like(x), size=1, alpha=1.0, beta=1.0, k=1.0)
    array([[ 0.  , -0.12]])
    """
    xa = V.as_array(x)
    dtype = V.compute_dtype(xa.dtype)
    w = V.resolve(xa.ndim, size, alpha, beta, k, region, channel_axis, average)
    return _backward(xa, dy, w.lo, w.hi, w.a, w.beta, w.k, w.region, w.channel_axis,
                     out, num_threads, dtype=dtype)


def _forward(x, lo, hi, a, beta, k, region, channel_axis, out, num_threads, *, dtype=None):
    """Forward LRN with an explicit window [i - lo, i + hi] and effective alpha.

    The entry point for fastlrn.compat: the caller has checked lo, hi (ints
    >= 0), a, beta, k, region and channel_axis (a normalised axis); `x` may
    be any array-like.
    """
    return _compute(x, None, lo, hi, a, beta, k, region, channel_axis, out, num_threads,
                    dtype=dtype)


def _backward(x, dy, lo, hi, a, beta, k, region, channel_axis, out, num_threads, *,
              dtype=None):
    """The gradient with an explicit window and effective alpha (see _forward)."""
    return _compute(x, dy, lo, hi, a, beta, k, region, channel_axis, out, num_threads,
                    dtype=dtype)


def _compute(x, dy, lo, hi, a, beta, k, region, channel_axis, out, num_threads, *, dtype):
    x = V.as_array(x)
    if dtype is None:
        dtype = V.compute_dtype(x.dtype)
    inputs = [("x", x)]
    if dy is not None:
        dy = V.as_array(dy, "dy")
        V.compute_dtype(dy.dtype, "dy")
        if dy.shape != x.shape:
            raise ValueError(f"dy must have the shape of x {x.shape}, got shape {dy.shape}")
        inputs.append(("dy", dy))
    nthreads = resolve_num_threads(num_threads)
    if out is not None:
        V.check_out(out, x.shape, dtype, inputs)
    arrays = [V.prepare_input(arr, dtype) for _, arr in inputs]
    y = np.empty_like(arrays[0], order="K") if out is None else out
    if y.size == 0:
        return y
    # Write straight into out unless it cannot be addressed in elements.
    target = y if y.flags.aligned else np.empty_like(arrays[0], order="K")
    arrays.append(target)
    nthreads = threads_for(nthreads, x.size)
    if region == "across":
        _run_across(arrays, lo, hi, a, beta, k, channel_axis, nthreads)
    elif not _run_within(arrays, lo, hi, a, beta, k, channel_axis, nthreads):
        # In place on planes split into strips (large images): a strip would
        # read rows its neighbour had already overwritten. The kernel wrote
        # nothing; compute into a fresh array and copy it over.
        target = np.empty_like(arrays[0], order="K")
        arrays[-1] = target
        _run_within(arrays, lo, hi, a, beta, k, channel_axis, nthreads)
    if target is not y:
        np.copyto(y, target)
    return y


# ---------------------------------------------------------------- layouts
# `arrays` is [x, y] (forward) or [x, dy, dx] (backward): same shape and
# dtype, any strides. Kernels get element strides per array.

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


# Layouts seen recently (_across_layout's results by shape, strides, itemsize,
# axis): working them out again took about half of a small call's time.
_LAYOUTS = {}
_LAYOUTS_MAX = 256


def _across_layout(arrays, axis):
    """(C, n_outer, n_inner, flat strides, lines, loops) of an across call; see _run_across."""
    x = arrays[0]
    key = (x.shape, x.itemsize, axis) + tuple(arr.strides for arr in arrays)
    layout = _LAYOUTS.get(key)
    if layout is not None:
        return layout
    m = len(arrays)
    strides = [_estrides(arr) for arr in arrays]
    others = [ax for ax in range(x.ndim) if ax != axis]
    none = (1, [0] * m)
    dims = _group_dims(others, x.shape, strides) or [none]
    inner = dims[-1]
    outer = dims[-2] if len(dims) >= 2 else none
    # Channels contiguous (or no inner run to vectorise over): one line per position.
    lines = inner[0] == 1 or abs(strides[0][axis]) < abs(inner[1][0])
    # (outer, channel, inner) strides of each array, flattened in kernel order
    flat = tuple(s for j in range(m) for s in (outer[1][j], strides[j][axis], inner[1][j]))
    layout = (x.shape[axis], outer[0], inner[0], flat, lines, tuple(dims[:-2]))
    if len(_LAYOUTS) >= _LAYOUTS_MAX:
        _LAYOUTS.clear()
    _LAYOUTS[key] = layout
    return layout


def _run_across(arrays, lo, hi, a, beta, k, axis, nthreads):
    x = arrays[0]
    m = len(arrays)
    C, n_outer, n_inner, flat, lines, loops = _across_layout(arrays, axis)
    lo, hi = min(lo, C - 1), min(hi, C - 1)
    bases = [data_address(arr) for arr in arrays]
    isz = x.itemsize
    is_double = x.dtype == np.float64
    kernel = K.across_forward if m == 2 else K.across_backward
    if not loops:
        kernel(is_double, *bases, n_outer, C, n_inner, *flat, lo, hi, a, beta, k, nthreads, lines)
        return
    for idx in itertools.product(*(range(n) for n, _ in loops)):
        addr = [b + isz * sum(i * st[j] for i, (_, st) in zip(idx, loops))
                for j, b in enumerate(bases)]
        kernel(is_double, *addr, n_outer, C, n_inner, *flat, lo, hi, a, beta, k, nthreads, lines)


def _run_within(arrays, lo, hi, a, beta, k, axis, nthreads):
    x = arrays[0]
    strides = [_estrides(arr) for arr in arrays]
    plane_axes = sorted({0, axis})
    # The spatial axes in their logical order, whatever the strides: the box
    # sums are separable, one axis after another, and rounding depends on
    # that order (putting the most contiguous axis last made a Fortran-order
    # input differ by an ulp in near-ties); the kernels read any strides.
    spatial = [ax for ax in range(x.ndim) if ax not in plane_axes]
    shape = [x.shape[ax] for ax in spatial]
    pdims = [(x.shape[ax], [st[ax] for st in strides]) for ax in plane_axes]
    pdims.append((1, [0] * len(arrays)))
    (P1, s1), (P2, s2) = pdims[0], pdims[1]
    plane_strides = [v for pair in zip(s1, s2) for v in pair]
    spatial_strides = [[st[ax] for ax in spatial] for st in strides]
    los = [min(lo, n - 1) for n in shape]
    his = [min(hi, n - 1) for n in shape]
    addrs = [data_address(arr) for arr in arrays]
    is_double = x.dtype == np.float64
    if len(arrays) == 2:
        return K.within_forward(is_double, *addrs, P1, P2, *plane_strides, shape,
                                *spatial_strides, los, his, a, beta, k, nthreads)
    return K.within_backward(is_double, *addrs, P1, P2, *plane_strides, shape,
                             *spatial_strides, los, his, a, beta, k, nthreads)
