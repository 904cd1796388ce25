"""Dropout on the native mask kernel (csrc/cpu/dropout.cpp); the backward reuses the mask."""
from ..autograd import Function
from ..tensor import Tensor


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
