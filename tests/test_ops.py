"""Every differentiable op against NumPy (float64 reference), gradcheck and PyTorch.

Each test is one ``check_op`` call; see tests/helpers.py.
"""
import numpy as np
import pytest

import deepcore
from helpers import assert_close, check_op, torch as _torch


def named(cases):
    """pytest.param per case, with the case's name (its first element) as the test id."""
    return [pytest.param(*c, id=c[0]) for c in cases]


def lib(x):
    """The library `x` belongs to, so one lambda serves deepcore and torch (deepcore.cat vs torch.cat)."""
    return deepcore if isinstance(x, deepcore.Tensor) else _torch


def away_from_zero(rng, shape, lo=0.5, hi=2.0):
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(lo, hi, size=shape)


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


# ---- elementwise binary ops, with broadcasting --------------------------------

BROADCAST_SHAPES = [
    [(3, 4), (3, 4)],
    [(3, 1, 4), (5, 4)],
    [(5, 4), (3, 1, 4)],
    [(2, 1, 3), (1, 4, 1)],
    [(4,), ()],
    [(), (2, 3)],
    [(), ()],
    [(1,), (3, 1)],
    [(1, 1), (1,)],
    [(0, 3), (1, 3)],
    [(0, 3), (3,)],
    [(2, 0, 1), (1, 4)],
]


@pytest.mark.parametrize("shapes", BROADCAST_SHAPES, ids=str)
@pytest.mark.parametrize("name,fn,ref", named([
    ("add", lambda a, b: a + b, np.add),
    ("sub", lambda a, b: a - b, np.subtract),
    ("mul", lambda a, b: a * b, np.multiply),
    ("maximum", lambda a, b: lib(a).maximum(a, b), np.maximum),
    ("minimum", lambda a, b: lib(a).minimum(a, b), np.minimum),
]))
def test_binary_broadcast(name, fn, ref, shapes, rng):
    check_op(name, fn, ref, shapes, rng=rng)


@pytest.mark.parametrize("shapes", BROADCAST_SHAPES, ids=str)
def test_div_broadcast(shapes, rng):
    a, b = rng.uniform(-2, 2, shapes[0]), away_from_zero(rng, shapes[1])
    check_op("div", lambda x, y: x / y, np.divide, arrays=[a, b], rng=rng)


@pytest.mark.parametrize("shapes", BROADCAST_SHAPES, ids=str)
def test_pow_broadcast(shapes, rng):
    a, b = rng.uniform(0.5, 2.0, shapes[0]), rng.uniform(-2, 2, shapes[1])
    check_op("pow", lambda x, y: x ** y, np.power, arrays=[a, b], rng=rng)


@pytest.mark.parametrize("name,fn,ref,positive", named([
    ("add scalar", lambda a: a + 2.5, lambda a: a + 2.5, False),
    ("radd scalar", lambda a: 2.5 + a, lambda a: 2.5 + a, False),
    ("add int scalar", lambda a: a + 3, lambda a: a + 3, False),
    ("rsub scalar", lambda a: 1.5 - a, lambda a: 1.5 - a, False),
    ("sub scalar", lambda a: a - 1.5, lambda a: a - 1.5, False),
    ("mul scalar", lambda a: a * -3.0, lambda a: a * -3.0, False),
    ("rmul scalar", lambda a: 0.5 * a, lambda a: 0.5 * a, False),
    ("div scalar", lambda a: a / 4.0, lambda a: a / 4.0, False),
    ("rdiv scalar", lambda a: 1.5 / a, lambda a: 1.5 / a, True),
    ("pow 2", lambda a: a ** 2, lambda a: a ** 2, False),
    ("pow 3", lambda a: a ** 3, lambda a: a ** 3, False),
    ("pow 0.5", lambda a: a ** 0.5, np.sqrt, True),
    ("pow -1.5", lambda a: a ** -1.5, lambda a: a ** -1.5, True),
    ("rpow", lambda a: 2.0 ** a, lambda a: 2.0 ** a, False),
]))
@pytest.mark.parametrize("shape", [(3, 4), (), (1,), (0, 2)], ids=str)
def test_scalar_operand(name, fn, ref, positive, shape, rng):
    a = rng.uniform(0.5, 2.0, shape) if positive else rng.uniform(-2, 2, shape)
    check_op(name, fn, ref, arrays=[a], rng=rng)


