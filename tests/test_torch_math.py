"""The composite torch math functions (_torch_math.py): each against a float64 NumPy reference, a
finite-difference gradcheck where it is differentiable, and PyTorch on the same inputs (check_op)."""
import math

import numpy as np
import pytest

import deepcore
from helpers import check_op, lib, raises

POSITIVE = dict(low=0.2, high=3.0)


def _logcumsumexp(x, axis):
    m = x.max(axis=axis, keepdims=True)
    return np.log(np.cumsum(np.exp(x - m), axis=axis)) + m


UNARY = [
    ("log2", np.log2, POSITIVE), ("log10", np.log10, POSITIVE), ("exp2", np.exp2, {}),
    ("sinh", np.sinh, {}), ("cosh", np.cosh, {}), ("rad2deg", np.rad2deg, {}), ("deg2rad", np.deg2rad, {}),
    ("sinc", np.sinc, {}), ("logit", lambda x: np.log(x / (1 - x)), dict(low=0.05, high=0.95)),
]


@pytest.mark.parametrize("name,ref,bounds", UNARY, ids=[u[0] for u in UNARY])
def test_unary_functions(name, ref, bounds, rng):
    check_op(name, lambda x: getattr(lib(x), name)(x), ref, [(3, 5)], rng=rng, **bounds)
    check_op(name + " method", lambda x: getattr(x, name)(), ref, [(4,)], rng=rng, **bounds)


def test_sinh_is_exact_near_zero_and_sinc_at_zero():
    x = deepcore.tensor([1e-12, -3e-9], dtype=deepcore.float64)
    np.testing.assert_allclose(deepcore.sinh(x).numpy(), np.sinh(x.numpy()), rtol=1e-15)
    assert deepcore.sinc(deepcore.tensor([0.0])).tolist() == [1.0]


def test_trunc_frac_sgn_and_heaviside(rng, torch):
    a = rng.uniform(-3, 3, size=(4, 5))
    for name, ref in (("trunc", np.trunc), ("fix", np.trunc), ("frac", lambda v: v - np.trunc(v)),
                      ("sgn", np.sign)):
        check_op(name, lambda x: getattr(lib(x), name)(x), ref, arrays=[a], grad=name == "frac")
    assert deepcore.trunc(deepcore.tensor([3, -2])).tolist() == [3, -2]  # integers unchanged
    x = np.array([-1.5, 0.0, 2.0, 0.0])
    out = deepcore.heaviside(deepcore.tensor(x), deepcore.tensor(np.array([0.5, 0.5, 0.5, 7.0])))
    np.testing.assert_array_equal(out.numpy(), np.heaviside(x, [0.5, 0.5, 0.5, 7.0]))
    values = np.array([0.5, 0.5, 0.5, 7.0])
    np.testing.assert_array_equal(out.numpy(), torch.heaviside(torch.tensor(x), torch.tensor(values)).numpy())


def test_binary_functions(rng):
    check_op("logaddexp", lambda x, y: lib(x).logaddexp(x, y), np.logaddexp, [(3, 4), (4,)], rng=rng, low=-5, high=5)
    check_op("hypot", lambda x, y: lib(x).hypot(x, y), np.hypot, [(3, 4), (3, 4)], rng=rng, low=0.2, high=3)
    check_op("xlogy", lambda x, y: lib(x).xlogy(x, y), lambda x, y: x * np.log(y), [(3, 4), (3, 4)], rng=rng,
             low=0.2, high=3)
    big = deepcore.tensor([1000.0, -1000.0], dtype=deepcore.float64)
    np.testing.assert_allclose(deepcore.logaddexp(big, big).numpy(), [1000 + math.log(2), -1000 + math.log(2)])
    inf = deepcore.tensor([-math.inf])
    assert deepcore.logaddexp(inf, inf).tolist() == [-math.inf]
    zero = deepcore.tensor([0.0, 0.0, 1.0])
    np.testing.assert_array_equal(deepcore.xlogy(zero, deepcore.tensor([0.0, 2.0, 1.0])).numpy(), [0.0, 0.0, 0.0])


