# Within channel, backward: the gradient on planes of d spatial axes.
# Both box sums (of x**2 over [i-lo, i+hi], and of g x s**-(beta+1) over the
# mirrored box [i-hi, i+lo]) are separable, one axis at a time.

cdef int within_bwd_plane(const floating* x, const floating* g, floating* dx,
                          const Plane* G, const Params* P,
                          floating* xp, floating* gp, double* A, double* Pp, double* Wp,
                          double* tmp, double* pad, double* comp,
                          idx_t first, idx_t last) noexcept nogil:
    """One plane or strip (halo of lo + hi rows each side); writes rows [first, last) of axis 0.

    The gradient at a row needs w on the rows of its mirrored window, and w
    there needs s, whose windows reach lo + hi rows beyond: within the strip.
    """
    cdef int d = G.d
    cdef idx_t L = G.shape[d - 1]
    cdef idx_t nrows = G.size // L
    cdef idx_t r, j, n = G.size
    cdef const floating* src
    cdef double t
    cdef double c2ab = 2.0 * P.a * P.beta
    cdef idx_t xs_l = G.xs[d - 1], gs_l = G.gs[d - 1]
    cdef long double* buf
    cdef double* S
    cdef idx_t r0, r1, rps
    cdef int bad
    # 1. gather x (values, squares) and g
    for r in range(nrows):
        src = x + row_offset(G, r, G.xs)
        for j in range(L):
            xp[r * L + j] = src[j * xs_l]
        for j in range(L):
            t = xp[r * L + j]
            A[r * L + j] = t * t
        src = g + row_offset(G, r, G.gs)
        for j in range(L):
            gp[r * L + j] = src[j * gs_l]
    # 2. s from the box sums of squares; q = s**-(beta+1); w = g x q; p = q s
    S = box_sum(A, tmp, pad, comp, G, G.lo, G.hi)
    bad = bwd_row(xp, gp, S, n, P, Pp, Wp)
    # 3. the mirrored box sums of w (the plane S is free again), then dx row by row
    S = box_sum(Wp, tmp if S == A else A, pad, comp, G, G.hi, G.lo)
    if d == 1:      # one line: its output segment
        bad |= bwd_out(xp + first, gp + first, Pp + first, S + first, dx + first * G.ys[0],
                       G.ys[0], last - first, c2ab)
        r0, r1 = 0, 0
    else:
        rps = nrows // G.shape[0]
        r0, r1 = first * rps, last * rps
        if d == 2 and G.ys[1] == 1 and G.ys[0] == L:
            # contiguous output rows: all of the strip's as one span
            bad |= bwd_out(xp + r0 * L, gp + r0 * L, Pp + r0 * L, S + r0 * L, dx + r0 * L,
                           1, (r1 - r0) * L, c2ab)
        else:
            for r in range(r0, r1):
                bad |= bwd_out(xp + r * L, gp + r * L, Pp + r * L, S + r * L,
                               dx + row_offset(G, r, G.ys), G.ys[d - 1], L, c2ab)
    if not bad:
        return 0
    buf = <long double*>malloc(3 * n * sizeof(long double))
    if buf == NULL:
        return -1
    for j in range(n):
        buf[j] = xp[j]
        buf[n + j] = gp[j]
    if safe_backward_ld(buf, buf + n, buf + 2 * n, n, d, G.shape, G.lo, G.hi, P) != 0:
        free(buf)
        return -1
    if d == 1:
        for j in range(first, last):
            dx[j * G.ys[0]] = <floating>buf[2 * n + j]
    for r in range(r0, r1):
        for j in range(L):
            (dx + row_offset(G, r, G.ys))[j * G.ys[d - 1]] = <floating>buf[2 * n + r * L + j]
    free(buf)
    return 0


cdef int within_bwd_strip(const floating* x, const floating* g, floating* dx,
                          const Plane* G, const Strips* S, idx_t st, const Params* P,
                          floating* xp, floating* gp, double* A, double* Pp, double* Wp,
                          double* tmp, double* pad, double* comp) noexcept nogil:
    """Strip st of one plane (x, g, dx at the plane's origin); locals per call, so per thread."""
    cdef Plane Gs
    cdef idx_t first, last
    cdef idx_t a0 = strip_plane(G, S, st, &Gs, &first, &last)
    return within_bwd_plane(x + a0 * G.xs[0], g + a0 * G.gs[0], dx + a0 * G.ys[0], &Gs, P,
                            xp, gp, A, Pp, Wp, tmp, pad, comp, first, last)


