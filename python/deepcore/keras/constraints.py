"""keras.constraints: projections applied to a weight after every optimizer update (Keras 3's names,
defaults and formulas; Keras 2's are the same).

A layer's ``kernel_constraint`` (``bias_constraint``, ``embeddings_constraint``, ...) is a callable
that takes the weight, in Keras' layout (a Conv2D kernel as (rows, cols, in, out)), and returns
its projected value. The Keras optimizer (optimizers.py) applies it right after each update of
that weight, as Keras 3's ``optimizer.apply`` does with ``variable.constraint`` (and Keras 2's
``get_updates``). The norms are taken over ``axis`` of that Keras layout, so ``MaxNorm(axis=[0, 1,
2])`` bounds each Conv2D filter as in Keras; epsilon is ``backend.epsilon()`` (1e-7)."""
from . import config as _config
from ._common import as_tensor
from ._common import deserialize as _deserialize
from ._common import serialize as _serialize


def _axes(axis):
    return tuple(int(a) for a in axis) if isinstance(axis, (list, tuple)) else int(axis)


def _norms(w, axis):
    """sqrt(sum(w^2)) over `axis` (int or list), kept as size-1 axes so it broadcasts against w."""
    return (w * w).sum(dim=_axes(axis), keepdim=True).sqrt()


class Constraint:
    """Base class: ``__call__(w)`` returns the projected weight (here: w unchanged); ``get_config``
    returns the constructor's arguments."""

    def __call__(self, w):
        return w

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class MaxNorm(Constraint):
    """Scales the weights incident to each unit (the slices along `axis`) to a norm of at most
    max_value: w * clip(norm, 0, max_value) / (epsilon + norm)."""

    def __init__(self, max_value=2, axis=0):
        self.max_value, self.axis = max_value, axis

    def __call__(self, w):
        w = as_tensor(w)
        norms = _norms(w, self.axis)
        desired = norms.clamp(0.0, float(self.max_value))
        return w * (desired / (norms + _config.epsilon()))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """max(w, 0)."""

    def __call__(self, w):
        return as_tensor(w).relu()


class UnitNorm(Constraint):
    """w / (epsilon + norm): unit norm along `axis`."""

    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        w = as_tensor(w)
        return w / (_norms(w, self.axis) + _config.epsilon())

    def get_config(self):
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Moves each norm towards [min_value, max_value]: desired = rate * clip(norm, min, max) +
    (1 - rate) * norm, w * desired / (epsilon + norm) (rate=1 enforces the bounds at once)."""

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value, self.max_value, self.rate, self.axis = min_value, max_value, rate, axis

    def __call__(self, w):
        w = as_tensor(w)
        norms = _norms(w, self.axis)
        desired = norms.clamp(float(self.min_value), float(self.max_value)) * float(self.rate) + \
            norms * (1.0 - float(self.rate))
        return w * (desired / (norms + _config.epsilon()))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate, "axis": self.axis}


# Keras' lower-case aliases are the classes themselves (max_norm(3) is MaxNorm(3)).
max_norm, non_neg, unit_norm, min_max_norm = MaxNorm, NonNeg, UnitNorm, MinMaxNorm

_ALL = {"Constraint": Constraint, "MaxNorm": MaxNorm, "NonNeg": NonNeg, "UnitNorm": UnitNorm,
        "MinMaxNorm": MinMaxNorm, "max_norm": MaxNorm, "non_neg": NonNeg, "unit_norm": UnitNorm,
        "min_max_norm": MinMaxNorm}


def serialize(constraint):
    """{'class_name', 'config'} of a constraint object (None stays None)."""
    return _serialize(constraint)


def deserialize(config, custom_objects=None):
    """A constraint from serialize's dict, or from a name ('max_norm', 'NonNeg', ...)."""
    obj = _deserialize(config, _ALL, custom_objects, "constraint")
    return obj() if isinstance(obj, type) else obj


def get(identifier, custom_objects=None):
    """None, a constraint (any callable), a name, or a serialized dict -> a constraint or None."""
    if identifier is None:
        return None
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier, custom_objects)
    if isinstance(identifier, type):  # a class given for an instance: Keras 3 instantiates it
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret constraint identifier: {identifier!r}")
