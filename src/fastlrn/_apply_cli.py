"""``python -m fastlrn apply``: :func:`fastlrn.io.apply` on the command line.

Exit codes: 0 done, 1 a failure while working (disk full, OUT not
writable, ...), 2 bad usage or bad input (argparse's convention), 130 after
Ctrl-C and 143 after SIGTERM. Every error is one line on stderr,
``fastlrn apply: error: ...``, never a traceback.
"""

import inspect
import signal
import sys
from pathlib import Path

DESCRIPTION = """\
Normalise arrays on disk with fastlrn's LRN, chunk by chunk, in bounded
memory whatever their size: a .npy file (memory-mapped), a .npz file (every
array, or --key), a zarr array store (needs zarr and dask), or a directory
IN whose files matching --pattern are written to the same relative paths
under OUT. The result equals fastlrn.lrn (or, with --convention, the
fastlrn.compat function) on the whole array, bit for bit."""

EPILOG = """\
LRN parameters: without --convention, those of fastlrn.lrn (defaults:
--size 5 --alpha 1e-4 --beta 0.75 --k 2 --region across --channel-axis 1).
With --convention the framework's own defaults, window and scaling apply,
and the options map to its parameters: --size is torch/onnx size,
caffe/onednn local_size, mxnet nsize; tensorflow takes --depth-radius
instead; --k is torch/caffe/onednn k, tensorflow/onnx bias, mxnet knorm;
--region chooses caffe's norm_region and onednn's algorithm.

dtypes: files must hold float16, float32 or float64 (any byte order);
integer, boolean and complex data are refused. The result is float32
(float16 and float32 data) or float64, or --dtype.

Safety: OUT is written to a temporary file beside it (.OUT.PID-XXXXXXXX.tmp),
synced, and renamed onto OUT when complete, so an error or an interrupt
leaves any earlier OUT intact; the temporary file is removed on errors,
Ctrl-C and SIGTERM. A run killed with SIGKILL leaves it behind; the next
run writing the same OUT removes it. IN is never modified without
--in-place.

exit codes: 0 done, 1 failure while working, 2 bad usage or bad input,
130 interrupted (Ctrl-C), 143 terminated (SIGTERM).

examples:
  python -m fastlrn apply acts.npy acts_lrn.npy --size 5 --chunk-mb 512
  python -m fastlrn apply acts.npz out.npz --key conv1 --channel-axis -1
  python -m fastlrn apply acts.npy out.npy --convention torch --size 5 --k 1
  python -m fastlrn apply runs/ normalised/ --pattern '*.npy' --threads 2
  python -m fastlrn apply acts.npy --in-place"""

IN_PLACE_HELP = (
    "normalise IN itself (a float32 or float64 .npy, or a directory of them; "
    "give no OUT): each chunk is computed in memory and written back, with "
    "no temporary file. An interrupt (Ctrl-C, kill, a crash) leaves IN partly "
    "normalised: the chunks before the interrupt done, the later ones "
    "original (after SIGKILL the chunk being written may be half written), "
    "and nothing in the file tells which: keep a copy if you may need to "
    "start again")

# The CLI's LRN options, and each convention's name for them (None: the
# convention has no such parameter).
OPTIONS = ("size", "depth_radius", "alpha", "beta", "k", "region", "channel_axis",
           "average")
NAMES = {
    None: dict(size="size", alpha="alpha", beta="beta", k="k", region="region",
               channel_axis="channel_axis", average="average"),
    "torch": dict(size="size", alpha="alpha", beta="beta", k="k",
                  channel_axis="channel_axis"),
    "tensorflow": dict(depth_radius="depth_radius", alpha="alpha", beta="beta", k="bias",
                       channel_axis="channel_axis"),
    "onnx": dict(size="size", alpha="alpha", beta="beta", k="bias",
                 channel_axis="channel_axis"),
    "caffe": dict(size="local_size", alpha="alpha", beta="beta", k="k",
                  region="norm_region", channel_axis="channel_axis"),
    "onednn": dict(size="local_size", alpha="alpha", beta="beta", k="k",
                   region="algorithm", channel_axis="channel_axis"),
    "mxnet": dict(size="nsize", alpha="alpha", beta="beta", k="knorm",
                  channel_axis="channel_axis"),
}
REGION_VALUES = {
    "caffe": {"across": "ACROSS_CHANNELS", "within": "WITHIN_CHANNEL"},
    "onednn": {"across": "across_channels", "within": "within_channel"},
}


def _flag(option):
    return "--" + option.replace("_", "-")


