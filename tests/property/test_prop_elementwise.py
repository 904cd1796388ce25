"""Properties of the elementwise ops: unary math, binary arithmetic and comparisons with broadcasting
and dtype promotion, tensor-scalar ops; values and gradients against float64 NumPy and torch.

Inputs come in every layout (prop_strategies.operands) and with NaN, +-inf and 1e30 spliced in."""
import math
import operator

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import deepcore
from prop_strategies import (ALL_DTYPES, FLOAT_DTYPES, TOL, broadcast_partner, examples, expect_error, expect_same,
                             expect_value, operands, shapes, to_numpy, torch)

_erf = np.vectorize(math.erf, otypes=[np.float64])


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))   # the same function, without exp's overflow


def _sign(x):  # torch: sign(NaN) = 0
    return np.where(np.isnan(x), 0.0, np.sign(x))


# name -> (reference, derivative, domain): domain "pos" draws inputs in (0.1, 3) for the gradient test.
UNARY = {
    "neg": (np.negative, lambda x: -np.ones_like(x), None),
    "exp": (np.exp, np.exp, None),
    "log": (np.log, lambda x: 1 / x, "pos"),
    "sqrt": (np.sqrt, lambda x: 0.5 / np.sqrt(x), "pos"),
    "abs": (np.abs, np.sign, None),
    "sin": (np.sin, np.cos, None),
    "cos": (np.cos, lambda x: -np.sin(x), None),
    "log1p": (np.log1p, lambda x: 1 / (1 + x), "pos"),
    "expm1": (np.expm1, np.exp, None),
    "floor": (np.floor, np.zeros_like, None),
    "ceil": (np.ceil, np.zeros_like, None),
    "round": (np.round, np.zeros_like, None),
    "reciprocal": (lambda x: 1 / x, lambda x: -1 / x ** 2, "pos"),
    "erf": (_erf, lambda x: 2 / math.sqrt(math.pi) * np.exp(-x * x), None),
    "tanh": (np.tanh, lambda x: 1 - np.tanh(x) ** 2, None),
    "sigmoid": (_sigmoid, lambda x: _sigmoid(x) * (1 - _sigmoid(x)), None),
    "relu": (lambda x: np.where(np.isnan(x), x, np.maximum(x, 0.0)), lambda x: (x > 0).astype(np.float64), None),
    "sign": (_sign, np.zeros_like, None),
    "square": (np.square, lambda x: 2 * x, None),
    "rsqrt": (lambda x: 1 / np.sqrt(x), lambda x: -0.5 * x ** -1.5, "pos"),
}
# float32 polynomial kernels (exp/log/tanh/sigmoid/erf): a few ulps more than one rounding.
_UNARY_RTOL32 = 4e-5


@settings(max_examples=examples(800))
@given(st.sampled_from(sorted(UNARY)), st.sampled_from(FLOAT_DTYPES), st.data())
def test_unary_values(name, dtype, data):
    x = data.draw(operands(data.draw(shapes()), dtype), "x")
    ref = UNARY[name][0]
    with np.errstate(all="ignore"):
        expected = ref(x.value)
    out = getattr(x.dc(), name)()
    # sin/cos of 1e30: both libraries reduce the float32 argument exactly; allow float32's ulp of the result
    expect_value(out, expected, dtype, f"{name} on {x}", rtol=_UNARY_RTOL32 if dtype == "float32" else None)
    if torch is not None:
        expect_same(out, getattr(x.th(), name)(), f"{name} on {x}", rtol=_UNARY_RTOL32 if dtype == "float32" else None)


