"""In-place ops with autograd, PyTorch's way: ``x.op_(...)`` computes ``op(x, ...)`` and writes it into
x's memory; when the graph records, x takes over the result's grad_fn (its old value feeds that node
through a clone, so nodes that saved x are not invalidated by the write).

A leaf that requires grad cannot be written while the graph records: PyTorch's error, as a RuntimeError.
Neither can memory whose result would depend on the order of the writes, with PyTorch's errors (the
rules of csrc/common/overlap.h, which the native kernels apply to their own out= writes): a written
tensor that reaches one location twice (an expanded view), or one that shares memory with an input at
other indices (``x[1:].lerp_(x[:-1], w)``).
"""
from ..autograd import is_grad_enabled
from ..tensor import Tensor

_CLONE_FIRST = "Please clone() the tensor before performing the operation."


def records(op, self, *others):
    """True when the write must be recorded; raises for a leaf that requires grad, or for an input
    that shares memory with self at other indices."""
    check_overlap(op, self, *others)
    tracked = is_grad_enabled() and (self.requires_grad or any(isinstance(o, Tensor) and o.requires_grad
                                                               for o in others))
    if tracked and self.is_leaf and self.requires_grad:
        raise RuntimeError(f"{op}: a leaf Variable that requires grad is being used in an in-place operation "
                           f"(shape {tuple(self.shape)}); wrap it in deepcore.no_grad() or use the out-of-place "
                           f"{op.rstrip('_')}")
    return tracked


def check_overlap(op, self, *others):
    """PyTorch's refusal of an in-place op reading a tensor that shares memory with self at other
    indices (both dense: x[1:] and x[:-1], x and x.t()). The same elements (x.add_(x)) are fine, and
    interleaved strided views are computed out of place, so they give the out-of-place answer."""
    nd = self._data
    for o in others:
        if isinstance(o, Tensor) and nd.overlap(o._data) == "partial":
            raise RuntimeError(f"{op}: unsupported operation: some elements of the input tensor and the "
                               f"written-to tensor refer to a single memory location. {_CLONE_FIRST}")


def source(self, tracked):
    """What the out-of-place op reads as self: a differentiable copy when the write is recorded."""
    return self.clone() if tracked else self


def adopt(op, self, result, tracked):
    """Writes `result` (self's shape; its dtype is cast to self's) into self and, when recorded, makes
    self the result in the graph. Returns self."""
    if tuple(result.shape) != tuple(self.shape):
        raise RuntimeError(f"{op}: the result of shape {tuple(result.shape)} does not fit the tensor being "
                           f"modified, of shape {tuple(self.shape)}")
    check_writable(op, self)
    self._backend.copy_(self._data, result._data)
    if tracked and result.grad_fn is not None:
        self.grad_fn, self._output_nr, self._requires_grad = result.grad_fn, result._output_nr, True
    return self


def check_writable(op, self):
    """Refuse writing through a view that reaches one location from two indices (an expanded view)."""
    nd = self._data
    if nd.has_internal_overlap():
        raise RuntimeError(f"{op}: unsupported operation: more than one element of the written-to tensor refers "
                           f"to a single memory location (shape {tuple(nd.shape)}, strides {tuple(nd.strides)}). "
                           f"{_CLONE_FIRST}")
