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


cdef inline bint f32_bwd_pw_row(const float** xr, idx_t m, const float* x, const float* g,
                                float* v, float* p, float* w, idx_t n,
                                const SeriesB* B) noexcept nogil:
    """p and w of one row from the m rows of values of its window (xr); False if it leaves the tier.

    The window sums are the rows' float squares summed in order (one loop
    with the rest for five rows); v is scratch.
    """
    if m == 5:
        return f32_bwd_row5(xr, x, g, p, w, n, B)
    f32_rows_sumsq(xr, m, v, n)
    return f32_bwd_row(x, g, v, p, w, n, B)


cdef inline void f32_bwd_dx_row(const float** wr, idx_t m, const float* x, const float* gp,
                                float* v, float* dx, idx_t ys, idx_t n, float c2ab) noexcept nogil:
    """dx[j*ys] = g p - 2 a beta x W (one fma) for one row, gp = g p from f32_bwd_point and
    W the sum of the m rows wr (the mirrored window).

    For five rows and contiguous dx, W is summed in the same loop (the same
    order as f32_rows_sum); v is scratch.
    """
    cdef idx_t j
    cdef const float* w0
    cdef const float* w1
    cdef const float* w2
    cdef const float* w3
    cdef const float* w4
    if m == 5 and ys == 1:
        w0, w1, w2, w3, w4 = wr[0], wr[1], wr[2], wr[3], wr[4]
        for j in range(n):
            dx[j] = fma32(-(c2ab * x[j]), (((w0[j] + w1[j]) + w2[j]) + w3[j]) + w4[j], gp[j])
        return
    f32_rows_sum(wr, m, v, n)
    if ys == 1:
        for j in range(n):
            dx[j] = fma32(-(c2ab * x[j]), v[j], gp[j])
    else:
        for j in range(n):
            dx[j * ys] = fma32(-(c2ab * x[j]), v[j], gp[j])


cdef bint across_bwd_tile_f32(const float* x, const float* g, float* dx,
                              idx_t C, idx_t w, idx_t T,
                              idx_t xs_c, idx_t xs_i, idx_t gs_c, idx_t gs_i, idx_t ys_c, idx_t ys_i,
                              idx_t lo, idx_t hi, const Params* P,
                              float* xb, float* gb, float* pb, float* wb,
                              float* v) noexcept nogil:
    """One tile by the gradient's float tier; False (nothing written) if it does not apply.

    First every row's p and w, checking that the whole tile is in the tier;
    only then the mirrored sums and dx, so a tile that leaves the tier is
    redone by the double route from untouched x and dy, even in place.
    Values are read from x and dy, or (strided, in place) from copies of
    all C rows in xb, gb.
    """
    cdef idx_t c, i, m, first, nxt = 0
    cdef const float* rows[BWD_F32_TAPS]
    cdef bint direct = (xs_i == 1 and gs_i == 1 and <const void*>dx != <const void*>x
                        and <const void*>dx != <const void*>g)
    cdef const float* xv = x if direct else xb      # row c at xv + c * xr
    cdef const float* gv = g if direct else gb
    cdef idx_t xr = xs_c if direct else T
    cdef idx_t gr = gs_c if direct else T
    for c in range(C):
        while nxt < C and nxt <= c + hi:
            if nxt + PREFETCH_ROWS < C:
                # 2 C row streams: far more than the hardware prefetcher follows
                if xs_i == 1:
                    prefetch_row(x + (nxt + PREFETCH_ROWS) * xs_c, w * sizeof(float))
                if gs_i == 1:
                    prefetch_row(g + (nxt + PREFETCH_ROWS) * gs_c, w * sizeof(float))
            if not direct:
                copy_row_f(x + nxt * xs_c, xs_i, w, xb + nxt * T)
                copy_row_f(g + nxt * gs_c, gs_i, w, gb + nxt * T)
            nxt += 1
        first = imax(0, c - lo)
        m = imin(C - 1, c + hi) - first + 1
        for i in range(m):
            rows[i] = xv + (first + i) * xr
        if not f32_bwd_pw_row(rows, m, xv + c * xr, gv + c * gr, v, pb + c * T, wb + c * T,
                              w, &P.bf):
            return False
    for c in range(C):
        # the mirrored window [c - hi, c + lo]
        first = imax(0, c - hi)
        m = imin(C - 1, c + lo) - first + 1
        for i in range(m):
            rows[i] = wb + (first + i) * T
        f32_bwd_dx_row(rows, m, xv + c * xr, pb + c * T, v, dx + c * ys_c, ys_i, w, P.bf.c2ab)
    return True


