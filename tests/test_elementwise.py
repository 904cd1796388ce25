"""Elementwise family (unary, binary and scalar ops, comparisons, where, clamp, leaky_relu, dtype promotion) against NumPy float64, gradcheck and PyTorch."""
import math

import numpy as np
import pytest

import deepcore
from deepcore import _C
from helpers import away_from_zero, check_op, lib, named, raises, raw_ones as _arr, torch as _torch


# ---- binary ops, with broadcasting -----------------------------------------------------------

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


# ---- unary ops -------------------------------------------------------------------------------

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
    ("sin", lambda a: a.sin(), np.sin, "any"),
    ("cos", lambda a: a.cos(), np.cos, "any"),
    ("sin fn", lambda a: lib(a).sin(a), np.sin, "any"),
    ("cos fn", lambda a: lib(a).cos(a), np.cos, "any"),
    ("log1p", lambda a: a.log1p(), np.log1p, "positive"),
    ("expm1", lambda a: a.expm1(), np.expm1, "any"),
    ("floor", lambda a: a.floor(), np.floor, "nonzero"),
    ("ceil", lambda a: lib(a).ceil(a), np.ceil, "nonzero"),
    ("round", lambda a: (a * 3).round(), lambda a: np.round(a * 3), "nonzero"),
    ("round decimals", lambda a: lib(a).round(a, decimals=1), lambda a: np.round(a, 1), "nonzero"),
    ("masked_fill", lambda a: a.masked_fill(a > 0.5, -3.0), lambda a: np.where(a > 0.5, -3.0, a), "nonzero"),
    ("triu", lambda a: a.triu() if a.ndim >= 2 else a, lambda a: np.triu(a) if a.ndim >= 2 else a, "any"),
    ("tril -1", lambda a: lib(a).tril(a, -1) if a.ndim >= 2 else a, lambda a: np.tril(a, -1) if a.ndim >= 2 else a,
     "any"),
    ("triu 2", lambda a: lib(a).triu(a, diagonal=2) if a.ndim >= 2 else a,
     lambda a: np.triu(a, 2) if a.ndim >= 2 else a, "any"),
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


# ---- comparisons -----------------------------------------------------------------------------

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


# ---- where -----------------------------------------------------------------------------------

@pytest.mark.parametrize("shapes", [[(3, 4), (3, 4), (3, 4)], [(3, 1), (1, 4), (4,)], [(2, 3, 4), (4,), ()],
                                    [(), (2, 3), (2, 1)], [(0, 3), (3,), (1, 3)]], ids=str)
def test_where(shapes, rng):
    cond = rng.random(shapes[0]) < 0.5
    a, b = rng.uniform(-2, 2, shapes[1]), rng.uniform(-2, 2, shapes[2])
    check_op("where", lambda c, x, y: lib(x).where(c, x, y), np.where, arrays=[cond, a, b], rng=rng)


def test_where_with_a_number_and_its_errors(rng):
    a = rng.uniform(-2, 2, (3, 4))
    cond = a > 0.5
    check_op("where(c, x, 0.0)", lambda c, x: lib(x).where(c, x, 0.0), lambda c, x: np.where(c, x, 0.0),
             arrays=[cond, a], rng=rng)
    check_op("where(c, 2.5, x)", lambda c, x: lib(x).where(c, 2.5, x), lambda c, x: np.where(c, 2.5, x),
             arrays=[cond, a], rng=rng)
    out = deepcore.where(deepcore.tensor([True, False]), deepcore.ones(2, dtype=deepcore.float64), deepcore.zeros(2))
    assert out.dtype is deepcore.float64 and out.tolist() == [1.0, 0.0]  # the values are promoted
    with pytest.raises(TypeError, match="condition must be a bool tensor"):
        deepcore.where(deepcore.tensor([1, 0]), deepcore.ones(2), deepcore.zeros(2))
    with pytest.raises(TypeError, match="at least one of the two values must be a tensor"):
        deepcore.where(deepcore.tensor([True]), 1.0, 2.0)
    with raises(ValueError, "where", "(3,)", "(4,)"):
        deepcore.where(deepcore.tensor([True, False, True]), deepcore.ones(3), deepcore.ones(4))


# ---- dtype promotion of binary ops -----------------------------------------------------------

