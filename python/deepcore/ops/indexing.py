"""Advanced indexing, NumPy's and PyTorch's rules: x[idx], x[mask], x[rows, cols], x[range(n), y] = v.

An index with a tensor, a list, a range, an array or a bool mask in it is "advanced". Ints, slices,
None and ... alone give views (ops/shape.py); with an advanced index, ints count as advanced too.

getitem: the basic parts first (a view), then the advanced dims are moved to the front, merged,
and gathered with one index_select on a linear index; the index tensors broadcast together, and
their result dims go where the first advanced index was when the advanced indices are adjacent,
else first. The gradient is index_select's (index_add). setitem computes the same linear
positions on an arange and writes with where, so duplicate positions take the last value, as in
PyTorch's CPU loop, and inf/NaN values are written exactly.
"""
import numbers

import numpy as np

from ..autograd import Function, is_grad_enabled, no_grad
from ..dtypes import bool_, int64
from ..tensor import Tensor, arange, zeros
from .elementwise import where
from .index import index_select
from .reduce import sum_to
from ._inplace import adopt
from . import shape as _basic
from .shape import Index, permute, reshape

_SEQUENCE = (list, range, np.ndarray)


def is_advanced(index):
    items = index if isinstance(index, tuple) else (index,)
    return any(isinstance(i, (Tensor,) + _SEQUENCE) for i in items)


def _as_index_tensor(i, device):
    if isinstance(i, Tensor):
        t = i
    else:
        arr = np.asarray(list(i) if isinstance(i, range) else i)
        if arr.dtype == object:
            raise IndexError(f"index {i!r}: a list index must hold only integers or only bools")
        if arr.size == 0:
            arr = arr.astype(np.int64)
        t = Tensor(arr)
    if t.dtype is bool_:
        return t.to(device) if t.device != device else t
    if t.dtype is not int64:
        raise IndexError(f"tensors used as indices must be long, int or bool tensors, got {t.dtype.name}")
    return t.to(device) if t.device != device else t


def _expand_masks(index, shape, device):
    """Each bool mask of k dims -> k long index tensors (its nonzero positions); ints stay ints."""
    out = []
    dim = 0
    for i in index:
        if i is None or i is Ellipsis:
            out.append(i)
            continue
        if isinstance(i, (Tensor,) + _SEQUENCE):
            t = _as_index_tensor(i, device)
            if t.dtype is bool_:
                if tuple(t.shape) != tuple(shape[dim:dim + t.ndim]):
                    raise IndexError(f"the shape of the mask {tuple(t.shape)} at index {dim} does not match the "
                                     f"shape of the indexed tensor {tuple(shape)}")
                mask = t.detach().cpu().numpy().reshape(t.shape or (1,))
                for positions in np.nonzero(mask):
                    out.append(Tensor(positions.astype(np.int64), device=device))
                dim += t.ndim
                continue
            out.append(t)
            dim += 1
            continue
        out.append(i)
        dim += 1
    return out


def _broadcast_shape(shapes):
    ndim = max(len(s) for s in shapes)
    result = []
    for k in range(ndim):
        sizes = {s[len(s) - ndim + k] for s in shapes if len(s) - ndim + k >= 0} - {1}
        if len(sizes) > 1:
            raise IndexError(f"shape mismatch: indexing tensors could not be broadcast together with shapes "
                             f"{[tuple(s) for s in shapes]}")
        result.append(sizes.pop() if sizes else 1)
    return tuple(result)


def getitem(x, index):
    index = list(index) if isinstance(index, tuple) else [index]
    index = _expand_masks(index, tuple(x.shape), x.device)
    consumed = sum(1 for i in index if i is not None and i is not Ellipsis)
    if sum(i is Ellipsis for i in index) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if consumed > x.ndim:
        raise IndexError(f"too many indices for tensor of dimension {x.ndim}")
    if Ellipsis in index:
        k = index.index(Ellipsis)
        index = index[:k] + [slice(None)] * (x.ndim - consumed) + index[k + 1:]
    index = [Tensor(np.array(int(i), dtype=np.int64), device=x.device)
             if isinstance(i, numbers.Integral) and not isinstance(i, bool) else i for i in index]
    if any(isinstance(i, bool) for i in index):
        raise IndexError("indexing with a Python bool is not supported (use a bool tensor mask)")
    basic, dims, entries, out_dim = [], [], [], 0
    for pos, i in enumerate(index):
        if isinstance(i, Tensor):
            basic.append(slice(None))
            dims.append(out_dim)
            entries.append(pos)
        else:
            basic.append(i)
        if i is None or not isinstance(i, numbers.Integral):
            out_dim += 1
    view = Index.apply(x, tuple(basic))
    tensors = [i for i in index if isinstance(i, Tensor)]
    adjacent = entries == list(range(entries[0], entries[0] + len(entries)))
    b_shape = _broadcast_shape([tuple(t.shape) for t in tensors])
    sizes = [view.shape[d] for d in dims]
    rest = [d for d in range(view.ndim) if d not in dims]
    linear = None
    for t, size, d in zip(tensors, sizes, dims):
        if t.numel():
            lo, hi = t.min().item(), t.max().item()
            if lo < -size or hi >= size:
                bad = hi if hi >= size else lo
                raise IndexError(f"index {bad} is out of bounds for dimension {d} with size {size}")
        wrapped = t + (t < 0).long() * size if t.numel() and t.min().item() < 0 else t
        linear = wrapped if linear is None else linear * size + wrapped
    linear = linear.expand(*b_shape) if tuple(linear.shape) != b_shape else linear
    moved = permute(view, tuple(dims + rest)) if dims + rest != list(range(view.ndim)) else view
    rest_shape = tuple(view.shape[d] for d in rest)
    merged = reshape(moved, (int(np.prod(sizes)),) + rest_shape)
    flat_index = reshape(linear, (-1,))
    out = reshape(index_select(merged, 0, flat_index), b_shape + rest_shape)
    if adjacent and dims[0] > 0:
        nb = len(b_shape)
        order = list(range(nb, nb + dims[0])) + list(range(nb)) + list(range(nb + dims[0], out.ndim))
        out = permute(out, tuple(order))
    return out