# ---- elementwise unary ops -----------------------------------------------------

UNARY = [
    ("neg", lambda a: -a, np.negative, "any"),
    ("neg method", lambda a: a.neg(), np.negative, "any"),
    ("exp", lambda a: a.exp(), np.exp, "any"),
    ("log", lambda a: a.log(), np.log, "positive"),
    ("sqrt", lambda a: a.sqrt(), np.sqrt, "positive"),
    ("abs", lambda a: a.abs(), np.abs, "nonzero"),
    ("abs builtin", lambda a: abs(a), np.abs, "nonzero"),
    ("tanh", lambda a: a.tanh(), np.tanh, "any"),
    ("sigmoid", lambda a: a.sigmoid(), lambda a: 1 / (1 + np.exp(-a)), "any"),
    ("relu", lambda a: a.relu(), lambda a: np.maximum(a, 0), "nonzero"),
    ("square", lambda a: a.square(), np.square, "any"),
    ("exp fn", lambda a: lib(a).exp(a), np.exp, "any"),
    ("tanh fn", lambda a: lib(a).tanh(a), np.tanh, "any"),
    ("leaky_relu", lambda a: deepcore.leaky_relu(a), lambda a: np.where(a > 0, a, 0.01 * a), "nonzero"),
    ("leaky_relu 0.2", lambda a: deepcore.leaky_relu(a, 0.2), lambda a: np.where(a > 0, a, 0.2 * a), "nonzero"),
    ("clamp min", lambda a: a.clamp(min=-0.25), lambda a: np.maximum(a, -0.25), "nonzero"),
    ("clamp max", lambda a: a.clamp(max=0.25), lambda a: np.minimum(a, 0.25), "nonzero"),
    ("clamp both", lambda a: a.clamp(-0.25, 0.25), lambda a: np.clip(a, -0.25, 0.25), "nonzero"),
    ("clip", lambda a: lib(a).clip(a, -1.0, 1.0), lambda a: np.clip(a, -1.0, 1.0), "nonzero"),
]
TORCH_SPELLING = {
    "leaky_relu": lambda a: _torch.nn.functional.leaky_relu(a),
    "leaky_relu 0.2": lambda a: _torch.nn.functional.leaky_relu(a, 0.2),
}


@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 5), (), (1, 1), (7,), (0, 3)], ids=str)
@pytest.mark.parametrize("name,fn,ref,domain", named(UNARY))
def test_unary(name, fn, ref, domain, shape, rng):
    if domain == "positive":
        a = rng.uniform(0.2, 3.0, shape)
    elif domain == "nonzero":  # keep clear of the kinks at 0 and at +-0.25, +-1 for finite differences
        a = away_from_zero(rng, shape, 0.05, 2.0)
        a = np.where(np.abs(np.abs(a) - 0.25) < 0.02, a * 1.5, a)
        a = np.where(np.abs(np.abs(a) - 1.0) < 0.02, a * 1.1, a)
    else:
        a = rng.uniform(-2, 2, shape)
    check_op(name, fn, ref, arrays=[a], rng=rng, torch_fn=TORCH_SPELLING.get(name) if _torch else None)


def test_unary_extreme_values_are_stable(rng):
    a = np.array([-1e4, -50.0, 0.0, 50.0, 1e4])
    check_op("sigmoid large", lambda x: x.sigmoid(), lambda x: 0.5 * (1 + np.tanh(x / 2)), arrays=[a], rng=rng)
    check_op("tanh large", lambda x: x.tanh(), np.tanh, arrays=[a], rng=rng)


