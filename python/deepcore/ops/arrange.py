"""Rearranging copies and strided views: repeat / tile / repeat_interleave, flip / roll, tensor_split,
diagonal / diag / diag_embed / trace. Composed of the shape family's views and the index kernels.

repeat is an expand of a reshaped view, then a copy: its gradient is the expand's (a sum over the
repeats). flip and repeat_interleave are index_select gathers (gradient: index_add). diagonal is a
view whose stride is the sum of the two dims' strides.
"""
import numbers

import numpy as np

from .. import _C
from ..autograd import Function
from ..dtypes import int64
from ..tensor import Tensor, arange, tensor
from .._dims import contiguous_strides, normalize_dim
from ._checks import check_tensor
from .index import index_select
from .shape import cat, narrow, reshape


# ---- repeat, tile, repeat_interleave ------------------------------------------------------------

def _sizes(args, op):
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    if len(args) == 1 and isinstance(args[0], Tensor):
        args = tuple(int(v) for v in args[0].tolist())
    for s in args:
        if isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 0:
            raise RuntimeError(f"{op}: sizes must be non-negative ints, got {tuple(args)}")
    return tuple(int(s) for s in args)


def repeat(x, *sizes):
    """x tiled sizes[i] times along each dim (leading sizes add dims), as Tensor.repeat."""
    check_tensor("repeat", "input", x)
    reps = _sizes(sizes, "repeat")
    if len(reps) < x.ndim:
        raise RuntimeError(f"repeat: Number of dimensions of repeat dims ({len(reps)}) can not be smaller than "
                           f"number of dimensions of tensor ({x.ndim})")
    shape = (1,) * (len(reps) - x.ndim) + tuple(x.shape)
    # (s0, s1, ...) viewed as (1, s0, 1, s1, ...), expanded to (r0, s0, r1, s1, ...), then merged.
    interleaved = tuple(v for s in shape for v in (1, s))
    expanded = tuple(v for r, s in zip(reps, shape) for v in (r, s))
    out = reshape(x, interleaved).expand(*expanded)
    return reshape(out, tuple(r * s for r, s in zip(reps, shape)))


