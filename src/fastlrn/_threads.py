"""How many OpenMP threads a call uses.

Rules (the scikit-learn ones): ``None`` reads ``omp_get_max_threads()`` at
call time, so ``OMP_NUM_THREADS``, ``threadpoolctl`` and other libraries that
share the OpenMP runtime are followed; a positive int is used as given; ``-1``
means every core this process may run on, ``-2`` all but one, and so on
(never fewer than one); ``0`` is an error.

Fork safety: a child made by ``fork()`` (``os.fork``, ``multiprocessing``'s
"fork" start method, PyTorch DataLoader workers) runs every fastlrn call on
one thread, whatever ``num_threads`` says. GNU libgomp keeps its worker
threads in a pool that ``fork()`` does not copy; in the child of a process
that has run a parallel region, the next region with more than one thread
waits forever for workers that do not exist (seen here: ``lrn(x,
num_threads=2)`` in the parent, then ``lrn(x)`` in an ``os.fork()`` child,
hangs in a futex wait). A team of one thread never touches the pool. The
flag is set by an ``os.register_at_fork`` hook; children started with the
"spawn" start method are fresh processes and keep their threads.
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


# True in a process created by fork() from one that imported fastlrn (and in
# its own forked children): see the module docstring.
_in_forked_child = False


def _after_fork_in_child():
    global _in_forked_child
    _in_forked_child = True


if hasattr(os, "register_at_fork"):  # POSIX; Windows has no fork()
    os.register_at_fork(after_in_child=_after_fork_in_child)


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
    if n_elements < SERIAL_BELOW or _in_forked_child:
        return 1
    return n_threads
