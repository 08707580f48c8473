"""Thread scaling of fastlrn from 1 to N threads, for W1 (forward) and W7 (backward).

For each thread count: fastlrn's median time, a parallel copy of the same
bytes with the same thread count (its own scaling is the memory system's),
fastlrn's time as a multiple of that copy, and the speed-ups over one
thread. Meant for a machine with more cores than the 2-core development
box; publish the JSON beside the bench's.

    python benchmarks/scaling.py                          # 1..all usable cores
    python benchmarks/scaling.py --threads 1,2,4,8,16 --json benchmarks/scaling-16core.json
"""

import argparse
import json
import os
import sys
import time

import fastlrn
from fastlrn.bench.timing import limit_other_pools, log, machine_info, measure, time_copy
from fastlrn.bench.workloads import FULL_BATCH, WORKLOADS, relative_error


def _usable_cpus():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--threads", default=None, metavar="LIST",
                        help="comma-separated thread counts (default: 1 to the usable CPUs)")
    parser.add_argument("--workloads", default="W1,W7", metavar="LIST",
                        help="workload ids (default W1,W7)")
    parser.add_argument("--batch", type=int, default=FULL_BATCH,
                        help=f"batch size (default {FULL_BATCH}, SPEC section 5)")
    parser.add_argument("--repeat", type=int, default=7, help="samples per median (default 7)")
    parser.add_argument("--json", default=None, metavar="FILE", help="write the raw record")
    args = parser.parse_args(argv)

    threads = ([int(t) for t in args.threads.split(",") if t.strip()] if args.threads
               else list(range(1, _usable_cpus() + 1)))
    wids = [w.strip().upper() for w in args.workloads.split(",") if w.strip()]
    info = machine_info()
    log(f"fastlrn {fastlrn.__version__}, CPU {info['cpu']}, {info['usable_cpus']} usable "
        f"CPUs; threads {threads}; batch {args.batch}; median of {args.repeat}")

    results = []
    with limit_other_pools() as pool_note:
        for wid in wids:
            wl = WORKLOADS[wid].with_batch(args.batch)
            x, dy = wl.inputs()
            out = x.copy()
            ref = wl.reference(x, dy)
            base = None
            print(f"\n{wid} {wl.what} {wl.shape} {wl.dtype}")
            print(f"{'threads':>7} {'fastlrn ms':>11} {'copy ms':>9} {'x copy':>7} "
                  f"{'speed-up':>9} {'copy speed-up':>14} {'efficiency':>11}", flush=True)
            for t in threads:
                copy = time_copy(x, t, args.repeat)
                timing = measure(wl.fastlrn_call(x, dy, out, t), args.repeat)
                err = relative_error(out, ref)
                if base is None:
                    base = (timing.median, copy.median, t)
                speedup = base[0] / timing.median
                copy_speedup = base[1] / copy.median
                eff = speedup / (t / base[2])
                print(f"{t:>7} {timing.median * 1e3:>11.2f} {copy.median * 1e3:>9.2f} "
                      f"{timing.median / copy.median:>6.2f}x {speedup:>8.2f}x "
                      f"{copy_speedup:>13.2f}x {eff:>10.0%}", flush=True)
                row = {"workload": wid, "threads": t, "max_rel_error": err,
                       "speedup_vs_first": speedup, "copy_speedup_vs_first": copy_speedup,
                       "x_copy": timing.median / copy.median}
                row.update(timing.to_dict("time"))
                row.update(copy.to_dict("copy"))
                results.append(row)
            del x, dy, out

    if args.json:
        with open(args.json, "w") as f:
            json.dump({"command": " ".join(["python"] + sys.argv),
                       "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                       "settings": {"threads": threads, "workloads": wids,
                                    "batch": args.batch, "repeat": args.repeat},
                       "machine": info, "build": fastlrn.config(), "notes": [pool_note],
                       "results": results}, f, indent=1)
            f.write("\n")
        log(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
