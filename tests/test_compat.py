"""fastlrn.compat without any framework: every convention against the float64
reference with the window and alpha scaling of SPEC section 3's table, the
framework rules, and the worked even-size example of docs/conventions.md.

The windows ``(lo, hi)`` and effective alphas below are written out from
SPEC section 3 here, in the test, not taken from the compat modules.
"""

import inspect
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest

from fastlrn.compat import caffe, mxnet, onednn, onnx, tensorflow, torch

from _frameworks import (BACKWARD_REL, assert_scaled, backward_oracle, forward_oracle,
                         needs_backward, require)
from _util import assert_ulp, randn

DTYPES = [np.float32, np.float64]
SIZES = range(1, 10)
ODD_SIZES = [1, 3, 5, 7, 9]
# Non-default parameters under which alpha * sum is a large share of s, so a
# window or scaling mistake shows as thousands of ulp, not one.
ALPHA, BETA, K = 1.7, 0.6, 1.3


def check(result, x, lo, hi, a, beta, k, region="across", channel_axis=1, **params):
    assert result.dtype == x.dtype and result.shape == x.shape
    assert_ulp(result, forward_oracle(x, lo, hi, a, beta, k, region, channel_axis),
               lo=lo, hi=hi, a=a, beta=beta, k=k, region=region,
               channel_axis=channel_axis, **params)


# ---------------------------------------------------------------- signatures

# SPEC section 3's table: the framework's parameter names and defaults
# (inspect.Parameter.empty: required), then fastlrn's keyword-only extras.
SIGNATURES = [
    (tensorflow.lrn, [("input", None), ("depth_radius", 5), ("bias", 1.0), ("alpha", 1.0),
                      ("beta", 0.5)], -1),
    (torch.local_response_norm, [("input", None), ("size", None), ("alpha", 1e-4),
                                 ("beta", 0.75), ("k", 1.0)], 1),
    (onnx.lrn, [("X", None), ("size", None), ("alpha", 1e-4), ("beta", 0.75),
                ("bias", 1.0)], 1),
    (caffe.lrn, [("x", None), ("local_size", 5), ("alpha", 1.0), ("beta", 0.75), ("k", 1.0),
                 ("norm_region", "ACROSS_CHANNELS")], 1),
    (onednn.lrn, [("src", None), ("local_size", None), ("alpha", None), ("beta", None),
                  ("k", None), ("algorithm", "across_channels")], 1),
    (mxnet.lrn, [("data", None), ("nsize", None), ("alpha", 1e-4), ("beta", 0.75),
                 ("knorm", 2.0)], 1),
]


@pytest.mark.parametrize("fn, params, axis", SIGNATURES,
                         ids=[s[0].__module__.rsplit(".", 1)[1] for s in SIGNATURES])
def test_signatures(fn, params, axis):
    def spec(f):
        return [(p.name, None if p.default is p.empty else p.default, p.kind)
                for p in inspect.signature(f).parameters.values()]

    pos = [(name, default, inspect.Parameter.POSITIONAL_OR_KEYWORD)
           for name, default in params]
    extras = [("channel_axis", axis, inspect.Parameter.KEYWORD_ONLY),
              ("out", None, inspect.Parameter.KEYWORD_ONLY),
              ("num_threads", None, inspect.Parameter.KEYWORD_ONLY)]
    assert spec(fn) == pos + extras
    # <name>_backward(x, dy, <same parameters>)
    back = getattr(sys.modules[fn.__module__], fn.__name__ + "_backward")
    assert spec(back) == pos[:1] + [("dy", None, pos[0][2])] + pos[1:] + extras


