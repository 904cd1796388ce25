"""Convolutions (NCHW / NCL, cross-correlation like PyTorch) on the native conv2d kernels, and the
sliding-block copies unfold (im2col) and fold (col2im).

The 1-d ops are the 2-d ones on an H = 1 view (input (N, C, 1, L), weight (O, C/groups, 1, k)),
so one set of kernels serves both. unfold/fold move pixels only, so they are strided copies and
adds (one native call per kernel tap, never per pixel), exact for any value (inf and NaN stay put,
which a product with a one-hot weight would not do).
"""
from .. import _C
from ..autograd import Function
from ..tensor import Tensor
from .._dims import contiguous_strides
from ._checks import check_float_tensor, pair, single

_ADD = _C.BinaryOp.add
_LAYOUTS = {1: ("(N, C, L)", "(C, L)"), 2: ("(N, C, H, W)", "(C, H, W)")}


def _check_conv_args(op, x, weight, bias, groups, weight_layout, spatial=2):
    """Types, dtypes, devices and ranks of a convolution's operands (`spatial` dims), and groups."""
    check_float_tensor(op, "input", x)
    check_float_tensor(op, "weight", weight)
    if bias is not None:
        check_float_tensor(op, "bias", bias)
    for what, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.dtype is not x.dtype:
            raise TypeError(f"{op}: input is {x.dtype.name} but {what} is {t.dtype.name}")
        if t is not None and t.device != x.device:
            raise ValueError(f"{op}: input is on {x.device} but {what} is on {t.device}")
    batched, unbatched = _LAYOUTS[spatial]
    if x.ndim not in (spatial + 1, spatial + 2):
        raise ValueError(f"{op}: expected a {spatial + 2}-D input {batched} or a {spatial + 1}-D unbatched one "
                         f"{unbatched}, got shape {tuple(x.shape)}")
    if weight.ndim != spatial + 2:
        raise ValueError(f"{op}: expected a {spatial + 2}-D weight {weight_layout}, got shape {tuple(weight.shape)}")
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")


def _shown(values, spatial):
    """A pair as the caller gave it: the pair itself for the 2-d ops, its W entry for the 1-d ones."""
    return values if spatial == 2 else values[1]


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


