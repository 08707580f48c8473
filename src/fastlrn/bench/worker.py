"""One peer's timings in a process of its own: ``python -m fastlrn.bench.worker REQ OUT``.

The bench starts this once per peer (once per peer and thread count for
peers whose thread count is fixed at start-up), so that no framework's
thread pools, allocator or OpenMP runtime share a process with fastlrn's or
another framework's timings. ``REQ`` is a JSON request written by
:mod:`fastlrn.bench.runner`; ``OUT`` receives the rows, the peer's versions
and notes. Progress goes to stdout as it happens.

The worker regenerates each workload's data (its data kind) from the same
seed, loads the float64 reference of the first items that the bench saved,
and times a copy of the same bytes with the same thread count in this
process: once per workload and thread count, shared by every data kind and
parameter set of that workload (a copy's time does not depend on the
values), so that x copy ratios between data kinds are time ratios.
"""

import json
import os
import sys
import traceback

import numpy as np

from fastlrn.bench import peers as _peers
from fastlrn.bench.timing import limit_other_pools, log, measure, time_copy
from fastlrn.bench.workloads import Workload, relative_error


def make_row(wl, threads, label, peer, timing, copy, error, note="", process="worker"):
    """One result: a workload, a thread count, an implementation and its timing."""
    row = {
        "workload": wl.id, "what": wl.what, "data": wl.data, "params": wl.param_set,
        "shape": list(wl.shape), "dtype": wl.dtype,
        "region": wl.region, "channel_axis": wl.channel_axis, "size": wl.size,
        "alpha": wl.alpha, "average": wl.average, "beta": wl.beta, "k": wl.k,
        "direction": "backward" if wl.backward else "forward",
        "bytes": wl.nbytes, "threads": threads, "implementation": label,
        "peer": peer, "process": process,
        "x_copy": timing.median / copy.median if copy.median > 0 else float("inf"),
        "max_rel_error": error, "note": note,
    }
    row.update(timing.to_dict("time"))
    row.update(copy.to_dict("copy"))
    return row


def tag(wl):
    """``W1/relu`` (``W1/relu/caffe`` for a parameter set other than spec)."""
    return f"{wl.id}/{wl.data}" + ("" if wl.param_set == "spec" else f"/{wl.param_set}")


class CopyTimes:
    """A copy of x's bytes per (workload, thread count), timed on first use and
    shared by the workload's data kinds and parameter sets."""

    def __init__(self, repeat, budget_s):
        self.repeat, self.budget_s, self.done = repeat, budget_s, {}

    def get(self, wl, x, threads):
        key = (wl.id, x.shape, x.dtype.str, threads)
        if key not in self.done:
            self.done[key] = time_copy(x, threads, self.repeat, self.budget_s)
        return self.done[key]


def progress(wl, threads, label, timing, copy, error):
    where = f"[{tag(wl)} t={threads}]"
    log(f"{where:<24} {label:<34} {timing.median * 1e3:10.2f} ms "
        f"{timing.median / copy.median:8.2f}x copy  err {error:.1e}")


def run(request):
    peer = _peers.PEERS[request["peer"]]
    threads = request["threads"]
    if peer.per_process_threads:
        peer.configure_process(threads[0])
    repeat, budget = request["repeat"], request["budget_s"]
    copies = CopyTimes(repeat, budget)
    rows, unsupported, failures = [], {}, {}
    with limit_other_pools() as pool_note:
        versions = peer.versions()
        for wd in request["workloads"]:
            wl = Workload.from_dict(wd)
            what = wl.id if wl.param_set == "spec" else f"{wl.id}/{wl.param_set}"
            if what in unsupported:
                continue  # said once per workload and parameter set, not per data kind
            x, dy = wl.inputs(request["seed"])
            ref = np.load(os.path.join(request["refdir"], wl.key + ".npy"))
            for t in threads:
                try:
                    impls = peer.implementations(wl, x, dy, t)
                except _peers.Unsupported as e:
                    unsupported[what] = str(e)
                    log(f"[{tag(wl)}] {peer.name}: not measured: {e}")
                    break  # the same for every thread count
                except Exception as e:  # a peer's failure is reported, not fatal
                    failures[f"{tag(wl)} t={t}"] = f"{type(e).__name__}: {e}"
                    log(f"[{tag(wl)} t={t}] {peer.name}: FAILED: {type(e).__name__}: {e}")
                    continue
                copy = copies.get(wl, x, t)
                for impl in impls:
                    try:
                        timing = measure(impl.run, repeat, budget)
                        error = relative_error(impl.result(), ref)
                    except Exception as e:
                        failures[f"{tag(wl)} t={t} {impl.label}"] = \
                            f"{type(e).__name__}: {e}"
                        log(f"[{tag(wl)} t={t}] {impl.label}: FAILED: "
                            f"{type(e).__name__}: {e}")
                        continue
                    progress(wl, t, impl.label, timing, copy, error)
                    rows.append(make_row(wl, t, impl.label, peer.name, timing, copy, error,
                                         impl.note))
                del impls
    return {"peer": peer.name, "threads": threads, "versions": versions, "rows": rows,
            "unsupported": unsupported, "failures": failures, "pool_note": pool_note,
            "environment": {k: os.environ[k] for k in ("XLA_FLAGS", "TF_ENABLE_ONEDNN_OPTS",
                                                        "JAX_PLATFORMS") if k in os.environ}}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        print("usage: python -m fastlrn.bench.worker REQUEST.json RESULT.json",
              file=sys.stderr)
        return 2
    with open(argv[0]) as f:
        request = json.load(f)
    try:
        result = run(request)
    except Exception:
        traceback.print_exc()
        return 1
    with open(argv[1], "w") as f:
        json.dump(result, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
