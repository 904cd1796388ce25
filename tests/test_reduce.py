"""Reduce family (sum/mean/amax/amin/max/min/argmax/argmin/var/std, the non-finite scan) against NumPy float64, gradcheck and PyTorch."""
import numpy as np
import pytest

import deepcore
from helpers import assert_close, check_op, lib


# ---- sum, mean, amax, amin -------------------------------------------------------------------

REDUCE_DIMS = [None, 0, 1, 2, -1, -3, (0, 2), (-1, 0), (0, 1, 2)]


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", REDUCE_DIMS, ids=str)
@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin"])
def test_reduce(name, dim, keepdim, rng):
    np_fn = {"sum": np.sum, "mean": np.mean, "amax": np.max, "amin": np.min}[name]
    if dim is None and keepdim:
        ref = lambda a: np_fn(a, axis=None, keepdims=True)  # noqa: E731
    else:
        ref = lambda a: np_fn(a, axis=dim, keepdims=keepdim)  # noqa: E731
    check_op(f"{name}(dim={dim}, keepdim={keepdim})",
             lambda a: getattr(a, name)(dim=dim, keepdim=keepdim) if dim is not None or keepdim else getattr(a, name)(),
             ref, [(3, 4, 5)], rng=rng)


@pytest.mark.parametrize("shape,dim", [((), None), ((), 0), ((1,), 0), ((1, 1), None), ((5, 1), 1), ((7,), -1)],
                         ids=str)
@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin"])
def test_reduce_small_shapes(name, shape, dim, rng):
    np_fn = {"sum": np.sum, "mean": np.mean, "amax": np.max, "amin": np.min}[name]
    fn = (lambda a: getattr(a, name)()) if dim is None else (lambda a: getattr(a, name)(dim))
    check_op(f"{name}(dim={dim})", fn, lambda a: np_fn(a, axis=dim if a.ndim else None), [shape], rng=rng)


@pytest.mark.parametrize("shape", [(37, 129), (1000,), (3, 257, 5)], ids=str)
@pytest.mark.parametrize("dim", [None, 0, -1])
def test_reduce_large_forward(shape, dim, rng):
    # Beyond gradcheck's size: exercises the vectorised/parallel reduction paths.
    for name, np_fn in (("sum", np.sum), ("mean", np.mean), ("amax", np.max), ("amin", np.min)):
        fn = (lambda a: getattr(a, name)()) if dim is None else (lambda a: getattr(a, name)(dim))
        check_op(f"{name}(dim={dim})", fn, lambda a: np_fn(a, axis=dim), [shape], rng=rng,
                 atol={"float64": 1e-10, "float32": 1e-3})


# ---- max/min with indices, argmax/argmin -----------------------------------------------------

@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_with_dim_values_and_indices(name, dim, keepdim, rng):
    np_val = {"max": np.max, "min": np.min}[name]
    np_arg = {"max": np.argmax, "min": np.argmin}[name]
    check_op(f"{name}(dim={dim}).values", lambda a: getattr(a, name)(dim=dim, keepdim=keepdim).values,
             lambda a: np_val(a, axis=dim, keepdims=keepdim), [(3, 4, 5)], rng=rng)
    a = rng.standard_normal((3, 4, 5))
    out = getattr(deepcore.tensor(a), name)(dim, keepdim)
    values, indices = out  # a (values, indices) pair, as in PyTorch
    assert indices.dtype is deepcore.int64
    expected = np_arg(a, axis=dim)
    if keepdim:
        expected = np.expand_dims(expected, dim)
    assert_close(indices.numpy(), expected, 0, 0, f"{name}(dim={dim}, keepdim={keepdim}).indices")
    assert_close(values.numpy(), np_val(a, axis=dim, keepdims=keepdim), 1e-6, 1e-6, f"{name} values")


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [None, 0, 1, -1])
@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_argmax_argmin(name, dim, keepdim, rng):
    a = rng.integers(0, 4, (4, 6)).astype(np.float64)  # many ties: the first occurrence wins, as in NumPy/PyTorch
    np_fn = {"argmax": np.argmax, "argmin": np.argmin}[name]
    expected = np_fn(a, axis=dim, keepdims=keepdim)
    for dt in (deepcore.float32, deepcore.float64, deepcore.int64):
        got = getattr(deepcore.tensor(a, dtype=dt), name)(dim=dim, keepdim=keepdim)
        assert got.dtype is deepcore.int64
        assert_close(got.numpy(), expected, 0, 0, f"{name}(dim={dim}, keepdim={keepdim}) [{dt.name}]")