@settings(max_examples=examples(350))
@given(st.sampled_from(sorted(set(UNARY) - {"sign"})), st.sampled_from(FLOAT_DTYPES), st.data())
def test_unary_gradients(name, dtype, data):
    ref, dref, domain = UNARY[name]
    low, high = (0.1, 3.0) if domain == "pos" else (-3.0, 3.0)
    x = data.draw(operands(data.draw(shapes(max_numel=300)), dtype, low, high, specials=False), "x")
    leaf, view = x.deepcore(requires_grad=True)
    w = np.random.default_rng(len(x.shape)).uniform(-1, 1, x.shape)
    getattr(view, name)().backward(deepcore.tensor(w, dtype=getattr(deepcore, dtype)))
    # the gradient of the view, gathered back onto the base (expand sums, a slice scatters)
    expected = _base_gradient(x, w * dref(x.value))
    expect_value(leaf.grad, expected, dtype, f"d{name} on {x}", rtol=_UNARY_RTOL32 if dtype == "float32" else None)
    if torch is not None:
        tleaf, tview = x.torch(requires_grad=True)
        getattr(tview, name)().backward(torch.tensor(w, dtype=getattr(torch, dtype)))
        expect_same(leaf.grad, tleaf.grad, f"d{name} on {x}", rtol=_UNARY_RTOL32 if dtype == "float32" else None)


def test_sign_of_a_tensor_requiring_grad_is_differentiable():
    x = deepcore.tensor([1.5, -2.0], requires_grad=True)
    x.sign().sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]


def _base_gradient(x, grad_of_view):
    """Scatter a gradient of x's view back onto its base array (the inverse of the view steps)."""
    base = np.zeros(x.base.shape)
    for kind, arg in x.steps:
        if kind == "slice":
            base[arg] += grad_of_view
        elif kind == "permute":
            base += grad_of_view.transpose(np.argsort(arg))
        else:  # expand: sum over the broadcast dims back to the base's shape
            base += np.sum(grad_of_view, axis=tuple(i for i, (b, s) in enumerate(zip(x.base.shape, arg))
                                                    if b == 1 and s != 1), keepdims=True)
    if not x.steps:
        base += grad_of_view
    return base


# ---- binary ops -------------------------------------------------------------------------------

_CATEGORY = {"bool": 0, "int64": 1, "float32": 2, "float64": 2}
_RANK = {"bool": 0, "int64": 1, "float32": 2, "float64": 3}


def _promote(a, b):
    return a if _RANK[a] >= _RANK[b] else b


def result_dtype(a_dtype, a_ndim, b_dtype, b_ndim):
    """PyTorch's promotion of two tensors: a 0-d tensor decides the dtype only when its category
    (bool < integer < float) is higher than the dimensioned tensors' (float32[n] + float64[] is float32)."""
    dims = [d for d, n in ((a_dtype, a_ndim), (b_dtype, b_ndim)) if n > 0]
    zeros = [d for d, n in ((a_dtype, a_ndim), (b_dtype, b_ndim)) if n == 0]
    if not dims or not zeros:
        return _promote(a_dtype, b_dtype)
    high, low = dims[0], zeros[0]
    if _CATEGORY[high] == 2 or (high != "bool" and _CATEGORY[low] < 2):
        return high
    return _promote(high, low)


BINARY = {
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.true_divide, "pow": np.power,
    "maximum": np.maximum, "minimum": np.minimum, "remainder": np.remainder, "fmod": np.fmod,
    "floor_divide": np.floor_divide,   # remainder: the divisor's sign, as torch.remainder
    "eq": np.equal, "ne": np.not_equal, "lt": np.less, "le": np.less_equal, "gt": np.greater, "ge": np.greater_equal,
}
_COMPARISONS = {"eq", "ne", "lt", "le", "gt", "ge"}
_QUOTIENTS = {"remainder", "fmod", "floor_divide"}


def _binary_expected_dtype(name, a, b):
    if name in _COMPARISONS:
        return "bool"
    dt = result_dtype(a.dtype, len(a.shape), b.dtype, len(b.shape))
    if name == "div" and _CATEGORY[dt] < 2:
        return "float32"   # true division of integers: the default float dtype
    return dt


def _binary_torch_refuses(name, a, b, dt):
    """What PyTorch refuses by rule (used where torch is not importable; deepcore must refuse it too)."""
    if name == "sub" and "bool" in (a.dtype, b.dtype):
        return True   # subtraction with a bool tensor
    if name in ("pow", "floor_divide", "remainder", "fmod") and dt == "bool":
        return True   # not implemented for bool
    if name in ("floor_divide", "remainder", "fmod") and dt == "int64" and (b.value == 0).any() and \
            np.broadcast(a.value, b.value).size:
        return True   # integer division by zero (an empty result divides nothing)
    return False


