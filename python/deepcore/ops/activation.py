"""The activation family: softmax / log_softmax / softmin over one dimension (numerically stable
kernels), the pointwise activations of ``torch.nn.functional`` (elu ... threshold) on one native
kernel pair, PReLU, and the in-place form (``inplace=True``) they share with relu and dropout."""
import numbers
import warnings

from ..autograd import Function, is_grad_enabled
from ..tensor import Tensor
from .._dims import normalize_dim
from ._checks import check_tensor, require_float
from ._inplace import check_writable
from .elementwise import where


class _SoftmaxFamily(Function):
    """softmax / log_softmax over `dim`: backward needs only the output."""
    forward_kernel = backward_kernel = None

    @classmethod
    def forward(cls, ctx, x, dim):
        out = Tensor._make(getattr(x._backend, cls.forward_kernel)(x._data, dim))
        ctx.save_for_backward(out)
        ctx.dim = dim
        return out

    @classmethod
    def backward(cls, ctx, g):
        out, = ctx.saved_tensors
        return Tensor._make(getattr(g._backend, cls.backward_kernel)(g._data, out._data, ctx.dim)), None


class Softmax(_SoftmaxFamily):
    forward_kernel, backward_kernel = "softmax", "softmax_backward"


class LogSoftmax(_SoftmaxFamily):
    forward_kernel, backward_kernel = "log_softmax", "log_softmax_backward"


def _softmax_dim(x, dim, name):
    if not x.dtype.is_floating_point:
        raise TypeError(f"{name}: expected a float32 or float64 tensor, got {x.dtype.name}")
    if dim is None:
        # PyTorch's legacy choice, which the lecture's listing relies on (F.log_softmax(x) on a batch).
        warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X "
                      f"as an argument.", UserWarning, stacklevel=3)
        dim = 0 if x.ndim in (0, 1, 3) else 1
    return normalize_dim(dim, x.ndim, name)


def softmax(x, dim=None):
    return Softmax.apply(x, _softmax_dim(x, dim, "softmax"))


def log_softmax(x, dim=None):
    return LogSoftmax.apply(x, _softmax_dim(x, dim, "log_softmax"))


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-input) over `dim`; implicit dim as in softmax."""
    check_tensor("softmin", "input", input)
    if dtype is not None:
        input = input.to(dtype)
    dim = _softmax_dim(input, dim, "softmin")
    return Softmax.apply(-input, dim)


# ---- the in-place form ------------------------------------------------------------------

def write_in_place(op, input, compute, saves_input=True):
    """PyTorch's ``inplace=True``: compute(input)'s values are written into input's memory and input
    takes the result's place in the graph (as Tensor.add_ does), so a script that ignores the return
    value sees the same tensor PyTorch would. When the graph records, the op is given a copy of input
    if it saves its input for backward (saves_input), since input itself is overwritten."""
    tracked = is_grad_enabled() and input.requires_grad
    if tracked and input.is_leaf:
        raise RuntimeError(f"{op}: a leaf Variable that requires grad is being used in an in-place operation "
                           f"(shape {tuple(input.shape)}); use inplace=False or wrap it in deepcore.no_grad()")
    check_writable(op if op.endswith("_") else op + "_", input)  # before computing: names relu_, not copy_
    result = compute(input.clone() if tracked and saves_input else input)
    input._backend.copy_(input._data, result._data)
    if tracked:
        input.grad_fn, input._output_nr, input._requires_grad = result.grad_fn, result._output_nr, True
    return input


# ---- pointwise activations --------------------------------------------------------------

class PointwiseActivation(Function):
    """elu, selu, celu, gelu, silu, mish, softplus, hardtanh (relu6), hardsigmoid, hardswish, logsigmoid,
    softsign and threshold: one native kernel each way, chosen by `kind` and two numbers a, b whose
    meaning per kind csrc/cpu/activation.h lists. The backward needs only the input."""

    @staticmethod
    def forward(ctx, x, kind, a, b):
        ctx.save_for_backward(x)
        ctx.args = kind, a, b
        return Tensor._make(x._backend.activation(x._data, kind, a, b))

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return Tensor._make(g._backend.activation_backward(g._data, x._data, *ctx.args)), None, None, None


def _number(op, name, value):
    if isinstance(value, Tensor) and value.numel() == 1:
        value = value.item()
    if not isinstance(value, numbers.Real):
        raise TypeError(f"{op}: argument '{name}' must be a number, not {type(value).__name__}")
    return float(value)


def _pointwise(op, input, kind, a=0.0, b=0.0, inplace=False):
    check_tensor(op, "input", input)
    require_float(op, input)
    if inplace:
        return write_in_place(op, input, lambda x: PointwiseActivation.apply(x, kind, a, b))
    return PointwiseActivation.apply(input, kind, a, b)


def elu(input, alpha=1.0, inplace=False):
    """x if x > 0 else alpha (exp(x) - 1)."""
    return _pointwise("elu", input, "elu", _number("elu", "alpha", alpha), inplace=inplace)


def selu(input, inplace=False):
    """scale * elu(x, alpha) with scale = 1.0507..., alpha = 1.6732... (self-normalizing nets)."""
    return _pointwise("selu", input, "selu", inplace=inplace)


def celu(input, alpha=1.0, inplace=False):
    """x if x > 0 else alpha (exp(x / alpha) - 1): elu, continuously differentiable for any alpha."""
    alpha = _number("celu", "alpha", alpha)
    if alpha == 0:
        raise RuntimeError("celu: ZeroDivisionError: alpha cannot be 0 for CELU")
    return _pointwise("celu", input, "celu", alpha, inplace=inplace)


def gelu(input, *, approximate="none"):
    """x * Phi(x), Phi the standard normal CDF; approximate='tanh' is the tanh formula of GPT-2/BERT."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"gelu: approximate argument must be either none or tanh, got {approximate!r}")
    return _pointwise("gelu", input, "gelu" if approximate == "none" else "gelu_tanh")


