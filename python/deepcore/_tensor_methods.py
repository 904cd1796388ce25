"""Tensor's operators and methods, attached to the class in one place.

Each is a thin call into ``deepcore.ops``; in-place variants write through the
tensor's memory (the lecture's ``w1 -= learning_rate * w1.grad``).
"""
from . import _C, _tensor_api
from .autograd import backward as _backward, is_grad_enabled
from .dtypes import float32 as _float32, float64 as _float64, promote_scalar, result_type
from .ops import activation, elementwise as ew, index, indexing, matmul as mmul, memory, reduce as red, shape as shp
from .ops._inplace import adopt, check_overlap, check_writable, records, source
from .tensor import Tensor

B = _C.BinaryOp
_NUMBER = (int, float, bool)


def _floats(a, b):
    """True division and pow compute in floating point even for integer operands."""
    if isinstance(a, Tensor) and not a.dtype.is_floating_point and not (isinstance(b, Tensor) and
                                                                        b.dtype.is_floating_point):
        a = a.float()
    if isinstance(b, Tensor) and not b.dtype.is_floating_point and not (isinstance(a, Tensor) and
                                                                        a.dtype.is_floating_point):
        b = b.float()
    return a, b


def _times_alpha(op, a, b, alpha):
    """torch.add/sub's `alpha`: the other operand is scaled first (a + alpha * b)."""
    if isinstance(alpha, bool) or not isinstance(alpha, _NUMBER):
        raise TypeError(f"{op}: alpha must be a number, got {type(alpha).__name__}")
    if isinstance(alpha, float) and not any(
            isinstance(t, Tensor) and t.dtype.is_floating_point for t in (a, b)):
        raise RuntimeError(f"{op}: for integral input tensors, argument alpha must not be a floating point number.")
    return b * alpha


def add(a, b, *, alpha=1):
    if alpha != 1:
        b = _times_alpha("add", a, b, alpha)
    return ew.binary(ew.Add, "add", a, b)


def sub(a, b, *, alpha=1):
    if alpha != 1:
        b = _times_alpha("sub", a, b, alpha)
    return ew.binary(ew.Sub, "sub", a, b)


def mul(a, b):
    return ew.binary(ew.Mul, "mul", a, b)


def div(a, b):
    return ew.binary(ew.Div, "div", *_floats(a, b))


def pow(a, b):
    return ew.power(a, b)   # integer operands stay int64, as in PyTorch


def maximum(a, b):
    return ew.binary(ew.Maximum, "maximum", a, b)


def minimum(a, b):
    return ew.binary(ew.Minimum, "minimum", a, b)


_OUT_OF_PLACE = {"add": add, "sub": sub, "mul": mul, "div": div, "pow": pow}
_KERNEL = {"add": B.add, "sub": B.sub, "mul": B.mul, "div": B.div, "pow": B.pow}


def _inplace(name):
    fn, op = _OUT_OF_PLACE[name], _KERNEL[name]

    def method(self, other, **kwargs):
        if not isinstance(other, (Tensor,) + _NUMBER):
            return NotImplemented
        if isinstance(other, Tensor):  # before alpha scales `other` into a fresh tensor that shares nothing
            check_overlap(f"{name}_", self, other)
        if kwargs:
            if name not in ("add", "sub") or set(kwargs) != {"alpha"}:
                raise TypeError(f"{name}_() got an unexpected keyword argument '{next(iter(kwargs))}'")
            if kwargs["alpha"] != 1:
                other = _times_alpha(f"{name}_", self, other, kwargs["alpha"])
        if name == "pow" and not self.dtype.is_floating_point:
            # integer powers are composed (ops/elementwise.power), not one kernel: computed, then written back
            result = fn(self, other)
            _check_inplace_result(name, self, result)
            self._backend.copy_(self._data, result._data)
            return self
        tracked = is_grad_enabled() and (self.requires_grad or (isinstance(other, Tensor) and other.requires_grad))
        if tracked:
            if self.is_leaf and self.requires_grad:
                raise RuntimeError(f"{name}_: a leaf Variable that requires grad is being used in an in-place "
                                   f"operation (shape {tuple(self.shape)}); wrap it in deepcore.no_grad()")
            check_writable(f"{name}_", self)  # computed out of place: refused here, not by the copy back
            # mul, div and pow save their operands for backward: give them a copy of self, which is overwritten below.
            src = self.clone() if name in ("mul", "div", "pow") else self
            result = fn(src, src if other is self else other)
            _check_inplace_result(name, self, result)
            self._backend.copy_(self._data, result._data)
            self.grad_fn, self._output_nr, self._requires_grad = result.grad_fn, result._output_nr, True
            return self
        if isinstance(other, Tensor):
            _check_inplace_result(name, self, other, result_type(self, other))
            if other.device != self.device:
                raise ValueError(f"{name}_: expected both tensors on the same device, got {self.device} and "
                                 f"{other.device}")
            if other.dtype is not self.dtype:
                other = other.to(self.dtype)
            if name == "div" and not self.dtype.is_floating_point:
                raise TypeError(f"{name}_: result type float can't be cast to the integer tensor being modified")
            self._backend.binary(op, self._data, other._data, self._data)
        else:
            _check_inplace_result(name, self, None, promote_scalar(self.dtype, other))
            if name == "div" and not self.dtype.is_floating_point:
                raise TypeError(f"{name}_: result type float can't be cast to the integer tensor being modified")
            self._backend.binary_scalar(op, self._data, other, False, self._data)
        return self

    method.__name__ = name + "_"
    return method


