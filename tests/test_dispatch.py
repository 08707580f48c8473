"""The kernel builds for different instruction sets give identical results (forward and backward).

fastlrn compiles its forward kernels for the baseline ISA, AVX2 and AVX-512
and picks the best at import. Each build runs in a subprocess with
FASTLRN_ISA forcing it; the outputs must be equal bit for bit, since the
builds only differ in vector width (no FMA contraction, IEEE operations;
the float tiers' explicit fmas are the instruction in the AVX2 and AVX-512
builds and a correctly rounded emulation in the baseline one, see
test_fma32.py). The cases with
alpha = 1e-4 put most elements in the float tiers, with k**-beta not a
float (k = 2, 0.7), the others mostly outside; sizes 4, 5 and 6 take each route's straight
and general code for the ends of rows and lines. Four more cases, size 5 with 24
channels, take the intrinsic loops of the AVX2 and AVX-512 builds (docs/performance.rst),
twenty more, data outside the float tier, the power step's vector loops, six
float64 cases the closed form's one-pass row (beta 0.5, 0.75 and 1),
six of window sums at the float tier's edge and four at the power step's
upper end.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from fastlrn import _dispatch

SCRIPT = r"""
import sys, numpy as np, fastlrn
from fastlrn import _dispatch
rng = np.random.default_rng(7)
out = {"isa": _dispatch.ISA}
cases = [
    ("across", 1, np.float32, 0.75, 0.3, 0.5), ("across", -1, np.float32, 0.5, 0.3, 0.5),
    ("within", 1, np.float32, 1.0, 0.3, 0.5), ("across", 1, np.float64, 0.75, 0.3, 0.5),
    ("within", -1, np.float64, 0.6, 0.3, 0.5), ("across", 1, np.float32, 2.0, 0.3, 0.5),
    ("across", 1, np.float32, 0.75, 1e-4, 2.0), ("across", -1, np.float32, 0.6, 1e-4, 0.7),
    ("within", 1, np.float32, 0.75, 1e-4, 2.0), ("across", 1, np.float64, 0.75, 1e-4, 2.0),
    ("within", 1, np.float32, 0.75, 1e-4, 2.0), ("across", -1, np.float32, 0.75, 1e-4, 2.0),
]
x = rng.standard_normal((3, 9, 17, 19)) * np.exp(rng.uniform(-3, 3, (3, 9, 17, 19)))
dy = rng.standard_normal(x.shape)
for i, (region, axis, dtype, beta, alpha, k) in enumerate(cases):
    params = dict(size=4 + i % 3, alpha=alpha, beta=beta, k=k, region=region,
                  channel_axis=axis)
    np.save(sys.argv[1] + f"_{i}.npy", fastlrn.lrn(x.astype(dtype), **params))
    np.save(sys.argv[1] + f"_b{i}.npy",
            fastlrn.lrn_backward(x.astype(dtype), dy.astype(dtype), **params))
# size 5 with 24 channels: the intrinsic loops of the AVX2 and AVX-512 builds
# (the four-row loop, whole lines of C a multiple of 8, the gradient's pair
# loop, and 5 x 5 within) against the plain loops of the baseline build
# (ordinary data: a tile or strip with a window outside the float tier is
# redone by the plain loops, and these cases would then test nothing new)
x2 = rng.standard_normal((2, 24, 9, 21)).astype(np.float32)
dy2 = rng.standard_normal(x2.shape).astype(np.float32)
extra = [fastlrn.lrn(x2, size=5),
         fastlrn.lrn(np.ascontiguousarray(np.moveaxis(x2, 1, -1)), size=5, channel_axis=-1),
         fastlrn.lrn_backward(x2, dy2, size=5),
         fastlrn.lrn(x2, size=5, region="within")]
