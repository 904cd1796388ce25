"""Activation family (softmax, log_softmax, relu/leaky_relu/tanh/sigmoid as F functions and nn layers) against NumPy float64, gradcheck and PyTorch."""
import numpy as np
import pytest

import deepcore
import deepcore.nn.functional as F
from helpers import assert_close, away_from_zero, check_op, functional_of, lib, named, raises, torch as _torch


def softmax_ref(x, axis):
    if x.ndim == 0:
        return np.ones_like(x)
    if x.size == 0:
        return x.copy()
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax_ref(x, axis):
    if x.ndim == 0:
        return np.zeros_like(x)
    if x.size == 0:
        return x.copy()
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


# ---- softmax / log_softmax -------------------------------------------------------------------

@pytest.mark.parametrize("dim", [0, 1, 2, -1, -2])
@pytest.mark.parametrize("name,ref", [("softmax", softmax_ref), ("log_softmax", log_softmax_ref)])
def test_softmax(name, ref, dim, rng):
    check_op(f"{name}(dim={dim})", lambda a: getattr(a, name)(dim), lambda a: ref(a, dim), [(3, 4, 5)], rng=rng)
    check_op(f"deepcore.{name}(dim={dim})", lambda a: getattr(lib(a), name)(a, dim=dim), lambda a: ref(a, dim),
             [(2, 3, 2)], rng=rng)


@pytest.mark.parametrize("shape,dim", [((1,), 0), ((5,), 0), ((1, 4), 0), ((4, 1), 1), ((3, 1000), 1),
                                       ((2, 0), 0), ((0, 3), 1), ((), 0)], ids=str)
@pytest.mark.parametrize("name,ref", [("softmax", softmax_ref), ("log_softmax", log_softmax_ref)])
def test_softmax_shapes(name, ref, shape, dim, rng):
    check_op(f"{name}(dim={dim})", lambda a: getattr(a, name)(dim), lambda a: ref(a, dim), [shape], rng=rng,
             gradcheck=int(np.prod(shape)) <= 60)


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("name,ref", [("softmax", softmax_ref), ("log_softmax", log_softmax_ref)])
def test_softmax_large_values_are_stable(name, ref, dim, rng):
    a = rng.uniform(-1e4, 1e4, (3, 4, 5))
    a[0, 0, :] = 1e4  # a row of equal, huge values
    a[1, :, 1] = -1e4
    check_op(f"{name}(dim={dim}) of values ~1e4", lambda x: getattr(x, name)(dim), lambda x: ref(x, dim),
             arrays=[a], rng=rng)
    out = getattr(deepcore.tensor(a, dtype=deepcore.float32), name)(dim).numpy()
    assert np.isfinite(out).all(), f"{name}: NaN or inf in the float32 output for inputs ~1e4"


def test_softmax_rows_sum_to_one(rng):
    x = deepcore.tensor(rng.standard_normal((6, 9)) * 30)
    assert_close(x.softmax(1).sum(1).numpy(), np.ones(6), 1e-6, 0, "softmax row sums")
    assert_close(x.log_softmax(0).exp().sum(0).numpy(), np.ones(9), 1e-5, 0, "exp(log_softmax) column sums")


# ---- nn activation layers --------------------------------------------------------------------

@pytest.mark.parametrize("name,module,ref", [
    ("relu", lambda ns: ns.ReLU(), lambda x: np.maximum(x, 0)),
    ("leaky_relu", lambda ns: ns.LeakyReLU(0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
    ("tanh", lambda ns: ns.Tanh(), np.tanh),
    ("sigmoid", lambda ns: ns.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
    ("softmax", lambda ns: ns.Softmax(dim=1), lambda x: np.exp(x) / np.exp(x).sum(1, keepdims=True)),
    ("log_softmax", lambda ns: ns.LogSoftmax(dim=1), lambda x: x - np.log(np.exp(x).sum(1, keepdims=True))),
    ("flatten", lambda ns: ns.Flatten(), lambda x: x.reshape(x.shape[0], -1)),
    ("identity", lambda ns: ns.Identity(), lambda x: x),
])
def test_activation_layers(name, module, ref, rng):
    x = rng.choice([-1, 1], (3, 4, 2)) * rng.uniform(0.1, 2, (3, 4, 2))  # away from relu's kink
    check_op(name, lambda t: module(deepcore.nn if isinstance(t, deepcore.Tensor) else _torch.nn)(t), ref,
             arrays=[x], rng=rng)


def test_softmax_implicit_dim_warns_like_pytorch():
    x = deepcore.randn(3, 4)
    with pytest.warns(UserWarning, match="Implicit dimension"):
        y = F.log_softmax(x)
    assert_close(y.numpy(), F.log_softmax(x, dim=1).numpy(), 0, 0, "implicit dim of a 2-D input is 1")


# ---- F activations ---------------------------------------------------------------------------

F_ACTIVATIONS = [
    ("F.relu", lambda a: functional_of(a).relu(a), lambda a: np.maximum(a, 0)),
    ("F.leaky_relu", lambda a: functional_of(a).leaky_relu(a), lambda a: np.where(a > 0, a, 0.01 * a)),
    ("F.leaky_relu 0.3", lambda a: functional_of(a).leaky_relu(a, 0.3), lambda a: np.where(a > 0, a, 0.3 * a)),
    ("F.tanh", lambda a: functional_of(a).tanh(a), np.tanh),
    ("F.sigmoid", lambda a: functional_of(a).sigmoid(a), lambda a: 1 / (1 + np.exp(-a))),
    ("F.softmax", lambda a: functional_of(a).softmax(a, dim=-1), lambda a: softmax_ref(a, -1)),
    ("F.log_softmax", lambda a: functional_of(a).log_softmax(a, dim=0), lambda a: log_softmax_ref(a, 0)),
]


@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 4), (7,)], ids=str)
@pytest.mark.parametrize("name,act,ref", named(F_ACTIVATIONS))
def test_functional_activations(name, act, ref, shape, rng):
    a = away_from_zero(rng, shape, 0.05, 2.0)  # clear of relu's kink, for finite differences
    check_op(name, act, ref, arrays=[a], rng=rng)


def test_functional_activation_errors():
    with pytest.raises(TypeError, match="leaky_relu.*int64"):
        F.leaky_relu(deepcore.tensor([1, 2]))
    with raises(IndexError, "softmax", "dim 2"):
        F.softmax(deepcore.randn(2, 3), dim=2)
    with raises(IndexError, "log_softmax", "dim -3"):
        F.log_softmax(deepcore.randn(2, 3), dim=-3)