def _check_inplace_result(name, self, result, result_dtype=None):
    if isinstance(result, Tensor):
        shape = tuple(result.shape)
        if len(shape) > self.ndim or any(r not in (1, s) for r, s in zip(reversed(shape), reversed(self.shape))):
            raise ValueError(f"{name}_: the result of shape {shape} does not fit the tensor being modified, of shape "
                             f"{tuple(self.shape)}")
    dt = result_dtype if result_dtype is not None else (result.dtype if isinstance(result, Tensor) else self.dtype)
    if dt._rank > self.dtype._rank:
        raise TypeError(f"{name}_: result type {dt.name} can't be cast to the desired output type "
                        f"{self.dtype.name}")


def _reflected(fn):
    def method(self, other):
        if not isinstance(other, _NUMBER):
            return NotImplemented
        return fn(other, self)
    return method


def _compare(op):
    def method(self, other):
        if not isinstance(other, (Tensor,) + _NUMBER):
            return NotImplemented
        return ew.compare(op, self, other)
    return method


def _forward(fn):
    def method(self, other):
        if not isinstance(other, (Tensor,) + _NUMBER):
            return NotImplemented
        return fn(self, other)
    return method


def zero_(self):
    return _fill(self, 0, "zero_")


def fill_(self, value):
    return _fill(self, value, "fill_")


def _fill(self, value, op):
    """On a tensor of the graph the write is recorded (the old value gets a zero gradient), as PyTorch
    does; a leaf that requires grad is refused."""
    if records(op, self):
        return indexing.recorded_write(op, self, Ellipsis, float(value))
    self._backend.copy_(self._data, self._backend.full_on([], float(value), self.dtype._c, self.device.index))
    return self


def copy_(self, src):
    if not isinstance(src, Tensor):
        src = Tensor(src)
    tracked = records("copy_", self, src)
    if src.device != self.device:
        src = src.to(self.device)
    if tracked:  # the gradient goes to src (summed over its broadcast); the old value gets none
        return indexing.recorded_write("copy_", self, Ellipsis, src)
    self._backend.copy_(self._data, src._data)
    return self


def _variance(self, dim, unbiased, keepdim, correction, op):
    if not self.dtype.is_floating_point:   # (deepcore has no complex dtypes)
        raise RuntimeError(f"{op}: std and var only support floating point and complex dtypes, "
                           f"got {self.dtype.name}")
    if isinstance(dim, bool):   # x.std(False): the legacy overload std(unbiased)
        dim, unbiased = None, dim
    dims = red.normalize_dims(dim, self.ndim, op)
    n = 1
    for d in dims:
        n *= self.shape[d]
    ddof = correction if correction is not None else (1 if unbiased else 0)
    # float32 accumulates in float64, as PyTorch's CPU kernel does: squares of 1e20 overflow float32, and
    # std's square root brings the result back into range (std([1e30, 0, -1e30]) is 1e30, not inf).
    x = self.to(_float64) if self.dtype is _float32 else self
    centered = x - red.mean(x, dims, keepdim=True)
    result = red.sum(centered * centered, dims, keepdim) / max(n - ddof, 0)
    if op == "std":
        result = result.sqrt()
    return result.to(self.dtype) if result.dtype is not self.dtype else result


def var(self, dim=None, unbiased=True, keepdim=False, correction=None):
    return _variance(self, dim, unbiased, keepdim, correction, "var")


def std(self, dim=None, unbiased=True, keepdim=False, correction=None):
    return _variance(self, dim, unbiased, keepdim, correction, "std")


def clamp_(self, min=None, max=None):
    """Computed out of place and written back (recorded, as Tensor.add_ is, when the graph records);
    what PyTorch refuses is refused first: a leaf that requires grad, overlapping memory."""
    tracked = records("clamp_", self, min, max)
    check_writable("clamp_", self)
    return adopt("clamp_", self, ew.clamp(source(self, tracked), min, max), tracked)


def masked_fill_(self, mask, value):
    """As clamp_; a tensor value is read once, before any write (PyTorch accepts a view of self there)."""
    tracked = records("masked_fill_", self, mask)
    check_writable("masked_fill_", self)
    return adopt("masked_fill_", self, ew.masked_fill(source(self, tracked), mask, value), tracked)


def view_as(self, other):
    return shp.reshape(self, tuple(other.shape))


def expand_as(self, other):
    return shp.expand(self, tuple(other.shape))


def t(self):
    if self.ndim > 2:
        raise ValueError(f"t: expects a tensor with <= 2 dimensions, got shape {tuple(self.shape)}")
    return shp.transpose(self, 0, 1) if self.ndim == 2 else self


