"""Gathering along a dimension: index_select (differentiable) and index_add_.

The backward of a gather is a scatter-add into zeros: repeated indices
accumulate their gradients, as in PyTorch.
"""
import numbers
import re

from ..autograd import Function, is_grad_enabled
from ..tensor import Tensor, arange, tensor
from ._checks import check_tensor
from .._dims import normalize_dim
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
