"""keras.initializers with Keras 2's names and defaults, drawing from deepcore's random stream
(``deepcore.manual_seed``) through deepcore.nn.init.

An initializer is called with a shape in Keras' layout (Dense kernel (in, out), Conv2D kernel
(kh, kw, in, out)) and returns a deepcore Tensor; fans are computed as Keras does."""
import math

import numpy as np

from .. import nn as _nn
from ..ops.random import randn
from ..tensor import Tensor, empty, eye, zeros
from ._common import deserialize


def _fans(shape):
    shape = tuple(shape)
    if len(shape) == 2:
        return shape[0], shape[1]
    if len(shape) in (3, 4, 5):  # (..spatial.., in, out)
        receptive = int(np.prod(shape[:-2]))
        return shape[-2] * receptive, shape[-1] * receptive
    n = math.sqrt(int(np.prod(shape))) if shape else 1
    return n, n


class Initializer:
    def __call__(self, shape, dtype=None):
        raise NotImplementedError

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class Zeros(Initializer):
    def __call__(self, shape, dtype=None):
        return zeros(*shape)


class Ones(Initializer):
    def __call__(self, shape, dtype=None):
        return _nn.init.ones_(empty(*shape))


class Constant(Initializer):
    def __init__(self, value=0):
        self.value = float(value)

    def __call__(self, shape, dtype=None):
        return _nn.init.constant_(empty(*shape), self.value)

    def get_config(self):
        return {"value": self.value}


class RandomNormal(Initializer):
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def __call__(self, shape, dtype=None):
        return _nn.init.normal_(empty(*shape), self.mean, self.stddev)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomUniform(Initializer):
    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval, self.maxval, self.seed = minval, maxval, seed

    def __call__(self, shape, dtype=None):
        return _nn.init.uniform_(empty(*shape), self.minval, self.maxval)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


def _truncated_normal(shape, mean, stddev):
    """N(0, 1) redrawn outside [-2, 2] (as TensorFlow's truncated_normal), then scaled."""
    z = randn(*shape)
    for _ in range(100):
        outside = z.abs() > 2.0
        if outside.float().sum().item() == 0:
            break
        z = (outside.float() * randn(*shape) + (1.0 - outside.float()) * z)
    return z * stddev + mean


class TruncatedNormal(RandomNormal):
    def __call__(self, shape, dtype=None):
        return _truncated_normal(shape, self.mean, self.stddev)


class VarianceScaling(Initializer):
    """scale / n with n = fan_in, fan_out or their mean; 'normal' is Keras 2's truncated normal."""

    def __init__(self, scale=1.0, mode="fan_in", distribution="normal", seed=None):
        if scale <= 0.0:
            raise ValueError(f"VarianceScaling: `scale` must be a positive float, got {scale}")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"VarianceScaling: invalid mode {mode!r}")
        if distribution not in ("normal", "uniform", "truncated_normal", "untruncated_normal"):
            raise ValueError(f"VarianceScaling: invalid distribution {distribution!r}")
        self.scale, self.mode, self.distribution, self.seed = scale, mode, distribution, seed

    def __call__(self, shape, dtype=None):
        fan_in, fan_out = _fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        variance = self.scale / max(1.0, n)
        if self.distribution in ("normal", "truncated_normal"):
            return _truncated_normal(shape, 0.0, math.sqrt(variance) / 0.87962566103423978)
        if self.distribution == "untruncated_normal":
            return _nn.init.normal_(empty(*shape), 0.0, math.sqrt(variance))
        limit = math.sqrt(3.0 * variance)
        return _nn.init.uniform_(empty(*shape), -limit, limit)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution, "seed": self.seed}


class Identity(Initializer):
    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None):
        if len(shape) != 2:
            raise ValueError("Identity initializer can only be used for 2D matrices")
        return eye(*shape) * self.gain

    def get_config(self):
        return {"gain": self.gain}


class Orthogonal(Initializer):
    def __init__(self, gain=1.0, seed=None):
        self.gain, self.seed = gain, seed

    def __call__(self, shape, dtype=None):
        rows, cols = int(np.prod(shape[:-1])), shape[-1]
        a = randn(max(rows, cols), min(rows, cols)).numpy().astype(np.float64)  # init only: interchange
        q, r = np.linalg.qr(a)
        q = q * np.sign(np.diag(r))
        q = q.T if rows < cols else q
        return Tensor((self.gain * q[:rows, :cols]).reshape(shape).astype(np.float32))

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}


def glorot_uniform(seed=None):
    return VarianceScaling(1.0, "fan_avg", "uniform", seed)


def glorot_normal(seed=None):
    return VarianceScaling(1.0, "fan_avg", "normal", seed)


def he_uniform(seed=None):
    return VarianceScaling(2.0, "fan_in", "uniform", seed)


def he_normal(seed=None):
    return VarianceScaling(2.0, "fan_in", "normal", seed)


def lecun_uniform(seed=None):
    return VarianceScaling(1.0, "fan_in", "uniform", seed)


def lecun_normal(seed=None):
    return VarianceScaling(1.0, "fan_in", "normal", seed)


zeros_init, ones_init = Zeros, Ones
_ALL = {
    "Zeros": Zeros, "zeros": Zeros, "zero": Zeros, "Ones": Ones, "ones": Ones, "one": Ones, "Constant": Constant,
    "constant": Constant, "RandomNormal": RandomNormal, "random_normal": RandomNormal, "normal": RandomNormal,
    "RandomUniform": RandomUniform, "random_uniform": RandomUniform, "uniform": RandomUniform,
    "TruncatedNormal": TruncatedNormal, "truncated_normal": TruncatedNormal, "VarianceScaling": VarianceScaling,
    "Identity": Identity, "identity": Identity, "Orthogonal": Orthogonal, "orthogonal": Orthogonal,
    "glorot_uniform": glorot_uniform, "glorot_normal": glorot_normal, "he_uniform": he_uniform,
    "he_normal": he_normal, "lecun_uniform": lecun_uniform, "lecun_normal": lecun_normal,
}


def get(identifier, custom_objects=None):
    if identifier is None:
        return None
    obj = deserialize(identifier, _ALL, custom_objects, "initializer")
    if isinstance(identifier, str) and isinstance(obj, type) or obj in (glorot_uniform, glorot_normal, he_uniform,
                                                                          he_normal, lecun_uniform, lecun_normal):
        obj = obj()
    return obj
