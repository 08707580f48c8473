"""How many OpenMP threads a call uses.

Rules (the scikit-learn ones): ``None`` reads ``omp_get_max_threads()`` at
call time, so ``OMP_NUM_THREADS``, ``threadpoolctl`` and other libraries that
share the OpenMP runtime are followed; a positive int is used as given; ``-1``
means every core this process may run on, ``-2`` all but one, and so on
(never fewer than one); ``0`` is an error.
"""

import operator
import os

import numpy as np

from ._kernels._openmp import get_max_threads

# Inputs with fewer elements than this run on one thread: starting a team of
# OpenMP threads costs more than it saves below roughly this size. Measured
# with benchmarks/threshold.py (across NCHW float32, 2-core machine): at 9216
# elements 1 and 2 threads tie (ratio 0.95-1.01), at 16384 two threads take
# 0.78-0.88 of the one-thread time.
SERIAL_BELOW = 16384


def _usable_cpus():
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def resolve_num_threads(num_threads):
    """Turn the public ``num_threads`` argument into a positive int."""
    if num_threads is None:
        return max(1, get_max_threads())
    if isinstance(num_threads, (bool, np.bool_)):
        raise TypeError(f"num_threads must be None or an integer, got {num_threads!r}")
    try:
        n = operator.index(num_threads)
    except TypeError:
        raise TypeError(
            f"num_threads must be None or an integer, got {num_threads!r}"
        ) from None
    if n == 0:
        raise ValueError("num_threads must be a positive integer, a negative integer "
                         "(-1 = all cores) or None, got 0")
    if n < 0:
        return max(1, _usable_cpus() + 1 + n)
    return n


def threads_for(n_threads, n_elements):
    """The thread count actually used for a call on ``n_elements`` elements."""
    if n_elements < SERIAL_BELOW:
        return 1
    return n_threads
