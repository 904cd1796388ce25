"""Max/avg pooling (1-d, 2-d, adaptive) and Upsample (nearest) on deepcore.ops.pool."""
from ...ops._checks import single, unsupported
from .. import functional as F
from .module import Module


class _MaxPoolNd(Module):
    """MaxPool1d / MaxPool2d: the same arguments, checks and repr; `_pool` names the functional op."""
    _pool = ""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode
        unsupported(type(self).__name__, dilation=(dilation, 1), ceil_mode=(ceil_mode, False),
                    return_indices=(return_indices, False))

    def forward(self, input):
        return getattr(F, self._pool)(input, self.kernel_size, self.stride, self.padding)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool2d(_MaxPoolNd):
    _pool = "max_pool2d"


class AvgPool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override
        unsupported("AvgPool2d", ceil_mode=(ceil_mode, False), count_include_pad=(count_include_pad, True),
                       divisor_override=(divisor_override, None))

    def forward(self, input):
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class Upsample(Module):
    """Nearest-neighbour upsampling by an integer scale_factor (or to an integer multiple size)."""

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None,
                 recompute_scale_factor=None):
        super().__init__()
        if mode != "nearest":
            raise NotImplementedError(f"Upsample: mode={mode!r} is not supported (only 'nearest')")
        self.size = size
        self.scale_factor = float(scale_factor) if isinstance(scale_factor, (int, float)) else scale_factor
        self.mode = mode
        self.align_corners = align_corners

    def forward(self, input):
        return F.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners)

    def extra_repr(self):
        if self.scale_factor is not None:
            return f"scale_factor={self.scale_factor}, mode='{self.mode}'"
        return f"size={self.size}, mode='{self.mode}'"


class MaxPool1d(_MaxPoolNd):
    _pool = "max_pool1d"


class AvgPool1d(Module):
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        super().__init__()
        op = "AvgPool1d"  # PyTorch stores these as 1-tuples (its repr shows them so)
        self.kernel_size = (single(kernel_size, "kernel_size", op, 1),)
        self.stride = self.kernel_size if stride is None or stride == [] or stride == () else \
            (single(stride, "stride", op, 1),)
        self.padding = (single(padding, "padding", op),)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        unsupported(op, ceil_mode=(ceil_mode, False), count_include_pad=(count_include_pad, True))

    def forward(self, input):
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _AdaptivePool(Module):
    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptivePool):
    """Mean over PyTorch's adaptive bins: (N, C, L) -> (N, C, output_size)."""

    def forward(self, input):
        return F.adaptive_avg_pool1d(input, self.output_size)


class AdaptiveAvgPool2d(_AdaptivePool):
    """Mean over PyTorch's adaptive bins: (N, C, H, W) -> (N, C, *output_size); a None entry keeps that size."""

    def forward(self, input):
        return F.adaptive_avg_pool2d(input, self.output_size)


class AdaptiveMaxPool1d(_AdaptivePool):
    """Max over PyTorch's adaptive bins; return_indices=True also returns each maximum's position."""

    def __init__(self, output_size, return_indices=False):
        super().__init__(output_size)
        self.return_indices = return_indices

    def forward(self, input):
        return F.adaptive_max_pool1d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool2d(_AdaptivePool):
    """Max over PyTorch's adaptive bins; return_indices=True also returns each maximum's position in its plane."""

    def __init__(self, output_size, return_indices=False):
        super().__init__(output_size)
        self.return_indices = return_indices

    def forward(self, input):
        return F.adaptive_max_pool2d(input, self.output_size, self.return_indices)
