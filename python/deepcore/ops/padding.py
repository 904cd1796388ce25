"""F.pad: constant, reflect, replicate and circular padding of the last dims, PyTorch's pad tuple.

``pad`` lists (before, after) pairs starting from the last dim: (left, right) pads the last dim,
(left, right, top, bottom) the last two, and so on. Negative entries crop. The constant mode is
one Function: a filled tensor with the input copied into its middle, whose backward is that
middle of the gradient. The other modes only repeat existing entries: per padded dim, one copy of
the (cropped) middle and one strided copy per border position (the pads are a few entries wide,
so this is a handful of native calls, never a loop over pixels); the backward adds each border
position's gradient onto the entry it repeats.
"""
import numbers

from .. import _C
from ..autograd import Function
from ..tensor import Tensor
from .._dims import contiguous_strides
from ._checks import check_tensor

_ADD = _C.BinaryOp.add
_MODES = ("constant", "reflect", "replicate", "circular")


class ConstantPad(Function):
    """x (every pad >= 0: (before, after) per dim) inside a tensor filled with value."""

    @staticmethod
    def forward(ctx, x, pads, value):
        be = x._backend
        shape = [size + before + after for size, (before, after) in zip(x.shape, pads)]
        out = be.full_on(shape, value, x.dtype._c, x.device.index)
        strides = contiguous_strides(shape)
        offset = sum(before * stride for (before, _), stride in zip(pads, strides))
        be.copy_(_C.view(out, list(x.shape), list(strides), offset), x._data)
        ctx.middle = tuple(slice(before, before + size) for size, (before, _) in zip(x.shape, pads))
        return Tensor._make(out)

    @staticmethod
    def backward(ctx, g):
        return g[ctx.middle], None, None


def _source(mode, i, size):
    """The input position that padded position i (-before <= i < size + after) repeats."""
    if mode == "reflect":
        return -i if i < 0 else 2 * (size - 1) - i
    if mode == "replicate":
        return min(max(i, 0), size - 1)
    return i % size  # circular


def _check_border(mode, before, after, size, d, shape):
    if mode == "reflect" and (before >= size or after >= size):
        raise ValueError(f"pad: padding size should be less than the corresponding input dimension for mode "
                         f"'reflect', but got padding ({before}, {after}) at dimension {d} of input {list(shape)}")
    if mode == "replicate" and size == 0:
        raise ValueError(f"pad: mode 'replicate' needs a non-empty dimension to repeat, but dimension {d} of input "
                         f"{list(shape)} is empty")
    if mode == "circular" and (before > size or after > size):
        raise ValueError(f"pad: padding ({before}, {after}) at dimension {d} of input {list(shape)} causes wrapping "
                         f"around more than once (mode 'circular' pads at most the dimension's size)")


def _slab(nd, d, start, length):
    """The view of entries [start, start + length) of raw array nd along dim d."""
    shape, strides = list(nd.shape), list(nd.strides)
    shape[d] = length
    return _C.view(nd, shape, strides, nd.offset + start * strides[d])


class RepeatPad(Function):
    """x along dim d: its entries [keep) in the middle, and before/after them copies of single entries
    (`before` and `after` list their positions in x). One strided copy per border position; the
    backward copies the middle's gradient back and adds each border position's onto its source."""

    @staticmethod
    def forward(ctx, x, d, keep, before, after):
        be, nd = x._backend, x._data
        middle = keep[1] - keep[0]
        shape = list(nd.shape)
        shape[d] = len(before) + middle + len(after)
        out = be.empty_on(shape, x.dtype._c, x.device.index)
        be.copy_(_slab(out, d, len(before), middle), _slab(nd, d, keep[0], middle))
        for j, src in enumerate(before + after):
            at = j if j < len(before) else j + middle
            be.copy_(_slab(out, d, at, 1), _slab(nd, d, src, 1))
        ctx.meta = (list(nd.shape), d, keep, before, after)
        return Tensor._make(out)

    @staticmethod
    def backward(ctx, g):
        shape, d, keep, before, after = ctx.meta
        be, gd = g._backend, g._data
        middle = keep[1] - keep[0]
        gx = be.full_on(shape, 0.0, g.dtype._c, g.device.index)
        be.copy_(_slab(gx, d, keep[0], middle), _slab(gd, d, len(before), middle))
        for j, src in enumerate(before + after):
            at = j if j < len(before) else j + middle
            dst = _slab(gx, d, src, 1)
            be.binary(_ADD, dst, _slab(gd, d, at, 1), dst)
        return Tensor._make(gx), None, None, None, None


