"""conv2d (NCHW, cross-correlation like PyTorch) forward and backward on the native kernels."""
from ..autograd import Function
from ..tensor import Tensor


def _pair(value, name, op, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, tuple, list)):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in pair):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    if any(v < minimum for v in pair):
        raise ValueError(f"{op}: {name} must be {'positive' if minimum else 'non-negative'}, got {value!r}")
    return pair


def _check_float_tensor(op, what, t):
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: {what} must be a Tensor, got {type(t).__name__}")
    if not t.dtype.is_floating_point:
        raise TypeError(f"{op}: {what} must be float32 or float64, got {t.dtype.name}")


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
    _check_float_tensor(op, "input", x)
    _check_float_tensor(op, "weight", weight)
    if bias is not None:
        _check_float_tensor(op, "bias", bias)
    for what, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.dtype is not x.dtype:
            raise TypeError(f"{op}: input is {x.dtype.name} but {what} is {t.dtype.name}")
        if t is not None and t.device != x.device:
            raise ValueError(f"{op}: input is on {x.device} but {what} is on {t.device}")
    if x.ndim not in (3, 4):
        raise ValueError(f"{op}: expected a 4-D input (N, C, H, W) or a 3-D unbatched one (C, H, W), got shape "
                         f"{tuple(x.shape)}")
    if weight.ndim != 4:
        raise ValueError(f"{op}: expected a 4-D weight (out_channels, in_channels/groups, kh, kw), got shape "
                         f"{tuple(weight.shape)}")
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
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
    stride = _pair(stride, "stride", op, 1)
    dilation = _pair(dilation, "dilation", op, 1)
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
        ph, pw = _pair(padding, "padding", op, 0)
        pads = (ph, ph, pw, pw)
    padded = (x.shape[2] + pads[0] + pads[1], x.shape[3] + pads[2] + pads[3])
    if padded[0] < span[0] or padded[1] < span[1]:
        raise ValueError(f"{op}: the padded input {padded} is smaller than the (dilated) kernel {span} "
                         f"(input shape {tuple(x.shape)}, weight shape {tuple(weight.shape)}, padding {padding!r})")
    out = Conv2d.apply(x, weight, bias, stride, pads, dilation, groups)
    return out.squeeze(0) if unbatched else out