def _convolve(op, x, weight, bias, stride, padding, dilation, groups, spatial, shapes):
    """The checked conv2d call shared by conv2d and conv1d: x (N, C, H, W), weight (O, C/groups, kh, kw)
    (the 1-d ops pass H = kh = 1 views), stride and dilation pairs, padding 'valid', 'same' or a pair.
    `shapes`: the caller's input and weight shapes, which the messages show."""
    x_shape, w_shape = shapes
    out_ch, in_per_group, kh, kw = weight.shape
    channels = x.shape[1]
    if in_per_group * groups != channels:
        raise ValueError(f"{op}: input has {channels} channels but weight expects {in_per_group * groups} "
                         f"(input shape {x_shape}, weight shape {w_shape}, groups {groups})")
    if out_ch % groups:
        raise ValueError(f"{op}: weight has {out_ch} output channels, which groups={groups} does not divide")
    if bias is not None and tuple(bias.shape) != (out_ch,):
        raise ValueError(f"{op}: bias must have shape ({out_ch},) to match the weight, got {tuple(bias.shape)}")
    span = (dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1)
    if isinstance(padding, str):
        if padding == "valid":
            pads = (0, 0, 0, 0)
        elif padding == "same":
            if stride != (1, 1):
                raise ValueError(f"{op}: padding='same' is not supported for strided convolutions "
                                 f"(stride {_shown(stride, spatial)})")
            total = (span[0] - 1, span[1] - 1)
            pads = (total[0] // 2, total[0] - total[0] // 2, total[1] // 2, total[1] - total[1] // 2)
        else:
            raise ValueError(f"{op}: padding must be 'valid', 'same', an int or "
                             f"{'a pair' if spatial == 2 else 'a sequence of one int'}, got {padding!r}")
    else:
        pads = (padding[0], padding[0], padding[1], padding[1])
    padded = (x.shape[2] + pads[0] + pads[1], x.shape[3] + pads[2] + pads[3])
    if padded[0] < span[0] or padded[1] < span[1]:
        raise ValueError(f"{op}: the padded input {_shown(padded, spatial)} is smaller than the (dilated) kernel "
                         f"{_shown(span, spatial)} (input shape {x_shape}, weight shape {w_shape}, padding "
                         f"{_shown(padding, spatial) if not isinstance(padding, str) else padding!r})")
    return Conv2d.apply(x, weight, bias, stride, pads, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution of input (N, C, H, W) or (C, H, W) with weight (O, C/groups, kh, kw).

    stride, dilation: int or pair; padding: int, pair, 'valid' or 'same'
    (stride 1 only; an even kernel pads one more at the bottom/right, as in PyTorch).
    """
    op = "conv2d"
    _check_conv_args(op, input, weight, bias, groups, "(out_channels, in_channels/groups, kh, kw)")
    unbatched = input.ndim == 3
    x = input.unsqueeze(0) if unbatched else input
    stride = pair(stride, "stride", op, 1)
    dilation = pair(dilation, "dilation", op, 1)
    if not isinstance(padding, str):
        padding = pair(padding, "padding", op, 0)
    out = _convolve(op, x, weight, bias, stride, padding, dilation, groups, 2,
                    (tuple(x.shape), tuple(weight.shape)))
    return out.squeeze(0) if unbatched else out


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution of input (N, C, L) or (C, L) with weight (O, C/groups, k): conv2d on H = 1 views.

    stride, dilation: int (or a sequence of one int); padding: that, 'valid' or 'same' (stride 1 only;
    an even kernel pads one more on the right, as in PyTorch).
    """
    op = "conv1d"
    _check_conv_args(op, input, weight, bias, groups, "(out_channels, in_channels/groups, k)", spatial=1)
    unbatched = input.ndim == 2
    x = input.unsqueeze(0) if unbatched else input
    shapes = (tuple(x.shape), tuple(weight.shape))
    stride = (1, single(stride, "stride", op, 1))
    dilation = (1, single(dilation, "dilation", op, 1))
    if not isinstance(padding, str):
        padding = (0, single(padding, "padding", op, 0))
    out = _convolve(op, x.unsqueeze(2), weight.unsqueeze(2), bias, stride, padding, dilation, groups, 1, shapes)
    out = out.squeeze(2)
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


def _convolve_transpose(op, x, weight, bias, stride, padding, output_padding, groups, dilation, spatial, shapes,
                        pads=None, out_hw=None):
    """The checked transposed convolution shared by conv_transpose2d and conv_transpose1d: x (N, C_in, H, W),
    weight (C_in, C_out/groups, kh, kw) (H = kh = 1 for the 1-d op); stride, padding, output_padding and
    dilation pairs. pads / out_hw: an explicit (top, bottom, left, right) padding and output size instead."""
    x_shape, w_shape = shapes
    in_ch, out_per_group, kh, kw = weight.shape
    if x.shape[1] != in_ch:
        raise ValueError(f"{op}: input has {x.shape[1]} channels but weight expects {in_ch} (input shape "
                         f"{x_shape}, weight shape {w_shape})")
    if in_ch % groups:
        raise ValueError(f"{op}: weight has {in_ch} input channels, which groups={groups} does not divide")
    if bias is not None and tuple(bias.shape) != (out_per_group * groups,):
        raise ValueError(f"{op}: bias must have shape ({out_per_group * groups},), got {tuple(bias.shape)}")
    span = (dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1)
    if pads is None:
        for o, s, d in zip(output_padding, stride, dilation):
            if o >= max(s, d):
                raise ValueError(f"{op}: output_padding {_shown(output_padding, spatial)} must be smaller than the "
                                 f"stride {_shown(stride, spatial)} or the dilation {_shown(dilation, spatial)}")
        pads = (padding[0], padding[0], padding[1], padding[1])
        out_hw = tuple((x.shape[2 + i] - 1) * stride[i] - 2 * padding[i] + span[i] + output_padding[i]
                       for i in range(2))
    if out_hw[0] < 1 or out_hw[1] < 1:
        raise ValueError(f"{op}: the padding {_shown(padding, spatial)} leaves no output (input shape {x_shape}, "
                         f"weight shape {w_shape}, stride {_shown(stride, spatial)})")
    return ConvTranspose2d.apply(x, weight, bias, tuple(out_hw), stride, tuple(pads), dilation, groups)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1,
                     _pads=None, _out_hw=None):
    """Transposed 2-D convolution (PyTorch's conv_transpose2d) of input (N, C_in, H, W) or (C_in, H, W) with
    weight (C_in, C_out/groups, kh, kw): H_out = (H - 1) * stride - 2 * padding + dilation * (kh - 1) +
    output_padding + 1. (_pads, _out_hw: an explicit (top, bottom, left, right) padding and output size,
    for Keras' 'same' rule.)"""
    op = "conv_transpose2d"
    _check_conv_args(op, input, weight, bias, groups, "(in_channels, out_channels/groups, kh, kw)")
    unbatched = input.ndim == 3
    x = input.unsqueeze(0) if unbatched else input
    out = _convolve_transpose(op, x, weight, bias, pair(stride, "stride", op, 1), pair(padding, "padding", op, 0),
                              pair(output_padding, "output_padding", op, 0), groups,
                              pair(dilation, "dilation", op, 1), 2, (tuple(x.shape), tuple(weight.shape)),
                              _pads, _out_hw)
    return out.squeeze(0) if unbatched else out


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 1-D convolution of input (N, C_in, L) or (C_in, L) with weight (C_in, C_out/groups, k):
    conv_transpose2d on H = 1 views; L_out = (L - 1) * stride - 2 * padding + dilation * (k - 1) +
    output_padding + 1."""
    op = "conv_transpose1d"
    _check_conv_args(op, input, weight, bias, groups, "(in_channels, out_channels/groups, k)", spatial=1)
    unbatched = input.ndim == 2
    x = input.unsqueeze(0) if unbatched else input
    shapes = (tuple(x.shape), tuple(weight.shape))
    out = _convolve_transpose(op, x.unsqueeze(2), weight.unsqueeze(2), bias, (1, single(stride, "stride", op, 1)),
                              (0, single(padding, "padding", op, 0)),
                              (0, single(output_padding, "output_padding", op, 0)), groups,
                              (1, single(dilation, "dilation", op, 1)), 1, shapes)
    out = out.squeeze(2)
    return out.squeeze(0) if unbatched else out


# ---- unfold (im2col) and fold (col2im) ------------------------------------------------------------

def _tap_views(n, c, blocks, kernel, dilation, stride, strides, offset):
    """(offset, shape, strides) of each kernel tap's view of an (N, C, H, W) layout: the pixels that tap
    (ky, kx) meets at the blocks' positions, (N, C, oh, ow)."""
    (oh, ow), (kh, kw), (dh, dw), (sh, sw) = blocks, kernel, dilation, stride
    s_n, s_c, s_h, s_w = strides
    shape, tap_strides = [n, c, oh, ow], [s_n, s_c, s_h * sh, s_w * sw]
    return [(offset + ky * dh * s_h + kx * dw * s_w, shape, tap_strides) for ky in range(kh) for kx in range(kw)]


def _column_views(cols, c, blocks, taps):
    """Each tap's (N, C, oh, ow) view of the columns (N, C * taps, oh * ow), any strides."""
    s_n, s_k, s_l = cols.strides
    shape, strides = [cols.shape[0], c, blocks[0], blocks[1]], [s_n, taps * s_k, blocks[1] * s_l, s_l]
    return [_C.view(cols, shape, strides, cols.offset + t * s_k) for t in range(taps)]


def _gather_blocks(x, geometry):
    """The columns (N, C * kh * kw, L) of x (N, C, H, W): one strided copy per kernel tap."""
    kernel, dilation, padding, stride, blocks = geometry
    be, nd = x._backend, x._data
    n, c, h, w = nd.shape
    if padding != (0, 0):  # a zero border, then x in its middle
        full = [n, c, h + 2 * padding[0], w + 2 * padding[1]]
        padded = be.full_on(full, 0.0, x.dtype._c, x.device.index)
        strides = contiguous_strides(full)
        be.copy_(_C.view(padded, [n, c, h, w], list(strides), padding[0] * strides[2] + padding[1]), nd)
        nd = padded
    taps = kernel[0] * kernel[1]
    cols = be.empty_on([n, c * taps, blocks[0] * blocks[1]], x.dtype._c, x.device.index)
    views = _tap_views(n, c, blocks, kernel, dilation, stride, list(nd.strides), nd.offset)
    for dst, (offset, shape, strides) in zip(_column_views(cols, c, blocks, taps), views):
        be.copy_(dst, _C.view(nd, shape, strides, offset))
    return Tensor._make(cols)


def _scatter_blocks(cols, image_shape, geometry):
    """The image (N, C, H, W) whose blocks are the columns (N, C * kh * kw, L), overlaps summed: one
    strided add per kernel tap into a zero (padded) image, whose middle is returned."""
    kernel, dilation, padding, stride, blocks = geometry
    be = cols._backend
    n, c, h, w = image_shape
    full = [n, c, h + 2 * padding[0], w + 2 * padding[1]]
    image = be.full_on(full, 0.0, cols.dtype._c, cols.device.index)
    strides = list(contiguous_strides(full))
    taps = kernel[0] * kernel[1]
    views = _tap_views(n, c, blocks, kernel, dilation, stride, strides, 0)
    for src, (offset, shape, tap_strides) in zip(_column_views(cols._data, c, blocks, taps), views):
        dst = _C.view(image, shape, tap_strides, offset)
        be.binary(_ADD, dst, src, dst)
    if padding != (0, 0):
        image = _C.view(image, [n, c, h, w], strides, padding[0] * strides[2] + padding[1])
    return Tensor._make(image)


class Unfold(Function):
    """x (N, C, H, W) -> its sliding blocks as columns (N, C * kh * kw, L); the backward is fold."""

    @staticmethod
    def forward(ctx, x, geometry):
        ctx.image_shape, ctx.geometry = tuple(x.shape), geometry
        return _gather_blocks(x, geometry)

    @staticmethod
    def backward(ctx, g):
        return _scatter_blocks(g, ctx.image_shape, ctx.geometry), None


class Fold(Function):
    """Columns (N, C * kh * kw, L) -> the image (N, C, H, W) they are the blocks of (overlaps summed);
    the backward is unfold."""

    @staticmethod
    def forward(ctx, cols, image_shape, geometry):
        ctx.geometry = geometry
        return _scatter_blocks(cols, image_shape, geometry)

    @staticmethod
    def backward(ctx, g):
        return _gather_blocks(g, ctx.geometry), None, None


def _block_geometry(op, what, size, kernel_size, dilation, padding, stride):
    """(kernel, dilation, padding, stride, blocks) as pairs; blocks = the number of block positions
    along H and W, which must both be at least one."""
    kernel = pair(kernel_size, "kernel_size", op, 1)
    dilation = pair(dilation, "dilation", op, 1)
    padding = pair(padding, "padding", op, 0)
    stride = pair(stride, "stride", op, 1)
    # int(... / s): C's division, truncating towards zero, so the message shows PyTorch's numbers
    blocks = tuple(int((size[i] + 2 * padding[i] - dilation[i] * (kernel[i] - 1) - 1) / stride[i]) + 1
                   for i in range(2))
    if min(blocks) < 1 or any(size[i] + 2 * padding[i] < dilation[i] * (kernel[i] - 1) + 1 for i in range(2)):
        raise ValueError(f"{op}: given {what} {tuple(size)}, kernel_size={kernel}, dilation={dilation}, padding="
                         f"{padding}, stride={stride}, the calculated shape of the array of sliding blocks is "
                         f"{blocks}, but its components must be at least one")
    return kernel, dilation, padding, stride, blocks


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding blocks (im2col) of input (N, C, H, W) or (C, H, W) as columns (N, C * kh * kw, L), L = the
    number of block positions; column entries are ordered (channel, ky, kx) as in PyTorch."""
    op = "unfold"
    check_float_tensor(op, "input", input)
    if input.ndim not in (3, 4):
        raise ValueError(f"{op}: expected a 4-D input (N, C, H, W) or a 3-D unbatched one (C, H, W), got shape "
                         f"{tuple(input.shape)}")
    unbatched = input.ndim == 3
    x = input.unsqueeze(0) if unbatched else input
    geometry = _block_geometry(op, "input with spatial size", x.shape[2:], kernel_size, dilation, padding, stride)
    out = Unfold.apply(x, geometry)
    return out.squeeze(0) if unbatched else out


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """The image (N, C, *output_size) whose sliding blocks are the columns of input (N, C * kh * kw, L) or
    (C * kh * kw, L) (col2im): overlapping entries are summed, so fold(unfold(x)) counts each pixel once
    per block that holds it."""
    op = "fold"
    check_float_tensor(op, "input", input)
    if input.ndim not in (2, 3):
        raise ValueError(f"{op}: expected a 3-D input (N, C * kh * kw, L) or a 2-D unbatched one (C * kh * kw, L), "
                         f"got shape {tuple(input.shape)}")
    unbatched = input.ndim == 2
    x = input.unsqueeze(0) if unbatched else input
    size = pair(output_size, "output_size", op, 1)
    geometry = _block_geometry(op, "output_size", size, kernel_size, dilation, padding, stride)
    kernel, blocks = geometry[0], geometry[4]
    taps = kernel[0] * kernel[1]
    if x.shape[1] % taps:
        raise ValueError(f"{op}: expected size of input's dimension 1 to be divisible by the product of "
                         f"kernel_size, but got input.size(1)={x.shape[1]} and kernel_size={kernel}")
    if x.shape[2] != blocks[0] * blocks[1]:
        raise ValueError(f"{op}: given output_size={size}, kernel_size={kernel}, dilation={geometry[1]}, padding="
                         f"{geometry[2]}, stride={geometry[3]}, expected size of input's dimension 2 to match the "
                         f"calculated number of sliding blocks {blocks[0]} * {blocks[1]} = {blocks[0] * blocks[1]}, "
                         f"but got input.size(2)={x.shape[2]}")
    out = Fold.apply(x, (x.shape[0], x.shape[1] // taps) + size, geometry)
    return out.squeeze(0) if unbatched else out
