# Within channel, forward: planes of d spatial axes, box sums one axis at a time.

# ---------------------------------------------------------------- within
# Layout (P1, P2, S_1 .. S_d): planes (batch x channel) of d spatial axes.
# Each plane is gathered into scratch (values and squares), the box sum is
# formed one axis at a time in place, then each row along the last spatial
# axis is finalised. Cost per element: (sum over axes of taps) adds, not
# size**d. float32 images (two axes, the last contiguous) in the float tier
# take within2d_f32 instead: blocks of rows in one pass, the same bits; with
# 5 x 5 windows in the AVX-512 build, bands of columns in registers
# (fastlrn_w5_strip), the same bits again. 5 x 5 strips with windows outside
# the float tier (AVX-512 and AVX2 builds) go by w5_general: each element
# by its own formula in one pass, the same bits as well.

cdef void within_plane(const floating* x, floating* y, const Plane* G, const Params* P,
                       floating* xp, double* A, double* tmp, double* pad,
                       double* comp, idx_t first, idx_t last, bint gathered) noexcept nogil:
    """One plane (or strip, see plan_strips); writes the rows [first, last) of its first axis.

    gathered: xp already holds the plane's values (x may since have been
    overwritten, in place).
    """
    cdef int d = G.d, ax
    cdef idx_t L = G.shape[d - 1]
    cdef idx_t nrows = G.size // L
    cdef idx_t r, j, o, i, B, nblk
    cdef const floating* src
    cdef floating* xrow
    cdef floating* yrow
    cdef double* arow
    cdef double* S
    cdef double t
    cdef idx_t rps
    cdef idx_t xs_l = G.xs[d - 1], ys_l = G.ys[d - 1]
    # 1. gather values and squares, row by row
    for r in range(nrows):
        src = x + row_offset(G, r, G.xs)
        xrow = xp + r * L
        arow = A + r * L
        if gathered:
            pass
        elif xs_l == 1:
            for j in range(L):
                xrow[j] = src[j]
        else:
            for j in range(L):
                xrow[j] = src[j * xs_l]
        for j in range(L):
            t = xrow[j]
            arow[j] = t * t
    # 2. box sums of the squares, one axis at a time
    S = box_sum(A, tmp, pad, comp, G, G.lo, G.hi)
    # 3. finalise each output row (d = 1: the output segment of the line)
    if d == 1:
        finalize_span(xp, xp, y, ys_l, S, first, last, G, P, 0)
        return
    rps = nrows // G.shape[0]
    if d == 2 and ys_l == 1 and G.ys[0] == L:
        # contiguous output rows: the output rows of the strip as one span
        finalize_span(xp, xp, y, 1, S, first * L, last * L, G, P, 0)
        return
    for r in range(first * rps, last * rps):
        finalize_span(xp, xp + r * L, y + row_offset(G, r, G.ys), ys_l, S + r * L,
                      0, L, G, P, r * L)


cdef void within_plane_f32(const float* x, float* y, const Plane* G, const Params* P,
                           float* xp, double* A, double* tmp, double* pad, float* Af,
                           float* tmpf, float* padf, idx_t first, idx_t last) noexcept nogil:
    """within_plane for float32 data with the float tier on (enable_f32_series).

    Box sums of the float squares in float (box_sum_f) and the series in
    float for the output rows; if some element's sum is outside the float
    tier, the strip is done again by the double route (within_plane) and
    the elements inside the tier get the float tier's value again: each
    element's formula is the one its own float sum selects.
    """
    cdef int d = G.d
    cdef idx_t L = G.shape[d - 1]
    cdef idx_t nrows = G.size // L
    cdef idx_t rps = nrows // G.shape[0]
    cdef idx_t r, j, r0, r1, j0, j1, inside = 0
    cdef const float* src
    cdef float* xrow
    cdef float* arow
    cdef float* S
    cdef float* yrow
    cdef float hi = P.sf.hi
    cdef idx_t xs_l = G.xs[d - 1], ys_l = G.ys[d - 1]
    if d == 2 and xs_l == 1 and G.xs[0] == L:
        # a contiguous strip: one loop over all of it
        for j in range(G.size):
            xp[j] = x[j]
            Af[j] = x[j] * x[j]
    else:
        for r in range(nrows):
            src = x + row_offset(G, r, G.xs)
            xrow = xp + r * L
            arow = Af + r * L
            if xs_l == 1:
                for j in range(L):
                    xrow[j] = src[j]
            else:
                for j in range(L):
                    xrow[j] = src[j * xs_l]
            for j in range(L):
                arow[j] = xrow[j] * xrow[j]
    S = box_sum_f(Af, tmpf, padf, G, G.lo, G.hi)
    # the output: rows [r0, r1), elements [j0, j1) of each (d = 1: the
    # strip's output segment of the one line)
    if d == 1:
        r0, r1, j0, j1 = 0, 1, first, last
    else:
        r0, r1, j0, j1 = first * rps, last * rps, 0, L
    if d == 2 and ys_l == 1 and G.ys[0] == L:
        # contiguous output rows: the output rows of the strip as one span
        inside = f32_series_row(xp + r0 * L, y + r0 * L, 1, S + r0 * L, (r1 - r0) * L, &P.sf)
    else:
        for r in range(r0, r1):
            inside += f32_series_row(xp + r * L + j0, y + row_offset(G, r, G.ys) + j0 * ys_l,
                                     ys_l, S + r * L + j0, j1 - j0, &P.sf)
    if inside == (r1 - r0) * (j1 - j0):
        return
    within_plane(x, y, G, P, xp, A, tmp, pad, NULL, first, last, True)
    for r in range(r0, r1):
        f32_series_select(xp + r * L + j0, y + row_offset(G, r, G.ys) + j0 * ys_l, ys_l,
                          S + r * L + j0, NULL, j1 - j0, &P.sf)


