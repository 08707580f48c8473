"""``python -m fastlrn bench``: fastlrn against a memory copy and every other LRN.

LRN reads its input once and writes its output once, so a copy of the same
bytes, with the same number of threads, in the same process, is the speed
limit; every time is also reported as a multiple of it ("x copy"). Backward
reads x and dy and writes dx: its "x copy" is against a copy of x's bytes,
so 1.5x is its floor.

Every workload is run on each data kind of ``--data`` (normal, scaled,
relu, huge-t: :data:`fastlrn.bench.workloads.DATA_KINDS`) and each
parameter set of ``--params`` (spec, caffe, torch, tensorflow:
:data:`fastlrn.bench.workloads.PARAM_SETS`).

1. fastlrn runs in this process, workload by workload: for each thread
   count, a copy of x's bytes (one per workload and thread count, shared by
   its data kinds and parameter sets), then fastlrn on each data kind and
   parameter set, with its error against the float64 reference
   (``fastlrn.reference``) on the first items of the batch.
2. The peers are timed on normal data and, per workload and parameter set,
   on the data kind fastlrn was slowest on (``--peer-data all``: on every
   kind). The reference itself is timed on the first items and scaled to
   the batch (the "numpy" peer). Each other peer (PyTorch, TensorFlow, ONNX
   Runtime, OpenVINO, JAX) runs in a process of its own
   (:mod:`fastlrn.bench.worker`; TensorFlow and JAX one per thread count,
   since they fix it at start-up), times its own copy the same way, and
   checks its output against the same reference.
3. A table of every measurement, a summary per workload and thread count
   (x copy on normal data and on the worst data kind, the targets, fastlrn's
   speed-up against each peer), every target check missed, and optionally
   ``--json`` (the raw record) and ``--plot`` (a bar chart).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time

import numpy as np

from fastlrn.bench import peers as _peers
from fastlrn.bench.timing import (Timing, copy_function, default_threads,
                                  limit_other_pools, log, machine_info, measure)
from fastlrn.bench.worker import CopyTimes, make_row, progress, tag
from fastlrn.bench.workloads import (DATA_KINDS, FULL_BATCH, PARAM_SETS, QUICK_BATCH,
                                     REF_ITEMS, SEED, WORKLOADS, relative_error)

DESCRIPTION = """\
Time fastlrn on SPEC section 5's workloads, on several kinds of data and
parameter sets, against a memory copy of the same bytes (same thread count,
same process) and against every other LRN implementation installed:
PyTorch, TensorFlow, ONNX Runtime, OpenVINO, JAX and the NumPy reference,
each computing the same function and checked against the float64
reference."""



def _listing(items, width):
    return "\n".join(textwrap.fill(what, 79, initial_indent=f"  {name:<{width}} ",
                                    subsequent_indent=" " * (width + 3))
                     for name, what in items)


EPILOG = "workloads (float32, size=5, alpha=1e-4, beta=0.75, k=2 unless noted):\n" + "\n".join(
    f"  {w.id}  {w.what}, {w.shape}" for w in WORKLOADS.values()) + \
    "\n\ndata kinds (--data):\n" + _listing(DATA_KINDS.items(), 7) + \
    "\n\nparameter sets (--params):\n" + _listing(
        ((name, what) for name, (what, _) in PARAM_SETS.items()), 11) + """

