"""fastlrn: fast, exact Local Response Normalization on the CPU.

Public names: ``lrn``, ``config``, ``show_config``, ``reference`` (a plain
float64 NumPy oracle) and ``__version__``. Nothing optional is imported here.
"""

from ._version import __version__
from ._api import lrn
from ._config import config, show_config
from . import reference

__all__ = ["lrn", "config", "show_config", "reference", "__version__"]
