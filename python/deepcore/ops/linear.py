"""The dense layer, y = act(x @ w^T + b), as one native call with the bias
(and optionally ReLU) fused around the GEMM."""
from ..autograd import Function
from ..tensor import Tensor
from ._checks import check_tensor


class Linear(Function):
    @staticmethod
    def forward(ctx, x, weight, bias, relu):
        out = Tensor._make(x._backend.linear_forward(x._data, weight._data,
                                                     bias._data if bias is not None else None, relu))
        ctx.save_for_backward(x, weight, out if relu else None)
        ctx.relu, ctx.has_bias = relu, bias is not None
        return out

    @staticmethod
    def backward(ctx, g):
        x, weight, out = ctx.saved_tensors
        if ctx.relu:  # out > 0 exactly where the pre-activation was > 0
            g = Tensor._make(g._backend.leaky_relu_backward(g._data, out._data, 0.0))
        gx = g.mm(weight) if ctx.needs_input_grad[0] else None
        gw = None
        if ctx.needs_input_grad[1]:
            # In the weight's own memory order: Keras' kernel (in, out) arrives as kernel.t(), and its
            # gradient computed as x^T g reaches the kernel contiguous (kept as .grad with no copy).
            transposed = weight._data.strides == (1, weight.shape[0])
            gw = x.t().mm(g).t() if transposed else g.t().mm(x)
        gb = g.sum(0) if ctx.has_bias and ctx.needs_input_grad[2] else None
        return gx, gw, gb, None


def linear(x, weight, bias=None, relu=False):
    """x (..., in) @ weight(out, in)^T + bias(out), then ReLU when `relu`."""
    check_tensor("linear", "input", x)
    check_tensor("linear", "weight", weight)
    if x.ndim == 0 or x.shape[-1] != weight.shape[-1] or weight.ndim != 2:
        raise ValueError(f"linear: input of shape {tuple(x.shape)} does not fit a weight of shape "
                         f"{tuple(weight.shape)} (the last input dimension must be {weight.shape[-1]})")
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise ValueError(f"linear: bias of shape {tuple(bias.shape)}, expected ({weight.shape[0]},)")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and (t.device != x.device or t.dtype is not x.dtype):
            raise ValueError(f"linear: {name} is {t.dtype.name} on {t.device} but the input is {x.dtype.name} on "
                             f"{x.device}")
    if not hasattr(x._backend, "linear_forward") or x._backend.name != "cpu":
        out = x.matmul(weight.t())  # engines without the fused kernel
        out = out + bias if bias is not None else out
        return out.relu() if relu else out
    lead = tuple(x.shape[:-1])
    rows = 1
    for n in lead:
        rows *= n
    x2 = x if x.ndim == 2 else x.reshape(rows, x.shape[-1])   # not -1: ambiguous when in_features is 0
    out = Linear.apply(x2, weight, bias, bool(relu))
    return out if x.ndim == 2 else out.reshape(lead + (weight.shape[0],))
