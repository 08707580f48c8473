"""The float tier of float32 across-channel LRN (enable_f32_series in _common.pxd).

For windows of at most 16 channels, float32 data take window sums of float
squares in float and the low series tier in float arithmetic, by fused
multiply-adds. Elements whose float sum lies outside that tier get the double
formulas. These tests pin down what that route promises beyond the 4 ulp
contract: (1) results are within 1 ulp and nearly always the correctly
rounded ones on typical data; (2) the route an element takes depends only on its
own window, so the planar (NCHW) and channels-last kernels, in place or not,
strided or not, give the same bits whatever the mix of tiers in a row.
"""

import numpy as np
import pytest

import fastlrn
from _util import assert_backward_close, assert_ulp, expected, expected_backward, ulp_error

ALEXNET = dict(size=5, alpha=1e-4, beta=0.75, k=2.0)


@pytest.mark.parametrize("beta", [0.5, 0.6, 0.75, 1.0, 2.0, 3.0])
@pytest.mark.parametrize("k", [1.0, 2.0, 0.7])
def test_within_one_ulp_and_rarely_off_on_typical_data(rng, beta, k):
    # Window sums of standard normal data put t = a*v/k near 5e-4: every
    # element takes the float tier. The float64 reference rounded to float32
    # is the correctly rounded result except within ~1e-16 of a tie.
    x = rng.standard_normal((4, 64, 13, 17)).astype(np.float32)
    params = dict(size=5, alpha=1e-4, beta=beta, k=k)
    y = fastlrn.lrn(x, **params)
    err = ulp_error(y, expected(x, **params))
    assert err.max() <= 1
    # An error d (relative) in c = (1 + t)**-beta - 1, which is about beta*t,
    # moves y by d*|c|: with d of a few float ulps (mostly the float window
    # sum) a fraction of about beta*t*(a few) of the elements round the other
    # way. Measured on this data: 7e-5 (beta 0.5, k 2) to 1.6e-3 (beta 3,
    # k 0.7); 4e-3 leaves room for other data, not for a lost bit (kb
    # without its low part kl alone would put about a quarter of them off).
    assert np.mean(err > 0) <= 4e-3, f"{np.mean(err > 0):.2e} not correctly rounded"


def _mixed(rng, shape):
    """Data whose windows fall in the float tier, the double tiers, and the safe path."""
    x = rng.standard_normal(shape).astype(np.float32)
    scale = rng.choice(np.array([1.0, 1.0, 1.0, 30.0, 300.0, 1e20, 1e-30], np.float32), shape)
    x = x * scale
    flat = x.reshape(-1)
    n = flat.size
    picks = rng.choice(n, size=8, replace=False)
    flat[picks[:2]] = np.nan
    flat[picks[2]] = np.inf
    flat[picks[3]] = -np.inf
    flat[picks[4]] = -0.0
    flat[picks[5]] = 3e38
    flat[picks[6]] = 1e-45
    return x


@pytest.mark.parametrize("size", [1, 2, 4, 5, 6, 9, 16, 17, 22])
def test_planar_and_channels_last_agree_bit_for_bit(rng, size):
    x = _mixed(rng, (3, 20, 7, 9))
    params = dict(size=size, alpha=3e-3, beta=0.75, k=1.5)
    with np.errstate(all="ignore"):
        nchw = fastlrn.lrn(x, **params)
        xt = np.ascontiguousarray(np.moveaxis(x, 1, -1))
        nhwc = fastlrn.lrn(xt, channel_axis=-1, **params)
        np.testing.assert_array_equal(np.moveaxis(nhwc, -1, 1), nchw)
        # in place (the planar kernel keeps its rows in scratch) and strided
        buf = x.copy()
        fastlrn.lrn(buf, out=buf, **params)
        np.testing.assert_array_equal(buf, nchw)
        wide = np.zeros((3, 20, 7, 18), np.float32)
        wide[..., ::2] = x
        np.testing.assert_array_equal(fastlrn.lrn(wide[..., ::2], **params), nchw)
        bufl = xt.copy()
        fastlrn.lrn(bufl, out=bufl, channel_axis=-1, **params)
        np.testing.assert_array_equal(np.moveaxis(bufl, -1, 1), nchw)
    finite = np.isfinite(x)
    assert_ulp(nchw[:, :, finite.all(axis=1).all(axis=0)],
               expected(x, **params)[:, :, finite.all(axis=1).all(axis=0)], **params)