def test_abs_and_relu_gradient_at_zero(torch):
    # 0 is a kink: PyTorch's convention is a zero gradient for both.
    for op in ("abs", "relu"):
        x = deepcore.tensor([0.0, 1.0, -1.0], requires_grad=True)
        getattr(x, op)().sum().backward()
        t = torch.tensor([0.0, 1.0, -1.0], requires_grad=True)
        getattr(t, op)().sum().backward()
        assert x.grad.tolist() == t.grad.tolist(), op


def test_clamp_gradient_at_the_bounds(torch):
    # PyTorch passes the gradient through when x equals a bound (it is inside [min, max]).
    vals = [-1.0, -0.5, 0.0, 0.5, 1.0]
    x = deepcore.tensor(vals, requires_grad=True)
    x.clamp(-0.5, 0.5).sum().backward()
    t = torch.tensor(vals, requires_grad=True)
    t.clamp(-0.5, 0.5).sum().backward()
    assert x.grad.tolist() == t.grad.tolist()


# ---- comparisons ---------------------------------------------------------------

@pytest.mark.parametrize("shapes", [[(3, 4), (3, 4)], [(3, 1, 4), (5, 4)], [(4,), ()], [(0, 2), (2,)]], ids=str)
@pytest.mark.parametrize("name,fn,ref", named([
    ("eq", lambda a, b: a == b, np.equal), ("ne", lambda a, b: a != b, np.not_equal),
    ("lt", lambda a, b: a < b, np.less), ("le", lambda a, b: a <= b, np.less_equal),
    ("gt", lambda a, b: a > b, np.greater), ("ge", lambda a, b: a >= b, np.greater_equal),
    ("gt scalar", lambda a, b: a > 1.0, lambda a, b: a > 1.0),
    ("eq method", lambda a, b: a.eq(b), np.equal),
]))
def test_comparison(name, fn, ref, shapes, rng):
    a, b = (rng.integers(0, 3, s).astype(np.float64) for s in shapes)  # small integers: plenty of ties
    check_op(name, fn, ref, arrays=[a, b], rng=rng, grad=False)


def test_comparison_result_is_bool():
    assert (deepcore.tensor([1.0, 2.0]) < 1.5).dtype is deepcore.bool
    assert (deepcore.tensor([1, 2]) == deepcore.tensor([1, 3])).tolist() == [True, False]


# ---- reductions ----------------------------------------------------------------

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


# ---- matmul --------------------------------------------------------------------

MATMUL_TOL = {"float64": 1e-9, "float32": 1e-4}

MATMUL_SHAPES = [
    ((1,), (1,)), ((7,), (7,)), ((7,), (7, 3)), ((3, 7), (7,)), ((2, 3, 7), (7,)), ((7,), (2, 7, 3)),
    ((1, 1), (1, 1)), ((1, 5), (5, 1)), ((5, 1), (1, 5)), ((2, 3), (3, 4)), ((3, 5), (5, 2)),
    ((2, 3, 5), (5, 4)), ((3, 5), (2, 5, 4)), ((2, 1, 3, 2), (3, 2, 4)), ((1, 2, 2), (3, 2, 1)),
]


@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES, ids=str)
def test_matmul_small_with_gradcheck(sa, sb, rng):
    check_op("matmul", lambda a, b: a @ b, np.matmul, [sa, sb], rng=rng, atol=MATMUL_TOL)


@pytest.mark.parametrize("m,k,n", [
    (1, 1, 1), (1, 17, 1), (7, 7, 7), (14, 32, 32), (15, 33, 31), (17, 1, 33), (28, 64, 64), (33, 130, 17),
    (130, 7, 130), (13, 3, 97), (64, 64, 1), (1, 64, 64), (31, 131, 37),
], ids=str)
def test_matmul_gemm_sizes(m, k, n, rng):
    # Sizes around and between the GEMM kernel's tiles (14x32 and others), primes and 1s; too big for gradcheck.
    check_op(f"mm {m}x{k} @ {k}x{n}", lambda a, b: a @ b, np.matmul, [(m, k), (k, n)], rng=rng, atol=MATMUL_TOL,
             gradcheck=False)


