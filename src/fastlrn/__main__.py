"""``python -m fastlrn info | bench | apply``."""

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

    from fastlrn import _apply_cli

    apply = sub.add_parser(
        "apply", help="normalise .npy/.npz files or zarr stores on disk, chunk by chunk",
        description=_apply_cli.DESCRIPTION, epilog=_apply_cli.EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _apply_cli.add_arguments(apply)

    args = parser.parse_args(argv)
    if args.command == "apply":
        return _apply_cli.run(args, apply)
    if args.command == "info":
        from fastlrn._config import show_config

        show_config()
        return 0
    args.argv = argv  # recorded in --json
    return runner.run(args)


if __name__ == "__main__":
    sys.exit(main())
