# Across channels, backward: the gradient on planar tiles and on lines.
#
#   dx(q) = g(q) s(q)**-beta - 2 a beta x(q) sum_{p in [q-hi, q+lo]} g(p) x(p) s(p)**-(beta+1)
#
# s is recomputed from x (never recovered by dividing y by x). All sums in
# double, in a fixed order; blocks holding a window sum outside the range
# where double is exact enough are recomputed in long double.

cdef inline int bwd_out(const floating* xb, const floating* gb, const double* pw,
                        const double* W, floating* dx, idx_t ys, idx_t n,
                        double c2ab) noexcept nogil:
    """dx[j*ys] = g p - 2 a beta x W for one row; nonzero if a float64 value is not finite.

    For float64 data a non-finite value may come from an intermediate
    overflow (g x is huge) rather than from the formula, so the caller then
    recomputes the block in long double. float32 data cannot overflow double
    on the way (|g x| < 2**256).
    """
    cdef idx_t j
    cdef double t
    cdef long long finite = 0
    if floating is float:
        if ys == 1:
            for j in range(n):
                dx[j] = <floating>(<double>gb[j] * pw[j] - c2ab * <double>xb[j] * W[j])
        else:
            for j in range(n):
                dx[j * ys] = <floating>(<double>gb[j] * pw[j] - c2ab * <double>xb[j] * W[j])
        return 0
    else:
        if ys == 1:
            for j in range(n):
                t = <double>gb[j] * pw[j] - c2ab * <double>xb[j] * W[j]
                finite += (t >= -DBL_MAX) & (t <= DBL_MAX)
                dx[j] = <floating>t
        else:
            for j in range(n):
                t = <double>gb[j] * pw[j] - c2ab * <double>xb[j] * W[j]
                finite += (t >= -DBL_MAX) & (t <= DBL_MAX)
                dx[j * ys] = <floating>t
        return finite != n


cdef int safe_column(const floating* xv, idx_t xstride, const floating* gv, idx_t gstride,
                     idx_t C, floating* dx, idx_t ys, idx_t lo, idx_t hi,
                     const Params* P) noexcept nogil:
    """Recompute one line of C channels (x at xv[c*xstride], g at gv[c*gstride]) in long double."""
    cdef long double* buf = <long double*>malloc(3 * C * sizeof(long double))
    cdef idx_t c
    cdef idx_t shape[1]
    cdef idx_t lo_[1]
    cdef idx_t hi_[1]
    cdef int err
    if buf == NULL:
        return -1
    shape[0], lo_[0], hi_[0] = C, lo, hi
    for c in range(C):
        buf[c] = xv[c * xstride]
        buf[C + c] = gv[c * gstride]
    err = safe_backward_ld(buf, buf + C, buf + 2 * C, C, 1, shape, lo_, hi_, P)
    if err == 0:
        for c in range(C):
            dx[c * ys] = <floating>buf[2 * C + c]
    free(buf)
    return err


cdef int across_bwd_tile(const floating* x, const floating* g, floating* dx,
                         idx_t C, idx_t w, idx_t T,
                         idx_t xs_c, idx_t xs_i, idx_t gs_c, idx_t gs_i, idx_t ys_c, idx_t ys_i,
                         idx_t lo, idx_t hi, const Params* P,
                         floating* xb, floating* gb, double* sq, double* pb, double* wb,
                         double* v, double* comp) noexcept nogil:
    """One tile of all C channels and w inner positions; returns -1 if out of memory.

    x and dy are read where they are when both are contiguous along the tile
    and the output is neither of them; otherwise copied into xb, gb first.
    """
    cdef idx_t c, j
    cdef int bad = 0
    cdef double c2ab = 2.0 * P.a * P.beta
    cdef bint direct = (xs_i == 1 and gs_i == 1 and <const void*>dx != <const void*>x
                        and <const void*>dx != <const void*>g)
    cdef const floating* xv = x if direct else xb      # row c at xv + c * xr
    cdef const floating* gv = g if direct else gb
    cdef idx_t xr = xs_c if direct else T
    cdef idx_t gr = gs_c if direct else T
    for c in range(C):
        if c + PREFETCH_ROWS < C:
            # 2 C row streams: far more than the hardware prefetcher follows
            if xs_i == 1:
                prefetch_row(x + (c + PREFETCH_ROWS) * xs_c, w * sizeof(floating))
            if gs_i == 1:
                prefetch_row(g + (c + PREFETCH_ROWS) * gs_c, w * sizeof(floating))
        if direct:
            square_row(x + c * xs_c, w, sq + c * T)
            continue
        load_row(x + c * xs_c, xs_i, w, xb + c * T, sq + c * T)
        if gs_i == 1:
            for j in range(w):
                gb[c * T + j] = g[c * gs_c + j]
        else:
            for j in range(w):
                gb[c * T + j] = g[c * gs_c + j * gs_i]
    for c in range(C):
        rows_window_sum(sq, T, C, v, w, imax(0, c - lo), imin(C - 1, c + hi), comp)
        bad |= bwd_row(xv + c * xr, gv + c * gr, v, w, P, pb + c * T, wb + c * T)
    for c in range(C):
        # the mirrored window [c - hi, c + lo]
        rows_window_sum(wb, T, C, v, w, imax(0, c - hi), imin(C - 1, c + lo), comp)
        bad |= bwd_out(xv + c * xr, gv + c * gr, pb + c * T, v, dx + c * ys_c, ys_i, w, c2ab)
    if bad:
        for j in range(w):
            if safe_column(xv + j, xr, gv + j, gr, C, dx + j * ys_i, ys_c, lo, hi, P) != 0:
                return -1
    return 0