# data outside the float tier (x 10, ReLU'd x 30) and TensorFlow's parameters
# (size 11, alpha 1, k 1, beta 0.5), 32 channels: the power step and the
# one-pass loops of the vector builds (the four-row loop, lines of any window,
# 5 x 5 within, the one-pass row, the gradient's q) against the scalar forms
x3 = rng.standard_normal((2, 32, 9, 21)).astype(np.float32)
dy3 = rng.standard_normal(x3.shape).astype(np.float32)
for data in (x3 * np.float32(10), np.maximum(x3, 0) * np.float32(30)):
    nhwc = np.ascontiguousarray(np.moveaxis(data, 1, -1))
    for params in (dict(size=5), dict(size=11, alpha=1.0, k=1.0, beta=0.5), dict(beta=0.6)):
        extra += [fastlrn.lrn(data, **params), fastlrn.lrn(nhwc, channel_axis=-1, **params),
                  fastlrn.lrn_backward(data, dy3, **params)]
    extra.append(fastlrn.lrn(data, size=5, region="within"))
# float64, beta 0.5, 0.75 and 1: the closed form in one pass (f64_rowc), vectors
# of doubles against the scalar form; plain (size 3) and compensated sums
x4 = rng.standard_normal((2, 19, 9, 21)) * 10.0
for beta, size in ((0.5, 11), (0.75, 5), (1.0, 3)):
    extra += [fastlrn.lrn(x4, size=size, beta=beta),
              fastlrn.lrn(np.ascontiguousarray(np.moveaxis(x4, 1, -1)), size=size, beta=beta,
                          channel_axis=-1)]
# window sums at the float tier's edge: the low series' reach tmax (series_params:
# the largest power of two <= 1/16 with |C(-beta, 5)| tmax**5 <= 2**-34) puts the
# edge at v = tmax * k / a. The vector rows (fastlrn_rowg, 7 and 11 channels) and
# 5 x 5 strips (fastlrn_w5p_strip) take the power step alone over windows far above
# the edge (magnitudes twice the edge's), then meet windows swept in 48 steps from
# 2**-9 below the edge to 2**-11 above it (magnitudes within 2**-16 of one value;
# across: each plane row; within: each plane): the vectors wholly just below the
# edge are in the tier, and the power step alone must stop there (going on from
# 2**-10 below the edge changes 44 to 2582 elements of each case).
#   across, (8, 24, 12, 40): a plane's rows 0-5 far above (15 vectors), rows 6-11
#     at the sweep's levels;
#   within, (2, 24, 12, 40): rows 0-1, 10-11 and columns 0-17 far above, so that
#     band 0 (columns 0-15) is done by the power step alone, and band 1 too where
#     the box sums of rows 4-7 are above the edge.
c5, tmax = 1.0, 1.0 / 16
for n in range(5):
    c5 *= (-0.75 - n) / (n + 1)
while abs(c5) * tmax ** 5 > 2.0 ** -34:
    tmax /= 2
sweep = 1 + np.linspace(-2.0 ** -9, 2.0 ** -11, 48)
def at_edge(e, taps):
    # windows of taps values summing to e times the edge, signs at random
    mag = np.sqrt(tmax * 2.0 / 1e-4 / taps * e) * (1 + 2.0 ** -16 * rng.uniform(-1, 1, e.shape))
    return (mag * rng.choice([-1.0, 1.0], e.shape)).astype(np.float32)
for size, region, taps, shape in ((7, "across", 7, (8, 24, 12, 40)),
                                  (11, "across", 11, (8, 24, 12, 40)),
                                  (5, "within", 25, (2, 24, 12, 40))):
    e = np.full(shape, 4.0)
    if region == "across":
        e[:, :, 6:] = sweep.reshape(8, 1, 6, 1)
    else:
        e[:, :, 2:-2, 18:] = sweep.reshape(2, 24, 1, 1)
    extra.append(fastlrn.lrn(at_edge(e, taps), size=size, region=region))
#   channels-last lines of 32 channels, (1, 7, 8, 32), sizes 5, 7 and 11
#     (fastlrn_linesp_m): 8 lines far above, then one line a level, from 2**-11
#     above the edge down; channels 0-5 and 26-31 far above on every line, so
#     that no vector has a clipped window near the edge.
for size in (5, 7, 11):
    e = np.full((56, 32), 4.0)
    e[8:, 6:26] = sweep[::-1, None]
    extra.append(fastlrn.lrn(at_edge(e, size).reshape(1, 7, 8, 32), size=size, channel_axis=-1))
