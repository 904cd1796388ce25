"""softmax and log_softmax over one dimension (numerically stable kernels)."""
import warnings

from ..autograd import Function
from ..tensor import Tensor
from ._util import normalize_dim


class Softmax(Function):
    @staticmethod
    def forward(ctx, x, dim):
        out = Tensor._make(x._backend.softmax(x._data, dim))
        ctx.save_for_backward(out)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx, g):
        out, = ctx.saved_tensors
        return Tensor._make(g._backend.softmax_backward(g._data, out._data, ctx.dim)), None


class LogSoftmax(Function):
    @staticmethod
    def forward(ctx, x, dim):
        out = Tensor._make(x._backend.log_softmax(x._data, dim))
        ctx.save_for_backward(out)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx, g):
        out, = ctx.saved_tensors
        return Tensor._make(g._backend.log_softmax_backward(g._data, out._data, ctx.dim)), None


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
