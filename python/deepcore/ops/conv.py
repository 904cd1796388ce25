"""conv2d (NCHW, cross-correlation like PyTorch) forward and backward on the native kernels."""
from ..autograd import Function
from ..tensor import Tensor
from ._checks import check_float_tensor, pair


def _check_conv_args(op, x, weight, bias, groups, weight_layout):
    """Types, dtypes, devices and ranks of a convolution's operands, and groups."""
    check_float_tensor(op, "input", x)
    check_float_tensor(op, "weight", weight)
    if bias is not None:
        check_float_tensor(op, "bias", bias)
    for what, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.dtype is not x.dtype:
            raise TypeError(f"{op}: input is {x.dtype.name} but {what} is {t.dtype.name}")
        if t is not None and t.device != x.device:
            raise ValueError(f"{op}: input is on {x.device} but {what} is on {t.device}")
    if x.ndim not in (3, 4):
        raise ValueError(f"{op}: expected a 4-D input (N, C, H, W) or a 3-D unbatched one (C, H, W), got shape "
                         f"{tuple(x.shape)}")
    if weight.ndim != 4:
        raise ValueError(f"{op}: expected a 4-D weight {weight_layout}, got shape {tuple(weight.shape)}")
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")


class Conv2d(Function):
    """padding is (top, bottom, left, right); the kernels take it as it is."""

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, dilation, groups):
        ctx.save_for_backward(x, weight)
        ctx.args = (list(stride), list(padding), list(dilation), groups)
        nd = x._backend.conv2d_forward(x._data, weight._data, None if bias is None else bias._data, *ctx.args)
        return Tensor._make(nd)

    @staticmethod
    def backward(ctx, g):
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        gx = gw = gb = None
        if need_x:
            gx = Tensor._make(g._backend.conv2d_backward_input(g._data, weight._data, list(x.shape), *ctx.args))
        if need_w:
            w_nd, b_nd = g._backend.conv2d_backward_weight(g._data, x._data, list(weight.shape), need_b, *ctx.args)
            gw = Tensor._make(w_nd)
            gb = Tensor._make(b_nd) if need_b else None
        elif need_b:
            gb = g.sum((0, 2, 3))
        return gx, gw, gb, None, None, None, None


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution of x (N, C, H, W) or (C, H, W) with weight (O, C/groups, kh, kw).

    stride, dilation: int or pair; padding: int, pair, 'valid' or 'same'
    (stride 1 only; an even kernel pads one more at the bottom/right, as in PyTorch).
    """
    op = "conv2d"
    _check_conv_args(op, x, weight, bias, groups, "(out_channels, in_channels/groups, kh, kw)")
    unbatched = x.ndim == 3
    if unbatched:
        x = x.unsqueeze(0)
    out_ch, in_per_group, kh, kw = weight.shape
    channels = x.shape[1]
    if in_per_group * groups != channels:
        raise ValueError(f"{op}: input has {channels} channels but weight expects {in_per_group * groups} "
                         f"(input shape {tuple(x.shape)}, weight shape {tuple(weight.shape)}, groups {groups})")
    if out_ch % groups:
        raise ValueError(f"{op}: weight has {out_ch} output channels, which groups={groups} does not divide")
    if bias is not None and tuple(bias.shape) != (out_ch,):
        raise ValueError(f"{op}: bias must have shape ({out_ch},) to match the weight, got {tuple(bias.shape)}")
    stride = pair(stride, "stride", op, 1)
    dilation = pair(dilation, "dilation", op, 1)
    span = (dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1)
    if isinstance(padding, str):
        if padding == "valid":
            pads = (0, 0, 0, 0)
        elif padding == "same":
            if stride != (1, 1):
                raise ValueError(f"{op}: padding='same' is not supported for strided convolutions "
                                 f"(stride {stride})")
            total = (span[0] - 1, span[1] - 1)
            pads = (total[0] // 2, total[0] - total[0] // 2, total[1] // 2, total[1] - total[1] // 2)
        else:
            raise ValueError(f"{op}: padding must be 'valid', 'same', an int or a pair, got {padding!r}")
    else:
        ph, pw = pair(padding, "padding", op, 0)
        pads = (ph, ph, pw, pw)
    padded = (x.shape[2] + pads[0] + pads[1], x.shape[3] + pads[2] + pads[3])
    if padded[0] < span[0] or padded[1] < span[1]:
        raise ValueError(f"{op}: the padded input {padded} is smaller than the (dilated) kernel {span} "
                         f"(input shape {tuple(x.shape)}, weight shape {tuple(weight.shape)}, padding {padding!r})")
    out = Conv2d.apply(x, weight, bias, stride, pads, dilation, groups)
    return out.squeeze(0) if unbatched else out


class ConvTranspose2d(Function):
    """The adjoint of conv2d(., weight): conv2d's input gradient, run forward. weight is (C_in, C_out/groups,
    kh, kw), the conv2d weight that maps the output back onto the input; padding is (top, bottom, left,
    right) of that conv2d."""

    @staticmethod
    def forward(ctx, x, weight, bias, out_hw, stride, padding, dilation, groups):
        ctx.save_for_backward(x, weight)
        ctx.args = (list(stride), list(padding), list(dilation), groups)
        ctx.has_bias = bias is not None
        out_shape = [x.shape[0], weight.shape[1] * groups, out_hw[0], out_hw[1]]
        y = Tensor._make(x._backend.conv2d_backward_input(x._data, weight._data, out_shape, *ctx.args))
        return y + bias.reshape(1, -1, 1, 1) if bias is not None else y

    @staticmethod
    def backward(ctx, g):
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        gx = gw = gb = None
        if need_x:  # the adjoint of the adjoint: conv2d itself
            gx = Tensor._make(g._backend.conv2d_forward(g._data, weight._data, None, *ctx.args))
        if need_w:  # conv2d's weight gradient with the roles of its input (g) and output gradient (x) swapped
            gw = Tensor._make(g._backend.conv2d_backward_weight(x._data, g._data, list(weight.shape), False,
                                                                *ctx.args)[0])
        if need_b and ctx.has_bias:
            gb = g.sum((0, 2, 3))
        return gx, gw, gb, None, None, None, None, None


def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1,
                     _pads=None, _out_hw=None):
    """Transposed 2-D convolution (PyTorch's conv_transpose2d) of x (N, C_in, H, W) or (C_in, H, W) with
    weight (C_in, C_out/groups, kh, kw): H_out = (H - 1) * stride - 2 * padding + dilation * (kh - 1) +
    output_padding + 1. (_pads, _out_hw: an explicit (top, bottom, left, right) padding and output size,
    for Keras' 'same' rule.)"""
    op = "conv_transpose2d"
    _check_conv_args(op, x, weight, bias, groups, "(in_channels, out_channels/groups, kh, kw)")
    unbatched = x.ndim == 3
    if unbatched:
        x = x.unsqueeze(0)
    in_ch, out_per_group, kh, kw = weight.shape
    if x.shape[1] != in_ch:
        raise ValueError(f"{op}: input has {x.shape[1]} channels but weight expects {in_ch} (input shape "
                         f"{tuple(x.shape)}, weight shape {tuple(weight.shape)})")
    if in_ch % groups:
        raise ValueError(f"{op}: weight has {in_ch} input channels, which groups={groups} does not divide")
    if bias is not None and tuple(bias.shape) != (out_per_group * groups,):
        raise ValueError(f"{op}: bias must have shape ({out_per_group * groups},), got {tuple(bias.shape)}")
    stride = pair(stride, "stride", op, 1)
    dilation = pair(dilation, "dilation", op, 1)
    span = (dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1)
    if _pads is None:
        ph, pw = pair(padding, "padding", op, 0)
        oph, opw = pair(output_padding, "output_padding", op, 0)
        for o, s, d in ((oph, stride[0], dilation[0]), (opw, stride[1], dilation[1])):
            if o >= max(s, d):
                raise ValueError(f"{op}: output_padding {output_padding!r} must be smaller than the stride "
                                 f"{stride} or the dilation {dilation}")
        _pads = (ph, ph, pw, pw)
        _out_hw = ((x.shape[2] - 1) * stride[0] - 2 * ph + span[0] + oph,
                   (x.shape[3] - 1) * stride[1] - 2 * pw + span[1] + opw)
    if _out_hw[0] < 1 or _out_hw[1] < 1:
        raise ValueError(f"{op}: the padding {padding!r} leaves no output (input shape {tuple(x.shape)}, weight "
                         f"shape {tuple(weight.shape)}, stride {stride})")
    out = ConvTranspose2d.apply(x, weight, bias, tuple(_out_hw), stride, tuple(_pads), dilation, groups)
    return out.squeeze(0) if unbatched else out
