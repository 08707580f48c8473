# Body of the forward kernel modules, included by _forward.pyx (baseline
# ISA) and _forward_avx2.pyx / _forward_avx512.pyx (the same code compiled
# for wider vectors; fastlrn._dispatch picks one at import). Entry points
# take raw addresses, element strides and shapes prepared and checked by
# fastlrn._api; nothing here validates. Layering: _common.pxd.
from libc.string cimport memset, memcpy
from cython.parallel cimport prange, parallel
from cython cimport floating

from fastlrn._kernels._common cimport (
    Params, make_params, scratch_get, scratch_put, prefetch, finalize_row, needs_fix, needs_safe, double_value, safe_finish,
    strided_sumsq,
    line_window_sum, rows_window_sum,
)

ctypedef Py_ssize_t idx_t

# Scratch per thread for one across-channel tile: a ring of rows of the tile
# width in double (squares) and in the input type (values), kept near
# TILE_BYTES so that it stays in L1/L2.
cdef enum:
    TILE_BYTES = 49152
    MAX_TILE = 1024
    MIN_TILE = 8
    MAXDIMS = 64      # NumPy's own limit on ndim
    PREFETCH_ROWS = 4 # how many channel rows ahead the planar kernel prefetches


cdef inline idx_t imin(idx_t a, idx_t b) noexcept nogil:
    return a if a < b else b


cdef inline idx_t imax(idx_t a, idx_t b) noexcept nogil:
    return a if a > b else b