cdef extern from *:
    """
    /* f32_bwd_fused2 in the AVX-512 and AVX2 builds: the same arithmetic
       per element in the same order, a vector of columns at a time, a
       masked last vector, the range tests as unsigned max/min reductions of
       the bits (f32_bwd_track). pf: if not NULL, the rows the next pair
       reads new (x rows r + 4, r + 5, dy rows r + 2, r + 3: pf[0..3]) are
       prefetched into L2 a vector at a time, as fastlrn_q5x4 does for the
       forward. */
    #if FASTLRN_SIMD
    typedef struct { fl_v ts, kb, c1, c2, c3, c4, a, k, c2ab; } fl_sb;
    /* f32_bwd_point lane by lane: *gp = dy p, *w = (dy x) q */
    static inline void fl_bwd_point(fl_v v, fl_v x, fl_v g, const fl_sb* S, fl_v* gp, fl_v* w) {
        fl_v t = FL_MUL(S->ts, v), c, q;
        c = FL_FMA(FL_FMA(FL_FMA(S->c4, t, S->c3), t, S->c2), t, S->c1);
        c = FL_MUL(c, t);
        q = FL_FMA(S->kb, c, S->kb);
        *gp = FL_MUL(g, FL_MUL(q, FL_FMA(S->a, v, S->k)));
        *w = FL_MUL(FL_MUL(g, x), q);
    }
    static int fastlrn_bwd_fused2(const float* const* xr, const float* ga, const float* gb,
                                  float* pa, float* pb, float* wa, float* wb,
                                  const float* const* wr, const float* gpc, const float* gpd,
                                  float* dc, float* dd, ptrdiff_t n,
                                  float ts, float kb, float c1, float c2, float c3, float c4,
                                  float a, float k, float c2ab, uint32_t hib, uint32_t ghib,
                                  uint32_t glob1, const float* const* pf) {
        const float *p0 = xr[0], *p1 = xr[1], *p2 = xr[2], *p3 = xr[3], *p4 = xr[4], *p5 = xr[5];
        const float *w0 = wr[0], *w1 = wr[1], *w2 = wr[2], *w3 = wr[3];
        const fl_vi absm = FL_SET1I(0x7FFFFFFF), one = FL_SET1I(1);
        const fl_v sign = FL_SET1(-0.0f);
        const fl_m all = fl_lanes(0, FASTLRN_SIMD);
        fl_vi vmax = FL_ZEROI(), gmax = vmax, gmin1 = FL_SET1I(-1);
        fl_sb S;
        ptrdiff_t j;
        S.ts = FL_SET1(ts); S.kb = FL_SET1(kb); S.c1 = FL_SET1(c1);
        S.c2 = FL_SET1(c2); S.c3 = FL_SET1(c3); S.c4 = FL_SET1(c4);
        S.a = FL_SET1(a); S.k = FL_SET1(k); S.c2ab = FL_SET1(c2ab);
        /* full vectors, then the row's last (full: whether m has every lane) */
        #define FASTLRN_BWD2_STEP(m, full) do { \
            fl_v a0, a1, a2, a3, a4, a5, va, vb, gva, gvb, gpa, gpb, wva, wvb, b1, b2, b3, f; \
            fl_vi u; \
            if (pf != NULL) { \
                _mm_prefetch((const char*)(pf[0] + j), _MM_HINT_T1); \
                _mm_prefetch((const char*)(pf[1] + j), _MM_HINT_T1); \
                _mm_prefetch((const char*)(pf[2] + j), _MM_HINT_T1); \
                _mm_prefetch((const char*)(pf[3] + j), _MM_HINT_T1); \
            } \
            a0 = FL_LOADX(m, full, p0 + j); a1 = FL_LOADX(m, full, p1 + j); \
            a2 = FL_LOADX(m, full, p2 + j); a3 = FL_LOADX(m, full, p3 + j); \
            a4 = FL_LOADX(m, full, p4 + j); a5 = FL_LOADX(m, full, p5 + j); \
            gva = FL_LOADX(m, full, ga + j); gvb = FL_LOADX(m, full, gb + j); \
            va = fl_sumsq5(a0, a1, a2, a3, a4); \
            vb = fl_sumsq5(a1, a2, a3, a4, a5); \
            /* f32_bwd_track, lanes out of m left out */ \
            vmax = FL_MAXU(vmax, m, FL_BITS(va)); \
            vmax = FL_MAXU(vmax, m, FL_BITS(vb)); \
            u = FL_ANDI(FL_BITS(gva), absm); \
            gmax = FL_MAXU(gmax, m, u); \
            gmin1 = FL_MINU(gmin1, m, FL_SUBI(u, one)); \
            u = FL_ANDI(FL_BITS(gvb), absm); \
            gmax = FL_MAXU(gmax, m, u); \
            gmin1 = FL_MINU(gmin1, m, FL_SUBI(u, one)); \
            fl_bwd_point(va, a2, gva, &S, &gpa, &wva); \
            fl_bwd_point(vb, a3, gvb, &S, &gpb, &wvb); \
            FL_STOREX(pa + j, m, full, gpa); \
            FL_STOREX(pb + j, m, full, gpb); \
            FL_STOREX(wa + j, m, full, wva); \
            FL_STOREX(wb + j, m, full, wvb); \
            b1 = FL_LOADX(m, full, w1 + j); b2 = FL_LOADX(m, full, w2 + j); \
            b3 = FL_LOADX(m, full, w3 + j); \
            /* dc = fma(-(c2ab x(c)), (((w0 + b1) + b2) + b3) + wva, gp(c)) */ \
            f = FL_XOR(FL_MUL(S.c2ab, a0), sign); \
            FL_STOREX(dc + j, m, full, FL_FMA(f, FL_ADD(FL_ADD(FL_ADD(FL_ADD( \
                FL_LOADX(m, full, w0 + j), b1), b2), b3), wva), FL_LOADX(m, full, gpc + j))); \
            f = FL_XOR(FL_MUL(S.c2ab, a1), sign); \
            FL_STOREX(dd + j, m, full, FL_FMA(f, FL_ADD(FL_ADD(FL_ADD(FL_ADD(b1, b2), b3), \
                wva), wvb), FL_LOADX(m, full, gpd + j))); \
        } while (0)
        for (j = 0; j + FASTLRN_SIMD <= n; j += FASTLRN_SIMD)
            FASTLRN_BWD2_STEP(all, 1);
        if (j < n)
            FASTLRN_BWD2_STEP(fl_lanes(j, n), 0);
        #undef FASTLRN_BWD2_STEP
        return (FL_RMAXU(vmax) <= hib) & (FL_RMAXU(gmax) <= ghib) & (FL_RMINU(gmin1) >= glob1);
    }
    #else
    static int fastlrn_bwd_fused2(const float* const* xr, const float* ga, const float* gb,
                                  float* pa, float* pb, float* wa, float* wb,
                                  const float* const* wr, const float* gpc, const float* gpd,
                                  float* dc, float* dd, ptrdiff_t n,
                                  float ts, float kb, float c1, float c2, float c3, float c4,
                                  float a, float k, float c2ab, uint32_t hib, uint32_t ghib,
                                  uint32_t glob1, const float* const* pf) { return 0; }
    #endif
    """
    bint bwd_fused2 "fastlrn_bwd_fused2"(const float** xr, const float* ga, const float* gb,
                                         float* pa, float* pb, float* wa, float* wb,
                                         const float** wr, const float* gpc, const float* gpd,
                                         float* dc, float* dd, Py_ssize_t n, float ts, float kb,
                                         float c1, float c2, float c3, float c4, float a,
                                         float k, float c2ab, uint32_t hib, uint32_t ghib,
                                         uint32_t glob1, const float** pf) noexcept nogil


