"""Gathering along a dimension: index_select (differentiable) and index_add_; gather, scatter and
scatter_add (torch.gather / Tensor.scatter_), index_fill, masked_select, nonzero, take_along_dim.

The backward of a gather is a scatter-add into zeros: repeated indices
accumulate their gradients, as in PyTorch.
"""
import numbers
import re

import numpy as np

from ..autograd import Function, is_grad_enabled
from ..dtypes import bool_, int64
from ..tensor import Tensor, arange, tensor
from ._checks import check_tensor
from ._inplace import adopt, check_writable, records, source
from .._dims import expand_array, normalize_dim
from .elementwise import where


def _index_tensor(index, op, device):
    """`index` as an int64 tensor on `device` (a list/tuple/int is converted)."""
    if isinstance(index, Tensor):
        if index.dtype.name != "int64":
            raise TypeError(f"{op}: index must be an int64 tensor, got {index.dtype.name}{tuple(index.shape)}")
        if index.device != device:
            raise ValueError(f"{op}: index is on {index.device} but the tensor is on {device}")
        return index
    if isinstance(index, numbers.Integral) and not isinstance(index, bool):
        index = [int(index)]
    try:
        t = tensor(index)
    except TypeError:
        raise TypeError(f"{op}: index must be an int64 tensor or a sequence of ints, got {type(index).__name__}") \
            from None
    if t.numel() and t.dtype.name != "int64":
        raise TypeError(f"{op}: index must hold integers, got {t.dtype.name} values")
    return t.long().to(device)


class IndexSelect(Function):
    @staticmethod
    def forward(ctx, x, dim, index):
        ctx.in_shape, ctx.dim = tuple(x.shape), dim
        ctx.save_for_backward(index)
        return Tensor._make(x._backend.index_select(x._data, dim, index._data))

    @staticmethod
    def backward(ctx, g):
        index, = ctx.saved_tensors
        be = g._backend
        grad = be.full_on(list(ctx.in_shape), 0.0, g.dtype._c, g.device.index)
        be.index_add_(grad, ctx.dim, index._data, g._data)
        return Tensor._make(grad), None, None


def index_select(x, dim, index):
    """Entries of `x` along `dim` at the positions in `index` (int64, 0-d or 1-d).

    Out-of-range positions raise ValueError naming the index and the size.
    """
    if not isinstance(x, Tensor):
        raise TypeError(f"index_select: expected a tensor, got {type(x).__name__}")
    d = normalize_dim(dim, x.ndim, "index_select")
    return IndexSelect.apply(x, d, _index_tensor(index, "index_select", x.device))


class MaskRowGrad(Function):
    """The identity on x (n, ...); its backward passes the gradient of row j only where keep[j]
    (bool, (n,)) and zero elsewhere: embedding's padding_idx row takes no gradient."""

    @staticmethod
    def forward(ctx, x, keep):
        ctx.keep = keep
        return x.detach()

    @staticmethod
    def backward(ctx, g):
        keep = ctx.keep.reshape((ctx.keep.shape[0],) + (1,) * (g.ndim - 1))
        return where(keep, g, 0.0), None


def index_add_(x, dim, index, source, alpha=1):
    """x[..., index[j], ...] += alpha * source[..., j, ...] along `dim`, in place (no autograd)."""
    if x.requires_grad and is_grad_enabled():
        raise RuntimeError(f"index_add_: cannot write in place into a tensor that requires grad (shape "
                           f"{tuple(x.shape)}); wrap it in deepcore.no_grad()")
    if not isinstance(source, Tensor):
        raise TypeError(f"index_add_: source must be a tensor, got {type(source).__name__}")
    d = normalize_dim(dim, x.ndim, "index_add_")
    index = _index_tensor(index, "index_add_", x.device)
    if alpha != 1:
        source = source * alpha
    if source.dtype != x.dtype:
        source = source.to(x.dtype)
    x._backend.index_add_(x._data, d, index._data, source.detach()._data)
    return x


