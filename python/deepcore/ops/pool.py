"""Pooling and nearest-neighbour upsampling (NCHW) on the native kernels."""
from ..autograd import Function
from ..tensor import Tensor
from ._checks import check_float_tensor, check_tensor, pair, unsupported


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