@pytest.mark.parametrize("case", ["a.T", "b.T", "both.T", "sliced", "batched.mT", "expanded"])
def test_matmul_non_contiguous_operands(case, rng):
    m, k, n = 17, 33, 15
    if case == "a.T":
        check_op(case, lambda a, b: a.T @ b, lambda a, b: a.T @ b, [(k, m), (k, n)], rng=rng, atol=MATMUL_TOL,
                 gradcheck=False)
    elif case == "b.T":
        check_op(case, lambda a, b: a @ b.T, lambda a, b: a @ b.T, [(m, k), (n, k)], rng=rng, atol=MATMUL_TOL,
                 gradcheck=False)
    elif case == "both.T":
        check_op(case, lambda a, b: a.T.mm(b.T), lambda a, b: a.T @ b.T, [(k, m), (n, k)], rng=rng,
                 atol=MATMUL_TOL, gradcheck=False)
    elif case == "sliced":  # a strided (every other column) operand
        check_op(case, lambda a, b: a[:, ::2] @ b, lambda a, b: a[:, ::2] @ b, [(m, 2 * k), (k, n)], rng=rng,
                 atol=MATMUL_TOL, gradcheck=False)
    elif case == "batched.mT":
        check_op(case, lambda a, b: a.transpose(-1, -2) @ b.transpose(1, 2),
                 lambda a, b: np.swapaxes(a, -1, -2) @ np.swapaxes(b, 1, 2), [(3, k, m), (3, n, k)], rng=rng,
                 atol=MATMUL_TOL, gradcheck=False)
    else:  # a stride-0 (broadcast) operand
        check_op(case, lambda a, b: a.expand(4, m, k) @ b, lambda a, b: np.broadcast_to(a, (4, m, k)) @ b,
                 [(1, m, k), (4, k, n)], rng=rng, atol=MATMUL_TOL, gradcheck=False)


def test_matmul_transposed_small_gradcheck(rng):
    check_op("a.T @ b.T", lambda a, b: a.T @ b.T, lambda a, b: a.T @ b.T, [(3, 2), (4, 3)], rng=rng,
             atol=MATMUL_TOL)
    check_op("mm", lambda a, b: a.mm(b), np.matmul, [(2, 5), (5, 3)], rng=rng, atol=MATMUL_TOL)
    check_op("deepcore.matmul", lambda a, b: lib(a).matmul(a, b), np.matmul, [(2, 2, 3), (3, 4)], rng=rng,
             atol=MATMUL_TOL)


@pytest.mark.parametrize("sa,sb", [((0, 3), (3, 4)), ((3, 0), (0, 4)), ((2, 0, 3), (3, 5)), ((3, 4), (4, 0))],
                         ids=str)
def test_matmul_empty(sa, sb, rng):
    check_op("matmul empty", lambda a, b: a @ b, np.matmul, [sa, sb], rng=rng)


def test_matmul_large_batched_forward(rng):
    check_op("batched matmul", lambda a, b: a @ b, np.matmul, [(4, 1, 45, 70), (3, 70, 18)], rng=rng,
             atol=MATMUL_TOL, gradcheck=False)


# ---- softmax / log_softmax -------------------------------------------------------

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


# ---- shape ops -------------------------------------------------------------------