cdef inline void f32_sq_run_sum(const float* x, idx_t m, float* out, idx_t n) noexcept nogil:
    """out[j] = x[j]**2 + ... + x[j+m-1]**2 in float, in order, each square rounded first:
    the bits of box_sum_f's last-axis pass over the float squares."""
    cdef idx_t j, t
    cdef float a
    if m == 5:
        for j in range(n):
            out[j] = (((x[j] * x[j] + x[j + 1] * x[j + 1]) + x[j + 2] * x[j + 2])
                      + x[j + 3] * x[j + 3]) + x[j + 4] * x[j + 4]
        return
    for j in range(n):
        out[j] = x[j] * x[j]
    for t in range(1, m):
        for j in range(n):
            a = x[j + t] * x[j + t]
            out[j] = out[j] + a


cdef inline void row_ends_sumsq(const float* x, float* out, idx_t L, idx_t lo,
                                idx_t hi) noexcept nogil:
    """The sums of f32_sq_run_sum clipped to the row x[0 .. L-1]: out[j] for j < lo and
    j >= L - hi (the same order: from each clipped window's first element)."""
    cdef idx_t m = lo + hi + 1, j, t, s0
    cdef float v, a
    cdef float sq[F32_SUM_TAPS]
    cdef float a0, a1, a2, a3
    if lo == 2 and hi == 2 and L >= 5:
        # size 5, straight: (a0 + a1) + a2, then + a3; the end's mirror image
        a0, a1, a2, a3 = x[0] * x[0], x[1] * x[1], x[2] * x[2], x[3] * x[3]
        v = (a0 + a1) + a2
        out[0] = v
        out[1] = v + a3
        a0, a1, a2, a3 = (x[L - 4] * x[L - 4], x[L - 3] * x[L - 3], x[L - 2] * x[L - 2],
                          x[L - 1] * x[L - 1])
        out[L - 2] = ((a0 + a1) + a2) + a3
        out[L - 1] = (a1 + a2) + a3
        return
    if L < m:
        # windows clipped at both ends
        for j in range(L):
            t = imax(0, j - lo)
            v = x[t] * x[t]
            for t in range(imax(0, j - lo) + 1, imin(L - 1, j + hi) + 1):
                a = x[t] * x[t]
                v = v + a
            out[j] = v
        return
    # the first lo: prefix sums x[0]**2 + ... + x[j+hi]**2
    v = x[0] * x[0]
    for t in range(1, m - 1):
        if t - 1 >= hi:
            out[t - 1 - hi] = v
        a = x[t] * x[t]
        v = v + a
    if lo > 0:
        out[lo - 1] = v
    # the last hi: x[j-lo]**2 + ... + x[L-1]**2, from the last m-1 squares
    s0 = L - m + 1
    for t in range(m - 1):
        sq[t] = x[s0 + t] * x[s0 + t]
    for j in range(L - hi, L):
        v = sq[j - lo - s0]
        for t in range(j - lo - s0 + 1, m - 1):
            v = v + sq[t]
        out[j] = v


cdef inline void f32_sq_rows(const float* x, idx_t xs0, float* h, idx_t r0, idx_t r1, idx_t L,
                             idx_t lo, idx_t hi) noexcept nogil:
    """h rows r0 <= r < r1 (row-major, L each) = the last-axis window sums of the squares
    of x's rows (x row r at x + r*xs0), clipped at the row ends, as box_sum_f forms them.

    Contiguous rows go as one long row; its sums near each row's ends took the
    neighbouring rows' values and are formed again over their clipped windows.
    """
    cdef idx_t m = lo + hi + 1, r, n
    if xs0 == L:
        n = (r1 - r0) * L
        if n >= m:
            f32_sq_run_sum(x + r0 * L, m, h + r0 * L + lo, n - m + 1)
    for r in range(r0, r1):
        if xs0 != L and L >= m:
            f32_sq_run_sum(x + r * xs0, m, h + r * L + lo, L - m + 1)
        row_ends_sumsq(x + r * xs0, h + r * L, L, lo, hi)


cdef inline idx_t f32_rows_series(const float** p, idx_t m, const float* x, float* y,
                                  float* v, idx_t n, const SeriesF* F) noexcept nogil:
    """y[j] = f32_series(x[j], v[j]) with v[j] = p[0][j] + ... + p[m-1][j] in float, in
    order (f32_rows_sum); returns how many v[j] are in the tier. Five rows: one loop,
    v kept in registers; else v is scratch of n floats."""
    cdef idx_t j, j0, j1, inside = 0
    cdef int cnt
    cdef float vv, hi = F.hi
    cdef SeriesF S = F[0]
    cdef const float* p0
    cdef const float* p1
    cdef const float* p2
    cdef const float* p3
    cdef const float* p4
    if m != 5:
        f32_rows_sum(p, m, v, n)
        return f32_series_row(x, y, 1, v, n, F)
    p0, p1, p2, p3, p4 = p[0], p[1], p[2], p[3], p[4]
    j0 = 0
    while j0 < n:
        j1 = j0 + F32_COUNT_CHUNK if n - j0 > F32_COUNT_CHUNK else n
        cnt = 0
        for j in range(j0, j1):
            vv = (((p0[j] + p1[j]) + p2[j]) + p3[j]) + p4[j]
            cnt += vv <= hi
            y[j] = f32_series(x[j], vv, &S)
        inside += cnt
        j0 = j1
    return inside


