"""Measure where two threads start to beat one (sets fastlrn._threads.SERIAL_BELOW).

Runs fastlrn.lrn on across-NCHW float32 inputs of growing size with the
serial threshold disabled, at 1 and 2 threads, and prints the median times.

    python benchmarks/threshold.py
"""

import time

import numpy as np

import fastlrn
from fastlrn import _threads


def median_time(f, repeat=31):
    f()
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t)
    return float(np.median(ts))


def main():
    _threads.SERIAL_BELOW = 0  # measure the real team start-up, not the rule
    rng = np.random.default_rng(0)
    print(f"{'elements':>9} {'1 thread us':>12} {'2 threads us':>13} {'ratio':>6}")
    for hw in (4, 8, 12, 16, 24, 32, 48, 64):
        x = rng.standard_normal((1, 16, hw, hw)).astype(np.float32)
        y = np.empty_like(x)
        t1 = median_time(lambda: fastlrn.lrn(x, out=y, num_threads=1))
        t2 = median_time(lambda: fastlrn.lrn(x, out=y, num_threads=2))
        print(f"{x.size:9d} {t1 * 1e6:12.1f} {t2 * 1e6:13.1f} {t2 / t1:6.2f}")


if __name__ == "__main__":
    main()