SHAPE_OPS = [
    ("reshape", lambda a: a.reshape(6, 4), lambda a: a.reshape(6, 4), (2, 3, 4)),
    ("reshape tuple -1", lambda a: a.reshape((-1, 2)), lambda a: a.reshape(-1, 2), (2, 3, 4)),
    ("reshape to 0-d", lambda a: a.reshape(()), lambda a: a.reshape(()), (1, 1)),
    ("reshape from 0-d", lambda a: a.reshape(1, 1, 1), lambda a: a.reshape(1, 1, 1), ()),
    ("view", lambda a: a.view(4, 6), lambda a: a.reshape(4, 6), (2, 3, 4)),
    ("reshape of transposed", lambda a: a.T.reshape(-1), lambda a: a.T.reshape(-1), (3, 5)),
    ("transpose", lambda a: a.transpose(0, 2), lambda a: a.transpose(2, 1, 0), (2, 3, 4)),
    ("transpose neg", lambda a: a.transpose(-1, -2), lambda a: np.swapaxes(a, -1, -2), (2, 3, 4)),
    (".T", lambda a: a.T, lambda a: a.T, (3, 5)),
    (".T 3-d", lambda a: a.T, lambda a: a.transpose(2, 1, 0), (2, 3, 4)),
    (".t()", lambda a: a.t(), lambda a: a.T, (3, 5)),
    ("permute", lambda a: a.permute(1, 2, 0), lambda a: a.transpose(1, 2, 0), (2, 3, 4)),
    ("permute neg tuple", lambda a: a.permute((-1, 0, 1)), lambda a: a.transpose(2, 0, 1), (2, 3, 4)),
    ("flatten", lambda a: a.flatten(), lambda a: a.reshape(-1), (2, 3, 4)),
    ("flatten 1", lambda a: a.flatten(1), lambda a: a.reshape(2, -1), (2, 3, 4)),
    ("flatten 0,1", lambda a: a.flatten(0, 1), lambda a: a.reshape(6, 4), (2, 3, 4)),
    ("squeeze", lambda a: a.squeeze(), lambda a: a.squeeze(), (1, 3, 1, 4)),
    ("squeeze dim", lambda a: a.squeeze(2), lambda a: a.squeeze(2), (1, 3, 1, 4)),
    ("squeeze non-1 dim", lambda a: a.squeeze(1), lambda a: a, (1, 3, 1, 4)),
    ("unsqueeze 0", lambda a: a.unsqueeze(0), lambda a: a[None], (3, 4)),
    ("unsqueeze -1", lambda a: a.unsqueeze(-1), lambda a: a[..., None], (3, 4)),
    ("unsqueeze 1", lambda a: a.unsqueeze(1), lambda a: a[:, None], (3, 4)),
    ("expand", lambda a: a.expand(2, 3, 4), lambda a: np.broadcast_to(a, (2, 3, 4)), (3, 1)),
    ("expand -1", lambda a: a.expand(5, -1), lambda a: np.broadcast_to(a, (5, 4)), (1, 4)),
    ("deepcore.reshape", lambda a: lib(a).reshape(a, (4, 3)), lambda a: a.reshape(4, 3), (3, 4)),
    ("deepcore.flatten", lambda a: lib(a).flatten(a), lambda a: a.reshape(-1), (3, 4)),
    ("deepcore.squeeze", lambda a: lib(a).squeeze(a, 0), lambda a: a[0], (1, 4)),
    ("deepcore.unsqueeze", lambda a: lib(a).unsqueeze(a, 1), lambda a: a[:, None], (4,)),
    ("deepcore.transpose", lambda a: lib(a).transpose(a, 0, 1), lambda a: a.T, (3, 4)),
    ("deepcore.permute", lambda a: lib(a).permute(a, (1, 0)), lambda a: a.T, (3, 4)),
    ("reshape empty", lambda a: a.reshape(3, 0), lambda a: a.reshape(3, 0), (0, 3)),
    ("transpose empty", lambda a: a.T, lambda a: a.T, (0, 3)),
    ("view then op", lambda a: a.T.reshape(4, 3) * 2 + a.reshape(4, 3), lambda a: a.T.reshape(4, 3) * 2 +
     a.reshape(4, 3), (3, 4)),
]


@pytest.mark.filterwarnings("ignore:The use of `x.T` on tensors of dimension other than 2")  # torch, on .T 3-d
@pytest.mark.parametrize("name,fn,ref,shape", named(SHAPE_OPS))
def test_shape_ops(name, fn, ref, shape, rng):
    check_op(name, fn, ref, [shape], rng=rng)


