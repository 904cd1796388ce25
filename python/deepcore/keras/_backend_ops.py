"""Keras 2's backend tensor functions (``K.mean``, ``K.square``, ...) on deepcore Tensors.

They are what custom losses, metrics, Lambda functions and ``Layer.call`` bodies are written
with in Keras 2 listings::

    def my_mse(y_true, y_pred):
        return K.mean(K.square(y_pred - y_true), axis=-1)

Each works on real tensors (in Keras' layout: what those functions receive) and is a thin call
into deepcore's differentiable ops, so gradients flow through them. On a model's symbolic
tensors they build an expression that the model evaluates at each training step (Keras 2's
graph-style ``vae.add_loss(K.mean(...))``; see _symbolic.py). Keras' conventions where
they differ from PyTorch's: ``axis``/``keepdims``, ``K.std``/``K.var`` over the population
(divide by n), ``K.max`` returns values only, ``K.dot`` of a matrix and a higher-rank tensor
contracts the last axis with the second-to-last. Arrays and numbers are accepted and become
float32 tensors.
"""
import numpy as np

from .. import ops as _ops
from ..ops.random import rand as _rand, randn as _randn
from ..nn import functional as _F
from ..tensor import Tensor
from ..tensor import ones as _ones
from ..tensor import ones_like as _ones_like
from ..tensor import zeros as _zeros
from ..tensor import zeros_like as _zeros_like
from . import config as _config
from ._common import as_tensor
from ._symbolic import is_symbolic, symbolic_aware
from .activations import relu as _relu

__all__ = [
    "abs", "argmax", "argmin", "batch_flatten", "binary_crossentropy", "cast", "categorical_crossentropy",
    "clip", "concatenate", "constant", "dot", "dtype", "equal", "eval", "exp", "expand_dims", "flatten",
    "get_value", "greater", "greater_equal", "int_shape", "less", "less_equal", "log", "max", "maximum", "mean",
    "min", "minimum", "ndim", "not_equal", "ones", "ones_like", "permute_dimensions", "pow", "random_normal",
    "random_uniform", "relu", "reshape", "set_value", "shape", "sigmoid", "sign", "softmax",
    "softplus", "sqrt", "square", "squeeze", "stack", "std", "sum", "tanh", "transpose", "var", "variable",
    "zeros", "zeros_like",
]


def _t(x):
    if is_symbolic(x):
        raise ValueError(f"{x!r} is symbolic: this backend function needs a real tensor")
    return x if isinstance(x, Tensor) else as_tensor(x)


def _clip(p):
    """Probabilities clipped to [epsilon, 1 - epsilon] before a logarithm, as Keras 2 (keras.losses too)."""
    eps = _config.epsilon()
    return p.clamp(eps, 1.0 - eps)


def _axis(axis):
    return tuple(axis) if isinstance(axis, (list, tuple)) else axis


# ---- construction and inspection -----------------------------------------------------------------
def variable(value, dtype=None, name=None, constraint=None):
    """A trainable tensor (requires_grad) holding ``value``."""
    if constraint is not None:
        # Only a layer's weights (add_weight) carry a constraint the Keras optimizer applies.
        raise NotImplementedError("backend.variable: constraint is not supported by deepcore.keras; create the "
                                  "weight with Layer.add_weight(..., constraint=...)")
    t = as_tensor(value).clone()
    t.requires_grad_(True)
    return t


def constant(value, dtype=None, shape=None, name=None):
    arr = np.asarray(value, dtype=np.float32)
    return as_tensor(np.broadcast_to(arr, shape).copy() if shape is not None else arr)


def zeros(shape, dtype=None, name=None):
    return _zeros(*shape)


def ones(shape, dtype=None, name=None):
    return _ones(*shape)


def zeros_like(x, dtype=None, name=None):
    return _zeros_like(_t(x))


def ones_like(x, dtype=None, name=None):
    return _ones_like(_t(x))


def random_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    return _randn(*shape) * stddev + mean


def random_uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    return _rand(*shape) * (maxval - minval) + minval


def shape(x):
    return tuple(_t(x).shape)


def int_shape(x):
    """The static shape: None for the batch axis of a symbolic (Input) tensor."""
    return tuple(x.shape) if hasattr(x, "shape") else tuple(np.shape(x))


def ndim(x):
    return len(int_shape(x))


def dtype(x):
    return str(_t(x).dtype).replace("deepcore.", "")


def cast(x, dtype):
    return _t(x).to(dtype)


def eval(x):
    return _t(x).detach().numpy()


get_value = eval


def set_value(x, value):
    with_grad = x.requires_grad
    x.requires_grad_(False)
    x.copy_(as_tensor(np.asarray(value, dtype=np.float32).reshape(tuple(x.shape))))
    x.requires_grad_(with_grad)


# ---- reductions ----------------------------------------------------------------------------------
def sum(x, axis=None, keepdims=False):
    return _t(x).sum(dim=_axis(axis), keepdim=keepdims)


