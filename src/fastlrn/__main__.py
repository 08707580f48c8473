"""``python -m fastlrn info | bench``."""

import argparse
import sys


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
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
    from fastlrn.bench import runner

    bench = sub.add_parser(
        "bench", help="time fastlrn against a memory copy and every other LRN installed",
        description=runner.DESCRIPTION, epilog=runner.EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    runner.add_arguments(bench)

    args = parser.parse_args(argv)
    if args.command == "info":
        from fastlrn._config import show_config

        show_config()
        return 0
    args.argv = argv  # recorded in --json
    return runner.run(args)


if __name__ == "__main__":
    sys.exit(main())