@pytest.mark.parametrize("a,b,expected", [
    (deepcore.int64, deepcore.float32, deepcore.float32),
    (deepcore.float32, deepcore.int64, deepcore.float32),
    (deepcore.float32, deepcore.float64, deepcore.float64),
    (deepcore.int64, deepcore.float64, deepcore.float64),
    (deepcore.int64, deepcore.int64, deepcore.int64),
    (deepcore.float32, deepcore.float32, deepcore.float32),
], ids=str)
@pytest.mark.parametrize("op", ["add", "sub", "mul"])
def test_promotion_of_two_tensors(a, b, expected, op):
    x = deepcore.tensor([1, 2, 3], dtype=a)
    y = deepcore.tensor([4, 5, 6], dtype=b)
    out = getattr(x, op)(y)
    assert out.dtype is expected
    ref = getattr(np, {"add": "add", "sub": "subtract", "mul": "multiply"}[op])(np.array([1, 2, 3]), [4, 5, 6])
    assert out.tolist() == ref.astype(expected.numpy).tolist()


def test_promotion_with_python_scalars():
    i = deepcore.tensor([1, 2])
    f = deepcore.tensor([1.0, 2.0])
    d = deepcore.tensor([1.0, 2.0], dtype=deepcore.float64)
    assert (i + 1).dtype is deepcore.int64
    assert (i + 1.5).dtype is deepcore.float32 and (i + 1.5).tolist() == [2.5, 3.5]
    assert (f * 2).dtype is deepcore.float32
    assert (d * 2.0).dtype is deepcore.float64  # a Python float does not narrow a float64 tensor
    assert (i * True).dtype is deepcore.int64


def test_true_division_of_ints_gives_float():
    i = deepcore.tensor([1, 2, 3])
    j = deepcore.tensor([2, 2, 2])
    out = i / j
    assert out.dtype is deepcore.float32 and out.tolist() == [0.5, 1.0, 1.5]
    assert (i / 2).dtype is deepcore.float32 and (i / 2).tolist() == [0.5, 1.0, 1.5]
    assert (3 / j).tolist() == [1.5, 1.5, 1.5]
    assert (i / deepcore.tensor([2.0], dtype=deepcore.float64)).dtype is deepcore.float64


# ---- errors ----------------------------------------------------------------------------------

@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "maximum"])
def test_binary_shape_mismatch(op):
    a, b = deepcore.ones(2, 3), deepcore.ones(4, 3)
    with raises(ValueError, op, "(2, 3)", "(4, 3)"):
        getattr(a, op)(b)


def test_binary_operator_shape_mismatch():
    with raises(ValueError, "add", "(3,)", "(4,)"):
        deepcore.ones(3) + deepcore.ones(4)
    with raises(ValueError, "(2, 3)", "(2,)"):
        deepcore.ones(2, 3) < deepcore.ones(2)


def test_inplace_result_does_not_fit():
    a = deepcore.ones(3)
    with raises(ValueError, "add_", "(2, 3)", "(3,)"):
        a += deepcore.ones(2, 3)
    with raises(TypeError, "mul_", "float32", "int64"):
        deepcore.ones(3, dtype=deepcore.int64).mul_(deepcore.ones(3))


def test_integer_inplace_true_division_is_refused():
    i = deepcore.tensor([1, 2])
    with raises(TypeError, "div_"):
        i /= 2
    assert i.tolist() == [1, 2]


def test_c_binary_bad_arguments():
    with raises(ValueError, "add", "(3, 4)", "(5, 4)"):
        _C.binary(_C.BinaryOp.add, _arr(3, 4), _arr(5, 4))
    with raises(TypeError, "add", "float32", "float64"):
        _C.binary(_C.BinaryOp.add, _arr(3, 4), _arr(3, 4, dtype=_C.DType.float64))
    with raises(TypeError, "mul", "int64"):
        _C.binary(_C.BinaryOp.mul, _arr(3), _arr(3, dtype=_C.DType.int64))
    with raises(ValueError, "add", "output", "(2,)", "(3, 4)"):
        _C.binary(_C.BinaryOp.add, _arr(3, 4), _arr(3, 4), _arr(2))
    with pytest.raises(TypeError):
        _C.binary(_C.BinaryOp.add, _arr(3), 1.0)  # pybind11's own argument check
    with raises(ValueError, "copy_", "(5, 4)", "(3, 4)"):
        _C.copy_(_arr(3, 4), _arr(5, 4))