def setitem(x, index, value):
    """x[index] = value for an advanced index (no autograd through the target, as basic setitem)."""
    if x.requires_grad and is_grad_enabled():
        raise RuntimeError("setitem: cannot assign into a tensor that requires grad outside no_grad() "
                           f"(shape {tuple(x.shape)}); wrap the assignment in deepcore.no_grad()")
    with no_grad():
        positions = getitem(arange(x.numel(), device=x.device).reshape(tuple(x.shape)), index)
        if isinstance(value, Tensor):
            if value.device != x.device:
                raise ValueError(f"setitem: value is on {value.device} but the tensor is on {x.device}")
            src = value.to(x.dtype) if value.dtype is not x.dtype else value
        else:
            src = Tensor(np.array(value, dtype=x.dtype.numpy), device=x.device)
        try:
            src = src.expand(*positions.shape)
        except (ValueError, RuntimeError):
            raise ValueError(f"setitem: shape mismatch: value of shape {tuple(src.shape)} cannot be broadcast to "
                             f"indexing result of shape {tuple(positions.shape)}") from None
        flat_pos = positions.reshape(-1)
        flat_src = src.reshape(-1)
        n = x.numel()
        if flat_pos.numel() == 0:
            return
        # Duplicate positions: the last write wins, as PyTorch's CPU loop does.
        pos_np = flat_pos.cpu().numpy()
        _, first_of_reversed = np.unique(pos_np[::-1], return_index=True)
        if len(first_of_reversed) != len(pos_np):
            keep = Tensor((len(pos_np) - 1 - first_of_reversed).astype(np.int64), device=x.device)
            flat_pos, flat_src = flat_pos.index_select(0, keep), flat_src.index_select(0, keep)
        work = x.dtype if x.dtype.is_floating_point or x.dtype is int64 else int64
        values = zeros(n, dtype=work, device=x.device)
        values.index_add_(0, flat_pos, flat_src.to(work))  # exact: each position receives one value onto 0
        hit = zeros(n, dtype=int64, device=x.device)
        hit.index_add_(0, flat_pos, (flat_pos >= 0).long())
        current = x.reshape(-1)
        updated = where(hit > 0, values.to(x.dtype), current)
        x.copy_(updated.reshape(tuple(x.shape)))


def tensor_getitem(x, index):
    """Tensor.__getitem__: views for basic indices, a gather for advanced ones."""
    return getitem(x, index) if is_advanced(index) else _basic.getitem(x, index)


def _plain_setitem(x, index, value):
    if is_advanced(index):
        return setitem(x, index, value)
    return _basic.setitem(x, index, value)


class _IndexPut(Function):
    """A recorded write x[index] = value (fill_ and copy_ too, with index ...) into a tensor of the graph,
    as PyTorch's CopySlices: the written positions' gradient reaches value (summed over its broadcast),
    the other positions' reaches x's old value. Nothing is saved, so later writes cannot invalidate it."""

    @staticmethod
    def forward(ctx, old, value, index):
        ctx.index = index
        ctx.value_meta = (tuple(value.shape), value.dtype, value.device) if isinstance(value, Tensor) else None
        out = old.clone()
        _plain_setitem(out, index, value)  # grad is off inside forward: the untracked write
        return out

    @staticmethod
    def backward(ctx, g):
        g_old = g_value = None
        if ctx.needs_input_grad[0]:
            g_old = g.clone()
            tensor_setitem(g_old, ctx.index, 0.0)
        if ctx.needs_input_grad[1]:
            shape, dtype, device = ctx.value_meta
            g_value = tensor_getitem(g, ctx.index)
            # a value with extra leading 1s (x[0] = v of shape (1, n)) holds the same elements
            g_value = g_value.reshape(shape) if len(shape) > g_value.ndim else sum_to(g_value, shape)
            if g_value.dtype is not dtype:
                g_value = g_value.to(dtype)
            if g_value.device != device:
                g_value = g_value.to(device)
        return g_old, g_value, None


def recorded_write(op, x, index, value):
    """x[index] = value recorded in the graph: x takes over the write's grad_fn. Returns x."""
    return adopt(op, x, _IndexPut.apply(x, value, index), True)


def tensor_setitem(x, index, value):
    tracked = is_grad_enabled() and (x.requires_grad or (isinstance(value, Tensor) and value.requires_grad))
    if not tracked:
        return _plain_setitem(x, index, value)
    if x.is_leaf and x.requires_grad:
        raise RuntimeError("setitem: a leaf Variable that requires grad is being used in an in-place operation: "
                           f"cannot assign into a tensor that requires grad outside no_grad() (shape "
                           f"{tuple(x.shape)}); wrap the assignment in deepcore.no_grad()")
    recorded_write("setitem", x, index, value)
