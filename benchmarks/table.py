"""The README's results table (Markdown) from a ``python -m fastlrn bench --json`` record.

    python benchmarks/table.py benchmarks/results-2core.json

One row per (workload, thread count): fastlrn's median, its copy's, the
ratio, the fastest peer as that peer's time / fastlrn's, PyTorch's the same
way, and fastlrn's max relative error, all as the bench measured them (no
number is computed here that the record does not hold, only divided).
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


def rows(record):
    """Yield the table's rows (lists of cells) in the record's order."""
    results = [r for r in record["results"] if r.get("time_ms")]
    keys = []
    for r in results:
        key = (r["workload"], r["threads"])
        if key not in keys:
            keys.append(key)
    seen = set()
    for workload, threads in keys:
        group = [r for r in results if (r["workload"], r["threads"]) == (workload, threads)]
        own = [r for r in group if r["implementation"] == "fastlrn"]
        if not own:
            continue
        me = own[0]
        peers = [r for r in group if r["implementation"] not in NOT_PEERS]
        fastest = min(peers, key=lambda r: r["time_ms"]) if peers else None
        torch = [r for r in peers if r["implementation"].startswith("torch")]
        label = LABELS.get(workload, workload) if workload not in seen else workload
        seen.add(workload)
        yield [
            label, str(threads), f"{me['time_ms']:.2f}", f"{me['copy_ms']:.2f}",
            f"{me['x_copy']:.2f}x",
            (f"{fastest['implementation']} {fastest['time_ms'] / me['time_ms']:.2f}x"
             if fastest else "n/a"),
            f"{min(r['time_ms'] for r in torch) / me['time_ms']:.0f}x" if torch else "n/a",
            f"{me['max_rel_error']:.1e}",
        ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json", help="a record written by python -m fastlrn bench --json")
    args = parser.parse_args(argv)
    with open(args.json) as f:
        record = json.load(f)
    head = ["workload", "threads", "fastlrn ms", "copy ms", "x copy",
            "fastest peer: its time / fastlrn's", "PyTorch: its time / fastlrn's",
            "max rel err"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for row in rows(record):
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
