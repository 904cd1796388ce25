"""Pooling (1-d, 2-d and adaptive) and nearest-neighbour upsampling (NCHW) on the native kernels.

The 1-d pools are the 2-d kernels on an H = 1 view. Adaptive pools use PyTorch's bins (bin i of a
size-L dim into n: [floor(i * L / n), ceil((i + 1) * L / n))): when every bin has the same size
they are one native pool; otherwise averages gather each bin's entries (index_select, padded to
the largest bin and masked), and maxima find each bin's first maximum and gather it, so the
gradient goes to that element, as in PyTorch.
"""
import functools
import numbers

from ..autograd import Function
from ..tensor import Tensor, arange, tensor
from ._checks import check_float_tensor, check_tensor, pair, single, unsupported
from .elementwise import where
from .index import index_select


class MaxPool2d(Function):
    @staticmethod
    def forward(ctx, x, kernel, stride, padding):
        ctx.save_for_backward(x)  # the backward finds each window's maximum again
        ctx.args = (list(kernel), list(stride), list(padding))
        return Tensor._make(x._backend.max_pool2d_forward(x._data, *ctx.args))

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return Tensor._make(g._backend.max_pool2d_backward(g._data, x._data, *ctx.args)), None, None, None


class AvgPool2d(Function):
    @staticmethod
    def forward(ctx, x, kernel, stride, padding):
        ctx.input_shape = list(x.shape)
        ctx.args = (list(kernel), list(stride), list(padding))
        return Tensor._make(x._backend.avg_pool2d_forward(x._data, *ctx.args))

    @staticmethod
    def backward(ctx, g):
        return Tensor._make(g._backend.avg_pool2d_backward(g._data, ctx.input_shape, *ctx.args)), None, None, None