cdef idx_t tile_width(idx_t R, idx_t n_inner) noexcept nogil:
    """Inner positions per tile: a ring of R rows (values and squares) in about TILE_BYTES."""
    cdef idx_t t = (TILE_BYTES // (12 * R + 16)) // MIN_TILE * MIN_TILE
    t = imax(MIN_TILE, imin(MAX_TILE, t))
    return imin(t, imax(n_inner, 1))


# ---------------------------------------------------------------- across, planar
# Layout (outer, C, inner) with inner > 1: each tile is (one outer index,
# up to T inner positions, all C channels); vectorised over the inner run.

cdef void across_planar_tile(const floating* x, floating* y, idx_t C, idx_t w, idx_t T,
                             idx_t R, idx_t xs_c, idx_t xs_i, idx_t ys_c, idx_t ys_i,
                             idx_t lo, idx_t hi, const Params* P,
                             floating* xb, double* sq, double* v, double* comp) noexcept nogil:
    """One tile: rows are loaded into a ring of R slots just before first use.

    Channel ch lives in slot ch % R (R = taps, or C when the window covers
    every channel), so the rows in use stay in L1. Row c + hi is loaded
    before output row c is written: in-place calls read nothing overwritten.
    """
    cdef idx_t c, j, first, last, nxt = 0
    cdef floating* yrow
    cdef floating* xrow
    for c in range(C):
        while nxt < C and nxt <= c + hi:
            if xs_i == 1 and nxt + PREFETCH_ROWS < C:
                # Each channel row is its own memory stream; too many for the
                # hardware prefetcher, so ask for a row a few steps ahead.
                prefetch_row(x + (nxt + PREFETCH_ROWS) * xs_c, w * sizeof(floating))
            load_row(x + nxt * xs_c, xs_i, w, xb + (nxt % R) * T, sq + (nxt % R) * T)
            nxt += 1
        first = imax(0, c - lo)
        last = imin(C - 1, c + hi)
        rows_window_sum(sq, T, R, v, w, first, last, comp)
        yrow = y + c * ys_c
        xrow = xb + (c % R) * T
        if finalize_row(xrow, yrow, ys_i, v, w, P):
            for j in range(w):
                if needs_fix(v[j], P):
                    if needs_safe(v[j], P):
                        yrow[j * ys_i] = <floating>safe_finish(
                            xrow[j], ring_sumsq(xb + j, T, R, first, last), P)
                    else:
                        yrow[j * ys_i] = <floating>double_value(xrow[j], v[j], P)


cdef inline void prefetch_row(const void* p, idx_t nbytes) noexcept nogil:
    cdef idx_t off
    for off in range(0, nbytes, 64):
        prefetch(<const char*>p + off)


cdef inline void load_row(const floating* src, idx_t stride, idx_t w,
                          floating* dst, double* sq) noexcept nogil:
    """dst[j] = src[j*stride]; sq[j] = dst[j]**2 in double."""
    cdef idx_t j
    cdef double t
    if stride == 1:
        for j in range(w):
            dst[j] = src[j]
            t = src[j]
            sq[j] = t * t
    else:
        for j in range(w):
            dst[j] = src[j * stride]
            t = dst[j]
            sq[j] = t * t


cdef long double ring_sumsq(const floating* xb, idx_t T, idx_t R,
                            idx_t first, idx_t last) noexcept nogil:
    """Sum of squares of channels first..last of one column of the ring, in long double."""
    cdef long double acc = 0.0
    cdef long double t
    cdef idx_t r
    for r in range(first, last + 1):
        t = xb[(r % R) * T]
        acc = acc + t * t
    return acc


cdef int across_planar(const floating* x, floating* y,
                       idx_t n_outer, idx_t C, idx_t n_inner,
                       idx_t xs_o, idx_t xs_c, idx_t xs_i,
                       idx_t ys_o, idx_t ys_c, idx_t ys_i,
                       idx_t lo, idx_t hi, Params P, int nthreads) noexcept nogil:
    cdef idx_t R = imin(lo + hi + 1, C)
    cdef idx_t T = tile_width(R, n_inner)
    cdef idx_t per_outer = (n_inner + T - 1) // T
    cdef idx_t ntiles = n_outer * per_outer
    cdef idx_t tile, o, i0
    cdef floating* xb
    cdef double* sq
    cdef double* v
    cdef double* comp
    cdef int failed = 0
    cdef int* fail = &failed
    with parallel(num_threads=nthreads):
        # one block: sq (R*T doubles), v (T), comp (T), xb (R*T values)
        sq = <double*>scratch_get((R * T + 2 * T) * sizeof(double) + R * T * sizeof(floating))
        if sq == NULL:
            fail[0] = 1
        else:
            v = sq + R * T
            comp = v + T if P.compensated else NULL
            xb = <floating*>(v + 2 * T)
            for tile in prange(ntiles, schedule="static"):
                o = tile // per_outer
                i0 = (tile - o * per_outer) * T
                across_planar_tile(x + o * xs_o + i0 * xs_i, y + o * ys_o + i0 * ys_i,
                                   C, imin(T, n_inner - i0), T, R, xs_c, xs_i, ys_c, ys_i,
                                   lo, hi, &P, xb, sq, v, comp)
        scratch_put(sq)
    return failed


# ---------------------------------------------------------------- across, lines
# Layout where each position's channels form one line (channels-last, or
# inner == 1): a zero-padded line of squares, vectorised over channels.

cdef void across_line(const floating* x, floating* y, idx_t C, idx_t xs_c, idx_t ys_c,
                      idx_t lo, idx_t hi, const Params* P,
                      floating* xl, double* pad, double* v, double* comp) noexcept nogil:
    cdef idx_t c
    cdef double t
    cdef double* mid = pad + lo
    if xs_c == 1:
        for c in range(C):
            xl[c] = x[c]
    else:
        for c in range(C):
            xl[c] = x[c * xs_c]
    for c in range(C):
        t = xl[c]
        mid[c] = t * t
    line_window_sum(pad, v, C, lo + hi + 1, comp)
    if finalize_row(xl, y, ys_c, v, C, P):
        for c in range(C):
            if needs_fix(v[c], P):
                if needs_safe(v[c], P):
                    y[c * ys_c] = <floating>safe_finish(
                        xl[c], strided_sumsq(xl, 1, imax(0, c - lo), imin(C - 1, c + hi)), P)
                else:
                    y[c * ys_c] = <floating>double_value(xl[c], v[c], P)


cdef int across_lines(const floating* x, floating* y,
                      idx_t n_outer, idx_t C, idx_t n_inner,
                      idx_t xs_o, idx_t xs_c, idx_t xs_i,
                      idx_t ys_o, idx_t ys_c, idx_t ys_i,
                      idx_t lo, idx_t hi, Params P, int nthreads) noexcept nogil:
    cdef idx_t npos = n_outer * n_inner
    cdef idx_t p, o, i
    cdef floating* xl
    cdef double* pad
    cdef double* v
    cdef double* comp
    cdef int failed = 0
    cdef int* fail = &failed
    with parallel(num_threads=nthreads):
        # one block: pad (C+lo+hi doubles), v (C), comp (C), xl (C values)
        pad = <double*>scratch_get((4 * C + lo + hi) * sizeof(double))
        if pad == NULL:
            fail[0] = 1
        else:
            v = pad + C + lo + hi
            comp = v + C if P.compensated else NULL
            xl = <floating*>(v + 2 * C)
            # The padding stays zero: only pad[lo:lo+C] is ever written.
            memset(pad, 0, (C + lo + hi) * sizeof(double))
            for p in prange(npos, schedule="static"):
                o = p // n_inner
                i = p - o * n_inner
                across_line(x + o * xs_o + i * xs_i, y + o * ys_o + i * ys_i,
                            C, xs_c, ys_c, lo, hi, &P, xl, pad, v, comp)
        scratch_put(pad)
    return failed


# ---------------------------------------------------------------- within
# Layout (P1, P2, S_1 .. S_d): planes (batch x channel) of d spatial axes.
# Each plane is gathered into scratch (values and squares), the box sum is
# formed one axis at a time in place, then each row along the last spatial
# axis is finalised. Cost per element: (sum over axes of taps) adds, not
# size**d.

cdef struct Plane:
    int d
    idx_t size                 # elements in one plane
    idx_t shape[MAXDIMS]
    idx_t xs[MAXDIMS]          # element strides of x along the spatial axes
    idx_t ys[MAXDIMS]
    idx_t lo[MAXDIMS]          # window per axis, clipped to the axis length - 1
    idx_t hi[MAXDIMS]


cdef inline idx_t row_offset(const Plane* G, idx_t r, const idx_t* strides) noexcept nogil:
    """Offset of row r (row-major over the leading d-1 spatial axes)."""
    cdef idx_t off = 0
    cdef int ax
    cdef idx_t q
    for ax in range(G.d - 2, -1, -1):
        q = r % G.shape[ax]
        r = r // G.shape[ax]
        off += q * strides[ax]
    return off


cdef long double box_sumsq(const floating* xp, const Plane* G, idx_t flat) noexcept nogil:
    """Sum of squares over the clipped box around plane element `flat`, in long double."""
    cdef idx_t pos[MAXDIMS]
    cdef idx_t lo_[MAXDIMS]
    cdef idx_t hi_[MAXDIMS]
    cdef idx_t cur[MAXDIMS]
    cdef idx_t rowstride[MAXDIMS]
    cdef int ax, d = G.d
    cdef idx_t off
    cdef long double acc = 0.0
    cdef long double t
    rowstride[d - 1] = 1
    for ax in range(d - 2, -1, -1):
        rowstride[ax] = rowstride[ax + 1] * G.shape[ax + 1]
    for ax in range(d - 1, -1, -1):
        pos[ax] = flat % G.shape[ax]
        flat = flat // G.shape[ax]
        lo_[ax] = imax(0, pos[ax] - G.lo[ax])
        hi_[ax] = imin(G.shape[ax] - 1, pos[ax] + G.hi[ax])
        cur[ax] = lo_[ax]
    while True:
        off = 0
        for ax in range(d):
            off += cur[ax] * rowstride[ax]
        t = xp[off]
        acc = acc + t * t
        ax = d - 1
        while ax >= 0:
            cur[ax] += 1
            if cur[ax] <= hi_[ax]:
                break
            cur[ax] = lo_[ax]
            ax -= 1
        if ax < 0:
            break
    return acc


cdef void within_plane(const floating* x, floating* y, const Plane* G, const Params* P,
                       floating* xp, double* A, double* tmp, double* pad,
                       double* comp) noexcept nogil:
    cdef int d = G.d, ax
    cdef idx_t L = G.shape[d - 1]
    cdef idx_t nrows = G.size // L
    cdef idx_t r, j, o, i, B, nblk
    cdef const floating* src
    cdef floating* xrow
    cdef floating* yrow
    cdef double* arow
    cdef double t
    cdef idx_t xs_l = G.xs[d - 1], ys_l = G.ys[d - 1]
    # 1. gather values and squares, row by row
    for r in range(nrows):
        src = x + row_offset(G, r, G.xs)
        xrow = xp + r * L
        arow = A + r * L
        if xs_l == 1:
            for j in range(L):
                xrow[j] = src[j]
        else:
            for j in range(L):
                xrow[j] = src[j * xs_l]
        for j in range(L):
            t = xrow[j]
            arow[j] = t * t
    # 2. window sum along the last axis: a zero-padded line per row
    for r in range(nrows):
        arow = A + r * L
        memcpy(pad + G.lo[d - 1], arow, L * sizeof(double))
        line_window_sum(pad, arow, L, G.lo[d - 1] + G.hi[d - 1] + 1, comp)
    # 3. window sums along the other axes: rows of the block below the axis
    B = L
    for ax in range(d - 2, -1, -1):
        nblk = G.size // (G.shape[ax] * B)
        for o in range(nblk):
            memcpy(tmp, A + o * G.shape[ax] * B, G.shape[ax] * B * sizeof(double))
            for i in range(G.shape[ax]):
                rows_window_sum(tmp, B, G.shape[ax], A + (o * G.shape[ax] + i) * B, B,
                                imax(0, i - G.lo[ax]), imin(G.shape[ax] - 1, i + G.hi[ax]),
                                comp)
        B = B * G.shape[ax]
    # 4. finalise each row
    for r in range(nrows):
        yrow = y + row_offset(G, r, G.ys)
        arow = A + r * L
        if finalize_row(xp + r * L, yrow, ys_l, arow, L, P):
            for j in range(L):
                if needs_fix(arow[j], P):
                    if needs_safe(arow[j], P):
                        yrow[j * ys_l] = <floating>safe_finish(
                            xp[r * L + j], box_sumsq(xp, G, r * L + j), P)
                    else:
                        yrow[j * ys_l] = <floating>double_value(xp[r * L + j], arow[j], P)


cdef int within(const floating* x, floating* y, idx_t P1, idx_t P2,
                idx_t xs_p1, idx_t xs_p2, idx_t ys_p1, idx_t ys_p2,
                const Plane* G, Params P, int nthreads) noexcept nogil:
    cdef idx_t nplanes = P1 * P2
    cdef idx_t pl, p1, p2
    cdef idx_t L = G.shape[G.d - 1]
    cdef idx_t padlen = L + G.lo[G.d - 1] + G.hi[G.d - 1]
    cdef floating* xp
    cdef double* A
    cdef double* tmp
    cdef double* pad
    cdef double* comp
    cdef int failed = 0
    cdef int* fail = &failed
    with parallel(num_threads=nthreads):
        # one block: A, tmp, comp (plane size doubles each), pad (padlen), xp (plane values)
        A = <double*>scratch_get((4 * G.size + padlen) * sizeof(double))
        if A == NULL:
            fail[0] = 1
        else:
            tmp = A + G.size
            comp = tmp + G.size if P.compensated else NULL
            pad = tmp + 2 * G.size
            xp = <floating*>(pad + padlen)
            memset(pad, 0, padlen * sizeof(double))
            for pl in prange(nplanes, schedule="static"):
                p1 = pl // P2
                p2 = pl - p1 * P2
                within_plane(x + p1 * xs_p1 + p2 * xs_p2, y + p1 * ys_p1 + p2 * ys_p2,
                             G, &P, xp, A, tmp, pad, comp)
        scratch_put(A)
    return failed


# ---------------------------------------------------------------- Python entry points

def across_forward(bint is_double, size_t xaddr, size_t yaddr,
                   idx_t n_outer, idx_t C, idx_t n_inner,
                   idx_t xs_o, idx_t xs_c, idx_t xs_i,
                   idx_t ys_o, idx_t ys_c, idx_t ys_i,
                   idx_t lo, idx_t hi, double a, double beta, double k,
                   int nthreads, bint lines):
    """Across-channel LRN on a strided (outer, C, inner) block; strides in elements.

    lo and hi must already be clipped to C - 1. `lines` picks the line
    layout (channels contiguous) over the planar one.
    """
    cdef Params P = make_params(a, beta, k, <double>(lo + hi + 1), not is_double)
    cdef int failed
    with nogil:
        if is_double:
            if lines:
                failed = across_lines[double](<const double*>xaddr, <double*>yaddr, n_outer, C, n_inner,
                                              xs_o, xs_c, xs_i, ys_o, ys_c, ys_i, lo, hi, P, nthreads)
            else:
                failed = across_planar[double](<const double*>xaddr, <double*>yaddr, n_outer, C, n_inner,
                                               xs_o, xs_c, xs_i, ys_o, ys_c, ys_i, lo, hi, P, nthreads)
        else:
            if lines:
                failed = across_lines[float](<const float*>xaddr, <float*>yaddr, n_outer, C, n_inner,
                                             xs_o, xs_c, xs_i, ys_o, ys_c, ys_i, lo, hi, P, nthreads)
            else:
                failed = across_planar[float](<const float*>xaddr, <float*>yaddr, n_outer, C, n_inner,
                                              xs_o, xs_c, xs_i, ys_o, ys_c, ys_i, lo, hi, P, nthreads)
    if failed:
        raise MemoryError("fastlrn: could not allocate per-thread scratch")


def within_forward(bint is_double, size_t xaddr, size_t yaddr,
                   idx_t P1, idx_t P2, idx_t xs_p1, idx_t xs_p2, idx_t ys_p1, idx_t ys_p2,
                   shape, xstrides, ystrides, los, his,
                   double a, double beta, double k, int nthreads):
    """Within-channel LRN on planes (P1, P2) x spatial `shape`; strides in elements.

    los/his: the window per spatial axis, already clipped to the axis length - 1.
    """
    cdef Plane G
    cdef int ax, failed
    cdef double taps = 1.0
    G.d = len(shape)
    if G.d < 1 or G.d > MAXDIMS:
        raise ValueError("fastlrn: internal: bad number of spatial axes")
    G.size = 1
    for ax in range(G.d):
        G.shape[ax] = shape[ax]
        G.xs[ax] = xstrides[ax]
        G.ys[ax] = ystrides[ax]
        G.lo[ax] = los[ax]
        G.hi[ax] = his[ax]
        G.size *= G.shape[ax]
        taps *= <double>(G.lo[ax] + G.hi[ax] + 1)
    cdef Params P = make_params(a, beta, k, taps, not is_double)
    with nogil:
        if is_double:
            failed = within[double](<const double*>xaddr, <double*>yaddr, P1, P2,
                                    xs_p1, xs_p2, ys_p1, ys_p2, &G, P, nthreads)
        else:
            failed = within[float](<const float*>xaddr, <float*>yaddr, P1, P2,
                                   xs_p1, xs_p2, ys_p1, ys_p2, &G, P, nthreads)
    if failed:
        raise MemoryError("fastlrn: could not allocate per-thread scratch")