# Size-5 windows across NCHW planes with contiguous output rows: four channel
# rows per loop (in the AVX-512 and AVX2 builds fastlrn_q5x4: masked last
# vector, counts of the elements in the tier, the next rows prefetched while
# 9 channels remain), read from x, or in place from a ring of eight rows;
# an output strided along the plane takes one row at a time. Plane sizes
# around the 16-lane vectors, channel counts around the quads' ends, and
# rows with elements outside the tier, bit for bit.
@pytest.mark.parametrize("plane", [(1, 1), (3, 5), (4, 4), (1, 17), (9, 7), (8, 8), (5, 13),
                                   (27, 27)])
@pytest.mark.parametrize("C", [5, 8, 9, 10, 13, 14, 17])
def test_across_size5_quads_agree_with_single_rows(rng, plane, C):
    x = rng.standard_normal((2, C) + plane).astype(np.float32)
    x[1, C // 2, 0, -1] = 1e4           # rows C//2 - 2 .. C//2 + 2 leave the tier there
    x[0, C - 1, -1, 0] = np.nan
    params = dict(size=5, alpha=1e-4, beta=0.75, k=2.0)
    got = fastlrn.lrn(x, **params)
    buf = x.copy()
    fastlrn.lrn(buf, out=buf, **params)
    np.testing.assert_array_equal(buf, got)
    rows = np.empty(x.shape[:-1] + (2 * x.shape[-1],), np.float32)[..., ::2]
    fastlrn.lrn(x, out=rows, **params)
    np.testing.assert_array_equal(rows, got)
    np.testing.assert_array_equal(fastlrn.lrn(x, num_threads=2, **params), got)
    ref = expected(x, **params)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
    finite = np.isfinite(ref)
    assert_ulp(got[finite], ref[finite], **params)


# Channels last, lines end to end, out of place: tiles of whole lines (about
# 4096 elements) as one long row, each line's first and last channels summed
# again without the neighbouring lines' values.
@pytest.mark.parametrize("C, size", [(96, 5), (20, 5), (20, 3), (33, 6), (16, 16), (5, 5)])
@pytest.mark.parametrize("where", ["first", "last"])
def test_channels_last_lines_are_local(rng, C, size, where):
    x = rng.standard_normal((2, 30, 17, C)).astype(np.float32)
    params = dict(size=size, alpha=1e-4, beta=0.75, k=2.0)
    clean = fastlrn.lrn(x, channel_axis=-1, **params)
    want = fastlrn.lrn(np.ascontiguousarray(np.moveaxis(x, -1, 1)), **params)
    np.testing.assert_array_equal(np.moveaxis(clean, -1, 1), want)
    spoiled = x.copy()
    pos = (1, 20, 9, 0 if where == "first" else C - 1)
    spoiled[pos] = 1e4            # its windows leave the tier
    got = fastlrn.lrn(spoiled, channel_axis=-1, **params)
    assert_ulp(got, expected(spoiled, channel_axis=-1, **params), **params)
    changed = got != clean
    assert changed[pos[:3]].any()
    changed[pos[:3]] = False      # only its own line may change
    assert not changed.any()
    buf = spoiled.copy()
    fastlrn.lrn(buf, out=buf, channel_axis=-1, **params)
    np.testing.assert_array_equal(buf, got)


# Channels last with C a multiple of the vector width and size 5, out of
# place: in the AVX-512 and AVX2 builds each line as C / 16 or C / 8 vectors,
# the window's neighbours by lane shifts across the vectors (fastlrn_lines5).
# Against NCHW and in place (other routes), bit for bit, with a value spoiled
# at the vectors' seams.
@pytest.mark.parametrize("C", [8, 16, 24, 32, 40, 48, 96, 128])
@pytest.mark.parametrize("channel", [0, 1, 14, 15, 16, 17, -2, -1])
@pytest.mark.parametrize("value", [3.0, 1e4, np.inf])
def test_channels_last_size5_vectors_agree_with_planar(rng, C, channel, value):
    x = rng.standard_normal((2, 5, 7, C)).astype(np.float32)
    x[1, 2, 3, channel % C] = value
    params = dict(size=5, alpha=1e-4, beta=0.75, k=2.0)
    got = fastlrn.lrn(x, channel_axis=-1, **params)
    want = fastlrn.lrn(np.ascontiguousarray(np.moveaxis(x, -1, 1)), **params)
    np.testing.assert_array_equal(np.moveaxis(got, -1, 1), want)
    buf = x.copy()
    fastlrn.lrn(buf, out=buf, channel_axis=-1, **params)
    np.testing.assert_array_equal(buf, got)
    ref = expected(x, channel_axis=-1, **params)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
    finite = np.isfinite(ref)
    assert_ulp(got[finite], ref[finite], **params)


@pytest.mark.parametrize("fraction", [0.0, 0.1, 0.6, 1.0])
def test_rows_with_any_share_of_elements_outside_the_tier(rng, fraction):
    # f32_finish fixes a row element by element when most of it is in the
    # float tier, and recomputes the row by the double route otherwise: both
    # must give each element its own formula's bits.
    x = rng.standard_normal((2, 12, 40, 40)).astype(np.float32)
    big = rng.random((2, 12, 40, 40)) < fraction
    x[big] *= 200.0
    y = fastlrn.lrn(x, **ALEXNET)
    xt = np.ascontiguousarray(np.moveaxis(x, 1, -1))
    yt = fastlrn.lrn(xt, channel_axis=-1, **ALEXNET)
    np.testing.assert_array_equal(np.moveaxis(yt, -1, 1), y)
    assert_ulp(y, expected(x, **ALEXNET), **ALEXNET)


def test_signed_zeros_and_signs(rng):
    # y has the sign of x, and -0 stays -0, also where k**-beta splits into
    # a negative low part (kl < 0).
    for k in (2.0, 3.0, 0.7, 1.3):
        x = rng.standard_normal((2, 9, 5, 5)).astype(np.float32)
        x[:, ::2] = -0.0
        x[:, 1::4] = 0.0
        y = fastlrn.lrn(x, size=5, alpha=1e-4, beta=0.75, k=k)
        np.testing.assert_array_equal(np.signbit(y), np.signbit(x))


# ---------------------------------------------------------------- the gradient's float tier
#
# float32 across (planar) with windows of up to 8 channels: a tile whose
# window sums are all in the low series tier and whose dy are all 0 or in
# [2**-40, 2**40] is computed in float (enable_f32_backward); other tiles in
# double. Out of place with contiguous x and dy the tiles are first tried
# as whole-plane blocks through rings; in place, or strided, tile by tile.
# A tile's route depends only on its values, so all of these agree.

# C = 12 and 5 taps make the float tier's tiles 3640 columns wide
# (bwd_f32_tile_width: 786432 // (16 C + 4 R + 4) rounded down to 8): an 80 x
# 80 plane holds two of them, columns [0, 3640) and [3640, 6400).
GRAD_SHAPE = (2, 12, 80, 80)
TILES = [(0, 3640), (3640, 6400)]


def _grad_case(rng):
    x = rng.standard_normal(GRAD_SHAPE).astype(np.float32)
    dy = rng.standard_normal(GRAD_SHAPE).astype(np.float32)
    return x, dy


@pytest.mark.parametrize("size", range(1, 11))
@pytest.mark.parametrize("beta", [0.5, 0.6, 0.75, 1.0, 2.0])
def test_gradient_float_tier_against_reference(rng, size, beta):
    x, dy = _grad_case(rng)
    params = dict(size=size, alpha=1e-4, beta=beta, k=2.0)
    got = fastlrn.lrn_backward(x, dy, **params)
    assert_backward_close(got, expected_backward(x, dy, **params), **params)


SPOILED = {"big x": (1, 1), "big dy": (0, 0), "tiny dy": (1, 1), "nan": (0, 0)}  # (outer, tile)


def _spoil(x, dy, which):
    """Put one tile (and only it) outside the float tier."""
    x, dy = x.copy(), dy.copy()
    flat_x = x.reshape(2, 12, -1)
    flat_g = dy.reshape(2, 12, -1)
    if which == "big x":        # window sums far outside the series tier
        flat_x[1, 5, 4000] = 300.0
    elif which == "big dy":     # dy above 2**40
        flat_g[0, 3, 100] = 1e13
    elif which == "tiny dy":    # a nonzero dy below 2**-40
        flat_g[1, 0, 6390] = 1e-20
    elif which == "nan":
        flat_x[0, 7, 3200] = np.nan
    return x, dy


@pytest.mark.parametrize("which", ["none", "big x", "big dy", "tiny dy", "nan"])
def test_gradient_routes_agree_bit_for_bit(rng, which):
    x, dy = _spoil(*_grad_case(rng), which)
    params = dict(size=5, alpha=1e-4, beta=0.75, k=2.0)
    with np.errstate(all="ignore"):
        want = fastlrn.lrn_backward(x, dy, num_threads=1, **params)      # rings, out of place
        for n in (2, 3):
            np.testing.assert_array_equal(fastlrn.lrn_backward(x, dy, num_threads=n, **params), want)
        xc = x.copy()                                                    # in place: tiles
        fastlrn.lrn_backward(xc, dy, out=xc, **params)
        np.testing.assert_array_equal(xc, want)
        gc = dy.copy()
        fastlrn.lrn_backward(x, gc, out=gc, **params)
        np.testing.assert_array_equal(gc, want)
        wide = np.zeros(GRAD_SHAPE[:3] + (160,), np.float32)             # strided x: tiles
        wide[..., ::2] = x
        np.testing.assert_array_equal(fastlrn.lrn_backward(wide[..., ::2], dy, **params), want)
    if which != "none":
        # The route is decided per tile: the other tiles keep the float
        # tier's bits, the spoiled one takes the double route, whose bits
        # differ in many places (not only in the spoiled windows).
        x0, dy0 = _grad_case(np.random.default_rng(7))
        xs, dys = _spoil(x0, dy0, which)
        a = fastlrn.lrn_backward(x0, dy0, **params).reshape(2, 12, -1)
        with np.errstate(all="ignore"):
            b = fastlrn.lrn_backward(xs, dys, **params).reshape(2, 12, -1)
        o, t = SPOILED[which]
        for oo in range(2):
            for tt, (lo, hi) in enumerate(TILES):
                differ = np.count_nonzero(a[oo, :, lo:hi] != b[oo, :, lo:hi])
                if (oo, tt) == (o, t):
                    assert differ > 1000, differ
                else:
                    assert differ == 0, (oo, tt, differ)
    ok = np.isfinite(want)
    ref = expected_backward(x, dy, **params)
    np.testing.assert_array_equal(ok, np.isfinite(ref))
    assert_backward_close(np.where(ok, want, 0), np.where(ok, ref, 0), **params)


def test_gradient_with_every_dy_tiny(rng):
    # Subnormal-sized dy everywhere: the float products would lose their
    # precision; every tile takes the double route and meets the bound.
    x, dy = _grad_case(rng)
    dy = (dy * np.float32(1e-41)).astype(np.float32)
    params = dict(size=5, alpha=1e-4, beta=0.75, k=2.0)
    got = fastlrn.lrn_backward(x, dy, **params)
    assert_backward_close(got, expected_backward(x, dy, **params), **params)


# ---------------------------------------------------------------- within channel
#
# float32 within channel takes the float tier when each axis's window is at
# most 16 long and the separable sum has at most 15 additions (5 x 5: 8).
# A strip with an element outside the tier is redone by the double route and
# its elements inside the tier get the float value again, so an element's
# bits depend only on its own window.

@pytest.mark.parametrize("shape, size", [((2, 3, 40, 37), 5), ((2, 3, 30), 7),
                                         ((1, 2, 9, 10, 11), 3), ((2, 3, 40, 37), 4)])
@pytest.mark.parametrize("where", ["middle", "row end", "row start"])
def test_within_float_tier_is_local(rng, shape, size, where):
    # At a row's end or start: the rows along the last axis are summed as one
    # long row and their ends summed again, so a value there must not reach
    # the neighbouring row's other end, next to it in memory.
    x = rng.standard_normal(shape).astype(np.float32)
    params = dict(size=size, alpha=1e-4, beta=0.75, k=2.0, region="within")
    clean = fastlrn.lrn(x, **params)
    assert_ulp(clean, expected(x, **params), **params)
    spoiled = x.copy()
    pos = tuple(n // 2 for n in shape)
    if where != "middle":
        pos = pos[:-1] + ((shape[-1] - 1) if where == "row end" else 0,)
    spoiled[pos] = 1e4            # its windows leave the tier
    got = fastlrn.lrn(spoiled, **params)
    assert_ulp(got, expected(spoiled, **params), **params)
    changed = got != clean
    # only outputs whose window can hold pos: the same plane, at most size//2
    # away along each axis (the window's exact ends for even sizes are
    # SPEC's business; this bound holds for both)
    r = size // 2
    allowed = np.zeros(shape, bool)
    sl = (pos[0], pos[1]) + tuple(slice(max(0, p - r), p + r + 1) for p in pos[2:])
    allowed[sl] = True
    assert changed[sl].any()
    assert not (changed & ~allowed).any()


# Two-axis planes with contiguous rows, out of place, go in blocks of rows
# (about 2048 elements: (130, 37) is three blocks, (3, 2500) a row per
# block); in place, strided elements and 3-D planes take the strip route.
@pytest.mark.parametrize("shape", [(2, 3, 40, 37), (1, 2, 130, 37), (1, 2, 3, 2500)])
@pytest.mark.parametrize("size", [5, 4, 2])
def test_within_routes_agree_bit_for_bit(rng, shape, size):
    x = rng.standard_normal(shape).astype(np.float32)
    x[0, 1, 2, 5] = 300.0          # one strip of one plane leaves the tier
    params = dict(size=size, alpha=1e-4, beta=0.75, k=2.0, region="within")
    want = fastlrn.lrn(x, **params)
    assert_ulp(want, expected(x, **params), **params)
    buf = x.copy()
    fastlrn.lrn(buf, out=buf, **params)
    np.testing.assert_array_equal(buf, want)
    outf = np.empty(x.shape, np.float32, order="F")
    fastlrn.lrn(x, out=outf, **params)
    np.testing.assert_array_equal(outf, want)
    wide = np.zeros(shape[:-1] + (2 * shape[-1],), np.float32)
    wide[..., ::2] = x
    np.testing.assert_array_equal(fastlrn.lrn(wide[..., ::2], **params), want)
    # rows apart in memory, each contiguous: x and out
    rows = np.zeros(shape[:-1] + (shape[-1] + 3,), np.float32)[..., :shape[-1]]
    rows[...] = x
    out = np.zeros(shape[:-1] + (shape[-1] + 5,), np.float32)[..., :shape[-1]]
    fastlrn.lrn(rows, out=out, **params)
    np.testing.assert_array_equal(out, want)
    for n in (1, 3):
        np.testing.assert_array_equal(fastlrn.lrn(x, num_threads=n, **params), want)


# Size-5 windows on two-axis planes (contiguous rows, out of place or in place)
# take, in the AVX-512 build, bands of 64 columns walked down the rows with
# masked loads and stores at the row's end (_within_forward.pxi,
# fastlrn_w5_strip; rows of up to 48 columns in one band of 1, 2 or 3
# vectors); other builds take the blocks of rows. Row lengths around
# the 16-lane vectors and the bands, planes of 1 to 6 rows, and
# planes split into strips (400 x 400), against the strip route (Fortran-order
# out) bit for bit and the reference.
@pytest.mark.parametrize("L", [1, 2, 3, 4, 5, 14, 15, 16, 17, 18, 30, 31, 32, 33, 34, 47, 48,
                               49, 50, 55,
                               62, 63, 64, 65, 66, 67, 79, 80, 81, 127, 128, 129, 130])
def test_within_size5_bands_agree_with_the_strip_route(rng, L):
    for H in (1, 2, 3, 4, 5, 6, 19):
        x = rng.standard_normal((2, 2, H, L)).astype(np.float32)
        params = dict(size=5, alpha=1e-4, beta=0.75, k=2.0, region="within")
        want = np.empty(x.shape, np.float32, order="F")
        fastlrn.lrn(x, out=want, **params)
        got = fastlrn.lrn(x, **params)
        np.testing.assert_array_equal(got, want, err_msg=f"H={H} L={L}")
        buf = x.copy()
        fastlrn.lrn(buf, out=buf, **params)
        np.testing.assert_array_equal(buf, want, err_msg=f"in place, H={H} L={L}")
        assert_ulp(got, expected(x, **params), **params)


@pytest.mark.parametrize("value", [np.inf, np.nan, 300.0, 1e30, -0.0])
@pytest.mark.parametrize("where", [(0, 0), (0, 69), (20, 33), (39, 0), (39, 69)])
def test_within_size5_bands_leave_the_tier_locally(rng, value, where):
    # An element outside the float tier sends its strip to the double route
    # (x intact): the result equals the strip route's, bit for bit, also for
    # the band's first and last columns and rows.
    x = rng.standard_normal((1, 3, 40, 70)).astype(np.float32)
    x[(0, 1) + where] = value
    params = dict(size=5, alpha=1e-4, beta=0.75, k=2.0, region="within")
    want = np.empty(x.shape, np.float32, order="F")
    fastlrn.lrn(x, out=want, **params)
    np.testing.assert_array_equal(fastlrn.lrn(x, **params), want)
    np.testing.assert_array_equal(fastlrn.lrn(x, num_threads=2, **params), want)
    ref = expected(x, **params)
    np.testing.assert_array_equal(np.isnan(want), np.isnan(ref))
    finite = np.isfinite(ref)
    assert_ulp(want[finite], ref[finite], **params)


def test_within_size5_bands_across_strip_seams(rng):
    # 400 x 400 float32 planes are split into strips with halo rows; each
    # strip's output rows are [first, last) of a taller strip plane.
    x = rng.standard_normal((1, 2, 400, 400)).astype(np.float32)
    params = dict(size=5, alpha=1e-4, beta=0.75, k=2.0, region="within")
    want = np.empty(x.shape, np.float32, order="F")
    fastlrn.lrn(x, out=want, **params)
    for n in (1, 2):
        np.testing.assert_array_equal(fastlrn.lrn(x, num_threads=n, **params), want)
    assert_ulp(want, expected(x, **params), **params)


@pytest.mark.parametrize("C", [5, 6, 7, 9, 13, 14, 31])
@pytest.mark.parametrize("lo, hi", [(2, 2), (1, 3), (3, 1), (0, 4), (4, 0), (1, 2), (3, 3)])
def test_gradient_rings_agree_with_tiles_for_every_channel_count_and_window(rng, C, lo, hi):
    # The rings take rows in pairs (one loop for dy p, w and dx where the
    # size-5 window is centred and inside, single rows elsewhere); in place
    # the tiles take single rows. Windows
    # given as [i - lo, i + hi] directly, as fastlrn.compat does.
    from fastlrn import _api
    x = rng.standard_normal((2, C, 9, 11)).astype(np.float32)
    dy = rng.standard_normal(x.shape).astype(np.float32)
    rings = _api._backward(x, dy, lo, hi, 1e-4, 0.75, 2.0, "across", 1, None, 1)
    xc = x.copy()
    tiles = _api._backward(xc, dy, lo, hi, 1e-4, 0.75, 2.0, "across", 1, xc, 1)
    np.testing.assert_array_equal(rings, tiles)


# The pair loop of the rings (in the AVX-512 and AVX2 builds fastlrn_bwd_fused2: a
# masked last vector, the range tests as bit reductions, the next pair's rows
# prefetched while they exist) against the tiles, for plane sizes around the
# 16-lane vectors and dy at and past the tier's range (2**-40, 2**40, 0).
@pytest.mark.parametrize("plane", [(1, 1), (3, 5), (4, 4), (1, 17), (8, 8), (27, 27)])
@pytest.mark.parametrize("C", [6, 9, 10, 13])
@pytest.mark.parametrize("dyval", [None, 0.0, 2.0 ** -40, 2.0 ** -41, 2.0 ** 40, 2.0 ** 41])
def test_gradient_pairs_agree_with_tiles(rng, plane, C, dyval):
    from fastlrn import _api
    x = rng.standard_normal((2, C) + plane).astype(np.float32)
    dy = rng.standard_normal(x.shape).astype(np.float32)
    if dyval is not None:
        dy[1, C // 2, -1, -1] = -dyval
    params = dict(size=5, alpha=1e-4, beta=0.75, k=2.0)
    rings = _api._backward(x, dy, 2, 2, 1e-4, 0.75, 2.0, "across", 1, None, 1)
    xc = x.copy()
    tiles = _api._backward(xc, dy, 2, 2, 1e-4, 0.75, 2.0, "across", 1, xc, 1)
    np.testing.assert_array_equal(rings, tiles)
    assert_backward_close(rings, expected_backward(x, dy, **params), **params)
