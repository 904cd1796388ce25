"""Elementwise arithmetic, math functions and comparisons, with broadcasting."""
from .. import _C
from ..autograd import Function
from ..tensor import Tensor
from ..dtypes import promote, promote_scalar
from ._checks import check_tensor, require_float
from .reduce import sum_to

B = _C.BinaryOp
U = _C.UnaryOp
_NUMBER = (int, float, bool)


def _shape(x):
    return x._data.shape if isinstance(x, Tensor) else None


def _raw_binary(op, a, b, out=None):
    """Run binary kernel `op` on tensors/scalars that already share a dtype."""
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        if a._backend is not b._backend or (a._backend.name == "cuda" and a._data.device_index != b._data.device_index):
            raise ValueError(f"{op.name}: expected all tensors on the same device, got {a.device} and {b.device}")
        return Tensor._make(a._backend.binary(op, a._data, b._data, out))
    if isinstance(a, Tensor):
        return Tensor._make(a._backend.binary_scalar(op, a._data, b, False, out))
    return Tensor._make(b._backend.binary_scalar(op, b._data, a, True, out))


def promote_operands(op_name, a, b):
    """Cast tensor operands to their common dtype (differentiably); check scalars."""
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        if a.dtype is not b.dtype:
            dt = promote(a.dtype, b.dtype)
            a, b = a.to(dt), b.to(dt)
        return a, b
    t, s = (a, b) if isinstance(a, Tensor) else (b, a)
    if not isinstance(s, _NUMBER):
        raise TypeError(f"{op_name}: unsupported operand types {type(a).__name__} and {type(b).__name__}")
    dt = promote_scalar(t.dtype, s)
    if dt is not t.dtype:
        t = t.to(dt)
    return (t, s) if isinstance(a, Tensor) else (s, t)


class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = _shape(a), _shape(b)
        return _raw_binary(B.add, a, b)

    @staticmethod
    def backward(ctx, g):
        sa, sb = ctx.shapes
        return sum_to(g, sa), sum_to(g, sb)


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = _shape(a), _shape(b)
        return _raw_binary(B.sub, a, b)

    @staticmethod
    def backward(ctx, g):
        sa, sb = ctx.shapes
        return sum_to(g, sa), sum_to(-g, sb) if sb is not None else None


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(*(x if isinstance(x, Tensor) else None for x in (a, b)))
        ctx.scalars = a, b
        return _raw_binary(B.mul, a, b)

    @staticmethod
    def backward(ctx, g):
        ta, tb = ctx.saved_tensors
        a = ta if ta is not None else ctx.scalars[0]
        b = tb if tb is not None else ctx.scalars[1]
        ga = sum_to(g * b, _shape(a)) if ctx.needs_input_grad[0] else None
        gb = sum_to(g * a, _shape(b)) if ctx.needs_input_grad[1] else None
        return ga, gb


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(*(x if isinstance(x, Tensor) else None for x in (a, b)))
        ctx.scalars = a, b
        return _raw_binary(B.div, a, b)

    @staticmethod
    def backward(ctx, g):
        ta, tb = ctx.saved_tensors
        a = ta if ta is not None else ctx.scalars[0]
        b = tb if tb is not None else ctx.scalars[1]
        ga = sum_to(g / b, _shape(a)) if ctx.needs_input_grad[0] else None
        gb = sum_to(-g * a / (b * b), _shape(b)) if ctx.needs_input_grad[1] else None
        return ga, gb


class Pow(Function):
    @staticmethod
    def forward(ctx, a, b):
        out = _raw_binary(B.pow, a, b)
        ctx.save_for_backward(*(x if isinstance(x, Tensor) else None for x in (a, b, out)))
        ctx.scalars = a, b
        return out

    @staticmethod
    def backward(ctx, g):
        ta, tb, out = ctx.saved_tensors
        a = ta if ta is not None else ctx.scalars[0]
        b = tb if tb is not None else ctx.scalars[1]
        ga = gb = None
        if ctx.needs_input_grad[0]:  # d/da a^b = b a^(b-1)
            ga = sum_to(g * b * a ** (b - 1), _shape(a))
        if ctx.needs_input_grad[1]:  # d/db a^b = a^b log a
            log_a = a.log() if isinstance(a, Tensor) else __import__("math").log(a)
            gb = sum_to(g * out * log_a, _shape(b))
        return ga, gb


class _Extremum(Function):
    """maximum/minimum: the gradient goes to the chosen operand, split evenly on ties."""
    op = None

    @classmethod
    def forward(cls, ctx, a, b):
        # One operand may be a Python number (maximum(x, 0.0)): kept aside, it gets no gradient.
        ctx.numbers = tuple(None if isinstance(v, Tensor) else v for v in (a, b))
        ctx.save_for_backward(*(v if isinstance(v, Tensor) else None for v in (a, b)))
        return _raw_binary(cls.op, a, b)

    @classmethod
    def backward(cls, ctx, g):
        a, b = (t if n is None else n for t, n in zip(ctx.saved_tensors, ctx.numbers))
        wins = _raw_binary(B.gt if cls.op == B.maximum else B.lt, a, b).to(g.dtype)
        ties = _raw_binary(B.eq, a, b).to(g.dtype) * 0.5
        wa = wins + ties
        return (sum_to(g * wa, _shape(a)) if ctx.numbers[0] is None else None,
                sum_to(g * (1 - wa), _shape(b)) if ctx.numbers[1] is None else None)