def _int_pow(a, b):
    """torch's integer power: a negative exponent gives 0 except for bases 1 and -1."""
    safe = np.power(a, np.abs(b))
    neg = np.where(a == 1, 1, np.where(a == -1, np.where(np.abs(b) % 2 == 1, -1, 1), 0))
    return np.where(b < 0, neg, safe)


def _binary_reference(name, a, b, dt):
    av, bv = a.value, b.value
    if name in _COMPARISONS:   # compared in the promoted dtype: float32[n] == float64[] rounds the 0-d one
        common = np.dtype(result_dtype(a.dtype, len(a.shape), b.dtype, len(b.shape)))
        with np.errstate(all="ignore"):
            return BINARY[name](av.astype(common), bv.astype(common))
    if dt == "bool" and name in ("add", "mul", "maximum", "minimum"):
        return {"add": np.logical_or, "mul": np.logical_and, "maximum": np.maximum, "minimum": np.minimum}[name](av, bv)
    if dt == "int64" and name in ("floor_divide", "remainder", "fmod", "pow"):
        av, bv = av.astype(np.int64), bv.astype(np.int64)
        return _int_pow(av, bv) if name == "pow" else BINARY[name](av, bv)
    # the float32 quotient ops are compared in float32 arithmetic (NumPy's is exact there): in float64
    # the floor of a rounded quotient may differ by one
    work = np.float32 if dt == "float32" and name in _QUOTIENTS else np.float64
    with np.errstate(all="ignore"):
        return BINARY[name](av.astype(work), bv.astype(work))


# ---- regressions of former divergences from PyTorch (the property tests above cover them too) ----
_BOOL_WITH_BOOL = {"add", "mul", "maximum", "minimum", "lt", "le", "gt", "ge"}


@pytest.mark.parametrize("name", sorted(_BOOL_WITH_BOOL))
def test_bool_with_bool(name):
    a, b = deepcore.tensor([True, False, True]), deepcore.tensor([True, True, False])
    expected = {"add": [True, True, True], "mul": [True, False, False], "maximum": [True, True, True],
                "minimum": [True, False, False], "lt": [False, True, False], "le": [True, True, False],
                "gt": [False, False, True], "ge": [True, False, True]}[name]
    assert getattr(a, name)(b).tolist() == expected


def test_sub_with_a_bool_tensor_is_refused():
    expect_error(lambda: deepcore.tensor([True]) - deepcore.tensor([2.5]), "sub", "bool - float32")


def test_integer_pow_stays_integer():
    out = deepcore.tensor([2, 3]) ** deepcore.tensor([3, 2])
    assert out.dtype is deepcore.int64 and out.tolist() == [8, 9]
    expect_error(lambda: deepcore.tensor([2]) ** -1, "pow", "int64 ** -1")


def test_zero_dim_tensor_does_not_promote_within_its_category():
    out = deepcore.ones(3) + deepcore.tensor(1.0, dtype=deepcore.float64)
    assert out.dtype is deepcore.float32


@pytest.mark.parametrize("name", ["floor_divide", "remainder", "fmod"])
def test_integer_division_by_zero_of_an_empty_tensor(name):
    out = getattr(deepcore.zeros(0, 3, dtype=deepcore.int64), name)(deepcore.tensor([0, 1, 2]))
    assert tuple(out.shape) == (0, 3)


def test_pow_one_half_of_minus_infinity_is_nan():
    assert np.isnan(to_numpy(deepcore.tensor([-np.inf]) ** 0.5)).all()


