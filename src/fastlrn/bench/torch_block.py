"""An AlexNet-style block, forward and backward, with fastlrn's LRN module against torch's.

    python -m fastlrn.bench.torch_block [--batch 32] [--threads 1,2] [--repeat 7]

The block is conv(3->96, 11x11, stride 4) -> ReLU -> LRN(5, 1e-4, 0.75, 2)
-> max-pool(3, 2) on (batch, 3, 227, 227) float32, AlexNet's first layer.
Each variant is timed as the median of repeats of one training step's
forward and backward (after one warm-up step). The LRN layer alone is
timed too, forward and backward on the block's real ReLU output, since the
convolution dominates the block. Threads: torch.set_num_threads(t), which
fastlrn follows (they share the OpenMP runtime).
"""

import argparse
import time

import numpy as np


def _median_time(step, repeat):
    step()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def run(batch=32, threads=(1, 2), repeat=7, out=print):
    """Time the block and the LRN layer with both modules; returns the rows."""
    import torch

    from fastlrn.torch import LocalResponseNorm as FastLRN

    torch.manual_seed(0)
    conv = torch.nn.Conv2d(3, 96, 11, stride=4)
    x = torch.randn(batch, 3, 227, 227)
    with torch.no_grad():
        act = torch.relu(conv(x))
    grad = torch.randn_like(act)
    lrns = {"torch": torch.nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0),
            "fastlrn": FastLRN(5, alpha=1e-4, beta=0.75, k=2.0)}
    rows = []
    for t in threads:
        torch.set_num_threads(t)
        times = {}
        for name, lrn in lrns.items():
            block = torch.nn.Sequential(conv, torch.nn.ReLU(), lrn, torch.nn.MaxPool2d(3, 2))

            def block_step():
                block.zero_grad(set_to_none=True)
                block(x).sum().backward()

            a = act.clone().requires_grad_(True)

            def lrn_step():
                a.grad = None
                lrn(a).backward(grad)

            times[name] = (_median_time(block_step, repeat), _median_time(lrn_step, repeat))
        for what, i in (("block fwd+bwd", 0), ("LRN layer fwd+bwd", 1)):
            row = dict(threads=t, what=what, torch_ms=times["torch"][i] * 1e3,
                       fastlrn_ms=times["fastlrn"][i] * 1e3)
            row["speedup"] = row["torch_ms"] / row["fastlrn_ms"]
            rows.append(row)
            out(f"threads={t}  {what:18s}  torch {row['torch_ms']:9.2f} ms  "
                f"fastlrn {row['fastlrn_ms']:9.2f} ms  speed-up {row['speedup']:.2f}x")
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m fastlrn.bench.torch_block",
                                description=__doc__.splitlines()[0])
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--threads", default="1,2",
                   help="comma-separated thread counts (default 1,2)")
    p.add_argument("--repeat", type=int, default=7)
    a = p.parse_args(argv)
    threads = tuple(int(t) for t in a.threads.split(","))
    print(f"AlexNet block conv-ReLU-LRN-pool, batch {a.batch}, float32, "
          f"median of {a.repeat}", flush=True)
    run(a.batch, threads, a.repeat)


if __name__ == "__main__":
    main()
