"""Linear family (the fused y = act(x @ w^T + b), F.linear, nn.Linear and its init) against NumPy float64, gradcheck and PyTorch."""
import math

import numpy as np
import pytest

import deepcore
import deepcore.nn as nn
from deepcore.ops.linear import linear
from helpers import assert_close, check_op, functional_of as fn, numpy_state


def ref_linear(x, w, b=None, relu=False):
    y = x @ w.T + (b if b is not None else 0.0)
    return np.maximum(y, 0.0) if relu else y


@pytest.mark.parametrize("m,k,n", [(1, 1, 1), (4, 3, 5), (7, 13, 10), (33, 17, 16), (2, 0, 3)])
@pytest.mark.parametrize("relu", [False, True])
def test_linear_with_bias(m, k, n, relu):
    check_op(f"linear relu={relu}", lambda x, w, b: linear(x, w, b, relu=relu),
             lambda x, w, b: ref_linear(x, w, b, relu), shapes=[(m, k), (n, k), (n,)],
             torch_fn=lambda x, w, b: (__import__("torch").nn.functional.linear(x, w, b).relu() if relu else
                                       __import__("torch").nn.functional.linear(x, w, b)))


@pytest.mark.parametrize("relu", [False, True])
def test_linear_without_bias(relu):
    check_op("linear no bias", lambda x, w: linear(x, w, None, relu=relu), lambda x, w: ref_linear(x, w, None, relu),
             shapes=[(6, 5), (4, 5)], torch_fn=False)


def test_transposed_and_batched_operands():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 8)).astype(np.float32)
    kernel = rng.standard_normal((8, 5)).astype(np.float32)  # Keras layout (in, out)
    b = rng.standard_normal(5).astype(np.float32)
    w = deepcore.tensor(kernel).t()  # (out, in) read through strides, as Keras' Dense does
    assert not w.is_contiguous()
    xt = deepcore.tensor(x.transpose(0, 2, 1).copy()).transpose(1, 2)  # a strided input
    out = linear(xt, w, deepcore.tensor(b), relu=True)
    np.testing.assert_allclose(out.numpy(), np.maximum(x @ kernel + b, 0), rtol=1e-5, atol=1e-5)


def test_nn_linear_and_keras_dense_use_it():
    layer = deepcore.nn.Linear(4, 3)
    x = deepcore.randn(2, 4)
    assert layer(x).grad_fn.name == "Linear"
    ref = x.numpy() @ layer.weight.detach().numpy().T + layer.bias.detach().numpy()
    np.testing.assert_allclose(layer(x).detach().numpy(), ref, rtol=1e-5, atol=1e-6)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="linear"):
        linear(deepcore.randn(2, 3), deepcore.randn(4, 5))
    with pytest.raises(ValueError, match="bias"):
        linear(deepcore.randn(2, 3), deepcore.randn(4, 3), deepcore.randn(5))
    with pytest.raises(ValueError, match="linear"):
        deepcore._C.linear_forward(deepcore.randn(2, 3)._data, deepcore.randn(4, 5)._data)
    with pytest.raises(TypeError, match="linear"):
        deepcore._C.linear_forward(deepcore.randn(2, 3)._data, deepcore.randn(4, 3).double()._data)


# ---- nn.Linear and F.linear ------------------------------------------------------------------

def test_linear(rng):
    w, b = rng.uniform(-1, 1, (3, 4)), rng.uniform(-1, 1, 3)
    check_op("linear", lambda x, w_, b_: fn(x).linear(x, w_, b_), lambda x, w_, b_: x @ w_.T + b_,
             arrays=[rng.uniform(-2, 2, (5, 4)), w, b], rng=rng)
    check_op("linear_3d", lambda x, w_: fn(x).linear(x, w_), lambda x, w_: x @ w_.T,
             arrays=[rng.uniform(-2, 2, (2, 3, 4)), w], rng=rng)
    with pytest.raises(ValueError, match=r"\(5, 3\).*\(3, 4\)"):
        nn.Linear(4, 3)(deepcore.randn(5, 3))


def test_linear_module_matches_torch(torch, rng):
    tm = torch.nn.Linear(5, 3)
    dm = nn.Linear(5, 3)
    dm.load_state_dict(numpy_state(tm))
    x = rng.standard_normal((4, 5)).astype(np.float32)
    tx, dx = torch.tensor(x), deepcore.tensor(x)
    tm(tx).square().sum().backward()
    out = dm(dx)
    (out * out).sum().backward()
    assert_close(out.detach().numpy(), tm(tx).detach().numpy(), 1e-5, 1e-5, "Linear vs torch")
    assert_close(dm.weight.grad.numpy(), tm.weight.grad.numpy(), 1e-4, 1e-4, "Linear weight grad vs torch")
    assert_close(dm.bias.grad.numpy(), tm.bias.grad.numpy(), 1e-4, 1e-4, "Linear bias grad vs torch")


def test_default_linear_init_like_pytorch():
    layer = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)  # kaiming_uniform(a=sqrt(5)) and the bias rule both give 1/sqrt(fan_in)
    w, b = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.02 * bound  # U(-a, a) has std a/sqrt(3)
    deepcore.manual_seed(7)
    first = nn.Linear(3, 2).weight.detach().numpy().copy()
    deepcore.manual_seed(7)
    assert np.array_equal(first, nn.Linear(3, 2).weight.detach().numpy())
