"""fastlrn for Dask arrays: ``lrn`` and ``lrn_backward``, lazily, block by block.

The functions take the core signature (``fastlrn.lrn``, SPEC section 2) and
return a dask array; nothing is computed until it is.

How a block gets its result:

1. Every parameter is checked when the graph is built (the same errors as
   ``fastlrn.lrn``), so a bad call fails at once, not inside a worker.
2. If each block already holds every window axis whole (across: the
   channel axis is one chunk; within: each spatial axis is one chunk), the
   kernel runs on each block as it is (``map_blocks``).
3. Otherwise the blocks are extended by their neighbours' edges along the
   window axes that are split (``map_overlap`` with ``boundary="none"``: no
   padding at the array's own borders, where the kernel clips the window as
   it does for a whole array), the kernel runs on the extended block, and
   the extension is trimmed. Depths per split axis:

   - forward: ``(size // 2, (size - 1) // 2)`` before/after, the window
     itself (asymmetric for even sizes);
   - backward: ``size - 1`` on both sides, since ``dx(q)`` uses ``s(p)`` for
     ``p`` in the mirrored window ``[q - (size-1)//2, q + size//2]``, and each
     ``s(p)`` the window of ``p``.

   Depths are capped at the axis length minus one (no window reaches
   further). Dask merges chunks smaller than the depth with their
   neighbours first (``map_overlap`` rechunks), so any chunking works.

Results equal the in-memory ones to rounding (the kernel sums each window
directly, so a block sees the same terms as the whole array does).

Threads: inside a ``dask.distributed`` worker the per-block kernels run on
one OpenMP thread by default (``num_threads=None``): the worker already runs
one task per thread, and OpenMP teams on top of that oversubscribe the
cores. Elsewhere ``None`` means OpenMP's default, as in ``fastlrn.lrn``; with
dask's local threaded scheduler, pass ``num_threads=1`` (many blocks at
once) or use ``scheduler="synchronous"`` (one block at a time, all cores
each). An explicit ``num_threads`` is always used as given.

Importing this module needs dask (``pip install "fastlrn[dask]"``);
``import fastlrn`` never imports it.
"""

import sys
from functools import partial

import numpy as np

try:
    import dask.array as da
except ImportError as e:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        'fastlrn.dask needs dask, which is not installed; install it with '
        'pip install "fastlrn[dask]"') from e

from . import _api
from . import _validation as V
from ._threads import resolve_num_threads

__all__ = ["lrn", "lrn_backward"]


# ---------------------------------------------------------------- per block


def _block_threads(num_threads):
    """The thread count for one block: 1 in a distributed worker unless given."""
    if num_threads is not None:
        return num_threads
    distributed = sys.modules.get("distributed")  # not imported: not in a worker
    if distributed is not None:
        try:
            distributed.get_worker()
        except (ValueError, AttributeError):
            pass
        else:
            return 1
    return None


def _forward_block(x, *, params, num_threads):
    return _api.lrn(x, **params, num_threads=_block_threads(num_threads))


def _window_block(x, *, w, num_threads):
    return _api._forward(x, w.lo, w.hi, w.a, w.beta, w.k, w.region, w.channel_axis, None,
                         _block_threads(num_threads))


def _backward_block(x, dy, *, params, num_threads):
    return _api.lrn_backward(x, dy, **params, num_threads=_block_threads(num_threads))


# ---------------------------------------------------------------- graph


def _as_dask(x, name):
    if not isinstance(x, da.Array):
        x = da.asarray(V.as_array(x, name))
    meta = getattr(x, "_meta", None)
    if meta is not None and type(meta) is not np.ndarray:
        raise TypeError(f"{name} must be a dask array of NumPy chunks, got chunks of "
                        f"type {type(meta).__module__}.{type(meta).__name__}")
    return x


def _prepare(x, size, alpha, beta, k, region, channel_axis, average, num_threads):
    x = _as_dask(x, "x")
    dtype = V.compute_dtype(x.dtype)
    w = V.resolve(x.ndim, size, alpha, beta, k, region, channel_axis, average)
    resolve_num_threads(num_threads)  # num_threads=0 and wrong types fail here
    params = dict(size=size, alpha=alpha, beta=beta, k=k, region=region,
                  channel_axis=channel_axis, average=average)
    return x, dtype, w, params


def _depth(x, w, before, after):
    """map_overlap depths for the split window axes; {} when none is split."""
    depth = {}
    for ax in w.axes:
        n = x.shape[ax]
        if len(x.chunks[ax]) > 1:
            lo, hi = min(before, n - 1), min(after, n - 1)
            if lo or hi:
                depth[ax] = (lo, hi)
    return depth


