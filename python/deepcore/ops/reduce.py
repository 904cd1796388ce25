"""Reductions: sum, mean, max, min (values and indices), argmax, argmin."""
from collections import namedtuple

from .. import _C
from ..autograd import Function
from ..tensor import Tensor
from .._dims import expand_array, normalize_dim, normalize_dims
from ..dtypes import int64

R = _C.ReduceOp
B = _C.BinaryOp


def _raw_reduce(op, x, dims, keepdim):
    return Tensor._make(x._backend.reduce(op, x._data, list(dims), keepdim))


def _keepdim_shape(shape, dims):
    return tuple(1 if i in dims else s for i, s in enumerate(shape))


def sum_to(g, shape):
    """Sum gradient `g` down to `shape`: undoes NumPy broadcasting (None passes through)."""
    if shape is None or g is None:
        return None
    if tuple(g.shape) == shape:
        return g
    lead = g.ndim - len(shape)
    dims = list(range(lead)) + [lead + i for i, s in enumerate(shape) if s == 1 and g.shape[lead + i] != 1]
    out = _raw_reduce(R.sum, g, dims, True) if dims else g
    return out.reshape(shape)


def _expand_grad(g, in_shape, dims, keepdim):
    """Broadcast a reduced gradient back over the reduced dims (a stride-0 view)."""
    if not keepdim:
        g = g.reshape(_keepdim_shape(in_shape, dims))
    return Tensor._make(expand_array(g._data, in_shape))


class Sum(Function):
    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.meta = tuple(x.shape), dims, keepdim
        return _raw_reduce(R.sum, x, dims, keepdim)

    @staticmethod
    def backward(ctx, g):
        shape, dims, keepdim = ctx.meta
        return _expand_grad(g, shape, dims, keepdim), None, None


class Mean(Function):
    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.meta = tuple(x.shape), dims, keepdim
        count = 1
        for d in dims:
            count *= x.shape[d]
        ctx.count = count
        return _raw_reduce(R.mean, x, dims, keepdim)

    @staticmethod
    def backward(ctx, g):
        shape, dims, keepdim = ctx.meta
        return _expand_grad(g / (ctx.count or 1), shape, dims, keepdim), None, None


class _Extreme(Function):
    """max/min values: the gradient is shared evenly among the elements that attain it."""
    op = None

    @classmethod
    def forward(cls, ctx, x, dims, keepdim):
        out = _raw_reduce(cls.op, x, dims, keepdim)
        ctx.save_for_backward(x, out)
        ctx.meta = dims, keepdim
        return out

    @classmethod
    def backward(cls, ctx, g):
        x, out = ctx.saved_tensors
        dims, keepdim = ctx.meta
        shape = tuple(x.shape)
        ref = Tensor._make(expand_array(out._data if keepdim else out.reshape(_keepdim_shape(shape, dims))._data,
                                        shape))
        hit = Tensor._make(x._backend.binary(B.eq, x._data, ref._data, None)).to(g.dtype)
        count = _raw_reduce(R.sum, hit, dims, True)
        return hit * _expand_grad(g, shape, dims, keepdim) / Tensor._make(expand_array(count._data, shape)), None, None


class Max(_Extreme):
    op = R.max


class Min(_Extreme):
    op = R.min


def _check_reducible(op, x):
    if x.dtype.name == "bool" and op != "sum":
        raise TypeError(f"{op}: not supported for bool tensors (convert with .float() or .long() first)")


def _check_nonempty(op, x, dims):
    """max/min have no identity: every reduced dim must have elements, even where the result is empty
    (amax over dim 0 of shape (0, 0)), as in PyTorch."""
    for d in dims:
        if x.shape[d] == 0:
            raise ValueError(f"{op}: cannot reduce over the empty dimension {d} (input shape {tuple(x.shape)}); "
                             f"there is no identity for {op}")


def _extreme_of_bool(fn, x, *args):
    """max/min of a bool tensor (PyTorch allows them: any/all along the dims) on its int64 copy."""
    out = fn(x.to(int64), *args)
    if isinstance(out, tuple):
        return type(out)(out[0].to(x.dtype), out[1])
    return out.to(x.dtype)


def sum(x, dim=None, keepdim=False):
    _check_reducible("sum", x)
    return Sum.apply(x, normalize_dims(dim, x.ndim, "sum"), keepdim)


def mean(x, dim=None, keepdim=False):
    if not x.dtype.is_floating_point:
        raise TypeError(f"mean: expected a float32 or float64 tensor, got {x.dtype.name} (convert with .float())")
    return Mean.apply(x, normalize_dims(dim, x.ndim, "mean"), keepdim)


# Named "max"/"min" so that they print as PyTorch's torch.return_types.max(values=..., indices=...).
MaxResult = namedtuple("max", ["values", "indices"])  # type: ignore[name-match]
MinResult = namedtuple("min", ["values", "indices"])  # type: ignore[name-match]


