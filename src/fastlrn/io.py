"""LRN of arrays stored on disk, larger than memory: :func:`apply`.

``python -m fastlrn apply IN OUT`` is this module's :func:`apply` on the
command line. Nothing in fastlrn imports this module; it imports the core,
``fastlrn.compat`` for ``convention=`` and, for zarr stores only,
``fastlrn.dask``, dask and zarr.

How a ``.npy`` file is processed:

1. The header is read and checked (magic string, dtype, shape, whether
   the file holds as many bytes as the header says) before anything is
   written, and so is the free disk space for the output
   (``shutil.disk_usage``).
2. The output is written to a temporary file beside OUT
   (``.OUT.PID-XXXXXXXX.tmp``).
3. The array is cut into blocks of at most ``chunk_mb`` MiB of working
   memory (``_plan``): whole along every window axis where that fits (no
   overlap), else split along a window axis too, each block read with the
   halo its windows need (``size // 2`` before, ``(size - 1) // 2`` after)
   and only its interior written. Each block is computed by the same kernel
   call as ``fastlrn.lrn`` (or the compat function), so the file's result
   equals the in-memory one bit for bit.
4. Blocks are read and written with positional I/O into buffers reused
   from block to block (``_Data``), so the resident memory stays at about
   ``chunk_mb`` plus the kernels' per-thread scratch whatever the file's
   size.
5. The output is ``fsync``-ed, then ``os.replace``-d onto OUT: OUT is
   either its earlier content or the complete result, never a half-written
   file. On an error, ``KeyboardInterrupt`` or (in the command) SIGTERM the
   temporary file is removed. A process killed outright (SIGKILL, power
   loss) leaves it behind; the next run that writes the same OUT removes
   such files once no process of their PID runs.

``in_place=True`` processes the file itself, block by block: each block
(with its halo) is copied into memory, normalised there, and written back.
Where blocks are split along a window axis, the original values of the
previous block's last ``size // 2`` positions are kept and put back into
the next block's halo, so the result equals the out-of-place one. An
interrupt leaves the file partly normalised (blocks before it done, later
ones original).
"""

import contextlib
import errno
import importlib
import inspect
import itertools
import math
import numbers
import os
import re
import secrets
import shutil
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.lib import format as npformat

from . import _api
from . import _validation as V
from ._threads import resolve_num_threads

__all__ = ["apply", "Summary"]

MiB = 2**20

#: dtypes a file may hold. Computed in float32 (float16, float32) or float64.
ACCEPTED_DTYPES = ("float16", "float32", "float64")

#: ``convention=``: the fastlrn.compat module and its forward function.
CONVENTIONS = {
    "torch": "local_response_norm",
    "tensorflow": "lrn",
    "onnx": "lrn",
    "caffe": "lrn",
    "onednn": "lrn",
    "mxnet": "lrn",
}

# fastlrn.lrn's keyword parameters and defaults (SPEC section 2).
LRN_DEFAULTS = dict(size=5, alpha=1e-4, beta=0.75, k=2.0, region="across",
                    channel_axis=1, average=False)

# Per block, beside the data: the cost of one kernel call and its Python
# around it, counted as bytes of traffic when plans are compared (a block
# costs about 50-100 us, a copy moves ~3 GB/s).
_BLOCK_OVERHEAD = 256 * 1024


# ---------------------------------------------------------------- summary


@dataclass(frozen=True)
class Summary:
    """What :func:`apply` did: files, bytes, time, and the time of a copy.

    Parameters
    ----------
    files : int
        Files written (an ``.npz`` file or a zarr store counts once).
    bytes : int
        Bytes of array data normalised (the inputs' data, in their dtype).
    seconds : float
        Wall time of the work (reading, computing, writing, syncing).
    copy_seconds : float
        Time a plain NumPy copy of the same bytes takes, at the rate of a
        copy of one block measured in the same process.

    Attributes
    ----------
    gb_per_s : float
        ``bytes / seconds / 1e9``.
    x_copy : float
        ``seconds / copy_seconds``: the work as a multiple of a copy.

    Examples
    --------
    >>> from fastlrn.io import Summary
    >>> s = Summary(files=1, bytes=2_000_000_000, seconds=2.0, copy_seconds=0.5)
    >>> s.gb_per_s, s.x_copy
    (1.0, 4.0)
    >>> print(s)
    1 file, 2.00 GB in 2.00 s, 1.00 GB/s, 4.0x a copy of the same bytes
    """

    files: int
    bytes: int
    seconds: float
    copy_seconds: float

    @property
    def gb_per_s(self):
        return self.bytes / self.seconds / 1e9 if self.seconds > 0 else float("inf")

    @property
    def x_copy(self):
        return self.seconds / self.copy_seconds if self.copy_seconds > 0 else float("nan")

    def __str__(self):
        files = f"{self.files} file" + ("" if self.files == 1 else "s")
        return (f"{files}, {self.bytes / 1e9:.2f} GB in {self.seconds:.2f} s, "
                f"{self.gb_per_s:.2f} GB/s, {self.x_copy:.1f}x a copy of the same bytes")


# ---------------------------------------------------------------- parameters


def _check_chunk_mb(chunk_mb):
    if isinstance(chunk_mb, (bool, np.bool_)) or not isinstance(chunk_mb, numbers.Real):
        raise V._fail(TypeError, "chunk_mb", "a positive number of MiB", chunk_mb)
    v = float(chunk_mb)
    if not (math.isfinite(v) and v > 0):
        raise V._fail(ValueError, "chunk_mb", "a positive number of MiB", chunk_mb)
    return v


def _check_dtype(dtype):
    if dtype is None:
        return None
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise V._fail(ValueError, "dtype", "None, 'float32' or 'float64'", dtype)
    return dt