def tile(x, dims):
    """repeat with dims padded with leading 1s to x's number of dims."""
    reps = _sizes((dims,), "tile")
    return repeat(x, (1,) * (x.ndim - len(reps)) + reps)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Each element (dim None: of the flattened input) or slice along dim repeated `repeats` times (an
    int, or a tensor of one count per slice). repeat_interleave(counts) alone: each index i of counts
    repeated counts[i] times."""
    if repeats is None:  # torch.repeat_interleave(repeats)
        counts = input
        check_tensor("repeat_interleave", "repeats", counts)
        return tensor(np.repeat(np.arange(counts.numel(), dtype=np.int64), _counts(counts, counts.numel())),
                      device=counts.device)
    check_tensor("repeat_interleave", "input", input)
    x = input.reshape(-1) if dim is None else input
    d = 0 if dim is None else normalize_dim(dim, x.ndim, "repeat_interleave")
    if x.ndim == 0:
        x = x.reshape(1)
    n = x.shape[d]
    if isinstance(repeats, Tensor) and repeats.numel() == 1 and repeats.ndim <= 1:
        repeats = int(repeats.item())
    if isinstance(repeats, numbers.Integral) and not isinstance(repeats, bool):
        if repeats < 0:
            raise RuntimeError(f"repeat_interleave: repeats can not be negative, got {repeats}")
        index = arange(n, device=x.device).reshape(n, 1).expand(n, int(repeats)).reshape(-1)
    elif isinstance(repeats, Tensor):
        index = tensor(np.repeat(np.arange(n, dtype=np.int64), _counts(repeats, n)), device=x.device)
    else:
        raise TypeError(f"repeat_interleave: repeats must be an int or an int64 tensor, got {type(repeats).__name__}")
    if output_size is not None and output_size != index.numel():
        raise RuntimeError(f"repeat_interleave: output_size={output_size} but the repeats give {index.numel()}")
    return index_select(x, d, index)


def _counts(repeats, n):
    """The host copy of a 1-d int64 tensor of n non-negative counts (their sum sizes the output)."""
    if repeats.dtype is not int64:
        raise RuntimeError(f"repeat_interleave: repeats must have int64 dtype, got {repeats.dtype.name}")
    if repeats.ndim != 1 or repeats.shape[0] != n:
        raise RuntimeError(f"repeat_interleave: repeats must have the same size as input along dim ({n}), got "
                           f"shape {tuple(repeats.shape)}")
    counts = repeats.detach().cpu().numpy()
    if counts.size and counts.min() < 0:
        raise RuntimeError("repeat_interleave: repeats can not be negative")
    return counts


# ---- flip, roll ----------------------------------------------------------------------------------

def _dims(dims, ndim, op):
    dims = (dims,) if isinstance(dims, numbers.Integral) else tuple(dims)
    out = tuple(normalize_dim(d, ndim, op) for d in dims)
    if len(set(out)) != len(out):
        raise RuntimeError(f"{op}: dims has duplicates: {list(dims)}")
    return out


def flip(input, dims):
    """A copy with the order of the elements reversed along each of dims."""
    check_tensor("flip", "input", input)
    out = input
    for d in _dims(dims, input.ndim, "flip"):
        n = input.shape[d] if input.ndim else 1
        if n > 1:
            out = index_select(out, d, arange(n - 1, -1, -1, device=input.device))
    return out.clone() if out is input else out


def fliplr(input):
    if input.ndim < 2:
        raise RuntimeError(f"fliplr: input must be >= 2-d, got shape {tuple(input.shape)}")
    return flip(input, (1,))


def flipud(input):
    if input.ndim < 1:
        raise RuntimeError("flipud: input must be >= 1-d")
    return flip(input, (0,))


def roll(input, shifts, dims=None):
    """Elements shifted along dims (wrapping around); dims None: along the flattened tensor."""
    check_tensor("roll", "input", input)
    shifts = (shifts,) if isinstance(shifts, numbers.Integral) else tuple(shifts)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"roll: shifts {shifts} needs dims for more than one shift")
        return roll(input.reshape(-1), shifts, 0).reshape(tuple(input.shape))
    if input.ndim == 0:  # PyTorch: a 0-d tensor rolls only without dims
        raise IndexError(f"roll: dims {dims} given but the tensor has no dimensions (shape ())")
    dims = _dims(dims, input.ndim, "roll")
    if len(shifts) != len(dims):
        raise RuntimeError(f"roll: shifts ({len(shifts)}) and dimensions ({len(dims)}) must align")
    out = input
    for shift, d in zip(shifts, dims):
        n = out.shape[d]
        s = int(shift) % n if n else 0
        if s:
            out = cat([narrow(out, d, n - s, s), narrow(out, d, 0, n - s)], d)
    return out.clone() if out is input else out


# ---- tensor_split --------------------------------------------------------------------------------

def tensor_split(input, indices_or_sections, dim=0):
    """Views along dim: `sections` nearly equal pieces (the first size % sections one longer), or the
    pieces between the given indices."""
    check_tensor("tensor_split", "input", input)
    d = normalize_dim(dim, input.ndim, "tensor_split")
    n = input.shape[d]
    spec = indices_or_sections
    if isinstance(spec, Tensor):
        if spec.dtype is not int64 or spec.ndim > 1:
            raise RuntimeError("tensor_split: expected indices_or_sections to be a 0-d or 1-d int64 tensor")
        spec = int(spec.item()) if spec.ndim == 0 else [int(v) for v in spec.tolist()]
    if isinstance(spec, numbers.Integral) and not isinstance(spec, bool):
        if spec <= 0:
            raise RuntimeError(f"tensor_split: number of sections must be larger than 0, got {spec}")
        small, extra = divmod(n, int(spec))
        bounds, start = [], 0
        for i in range(int(spec)):
            size = small + (1 if i < extra else 0)
            bounds.append((start, start + size))
            start += size
    else:
        cuts = [min(max(int(c) if c >= 0 else n + int(c), 0), n) for c in spec]
        edges = [0] + cuts + [n]
        bounds = [(a, max(a, b)) for a, b in zip(edges[:-1], edges[1:])]
    return tuple(narrow(input, d, a, b - a) for a, b in bounds)


# ---- diagonal, diag, diag_embed, trace ----------------------------------------------------------

def _diagonal_view(shape, strides, offset, k, d1, d2):
    """(shape, strides, offset) of the k-th diagonal of dims (d1, d2), appended as the last dim."""
    n1, n2 = shape[d1], shape[d2]
    length = max(0, min(n1, n2 - k) if k >= 0 else min(n1 + k, n2))
    if length:
        offset += k * strides[d2] if k >= 0 else -k * strides[d1]
    keep = [i for i in range(len(shape)) if i not in (d1, d2)]
    return ([shape[i] for i in keep] + [length], [strides[i] for i in keep] + [strides[d1] + strides[d2]], offset)


class Diagonal(Function):
    @staticmethod
    def forward(ctx, x, k, d1, d2):
        nd = x._data
        ctx.meta = tuple(x.shape), k, d1, d2
        return Tensor._make(_C.view(nd, *_diagonal_view(nd.shape, nd.strides, nd.offset, k, d1, d2)))

    @staticmethod
    def backward(ctx, g):
        shape, k, d1, d2 = ctx.meta
        be = g._backend
        grad = be.full_on(list(shape), 0.0, g.dtype._c, g.device.index)
        be.copy_(_C.view(grad, *_diagonal_view(shape, contiguous_strides(shape), 0, k, d1, d2)), g._data)
        return Tensor._make(grad), None, None, None


class DiagEmbed(Function):
    """Vectors along x's last dim written onto the k-th diagonal of two new last dims of zeros."""

    @staticmethod
    def forward(ctx, x, k):
        m = x.shape[-1] + abs(k)
        shape = tuple(x.shape[:-1]) + (m, m)
        ctx.k, ctx.nd = k, len(shape)
        be = x._backend
        out = be.full_on(list(shape), 0.0, x.dtype._c, x.device.index)
        be.copy_(_C.view(out, *_diagonal_view(shape, contiguous_strides(shape), 0, k, len(shape) - 2,
                                              len(shape) - 1)), x._data)
        return Tensor._make(out)

    @staticmethod
    def backward(ctx, g):
        return Diagonal.apply(g, ctx.k, ctx.nd - 2, ctx.nd - 1).contiguous(), None


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The view of the offset-th diagonal of dims (dim1, dim2), as the last dim."""
    check_tensor("diagonal", "input", input)
    if input.ndim < 2:
        raise RuntimeError(f"diagonal: expected a tensor with at least 2 dimensions, got shape "
                           f"{tuple(input.shape)}")
    d1, d2 = normalize_dim(dim1, input.ndim, "diagonal"), normalize_dim(dim2, input.ndim, "diagonal")
    if d1 == d2:
        raise RuntimeError(f"diagonal: diagonal dimensions cannot be identical {dim1}, {dim2}")
    return Diagonal.apply(input, int(offset), d1, d2)


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    check_tensor("diag_embed", "input", input)
    if (dim1, dim2) not in ((-2, -1), (input.ndim - 1, input.ndim)):
        raise NotImplementedError("diag_embed: only dim1=-2, dim2=-1 are supported")
    return DiagEmbed.apply(input.reshape(1) if input.ndim == 0 else input, int(offset))


def diag(input, diagonal=0):
    """A 1-d input: the square matrix with it on the diagonal-th diagonal; a 2-d one: a copy of its
    diagonal-th diagonal."""
    check_tensor("diag", "input", input)
    if input.ndim == 1:
        return DiagEmbed.apply(input, int(diagonal))
    if input.ndim == 2:
        return Diagonal.apply(input, int(diagonal), 0, 1).clone()
    raise RuntimeError(f"diag: expected a 1-d or 2-d tensor, got shape {tuple(input.shape)}")


def trace(input):
    """The sum of a matrix's main diagonal."""
    check_tensor("trace", "input", input)
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    return Diagonal.apply(input, 0, 0, 1).sum()
