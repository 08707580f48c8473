"""The speed milestones of the core and backward issues, measured as they are stated.

(32, 96, 55, 55) float32, size 5, AlexNet parameters: time / the time of a
parallel copy of the same bytes with the same thread count, in this
process. Each ratio is the median of 5 rounds, each round the median of 7
calls against the median of 7 copies (the machine is shared: ratios of
close-together measurements are what holds).

    python benchmarks/milestones.py
"""

import time

import numpy as np
from threadpoolctl import threadpool_limits

import fastlrn
from fastlrn._kernels._copy import parallel_copy

SHAPE = (32, 96, 55, 55)


def median_time(f, repeat=7):
    f()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def main():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(SHAPE).astype(np.float32)
    g = rng.standard_normal(SHAPE).astype(np.float32)
    xt = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    y, yt = np.empty_like(x), np.empty_like(xt)
    xb, yb = x.reshape(-1).view(np.uint8), y.reshape(-1).view(np.uint8)
    cases = {
        "across NCHW": lambda t: fastlrn.lrn(x, out=y, num_threads=t),
        "across NHWC": lambda t: fastlrn.lrn(xt, channel_axis=-1, out=yt, num_threads=t),
        "within NCHW": lambda t: fastlrn.lrn(x, region="within", out=y, num_threads=t),
        "backward across NCHW": lambda t: fastlrn.lrn_backward(x, g, out=y, num_threads=t),
        "backward within NCHW": lambda t: fastlrn.lrn_backward(x, g, region="within", out=y,
                                                               num_threads=t),
    }
    with threadpool_limits(1, user_api="blas"):   # idle OpenBLAS threads spin
        for t in (1, 2):
            for name, f in cases.items():
                ratios = []
                for _ in range(5):
                    tl = median_time(lambda: f(t))
                    tc = median_time(lambda: parallel_copy(xb, yb, t))
                    ratios.append(tl / tc)
                runs = ", ".join(f"{r:.2f}" for r in ratios)
                print(f"{name:22s} threads={t}: median x copy {np.median(ratios):.2f} "
                      f"(rounds {runs})", flush=True)


if __name__ == "__main__":
    main()
