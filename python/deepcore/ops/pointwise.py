"""Composed pointwise ops, on the elementwise kernels: rsqrt, NaN/inf tests and nan_to_num, the logical
and bitwise-on-bool ops, clamp_min/clamp_max, lerp, addcmul/addcdiv, isclose/allclose/equal.

Each is a few elementwise kernel calls whose autograd comes from its parts (where passes the
gradient only to the elements it keeps, so nan_to_num's gradient is zero where it replaced a value).
"""
import numbers

from ..dtypes import bool_, float64
from ..tensor import Tensor, tensor
from ._checks import check_tensor
from ._inplace import adopt, records, source
from .elementwise import Reciprocal, Sqrt, clamp, unary, where

_NUMBER = (int, float, bool)


def rsqrt(input):
    """1 / sqrt(input)."""
    check_tensor("rsqrt", "input", input)
    x = input if input.dtype.is_floating_point else input.float()
    return unary(Reciprocal, "rsqrt", unary(Sqrt, "rsqrt", x))


def reciprocal(input):
    """1 / input (integer input gives float32, as in PyTorch)."""
    check_tensor("reciprocal", "input", input)
    return unary(Reciprocal, "reciprocal", input if input.dtype.is_floating_point else input.float())


# ---- NaN and infinity ----------------------------------------------------------------------------

def isnan(input):
    check_tensor("isnan", "input", input)
    return input != input


def isinf(input):
    check_tensor("isinf", "input", input)
    if not input.dtype.is_floating_point:
        return input != input  # all False, in input's shape
    return input.detach().abs() == float("inf")


def isposinf(input):
    check_tensor("isposinf", "input", input)
    return input == float("inf") if input.dtype.is_floating_point else input != input


def isneginf(input):
    check_tensor("isneginf", "input", input)
    return input == float("-inf") if input.dtype.is_floating_point else input != input


def isfinite(input):
    """Neither NaN nor +-inf (True for every integer)."""
    check_tensor("isfinite", "input", input)
    if not input.dtype.is_floating_point:
        return input == input
    return input.detach().abs() < float("inf")  # NaN compares False


_FLOAT_MAX = {"float32": 3.4028234663852886e38, "float64": 1.7976931348623157e308}


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """NaN -> nan, +inf -> posinf, -inf -> neginf (default: the dtype's largest / lowest finite value)."""
    check_tensor("nan_to_num", "input", input)
    if not input.dtype.is_floating_point:
        return input.clone()
    big = _FLOAT_MAX[input.dtype.name]
    hi = big if posinf is None else float(posinf)
    lo = -big if neginf is None else float(neginf)
    out = where(input != input, float(nan), input)
    out = where(input == float("inf"), hi, out)
    return where(input == float("-inf"), lo, out)


def nan_to_num_(self, nan=0.0, posinf=None, neginf=None):
    tracked = records("nan_to_num_", self)
    return adopt("nan_to_num_", self, nan_to_num(source(self, tracked), nan, posinf, neginf), tracked)


# ---- logical and bitwise (bool) ------------------------------------------------------------------

def _truth(op, x):
    """x as bool: True where non-zero."""
    if isinstance(x, Tensor):
        return x if x.dtype is bool_ else x != 0
    if isinstance(x, _NUMBER):
        return bool(x)
    raise TypeError(f"{op}: expected a tensor or a number, got {type(x).__name__}")


def _pair(op, a, b):
    """Both operands as bool tensors (a number becomes a 0-d one on the tensor's device)."""
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        raise TypeError(f"{op}: expected at least one tensor, got {type(a).__name__} and {type(b).__name__}")
    device = (a if isinstance(a, Tensor) else b).device
    a, b = _truth(op, a), _truth(op, b)
    return tuple(x if isinstance(x, Tensor) else tensor(x, device=device) for x in (a, b))


def logical_not(input):
    check_tensor("logical_not", "input", input)
    return _truth("logical_not", input) == False  # noqa: E712 - elementwise, not a Python comparison


def logical_and(input, other):
    a, b = _pair("logical_and", input, other)
    return where(a, b, False)


def logical_or(input, other):
    a, b = _pair("logical_or", input, other)
    return where(a, True, b)


def logical_xor(input, other):
    a, b = _pair("logical_xor", input, other)
    return a != b


def _bool_only(op, *xs):
    for x in xs:
        if isinstance(x, Tensor) and x.dtype is not bool_:
            raise NotImplementedError(f"{op}: only bool tensors are supported (got {x.dtype.name}); deepcore has no "
                                      f"integer bitwise kernels")
        if isinstance(x, _NUMBER) and not isinstance(x, bool):
            raise NotImplementedError(f"{op}: only bool operands are supported (got {x!r})")