def mean(x, axis=None, keepdims=False):
    return _t(x).mean(dim=_axis(axis), keepdim=keepdims)


def max(x, axis=None, keepdims=False):
    return _t(x).amax(dim=_axis(axis), keepdim=keepdims)


def min(x, axis=None, keepdims=False):
    return _t(x).amin(dim=_axis(axis), keepdim=keepdims)


def var(x, axis=None, keepdims=False):
    return _t(x).var(dim=_axis(axis), unbiased=False, keepdim=keepdims)


def std(x, axis=None, keepdims=False):
    return _t(x).std(dim=_axis(axis), unbiased=False, keepdim=keepdims)


def argmax(x, axis=-1):
    return _t(x).argmax(dim=axis)


def argmin(x, axis=-1):
    return _t(x).argmin(dim=axis)


# ---- elementwise ---------------------------------------------------------------------------------
def square(x):
    x = _t(x)
    return x * x


def abs(x):
    return _t(x).abs()


def sqrt(x):
    return _t(x).clamp(min=0.0).sqrt()  # Keras clips negatives to 0 first


def exp(x):
    return _t(x).exp()


def log(x):
    return _t(x).log()


def sign(x):
    return _t(x).sign()


def pow(x, a):
    return _t(x) ** a


def clip(x, min_value, max_value):
    return _t(x).clamp(min_value, max_value)


def maximum(x, y):
    return _t(x).maximum(y)


def minimum(x, y):
    return _t(x).minimum(y)


def equal(x, y):
    return _t(x).eq(y)


def not_equal(x, y):
    return _t(x).ne(y)


def greater(x, y):
    return _t(x).gt(y)


def greater_equal(x, y):
    return _t(x).ge(y)


def less(x, y):
    return _t(x).lt(y)


def less_equal(x, y):
    return _t(x).le(y)


# ---- activations and losses (Keras 2 argument order: target first) -------------------------------
def relu(x, alpha=0.0, max_value=None):
    return _relu(_t(x), alpha=alpha, max_value=max_value)


def sigmoid(x):
    return _t(x).sigmoid()


def tanh(x):
    return _t(x).tanh()


def softplus(x):
    x = _t(x)
    return ((-x.abs()).exp() + 1.0).log() + x.clamp(min=0.0)  # log(1 + e^x) without overflow


def softmax(x, axis=-1):
    return _t(x).softmax(axis)


def binary_crossentropy(target, output, from_logits=False):
    """Elementwise, no mean (Keras 2's K.binary_crossentropy)."""
    target, output = _t(target), _t(output)
    if from_logits:
        return _F.binary_cross_entropy_with_logits(output, target, reduction="none")
    return _F.binary_cross_entropy(_clip(output), target, reduction="none")


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    target, output = _t(target), _t(output)
    if from_logits:
        return -(target * output.log_softmax(axis)).sum(axis)
    output = output / output.sum(axis, keepdim=True)
    return -(target * _clip(output).log()).sum(axis)


# ---- shapes --------------------------------------------------------------------------------------
def reshape(x, shape):
    return _t(x).reshape(tuple(shape))


def flatten(x):
    return _t(x).reshape(-1)


def batch_flatten(x):
    x = _t(x)
    return x.reshape(x.shape[0], -1)


def expand_dims(x, axis=-1):
    x = _t(x)
    return x.unsqueeze(axis if axis >= 0 else x.ndim + 1 + axis)


def squeeze(x, axis):
    return _t(x).squeeze(axis)


def transpose(x):
    x = _t(x)
    return x.permute(*reversed(range(x.ndim)))


def permute_dimensions(x, pattern):
    return _t(x).permute(*pattern)


def concatenate(tensors, axis=-1):
    tensors = [_t(t) for t in tensors]
    return _ops.shape.cat(tensors, axis if axis >= 0 else tensors[0].ndim + axis)


def stack(x, axis=0):
    return _ops.shape.stack([_t(t) for t in x], axis)


def dot(x, y):
    """Matrix product; for rank > 2, Keras' rule: x's last axis with y's second-to-last."""
    x, y = _t(x), _t(y)
    if y.ndim > 2:  # y's second-to-last axis to the front, contract, the rest of y's axes in order
        lead = y.permute(y.ndim - 2, *[i for i in range(y.ndim) if i != y.ndim - 2])
        out = _ops.matmul.matmul(x.reshape(-1, x.shape[-1]), lead.reshape(lead.shape[0], -1))
        return out.reshape(*x.shape[:-1], *lead.shape[1:])
    return _ops.matmul.matmul(x, y)


# Every function that computes on its arguments also takes symbolic ones (a KerasTensor, or an
# expression built from one): deferred to each training step, or computed at once during one.
for _name in __all__:
    if _name not in ("int_shape", "ndim", "eval", "get_value", "set_value", "variable", "constant", "zeros",
                     "ones"):
        globals()[_name] = symbolic_aware(globals()[_name])
del _name
