# Across channels, forward: planar tiles (outer, C, inner) and lines (channels contiguous).

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
    before output row c is written. The values are read from x itself when
    x is contiguous along the tile and is not the output; otherwise (in
    place, or strided) they are kept in the ring xb too, so nothing read
    has been overwritten.
    """
    cdef idx_t c, j, first, last, nxt = 0
    cdef floating* yrow
    cdef const floating* xrow
    cdef const double* rows5[5]
    cdef int bad
    cdef bint keep = xs_i != 1 or <const void*>x == <const void*>y
    for c in range(C):
        while nxt < C and nxt <= c + hi:
            if xs_i == 1 and nxt + PREFETCH_ROWS < C:
                # Each channel row is its own memory stream; too many for the
                # hardware prefetcher, so ask for a row a few steps ahead.
                prefetch_row(x + (nxt + PREFETCH_ROWS) * xs_c, w * sizeof(floating))
            if keep:
                load_row(x + nxt * xs_c, xs_i, w, xb + (nxt % R) * T, sq + (nxt % R) * T)
            else:
                square_row(x + nxt * xs_c, w, sq + (nxt % R) * T)
            nxt += 1
        first = imax(0, c - lo)
        last = imin(C - 1, c + hi)
        yrow = y + c * ys_c
        xrow = xb + (c % R) * T if keep else x + c * xs_c
        if last - first == 4 and comp == NULL and ys_i == 1 and P.poly1_ok:
            # the AlexNet case (five channels in the window): window sum and
            # series in one pass, the same arithmetic as the general route
            for j in range(5):
                rows5[j] = sq + ((first + j) % R) * T
            bad = finish_after_low(xrow, yrow, 1, v, w, P,
                                   sum5_series_low(rows5, xrow, yrow, v, w, P))
        else:
            rows_window_sum(sq, T, R, v, w, first, last, comp)
            bad = finalize_row(xrow, yrow, ys_i, v, w, P)
        if bad:
            for j in range(w):
                if needs_fix(v[j], P):
                    if needs_safe(v[j], P):
                        yrow[j * ys_i] = <floating>safe_finish(
                            xrow[j], ring_sumsq(xb + j, T, R, first, last) if keep
                            else strided_sumsq(x + j, xs_c, first, last), P)
                    else:
                        yrow[j * ys_i] = <floating>double_value(xrow[j], v[j], P)


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
    """One position's channels; values read from x itself unless strided or in place."""
    cdef idx_t c
    cdef double t
    cdef double* mid = pad + lo
    cdef const floating* xv = x
    if xs_c != 1 or <const void*>x == <const void*>y:
        for c in range(C):
            xl[c] = x[c * xs_c]
        xv = xl
    for c in range(C):
        t = xv[c]
        mid[c] = t * t
    line_window_sum(pad, v, C, lo + hi + 1, comp)
    if finalize_row(xv, y, ys_c, v, C, P):
        for c in range(C):
            if needs_fix(v[c], P):
                if needs_safe(v[c], P):
                    y[c * ys_c] = <floating>safe_finish(
                        xv[c], strided_sumsq(xv, 1, imax(0, c - lo), imin(C - 1, c + hi)), P)
                else:
                    y[c * ys_c] = <floating>double_value(xv[c], v[c], P)


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