@settings(max_examples=examples(900))
@given(st.sampled_from(sorted(BINARY)), st.sampled_from(ALL_DTYPES), st.sampled_from(ALL_DTYPES), st.data())
def test_binary_broadcast_and_promotion(name, a_dtype, b_dtype, data):
    shape_a = data.draw(shapes(max_numel=500), "shape_a")
    shape_b = broadcast_partner(data.draw, shape_a) if data.draw(st.booleans()) else shape_a
    if data.draw(st.booleans()):
        shape_a, shape_b = shape_b, shape_a
    a = data.draw(operands(shape_a, a_dtype), "a")
    b = data.draw(operands(shape_b, b_dtype), "b")
    dt = _binary_expected_dtype(name, a, b)
    what = f"{name}({a}, {b})"
    # torch is the oracle of what to refuse where it is importable; without it, the rules it follows
    refused = _torch_refuses(name, a, b) if torch is not None else _binary_torch_refuses(name, a, b, dt)
    if refused:
        expect_error(lambda: getattr(a.dc(), name)(b.dc()), name, what)
        return
    out = getattr(a.dc(), name)(b.dc())
    expected = _binary_reference(name, a, b, dt)
    assert tuple(out.shape) == np.broadcast_shapes(shape_a, shape_b), f"{what}: shape {tuple(out.shape)}"
    expect_value(out, expected, dt, what, atol=_binary_atol(name, expected, dt))
    if torch is not None:
        expect_same(out, getattr(a.th(), name)(b.th()), what, atol=_binary_atol(name, expected, dt))


def _torch_refuses(name, a, b):
    return _torch_refuses_call(lambda: getattr(a.th(), name)(b.th()))


def _binary_atol(name, expected, dt):
    if dt != "float32":
        return None
    if name in ("remainder", "fmod", "floor_divide"):
        # float32 remainder of values near a multiple of the divisor: one rounding of the quotient
        return 2e-5 * max(1.0, float(np.max(np.abs(np.where(np.isfinite(expected), expected, 0)), initial=0)))
    return None


# ---- tensor-scalar ops --------------------------------------------------------------------------

SCALARS = (0, 1, -3, 2, 0.5, -1.5, 1e30, float("inf"), float("nan"), True, False)
_OPERATORS = {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv,
              "pow": operator.pow, "remainder": operator.mod, "floor_divide": operator.floordiv,
              "eq": operator.eq, "lt": operator.lt, "ge": operator.ge}


def _scalar_dtype(t_dtype, s):
    s_dt = "bool" if isinstance(s, bool) else "int64" if isinstance(s, int) else "float32"  # floats: the default
    return t_dtype if _CATEGORY[s_dt] <= _CATEGORY[t_dtype] else s_dt


def _scalar_refused(name, dt, t_dtype, x, s, reflected):
    """PyTorch's refusals of tensor-scalar ops (the rules, for runs without torch)."""
    divisor = x.value if reflected else np.asarray(s)
    if name == "sub" and (t_dtype == "bool" or isinstance(s, bool)):
        return True
    if name in ("remainder", "floor_divide", "pow") and dt == "bool":
        return True
    if name in ("remainder", "floor_divide") and dt == "int64" and (divisor == 0).any() and x.value.size:
        return True
    return name == "pow" and dt == "int64" and not reflected and s < 0


@settings(max_examples=examples(500))
@given(st.sampled_from(sorted(_OPERATORS)), st.sampled_from(ALL_DTYPES), st.sampled_from(SCALARS), st.booleans(),
       st.data())
def test_tensor_scalar_ops(name, dtype, scalar, reflected, data):
    x = data.draw(operands(data.draw(shapes(max_numel=500)), dtype), "x")
    op = _OPERATORS[name]

    def call(t):
        return op(scalar, t) if reflected else op(t, scalar)
    what = f"{'scalar ' + name + ' x' if reflected else 'x ' + name + ' scalar'} with scalar={scalar!r}, x={x}"
    dt = "bool" if name in _COMPARISONS else _scalar_dtype(dtype, scalar)
    if name == "div" and _CATEGORY[dt] < 2:
        dt = "float32"
    refused = (_torch_refuses_call(lambda: call(x.th())) if torch is not None
               else _scalar_refused(name, dt, dtype, x, scalar, reflected))
    if refused:
        expect_error(lambda: call(x.dc()), (name, "bool", "integer", "pow"), what)
        return
    ours = call(x.dc())
    # the arithmetic dtype: int64 for integer results, bool for logical ones, float64 otherwise
    work = (np.int64 if dt == "int64" else np.bool_ if dt == "bool" and name in ("add", "mul")
            else np.float32 if dt == "float32" and name in _QUOTIENTS else np.float64)
    # the scalar takes the computation's dtype first (1e30 becomes float32's 1.0000000150474662e30)
    compute_dt = _scalar_dtype(dtype, scalar) if name != "div" or _CATEGORY[dtype] == 2 else "float32"
    sv = np.asarray(np.asarray(scalar).astype(compute_dt) if compute_dt == "float32" else scalar, dtype=work)
    xv = x.value.astype(work)
    with np.errstate(all="ignore"):
        if dt == "int64" and name == "pow":
            expected = _int_pow(sv, xv) if reflected else _int_pow(xv, sv)
        elif dt == "bool" and name in ("add", "mul"):
            expected = (np.logical_or if name == "add" else np.logical_and)(xv, bool(scalar))
        else:
            ref = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.true_divide, "pow": np.power,
                   "remainder": np.remainder, "floor_divide": np.floor_divide, "eq": np.equal, "lt": np.less,
                   "ge": np.greater_equal}[name]
            expected = ref(sv, xv) if reflected else ref(xv, sv)
    rtol = 4e-5 if dt == "float32" else None
    expect_value(ours, expected, dt, what, rtol=rtol, atol=_binary_atol(name, expected, dt))
    if torch is not None:
        expect_same(ours, call(x.th()), what, rtol=rtol, atol=_binary_atol(name, expected, dt))


