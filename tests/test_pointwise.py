"""Pointwise family (rsqrt, NaN/inf tests, nan_to_num, logical/bitwise on bool, clamp_min/max, lerp,
addcmul/addcdiv, isclose/allclose/equal) against NumPy float64, gradcheck and PyTorch."""
import numpy as np
import pytest

import deepcore
from helpers import check_op, lib, raises

SPECIAL = np.array([[1.0, np.nan, -np.inf, 0.0], [np.inf, -2.5, 3.0, np.nan]])


def test_rsqrt(rng):
    check_op("rsqrt", lambda x: lib(x).rsqrt(x), lambda x: 1 / np.sqrt(x), [(3, 4)], rng=rng, low=0.3, high=3.0)
    assert deepcore.rsqrt(deepcore.tensor([4])).tolist() == [0.5]


@pytest.mark.parametrize("name", ["isnan", "isinf", "isfinite", "isposinf", "isneginf"])
def test_nan_and_inf_tests(name, torch):
    ours = getattr(deepcore, name)(deepcore.tensor(SPECIAL))
    theirs = getattr(torch, name)(torch.tensor(SPECIAL))
    assert ours.dtype is deepcore.bool
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    np.testing.assert_array_equal(getattr(deepcore, name)(deepcore.tensor([1, 2])).numpy(),
                                  getattr(torch, name)(torch.tensor([1, 2])).numpy())


def test_nan_to_num(rng, torch):
    for kw in ({}, {"nan": 1.0}, {"nan": -1.0, "posinf": 9.0, "neginf": -9.0}):
        for dt in (np.float32, np.float64):
            ours = deepcore.tensor(SPECIAL.astype(dt)).nan_to_num(**kw).numpy()
            np.testing.assert_array_equal(ours, torch.tensor(SPECIAL.astype(dt)).nan_to_num(**kw).numpy())
    check_op("nan_to_num", lambda x: lib(x).nan_to_num(x), np.nan_to_num, [(3, 4)], rng=rng)
    x = deepcore.tensor(SPECIAL, requires_grad=True)
    x.nan_to_num().sum().backward()  # no gradient where a value was replaced (PyTorch's too)
    np.testing.assert_array_equal(x.grad.numpy(), np.isfinite(SPECIAL).astype(float))
    y = deepcore.tensor(SPECIAL)
    assert y.nan_to_num_() is y and np.isfinite(y.numpy()).all()


def test_logical_and_bool_bitwise(torch):
    a = np.array([True, False, True, False])
    b = np.array([True, True, False, False])
    f = np.array([0.0, 2.0, -1.0, 0.0])
    for name in ("logical_and", "logical_or", "logical_xor"):
        for x, y in ((a, b), (a, f), (f, b)):
            ours = getattr(deepcore, name)(deepcore.tensor(x), deepcore.tensor(y))
            np.testing.assert_array_equal(ours.numpy(), getattr(torch, name)(torch.tensor(x), torch.tensor(y)).numpy())
    np.testing.assert_array_equal(deepcore.logical_not(deepcore.tensor(f)).numpy(), np.logical_not(f))
    da, db = deepcore.tensor(a), deepcore.tensor(b)
    np.testing.assert_array_equal((da & db).numpy(), a & b)
    np.testing.assert_array_equal((da | db).numpy(), a | b)
    np.testing.assert_array_equal((da ^ db).numpy(), a ^ b)
    np.testing.assert_array_equal((~da).numpy(), ~a)
    np.testing.assert_array_equal((True & da).numpy(), a)
    assert deepcore.bitwise_not(deepcore.tensor([0, 5, -3])).tolist() == [-1, -6, 2]
    mask = (deepcore.tensor(f) > 0) & (deepcore.tensor(f) < 3)
    assert mask.tolist() == [False, True, False, False]


def test_clamp_min_max_lerp(rng):
    check_op("clamp_min", lambda x: lib(x).clamp_min(x, 0.3), lambda x: np.maximum(x, 0.3), [(3, 4)], rng=rng)
    check_op("clamp_max", lambda x: x.clamp_max(-0.2), lambda x: np.minimum(x, -0.2), [(3, 4)], rng=rng)
    check_op("lerp scalar", lambda s, e: lib(s).lerp(s, e, 0.3), lambda s, e: s + 0.3 * (e - s), [(3, 4), (3, 4)],
             rng=rng)
    check_op("lerp tensor", lambda s, e, w: s.lerp(e, w), lambda s, e, w: s + w * (e - s), [(3, 4), (4,), (3, 1)],
             rng=rng)


def test_addcmul_addcdiv(rng):
    check_op("addcmul", lambda a, b, c: lib(a).addcmul(a, b, c, value=0.5), lambda a, b, c: a + 0.5 * b * c,
             [(3, 4), (3, 4), (4,)], rng=rng)
    c = rng.choice([-1.0, 1.0], size=(3, 4)) * rng.uniform(0.5, 2.0, size=(3, 4))
    check_op("addcdiv", lambda a, b, c: a.addcdiv(b, c, value=-2), lambda a, b, c: a - 2 * b / c,
             arrays=[rng.standard_normal((3, 4)), rng.standard_normal((3, 4)), c])
    x = deepcore.zeros(2)
    assert x.addcmul_(deepcore.ones(2), deepcore.full((2,), 3.0), value=2) is x and x.tolist() == [6.0, 6.0]
    x.addcdiv_(deepcore.ones(2), deepcore.full((2,), 4.0))
    assert x.tolist() == [6.25, 6.25]


def test_isclose_allclose_equal(torch):
    a = np.array([1.0, 1.0 + 1e-6, np.inf, np.nan, -np.inf, 2.0])
    b = np.array([1.0, 1.0, np.inf, np.nan, np.inf, 2.1])
    for kw in ({}, {"equal_nan": True}, {"rtol": 0.1}, {"atol": 0.0, "rtol": 0.0}):
        np.testing.assert_array_equal(deepcore.isclose(deepcore.tensor(a), deepcore.tensor(b), **kw).numpy(),
                                      torch.isclose(torch.tensor(a), torch.tensor(b), **kw).numpy())
    assert deepcore.allclose(deepcore.ones(3), deepcore.ones(3) + 1e-9)
    assert not deepcore.ones(3).allclose(deepcore.zeros(3))
    assert deepcore.equal(deepcore.tensor([1, 2]), deepcore.tensor([1, 2]))
    assert not deepcore.equal(deepcore.tensor([1, 2]), deepcore.tensor([1, 3]))
    assert not deepcore.tensor([1.0]).equal(deepcore.tensor([1.0, 1.0]))


def test_pointwise_errors():
    with raises(NotImplementedError, "bitwise_and", "int64"):
        deepcore.tensor([1, 2]) & deepcore.tensor([3, 4])
    with raises(TypeError, "bitwise_not", "float32"):
        ~deepcore.tensor([1.0])
    with raises(RuntimeError, "lerp", "float"):
        deepcore.lerp(deepcore.tensor([1, 2]), deepcore.tensor([1, 2]), 0.5)
    with raises(RuntimeError, "isclose", "float64"):
        deepcore.isclose(deepcore.ones(2), deepcore.ones(2, dtype=deepcore.float64))
    with raises(RuntimeError, "addcdiv", "integer division"):
        deepcore.addcdiv(deepcore.tensor([1]), deepcore.tensor([1]), deepcore.tensor([2]))
    with raises(RuntimeError, "nan_to_num_", "leaf Variable"):
        deepcore.ones(2, requires_grad=True).nan_to_num_()
