"""The long tail of Tensor's PyTorch API: type strings and the legacy typed constructors
(``torch.LongTensor``), ``new_*``, in-place variants of the ops, hooks, and the methods of the sort,
scan, index, random, arrange, pointwise and matmul families.

``methods()`` is merged into ``_tensor_methods.install()``'s table; the torch-level names are exported
by ``deepcore/__init__.py``. Every method is a thin call into ``deepcore.ops``.
"""
import numbers

from . import autograd
from .device import as_device
from .dtypes import as_dtype, bool_, float32, float64, int64
from .ops import arrange, elementwise as ew, index, matmul as mmul, normalization, pointwise as pw
from .ops import random as rnd, reduce as red, scan, shape as shp, sort as srt
from .ops._inplace import adopt, check_writable, records, source
from ._torch_functions import select
from .tensor import Size, Tensor, empty, full, tensor, zeros

# ---- type strings and the legacy typed constructors ---------------------------------------------

_TYPE_NAMES = {float32: "FloatTensor", float64: "DoubleTensor", int64: "LongTensor", bool_: "BoolTensor"}


class _LegacyTensorType(type):
    """The metaclass of torch.FloatTensor & co: isinstance(x, FloatTensor) tests x's dtype."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype is cls.dtype and not obj.is_cuda

    def __repr__(cls):
        return f"<class 'torch.{cls.__name__}'>"


def _legacy(name, dt):
    def __new__(cls, *args, device=None):
        if device is not None and as_device(device).type != "cpu":
            raise RuntimeError(f"{name}: legacy constructor expects device type: cpu but device type: "
                               f"{as_device(device).type} was passed")
        if not args:
            return empty(0, dtype=dt)
        if len(args) == 1 and isinstance(args[0], Size):
            return zeros(*args[0], dtype=dt)
        if all(isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in args):
            # torch leaves the memory uninitialised; zeros are the same shape and reproducible.
            return zeros(*args, dtype=dt)
        if len(args) == 1:
            data = args[0]
            if isinstance(data, Tensor):
                if data.dtype is not dt:
                    raise TypeError(f"{name}: expected {dt.name} (got {data.dtype.name}) for a tensor argument")
                return data
            return tensor(data, dtype=dt)
        raise TypeError(f"{name}: expected sizes (ints) or one sequence of data, got {args!r}")
    return _LegacyTensorType(name, (), {"__new__": __new__, "dtype": dt,
                                        "__doc__": f"torch.{name}: {dt.name} tensors (a legacy constructor)"})


FloatTensor = _legacy("FloatTensor", float32)
DoubleTensor = _legacy("DoubleTensor", float64)
LongTensor = _legacy("LongTensor", int64)
BoolTensor = _legacy("BoolTensor", bool_)
# deepcore's one integer dtype is int64 (Tensor.int() gives it too): IntTensor builds int64 tensors.
IntTensor = _legacy("IntTensor", int64)

_BY_TYPE_NAME = {f"torch.{v}": k for k, v in _TYPE_NAMES.items()}
_BY_TYPE_NAME["torch.IntTensor"] = int64


def type_(self, dtype=None, non_blocking=False, **kwargs):
    """No argument: the type string ('torch.FloatTensor', 'torch.cuda.LongTensor', ...). With a dtype, a
    type string or a legacy class (torch.LongTensor): the tensor converted to it."""
    if dtype is None:
        return ("torch.cuda." if self.is_cuda else "torch.") + _TYPE_NAMES[self.dtype]
    if isinstance(dtype, _LegacyTensorType):
        return self.to(dtype.dtype)
    if isinstance(dtype, str):
        cuda = dtype.startswith("torch.cuda.")
        key = dtype.replace("torch.cuda.", "torch.")
        if key not in _BY_TYPE_NAME:
            raise ValueError(f"invalid type: {dtype!r}")
        out = self.to(_BY_TYPE_NAME[key])
        return out.cuda() if cuda else (out.cpu() if out.is_cuda else out)
    return self.to(as_dtype(dtype))


# ---- new_*, sizes, memory ---------------------------------------------------------------------------

def _like(self, dtype, device):
    return (as_dtype(dtype) if dtype is not None else self.dtype), (device if device is not None else self.device)


def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
    dt, dev = _like(self, dtype, device)
    if isinstance(data, Tensor):
        data = data.detach()
    return tensor(data, dtype=dt, device=dev, requires_grad=requires_grad)


def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
    dt, dev = _like(self, dtype, device)
    return zeros(*size, dtype=dt, device=dev, requires_grad=requires_grad)


def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
    dt, dev = _like(self, dtype, device)
    return full(tuple(_size(size)), 1, dtype=dt, device=dev, requires_grad=requires_grad)


def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
    dt, dev = _like(self, dtype, device)
    return full(tuple(_size((size,))), fill_value, dtype=dt, device=dev, requires_grad=requires_grad)


def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
    dt, dev = _like(self, dtype, device)
    return empty(*size, dtype=dt, device=dev, requires_grad=requires_grad)


def _size(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        return tuple(size[0])
    if len(size) == 1 and isinstance(size[0], numbers.Integral):
        return (size[0],)
    return tuple(size)


# ---- in-place variants ----------------------------------------------------------------------------

def _in_place(name, fn):
    """x.name(...) = x.copy_(fn(x, ...)) with autograd (ops/_inplace.py)."""
    op = name

    def method(self, *args, **kwargs):
        tracked = records(op, self, *args)
        check_writable(op, self)
        return adopt(op, self, fn(source(self, tracked), *args, **kwargs), tracked)
    method.__name__ = name
    return method


def _view_in_place(name, fn):
    """squeeze_ / unsqueeze_ / t_ / transpose_: self becomes the view (same memory, new shape)."""
    def method(self, *args):
        tracked = records(name, self)
        result = fn(self, *args)
        self._init_data(result._data)
        if tracked and result.grad_fn is not None:
            self.grad_fn, self._output_nr = result.grad_fn, result._output_nr
        return self
    method.__name__ = name
    return method


def _t(self):
    if self.ndim > 2:
        raise ValueError(f"t_: expects a tensor with <= 2 dimensions, got shape {tuple(self.shape)}")
    return shp.transpose(self, 0, 1) if self.ndim == 2 else self.view(tuple(self.shape))


def _unary(fn, name, needs_float=True):
    return lambda self: ew.unary(fn, name, self, needs_float=needs_float)


def _binary_op(fn, name):
    def method(self, other):
        if not isinstance(other, (Tensor, int, float, bool)):
            return NotImplemented
        return ew.divmod_op(fn, name, self, other)
    return method


def _reflected_divmod(fn, name):
    def method(self, other):
        if not isinstance(other, (int, float, bool)):
            return NotImplemented
        return ew.divmod_op(fn, name, other, self)
    return method


def _logical(fn):
    def method(self, other):
        if not isinstance(other, (Tensor, bool, int)):
            return NotImplemented
        return fn(self, other)
    return method


def _flip(self, *dims):
    return arrange.flip(self, dims[0] if len(dims) == 1 and not isinstance(dims[0], int) else dims)


def _norm(self, p="fro", dim=None, keepdim=False, dtype=None):
    return normalization.norm(self, p, dim, keepdim, dtype)


# ---- torch-level twins of the methods above that have no op-module function of their own -------

def remainder(input, other):
    return ew.divmod_op(ew.Remainder, "remainder", input, other)


def fmod(input, other):
    return ew.divmod_op(ew.Fmod, "fmod", input, other)


def floor_divide(input, other):
    return ew.divmod_op(ew.FloorDivide, "floor_divide", input, other)


def erf(input):
    return ew.unary(ew.Erf, "erf", input)


def erfinv(input):
    return ew.unary(ew.Erfinv, "erfinv", input)


def where(condition, input=None, other=None):
    """torch.where(condition, input, other): elementwise choice; torch.where(condition) alone: the
    positions of its True elements, one 1-d tensor per dim (nonzero(as_tuple=True))."""
    if input is None and other is None:
        return index.nonzero(condition, as_tuple=True)
    if input is None or other is None:
        raise TypeError("where: expected condition alone, or condition, input and other")
    return ew.where(condition, input, other)


def methods():
    """The Tensor methods this module adds, by name."""
    remainder = _binary_op(ew.Remainder, "remainder")
    fmod = _binary_op(ew.Fmod, "fmod")
    floor_divide = _binary_op(ew.FloorDivide, "floor_divide")
    table = {
        "select": select,
        # creation and conversion
        "type": type_, "new_tensor": new_tensor, "new_zeros": new_zeros, "new_ones": new_ones,
        "new_full": new_full, "new_empty": new_empty,
        "element_size": lambda self: self.dtype.itemsize, "ndimension": lambda self: self.ndim,
        "pin_memory": lambda self, device=None: self, "is_pinned": lambda self, device=None: False,
        "share_memory_": lambda self: self, "is_shared": lambda self: False,
        "reshape_as": lambda self, other: shp.reshape(self, tuple(other.shape)),
        # autograd
        "register_hook": autograd.register_hook, "retain_grad": autograd.retain_grad,
        "register_post_accumulate_grad_hook": autograd.register_post_accumulate_grad_hook,
        # random fills
        "uniform_": rnd.uniform_, "normal_": rnd.normal_, "exponential_": rnd.exponential_,
        "bernoulli_": rnd.bernoulli_, "random_": rnd.random_,
        "bernoulli": lambda self, p=None, *, generator=None: rnd.bernoulli(self, p, generator=generator),
        "multinomial": rnd.multinomial,
        # indexing
        "narrow": shp.narrow, "gather": index.gather, "scatter": index.scatter, "scatter_": index.scatter_,
        "scatter_add": index.scatter_add, "scatter_add_": index.scatter_add_, "index_fill": index.index_fill,
        "index_fill_": index.index_fill_, "masked_select": index.masked_select, "nonzero": index.nonzero,
        "argwhere": index.argwhere, "count_nonzero": index.count_nonzero, "take_along_dim": index.take_along_dim,
        "take": index.take,
        # reductions and scans
        "prod": scan.prod, "cumsum": scan.cumsum, "cumprod": scan.cumprod, "all": red.all, "any": red.any,
        "logsumexp": red.logsumexp, "aminmax": red.aminmax, "norm": _norm,
        "sort": srt.sort, "argsort": srt.argsort, "msort": srt.msort, "topk": srt.topk,
        "kthvalue": srt.kthvalue, "median": srt.median, "unique": srt.unique,
        # elementwise
        "reciprocal": pw.reciprocal, "rsqrt": pw.rsqrt, "erf": _unary(ew.Erf, "erf"),
        "erfinv": _unary(ew.Erfinv, "erfinv"),
        "isnan": pw.isnan, "isinf": pw.isinf, "isfinite": pw.isfinite, "isposinf": pw.isposinf,
        "isneginf": pw.isneginf, "nan_to_num": pw.nan_to_num, "nan_to_num_": pw.nan_to_num_,
        "logical_not": pw.logical_not, "logical_and": pw.logical_and, "logical_or": pw.logical_or,
        "logical_xor": pw.logical_xor, "bitwise_not": pw.bitwise_not, "bitwise_and": pw.bitwise_and,
        "bitwise_or": pw.bitwise_or, "bitwise_xor": pw.bitwise_xor,
        "__invert__": pw.bitwise_not, "__and__": _logical(pw.bitwise_and), "__or__": _logical(pw.bitwise_or),
        "__xor__": _logical(pw.bitwise_xor), "__rand__": _logical(pw.bitwise_and),
        "__ror__": _logical(pw.bitwise_or), "__rxor__": _logical(pw.bitwise_xor),
        "remainder": remainder, "fmod": fmod, "floor_divide": floor_divide,
        "__mod__": remainder, "__floordiv__": floor_divide,
        "__rmod__": _reflected_divmod(ew.Remainder, "remainder"),
        "__rfloordiv__": _reflected_divmod(ew.FloorDivide, "floor_divide"),
        "clamp_min": pw.clamp_min, "clamp_max": pw.clamp_max, "lerp": pw.lerp,
        "addcmul": pw.addcmul, "addcdiv": pw.addcdiv, "addcmul_": pw.addcmul_, "addcdiv_": pw.addcdiv_,
        "isclose": pw.isclose, "allclose": pw.allclose, "equal": pw.equal,
        # shape
        "repeat": arrange.repeat, "repeat_interleave": arrange.repeat_interleave, "tile": arrange.tile,
        "flip": _flip, "fliplr": arrange.fliplr, "flipud": arrange.flipud, "roll": arrange.roll,
        "movedim": shp.movedim, "moveaxis": shp.movedim, "swapaxes": shp.swapaxes, "swapdims": shp.swapaxes,
        "unflatten": shp.unflatten, "tensor_split": arrange.tensor_split, "diag": arrange.diag,
        "diagonal": arrange.diagonal, "diag_embed": arrange.diag_embed, "trace": arrange.trace,
        "outer": mmul.outer, "ger": mmul.outer, "bmm": mmul.bmm, "addmm": mmul.addmm, "baddbmm": mmul.baddbmm,
        "mv": mmul.mv, "dot": mmul.dot, "addmv": mmul.addmv,
        "where": lambda self, condition, other: ew.where(condition, self, other),
    }
    in_place = {
        "exp_": _unary(ew.Exp, "exp"), "log_": _unary(ew.Log, "log"), "sqrt_": _unary(ew.Sqrt, "sqrt"),
        "neg_": _unary(ew.Neg, "neg", False), "abs_": _unary(ew.Abs, "abs", False),
        "sigmoid_": _unary(ew.Sigmoid, "sigmoid"), "tanh_": _unary(ew.Tanh, "tanh"),
        "relu_": _unary(ew.Relu, "relu", False), "sin_": _unary(ew.Sin, "sin"), "cos_": _unary(ew.Cos, "cos"),
        "log1p_": _unary(ew.Log1p, "log1p"), "expm1_": _unary(ew.Expm1, "expm1"),
        "erf_": _unary(ew.Erf, "erf"), "erfinv_": _unary(ew.Erfinv, "erfinv"),
        "reciprocal_": pw.reciprocal, "rsqrt_": pw.rsqrt, "square_": lambda self: self * self,
        "floor_": lambda self: self.floor(), "ceil_": lambda self: self.ceil(),
        "round_": lambda self, decimals=0: self.round(decimals=decimals), "sign_": lambda self: self.sign(),
        "pow_": lambda self, exponent: self.pow(exponent), "clip_": ew.clamp,
        "clamp_min_": pw.clamp_min, "clamp_max_": pw.clamp_max, "lerp_": pw.lerp,
        "remainder_": remainder, "fmod_": fmod, "floor_divide_": floor_divide,
        "__imod__": remainder, "__ifloordiv__": floor_divide,
        "logical_not_": pw.logical_not, "cumsum_": scan.cumsum, "cumprod_": scan.cumprod,
    }
    table.update({name: _in_place(name, fn) for name, fn in in_place.items()})
    table.update({
        "squeeze_": _view_in_place("squeeze_", shp.squeeze), "unsqueeze_": _view_in_place("unsqueeze_", shp.unsqueeze),
        "t_": _view_in_place("t_", _t), "transpose_": _view_in_place("transpose_", shp.transpose),
        "swapaxes_": _view_in_place("swapaxes_", shp.swapaxes), "swapdims_": _view_in_place("swapdims_", shp.swapaxes),
    })
    return table
