"""keras.ops: Keras 3's NumPy-style tensor functions (``ops.mean``, ``ops.matmul``, ``ops.concatenate``, ...)
on deepcore Tensors, what Keras 3 layers' ``call`` bodies, losses and metrics are written with::

    from keras import ops
    def call(self, inputs):
        inputs -= ops.mean(inputs, axis=-1, keepdims=True)
        return ops.matmul(ops.concatenate([ops.relu(inputs), ops.relu(-inputs)], axis=-1), self.kernel)

Each is a thin call into deepcore's differentiable ops (gradients flow through them), and takes arrays
and numbers too (they become float32 tensors). Where Keras 3 and Keras 2's backend (``K.*``) agree,
the function is the backend's; where Keras 3 changed a default it is spelled out here:
``concatenate`` and ``stack`` join along axis 0, ``argmax``/``argmin`` of axis=None flatten,
``squeeze`` of axis=None drops every size-1 axis, ``transpose(x, axes)`` takes a permutation,
``clip(x, x_min, x_max)``, ``sqrt`` does not clip negatives. On a model's symbolic tensors they
build an expression evaluated at each training step, as the K.* functions do (_symbolic.py).
"""
import numpy as np

from .. import ops as _ops
from ..nn import functional as _F
from ..ops.elementwise import where as _where
from ..tensor import Tensor
from ..tensor import ones as _ones
from ..tensor import zeros as _zeros
from . import _backend_ops as _K
from ._common import as_tensor
from ._symbolic import is_symbolic, symbolic_aware

# Same meaning in Keras 3's ops and Keras 2's backend.
abs, absolute, cast, equal, exp, greater, greater_equal = _K.abs, _K.abs, _K.cast, _K.equal, _K.exp, _K.greater, \
    _K.greater_equal
less, less_equal, log, max, maximum, mean, min, minimum = _K.less, _K.less_equal, _K.log, _K.max, _K.maximum, \
    _K.mean, _K.min, _K.minimum
not_equal, sigmoid, sign, softmax, softplus, square, std, sum = _K.not_equal, _K.sigmoid, _K.sign, _K.softmax, \
    _K.softplus, _K.square, _K.std, _K.sum
tanh, var, reshape = _K.tanh, _K.var, _K.reshape
amax, amin = max, min


def _t(x):
    if is_symbolic(x):
        return x
    return as_tensor(x)


def convert_to_tensor(x, dtype=None, sparse=None):
    t = as_tensor(x, dtype="float32" if dtype is None and not isinstance(x, Tensor) and
                  np.asarray(x).dtype.kind == "f" else None)
    return t.to(dtype) if dtype is not None else t


def convert_to_numpy(x):
    return _t(x).detach().numpy()


def shape(x):
    return tuple(x.shape) if hasattr(x, "shape") else tuple(np.shape(x))


def ndim(x):
    return len(shape(x))


def zeros(shape, dtype=None):
    return _zeros(*shape, dtype=dtype) if dtype is not None else _zeros(*shape)


def ones(shape, dtype=None):
    return _ones(*shape, dtype=dtype) if dtype is not None else _ones(*shape)


def stop_gradient(x):
    return _t(x).detach()


# ---- arithmetic ----------------------------------------------------------------------------------
def add(x1, x2):
    return _t(x1) + x2


def subtract(x1, x2):
    return _t(x1) - x2


def multiply(x1, x2):
    return _t(x1) * x2


def divide(x1, x2):
    return _t(x1) / x2


true_divide = divide


def negative(x):
    return -_t(x)


def power(x1, x2):
    return _t(x1) ** x2


def sqrt(x):
    return _t(x).sqrt()


def clip(x, x_min, x_max):
    return _t(x).clamp(x_min, x_max)


def where(condition, x1=None, x2=None):
    if x1 is None or x2 is None:
        raise NotImplementedError("ops.where(condition) without x1 and x2 (the indices) is not supported by "
                                  "deepcore.keras")
    condition = _t(condition)
    mask = condition if condition.dtype.name == "bool" else condition.ne(0)
    return _where(mask, _t(x1), _t(x2))


def matmul(x1, x2):
    return _ops.matmul.matmul(_t(x1), _t(x2))


def dot(x1, x2):
    return _K.dot(x1, x2)


# ---- activations -----------------------------------------------------------------------------------
def relu(x):
    return _t(x).relu()


def log_softmax(x, axis=-1):
    return _t(x).log_softmax(axis)


def one_hot(x, num_classes, axis=-1, dtype=None):
    if axis != -1:
        raise NotImplementedError("ops.one_hot: only axis=-1 is supported by deepcore.keras")
    x = _t(x)
    out = _F.one_hot(x if x.dtype.name == "int64" else x.long(), int(num_classes))
    return out.to(dtype or "float32")


# ---- shapes ------------------------------------------------------------------------------------------
def concatenate(xs, axis=0):
    return _K.concatenate(xs, axis)


def stack(x, axis=0):
    return _K.stack(x, axis)


def expand_dims(x, axis):
    return _K.expand_dims(x, axis)


def squeeze(x, axis=None):
    x = _t(x)
    if axis is None:
        return x.reshape(tuple(s for s in x.shape if s != 1))
    return x.squeeze(axis)


def transpose(x, axes=None):
    x = _t(x)
    return x.permute(*(reversed(range(x.ndim)) if axes is None else axes))


def argmax(x, axis=None, keepdims=False):
    x = _t(x)
    if axis is None:
        return x.reshape(-1).argmax(dim=0)
    out = x.argmax(dim=axis)
    return out.unsqueeze(axis % x.ndim) if keepdims else out


def argmin(x, axis=None, keepdims=False):
    return argmax(-_t(x), axis, keepdims)


for _name in ("convert_to_tensor", "stop_gradient", "add", "subtract", "multiply", "divide", "negative", "power",
              "sqrt", "clip", "where", "matmul", "relu", "log_softmax", "one_hot", "squeeze", "transpose", "argmax",
              "argmin"):
    globals()[_name] = symbolic_aware(globals()[_name])
true_divide = divide
del _name
