"""In-place ops with autograd, PyTorch's way: ``x.op_(...)`` computes ``op(x, ...)`` and writes it into
x's memory; when the graph records, x takes over the result's grad_fn (its old value feeds that node
through a clone, so nodes that saved x are not invalidated by the write).

A leaf that requires grad cannot be written while the graph records: PyTorch's error, as a RuntimeError.
"""
from ..autograd import is_grad_enabled
from ..tensor import Tensor


def records(op, self, *others):
    """True when the write must be recorded; raises for a leaf that requires grad."""
    tracked = is_grad_enabled() and (self.requires_grad or any(isinstance(o, Tensor) and o.requires_grad
                                                               for o in others))
    if tracked and self.is_leaf and self.requires_grad:
        raise RuntimeError(f"{op}: a leaf Variable that requires grad is being used in an in-place operation "
                           f"(shape {tuple(self.shape)}); wrap it in deepcore.no_grad() or use the out-of-place "
                           f"{op.rstrip('_')}")
    return tracked


def source(self, tracked):
    """What the out-of-place op reads as self: a differentiable copy when the write is recorded."""
    return self.clone() if tracked else self


def adopt(op, self, result, tracked):
    """Writes `result` (self's shape; its dtype is cast to self's) into self and, when recorded, makes
    self the result in the graph. Returns self."""
    if tuple(result.shape) != tuple(self.shape):
        raise RuntimeError(f"{op}: the result of shape {tuple(result.shape)} does not fit the tensor being "
                           f"modified, of shape {tuple(self.shape)}")
    self._backend.copy_(self._data, result._data)
    if tracked and result.grad_fn is not None:
        self.grad_fn, self._output_nr, self._requires_grad = result.grad_fn, result._output_nr, True
    return self


def check_writable(op, self):
    """Refuse writing through a broadcast (stride-0) view, whose elements share memory."""
    nd = self._data
    if any(st == 0 and s > 1 for s, st in zip(nd.shape, nd.strides)):
        raise RuntimeError(f"{op}: unsupported operation: more than one element of the written-to tensor refers "
                           f"to a single memory location (shape {tuple(nd.shape)}, strides {tuple(nd.strides)}); "
                           f"clone() it first")