cdef extern from *:
    """
    /* within2d_f32 for 5 x 5 windows, AVX-512 build (in the AVX2 build it
       measured no faster than the blocks of rows: its ring of 40 vectors
       does not fit 16 registers): the strip in bands of 64 columns
       (FASTLRN_W5_VECS vectors), each band walked down
       the rows, so that a band as wide as the row reads x and writes y row
       after row. A row's last-axis sums of squares are formed once, in
       registers: masked loads, the squares, four lane shifts and adds per
       vector; the five-row window sums come from a ring of five rows of
       such vectors, then the float tier's series; masked loads and stores
       at the row's end. Loads per 16 outputs: 2.25, where within2d_f32's
       passes through scratch make 11. The bits of within2d_f32: the same
       products, sums and series steps in the same order, positions outside
       the strip (masked lanes, rows outside [0, H)) adding exact zeros, as
       its zero rows do. */
    #if FASTLRN_SIMD
    #define FASTLRN_W5_VECS 4   /* vectors per band of 64 columns (at most) */
    /* rows of x a strip prefetches ahead of the row it reads (about 8 KiB,
       2 to 32 rows): the AMD EPYC (Zen 4) VMs' hardware prefetchers do not
       follow the strip's walk down a plane, W4's shape at 1 thread took
       4-5x a copy without it, 1.6-2x with it (16, 32 or 64 rows alike) */
    static inline ptrdiff_t fastlrn_w5_ahead(ptrdiff_t xs0) {
        ptrdiff_t r = 8192 / (4 * (xs0 > 0 ? xs0 : -xs0) + 1);
        return r < 2 ? 2 : r > 32 ? 32 : r;
    }
    /* The last-axis sums of row xr for the band's vectors (xr at the band's
       column -2; ml: the lanes of each vector from there inside the row
       and the band's reach): for column j, ((((x[j-2]**2 + x[j-1]**2) +
       x[j]**2) + x[j+1]**2) + x[j+2]**2), as f32_sq_run_sum forms it. */
    /* lanes l of ((((q[l] + q[l+1]) + q[l+2]) + q[l+3]) + q[l+4]), q the
       vector a followed by b */
    static inline fl_v fastlrn_w5_sum(fl_v a, fl_v b) {
        fl_v s = FL_ADD(a, FL_SHIFT(b, a, 1));
        s = FL_ADD(s, FL_SHIFT(b, a, 2));
        s = FL_ADD(s, FL_SHIFT(b, a, 3));
        return FL_ADD(s, FL_SHIFT(b, a, 4));
    }
    static FASTLRN_ALWAYS_INLINE void fastlrn_w5_rowsums(const float* xr, const fl_m* ml, fl_v* h,
                                                     const int NV) {
        fl_v q[FASTLRN_W5_VECS + 1];
        int v;
        for (v = 0; v <= NV; v++) {
            q[v] = FL_LOADZ(ml[v], xr + FASTLRN_SIMD * v);
            q[v] = FL_MUL(q[v], q[v]);
        }
        for (v = 0; v < NV; v++)
            h[v] = fastlrn_w5_sum(q[v], q[v + 1]);
    }
    /* Output rows [first, last) of a strip of H rows of n elements (x rows
       xs0 apart, y rows ys0 apart); 1 if every window sum is in the float
       tier (bits <= hib, SeriesF.hib), else 0, the other outputs then
       meaningless. Bands of NV vectors (a constant in each copy below). */
    static FASTLRN_ALWAYS_INLINE int fastlrn_w5_strip_nv(
            const float* x, ptrdiff_t xs0, float* y, ptrdiff_t ys0, ptrdiff_t H, ptrdiff_t n,
            ptrdiff_t first, ptrdiff_t last, float ts, float c1, float c2, float c3, float c4,
            float kh, float kl, uint32_t hib, const int NV) {
        const int W = FASTLRN_SIMD;
        const ptrdiff_t ahead = fastlrn_w5_ahead(xs0);
        fl_sf K;
        const fl_v zero = FL_ZERO();
        fl_vi vmax = FL_ZEROI();
        fl_v h[5][FASTLRN_W5_VECS], sum, xv;
        fl_m ml[FASTLRN_W5_VECS + 1], mv[FASTLRN_W5_VECS];
        ptrdiff_t reach;
        ptrdiff_t j0, i, row;
        int r, v;
        fl_sf_set(&K, ts, c1, c2, c3, c4, kh, kl);
        for (j0 = 0; j0 < n; j0 += W * NV) {
            /* the band's columns j0 .. j0 + BW - 1 reach x[j0 - 2 .. j0 + BW + 1] */
            reach = n < j0 + W * NV + 2 ? n : j0 + W * NV + 2;
            for (v = 0; v <= NV; v++)
                ml[v] = fl_lanes(j0 - 2 + W * v, reach);
            for (v = 0; v < NV; v++)
                mv[v] = fl_lanes(j0 + W * v, n);
            /* h[r]: the row sums of row i - 2 + r (zeros outside the strip) */
            for (r = 0; r < 4; r++) {
                row = first - 2 + r;
                for (v = 0; v < NV; v++)
                    h[r][v] = zero;
                if (row >= 0 && row < H)
                    fastlrn_w5_rowsums(x + row * xs0 + j0 - 2, ml, h[r], NV);
            }
            for (i = first; i < last; i++) {
                for (v = 0; v < NV; v++)
                    h[4][v] = zero;
                if (i + 2 < H)
                    fastlrn_w5_rowsums(x + (i + 2) * xs0 + j0 - 2, ml, h[4], NV);
                for (v = 0; v <= NV; v++)
                    FASTLRN_PREFETCH(x + (i + 2 + ahead) * xs0 + j0 - 2 + W * v);
                for (v = 0; v < NV; v++) {
                    sum = fastlrn_sum5f(h[0][v], h[1][v], h[2][v], h[3][v], h[4][v]);
                    vmax = FL_MAXU(vmax, mv[v], FL_BITS(sum));
                    xv = FL_LOADZ(mv[v], x + i * xs0 + j0 + W * v);
                    FL_STOREM(y + i * ys0 + j0 + W * v, mv[v], fl_series(sum, xv, &K));
                }
                for (r = 0; r < 4; r++)
                    for (v = 0; v < NV; v++)
                        h[r][v] = h[r + 1][v];
                /* a window outside the tier: the caller redoes the strip,
                   so stop here (data beyond the tier cost two passes else) */
                if (FL_RMAXU(vmax) > hib)
                    return 0;
            }
        }
        return FL_RMAXU(vmax) <= hib;
    }
    /* Rows of up to 48 columns in one band of as many vectors as they need
       (in bands of four, a 27-column row computed 64: W4's layout with
       27 x 27 planes took 3.5x a copy where 55 x 55 took 1.8x) */
    static int fastlrn_w5_strip(const float* x, ptrdiff_t xs0, float* y, ptrdiff_t ys0,
                                ptrdiff_t H, ptrdiff_t n, ptrdiff_t first, ptrdiff_t last,
                                float ts, float c1, float c2, float c3, float c4,
                                float kh, float kl, uint32_t hib) {
        #define FASTLRN_W5_NV(nv) fastlrn_w5_strip_nv(x, xs0, y, ys0, H, n, first, last, ts, \
                                                      c1, c2, c3, c4, kh, kl, hib, nv)
        if (n <= FASTLRN_SIMD)
            return FASTLRN_W5_NV(1);
        if (n <= 2 * FASTLRN_SIMD)
            return FASTLRN_W5_NV(2);
        if (n <= 3 * FASTLRN_SIMD)
            return FASTLRN_W5_NV(3);
        return FASTLRN_W5_NV(4);
        #undef FASTLRN_W5_NV
    }
    /* fastlrn_w5_strip for strips with elements outside the float tier,
       AVX-512 and AVX2 builds: each element by the formula its own window selects.
       The float tier's series where the float sum (w5_strip's) is <= hi,
       else the power step (fastlrn_pw1) of the double box sum, formed as
       box_sum forms it for float32 data: last-axis sums ((((q[j-2] +
       q[j-1]) + q[j]) + q[j+1]) + q[j+2]) of the double squares, zeros
       beyond the row, then the five rows' sums in order, zero rows outside
       the strip (exact zeros, as clipping). Bands of 16 columns (32 took
       1.76x the time: the ring of row sums and the tables spill), from the
       band at column jstart. Returns nonzero where an element outside the
       tier may need_fix (fastlrn_fix_hi; the caller then redoes the strip
       by within_plane_f32). */
    #define FASTLRN_W5G_VECS 1
    static inline void fastlrn_w5g_rowsums(const float* xr, const fl_m* ml, const int* full,
                                           fl_v* hf, fl_d* hd, int with_float) {
        fl_v q[FASTLRN_W5G_VECS + 1], a;
        fl_d d[2 * FASTLRN_W5G_VECS + 1], t;
        int v, u;
        for (v = 0; v <= FASTLRN_W5G_VECS; v++) {
            a = FL_LOADX(ml[v], full[v], xr + FASTLRN_SIMD * v);
            q[v] = FL_MUL(a, a);
            d[2 * v] = fastlrn_sq_lo(a);
            if (v < FASTLRN_W5G_VECS)
                d[2 * v + 1] = fastlrn_sq_hi(a);
        }
        if (with_float)
            for (v = 0; v < FASTLRN_W5G_VECS; v++)
                hf[v] = fastlrn_w5_sum(q[v], q[v + 1]);
        /* a window of five reaches into the next vector */
        for (u = 0; u < 2 * FASTLRN_W5G_VECS; u++) {
            t = FL_DADD(d[u], FL_DSHIFT(d[u + 1], d[u], 1));
            t = FL_DADD(t, FL_DSHIFT(d[u + 1], d[u], 2));
            t = FL_DADD(t, FL_DSHIFT(d[u + 1], d[u], 3));
            hd[u] = FL_DADD(t, FL_DSHIFT(d[u + 1], d[u], 4));
        }
    }
    static ptrdiff_t fastlrn_w5g_strip(const float* x, ptrdiff_t xs0, float* y, ptrdiff_t ys0,
                                       ptrdiff_t H, ptrdiff_t n, ptrdiff_t first, ptrdiff_t last,
                                       ptrdiff_t jstart, float ts, float c1, float c2,
                                       float c3, float c4, float kh, float kl, float hi,
                                       const fastlrn_pw* W, double vlo, double vhi) {
        const int BW = FASTLRN_SIMD * FASTLRN_W5G_VECS;
        const ptrdiff_t ahead = fastlrn_w5_ahead(xs0);
        fl_sf K;
        fl_pwv P;
        const fl_v zero = FL_ZERO(), fhi = FL_SET1(hi);
        const fl_d zd = FL_DSET1(0.0);
        fl_vi mx = FL_ZEROI();    /* the float sums' largest bits */
        fl_v hf[5][FASTLRN_W5G_VECS], sum, xv, out;
        fl_d hd[5][2 * FASTLRN_W5G_VECS], s0, s1;
        fl_m ml[FASTLRN_W5G_VECS + 1], mv[FASTLRN_W5G_VECS];
        fl_t tier;
        int fl[FASTLRN_W5G_VECS + 1], fv[FASTLRN_W5G_VECS];   /* every lane in ml, mv */
        ptrdiff_t reach, j0, i, row;
        int r, v, u;
        fl_sf_set(&K, ts, c1, c2, c3, c4, kh, kl);
        fl_pwv_set(&P, W);
        for (j0 = jstart; j0 < n; j0 += BW) {
            reach = n < j0 + BW + 2 ? n : j0 + BW + 2;
            for (v = 0; v <= FASTLRN_W5G_VECS; v++) {
                ml[v] = fl_lanes(j0 - 2 + FASTLRN_SIMD * v, reach);
                fl[v] = fl_lanes_full(j0 - 2 + FASTLRN_SIMD * v, reach);
            }
            for (v = 0; v < FASTLRN_W5G_VECS; v++) {
                mv[v] = fl_lanes(j0 + FASTLRN_SIMD * v, n);
                fv[v] = fl_lanes_full(j0 + FASTLRN_SIMD * v, n);
            }
            for (r = 0; r < 4; r++) {
                row = first - 2 + r;
                for (v = 0; v < FASTLRN_W5G_VECS; v++)
                    hf[r][v] = zero;
                for (u = 0; u < 2 * FASTLRN_W5G_VECS; u++)
                    hd[r][u] = zd;
                if (row >= 0 && row < H)
                    fastlrn_w5g_rowsums(x + row * xs0 + j0 - 2, ml, fl, hf[r], hd[r], 1);
            }
            for (i = first; i < last; i++) {
                for (v = 0; v < FASTLRN_W5G_VECS; v++)
                    hf[4][v] = zero;
                for (u = 0; u < 2 * FASTLRN_W5G_VECS; u++)
                    hd[4][u] = zd;
                if (i + 2 < H)
                    fastlrn_w5g_rowsums(x + (i + 2) * xs0 + j0 - 2, ml, fl, hf[4], hd[4], 1);
                if (j0 == 0)    /* the first band brings the rows in (for the others too) */
                    for (u = 0; u < n + 2; u += 16)
                        FASTLRN_PREFETCH(x + (i + 2 + ahead) * xs0 + u);
                for (v = 0; v < FASTLRN_W5G_VECS; v++) {
                    sum = fastlrn_sum5f(hf[0][v], hf[1][v], hf[2][v], hf[3][v], hf[4][v]);
                    s0 = fastlrn_sum5d(hd[0][2 * v], hd[1][2 * v], hd[2][2 * v], hd[3][2 * v],
                                       hd[4][2 * v]);
                    s1 = fastlrn_sum5d(hd[0][2 * v + 1], hd[1][2 * v + 1], hd[2][2 * v + 1],
                                       hd[3][2 * v + 1], hd[4][2 * v + 1]);
                    xv = FL_LOADX(mv[v], fv[v], x + i * xs0 + j0 + FASTLRN_SIMD * v);
                    tier = FL_LE(sum, fhi);
                    out = fl_series_pw(tier, sum, s0, s1, xv, &K, &P);
                    mx = FL_MAXU(mx, mv[v], FL_BITS(sum));
                    FL_STOREX(y + i * ys0 + j0 + FASTLRN_SIMD * v, mv[v], fv[v], out);
                }
                for (r = 0; r < 4; r++) {
                    for (v = 0; v < FASTLRN_W5G_VECS; v++)
                        hf[r][v] = hf[r + 1][v];
                    for (u = 0; u < 2 * FASTLRN_W5G_VECS; u++)
                        hd[r][u] = hd[r + 1][u];
                }
            }
        }
        return FL_RMAXU(mx) >= fastlrn_fix_hi(vhi);
    }
    /* fastlrn_w5g_strip for strips beyond the float tier: the power step
       alone, while every window of a vector has a double box sum above
       fastlrn_tier_edge(hi) (none in the tier: a 5 x 5 box's 25 squares
       rarely sum near the edge on such data). Stops at the first vector
       with a lane that may be in the tier: *done is then the first column
       of its band (the caller does the bands from there by
       fastlrn_w5g_strip), else n. Returns how many elements need_fix. */
    static ptrdiff_t fastlrn_w5p_strip(const float* x, ptrdiff_t xs0, float* y, ptrdiff_t ys0,
                                       ptrdiff_t H, ptrdiff_t n, ptrdiff_t first, ptrdiff_t last,
                                       float hi, const fastlrn_pw* W, double vlo, double vhi,
                                       ptrdiff_t* done) {
        const ptrdiff_t ahead = fastlrn_w5_ahead(xs0);
        fl_pwv P;
        const fl_d zd = FL_DSET1(0.0), dlo = FL_DSET1(vlo), dhi = FL_DSET1(vhi);
        const fl_d dsure = FL_DSET1(fastlrn_tier_edge(hi));
        fl_v hf[1], xv;     /* hf: rowsums' float part, not formed here */
        fl_d hd[5][2], s0, s1;
        fl_m ml[2], mv;
        int fl[2], fv;      /* every lane in ml, mv */
        unsigned mb;
        ptrdiff_t reach, j0, i, row, bad = 0;
        int r, u;
        fl_pwv_set(&P, W);
        for (j0 = 0; j0 < n; j0 += FASTLRN_SIMD) {
            reach = n < j0 + FASTLRN_SIMD + 2 ? n : j0 + FASTLRN_SIMD + 2;
            ml[0] = fl_lanes(j0 - 2, reach);
            ml[1] = fl_lanes(j0 - 2 + FASTLRN_SIMD, reach);
            fl[0] = fl_lanes_full(j0 - 2, reach);
            fl[1] = fl_lanes_full(j0 - 2 + FASTLRN_SIMD, reach);
            mv = fl_lanes(j0, n);
            mb = FL_MBITS(mv);
            fv = fl_lanes_full(j0, n);
            for (r = 0; r < 4; r++) {
                row = first - 2 + r;
                hd[r][0] = hd[r][1] = zd;
                if (row >= 0 && row < H)
                    fastlrn_w5g_rowsums(x + row * xs0 + j0 - 2, ml, fl, hf, hd[r], 0);
            }
            for (i = first; i < last; i++) {
                hd[4][0] = hd[4][1] = zd;
                if (i + 2 < H)
                    fastlrn_w5g_rowsums(x + (i + 2) * xs0 + j0 - 2, ml, fl, hf, hd[4], 0);
                if (j0 == 0)
                    for (u = 0; u < n + 2; u += 16)
                        FASTLRN_PREFETCH(x + (i + 2 + ahead) * xs0 + u);
                s0 = fastlrn_sum5d(hd[0][0], hd[1][0], hd[2][0], hd[3][0], hd[4][0]);
                s1 = fastlrn_sum5d(hd[0][1], hd[1][1], hd[2][1], hd[3][1], hd[4][1]);
                if ((fastlrn_above2(s0, s1, dsure) & mb) != mb) {
                    *done = j0;
                    return bad;
                }
                xv = FL_LOADX(mv, fv, x + i * xs0 + j0);
                bad += __builtin_popcount(fastlrn_outside2(s0, s1, dlo, dhi) & mb);
                FL_STOREX(y + i * ys0 + j0, mv, fv, fl_pw(s0, s1, xv, &P));
                for (r = 0; r < 4; r++) {
                    hd[r][0] = hd[r + 1][0];
                    hd[r][1] = hd[r + 1][1];
                }
            }
        }
        *done = n;
        return bad;
    }
    #else
    static ptrdiff_t fastlrn_w5g_strip(const float* x, ptrdiff_t xs0, float* y, ptrdiff_t ys0,
                                       ptrdiff_t H, ptrdiff_t n, ptrdiff_t first, ptrdiff_t last,
                                       ptrdiff_t jstart, float ts, float c1, float c2,
                                       float c3, float c4, float kh, float kl, float hi,
                                       const fastlrn_pw* W, double vlo, double vhi) { return -1; }
    static ptrdiff_t fastlrn_w5p_strip(const float* x, ptrdiff_t xs0, float* y, ptrdiff_t ys0,
                                       ptrdiff_t H, ptrdiff_t n, ptrdiff_t first, ptrdiff_t last,
                                       float hi, const fastlrn_pw* W, double vlo,
                                       double vhi, ptrdiff_t* done) { *done = 0; return 0; }
    static int fastlrn_w5_strip(const float* x, ptrdiff_t xs0, float* y, ptrdiff_t ys0,
                                ptrdiff_t H, ptrdiff_t n, ptrdiff_t first, ptrdiff_t last,
                                float ts, float c1, float c2, float c3, float c4,
                                float kh, float kl, uint32_t hib) { return 0; }
    #endif
    """
    bint w5_strip "fastlrn_w5_strip"(const float* x, Py_ssize_t xs0, float* y, Py_ssize_t ys0,
                                     Py_ssize_t H, Py_ssize_t n, Py_ssize_t first,
                                     Py_ssize_t last, float ts, float c1, float c2, float c3,
                                     float c4, float kh, float kl, uint32_t hib) noexcept nogil
    Py_ssize_t w5g_strip "fastlrn_w5g_strip"(const float* x, Py_ssize_t xs0, float* y,
                                             Py_ssize_t ys0, Py_ssize_t H, Py_ssize_t n,
                                             Py_ssize_t first, Py_ssize_t last,
                                             Py_ssize_t jstart, float ts, float c1, float c2,
                                             float c3, float c4, float kh, float kl, float hi,
                                             const PowF* W, double vlo, double vhi) noexcept nogil
    Py_ssize_t w5p_strip "fastlrn_w5p_strip"(const float* x, Py_ssize_t xs0, float* y,
                                             Py_ssize_t ys0, Py_ssize_t H, Py_ssize_t n,
                                             Py_ssize_t first, Py_ssize_t last, float hi,
                                             const PowF* W, double vlo, double vhi,
                                             Py_ssize_t* done) noexcept nogil


