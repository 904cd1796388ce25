"""Regularization layers (Keras 2 names): GaussianNoise, GaussianDropout, SpatialDropout1D,
SpatialDropout2D, ActivityRegularization. The noises act only while training."""
import math

from ...nn import functional as F
from ...ops.random import randn
from ...tensor import ones
from .. import regularizers
from .base import Layer


class _TrainingNoise(Layer):
    """A layer that is the identity at inference and `_noisy(inputs)` while training (when `_active()`)."""
    _internal_layout = True

    def call(self, inputs, training=None):
        training = self.training if training is None else bool(training)
        return self._noisy(inputs) if training and self._active() else inputs

    def compute_output_shape(self, input_shape):
        return input_shape


class GaussianNoise(_TrainingNoise):
    """Adds N(0, stddev^2) noise while training (a regularizer; the denoising auto-encoder's corruption)."""

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(**kwargs)
        if float(stddev) < 0:
            raise ValueError(f"GaussianNoise: stddev must be non-negative, got {stddev}")
        self.stddev, self.seed = float(stddev), seed

    def _active(self):
        return self.stddev > 0

    def _noisy(self, inputs):
        return inputs + randn(*inputs.shape, dtype=inputs.dtype) * self.stddev

    def get_config(self):
        return dict(super().get_config(), stddev=self.stddev, seed=self.seed)


class _RateNoise(_TrainingNoise):
    def __init__(self, rate, **kwargs):
        super().__init__(**kwargs)
        if not 0.0 <= float(rate) <= 1.0:
            raise ValueError(f"{type(self).__name__}: rate must be in [0, 1], got {rate}")
        self.rate = float(rate)

    def _active(self):
        return self.rate > 0

    def get_config(self):
        return dict(super().get_config(), rate=self.rate)


class GaussianDropout(_RateNoise):
    """Multiplies by N(1, rate / (1 - rate)) noise while training (dropout's mean and variance)."""

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(rate, **kwargs)
        if self.rate >= 1.0:
            raise ValueError("GaussianDropout: rate must be below 1")
        self.seed = seed

    def _noisy(self, inputs):
        stddev = math.sqrt(self.rate / (1.0 - self.rate))
        return inputs * (randn(*inputs.shape, dtype=inputs.dtype) * stddev + 1.0)


class SpatialDropout1D(_RateNoise):
    """Dropout of whole channels of (B, L, C) sequences: one keep/drop per sample and channel."""

    def _noisy(self, inputs):
        return inputs * F.dropout(ones(inputs.shape[0], 1, inputs.shape[2], dtype=inputs.dtype), self.rate)


class SpatialDropout2D(_RateNoise):
    """Dropout of whole feature maps of images (one keep/drop per sample and channel)."""

    def __init__(self, rate, data_format=None, **kwargs):
        super().__init__(rate, **kwargs)
        if data_format not in (None, "channels_last"):
            raise NotImplementedError("SpatialDropout2D: only data_format='channels_last' is supported")
        self.data_format = data_format

    def _noisy(self, inputs):  # internal layout (N, C, H, W)
        mask = F.dropout(ones(inputs.shape[0], inputs.shape[1], 1, 1, dtype=inputs.dtype), self.rate)
        return inputs * mask

    def get_config(self):
        return dict(super().get_config(), data_format=self.data_format)


class ActivityRegularization(Layer):
    """The identity, adding l1 * sum(|x|) + l2 * sum(x^2) of its output to the training loss."""

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        super().__init__(activity_regularizer=regularizers.L1L2(l1=l1, l2=l2), **kwargs)
        self.l1, self.l2 = float(l1), float(l2)

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = dict(super().get_config(), l1=self.l1, l2=self.l2)
        config.pop("activity_regularizer", None)
        return config