Each peer runs in a process of its own; see benchmarks/README.md."""

FULL = dict(batch=FULL_BATCH, repeat=7, budget_s=3.0)
QUICK = dict(batch=QUICK_BATCH, repeat=3, budget_s=0.3)

# Issue 15's targets, on every data kind and parameter set: fastlrn's time
# as a multiple of a copy of the same bytes (backward: of x's bytes), at 1
# thread and at 2 (more threads: the 2-thread value). W6: at least 2x faster
# than OpenVINO instead. On every data kind, at most MAX_SLOWDOWN times its
# own time on normal data; and faster than every peer on every workload.
TARGET_X_COPY = {
    "W1": {1: 2.0, 2: 1.5}, "W2": {1: 2.0, 2: 1.5}, "W3": {1: 2.0, 2: 1.5},
    "W4": {1: 2.5, 2: 2.0}, "W5": {1: 2.5, 2: 2.0}, "W7": {1: 3.5, 2: 3.0},
    "W8": {1: 2.5, 2: 2.0},
}
TARGET_SPEEDUP = {"W6": ("openvino", 2.0)}
MAX_SLOWDOWN = 1.3

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
        "--data", type=_data_list, default=None, metavar="LIST",
        help=f"comma-separated data kinds among {','.join(DATA_KINDS)}, or 'all' "
        "(default: all); huge-t also sets TensorFlow's default parameters",
    )
    parser.add_argument(
        "--params", type=_param_list, default=None, metavar="LIST",
        help=f"comma-separated parameter sets among {','.join(PARAM_SETS)}, or 'all' "
        "(default: spec, each workload's own)",
    )
    parser.add_argument(
        "--peer-data", choices=("worst", "all"), default="worst",
        help="the data kinds the peers are timed on: 'worst' (default): normal and, "
        "per workload and parameter set, the kind fastlrn was slowest on; 'all': "
        "every kind of --data",
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


def _name_list(text, known, what):
    """Names among ``known`` (or 'all'), in ``known``'s order."""
    names = [part.strip().lower() for part in text.split(",") if part.strip()]
    if names == ["all"]:
        return list(known)
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"{what} must be among {','.join(known)} (or 'all'), got {text!r}")
    return [n for n in known if n in names]


def _data_list(text):
    return _name_list(text, DATA_KINDS, "data kinds")


def _param_list(text):
    return _name_list(text, PARAM_SETS, "parameter sets")


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


def expand(workload_ids, data_kinds, param_sets, batch):
    """Every variant to time: each workload on each parameter set and data kind.

    ``huge-t`` brings its own parameters (TensorFlow's), the same function
    under every set, so it is timed with the first parameter set only.
    """
    out = []
    for wid in workload_ids:
        base = WORKLOADS[wid].with_batch(batch)
        for i, pset in enumerate(param_sets):
            wp = base.with_params(pset)
            out.extend(wp.with_data(kind) for kind in data_kinds
                       if not (kind == "huge-t" and i > 0))
    return out


def _bench_fastlrn(variants, threads, settings, refdir, copies, failures):
    """fastlrn on one workload's variants (data kinds, parameter sets), in this process.

    For each thread count the copy is timed once (``copies``), then every
    variant; each variant's float64 reference is saved for the peers.
    """
    first = variants[0]
    log(f"[{first.id}] {first.what} {first.shape} {first.dtype}: data "
        f"{','.join(dict.fromkeys(w.data for w in variants))}; parameter sets "
        f"{','.join(dict.fromkeys(w.param_set for w in variants))}")
    xs, dy, out, prepared = {}, None, None, []
    for wl in variants:
        try:
            if wl.data not in xs:  # the data depend on the kind alone, not the parameters
                xs[wl.data], dy = wl.inputs(SEED)  # dy: the same for every kind
            x = xs[wl.data]
            if out is None:
                out = np.empty_like(x)
            ref = wl.reference(x, dy)
            np.save(os.path.join(refdir, wl.key + ".npy"), ref)
            prepared.append((wl, x, ref))
        except Exception as exc:  # report and go on with the other variants
            failures[f"fastlrn {tag(wl)}"] = f"{type(exc).__name__}: {exc}"
            log(f"[{tag(wl)}] fastlrn FAILED: {failures[f'fastlrn {tag(wl)}']}")
    repeat, budget = settings["repeat"], settings["budget_s"]
    rows = []
    for t in threads:
        for wl, x, ref in prepared:
            if f"fastlrn {tag(wl)}" in failures:
                continue
            try:
                copy = copies.get(wl, x, t)
                timing = measure(wl.fastlrn_call(x, dy, out, t), repeat, budget)
                error = relative_error(out, ref)
            except Exception as exc:
                failures[f"fastlrn {tag(wl)}"] = f"{type(exc).__name__}: {exc}"
                log(f"[{tag(wl)} t={t}] fastlrn FAILED: {failures[f'fastlrn {tag(wl)}']}")
                continue
            progress(wl, t, "fastlrn", timing, copy, error)
            rows.append(make_row(wl, t, "fastlrn", "fastlrn", timing, copy, error,
                                 process="main"))
    return rows