def test_importing_compat_imports_no_framework():
    code = ("import sys; import fastlrn.compat.tensorflow, fastlrn.compat.torch, "
            "fastlrn.compat.onnx, fastlrn.compat.caffe, fastlrn.compat.onednn, "
            "fastlrn.compat.mxnet; "
            "bad = {'torch', 'tensorflow', 'onnx', 'onnxruntime', 'openvino', 'mxnet', "
            "'caffe'} & set(sys.modules); assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


# ---------------------------------------------------------------- TensorFlow

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("depth_radius", [0, 1, 2, 3, 4, 7])
def test_tensorflow(rng, depth_radius, dtype):
    r = depth_radius
    # [c - r, c + r], a = alpha; channels last; any rank >= 2 (TF: 4-D only).
    for shape in [(2, 3, 4, 7), (5, 7), (2, 4, 6)]:
        x = randn(rng, shape, dtype)
        got = tensorflow.lrn(x, r, bias=K, alpha=ALPHA / 5, beta=BETA)
        check(got, x, r, r, ALPHA / 5, BETA, K, channel_axis=-1, depth_radius=r, shape=shape)
    x = randn(rng, (2, 7, 3, 4), dtype)
    got = tensorflow.lrn(x, r, K, ALPHA / 5, BETA, channel_axis=1)
    check(got, x, r, r, ALPHA / 5, BETA, K, channel_axis=1, depth_radius=r)


def test_tensorflow_defaults(rng):
    x = randn(rng, (2, 3, 3, 12), np.float64)
    np.testing.assert_array_equal(tensorflow.lrn(x), tensorflow.lrn(x, 5, 1.0, 1.0, 0.5))
    check(tensorflow.lrn(x), x, 5, 5, 1.0, 0.5, 1.0, channel_axis=-1)


# ---------------------------------------------------------------- PyTorch

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size", SIZES)
def test_torch(rng, size, dtype):
    n = size
    # [c - n//2, c + (n-1)//2]: even sizes reach one further back; a = alpha / n.
    lo, hi, a = n // 2, (n - 1) // 2, ALPHA / n
    for shape in [(2, 7, 3, 4), (2, 7, 5), (1, 7, 2, 2, 2)]:
        x = randn(rng, shape, dtype)
        got = torch.local_response_norm(x, n, alpha=ALPHA, beta=BETA, k=K)
        check(got, x, lo, hi, a, BETA, K, size=n, shape=shape)
    x = randn(rng, (2, 3, 4, 7), dtype)  # channels last through the extension
    got = torch.local_response_norm(x, n, ALPHA, BETA, K, channel_axis=-1)
    check(got, x, lo, hi, a, BETA, K, channel_axis=-1, size=n)


# ---------------------------------------------------------------- ONNX

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size", SIZES)
def test_onnx(rng, size, dtype):
    n = size
    # [c - (n-1)//2, c + n//2]: even sizes reach one further forward; a = alpha / n.
    lo, hi, a = (n - 1) // 2, n // 2, ALPHA / n
    for shape in [(2, 7, 3, 4), (3, 7), (1, 7, 2, 1, 3)]:
        x = randn(rng, shape, dtype)
        got = onnx.lrn(x, n, alpha=ALPHA, beta=BETA, bias=K)
        check(got, x, lo, hi, a, BETA, K, size=n, shape=shape)


def test_torch_and_onnx_even_windows_are_mirror_images(rng):
    # Reversing the channels turns PyTorch's even window into ONNX's.
    x = randn(rng, (2, 8, 3, 3), np.float64)
    for n in (2, 4, 6):
        y_torch = torch.local_response_norm(x, n, ALPHA, BETA, K)
        y_onnx = onnx.lrn(x[:, ::-1], n, ALPHA, BETA, K)[:, ::-1]
        # Not bit-identical (the sums run in the other order): each is within
        # the float64 bound of 8 ulp of the same exact value.
        assert_ulp(y_torch, y_onnx, 16, size=n)


# ---------------------------------------------------------------- Caffe

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("local_size", ODD_SIZES)
def test_caffe_across(rng, local_size, dtype):
    n, h = local_size, (local_size - 1) // 2
    x = randn(rng, (2, 7, 3, 4), dtype)
    got = caffe.lrn(x, n, ALPHA, BETA, K)  # ACROSS_CHANNELS: a = alpha / n
    check(got, x, h, h, ALPHA / n, BETA, K, local_size=n)
    x = randn(rng, (2, 3, 4, 7), dtype)
    got = caffe.lrn(x, n, ALPHA, BETA, K, "ACROSS_CHANNELS", channel_axis=-1)
    check(got, x, h, h, ALPHA / n, BETA, K, channel_axis=-1, local_size=n)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("local_size", ODD_SIZES)
def test_caffe_within(rng, local_size, dtype):
    n, h = local_size, (local_size - 1) // 2
    for shape in [(2, 3, 5, 6), (1, 2, 11, 3)]:
        x = randn(rng, shape, dtype)
        got = caffe.lrn(x, n, ALPHA, BETA, K, norm_region="WITHIN_CHANNEL")
        # n x n square, a = alpha / n**2, and k replaced by 1 (Caffe's power
        # layer has shift 1).
        check(got, x, h, h, ALPHA / n**2, BETA, 1.0, region="within", local_size=n,
              shape=shape)
        np.testing.assert_array_equal(
            got, caffe.lrn(x, n, ALPHA, BETA, 7.0, norm_region="WITHIN_CHANNEL"))


def test_caffe_defaults(rng):
    x = randn(rng, (2, 7, 3, 4), np.float64)
    np.testing.assert_array_equal(caffe.lrn(x), caffe.lrn(x, 5, 1.0, 0.75, 1.0))
    check(caffe.lrn(x), x, 2, 2, 1.0 / 5, 0.75, 1.0)


# ---------------------------------------------------------------- oneDNN / OpenVINO

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("local_size", SIZES)
def test_onednn_across(rng, local_size, dtype):
    n = local_size
    h = (n - 1) // 2  # [c - (n-1)//2, c + (n-1)//2]: even n sums n - 1 taps
    for shape in [(2, 7, 3, 4), (3, 9)]:
        x = randn(rng, shape, dtype)
        got = onednn.lrn(x, n, ALPHA, BETA, K)
        check(got, x, h, h, ALPHA / n, BETA, K, local_size=n, shape=shape)  # alpha / n
    x = randn(rng, (2, 7, 3, 4), dtype)
    got = onednn.lrn(x, n, ALPHA, BETA, K, "lrn_across_channels")  # the enum's own name
    np.testing.assert_array_equal(got, onednn.lrn(x, n, ALPHA, BETA, K, "across_channels"))
    check(got, x, h, h, ALPHA / n, BETA, K, local_size=n)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("local_size", SIZES)
def test_onednn_within(rng, local_size, dtype):
    n = local_size
    h = (n - 1) // 2
    # d spatial axes: the box is (2h+1)**d taps, a = alpha / n**d.
    for shape, d in [((2, 3, 5, 6), 2), ((2, 3, 9), 1), ((1, 2, 4, 3, 5), 3)]:
        x = randn(rng, shape, dtype)
        got = onednn.lrn(x, n, ALPHA, BETA, K, algorithm="within_channel")
        check(got, x, h, h, ALPHA / n**d, BETA, K, region="within", local_size=n,
              shape=shape)


# ---------------------------------------------------------------- MXNet

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("nsize", ODD_SIZES)
def test_mxnet(rng, nsize, dtype):
    n, h = nsize, (nsize - 1) // 2
    for shape in [(2, 7, 3, 4), (4, 9)]:
        x = randn(rng, shape, dtype)
        got = mxnet.lrn(x, n, alpha=ALPHA, beta=BETA, knorm=K)
        check(got, x, h, h, ALPHA / n, BETA, K, nsize=n, shape=shape)


def test_mxnet_defaults(rng):
    x = randn(rng, (2, 7, 3, 4), np.float64)
    np.testing.assert_array_equal(mxnet.lrn(x, 5), mxnet.lrn(x, 5, 1e-4, 0.75, 2.0))
    check(mxnet.lrn(x, 5), x, 2, 2, 1e-4 / 5, 0.75, 2.0)


# ---------------------------------------------------------------- cheat-sheet

@pytest.mark.parametrize("dtype", DTYPES)
def test_alexnet_cheat_sheet(rng, dtype):
    # docs/conventions.md: AlexNet's published LRN (n=5, alpha=1e-4 on the
    # raw sum, beta=0.75, k=2) in every convention.
    import fastlrn

    x = randn(rng, (2, 9, 4, 5), dtype, scale=30.0)  # large enough that a matters
    want = fastlrn.lrn(x)
    check(want, x, 2, 2, 1e-4, 0.75, 2.0)
    same_layout = [
        fastlrn.lrn(x, 5, 5e-4, 0.75, 2.0, average=True),
        torch.local_response_norm(x, 5, alpha=5e-4, beta=0.75, k=2.0),
        onnx.lrn(x, 5, alpha=5e-4, beta=0.75, bias=2.0),
        caffe.lrn(x, local_size=5, alpha=5e-4, beta=0.75, k=2.0),
        onednn.lrn(x, 5, 5e-4, 0.75, 2.0),
        mxnet.lrn(x, nsize=5, alpha=5e-4, beta=0.75, knorm=2.0),
    ]
    for got in same_layout:  # 5e-4 / 5 == 1e-4 exactly: the same a, the same kernel
        np.testing.assert_array_equal(got, want)
    nhwc = np.moveaxis(x, 1, -1)
    got = tensorflow.lrn(nhwc, depth_radius=2, bias=2.0, alpha=1e-4, beta=0.75)
    check(got, nhwc, 2, 2, 1e-4, 0.75, 2.0, channel_axis=-1)
    # Caffe's bvlc_alexnet values (local_size 5, alpha 1e-4, k 1) are TF's
    # depth_radius=2, bias=1, alpha=2e-5.
    check(caffe.lrn(x, 5, 1e-4, 0.75), x, 2, 2, 2e-5, 0.75, 1.0)
    check(tensorflow.lrn(nhwc, 2, bias=1.0, alpha=2e-5, beta=0.75), nhwc, 2, 2, 2e-5, 0.75,
          1.0, channel_axis=-1)


# ---------------------------------------------------------------- framework rules

FRAMEWORK_RULES = [
    ("caffe even local_size", lambda x: caffe.lrn(x, 4), (2, 7, 3, 4), "Caffe", "local_size"),
    ("caffe even within", lambda x: caffe.lrn(x, 2, norm_region="WITHIN_CHANNEL"),
     (2, 7, 3, 4), "Caffe", "local_size"),
    ("caffe 3-D", lambda x: caffe.lrn(x, 3), (2, 7, 3), "Caffe", "4-D"),
    ("caffe 5-D", lambda x: caffe.lrn(x, 3), (2, 7, 3, 2, 2), "Caffe", "4-D"),
    ("caffe 2-D within", lambda x: caffe.lrn(x, 3, norm_region="WITHIN_CHANNEL"), (2, 7),
     "Caffe", "4-D"),
    ("mxnet even nsize", lambda x: mxnet.lrn(x, 6), (2, 7, 3, 4), "MXNet", "nsize"),
    ("torch 2-D", lambda x: torch.local_response_norm(x, 3), (4, 7), "PyTorch", "3-D"),
]


@pytest.mark.parametrize("call, shape, framework, text", [c[1:] for c in FRAMEWORK_RULES],
                         ids=[c[0] for c in FRAMEWORK_RULES])
def test_framework_rules(call, shape, framework, text):
    with pytest.raises(ValueError, match=framework) as info:
        call(np.ones(shape, np.float32))
    assert text in str(info.value)


PARAMETER_ERRORS = [
    # (id, call, exception, the parameter name and received value in the message)
    ("tf depth_radius=-1", lambda x: tensorflow.lrn(x, -1), ValueError, "depth_radius", "-1"),
    ("tf depth_radius=2.0", lambda x: tensorflow.lrn(x, 2.0), TypeError, "depth_radius", "2.0"),
    ("tf bias=-1", lambda x: tensorflow.lrn(x, bias=-1.0), ValueError, "bias", "-1"),
    ("tf 1-D", lambda x: tensorflow.lrn(x[0, 0, 0]), ValueError, "input", "1"),
    ("torch size=0", lambda x: torch.local_response_norm(x, 0), ValueError, "size", "0"),
    ("torch size=True", lambda x: torch.local_response_norm(x, True), TypeError, "size",
     "True"),
    ("torch alpha=nan", lambda x: torch.local_response_norm(x, 3, alpha=np.nan), ValueError,
     "alpha", "nan"),
    ("torch beta=-1", lambda x: torch.local_response_norm(x, 3, beta=-1), ValueError, "beta",
     "-1"),
    ("onnx size=None", lambda x: onnx.lrn(x, None), TypeError, "size", "None"),
    ("onnx bias=inf", lambda x: onnx.lrn(x, 3, bias=np.inf), ValueError, "bias", "inf"),
    ("caffe norm_region", lambda x: caffe.lrn(x, norm_region="within"), ValueError,
     "norm_region", "within"),
    ("caffe norm_region=1", lambda x: caffe.lrn(x, norm_region=1), TypeError, "norm_region",
     "1"),
    ("caffe k='1'", lambda x: caffe.lrn(x, k="1"), TypeError, "k", "1"),
    ("onednn algorithm", lambda x: onednn.lrn(x, 3, 1.0, 0.75, 1.0, "across"), ValueError,
     "algorithm", "across"),
    ("onednn local_size=1.5", lambda x: onednn.lrn(x, 1.5, 1.0, 0.75, 1.0), TypeError,
     "local_size", "1.5"),
    ("mxnet knorm=-2", lambda x: mxnet.lrn(x, 3, knorm=-2), ValueError, "knorm", "-2"),
    ("mxnet nsize=0", lambda x: mxnet.lrn(x, 0), ValueError, "nsize", "0"),
    ("channel_axis=4", lambda x: onnx.lrn(x, 3, channel_axis=4), ValueError, "channel_axis",
     "4"),
    ("complex input", lambda x: torch.local_response_norm(x.astype(complex), 3), TypeError,
     "input", "complex"),
    ("num_threads=0", lambda x: mxnet.lrn(x, 3, num_threads=0), ValueError, "num_threads",
     "0"),
]


@pytest.mark.parametrize("call, exc, name, got", [c[1:] for c in PARAMETER_ERRORS],
                         ids=[c[0] for c in PARAMETER_ERRORS])
def test_parameter_errors(call, exc, name, got):
    with pytest.raises(exc) as info:
        call(np.ones((2, 7, 3, 4), np.float32))
    message = str(info.value)
    assert name in message and got in message, message


def test_within_needs_a_spatial_axis():
    with pytest.raises(ValueError, match="spatial axis"):
        onednn.lrn(np.ones((2, 7)), 3, 1.0, 0.75, 1.0, "within_channel")


# ---------------------------------------------------------------- core plumbing

def test_out_threads_and_dtypes(rng):
    x = randn(rng, (2, 7, 5, 6), np.float32)
    want = torch.local_response_norm(x, 4, ALPHA, BETA, K)
    out = np.empty_like(x)
    assert torch.local_response_norm(x, 4, ALPHA, BETA, K, out=out) is out
    np.testing.assert_array_equal(out, want)
    for n in (1, 2):
        np.testing.assert_array_equal(
            torch.local_response_norm(x, 4, ALPHA, BETA, K, num_threads=n), want)
    xc = x.copy()
    onnx.lrn(xc, 3, ALPHA, BETA, K, out=xc)  # in place
    np.testing.assert_array_equal(xc, onnx.lrn(x, 3, ALPHA, BETA, K))
    # Other real dtypes compute in result_type(dtype, float32); lists are
    # accepted (Python ints: int64, so float64).
    xi = np.arange(24, dtype=np.int16).reshape(1, 4, 2, 3)
    got = mxnet.lrn(xi, 3)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, mxnet.lrn(xi.astype(np.float32), 3))
    np.testing.assert_array_equal(mxnet.lrn(xi.tolist(), 3), mxnet.lrn(xi.astype(float), 3))


