"""Helpers the distributions share, under torch.distributions.utils' names: broadcasting the
parameters, probs <-> logits, and lazily computed attributes."""
import numbers

import numpy as np

from ..autograd import enable_grad
from ..ops.activation import softmax
from ..tensor import Size, Tensor, tensor


def broadcast_shapes(*shapes):
    """The shape all `shapes` broadcast to (NumPy's rule), or ValueError naming them."""
    ndim = max((len(s) for s in shapes), default=0)
    out = [1] * ndim
    for shape in shapes:
        for i, n in enumerate(shape, start=ndim - len(shape)):
            if n != 1 and out[i] not in (1, n):
                raise ValueError(f"shape mismatch: objects cannot be broadcast to a single shape "
                                 f"({', '.join(str(tuple(s)) for s in shapes)})")
            if n != 1:
                out[i] = n
    return Size(out)


def broadcast_all(*values):
    """The values as tensors of one broadcast shape (expanded views). Numbers become tensors of the first
    tensor's dtype and device (the default float dtype when there is none)."""
    for v in values:
        if not isinstance(v, (Tensor, numbers.Number)):
            raise ValueError(f"Input arguments must all be instances of numbers.Number or deepcore.Tensor, got "
                             f"{type(v).__name__}")
    first = next((v for v in values if isinstance(v, Tensor)), None)
    if first is None:
        values = tuple(tensor(float(v)) for v in values)
    else:
        dtype = first.dtype if first.dtype.is_floating_point else None
        values = tuple(v if isinstance(v, Tensor) else tensor(float(v), dtype=dtype, device=first.device)
                       for v in values)
    shape = broadcast_shapes(*(v.shape for v in values))
    return tuple(v if tuple(v.shape) == tuple(shape) else v.expand(*shape) for v in values)


def _eps(dtype):
    return float(np.finfo(np.float64 if dtype.name == "float64" else np.float32).eps)


def clamp_probs(probs):
    """probs clamped to [eps, 1 - eps] (eps of their dtype), so their logits are finite."""
    eps = _eps(probs.dtype)
    return probs.clamp(min=eps, max=1 - eps)


def logits_to_probs(logits, is_binary=False):
    """sigmoid(logits) for a binary event, else softmax over the last dim."""
    return logits.sigmoid() if is_binary else softmax(logits, -1)


def probs_to_logits(probs, is_binary=False):
    """The inverse of logits_to_probs on clamped probabilities: log(p) - log(1 - p) for a binary event,
    else log(p) (normalized logits)."""
    clamped = clamp_probs(probs)
    if is_binary:
        return clamped.log() - (1 - clamped).log()
    return clamped.log()


class lazy_property:  # noqa: N801  (torch.distributions.utils' name)
    """A property computed on first access (with grad enabled) and then stored on the instance,
    so e.g. Categorical(logits=...).probs is made once."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        self.__doc__ = wrapped.__doc__
        self.__name__ = wrapped.__name__

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        with enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value
