# Within channel, forward: planes of d spatial axes, box sums one axis at a time.

# ---------------------------------------------------------------- within
# Layout (P1, P2, S_1 .. S_d): planes (batch x channel) of d spatial axes.
# Each plane is gathered into scratch (values and squares), the box sum is
# formed one axis at a time in place, then each row along the last spatial
# axis is finalised. Cost per element: (sum over axes of taps) adds, not
# size**d.

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
    cdef double* S
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
    # 2. box sums of the squares, one axis at a time
    S = box_sum(A, tmp, pad, comp, G, G.lo, G.hi)
    # 3. finalise each row
    for r in range(nrows):
        yrow = y + row_offset(G, r, G.ys)
        arow = S + r * L
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
            for pl in prange(nplanes, schedule="static"):
                p1 = pl // P2
                p2 = pl - p1 * P2
                within_plane(x + p1 * xs_p1 + p2 * xs_p2, y + p1 * ys_p1 + p2 * ys_p2,
                             G, &P, xp, A, tmp, pad, comp)
        scratch_put(A)
    return failed


def within_forward(bint is_double, size_t xaddr, size_t yaddr,
                   idx_t P1, idx_t P2, idx_t xs_p1, idx_t xs_p2, idx_t ys_p1, idx_t ys_p2,
                   shape, xstrides, ystrides, los, his,
                   double a, double beta, double k, int nthreads):
    """Within-channel LRN on planes (P1, P2) x spatial `shape`; strides in elements.

    los/his: the window per spatial axis, already clipped to the axis length - 1.
    """
    cdef Plane G
    cdef int failed
    cdef double taps = fill_plane(&G, shape, xstrides, ystrides, los, his)
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
