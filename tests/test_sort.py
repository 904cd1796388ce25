"""Sort family (sort/argsort/msort/topk/kthvalue/median/unique) against NumPy float64, gradcheck and PyTorch."""
import numpy as np
import pytest

import deepcore
from helpers import check_op, lib, raises


def _distinct(rng, shape):
    """Values without ties (a sort's indices are then unique), in random order."""
    n = int(np.prod(shape))
    return (rng.permutation(n).reshape(shape) + rng.uniform(0.1, 0.9, size=shape)) / n * 4 - 2


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("shape,dim", [((7,), 0), ((3, 5), 1), ((3, 5), 0), ((2, 3, 4), 1), ((4, 3, 2), -1)], ids=str)
def test_sort_values_indices_and_gradient(shape, dim, descending, rng):
    a = _distinct(rng, shape)

    def ref(x):
        order = np.argsort(-x if descending else x, axis=dim, kind="stable")
        return np.take_along_axis(x, order, dim), order

    check_op(f"sort(dim={dim}, descending={descending})",
             lambda x: tuple(lib(x).sort(x, dim=dim, descending=descending)), ref, arrays=[a])
    check_op("argsort", lambda x: x.argsort(dim=dim, descending=descending),
             lambda x: ref(x)[1], arrays=[a], grad=False)


def test_sort_is_stable_and_puts_nan_last(torch):
    x = np.array([2.0, np.nan, 1.0, 2.0, -np.inf, 1.0, np.nan, np.inf])
    v, i = deepcore.tensor(x).sort(stable=True)
    tv, ti = torch.tensor(x).sort(stable=True)
    np.testing.assert_array_equal(v.numpy(), tv.numpy())
    np.testing.assert_array_equal(i.numpy(), ti.numpy())
    v, i = deepcore.tensor(x).sort(descending=True, stable=True)
    tv, ti = torch.tensor(x).sort(descending=True, stable=True)
    np.testing.assert_array_equal(v.numpy(), tv.numpy())
    np.testing.assert_array_equal(i.numpy(), ti.numpy())


def test_sort_int_bool_and_0d():
    v, i = deepcore.tensor([3, -1, 2]).sort()
    assert v.tolist() == [-1, 2, 3] and i.tolist() == [1, 2, 0] and v.dtype is deepcore.int64
    assert deepcore.tensor([True, False, True]).sort().values.tolist() == [False, True, True]
    v, i = deepcore.tensor(5.0).sort()
    assert v.shape == () and v.item() == 5.0 and i.item() == 0
    assert deepcore.msort(deepcore.tensor([[2.0, 1.0], [0.0, 3.0]])).tolist() == [[0.0, 1.0], [2.0, 3.0]]
    assert repr(deepcore.tensor([1.0]).sort()).startswith("sort(values=")


@pytest.mark.parametrize("largest", [True, False])
@pytest.mark.parametrize("shape,k,dim", [((9,), 3, 0), ((4, 6), 2, 1), ((4, 6), 4, 0), ((2, 3, 5), 5, -1),
                                         ((3, 4), 0, 1)], ids=str)
def test_topk(shape, k, dim, largest, rng):
    a = _distinct(rng, shape)

    def ref(x):
        order = np.argsort(-x if largest else x, axis=dim, kind="stable")
        order = np.take(order, np.arange(k), axis=dim)
        return np.take_along_axis(x, order, dim), order

    check_op(f"topk(k={k}, dim={dim}, largest={largest})", lambda x: tuple(x.topk(k, dim=dim, largest=largest)),
             ref, arrays=[a], torch_fn=lambda x: tuple(x.topk(k, dim=dim, largest=largest)))


def test_topk_unsorted_holds_the_same_set_and_large_lines(rng, torch):
    a = rng.standard_normal((3, 1000))
    v, i = deepcore.tensor(a).topk(10, sorted=False)
    tv, _ = torch.tensor(a).topk(10)
    np.testing.assert_allclose(np.sort(v.numpy(), 1), np.sort(tv.numpy(), 1))
    np.testing.assert_array_equal(np.take_along_axis(a, i.numpy(), 1), v.numpy())
    tv, ti = torch.tensor(a).topk(7, dim=1)
    v, i = deepcore.tensor(a).topk(7, dim=1)
    np.testing.assert_array_equal(i.numpy(), ti.numpy())


def test_kthvalue_and_median(rng, torch):
    a = _distinct(rng, (4, 7))
    check_op("kthvalue", lambda x: tuple(lib(x).kthvalue(x, 3, 1)),
             lambda x: (np.sort(x, 1)[:, 2], np.argsort(x, 1)[:, 2]), arrays=[a])
    check_op("kthvalue keepdim", lambda x: tuple(x.kthvalue(2, 0, keepdim=True)),
             lambda x: (np.sort(x, 0)[1:2], np.argsort(x, 0)[1:2]), arrays=[a])
    b = _distinct(rng, (3, 6))  # even count: the lower of the middle two, as PyTorch
    check_op("median(dim)", lambda x: tuple(x.median(1)),
             lambda x: (np.sort(x, 1)[:, 2], np.argsort(x, 1)[:, 2]), arrays=[b])
    check_op("median()", lambda x: x.median(), lambda x: np.sort(x.reshape(-1))[(x.size - 1) // 2], arrays=[b])
    c = np.array([[1.0, np.nan, 3.0], [2.0, 0.0, 1.0]])
    v, i = deepcore.tensor(c).median(1)
    tv, ti = torch.tensor(c).median(1)
    np.testing.assert_array_equal(v.numpy(), tv.numpy())
    np.testing.assert_array_equal(i.numpy(), ti.numpy())
    assert np.isnan(deepcore.tensor(c).median().item())


def test_unique(torch):
    x = np.array([[3, 1, 2], [1, 3, 3]])
    for kw in ({}, {"return_inverse": True}, {"return_counts": True}, {"return_inverse": True, "return_counts": True}):
        ours = deepcore.unique(deepcore.tensor(x), **kw)
        theirs = torch.unique(torch.tensor(x), **kw)
        ours = ours if isinstance(ours, tuple) else (ours,)
        theirs = theirs if isinstance(theirs, tuple) else (theirs,)
        for o, t in zip(ours, theirs):
            np.testing.assert_array_equal(o.numpy(), t.numpy())
    assert deepcore.tensor([2.5, 2.5, -1.0]).unique().tolist() == [-1.0, 2.5]
    assert deepcore.tensor([], dtype=deepcore.float32).unique().numel() == 0


def test_sort_family_errors():
    x = deepcore.tensor([[1.0, 2.0], [3.0, 4.0]])
    with raises(RuntimeError, "topk", "k=3", "out of range"):
        x.topk(3)
    with raises(TypeError, "topk", "k must be an int"):
        x.topk(1.5)
    with raises(IndexError, "sort", "dim 2"):
        x.sort(dim=2)
    with raises(RuntimeError, "kthvalue", "k=0"):
        x.kthvalue(0)
    with raises(NotImplementedError, "unique", "dim=0"):
        x.unique(dim=0)
    with raises(TypeError, "sort", "stable"):
        x.sort(stable="yes")
    with raises(RuntimeError, "median", "empty"):
        deepcore.tensor([], dtype=deepcore.float32).median()
