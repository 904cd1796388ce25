"""Sorting along a dimension (csrc/cpu/sort.cpp): sort, argsort, msort, topk, kthvalue, median, unique.

The values a sort returns are elements of the input moved to new places, so the gradient goes back
the same way: one scatter of the values' gradient by the returned indices, into zeros. NaN sorts as
larger than every number (last ascending, first descending), as in PyTorch.
"""
from collections import namedtuple

from ..autograd import Function
from ..dtypes import int64
from ..tensor import Tensor, tensor
from .._dims import normalize_dim
from ._checks import check_tensor, unsupported
from .elementwise import where
from .index import gather, nonzero
from .shape import cat

# Named as PyTorch's torch.return_types so that they print the same.
SortResult = namedtuple("sort", ["values", "indices"])  # type: ignore[name-match]
TopkResult = namedtuple("topk", ["values", "indices"])  # type: ignore[name-match]
KthvalueResult = namedtuple("kthvalue", ["values", "indices"])  # type: ignore[name-match]
MedianResult = namedtuple("median", ["values", "indices"])  # type: ignore[name-match]


def _scatter_back(g, dim, indices, shape):
    """The gradient of x from that of x's elements picked (each once) at `indices` along dim."""
    grad = g._backend.full_on(list(shape), 0.0, g.dtype._c, g.device.index)
    g._backend.scatter_(grad, dim, indices._data, g._data, False)
    return Tensor._make(grad)


def _line(x):
    return x.reshape(1) if x.ndim == 0 else x


class Sort(Function):
    @staticmethod
    def forward(ctx, x, dim, descending):
        values, indices = x._backend.sort(_line(x)._data, dim, descending)
        values, indices = Tensor._make(values).reshape(tuple(x.shape)), Tensor._make(indices)
        ctx.dim, ctx.shape, ctx.indices = dim, tuple(x.shape), indices
        return values, indices.reshape(tuple(x.shape))

    @staticmethod
    def backward(ctx, g, _):
        return _scatter_back(_line(g), ctx.dim, ctx.indices, _line(g).shape).reshape(ctx.shape), None, None


class TopK(Function):
    @staticmethod
    def forward(ctx, x, k, dim, largest, is_sorted):
        values, indices = x._backend.topk(_line(x)._data, k, dim, largest, is_sorted)
        values, indices = Tensor._make(values), Tensor._make(indices)
        ctx.dim, ctx.shape, ctx.indices = dim, tuple(x.shape), indices
        if not x.ndim:
            return values.reshape(()), indices.reshape(())
        return values, indices

    @staticmethod
    def backward(ctx, g, _):
        line_shape = ctx.shape or (1,)
        g = g.reshape(tuple(ctx.indices.shape))
        return _scatter_back(g, ctx.dim, ctx.indices, line_shape).reshape(ctx.shape), None, None, None, None


def _axis(op, x, dim):
    check_tensor(op, "input", x)
    return normalize_dim(dim, x.ndim, op)


def sort(input, dim=-1, descending=False, stable=False):
    """(values, indices) of input sorted along dim. The sort is always stable, which also satisfies
    stable=False (PyTorch leaves the order of ties unspecified then)."""
    if not isinstance(stable, bool):
        raise TypeError(f"sort: stable must be a bool, got {type(stable).__name__}")
    d = _axis("sort", input, dim)
    return SortResult(*Sort.apply(input, d, bool(descending)))


def argsort(input, dim=-1, descending=False, stable=False):
    return sort(input, dim, descending, stable).indices


def msort(input):
    return sort(input, 0).values


def topk(input, k, dim=-1, largest=True, sorted=True):
    """The k largest (or smallest) elements along dim and their indices, largest first (smallest
    first for largest=False) when sorted."""
    d = _axis("topk", input, dim)
    size = input.shape[d] if input.ndim else 1
    if isinstance(k, bool) or not isinstance(k, int):
        raise TypeError(f"topk: k must be an int, got {k!r}")
    if not 0 <= k <= size:
        raise RuntimeError(f"topk: selected index k={k} is out of range for dimension {d} of size {size}")
    return TopkResult(*TopK.apply(input, int(k), d, bool(largest), bool(sorted)))


def _pick(values, indices, d, position, keepdim, squeeze_ndim):
    """values/indices at `position` along d (an int, or an int64 tensor with size 1 along d)."""
    if isinstance(position, int):
        v, i = values.narrow(d, position, 1), indices.narrow(d, position, 1)
    else:
        v, i = gather(values, d, position), gather(indices, d, position)
    if not keepdim or not squeeze_ndim:
        v, i = v.squeeze(d), i.squeeze(d)
    return v, i


def kthvalue(input, k, dim=-1, keepdim=False):
    """The k-th smallest element along dim (k counts from 1) and its index."""
    d = _axis("kthvalue", input, dim)
    size = input.shape[d] if input.ndim else 1
    if isinstance(k, bool) or not isinstance(k, int):
        raise TypeError(f"kthvalue: k must be an int, got {k!r}")
    if not 1 <= k <= size:
        raise RuntimeError(f"kthvalue: selected number k={k} is out of range for dimension {d} of size {size}")
    values, indices = Sort.apply(_line(input), d, False)
    return KthvalueResult(*_pick(values, indices, d, k - 1, keepdim, input.ndim))


def median(input, dim=None, keepdim=False):
    """The lower median (of an even count, the smaller middle element), as in PyTorch; NaN where the
    line holds a NaN. Without dim: the median of all elements (a 0-d tensor only)."""
    check_tensor("median", "input", input)
    if dim is None:
        if input.numel() == 0:
            raise RuntimeError("median: cannot compute the median of an empty tensor")
        return median(input.reshape(-1), 0).values
    d = _axis("median", input, dim)
    x = _line(input)
    n = x.shape[d]
    if n == 0:
        raise IndexError(f"median: cannot compute the median along dimension {d} of size 0")
    values, indices = Sort.apply(x, d, False)
    position = (n - 1) // 2
    if x.dtype.is_floating_point:
        # NaNs sort last: a line with any points at its first NaN instead.
        nans = (x != x).sum(d, keepdim=True)
        position = where(nans > 0, n - nans, position)
    return MedianResult(*_pick(values, indices, d, position, keepdim, input.ndim))


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct elements in ascending order (PyTorch's CPU sorts also for sorted=False), with
    the index of each input element's value among them (return_inverse) and the counts."""
    check_tensor("unique", "input", input)
    unsupported("unique", dim=(dim, None))
    flat = input.detach().reshape(-1)
    n = flat.numel()
    if n == 0:
        empty_long = tensor([], dtype=int64, device=input.device)
        values = flat
        inverse, counts = empty_long.reshape(tuple(input.shape)), empty_long
    else:
        values_sorted, order = Sort.apply(flat, 0, False)
        head = tensor([True], device=input.device)
        starts_here = cat([head, values_sorted[1:] != values_sorted[:-1]])
        starts = nonzero(starts_here).reshape(-1)
        values = values_sorted.index_select(0, starts)
        group = starts_here.long().cumsum(0) - 1  # each sorted element's place among the distinct values
        inverse = group.new_zeros(n).scatter_(0, order, group).reshape(tuple(input.shape))
        ends = cat([starts[1:], tensor([n], device=input.device)])
        counts = ends - starts
    out = (values,) + ((inverse,) if return_inverse else ()) + ((counts,) if return_counts else ())
    return out[0] if len(out) == 1 else out