def test_logcumsumexp(rng):
    check_op("logcumsumexp", lambda x: lib(x).logcumsumexp(x, 1), lambda x: _logcumsumexp(x, 1), [(3, 6)], rng=rng,
             low=-4, high=4)
    big = deepcore.tensor([[800.0, 800.0]], dtype=deepcore.float64)
    np.testing.assert_allclose(deepcore.logcumsumexp(big, 1).numpy(), [[800.0, 800 + math.log(2)]])


def test_diff(rng, torch):
    check_op("diff", lambda x: lib(x).diff(x), lambda x: np.diff(x), [(3, 5)], rng=rng)
    check_op("diff n=2 dim=0", lambda x: lib(x).diff(x, n=2, dim=0), lambda x: np.diff(x, n=2, axis=0), [(5, 3)],
             rng=rng)
    check_op("diff prepend/append", lambda x, p, q: lib(x).diff(x, dim=1, prepend=p, append=q),
             lambda x, p, q: np.diff(x, axis=1, prepend=p, append=q), [(2, 4), (2, 1), (2, 2)], rng=rng)
    with raises(RuntimeError, "one-dimensional"):
        deepcore.diff(deepcore.tensor(1.0))


def test_kron_cross_tensordot_inner(rng):
    check_op("kron", lambda a, b: lib(a).kron(a, b), np.kron, [(2, 3), (3, 2)], rng=rng)
    check_op("kron 1d x 2d", lambda a, b: lib(a).kron(a, b), np.kron, [(3,), (2, 2)], rng=rng)
    check_op("cross", lambda a, b: lib(a).cross(a, b, dim=1), lambda a, b: np.cross(a, b, axis=1),
             [(4, 3), (4, 3)], rng=rng)
    check_op("cross dim 0", lambda a, b: lib(a).cross(a, b, dim=0), lambda a, b: np.cross(a, b, axis=0),
             [(3, 2), (3, 2)], rng=rng)
    check_op("tensordot", lambda a, b: lib(a).tensordot(a, b, dims=2), lambda a, b: np.tensordot(a, b, axes=2),
             [(2, 3, 4), (3, 4, 5)], rng=rng)
    check_op("tensordot lists", lambda a, b: lib(a).tensordot(a, b, dims=([0, 2], [1, 0])),
             lambda a, b: np.tensordot(a, b, axes=([0, 2], [1, 0])), [(2, 3, 4), (4, 2, 5)], rng=rng)
    check_op("inner", lambda a, b: lib(a).inner(a, b), np.inner, [(2, 4), (3, 4)], rng=rng)
    with raises(RuntimeError, "length 3"):
        deepcore.cross(deepcore.ones(2, 4), deepcore.ones(2, 4), dim=1)
    with raises(RuntimeError, "need to match"):
        deepcore.tensordot(deepcore.ones(2, 3), deepcore.ones(2, 3), dims=1)


def test_nansum_nanmean(rng, torch):
    a = rng.normal(size=(4, 5))
    a[rng.random(a.shape) < 0.3] = np.nan
    for dim in (None, 1):
        for name, ref in (("nansum", np.nansum), ("nanmean", np.nanmean)):
            ours = getattr(deepcore, name)(deepcore.tensor(a), dim)
            np.testing.assert_allclose(ours.numpy(), ref(a, axis=dim), rtol=1e-12)
            theirs = getattr(torch, name)(torch.tensor(a)) if dim is None else getattr(torch, name)(torch.tensor(a), dim)
            np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    x = deepcore.tensor(a, requires_grad=True)
    x.nansum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.where(np.isnan(a), 0.0, 1.0))


