"""Helpers for the compat tests: importing real frameworks, running their LRN,
and oracles with an explicit window.

``require(name)`` imports a framework for a test. Outside CI a missing one
skips the test with the reason shown (``-ra`` prints it); with the ``CI``
environment variable set it fails, so CI cannot pass by skipping.
"""

import importlib
import itertools
import os
import warnings

import numpy as np
import pytest

from fastlrn import _api, reference

HAVE_BACKWARD = hasattr(_api, "_backward")
needs_backward = pytest.mark.skipif(not HAVE_BACKWARD, reason="lrn_backward not built yet")

# The gradient is a difference of two terms, so an elementwise ulp bound
# cannot hold where they cancel; gradient errors are measured against the
# array's scale, max |exact|. Issue 3's bound for fastlrn's gradient:
BACKWARD_REL = {np.dtype(np.float32): 4e-6, np.dtype(np.float64): 1e-12}


def require(name):
    """Import and return module ``name``, or skip (fail under CI) if it is missing."""
    if name == "tensorflow":
        # TensorFlow's C++ start-up chatter (CPU features, oneDNN notes).
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        with warnings.catch_warnings():
            # pytest turns warnings into errors; a framework's own import-time
            # deprecation notices are not this project's to fix.
            warnings.simplefilter("ignore")
            return importlib.import_module(name)
    except ImportError as e:
        if os.environ.get("CI"):
            pytest.fail(f"{name} must be installed in CI (the CI environment variable is "
                        f"set, so a missing framework is an error, not a skip): {e}",
                        pytrace=False)
        pytest.skip(f"{name} is not installed ({e}); .ci/run installs it")


# ---------------------------------------------------------------- oracles


def spatial_axes(ndim, channel_axis):
    c = channel_axis % ndim
    return tuple(ax for ax in range(ndim) if ax not in (0, c))


def window_axes(ndim, region, channel_axis):
    return (channel_axis % ndim,) if region == "across" else spatial_axes(ndim, channel_axis)


def forward_oracle(x, lo, hi, a, beta, k, region="across", channel_axis=1):
    """The reference for a result of x's dtype: float64 for float32 results
    (SPEC section 4 measures float32 against the correctly rounded float64
    value), longdouble for float64 results where it is wider than float64."""
    x = np.asarray(x)
    exact = x.dtype == np.float64 and reference.LONGDOUBLE_IS_EXTENDED
    fn = reference.lrn_exact if exact else reference.lrn
    return fn(x, lo, hi, a, beta, k, region=region, channel_axis=channel_axis)


def _box(v, lo, hi, axes):
    """out[p] = sum of v[p + d], d in [-lo, hi] along every axis in axes (0 outside)."""
    total = np.zeros_like(v)
    ranges = [range(-min(lo, v.shape[ax]), min(hi, v.shape[ax]) + 1) for ax in axes]
    for offsets in itertools.product(*ranges):
        total += reference._shifted(v, dict(zip(axes, offsets)))
    return total


def backward_oracle(x, dy, lo, hi, a, beta, k, region="across", channel_axis=1):
    """SPEC section 1's gradient in float64, for the window [i - lo, i + hi].

    dx(q) = g(q) s(q)^-beta - 2 a beta x(q) sum_{p : q in W(p)} g(p) x(p) s(p)^(-beta-1);
    the p with q in W(p) form the mirrored window [q - hi, q + lo].
    """
    x = np.asarray(x, dtype=np.float64)
    g = np.asarray(dy, dtype=np.float64)
    axes = window_axes(x.ndim, region, channel_axis)
    with np.errstate(all="ignore"):
        s = k + a * _box(x * x, lo, hi, axes)
        mirrored = _box(g * x * s ** (-beta - 1), hi, lo, axes)
        return g * s ** -beta - 2 * a * beta * x * mirrored


def scaled_error(result, exact):
    """max |result - exact| in units of eps(result dtype) * max |exact|."""
    result = np.asarray(result)
    exact = np.asarray(exact, dtype=np.float64)
    scale = np.abs(exact).max()
    if scale == 0:
        return float(np.abs(result).max())
    return float(np.abs(result.astype(np.float64) - exact).max()
                 / (np.finfo(result.dtype).eps * scale))


def assert_scaled(result, exact, max_eps, **params):
    """``scaled_error(result, exact) <= max_eps``, printing every parameter."""
    err = scaled_error(result, exact)
    desc = ", ".join(f"{k}={v!r}" for k, v in params.items())
    assert err <= max_eps, (f"error {err:.3g} eps * max|exact| exceeds {max_eps}; "
                            f"dtype={np.asarray(result).dtype}, "
                            f"shape={np.shape(result)}; {desc}")
    return err


# ---------------------------------------------------------------- frameworks


def torch_forward(torch, x, size, alpha, beta, k):
    return torch.nn.functional.local_response_norm(
        torch.from_numpy(x), size, alpha=alpha, beta=beta, k=k).numpy()


def torch_backward(torch, x, dy, size, alpha, beta, k):
    """x.grad from autograd for the upstream gradient dy."""
    xt = torch.from_numpy(x).requires_grad_(True)
    y = torch.nn.functional.local_response_norm(xt, size, alpha=alpha, beta=beta, k=k)
    y.backward(torch.from_numpy(dy))
    return xt.grad.numpy()


def tf_forward(tf, x, depth_radius, bias, alpha, beta):
    return tf.nn.lrn(tf.constant(x), depth_radius, bias=bias, alpha=alpha,
                     beta=beta).numpy()


def tf_backward(tf, x, dy, depth_radius, bias, alpha, beta):
    """The input gradient from GradientTape (TensorFlow's LRNGrad kernel)."""
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        y = tf.nn.lrn(xt, depth_radius, bias=bias, alpha=alpha, beta=beta)
    return tape.gradient(y, xt, output_gradients=tf.constant(dy)).numpy()


def onnx_lrn_model(onnx, shape, size, alpha, beta, bias, opset=13):
    """A one-node ONNX model Y = LRN(X) for float32 X of ``shape``."""
    h, T = onnx.helper, onnx.TensorProto
    node = h.make_node("LRN", ["X"], ["Y"], size=size, alpha=alpha, beta=beta, bias=bias)
    graph = h.make_graph([node], "lrn", [h.make_tensor_value_info("X", T.FLOAT, list(shape))],
                         [h.make_tensor_value_info("Y", T.FLOAT, list(shape))])
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", opset)])
    model.ir_version = 8  # readable by every onnxruntime release with opset 13
    onnx.checker.check_model(model)
    return model


def ort_forward(onnx, ort, x, size, alpha, beta, bias):
    model = onnx_lrn_model(onnx, x.shape, size, alpha, beta, bias)
    sess = ort.InferenceSession(model.SerializeToString(),
                                providers=["CPUExecutionProvider"])
    return sess.run(None, {"X": x})[0]


def openvino_forward(ov, x, size, alpha, beta, bias, axes):
    """OpenVINO's LRN operation (opset 1) compiled for the CPU plugin."""
    from openvino import opset1 as ops
    param = ops.parameter(list(x.shape), ov.Type.f32)
    node = ops.lrn(param, ops.constant(np.array(axes, dtype=np.int64)), alpha, beta,
                   bias, size)
    compiled = ov.Core().compile_model(ov.Model([node], [param]), "CPU")
    return compiled(x)[0]
