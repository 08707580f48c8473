"""fastlrn: fast, exact Local Response Normalization on the CPU.

Public names: ``lrn``, ``lrn_backward``, ``config``, ``show_config``, ``reference`` (a plain
float64 NumPy oracle) and ``__version__``. Nothing optional is imported here.
"""

from ._version import __version__
from ._api import lrn, lrn_backward
from ._config import config, show_config
from . import reference

__all__ = ["lrn", "lrn_backward", "config", "show_config", "reference", "__version__"]
