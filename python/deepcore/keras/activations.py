"""keras.activations on deepcore ops. ``softmax`` takes Keras' ``axis=-1`` (the channels)."""
from .. import ops as _ops  # noqa: F401
from ..ops import activation as _act
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


# The smooth activations run on the native activation kernels (csrc/cpu/activation.h).

def elu(x, alpha=1.0):
    return _act.elu(x, alpha)


def selu(x):
    return _act.selu(x)


def softplus(x):
    # log(1 + e^x) without PyTorch's linear region (Keras has none): the kernel is stable for any x
    return _act.softplus(x, 1.0, float("inf"))


def softsign(x):
    return _act.softsign(x)


def gelu(x, approximate=False):
    return _act.gelu(x, approximate="tanh" if approximate else "none")


def swish(x):
    return _act.silu(x)


silu = swish


def mish(x):
    return _act.mish(x)


def hard_sigmoid(x):
    return (x * 0.2 + 0.5).clamp(0.0, 1.0)


def exponential(x):
    return x.exp()


_ALL = dict(linear=linear, relu=relu, sigmoid=sigmoid, tanh=tanh, softmax=softmax, elu=elu, selu=selu,
            softplus=softplus, softsign=softsign, hard_sigmoid=hard_sigmoid, exponential=exponential, gelu=gelu,
            swish=swish, silu=silu, mish=mish)
ELEMENTWISE = {f for n, f in _ALL.items() if n != "softmax"}


def get(identifier, custom_objects=None):
    if identifier is None:
        return linear
    return deserialize(identifier, _ALL, custom_objects, "activation function")


def serialize(fn):
    return getattr(fn, "__name__", str(fn))


__all__ = list(_ALL) + ["get", "serialize"]
