"""Timing primitives shared by the bench, its peer workers and benchmarks/.

- :func:`measure`: one warm-up call, then the median of repeated samples;
  calls shorter than ``MIN_SAMPLE_S`` are looped inside a sample (like
  ``timeit``) so that the clock's resolution and the loop overhead do not
  dominate; slow calls take fewer repeats (never fewer than ``MIN_REPEAT``)
  so that the slowest peers do not stretch a run to hours.
- :func:`copy_function`: a parallel ``memcpy`` of the same bytes with the same
  thread count: the memory-traffic limit every LRN time is divided by.
- :func:`limit_other_pools`: BLAS pools (OpenBLAS threads spin while idle and
  steal the cores) limited to one thread while timing.
"""

import contextlib
import gc
import math
import os
import platform
import statistics
import sys
import time

import numpy as np

MIN_SAMPLE_S = 2e-3  # a sample loops a call until it lasts at least this long
MIN_REPEAT = 3  # the median of fewer samples is not a median
MAX_NUMBER = 10000


class Timing:
    """Median seconds per call of ``samples`` (each the mean of ``number`` calls).

    ``cpu_per_wall``: process CPU time over wall time while sampling, about
    the number of cores the call kept busy (less on a machine shared with
    other work): it shows whether a library used the threads it was given.
    """

    def __init__(self, samples, number, warmup, cpu_per_wall):
        self.samples = samples
        self.number = number
        self.warmup = warmup
        self.cpu_per_wall = cpu_per_wall
        self.median = statistics.median(samples)

    def to_dict(self, prefix):
        return {
            f"{prefix}_ms": self.median * 1e3,
            f"{prefix}_samples_ms": [s * 1e3 for s in self.samples],
            f"{prefix}_calls_per_sample": self.number,
            f"{prefix}_cpu_per_wall": self.cpu_per_wall,
        }


def _cpu_seconds():
    return time.process_time()  # all threads of the process, fine resolution


def measure(fn, repeat, budget_s=float("inf")):
    """Time ``fn()``: one warm-up call, then the median of up to ``repeat`` samples.

    A sample is the mean of ``number`` back-to-back calls, with ``number``
    chosen so that a sample lasts at least ``MIN_SAMPLE_S``. Where ``repeat``
    samples would exceed ``budget_s``, fewer are taken, but at least
    ``MIN_REPEAT`` (or ``repeat`` if that is smaller).
    """
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        t0 = time.perf_counter()
        fn()  # warm-up: page faults, thread-pool start, JIT compilation
        warmup = time.perf_counter() - t0
        cpu0 = _cpu_seconds()
        start = t0 = time.perf_counter()
        fn()  # says what a call costs; it is the first sample when number is 1
        per_call = time.perf_counter() - t0
        samples = []
        number = 1
        if per_call < MIN_SAMPLE_S:
            number = min(MAX_NUMBER, math.ceil(MIN_SAMPLE_S / max(per_call, 1e-7)))
        else:
            samples.append(per_call)
        n = repeat
        if per_call * number * repeat > budget_s:
            n = max(min(MIN_REPEAT, repeat), int(budget_s / (per_call * number)))
        while len(samples) < n:
            t0 = time.perf_counter()
            for _ in range(number):
                fn()
            samples.append((time.perf_counter() - t0) / number)
        wall = time.perf_counter() - start
        cpu = _cpu_seconds() - cpu0
    finally:
        if gc_was_enabled:
            gc.enable()
    return Timing(samples, number, warmup, cpu / wall if wall > 0 else float("nan"))


def copy_function():
    """``(copy(src, dst, nthreads), label)``: parallel when the kernel is built."""
    try:
        from fastlrn._kernels._copy import parallel_copy
    except ImportError:  # a build without the copy kernel: fall back, and say so
        def copy(src, dst, nthreads):
            np.copyto(dst, src)

        return copy, "single-threaded copy (np.copyto): the parallel copy kernel is missing"

    def copy(src, dst, nthreads):
        parallel_copy(src.reshape(-1).view(np.uint8), dst.reshape(-1).view(np.uint8),
                      nthreads)

    return copy, "parallel memcpy of x's bytes, same thread count, same process"


def time_copy(x, threads, repeat, budget_s=float("inf")):
    """Timing of a copy of ``x``'s bytes with ``threads`` threads."""
    copy, _ = copy_function()
    src = np.ascontiguousarray(x)
    dst = np.empty_like(src)
    return measure(lambda: copy(src, dst, threads), repeat, budget_s)


@contextlib.contextmanager
def limit_other_pools():
    """Limit BLAS thread pools to one thread; yields a note saying what was done."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield ("threadpoolctl is not installed: BLAS thread pools were not limited "
               "(an idle OpenBLAS pool can spin and steal cores)")
        return
    with threadpool_limits(1, user_api="blas"):
        yield "BLAS thread pools limited to 1 thread (threadpoolctl)"


def default_threads():
    """The OpenMP default thread count fastlrn would use (1 without OpenMP)."""
    try:
        from fastlrn._kernels import _openmp
    except ImportError:
        return 1
    return max(1, int(_openmp.get_max_threads()))


def _cpuinfo():
    info = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key in ("model name", "cpu cores", "siblings", "cache size") \
                        and key not in info:
                    info[key] = value.strip()
    except OSError:
        pass
    return info


def _memory_bytes():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def machine_info():
    """CPU, cores, memory, OS, Python, NumPy: what a timing depends on."""
    cpu = _cpuinfo()
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        usable = os.cpu_count()
    return {
        "cpu": cpu.get("model name") or platform.processor() or "unknown",
        "cpu_count": os.cpu_count(),
        "usable_cpus": usable,
        "cores_per_socket": cpu.get("cpu cores"),
        "threads_per_socket": cpu.get("siblings"),
        "cache": cpu.get("cache size"),
        "memory_bytes": _memory_bytes(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "environment": {
            name: os.environ[name] for name in (
                "OMP_NUM_THREADS", "OMP_PROC_BIND", "OMP_PLACES", "OMP_WAIT_POLICY",
                "GOMP_SPINCOUNT", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                "TF_ENABLE_ONEDNN_OPTS", "XLA_FLAGS",
            ) if name in os.environ
        },
    }


def log(msg):
    """A progress line, flushed at once (the bench runs for minutes)."""
    print(msg, flush=True)