def add_arguments(p):
    p.add_argument("input", metavar="IN", help="a .npy or .npz file, a zarr store, or a "
                   "directory (with --pattern)")
    p.add_argument("output", metavar="OUT", nargs="?",
                   help="where the result goes (same format as IN); not with --in-place")
    g = p.add_argument_group("LRN parameters")
    g.add_argument("--size", type=int, help="window length (default 5)")
    g.add_argument("--depth-radius", type=int, metavar="R",
                   help="--convention tensorflow only: the window is 2R+1 channels")
    g.add_argument("--alpha", type=float)
    g.add_argument("--beta", type=float)
    g.add_argument("--k", type=float, help="the bias (tensorflow/onnx: bias, mxnet: knorm)")
    g.add_argument("--region", choices=["across", "within"])
    g.add_argument("--channel-axis", type=int, metavar="AXIS",
                   help="the channel axis, -1 for channels last (default 1; tensorflow -1)")
    g.add_argument("--average", action="store_true", default=None,
                   help="divide alpha by size**d (fastlrn.lrn's average=True)")
    g.add_argument("--convention", choices=list(NAMES)[1:],
                   help="take the parameters, defaults and window of this framework "
                        "(fastlrn.compat)")
    r = p.add_argument_group("how")
    r.add_argument("--dtype", choices=["float32", "float64"],
                   help="compute and write in this dtype")
    r.add_argument("--threads", type=int, metavar="N",
                   help="OpenMP threads (default: OMP_NUM_THREADS or all cores; -1 all)")
    r.add_argument("--chunk-mb", type=float, default=256, metavar="M",
                   help="memory for the data in flight, MiB (default 256)")
    r.add_argument("--in-place", action="store_true", help=IN_PLACE_HELP)
    r.add_argument("--key", action="append", metavar="NAME",
                   help=".npz only: normalise this array (repeatable; default all); "
                        "the others are copied unchanged")
    r.add_argument("--pattern", metavar="GLOB",
                   help="directory IN: the files to do, matched in IN and its "
                        "subdirectories (default '*.npy')")
    r.add_argument("-q", "--quiet", action="store_true",
                   help="no progress bar and no summary line")


def _params(args, parser):
    convention = args.convention
    names = NAMES[convention]
    params = {}
    for option in OPTIONS:
        value = getattr(args, option)
        if value is None:
            continue
        if option not in names:
            if convention is None:
                parser.error(f"{_flag(option)} is for --convention tensorflow")
            hint = ""
            if option == "size" and convention == "tensorflow":
                hint = " (its window is --depth-radius R: 2R+1 channels)"
            elif option == "region":
                hint = " (its window runs across channels)"
            elif option == "average":
                hint = " (the convention sets alpha's scaling)"
            parser.error(f"{_flag(option)} does not apply with --convention "
                         f"{convention}{hint}")
        if option == "region" and convention in REGION_VALUES:
            value = REGION_VALUES[convention][value]
        params[names[option]] = value
    if convention is not None:
        from fastlrn import io

        _, fn = io._convention(convention)
        wanted = {v: k for k, v in names.items()}
        for name, par in inspect.signature(fn).parameters.items():
            if (par.default is inspect.Parameter.empty and name in wanted
                    and name not in params):
                parser.error(f"--convention {convention} needs {_flag(wanted[name])}")
    return params


def _message(e):
    if isinstance(e, OSError) and e.strerror:
        if e.filename and str(e.filename) not in e.strerror:
            return f"{e.filename}: {e.strerror}"
        return e.strerror
    msg = str(e) or type(e).__name__
    for name, flag in (("num_threads", "--threads"), ("chunk_mb", "--chunk-mb")):
        if msg.startswith(name + " "):
            msg = flag + msg[len(name):]
    return msg


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that temporary files are removed."""


def _on_sigterm(signum, frame):
    raise _Terminated()


def run(args, parser):
    """Run ``apply`` for parsed ``args``; returns the exit code."""
    params = _params(args, parser)

    def error(msg, code):
        print(f"fastlrn apply: error: {msg}", file=sys.stderr)
        return code

    src = Path(args.input)
    if not src.exists():
        return error(f"{src}: no such file or directory", 2)
    if args.in_place and args.output is not None:
        return error("--in-place normalises IN itself: give no OUT", 2)
    if not args.in_place and args.output is None:
        return error("OUT is required (or --in-place to normalise IN itself)", 2)
    if args.output is not None:
        parent = Path(args.output).absolute().parent
        if not parent.is_dir() and not src.is_dir():
            return error(f"OUT's directory {parent} does not exist", 2)

    from fastlrn import io

    progress = not args.quiet and sys.stderr.isatty()
    previous = None
    try:
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    except (ValueError, OSError):  # not the main thread
        pass
    what = "IN was left as far as it got" if args.in_place else "OUT was not touched"
    try:
        summary = io.apply(
            args.input, args.output, convention=args.convention, dtype=args.dtype,
            num_threads=args.threads, chunk_mb=args.chunk_mb, in_place=args.in_place,
            keys=args.key, pattern=args.pattern, progress=progress, **params)
    except _Terminated:
        return error(f"terminated; {what}", 143)
    except KeyboardInterrupt:
        return error(f"interrupted; {what}", 130)
    except (ValueError, TypeError) as e:
        return error(_message(e), 2)
    except MemoryError:
        return error("out of memory; try a smaller --chunk-mb", 1)
    except OSError as e:
        return error(_message(e), 1)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    if not args.quiet:
        print(f"fastlrn apply: {summary}")
    return 0