def _padding_index(op, padding_idx, num_embeddings):
    """padding_idx in [0, num_embeddings) (a negative one counts from the end, as in PyTorch), or None."""
    if padding_idx is None:
        return None
    if isinstance(padding_idx, bool) or not isinstance(padding_idx, numbers.Integral) \
            or not -num_embeddings <= padding_idx < num_embeddings:
        raise ValueError(f"{op}: padding_idx={padding_idx!r} must be an int within num_embeddings "
                         f"(-{num_embeddings} <= padding_idx < {num_embeddings})")
    return int(padding_idx) % num_embeddings


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    """The rows of weight (num_embeddings, embedding_dim) at the int64 indices `input` (any shape):
    (*input.shape, embedding_dim). Repeated indices accumulate their gradients; the padding_idx row
    gets none (its value is still returned, as in PyTorch)."""
    check_tensor("embedding", "input", input)
    check_tensor("embedding", "weight", weight)
    for name, value, default in (("max_norm", max_norm, None), ("scale_grad_by_freq", scale_grad_by_freq, False),
                                 ("sparse", sparse, False)):
        if value != default:
            raise ValueError(f"embedding: {name}={value!r} is not supported (not implemented; only "
                             f"{name}={default!r})")
    if input.dtype.name != "int64":
        raise TypeError(f"embedding: expected int64 indices, got a {input.dtype.name} input of shape "
                        f"{tuple(input.shape)} (convert with input.long())")
    if weight.ndim != 2:
        raise ValueError(f"embedding: weight must be 2-D (num_embeddings, embedding_dim), got shape "
                         f"{tuple(weight.shape)}")
    num = weight.shape[0]
    padding_idx = _padding_index("embedding", padding_idx, num)
    flat = input.reshape(-1)
    try:  # the gather checks the range itself; only its message is reworded here (no extra pass)
        rows = index_select(weight, 0, flat)
    except ValueError as e:
        bad = re.search(r"index (-?\d+) .*out of range", str(e))
        if bad is None:
            raise
        raise IndexError(f"embedding: index {bad.group(1)} is out of range for a table of {num} embeddings "
                         f"(expected 0 <= index < {num}); input of shape {tuple(input.shape)}") from None
    if padding_idx is not None and rows.requires_grad:
        rows = MaskRowGrad.apply(rows, flat != padding_idx)
    return rows.reshape(tuple(input.shape) + (weight.shape[1],))


def one_hot(tensor, num_classes=-1):
    """int64 class indices (any shape) -> int64 (*shape, num_classes) with a 1 at each index
    (num_classes=-1: the largest index + 1)."""
    check_tensor("one_hot", "tensor", tensor)
    if tensor.dtype.name != "int64":
        raise TypeError(f"one_hot: expected int64 class indices, got {tensor.dtype.name}")
    if tensor.numel() == 0 and num_classes < 0:
        raise ValueError("one_hot: cannot infer num_classes from an empty tensor; pass num_classes")
    lo = int(tensor.min().item()) if tensor.numel() else 0
    hi = int(tensor.max().item()) if tensor.numel() else -1
    if num_classes < 0:
        num_classes = hi + 1
    if lo < 0 or hi >= num_classes:
        raise ValueError(f"one_hot: class index {lo if lo < 0 else hi} is out of range for num_classes={num_classes}")
    classes = arange(num_classes, dtype=tensor.dtype, device=tensor.device)
    return (tensor.unsqueeze(-1) == classes).long()


# ---- gather / scatter ------------------------------------------------------------------------

def _kernel(op, fn, *args):
    """Runs a gather/scatter kernel; its range errors are PyTorch's RuntimeError."""
    try:
        return fn(*args)
    except ValueError as e:
        raise RuntimeError(str(e)) from None


def _zeros(g, shape):
    return g._backend.full_on(list(shape), 0.0, g.dtype._c, g.device.index)


class Gather(Function):
    @staticmethod
    def forward(ctx, x, dim, index):
        ctx.shape, ctx.dim = tuple(x.shape), dim
        ctx.save_for_backward(index)
        return Tensor._make(_kernel("gather", x._backend.gather, x._data, dim, index._data))

    @staticmethod
    def backward(ctx, g):
        index, = ctx.saved_tensors
        grad = _zeros(g, ctx.shape)
        g._backend.scatter_(grad, ctx.dim, index._data, g._data, True)  # repeated indices accumulate
        return Tensor._make(grad), None, None


