# Shared pieces of the LRN kernels: the per-call parameters, the power step,
# the window-sum primitives and the safe (extended precision) recomputation.
#
# Design, from the outside in:
#   1. Python (_api.py) validates, resolves the window (lo, hi), the effective
#      alpha and the thread count, and views the arrays as strided blocks.
#   2. A kernel module (_forward.pyx, ...) walks tiles in parallel; each tile
#      is copied once into per-thread scratch (the input values and their
#      squares in double), so in-place calls and strided inputs are safe.
#   3. Window sums are summed directly (no running sum, so nothing can
#      cancel), in double, in a fixed order: results do not depend on the
#      tiling or the thread count.
#   4. The power step computes y = x * s**-beta in double and raises a flag
#      when s or s**-beta left the range where double is exact enough; the
#      flagged elements of that row are recomputed in long double.
from libc.math cimport sqrt, pow, fabs
from cython cimport floating

cdef extern from *:
    """
    #include <float.h>
    #include <math.h>
    /* Thresholds of the double fast path (see Params in _common.pxd). */
    #define FASTLRN_SMIN_FLOOR 0x1p-962   /* squares summed below this may have underflowed */
    #define FASTLRN_PMIN 0x1p-960         /* s**-beta outside [PMIN, PMAX] may have lost bits */
    #define FASTLRN_PMAX 0x1p+960
    #define FASTLRN_SMIN_SCALE 0x1p-1000  /* smin = |a| * taps * SMIN_SCALE */
    static inline long double fastlrn_powl(long double s, long double e) { return powl(s, e); }
    """
    double FASTLRN_SMIN_FLOOR
    double FASTLRN_PMIN
    double FASTLRN_PMAX
    double FASTLRN_SMIN_SCALE
    double DBL_MAX
    long double fastlrn_powl(long double s, long double e) noexcept nogil

# How s**-beta is evaluated; chosen once per call from beta.
cdef enum:
    MODE_IDENTITY = 0    # beta == 0: y = x (s**-0 is 1 even for s = 0, inf, nan)
    MODE_RSQRT = 1       # beta == 0.5
    MODE_RSQRT_QUARTER = 2   # beta == 0.75: 1 / (sqrt(s) * sqrt(sqrt(s)))
    MODE_RECIP = 3       # beta == 1: y = x / s
    MODE_POW = 4         # any other beta: pow(s, -beta)

cdef struct Params:
    double a           # effective alpha (already divided by size**d if averaging)
    double k
    double beta
    int mode
    # Double is exact enough while smin <= s <= DBL_MAX and PMIN <= p <= PMAX.
    # smin covers underflow of the squares: each square that underflowed is
    # off by at most 2**-1075, so the sum by taps * 2**-1075, and a * sum by
    # |a| * taps * 2**-1075; below smin = |a| * taps * 2**-1000 that could
    # reach 2**-75 of s, so such rows are recomputed.
    double smin


cdef inline int pick_mode(double beta) noexcept nogil:
    if beta == 0.0:
        return MODE_IDENTITY
    if beta == 0.5:
        return MODE_RSQRT
    if beta == 0.75:
        return MODE_RSQRT_QUARTER
    if beta == 1.0:
        return MODE_RECIP
    return MODE_POW


cdef inline Params make_params(double a, double beta, double k, double taps) noexcept nogil:
    cdef Params P
    P.a = a
    P.k = k
    P.beta = beta
    P.mode = pick_mode(beta)
    P.smin = fabs(a) * taps * FASTLRN_SMIN_SCALE
    if not (P.smin >= FASTLRN_SMIN_FLOOR):
        P.smin = FASTLRN_SMIN_FLOOR
    return P


cdef inline int unsafe(double s, double p, double smin) noexcept nogil:
    # Written with negated comparisons so that NaN counts as unsafe.
    return ((not (s >= smin)) | (not (s <= DBL_MAX))
            | (not (p >= FASTLRN_PMIN)) | (not (p <= FASTLRN_PMAX)))