def _apply(func, arrays, depth, dtype):
    ndim = arrays[0].ndim
    meta = np.empty((0,) * ndim, dtype=dtype)
    if not depth:
        return da.map_blocks(func, *arrays, dtype=dtype, meta=meta)
    return da.map_overlap(func, *arrays, depth=depth, boundary="none", dtype=dtype,
                          meta=meta)


def lrn(x, size=5, alpha=1e-4, beta=0.75, k=2.0, *, region="across", channel_axis=1,
        average=False, num_threads=None):
    """Local Response Normalization of a dask array, lazily.

    ``fastlrn.lrn`` applied to the whole array, computed block by block; the
    parameters and the formula are those of :func:`fastlrn.lrn` (no `out`:
    store the result with ``dask.array.store`` or ``to_zarr``).

    Parameters
    ----------
    x : dask.array.Array, shape (N, ..., C, ...)
        Chunks must be NumPy arrays. Any chunking: blocks are extended along
        split window axes by ``map_overlap``. Other array-likes are wrapped
        as a one-chunk dask array.
    size, alpha, beta, k, region, channel_axis, average
        As for :func:`fastlrn.lrn`.
    num_threads : int, optional
        Threads per block. ``None``: one inside a ``dask.distributed``
        worker, OpenMP's default elsewhere. Otherwise as for
        :func:`fastlrn.lrn`.

    Returns
    -------
    y : dask.array.Array
        The shape and chunks of `x` (after any rechunking ``map_overlap``
        needs), dtype float32 or float64 as for :func:`fastlrn.lrn`.

    Raises
    ------
    TypeError, ValueError
        As for :func:`fastlrn.lrn`, when the graph is built; ``TypeError``
        for chunks that are not NumPy arrays.

    Examples
    --------
    >>> import dask.array as da
    >>> import fastlrn.dask
    >>> x = da.ones((2, 64, 8, 8), chunks=(1, 16, 8, 8), dtype="float32")
    >>> y = fastlrn.dask.lrn(x, size=5)     # lazy; channel chunks overlap by 2
    >>> y.compute().shape
    (2, 64, 8, 8)
    """
    x, dtype, w, params = _prepare(x, size, alpha, beta, k, region, channel_axis,
                                   average, num_threads)
    func = partial(_forward_block, params=params, num_threads=num_threads)
    return _apply(func, [x], _depth(x, w, w.lo, w.hi), dtype)


def _forward_window(x, w, num_threads=None):
    """:func:`lrn` with a resolved window (a ``fastlrn._validation.Window``).

    For ``fastlrn.io``, whose ``convention=`` windows (from fastlrn.compat)
    include placements no ``size`` gives (ONNX's even sizes). The caller has
    checked ``w`` against ``x``'s rank.
    """
    x = _as_dask(x, "x")
    dtype = V.compute_dtype(x.dtype)
    resolve_num_threads(num_threads)
    func = partial(_window_block, w=w, num_threads=num_threads)
    return _apply(func, [x], _depth(x, w, w.lo, w.hi), dtype)


def lrn_backward(x, dy, size=5, alpha=1e-4, beta=0.75, k=2.0, *, region="across",
                 channel_axis=1, average=False, num_threads=None):
    """Gradient of :func:`lrn` with respect to `x`, lazily (``fastlrn.lrn_backward``).

    Parameters
    ----------
    x : dask.array.Array
        The forward input.
    dy : dask.array.Array or array_like, the shape of `x`
        The upstream gradient; cast like `x`. Its chunks are unified with
        those of `x`.
    size, alpha, beta, k, region, channel_axis, average, num_threads
        As for :func:`lrn`.

    Returns
    -------
    dx : dask.array.Array
        ``dL/dx``, the shape of `x`, dtype as for :func:`lrn`.

    Raises
    ------
    TypeError, ValueError
        As for :func:`fastlrn.lrn_backward`, when the graph is built.

    Examples
    --------
    >>> import dask.array as da
    >>> import fastlrn.dask
    >>> x = da.ones((2, 64, 8, 8), chunks=(1, 16, 8, 8), dtype="float32")
    >>> dx = fastlrn.dask.lrn_backward(x, da.ones_like(x), size=5)  # overlap 4
    >>> dx.compute().shape
    (2, 64, 8, 8)
    """
    x, dtype, w, params = _prepare(x, size, alpha, beta, k, region, channel_axis,
                                   average, num_threads)
    dy = _as_dask(dy, "dy")
    V.compute_dtype(dy.dtype, "dy")
    if dy.shape != x.shape:
        raise ValueError(f"dy must have the shape of x {x.shape}, got shape {dy.shape}")
    if dy.chunks != x.chunks:
        dy = dy.rechunk(x.chunks)
    func = partial(_backward_block, params=params, num_threads=num_threads)
    reach = w.lo + w.hi  # size - 1: the mirrored window of the window
    return _apply(func, [x, dy], _depth(x, w, reach, reach), dtype)
