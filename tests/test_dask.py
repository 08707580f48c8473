"""fastlrn.dask: lazy LRN on dask arrays, equal to the in-memory result.

Chunkings smaller than the window on every axis, both regions, odd and even
sizes, forward and backward; a real ``dask.distributed`` cluster with worker
processes; a memmap-backed array processed chunk by chunk with bounded
worker memory.
"""

import itertools
import subprocess
import sys

import numpy as np
import pytest

import fastlrn
from _frameworks import require
from _util import describe, randn, ulp_error

try:
    import dask.array as da

    import fastlrn.dask as fdask
except ImportError:  # the fixture below skips, or fails under CI
    da = fdask = None


@pytest.fixture(autouse=True, scope="module")
def _needs_dask():
    require("dask.array")


# Blockwise and whole-array results come from the same kernel; each element
# depends on its own window sum only, summed in the same order whatever the
# block, so the results agree to rounding. Issue 7 bounds it by 2 ulp
# (measured here: bit-identical).
MAX_ULP = 2

# "synchronous": one block at a time, deterministic, no thread pool to start.
SYNC = dict(scheduler="synchronous")


def assert_close(got, want, **params):
    assert got.shape == want.shape and got.dtype == want.dtype, (got.shape, got.dtype)
    err = ulp_error(got, want)
    assert err.max(initial=0) <= MAX_ULP, (
        f"{int((err > MAX_ULP).sum())} elements differ by more than {MAX_ULP} ulp "
        f"(worst {err.max():g}); {describe(**params)}")