def _gathered_grad(g, dim, index, src_shape):
    """The gradient of a scatter's src: g read at the scattered places, zero where src was not read."""
    picked = Tensor._make(g._backend.gather(g._data, dim, index._data))
    if tuple(picked.shape) == tuple(src_shape):
        return picked
    grad = Tensor._make(_zeros(g, src_shape))
    grad[tuple(slice(0, n) for n in picked.shape)] = picked
    return grad


class Scatter(Function):
    """x with src written at index along dim (accumulate: added). src is a tensor, or a number
    broadcast over index's shape."""

    @staticmethod
    def forward(ctx, x, dim, index, src, accumulate):
        be = x._backend
        out = be.cast(x._data, x.dtype._c)  # a fresh copy to write into
        if isinstance(src, Tensor):
            src_nd, ctx.src_shape = src._data, tuple(src.shape)
        else:
            src_nd = expand_array(be.full_on([], float(src), x.dtype._c, x.device.index), tuple(index.shape))
            ctx.src_shape = None
        _kernel("scatter", be.scatter_, out, dim, index._data, src_nd, accumulate)
        ctx.dim, ctx.accumulate = dim, accumulate
        ctx.save_for_backward(index)
        return Tensor._make(out)

    @staticmethod
    def backward(ctx, g):
        index, = ctx.saved_tensors
        gx = gsrc = None
        if ctx.needs_input_grad[0]:
            if ctx.accumulate:
                gx = g
            else:  # the overwritten places take no gradient
                gx_nd = g._backend.cast(g._data, g.dtype._c)
                zero = expand_array(g._backend.full_on([], 0.0, g.dtype._c, g.device.index), tuple(index.shape))
                g._backend.scatter_(gx_nd, ctx.dim, index._data, zero, False)
                gx = Tensor._make(gx_nd)
        if ctx.src_shape is not None and ctx.needs_input_grad[3]:
            gsrc = _gathered_grad(g, ctx.dim, index, ctx.src_shape)
        return gx, None, None, gsrc, None


def _check_index_arg(op, x, dim, index, other=None, other_name="src"):
    """PyTorch's checks of gather/scatter's index (RuntimeError); returns the normalized dim."""
    check_tensor(op, "input", x)
    d = normalize_dim(dim, x.ndim, op)
    if not isinstance(index, Tensor):
        raise TypeError(f"{op}: index must be an int64 tensor, got {type(index).__name__}")
    if index.dtype is not int64:
        raise RuntimeError(f"{op}: Expected dtype int64 for index, got {index.dtype.name}")
    if index.device != x.device:
        raise RuntimeError(f"{op}: index is on {index.device} but the input is on {x.device}")
    if max(index.ndim, 1) != max(x.ndim, 1):
        raise RuntimeError(f"{op}: Index tensor must have the same number of dimensions as input tensor (index "
                           f"{tuple(index.shape)}, input {tuple(x.shape)})")
    for i, (n, m) in enumerate(zip(index.shape, x.shape)):
        if i != d and n > m:
            raise RuntimeError(f"{op}: Size does not match at dimension {i}: expected index {tuple(index.shape)} to "
                               f"be smaller than self {tuple(x.shape)} apart from dimension {d}")
    if isinstance(other, Tensor):
        if max(other.ndim, 1) != max(x.ndim, 1):
            raise RuntimeError(f"{op}: {other_name} {tuple(other.shape)} must have as many dimensions as the input "
                               f"{tuple(x.shape)}")
        for i, (n, m) in enumerate(zip(index.shape, other.shape)):
            if n > m:
                raise RuntimeError(f"{op}: Size does not match at dimension {i}: expected index "
                                   f"{tuple(index.shape)} to be smaller than {other_name} {tuple(other.shape)}")
    return d


def _lines(*tensors):
    """0-d tensors as shape (1,): the kernels need a dimension to walk."""
    return tuple(t.reshape(1) if isinstance(t, Tensor) and t.ndim == 0 else t for t in tensors)


