"""OpenMP status queries; this module builds with or without OpenMP."""

# FASTLRN_OPENMP_ENABLED and omp_get_max_threads come from _openmp.pxd,
# which Cython reads automatically for the module of the same name.


def openmp_enabled():
    """Return True when the extensions were compiled with OpenMP.

    Decided at compile time (the ``_OPENMP`` macro), so it reports what
    ``setup.py`` actually did, not what was asked for.
    """
    return bool(FASTLRN_OPENMP_ENABLED)


def get_max_threads():
    """Return ``omp_get_max_threads()`` now; 1 without OpenMP.

    Read at call time, so it follows ``OMP_NUM_THREADS`` and runtime changes
    (``threadpoolctl``, ``omp_set_num_threads`` from other libraries sharing
    the same OpenMP runtime).
    """
    cdef int n
    with nogil:
        n = omp_get_max_threads()
    return n
