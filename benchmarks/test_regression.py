"""Speed regression suite (pytest-benchmark): fastlrn and a copy of the same bytes.

Not part of the test suite: pytest's ``testpaths`` is ``tests``, so plain
``pytest`` never collects this file. Run it on purpose (see README.md):

    pytest benchmarks/ --benchmark-autosave            # save a baseline
    pytest benchmarks/ --benchmark-compare \\
        --benchmark-compare-fail=median:10%            # fail on a 10% slow-down

Each benchmark group is one workload at one thread count and holds two
benchmarks: ``fastlrn`` and ``copy`` (a parallel memcpy of x's bytes with the
same thread count), so the saved record carries the memory-speed limit beside
every time; ``extra_info`` also stores fastlrn's time as a multiple of the
copy measured just before it, and the build.

Environment:
- ``FASTLRN_BENCH_BATCH``: batch size of the batched workloads (default 16;
  SPEC section 5 says 64, which ``python -m fastlrn bench`` uses).
- ``FASTLRN_BENCH_THREADS``: comma-separated thread counts (default: 1 and
  the OpenMP default).
"""

import os

import numpy as np
import pytest

pytest.importorskip("pytest_benchmark")

import fastlrn  # noqa: E402
from fastlrn.bench.timing import copy_function, default_threads, time_copy  # noqa: E402
from fastlrn.bench.workloads import WORKLOADS, relative_error  # noqa: E402

BATCH = int(os.environ.get("FASTLRN_BENCH_BATCH", "16"))
THREADS = [int(t) for t in os.environ.get("FASTLRN_BENCH_THREADS", "").split(",") if t] \
    or list(dict.fromkeys([1, default_threads()]))

_CASES = [(wid, t) for wid in WORKLOADS for t in THREADS]
_IDS = [f"{wid}-t{t}" for wid, t in _CASES]


@pytest.fixture(scope="module")
def data():
    """Inputs per workload, made once (the float64 reference check is per test)."""
    cache = {}

    def get(wid):
        if wid not in cache:
            cache.clear()  # one workload's arrays at a time
            wl = WORKLOADS[wid].with_batch(BATCH)
            x, dy = wl.inputs()
            cache[wid] = (wl, x, dy, np.empty_like(x))
        return cache[wid]

    return get


def _limit_blas():
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    return threadpool_limits(1, user_api="blas")


@pytest.fixture(autouse=True)
def _quiet_blas():
    limits = _limit_blas()  # OpenBLAS threads spin while idle and steal cores
    yield
    if limits is not None:
        limits.restore_original_limits()


@pytest.mark.parametrize("wid, threads", _CASES, ids=_IDS)
def test_fastlrn(benchmark, data, wid, threads):
    wl, x, dy, out = data(wid)
    benchmark.group = f"{wid} {wl.what}, {threads} thread(s)"
    copy = time_copy(x, threads, repeat=5)
    call = wl.fastlrn_call(x, dy, out, threads)
    benchmark(call)
    # The timed calls must compute the right thing (on the first items).
    assert relative_error(out, wl.reference(x, dy)) < 1e-5
    benchmark.extra_info.update({
        "workload": wl.to_dict(), "threads": threads, "bytes": wl.nbytes,
        "copy_median_s": copy.median,
        "x_copy": benchmark.stats.stats.median / copy.median,
        "fastlrn": fastlrn.config(),
    })


@pytest.mark.parametrize("wid, threads", _CASES, ids=_IDS)
def test_copy(benchmark, data, wid, threads):
    wl, x, _, out = data(wid)
    benchmark.group = f"{wid} {wl.what}, {threads} thread(s)"
    copy, label = copy_function()
    benchmark(copy, x, out, threads)
    benchmark.extra_info.update({"threads": threads, "bytes": wl.nbytes, "copy": label})