class Maximum(_Extremum):
    op = B.maximum


class Minimum(_Extremum):
    op = B.minimum


def _unary(op, x):
    return Tensor._make(x._backend.unary(op, x._data, None))


class Neg(Function):
    @staticmethod
    def forward(ctx, x):
        return _unary(U.neg, x)

    @staticmethod
    def backward(ctx, g):
        return -g


class Exp(Function):
    @staticmethod
    def forward(ctx, x):
        out = _unary(U.exp, x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        out, = ctx.saved_tensors
        return g * out


class Log(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _unary(U.log, x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g / x


class Sqrt(Function):
    @staticmethod
    def forward(ctx, x):
        out = _unary(U.sqrt, x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        out, = ctx.saved_tensors
        return g / (out * 2)


class Abs(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _unary(U.abs, x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * _unary(U.sign, x)


class _OutputSavingUnary(Function):
    """tanh / sigmoid: the derivative is a function of the output, so only it is saved."""
    op = backward_kernel = None

    @classmethod
    def forward(cls, ctx, x):
        out = _unary(cls.op, x)
        ctx.save_for_backward(out)
        return out

    @classmethod
    def backward(cls, ctx, g):
        out, = ctx.saved_tensors
        return Tensor._make(getattr(g._backend, cls.backward_kernel)(g._data, out._data))


class Tanh(_OutputSavingUnary):
    op, backward_kernel = U.tanh, "tanh_backward"


class Sigmoid(_OutputSavingUnary):
    op, backward_kernel = U.sigmoid, "sigmoid_backward"


class Relu(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _unary(U.relu, x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return Tensor._make(g._backend.leaky_relu_backward(g._data, x._data, 0.0))


class LeakyRelu(Function):
    @staticmethod
    def forward(ctx, x, negative_slope):
        ctx.save_for_backward(x)
        ctx.slope = float(negative_slope)
        return Tensor._make(x._backend.leaky_relu(x._data, ctx.slope))

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return Tensor._make(g._backend.leaky_relu_backward(g._data, x._data, ctx.slope)), None


class Clamp(Function):
    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x)
        ctx.bounds = lo, hi
        out = x
        if lo is not None:
            out = _raw_binary(B.maximum, out, lo)
        if hi is not None:
            out = _raw_binary(B.minimum, out, hi)
        return out

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        lo, hi = ctx.bounds
        mask = None  # 1 where x was inside [lo, hi], so the gradient passes
        if lo is not None:
            mask = _raw_binary(B.ge, x, lo).to(g.dtype)
        if hi is not None:
            upper = _raw_binary(B.le, x, hi).to(g.dtype)
            mask = upper if mask is None else mask * upper
        return g * mask, None, None


def leaky_relu(x, negative_slope=0.01):
    """max(x, 0) + negative_slope * min(x, 0)."""
    check_tensor("leaky_relu", "input", x)
    require_float("leaky_relu", x)
    return LeakyRelu.apply(x, negative_slope)


def binary(fn, op_name, a, b):
    a, b = promote_operands(op_name, a, b)
    return fn.apply(a, b)


def compare(op, a, b):
    a, b = promote_operands(op.name, a, b)
    return _raw_binary(op, a, b)


def unary(fn, op_name, x, needs_float=True):
    if needs_float:
        require_float(op_name, x)
    return fn.apply(x)


def clamp(x, min=None, max=None):
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    for name, v in (("min", min), ("max", max)):
        if v is not None and not isinstance(v, _NUMBER):
            raise TypeError(f"clamp: {name} must be a number, got {type(v).__name__}")
    if not x.dtype.is_floating_point and any(isinstance(v, float) for v in (min, max)):
        x = x.to(promote_scalar(x.dtype, 1.0))
    return Clamp.apply(x, min, max)


class Where(Function):
    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.save_for_backward(cond)
        ctx.shapes = tuple(a.shape), tuple(b.shape)
        return Tensor._make(a._backend.where(cond._data, a._data, b._data))

    @staticmethod
    def backward(ctx, g):
        cond, = ctx.saved_tensors
        zero = g._backend.full_on([], 0.0, g.dtype._c, g.device.index)
        ga = Tensor._make(g._backend.where(cond._data, g._data, zero))
        gb = Tensor._make(g._backend.where(cond._data, zero, g._data))
        return None, sum_to(ga, ctx.shapes[0]), sum_to(gb, ctx.shapes[1])


def where(cond, a, b):
    if not isinstance(cond, Tensor) or cond.dtype.name != "bool":
        raise TypeError("where: condition must be a bool tensor")
    ref = a if isinstance(a, Tensor) else b
    if not isinstance(ref, Tensor):
        raise TypeError("where: at least one of the two values must be a tensor")
    if not isinstance(a, Tensor):
        a = Tensor._make(ref._backend.full_on([], float(a), promote_scalar(ref.dtype, a)._c, ref.device.index))
    if not isinstance(b, Tensor):
        b = Tensor._make(ref._backend.full_on([], float(b), promote_scalar(ref.dtype, b)._c, ref.device.index))
    a, b = promote_operands("where", a, b)
    return Where.apply(cond, a, b)