def silu(input, inplace=False):
    """x * sigmoid(x) (swish)."""
    return _pointwise("silu", input, "silu", inplace=inplace)


def mish(input, inplace=False):
    """x * tanh(softplus(x))."""
    return _pointwise("mish", input, "mish", inplace=inplace)


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold (PyTorch's linear region)."""
    return _pointwise("softplus", input, "softplus", _number("softplus", "beta", beta),
                      _number("softplus", "threshold", threshold))


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """clamp(x, min_val, max_val); the gradient is 0 at and beyond the bounds."""
    lo, hi = _number("hardtanh", "min_val", min_val), _number("hardtanh", "max_val", max_val)
    if lo > hi:
        raise ValueError(f"hardtanh: min_val cannot be greater than max_val (got {min_val} > {max_val})")
    return _pointwise("hardtanh", input, "hardtanh", lo, hi, inplace=inplace)


def relu6(input, inplace=False):
    """min(max(x, 0), 6): hardtanh(x, 0, 6)."""
    return _pointwise("relu6", input, "hardtanh", 0.0, 6.0, inplace=inplace)


def hardsigmoid(input, inplace=False):
    """clamp(x + 3, 0, 6) / 6."""
    return _pointwise("hardsigmoid", input, "hardsigmoid", inplace=inplace)


def hardswish(input, inplace=False):
    """x * clamp(x + 3, 0, 6) / 6 (MobileNetV3)."""
    return _pointwise("hardswish", input, "hardswish", inplace=inplace)


def logsigmoid(input):
    """log(sigmoid(x)), computed as min(x, 0) - log(1 + exp(-|x|)): finite for any x."""
    return _pointwise("logsigmoid", input, "logsigmoid")


def softsign(input):
    """x / (1 + |x|)."""
    return _pointwise("softsign", input, "softsign")


def threshold(input, threshold, value, inplace=False):
    """value where x <= threshold, else x."""
    return _threshold(input, threshold, value, inplace)


def _threshold(input, threshold, value, inplace):
    return _pointwise("threshold", input, "threshold", _number("threshold", "threshold", threshold),
                      _number("threshold", "value", value), inplace=inplace)


def elu_(input, alpha=1.0):
    return elu(input, alpha, inplace=True)


def selu_(input):
    return selu(input, inplace=True)


def celu_(input, alpha=1.0):
    return celu(input, alpha, inplace=True)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return hardtanh(input, min_val, max_val, inplace=True)


def threshold_(input, threshold, value):
    return _threshold(input, threshold, value, True)


def prelu(input, weight):
    """max(0, x) + weight * min(0, x), weight a scalar or one value per channel (dim 1 of input); composed
    of where and mul, so weight's gradient is their autograd's (summed over all but the channel dim)."""
    check_tensor("prelu", "input", input)
    check_tensor("prelu", "weight", weight)
    require_float("prelu", input)
    if weight.ndim > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {weight.ndim}")
    channels = input.shape[1] if input.ndim >= 2 else 1
    if weight.numel() != 1 and weight.numel() != channels:
        raise RuntimeError(f"prelu: Mismatch of parameter numbers and input channel size. Found parameter numbers = "
                           f"{weight.numel()} and channel size = {channels}.")
    if weight.numel() == 1:
        w = weight.reshape(())
    else:  # (C,) -> (C, 1, ..., 1) against input's (N, C, ...)
        w = weight.reshape((channels,) + (1,) * (input.ndim - 2))
    return where(input > 0, input, w * input)
