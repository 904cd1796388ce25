"""Pooling and nearest-neighbour upsampling (NCHW) on the native kernels."""
from ..autograd import Function
from ..tensor import Tensor
from .conv import _check_float_tensor, _pair


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
    _check_float_tensor(op, "input", x)
    if x.ndim not in (3, 4):
        raise ValueError(f"{op}: expected a 4-D input (N, C, H, W) or a 3-D unbatched one (C, H, W), got shape "
                         f"{tuple(x.shape)}")
    return (x.unsqueeze(0), True) if x.ndim == 3 else (x, False)


def _pool(fn, op, x, kernel_size, stride, padding):
    x, unbatched = _batched(op, x)
    kernel = _pair(kernel_size, "kernel_size", op, 1)
    stride = kernel if stride is None or stride == [] or stride == () else _pair(stride, "stride", op, 1)
    padding = _pair(padding, "padding", op, 0)
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


def max_pool2d(x, kernel_size, stride=None, padding=0):
    """Max over kernel_size windows of x (N, C, H, W); stride defaults to kernel_size, padding counts as -inf."""
    return _pool(MaxPool2d, "max_pool2d", x, kernel_size, stride, padding)


def avg_pool2d(x, kernel_size, stride=None, padding=0):
    """Mean over kernel_size windows (zero padding counted in the mean, PyTorch's count_include_pad=True)."""
    return _pool(AvgPool2d, "avg_pool2d", x, kernel_size, stride, padding)


def upsample_nearest2d(x, scale_factor):
    """Each pixel repeated scale_factor times along H and W (int or pair of ints)."""
    op = "upsample_nearest2d"
    x, unbatched = _batched(op, x)
    if isinstance(scale_factor, float) and scale_factor.is_integer():
        scale_factor = int(scale_factor)
    if isinstance(scale_factor, (tuple, list)):
        scale_factor = tuple(int(s) if isinstance(s, float) and s.is_integer() else s for s in scale_factor)
    scale = _pair(scale_factor, "scale_factor", op, 1)
    out = UpsampleNearest2d.apply(x, scale)
    return out.squeeze(0) if unbatched else out