def peer_variants(variants, rows, mode):
    """The variants the peers are timed on.

    ``mode`` ``"all"``: every one. ``"worst"``: those on normal data and,
    per workload and parameter set, the other data kind on which fastlrn
    took longest at any thread count (by fastlrn's ``rows``).
    """
    if mode == "all":
        return list(variants)
    keep = {wl.key for wl in variants if wl.data == "normal"}
    for key in {(r["workload"], r["params"], r["threads"]) for r in rows}:
        others = [r for r in rows if (r["workload"], r["params"], r["threads"]) == key
                  and r["data"] != "normal"]
        if others:
            worst = max(others, key=lambda r: r["time_ms"])
            keep.add(f"{worst['workload']}-{worst['data']}-{worst['params']}")
    return [wl for wl in variants if wl.key in keep]


def _time_reference(wl, threads, settings, copies):
    """The NumPy reference's rows: timed on the first items, scaled to the batch."""
    x, dy = wl.inputs(SEED)
    n = min(REF_ITEMS, x.shape[0])
    xs, dys = x[:n], (dy[:n] if dy is not None else None)
    t = measure(lambda: wl.reference(xs, dys), min(settings["repeat"], 3),
                settings["budget_s"])
    scale = x.shape[0] / n
    timing = Timing([v * scale for v in t.samples], t.number, t.warmup * scale,
                    t.cpu_per_wall)
    rows = []
    label = "numpy reference (est.)"
    for th in threads:
        copy = copies.get(wl, x, th)
        progress(wl, th, label, timing, copy, 0.0)
        rows.append(make_row(wl, th, label, "numpy", timing, copy, 0.0,
                             f"float64, timed on {n} item(s) and scaled", process="main"))
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


def _where(r):
    return (r["workload"], r.get("data", "normal"), r.get("params", "spec"), r["threads"])


def _add_speedups(rows):
    fast = {_where(r): r["time_ms"] for r in rows if r["implementation"] == "fastlrn"}
    for r in rows:
        f = fast.get(_where(r))
        r["fastlrn_speedup"] = (r["time_ms"] / f if f and r["implementation"] != "fastlrn"
                                else None)


def _sort_rows(rows, workload_ids):
    peer_order = {name: i for i, name in enumerate(["fastlrn"] + list(_peers.PEERS))}
    data_order, param_order = list(DATA_KINDS), list(PARAM_SETS)
    rows.sort(key=lambda r: (workload_ids.index(r["workload"]),
                             param_order.index(r["params"]), r["threads"],
                             data_order.index(r["data"]), peer_order.get(r["peer"], 99),
                             r["implementation"]))


def target_x_copy(workload, threads):
    """The x copy target of ``workload`` at ``threads`` (None where it has none)."""
    per = TARGET_X_COPY.get(workload)
    if per is None:
        return None
    return per[min(threads, max(per))]  # more threads than listed: the last value


def check_targets(rows):
    """Every target check on fastlrn's rows: a list of dicts, one per check.

    Each has the row's ``workload``, ``data``, ``params``, ``threads``, the
    ``check`` (``"x copy"``, ``"time / normal"``, ``"speed-up vs PEER"``:
    W6's target against OpenVINO, ``"faster than PEER"``), its ``value``,
    ``limit`` and ``met``.
    """
    checks = []
    fast = [r for r in rows if r["implementation"] == "fastlrn"]
    normal = {(r["workload"], r["params"], r["threads"]): r for r in fast
              if r["data"] == "normal"}
    for r in fast:
        where = dict(workload=r["workload"], data=r["data"], params=r["params"],
                     threads=r["threads"])

        def add(check, value, limit, met):
            checks.append(dict(where, check=check, value=value, limit=limit, met=bool(met)))

        limit = target_x_copy(r["workload"], r["threads"])
        if limit is not None:
            add("x copy", r["x_copy"], limit, r["x_copy"] <= limit)
        n = normal.get((r["workload"], r["params"], r["threads"]))
        if n is not None and r is not n:
            ratio = r["time_ms"] / n["time_ms"]
            add("time / normal", ratio, MAX_SLOWDOWN, ratio <= MAX_SLOWDOWN)
        others = [p for p in rows if p["implementation"] != "fastlrn"
                  and _where(p) == _where(r)]
        speedups = {}
        for p in others:
            speedups[p["peer"]] = min(speedups.get(p["peer"], float("inf")),
                                      p["fastlrn_speedup"])
        if r["workload"] in TARGET_SPEEDUP:
            peer, need = TARGET_SPEEDUP[r["workload"]]
            if peer in speedups:
                add(f"speed-up vs {peer}", speedups[peer], need, speedups[peer] >= need)
        for peer, value in speedups.items():
            add(f"faster than {peer}", value, 1.0, value > 1.0)
    return checks


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


