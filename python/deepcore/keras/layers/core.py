"""Core layers: Dense, Activation, Dropout, Flatten, Reshape, Permute, Lambda (Keras 2 names and
defaults), on deepcore.nn.functional."""
import numpy as np

from ...nn import functional as F
from ...ops.linear import linear as fused_linear
from .. import activations, constraints, initializers, regularizers
from .. import config as _config
from .._common import serialize, to_internal, to_keras
from .base import Layer


def activate(fn, x):
    """Apply a Keras activation to an internal-layout tensor (softmax over the channels)."""
    if fn is activations.linear or fn is None:
        return x
    if fn is activations.softmax:
        return activations.softmax(x, axis=1 if x.ndim == 4 else -1)
    if fn in activations.ELEMENTWISE:
        return fn(x)
    return to_internal(fn(to_keras(x)))  # a user's function sees Keras' layout


class Dense(Layer):
    """output = activation(inputs @ kernel + bias); kernel (input_dim, units), glorot_uniform, bias zeros."""
    _internal_layout = True

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if int(units) <= 0:
            raise ValueError(f"Dense: units must be a positive integer, got {units}")
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    def build(self, input_shape):
        if input_shape[-1] is None:
            raise ValueError(f"{self.name}: the last dimension of the inputs to Dense should be defined, got "
                             f"{input_shape}")
        self.kernel = self.add_weight("kernel", (input_shape[-1], self.units), initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.bias = self.add_weight("bias", (self.units,), initializer=self.bias_initializer,
                                    regularizer=self.bias_regularizer,
                                    constraint=self.bias_constraint) if self.use_bias else None
        self.built = True

    def call(self, inputs):
        four = inputs.ndim == 4
        x = to_keras(inputs) if four else inputs  # Dense acts on Keras' last axis (the channels)
        if x.shape[-1] != self.kernel.shape[0]:
            raise ValueError(f"{self.name}: expected inputs with last dimension {self.kernel.shape[0]}, got shape "
                             f"{tuple(x.shape)}")
        # kernel.t() is a view: the GEMM reads kernel directly. ReLU is fused into the same native call.
        if self.activation is activations.relu:
            out = fused_linear(x, self.kernel.t(), self.bias, relu=True)
            return to_internal(out) if four else out
        out = F.linear(x, self.kernel.t(), self.bias)
        out = to_internal(out) if four else out
        return activate(self.activation, out)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        return dict(super().get_config(), units=self.units, activation=activations.serialize(self.activation),
                    use_bias=self.use_bias, kernel_initializer=serialize(self.kernel_initializer),
                    bias_initializer=serialize(self.bias_initializer),
                    kernel_regularizer=serialize(self.kernel_regularizer),
                    bias_regularizer=serialize(self.bias_regularizer),
                    kernel_constraint=serialize(self.kernel_constraint),
                    bias_constraint=serialize(self.bias_constraint))


class Activation(Layer):
    _internal_layout = True

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def call(self, inputs):
        return activate(self.activation, inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return dict(super().get_config(), activation=activations.serialize(self.activation))


class Dropout(Layer):
    """Zeroes a fraction `rate` of the inputs while training (scaling the rest by 1 / (1 - rate));
    the identity at inference. deepcore's native dropout kernel."""
    _internal_layout = True

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0.0 <= float(rate) <= 1.0:
            raise ValueError(f"Dropout: rate must be in [0, 1], got {rate}")
        if noise_shape is not None:
            raise NotImplementedError("Dropout(noise_shape=...) is not supported by deepcore.keras")
        self.rate, self.noise_shape, self.seed = float(rate), noise_shape, seed

    def call(self, inputs, training=None):
        training = self.training if training is None else bool(training)
        if not training or self.rate == 0.0:
            return inputs
        return F.dropout(inputs, self.rate, training=True)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return dict(super().get_config(), rate=self.rate, noise_shape=self.noise_shape, seed=self.seed)


class Flatten(Layer):
    """(N, d1, d2, ...) -> (N, d1 * d2 * ...), in Keras' (H, W, C) order for images so Dense weights match Keras."""
    _internal_layout = True

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        if data_format not in (None, "channels_last") or (
                data_format is None and _config.image_data_format() != "channels_last"):
            raise NotImplementedError("Flatten: only data_format='channels_last' is supported (check "
                                      "keras.backend.image_data_format())")
        self.data_format = data_format

    def call(self, inputs):
        n = inputs.shape[0]
        if inputs.ndim == 4 and inputs.shape[1] != 1:
            inputs = inputs.permute(0, 2, 3, 1)  # NCHW -> NHWC (reshape copies it contiguous)
        return inputs.reshape(n, -1)

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        if any(s is None for s in rest):
            raise ValueError(f"The shape of the input to Flatten is not fully defined (got {rest}). Make sure to pass "
                             f"a complete input_shape or batch_input_shape argument to the first layer in your model.")
        return (input_shape[0], int(np.prod(rest)))

    def get_config(self):
        return super().get_config()


def _resolve_target(name, input_shape, target_shape):
    known = int(np.prod([s for s in input_shape[1:]]))
    target = list(target_shape)
    if target.count(-1) > 1:
        raise ValueError(f"{name}: can only specify one unknown dimension, got {tuple(target_shape)}")
    if -1 in target:
        rest = int(np.prod([t for t in target if t != -1]))
        if rest == 0 or known % rest:
            raise ValueError(f"{name}: total size of new array must be unchanged ({input_shape} -> {target_shape})")
        target[target.index(-1)] = known // rest
    if int(np.prod(target)) != known:
        raise ValueError(f"{name}: total size of new array must be unchanged, input_shape = {list(input_shape[1:])}, "
                         f"output_shape = {list(target_shape)}")
    return tuple(target)


class Reshape(Layer):
    _internal_layout = True

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(int(s) for s in target_shape)

    def call(self, inputs):
        x = to_keras(inputs)
        return to_internal(x.reshape((x.shape[0],) + self.target_shape))

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + _resolve_target(self.name, input_shape, self.target_shape)

    def get_config(self):
        return dict(super().get_config(), target_shape=list(self.target_shape))


class Permute(Layer):
    """Permutes the non-batch axes (1-based, as Keras): Permute((2, 1))."""

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        self.dims = tuple(int(d) for d in dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(f"Permute: invalid permutation {dims}; dims should start at 1")

    def call(self, inputs):
        return inputs.permute(0, *self.dims).contiguous()

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + tuple(input_shape[d] for d in self.dims)

    def get_config(self):
        return dict(super().get_config(), dims=list(self.dims))


class Lambda(Layer):
    """Wraps a function of deepcore Tensors (in Keras' layout) as a layer: Lambda(lambda x: x * 2).
    Saved models store the function's name; load_model needs it in custom_objects."""

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"Lambda: function must be callable, got {type(function).__name__}")
        self.function = function
        self._output_shape = output_shape
        self.arguments = dict(arguments or {})

    def call(self, inputs):
        return self.function(inputs, **self.arguments)

    def compute_output_shape(self, input_shape):
        if self._output_shape is None:
            return super().compute_output_shape(input_shape)
        if callable(self._output_shape):
            return tuple(self._output_shape(input_shape))
        return (input_shape[0] if not isinstance(input_shape, list) else input_shape[0][0],) + \
            tuple(self._output_shape)

    def get_config(self):
        name = getattr(self.function, "__name__", None)
        output_shape = self._output_shape
        if callable(output_shape):
            output_shape = getattr(output_shape, "__name__", None)
        return dict(super().get_config(), function=name, output_shape=output_shape, arguments=self.arguments)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        fn = config.pop("function")
        if not callable(fn):
            custom = custom_objects or {}
            if fn not in custom:
                raise ValueError(f"Lambda layer {config.get('name')!r} wraps the function {fn!r}, which deepcore "
                                 f"does not store as code (never pickled): pass load_model(..., "
                                 f"custom_objects={{{fn!r}: the_function}})")
            fn = custom[fn]
        shape = config.pop("output_shape", None)
        if isinstance(shape, str):
            shape = (custom_objects or {}).get(shape)
        return cls(fn, output_shape=shape, **config)