cdef inline int finalize_row(const floating* x, floating* y, Py_ssize_t ys,
                             const double* v, Py_ssize_t n, const Params* P) noexcept nogil:
    """y[j*ys] = x[j] * (k + a*v[j])**-beta for j < n; nonzero if a value needs the safe path.

    x and v are contiguous per-thread scratch; y is the output row.
    """
    cdef Py_ssize_t j
    cdef double s, p, r
    cdef double a = P.a, k = P.k, nb = -P.beta, smin = P.smin
    cdef int bad = 0
    if P.mode == MODE_IDENTITY:
        for j in range(n):
            y[j * ys] = x[j]
    elif P.mode == MODE_RSQRT:
        for j in range(n):
            s = k + a * v[j]
            p = 1.0 / sqrt(s)
            y[j * ys] = <floating>(x[j] * p)
            bad |= unsafe(s, p, smin)
    elif P.mode == MODE_RSQRT_QUARTER:
        for j in range(n):
            s = k + a * v[j]
            r = sqrt(s)
            p = 1.0 / (r * sqrt(r))
            y[j * ys] = <floating>(x[j] * p)
            bad |= unsafe(s, p, smin)
    elif P.mode == MODE_RECIP:
        for j in range(n):
            s = k + a * v[j]
            y[j * ys] = <floating>(x[j] / s)
            bad |= unsafe(s, 1.0 / s, smin)
    else:
        for j in range(n):
            s = k + a * v[j]
            p = pow(s, nb)
            y[j * ys] = <floating>(x[j] * p)
            bad |= unsafe(s, p, smin)
    return bad


cdef inline int needs_safe(double v, const Params* P) noexcept nogil:
    """The per-element form of the check made in finalize_row."""
    cdef double s = P.k + P.a * v
    cdef double p
    if P.mode == MODE_IDENTITY:
        return 0
    if P.mode == MODE_RSQRT:
        p = 1.0 / sqrt(s)
    elif P.mode == MODE_RSQRT_QUARTER:
        p = 1.0 / (sqrt(s) * sqrt(sqrt(s)))
    elif P.mode == MODE_RECIP:
        p = 1.0 / s
    else:
        p = pow(s, -P.beta)
    return unsafe(s, p, P.smin)


cdef inline long double safe_finish(long double xc, long double ssq, const Params* P) noexcept nogil:
    """x * (k + a*ssq)**-beta in long double, from an exactly formed sum of squares."""
    cdef long double s = <long double>P.k + <long double>P.a * ssq
    return xc * fastlrn_powl(s, -<long double>P.beta)


cdef inline long double strided_sumsq(const floating* x, Py_ssize_t stride,
                                       Py_ssize_t first, Py_ssize_t last) noexcept nogil:
    """Sum of x[r*stride]**2 for first <= r <= last, in long double."""
    cdef long double acc = 0.0
    cdef long double t
    cdef Py_ssize_t r
    for r in range(first, last + 1):
        t = x[r * stride]
        acc = acc + t * t
    return acc


cdef inline void line_window_sum(const double* padded, double* out, Py_ssize_t n,
                                 Py_ssize_t taps) noexcept nogil:
    """out[j] = sum(padded[j:j+taps]) for j < n, summed in increasing index order."""
    cdef Py_ssize_t j, t
    for j in range(n):
        out[j] = padded[j]
    for t in range(1, taps):
        for j in range(n):
            out[j] = out[j] + padded[j + t]


cdef inline void rows_window_sum(const double* rows, Py_ssize_t width, double* out,
                                 Py_ssize_t n, Py_ssize_t first, Py_ssize_t last) noexcept nogil:
    """out[j] = sum over rows r in [first, last] of rows[r*width + j], in increasing r."""
    cdef Py_ssize_t j, r
    cdef const double* src = rows + first * width
    for j in range(n):
        out[j] = src[j]
    for r in range(first + 1, last + 1):
        src = rows + r * width
        for j in range(n):
            out[j] = out[j] + src[j]
