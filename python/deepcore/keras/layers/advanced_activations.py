"""Activation layers with parameters (Keras 2's keras.layers.advanced_activations): LeakyReLU,
PReLU, ELU, ThresholdedReLU, Softmax, ReLU. The GAN listings of the Keras era use LeakyReLU(0.2).

The elementwise ones run on the internal layout; Softmax maps its Keras axis like Concatenate;
PReLU's alpha has Keras' shape (the input's, without the batch axis), so it sees Keras' layout.
"""
from ...nn import functional as F
from .. import activations, constraints, initializers, regularizers
from .._common import serialize
from .base import Layer


class _Elementwise(Layer):
    """A function of each element (Softmax: of each row along an axis): any layout, same shape."""
    _internal_layout = True

    def compute_output_shape(self, input_shape):
        return input_shape


class LeakyReLU(_Elementwise):
    """x if x > 0 else alpha * x (Keras' default 0.3; Keras 3 names it negative_slope, Keras 2 alpha)."""

    def __init__(self, alpha=None, negative_slope=None, **kwargs):
        super().__init__(**kwargs)
        if alpha is not None and negative_slope is not None and float(alpha) != float(negative_slope):
            raise ValueError(f"LeakyReLU: give negative_slope or alpha, not both (got {negative_slope} and {alpha})")
        slope = negative_slope if negative_slope is not None else alpha
        self.alpha = self.negative_slope = 0.3 if slope is None else float(slope)

    def call(self, inputs):
        return F.leaky_relu(inputs, self.alpha)

    def get_config(self):
        return dict(super().get_config(), alpha=self.alpha)


class ELU(_Elementwise):
    """x if x > 0 else alpha * (exp(x) - 1)."""

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = float(alpha)

    def call(self, inputs):
        return activations.elu(inputs, self.alpha)

    def get_config(self):
        return dict(super().get_config(), alpha=self.alpha)


class ThresholdedReLU(_Elementwise):
    """x if x > theta else 0."""

    def __init__(self, theta=1.0, **kwargs):
        super().__init__(**kwargs)
        if theta < 0:
            raise ValueError(f"ThresholdedReLU: theta must be non-negative, got {theta}")
        self.theta = float(theta)

    def call(self, inputs):
        return inputs * (inputs > self.theta).to(inputs.dtype)

    def get_config(self):
        return dict(super().get_config(), theta=self.theta)


class ReLU(_Elementwise):
    """Keras 2.2's ReLU layer: min(max_value, x) above threshold, negative_slope * (x - threshold) below."""

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        if max_value is not None and max_value < 0:
            raise ValueError(f"ReLU: max_value must be non-negative, got {max_value}")
        if negative_slope < 0:
            raise ValueError(f"ReLU: negative_slope must be non-negative, got {negative_slope}")
        self.max_value, self.negative_slope, self.threshold = max_value, float(negative_slope), float(threshold)

    def call(self, inputs):
        return activations.relu(inputs, alpha=self.negative_slope, max_value=self.max_value, threshold=self.threshold)

    def get_config(self):
        return dict(super().get_config(), max_value=self.max_value, negative_slope=self.negative_slope,
                    threshold=self.threshold)


class Softmax(_Elementwise):
    """softmax over `axis` (Keras' layout: -1 is the channels of an image tensor)."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = int(axis)

    def call(self, inputs):
        rank = inputs.ndim
        axis = self.axis + rank if self.axis < 0 else self.axis
        if rank == 4 and axis > 0:  # internal (N, C, H, W) holds Keras' (N, H, W, C)
            axis = {1: 2, 2: 3, 3: 1}[axis]
        return inputs.softmax(axis)

    def get_config(self):
        return dict(super().get_config(), axis=self.axis)


class PReLU(Layer):
    """x if x > 0 else alpha * x with a learned alpha per input element (zeros at first), shared
    along `shared_axes` (e.g. [1, 2] for one alpha per channel of an image)."""

    def __init__(self, alpha_initializer="zeros", alpha_regularizer=None, alpha_constraint=None, shared_axes=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = constraints.get(alpha_constraint)
        self.shared_axes = None if shared_axes is None else [int(a) for a in
                                                             (shared_axes if isinstance(shared_axes, (list, tuple))
                                                              else [shared_axes])]

    def build(self, input_shape):
        shape = list(input_shape[1:])
        for a in self.shared_axes or []:
            if not 1 <= a < len(input_shape):
                raise ValueError(f"{self.name}: shared axis {a} is out of range for inputs of shape {input_shape}")
            shape[a - 1] = 1
        if any(d is None for d in shape):
            raise ValueError(f"{self.name}: PReLU needs known sizes on the unshared axes, got {input_shape}")
        self.alpha = self.add_weight("alpha", tuple(shape), initializer=self.alpha_initializer,
                                     regularizer=self.alpha_regularizer, constraint=self.alpha_constraint)
        self.built = True

    def call(self, inputs):
        return inputs.relu() - self.alpha * (-inputs).relu()

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return dict(super().get_config(), alpha_initializer=serialize(self.alpha_initializer),
                    alpha_regularizer=serialize(self.alpha_regularizer),
                    alpha_constraint=serialize(self.alpha_constraint), shared_axes=self.shared_axes)
