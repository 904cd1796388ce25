"""Scan family (cumsum, cumprod, prod) against NumPy float64, gradcheck and PyTorch, zeros included."""
import numpy as np
import pytest

import deepcore
from helpers import check_op, lib, raises


@pytest.mark.parametrize("shape,dim", [((6,), 0), ((3, 4), 0), ((3, 4), 1), ((2, 3, 4), 1), ((2, 3, 4), -1),
                                       ((), 0)], ids=str)
def test_cumsum(shape, dim, rng):
    check_op(f"cumsum(dim={dim})", lambda x: lib(x).cumsum(x, dim), lambda x: np.cumsum(x, axis=dim if x.ndim else None)
             .reshape(x.shape), [shape], rng=rng)


@pytest.mark.parametrize("shape,dim", [((6,), 0), ((3, 4), 1), ((2, 3, 4), 0), ((2, 3, 4), 2)], ids=str)
def test_cumprod(shape, dim, rng):
    check_op(f"cumprod(dim={dim})", lambda x: x.cumprod(dim), lambda x: np.cumprod(x, axis=dim), [shape], rng=rng,
             low=0.5, high=1.5)


def test_cumprod_gradient_with_zeros_is_exact(rng):
    a = rng.uniform(0.5, 1.5, size=(3, 5))
    a[0, 1] = 0.0
    a[1, 1] = a[1, 3] = 0.0  # two zeros in one line
    a[2, 4] = 0.0
    check_op("cumprod with zeros", lambda x: x.cumprod(1), lambda x: np.cumprod(x, axis=1), arrays=[a])


def test_cumsum_long_lines_and_wide_rows(rng):
    # Beyond one accumulator block (256 columns) and one thread's grain.
    check_op("cumsum wide", lambda x: x.cumsum(0), lambda x: np.cumsum(x, axis=0), [(40, 600)], rng=rng,
             atol={"float64": 1e-10, "float32": 1e-4})
    check_op("cumsum long", lambda x: x.cumsum(1), lambda x: np.cumsum(x, axis=1), [(3, 5000)], rng=rng,
             atol={"float64": 1e-9, "float32": 1e-3})


def test_cumsum_dtypes():
    b = deepcore.tensor([True, False, True])
    assert b.cumsum(0).tolist() == [1, 1, 2] and b.cumsum(0).dtype is deepcore.int64
    assert deepcore.tensor([1, 2, 3]).cumprod(0).tolist() == [1, 2, 6]
    assert deepcore.tensor([1, 2, 3]).cumsum(0, dtype=deepcore.float64).dtype is deepcore.float64


@pytest.mark.parametrize("dim,keepdim", [(None, False), (0, False), (1, True), (-1, False)], ids=str)
def test_prod(dim, keepdim, rng):
    if dim is None:
        fn, ref = (lambda x: x.prod()), (lambda x: np.prod(x))
    else:
        fn = lambda x: lib(x).prod(x, dim, keepdim=keepdim)  # noqa: E731
        ref = lambda x: np.prod(x, axis=dim, keepdims=keepdim)  # noqa: E731
    check_op(f"prod(dim={dim}, keepdim={keepdim})", fn, ref, [(3, 4)], rng=rng, low=0.5, high=1.5)


def test_prod_with_zeros_and_edge_shapes(rng):
    a = rng.uniform(0.5, 1.5, size=(3, 4))
    a[0, 2] = 0.0
    a[1, 0] = a[1, 3] = 0.0
    check_op("prod with zeros", lambda x: x.prod(1), lambda x: np.prod(x, axis=1), arrays=[a])
    check_op("prod 0-d", lambda x: x.prod(), lambda x: np.prod(x), [()], rng=rng)
    assert deepcore.zeros(2, 0).prod(1).tolist() == [1.0, 1.0]
    assert deepcore.tensor([2, 3, 4]).prod().item() == 24
    assert deepcore.tensor([True, True]).prod().dtype is deepcore.int64


def test_scan_errors():
    x = deepcore.ones(2, 3)
    with raises(IndexError, "cumsum", "dim 2"):
        x.cumsum(2)
    with raises(TypeError, "cumprod", "input"):
        deepcore.cumprod([1.0, 2.0], 0)
    with raises(IndexError, "prod", "dim -3"):
        x.prod(-3)
