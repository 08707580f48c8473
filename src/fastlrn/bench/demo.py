"""``python -m fastlrn bench``: fastlrn against a memory copy and the reference.

LRN reads its input once and writes its output once, so a copy of the same
bytes, with the same number of threads, in the same process, is the speed
limit; times are reported as a multiple of it ("x copy"). The NumPy
reference (``fastlrn.reference``) is timed once on the first items of the
batch and scaled up to the full batch; the accuracy column compares fastlrn
with it on those items.
"""

import json
import os
import platform
import statistics
import sys
import time

import numpy as np

SEED = 20120101  # fixed: every run times the same data
SIZE, ALPHA, BETA, K = 5, 1e-4, 0.75, 2.0  # AlexNet's LRN
REF_ITEMS = 2  # batch items the reference runs on
REF_RUNS = 2  # best of 2: the first call in a process pays one-off costs
QUICK_BATCH = 8

# id: (what, shape with batch 64, dtype, region, channel_axis)
WORKLOADS = {
    "W1": ("across NCHW", (64, 96, 55, 55), np.float32, "across", 1),
    "W3": ("across NHWC", (64, 55, 55, 96), np.float32, "across", -1),
    "W4": ("within NCHW", (64, 96, 55, 55), np.float32, "within", 1),
    "W5": ("across NCHW f64", (64, 96, 55, 55), np.float64, "across", 1),
    "W6": ("across NCHW N=1", (1, 96, 55, 55), np.float32, "across", 1),
}


def add_arguments(parser):
    """Add the ``bench`` options to an argparse parser."""
    parser.add_argument(
        "--quick", action="store_true",
        help=f"batch {QUICK_BATCH} instead of 64 (W6 keeps batch 1)",
    )
    parser.add_argument(
        "--repeat", type=_positive_int, default=7, metavar="N",
        help="timed repeats per measurement; the median is reported (default 7)",
    )
    parser.add_argument(
        "--threads", type=_thread_list, default=None, metavar="LIST",
        help="comma-separated thread counts, e.g. 1,2 "
        "(default: 1 and the OpenMP default thread count)",
    )
    parser.add_argument(
        "--workloads", type=_workload_list, default=None, metavar="LIST",
        help=f"comma-separated subset of {','.join(WORKLOADS)} (default: all)",
    )
    parser.add_argument(
        "--json", default=None, metavar="FILE",
        help="also write the results, machine and build information to FILE",
    )


def _positive_int(text):
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _thread_list(text):
    values = [_positive_int(part.strip()) for part in text.split(",") if part.strip()]
    if not values:
        import argparse

        raise argparse.ArgumentTypeError(f"expected thread counts like 1,2, got {text!r}")
    return list(dict.fromkeys(values))


def _workload_list(text):
    import argparse

    names = [part.strip().upper() for part in text.split(",") if part.strip()]
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"workloads must be among {','.join(WORKLOADS)}, got {text!r}"
        )
    return list(dict.fromkeys(names))


def _log(msg):
    print(msg, flush=True)


def _default_threads():
    try:
        from fastlrn._kernels import _openmp
    except ImportError:
        return 1
    return max(1, int(_openmp.get_max_threads()))


def _copy_function():
    """(copy(src, dst, nthreads), label). Parallel when the kernel exists."""
    try:
        from fastlrn._kernels._copy import parallel_copy
    except ImportError:
        def copy(src, dst, nthreads):
            np.copyto(dst, src)

        return copy, "single-threaded copy (np.copyto)"

    def copy(src, dst, nthreads):
        parallel_copy(
            src.reshape(-1).view(np.uint8), dst.reshape(-1).view(np.uint8), nthreads
        )

    return copy, "parallel copy (same thread count)"


def _median_seconds(fn, repeat):
    fn()  # warm-up: page faults, thread pool start
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_info():
    """Machine, Python, NumPy, fastlrn build: what a result depends on."""
    from fastlrn._config import config

    return {
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "environment": {
            name: os.environ[name]
            for name in ("OMP_NUM_THREADS", "OMP_PROC_BIND", "OMP_PLACES")
            if name in os.environ
        },
        "config": config(),
    }