def _verdict(met):
    return "met" if met else "MISSED"


def table(rows, checks=()):
    """Every measurement: median ms, the copy's, x copy, fastlrn's speed-up, error,
    and on fastlrn's rows its x copy target and its time / its time on normal data."""
    by_row = {}
    for c in checks:
        by_row.setdefault((c["workload"], c["data"], c["params"], c["threads"]), []).append(c)
    several = len({r["params"] for r in rows}) > 1
    head = ["workload", "data"] + (["params"] if several else []) + [
        "threads", "implementation", "ms", "copy ms", "x copy", "fastlrn speed-up",
        "max rel err", "target", "/ normal"]
    lines = []
    for r in rows:
        target = ratio = ""
        if r["implementation"] == "fastlrn":
            for c in by_row.get(_where(r), []):
                if c["check"] == "x copy":
                    target = f"<= {c['limit']}x {_verdict(c['met'])}"
                elif c["check"] == "time / normal":
                    ratio = f"{_ratio(c['value'])} {_verdict(c['met'])}"
        lines.append([f"{r['workload']} {r['what']}", r["data"]]
                     + ([r["params"]] if several else [])
                     + [str(r["threads"]), r["implementation"], _ms(r["time_ms"]),
                        _ms(r["copy_ms"]), _ratio(r["x_copy"]), _ratio(r["fastlrn_speedup"]),
                        "(is ref)" if r["peer"] == "numpy" else f"{r['max_rel_error']:.1e}",
                        target, ratio])
    return _grid(head, lines, left=5 if several else 4)


def summary(rows, checks, workload_ids, threads):
    """Per workload (and parameter set) and thread count: fastlrn's x copy on
    normal data and on its worst data kind, the targets over every data kind,
    and fastlrn's speed-up against each peer (its fastest variant, the lowest
    over the data kinds it was timed on)."""
    peer_names = [p for p in _peers.PEERS if any(r["peer"] == p for r in rows)]
    param_sets = list(dict.fromkeys(r["params"] for r in rows))
    several = len(param_sets) > 1
    head = (["workload"] + (["params"] if several else [])
            + ["threads", "x copy normal", "worst data", "x copy worst",
               f"worst / normal (<= {MAX_SLOWDOWN}x)", "target, every data kind"]
            + [_peers.PEERS[p].name for p in peer_names])
    lines = []
    for wid in workload_ids:
        for pset in param_sets:
            for t in threads:
                here = [r for r in rows if r["workload"] == wid and r["params"] == pset
                        and r["threads"] == t]
                fast = [r for r in here if r["implementation"] == "fastlrn"]
                if not fast:
                    continue
                mine = [c for c in checks if (c["workload"], c["params"], c["threads"])
                        == (wid, pset, t)]
                normal = [r for r in fast if r["data"] == "normal"]
                others = [r for r in fast if r["data"] != "normal"]
                worst = max(others, key=lambda r: r["time_ms"]) if others else None
                line = [wid] + ([pset] if several else []) + [
                    str(t), _ratio(normal[0]["x_copy"]) if normal else "-",
                    worst["data"] if worst else "-",
                    _ratio(worst["x_copy"]) if worst else "-"]
                slow = [c for c in mine if c["check"] == "time / normal"]
                if slow:
                    top = max(slow, key=lambda c: c["value"])
                    line.append(f"{_ratio(top['value'])} "
                                + _verdict(all(c["met"] for c in slow)))
                else:
                    line.append("-")
                line.append(_target_cell(wid, t, mine))
                for p in peer_names:
                    got = [r["fastlrn_speedup"] for r in here if r["peer"] == p]
                    line.append(_ratio(min(got)) if got else "n/a")
                lines.append(line)
    return _grid(head, lines, left=2 if several else 1)