def _compute_dtype(path, dtype, out_dtype):
    """The dtype IN's data is computed in and OUT is written in."""
    if dtype.kind != "f" or dtype.itemsize not in (2, 4, 8) or dtype.fields is not None:
        kinds = {"i": "integers", "u": "unsigned integers", "b": "booleans",
                 "c": "complex numbers", "O": "Python objects", "V": "records",
                 "U": "strings", "S": "bytes", "M": "datetimes", "m": "timedeltas",
                 "f": "extended precision floats"}
        what = kinds.get(dtype.kind, "values that are not floats")
        raise TypeError(
            f"{path}: holds {what} (dtype {dtype}); fastlrn apply accepts float16, "
            f"float32 and float64 arrays only (convert the data first, e.g. with "
            f".astype('float32'))")
    if out_dtype is not None:
        return out_dtype
    return np.dtype(np.float64) if dtype.itemsize == 8 else np.dtype(np.float32)


def _window(path, shape, cdtype, convention, params):
    """The LRN call's window as a ``_validation.Window``, checked for ``shape``.

    Without a convention, ``params`` are ``fastlrn.lrn``'s keywords; with
    one, the keywords of that fastlrn.compat function, resolved by its own
    ``_params`` (the same checks and translation the function makes).
    """
    ndim = len(shape)
    try:
        if convention is None:
            unknown = sorted(set(params) - set(LRN_DEFAULTS))
            if unknown:
                raise TypeError(
                    f"unknown LRN parameter {', '.join(unknown)}; fastlrn.lrn takes "
                    f"{', '.join(LRN_DEFAULTS)} (or pass convention=)")
            p = dict(LRN_DEFAULTS, **params)
            return V.resolve(ndim, p["size"], p["alpha"], p["beta"], p["k"], p["region"],
                             p["channel_axis"], p["average"])
        mod, fn = _convention(convention)
        sig = inspect.signature(fn)
        names = _convention_parameters(fn)
        unknown = sorted(set(params) - set(names))
        if unknown:
            raise TypeError(
                f"convention {convention!r} has no parameter {', '.join(unknown)}; its "
                f"parameters are {', '.join(names)}")
        missing = [n for n in names if sig.parameters[n].default is inspect.Parameter.empty
                   and n not in params]
        if missing:
            raise TypeError(f"convention {convention!r} needs {', '.join(missing)}")
        dummy = np.lib.stride_tricks.as_strided(np.zeros(1, cdtype), shape=shape,
                                                strides=(0,) * ndim)
        bound = sig.bind(dummy, **params)
        bound.apply_defaults()
        args = {n: bound.arguments[n] for n in inspect.signature(mod._params).parameters}
        _, (lo, hi, a, beta, k, region, ax) = mod._params(**args)
    except (TypeError, ValueError) as e:
        msg = str(e)
        if msg.startswith("x must"):   # fastlrn.lrn's name for its input
            msg = "the array must" + msg[len("x must"):]
        raise type(e)(f"{path}: {msg}") from None
    axes = (ax,) if region == "across" else tuple(i for i in range(ndim) if i not in (0, ax))
    return V.Window(lo=lo, hi=hi, a=a, beta=beta, k=k, region=region, channel_axis=ax,
                    axes=axes)


def _convention(convention):
    if convention not in CONVENTIONS:
        raise ValueError(f"convention must be None or one of "
                         f"{', '.join(map(repr, CONVENTIONS))}, got {convention!r}")
    mod = importlib.import_module(f"fastlrn.compat.{convention}")
    return mod, getattr(mod, CONVENTIONS[convention])


def _convention_parameters(fn):
    """A compat function's LRN parameters: all but the input, out and num_threads."""
    names = list(inspect.signature(fn).parameters)[1:]
    return [n for n in names if n not in ("out", "num_threads")]


# ---------------------------------------------------------------- .npy headers


@dataclass(frozen=True)
class _Header:
    shape: tuple
    dtype: np.dtype
    fortran: bool
    offset: int       # bytes before the data

    @property
    def nbytes(self):
        return math.prod(self.shape) * self.dtype.itemsize


def _read_header(f, name):
    """Parse a .npy header from the file object ``f``; ValueError names ``name``."""
    try:
        version = npformat.read_magic(f)
    except (ValueError, EOFError):
        raise ValueError(f"{name}: not a .npy file (it does not start with the .npy "
                         "magic string)") from None
    readers = {(1, 0): npformat.read_array_header_1_0, (2, 0): npformat.read_array_header_2_0}
    if version not in readers:
        raise ValueError(f"{name}: .npy format version {version[0]}.{version[1]} is not "
                         "supported (only 1.0 and 2.0: numeric arrays)")
    try:
        shape, fortran, dtype = readers[version](f, max_header_size=2**20)
    except (ValueError, EOFError, SyntaxError, TypeError) as e:
        raise ValueError(f"{name}: corrupt .npy header ({e})") from None
    return _Header(tuple(int(n) for n in shape), np.dtype(dtype), bool(fortran), f.tell())


def _npy_header(path):
    try:
        with open(path, "rb") as f:
            h = _read_header(f, path)
            size = os.fstat(f.fileno()).st_size
    except IsADirectoryError:
        raise ValueError(f"{path}: is a directory, not a .npy file") from None
    if size < h.offset + h.nbytes:
        raise ValueError(
            f"{path}: truncated .npy file: its header says shape {h.shape} of {h.dtype} "
            f"({h.nbytes} bytes of data), the file holds {max(size - h.offset, 0)}")
    return h


def _write_header(f, shape, dtype, fortran):
    d = {"descr": npformat.dtype_to_descr(dtype), "fortran_order": fortran,
         "shape": tuple(shape)}
    try:
        npformat.write_array_header_1_0(f, d)
    except ValueError:  # a header over 64 KiB
        npformat.write_array_header_2_0(f, d)
    return f.tell()


