"""BatchNormalization (Keras 2 defaults: momentum=0.99, epsilon=1e-3) on nn.functional.batch_norm.

Keras' moving statistics move by (1 - momentum); the kernel's momentum is that number. The moving
variance is updated with the unbiased batch variance (n / (n - 1)); Keras 2 uses n / (n - 1 - epsilon),
a relative difference of about epsilon / n (1e-5 for a batch of 128 images' pixels, far less per pixel)."""
from ...nn import functional as F
from .. import constraints, initializers, regularizers
from .._common import serialize
from .base import Layer


class BatchNormalization(Layer):
    _internal_layout = True

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.axis, self.momentum, self.epsilon = int(axis), float(momentum), float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)

    def build(self, input_shape):
        rank = len(input_shape)
        axis = self.axis % rank
        if rank not in (2, 4) or axis != rank - 1:
            raise NotImplementedError(f"{self.name}: BatchNormalization supports (N, features) and (N, H, W, C) "
                                      f"inputs normalized over the last axis; got shape {input_shape}, "
                                      f"axis={self.axis}")
        c = input_shape[axis]
        self.gamma = self.add_weight("gamma", (c,), initializer=self.gamma_initializer,
                                     regularizer=self.gamma_regularizer,
                                     constraint=self.gamma_constraint) if self.scale else None
        self.beta = self.add_weight("beta", (c,), initializer=self.beta_initializer,
                                    regularizer=self.beta_regularizer,
                                    constraint=self.beta_constraint) if self.center else None
        self.moving_mean = self.add_weight("moving_mean", (c,), initializer=self.moving_mean_initializer,
                                           trainable=False)
        self.moving_variance = self.add_weight("moving_variance", (c,),
                                               initializer=self.moving_variance_initializer, trainable=False)
        self.built = True

    def call(self, inputs, training=None):
        training = self.training if training is None else bool(training)
        # internal layout: channels are dim 1 for both (N, C) and (N, C, H, W)
        return F.batch_norm(inputs, self.moving_mean, self.moving_variance, self.gamma, self.beta,
                            training=training, momentum=1.0 - self.momentum, eps=self.epsilon)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return dict(super().get_config(), axis=self.axis, momentum=self.momentum, epsilon=self.epsilon,
                    center=self.center, scale=self.scale, beta_initializer=serialize(self.beta_initializer),
                    gamma_initializer=serialize(self.gamma_initializer),
                    moving_mean_initializer=serialize(self.moving_mean_initializer),
                    moving_variance_initializer=serialize(self.moving_variance_initializer),
                    beta_regularizer=serialize(self.beta_regularizer),
                    gamma_regularizer=serialize(self.gamma_regularizer),
                    beta_constraint=serialize(self.beta_constraint),
                    gamma_constraint=serialize(self.gamma_constraint))


class LayerNormalization(Layer):
    """Normalizes each sample over `axis` (default the last): (x - mean) / sqrt(var + epsilon) * gamma
    + beta, with the biased variance, as Keras (epsilon 1e-3). gamma and beta have the shape of the
    normalized axes. Works in Keras' layout; composed of differentiable ops."""

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, **kwargs):
        super().__init__(**kwargs)
        self.axis = [int(a) for a in axis] if isinstance(axis, (list, tuple)) else int(axis)
        self.epsilon, self.center, self.scale = float(epsilon), bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)

    def _axes(self, rank):
        axes = sorted({a % rank for a in (self.axis if isinstance(self.axis, list) else [self.axis])})
        if 0 in axes:
            raise ValueError(f"{self.name}: cannot normalize over the batch axis (axis={self.axis})")
        return axes

    def build(self, input_shape):
        axes = self._axes(len(input_shape))
        if any(input_shape[a] is None for a in axes):
            raise ValueError(f"{self.name}: the normalized axes must have known sizes, got {input_shape}")
        # weights broadcast against the input: size 1 on the axes that are not normalized
        shape = tuple(input_shape[a] if a in axes else 1 for a in range(1, len(input_shape)))
        self._broadcast_shape = shape
        weight_shape = tuple(input_shape[a] for a in axes)
        self.gamma = self.add_weight("gamma", weight_shape, initializer=self.gamma_initializer,
                                     regularizer=self.gamma_regularizer,
                                     constraint=self.gamma_constraint) if self.scale else None
        self.beta = self.add_weight("beta", weight_shape, initializer=self.beta_initializer,
                                    regularizer=self.beta_regularizer,
                                    constraint=self.beta_constraint) if self.center else None
        self.built = True

    def call(self, inputs):
        axes = self._axes(inputs.ndim)
        mean, centered = inputs, None
        for a in axes:
            mean = mean.mean(a, keepdim=True)
        centered = inputs - mean
        var = centered * centered
        for a in axes:
            var = var.mean(a, keepdim=True)
        out = centered / (var + self.epsilon).sqrt()
        if self.gamma is not None:
            out = out * self.gamma.reshape(self._broadcast_shape)
        if self.beta is not None:
            out = out + self.beta.reshape(self._broadcast_shape)
        return out

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return dict(super().get_config(), axis=self.axis, epsilon=self.epsilon, center=self.center,
                    scale=self.scale, beta_initializer=serialize(self.beta_initializer),
                    gamma_initializer=serialize(self.gamma_initializer),
                    beta_regularizer=serialize(self.beta_regularizer),
                    gamma_regularizer=serialize(self.gamma_regularizer),
                    beta_constraint=serialize(self.beta_constraint),
                    gamma_constraint=serialize(self.gamma_constraint))