def bitwise_not(input):
    """~input: logical not of a bool tensor; -input - 1 of an int64 one (two's complement)."""
    check_tensor("bitwise_not", "input", input)
    if input.dtype is bool_:
        return logical_not(input)
    if input.dtype.is_floating_point:
        raise TypeError(f"bitwise_not: not supported for {input.dtype.name} tensors (only bool and int64)")
    return -input - 1


def bitwise_and(input, other):
    _bool_only("bitwise_and", input, other)
    return logical_and(input, other)


def bitwise_or(input, other):
    _bool_only("bitwise_or", input, other)
    return logical_or(input, other)


def bitwise_xor(input, other):
    _bool_only("bitwise_xor", input, other)
    return logical_xor(input, other)


# ---- clamp_min / clamp_max, lerp, addcmul / addcdiv ----------------------------------------------

def clamp_min(input, min):  # noqa: A002 - PyTorch's name
    return clamp(input, min=min)


def clamp_max(input, max):  # noqa: A002 - PyTorch's name
    return clamp(input, max=max)


def lerp(input, end, weight):
    """input + weight * (end - input); weight a number or a tensor."""
    check_tensor("lerp", "input", input)
    check_tensor("lerp", "end", end)
    if not input.dtype.is_floating_point or end.dtype is not input.dtype:
        raise RuntimeError(f"lerp: expected input and end of the same float dtype, got {input.dtype.name} and "
                           f"{end.dtype.name}")
    if not isinstance(weight, (Tensor, numbers.Real)) or isinstance(weight, bool):
        raise TypeError(f"lerp: weight must be a number or a tensor, got {type(weight).__name__}")
    return input + weight * (end - input)


def _addc(op, input, tensor1, tensor2, value, divide):
    for name, t in (("input", input), ("tensor1", tensor1), ("tensor2", tensor2)):
        check_tensor(op, name, t)
    if isinstance(value, bool) or not isinstance(value, numbers.Number):
        raise TypeError(f"{op}: value must be a number, got {type(value).__name__}")
    if divide and not (tensor1.dtype.is_floating_point or tensor2.dtype.is_floating_point):
        raise RuntimeError(f"{op}: integer division with addcdiv is no longer supported; use floating-point "
                           f"tensors")
    term = tensor1 / tensor2 if divide else tensor1 * tensor2
    return input + (term * value if value != 1 else term)


def addcmul(input, tensor1, tensor2, *, value=1):
    """input + value * tensor1 * tensor2."""
    return _addc("addcmul", input, tensor1, tensor2, value, False)


def addcdiv(input, tensor1, tensor2, *, value=1):
    """input + value * tensor1 / tensor2."""
    return _addc("addcdiv", input, tensor1, tensor2, value, True)


def addcmul_(self, tensor1, tensor2, *, value=1):
    tracked = records("addcmul_", self, tensor1, tensor2)
    return adopt("addcmul_", self, addcmul(source(self, tracked), tensor1, tensor2, value=value), tracked)


def addcdiv_(self, tensor1, tensor2, *, value=1):
    tracked = records("addcdiv_", self, tensor1, tensor2)
    return adopt("addcdiv_", self, addcdiv(source(self, tracked), tensor1, tensor2, value=value), tracked)


# ---- closeness -----------------------------------------------------------------------------------

def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|input - other| <= atol + rtol * |other| elementwise (equal infinities are close; NaN only with
    equal_nan)."""
    check_tensor("isclose", "input", input)
    check_tensor("isclose", "other", other)
    if input.dtype is not other.dtype:
        raise RuntimeError(f"isclose: {input.dtype.name} did not match {other.dtype.name}")
    if rtol < 0 or atol < 0:
        raise RuntimeError(f"isclose: rtol ({rtol}) and atol ({atol}) must be non-negative")
    a, b = input.detach(), other.detach()
    if a.dtype is bool_:
        return a == b
    if not a.dtype.is_floating_point:
        a, b = a.to(float64), b.to(float64)
    # Infinities are close only to the same infinity: the tolerance test is for finite pairs.
    finite = logical_and(isfinite(a), isfinite(b))
    close = where(finite, (a - b).abs() <= atol + rtol * b.abs(), a == b)
    if equal_nan:
        close = where(logical_and(a != a, b != b), True, close)
    return close


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True when every element is close (after broadcasting), as a Python bool."""
    return bool(isclose(input, other, rtol, atol, equal_nan).all().item())


def equal(input, other):
    """True when both tensors have the same shape and elements (a Python bool)."""
    check_tensor("equal", "input", input)
    check_tensor("equal", "other", other)
    if tuple(input.shape) != tuple(other.shape):
        return False
    return bool((input.detach() == other.detach()).all().item()) if input.numel() else True
