"""The README's results table (Markdown) from a ``python -m fastlrn bench --json`` record.

    python benchmarks/table.py benchmarks/results-2core.json

One row per (workload, parameter set, thread count): fastlrn's median on
normal data, its copy's and the ratio (x copy); the data kind fastlrn was
slowest on and its x copy there; that time / the time on normal data; the
target (met or missed on every data kind, from the record's checks); the
fastest peer as that peer's time / fastlrn's on the same data (the lowest
over the data kinds the peers were timed on, naming the kind where it is
not normal); PyTorch's the same way; and fastlrn's max relative error over
every data kind. Every number is the bench's own (no number is computed
here that the record does not hold, only divided). A record made before
the bench had data kinds reads as normal data only.
"""

import argparse
import json

LABELS = {
    "W1": "W1 across NCHW (64,96,55,55)",
    "W2": "W2 across NCHW (64,256,27,27)",
    "W3": "W3 across NHWC (64,55,55,96)",
    "W4": "W4 within NCHW 5x5",
    "W5": "W5 W1 in float64",
    "W6": "W6 one image (1,96,55,55)",
    "W7": "W7 backward of W1",
    "W8": "W8 W1, beta 0.6",
}
NOT_PEERS = {"fastlrn", "numpy reference (est.)"}
HEAD = ["workload", "threads", "fastlrn ms", "copy ms", "x copy",
        "worst data: x copy", "worst / normal", "target",
        "fastest peer: its time / fastlrn's", "PyTorch: its time / fastlrn's",
        "max rel err"]


def _data(r):
    return r.get("data", "normal")


def _params(r):
    return r.get("params", "spec")


def _target(record, workload, threads, params):
    """The target's cell: ``<= 2.0x met``, ``>= 2.0x vs openvino MISSED``, ``-``."""
    targets = record.get("targets", {})
    x_copy = targets.get("x_copy", {}).get(workload)
    speedup = targets.get("speedup", {}).get(workload)
    if isinstance(x_copy, dict):  # per thread count; more threads: the last listed
        listed = sorted(int(t) for t in x_copy)
        x_copy = x_copy[str(max([t for t in listed if t <= threads] or listed[:1]))]
    if x_copy is not None:
        text, kind = f"<= {x_copy}x", "x copy"
    elif speedup is not None:
        text, kind = f">= {speedup[1]}x vs {speedup[0]}", f"speed-up vs {speedup[0]}"
    else:
        return "-"
    checks = [c for c in record.get("checks", [])
              if (c["workload"], c["params"], c["threads"], c["check"])
              == (workload, params, threads, kind)]
    if not checks:
        return text
    missed = list(dict.fromkeys(c["data"] for c in checks if not c["met"]))
    return f"{text} " + (f"MISSED ({', '.join(missed)})" if missed else "met")


def rows(record):
    """Yield the table's rows (lists of cells) in the record's order."""
    results = [r for r in record["results"] if r.get("time_ms")]
    keys = list(dict.fromkeys((r["workload"], _params(r), r["threads"]) for r in results))
    several = len({k[1] for k in keys}) > 1
    seen = set()
    for workload, params, threads in keys:
        group = [r for r in results
                 if (r["workload"], _params(r), r["threads"]) == (workload, params, threads)]
        own = {_data(r): r for r in group if r["implementation"] == "fastlrn"}
        if not own:
            continue
        me = own.get("normal")
        others = [r for d, r in own.items() if d != "normal"]
        worst = max(others, key=lambda r: r["time_ms"]) if others else None

        def ratios(peers):
            return [(r["time_ms"] / own[_data(r)]["time_ms"], r) for r in peers
                    if _data(r) in own]

        def cell(pairs, fmt):
            if not pairs:
                return "n/a"
            ratio, r = min(pairs, key=lambda p: p[0])
            return fmt(ratio, r) + ("" if _data(r) == "normal" else f" ({_data(r)})")

        peers = [r for r in group if r["implementation"] not in NOT_PEERS]
        torch = [r for r in peers if r["implementation"].startswith("torch")]
        label = LABELS.get(workload, workload) if workload not in seen else workload
        if several:
            label += f" ({params})"
        seen.add(workload)
        yield [
            label, str(threads),
            f"{me['time_ms']:.2f}" if me else "-", f"{me['copy_ms']:.2f}" if me else "-",
            f"{me['x_copy']:.2f}x" if me else "-",
            f"{_data(worst)} {worst['x_copy']:.2f}x" if worst else "-",
            f"{worst['time_ms'] / me['time_ms']:.2f}x" if worst and me else "-",
            _target(record, workload, threads, params),
            cell(ratios(peers), lambda v, r: f"{r['implementation']} {v:.2f}x"),
            cell(ratios(torch), lambda v, r: f"{v:.0f}x"),
            f"{max(r['max_rel_error'] for r in own.values()):.1e}",
        ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json", help="a record written by python -m fastlrn bench --json")
    args = parser.parse_args(argv)
    with open(args.json) as f:
        record = json.load(f)
    print("| " + " | ".join(HEAD) + " |")
    print("|" + "---|" * len(HEAD))
    for row in rows(record):
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