def gather(input, dim, index, *, sparse_grad=False):
    """out[i][j] = input[index[i][j]][j] (dim 0), out[i][j] = input[i][index[i][j]] (dim 1), ..."""
    if sparse_grad:
        raise NotImplementedError("gather: sparse_grad=True is not supported (deepcore has no sparse tensors)")
    d = _check_index_arg("gather", input, dim, index)
    x, idx = _lines(input, index)
    out = Gather.apply(x, d, idx)
    return out.reshape(()) if index.ndim == 0 else out


def _scatter(input, op, dim, index, src, value, reduce, accumulate):
    if reduce is not None:
        if reduce not in ("add", "multiply"):
            raise RuntimeError(f"{op}: reduce argument must be either add or multiply, got {reduce!r}")
        if reduce == "multiply":
            raise NotImplementedError(f"{op}: reduce='multiply' is not supported (only reduce='add')")
        accumulate = True
    if src is None and value is None:
        raise TypeError(f"{op}: expected src (a tensor) or value (a number)")
    if src is not None and value is not None:
        raise TypeError(f"{op}: got both src and value; pass one")
    src = value if src is None else src
    if isinstance(src, Tensor) and src.ndim == 0 and input.ndim != 0 and not src.requires_grad:
        src = src.item()  # a 0-d tensor is a value, as in PyTorch's overloads
    if not isinstance(src, (Tensor, int, float, bool)):
        raise TypeError(f"{op}: src must be a tensor or a number, got {type(src).__name__}")
    d = _check_index_arg(op, input, dim, index, src)
    if isinstance(src, Tensor):
        if src.device != input.device:
            raise RuntimeError(f"{op}: src is on {src.device} but the input is on {input.device}")
        if src.dtype is not input.dtype:
            raise RuntimeError(f"{op}: Expected self.dtype to be equal to src.dtype ({input.dtype.name} vs "
                               f"{src.dtype.name})")
    x, idx, s = _lines(input, index, src)
    out = Scatter.apply(x, d, idx, s, accumulate)
    return out.reshape(()) if input.ndim == 0 else out


def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    """input with src (or value) written at index along dim: out[index[i][j]][j] = src[i][j] (dim 0).
    Repeated indices: one of the writes wins (the last, on the CPU)."""
    return _scatter(input, "scatter", dim, index, src, value, reduce, False)


def scatter_add(input, dim, index, src):
    """input with src added at index along dim (repeated indices accumulate)."""
    return _scatter(input, "scatter_add", dim, index, src, None, None, True)


def _in_place(op, fn, self, *args, others=(), **kwargs):
    check_tensor(op, "self", self)
    check_writable(op, self)
    tracked = records(op, self, *others)
    return adopt(op, self, fn(source(self, tracked), *args, **kwargs), tracked)


def scatter_(self, dim, index, src=None, *, value=None, reduce=None):
    return _in_place("scatter_", _scatter, self, "scatter_", dim, index, src, value, reduce, False, others=(src,))


def scatter_add_(self, dim, index, src):
    return _in_place("scatter_add_", _scatter, self, "scatter_add_", dim, index, src, None, None, True,
                     others=(src,))


def _positions(op, index, size, device):
    """index (int64 0-d/1-d tensor or ints) -> a 1-d int64 tensor of positions in [0, size), negatives
    counted from the end."""
    idx = _index_tensor(index, op, device).reshape(-1)
    if idx.numel():
        lo, hi = int(idx.min().item()), int(idx.max().item())
        if lo < -size or hi >= size:
            raise IndexError(f"{op}: index {hi if hi >= size else lo} is out of range for dimension with size "
                             f"{size}")
        if lo < 0:
            idx = where(idx < 0, idx + size, idx)
    return idx