def _sniff(path):
    """'npy', 'npz' or 'zarr' by content; ValueError for anything else."""
    path = Path(path)
    if path.is_dir():
        if (path / "zarr.json").is_file() or (path / ".zarray").is_file():
            return "zarr"
        if (path / ".zgroup").is_file():
            raise ValueError(f"{path}: is a zarr group; give the path of one array in it")
        return "dir"
    with open(path, "rb") as f:
        head = f.read(6)
    if head == b"\x93NUMPY":
        return "npy"
    if head[:4] == b"PK\x03\x04" or head[:4] == b"PK\x05\x06":
        return "npz"
    raise ValueError(f"{path}: not an array file (expected a .npy file, a .npz file or "
                     "a zarr store)")


# ---------------------------------------------------------------- temp files


def _temp_name(out, extra=""):
    return out.parent / f".{out.name}.{os.getpid()}-{secrets.token_hex(4)}{extra}.tmp"


def _pid_running(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: another user's process
        return True
    return True


def _remove_stale(out):
    """Remove temporary files of OUT left by runs that were killed.

    Only files named by :func:`_temp_name` for this very OUT whose process
    is no longer running (POSIX; elsewhere they are left alone).
    """
    if os.name != "posix" or not out.parent.is_dir():
        return
    pattern = re.compile(re.escape(f".{out.name}.") + r"(\d+)-[0-9a-f]{8}(\.[^/]*)?\.tmp$")
    for p in out.parent.iterdir():
        m = pattern.match(p.name)
        if m and int(m.group(1)) != os.getpid() and not _pid_running(int(m.group(1))):
            _remove(p)


def _remove(p):
    with contextlib.suppress(FileNotFoundError):
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p)
        else:
            p.unlink()


def _fsync_dir(d):
    if os.name != "posix":
        return
    fd = os.open(d, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _size(n):
    """Bytes for people: 12.3 MB, 4.56 GB (powers of 1000)."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.2f} {unit}"
    return f"{n} bytes"


def _check_space(out, need):
    free = shutil.disk_usage(out.parent).free
    if free < need:
        raise OSError(errno.ENOSPC,
                      f"not enough disk space for {out}: it needs {_size(need)}, "
                      f"{_size(free)} free in {out.parent}")


def _create(tmp):
    try:
        return open(tmp, "x+b", buffering=0)
    except OSError as e:
        raise OSError(e.errno, f"cannot write {tmp.parent}: {e.strerror}") from None


# ---------------------------------------------------------------- block I/O


class _Data:
    """A .npy file's data, read and written a block at a time.

    Blocks are given as slices of the data as stored ("physical" axes: the
    file's axes, reversed for a Fortran-ordered file, so that the last axis
    is contiguous). Reads and writes are positional (``readinto`` / ``write``
    at an offset, one per contiguous run of the block) into buffers the
    caller reuses: nothing of the file is mapped, so the process holds only
    those buffers, whatever the file's size. (Memory-mapping was slower here,
    a page fault per page, and the kernel maps whole page-cache folios,
    up to 2 MiB, around each access: a strided block counted up to ten times
    its size in resident memory.)
    """

    def __init__(self, f, header):
        self.f = f
        self.header = header
        self.shape = header.shape[::-1] if header.fortran else header.shape
        isz = header.dtype.itemsize
        strides, step = [], isz
        for n in reversed(self.shape):
            strides.append(step)
            step *= n
        self.strides = strides[::-1]

    def logical(self, a):
        """A block in the file's own axes (a transpose, or ``a`` itself)."""
        return a.T if self.header.fortran else a

    def _runs(self, slices):
        """(file offset, index in the block) of each contiguous run of ``slices``."""
        j = max((a for a, (s, n) in enumerate(zip(slices, self.shape))
                 if (s.start, s.stop) != (0, n)), default=0)
        base = self.header.offset + sum(s.start * st for s, st in
                                        zip(slices[j:j + 1], self.strides[j:j + 1]))
        for idx in itertools.product(*(range(s.start, s.stop) for s in slices[:j])):
            off = base + sum(i * st for i, st in zip(idx, self.strides))
            yield off, tuple(i - s.start for i, s in zip(idx, slices))

    def read(self, slices, buf):
        """Fill ``buf`` (C-contiguous, the block's shape and file dtype) from the file."""
        for off, idx in self._runs(slices):
            mv = memoryview(buf[idx].reshape(-1).view(np.uint8))
            self.f.seek(off)
            while mv.nbytes:
                got = self.f.readinto(mv)
                if not got:
                    raise ValueError(f"{self.f.name}: the file ended early (truncated "
                                     "while being read?)")
                mv = mv[got:]

    def write(self, slices, block):
        """Write ``block`` (the region's shape, file dtype) into the region ``slices``."""
        for off, idx in self._runs(slices):
            mv = memoryview(np.ascontiguousarray(block[idx]).reshape(-1).view(np.uint8))
            self.f.seek(off)
            while mv.nbytes:
                mv = mv[self.f.write(mv):]


class _Buffers:
    """Flat arrays reused from block to block, viewed in each block's shape."""

    def __init__(self):
        self.flat = {}

    def get(self, name, shape, dtype):
        n = math.prod(shape)
        a = self.flat.get(name)
        if a is None or a.size < n or a.dtype != dtype:
            a = self.flat[name] = np.empty(n, dtype)
        return a[:n].reshape(shape)


# ---------------------------------------------------------------- blocks


def _halos(shape, w, axes):
    """(before, after) halo per physical axis: the window's reach, capped."""
    return [(min(w.lo, n - 1), min(w.hi, n - 1)) if ax in axes else (0, 0)
            for ax, n in enumerate(shape)]