cdef inline bint w5_general(const float* x, float* y, const Plane* G, const Params* P,
                            idx_t first, idx_t last) noexcept nogil:
    """A 5 x 5 strip (as within2d_f32's) where some window left the float tier:
    each element by its own formula in one pass (fastlrn_w5g_strip), the power
    step alone while no window is near the tier (fastlrn_w5p_strip: W4's shape
    x 10, AVX-512, 1 thread, 1.58 -> 1.35 ns/element). False if the power step
    is off or some element needs_fix (the caller redoes the strip)."""
    cdef const SeriesF* F = &P.sf
    cdef idx_t L = G.shape[1], H = G.shape[0], jdone, bad
    if not P.pw_ok:
        return False
    bad = w5p_strip(x, G.xs[0], y, G.ys[0], H, L, first, last, F.hi, &P.pw, P.vlo_fast,
                    P.vhi_fast, &jdone)
    if jdone < L:
        bad += w5g_strip(x, G.xs[0], y, G.ys[0], H, L, first, last, jdone, F.ts, F.c1, F.c2,
                         F.c3, F.c4, F.kh, F.kl, F.hi, &P.pw, P.vlo_fast, P.vhi_fast)
    return bad == 0


cdef bint within2d_f32(const float* x, float* y, const Plane* G, const Params* P,
                       float* h, float* v, idx_t first, idx_t last, int* general) noexcept nogil:
    """A two-axis strip of float32 data in the float tier, rows along the last axis
    contiguous in x and y, x not y: True if done, False if some window sum left the
    tier (the caller then does the strip by within_plane_f32, which x still allows).

    The bits of within_plane_f32 (the same sums in the same order), in blocks of
    about F32_WITHIN_BLOCK elements: the last-axis sums of the rows a block's
    windows reach (each row once, into h), then the block's output rows from
    their rows of h and x, so that h, x and y stay in L1. h has lo0 rows of
    zeros before the strip's rows and hi0 after them: every output row sums
    lo0 + hi0 + 1 rows of h, and the zeros added to a clipped window's sum
    (sums of squares, >= +0 or NaN) leave its bits as they are, so a block
    of rows contiguous in x and y goes as one long row. h holds strip rows +
    lo0 + hi0 rows; v a block (for windows other than five rows).

    5 x 5 windows in the AVX-512 build go by fastlrn_w5_strip instead (no
    scratch): on W4's shape 0.55x the time of the blocks of rows at 1
    thread (2.29x -> 1.35x a copy), 0.66x at 2 threads, 0.57x in cache
    (same process, medians of 7 rounds; the same bits).

    In both builds a 5 x 5 strip with some window outside the float tier
    goes to w5_general (False only if that needs_fix). In the AVX2 build
    the blocks of rows find that out, set general[0] (per thread) and the
    thread's later 5 x 5 strips go to w5_general first: on W4's shape x 10,
    1 thread, 6.27 -> 3.75 ns/element (0.70x without the flag).
    """
    cdef idx_t L = G.shape[1], H = G.shape[0]
    cdef idx_t xs0 = G.xs[0], ys0 = G.ys[0]
    cdef idx_t lo0 = G.lo[0], hi0 = G.hi[0], lo1 = G.lo[1], hi1 = G.hi[1]
    cdef idx_t m = lo0 + hi0 + 1
    cdef idx_t R = imax(1, F32_WITHIN_BLOCK // L)
    cdef idx_t i0, i1, t, done = imax(0, first - lo0), need
    cdef idx_t inside = 0
    cdef float* hz = h + lo0 * L      # row 0 of the strip
    cdef const float* rows[F32_SUM_TAPS]
    cdef const SeriesF* F = &P.sf
    cdef bint five = lo0 == 2 and hi0 == 2 and lo1 == 2 and hi1 == 2
    if SIMD == 8 and five and general[0] and w5_general(x, y, G, P, first, last):
        # AVX2, after a strip of this thread left the tier (the same bits as
        # the blocks of rows where those take it)
        return True
    if SIMD == 16 and five:
        # (AVX2 builds: no faster than the blocks of rows on W4's shape,
        # 1.05x their time; bands of 32 or 16 columns 1.46x; not used there)
        if w5_strip(x, xs0, y, ys0, H, L, first, last, F.ts, F.c1, F.c2, F.c3, F.c4,
                    F.kh, F.kl, F.hib):
            return True
        return w5_general(x, y, G, P, first, last)
    memset(h, 0, lo0 * L * sizeof(float))
    memset(hz + H * L, 0, hi0 * L * sizeof(float))
    if xs0 != L or ys0 != L:
        R = 1
    i0 = first
    while i0 < last:
        i1 = imin(last, i0 + R)
        need = imin(H, i1 + hi0)
        if need > done:
            f32_sq_rows(x, xs0, hz, done, need, L, lo1, hi1)
            done = need
        for t in range(m):
            rows[t] = hz + (i0 - lo0 + t) * L
        inside += f32_rows_series(rows, m, x + i0 * xs0, y + i0 * ys0, v, (i1 - i0) * L, &P.sf)
        i0 = i1
    if inside == (last - first) * L:
        return True
    if SIMD == 8 and five:
        # AVX2: the blocks of rows found a window outside the tier; the 5 x 5
        # strips give every element of the strip its own formula (x is not
        # y), and this thread's later strips go to them first
        general[0] = 1
        return w5_general(x, y, G, P, first, last)
    return False


cdef inline void finalize_span(const floating* xplane, const floating* xrow, floating* yrow,
                               idx_t ys, const double* v, idx_t j0, idx_t j1,
                               const Plane* G, const Params* P, idx_t flat0) noexcept nogil:
    """Elements j0 <= j < j1 of one row: x = xrow[j], window sum v[j], out yrow[j*ys].

    flat0 + j is element j's index in the plane xplane (for the safe path).
    """
    cdef idx_t j
    if finalize_row(xrow + j0, yrow + j0 * ys, ys, v + j0, j1 - j0, P):
        for j in range(j0, j1):
            if needs_fix(v[j], P):
                if needs_safe(v[j], P):
                    yrow[j * ys] = <floating>safe_finish(xrow[j], box_sumsq(xplane, G, flat0 + j), P)
                else:
                    yrow[j * ys] = <floating>double_value(xrow[j], v[j], P)


cdef void within_strip(const floating* x, floating* y, const Plane* G, const Strips* S,
                       idx_t st, const Params* P, floating* xp, double* A, double* tmp,
                       double* pad, double* comp, int* general) noexcept nogil:
    """Strip st of one plane (x, y at the plane's origin); locals per call, so per thread.

    The float tier carves its buffers (two strips, a padded line and
    lo0 + hi0 rows of floats) after xp (see within): within2d_f32's h (a
    strip and its zero rows) from the start, its v after them.
    """
    cdef Plane Gs
    cdef idx_t first, last
    cdef idx_t a0 = strip_plane(G, S, st, &Gs, &first, &last)
    cdef float* Af
    cdef const floating* xs = x + a0 * G.xs[0]
    cdef idx_t n = S.max_size, r, L = G.shape[G.d - 1]
    if floating is float:
        if P.f32s_ok:
            Af = xp + n
            if G.d == 2 and G.xs[1] == 1 and G.ys[1] == 1:
                if <const void*>x == <void*>y:
                    # in place (one strip per plane then, see within): the
                    # strip's values from a copy in xp, which the strip
                    # route below also reads them from if it must run
                    for r in range(Gs.shape[0]):
                        memcpy(xp + r * L, xs + r * Gs.xs[0], L * sizeof(floating))
                    xs = xp
                    Gs.xs[0] = L
                if within2d_f32(xs, y + a0 * G.ys[0], &Gs, P, Af,
                                Af + n + (G.lo[0] + G.hi[0]) * L, first, last, general):
                    return
            within_plane_f32(xs, y + a0 * G.ys[0], &Gs, P, xp, A, tmp, pad,
                             Af, Af + n, Af + 2 * n, first, last)
            return
    within_plane(x + a0 * G.xs[0], y + a0 * G.ys[0], &Gs, P, xp, A, tmp, pad, comp,
                 first, last, False)


cdef int within(const floating* x, floating* y, idx_t P1, idx_t P2,
                idx_t xs_p1, idx_t xs_p2, idx_t ys_p1, idx_t ys_p2,
                const Plane* G, Params P, int nthreads) noexcept nogil:
    cdef idx_t L = G.shape[G.d - 1]
    cdef idx_t padlen = L + G.lo[G.d - 1] + G.hi[G.d - 1]
    # per element: A, tmp, comp (doubles), xp (a value); the float tier adds
    # two floats per element, a padded line and lo0 + hi0 rows of floats
    # (within_strip)
    cdef idx_t f32 = 2 * sizeof(float) if (floating is float and P.f32s_ok) else 0
    cdef Strips S = plan_strips(G, G.lo[0], G.hi[0], 3 * sizeof(double) + sizeof(floating) + f32,
                                padlen * (sizeof(double) + f32 // 2))
    cdef idx_t nitems = P1 * P2 * S.n
    cdef idx_t item, pl, p1, p2
    cdef idx_t n = S.max_size
    cdef floating* xp = NULL
    cdef double* A = NULL
    cdef double* tmp = NULL
    cdef double* pad = NULL
    cdef double* comp = NULL
    cdef int failed = 0
    cdef int* fail = &failed
    cdef int* general = NULL
    cdef idx_t nbytes = ((3 * n + padlen) * sizeof(double) + n * sizeof(floating)
                         + (2 * n + padlen + (G.lo[0] + G.hi[0]) * S.B) * (f32 // 2))
    if S.n > 1 and <const void*>x == <void*>y:
        # in place with planes split into strips: a strip would read its halo
        # rows after the neighbouring strip overwrote them
        return IN_PLACE_SPLIT
    with parallel(num_threads=nthreads):
        # one block: A, tmp, comp (strip doubles each), pad (padlen), xp (strip
        # values); the float tier: Af, tmpf (strip floats each), padf (padlen
        # floats) and lo0 + hi0 rows of floats (within2d_f32's zero rows);
        # then the thread's flag: a strip of its left the float tier
        # (within2d_f32; nbytes is a multiple of 4)
        A = <double*>scratch_get(nbytes + sizeof(int))
        if A == NULL:
            fail[0] = 1
        else:
            tmp = A + n
            comp = tmp + n if P.compensated else NULL
            pad = tmp + 2 * n
            xp = <floating*>(pad + padlen)
            general = <int*>(<char*>A + nbytes)
            general[0] = 0
            for item in prange(nitems, schedule="static"):
                pl = item // S.n
                p1 = pl // P2
                p2 = pl - p1 * P2
                within_strip(x + p1 * xs_p1 + p2 * xs_p2, y + p1 * ys_p1 + p2 * ys_p2,
                             G, &S, item - pl * S.n, &P, xp, A, tmp, pad, comp, general)
        scratch_put(A)
    return failed


def within_forward(bint is_double, size_t xaddr, size_t yaddr,
                   idx_t P1, idx_t P2, idx_t xs_p1, idx_t xs_p2, idx_t ys_p1, idx_t ys_p2,
                   shape, xstrides, ystrides, los, his,
                   double a, double beta, double k, int nthreads):
    """Within-channel LRN on planes (P1, P2) x spatial `shape`; strides in elements.

    los/his: the window per spatial axis, already clipped to the axis length - 1.
    Returns False, having written nothing, when y is x and the planes are split
    into strips (the caller then gives a separate output).
    """
    cdef Plane G
    cdef int failed
    cdef double taps = fill_plane(&G, shape, xstrides, ystrides, los, his)
    cdef Params P = make_params(a, beta, k, taps, not is_double)
    cdef idx_t ax, adds = 1
    if not is_double:
        # the float tier: each axis's window within F32_SUM_TAPS, and as many
        # float roundings in a sum as a window of F32_SUM_TAPS channels has
        for ax in range(G.d):
            adds += G.lo[ax] + G.hi[ax]
            if G.lo[ax] + G.hi[ax] + 1 > F32_SUM_TAPS:
                adds = F32_SUM_TAPS + 1
        enable_f32_series(&P, adds)
    with nogil:
        if is_double:
            failed = within[double](<const double*>xaddr, <double*>yaddr, P1, P2,
                                    xs_p1, xs_p2, ys_p1, ys_p2, &G, P, nthreads)
        else:
            failed = within[float](<const float*>xaddr, <float*>yaddr, P1, P2,
                                   xs_p1, xs_p2, ys_p1, ys_p2, &G, P, nthreads)
    if failed == IN_PLACE_SPLIT:
        return False
    if failed:
        raise MemoryError("fastlrn: could not allocate per-thread scratch")
    return True
