"""keras.activations on deepcore ops. ``softmax`` takes Keras' ``axis=-1`` (the channels)."""
from .. import ops as _ops  # noqa: F401
from ..ops.activation import softmax as _softmax
from ..ops.elementwise import where as _where
from ._common import deserialize


def linear(x):
    return x


def relu(x, alpha=0.0, max_value=None, threshold=0.0):
    if alpha == 0.0 and max_value is None and threshold == 0.0:
        return x.relu()
    out = _where(x > threshold, x, (x - threshold) * alpha) if alpha else _where(x > threshold, x, x * 0.0)
    return out.clamp(max=max_value) if max_value is not None else out


def sigmoid(x):
    return x.sigmoid()


def tanh(x):
    return x.tanh()


def softmax(x, axis=-1):
    if x.ndim < 2:
        raise ValueError(f"softmax: cannot apply softmax to a tensor that is 1D, got shape {tuple(x.shape)}")
    return _softmax(x, axis)


def elu(x, alpha=1.0):
    return _where(x > 0, x, (x.clamp(max=0.0).exp() - 1.0) * alpha)


def selu(x):
    alpha, scale = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
    return elu(x, alpha) * scale


def softplus(x):
    # log(1 + e^x) = max(x, 0) + log(1 + e^-|x|), stable for large |x|
    return x.relu() + ((-x.abs()).exp() + 1.0).log()


def softsign(x):
    return x / (x.abs() + 1.0)


def hard_sigmoid(x):
    return (x * 0.2 + 0.5).clamp(0.0, 1.0)


def exponential(x):
    return x.exp()


_ALL = dict(linear=linear, relu=relu, sigmoid=sigmoid, tanh=tanh, softmax=softmax, elu=elu, selu=selu,
            softplus=softplus, softsign=softsign, hard_sigmoid=hard_sigmoid, exponential=exponential)
ELEMENTWISE = {f for n, f in _ALL.items() if n != "softmax"}


def get(identifier, custom_objects=None):
    if identifier is None:
        return linear
    return deserialize(identifier, _ALL, custom_objects, "activation function")


def serialize(fn):
    return getattr(fn, "__name__", str(fn))


__all__ = list(_ALL) + ["get", "serialize"]
