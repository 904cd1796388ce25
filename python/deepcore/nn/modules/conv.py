"""Conv2d and ConvTranspose2d (NCHW) on deepcore.ops.conv."""
from ...ops._checks import pair
from ...tensor import empty as _empty
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module


class _ConvNd(Module):
    """What Conv2d and ConvTranspose2d share: the groups rule, the parameters, PyTorch's initialization."""

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
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            s += f", padding={self.padding!r}" if isinstance(self.padding, str) else f", padding={self.padding}"
        if getattr(self, "output_padding", (0, 0)) != (0, 0):
            s += f", output_padding={self.output_padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


class Conv2d(_ConvNd):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", device=None, dtype=None):
        super().__init__()
        self._check_groups(in_channels, out_channels, groups)
        if padding_mode != "zeros":
            raise NotImplementedError(f"Conv2d: padding_mode={padding_mode!r} is not supported (only 'zeros')")
        if isinstance(padding, str) and padding not in ("valid", "same"):
            raise ValueError(f"Invalid padding string {padding!r}, should be one of {{'valid', 'same'}}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = pair(kernel_size, "kernel_size", "Conv2d", 1)
        self.stride = pair(stride, "stride", "Conv2d", 1)
        self.padding = padding if isinstance(padding, str) else pair(padding, "padding", "Conv2d")
        self.dilation = pair(dilation, "dilation", "Conv2d", 1)
        self.groups = groups
        self.padding_mode = padding_mode
        if isinstance(padding, str) and padding == "same" and self.stride != (1, 1):
            raise ValueError("padding='same' is not supported for strided convolutions")
        self._make_parameters((out_channels, in_channels // groups) + self.kernel_size, out_channels, bias, dtype,
                              device)

    def forward(self, input):
        return F.conv2d(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)



class ConvTranspose2d(_ConvNd):
    """PyTorch's ConvTranspose2d: weight (in_channels, out_channels / groups, kh, kw), initialized as
    PyTorch does (its fan-in read from that layout)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        super().__init__()
        self._check_groups(in_channels, out_channels, groups)
        if padding_mode != "zeros":
            raise ValueError(f"Only 'zeros' padding mode is supported for ConvTranspose2d, got {padding_mode!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        op = "ConvTranspose2d"
        self.kernel_size, self.stride = pair(kernel_size, "kernel_size", op, 1), pair(stride, "stride", op, 1)
        self.padding = pair(padding, "padding", op)
        self.output_padding = pair(output_padding, "output_padding", op)
        self.dilation, self.groups, self.padding_mode = pair(dilation, "dilation", op, 1), groups, padding_mode
        self._make_parameters((in_channels, out_channels // groups) + self.kernel_size, out_channels, bias, dtype,
                              device)

    def forward(self, input, output_size=None):
        if output_size is not None:
            raise NotImplementedError("ConvTranspose2d: output_size is not supported; set output_padding")
        return F.conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding, self.output_padding,
                                  self.groups, self.dilation)