def _torch_refuses_call(fn):
    try:
        fn()
    except (RuntimeError, NotImplementedError):
        return True
    return False


# ---- gradients of binary ops with broadcasting ------------------------------------------------------

_BINARY_GRAD = {
    "add": lambda a, b: (np.ones_like(a), np.ones_like(b)),
    "sub": lambda a, b: (np.ones_like(a), -np.ones_like(b)),
    "mul": lambda a, b: (b, a),
    "div": lambda a, b: (1 / b, -a / b ** 2),
    "pow": lambda a, b: (b * a ** (b - 1), a ** b * np.log(a)),
}


def _sum_to(g, shape):
    lead = g.ndim - len(shape)
    g = g.sum(axis=tuple(range(lead))) if lead else g
    return g.sum(axis=tuple(i for i, s in enumerate(shape) if s == 1 and g.shape[i] != 1), keepdims=True).reshape(shape)


@settings(max_examples=examples(300))
@given(st.sampled_from(sorted(_BINARY_GRAD)), st.sampled_from(FLOAT_DTYPES), st.data())
def test_binary_gradients_sum_over_broadcast_dims(name, dtype, data):
    shape_a = data.draw(shapes(max_numel=200), "shape_a")
    shape_b = broadcast_partner(data.draw, shape_a)
    if data.draw(st.booleans()):
        shape_a, shape_b = shape_b, shape_a
    low = 0.5 if name in ("pow", "div") else -3.0
    a = data.draw(operands(shape_a, dtype, low, 2.0, specials=False), "a")
    b = data.draw(operands(shape_b, dtype, low, 2.0, specials=False), "b")
    (la, va), (lb, vb) = a.deepcore(True), b.deepcore(True)
    out = getattr(deepcore, name)(va, vb)
    w = np.random.default_rng(7).uniform(-1, 1, tuple(out.shape))
    out.backward(deepcore.tensor(w, dtype=getattr(deepcore, dtype)))
    ga, gb = _BINARY_GRAD[name](np.broadcast_to(a.value, w.shape), np.broadcast_to(b.value, w.shape))
    rtol = 1e-4 if dtype == "float32" else TOL[dtype][1]
    for leaf, op, g in ((la, a, ga), (lb, b, gb)):
        expected = _base_gradient(op, _sum_to(w * g, op.shape))
        expect_value(leaf.grad, expected, dtype, f"d{name}/d{'a' if op is a else 'b'} of ({a}, {b})", rtol=rtol,
                     atol=1e-4 if dtype == "float32" else None)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_elementwise_keeps_garbage_out_of_strided_views(dtype):
    """Sanity of the strategy itself: a strided operand's gaps hold GARBAGE, which no result may show."""
    from prop_strategies import GARBAGE, Operand
    base = np.full((5, 7), GARBAGE)
    base[::2, 1::3] = 1.0
    x = Operand(base.astype(dtype), [("slice", (slice(0, 5, 2), slice(1, 7, 3)))], dtype, "strided")
    assert (to_numpy(x.dc().exp()) == np.float64(np.e).astype(dtype)).all()
