"""Elementwise arithmetic, math functions and comparisons, with broadcasting."""
from .. import _C
from ..autograd import Function
from ..tensor import Tensor, arange
from ..dtypes import bool_, int64, promote_scalar, result_type
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
    """Cast tensor operands to their common dtype (differentiably; PyTorch's rule, dtypes.result_type); check
    scalars."""
    # Fast paths for the common cases, which result_type would leave as they are: two tensors of one
    # dtype, and a floating tensor with a Python float (float32[n] * 0.5 stays float32).
    a_tensor, b_tensor = isinstance(a, Tensor), isinstance(b, Tensor)
    if a_tensor and b_tensor:
        if a._dtype is b._dtype:
            return a, b
    elif a_tensor and type(b) is float and a._dtype.is_floating_point:
        return a, b
    elif b_tensor and type(a) is float and b._dtype.is_floating_point:
        return a, b
    for x in (a, b):
        if not isinstance(x, (Tensor,) + _NUMBER):
            raise TypeError(f"{op_name}: unsupported operand types {type(a).__name__} and {type(b).__name__}")
    dt = result_type(a, b)
    return tuple(x.to(dt) if isinstance(x, Tensor) and x.dtype is not dt else x for x in (a, b))


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


class Sin(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _unary(U.sin, x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * _unary(U.cos, x)


class Cos(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _unary(U.cos, x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return -(g * _unary(U.sin, x))


class Log1p(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _unary(U.log1p, x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g / (x + 1)


class Expm1(Function):
    @staticmethod
    def forward(ctx, x):
        out = _unary(U.expm1, x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        out, = ctx.saved_tensors
        return g * (out + 1)


class Rounding(Function):
    """floor / ceil / round: piecewise constant, so the gradient is zero (as in PyTorch)."""

    @staticmethod
    def forward(ctx, x, op):
        return _unary(op, x)

    @staticmethod
    def backward(ctx, g):
        return g * 0, None


def rounding(x, op, decimals=0):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op.name}: expected a Tensor, got {type(x).__name__}")
    if decimals and x.dtype.is_floating_point:
        scale = 10.0 ** decimals
        return Rounding.apply(x * scale, op) / scale
    return Rounding.apply(x, op)


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
    """Saves its output (out > 0 exactly where x > 0), as PyTorch does: the input may change in place after."""

    @staticmethod
    def forward(ctx, x):
        out = _unary(U.relu, x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        out, = ctx.saved_tensors
        return Tensor._make(g._backend.leaky_relu_backward(g._data, out._data, 0.0))


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


def _is_bool(x):
    return isinstance(x, bool) or (isinstance(x, Tensor) and x.dtype is bool_)


def _bool_as_int64(op, a, b):
    """The kernels take no bool operands (but for eq/ne): bool (op) bool runs on int64 copies, exact for
    add/mul/maximum/minimum (then != 0: logical or / and) and the comparisons. Bool tensors take no gradient."""
    a, b = (x.to(int64) if isinstance(x, Tensor) else int(x) for x in (a, b))
    out = _raw_binary(op, a, b)
    return out if out.dtype is bool_ else out.to(bool_)


_BOOL_KERNEL = {"add": B.add, "mul": B.mul, "maximum": B.maximum, "minimum": B.minimum}


def binary(fn, op_name, a, b):
    if op_name == "sub" and (_is_bool(a) or _is_bool(b)):
        raise RuntimeError("sub: Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
                           "trying to invert a mask, use the `~` or `logical_not()` operator instead.")
    a, b = promote_operands(op_name, a, b)
    if op_name in _BOOL_KERNEL and _is_bool(a) and _is_bool(b):
        return _bool_as_int64(_BOOL_KERNEL[op_name], a, b)
    if fn is Div and isinstance(a, _NUMBER) and b.dtype.is_floating_point:
        # number / t is reciprocal(t) * number, as in PyTorch: the saved output lets t change in place after
        out = Reciprocal.apply(b)
        return out if a == 1 else out * a
    return fn.apply(a, b)


def compare(op, a, b):
    a, b = promote_operands(op.name, a, b)
    if op not in (B.eq, B.ne) and _is_bool(a) and _is_bool(b):
        return _bool_as_int64(op, a, b)
    return _raw_binary(op, a, b)


def _as_tensor_like(x, ref):
    """A number as a tensor of ref's dtype (broadcast to ref's shape: exact for any int64)."""
    return x if isinstance(x, Tensor) else _raw_binary(B.mul, ref, 0) + x


def _integer_power(a, b):
    """PyTorch's integer power, composed (the kernel has none): exponentiation by squaring wraps as int64
    multiplication does; a negative exponent gives 0 except for bases 1 and -1."""
    ref = a if isinstance(a, Tensor) else b
    base, exp = _as_tensor_like(a, ref), _as_tensor_like(b, ref)
    magnitude = _unary(U.abs, exp)
    original = base
    result = _raw_binary(B.mul, base, 0) + _raw_binary(B.mul, exp, 0) + 1
    bits = int(magnitude.max().item()).bit_length() if magnitude.numel() else 0
    for _ in range(bits):
        odd = _raw_binary(B.eq, _raw_binary(B.remainder, magnitude, 2), 1)
        result = where(odd, result * base, result)
        magnitude = _raw_binary(B.floor_divide, magnitude, 2)
        base = base * base
    vanishes = where(_raw_binary(B.lt, exp, 0), _raw_binary(B.ne, _unary(U.abs, original), 1), False)
    return where(vanishes, 0, result)


def power(a, b):
    """a ** b with PyTorch's dtypes: integer operands give int64 (a negative number exponent is refused),
    bool ** bool is not implemented, and t ** 0.5 is sqrt(t) (so (-inf) ** 0.5 is nan, as in PyTorch)."""
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        raise TypeError(f"pow: expected at least one tensor operand, got {type(a).__name__} and {type(b).__name__}")
    a, b = promote_operands("pow", a, b)
    ref = a if isinstance(a, Tensor) else b
    if ref.dtype is bool_:
        raise NotImplementedError("pow: \"pow\" not implemented for 'Bool' (convert with .long() first)")
    if not ref.dtype.is_floating_point:
        if isinstance(b, int) and b < 0:
            raise RuntimeError("pow: Integers to negative integer powers are not allowed.")
        return _integer_power(a, b)
    if isinstance(a, Tensor) and isinstance(b, float) and b == 0.5:
        return Sqrt.apply(a)
    return Pow.apply(a, b)


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


def masked_fill(x, mask, value):
    """x with `value` where the bool `mask` (broadcast to x's shape) is True; the gradient flows to x elsewhere."""
    check_tensor("masked_fill", "input", x)
    if not isinstance(mask, Tensor) or mask.dtype.name != "bool":
        raise TypeError(f"masked_fill: expected a bool mask tensor, got "
                        f"{mask.dtype.name if isinstance(mask, Tensor) else type(mask).__name__}")
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(f"masked_fill: only supports a 0-dimensional value tensor, but got a tensor with "
                               f"{value.ndim} dimension(s)")
        value = value.item()
    if not isinstance(value, _NUMBER):
        raise TypeError(f"masked_fill: value must be a number or a 0-d tensor, got {type(value).__name__}")
    if mask.ndim > x.ndim or any(m not in (1, s) for m, s in zip(reversed(mask.shape), reversed(x.shape))):
        raise RuntimeError(f"masked_fill: the mask of shape {tuple(mask.shape)} does not broadcast to the tensor's "
                           f"shape {tuple(x.shape)}")
    fill = Tensor._make(x._backend.full_on([], float(value), x.dtype._c, x.device.index))
    return Where.apply(mask, fill, x)


def _triangle(op, x, diagonal, upper):
    check_tensor(op, "input", x)
    if x.ndim < 2:
        raise RuntimeError(f"{op}: input tensor must have at least 2 dimensions, got shape {tuple(x.shape)}")
    rows, cols = x.shape[-2], x.shape[-1]
    r = arange(rows, device=x.device).reshape(rows, 1)
    c = arange(cols, device=x.device).reshape(1, cols)
    keep = compare(_C.BinaryOp.ge if upper else _C.BinaryOp.le, c - r, int(diagonal))
    return where(keep, x, False if x.dtype is bool_ else 0)   # an int 0 would promote a bool tensor


def triu(x, diagonal=0):
    """The upper triangle of the last two dims: elements with col - row >= diagonal; zeros elsewhere."""
    return _triangle("triu", x, diagonal, True)


def tril(x, diagonal=0):
    """The lower triangle of the last two dims: elements with col - row <= diagonal; zeros elsewhere."""
    return _triangle("tril", x, diagonal, False)


# ---- reciprocal, erf, erfinv ----------------------------------------------------------------

class Reciprocal(Function):
    @staticmethod
    def forward(ctx, x):
        out = _unary(U.reciprocal, x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        out, = ctx.saved_tensors
        return -(g * out * out)


class Erf(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _unary(U.erf, x)

    @staticmethod
    def backward(ctx, g):  # d/dx erf(x) = 2/sqrt(pi) exp(-x^2)
        x, = ctx.saved_tensors
        return g * _unary(U.exp, -(x * x)) * 1.1283791670955126


class Erfinv(Function):
    @staticmethod
    def forward(ctx, x):
        out = _unary(U.erfinv, x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):  # d/dx erfinv(x) = sqrt(pi)/2 exp(erfinv(x)^2)
        out, = ctx.saved_tensors
        return g * _unary(U.exp, out * out) * 0.8862269254527580


# ---- remainder, fmod, floor_divide ----------------------------------------------------------------

def _quotient(a, b, op):
    """floor(a / b) (remainder's) or trunc(a / b) (fmod's) for the divisor's gradient."""
    q = _raw_binary(B.div, a, b)
    if op == B.remainder:
        return _unary(U.floor, q)
    return _unary(U.floor, _unary(U.abs, q)) * _unary(U.sign, q)


class _DivMod(Function):
    """remainder / fmod: a - b * q with q = floor(a / b) or trunc(a / b), piecewise: d/da = 1, d/db = -q."""
    op = None

    @classmethod
    def forward(cls, ctx, a, b):
        ctx.save_for_backward(*(x if isinstance(x, Tensor) else None for x in (a, b)))
        ctx.scalars = a, b
        return _raw_binary(cls.op, a, b)

    @classmethod
    def backward(cls, ctx, g):
        ta, tb = ctx.saved_tensors
        a = ta if ta is not None else ctx.scalars[0]
        b = tb if tb is not None else ctx.scalars[1]
        ga = sum_to(g, _shape(a)) if ctx.needs_input_grad[0] else None
        gb = sum_to(-(g * _quotient(a, b, cls.op)), _shape(b)) if ctx.needs_input_grad[1] else None
        return ga, gb


class Remainder(_DivMod):
    op = B.remainder


class Fmod(_DivMod):
    op = B.fmod


class FloorDivide(Function):
    @staticmethod
    def forward(ctx, a, b):
        return _raw_binary(B.floor_divide, a, b)

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError("floor_divide: derivative for floor_divide is not implemented")


def divmod_op(fn, op_name, a, b):
    """remainder / fmod / floor_divide with PyTorch's dtype rules; integer division by zero raises."""
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        raise TypeError(f"{op_name}: expected at least one tensor operand, got {type(a).__name__} and "
                        f"{type(b).__name__}")
    a, b = promote_operands(op_name, a, b)
    ref = a if isinstance(a, Tensor) else b
    if ref.dtype.name == "bool":
        raise RuntimeError(f"{op_name}: not implemented for bool tensors (convert with .long() first)")
    empty = any(isinstance(x, Tensor) and x.numel() == 0 for x in (a, b))   # nothing is divided
    if not ref.dtype.is_floating_point and not empty:
        zero = (b == 0) if isinstance(b, Tensor) else b == 0
        if zero is True or (isinstance(zero, Tensor) and zero.numel() and
                            bool(Tensor._make(zero._backend.reduce(_C.ReduceOp.sum, zero._data, [], False)).item())):
            raise RuntimeError(f"{op_name}: ZeroDivisionError (integer division by zero)")
    return fn.apply(a, b)