def index_fill(input, dim, index, value):
    """input with `value` in every slice along dim named by index."""
    check_tensor("index_fill", "input", input)
    d = normalize_dim(dim, input.ndim, "index_fill")
    size = input.shape[d] if input.ndim else 1
    idx = _positions("index_fill", index, size, input.device)
    hit = tensor(np.zeros(size, dtype=np.bool_), device=input.device)
    if idx.numel():
        hit = scatter(hit, 0, idx, True)
    shape = [1] * input.ndim
    if input.ndim:
        shape[d] = size
    from_mask = hit.reshape(tuple(shape))
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(f"index_fill: only supports a 0-dimensional value tensor, but got a tensor with "
                               f"{value.ndim} dimension(s)")
        value = value.item()
    return where(from_mask, value, input) if input.dtype is not bool_ else where(from_mask, bool(value), input)


def index_fill_(self, dim, index, value):
    return _in_place("index_fill_", index_fill, self, dim, index, value)


def masked_select(input, mask):
    """The elements of input where the bool mask is True (both broadcast), as a 1-d tensor."""
    check_tensor("masked_select", "input", input)
    if not isinstance(mask, Tensor) or mask.dtype is not bool_:
        raise RuntimeError(f"masked_select: expected a bool mask tensor, got "
                           f"{mask.dtype.name if isinstance(mask, Tensor) else type(mask).__name__}")
    shape = np.broadcast_shapes(tuple(input.shape), tuple(mask.shape))
    x = input.expand(*shape) if tuple(input.shape) != shape else input
    m = mask.expand(*shape) if tuple(mask.shape) != shape else mask
    return x.reshape(-1).index_select(0, nonzero(m.reshape(-1)).reshape(-1))


def nonzero(input, *, as_tuple=False):
    """The positions of the non-zero elements: an (n, ndim) int64 tensor, or one 1-d tensor per dim.
    Their number depends on the data, so the positions are found on the host."""
    check_tensor("nonzero", "input", input)
    arr = input.detach().cpu().numpy()
    found = np.nonzero(arr.reshape(1) if arr.ndim == 0 else arr)
    if as_tuple:
        return tuple(tensor(f.astype(np.int64), device=input.device) for f in found)
    cols = np.stack(found, axis=1) if input.ndim else np.zeros((len(found[0]), 0), dtype=np.int64)
    return tensor(cols.astype(np.int64).reshape(len(found[0]), input.ndim), device=input.device)


def argwhere(input):
    return nonzero(input)


def count_nonzero(input, dim=None):
    check_tensor("count_nonzero", "input", input)
    return (input != 0).sum(dim) if dim is not None else (input != 0).sum()


def take_along_dim(input, indices, dim=None):
    """torch.take_along_dim: gather after broadcasting input and indices outside dim (dim None: both
    flattened)."""
    check_tensor("take_along_dim", "input", input)
    if dim is None:
        return gather(input.reshape(-1), 0, indices.reshape(-1))
    d = normalize_dim(dim, input.ndim, "take_along_dim")
    if indices.ndim != input.ndim:
        raise RuntimeError(f"take_along_dim: input {tuple(input.shape)} and indices {tuple(indices.shape)} should "
                           f"have the same number of dimensions")
    shape = [max(a, b) for a, b in zip(input.shape, indices.shape)]
    x_shape = tuple(input.shape[i] if i == d else shape[i] for i in range(input.ndim))
    i_shape = tuple(indices.shape[i] if i == d else shape[i] for i in range(input.ndim))
    x = input.expand(*x_shape) if tuple(input.shape) != x_shape else input
    idx = indices.expand(*i_shape) if tuple(indices.shape) != i_shape else indices
    return gather(x, d, idx)


def take(input, index):
    """input read as 1-d at index (any shape): the result has index's shape. Negative indices count
    from the end, as in PyTorch."""
    check_tensor("take", "input", input)
    check_tensor("take", "index", index)
    if index.dtype is not int64:
        raise TypeError(f"take: index must be an int64 tensor, got {index.dtype.name}")
    n, flat = input.numel(), index.reshape(-1)
    if flat.numel():
        lo, hi = int(flat.min().item()), int(flat.max().item())
        if lo < -n or hi >= n:
            raise IndexError(f"take: index {lo if lo < -n else hi} is out of range for a tensor of {n} elements")
        if lo < 0:
            flat = where(flat < 0, flat + n, flat)
    return gather(input.reshape(-1), 0, flat).reshape(tuple(index.shape))