cdef int across_bwd_planar(const floating* x, const floating* g, floating* dx,
                           idx_t n_outer, idx_t C, idx_t n_inner,
                           idx_t xs_o, idx_t xs_c, idx_t xs_i,
                           idx_t gs_o, idx_t gs_c, idx_t gs_i,
                           idx_t ys_o, idx_t ys_c, idx_t ys_i,
                           idx_t lo, idx_t hi, Params P, int nthreads) noexcept nogil:
    cdef idx_t T = bwd_tile_width(C, n_inner)
    cdef idx_t per_outer = (n_inner + T - 1) // T
    cdef idx_t ntiles = n_outer * per_outer
    cdef idx_t tile, o, i0
    cdef double* sq = NULL
    cdef double* pb = NULL
    cdef double* wb = NULL
    cdef double* v = NULL
    cdef double* comp = NULL
    cdef floating* xb = NULL
    cdef floating* gb = NULL
    cdef int failed = 0
    cdef int* fail = &failed
    with parallel(num_threads=nthreads):
        # one block: sq, pb, wb (C*T doubles each), v, comp (T each), xb, gb (C*T values each)
        sq = <double*>scratch_get((3 * C * T + 2 * T) * sizeof(double)
                                  + 2 * C * T * sizeof(floating))
        if sq == NULL:
            fail[0] = 1
        else:
            pb = sq + C * T
            wb = pb + C * T
            v = wb + C * T
            comp = v + T if P.compensated else NULL
            xb = <floating*>(v + 2 * T)
            gb = xb + C * T
            for tile in prange(ntiles, schedule="static"):
                o = tile // per_outer
                i0 = (tile - o * per_outer) * T
                if across_bwd_tile(x + o * xs_o + i0 * xs_i, g + o * gs_o + i0 * gs_i,
                                   dx + o * ys_o + i0 * ys_i, C, imin(T, n_inner - i0), T,
                                   xs_c, xs_i, gs_c, gs_i, ys_c, ys_i, lo, hi, &P,
                                   xb, gb, sq, pb, wb, v, comp) != 0:
                    fail[0] = 1
        scratch_put(sq)
    return failed


cdef int across_bwd_line(const floating* x, const floating* g, floating* dx, idx_t C,
                         idx_t xs_c, idx_t gs_c, idx_t ys_c, idx_t lo, idx_t hi,
                         const Params* P, floating* xl, floating* gl, double* pad,
                         double* wpad, double* v, double* pl, double* W,
                         double* comp) noexcept nogil:
    cdef idx_t c
    cdef double t
    cdef double c2ab = 2.0 * P.a * P.beta
    cdef int bad
    for c in range(C):
        xl[c] = x[c * xs_c]
        gl[c] = g[c * gs_c]
    for c in range(C):
        t = xl[c]
        pad[lo + c] = t * t
    line_window_sum(pad, v, C, lo + hi + 1, comp)
    bad = bwd_row(xl, gl, v, C, P, pl, wpad + hi)
    line_window_sum(wpad, W, C, lo + hi + 1, comp)     # W[q] = sum of w over [q-hi, q+lo]
    bad |= bwd_out(xl, gl, pl, W, dx, ys_c, C, c2ab)
    if bad:
        return safe_column(xl, 1, gl, 1, C, dx, ys_c, lo, hi, P)
    return 0


