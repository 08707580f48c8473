"""``python -m fastlrn bench``: fastlrn against a memory copy and every other LRN.

LRN reads its input once and writes its output once, so a copy of the same
bytes, with the same number of threads, in the same process, is the speed
limit; every time is also reported as a multiple of it ("x copy"). Backward
reads x and dy and writes dx: its "x copy" is against a copy of x's bytes,
so 1.5x is its floor.

1. fastlrn runs in this process, workload by workload: its time, the copy's,
   and its error against the float64 reference (``fastlrn.reference``) on
   the first items of the batch. The reference itself is timed on those
   items and scaled to the batch (the "numpy" peer).
2. Each other peer (PyTorch, TensorFlow, ONNX Runtime, OpenVINO, JAX) runs
   in a process of its own (:mod:`fastlrn.bench.worker`; TensorFlow and JAX
   one per thread count, since they fix it at start-up), times its own copy
   the same way, and checks its output against the same reference.
3. A table of every measurement, a matrix of fastlrn's speed-ups, and
   optionally ``--json`` (the raw record) and ``--plot`` (a bar chart).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from fastlrn.bench import peers as _peers
from fastlrn.bench.timing import (Timing, copy_function, default_threads,
                                  limit_other_pools, log, machine_info, measure, time_copy)
from fastlrn.bench.worker import make_row, progress
from fastlrn.bench.workloads import (FULL_BATCH, QUICK_BATCH, REF_ITEMS, SEED, WORKLOADS,
                                     relative_error)

DESCRIPTION = """\
Time fastlrn on SPEC section 5's workloads against a memory copy of the same
bytes (same thread count, same process) and against every other LRN
implementation installed: PyTorch, TensorFlow, ONNX Runtime, OpenVINO, JAX
and the NumPy reference, each computing the same function and checked
against the float64 reference."""

EPILOG = "workloads (float32, size=5, alpha=1e-4, beta=0.75, k=2 unless noted):\n" + "\n".join(
    f"  {w.id}  {w.what}, {w.shape}" for w in WORKLOADS.values()) + """