def test_rounding_of_integers_and_halves():
    assert deepcore.tensor([3, -2]).floor().tolist() == [3, -2]
    assert deepcore.tensor([3, -2]).round().dtype is deepcore.int64
    # half to even, as PyTorch and NumPy round
    assert deepcore.tensor([0.5, 1.5, 2.5, -0.5, -1.5]).round().tolist() == [0.0, 2.0, 2.0, -0.0, -2.0]


def test_masked_fill_and_triangles_refuse_bad_input():
    x = deepcore.ones(2, 3)
    with pytest.raises(TypeError, match="masked_fill: expected a bool mask"):
        x.masked_fill(deepcore.ones(2, 3), 0.0)
    with pytest.raises(RuntimeError, match=r"masked_fill: the mask of shape \(4,\) does not broadcast"):
        x.masked_fill(deepcore.ones(4) > 0, 0.0)
    with pytest.raises(RuntimeError, match="0-dimensional value tensor"):
        x.masked_fill(x > 0, deepcore.ones(2))
    with pytest.raises(RuntimeError, match="triu: input tensor must have at least 2 dimensions"):
        deepcore.ones(3).triu()
    y = deepcore.zeros(2, 2)
    y.masked_fill_(deepcore.tensor([[True, False], [False, True]]), deepcore.tensor(5.0))
    assert y.tolist() == [[5.0, 0.0], [0.0, 5.0]]


# ---- reciprocal, erf, erfinv; remainder, fmod, floor_divide --------------------------------------

def test_reciprocal_erf_erfinv(rng):
    check_op("reciprocal", lambda x: lib(x).reciprocal(x), lambda x: 1 / x, arrays=[away_from_zero(rng, (3, 4))])
    np_erf = np.vectorize(math.erf)
    check_op("erf", lambda x: lib(x).erf(x), np_erf, [(3, 5)], rng=rng, low=-3, high=3)
    y = rng.uniform(-0.95, 0.95, size=(4, 5))
    # erfinv's reference: the y that erf maps back onto (erf is exact in libm; its inverse is checked through it).
    check_op("erfinv", lambda x: lib(x).erf(lib(x).erfinv(x)), lambda x: x, arrays=[y],
             atol={"float64": 1e-12, "float32": 1e-5})
    check_op("erfinv vs torch", lambda x: x.erfinv(), lambda x: _erfinv_reference(x), arrays=[y])
    e = deepcore.tensor([-1.0, 1.0, 1.5, 0.0], dtype=deepcore.float64).erfinv().numpy()
    assert e[0] == -np.inf and e[1] == np.inf and np.isnan(e[2]) and e[3] == 0.0
    assert deepcore.reciprocal(deepcore.tensor([2, 4])).tolist() == [0.5, 0.25]


def _erfinv_reference(y):
    """Newton's method on math.erf from a rough start, in float64, to full precision."""
    out = np.empty_like(y)
    for i, v in np.ndenumerate(y):
        x = 0.0
        for _ in range(100):
            x -= (math.erf(x) - v) / (2 / math.sqrt(math.pi) * math.exp(-x * x))
        out[i] = x
    return out


@pytest.mark.parametrize("name,np_fn", [("remainder", np.remainder), ("fmod", np.fmod)])
def test_remainder_and_fmod(name, np_fn, rng):
    a = rng.uniform(-5, 5, size=(3, 4))
    b = away_from_zero(rng, (4,), 0.7, 2.0)
    a = np.where(np.abs(np.remainder(a, b) - 0) < 1e-3, a + 0.01, a)  # away from the jumps
    check_op(name, lambda x, y: getattr(lib(x), name)(x, y), np_fn, arrays=[a, b])
    check_op(f"{name} scalar", lambda x: getattr(lib(x), name)(x, -1.5), lambda x: np_fn(x, -1.5), arrays=[a])


