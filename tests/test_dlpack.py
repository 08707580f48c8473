"""DLPack inputs: CPU tensors of other libraries without a copy, clear errors
for device arrays and for tensors that require grad (SPEC section 2, issue 7)."""

import numpy as np
import pytest

import fastlrn
from fastlrn import _validation as V
from _frameworks import require

P = dict(size=4, alpha=1e-2, beta=0.75, k=1.0)


@pytest.fixture(scope="module")
def torch():
    return require("torch")


def test_torch_tensor_zero_copy(torch):
    t = torch.randn(2, 6, 5, 4)
    view = V.as_array(t)
    assert np.shares_memory(view, t.numpy())  # the kernel reads the tensor's memory
    x = t.numpy().copy()
    np.testing.assert_array_equal(fastlrn.lrn(t, **P), fastlrn.lrn(x, **P))
    dy = torch.randn(2, 6, 5, 4)
    np.testing.assert_array_equal(fastlrn.lrn_backward(t, dy, **P),
                                  fastlrn.lrn_backward(x, dy.numpy(), **P))
    assert np.array_equal(t.numpy(), x)  # input unchanged


def test_torch_strided_tensor_zero_copy(torch):
    # Transposed and sliced: DLPack carries the strides, still no copy.
    t = torch.randn(2, 8, 6, 5).transpose(1, 3)[:, ::2]
    assert not t.is_contiguous()
    assert np.shares_memory(V.as_array(t), t.numpy())
    np.testing.assert_array_equal(fastlrn.lrn(t, **P), fastlrn.lrn(t.numpy().copy(), **P))


def test_torch_in_place_through_numpy_view(torch):
    t = torch.randn(2, 6, 3, 3)
    want = fastlrn.lrn(t.numpy().copy(), **P)
    fastlrn.lrn(t, out=t.numpy(), **P)  # writes the tensor's memory
    np.testing.assert_array_equal(t.numpy(), want)


def test_requires_grad_is_a_type_error(torch):
    t = torch.randn(2, 6, 3, 3, requires_grad=True)
    with pytest.raises(TypeError, match=r"x must not require grad.*fastlrn\.torch"):
        fastlrn.lrn(t)
    with pytest.raises(TypeError, match=r"dy must not require grad.*dy\.detach\(\)"):
        fastlrn.lrn_backward(t.detach(), t)
    fastlrn.lrn(t.detach())  # what the message suggests works


def test_unsupported_torch_dtype_is_a_type_error(torch):
    with pytest.raises(TypeError, match="x must be a CPU array; converting it through DLPack"):
        fastlrn.lrn(torch.ones(2, 3, 4, dtype=torch.bfloat16))


class FakeDeviceArray:
    """Something on a DLPack device other than the CPU (2 = kDLCUDA)."""

    def __init__(self, device=(2, 0)):
        self.device = device

    def __dlpack_device__(self):
        return self.device

    def __dlpack__(self, **kwargs):
        raise AssertionError("a device array must be refused before it is exported")


@pytest.mark.parametrize("device", [(2, 0), (10, 1), (13, 0)])
def test_device_array_is_a_type_error(device):
    with pytest.raises(TypeError, match=rf"x must be in CPU memory.*\({device[0]}, "
                                        rf"{device[1]}\)"):
        fastlrn.lrn(FakeDeviceArray(device))
    with pytest.raises(TypeError, match="dy must be in CPU memory"):
        fastlrn.lrn_backward(np.ones((2, 3, 4)), FakeDeviceArray(device))


def test_jax_array_zero_copy():
    jnp = pytest.importorskip("jax.numpy")  # optional: not installed by CI
    a = jnp.asarray(np.random.default_rng(0).standard_normal((2, 6, 5), dtype=np.float32))
    view = V.as_array(a)
    assert np.shares_memory(view, np.from_dlpack(a))
    np.testing.assert_array_equal(fastlrn.lrn(a, **P), fastlrn.lrn(np.asarray(a), **P))