def _plan(shape, halos, budget, per_elem, in_isz, in_place):
    """How to cut a C-ordered array into blocks: ``(S, L, step)`` or None (whole).

    A block holds one index (plus its halo) along each axis in ``S``, a run
    of ``step`` (plus halo) along axis ``L``, and everything along the other
    axes. Of all such plans whose working memory (``per_elem`` bytes per
    element of a block) fits ``budget``, the one that moves the fewest
    bytes wins (halos are read twice, each contiguous run costs a system
    call, each block :data:`_BLOCK_OVERHEAD`). In place, only axis ``L`` may
    have a halo (see :func:`_run_in_place`). If no plan fits, the one with
    the smallest blocks is used.
    """
    n = len(shape)
    total = math.prod(shape)
    if total * per_elem <= budget:
        return None
    best = fallback = None
    for L in range(n):
        outer = [a for a in range(L) if shape[a] > 1]
        if len(outer) <= 8:
            subsets = itertools.chain.from_iterable(
                itertools.combinations(outer, r) for r in range(len(outer) + 1))
        else:
            subsets = [tuple(outer), tuple(a for a in outer if halos[a] == (0, 0))]
        for S in subsets:
            if in_place and any(sum(halos[a]) for a in S):
                continue
            ext = list(shape)
            for a in S:
                ext[a] = min(shape[a], 1 + sum(halos[a]))
            hl = sum(halos[L])
            pieces = math.prod(ext[:L])
            unit = pieces * math.prod(shape[L + 1:]) * per_elem
            step = min(shape[L], int(budget // unit) - hl)
            footprint = unit * min(shape[L], max(step, 1) + hl)
            if fallback is None or footprint < fallback[0]:
                fallback = (footprint, (S, L, 1))
            if step < 1:
                continue
            nb = -(-shape[L] // step)
            read = (math.prod(shape[a] * (ext[a] if a in S else 1) for a in range(L))
                    * (shape[L] + nb * hl) * math.prod(shape[L + 1:]))
            blocks = math.prod(shape[a] for a in S) * nb
            cost = read * in_isz + blocks * pieces * 4096 + blocks * _BLOCK_OVERHEAD
            if best is None or cost < best[0]:
                best = (cost, (S, L, step))
    return best[1] if best is not None else fallback[1]


def _blocks(shape, halos, plan):
    """Yield ``(outer, read, rel, write)`` slices per block, in file order.

    ``read``: the block with its halo; ``write``: its interior (in the
    array); ``rel``: the interior within the read block. ``outer`` changes
    when a new run of blocks along the plan's axis ``L`` starts.
    """
    full = tuple(slice(0, s) for s in shape)
    if plan is None:
        yield (), full, full, full
        return
    S, L, step = plan
    for idx in itertools.product(*(range(shape[a]) for a in S)):
        read, rel, write = list(full), list(full), list(full)
        for a, i in zip(S, idx):
            r0 = max(0, i - halos[a][0])
            read[a] = slice(r0, min(shape[a], i + halos[a][1] + 1))
            rel[a] = slice(i - r0, i - r0 + 1)
            write[a] = slice(i, i + 1)
        hb, ha = halos[L]
        for a0 in range(0, shape[L], step):
            b0 = min(shape[L], a0 + step)
            r0 = max(0, a0 - hb)
            read[L] = slice(r0, min(shape[L], b0 + ha))
            rel[L] = slice(a0 - r0, b0 - r0)
            write[L] = slice(a0, b0)
            yield idx, tuple(read), tuple(rel), tuple(write)


def _per_elem(in_dtype, cdtype, in_place):
    """Working bytes per element of a block: the buffers of _run_*."""
    cast = in_dtype != cdtype
    if in_place:
        return in_dtype.itemsize + (cdtype.itemsize if cast else 0)
    return in_dtype.itemsize + cdtype.itemsize * (2 if cast else 1)


def _prepare_blocks(header, w, cdtype, chunk_bytes, in_place):
    """(physical shape, halos, plan, largest block's input bytes) of a file."""
    shape = header.shape[::-1] if header.fortran else header.shape
    axes = {len(shape) - 1 - a for a in w.axes} if header.fortran else set(w.axes)
    halos = _halos(shape, w, axes)
    per = _per_elem(header.dtype, cdtype, in_place)
    plan = _plan(shape, halos, chunk_bytes, per, header.dtype.itemsize, in_place)
    if plan is None:
        block = math.prod(shape)
    else:
        S, L, step = plan
        block = (math.prod(min(shape[a], 1 + sum(halos[a])) if a in S else shape[a]
                           for a in range(len(shape)) if a != L)
                 * min(shape[L], step + sum(halos[L])))
    return shape, halos, plan, block * header.dtype.itemsize


def _ext(slices):
    return tuple(s.stop - s.start for s in slices)


def _kernel(x, w, out, nthreads):
    """One block: exactly the kernel call fastlrn.lrn / the compat function makes."""
    return _api._forward(x, w.lo, w.hi, w.a, w.beta, w.k, w.region, w.channel_axis, out,
                         nthreads)


def _run_out_of_place(src, dst, w, cdtype, nthreads, shape, halos, plan, progress):
    """Each block: read (with its halo), normalise into a buffer, write its interior."""
    bufs = _Buffers()
    isz = src.header.dtype.itemsize
    for _, read, rel, write in _blocks(shape, halos, plan):
        ext = _ext(read)
        buf = bufs.get("in", ext, src.header.dtype)
        src.read(read, buf)
        x = buf
        if buf.dtype != cdtype:
            x = bufs.get("cast", ext, cdtype)
            np.copyto(x, buf)
        y = bufs.get("out", ext, cdtype)
        _kernel(src.logical(x), w, src.logical(y), nthreads)
        dst.write(write, y[rel])
        progress.update(math.prod(_ext(write)) * isz)


def _run_in_place(data, w, cdtype, nthreads, shape, halos, plan, progress):
    """Normalise the file of ``data`` in place, block by block.

    Only the plan's axis ``L`` carries a halo (``_plan`` sees to it). Each
    block is read with its halo, normalised in memory and its interior
    written back; the halo before it lies in the previous block, already
    written, so the original values of the last ``lo`` positions of each
    block are kept and put back into the next block first.
    """
    L = plan[1] if plan is not None else 0
    before = halos[L][0] if plan is not None else 0   # one block: nothing to carry
    bufs = _Buffers()
    dtype = data.header.dtype
    carry, key = None, None
    for outer, read, rel, write in _blocks(shape, halos, plan):
        if outer != key:
            carry, key = None, outer
        ext = _ext(read)
        buf = bufs.get("in", ext, dtype)
        data.read(read, buf)
        x = buf
        if dtype != cdtype:
            x = bufs.get("cast", ext, cdtype)
            np.copyto(x, buf)
        head = rel[L].start                            # halo positions before the block
        if head and carry is not None:
            x[(slice(None),) * L + (slice(0, head),)] = carry[
                (slice(None),) * L + (slice(carry.shape[L] - head, None),)]
        if before:                                     # originals the next block needs
            keep = slice(max(0, rel[L].stop - before), rel[L].stop)
            carry = x[(slice(None),) * L + (keep,)].copy()
        xl = data.logical(x)
        _kernel(xl, w, xl, nthreads)
        if x is not buf:
            np.copyto(buf, x)                          # back to the file's dtype
        data.write(write, buf[rel])
        progress.update(math.prod(_ext(write)) * dtype.itemsize)


# ---------------------------------------------------------------- progress


class _Progress:
    """A tqdm bar of bytes done (GB, GB/s, ETA) when enabled and tqdm imports."""

    def __init__(self, total, enabled, desc="fastlrn apply"):
        self.bar = None
        if not enabled or total <= 0:
            return
        try:
            from tqdm import tqdm
        except ImportError:
            return
        kw = dict(total=total / 1e9, desc=desc, unit="GB", file=sys.stderr,
                  dynamic_ncols=True, leave=False,
                  bar_format="{l_bar}{bar}| {n:.2f}/{total:.2f} GB "
                             "[{elapsed}<{remaining}, {rate_fmt}]")
        try:
            self.bar = tqdm(delay=0.5, **kw)
        except TypeError:  # tqdm < 4.60: no delay
            self.bar = tqdm(**kw)

    def update(self, nbytes):
        if self.bar is not None:
            self.bar.update(nbytes / 1e9)

    def close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _copy_seconds_per_byte(block_bytes, chunk_bytes):
    """Seconds per byte of a plain NumPy copy of one block (best of three).

    The block: the largest one the work reads, at most half of the memory
    budget (the copy's source and destination fit in it), at least 64 KiB.
    """
    n = int(max(min(block_bytes, chunk_bytes // 2), 1 << 16))
    src = np.ones(n, np.uint8)
    dst = np.empty_like(src)
    np.copyto(dst, src)
    best = math.inf
    for _ in range(3):
        t = time.perf_counter()
        np.copyto(dst, src)
        best = min(best, time.perf_counter() - t)
    return best / n


# ---------------------------------------------------------------- jobs


class _Job:
    """One IN -> OUT: checked on creation, run by ``run``."""

    nbytes = 0
    block_bytes = 0
    in_tree = False      # one file of a directory IN: apply makes OUT's directories

    def __init__(self, src, dst, opts):
        self.src, self.dst, self.opts = src, dst, opts

    def check_out(self):
        dst = self.dst
        if dst is None:
            return
        if dst.exists() and (dst.resolve() == self.src.resolve()
                             or os.path.samefile(dst, self.src)):
            raise ValueError(f"OUT is the same file as IN ({self.src}); to normalise IN "
                             "itself use --in-place (in_place=True)")
        if not self.in_tree and not dst.parent.is_dir():
            raise FileNotFoundError(errno.ENOENT, f"OUT's directory {dst.parent} does not "
                                                  "exist", str(dst.parent))


class _NpyJob(_Job):
    def __init__(self, src, dst, opts):
        super().__init__(src, dst, opts)
        self.header = h = _npy_header(src)
        self.cdtype = _compute_dtype(src, h.dtype, opts["dtype"])
        self.w = _window(src, h.shape, self.cdtype, opts["convention"], opts["params"])
        if opts["in_place"]:
            _check_in_place(src, h.dtype, self.cdtype)
        self.layout = _prepare_blocks(h, self.w, self.cdtype, opts["chunk_bytes"],
                                      opts["in_place"])
        self.nbytes = h.nbytes
        self.block_bytes = self.layout[3]

    def run(self, progress):
        if self.opts["in_place"]:
            with open(self.src, "r+b", buffering=0) as f:
                _process_in_place(f, self.header, self.w, self.cdtype, self.opts, self.layout,
                                  progress)
            return
        _write_replacing(self.dst, lambda tmp: _npy_to_npy(
            self.src, self.header, tmp, self.w, self.cdtype, self.opts, self.layout,
            progress))


def _check_in_place(src, dtype, cdtype):
    if dtype.itemsize == 2:
        raise ValueError(f"{src}: holds float16; in place, the float32 result would be "
                         "rounded back to float16: write it to OUT instead")
    if dtype.newbyteorder("=") != cdtype.newbyteorder("="):
        raise ValueError(f"{src}: holds {dtype}, and in place the result must be written "
                         f"in the file's dtype; --dtype {cdtype} needs an OUT")


def _process_in_place(f, header, w, cdtype, opts, layout, progress):
    if header.nbytes == 0:
        return
    shape, halos, plan, _ = layout
    _run_in_place(_Data(f, header), w, cdtype, opts["nthreads"], shape, halos, plan,
                  progress)
    f.flush()
    os.fsync(f.fileno())


def _npy_to_npy(src, header, tmp, w, cdtype, opts, layout, progress):
    """Write the LRN of the .npy ``src`` into the new file ``tmp`` (not renamed)."""
    with _create(tmp) as f:
        offset = _write_header(f, header.shape, cdtype, header.fortran)
        out_header = _Header(header.shape, cdtype, header.fortran, offset)
        f.truncate(offset + out_header.nbytes)
        if header.nbytes:
            with open(src, "rb", buffering=0) as fin:
                shape, halos, plan, _ = layout
                _run_out_of_place(_Data(fin, header), _Data(f, out_header), w, cdtype,
                                  opts["nthreads"], shape, halos, plan, progress)
        os.fsync(f.fileno())


def _write_replacing(dst, write):
    """``write(tmp)`` a temporary beside ``dst``, then rename it onto ``dst``.

    The temporary is removed on any error and on KeyboardInterrupt; ``dst``
    keeps its earlier content until the rename.
    """
    _remove_stale(dst)
    tmp = _temp_name(dst)
    try:
        write(tmp)
        if dst.exists() and not dst.is_dir():
            with contextlib.suppress(OSError):
                shutil.copymode(dst, tmp)
        os.replace(tmp, dst)
    except BaseException:
        _remove(tmp)
        raise
    _fsync_dir(dst.parent)


class _NpzJob(_Job):
    def __init__(self, src, dst, opts):
        super().__init__(src, dst, opts)
        if opts["in_place"]:
            raise ValueError(f"{src}: .npz files cannot be normalised in place (their "
                             "arrays may be compressed); write to OUT instead")
        try:
            with zipfile.ZipFile(src) as z:
                infos = z.infolist()
                members = {}
                for info in infos:
                    if info.filename.endswith(".npy"):
                        with z.open(info) as f:
                            members[info.filename[:-4]] = (info, _read_header(
                                f, f"{src}[{info.filename[:-4]}]"))
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as e:
            raise ValueError(f"{src}: not a valid .npz file ({e})") from None
        keys = opts["keys"]
        if keys is None:
            keys = list(members)
        missing = [k for k in keys if k not in members]
        if missing:
            raise ValueError(f"{src}: has no array {', '.join(map(repr, missing))}; its "
                             f"arrays are {', '.join(map(repr, members)) or 'none'}")
        self.infos = infos
        self.jobs = {}
        for key in keys:
            info, h = members[key]
            name = f"{src}[{key}]"
            if info.file_size < h.offset + h.nbytes:
                raise ValueError(
                    f"{name}: truncated .npy data: its header says shape {h.shape} of "
                    f"{h.dtype} ({h.nbytes} bytes), the archive member holds "
                    f"{max(info.file_size - h.offset, 0)}")
            try:
                cdtype = _compute_dtype(name, h.dtype, opts["dtype"])
            except TypeError as e:
                if opts["keys"] is not None:
                    raise
                raise TypeError(f"{e}; choose the arrays to normalise with --key "
                                "(keys=), the others are copied unchanged") from None
            w = _window(name, h.shape, cdtype, opts["convention"], opts["params"])
            layout = _prepare_blocks(h, w, cdtype, opts["chunk_bytes"], False)
            self.jobs[info.filename] = (h, cdtype, w, layout)
            self.nbytes += h.nbytes
            self.block_bytes = max(self.block_bytes, layout[3])

    def run(self, progress):
        largest = max((h.offset + h.nbytes for h, *_ in self.jobs.values()), default=0)
        need = sum(i.file_size for i in self.infos) + 2 * largest
        _check_space(self.dst, need)
        _write_replacing(self.dst, lambda tmp: self._write(tmp, progress))

    def _write(self, tmp, progress):
        temps = []
        try:
            with zipfile.ZipFile(self.src) as zin, _create(tmp) as fz:
                with zipfile.ZipFile(fz, "w", allowZip64=True) as zout:
                    self._members(zin, zout, temps, progress)
                fz.flush()
                os.fsync(fz.fileno())
        except (zipfile.BadZipFile, EOFError) as e:
            raise ValueError(f"{self.src}: corrupt .npz file ({e})") from None
        except Exception as e:
            if type(e).__module__ == "zlib":
                raise ValueError(f"{self.src}: corrupt .npz file ({e})") from None
            raise
        finally:
            for p in temps:
                _remove(p)

    def _members(self, zin, zout, temps, progress):
        """Each member of IN into the open OUT archive (temps: files to remove)."""
        for info in self.infos:
            job = self.jobs.get(info.filename)
            if job is None:        # not normalised: copied as it is
                new = zipfile.ZipInfo(info.filename, info.date_time)
                new.compress_type = info.compress_type
                new.external_attr = info.external_attr
                with zin.open(info) as fi, zout.open(new, "w", force_zip64=True) as fo:
                    shutil.copyfileobj(fi, fo, MiB)
                continue
            h, cdtype, w, layout = job
            part_in = _temp_name(self.dst, ".in")
            part_out = _temp_name(self.dst, ".out")
            temps += [part_in, part_out]
            with zin.open(info) as fi, _create(part_in) as fo:
                shutil.copyfileobj(fi, fo, MiB)
            _npy_to_npy(part_in, h, part_out, w, cdtype, self.opts, layout, progress)
            _remove(part_in)
            zout.write(part_out, info.filename, compress_type=info.compress_type)
            _remove(part_out)


class _ZarrJob(_Job):
    def __init__(self, src, dst, opts):
        super().__init__(src, dst, opts)
        if opts["in_place"]:
            raise ValueError(f"{src}: zarr stores cannot be normalised in place; write to "
                             "OUT instead")
        try:
            import zarr
            import dask.array  # noqa: F401
            from . import dask as fdask
        except ImportError as e:
            raise ValueError(f"{src}: is a zarr store, which needs zarr and dask "
                             f'(pip install zarr "fastlrn[dask]"): {e}') from None
        self.zarr, self.fdask = zarr, fdask
        try:
            self.array = zarr.open_array(str(src), mode="r")
        except Exception as e:  # noqa: BLE001 - zarr's own errors for broken stores
            raise ValueError(f"{src}: not a readable zarr array ({e})") from None
        dtype = np.dtype(self.array.dtype)
        self.cdtype = _compute_dtype(src, dtype, opts["dtype"])
        self.w = _window(src, tuple(self.array.shape), self.cdtype, opts["convention"],
                         opts["params"])
        self.nbytes = math.prod(self.array.shape) * dtype.itemsize
        self.block_bytes = math.prod(self.array.chunks) * dtype.itemsize

    def check_out(self):
        super().check_out()
        if self.dst.exists() and not (self.dst.is_dir() and (
                (self.dst / "zarr.json").is_file() or (self.dst / ".zarray").is_file())):
            raise ValueError(f"OUT {self.dst} exists and is not a zarr array store; "
                             "refusing to replace it")

    def run(self, progress):
        import dask
        import dask.array as da
        from dask.callbacks import Callback

        _check_space(self.dst, self.nbytes * self.cdtype.itemsize
                     // np.dtype(self.array.dtype).itemsize)
        _remove_stale(self.dst)
        tmp = _temp_name(self.dst)
        old = None
        nbytes = self.nbytes

        class _Count(Callback):
            def _start_state(self, dsk, state):
                self.total = max(1, len(dsk))
                self.done = 0

            def _posttask(self, key, result, dsk, state, worker_id):
                self.done += 1
                progress.update(nbytes / self.total)

        try:
            x = da.from_zarr(self.array)
            if x.dtype != self.cdtype:
                x = x.astype(self.cdtype)
            y = self.fdask._forward_window(x, self.w, self.opts["nthreads"])
            kw = dict(mode="w-", shape=self.array.shape, chunks=self.array.chunks,
                      dtype=self.cdtype)
            fmt = getattr(getattr(self.array, "metadata", None), "zarr_format", None)
            if fmt is not None:
                kw["zarr_format"] = fmt
            out = self.zarr.open_array(str(tmp), **kw)
            with _Count(), dask.config.set(scheduler="synchronous"):
                da.store(y, out, lock=False)
            for root, _, files in os.walk(tmp):
                for name in files:
                    fd = os.open(os.path.join(root, name), os.O_RDONLY)
                    try:
                        os.fsync(fd)
                    finally:
                        os.close(fd)
            if self.dst.exists():
                old = _temp_name(self.dst, ".old")
                os.replace(self.dst, old)
            os.replace(tmp, self.dst)
        except BaseException:
            _remove(tmp)
            if old is not None and not self.dst.exists():
                os.replace(old, self.dst)
                old = None
            raise
        finally:
            if old is not None:
                _remove(old)
        _fsync_dir(self.dst.parent)


_JOBS = {"npy": _NpyJob, "npz": _NpzJob, "zarr": _ZarrJob}


def _is_temp(p):
    return p.name.startswith(".") and p.name.endswith(".tmp")


def _collect(src, dst, pattern, opts):
    """The jobs of one call: one per file (several for a directory)."""
    kind = _sniff(src)
    if kind != "dir":
        if pattern is not None:
            raise ValueError(f"pattern is for a directory IN, and {src} is not one")
        if dst is not None:
            want = {"npy": ".npy", "npz": ".npz"}.get(kind)
            if dst.suffix in (".npy", ".npz", ".zarr") and want and dst.suffix != want:
                raise ValueError(f"OUT {dst} must be a {want} file like IN ({src} is a "
                                 f"{kind} file)")
            if kind != "zarr" and dst.is_dir():
                raise ValueError(f"OUT {dst} is a directory; IN {src} is a file")
        return [_JOBS[kind](src, dst, opts)]
    pattern = "*.npy" if pattern is None else pattern
    if dst is not None:
        if dst.exists() and not dst.is_dir():
            raise ValueError(f"OUT {dst} is a file; IN {src} is a directory")
        if dst.resolve() == src.resolve():
            raise ValueError(f"OUT is IN ({src}); to normalise its files in place use "
                             "--in-place (in_place=True)")
    inside = dst.resolve() if dst is not None else None
    jobs = []
    for p in sorted(src.rglob(pattern)):
        if not p.is_file() or _is_temp(p):
            continue
        if inside is not None and inside in p.resolve().parents:
            continue  # an earlier run's output under IN
        kind = _sniff(p)
        rel = p.relative_to(src)
        job = _JOBS[kind](p, None if dst is None else dst / rel, opts)
        job.in_tree = True
        jobs.append(job)
    if not jobs:
        raise ValueError(f"{src}: no file matches the pattern {pattern!r} (in it or its "
                         "subdirectories)")
    return jobs


# ---------------------------------------------------------------- apply


def apply(in_path, out_path=None, *, convention=None, dtype=None, num_threads=None,
          chunk_mb=256, in_place=False, keys=None, pattern=None, progress=False,
          **params):
    """Local Response Normalization of arrays on disk, chunk by chunk.

    Reads `in_path` (a ``.npy`` file, a ``.npz`` file, a zarr array store,
    or a directory of such files), computes ``fastlrn.lrn`` with `params`
    (or the compat function of `convention`) and writes the result to
    `out_path`, in blocks of bounded memory whatever the size of the data.
    The result equals the in-memory function's bit for bit.
    ``python -m fastlrn apply`` is this function on the command line.

    Parameters
    ----------
    in_path : str or os.PathLike
        The input: a ``.npy`` file (memory-mapped), a ``.npz`` file (its
        arrays, or those of `keys`; the others are copied unchanged), a zarr
        array store (needs zarr and dask; processed by ``fastlrn.dask`` with
        the store's chunks and the overlap the window needs), or a directory,
        whose files that match `pattern` are each processed into the same
        relative path under `out_path`. Files must hold float16, float32 or
        float64 data; the format is recognised by content.
    out_path : str or os.PathLike, optional
        Where to write the result; required unless `in_place`. It is written
        as a temporary file beside it (``.NAME.PID-XXXXXXXX.tmp``), synced,
        and renamed onto `out_path` when complete: an earlier `out_path`
        stays intact if the call fails or is interrupted. It must not be
        `in_path` itself.
    convention : {None, "torch", "tensorflow", "onnx", "caffe", "onednn", "mxnet"}
        None: `params` are those of :func:`fastlrn.lrn`. Otherwise they are
        the parameters of that ``fastlrn.compat`` module's forward function
        (e.g. ``depth_radius`` and ``bias`` for ``"tensorflow"``), with its
        defaults and layout.
    dtype : {None, "float32", "float64"}
        The dtype computed in and written. None: float64 for float64 data,
        float32 for float16 and float32 data.
    num_threads : int, optional
        As for :func:`fastlrn.lrn`.
    chunk_mb : float, default 256
        Working memory for the data in flight, in MiB: the blocks read, their
        results and any casts fit in it (beside the kernels' per-thread
        scratch and, for zarr stores, the store's chunks).
    in_place : bool, default False
        Normalise `in_path` itself (``.npy`` files of float32 or float64
        only), block by block, with no temporary file. An interrupt leaves
        the file partly normalised: blocks before the interrupt done, later
        ones original.
    keys : str or sequence of str, optional
        ``.npz`` only: the arrays to normalise (default: all).
    pattern : str, optional
        For a directory `in_path`: the glob matched against file names in it
        and all its subdirectories (default ``"*.npy"``).
    progress : bool, default False
        Show a progress bar on stderr (bytes done, GB/s, time left) when
        ``tqdm`` is installed; without it, nothing is shown.
    **params
        The LRN parameters: ``size``, ``alpha``, ``beta``, ``k``, ``region``,
        ``channel_axis``, ``average`` as for :func:`fastlrn.lrn`, or the
        parameters of `convention`'s function.

    Returns
    -------
    Summary
        Files written, bytes normalised, seconds, GB/s, and the time as a
        multiple of a copy of the same bytes.

    Raises
    ------
    FileNotFoundError
        `in_path` or the directory of `out_path` does not exist.
    TypeError
        A file holds integers, booleans, complex or other non-float data; a
        parameter of the wrong type or unknown to the convention.
    ValueError
        Not an array file, a corrupt or truncated file, a rank the region
        cannot use, a parameter out of range, `out_path` the same file as
        `in_path`, or a combination the format does not allow.
    OSError
        Not enough disk space for `out_path` (checked before writing), or
        `out_path` cannot be written.

    See Also
    --------
    fastlrn.lrn : The in-memory function.
    fastlrn.dask.lrn : The same on dask arrays.

    Examples
    --------
    >>> import os, shutil, tempfile
    >>> import numpy as np, fastlrn, fastlrn.io
    >>> d = tempfile.mkdtemp()
    >>> x = np.random.default_rng(0).standard_normal((4, 16, 8, 8), dtype=np.float32)
    >>> np.save(os.path.join(d, "x.npy"), x)
    >>> s = fastlrn.io.apply(os.path.join(d, "x.npy"), os.path.join(d, "y.npy"),
    ...                      size=5, chunk_mb=0.05)
    >>> s.files, s.bytes
    (1, 16384)
    >>> np.array_equal(np.load(os.path.join(d, "y.npy")), fastlrn.lrn(x, size=5))
    True

    With another framework's parameters, here TensorFlow's (channels last):

    >>> s = fastlrn.io.apply(os.path.join(d, "x.npy"), os.path.join(d, "t.npy"),
    ...                      convention="tensorflow", depth_radius=2)
    >>> from fastlrn.compat import tensorflow as tf_lrn
    >>> np.array_equal(np.load(os.path.join(d, "t.npy")), tf_lrn.lrn(x, depth_radius=2))
    True
    >>> shutil.rmtree(d)
    """
    in_place = V.check_bool("in_place", in_place)
    if in_place and out_path is not None:
        raise ValueError("in_place=True writes IN itself: give no out_path (OUT)")
    if not in_place and out_path is None:
        raise ValueError("out_path (OUT) is required unless in_place=True")
    if convention is not None:
        _convention(convention)
    if isinstance(keys, str):
        keys = [keys]
    elif keys is not None:
        keys = [str(k) for k in keys]
    opts = dict(convention=convention, dtype=_check_dtype(dtype), params=params,
                nthreads=resolve_num_threads(num_threads),
                chunk_bytes=_check_chunk_mb(chunk_mb) * MiB, in_place=in_place, keys=keys)
    src = Path(in_path)
    if not src.exists():
        raise FileNotFoundError(errno.ENOENT, f"{src}: no such file or directory", str(src))
    dst = None if out_path is None else Path(out_path)
    jobs = _collect(src, dst, pattern, opts)
    if keys is not None and not isinstance(jobs[0], _NpzJob):
        raise ValueError("keys (--key) is for .npz files")
    for job in jobs:
        job.check_out()

    total = sum(j.nbytes for j in jobs)
    per_byte = _copy_seconds_per_byte(max(j.block_bytes for j in jobs), opts["chunk_bytes"])
    bar = _Progress(total, progress)
    t0 = time.perf_counter()
    try:
        for job in jobs:
            if job.dst is not None:
                job.dst.parent.mkdir(parents=True, exist_ok=True)
                if isinstance(job, _NpyJob):
                    _check_space(job.dst, job.header.offset + math.prod(job.header.shape)
                                 * job.cdtype.itemsize)
            job.run(bar)
    finally:
        bar.close()
    seconds = time.perf_counter() - t0
    return Summary(files=len(jobs), bytes=total, seconds=seconds,
                   copy_seconds=per_byte * total)
