# OpenMP shim: the one place kernels get OpenMP routines from.
#
# With OpenMP (the compiler defined _OPENMP) these are the real <omp.h>
# functions. Without it (FASTLRN_OPENMP=0, or a compiler with no OpenMP)
# they are serial stand-ins: one thread, thread number 0, setting the count
# does nothing. Cython's prange/parallel already run serially without
# _OPENMP, so one kernel source builds and runs either way.
#
#     from fastlrn._kernels._openmp cimport omp_get_max_threads

cdef extern from *:
    """
    #ifndef FASTLRN_OPENMP_SHIM_H
    #define FASTLRN_OPENMP_SHIM_H
    #ifdef _OPENMP
        #include <omp.h>
        #define FASTLRN_OPENMP_ENABLED 1
    #else
        #define FASTLRN_OPENMP_ENABLED 0
        #define omp_get_max_threads() 1
        #define omp_get_thread_num() 0
        #define omp_set_num_threads(n) ((void)(n))
    #endif
    #endif
    """
    # 1 when this translation unit was compiled with OpenMP, else 0.
    bint FASTLRN_OPENMP_ENABLED

    int omp_get_max_threads() noexcept nogil
    int omp_get_thread_num() noexcept nogil
    void omp_set_num_threads(int) noexcept nogil
