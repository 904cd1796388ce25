"""torch-level functions over Tensor methods (_torch_functions.py): comparisons, std/var and their _mean
pairs, t, select, is_floating_point, broadcast_to/shapes/tensors, meshgrid; against NumPy float64,
gradcheck and PyTorch."""
import numpy as np
import pytest

import deepcore
from helpers import check_op, lib, raises

COMPARISONS = {"eq": np.equal, "ne": np.not_equal, "lt": np.less, "le": np.less_equal, "gt": np.greater,
               "ge": np.greater_equal, "not_equal": np.not_equal, "less": np.less, "less_equal": np.less_equal,
               "greater": np.greater, "greater_equal": np.greater_equal}


@pytest.mark.parametrize("name", sorted(COMPARISONS))
def test_comparison_functions(name, rng):
    fn, ref = getattr(deepcore, name), COMPARISONS[name]
    a = rng.integers(-2, 3, size=(3, 4)).astype(np.float64)
    for b in (rng.integers(-2, 3, size=(4,)).astype(np.float64), 0.0, 1):
        out = fn(deepcore.tensor(a), deepcore.tensor(b) if isinstance(b, np.ndarray) else b)
        assert out.dtype is deepcore.bool
        np.testing.assert_array_equal(out.numpy(), ref(a, b))
    with raises(TypeError, name, "Tensor"):
        fn([1.0], deepcore.tensor([1.0]))
    with raises(NotImplementedError, name, "out="):
        fn(deepcore.tensor(a), 0.0, out=deepcore.empty(3, 4))


@pytest.mark.parametrize("name", ["eq", "ne", "lt", "gt"])
def test_comparison_functions_match_torch(name, rng, torch):
    for shape_a, shape_b in (((2, 3), (3,)), ((4, 1, 2), (3, 1)), ((), (5,)), ((0, 2), (2,))):
        a = rng.integers(-1, 2, size=shape_a).astype(np.float32)
        b = rng.integers(-1, 2, size=shape_b).astype(np.float64)
        ours = getattr(deepcore, name)(deepcore.tensor(a), deepcore.tensor(b))
        theirs = getattr(torch, name)(torch.tensor(a), torch.tensor(b))
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_comparison_of_two_0d_tensors_promotes_to_the_wider_dtype(torch):
    """0.1 in float64 is not float32's 0.1: two 0-d operands compare in float64, as in torch."""
    for lib_ in (deepcore, torch):
        a, b = lib_.tensor(np.float64(0.1)), lib_.tensor(np.float32(0.1))
        assert lib_.eq(a, b).item() is False and lib_.ne(a, b).item() is True
        assert lib_.eq(a, lib_.tensor(np.array([0.1], np.float32))).item() is True   # dimensioned float32 wins


@pytest.mark.parametrize("name", ["std", "var"])
def test_std_and_var(name, rng, torch):
    ref = getattr(np, name)
    check_op(name, lambda x: getattr(lib(x), name)(x), lambda x: ref(x, ddof=1), [(4, 5)], rng=rng)
    check_op(name, lambda x: getattr(lib(x), name)(x, 1, keepdim=True), lambda x: ref(x, 1, ddof=1, keepdims=True),
             [(3, 4)], rng=rng)
    check_op(name, lambda x: getattr(lib(x), name)(x, (0, 2), correction=0), lambda x: ref(x, (0, 2)),
             [(3, 2, 4)], rng=rng)
    # the legacy overload std(input, unbiased): a bool second argument is `unbiased`, not dim 0
    check_op(name, lambda x: getattr(lib(x), name)(x, False), lambda x: ref(x), [(3, 4)], rng=rng)
    check_op(name, lambda x: getattr(x, name)(False), lambda x: ref(x), [(3, 4)], rng=rng)


@pytest.mark.parametrize("name", ["std_mean", "var_mean"])
def test_std_mean_and_var_mean(name, rng):
    ref = getattr(np, name.split("_")[0])
    check_op(name, lambda x: getattr(lib(x), name)(x, 0), lambda x: (ref(x, 0, ddof=1), x.mean(0)), [(5, 3)],
             rng=rng)
    check_op(name, lambda x: getattr(lib(x), name)(x, dim=1, keepdim=True, correction=0),
             lambda x: (ref(x, 1, keepdims=True), x.mean(1, keepdims=True)), [(2, 4)], rng=rng)
    check_op(name, lambda x: getattr(lib(x), name)(x, False), lambda x: (ref(x), x.mean()), [(2, 4)], rng=rng)


