"""Scans along one dimension (csrc/cpu/scan.cpp): cumsum, cumprod, and prod, the last row of a scan.

cumsum's backward is a reversed cumsum of the gradient; cumprod's is one native pass that needs no
division, so zeros in the input get their exact gradient (PyTorch's answer, not 0/0). prod reuses it:
the product over a dim is the last element of the running product, and its gradient is cumprod's
for a gradient that is zero except in that last element.
"""
from ..autograd import Function
from ..dtypes import as_dtype, int64
from ..tensor import Tensor
from .._dims import normalize_dim
from ._checks import check_tensor


def _scan_input(op, x, dim, dtype):
    """x as the dtype the scan runs in (bool and int64 -> int64, as in PyTorch) and dim normalized."""
    check_tensor(op, "input", x)
    if dtype is not None:
        x = x.to(as_dtype(dtype))
    elif not x.dtype.is_floating_point and x.dtype is not int64:
        x = x.to(int64)
    return x, normalize_dim(dim, x.ndim, op)


def _as_line(x):
    """0-d tensors scan as one element."""
    return x.reshape(1) if x.ndim == 0 else x


class Cumsum(Function):
    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim, ctx.shape = dim, tuple(x.shape)
        return Tensor._make(x._backend.cumsum(_as_line(x)._data, dim, False)).reshape(ctx.shape)

    @staticmethod
    def backward(ctx, g):
        # d out[k] / d x[j] = 1 for k >= j: the gradient of x[j] sums g[j:].
        return Tensor._make(g._backend.cumsum(_as_line(g)._data, ctx.dim, True)).reshape(ctx.shape), None


class Cumprod(Function):
    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim, ctx.shape = dim, tuple(x.shape)
        ctx.save_for_backward(x)
        return Tensor._make(x._backend.cumprod(_as_line(x)._data, dim)).reshape(ctx.shape)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        grad = g._backend.cumprod_backward(_as_line(g)._data, _as_line(x)._data, ctx.dim)
        return Tensor._make(grad).reshape(ctx.shape), None


def cumsum(input, dim, *, dtype=None):
    """Running sums along dim: out[k] = input[0] + ... + input[k] (bool/int64 input gives int64)."""
    x, d = _scan_input("cumsum", input, dim, dtype)
    return Cumsum.apply(x, d)


def cumprod(input, dim, *, dtype=None):
    """Running products along dim: out[k] = input[0] * ... * input[k]."""
    x, d = _scan_input("cumprod", input, dim, dtype)
    return Cumprod.apply(x, d)


class Prod(Function):
    """The product over one dim: the last row of cumprod; backward is cumprod's, for a gradient
    that is g in that row and zero in the others (exact where the input has zeros)."""

    @staticmethod
    def forward(ctx, x, dim, keepdim):
        ctx.dim, ctx.keepdim, ctx.shape = dim, keepdim, tuple(x.shape)
        ctx.save_for_backward(x)
        scanned = Tensor._make(x._backend.cumprod(_as_line(x)._data, dim))
        n = scanned.shape[dim]
        if n == 0:  # the empty product
            shape = tuple(1 if i == dim else s for i, s in enumerate(ctx.shape))
            out = Tensor._make(x._backend.full_on(list(shape), 1.0, x.dtype._c, x.device.index))
        else:
            out = scanned.narrow(dim, n - 1, 1)
        if not keepdim or not x.ndim:
            out = out.reshape(tuple(s for i, s in enumerate(ctx.shape) if i != dim))
        return out.contiguous()

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        line = _as_line(x)
        n = line.shape[ctx.dim]
        if n == 0:
            return x * 0, None, None
        # g in the last row along dim, zeros before it.
        full_g = Tensor._make(g._backend.full_on(list(line.shape), 0.0, g.dtype._c, g.device.index))
        full_g.narrow(ctx.dim, n - 1, 1).copy_(g.reshape(tuple(1 if i == ctx.dim else s
                                                               for i, s in enumerate(line.shape))))
        grad = g._backend.cumprod_backward(full_g._data, line._data, ctx.dim)
        return Tensor._make(grad).reshape(ctx.shape), None, None


def prod(input, dim=None, keepdim=False, *, dtype=None):
    """The product of all elements, or over dim (bool/int64 input gives int64, as in PyTorch)."""
    x, _ = _scan_input("prod", input, 0 if dim is None else dim, dtype)
    if dim is None:
        return Prod.apply(x.reshape(-1), 0, False)
    return Prod.apply(x, normalize_dim(dim, x.ndim, "prod"), bool(keepdim))