def smaller_than_window(size, shape):
    """Chunks below the window length on every axis (1 where size <= 2)."""
    c = max(1, (size - 1) // 2)
    return tuple(min(c, n) for n in shape)


REGION_SIZES = list(itertools.product(["across", "within"], [1, 2, 3, 4, 5, 8, 9]))


@pytest.mark.parametrize("region, size", REGION_SIZES)
def test_small_chunks_equal_in_memory(rng, region, size):
    shape = (2, 7, 6, 5)
    x = randn(rng, shape, np.float32)
    dy = randn(rng, shape, np.float32)
    chunks = smaller_than_window(size, shape)
    p = dict(size=size, alpha=0.5, beta=0.75, k=1.0, region=region, average=True)
    y = fdask.lrn(da.from_array(x, chunks=chunks), **p)
    assert isinstance(y, da.Array)
    assert_close(y.compute(**SYNC), fastlrn.lrn(x, **p), chunks=chunks, **p)
    dx = fdask.lrn_backward(da.from_array(x, chunks=chunks),
                            da.from_array(dy, chunks=chunks), **p)
    assert_close(dx.compute(**SYNC), fastlrn.lrn_backward(x, dy, **p), chunks=chunks,
                 direction="backward", **p)


@pytest.mark.parametrize("region", ["across", "within"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_irregular_chunks_channels_last_3d(rng, region, dtype):
    # Channels last, three spatial axes, uneven chunks, float64, dy chunked
    # differently from x, a window (6) wider than some axes.
    shape = (2, 5, 4, 3, 9)
    x = randn(rng, shape, dtype, scale=3.0)
    dy = randn(rng, shape, dtype)
    p = dict(size=6, alpha=1e-2, beta=0.6, k=2.0, region=region, channel_axis=-1)
    dx_chunks = ((1, 1), (2, 3), (1, 3), (1, 1, 1), (4, 1, 4))
    y = fdask.lrn(da.from_array(x, chunks=dx_chunks), **p)
    assert_close(y.compute(**SYNC), fastlrn.lrn(x, **p), **p)
    g = fdask.lrn_backward(da.from_array(x, chunks=dx_chunks), da.from_array(dy, chunks=2),
                           **p)
    assert_close(g.compute(**SYNC), fastlrn.lrn_backward(x, dy, **p), **p)


def test_other_dtypes_and_arrays(rng):
    # Integers compute in float64, as fastlrn.lrn does; a NumPy input is
    # wrapped as one chunk.
    x = rng.integers(-5, 5, size=(2, 6, 3, 3)).astype(np.int16)
    y = fdask.lrn(da.from_array(x, chunks=(1, 2, 3, 3)), size=3)
    assert y.dtype == np.float32 == fastlrn.lrn(x, size=3).dtype
    assert_close(y.compute(**SYNC), fastlrn.lrn(x, size=3))
    assert_close(fdask.lrn(x.astype(np.float64)).compute(**SYNC),
                 fastlrn.lrn(x.astype(np.float64)))


def layers(y):
    return " ".join(y.dask.layers)


def test_whole_window_axes_use_map_blocks():
    x = da.ones((2, 8, 6, 6), chunks=(1, 8, 3, 3), dtype=np.float32)
    # across: the channel axis is one chunk -> no overlap
    assert "overlap" not in layers(fdask.lrn(x))
    assert "overlap" not in layers(fdask.lrn_backward(x, x))
    # within: the spatial axes are split -> overlap
    assert "overlap" in layers(fdask.lrn(x, region="within"))
    # size 1: no neighbours, never an overlap
    assert "overlap" not in layers(fdask.lrn(x.rechunk((1, 1, 1, 1)), size=1,
                                             region="within"))
    y = fdask.lrn(x, region="within")
    assert y.chunks == x.chunks and y.dtype == np.float32
    assert type(y._meta) is np.ndarray and y._meta.dtype == np.float32


def test_errors_when_the_graph_is_built():
    x = da.ones((2, 8, 6, 6), chunks=2)
    with pytest.raises(ValueError, match="size must be a positive integer"):
        fdask.lrn(x, size=0)
    with pytest.raises(ValueError, match="num_threads"):
        fdask.lrn(x, num_threads=0)
    with pytest.raises(ValueError, match="region"):
        fdask.lrn(x, region="diagonal")
    with pytest.raises(TypeError, match="real numbers"):
        fdask.lrn(x.astype(complex))
    with pytest.raises(ValueError, match="dy must have the shape of x"):
        fdask.lrn_backward(x, da.ones((2, 8, 6, 5)))


def test_num_threads_outside_a_worker():
    assert fdask._block_threads(None) is None  # OpenMP's default
    assert fdask._block_threads(3) == 3


def test_importing_fastlrn_imports_neither_dask_nor_torch():
    code = ("import sys, fastlrn; fastlrn.lrn([[1.0, 2.0]]); "
            "bad = {'dask', 'distributed', 'torch', 'jax'} & set(sys.modules); "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_import_error_without_dask():
    code = ("import sys; sys.modules['dask'] = None; sys.modules['dask.array'] = None\n"
            "try:\n    import fastlrn.dask\n"
            "except ImportError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True).stdout
    assert 'pip install "fastlrn[dask]"' in out, out


# ---------------------------------------------------------------- distributed


@pytest.fixture(scope="module")
def client():
    """Two single-threaded worker processes on loopback (starts in ~3 s)."""
    distributed = require("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       host="127.0.0.1", dashboard_address=":0",
                                       memory_limit="1GiB")
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def test_distributed_cluster(client, rng):
    x = randn(rng, (4, 32, 12, 12), np.float32)
    dy = randn(rng, x.shape, np.float32)
    xd = da.from_array(x, chunks=(2, 8, 6, 6))
    for region in ("across", "within"):
        p = dict(size=4, alpha=1e-2, region=region)
        assert_close(client.compute(fdask.lrn(xd, **p)).result(), fastlrn.lrn(x, **p), **p)
        g = fdask.lrn_backward(xd, da.from_array(dy, chunks=(2, 8, 6, 6)), **p)
        assert_close(client.compute(g).result(), fastlrn.lrn_backward(x, dy, **p), **p)
    # Inside a worker the per-block kernels default to one thread.
    assert client.submit(fdask._block_threads, None, pure=False).result() == 1
    assert client.submit(fdask._block_threads, 2, pure=False).result() == 2
    # The work ran in the worker processes, not here.
    pids = set(client.run(lambda: __import__("os").getpid()).values())
    assert len(pids) == 2 and not pids & {__import__("os").getpid()}


# ---------------------------------------------------------------- out of core


class MemmapArray:
    """A .npy-less raw file read and written through short-lived memmaps.

    Picklable by path (a np.memmap would pickle its whole contents): each
    ``__getitem__``/``__setitem__`` maps the file, touches only the slice and
    unmaps it, so a worker's resident memory holds one block at a time.
    """

    def __init__(self, path, shape, dtype):
        self.path, self.shape, self.dtype = str(path), tuple(shape), np.dtype(dtype)
        self.ndim = len(self.shape)

    def _map(self, mode):
        return np.memmap(self.path, dtype=self.dtype, mode=mode, shape=self.shape)

    def __getitem__(self, idx):
        m = self._map("r")
        try:
            return np.array(m[idx])
        finally:
            del m

    def __setitem__(self, idx, value):
        m = self._map("r+")
        try:
            m[idx] = value
            m.flush()
        finally:
            del m


def _peak_rss_reset():
    """Reset this process's peak RSS (VmHWM); False where Linux refuses."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _rss_kib():
    """(current RSS, peak RSS) of this process in KiB, from /proc/self/status."""
    fields = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def run_out_of_core(client, tmp_path, shape, chunks):
    """Write a random memmap, LRN it with dask.store into another, chunk by chunk.

    Returns the largest growth of a worker's peak RSS over its RSS before
    the computation (KiB), after checking the result slab by slab.
    """
    nbytes = int(np.prod(shape)) * 4
    src = MemmapArray(tmp_path / "x.f32", shape, np.float32)
    dst = MemmapArray(tmp_path / "y.f32", shape, np.float32)
    rng = np.random.default_rng(7)
    m = np.memmap(src.path, dtype=np.float32, mode="w+", shape=shape)
    for i in range(shape[0]):
        m[i] = rng.standard_normal(shape[1:], dtype=np.float32)
    m.flush()
    del m
    np.memmap(dst.path, dtype=np.float32, mode="w+", shape=shape).flush()

    p = dict(size=5, alpha=1e-2, beta=0.75, k=2.0)
    y = fdask.lrn(da.from_array(src, chunks=chunks, asarray=True), **p)
    before = client.run(lambda: (_peak_rss_reset(), _rss_kib()))
    da.store(y, dst, lock=False, compute=True)  # runs on the client's cluster
    after = client.run(_rss_kib)
    # Peak after minus RSS before: an upper bound on what the computation
    # added, even where the peak could not be reset.
    growth = {w: after[w][1] - before[w][1][0] for w in after}
    print(f"worker peak RSS growth, KiB: {growth}; peak reset: "
          f"{[b[0] for b in before.values()]}; array {nbytes // 1024} KiB")

    out = np.memmap(dst.path, dtype=np.float32, mode="r", shape=shape)
    inp = np.memmap(src.path, dtype=np.float32, mode="r", shape=shape)
    for i in range(shape[0]):
        assert_close(out[i:i + 1], fastlrn.lrn(inp[i:i + 1], **p), item=i, **p)
    return max(growth.values())


linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="reads /proc/self/status")


@linux_only
def test_memmap_chunk_by_chunk_bounded_worker_memory(client, tmp_path):
    # 25 x 64 x 128 x 128 float32 = 100 MiB in, 100 MiB out, in 1 MiB blocks
    # split along the channel axis (so every block needs its neighbours'
    # edge channels: the map_overlap path). Measured: peak RSS of each
    # worker grows by about 12 MiB.
    shape, chunks = (25, 64, 128, 128), (1, 16, 128, 128)
    nbytes = int(np.prod(shape)) * 4
    growth = run_out_of_core(client, tmp_path, shape, chunks)
    # Each worker holds a few 1 MiB blocks at a time (its block, the two
    # neighbour edges, the result); allow 1/4 of the array. Loading the
    # array whole would need 100 MiB in one worker, 200 MiB with the result.
    assert growth < nbytes // 4 // 1024, (growth, nbytes)


@linux_only
@pytest.mark.slow
def test_array_larger_than_worker_memory_limit(tmp_path):
    # 256 MiB in and 256 MiB out through workers limited to 200 MiB each
    # (distributed pauses a worker at 80% of it and restarts it at 95%).
    # An idle worker with fastlrn.dask imported holds about 93 MiB.
    distributed = require("distributed")
    shape, chunks = (64, 64, 128, 128), (1, 16, 128, 128)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=":0",
                                  memory_limit="200MiB") as cluster, \
            distributed.Client(cluster) as client:
        growth = run_out_of_core(client, tmp_path, shape, chunks)
    assert growth < 64 * 1024