def test_views_share_memory():
    x = deepcore.zeros(2, 3)
    for view in (x.reshape(6), x.T, x.permute(1, 0), x[1], x[:, 1:], x.unsqueeze(0), x.view(3, 2)):
        assert view._data.shares_storage(x._data)
    v = x.reshape(6)
    with deepcore.no_grad():
        v += 1
    assert x.tolist() == [[1.0] * 3] * 2


# ---- indexing and slicing ----------------------------------------------------------

INDICES = [
    1, -1, (1, 2), (0, -1, 3), slice(1, 3), slice(None, None, 2), (slice(0, 3, 2), 1),
    (slice(None), slice(1, 4, 2)), (None, 1), (Ellipsis, 2), (1, Ellipsis, None), (slice(None), None, slice(1, 4, 2)),
    slice(5, 10), (slice(-2, None), slice(None, -1)), (0, 0, 0), Ellipsis, (Ellipsis, None), (2, slice(1, 1)),
    (slice(None, None, 3), slice(None, None, 3), slice(None, None, 3)), (slice(1, 2), 2, slice(0, 5, 4)),
]


@pytest.mark.parametrize("index", INDICES, ids=str)
def test_getitem(index, rng):
    check_op(f"x[{index}]", lambda a: a[index], lambda a: a[index], [(3, 4, 5)], rng=rng)


def test_getitem_chained_and_1d(rng):
    check_op("x[1:][::2][0]", lambda a: a[1:][::2][0], lambda a: a[1:][::2][0], [(5, 3)], rng=rng)
    check_op("x[2:7:3]", lambda a: a[2:7:3], lambda a: a[2:7:3], [(9,)], rng=rng)
    check_op("x[None, ...]", lambda a: a[None, ...], lambda a: a[None, ...], [()], rng=rng)


def test_getitem_overlapping_uses_accumulate(rng):
    # The same element read twice: the gradients add up.
    check_op("x[1] + x[1:3].sum(0)", lambda a: a[1] + a[1:3].sum(0), lambda a: a[1] + a[1:3].sum(0), [(4, 3)],
             rng=rng)


@pytest.mark.parametrize("index", [slice(None, None, -1), (slice(None), slice(3, 0, -1)), slice(None, None, 0)],
                         ids=str)
def test_negative_or_zero_step_is_rejected(index):
    x = deepcore.arange(24.0).reshape(4, 6)
    with pytest.raises(ValueError, match="step"):
        x[index]


def test_setitem(rng):
    a = rng.standard_normal((3, 4)).astype(np.float32)
    x = deepcore.tensor(a)
    x[1] = 5.0
    x[:, ::2] = deepcore.tensor([[-1.0, -2.0]])
    a[1] = 5.0
    a[:, ::2] = [[-1.0, -2.0]]
    assert_close(x.numpy(), a, 0, 0, "setitem")


# ---- cat and stack -----------------------------------------------------------------

@pytest.mark.parametrize("dim,shapes", [
    (0, [(2, 3), (4, 3)]), (1, [(2, 3), (2, 1), (2, 4)]), (-1, [(2, 3, 1), (2, 3, 2)]), (1, [(2, 3, 4), (2, 1, 4)]),
    (0, [(1,), (3,)]), (0, [(0, 3), (2, 3)]), (-2, [(1, 2, 2), (1, 3, 2)]), (0, [(3, 2)]),
], ids=str)
def test_cat(dim, shapes, rng):
    check_op(f"cat(dim={dim})", lambda *xs: lib(xs[0]).cat(list(xs), dim), lambda *xs: np.concatenate(xs, dim),
             shapes, rng=rng)


@pytest.mark.parametrize("dim", [0, 1, 2, -1, -3])
def test_stack(dim, rng):
    check_op(f"stack(dim={dim})", lambda *xs: lib(xs[0]).stack(xs, dim), lambda *xs: np.stack(xs, dim),
             [(2, 3), (2, 3), (2, 3)], rng=rng)