Each peer runs in a process of its own; see benchmarks/README.md."""

FULL = dict(batch=FULL_BATCH, repeat=7, budget_s=3.0)
QUICK = dict(batch=QUICK_BATCH, repeat=3, budget_s=0.3)

# Issue 5's targets: fastlrn's time as a multiple of a copy of the same bytes
# (backward: of x's bytes), at every thread count. W6: at least 2x faster
# than OpenVINO instead.
TARGET_X_COPY = {"W1": 1.5, "W2": 1.5, "W3": 1.5, "W4": 2.0, "W5": 2.0, "W7": 3.0,
                 "W8": 2.5}
TARGET_SPEEDUP = {"W6": ("openvino", 2.0)}

WORKER_TIMEOUT_S = 1800  # a peer that hangs is reported, not waited for forever


# ---------------------------------------------------------------- arguments


def add_arguments(parser):
    """Add the ``bench`` options to an argparse parser."""
    parser.add_argument(
        "--quick", action="store_true",
        help=f"batch {QUICK_BATCH} instead of {FULL_BATCH} (W6 keeps 1), "
        f"{QUICK['repeat']} repeats: under a minute with every peer",
    )
    parser.add_argument(
        "--workloads", type=_workload_list, default=None, metavar="LIST",
        help=f"comma-separated subset of {','.join(WORKLOADS)} (default: all)",
    )
    parser.add_argument(
        "--threads", type=_thread_list, default=None, metavar="LIST",
        help="comma-separated thread counts, e.g. 1,2 "
        "(default: 1 and the OpenMP default thread count)",
    )
    parser.add_argument(
        "--peers", type=_peer_list, default=None, metavar="LIST",
        help=f"comma-separated subset of {','.join(_peers.PEERS)}, 'all' or 'none' "
        "(default: every one installed)",
    )
    parser.add_argument(
        "--repeat", type=_positive_int, default=None, metavar="N",
        help=f"timed samples per measurement, after one warm-up; the median is "
        f"reported (default {FULL['repeat']}, --quick {QUICK['repeat']})",
    )
    parser.add_argument(
        "--max-seconds", type=float, default=None, metavar="S",
        help=f"take fewer samples (at least 3) where --repeat samples would take "
        f"over S seconds (default {FULL['budget_s']}, --quick {QUICK['budget_s']})",
    )
    parser.add_argument(
        "--json", default=None, metavar="FILE",
        help="write the raw record (machine, versions, build, settings, every sample)",
    )
    parser.add_argument(
        "--plot", default=None, metavar="FILE.png",
        help="write a bar chart of x copy per workload (needs matplotlib)",
    )


def _positive_int(text):
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
        raise argparse.ArgumentTypeError(f"expected thread counts like 1,2, got {text!r}")
    return list(dict.fromkeys(values))


def _workload_list(text):
    names = [part.strip().upper() for part in text.split(",") if part.strip()]
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"workloads must be among {','.join(WORKLOADS)}, got {text!r}")
    return list(dict.fromkeys(names))


def _peer_list(text):
    names = [part.strip().lower() for part in text.split(",") if part.strip()]
    if names == ["none"]:
        return []
    if names == ["all"]:
        return list(_peers.PEERS)
    out = []
    for n in names:
        try:
            out.append(_peers.resolve(n).name)
        except KeyError:
            raise argparse.ArgumentTypeError(
                f"peers must be among {','.join(_peers.PEERS)} (or 'all', 'none'), "
                f"got {n!r}")
    return list(dict.fromkeys(out))


# ---------------------------------------------------------------- measuring


def _bench_fastlrn(wl, threads, settings, refdir, time_reference):
    """fastlrn (and the reference) on one workload, in this process."""
    x, dy = wl.inputs(SEED)
    ref = wl.reference(x, dy)
    np.save(os.path.join(refdir, wl.id + ".npy"), ref)
    out = np.empty_like(x)
    repeat, budget = settings["repeat"], settings["budget_s"]
    log(f"[{wl.id}] {wl.what} {wl.shape} {wl.dtype}"
        + (f" beta={wl.beta}" if wl.beta != 0.75 else ""))
    ref_timing = None
    if time_reference:
        n = min(REF_ITEMS, x.shape[0])
        xs, dys = x[:n], (dy[:n] if dy is not None else None)
        t = measure(lambda: wl.reference(xs, dys), min(repeat, 3), budget)
        scale = x.shape[0] / n
        ref_timing = Timing([s * scale for s in t.samples], t.number, t.warmup * scale,
                            t.cpu_per_wall)
    rows = []
    for t in threads:
        copy = time_copy(x, t, repeat, budget)
        timing = measure(wl.fastlrn_call(x, dy, out, t), repeat, budget)
        error = relative_error(out, ref)
        progress(wl, t, "fastlrn", timing, copy, error)
        rows.append(make_row(wl, t, "fastlrn", "fastlrn", timing, copy, error,
                             process="main"))
        if ref_timing is not None:
            label = "numpy reference (est.)"
            progress(wl, t, label, ref_timing, copy, 0.0)
            rows.append(make_row(wl, t, label, "numpy", ref_timing, copy, 0.0,
                                 f"float64, timed on {min(REF_ITEMS, x.shape[0])} item(s) "
                                 "and scaled", process="main"))
    return rows


def _worker_env():
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ start-up chatter
    env.setdefault("PYTHONWARNINGS", "ignore")  # frameworks' deprecation notices
    # The worker must import this very fastlrn, however the bench was started.
    import fastlrn

    root = os.path.dirname(os.path.dirname(os.path.abspath(fastlrn.__file__)))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env


def _run_worker(peer, threads, workloads, settings, refdir):
    """Run one worker process; return its result dict (or a failure dict)."""
    request = {
        "peer": peer.name, "threads": threads, "workloads": [w.to_dict() for w in workloads],
        "repeat": settings["repeat"], "budget_s": settings["budget_s"], "seed": SEED,
        "refdir": refdir,
    }
    req_path = os.path.join(refdir, f"request-{peer.name}-{'-'.join(map(str, threads))}.json")
    out_path = req_path.replace("request-", "result-")
    with open(req_path, "w") as f:
        json.dump(request, f)
    log(f"--- {peer.label}: threads {threads} (process of its own)")
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "fastlrn.bench.worker", req_path, out_path],
            env=_worker_env(), stderr=subprocess.PIPE, text=True, timeout=WORKER_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        msg = f"no result after {WORKER_TIMEOUT_S} s; stopped"
        log(f"--- {peer.label}: worker FAILED: {msg}")
        return {"peer": peer.name, "threads": threads, "rows": [], "versions": {},
                "unsupported": {}, "failures": {f"threads {threads}": msg}}
    if proc.returncode != 0 or not os.path.exists(out_path):
        tail = "\n".join(proc.stderr.strip().splitlines()[-5:])
        log(f"--- {peer.label}: worker FAILED (exit {proc.returncode}):\n{tail}")
        return {"peer": peer.name, "threads": threads, "rows": [], "versions": {},
                "unsupported": {}, "failures": {f"threads {threads}": tail or
                                                f"exit status {proc.returncode}"}}
    with open(out_path) as f:
        return json.load(f)


def _add_speedups(rows):
    fast = {(r["workload"], r["threads"]): r["time_ms"] for r in rows
            if r["implementation"] == "fastlrn"}
    for r in rows:
        f = fast.get((r["workload"], r["threads"]))
        r["fastlrn_speedup"] = (r["time_ms"] / f if f and r["implementation"] != "fastlrn"
                                else None)


def _sort_rows(rows, workload_ids):
    peer_order = {name: i for i, name in enumerate(["fastlrn"] + list(_peers.PEERS))}
    rows.sort(key=lambda r: (workload_ids.index(r["workload"]), r["threads"],
                             peer_order.get(r["peer"], 99), r["implementation"]))


# ---------------------------------------------------------------- reporting


def _ms(v):
    return f"{v:.3f}" if v < 1 else f"{v:.2f}" if v < 100 else f"{v:.0f}"


def _ratio(v):
    if v is None:
        return "-"
    return f"{v:.2f}x" if v < 10 else f"{v:.1f}x" if v < 100 else f"{v:.0f}x"


def _grid(head, lines, left=1):
    lines = [tuple(head)] + [tuple(line) for line in lines]
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    out = []
    for n, line in enumerate(lines):
        cells = [c.ljust(w) for c, w in zip(line[:left], widths[:left])]
        cells += [c.rjust(w) for c, w in zip(line[left:], widths[left:])]
        out.append("  ".join(cells).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def table(rows):
    """Every measurement: median ms, the copy's, x copy, fastlrn's speed-up, error."""
    head = ("workload", "threads", "implementation", "ms", "copy ms", "x copy",
            "fastlrn speed-up", "max rel err")
    lines = []
    for r in rows:
        lines.append((f"{r['workload']} {r['what']}", str(r["threads"]), r["implementation"],
                      _ms(r["time_ms"]), _ms(r["copy_ms"]), _ratio(r["x_copy"]),
                      _ratio(r["fastlrn_speedup"]),
                      "(is ref)" if r["peer"] == "numpy" else f"{r['max_rel_error']:.1e}"))
    return _grid(head, lines, left=3)


def speedup_matrix(rows, workload_ids, threads):
    """fastlrn's x copy (and target), and its speed-up against each peer's fastest variant."""
    peer_names = [p for p in _peers.PEERS if any(r["peer"] == p for r in rows)]
    head = ["workload", "threads", "fastlrn x copy", "target"] + [
        _peers.PEERS[p].name for p in peer_names]
    lines = []
    for wid in workload_ids:
        for t in threads:
            here = [r for r in rows if r["workload"] == wid and r["threads"] == t]
            fast = [r for r in here if r["implementation"] == "fastlrn"]
            if not fast:
                continue
            target = "-"
            if wid in TARGET_X_COPY:
                target = f"<= {TARGET_X_COPY[wid]}x " + (
                    "met" if fast[0]["x_copy"] <= TARGET_X_COPY[wid] else "NOT met")
            line = [wid, str(t), _ratio(fast[0]["x_copy"]), target]
            for p in peer_names:
                mine = [r["fastlrn_speedup"] for r in here if r["peer"] == p]
                line.append(_ratio(min(mine)) if mine else "n/a")
            if wid in TARGET_SPEEDUP:
                peer, need = TARGET_SPEEDUP[wid]
                got = [r["fastlrn_speedup"] for r in here if r["peer"] == peer]
                if got:
                    line[3] = f">= {need}x vs {peer} " + ("met" if min(got) >= need
                                                          else "NOT met")
            lines.append(line)
    return _grid(head, lines, left=2)


def plot(rows, workload_ids, threads, path):
    """A bar chart of x copy (log scale), one panel per thread count."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = list(dict.fromkeys(r["implementation"] for r in rows))
    peer_of = {r["implementation"]: r["peer"] for r in rows}
    families = ["fastlrn"] + list(_peers.PEERS)
    cmap = plt.get_cmap("tab10")  # one colour per library; hatched: with transposes
    fig, axes = plt.subplots(len(threads), 1, figsize=(max(8, 1.6 * len(workload_ids)),
                                                       3.6 * len(threads)), squeeze=False)
    handles = {}
    for ax, t in zip(axes[:, 0], threads):
        for i, wid in enumerate(workload_ids):
            here = {r["implementation"]: r["x_copy"] for r in rows
                    if r["workload"] == wid and r["threads"] == t}
            present = sorted((label for label in labels if label in here),
                             key=lambda label: families.index(peer_of[label])
                             if peer_of[label] in families else len(families))
            width = 0.85 / max(1, len(present))
            for j, label in enumerate(present):
                family = peer_of[label]
                bar = ax.bar(i + (j - (len(present) - 1) / 2) * width, here[label], width,
                             color=cmap(families.index(family) % 10
                                        if family in families else 9),
                             hatch="//" if "+transposes" in label else None,
                             edgecolor="black",
                             linewidth=1.2 if family == "fastlrn" else 0.4)
                handles.setdefault(label, bar)
        ax.axhline(1.0, color="black", linewidth=0.8, linestyle="--")
        ax.set_yscale("log")
        ax.set_xticks(range(len(workload_ids)))
        ax.set_xticklabels(workload_ids)
        ax.set_ylabel("time / copy of the same bytes")
        ax.set_title(f"{t} thread{'s' if t > 1 else ''}")
    fig.suptitle("LRN time as a multiple of a memory copy of the same bytes "
                 "(lower is better; dashed: the copy)")
    fig.tight_layout()
    fig.legend(list(handles.values()), list(handles), fontsize="small", ncol=4,
               loc="upper center", bbox_to_anchor=(0.5, 0.0))
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)