def test_max_without_dim_and_function_forms(rng):
    check_op("max()", lambda a: a.max(), np.max, [(3, 5)], rng=rng)
    check_op("deepcore.max(a, b)", lambda a, b: lib(a).max(a, b), np.maximum, [(3, 5), (5,)], rng=rng)
    # A number operand (torch requires two tensors: no PyTorch comparison); it gets no gradient.
    check_op("deepcore.maximum(a, 0.5)", lambda a: deepcore.maximum(a, 0.5), lambda a: np.maximum(a, 0.5), [(3, 5)],
             torch_fn=False, rng=rng)
    check_op("deepcore.minimum(-0.5, a)", lambda a: deepcore.minimum(-0.5, a), lambda a: np.minimum(-0.5, a),
             [(3, 5)], torch_fn=False, rng=rng)
    check_op("deepcore.sum(a, dim)", lambda a: lib(a).sum(a, 1), lambda a: a.sum(1), [(3, 5)], rng=rng)
    check_op("deepcore.mean(a, dim)", lambda a: lib(a).mean(a, (0, 1)), lambda a: a.mean((0, 1)), [(3, 5)], rng=rng)


# ---- ties ------------------------------------------------------------------------------------

TIES = np.array([[1.0, 3.0, 3.0, 0.0],
                 [2.0, 2.0, 2.0, 2.0],
                 [-1.0, 5.0, -1.0, 4.0]])


@pytest.mark.parametrize("dim", [None, 0, 1, (0, 1)], ids=str)
def test_max_min_ties_split_the_gradient_evenly(dim, rng):
    # torch.amax/amin split a tie's gradient evenly; deepcore does the same for amax/amin and max/min values.
    for name, np_fn, sign in (("amax", np.max, 1.0), ("amin", np.min, -1.0)):
        x = TIES * sign
        kw = {} if dim is None else {"dim": dim}
        check_op(f"{name}{kw} with ties", lambda a: getattr(a, name)(**kw), lambda a: np_fn(a, axis=dim),
                 arrays=[x], rng=rng, gradcheck=False)  # three-way ties make finite differences one-sided
    x = deepcore.tensor(TIES, requires_grad=True)
    x.max(dim=1).values.sum().backward()
    expected = [[0, 0.5, 0.5, 0], [0.25] * 4, [0, 1, 0, 0]]
    assert x.grad.tolist() == expected


def test_max_two_way_tie_passes_gradcheck():
    # With two tied elements the central difference is exactly the even split, 1/2 each.
    x = deepcore.tensor([[0.5, 0.5, -1.0], [0.1, 0.3, 0.3]], dtype=deepcore.float64, requires_grad=True)
    assert deepcore.autograd.gradcheck(lambda a: a.amax(1), [x])
    assert deepcore.autograd.gradcheck(lambda a: a.max(), [x])


# ---- empty, integer, var/std -----------------------------------------------------------------

@pytest.mark.parametrize("name,dim,expected", [
    ("sum", 0, np.zeros(3)), ("sum", 1, np.zeros(0)), ("sum", None, np.array(0.0)),
    ("mean", 0, np.full(3, np.nan)), ("amax", 1, np.zeros(0)),
], ids=str)
def test_reduce_empty(name, dim, expected):
    for dt in (deepcore.float32, deepcore.float64):
        x = deepcore.zeros(0, 3, dtype=dt, requires_grad=True)
        out = getattr(x, name)() if dim is None else getattr(x, name)(dim)
        assert out.dtype is dt
        assert_close(out.detach().numpy(), expected, 0, 0, f"{name}(dim={dim}) of shape (0, 3)")
        if name in ("sum", "mean"):
            out.backward(deepcore.ones_like(out))  # an explicit gradient: the mean's NaN must not stop it
            assert tuple(x.grad.shape) == (0, 3)


def test_max_of_empty_dimension_raises():
    with pytest.raises(ValueError, match=r"max.*\(0, 3\)"):
        deepcore.zeros(0, 3).amax(0)
    with pytest.raises(ValueError, match="empty"):
        deepcore.zeros(0, 3).max()