cdef extern from *:
    """
    /* The gradient's double route for float32 data in one pass (AVX-512 and
       AVX2 builds): across_bwd_tile's passes (the squares in double, the
       window sums v, bwd_row's power step q of beta + 1, p = q s and
       w = (g x) q, the mirrored sums W of w, dx = g p - (c2ab x) W) over one
       tile of C channel rows of n columns, walked down the rows. Step c
       forms the squares of row c + hi, v, g p and w of row c, and dx of
       row c - lo - 1, whose mirrored window ends at row c - 1: every w it
       adds is in memory, so dx's chain does not wait on this step's power
       step. Where the window is all K = lo + hi + 1 rows, v is pv + the
       new square, pv (the window's first K - 1 terms, in order) formed the
       step before from the squares then in the ring, so v's additions are
       not in the power step's chain either. (With dx of row c - lo and v
       summed in the step, each vector was one chain: the window's
       additions, the power step, then the mirrored sum's last term;
       llvm-mca, Zen 3, size 11: 122 cycles a vector, 90% of them waiting
       on register dependencies, 40 by the ports alone.) Rings of rows of n
       doubles (fastlrn_bwdg_stride(n) apart), row r in slot r mod the
       ring's rows: the squares min(K, C) rows, g p and w min(K + 1, C)
       each (a mirrored window and the row being written), pv two (the one
       read, the one written). The
       same IEEE operations in the same order per element as the row
       passes, so the same bits; rows a vector at a time, their last
       columns by the scalar forms. pf: x and dy rows FASTLRN_BWDG_PF rows
       ahead prefetched into L2 a vector at a time. Returns 0 as soon as a
       row has a window sum outside [vlo, vhi] (the power step's range; dx
       is then partly written and the caller redoes the tile by the row
       passes), else 1. */
    #define FASTLRN_BWDG_TAPS 32
    #define FASTLRN_BWDG_PF 4
    #ifndef FASTLRN_BWDG_COLS
    #define FASTLRN_BWDG_COLS 1024
    #endif
    /* the doubles from one ring row to the next for rows of n columns: a
       whole number of 64-byte lines, and an odd one, so that rows 4096
       bytes apart (whose loads wait on stores to another row: the same
       low 12 address bits) are 64 rows apart. Rows of 256 columns (2048
       bytes apart before), AVX2, 1 thread: TensorFlow's parameters 0.70x
       the time, x 10 data 0.96x; 169 columns (not line-aligned before)
       0.89x / 0.91x */
    static inline ptrdiff_t fastlrn_bwdg_stride(ptrdiff_t n) {
        return ((n + 7) / 8 | 1) * 8;
    }
    /* the doubles of fastlrn_bwd_tileg's rings for windows of K channels
       in C, tiles of at most n columns */
    static inline ptrdiff_t fastlrn_bwdg_ring_size(ptrdiff_t K, ptrdiff_t C, ptrdiff_t n) {
        return ((K < C ? K : C) + 2 * (K + 1 < C ? K + 1 : C) + 2) * fastlrn_bwdg_stride(n);
    }
    #if FASTLRN_SIMD
    /* one step's rows (fastlrn_bwd_tileg) */
    typedef struct {
        const float *xn, *xc, *gc, *xo, *pfx, *pfg;
        double *sqn, *gpc, *wc, *pvo;
        const double *gpo, *pvi;
        float* dxo;
        const double* sp[FASTLRN_BWDG_TAPS];
        const double* wp[FASTLRN_BWDG_TAPS];
    } fastlrn_bwdg;
    /* the columns [j, j + FASTLRN_SIMD) of one step: the squares of row cn
       (dosq), dx of row co (mo rows in the mirrored window; dod), v, g p
       and w of row c (m rows in its window; dop); pv 1: v = pv + the new
       square, 2: v summed, and both write the next row's pv (m = K >= 3);
       lanes outside the range added to *out. Always inlined, so that
       constant m, mo, pv and flags unroll the sums. */
    static FASTLRN_ALWAYS_INLINE void fastlrn_bwdg_vec(const fastlrn_bwdg* S, ptrdiff_t j,
                                                     int dosq, int dop, int dod, ptrdiff_t m,
                                                     ptrdiff_t mo, int pv, const fl_pwv* P,
                                                     fl_d dlo, fl_d dhi, fl_d c2,
                                                     unsigned* out) {
        /* the newest square (row cn, where dosq) is added from the
           registers that hold it, not loaded again from the store just
           made: the last, overlapping vector would load across two stores,
           which cannot forward ((64, 96, 13, 13), 169 columns: 1.17x the
           row passes' time) */
        const ptrdiff_t ms = dosq ? m - 1 : m;
        ptrdiff_t i;
        fl_d s0 = FL_DSET1(0.0), s1 = s0;
        if (S->pfx != NULL) _mm_prefetch((const char*)(S->pfx + j), _MM_HINT_T1);
        if (S->pfg != NULL) _mm_prefetch((const char*)(S->pfg + j), _MM_HINT_T1);
        if (dosq) {
            const fl_v a = FL_LOAD(S->xn + j);
            s0 = fastlrn_sq_lo(a); s1 = fastlrn_sq_hi(a);
            FL_DSTORE(S->sqn + j, s0);
            FL_DSTORE(S->sqn + j + FL_DW, s1);
        }
        if (dod) {
            const fl_v xv = FL_LOAD(S->xo + j);
            fl_d w0 = FL_DLOAD(S->wp[0] + j), w1 = FL_DLOAD(S->wp[0] + j + FL_DW);
            for (i = 1; i < mo; i++) {
                w0 = FL_DADD(w0, FL_DLOAD(S->wp[i] + j));
                w1 = FL_DADD(w1, FL_DLOAD(S->wp[i] + j + FL_DW));
            }
            w0 = FL_DSUB(FL_DLOAD(S->gpo + j), FL_DMUL(FL_DMUL(c2, FL_DLO(xv)), w0));
            w1 = FL_DSUB(FL_DLOAD(S->gpo + j + FL_DW), FL_DMUL(FL_DMUL(c2, FL_DHI(xv)), w1));
            FL_STORE(S->dxo + j, FL_FROMD(w0, w1));
        }
        if (dop) {
            fl_d v0 = s0, v1 = s1, q0, q1, g0, g1, wn0, wn1;
            fl_v q, xv, gv;
            if (pv == 1) {
                v0 = FL_DADD(FL_DLOAD(S->pvi + j), s0);
                v1 = FL_DADD(FL_DLOAD(S->pvi + j + FL_DW), s1);
            } else if (ms > 0) {
                v0 = FL_DLOAD(S->sp[0] + j); v1 = FL_DLOAD(S->sp[0] + j + FL_DW);
                for (i = 1; i < ms; i++) {
                    v0 = FL_DADD(v0, FL_DLOAD(S->sp[i] + j));
                    v1 = FL_DADD(v1, FL_DLOAD(S->sp[i] + j + FL_DW));
                }
                if (dosq) { v0 = FL_DADD(v0, s0); v1 = FL_DADD(v1, s1); }
            }
            if (pv) {
                /* the next row's pv: this window's last K - 1 terms */
                fl_d p0 = FL_DLOAD(S->sp[1] + j), p1 = FL_DLOAD(S->sp[1] + j + FL_DW);
                for (i = 2; i < ms; i++) {
                    p0 = FL_DADD(p0, FL_DLOAD(S->sp[i] + j));
                    p1 = FL_DADD(p1, FL_DLOAD(S->sp[i] + j + FL_DW));
                }
                FL_DSTORE(S->pvo + j, FL_DADD(p0, s0));
                FL_DSTORE(S->pvo + j + FL_DW, FL_DADD(p1, s1));
            }
            q = fl_pw_q(v0, v1, P);
            xv = FL_LOAD(S->xc + j);
            gv = FL_LOAD(S->gc + j);
            q0 = FL_DLO(q); q1 = FL_DHI(q);
            g0 = FL_DLO(gv); g1 = FL_DHI(gv);
            wn0 = FL_DMUL(FL_DMUL(g0, FL_DLO(xv)), q0);
            wn1 = FL_DMUL(FL_DMUL(g1, FL_DHI(xv)), q1);
            FL_DSTORE(S->wc + j, wn0);
            FL_DSTORE(S->wc + j + FL_DW, wn1);
            FL_DSTORE(S->gpc + j, FL_DMUL(g0, FL_DMUL(q0, FL_DADD(P->k, FL_DMUL(P->a, v0)))));
            FL_DSTORE(S->gpc + j + FL_DW,
                      FL_DMUL(g1, FL_DMUL(q1, FL_DADD(P->k, FL_DMUL(P->a, v1)))));
            *out |= fastlrn_outside2(v0, v1, dlo, dhi);
        }
    }
    /* a step's row of n >= FASTLRN_SIMD columns as whole vectors, the last
       one overlapping the one before where n is not a multiple (its
       columns computed again give the same values: every value here is a
       function of its own column, and no row it reads is one it writes) */
    static FASTLRN_ALWAYS_INLINE void fastlrn_bwdg_row(const fastlrn_bwdg* S, ptrdiff_t n,
                                                     int dosq, int dop, int dod, ptrdiff_t m,
                                                     ptrdiff_t mo, int pv, const fl_pwv* P,
                                                     fl_d dlo, fl_d dhi, fl_d c2,
                                                     unsigned* out) {
        ptrdiff_t j;
        for (j = 0; j + FASTLRN_SIMD <= n; j += FASTLRN_SIMD)
            fastlrn_bwdg_vec(S, j, dosq, dop, dod, m, mo, pv, P, dlo, dhi, c2, out);
        if (j < n)
            fastlrn_bwdg_vec(S, n - FASTLRN_SIMD, dosq, dop, dod, m, mo, pv, P, dlo, dhi, c2,
                             out);
    }
    /* rows narrower than a vector: the scalar forms (v always summed, pv
       neither read nor written) */
    static void fastlrn_bwdg_row1(const fastlrn_bwdg* S, ptrdiff_t n, int dosq, int dop,
                                  int dod, ptrdiff_t m, ptrdiff_t mo, const fastlrn_pw* W,
                                  double vlo, double vhi, double c2ab, unsigned* out) {
        ptrdiff_t i, j;
        for (j = 0; j < n; j++) {
            if (dosq) {
                const double t = S->xn[j];
                S->sqn[j] = t * t;
            }
            if (dod) {
                double t = S->wp[0][j];
                for (i = 1; i < mo; i++) t = t + S->wp[i][j];
                S->dxo[j] = (float)(S->gpo[j] - c2ab * (double)S->xo[j] * t);
            }
            if (dop) {
                double v = S->sp[0][j], p, w;
                for (i = 1; i < m; i++) v = v + S->sp[i][j];
                fastlrn_bwd_pw1(S->xc[j], S->gc[j], v, W, &p, &w);
                S->wc[j] = w;
                S->gpc[j] = (double)S->gc[j] * p;
                *out |= !(v >= vlo && v <= vhi);
            }
        }
    }
    static int fastlrn_bwdg_piece(const float* x, ptrdiff_t xs, const float* g, ptrdiff_t gs,
                                  float* dx, ptrdiff_t ys, ptrdiff_t C, ptrdiff_t n,
                                  ptrdiff_t lo, ptrdiff_t hi, double* ring,
                                  const fastlrn_pw* W, double vlo, double vhi, double c2ab,
                                  int pf) {
        const ptrdiff_t K = lo + hi + 1, R = K < C ? K : C, Rw = K + 1 < C ? K + 1 : C;
        const ptrdiff_t ns = fastlrn_bwdg_stride(n);
        double* const sq = ring;
        double* const gp = sq + R * ns;
        double* const wr = gp + Rw * ns;
        double* const pvr = wr + Rw * ns;
        const fl_d dlo = FL_DSET1(vlo), dhi = FL_DSET1(vhi), c2 = FL_DSET1(c2ab);
        fastlrn_bwdg S;
        fl_pwv P;
        ptrdiff_t c, i, m, mo, r0;
        int pv;
        memset(&S, 0, sizeof(S));
        fl_pwv_set(&P, W);
        for (c = -hi; c <= C + lo; c++) {
            const ptrdiff_t cn = c + hi, cv = c - lo, co = c - lo - 1;
            const int dosq = cn < C, dop = c >= 0 && c < C, dod = co >= 0;
            unsigned out = 0;
            m = mo = 0;
            pv = 0;
            if (dosq) {
                S.xn = x + cn * xs;
                S.sqn = sq + cn % R * ns;
            }
            S.pfx = pf && cn + FASTLRN_BWDG_PF < C ? x + (cn + FASTLRN_BWDG_PF) * xs : NULL;
            S.pfg = NULL;
            if (dop) {
                /* v's window [max(0, cv), min(C - 1, cn)] */
                S.xc = x + c * xs;
                S.gc = g + c * gs;
                S.gpc = gp + c % Rw * ns;
                S.wc = wr + c % Rw * ns;
                if (pf && c + FASTLRN_BWDG_PF < C) S.pfg = g + (c + FASTLRN_BWDG_PF) * gs;
                r0 = cv > 0 ? cv : 0;
                m = (cn < C ? cn : C - 1) - r0 + 1;
                for (i = 0; i < m; i++) S.sp[i] = sq + (r0 + i) % R * ns;
                if (K >= 3 && cv >= 0 && cn < C) {
                    /* all K rows (rows lo .. C - 1 - hi): pv from the step
                       before but in the first of them */
                    pv = cv > 0 ? 1 : 2;
                    S.pvi = pvr + (c & 1) * ns;
                    S.pvo = pvr + ((c + 1) & 1) * ns;
                }
            }
            if (dod) {
                /* the mirrored window [max(0, co - hi), min(C - 1, c - 1)] */
                S.xo = x + co * xs;
                S.gpo = gp + co % Rw * ns;
                S.dxo = dx + co * ys;
                r0 = co - hi > 0 ? co - hi : 0;
                mo = (c - 1 < C - 1 ? c - 1 : C - 1) - r0 + 1;
                for (i = 0; i < mo; i++) S.wp[i] = wr + (r0 + i) % Rw * ns;
            }
            if (n < FASTLRN_SIMD)
                fastlrn_bwdg_row1(&S, n, dosq, dop, dod, m, mo, W, vlo, vhi, c2ab, &out);
            else if (pv == 1 && dod && mo == K && K == 5)
                fastlrn_bwdg_row(&S, n, 1, 1, 1, 5, 5, 1, &P, dlo, dhi, c2, &out);
            else if (pv == 1 && dod && mo == K && K == 11)
                fastlrn_bwdg_row(&S, n, 1, 1, 1, 11, 11, 1, &P, dlo, dhi, c2, &out);
            else if (pv == 1 && dod && mo == K)
                fastlrn_bwdg_row(&S, n, 1, 1, 1, m, mo, 1, &P, dlo, dhi, c2, &out);
            else
                fastlrn_bwdg_row(&S, n, dosq, dop, dod, m, mo, pv, &P, dlo, dhi, c2, &out);
            if (out) return 0;
        }
        return 1;
    }
    /* the tile in pieces of at most FASTLRN_BWDG_COLS columns, each walked
       down the C rows; ring: fastlrn_bwdg_ring_size(lo + hi + 1, C, n)
       doubles */
    static int fastlrn_bwd_tileg(const float* x, ptrdiff_t xs, const float* g, ptrdiff_t gs,
                                 float* dx, ptrdiff_t ys, ptrdiff_t C, ptrdiff_t n,
                                 ptrdiff_t lo, ptrdiff_t hi, double* ring,
                                 const fastlrn_pw* W, double vlo, double vhi, double c2ab,
                                 int pf) {
        const ptrdiff_t np = (n + FASTLRN_BWDG_COLS - 1) / FASTLRN_BWDG_COLS;
        ptrdiff_t i, j0, j1;
        for (i = 0; i < np; i++) {
            j0 = n * i / np;
            j1 = n * (i + 1) / np;
            if (!fastlrn_bwdg_piece(x + j0, xs, g + j0, gs, dx + j0, ys, C, j1 - j0, lo, hi,
                                    ring, W, vlo, vhi, c2ab, pf))
                return 0;
        }
        return 1;
    }
    #else
    static int fastlrn_bwd_tileg(const float* x, ptrdiff_t xs, const float* g, ptrdiff_t gs,
                                 float* dx, ptrdiff_t ys, ptrdiff_t C, ptrdiff_t n,
                                 ptrdiff_t lo, ptrdiff_t hi, double* ring,
                                 const fastlrn_pw* W, double vlo, double vhi, double c2ab,
                                 int pf) { return 0; }
    #endif
    """
    enum: BWDG_TAPS "FASTLRN_BWDG_TAPS"
    Py_ssize_t bwdg_ring_size "fastlrn_bwdg_ring_size"(Py_ssize_t K, Py_ssize_t C,
                                                       Py_ssize_t n) noexcept nogil
    bint bwd_tileg "fastlrn_bwd_tileg"(const float* x, Py_ssize_t xs, const float* g,
                                       Py_ssize_t gs, float* dx, Py_ssize_t ys, Py_ssize_t C,
                                       Py_ssize_t n, Py_ssize_t lo, Py_ssize_t hi, double* ring,
                                       const PowF* W, double vlo, double vhi, double c2ab,
                                       int pf) noexcept nogil