# ---------------------------------------------------------------- main


def run(args):
    """Run the bench for parsed ``args``; return the process exit status."""
    import fastlrn

    if args.plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            print("--plot needs matplotlib, which is not installed: "
                  "pip install matplotlib (or pip install 'fastlrn[bench]'); "
                  "nothing was run", file=sys.stderr)
            return 2

    settings = dict(QUICK if args.quick else FULL)
    if args.repeat is not None:
        settings["repeat"] = args.repeat
    if args.max_seconds is not None:
        settings["budget_s"] = args.max_seconds
    threads = args.threads or list(dict.fromkeys([1, default_threads()]))
    workload_ids = args.workloads or list(WORKLOADS)
    workloads = [WORKLOADS[w].with_batch(settings["batch"]) for w in workload_ids]
    requested = list(_peers.PEERS) if args.peers is None else args.peers

    notes, skipped = [], {}
    chosen = []
    for name in requested:
        peer = _peers.PEERS[name]
        missing = peer.missing()
        if missing:
            skipped[name] = (f"not installed ({', '.join(missing)}; "
                             f"pip install {peer.install})")
            log(f"{peer.label}: skipped, {skipped[name]}")
        else:
            chosen.append(peer)

    info = machine_info()
    cfg = fastlrn.config()
    _, copy_label = copy_function()
    log(f"fastlrn {cfg['version']} ({cfg.get('kernel_isa', '?')} kernels, OpenMP "
        f"{cfg['openmp']}), CPU {info['cpu']} ({info['usable_cpus']} usable of "
        f"{info['cpu_count']} logical)")
    log(f"batch {settings['batch']}, threads {threads}, median of up to "
        f"{settings['repeat']} samples after one warm-up (fewer, at least 3, where they "
        f"would take over {settings['budget_s']} s); copy: {copy_label}")
    log(f"peers: {', '.join(p.label for p in chosen) or 'none'}")
    if args.quick:
        notes.append(f"--quick: batch {settings['batch']}; the arrays may fit in the CPU "
                     "caches, so copy times and x copy differ from a full run's")

    rows, failures, unsupported, versions = [], {}, {}, {}
    t_start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="fastlrn-bench-") as refdir:
        with limit_other_pools() as pool_note:
            notes.append(pool_note)
            pools = _threadpool_info()  # as limited while fastlrn is timed
            time_reference = any(p.name == "numpy" for p in chosen)
            for wl in workloads:
                try:
                    rows.extend(_bench_fastlrn(wl, threads, settings, refdir,
                                               time_reference))
                except Exception as exc:  # report and go on with the other workloads
                    failures[f"fastlrn {wl.id}"] = f"{type(exc).__name__}: {exc}"
                    log(f"[{wl.id}] fastlrn FAILED: {failures[f'fastlrn {wl.id}']}")
        measured = [w for w in workloads if f"fastlrn {w.id}" not in failures]
        for peer in chosen:
            if peer.name == "numpy":
                versions["numpy"] = np.__version__
                continue
            groups = [[t] for t in threads] if peer.per_process_threads else [threads]
            for group in groups:
                result = _run_worker(peer, group, measured, settings, refdir)
                rows.extend(result["rows"])
                versions.update(result.get("versions", {}))
                for key, msg in result.get("failures", {}).items():
                    failures[f"{peer.name} {key}"] = msg
                for wid, msg in result.get("unsupported", {}).items():
                    unsupported.setdefault(peer.name, {})[wid] = msg
                if result.get("environment"):
                    info.setdefault("worker_environment", {})[peer.name] = \
                        result["environment"]
    elapsed = time.perf_counter() - t_start

    _add_speedups(rows)
    _sort_rows(rows, workload_ids)
    if any(w.backward for w in workloads):
        notes.append("backward (W7) reads x and dy and writes dx: its x copy is against a "
                     "copy of x's bytes, so 1.5x is its floor")
    notes.extend(n for p in chosen for n in p.notes)

    print()
    print(f"size={workloads[0].size} alpha={workloads[0].alpha} k={workloads[0].k} "
          f"beta=0.75 (W8: 0.6); ms = median; x copy = time / time of a parallel copy of "
          f"the same bytes, same thread count, same process; fastlrn speed-up = this "
          f"time / fastlrn's; max rel err = max|y - ref| / max|ref| on the first "
          f"{REF_ITEMS} items against the float64 reference")
    if rows:
        print(table(rows))
        print()
        print("fastlrn's speed-up against each peer (its fastest variant), same thread "
              "count; n/a: not measured")
        print(speedup_matrix(rows, workload_ids, threads))
    print()
    for name, msg in skipped.items():
        print(f"skipped {name}: {msg}")
    for name, per in unsupported.items():
        for wid, msg in per.items():
            print(f"{name} {wid}: not measured: {msg}")
    for key, msg in failures.items():
        print(f"FAILED {key}: {msg}")
    for n in notes:
        print(f"note: {n}")
    print(f"({elapsed:.0f} s)")
    sys.stdout.flush()

    if args.json:
        record = {
            "command": " ".join(["python", "-m", "fastlrn"] + list(getattr(args, "argv", None)
                                                                   or ["bench"])),
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "elapsed_s": elapsed,
            "settings": {
                **settings, "quick": bool(args.quick), "threads": threads,
                "workloads": [w.to_dict() for w in workloads], "seed": SEED,
                "reference_items": REF_ITEMS, "peers": [p.name for p in chosen],
                "copy": copy_label,
            },
            "machine": info,
            "build": cfg,
            "versions": {"python": info["python"], "numpy": np.__version__,
                         "fastlrn": cfg["version"], **_threadpoolctl_version(), **versions},
            "thread_pools": pools,
            "notes": notes, "skipped": skipped, "unsupported": unsupported,
            "failures": failures, "targets": {"x_copy": TARGET_X_COPY,
                                              "speedup": TARGET_SPEEDUP},
            "results": rows,
        }
        with open(args.json, "w") as f:
            json.dump(record, f, indent=1, default=str)
            f.write("\n")
        log(f"wrote {args.json}")
    if args.plot and rows:
        plot(rows, workload_ids, threads, args.plot)
        log(f"wrote {args.plot}")
    return 1 if any(k.startswith("fastlrn ") for k in failures) else 0


def _threadpoolctl_version():
    try:
        import threadpoolctl
    except ImportError:
        return {}
    return {"threadpoolctl": threadpoolctl.__version__}


def _threadpool_info():
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    return [{k: v for k, v in pool.items() if k != "filepath"} for pool in threadpool_info()]
