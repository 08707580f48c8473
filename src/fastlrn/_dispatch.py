"""Pick the kernel build for this CPU, once, at import.

The kernels are compiled three times from one source (baseline,
AVX2, AVX-512; the latter two on x86-64 only). All builds round the same
way (IEEE operations, no contraction into FMA), so the choice changes speed,
never results. ``FASTLRN_ISA=baseline|avx2|avx512`` forces one (tests use it
to compare builds); asking for one the CPU cannot run is an error.
"""

import importlib
import os

from ._kernels import _cpu

ISAS = ("baseline", "avx2", "avx512")


def _module(isa):
    suffix = "" if isa == "baseline" else "_" + isa
    return importlib.import_module(f"fastlrn._kernels._lrn{suffix}")


def available():
    """The builds that are both compiled and runnable here, best last."""
    out = []
    for isa in _cpu.supported():
        try:
            _module(isa)
        except ImportError:
            continue
        out.append(isa)
    return out


def select(requested=None):
    """(name, module) of the build to use."""
    requested = requested or os.environ.get("FASTLRN_ISA", "")
    usable = available()
    if requested:
        if requested not in ISAS:
            raise ValueError(f"FASTLRN_ISA must be one of {ISAS}, got {requested!r}")
        if requested not in usable:
            raise ValueError(f"FASTLRN_ISA={requested!r} is not usable here "
                             f"(usable: {usable})")
        return requested, _module(requested)
    return usable[-1], _module(usable[-1])


ISA, kernels = select()