def test_cov_and_corrcoef(rng, torch):
    check_op("cov", lambda x: lib(x).cov(x), np.cov, [(3, 6)], rng=rng)
    check_op("cov correction=0", lambda x: lib(x).cov(x, correction=0), lambda x: np.cov(x, ddof=0), [(2, 5)], rng=rng)
    check_op("corrcoef", lambda x: lib(x).corrcoef(x), np.corrcoef, [(3, 7)], rng=rng)
    v = rng.normal(size=6)
    np.testing.assert_allclose(deepcore.cov(deepcore.tensor(v)).numpy(), np.cov(v))
    with raises(NotImplementedError, "fweights"):
        deepcore.cov(deepcore.ones(2, 3), fweights=deepcore.ones(3))


def test_bincount(rng, torch):
    x = rng.integers(0, 6, size=20)
    w = rng.normal(size=20)
    np.testing.assert_array_equal(deepcore.bincount(deepcore.tensor(x)).numpy(), np.bincount(x))
    np.testing.assert_allclose(deepcore.bincount(deepcore.tensor(x), deepcore.tensor(w)).numpy(), np.bincount(x, w))
    np.testing.assert_array_equal(deepcore.bincount(deepcore.tensor(x), minlength=9).numpy(),
                                  torch.bincount(torch.tensor(x), minlength=9).numpy())
    assert deepcore.bincount(deepcore.tensor(np.zeros(0, np.int64))).tolist() == []
    with raises(RuntimeError, "non-negative"):
        deepcore.bincount(deepcore.tensor([1, -1]))
    with raises(RuntimeError, "non-negative integral"):
        deepcore.bincount(deepcore.tensor([1.0]))


def test_stacking_and_splitting(rng, torch):
    a, b = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    for name in ("hstack", "vstack", "dstack", "column_stack", "row_stack"):
        ref = getattr(np, name) if name != "row_stack" else np.vstack
        check_op(name, lambda x, y: getattr(lib(x), name)([x, y]), lambda x, y: ref([x, y]), arrays=[a, b])
    v = rng.normal(size=4)
    np.testing.assert_array_equal(deepcore.hstack([deepcore.tensor(v), deepcore.tensor(v)]).numpy(), np.hstack([v, v]))
    np.testing.assert_array_equal(deepcore.column_stack([deepcore.tensor(v), deepcore.tensor(v)]).numpy(),
                                  np.column_stack([v, v]))
    m = deepcore.tensor(rng.normal(size=(4, 6)))
    assert [tuple(t.shape) for t in deepcore.hsplit(m, 3)] == [(4, 2)] * 3
    assert [tuple(t.shape) for t in m.vsplit([1, 3])] == [(1, 6), (2, 6), (1, 6)]
    assert tuple(deepcore.atleast_2d(deepcore.tensor(1.0)).shape) == (1, 1)
    assert [tuple(t.shape) for t in deepcore.atleast_3d(deepcore.ones(2), deepcore.ones(2, 3))] == [(1, 2, 1),
                                                                                                (2, 3, 1)]
    blocks = [rng.normal(size=(2, 2)), rng.normal(size=(1, 3))]
    ours = deepcore.block_diag(*[deepcore.tensor(x) for x in blocks])
    np.testing.assert_array_equal(ours.numpy(), torch.block_diag(*[torch.tensor(x) for x in blocks]).numpy())
    for k in (-1, 0, 1, 2, 3):
        check_op(f"rot90 k={k}", lambda x: lib(x).rot90(x, k, [0, 1]), lambda x: np.rot90(x, k, (0, 1)), [(2, 3, 2)],
                 rng=rng)
    p = deepcore.cartesian_prod(deepcore.tensor([1, 2]), deepcore.tensor([3, 4, 5]))
    np.testing.assert_array_equal(p.numpy(), torch.cartesian_prod(torch.tensor([1, 2]), torch.tensor([3, 4, 5])))
    with raises(TypeError, "tuple or list"):
        deepcore.hstack(deepcore.ones(2))
