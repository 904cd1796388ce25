"""Conv1d, Conv2d, ConvTranspose1d and ConvTranspose2d (NCL / NCHW) on deepcore.ops.conv.

padding_mode 'reflect', 'replicate' and 'circular' pad the input with F.pad first (by the padding,
or by the 'same' rule), then convolve without padding, as PyTorch does.
"""
from ...ops._checks import pair, single
from ...tensor import empty as _empty
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """What the convolutions share: the groups rule, the parameters, PyTorch's initialization and repr."""

    @staticmethod
    def _check_groups(in_channels, out_channels, groups):
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups:
            raise ValueError("out_channels must be divisible by groups")

    def _make_parameters(self, weight_shape, out_channels, bias, dtype, device):
        self.weight = Parameter(_empty(*weight_shape, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(_empty(out_channels, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.default_layer_init_(self.weight, self.bias)

    def extra_repr(self):  # PyTorch's: only what differs from the defaults
        n = len(self.kernel_size)
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if getattr(self, "output_padding", (0,) * n) != (0,) * n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _Conv(_ConvNd):
    """Conv1d and Conv2d: the checks of PyTorch's constructor, and padding_mode."""

    _spatial = 2

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode,
                 device, dtype):
        super().__init__()
        op = type(self).__name__
        self._check_groups(in_channels, out_channels, groups)
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {set(_PADDING_MODES)}, but got "
                             f"padding_mode='{padding_mode}'")
        if isinstance(padding, str) and padding not in ("valid", "same"):
            raise ValueError(f"Invalid padding string {padding!r}, should be one of {{'valid', 'same'}}")
        ntuple = (lambda v, name, low=0: (single(v, name, op, low),)) if self._spatial == 1 else \
            (lambda v, name, low=0: pair(v, name, op, low))
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = ntuple(kernel_size, "kernel_size", 1)
        self.stride = ntuple(stride, "stride", 1)
        self.padding = padding if isinstance(padding, str) else ntuple(padding, "padding")
        self.dilation = ntuple(dilation, "dilation", 1)
        self.groups, self.padding_mode = groups, padding_mode
        if padding == "same" and any(s != 1 for s in self.stride):
            raise ValueError("padding='same' is not supported for strided convolutions")
        self._reversed_padding_repeated_twice = self._border()
        self._make_parameters((out_channels, in_channels // groups) + self.kernel_size, out_channels, bias, dtype,
                              device)

    def _border(self):
        """F.pad's tuple (last dim first) for the padding of a non-'zeros' padding_mode."""
        out = []
        for i in reversed(range(len(self.kernel_size))):
            if self.padding == "valid":
                out += [0, 0]
            elif self.padding == "same":  # the extra row/column of an even kernel goes after, as in conv2d
                total = self.dilation[i] * (self.kernel_size[i] - 1)
                out += [total // 2, total - total // 2]
            else:
                out += [self.padding[i], self.padding[i]]
        return out

    def _convolve(self, fn, input, weight, bias):
        if self.padding_mode == "zeros":
            return fn(input, weight, bias, self.stride, self.padding, self.dilation, self.groups)
        padded = F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
        return fn(padded, weight, bias, self.stride, 0, self.dilation, self.groups)


class Conv1d(_Conv):
    """1-D convolution: input (N, C_in, L) or (C_in, L), weight (out_channels, in_channels / groups, k)."""

    _spatial = 1

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode,
                         device, dtype)

    def forward(self, input):
        return self._convolve(F.conv1d, input, self.weight, self.bias)


class Conv2d(_Conv):
    """2-D convolution: input (N, C_in, H, W) or (C_in, H, W), weight (out_channels, in_channels / groups,
    kh, kw)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode,
                         device, dtype)

    def forward(self, input):
        return self._convolve(F.conv2d, input, self.weight, self.bias)


class _ConvTranspose(_ConvNd):
    """ConvTranspose1d and ConvTranspose2d: weight (in_channels, out_channels / groups, *kernel_size),
    initialized as PyTorch does (its fan-in read from that layout); forward(input, output_size=None)."""

    _spatial = 2

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, output_padding, groups, bias,
                 dilation, padding_mode, device, dtype):
        super().__init__()
        op = type(self).__name__
        self._check_groups(in_channels, out_channels, groups)
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {op}, got {padding_mode!r}')
        ntuple = (lambda v, name, low=0: (single(v, name, op, low),)) if self._spatial == 1 else \
            (lambda v, name, low=0: pair(v, name, op, low))
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride = ntuple(kernel_size, "kernel_size", 1), ntuple(stride, "stride", 1)
        self.padding, self.output_padding = ntuple(padding, "padding"), ntuple(output_padding, "output_padding")
        self.dilation, self.groups, self.padding_mode = ntuple(dilation, "dilation", 1), groups, padding_mode
        self._make_parameters((in_channels, out_channels // groups) + self.kernel_size, out_channels, bias, dtype,
                              device)

    def _output_padding(self, input, output_size):
        """output_padding, or the one that gives output_size (its spatial sizes, optionally after N and C)."""
        if output_size is None:
            return self.output_padding
        n = self._spatial
        non_spatial = 2 if input.ndim == n + 2 else 1
        output_size = list(output_size)
        if len(output_size) == non_spatial + n:
            output_size = output_size[non_spatial:]
        if len(output_size) != n:
            raise ValueError(f"ConvTranspose{n}D: for {input.ndim}D input, output_size must have {n} or "
                             f"{non_spatial + n} elements (got {len(output_size)})")
        smallest = [(input.shape[non_spatial + d] - 1) * self.stride[d] - 2 * self.padding[d]
                    + self.dilation[d] * (self.kernel_size[d] - 1) + 1 for d in range(n)]
        largest = [s + self.stride[d] - 1 for d, s in enumerate(smallest)]
        for size, low, high in zip(output_size, smallest, largest):
            if not low <= size <= high:
                raise ValueError(f"requested an output size of {output_size}, but valid sizes range from {smallest} "
                                 f"to {largest} (for an input of {tuple(input.shape[non_spatial:])})")
        return tuple(size - low for size, low in zip(output_size, smallest))


class ConvTranspose1d(_ConvTranspose):
    _spatial = 1

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, output_padding, groups, bias,
                         dilation, padding_mode, device, dtype)

    def forward(self, input, output_size=None):
        return F.conv_transpose1d(input, self.weight, self.bias, self.stride, self.padding,
                                  self._output_padding(input, output_size), self.groups, self.dilation)


class ConvTranspose2d(_ConvTranspose):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, output_padding, groups, bias,
                         dilation, padding_mode, device, dtype)

    def forward(self, input, output_size=None):
        return F.conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding,
                                  self._output_padding(input, output_size), self.groups, self.dilation)