cdef bint across_bwd_ring_f32(const float* x, const float* g, float* dx,
                              idx_t C, idx_t w, idx_t T,
                              idx_t xs_c, idx_t gs_c, idx_t ys_c, idx_t ys_i,
                              idx_t lo, idx_t hi, idx_t R, const Params* P,
                              float* pr, float* wr, float* v) noexcept nogil:
    """The float tier in one pass over a block (x, dy contiguous along it, dx neither).

    Rings of R rows of dy p and w (R = the window's rows + 1), two rows a
    step: rows r, r + 1 of dy p and w from the rows of x up to r + 1 + hi,
    then output rows r - lo, r + 1 - lo, whose w up to r + 1 is in. For
    size-5 windows away from the ends both halves of a step are one loop
    (f32_bwd_fused2; W7's shape, kernel alone, 1 thread: 1.24 -> 0.93
    ns/element with dy p kept instead of p); other rows go one at a time
    through the row functions of across_bwd_tile_f32, and the fused loop
    does the same arithmetic per element, so the same bits. False as soon
    as a row leaves the tier (dx then partly written: the caller redoes
    the block). The AVX-512 and AVX2 builds take fastlrn_bwd_fused2 for
    the fused loop: W7's shape AVX-512 0.78x the time at 1 thread (2.70x ->
    2.11x a copy of x), 0.80x at 2, AVX2 0.85x at 1 (same process).
    """
    cdef idx_t r, r2, c, i, m, first
    cdef const float* rows[BWD_F32_TAPS]
    cdef const float* wrows[4]
    cdef const float* pfr[4]
    # whole planes lying end to end (w == xs_c, gs_c) are sequential sweeps
    # that the hardware prefetcher follows; narrower blocks prefetch rows
    cdef bint pf = w != xs_c or w != gs_c
    r = 0
    while r < C + lo:
        # rows r, r + 1 of dy p and w, then rows r - lo, r + 1 - lo of dx
        r2 = imin(r + 2, C + lo)
        if pf:
            for c in range(r, imin(r2, C)):
                if c + hi + PREFETCH_ROWS < C:
                    prefetch_row(x + (c + hi + PREFETCH_ROWS) * xs_c, w * sizeof(float))
                    prefetch_row(g + (c + hi + PREFETCH_ROWS) * gs_c, w * sizeof(float))
        if r2 - r == 2 and lo == 2 and hi == 2 and r >= 4 and r + 3 < C and ys_i == 1:
            # interior pair, size 5: p, w and dx in one loop (f32_bwd_fused2)
            c = r - 2
            for i in range(6):
                rows[i] = x + (r - 2 + i) * xs_c
            for i in range(4):
                wrows[i] = wr + ((r - 4 + i) % R) * T
            if SIMD:
                # whole planes: the next pair's new rows prefetched (narrower
                # blocks prefetch rows ahead above)
                pfr[0] = x + (r + 4) * xs_c
                pfr[1] = x + (r + 5) * xs_c
                pfr[2] = g + (r + 2) * gs_c
                pfr[3] = g + (r + 3) * gs_c
                if not bwd_fused2(rows, g + r * gs_c, g + (r + 1) * gs_c, pr + (r % R) * T,
                                  pr + ((r + 1) % R) * T, wr + (r % R) * T,
                                  wr + ((r + 1) % R) * T, wrows, pr + (c % R) * T,
                                  pr + ((c + 1) % R) * T, dx + c * ys_c, dx + (c + 1) * ys_c,
                                  w, P.bf.ts, P.bf.kb, P.bf.c1, P.bf.c2, P.bf.c3, P.bf.c4,
                                  P.bf.a, P.bf.k, P.bf.c2ab, P.bf.hib, P.bf.ghib, P.bf.glob1,
                                  pfr if not pf and r + 5 < C else NULL):
                    return False
                r = r2
                continue
            if not f32_bwd_fused2(rows, g + r * gs_c, g + (r + 1) * gs_c, pr + (r % R) * T,
                                  pr + ((r + 1) % R) * T, wr + (r % R) * T,
                                  wr + ((r + 1) % R) * T, wrows, pr + (c % R) * T,
                                  pr + ((c + 1) % R) * T, dx + c * ys_c, dx + (c + 1) * ys_c,
                                  w, &P.bf):
                return False
            r = r2
            continue
        for c in range(r, imin(r2, C)):
            first = imax(0, c - lo)
            m = imin(C - 1, c + hi) - first + 1
            for i in range(m):
                rows[i] = x + (first + i) * xs_c
            if not f32_bwd_pw_row(rows, m, x + c * xs_c, g + c * gs_c, v, pr + (c % R) * T,
                                  wr + (c % R) * T, w, &P.bf):
                return False
        for c in range(imax(0, r - lo), imin(r2 - lo, C)):
            # the mirrored window [c - hi, c + lo]
            first = imax(0, c - hi)
            m = imin(C - 1, c + lo) - first + 1
            for i in range(m):
                rows[i] = wr + ((first + i) % R) * T
            f32_bwd_dx_row(rows, m, x + c * xs_c, pr + (c % R) * T, v, dx + c * ys_c, ys_i,
                           w, P.bf.c2ab)
        r = r2
    return True