def _extreme(cls, is_max, result_type, name, x, dim, keepdim):
    if isinstance(dim, Tensor):  # max(a, b): the elementwise maximum, as in torch.max(a, b)
        return x.maximum(dim) if is_max else x.minimum(dim)
    if x.dtype.name == "bool":
        return _extreme_of_bool(lambda t: _extreme(cls, is_max, result_type, name, t, dim, keepdim), x)
    if dim is None:
        if x.numel() == 0:
            raise ValueError(f"{name}: the tensor is empty (shape {tuple(x.shape)}); there is no {name}")
        return cls.apply(x, tuple(range(x.ndim)), False)
    d = normalize_dim(dim, x.ndim, name)
    _check_nonempty(name, x, (d,) if x.ndim else ())
    values = cls.apply(x, (d,) if x.ndim else (), keepdim)
    indices = Tensor._make(x._backend.arg_reduce(is_max, x._data, d, keepdim))
    return result_type(values, indices)


def max(x, dim=None, keepdim=False):
    return _extreme(Max, True, MaxResult, "max", x, dim, keepdim)


def min(x, dim=None, keepdim=False):
    return _extreme(Min, False, MinResult, "min", x, dim, keepdim)


def _amax_amin(cls, name, x, dim, keepdim):
    if x.dtype.name == "bool":
        return _extreme_of_bool(lambda t: _amax_amin(cls, name, t, dim, keepdim), x)
    dims = normalize_dims(dim, x.ndim, name)
    _check_nonempty(name, x, dims)
    return cls.apply(x, dims, keepdim)


def amax(x, dim=None, keepdim=False):
    return _amax_amin(Max, "amax", x, dim, keepdim)


def amin(x, dim=None, keepdim=False):
    return _amax_amin(Min, "amin", x, dim, keepdim)


def _arg(is_max, x, dim, keepdim):
    name = "argmax" if is_max else "argmin"
    _check_reducible(name, x)
    if dim is None:  # index into the flattened tensor, as in PyTorch
        flat = x.reshape(-1)
        if flat.numel() == 0:
            raise ValueError(f"{name}: the tensor is empty; there is no {name}")
        out = Tensor._make(x._backend.arg_reduce(is_max, flat._data, 0, False))
        return out.reshape((1,) * x.ndim) if keepdim else out
    d = normalize_dim(dim, x.ndim, name)
    _check_nonempty(name, x, (d,) if x.ndim else ())
    return Tensor._make(x._backend.arg_reduce(is_max, x._data, d, keepdim))


def argmax(x, dim=None, keepdim=False):
    return _arg(True, x, dim, keepdim)


def argmin(x, dim=None, keepdim=False):
    return _arg(False, x, dim, keepdim)


# ---- all / any, logsumexp, aminmax ----------------------------------------------------------------

def _truth_count(op, x, dim, keepdim):
    """(number of non-zero elements over dim, number of elements over dim)."""
    dims = normalize_dims(dim, x.ndim, op)
    nonzero = x if x.dtype.name == "bool" else Tensor._make(x._backend.binary_scalar(B.ne, x._data, 0, False, None))
    count = 1
    for d in dims:
        count *= x.shape[d]
    return Tensor._make(x._backend.reduce(R.sum, nonzero._data, list(dims), keepdim)), count


def all(x, dim=None, keepdim=False):  # noqa: A001 - PyTorch's name
    """True where every element over dim is non-zero (a bool tensor)."""
    hits, count = _truth_count("all", x, dim, keepdim)
    return Tensor._make(hits._backend.binary_scalar(B.eq, hits._data, count, False, None))


def any(x, dim=None, keepdim=False):  # noqa: A001 - PyTorch's name
    """True where some element over dim is non-zero (a bool tensor)."""
    hits, _ = _truth_count("any", x, dim, keepdim)
    return Tensor._make(hits._backend.binary_scalar(B.gt, hits._data, 0, False, None))


def logsumexp(x, dim, keepdim=False):
    """log(sum(exp(x))) over dim, computed as m + log(sum(exp(x - m))) with m the max (finite even
    where exp overflows); its gradient is softmax(x) over dim."""
    if not x.dtype.is_floating_point:
        x = x.float()
    dims = normalize_dims(dim, x.ndim, "logsumexp")
    if x.numel() == 0:
        return (x.exp().sum(dims, keepdim)).log()
    m = _raw_reduce(R.max, x.detach(), dims, True)
    # An all -inf (or +inf) line: shift by 0 so that inf - inf makes no NaN.
    finite = Tensor._make(m._backend.binary_scalar(B.lt, m.abs()._data, float("inf"), False, None))
    m = Tensor._make(m._backend.where(finite._data, m._data, m._backend.full_on([], 0.0, m.dtype._c,
                                                                                 m.device.index)))
    out = (x - m).exp().sum(dims, keepdim=True).log() + m
    return out if keepdim else out.reshape(tuple(s for i, s in enumerate(x.shape) if i not in dims))


AminmaxResult = namedtuple("aminmax", ["min", "max"])  # type: ignore[name-match]


def aminmax(x, *, dim=None, keepdim=False):
    """(amin, amax) over dim (all elements for dim None)."""
    if x.numel() == 0 and dim is None:
        raise RuntimeError("aminmax(): cannot compute aminmax over an empty tensor")
    return AminmaxResult(amin(x, dim, keepdim), amax(x, dim, keepdim))