def test_sum_of_int_and_bool(rng):
    a = rng.integers(-5, 5, (3, 4))
    t = deepcore.tensor(a)
    assert t.sum().dtype is deepcore.int64 and t.sum().item() == a.sum()
    assert_close(t.sum(1).numpy(), a.sum(1), 0, 0, "int64 sum(1)")
    b = deepcore.tensor(a > 0)
    assert int(b.sum().item()) == int((a > 0).sum())


def test_var_std(rng):
    check_op("var", lambda a: a.var(1), lambda a: a.var(1, ddof=1), [(3, 5)], rng=rng)
    check_op("std", lambda a: a.std(), lambda a: a.std(ddof=1), [(3, 5)], rng=rng)
    check_op("var unbiased=False", lambda a: a.var(0, unbiased=False), lambda a: a.var(0), [(4, 3)], rng=rng)


# ---- has_nonfinite: the scan behind detect_anomaly -------------------------------------------

@pytest.mark.parametrize("n", [1, 7, 8, 9, 16, 17, 63, 64, 65, 1000, 4099])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_has_nonfinite_matches_numpy(n, dtype, rng):
    # One NaN or inf at the start, middle or end of runs around the vector widths.
    base = rng.standard_normal(n).astype(dtype)
    x = deepcore.tensor(base)
    assert x._backend.has_nonfinite(x._data) is False
    for pos in sorted({0, n // 2, n - 1}):
        for bad in (np.nan, np.inf, -np.inf):
            a = base.copy()
            a[pos] = bad
            y = deepcore.tensor(a)
            assert y._backend.has_nonfinite(y._data) == (not np.isfinite(a).all()), (n, pos, bad)


def test_has_nonfinite_reads_only_the_view():
    a = np.ones((6, 8))
    a[1, 3] = np.nan  # in an odd column: outside x[:, ::2]
    x = deepcore.tensor(a)
    view = x[:, ::2]
    assert not view._backend.has_nonfinite(view._data)
    assert x._backend.has_nonfinite(x._data) and x.T._backend.has_nonfinite(x.T._data)
    b = a.copy()
    b[1, 3] = 0.0
    b[5, 6] = -np.inf  # in an even column: inside the view
    y = deepcore.tensor(b)
    assert y[:, ::2]._backend.has_nonfinite(y[:, ::2]._data)
    assert not x._backend.has_nonfinite(deepcore.zeros(0, 3)._data)


# ---- all / any, logsumexp, aminmax ---------------------------------------------------------------

@pytest.mark.parametrize("dim,keepdim", [(None, False), (0, False), (1, True), ((0, 1), False)], ids=str)
def test_all_any(dim, keepdim, torch):
    a = np.array([[1.0, 0.0, 2.0], [3.0, 4.0, 5.0]])
    for name in ("all", "any"):
        for data in (a, a != 0, a.astype(np.int64), np.zeros((2, 3))):
            x = deepcore.tensor(data)
            ours = getattr(x, name)() if dim is None else getattr(x, name)(dim, keepdim=keepdim)
            t = torch.tensor(data)
            theirs = getattr(t, name)() if dim is None else getattr(t, name)(dim, keepdim=keepdim)
            assert ours.dtype is deepcore.bool
            np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("dim,keepdim", [(0, False), (1, True), ((0, 1), False), (-1, False)], ids=str)
def test_logsumexp(dim, keepdim, rng):
    def ref(x):
        m = np.max(x, axis=dim, keepdims=True)
        out = np.log(np.sum(np.exp(x - m), axis=dim, keepdims=True)) + m
        return out if keepdim else np.squeeze(out, axis=dim)
    check_op(f"logsumexp({dim})", lambda x: lib(x).logsumexp(x, dim, keepdim=keepdim), ref, [(3, 4)], rng=rng)


def test_logsumexp_extremes(torch):
    x = np.array([[1000.0, 1000.0], [-np.inf, -np.inf], [np.inf, 1.0], [-1000.0, 0.0]])
    np.testing.assert_array_equal(deepcore.tensor(x).logsumexp(1).numpy(), torch.tensor(x).logsumexp(1).numpy())


def test_aminmax(rng):
    a = rng.standard_normal((3, 4))
    lo, hi = deepcore.tensor(a).aminmax()
    assert lo.item() == a.min() and hi.item() == a.max()
    check_op("aminmax(dim)", lambda x: tuple(lib(x).aminmax(x, dim=1, keepdim=True)),
             lambda x: (x.min(1, keepdims=True), x.max(1, keepdims=True)), arrays=[a])
    assert repr(deepcore.tensor([1.0]).aminmax()).startswith("aminmax(min=")
