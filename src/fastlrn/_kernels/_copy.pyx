"""A parallel memory copy: the speed limit that the benchmark compares LRN with."""
from libc.string cimport memcpy
from cython.parallel cimport prange


def parallel_copy(const unsigned char[::1] src, unsigned char[::1] dst, int nthreads):
    """Copy src into dst (same byte length) with `nthreads` threads, in static chunks."""
    cdef Py_ssize_t n = src.shape[0]
    cdef Py_ssize_t chunk = 1 << 20
    cdef Py_ssize_t nchunks = (n + chunk - 1) // chunk
    cdef Py_ssize_t i, start, length
    if dst.shape[0] != n:
        raise ValueError("parallel_copy: src and dst differ in length")
    if n == 0:
        return
    with nogil:
        for i in prange(nchunks, num_threads=nthreads, schedule="static"):
            start = i * chunk
            length = chunk if start + chunk <= n else n - start
            memcpy(&dst[start], &src[start], length)
