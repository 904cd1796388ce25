"""Gathering along a dimension: index_select (differentiable) and index_add_.

The backward of a gather is a scatter-add into zeros: repeated indices
accumulate their gradients, as in PyTorch.
"""
import numbers

from ..autograd import Function, is_grad_enabled
from ..tensor import Tensor
from ._util import normalize_dim
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
    from ..tensor import tensor
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


# Tensor.index_select / Tensor.index_add_ (attached here so this family stays in one file).
Tensor.index_select = index_select
Tensor.index_add_ = index_add_