def _repeat_border(x, d, before, after, mode, shape):
    """x padded along dim d by repeating its entries (mode reflect / replicate / circular); a negative
    before/after crops. reflect and replicate read positions of the uncropped input, circular wraps
    around the cropped one (both as PyTorch). shape: the input's, for messages."""
    size = x.shape[d]
    keep = (max(-before, 0), size - max(-after, 0))  # the middle left after cropping
    before, after = max(before, 0), max(after, 0)
    base = 0
    if mode == "circular":  # positions within the cropped middle
        base, size = keep[0], keep[1] - keep[0]
    _check_border(mode, before, after, size, d, shape)
    return RepeatPad.apply(x, d, keep, [base + _source(mode, i, size) for i in range(-before, 0)],
                           [base + _source(mode, i, size) for i in range(size, size + after)])


def _pairs(op, pad, ndim):
    """PyTorch's pad tuple -> {dim: (before, after)}, checked."""
    if isinstance(pad, Tensor) or not isinstance(pad, (tuple, list)):
        raise TypeError(f"{op}: pad must be a tuple of ints, got {type(pad).__name__}")
    for i, p in enumerate(pad):
        if isinstance(p, bool) or not isinstance(p, numbers.Integral):
            raise TypeError(f"{op}: pad must be a tuple of ints, but found element of type {type(p).__name__} at "
                            f"pos {i}")
    if len(pad) % 2:
        raise ValueError(f"{op}: padding length must be divisible by 2, got {len(pad)} values {tuple(pad)}")
    if len(pad) // 2 > ndim:
        raise ValueError(f"{op}: padding length should be less than or equal to two times the input dimension but "
                         f"got padding length {len(pad)} and input of dimension {ndim}")
    return {ndim - 1 - k: (int(pad[2 * k]), int(pad[2 * k + 1])) for k in range(len(pad) // 2)}


def pad(input, pad, mode="constant", value=None):
    """input padded (or, with negative entries, cropped) at the ends of its last len(pad) // 2 dims.

    mode 'constant' fills with value (default 0) and takes any rank; 'reflect' (mirror, edge not
    repeated), 'replicate' (edge repeated) and 'circular' (wrap around) pad the last 1, 2 or 3
    dims of an input with one or two more dims (PyTorch's rule).
    """
    op = "pad"
    check_tensor(op, "input", input)
    if mode not in _MODES:
        raise NotImplementedError(f"{op}: unrecognised padding mode {mode!r} (expected one of "
                                  f"{', '.join(repr(m) for m in _MODES)})")
    pads = _pairs(op, pad, input.ndim)
    if mode == "constant":
        fill = 0.0 if value is None else value
        if not isinstance(fill, (int, float)):
            raise TypeError(f"{op}: value must be a number, got {type(fill).__name__}")
        for d, (before, after) in pads.items():
            if input.shape[d] + before + after < 0:
                raise ValueError(f"{op}: padding ({before}, {after}) of dimension {d} leaves a negative size (the "
                                 f"input's size there is {input.shape[d]}, input shape {tuple(input.shape)})")
        x = input
        if any(before < 0 or after < 0 for before, after in pads.values()):  # crop first (a view)
            x = x[tuple(slice(max(-pads[d][0], 0), x.shape[d] - max(-pads[d][1], 0)) if d in pads else slice(None)
                        for d in range(x.ndim))]
        grow = [(max(pads[d][0], 0), max(pads[d][1], 0)) if d in pads else (0, 0) for d in range(x.ndim)]
        return ConstantPad.apply(x, grow, float(fill))  # always a new tensor, as in PyTorch
    if value is not None and value != 0:
        raise ValueError(f"{op}: padding mode {mode!r} doesn't take in value argument (got value={value!r})")
    n = len(pad) // 2
    if n not in (1, 2, 3) or input.ndim not in (n + 1, n + 2):
        raise NotImplementedError(
            f"{op}: padding size {len(pad)} is not supported for {input.ndim}D input tensor with mode {mode!r}. "
            f"Supported combinations for non-constant padding: 2D or 3D input with padding size 2 (pads the last "
            f"dimension), 3D or 4D input with padding size 4 (the last 2), 4D or 5D input with padding size 6 (the "
            f"last 3)")
    out = input
    for d in sorted(pads):
        before, after = pads[d]
        if before or after:
            out = _repeat_border(out, d, before, after, mode, tuple(input.shape))
    return out if out is not input else ConstantPad.apply(input, [(0, 0)] * input.ndim, 0.0)  # a copy
