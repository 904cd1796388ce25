"""The test helpers themselves (tests/helpers.py): check_op must fail on wrong values, wrong gradients and a PyTorch mismatch."""
import numpy as np
import pytest

import deepcore
from helpers import check_op, torch as _torch


def test_check_op_catches_wrong_values(rng):
    with pytest.raises(AssertionError, match=r"exp on shapes \[\(3, 2\)\] \[float64\] output 0: max abs error"):
        check_op("exp", lambda a: a.exp(), lambda a: np.exp(a) + 1e-6, [(3, 2)], rng=rng)
    with pytest.raises(AssertionError, match="shape"):
        check_op("sum", lambda a: a.sum(0), lambda a: a.sum(1), [(3, 2)], rng=rng)


def test_check_op_catches_wrong_gradients(rng):
    class BadSquare(deepcore.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return g * x  # should be 2 * g * x

    with pytest.raises(AssertionError, match="gradcheck: gradient of input 0"):
        check_op("bad square", BadSquare.apply, np.square, [(2, 3)], rng=rng, torch_fn=False)
    if _torch is not None:  # the PyTorch comparison catches it too, without finite differences
        with pytest.raises(AssertionError, match="gradient of input 0 vs torch"):
            check_op("bad square", BadSquare.apply, np.square, [(2, 3)], rng=rng, gradcheck=False,
                     torch_fn=lambda a: a * a)


def test_check_op_catches_a_torch_mismatch(rng, torch):
    with pytest.raises(AssertionError, match="vs torch"):
        check_op("tanh", lambda a: a.tanh(), np.tanh, [(4,)], rng=rng, torch_fn=lambda a: a.sigmoid())
