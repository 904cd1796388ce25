"""Normalization family (F.batch_norm, nn.BatchNorm1d/2d: batch and running statistics) against NumPy float64, gradcheck and PyTorch."""
import numpy as np
import pytest

import deepcore
import deepcore.nn as nn
import deepcore.nn.functional as F
from helpers import assert_close, check_op, functional_of as fn, lib, numpy_state, torch as _torch


@pytest.mark.parametrize("shape,cls", [((6, 4), "BatchNorm1d"), ((5, 3, 7), "BatchNorm1d"),
                                       ((4, 3, 5, 5), "BatchNorm2d")], ids=str)
@pytest.mark.parametrize("momentum,affine", [(0.1, True), (None, True), (0.3, False)])
def test_batchnorm_matches_torch(torch, shape, cls, momentum, affine, rng):
    C = shape[1]
    tm = getattr(torch.nn, cls)(C, momentum=momentum, affine=affine)
    dm = getattr(nn, cls)(C, momentum=momentum, affine=affine)
    if affine:
        with torch.no_grad():
            tm.weight.uniform_(0.5, 1.5)
            tm.bias.uniform_(-0.5, 0.5)
    dm.load_state_dict(numpy_state(tm))
    for step in range(2):
        x = rng.standard_normal(shape).astype(np.float32) * 2 + 1
        g = rng.standard_normal(shape).astype(np.float32)
        tx = torch.tensor(x, requires_grad=True)
        dx = deepcore.tensor(x, requires_grad=True)
        ty, dy = tm(tx), dm(dx)
        ty.backward(torch.tensor(g))
        dy.backward(deepcore.tensor(g))
        assert_close(dy.detach().numpy(), ty.detach().numpy(), 1e-5, 1e-4, f"{cls} train output step {step}")
        assert_close(dx.grad.numpy(), tx.grad.numpy(), 1e-4, 1e-3, f"{cls} input grad step {step}")
        if affine:
            assert_close(dm.weight.grad.numpy(), tm.weight.grad.numpy(), 1e-4, 1e-3, f"{cls} weight grad")
            assert_close(dm.bias.grad.numpy(), tm.bias.grad.numpy(), 1e-4, 1e-3, f"{cls} bias grad")
            dm.zero_grad(), tm.zero_grad()
    for k, v in tm.state_dict().items():
        assert_close(dm.state_dict()[k].numpy(), v.numpy(), 1e-5, 1e-5, f"{cls} {k} after two steps")
    tm.eval(), dm.eval()
    x = rng.standard_normal(shape).astype(np.float32)
    assert_close(dm(deepcore.tensor(x)).detach().numpy(), tm(torch.tensor(x)).detach().numpy(), 1e-5, 1e-4,
                 f"{cls} eval")


def test_batchnorm_reference_and_gradcheck(rng):
    x = rng.standard_normal((4, 3)) * 3 + 2
    w, b = rng.uniform(0.5, 1.5, 3), rng.uniform(-1, 1, 3)

    def ref(x_, w_, b_):
        return (x_ - x_.mean(0)) / np.sqrt(x_.var(0) + 1e-5) * w_ + b_
    check_op("batch_norm_train", lambda x_, w_, b_: fn(x_).batch_norm(x_, None, None, w_, b_, training=True),
             ref, arrays=[x, w, b], rng=rng)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(deepcore.randn(1, 3))
    with pytest.raises(ValueError, match="channels"):
        nn.BatchNorm2d(3)(deepcore.randn(2, 4, 2, 2))


def test_batch_norm_eval_uses_the_running_statistics(rng):
    x = rng.standard_normal((5, 3, 2)) * 2 + 1
    mean, var = rng.uniform(-1, 1, 3), rng.uniform(0.5, 2, 3)
    w, b = rng.uniform(0.5, 1.5, 3), rng.uniform(-1, 1, 3)

    def ref(x_, w_, b_):
        return (x_ - mean[:, None]) / np.sqrt(var[:, None] + 1e-5) * w_[:, None] + b_[:, None]
    check_op("batch_norm_eval", lambda x_, w_, b_: fn(x_).batch_norm(
        x_, lib(x_).tensor(mean, dtype=x_.dtype), lib(x_).tensor(var, dtype=x_.dtype), w_, b_, training=False),
        ref, arrays=[x, w, b], rng=rng)


@pytest.mark.parametrize("momentum", [0.1, 0.3, 1.0])
def test_batch_norm_training_moves_the_running_statistics(momentum, rng):
    x = rng.standard_normal((6, 4, 3)) * 3 + 2
    rm0, rv0 = rng.uniform(-1, 1, 4), rng.uniform(0.5, 2, 4)
    rm, rv = deepcore.tensor(rm0), deepcore.tensor(rv0)
    out = F.batch_norm(deepcore.tensor(x), rm, rv, training=True, momentum=momentum)
    mean, var = x.mean((0, 2)), x.var((0, 2))
    expected = (x - mean[:, None]) / np.sqrt(var[:, None] + 1e-5)
    assert_close(out.numpy(), expected, 1e-10, 1e-9, "batch statistics normalize")
    # the running variance moves toward the unbiased batch variance, as in PyTorch
    assert_close(rm.numpy(), (1 - momentum) * rm0 + momentum * mean, 1e-12, 1e-12, "running_mean")
    assert_close(rv.numpy(), (1 - momentum) * rv0 + momentum * x.var((0, 2), ddof=1), 1e-12, 1e-12, "running_var")
    if _torch is not None:
        trm, trv = _torch.tensor(rm0), _torch.tensor(rv0)
        _torch.nn.functional.batch_norm(_torch.tensor(x), trm, trv, training=True, momentum=momentum)
        assert_close(rm.numpy(), trm.numpy(), 1e-12, 1e-12, "running_mean vs torch")
        assert_close(rv.numpy(), trv.numpy(), 1e-12, 1e-12, "running_var vs torch")


def test_batch_norm_argument_errors():
    with pytest.raises(ValueError, match=r"running_mean of shape \(2,\) does not match the 3 channels"):
        F.batch_norm(deepcore.randn(4, 3), deepcore.zeros(2), deepcore.ones(3))
    with pytest.raises(TypeError, match="batch_norm.*int64"):
        F.batch_norm(deepcore.tensor([[1, 2], [3, 4]]), None, None, training=True)
    with pytest.raises(ValueError, match="batch_norm"):
        F.batch_norm(deepcore.randn(4), None, None, training=True)
