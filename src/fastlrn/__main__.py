"""``python -m fastlrn info | bench``."""

import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m fastlrn",
        description="fastlrn: Local Response Normalization on the CPU.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    sub.add_parser(
        "info", help="show version, compiler, flags, OpenMP and thread count",
        description="Show how this fastlrn was built and what it will use.",
    )
    from fastlrn.bench import demo

    bench = sub.add_parser(
        "bench", help="time fastlrn against a memory copy and the NumPy reference",
        description=demo.__doc__.strip().splitlines()[0],
    )
    demo.add_arguments(bench)

    args = parser.parse_args(argv)
    if args.command == "info":
        from fastlrn._config import show_config

        show_config()
        return 0
    return demo.run(args)


if __name__ == "__main__":
    sys.exit(main())