cdef int within_bwd(const floating* x, const floating* g, floating* dx, idx_t P1, idx_t P2,
                    idx_t xs_p1, idx_t xs_p2, idx_t gs_p1, idx_t gs_p2,
                    idx_t ys_p1, idx_t ys_p2, const Plane* G, Params P,
                    int nthreads) noexcept nogil:
    cdef idx_t padlen = G.shape[G.d - 1] + G.lo[G.d - 1] + G.hi[G.d - 1]
    cdef idx_t halo = G.lo[0] + G.hi[0]
    cdef Strips S = plan_strips(G, halo, halo, 5 * sizeof(double) + 2 * sizeof(floating),
                                padlen * sizeof(double))
    cdef idx_t nitems = P1 * P2 * S.n
    cdef idx_t item, pl, p1, p2
    cdef idx_t n = S.max_size
    cdef double* A = NULL
    cdef double* Pp = NULL
    cdef double* Wp = NULL
    cdef double* tmp = NULL
    cdef double* comp = NULL
    cdef double* pad = NULL
    cdef floating* xp = NULL
    cdef floating* gp = NULL
    cdef int failed = 0
    cdef int* fail = &failed
    if S.n > 1 and (<const void*>x == <void*>dx or <const void*>g == <void*>dx):
        return IN_PLACE_SPLIT     # as in within (forward)
    with parallel(num_threads=nthreads):
        # one block: A, Pp, Wp, tmp, comp (strip doubles each), pad, xp, gp (strip values each)
        A = <double*>scratch_get((5 * n + padlen) * sizeof(double) + 2 * n * sizeof(floating))
        if A == NULL:
            fail[0] = 1
        else:
            Pp = A + n
            Wp = Pp + n
            tmp = Wp + n
            comp = tmp + n if P.compensated else NULL
            pad = tmp + 2 * n
            xp = <floating*>(pad + padlen)
            gp = xp + n
            for item in prange(nitems, schedule="static"):
                pl = item // S.n
                p1 = pl // P2
                p2 = pl - p1 * P2
                if within_bwd_strip(x + p1 * xs_p1 + p2 * xs_p2, g + p1 * gs_p1 + p2 * gs_p2,
                                    dx + p1 * ys_p1 + p2 * ys_p2, G, &S, item - pl * S.n, &P,
                                    xp, gp, A, Pp, Wp, tmp, pad, comp) != 0:
                    fail[0] = 1
        scratch_put(A)
    return failed


def within_backward(bint is_double, size_t xaddr, size_t gaddr, size_t yaddr,
                    idx_t P1, idx_t P2, idx_t xs_p1, idx_t xs_p2, idx_t gs_p1, idx_t gs_p2,
                    idx_t ys_p1, idx_t ys_p2, shape, xstrides, gstrides, ystrides, los, his,
                    double a, double beta, double k, int nthreads):
    """Within-channel LRN gradient on planes (P1, P2) x spatial `shape`; strides in elements.

    Returns False, having written nothing, when dx is x or dy and the planes
    are split into strips (see within_forward).
    """
    cdef Plane G
    cdef double taps = fill_plane(&G, shape, xstrides, ystrides, los, his)
    cdef int ax, failed
    for ax in range(G.d):
        G.gs[ax] = gstrides[ax]
    cdef Params P = make_bwd_params(a, beta, k, taps, not is_double)
    with nogil:
        if is_double:
            failed = within_bwd[double](<const double*>xaddr, <const double*>gaddr, <double*>yaddr,
                                        P1, P2, xs_p1, xs_p2, gs_p1, gs_p2, ys_p1, ys_p2,
                                        &G, P, nthreads)
        else:
            failed = within_bwd[float](<const float*>xaddr, <const float*>gaddr, <float*>yaddr,
                                       P1, P2, xs_p1, xs_p2, gs_p1, gs_p2, ys_p1, ys_p2,
                                       &G, P, nthreads)
    if failed == IN_PLACE_SPLIT:
        return False
    if failed:
        raise MemoryError("fastlrn: could not allocate scratch memory")
    return True