def backward(self, gradient=None, retain_graph=False):
    """Accumulate the gradient of this tensor into every leaf's ``.grad``."""
    _backward(self, gradient, retain_graph=retain_graph)


def _nn_functional():
    from .nn import functional  # nn is imported after the tensor methods are installed
    return functional


def install():
    """Attach the operators and methods to Tensor (called once, by deepcore/__init__.py)."""
    methods = {
        "__add__": _forward(add), "__radd__": _reflected(add), "__sub__": _forward(sub),
        "__rsub__": _reflected(sub), "__mul__": _forward(mul), "__rmul__": _reflected(mul),
        "__truediv__": _forward(div), "__rtruediv__": _reflected(div), "__pow__": _forward(pow),
        "__rpow__": _reflected(pow), "__matmul__": mmul.matmul,
        "__neg__": lambda self: ew.unary(ew.Neg, "neg", self, needs_float=False),
        "__pos__": lambda self: self,
        "__abs__": lambda self: ew.unary(ew.Abs, "abs", self, needs_float=False),
        "__iadd__": _inplace("add"), "__isub__": _inplace("sub"), "__imul__": _inplace("mul"),
        "__itruediv__": _inplace("div"), "__ipow__": _inplace("pow"),
        "add_": _inplace("add"), "sub_": _inplace("sub"), "mul_": _inplace("mul"), "div_": _inplace("div"),
        "__eq__": _compare(B.eq), "__ne__": _compare(B.ne), "__lt__": _compare(B.lt), "__le__": _compare(B.le),
        "__gt__": _compare(B.gt), "__ge__": _compare(B.ge),
        "eq": _compare(B.eq), "ne": _compare(B.ne), "lt": _compare(B.lt), "le": _compare(B.le),
        "gt": _compare(B.gt), "ge": _compare(B.ge),
        "__getitem__": indexing.tensor_getitem, "__setitem__": indexing.tensor_setitem,
        "add": add, "sub": sub, "mul": mul, "div": div, "pow": pow, "maximum": maximum, "minimum": minimum,
        "neg": lambda self: ew.unary(ew.Neg, "neg", self, needs_float=False),
        "abs": lambda self: ew.unary(ew.Abs, "abs", self, needs_float=False),
        "exp": lambda self: ew.unary(ew.Exp, "exp", self),
        "log": lambda self: ew.unary(ew.Log, "log", self),
        "sqrt": lambda self: ew.unary(ew.Sqrt, "sqrt", self),
        "tanh": lambda self: ew.unary(ew.Tanh, "tanh", self),
        "sigmoid": lambda self: ew.unary(ew.Sigmoid, "sigmoid", self),
        "relu": lambda self: ew.unary(ew.Relu, "relu", self),
        "relu_": lambda self: _nn_functional().relu_(self),
        "square": lambda self: self * self,
        "sin": lambda self: ew.unary(ew.Sin, "sin", self), "cos": lambda self: ew.unary(ew.Cos, "cos", self),
        "log1p": lambda self: ew.unary(ew.Log1p, "log1p", self),
        "expm1": lambda self: ew.unary(ew.Expm1, "expm1", self),
        "floor": lambda self: ew.rounding(self, _C.UnaryOp.floor),
        "ceil": lambda self: ew.rounding(self, _C.UnaryOp.ceil),
        "round": lambda self, decimals=0: ew.rounding(self, _C.UnaryOp.round, decimals),
        # piecewise constant as floor is: the same zero-gradient Function, so sign() joins the graph
        "sign": lambda self: ew.rounding(self, _C.UnaryOp.sign),
        "clamp": ew.clamp, "clip": ew.clamp, "clamp_": clamp_,
        "masked_fill": ew.masked_fill, "masked_fill_": masked_fill_, "triu": ew.triu, "tril": ew.tril,
        "sum": red.sum, "mean": red.mean, "max": red.max, "min": red.min, "amax": red.amax, "amin": red.amin,
        "argmax": red.argmax, "argmin": red.argmin, "var": var, "std": std,
        "matmul": mmul.matmul, "mm": mmul.mm,
        "reshape": shp.reshape, "view": shp.view, "view_as": view_as, "permute": shp.permute,
        "transpose": shp.transpose, "t": t, "flatten": shp.flatten, "squeeze": shp.squeeze,
        "unsqueeze": shp.unsqueeze, "expand": shp.expand, "expand_as": expand_as, "split": shp.split,
        "chunk": shp.chunk, "unbind": shp.unbind,
        "softmax": activation.softmax, "log_softmax": activation.log_softmax,
        "zero_": zero_, "fill_": fill_, "copy_": copy_,
        "index_select": index.index_select, "index_add_": index.index_add_,
        "to": memory.to, "clone": memory.clone, "contiguous": memory.contiguous, "backward": backward,
    }
    methods.update(_tensor_api.methods())  # the long tail of PyTorch's Tensor API (type, new_*, sort, ...)
    from . import _torch_math  # composite math (log2, diff, kron, ...): it imports this module's functions
    methods.update({name: getattr(_torch_math, name) for name in _torch_math.METHODS})
    for name, fn in methods.items():
        setattr(Tensor, name, fn)