def test_floor_divide_and_operators(torch):
    a = np.array([7.0, -7.0, 7.5, -0.5, 0.0, 1e-3])
    b = np.array([2.0, 2.0, -2.0, 3.0, -3.0, 0.1])
    for op in (lambda x, y: x // y, lambda x, y: x % y, lambda x, y: 7 // y, lambda x, y: -7.5 % y,
               lambda x, y: x // 2, lambda x, y: x % -2):
        ours = op(deepcore.tensor(a, dtype=deepcore.float64), deepcore.tensor(b, dtype=deepcore.float64)).numpy()
        theirs = op(torch.tensor(a), torch.tensor(b)).numpy()
        np.testing.assert_array_equal(ours, theirs)
    ia, ib = np.array([7, -7, 7, -7, 0, 5]), np.array([2, 2, -2, -2, 3, 1])
    for name in ("floor_divide", "remainder", "fmod"):
        ours = getattr(deepcore, name)(deepcore.tensor(ia), deepcore.tensor(ib))
        assert ours.dtype is deepcore.int64
        assert ours.tolist() == getattr(torch, name)(torch.tensor(ia), torch.tensor(ib)).tolist()
    x = deepcore.tensor([5, 6])
    x //= 2
    x %= 2
    assert x.tolist() == [0, 1]
    assert (deepcore.tensor([5]) // 2.0).dtype is deepcore.float32
    assert (deepcore.tensor([-9223372036854775807 - 1]) // -1).tolist() == [-9223372036854775807 - 1]


def test_divmod_gradients(torch):
    a = deepcore.tensor([5.5, -3.2, 2.0], requires_grad=True)
    b = deepcore.tensor([2.0, 1.5, -0.75], requires_grad=True)
    ta, tb = (torch.tensor(t.detach().numpy(), requires_grad=True) for t in (a, b))
    (deepcore.remainder(a, b).sum() + deepcore.fmod(a, b).sum()).backward()
    (torch.remainder(ta, tb).sum() + torch.fmod(ta, tb).sum()).backward()
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy())
    np.testing.assert_allclose(b.grad.numpy(), tb.grad.numpy())
    with raises(RuntimeError, "floor_divide", "not implemented"):
        (a // b).sum().backward()


def test_divmod_errors():
    with raises(RuntimeError, "floor_divide", "ZeroDivisionError"):
        deepcore.tensor([5]) // deepcore.tensor([0])
    with raises(RuntimeError, "remainder", "ZeroDivisionError"):
        deepcore.tensor([5]) % 0
    with raises(RuntimeError, "fmod", "bool"):
        deepcore.fmod(deepcore.tensor([True]), deepcore.tensor([True]))
    assert np.isinf((deepcore.tensor([5.0]) // 0).item()) and np.isnan((deepcore.tensor([5.0]) % 0).item())
    with raises(TypeError, "erf", "float32 or float64"):
        deepcore.tensor([1]).erf()


@pytest.mark.parametrize("op", ["add", "sub"])
def test_add_and_sub_take_alpha_as_torch_does(op, torch):
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((4,))
    sign = 1 if op == "add" else -1
    x, y = deepcore.tensor(a, dtype=deepcore.float64), deepcore.tensor(b, dtype=deepcore.float64)
    np.testing.assert_allclose(getattr(deepcore, op)(x, y, alpha=-0.25).numpy(), a + sign * -0.25 * b)
    np.testing.assert_allclose(getattr(x, op)(2.0, alpha=3).numpy(), a + sign * 6.0)
    w = x.clone()
    getattr(w, op + "_")(y, alpha=0.5)  # the SGD step scripts write: p.data.add_(p.grad, alpha=-lr)
    np.testing.assert_allclose(w.numpy(), a + sign * 0.5 * b)
    # alpha reaches the gradient of the scaled operand
    xg, yg = deepcore.tensor(a, requires_grad=True), deepcore.tensor(b, requires_grad=True)
    getattr(deepcore, op)(xg, yg, alpha=2).sum().backward()
    np.testing.assert_allclose(yg.grad.numpy(), np.full(4, 3 * 2.0 * sign), rtol=1e-6)
    with pytest.raises(RuntimeError, match="alpha must not be a floating point"):
        getattr(deepcore.ones(2, dtype=deepcore.int64), op)(1, alpha=2.0)
    with pytest.raises(TypeError, match="alpha"):
        deepcore.ones(2).mul_(deepcore.ones(2), alpha=2)
    if torch is not None:
        t = getattr(torch.tensor(a), op)(torch.tensor(b), alpha=-0.25).numpy()
        np.testing.assert_allclose(getattr(x, op)(y, alpha=-0.25).numpy(), t)