def _target_cell(wid, threads, checks):
    """``<= 2.0x met`` (every data kind), ``<= 2.0x MISSED (relu)``, or W6's."""
    if wid in TARGET_SPEEDUP:
        peer, need = TARGET_SPEEDUP[wid]
        got = [c for c in checks if c["check"] == f"speed-up vs {peer}"]
        text = f">= {need}x vs {peer}"
        if not got:
            return f"{text}: {peer} not measured"
    else:
        limit = target_x_copy(wid, threads)
        if limit is None:
            return "-"
        got = [c for c in checks if c["check"] == "x copy"]
        text = f"<= {limit}x"
    missed = [c["data"] for c in got if not c["met"]]
    if missed:
        return f"{text} MISSED ({','.join(dict.fromkeys(missed))})"
    return f"{text} met"


def _check_name(check, limit):
    if check == "x copy":
        return "x copy within the target"
    if check == "time / normal":
        return f"time within {limit}x of normal data's"
    if check.startswith("speed-up vs "):
        return f"at least {limit}x faster than {check[len('speed-up vs '):]}"
    return check


def check_lines(checks, shown=6):
    """The checks in words: one line per kind of check, how many were met and
    the worst of those missed (``shown`` of them)."""
    kinds = {}
    for c in checks:
        kinds.setdefault(c["check"], []).append(c)
    order = ["x copy", "time / normal"] + sorted(k for k in kinds
                                                 if k not in ("x copy", "time / normal"))
    lines = []
    for kind in (k for k in order if k in kinds):
        group = kinds[kind]
        missed = [c for c in group if not c["met"]]
        line = (f"{_check_name(kind, group[0]['limit'])}: {len(group) - len(missed)} of "
                f"{len(group)} met")
        if missed:
            high = kind in ("x copy", "time / normal")  # the worst: the highest value
            missed.sort(key=lambda c: c["value"] / c["limit"], reverse=high)
            cells = [f"{c['workload']}/{c['data']}"
                     + ("" if c["params"] == "spec" else f"/{c['params']}")
                     + f" t={c['threads']} {_ratio(c['value'])}"
                     + (f" (target {c['limit']}x)" if kind == "x copy" else "")
                     for c in missed[:shown]]
            more = len(missed) - shown
            line += "; missed: " + ", ".join(cells) + (f" and {more} more" if more > 0
                                                       else "")
        lines.append(line)
    return lines


WORST_LABEL = "fastlrn, worst data kind"