cdef int across_bwd_lines(const floating* x, const floating* g, floating* dx,
                          idx_t n_outer, idx_t C, idx_t n_inner,
                          idx_t xs_o, idx_t xs_c, idx_t xs_i,
                          idx_t gs_o, idx_t gs_c, idx_t gs_i,
                          idx_t ys_o, idx_t ys_c, idx_t ys_i,
                          idx_t lo, idx_t hi, Params P, int nthreads) noexcept nogil:
    cdef idx_t npos = n_outer * n_inner
    cdef idx_t p, o, i
    cdef idx_t padlen = C + lo + hi
    cdef double* pad = NULL
    cdef double* wpad = NULL
    cdef double* v = NULL
    cdef double* pl = NULL
    cdef double* W = NULL
    cdef double* comp = NULL
    cdef floating* xl = NULL
    cdef floating* gl = NULL
    cdef int failed = 0
    cdef int* fail = &failed
    with parallel(num_threads=nthreads):
        # one block: pad, wpad (padlen doubles each), v, pl, W, comp (C each), xl, gl (C values)
        pad = <double*>scratch_get((2 * padlen + 4 * C) * sizeof(double) + 2 * C * sizeof(floating))
        if pad == NULL:
            fail[0] = 1
        else:
            wpad = pad + padlen
            v = wpad + padlen
            pl = v + C
            W = pl + C
            comp = W + C if P.compensated else NULL
            xl = <floating*>(W + 2 * C)
            gl = xl + C
            # the paddings stay zero: only the middles are written
            memset(pad, 0, 2 * padlen * sizeof(double))
            for p in prange(npos, schedule="static"):
                o = p // n_inner
                i = p - o * n_inner
                if across_bwd_line(x + o * xs_o + i * xs_i, g + o * gs_o + i * gs_i,
                                   dx + o * ys_o + i * ys_i, C, xs_c, gs_c, ys_c, lo, hi, &P,
                                   xl, gl, pad, wpad, v, pl, W, comp) != 0:
                    fail[0] = 1
        scratch_put(pad)
    return failed


def across_backward(bint is_double, size_t xaddr, size_t gaddr, size_t yaddr,
                    idx_t n_outer, idx_t C, idx_t n_inner,
                    idx_t xs_o, idx_t xs_c, idx_t xs_i,
                    idx_t gs_o, idx_t gs_c, idx_t gs_i,
                    idx_t ys_o, idx_t ys_c, idx_t ys_i,
                    idx_t lo, idx_t hi, double a, double beta, double k,
                    int nthreads, bint lines):
    """Across-channel LRN gradient on strided (outer, C, inner) blocks of x, dy and dx.

    lo and hi must already be clipped to C - 1; strides in elements.
    """
    cdef Params P = make_bwd_params(a, beta, k, <double>(lo + hi + 1), not is_double)
    cdef int failed
    with nogil:
        if is_double:
            if lines:
                failed = across_bwd_lines[double](
                    <const double*>xaddr, <const double*>gaddr, <double*>yaddr, n_outer, C, n_inner,
                    xs_o, xs_c, xs_i, gs_o, gs_c, gs_i, ys_o, ys_c, ys_i, lo, hi, P, nthreads)
            else:
                failed = across_bwd_planar[double](
                    <const double*>xaddr, <const double*>gaddr, <double*>yaddr, n_outer, C, n_inner,
                    xs_o, xs_c, xs_i, gs_o, gs_c, gs_i, ys_o, ys_c, ys_i, lo, hi, P, nthreads)
        else:
            if lines:
                failed = across_bwd_lines[float](
                    <const float*>xaddr, <const float*>gaddr, <float*>yaddr, n_outer, C, n_inner,
                    xs_o, xs_c, xs_i, gs_o, gs_c, gs_i, ys_o, ys_c, ys_i, lo, hi, P, nthreads)
            else:
                failed = across_bwd_planar[float](
                    <const float*>xaddr, <const float*>gaddr, <float*>yaddr, n_outer, C, n_inner,
                    xs_o, xs_c, xs_i, gs_o, gs_c, gs_i, ys_o, ys_c, ys_i, lo, hi, P, nthreads)
    if failed:
        raise MemoryError("fastlrn: could not allocate scratch memory")
