"""Within-channel planes too large for one strip of scratch are processed in
strips along their first spatial axis, each with a halo; results must not
show the seams. Shapes here are chosen so that one plane spans several
strips (the scratch budget per thread is 4 MiB: rows of 20000 float64
elements give strips of a few rows)."""

import numpy as np
import pytest

import fastlrn
from fastlrn import reference

from _util import assert_backward_close, assert_ulp, expected_backward


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("shape", [(1, 1, 23, 20000), (1, 1, 300000), (1, 2, 5, 3, 60000)])
def test_forward_across_strip_seams(rng, shape, size):
    x = rng.standard_normal(shape)
    params = dict(size=size, alpha=0.7, beta=0.75, k=1.0, region="within")
    got = fastlrn.lrn(x, **params)
    lo, hi = reference.window(size)
    want = reference.lrn_exact(x, lo, hi, 0.7, 0.75, 1.0, region="within")
    assert_ulp(got, want, **params, shape=shape)
    # thread counts still agree bit for bit (strips are shared out to threads)
    np.testing.assert_array_equal(fastlrn.lrn(x, num_threads=1, **params), got)


@pytest.mark.parametrize("size", [2, 3, 5])
@pytest.mark.parametrize("shape", [(1, 1, 23, 20000), (1, 1, 300000)])
def test_backward_across_strip_seams(rng, shape, size):
    x = rng.standard_normal(shape)
    dy = rng.standard_normal(shape)
    params = dict(size=size, alpha=0.7, beta=0.75, k=1.0, region="within")
    got = fastlrn.lrn_backward(x, dy, **params)
    assert_backward_close(got, expected_backward(x, dy, **params), **params)
    np.testing.assert_array_equal(fastlrn.lrn_backward(x, dy, num_threads=1, **params), got)


def test_safe_path_inside_a_strip():
    """An overflowing square in the middle of a many-strip plane is recomputed exactly."""
    if not reference.LONGDOUBLE_IS_EXTENDED:
        pytest.skip("long double is double on this platform")
    x = np.ones((1, 1, 23, 20000))
    x[0, 0, 11, 777] = 1e200
    params = dict(size=3, alpha=1.0, beta=0.75, k=1.0, region="within")
    got = fastlrn.lrn(x, **params)
    want = reference.lrn_exact(x, 1, 1, 1.0, 0.75, 1.0, region="within")
    assert_ulp(got, want, **params)


# In place on planes split into strips: a strip reads its halo rows from x,
# which the neighbouring strip's output would already have overwritten; the
# result must be the out-of-place one, bit for bit (it was not: 2 rows wrong
# per seam).
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("threads", [1, 2])
def test_in_place_across_strip_seams(rng, dtype, threads):
    x = rng.standard_normal((2, 1, 23, 20000)).astype(dtype)
    dy = rng.standard_normal(x.shape).astype(dtype)
    params = dict(size=5, alpha=1e-4, beta=0.75, k=2.0, region="within", num_threads=threads)
    want = fastlrn.lrn(x, **params)
    buf = x.copy()
    assert fastlrn.lrn(buf, out=buf, **params) is buf
    np.testing.assert_array_equal(buf, want)
    want = fastlrn.lrn_backward(x, dy, **params)
    buf = x.copy()
    fastlrn.lrn_backward(buf, dy, out=buf, **params)
    np.testing.assert_array_equal(buf, want)
    buf = dy.copy()
    fastlrn.lrn_backward(x, buf, out=buf, **params)
    np.testing.assert_array_equal(buf, want)
