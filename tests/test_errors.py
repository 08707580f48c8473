"""Every rejected argument: exact exception type, a message that names the
parameter and what was received, never a Cython buffer error."""

import re

import numpy as np
import pytest

import fastlrn

X4 = np.ones((2, 3, 4, 5), dtype=np.float32)
X2 = np.ones((3, 4), dtype=np.float32)

# (id, call kwargs besides x, exception type, parameter name, text of the
# received value that the message must contain)
PARAMETER_CASES = [
    ("size=0", dict(size=0), ValueError, "size", "0"),
    ("size=-1", dict(size=-1), ValueError, "size", "-1"),
    ("size=2.0", dict(size=2.0), TypeError, "size", "2.0"),
    ("size=True", dict(size=True), TypeError, "size", "True"),
    ("size='5'", dict(size="5"), TypeError, "size", "5"),
    ("size=None", dict(size=None), TypeError, "size", "None"),
    ("size=np.float64", dict(size=np.float64(3)), TypeError, "size", "3"),
    ("alpha=nan", dict(alpha=float("nan")), ValueError, "alpha", "nan"),
    ("alpha=inf", dict(alpha=float("inf")), ValueError, "alpha", "inf"),
    ("alpha=-inf", dict(alpha=-np.inf), ValueError, "alpha", "inf"),
    ("alpha='x'", dict(alpha="x"), TypeError, "alpha", "x"),
    ("alpha=None", dict(alpha=None), TypeError, "alpha", "None"),
    ("alpha=1j", dict(alpha=1j), TypeError, "alpha", "1j"),
    ("alpha=array", dict(alpha=np.array([1.0, 2.0])), TypeError, "alpha", "1."),
    ("beta=-0.5", dict(beta=-0.5), ValueError, "beta", "-0.5"),
    ("beta=nan", dict(beta=np.nan), ValueError, "beta", "nan"),
    ("beta=None", dict(beta=None), TypeError, "beta", "None"),
    ("k=-1", dict(k=-1), ValueError, "k", "-1"),
    ("k=inf", dict(k=np.inf), ValueError, "k", "inf"),
    ("k='2'", dict(k="2"), TypeError, "k", "2"),
    ("region='both'", dict(region="both"), ValueError, "region", "both"),
    ("region=1", dict(region=1), TypeError, "region", "1"),
    ("region='Across'", dict(region="Across"), ValueError, "region", "Across"),
    ("channel_axis=4", dict(channel_axis=4), ValueError, "channel_axis", "4"),
    ("channel_axis=-5", dict(channel_axis=-5), ValueError, "channel_axis", "-5"),
    ("channel_axis=1.5", dict(channel_axis=1.5), TypeError, "channel_axis", "1.5"),
    ("channel_axis=True", dict(channel_axis=True), TypeError, "channel_axis", "True"),
    ("channel_axis=None", dict(channel_axis=None), TypeError, "channel_axis", "None"),
    ("average='yes'", dict(average="yes"), TypeError, "average", "yes"),
    ("average=None", dict(average=None), TypeError, "average", "None"),
    ("num_threads=0", dict(num_threads=0), ValueError, "num_threads", "0"),
    ("num_threads=1.5", dict(num_threads=1.5), TypeError, "num_threads", "1.5"),
    ("num_threads='2'", dict(num_threads="2"), TypeError, "num_threads", "2"),
]


def _check_message(excinfo, name, received):
    msg = str(excinfo.value)
    # Cython's own buffer errors must never reach a user.
    assert "Buffer" not in msg and "memoryview" not in msg, msg
    assert received in msg, f"message does not show the received {received!r}: {msg}"
    return msg


@pytest.mark.parametrize("kwargs, exc, name, received",
                         [c[1:] for c in PARAMETER_CASES],
                         ids=[c[0] for c in PARAMETER_CASES])
def test_bad_parameter(kwargs, exc, name, received):
    with pytest.raises(exc, match=rf"\b{re.escape(name)}\b") as excinfo:
        fastlrn.lrn(X4, **kwargs)
    _check_message(excinfo, name, received)


@pytest.mark.parametrize("x, received", [
    (np.ones((2, 3), dtype=np.complex128), "complex128"),
    (np.ones((2, 3), dtype=np.complex64), "complex64"),
    (np.array([[1.0, 2.0]], dtype=object), "object"),
    (np.array([["a", "b"]]), "<U1"),
    (np.array([[b"a", b"b"]]), "S1"),
    (np.zeros((2, 3), dtype="datetime64[s]"), "datetime64"),
    (np.zeros((2, 3), dtype="timedelta64[s]"), "timedelta64"),
    ([[1 + 1j, 2.0]], "complex128"),
], ids=["complex128", "complex64", "object", "str", "bytes", "datetime64",
        "timedelta64", "complex-list"])
def test_bad_input_dtype(x, received):
    with pytest.raises(TypeError, match=r"\bx\b") as excinfo:
        fastlrn.lrn(x)
    _check_message(excinfo, "x", received)


@pytest.mark.skipif(np.result_type(np.longdouble, np.float32) == np.float64,
                    reason="longdouble is float64 here and is accepted")
