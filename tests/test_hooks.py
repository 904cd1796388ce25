"""Tensor.register_hook and retain_grad: gradients seen and replaced on the way, kept on non-leaves."""
import numpy as np
import pytest

import deepcore


def leaf(values, dtype=deepcore.float64):
    return deepcore.tensor(values, dtype=dtype, requires_grad=True)


def test_register_hook_sees_and_replaces_gradients(torch):
    seen = []
    x = leaf([1.0, 2.0, 3.0])
    y = x * 2.0
    h = y.register_hook(lambda g: seen.append(g.numpy().copy()))
    y.register_hook(lambda g: g * 10.0)  # replaces the gradient that flows on to x
    (y * y).sum().backward()
    np.testing.assert_allclose(seen[0], [4.0, 8.0, 12.0])
    np.testing.assert_allclose(x.grad.numpy(), [80.0, 160.0, 240.0])
    tx = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64, requires_grad=True)
    ty = tx * 2.0
    ty.register_hook(lambda g: g * 10.0)
    (ty * ty).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())
    h.remove()
    x.grad = None
    y = x * 2.0
    y.sum().backward()
    assert len(seen) == 1  # that hook was on the old graph's node, and was removed anyway


def test_hook_on_a_leaf_runs_before_accumulation():
    x = leaf([1.0, 2.0])
    calls = []
    x.register_hook(lambda g: calls.append(1) or g * 0.5)
    (x * 3.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.5, 1.5])
    (x * 3.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])
    assert len(calls) == 2


def test_retain_grad_keeps_a_non_leaf_gradient(torch):
    x = leaf([1.0, 2.0])
    y = x * x
    y.retain_grad()
    assert y.retains_grad and not x.retains_grad
    z = (y * 3.0).sum()
    z.backward(retain_graph=True)
    np.testing.assert_allclose(y.grad.numpy(), [3.0, 3.0])
    z.backward()
    np.testing.assert_allclose(y.grad.numpy(), [6.0, 6.0])  # accumulates, as PyTorch's
    x.retain_grad()  # a leaf: nothing to do
    with pytest.raises(RuntimeError, match="register_hook"):
        deepcore.ones(2).register_hook(lambda g: g)
    with pytest.raises(RuntimeError, match="retain_grad"):
        deepcore.ones(2).retain_grad()
    with pytest.raises(RuntimeError, match="hook must return None or a tensor"):
        w = leaf([1.0])
        w.register_hook(lambda g: deepcore.ones(3))
        (w * 2.0).sum().backward()
