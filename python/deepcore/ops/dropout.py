"""Dropout on the native mask kernel (csrc/cpu/dropout.cpp); the backward reuses the mask."""
import numbers

from ..autograd import Function
from ..tensor import Tensor
from ._checks import require_float


class Dropout(Function):
    @staticmethod
    def forward(ctx, x, p):
        out, mask = x._backend.dropout(x._data, p)
        ctx.save_for_backward(Tensor._make(mask))  # freed with the graph after backward
        ctx.p = p
        return Tensor._make(out)

    @staticmethod
    def backward(ctx, g):
        mask, = ctx.saved_tensors
        return Tensor._make(g._backend.dropout_backward(g._data, mask._data, ctx.p)), None


def dropout(input, p=0.5, training=True, inplace=False):
    """Zeroes each element with probability p and scales the rest by 1 / (1 - p) when training;
    the identity otherwise. Reproducible with deepcore.manual_seed, for any thread count."""
    if not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    require_float("dropout", input)
    return Dropout.apply(input, float(p))
