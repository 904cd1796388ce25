"""keras.random: Keras 3's random functions, drawn from deepcore's Philox streams.

``seed`` is what Keras 3 takes: None (the global stream, deepcore.manual_seed / keras.utils.set_random_seed
seed it), an int (a fresh stream from that seed: the same numbers at every call, as Keras' stateless
seeds), or a ``SeedGenerator`` (a stream of its own that advances with each draw, so a train_step that
draws from ``self.seed_generator`` gets new noise each batch and the same run for the same seed).
Floats are float32 (Keras' floatx) unless ``dtype`` says float64.
"""
from .. import dtypes as _dtypes
from ..autograd import no_grad
from ..generator import Generator
from ..ops import random as _random
from ..ops.index import index_select
from ..ops.sort import argsort
from ..tensor import Tensor
from .._tensor_api import where

_FLOATS = {"float32": _dtypes.float32, "float64": _dtypes.float64}


class SeedGenerator:
    """A seeded random stream for keras.random's functions (``seed=SeedGenerator(1337)``). Its
    ``state`` is the stream's position (seed, offset); each draw moves it on."""

    def __init__(self, seed=None, name=None, **kwargs):
        if kwargs:
            raise TypeError(f"SeedGenerator: unexpected keyword argument(s) {', '.join(sorted(kwargs))}")
        self.name = name or "seed_generator"
        self._generator = Generator()
        if seed is None:
            self._generator.seed()
        else:
            if isinstance(seed, bool) or not isinstance(seed, int):
                raise TypeError(f"SeedGenerator: seed must be an int or None, got {type(seed).__name__}")
            self._generator.manual_seed(seed)

    @property
    def state(self):
        return self._generator.get_state()

    def next(self, ordered=True):
        """A fresh (seed, offset) pair, as Keras' SeedGenerator.next: the draw the next call would make."""
        out = self._generator.get_state()
        _random.rand(1, generator=self._generator)  # moves the stream on
        return out

    def __repr__(self):
        return f"<keras.random.SeedGenerator {self.name}: {self._generator!r}>"


def _generator(op, seed):
    if seed is None:
        return None
    if isinstance(seed, SeedGenerator):
        return seed._generator
    if isinstance(seed, Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"keras.random.{op}: seed must be None, an int or a SeedGenerator, got "
                        f"{type(seed).__name__}")
    return Generator().manual_seed(seed)


def _float_dtype(op, dtype):
    if dtype is None:
        return _dtypes.float32
    name = getattr(dtype, "name", dtype)
    if name not in _FLOATS:
        raise ValueError(f"keras.random.{op}: dtype must be float32 or float64, got {dtype!r}")
    return _FLOATS[name]


def _shape(op, shape):
    if isinstance(shape, int):
        shape = (shape,)
    try:
        return tuple(int(s) for s in shape)
    except TypeError:
        raise TypeError(f"keras.random.{op}: shape must be a tuple of ints, got {shape!r}") from None


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Normal draws of the given mean and standard deviation."""
    z = _random.randn(*_shape("normal", shape), generator=_generator("normal", seed),
                      dtype=_float_dtype("normal", dtype))
    with no_grad():
        return z if (mean == 0.0 and stddev == 1.0) else z * float(stddev) + float(mean)


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Uniform draws on [minval, maxval)."""
    if not maxval > minval:
        raise ValueError(f"keras.random.uniform: maxval ({maxval}) must be greater than minval ({minval})")
    u = _random.rand(*_shape("uniform", shape), generator=_generator("uniform", seed),
                     dtype=_float_dtype("uniform", dtype))
    with no_grad():
        return u if (minval == 0.0 and maxval == 1.0) else u * float(maxval - minval) + float(minval)


def randint(shape, minval, maxval, dtype="int32", seed=None):
    """Integers uniform on [minval, maxval). deepcore keeps them int64 (its index type) for every integer dtype."""
    if getattr(dtype, "name", dtype) not in ("int32", "int64"):
        raise ValueError(f"keras.random.randint: dtype must be int32 or int64, got {dtype!r}")
    if not int(maxval) > int(minval):
        raise ValueError(f"keras.random.randint: maxval ({maxval}) must be greater than minval ({minval})")
    return _random.randint(int(minval), int(maxval), _shape("randint", shape), generator=_generator("randint", seed))


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Normal draws kept within two standard deviations of the mean: values outside are drawn again."""
    shape = _shape("truncated_normal", shape)
    gen = _generator("truncated_normal", seed)
    dt = _float_dtype("truncated_normal", dtype)
    with no_grad():
        z = _random.randn(*shape, generator=gen, dtype=dt)
        for _ in range(64):  # each pass redraws the 4.6% outside: after 64 passes none are left in practice
            outside = z.abs() > 2.0
            if not bool(outside.any()):
                break
            z = where(outside, _random.randn(*shape, generator=gen, dtype=dt), z)
        return z * float(stddev) + float(mean)


def dropout(inputs, rate, noise_shape=None, seed=None):
    """Zeroes each element with probability `rate` and scales the rest by 1 / (1 - rate)."""
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"keras.random.dropout: rate must be in [0, 1), got {rate}")
    if not isinstance(inputs, Tensor):
        raise TypeError(f"keras.random.dropout: inputs must be a tensor, got {type(inputs).__name__}")
    shape = tuple(inputs.shape) if noise_shape is None else tuple(
        inputs.shape[i] if s is None else int(s) for i, s in enumerate(noise_shape))
    if rate == 0.0:
        return inputs
    keep = _random.rand(*shape, generator=_generator("dropout", seed), dtype=inputs.dtype) >= rate
    return inputs * keep.to(inputs.dtype) * (1.0 / (1.0 - rate))


def shuffle(x, axis=0, seed=None):
    """A random permutation of `x` along `axis`."""
    if not isinstance(x, Tensor):
        raise TypeError(f"keras.random.shuffle: x must be a tensor, got {type(x).__name__}")
    n = x.shape[axis]
    keys = _random.rand(n, generator=_generator("shuffle", seed), dtype=_dtypes.float64)
    return index_select(x, axis, argsort(keys))


def gamma(shape, alpha, dtype=None, seed=None):
    raise NotImplementedError("deepcore does not implement keras.random.gamma yet")


def binomial(shape, counts, probabilities, dtype=None, seed=None):
    raise NotImplementedError("deepcore does not implement keras.random.binomial yet")


def beta(shape, alpha, beta, dtype=None, seed=None):
    raise NotImplementedError("deepcore does not implement keras.random.beta yet")


def categorical(logits, num_samples, dtype="int32", seed=None):
    """`num_samples` class indices per row of `logits` (batch, classes), drawn with replacement."""
    if not isinstance(logits, Tensor) or logits.ndim != 2:
        raise ValueError("keras.random.categorical: logits must be a 2-D tensor (batch, classes)")
    with no_grad():
        probs = (logits - logits.max(dim=1, keepdim=True)[0]).exp()
    return _random.multinomial(probs, int(num_samples), replacement=True, generator=_generator("categorical", seed))