cdef inline bint bwdg_applies(idx_t xs_i, idx_t gs_i, idx_t ys_i, idx_t lo, idx_t hi,
                              const void* x, const void* g, const void* dx,
                              const Params* P) noexcept nogil:
    """Whether float32 tiles outside the gradient's float tier take bwd_tileg:
    a vector build, the power step on, x, dy and dx contiguous along the
    tile, dx neither x nor dy, and windows of at most BWDG_TAPS channels."""
    return (SIMD and P.pw_ok and xs_i == 1 and gs_i == 1 and ys_i == 1 and dx != x and dx != g
            and lo + hi + 1 <= BWDG_TAPS)


cdef int across_bwd_planar(const floating* x, const floating* g, floating* dx,
                           idx_t n_outer, idx_t C, idx_t n_inner,
                           idx_t xs_o, idx_t xs_c, idx_t xs_i,
                           idx_t gs_o, idx_t gs_c, idx_t gs_i,
                           idx_t ys_o, idx_t ys_c, idx_t ys_i,
                           idx_t lo, idx_t hi, Params P, int nthreads) noexcept nogil:
    """The gradient on planar blocks.

    Routes: the double route on tiles of Td columns; for float32 with the
    float tier on, tiles of T columns each take the float tier if all of
    the tile is in it (across_bwd_tile_f32), else the double route; when x
    and dy are contiguous and dx is neither, blocks of Tr columns (whole
    planes where they fit, else whole tiles) go through the rings of
    across_bwd_ring_f32 first and fall back tile by tile. A tile's route
    depends only on its own values, and the tiles are the same in every
    case, so the result does not depend on which of these ran.
    """
    cdef idx_t T = bwd_tile_width(C, n_inner)
    cdef idx_t Td = T                  # the double route's width
    cdef idx_t R = imin(lo + hi + 1, C)
    cdef idx_t Rr = imin(lo + hi + 2, C)  # the rings' rows: a window and the pair's second row
    cdef idx_t Tr = 0                  # the rings' width (0: no rings)
    cdef idx_t B, per_outer, nblocks
    cdef idx_t blk, o, i0
    cdef size_t nbytes
    cdef double* block = NULL
    cdef double* gring = NULL
    cdef size_t ring_off = 0
    cdef bint onepass = False          # float32 tiles outside the tier take bwd_tileg
    cdef int failed = 0
    cdef int* fail = &failed
    if floating is float:
        onepass = bwdg_applies(xs_i, gs_i, ys_i, lo, hi, <const void*>x, <const void*>g,
                               <const void*>dx, &P)
        if P.f32b_ok:
            T = bwd_f32_tile_width(C, R, n_inner)
            if (xs_i == 1 and gs_i == 1 and <const void*>dx != <const void*>x
                    and <const void*>dx != <const void*>g):
                Tr = balance_width(bwd_ring_width(Rr, T, n_inner), n_inner, n_outer,
                                   nthreads, T)
        elif onepass:
            # no float tier (windows of more than BWD_F32_TAPS channels): the
            # tiles are only the grain of bwd_tileg's fallback, as wide as
            # the float tier's
            T = bwd_f32_tile_width(C, R, n_inner)
    B = Tr if Tr > 0 else T
    per_outer = (n_inner + B - 1) // B
    nblocks = n_outer * per_outer
    # one block: the double route's sq, pb, wb (C*Td doubles each), v, comp
    # (Td each), xb, gb (C*Td values each); the float tier's xb, gb, pb, wb
    # (C*T floats each), v (T); the rings' p, w (R*Tr floats each) and v (Tr)
    nbytes = (3 * C * Td + 2 * Td) * sizeof(double) + 2 * C * Td * sizeof(floating)
    if floating is float:
        if P.f32b_ok:
            nbytes += (4 * C * T + T + 2 * Rr * Tr + Tr) * sizeof(float)
        if onepass:
            # the one-pass double route's rings (bwd_tileg) after the rest,
            # from the first 64-byte boundary
            ring_off = nbytes
            nbytes += bwdg_ring_size(lo + hi + 1, C, T) * sizeof(double) + 64
    with parallel(num_threads=nthreads):
        block = <double*>scratch_get(nbytes)
        if block == NULL:
            fail[0] = 1
        else:
            gring = NULL
            if onepass:
                gring = <double*>((<size_t>block + ring_off + 63) // 64 * 64)
            for blk in prange(nblocks, schedule="static"):
                o = blk // per_outer
                i0 = (blk - o * per_outer) * B
                if bwd_planar_block(x + o * xs_o + i0 * xs_i, g + o * gs_o + i0 * gs_i,
                                    dx + o * ys_o + i0 * ys_i, C, imin(B, n_inner - i0),
                                    T, Td, Tr, Rr, xs_c, xs_i, gs_c, gs_i, ys_c, ys_i,
                                    lo, hi, &P, block, gring) != 0:
                    fail[0] = 1
        scratch_put(block)
    return failed


cdef int bwd_planar_block(const floating* x, const floating* g, floating* dx,
                          idx_t C, idx_t w, idx_t T, idx_t Td, idx_t Tr, idx_t R,
                          idx_t xs_c, idx_t xs_i, idx_t gs_c, idx_t gs_i, idx_t ys_c, idx_t ys_i,
                          idx_t lo, idx_t hi, const Params* P, double* block,
                          double* gring) noexcept nogil:
    """One block of w columns: the rings if Tr, else (or if they fail) tile by tile; -1 if out of memory."""
    cdef float* rb
    cdef idx_t j0
    if floating is float:
        if Tr > 0:
            rb = <float*>(<floating*>(block + 3 * C * Td + 2 * Td) + 2 * C * Td) + 4 * C * T + T
            if across_bwd_ring_f32(x, g, dx, C, w, Tr, xs_c, gs_c, ys_c, ys_i, lo, hi, R, P,
                                   rb, rb + R * Tr, rb + 2 * R * Tr):
                return 0
    j0 = 0
    while j0 < w:
        if bwd_planar_tile(x + j0 * xs_i, g + j0 * gs_i, dx + j0 * ys_i, C, imin(T, w - j0),
                           T, Td, R, xs_c, xs_i, gs_c, gs_i, ys_c, ys_i, lo, hi, P, block,
                           gring) != 0:
            return -1
        j0 += T
    return 0


cdef int bwd_planar_tile(const floating* x, const floating* g, floating* dx,
                         idx_t C, idx_t w, idx_t T, idx_t Td, idx_t R,
                         idx_t xs_c, idx_t xs_i, idx_t gs_c, idx_t gs_i, idx_t ys_c, idx_t ys_i,
                         idx_t lo, idx_t hi, const Params* P, double* block,
                         double* gring) noexcept nogil:
    """One tile by the float tier where it applies, else by the double route: in
    one pass (bwd_tileg, gring its rings) where it applies and no window sum
    leaves the power step's range, else in pieces of at most Td columns
    (columns are independent across channels, so the pieces give the same
    bits as one piece would); -1 if out of memory."""
    cdef double* v = block + 3 * C * Td
    cdef floating* xb = <floating*>(v + 2 * Td)
    cdef float* fb
    cdef idx_t j0
    if floating is float:
        if P.f32b_ok:
            fb = <float*>(xb + 2 * C * Td)
            if across_bwd_tile_f32(x, g, dx, C, w, T, xs_c, xs_i, gs_c, gs_i, ys_c, ys_i,
                                   lo, hi, P, fb, fb + C * T, fb + 2 * C * T, fb + 3 * C * T,
                                   fb + 4 * C * T):
                return 0
        if gring != NULL:
            if bwd_tileg(x, xs_c, g, gs_c, dx, ys_c, C, w, lo, hi, gring, &P.pw, P.vlo_pw,
                         P.vhi_pw, 2.0 * P.a * P.beta, w != xs_c or w != gs_c):
                return 0
    j0 = 0
    while j0 < w:
        if across_bwd_tile(x + j0 * xs_i, g + j0 * gs_i, dx + j0 * ys_i, C, imin(Td, w - j0), Td,
                           xs_c, xs_i, gs_c, gs_i, ys_c, ys_i, lo, hi, P,
                           xb, xb + C * Td, block, block + C * Td, block + 2 * C * Td,
                           v, v + Td if P.compensated else NULL) != 0:
            return -1
        j0 += Td
    return 0


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
    if not is_double and not lines:
        enable_f32_backward(&P, lo + hi + 1)
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