def test_stack_and_cat_of_scalars_and_views(rng):
    check_op("stack of 0-d", lambda a, b: lib(a).stack([a, b]), lambda a, b: np.stack([a, b]), [(), ()], rng=rng)
    check_op("cat of transposed", lambda a, b: lib(a).cat([a.T, b], 0), lambda a, b: np.concatenate([a.T, b]),
             [(3, 2), (4, 3)], rng=rng)
    check_op("cat of same tensor", lambda a: lib(a).cat([a, a * 2], 1), lambda a: np.concatenate([a, a * 2], 1),
             [(2, 3)], rng=rng)


def test_cat_promotes_dtypes():
    out = deepcore.cat([deepcore.ones(2, dtype=deepcore.float32), deepcore.ones(2, dtype=deepcore.float64)])
    assert out.dtype is deepcore.float64
    assert out.tolist() == [1.0] * 4


# ---- split, chunk, unbind ------------------------------------------------------------

@pytest.mark.parametrize("sections,dim,shape", [(2, 1, (3, 7)), ([1, 4, 2], 1, (3, 7)), (3, 0, (3, 4)),
                                                ([0, 2], -1, (2, 2)), (5, 0, (4, 2))], ids=str)
def test_split(sections, dim, shape, rng):
    """Every piece is used (weighted differently by the helper's random sum) and the gradient of x
    is their gradients joined; unused pieces are covered below."""
    cuts = (np.cumsum(sections)[:-1] if isinstance(sections, list)
            else np.arange(sections, shape[dim], sections))
    check_op(f"split({sections}, {dim})", lambda a: a.split(sections, dim),
             lambda a: tuple(np.split(a, cuts, axis=dim)), [shape], rng=rng)


@pytest.mark.parametrize("chunks,dim", [(3, 1), (2, 0), (7, 1), (1, -1)])
def test_chunk(chunks, dim, rng):
    axis_len = (4, 5)[dim]
    size = -(-axis_len // chunks)  # torch.chunk: pieces of ceil(len / chunks)
    check_op(f"chunk({chunks}, {dim})", lambda a: lib(a).chunk(a, chunks, dim),
             lambda a: tuple(np.split(a, np.arange(size, axis_len, size), axis=dim)), [(4, 5)], rng=rng)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_unbind(dim, rng):
    check_op(f"unbind({dim})", lambda a: lib(a).unbind(a, dim), lambda a: tuple(np.moveaxis(a, dim, 0)),
             [(3, 4, 2)], rng=rng)


def test_split_pieces_are_views_and_unused_pieces_get_zero_gradients():
    x = deepcore.arange(12, dtype=deepcore.float64).reshape(3, 4).requires_grad_()
    a, b = x.split(2, 1)
    assert a.shape == (3, 2) and a.tolist() == [[0, 1], [4, 5], [8, 9]]
    (b * 3).sum().backward()
    assert x.grad.tolist() == [[0, 0, 3, 3]] * 3
    with pytest.raises(ValueError, match="add up to 4"):
        x.split([1, 2], 1)
    with pytest.raises(ValueError, match="positive"):
        deepcore.chunk(x, 0)
    assert deepcore.unbind(deepcore.zeros(0, 3)) == ()


# ---- a small composite: the lecture's two-layer network ---------------------------

def test_two_layer_network(rng):
    def net(x, w1, w2, y):
        h = (x @ w1).clamp(min=0)
        return ((h @ w2 - y) ** 2).sum()

    check_op("two-layer net", net, lambda x, w1, w2, y: ((np.maximum(x @ w1, 0) @ w2 - y) ** 2).sum(),
             arrays=[away_from_zero(rng, (4, 3)), away_from_zero(rng, (3, 5)), rng.standard_normal((5, 2)),
                     rng.standard_normal((4, 2))], rng=rng, atol={"float64": 1e-9, "float32": 1e-4})


# ---- the helper itself must be able to fail ------------------------------------------

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