def plot(rows, workload_ids, threads, path):
    """A bar chart of x copy (log scale), one panel per thread count.

    Every implementation on normal data (the first data kind measured where
    there is no normal), with the first parameter set; beside them fastlrn
    on its worst other data kind (dotted).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pset = rows[0].get("params", "spec") if rows else "spec"
    rows = [r for r in rows if r.get("params", "spec") == pset]
    kinds = list(dict.fromkeys(r.get("data", "normal") for r in rows))
    base = "normal" if "normal" in kinds else kinds[0] if kinds else "normal"
    worst = {}
    for r in rows:
        if r["implementation"] == "fastlrn" and r.get("data", "normal") != base:
            key = (r["workload"], r["threads"])
            if key not in worst or r["time_ms"] > worst[key]["time_ms"]:
                worst[key] = r
    rows = [r for r in rows if r.get("data", "normal") == base] + [
        dict(r, implementation=WORST_LABEL) for r in worst.values()]
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
                             hatch="//" if "+transposes" in label else
                             ".." if label == WORST_LABEL else None,
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
                 f"(lower is better; dashed: the copy), {base} data")
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
    data_kinds = args.data or list(DATA_KINDS)
    param_sets = args.params or ["spec"]
    peer_data = getattr(args, "peer_data", "worst")
    variants = expand(workload_ids, data_kinds, param_sets, settings["batch"])
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
    log(f"data kinds {','.join(data_kinds)}; parameter sets {','.join(param_sets)}; "
        f"peers on {'every data kind' if peer_data == 'all' else 'normal and the worst kind'}")
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
            copies = CopyTimes(settings["repeat"], settings["budget_s"])
            for wid in workload_ids:
                rows.extend(_bench_fastlrn([w for w in variants if w.id == wid], threads,
                                           settings, refdir, copies, failures))
            measured = [w for w in variants if f"fastlrn {tag(w)}" not in failures]
            for_peers = peer_variants(measured, rows, peer_data)
            if chosen:
                log(f"peers' variants: {', '.join(tag(w) for w in for_peers)}")
            if any(p.name == "numpy" for p in chosen):
                for wl in for_peers:
                    rows.extend(_time_reference(wl, threads, settings, copies))
        for peer in chosen:
            if peer.name == "numpy":
                versions["numpy"] = np.__version__
                continue
            groups = [[t] for t in threads] if peer.per_process_threads else [threads]
            for group in groups:
                result = _run_worker(peer, group, for_peers, settings, refdir)
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
    checks = check_targets(rows)
    if any(w.backward for w in workloads):
        notes.append("backward (W7) reads x and dy and writes dx: its x copy is against a "
                     "copy of x's bytes, so 1.5x is its floor; dy is the same standard "
                     "normal array for every data kind")
    if "huge-t" in data_kinds and len(param_sets) > 1:
        notes.append(f"huge-t brings TensorFlow's parameters, the same function under "
                     f"every parameter set: timed with {param_sets[0]} only")
    if chosen and peer_data == "worst" and len(data_kinds) > 1:
        notes.append("peers timed on normal data and on the data kind fastlrn was slowest "
                     "on (per workload and parameter set); --peer-data all times them on "
                     "every kind")
    notes.append("one copy per workload and thread count in each process, shared by its "
                 "data kinds and parameter sets: x copy ratios between data kinds are "
                 "time ratios")
    notes.extend(n for p in chosen for n in p.notes)

    print()
    for text in ("data kinds: " + "; ".join(f"{k} = {DATA_KINDS[k]}" for k in data_kinds),
                 "parameter sets: " + "; ".join(f"{p} = {PARAM_SETS[p][0]}"
                                                for p in param_sets),
                 "ms = median; x copy = time / time of a parallel copy of the same bytes, "
                 "same thread count, same process; fastlrn speed-up = this time / "
                 "fastlrn's on the same data; max rel err = max|y - ref| / max|ref| on the "
                 f"first {REF_ITEMS} items against the float64 reference; target: issue "
                 "15's x copy target; / normal: fastlrn's time / its time on normal data"):
        print(textwrap.fill(text, 100, subsequent_indent="  "))
    if rows:
        print(table(rows, checks))
        print()
        print(textwrap.fill(
            f"Summary: fastlrn's x copy on normal data and on the data kind it was slowest "
            f"on (worst), that time / normal's (at most {MAX_SLOWDOWN}x on every kind), "
            f"the target on every data kind, and fastlrn's speed-up against each peer "
            f"(its fastest variant, the lowest over the data kinds it was timed on), same "
            f"thread count; n/a: not measured", 100, subsequent_indent="  "))
        print(summary(rows, checks, workload_ids, threads))
        print(f"targets: {sum(c['met'] for c in checks)} of {len(checks)} checks met")
        for line in check_lines(checks):
            print(textwrap.fill(line, 100, initial_indent="  ", subsequent_indent="    "))
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
                "data": data_kinds, "params": param_sets, "peer_data": peer_data,
                "variants": [w.to_dict() for w in variants],
                "reference_items": REF_ITEMS, "peers": [p.name for p in chosen],
                "copy": copy_label,
            },
            "data_kinds": {k: DATA_KINDS[k] for k in data_kinds},
            "param_sets": {p: {"what": PARAM_SETS[p][0], "sets": PARAM_SETS[p][1]}
                           for p in param_sets},
            "machine": info,
            "build": cfg,
            "versions": {"python": info["python"], "numpy": np.__version__,
                         "fastlrn": cfg["version"], **_threadpoolctl_version(), **versions},
            "thread_pools": pools,
            "notes": notes, "skipped": skipped, "unsupported": unsupported,
            "failures": failures,
            "targets": {"x_copy": TARGET_X_COPY, "speedup": TARGET_SPEEDUP,
                        "max_slowdown_vs_normal": MAX_SLOWDOWN},
            "checks": checks,
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