def _bench_workload(wid, batch, threads, repeat, copy, lrn, reference):
    what, shape, dtype, region, channel_axis = WORKLOADS[wid]
    if shape[0] != 1:
        shape = (batch,) + shape[1:]
    rng = np.random.default_rng(SEED)
    x = rng.standard_normal(shape, dtype=np.float32).astype(dtype, copy=False)
    out = np.empty_like(x)
    dst = np.empty_like(x)
    kwargs = dict(region=region, channel_axis=channel_axis)

    # The reference, once, on the first items; scaled to the whole batch.
    n_ref = min(REF_ITEMS, shape[0])
    lo, hi = SIZE // 2, (SIZE - 1) // 2
    _log(f"[{wid}] {what} {shape} {np.dtype(dtype).name}: reference on {n_ref} item(s)")
    ref_times = []
    for _ in range(REF_RUNS):
        t0 = time.perf_counter()
        ref = reference.lrn(x[:n_ref], lo, hi, ALPHA, BETA, K, **kwargs)
        ref_times.append(time.perf_counter() - t0)
    ref_s = min(ref_times) * shape[0] / n_ref
    ref_scale = float(np.max(np.abs(ref))) or 1.0

    rows = []
    for t in threads:
        _log(f"[{wid}] threads={t}: fastlrn")
        lrn_s = _median_seconds(
            lambda: lrn(x, SIZE, ALPHA, BETA, K, out=out, num_threads=t, **kwargs),
            repeat,
        )
        err = float(np.max(np.abs(out[:n_ref] - ref))) / ref_scale
        _log(f"[{wid}] threads={t}: copy")
        copy_s = _median_seconds(lambda: copy(x, dst, t), repeat)
        rows.append({
            "workload": wid,
            "what": what,
            "shape": list(shape),
            "dtype": np.dtype(dtype).name,
            "region": region,
            "channel_axis": channel_axis,
            "threads": t,
            "fastlrn_ms": lrn_s * 1e3,
            "copy_ms": copy_s * 1e3,
            "x_copy": lrn_s / copy_s if copy_s > 0 else float("inf"),
            "reference_ms_est": ref_s * 1e3,
            "reference_items": n_ref,
            "speedup_vs_reference": ref_s / lrn_s if lrn_s > 0 else float("inf"),
            "max_rel_error": err,
            "bytes": int(x.nbytes),
        })
    return rows


def _num(value):
    """Two significant-ish digits for small numbers, none for large ones."""
    return f"{value:.1f}" if value < 10 else f"{value:.0f}"


def _table(rows):
    head = ("workload", "threads", "fastlrn ms", "copy ms", "x copy",
            "reference ms (est.)", "vs reference", "max rel err")
    lines = [head]
    for r in rows:
        lines.append((
            f"{r['workload']} {r['what']}",
            str(r["threads"]),
            f"{r['fastlrn_ms']:.2f}",
            f"{r['copy_ms']:.2f}",
            f"{r['x_copy']:.2f}x",
            _num(r["reference_ms_est"]),
            _num(r["speedup_vs_reference"]) + "x",
            f"{r['max_rel_error']:.1e}",
        ))
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    out = []
    for n, line in enumerate(lines):
        cells = [line[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(line[1:], widths[1:])]
        out.append("  ".join(cells))
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def run(args):
    """Run the demo for parsed ``args``; return the process exit status."""
    import fastlrn
    from fastlrn import reference

    lrn = getattr(fastlrn, "lrn", None)
    if lrn is None:
        _log("fastlrn.lrn is not available in this build; nothing to benchmark")
        return 1

    batch = QUICK_BATCH if args.quick else 64
    threads = args.threads or list(dict.fromkeys([1, _default_threads()]))
    workloads = args.workloads or list(WORKLOADS)
    copy, copy_label = _copy_function()
    info = machine_info()

    cfg = info["config"]
    _log(f"fastlrn {cfg['version']}, OpenMP {cfg['openmp']}, "
         f"default threads {cfg['default_num_threads']}, CPU {info['cpu']} "
         f"({info['cpu_count']} logical)")
    _log(f"batch {batch}, threads {threads}, median of {args.repeat} after one warm-up; "
         f"copy: {copy_label}")
    _log(f"reference: NumPy float64, best of {REF_RUNS} runs on the first "
         f"{REF_ITEMS} item(s), scaled to the batch")
    if args.quick:
        _log(f"--quick: batch {batch} may fit in the CPU caches, so copy times "
             "(and x copy) can differ from the full-size run's")

    rows, failures = [], {}
    for wid in workloads:
        try:
            rows.extend(_bench_workload(wid, batch, threads, args.repeat,
                                        copy, lrn, reference))
        except Exception as exc:  # report and go on with the other workloads
            failures[wid] = f"{type(exc).__name__}: {exc}"
            _log(f"[{wid}] FAILED: {failures[wid]}")

    print()
    print(f"size={SIZE} alpha={ALPHA} beta={BETA} k={K}; x copy = fastlrn time / "
          f"time of a {copy_label} of the same bytes; reference times are estimates "
          f"scaled from {REF_ITEMS} item(s); max rel err = max|fastlrn - ref| / max|ref| "
          "on those items")
    if rows:
        print(_table(rows))
    for wid, msg in failures.items():
        print(f"{wid}: FAILED: {msg}")
    sys.stdout.flush()

    if args.json:
        record = {
            "settings": {
                "batch": batch, "threads": threads, "repeat": args.repeat,
                "workloads": workloads, "size": SIZE, "alpha": ALPHA,
                "beta": BETA, "k": K, "seed": SEED, "copy": copy_label,
                "reference_items": REF_ITEMS, "reference_runs": REF_RUNS,
            },
            "machine": info,
            "results": rows,
            "failures": failures,
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        with open(args.json, "w") as f:
            json.dump(record, f, indent=2, default=str)
            f.write("\n")
        _log(f"wrote {args.json}")
    return 1 if failures else 0