def test_std_of_integers_is_refused():
    with raises(RuntimeError, "std", "int64"):
        deepcore.std(deepcore.tensor([1, 2, 3]))


def test_t_select_and_is_floating_point(rng):
    check_op("t", lambda x: lib(x).t(x), lambda x: x.T, [(3, 4)], rng=rng)
    check_op("select", lambda x: lib(x).select(x, 1, -1), lambda x: x[:, -1], [(3, 4, 2)], rng=rng)
    check_op("Tensor.select", lambda x: x.select(2, 0), lambda x: x[:, :, 0], [(3, 4, 2)], rng=rng)
    x = deepcore.ones(3, 4)
    with raises(IndexError, "select", "index 4", "dimension 1"):
        x.select(1, 4)
    with raises(IndexError, "select", "0-dim"):
        deepcore.tensor(1.0).select(0, 0)
    with raises(IndexError, "select", "dim"):
        x.select(2, 0)
    assert deepcore.is_floating_point(x) and not deepcore.is_floating_point(deepcore.tensor([1]))


def test_broadcast_to_shapes_and_tensors(rng, torch):
    check_op("broadcast_to", lambda x: lib(x).broadcast_to(x, (2, 3, 4)), lambda x: np.broadcast_to(x, (2, 3, 4)),
             [(3, 1)], rng=rng)
    check_op("broadcast_tensors", lambda a, b: lib(a).broadcast_tensors(a, b),
             lambda a, b: tuple(np.broadcast_arrays(a, b)), [(3, 1), (1, 4)], rng=rng)
    for shapes in (((2, 1), (3, 1, 4), 1), ((0, 1), (5,)), ((),), ()):
        assert tuple(deepcore.broadcast_shapes(*shapes)) == tuple(torch.broadcast_shapes(*shapes))
    with raises(RuntimeError, "broadcast_shapes", "(2,)", "(3,)"):
        deepcore.broadcast_shapes((2,), (3,))
    with raises(RuntimeError, "broadcast_tensors"):
        deepcore.broadcast_tensors(deepcore.ones(2), deepcore.ones(3))
    a, b = deepcore.broadcast_tensors([deepcore.ones(2, 1), deepcore.zeros(3)])
    assert a.shape == b.shape == (2, 3)


@pytest.mark.parametrize("indexing", ["ij", "xy"])
def test_meshgrid(indexing, rng, torch):
    check_op(f"meshgrid {indexing}", lambda a, b, c: lib(a).meshgrid(a, b, c, indexing=indexing),
             lambda a, b, c: tuple(np.meshgrid(a, b, c, indexing=indexing)), [(2,), (3,), (4,)], rng=rng)
    check_op(f"meshgrid {indexing} of two", lambda a, b: lib(a).meshgrid([a, b], indexing=indexing),
             lambda a, b: tuple(np.meshgrid(a, b, indexing=indexing)), [(3,), (5,)], rng=rng)
    x, y = deepcore.arange(3), deepcore.tensor(7)   # a 0-d tensor is a grid axis of length 1
    ours = deepcore.meshgrid(x, y, indexing=indexing)
    theirs = torch.meshgrid(torch.arange(3), torch.tensor(7), indexing=indexing)
    for o, t in zip(ours, theirs):
        np.testing.assert_array_equal(o.numpy(), t.numpy())


def test_meshgrid_warns_without_indexing_and_checks_its_inputs():
    with pytest.warns(UserWarning, match="indexing argument"):
        grid = deepcore.meshgrid(deepcore.arange(2), deepcore.arange(3))
    assert grid[0].shape == (2, 3)
    with raises(ValueError, "meshgrid", "indexing"):
        deepcore.meshgrid(deepcore.arange(2), indexing="ji")
    with raises(RuntimeError, "meshgrid", "2-d", "position 1"):
        deepcore.meshgrid(deepcore.arange(2), deepcore.ones(2, 2), indexing="ij")
    with raises(RuntimeError, "meshgrid", "same dtype"):
        deepcore.meshgrid(deepcore.arange(2), deepcore.ones(2), indexing="ij")
    with raises(RuntimeError, "meshgrid", "non-empty"):
        deepcore.meshgrid(indexing="ij")
