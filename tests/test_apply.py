"""``python -m fastlrn apply`` and ``fastlrn.io.apply``: arrays on disk.

Real files in ``tmp_path``. Every result is compared bit for bit with
``fastlrn.lrn`` (or the compat function) on the whole array in memory;
block sizes are chosen so that the files are cut into blocks, and where a
test is about blocks split along a window axis it checks that the plan
does split there. Interrupts are made deterministic by a child process that
replaces ``fastlrn.io._kernel`` (one call per block) with one that, at a
given block, writes a marker file and sleeps: the test waits for the
marker, then signals the child.
"""

import fcntl
import os
import pty
import select
import shutil
import signal
import struct
import subprocess
import sys
import termios
import textwrap
import time
import zipfile

import numpy as np
import pytest

import fastlrn
import fastlrn.io as fio
from _frameworks import require
from fastlrn.compat import caffe, mxnet, onednn, onnx, tensorflow
from fastlrn.compat import torch as torch_compat

MiB = 2**20


# ---------------------------------------------------------------- helpers


def cli(*args, timeout=60, env=None, cwd=None):
    """``python -m fastlrn apply ARGS`` in a subprocess."""
    return subprocess.run([sys.executable, "-m", "fastlrn", "apply", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, cwd=cwd,
                          env=dict(os.environ, **(env or {})))


def patched(prelude, args):
    """Python code: run ``prelude`` (patches), then the command's ``main``."""
    return textwrap.dedent(prelude) + textwrap.dedent(f"""
        import sys
        from fastlrn.__main__ import main
        sys.exit(main(["apply"] + {[str(a) for a in args]!r}))
    """)


def cli_with(prelude, *args, timeout=60):
    """The command in a child that first runs ``prelude``; it runs to the end."""
    return subprocess.run([sys.executable, "-c", patched(prelude, args)],
                          capture_output=True, text=True, timeout=timeout)


def start_with(prelude, *args):
    """The same, started in the background (a Popen)."""
    return subprocess.Popen([sys.executable, "-c", patched(prelude, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def assert_ok(proc):
    assert proc.returncode == 0, f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return proc


def assert_error(proc, code, *fragments):
    """Exit ``code``, one ``fastlrn apply: error:`` line naming ``fragments``."""
    err = proc.stderr
    assert proc.returncode == code, (proc.returncode, err)
    assert "Traceback" not in err, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert lines and "fastlrn apply: error: " in lines[-1], err
    if not lines[-1].startswith("python -m fastlrn apply: error: "):  # argparse's own
        assert len(lines) == 1, err
    for f in fragments:
        assert f in lines[-1], (f, err)
    return lines[-1]


def randn(rng, shape, dtype=np.float32, scale=3.0):
    return (rng.standard_normal(shape) * scale).astype(dtype)


def saved(tmp_path, name, x):
    path = tmp_path / name
    np.save(path, x)
    return path


def plan_of(path, chunk_mb, in_place=False, **params):
    """The block plan apply uses for the .npy ``path``, and whether it splits a
    window axis (its blocks then read halos)."""
    h = fio._npy_header(path)
    cdtype = fio._compute_dtype(path, h.dtype, None)
    w = fio._window(path, h.shape, cdtype, None, params)
    shape, halos, plan, _ = fio._prepare_blocks(h, w, cdtype, chunk_mb * MiB, in_place)
    splits = plan is not None and (
        any(sum(halos[a]) for a in plan[0])
        or (sum(halos[plan[1]]) > 0 and plan[2] < shape[plan[1]]))
    return plan, splits


def temps(directory):
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


# ---------------------------------------------------------------- round trips

# (shape, params): NCHW, NHWC, within (1 and 2 spatial axes), channel_axis=0
# across (the window along axis 0), even sizes.
LAYOUTS = {
    "across-nchw": ((3, 24, 9, 10), dict()),
    "across-nhwc": ((3, 9, 10, 24), dict(channel_axis=-1, size=4)),
    "within-nchw": ((2, 3, 40, 33), dict(region="within", size=3)),
    "within-nhwc": ((2, 40, 33, 3), dict(region="within", size=4, channel_axis=-1)),
    "within-1d": ((2, 3, 500), dict(region="within", size=5)),
    "across-axis0": ((96, 6, 7), dict(channel_axis=0, size=6, alpha=1e-2)),
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("dtype", ["float32", "float64", ">f4", "float16"])
def test_npy_equals_lrn_in_memory(tmp_path, rng, layout, dtype):
    shape, params = LAYOUTS[layout]
    x = randn(rng, shape, dtype)
    src = saved(tmp_path, "x.npy", x)
    before = src.read_bytes()
    want = fastlrn.lrn(x, **params)
    seen_split = False
    for chunk_mb in (64, 0.05, 0.004, 0.0001):
        if chunk_mb == 0.0001 and seen_split:
            break            # tiny blocks are slow: only where needed to split
        out = tmp_path / f"y{chunk_mb}.npy"
        s = fio.apply(src, out, chunk_mb=chunk_mb, **params)
        y = np.load(out)
        assert y.dtype == want.dtype and np.array_equal(y, want), (layout, dtype, chunk_mb)
        assert (s.files, s.bytes) == (1, x.nbytes)
        seen_split |= plan_of(src, chunk_mb, **params)[1]
    # The small budgets cut the arrays along a window axis (halos) too.
    assert seen_split, layout
    assert src.read_bytes() == before          # IN untouched
    assert temps(tmp_path) == []


@pytest.mark.parametrize("layout", ["across-nchw", "within-nchw", "across-axis0"])
def test_fortran_ordered_npy(tmp_path, rng, layout):
    shape, params = LAYOUTS[layout]
    x = np.asfortranarray(randn(rng, shape))
    src = saved(tmp_path, "x.npy", x)
    out = tmp_path / "y.npy"
    fio.apply(src, out, chunk_mb=0.01, **params)
    y = np.load(out)
    # np.load gives the file's Fortran-ordered array, and that is what the
    # in-memory call sees too.
    assert y.flags.f_contiguous and np.array_equal(y, fastlrn.lrn(np.load(src), **params))


def test_dtype_option(tmp_path, rng):
    x = randn(rng, (2, 16, 6, 6), np.float64)
    src = saved(tmp_path, "x.npy", x)
    assert_ok(cli(src, tmp_path / "y.npy", "--dtype", "float32", "--chunk-mb", "0.01"))
    y = np.load(tmp_path / "y.npy")
    assert y.dtype == np.float32 and np.array_equal(y, fastlrn.lrn(x.astype(np.float32)))


def test_cli_parameters_reach_lrn(tmp_path, rng):
    x = randn(rng, (2, 5, 12, 16))
    src = saved(tmp_path, "x.npy", x)
    proc = assert_ok(cli(src, tmp_path / "y.npy", "--size", "3", "--alpha", "0.5",
                         "--beta", "0.6", "--k", "1.5", "--region", "within",
                         "--channel-axis", "-1", "--average", "--threads", "2",
                         "--chunk-mb", "0.002"))
    want = fastlrn.lrn(x, size=3, alpha=0.5, beta=0.6, k=1.5, region="within",
                       channel_axis=-1, average=True)
    assert np.array_equal(np.load(tmp_path / "y.npy"), want)
    line = proc.stdout.strip().splitlines()[-1]
    assert line.startswith("fastlrn apply: 1 file, ") and "GB/s" in line
    assert line.endswith("x a copy of the same bytes"), line


def test_summary(tmp_path, rng):
    x = randn(rng, (4, 32, 16, 16))
    src = saved(tmp_path, "x.npy", x)
    s = fio.apply(src, tmp_path / "y.npy", chunk_mb=0.1)
    assert (s.files, s.bytes) == (1, x.nbytes)
    assert s.seconds > 0 and s.copy_seconds > 0
    assert s.gb_per_s == pytest.approx(x.nbytes / s.seconds / 1e9)
    assert s.x_copy == pytest.approx(s.seconds / s.copy_seconds)
    assert str(s).startswith("1 file, 0.00 GB in ")


# ---------------------------------------------------------------- conventions

# convention -> (CLI options, the compat call it must equal)
CONVENTIONS = {
    "torch": (["--size", "4", "--k", "1.5"],
              lambda x: torch_compat.local_response_norm(x, 4, k=1.5)),
    "tensorflow": (["--depth-radius", "2", "--k", "0.5", "--alpha", "0.1"],
                   lambda x: tensorflow.lrn(x, depth_radius=2, bias=0.5, alpha=0.1)),
    "onnx": (["--size", "4", "--k", "2", "--alpha", "1e-3"],
             lambda x: onnx.lrn(x, 4, bias=2.0, alpha=1e-3)),
    "caffe": (["--size", "3", "--region", "within", "--alpha", "0.5"],
              lambda x: caffe.lrn(x, local_size=3, alpha=0.5, norm_region="WITHIN_CHANNEL")),
    "onednn": (["--size", "4", "--alpha", "0.2", "--beta", "0.75", "--k", "1",
                "--region", "within"],
               lambda x: onednn.lrn(x, 4, 0.2, 0.75, 1.0, algorithm="within_channel")),
    "mxnet": (["--size", "5", "--k", "1"], lambda x: mxnet.lrn(x, 5, knorm=1.0)),
}


@pytest.mark.parametrize("convention", list(CONVENTIONS))
def test_convention_equals_compat(tmp_path, rng, convention):
    options, compat = CONVENTIONS[convention]
    x = randn(rng, (3, 12, 14, 10))
    src = saved(tmp_path, "x.npy", x)
    out = tmp_path / "y.npy"
    assert_ok(cli(src, out, "--convention", convention, "--chunk-mb", "0.005", *options))
    assert np.array_equal(np.load(out), compat(x)), convention


def test_convention_library_call(tmp_path, rng):
    x = randn(rng, (2, 10, 6, 6))
    src = saved(tmp_path, "x.npy", x)
    fio.apply(src, tmp_path / "y.npy", convention="onnx", size=2, chunk_mb=0.001)
    assert np.array_equal(np.load(tmp_path / "y.npy"), onnx.lrn(x, 2))
    with pytest.raises(TypeError, match="needs size"):
        fio.apply(src, tmp_path / "y.npy", convention="torch")
    with pytest.raises(TypeError, match="has no parameter depth_radius"):
        fio.apply(src, tmp_path / "y.npy", convention="torch", size=3, depth_radius=2)
    with pytest.raises(TypeError, match="unknown LRN parameter bias"):
        fio.apply(src, tmp_path / "y.npy", bias=1.0)


# ---------------------------------------------------------------- .npz, zarr


@pytest.mark.parametrize("compressed", [False, True])
def test_npz(tmp_path, rng, compressed):
    a, b = randn(rng, (2, 16, 8, 8)), randn(rng, (2, 6, 5, 4), np.float64)
    labels = np.arange(7)
    save = np.savez_compressed if compressed else np.savez
    src = tmp_path / "x.npz"
    save(src, a=a, b=b, labels=labels)
    out = tmp_path / "y.npz"
    # Every array: labels holds integers, which is an error naming --key.
    assert_error(cli(src, out), 2, "x.npz[labels]", "integers", "--key")
    assert not out.exists()
    assert_ok(cli(src, out, "--key", "a", "--key", "b", "--chunk-mb", "0.01",
                  "--size", "3"))
    with np.load(out) as z:
        assert sorted(z.files) == ["a", "b", "labels"]
        assert np.array_equal(z["a"], fastlrn.lrn(a, size=3))
        assert np.array_equal(z["b"], fastlrn.lrn(b, size=3))
        assert np.array_equal(z["labels"], labels)        # copied as it was
    kinds = {i.filename: i.compress_type for i in zipfile.ZipFile(out).infolist()}
    want = zipfile.ZIP_DEFLATED if compressed else zipfile.ZIP_STORED
    assert set(kinds.values()) == {want}
    # Only some arrays: the others are copied unchanged.
    fio.apply(src, out, keys="b")
    with np.load(out) as z:
        assert np.array_equal(z["a"], a) and np.array_equal(z["b"], fastlrn.lrn(b))
    assert temps(tmp_path) == []


def test_zarr(tmp_path, rng):
    zarr = require("zarr")
    require("dask.array")
    x = randn(rng, (3, 20, 13, 11))
    fmts = [2, 3] if int(zarr.__version__.split(".")[0]) >= 3 else [2]
    for fmt in fmts:
        src = tmp_path / f"in{fmt}.zarr"
        kw = dict(shape=x.shape, chunks=(2, 3, 5, 11), dtype="float32")
        if hasattr(zarr, "create_array"):   # zarr 3
            z = zarr.create_array(store=str(src), zarr_format=fmt, **kw)
        else:
            z = zarr.open_array(str(src), mode="w", **kw)
        z[...] = x
        out = tmp_path / f"out{fmt}.zarr"
        # Chunks smaller than the windows along channels and rows.
        for params, want in [
            (dict(size=5), fastlrn.lrn(x)),
            (dict(size=4, region="within"), fastlrn.lrn(x, size=4, region="within")),
            (dict(convention="onnx", size=4), onnx.lrn(x, 4)),
        ]:
            s = fio.apply(src, out, **params)
            y = zarr.open_array(str(out), mode="r")[...]
            assert y.dtype == np.float32 and np.array_equal(y, want), (fmt, params)
            assert (s.files, s.bytes) == (1, x.nbytes)
        assert temps(tmp_path) == []
    # The command, once (it replaces the earlier OUT store), and in place: refused.
    assert_ok(cli(tmp_path / "in2.zarr", out, "--size", "3", "--dtype", "float64"))
    y = zarr.open_array(str(out), mode="r")[...]
    assert y.dtype == np.float64 and np.array_equal(y, fastlrn.lrn(x.astype(np.float64), size=3))
    assert_error(cli(tmp_path / "in2.zarr", "--in-place"), 2, "in place")
    assert temps(tmp_path) == []


# ---------------------------------------------------------------- in place


@pytest.mark.parametrize("layout, chunk_mb", [
    ("across-nchw", 0.01),
    ("within-nchw", 0.002),    # rows split, a halo of rows carried
    ("across-axis0", 0.01),    # the window along axis 0, split along it
    ("across-nhwc", 0.002),
])
@pytest.mark.parametrize("dtype", ["float32", ">f8"])
def test_in_place_equals_out_of_place(tmp_path, rng, layout, chunk_mb, dtype):
    shape, params = LAYOUTS[layout]
    x = randn(rng, shape, dtype)
    src = saved(tmp_path, "x.npy", x)
    out = tmp_path / "y.npy"
    fio.apply(src, out, chunk_mb=chunk_mb, **params)
    plan, splits = plan_of(src, chunk_mb, in_place=True, **params)
    assert plan is not None
    if layout in ("within-nchw", "across-axis0"):
        assert splits, plan     # blocks along the window axis: the carried halo
    s = fio.apply(src, None, in_place=True, chunk_mb=chunk_mb, **params)
    assert s.bytes == x.nbytes
    y = np.load(src)
    assert y.dtype == np.dtype(dtype)
    assert np.array_equal(y, np.load(out).astype(dtype))
    assert np.array_equal(y.astype(np.float64), fastlrn.lrn(x, **params).astype(np.float64))


def test_in_place_cli(tmp_path, rng):
    x = randn(rng, (48, 20, 30))
    src = saved(tmp_path, "x.npy", x)
    assert_ok(cli(src, "--in-place", "--channel-axis", "0", "--chunk-mb", "0.05", "-q"))
    assert np.array_equal(np.load(src), fastlrn.lrn(x, channel_axis=0))
    assert temps(tmp_path) == []
    # float16 would be rounded back: refused, file untouched.
    h = saved(tmp_path, "h.npy", x.astype(np.float16))
    before = h.read_bytes()
    assert_error(cli(h, "--in-place"), 2, "float16")
    assert_error(cli(src, "--in-place", "--dtype", "float64"), 2, "needs an OUT")
    assert h.read_bytes() == before


def test_in_place_help_says_what_an_interrupt_leaves():
    proc = assert_ok(subprocess.run([sys.executable, "-m", "fastlrn", "apply", "--help"],
                                    capture_output=True, text=True))
    text = " ".join(proc.stdout.split())
    assert "--in-place" in text
    assert "partly normalised: the chunks before the interrupt done, the later ones " \
           "original" in text


# ---------------------------------------------------------------- directories


def test_directory_and_pattern(tmp_path, rng):
    src = tmp_path / "in"
    (src / "b" / "c").mkdir(parents=True)
    arrays = {"a.npy": randn(rng, (2, 8, 5, 5)), "b/x.npy": randn(rng, (1, 6, 4, 4)),
              "b/c/y.npy": randn(rng, (3, 4, 3, 3), np.float64)}
    for rel, x in arrays.items():
        np.save(src / rel, x)
    (src / "notes.txt").write_text("not an array")
    np.savez(src / "b" / "z.npz", q=randn(rng, (1, 4, 2, 2)))
    out = tmp_path / "out"
    proc = assert_ok(cli(src, out, "--pattern", "*.npy", "--chunk-mb", "0.01"))
    assert "fastlrn apply: 3 files, " in proc.stdout
    got = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert got == sorted(arrays)
    for rel, x in arrays.items():
        assert np.array_equal(np.load(out / rel), fastlrn.lrn(x))
    # The .npz by its own pattern; a pattern that takes in the text file is
    # refused before anything is written.
    assert_ok(cli(src, out, "--pattern", "*.npz"))
    with np.load(out / "b" / "z.npz") as z:
        assert np.array_equal(z["q"], fastlrn.lrn(np.load(src / "b" / "z.npz")["q"]))
    out2 = tmp_path / "out2"
    assert_error(cli(src, out2, "--pattern", "*"), 2, "notes.txt", "not an array file")
    assert not out2.exists()
    assert_error(cli(src, out2, "--pattern", "*.nothing"), 2, "no file matches")
    # In place, every matching file.
    assert_ok(cli(src, "--in-place", "--pattern", "y.npy"))
    assert np.array_equal(np.load(src / "b/c/y.npy"), fastlrn.lrn(arrays["b/c/y.npy"]))
    assert np.array_equal(np.load(src / "a.npy"), arrays["a.npy"])
    assert_error(cli(src, src), 2, "OUT is IN")


def test_output_inside_input_directory_is_skipped(tmp_path, rng):
    src = tmp_path / "in"
    src.mkdir()
    x = randn(rng, (2, 8, 4, 4))
    np.save(src / "a.npy", x)
    for _ in range(2):   # the second run must not take the first run's output
        proc = assert_ok(cli(src, src / "out"))
        assert "1 file," in proc.stdout
    assert np.array_equal(np.load(src / "out" / "a.npy"), fastlrn.lrn(x))
    assert not (src / "out" / "out").exists()


# ---------------------------------------------------------------- memory

RSS_SCRIPT = """
import resource, sys
from fastlrn.__main__ import main

def peak():   # ru_maxrss: KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

try:          # Linux >= 4.0: reset the peak to the current RSS
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
except OSError:
    pass
base = peak()
rc = main(["apply", sys.argv[1], sys.argv[2], "--chunk-mb", "16", "--quiet"] + sys.argv[3:])
print(dict(rc=rc, growth=peak() - base))
"""


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss units are Linux's")
@pytest.mark.parametrize("params", [[], ["--channel-axis", "0"]])
def test_file_larger_than_budget_in_bounded_memory(tmp_path, params):
    # 200 MiB of float32, --chunk-mb 16: the resident memory may grow by the
    # budget, the kernels' scratch (4 MiB per thread) and allocator slack, not
    # by the file (a read or write of the whole file would be 200 MiB more).
    # With channel_axis=0 each block is 64 strided pieces (memory-mapped
    # reads counted whole page-cache folios around each: 160 MiB).
    src, out = tmp_path / "big.npy", tmp_path / "out.npy"
    x = np.lib.format.open_memmap(src, mode="w+", dtype=np.float32, shape=(64, 50, 128, 128))
    rng = np.random.default_rng(0)
    for i in range(64):
        x[i] = rng.standard_normal((50, 128, 128), dtype=np.float32)
    x.flush()
    del x
    proc = subprocess.run([sys.executable, "-c", RSS_SCRIPT, src, out, *params],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    r = eval(proc.stdout.strip().splitlines()[-1], {})
    assert r["rc"] == 0
    print(f"peak RSS growth {r['growth'] / MiB:.1f} MiB for a 200 MiB file, --chunk-mb 16")
    assert r["growth"] <= 48 * MiB, f"peak RSS grew {r['growth'] / MiB:.1f} MiB"
    x = np.load(src)
    kw = dict(channel_axis=0) if params else {}
    assert np.array_equal(np.load(out), fastlrn.lrn(x, **kw))
    src.unlink()   # pytest keeps the last runs' tmp_path: not 400 MB of them
    out.unlink()


# ---------------------------------------------------------------- interrupts

# In the child: block number STOP (1-based) writes MARK and sleeps, so the
# test can signal it at a known place, while earlier blocks are written.
SLOW = """
import os, time
import fastlrn.io as fio

_kernel, _calls = fio._kernel, [0]

def _slow(*args, **kw):
    _calls[0] += 1
    if _calls[0] == {stop}:
        open({mark!r}, "w").close()
        time.sleep(60)
    return _kernel(*args, **kw)

fio._kernel = _slow
"""


def start_slow(tmp_path, stop, *args):
    mark = tmp_path / "mark"
    child = start_with(SLOW.format(stop=stop, mark=str(mark)), *args)
    deadline = time.monotonic() + 30
    while not mark.exists():
        if child.poll() is not None or time.monotonic() > deadline:
            child.kill()
            out, err = child.communicate()
            pytest.fail(f"the child never reached block {stop}: {err}")
        time.sleep(0.01)
    return child


@pytest.fixture
def previous_out(tmp_path, rng):
    """IN (16 blocks at --chunk-mb 0.1) and an OUT from an earlier run."""
    src = saved(tmp_path, "x.npy", randn(rng, (16, 16, 20, 20)))
    out = saved(tmp_path, "out.npy", randn(rng, (2, 3)))
    return src, out, out.read_bytes()


def test_sigkill_leaves_previous_out_intact(tmp_path, previous_out):
    src, out, before = previous_out
    child = start_slow(tmp_path, 5, src, out, "--chunk-mb", "0.1")
    left = temps(tmp_path)
    assert len(left) == 1 and left[0].startswith(".out.npy.")    # written so far
    child.send_signal(signal.SIGKILL)
    child.communicate()
    assert child.returncode == -signal.SIGKILL
    assert out.read_bytes() == before
    # As documented: the killed run's temporary file stays ...
    assert temps(tmp_path) == left
    # ... until the next run for the same OUT, which removes it.
    assert_ok(cli(src, out))
    assert temps(tmp_path) == []
    assert np.array_equal(np.load(out), fastlrn.lrn(np.load(src)))


@pytest.mark.parametrize("sig, code, word", [(signal.SIGINT, 130, "interrupted"),
                                             (signal.SIGTERM, 143, "terminated")])
def test_interrupt_removes_temp(tmp_path, previous_out, sig, code, word):
    src, out, before = previous_out
    child = start_slow(tmp_path, 5, src, out, "--chunk-mb", "0.1")
    assert len(temps(tmp_path)) == 1
    child.send_signal(sig)
    _, err = child.communicate(timeout=30)
    assert child.returncode == code, err
    assert "Traceback" not in err and f"fastlrn apply: error: {word}" in err
    assert temps(tmp_path) == []
    assert out.read_bytes() == before


def test_interrupt_in_place_leaves_blocks_done_and_original(tmp_path, rng):
    x = randn(rng, (16, 16, 20, 20))
    src = saved(tmp_path, "x.npy", x)
    plan, _ = plan_of(src, 0.1, in_place=True)
    assert plan == ((), 0, 4)         # blocks of 4 items along axis 0
    child = start_slow(tmp_path, 3, src, "--in-place", "--chunk-mb", "0.1")
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=30)
    assert child.returncode == 130 and "Traceback" not in err, err
    y = np.load(src)
    # Blocks 1 and 2 written, block 3 was being computed: items 8.. original.
    assert np.array_equal(y[:8], fastlrn.lrn(x)[:8])
    assert np.array_equal(y[8:], x[8:])


def test_stale_temp_files(tmp_path, rng):
    src = saved(tmp_path, "x.npy", randn(rng, (2, 4, 3, 3)))
    out = tmp_path / "out.npy"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    stale = tmp_path / f".out.npy.{dead}-0123abcd.tmp"
    alive = tmp_path / f".out.npy.{os.getpid()}-0123abcd.tmp"   # a run still going
    other = tmp_path / f".other.npy.{dead}-0123abcd.tmp"        # another OUT's
    for p in (stale, alive, other):
        p.write_bytes(b"partial")
    assert_ok(cli(src, out))
    assert not stale.exists() and alive.exists() and other.exists()


# ---------------------------------------------------------------- bad input


@pytest.fixture
def files(tmp_path, rng):
    x = randn(rng, (2, 8, 4, 4))
    good = saved(tmp_path, "good.npy", x)
    data = good.read_bytes()
    f = {"good": good}
    f["text"] = tmp_path / "notes.npy"
    f["text"].write_text("hello, not an array")
    f["empty"] = tmp_path / "empty.npy"
    f["empty"].write_bytes(b"")
    f["ints"] = saved(tmp_path, "ints.npy", np.arange(32).reshape(2, 4, 4))
    f["bools"] = saved(tmp_path, "bools.npy", np.ones((2, 4), bool))
    f["complex"] = saved(tmp_path, "complex.npy", np.ones((2, 4), np.complex64))
    f["rank1"] = saved(tmp_path, "rank1.npy", np.ones(8, np.float32))
    f["rank2"] = saved(tmp_path, "rank2.npy", np.ones((3, 8), np.float32))
    f["truncated"] = tmp_path / "truncated.npy"
    f["truncated"].write_bytes(data[: len(data) - 100])
    f["corrupt"] = tmp_path / "corrupt.npy"
    f["corrupt"].write_bytes(data[:10] + b"{'descr': <f4, oops" + data[29:])
    f["badzip"] = tmp_path / "bad.npz"
    f["badzip"].write_bytes(b"PK\x03\x04" + b"\0" * 60)
    return f


BAD = [
    # (IN, extra arguments, exit code, what the message must say)
    ("missing", [], 2, ["missing.npy", "no such file"]),
    ("text", [], 2, ["notes.npy", "not an array file"]),
    ("empty", [], 2, ["empty.npy", "not an array file"]),
    ("ints", [], 2, ["integers", "float16, float32 and float64"]),
    ("bools", [], 2, ["booleans", "float16, float32 and float64"]),
    ("complex", [], 2, ["complex", "float16, float32 and float64"]),
    ("rank1", [], 2, ["rank1.npy", "at least 2 dimensions"]),
    ("rank2", ["--region", "within"], 2, ["rank2.npy", "spatial axis"]),
    ("truncated", [], 2, ["truncated .npy file", "1024 bytes of data"]),
    ("corrupt", [], 2, ["corrupt.npy", "corrupt .npy header"]),
    ("badzip", [], 2, ["bad.npz", "not a valid .npz"]),
    ("good", ["--size", "0"], 2, ["size must be a positive integer"]),
    ("good", ["--beta", "-1"], 2, ["beta must be"]),
    ("good", ["--channel-axis", "4"], 2, ["channel_axis must be a valid axis"]),
    ("good", ["--chunk-mb", "0"], 2, ["--chunk-mb must be a positive"]),
    ("good", ["--threads", "0"], 2, ["--threads must be"]),
    ("good", ["--key", "a"], 2, ["--key", ".npz"]),
    ("good", ["--convention", "torch"], 2, ["--convention torch needs --size"]),
    ("good", ["--convention", "tensorflow", "--size", "3"], 2, ["--depth-radius"]),
    ("good", ["--convention", "mxnet", "--size", "4"], 2, ["odd"]),
    ("good", ["--depth-radius", "2"], 2, ["--convention tensorflow"]),
    ("good", ["--size", "x"], 2, ["--size", "invalid int"]),
]


@pytest.mark.parametrize("name, extra, code, says", BAD,
                         ids=[f"{b[0]}{''.join(b[1][:1])}" for b in BAD])
def test_bad_input(tmp_path, files, name, extra, code, says):
    src = files.get(name, tmp_path / f"{name}.npy")
    out = tmp_path / f"out{src.suffix}"
    assert_error(cli(src, out, *extra), code, *says)
    assert not out.exists()
    assert temps(tmp_path) == []


def test_bad_out(tmp_path, files):
    good = files["good"]
    before = good.read_bytes()
    assert_error(cli(good, good), 2, "same file as IN", "--in-place")
    (tmp_path / "link.npy").symlink_to(good)
    assert_error(cli(good, tmp_path / "link.npy"), 2, "same file as IN")
    os.link(good, tmp_path / "hard.npy")
    assert_error(cli(good, tmp_path / "hard.npy"), 2, "same file as IN")
    assert_error(cli(good, tmp_path / "no" / "such" / "out.npy"), 2, "does not exist")
    assert_error(cli(good, tmp_path / "out.npz"), 2, "must be a .npy file")
    assert_error(cli(good, tmp_path), 2, "is a directory")
    assert_error(cli(good), 2, "OUT is required")
    assert_error(cli(good, tmp_path / "o.npy", "--in-place"), 2, "give no OUT")
    assert good.read_bytes() == before


def test_unwritable_out(tmp_path, files):
    locked = tmp_path / "locked"
    locked.mkdir()
    if os.geteuid() != 0:
        locked.chmod(0o555)
        undo = ["chmod", "755", str(locked)]
    else:  # root writes through permissions; an immutable directory refuses it
        if shutil.which("chattr") is None or subprocess.run(
                ["chattr", "+i", str(locked)], capture_output=True).returncode != 0:
            pytest.skip("running as root, and chattr +i is not available here")
        undo = ["chattr", "-i", str(locked)]
    try:
        assert_error(cli(files["good"], locked / "out.npy"), 1, "cannot write",
                     str(locked))
    finally:
        subprocess.run(undo, check=True)
    assert list(locked.iterdir()) == []


def test_not_enough_disk(tmp_path, files):
    out = saved(tmp_path, "out.npy", np.zeros(3))
    before = out.read_bytes()
    full = """
        import collections, shutil
        shutil.disk_usage = lambda path: collections.namedtuple(
            "usage", "total used free")(10**9, 10**9 - 1000, 1000)
    """
    assert_error(cli_with(full, files["good"], out), 1, "not enough disk space", "1.00 kB free")
    assert out.read_bytes() == before and temps(tmp_path) == []


def test_disk_full_while_writing(tmp_path, files):
    # A write that fails with ENOSPC halfway (another process filled the
    # disk): exit 1, temp removed, OUT intact.
    out = saved(tmp_path, "out.npy", np.zeros(3))
    before = out.read_bytes()
    enospc = """
        import errno
        import fastlrn.io as fio
        _write, _n = fio._Data.write, [0]
        def write(self, *args):
            _n[0] += 1
            if _n[0] == 2:
                raise OSError(errno.ENOSPC, "No space left on device")
            return _write(self, *args)
        fio._Data.write = write
    """
    proc = cli_with(enospc, files["good"], out, "--chunk-mb", "0.0005")
    assert_error(proc, 1, "No space left on device")
    assert out.read_bytes() == before and temps(tmp_path) == []


# ---------------------------------------------------------------- progress

# Every block takes 40 ms longer: 30 blocks outlast the bar's 0.5 s delay.
PTY_SCRIPT = """
import time
import fastlrn.io as fio

_kernel = fio._kernel

def _slow(*args, **kw):
    time.sleep(0.04)
    return _kernel(*args, **kw)

fio._kernel = _slow
"""


def run_on_terminal(prelude, *args, timeout=60):
    """The command with stderr (and stdout) on a pseudo-terminal: (rc, output)."""
    code = patched(prelude, args)
    master, slave = pty.openpty()
    # A terminal of 24 x 100 (a new pty is 0 x 0, where tqdm draws nothing).
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    child = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.DEVNULL,
                             stdout=slave, stderr=slave)
    os.close(slave)
    out = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r, _, _ = select.select([master], [], [], 0.1)
        if r:
            try:
                chunk = os.read(master, 65536)
            except OSError:   # EIO: the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
        elif child.poll() is not None:
            break
    os.close(master)
    rc = child.wait(timeout=10)
    return rc, out.decode(errors="replace")


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_progress_bar_on_a_terminal(tmp_path, rng):
    require("tqdm")
    src = saved(tmp_path, "x.npy", randn(rng, (30, 16, 20, 20)))
    rc, out = run_on_terminal(PTY_SCRIPT, src, tmp_path / "y.npy", "--chunk-mb", "0.05")
    assert rc == 0, out
    assert "GB/s" in out and "%|" in out and "GB [" in out, out
    assert "fastlrn apply: 1 file, " in out
    rc, out = run_on_terminal(PTY_SCRIPT, src, tmp_path / "y.npy", "--chunk-mb", "0.05",
                              "--quiet")
    assert rc == 0 and out.strip() == "", out


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_without_tqdm_no_bar(tmp_path, rng):
    src = saved(tmp_path, "x.npy", randn(rng, (30, 16, 20, 20)))
    no_tqdm = "import sys\nsys.modules['tqdm'] = None\n" + PTY_SCRIPT
    rc, out = run_on_terminal(no_tqdm, src, tmp_path / "y.npy", "--chunk-mb", "0.05")
    assert rc == 0, out
    assert "%|" not in out and "fastlrn apply: 1 file, " in out, out
    assert np.array_equal(np.load(tmp_path / "y.npy"), fastlrn.lrn(np.load(src)))


def test_no_bar_when_stderr_is_not_a_terminal(tmp_path, rng):
    require("tqdm")
    src = saved(tmp_path, "x.npy", randn(rng, (30, 16, 20, 20)))
    proc = cli_with(PTY_SCRIPT, src, tmp_path / "y.npy", "--chunk-mb", "0.05")
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert proc.stdout.startswith("fastlrn apply: 1 file, ")


# ---------------------------------------------------------------- library


def test_library_arguments(tmp_path, files):
    good = files["good"]
    with pytest.raises(ValueError, match="out_path"):
        fio.apply(good)
    with pytest.raises(ValueError, match="give no out_path"):
        fio.apply(good, tmp_path / "o.npy", in_place=True)
    with pytest.raises(FileNotFoundError):
        fio.apply(tmp_path / "nothing.npy", tmp_path / "o.npy")
    with pytest.raises(ValueError, match="dtype must be"):
        fio.apply(good, tmp_path / "o.npy", dtype="float16")
    with pytest.raises(ValueError, match="convention must be"):
        fio.apply(good, tmp_path / "o.npy", convention="keras")
    with pytest.raises(TypeError, match="integers"):
        fio.apply(files["ints"], tmp_path / "o.npy")
    assert not (tmp_path / "o.npy").exists()


def test_io_is_a_leaf():
    # Nothing in fastlrn imports fastlrn.io (or the CLI's module) on import.
    code = ("import sys, fastlrn, fastlrn.compat.torch, fastlrn.reference; "
            "print(sorted(m for m in sys.modules if m in ('fastlrn.io', "
            "'fastlrn._apply_cli', 'tqdm', 'zarr')))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.strip() == "[]", proc.stderr