class UpsampleNearest2d(Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.scale = list(scale)
        return Tensor._make(x._backend.upsample_nearest2d_forward(x._data, ctx.scale))

    @staticmethod
    def backward(ctx, g):
        return Tensor._make(g._backend.upsample_nearest2d_backward(g._data, ctx.scale)), None


def _batched(op, x):
    check_float_tensor(op, "input", x)
    if x.ndim not in (3, 4):
        raise ValueError(f"{op}: expected a 4-D input (N, C, H, W) or a 3-D unbatched one (C, H, W), got shape "
                         f"{tuple(x.shape)}")
    return (x.unsqueeze(0), True) if x.ndim == 3 else (x, False)


def _pool(fn, op, x, kernel_size, stride, padding):
    x, unbatched = _batched(op, x)
    kernel = pair(kernel_size, "kernel_size", op, 1)
    stride = kernel if stride is None or stride == [] or stride == () else pair(stride, "stride", op, 1)
    padding = pair(padding, "padding", op, 0)
    for k, p in zip(kernel, padding):
        if 2 * p > k:
            raise ValueError(f"{op}: padding should be at most half of the kernel size, got padding {padding} "
                             f"for kernel_size {kernel}")
    padded = (x.shape[2] + 2 * padding[0], x.shape[3] + 2 * padding[1])
    if padded[0] < kernel[0] or padded[1] < kernel[1]:
        raise ValueError(f"{op}: the padded input {padded} is smaller than the kernel {kernel} "
                         f"(input shape {tuple(x.shape)})")
    out = fn.apply(x, kernel, stride, padding)
    return out.squeeze(0) if unbatched else out


def upsample_nearest2d(x, scale_factor):
    """Each pixel repeated scale_factor times along H and W (int or pair of ints)."""
    op = "upsample_nearest2d"
    x, unbatched = _batched(op, x)
    if isinstance(scale_factor, float) and scale_factor.is_integer():
        scale_factor = int(scale_factor)
    if isinstance(scale_factor, (tuple, list)):
        scale_factor = tuple(int(s) if isinstance(s, float) and s.is_integer() else s for s in scale_factor)
    scale = pair(scale_factor, "scale_factor", op, 1)
    out = UpsampleNearest2d.apply(x, scale)
    return out.squeeze(0) if unbatched else out


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over kernel_size windows of x (N, C, H, W); stride defaults to kernel_size, padding counts as -inf."""
    unsupported("max_pool2d", dilation=(dilation, 1), ceil_mode=(ceil_mode, False),
                 return_indices=(return_indices, False))
    return _pool(MaxPool2d, "max_pool2d", input, kernel_size, stride, padding)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Mean over kernel_size windows (zero padding counted in the mean, PyTorch's count_include_pad=True)."""
    unsupported("avg_pool2d", ceil_mode=(ceil_mode, False), count_include_pad=(count_include_pad, True),
                 divisor_override=(divisor_override, None))
    return _pool(AvgPool2d, "avg_pool2d", input, kernel_size, stride, padding)


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None):
    """Nearest-neighbour upsampling of an NCHW tensor by an integer factor (or to an integer multiple size)."""
    check_tensor("interpolate", "input", input)
    if mode != "nearest":
        raise NotImplementedError(f"interpolate: mode={mode!r} is not supported (only 'nearest')")
    if input.ndim != 4:
        raise ValueError(f"interpolate: expected a 4-D (N, C, H, W) input, got shape {tuple(input.shape)}")
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    h, w = input.shape[2], input.shape[3]
    if size is not None:
        oh, ow = pair(size, "size", "interpolate", 1)
        if h == 0 or w == 0 or oh % h or ow % w:
            raise NotImplementedError(f"interpolate: size {(oh, ow)} is not an integer multiple of the input "
                                      f"size {(h, w)}")
        factor = (oh // h, ow // w)
    else:
        sf = scale_factor if isinstance(scale_factor, (tuple, list)) else (scale_factor, scale_factor)
        if any(float(f) != int(f) or f < 1 for f in sf):
            raise NotImplementedError(f"interpolate: scale_factor {scale_factor!r} must be a positive integer")
        factor = tuple(int(f) for f in sf)
    scale = factor[0] if factor[0] == factor[1] else factor
    return upsample_nearest2d(input, scale)


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    return interpolate(input, size, scale_factor, "nearest")


# ---- 1-d pools: the 2-d kernels on (N, C, 1, L) ----------------------------------------------------

def _pool1d(fn, op, x, kernel_size, stride, padding):
    check_float_tensor(op, "input", x)
    if x.ndim not in (2, 3):
        raise ValueError(f"{op}: expected a 3-D input (N, C, L) or a 2-D unbatched one (C, L), got shape "
                         f"{tuple(x.shape)}")
    kernel = single(kernel_size, "kernel_size", op, 1)
    stride = kernel if stride is None or stride == [] or stride == () else single(stride, "stride", op, 1)
    padding = single(padding, "padding", op, 0)
    if 2 * padding > kernel:
        raise ValueError(f"{op}: padding should be at most half of the kernel size, got padding {padding} for "
                         f"kernel_size {kernel}")
    if x.shape[-1] + 2 * padding < kernel:
        raise ValueError(f"{op}: the padded input length {x.shape[-1] + 2 * padding} is smaller than the kernel "
                         f"{kernel} (input shape {tuple(x.shape)})")
    return _pool(fn, op, x.unsqueeze(-2), (1, kernel), (1, stride), (0, padding)).squeeze(-2)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over kernel_size windows of input (N, C, L) or (C, L); stride defaults to kernel_size."""
    unsupported("max_pool1d", dilation=(dilation, 1), ceil_mode=(ceil_mode, False),
                return_indices=(return_indices, False))
    return _pool1d(MaxPool2d, "max_pool1d", input, kernel_size, stride, padding)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """Mean over kernel_size windows of input (N, C, L) or (C, L) (zero padding counted in the mean)."""
    unsupported("avg_pool1d", ceil_mode=(ceil_mode, False), count_include_pad=(count_include_pad, True))
    return _pool1d(AvgPool2d, "avg_pool1d", input, kernel_size, stride, padding)


# ---- adaptive pools ---------------------------------------------------------------------------------

@functools.lru_cache(maxsize=256)
def _bins(size, n):
    """PyTorch's adaptive bins of a dim of `size` into `n`: [floor(i * size / n), ceil((i + 1) * size / n))."""
    return tuple(((i * size) // n, -(-(i + 1) * size // n)) for i in range(n))


def _adaptive_input(op, x, spatial):
    """x batched (a leading batch dim added to an unbatched input), and whether it was unbatched."""
    check_float_tensor(op, "input", x)
    layout = ("(N, C, L)", "(C, L)") if spatial == 1 else ("(N, C, H, W)", "(C, H, W)")
    if x.ndim not in (spatial + 1, spatial + 2):
        raise ValueError(f"{op}: expected a {spatial + 2}-D input {layout[0]} or a {spatial + 1}-D unbatched one "
                         f"{layout[1]}, got shape {tuple(x.shape)}")
    first = x.ndim - spatial - 1  # the channel dim; everything from it on must be non-empty
    for d in range(first, x.ndim):
        if x.shape[d] == 0:
            raise ValueError(f"{op}: expected input to have non-zero size for non-batch dimensions, but input has "
                             f"sizes {list(x.shape)} with dimension {d} being empty")
    return (x.unsqueeze(0), True) if x.ndim == spatial + 1 else (x, False)


def _output_size(op, output_size, sizes):
    """output_size as a tuple of ints, one per spatial dim (a None entry keeps that dim's input size)."""
    if len(sizes) == 1:
        return (single(output_size, "output_size", op, 0),)
    if isinstance(output_size, numbers.Integral) and not isinstance(output_size, bool):
        output_size = (output_size, output_size)
    if not isinstance(output_size, (tuple, list)):
        raise TypeError(f"{op}: output_size must be an int or a pair of ints (None keeps the input's size), got "
                        f"{output_size!r}")
    if len(output_size) != 2:
        raise ValueError(f"{op}: output_size must be 2 values, got {output_size!r}")
    out = tuple(size if v is None else v for v, size in zip(output_size, sizes))
    if not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in out):
        raise TypeError(f"{op}: output_size must hold ints or None, got {output_size!r}")
    if min(out) < 0:
        raise ValueError(f"{op}: elements of output_size must be greater than or equal to 0, got {output_size!r}")
    return tuple(int(v) for v in out)


def _equal_bins(sizes, out):
    """The (kernel = stride) of one native pool when every bin has the same size, else None."""
    if min(out) == 0 or any(s % n for s, n in zip(sizes, out)):
        return None
    return tuple(s // n for s, n in zip(sizes, out))


def _average_bins(x, d, n):
    """x with dim d averaged into n adaptive bins."""
    size = x.shape[d]
    if n == size:
        return x
    if n == 0:  # no bins: an empty gather, still part of the graph
        return index_select(x, d, tensor([], dtype="int64", device=x.device))
    shape = tuple(x.shape)
    if size % n == 0:  # equal bins: a reshape and one mean
        return x.reshape(shape[:d] + (n, size // n) + shape[d + 1:]).mean(d + 1)
    bins = _bins(size, n)
    k = max(end - start for start, end in bins)
    # each bin's entries, the shorter bins padded with copies of their last entry, masked out of the sum
    index = tensor([min(start + j, end - 1) for start, end in bins for j in range(k)], dtype="int64",
                   device=x.device)
    keep = tensor([start + j < end for start, end in bins for j in range(k)], device=x.device)
    around = (1,) * (x.ndim - d - 1)
    gathered = index_select(x, d, index).reshape(shape[:d] + (n, k) + shape[d + 1:])
    total = where(keep.reshape((1,) * d + (n, k) + around), gathered, 0.0).sum(d + 1)
    counts = tensor([float(end - start) for start, end in bins], dtype=x.dtype, device=x.device)
    return total / counts.reshape((1,) * d + (n,) + around)


def _bin_means(size, n, like):
    """(n, size): row i holds 1 / |bin i| on bin i's entries, so a product with it averages the bins."""
    rows = [[1.0 / (end - start) if start <= j < end else 0.0 for j in range(size)] for start, end in _bins(size, n)]
    return tensor(rows, dtype=like.dtype, device=like.device)


def _adaptive_avg(x, out):
    """x (N, C, H, W) (H = 1 for the 1-d op) averaged into out = (oh, ow) bins."""
    n, c, h, w = x.shape
    kernel = _equal_bins((h, w), out)
    if kernel is not None:
        return AvgPool2d.apply(x, kernel, kernel, (0, 0))
    if min(out) == 0 or x.numel() == 0 or x._backend.has_nonfinite(x._data):
        # masked gathers: a product with the averaging matrices would turn one inf or NaN into NaN in every
        # bin of its row (0 * inf), where PyTorch has it only in the bins that hold it
        return _average_bins(_average_bins(x, 2, out[0]), 3, out[1])
    y = x  # two GEMMs: the bins of W, then of H (a dim that keeps its size is skipped)
    if out[1] != w:
        y = (y.reshape(n * c * h, w) @ _bin_means(w, out[1], x).t()).reshape(n, c, h, out[1])
    if out[0] != h:
        y = (_bin_means(h, out[0], x) @ y.reshape(n * c, h, out[1])).reshape(n, c, out[0], out[1])
    return y


@functools.lru_cache(maxsize=64)
def _max_windows(h, w, oh, ow):
    """(positions, k): for every output (i, j), the plane positions y * w + x of its bin in row-major order,
    padded to k = the largest bin's size with repeats of the bin's last row and column, which a first
    maximum never picks over the original."""
    rows, cols = _bins(h, oh), _bins(w, ow)
    kh = max(end - start for start, end in rows)
    kw = max(end - start for start, end in cols)
    positions = tuple(min(r0 + a, r1 - 1) * w + min(c0 + b, c1 - 1)
                      for r0, r1 in rows for c0, c1 in cols for a in range(kh) for b in range(kw))
    return positions, kh * kw


def _adaptive_max(x, out, return_indices):
    """(values, indices or None) of x (N, C, H, W) max-pooled into out = (oh, ow) bins; indices are positions
    in each input plane (y * W + x) of the bin's first maximum (NaN wins), as PyTorch's."""
    n, c, h, w = x.shape
    kernel = _equal_bins((h, w), out)
    if kernel is not None and not return_indices:
        return MaxPool2d.apply(x, kernel, kernel, (0, 0)), None
    planes, outputs = n * c, out[0] * out[1]
    if outputs == 0:
        empty = tensor([], dtype="int64", device=x.device)
        values = index_select(x.reshape(n, c, h * w), 2, empty).reshape(n, c, *out)
        return values, empty.reshape(n, c, *out)
    positions, k = _max_windows(h, w, *out)
    table = tensor(positions, dtype="int64", device=x.device)
    flat = x.reshape(planes, h * w)
    windows = index_select(flat.detach(), 1, table).reshape(planes, outputs, k)
    first = windows.argmax(2)  # (planes, outputs): which window entry
    picked = index_select(table, 0, (arange(outputs, device=x.device).reshape(1, outputs) * k + first).reshape(-1))
    where_in_plane = picked.reshape(planes, outputs)
    offsets = (arange(planes, device=x.device) * (h * w)).reshape(planes, 1)
    values = index_select(flat.reshape(-1), 0, (where_in_plane + offsets).reshape(-1))
    return values.reshape(n, c, *out), where_in_plane.reshape(n, c, *out)


def adaptive_avg_pool2d(input, output_size):
    """Mean over PyTorch's adaptive bins of input (N, C, H, W) or (C, H, W): output (..., *output_size);
    output_size an int, a pair, or a pair with None (that dim keeps its size)."""
    op = "adaptive_avg_pool2d"
    x, unbatched = _adaptive_input(op, input, 2)
    out = _adaptive_avg(x, _output_size(op, output_size, tuple(x.shape[2:])))
    return out.squeeze(0) if unbatched else out


def adaptive_avg_pool1d(input, output_size):
    """Mean over PyTorch's adaptive bins of input (N, C, L) or (C, L): output (..., output_size)."""
    op = "adaptive_avg_pool1d"
    x, unbatched = _adaptive_input(op, input, 1)
    out = _adaptive_avg(x.unsqueeze(2), (1,) + _output_size(op, output_size, (x.shape[2],))).squeeze(2)
    return out.squeeze(0) if unbatched else out


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max over PyTorch's adaptive bins of input (N, C, H, W) or (C, H, W); with return_indices, also the
    int64 position (y * W + x) of each maximum in its input plane."""
    op = "adaptive_max_pool2d"
    x, unbatched = _adaptive_input(op, input, 2)
    values, indices = _adaptive_max(x, _output_size(op, output_size, tuple(x.shape[2:])), return_indices)
    if unbatched:
        values, indices = values.squeeze(0), None if indices is None else indices.squeeze(0)
    return (values, indices) if return_indices else values


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max over PyTorch's adaptive bins of input (N, C, L) or (C, L); with return_indices, also the int64
    position of each maximum."""
    op = "adaptive_max_pool1d"
    x, unbatched = _adaptive_input(op, input, 1)
    values, indices = _adaptive_max(x.unsqueeze(2), (1,) + _output_size(op, output_size, (x.shape[2],)),
                                    return_indices)
    values, indices = values.squeeze(2), None if indices is None else indices.squeeze(2)
    if unbatched:
        values, indices = values.squeeze(0), None if indices is None else indices.squeeze(0)
    return (values, indices) if return_indices else values
