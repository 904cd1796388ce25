"""softmax and log_softmax over one dimension (numerically stable kernels)."""
import warnings

from ..autograd import Function
from ..tensor import Tensor
from .._dims import normalize_dim


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