# window sums at the power step's upper end, vhi: s = k + a v up to 2**33, the top of
# the table's 32 binades from k's (enable_pw: k = 2, binades from 2**1), 2**-20
# inward (v_range). The loops with both formulas (the four-row loop, the rows of 7
# channels, 5 x 5 within, channels-last lines) test needs_fix on their largest float
# sum with a margin of 2**-10 (fastlrn_fix_hi): windows swept from 2**-9 below vhi
# to 2**-9 above, beside windows in the float tier, must all come out as the scalar
# forms give them (above vhi the double formula; just below, where the loops redo a
# row that needs no fix, the same bits as the power step).
vhi = (2.0 ** 33 - 2.0) / 1e-4 * (1 - 2.0 ** -20)
levels = 1 + np.linspace(-2.0 ** -9, 2.0 ** -9, 48)
def at_top(e, taps):
    mag = np.sqrt(vhi / taps * e) * (1 + 2.0 ** -16 * rng.uniform(-1, 1, e.shape))
    return (mag * rng.choice([-1.0, 1.0], e.shape)).astype(np.float32)
# A loop's test covers a whole call (its rows or lines), so each image, plane or
# line is at one level.
#   across, (48, 16, 2, 40), sizes 5 and 7: an image a level, a random half of the
#     pixels small (in the tier)
for size in (5, 7):
    top = at_top(np.broadcast_to(levels.reshape(48, 1, 1, 1), (48, 16, 2, 40)), size)
    small = rng.random((48, 1, 2, 40)) < 0.5
    extra.append(fastlrn.lrn(np.where(small, top * np.float32(1e-8), top), size=size))
#   within, (2, 24, 12, 40): each plane at one level, columns 0-7 small (band 0
#     has tier lanes, so the 5 x 5 loop with both formulas does every band)
e = np.broadcast_to(levels.reshape(2, 24, 1, 1), (2, 24, 12, 40))
top = at_top(e, 25)
top[..., :8] *= np.float32(1e-8)
extra.append(fastlrn.lrn(top, size=5, region="within"))
#   channels-last, (1, 6, 8, 32), size 5: a level a line, channels 0-5 small
e = np.broadcast_to(levels.reshape(1, 6, 8, 1), (1, 6, 8, 32))
top = at_top(e, 5)
top[..., :6] *= np.float32(1e-8)
extra.append(fastlrn.lrn(top, size=5, channel_axis=-1))
for i, a in enumerate(extra):
    np.save(sys.argv[1] + f"_x{i}.npy", a)
print(json.dumps(out))
"""


def _run(isa, prefix):
    env = dict(os.environ, FASTLRN_ISA=isa)
    res = subprocess.run([sys.executable, "-c", "import json\n" + SCRIPT, prefix],
                         env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)["isa"]


def test_default_is_the_best_usable_build():
    forced = os.environ.get("FASTLRN_ISA")
    assert _dispatch.ISA == (forced or _dispatch.available()[-1])


def test_builds_agree_bit_for_bit(tmp_path):
    usable = _dispatch.available()
    if len(usable) < 2:
        pytest.skip(f"only one kernel build runs on this CPU: {usable}")
    results = {}
    for isa in usable:
        assert _run(isa, str(tmp_path / isa)) == isa
        results[isa] = [np.load(tmp_path / f"{isa}_{p}{i}.npy") for p in ("", "b")
                        for i in range(12)]
        results[isa] += [np.load(tmp_path / f"{isa}_x{i}.npy") for i in range(40)]
    base = results["baseline"]
    for isa in usable[1:]:
        for i, (a, b) in enumerate(zip(base, results[isa])):
            np.testing.assert_array_equal(a, b, err_msg=f"case {i}: baseline vs {isa}")


def test_unknown_isa_is_an_error():
    with pytest.raises(ValueError, match="FASTLRN_ISA"):
        _dispatch.select("sse9")
