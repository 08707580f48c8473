"""Build and runtime configuration: ``fastlrn.config()`` / ``show_config()``."""

import os
import platform
import sys

__all__ = ["config", "show_config"]

UNKNOWN = "unknown"


def _build_info():
    """The dict setup.py wrote at build time, or {} (e.g. a bare source tree)."""
    try:
        from ._build_info import BUILD_INFO
    except ImportError:
        return {}
    return dict(BUILD_INFO)


def _openmp_runtime():
    """(compiled with OpenMP, omp_get_max_threads now), or unknowns."""
    try:
        from ._kernels import _openmp
    except ImportError:
        return UNKNOWN, UNKNOWN
    from . import _threads

    # A forked child runs every call on one thread (see fastlrn._threads).
    threads = 1 if _threads._in_forked_child else int(_openmp.get_max_threads())
    return bool(_openmp.openmp_enabled()), threads


def config():
    """Return the build and runtime configuration as a dict.

    Returns
    -------
    dict
        ``version``, ``python``, ``numpy``, ``platform``, ``machine``,
        ``compiler``, ``compile_args``, ``link_args``, ``openmp`` (whether
        the compiled kernels use OpenMP), ``openmp_flags``, ``native``
        (built with ``-march=native``), ``cython``, ``default_num_threads``
        (what ``num_threads=None`` uses now: ``omp_get_max_threads()``, so
        it follows ``OMP_NUM_THREADS``), ``cpu_count``, ``kernel_isa`` (the
        kernel build in use: baseline, avx2 or avx512; ``FASTLRN_ISA``
        forces one) and ``kernel_isas`` (the builds usable here). Entries that
        cannot be determined (no build information in a source checkout,
        kernels not compiled) are ``"unknown"``.

    See Also
    --------
    show_config : The same, printed; also ``python -m fastlrn info``.

    Examples
    --------
    >>> import fastlrn
    >>> cfg = fastlrn.config()
    >>> cfg["version"] == fastlrn.__version__
    True
    >>> cfg["openmp"] in (True, False, "unknown")
    True
    """
    import numpy

    from ._version import __version__

    build = _build_info()
    openmp, threads = _openmp_runtime()
    if openmp == UNKNOWN:
        openmp = build.get("openmp", UNKNOWN)
    return {
        "version": __version__,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "numpy": numpy.__version__,
        "platform": platform.platform(),
        "machine": platform.machine() or UNKNOWN,
        "compiler": build.get("compiler", UNKNOWN),
        "compile_args": build.get("compile_args", UNKNOWN),
        "link_args": build.get("link_args", UNKNOWN),
        "openmp": openmp,
        "openmp_flags": build.get("openmp_flags", UNKNOWN),
        "native": build.get("native", UNKNOWN),
        "cython": build.get("cython_version", UNKNOWN),
        "default_num_threads": threads,
        "cpu_count": os.cpu_count() or UNKNOWN,
        "kernel_isa": _dispatch_info()[0],
        "kernel_isas": _dispatch_info()[1],
    }


def _dispatch_info():
    try:
        from . import _dispatch
    except ImportError:  # kernels not compiled
        return UNKNOWN, UNKNOWN
    return _dispatch.ISA, _dispatch.available()


def _format(value):
    if isinstance(value, (list, tuple)):
        return " ".join(str(v) for v in value) if value else "(none)"
    return str(value)


def show_config(file=None):
    """Print :func:`config` one entry per line (``python -m fastlrn info``).

    Parameters
    ----------
    file : file-like, optional
        Where to print (an object with ``write``); default ``sys.stdout``.

    Examples
    --------
    >>> import fastlrn
    >>> fastlrn.show_config()  # doctest: +ELLIPSIS
    fastlrn configuration
      version ...
      openmp ...
      default_num_threads ...
    """
    info = config()
    width = max(len(key) for key in info)
    out = file if file is not None else sys.stdout
    print("fastlrn configuration", file=out)
    for key, value in info.items():
        print(f"  {key:<{width}} : {_format(value)}", file=out)