# ---------------------------------------------------------------- even-size example

# docs/conventions.md, "The even-size example": x = [1, 2, 3, 4] along the
# window axis, k = 1, alpha = 1, beta = 1, so y = x / (1 + a * sum). The
# window sums and values are worked out by hand there and written here as
# exact fractions. Squares: 1, 4, 9, 16.
F = Fraction
X = np.array([1.0, 2.0, 3.0, 4.0])
EXAMPLE = [
    # (convention, call on x shaped (1, 4, 1, 1) or (1, 1, 1, 4), expected)
    # PyTorch n=2: [c-1, c]; sums 1, 5, 13, 25; a = 1/2.
    ("torch n=2", lambda x: torch.local_response_norm(x, 2, 1.0, 1.0, 1.0),
     [F(2, 3), F(4, 7), F(2, 5), F(8, 27)]),
    # PyTorch n=4: [c-2, c+1]; sums 5, 14, 30, 29; a = 1/4.
    ("torch n=4", lambda x: torch.local_response_norm(x, 4, 1.0, 1.0, 1.0),
     [F(4, 9), F(4, 9), F(6, 17), F(16, 33)]),
    # ONNX n=2: [c, c+1]; sums 5, 13, 25, 16; a = 1/2.
    ("onnx n=2", lambda x: onnx.lrn(x, 2, 1.0, 1.0, 1.0),
     [F(2, 7), F(4, 15), F(2, 9), F(4, 9)]),
    # ONNX n=4: [c-1, c+2]; sums 14, 30, 29, 25; a = 1/4.
    ("onnx n=4", lambda x: onnx.lrn(x, 4, 1.0, 1.0, 1.0),
     [F(2, 9), F(4, 17), F(4, 11), F(16, 29)]),
    # oneDNN n=2: [c, c] (1 tap); sums 1, 4, 9, 16; a = 1/2.
    ("onednn n=2", lambda x: onednn.lrn(x, 2, 1.0, 1.0, 1.0),
     [F(2, 3), F(2, 3), F(6, 11), F(4, 9)]),
    # oneDNN n=4: [c-1, c+1] (3 taps); sums 5, 14, 29, 25; a = 1/4.
    ("onednn n=4", lambda x: onednn.lrn(x, 4, 1.0, 1.0, 1.0),
     [F(4, 9), F(4, 9), F(4, 11), F(16, 29)]),
    # Odd n=3 everywhere: [c-1, c+1]; sums 5, 14, 29, 25.
    # a = 1/3 (torch, ONNX, Caffe, oneDNN, MXNet).
    ("torch n=3", lambda x: torch.local_response_norm(x, 3, 1.0, 1.0, 1.0),
     [F(3, 8), F(6, 17), F(9, 32), F(3, 7)]),
    ("onnx n=3", lambda x: onnx.lrn(x, 3, 1.0, 1.0, 1.0),
     [F(3, 8), F(6, 17), F(9, 32), F(3, 7)]),
    ("caffe n=3", lambda x: caffe.lrn(x, 3, 1.0, 1.0, 1.0),
     [F(3, 8), F(6, 17), F(9, 32), F(3, 7)]),
    ("onednn n=3", lambda x: onednn.lrn(x, 3, 1.0, 1.0, 1.0),
     [F(3, 8), F(6, 17), F(9, 32), F(3, 7)]),
    ("mxnet n=3", lambda x: mxnet.lrn(x, 3, 1.0, 1.0, 1.0),
     [F(3, 8), F(6, 17), F(9, 32), F(3, 7)]),
    # TensorFlow depth_radius=1 (size 3), a = alpha = 1: s = 6, 15, 30, 26.
    ("tensorflow r=1", lambda x: tensorflow.lrn(x.reshape(1, 1, 1, 4), 1, 1.0, 1.0, 1.0),
     [F(1, 6), F(2, 15), F(1, 10), F(2, 13)]),
    # Within a channel, x along the width of a (1, 1, 1, 4) image: the 3x3
    # square clips to one row; sums 5, 14, 29, 25; a = 1/9. Caffe with k = 2
    # still uses 1.
    ("caffe within n=3 k=2",
     lambda x: caffe.lrn(x.reshape(1, 1, 1, 4), 3, 1.0, 1.0, 2.0, "WITHIN_CHANNEL"),
     [F(9, 14), F(18, 23), F(27, 38), F(18, 17)]),
    ("onednn within n=3",
     lambda x: onednn.lrn(x.reshape(1, 1, 1, 4), 3, 1.0, 1.0, 1.0, "within_channel"),
     [F(9, 14), F(18, 23), F(27, 38), F(18, 17)]),
    # oneDNN within n=2: a 1x1 box (1 tap per axis); sums 1, 4, 9, 16; a = 1/4.
    ("onednn within n=2",
     lambda x: onednn.lrn(x.reshape(1, 1, 1, 4), 2, 1.0, 1.0, 1.0, "within_channel"),
     [F(4, 5), F(1, 1), F(12, 13), F(4, 5)]),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("call, expected", [e[1:] for e in EXAMPLE], ids=[e[0] for e in EXAMPLE])
def test_even_size_example(call, expected, dtype):
    got = call(X.astype(dtype).reshape(1, 4, 1, 1)).ravel()
    assert got.dtype == dtype
    # Each value is one sum, one multiply-add and one division away from
    # the exact fraction: the SPEC bounds of the correctly rounded value.
    assert_ulp(got, np.array([float(v) for v in expected]))


def test_even_size_example_caffe_mxnet_reject_two():
    x = X.reshape(1, 4, 1, 1)
    for call in (lambda: caffe.lrn(x, 2, 1.0, 1.0, 1.0), lambda: mxnet.lrn(x, 2, 1.0, 1.0, 1.0)):
        with pytest.raises(ValueError, match="odd"):
            call()


# ---------------------------------------------------------------- backward

# (id, forward-parameter call, backward call, window (lo, hi), a, k, region)
def _backward_cases(n):
    h = (n - 1) // 2
    cases = [
        ("torch", lambda x, dy: torch.local_response_norm_backward(x, dy, n, ALPHA, BETA, K),
         (n // 2, (n - 1) // 2), ALPHA / n, K, "across"),
        ("onnx", lambda x, dy: onnx.lrn_backward(x, dy, n, ALPHA, BETA, K),
         ((n - 1) // 2, n // 2), ALPHA / n, K, "across"),
        ("onednn across", lambda x, dy: onednn.lrn_backward(x, dy, n, ALPHA, BETA, K),
         (h, h), ALPHA / n, K, "across"),
        ("onednn within",
         lambda x, dy: onednn.lrn_backward(x, dy, n, ALPHA, BETA, K, "within_channel"),
         (h, h), ALPHA / n**2, K, "within"),
    ]
    if n % 2:
        cases += [
            ("caffe across", lambda x, dy: caffe.lrn_backward(x, dy, n, ALPHA, BETA, K),
             (h, h), ALPHA / n, K, "across"),
            ("caffe within",
             lambda x, dy: caffe.lrn_backward(x, dy, n, ALPHA, BETA, K, "WITHIN_CHANNEL"),
             (h, h), ALPHA / n**2, 1.0, "within"),
            ("mxnet", lambda x, dy: mxnet.lrn_backward(x, dy, n, ALPHA, BETA, K),
             (h, h), ALPHA / n, K, "across"),
            ("tensorflow", lambda x, dy: tensorflow.lrn_backward(
                x, dy, h, K, ALPHA / n, BETA, channel_axis=1),
             (h, h), ALPHA / n, K, "across"),
        ]
    return cases


@needs_backward
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size", SIZES)
def test_backward(rng, size, dtype):
    for name, call, (lo, hi), a, k, region in _backward_cases(size):
        x, dy = randn(rng, (2, 7, 4, 5), dtype), randn(rng, (2, 7, 4, 5), dtype)
        got = call(x, dy)
        assert got.dtype == dtype and got.shape == x.shape
        exact = backward_oracle(x, dy, lo, hi, a, BETA, k, region)
        assert_scaled(got, exact, BACKWARD_REL[np.dtype(dtype)] / np.finfo(dtype).eps,
                      convention=name, size=size, lo=lo, hi=hi, a=a)


@needs_backward
def test_backward_dy_shape():
    x = np.ones((2, 7, 3, 4), np.float32)
    with pytest.raises(ValueError, match="dy"):
        torch.local_response_norm_backward(x, x[:, :3], 3)


# ---------------------------------------------------------------- require()

def test_require_skips_outside_ci_and_fails_in_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="not installed"):
        require("fastlrn_no_such_framework")
    monkeypatch.setenv("CI", "1")
    with pytest.raises(pytest.fail.Exception, match="CI"):
        require("fastlrn_no_such_framework")
    assert require("numpy") is np