def test_longdouble_input_is_rejected():
    # result_type(longdouble, float32) is longdouble: not float32/float64.
    # Not in SPEC's list; fastlrn rejects it rather than silently dropping
    # precision by computing in float64.
    with pytest.raises(TypeError, match=r"\bx\b") as excinfo:
        fastlrn.lrn(np.ones((2, 3), dtype=np.longdouble))
    _check_message(excinfo, "x", str(np.dtype(np.longdouble)))


@pytest.mark.parametrize("x, kwargs, received", [
    (np.float32(1.0), {}, "0"),
    (np.ones(4, dtype=np.float32), {}, "1"),
    (np.ones(4, dtype=np.float32), dict(region="within", channel_axis=0), "1"),
    (X2, dict(region="within"), "2"),
    (X2, dict(region="within", channel_axis=-1), "2"),
], ids=["0-d", "1-d", "1-d-within", "2-d-within", "2-d-within-last"])
def test_bad_rank(x, kwargs, received):
    with pytest.raises(ValueError) as excinfo:
        fastlrn.lrn(x, **kwargs)
    msg = _check_message(excinfo, "x", received)
    assert "dimension" in msg or "axis" in msg, msg


def test_within_channel_axis_0_is_valid():
    # channel_axis=0: every other axis is spatial (2-D: a 1-D window).
    for x in (X2, np.ones((2, 3, 4))):
        y = fastlrn.lrn(x, region="within", channel_axis=0, size=3)
        assert y.shape == x.shape


def _out_cases():
    buf = np.zeros(X4.size + 1, dtype=np.float32)
    x_shifted = buf[:-1].reshape(X4.shape)
    out_shifted = buf[1:].reshape(X4.shape)
    ro = np.empty(X4.shape, dtype=np.float32)
    ro.flags.writeable = False
    return [
        ("wrong-shape", X4, np.empty((2, 3, 4, 4), np.float32), ValueError, "(2, 3, 4, 4)"),
        ("wrong-ndim", X4, np.empty(X4.size, np.float32), ValueError, "120"),
        ("wrong-dtype", X4, np.empty(X4.shape, np.float64), TypeError, "float64"),
        ("int-input-f64-out", X4.astype(np.int16), np.empty(X4.shape, np.float64),
         TypeError, "float64"),
        ("list", X4, np.zeros(X4.shape).tolist(), TypeError, "list"),
        ("read-only", X4, ro, ValueError, "read-only"),
        ("partial-overlap", x_shifted, out_shifted, ValueError, "overlap"),
        ("transposed-self", X4.reshape(2, 3, 4, 5).copy(), None, ValueError, "overlap"),
    ]


@pytest.mark.parametrize("x, out, exc, received",
                         [c[1:] for c in _out_cases()],
                         ids=[c[0] for c in _out_cases()])
def test_bad_out(x, out, exc, received):
    if out is None:
        # A view of x itself with other strides (same memory, not x): partial
        # overlap too. Square spatial axes so that the shape matches.
        x = np.ones((2, 3, 4, 4), dtype=np.float32)
        out = x.swapaxes(2, 3)
    before = x.copy()
    with pytest.raises(exc, match="out") as excinfo:
        fastlrn.lrn(x, out=out)
    _check_message(excinfo, "out", received)
    np.testing.assert_array_equal(x, before)


def test_errors_are_raised_before_any_work():
    # A bad scalar must not leave out half written.
    out = np.full(X4.shape, 7.0, dtype=np.float32)
    with pytest.raises(ValueError, match="beta"):
        fastlrn.lrn(X4, beta=-1.0, out=out)
    assert (out == 7.0).all()


@pytest.mark.parametrize("kwargs", [
    dict(size=np.int64(3)), dict(size=np.uint8(3)), dict(alpha=np.float32(0.5)),
    dict(beta=np.float64(0.75)), dict(k=np.int64(2)), dict(k=0), dict(beta=0),
    dict(channel_axis=np.int32(-3)), dict(average=np.bool_(True)),
    dict(num_threads=np.int64(2)), dict(num_threads=-1), dict(alpha=-1e-4),
    dict(alpha=1), dict(k=2),
], ids=lambda kw: ",".join(f"{k}={type(v).__name__}({v})" for k, v in kw.items()))
def test_accepted_numpy_scalars_and_edges(kwargs):
    # NumPy scalars and Python ints are accepted wherever their value is
    # valid, and give what the equivalent plain value gives.
    x = np.arange(120, dtype=np.float32).reshape(X4.shape) / 50
    plain = {k: (v.item() if isinstance(v, np.generic) else v)
             for k, v in kwargs.items()}
    np.testing.assert_array_equal(fastlrn.lrn(x, **kwargs), fastlrn.lrn(x, **plain))


def test_unknown_keyword_and_positional_limits():
    with pytest.raises(TypeError):
        fastlrn.lrn(X4, sizes=3)
    # region and later are keyword-only.
    with pytest.raises(TypeError):
        fastlrn.lrn(X4, 5, 1e-4, 0.75, 2.0, "across")
