"""Merge layers: Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot (Keras 2 names),
and their functional forms add(), subtract(), ... concatenate(), dot().

They run on the model's internal layout: the elementwise merges do not care about it, and
Concatenate maps Keras' channels-last axis of a rank-4 tensor to the internal channel axis, so
merging feature maps costs no layout conversion. Elementwise merges broadcast as Keras does
(equal shapes, or a 1 where the other input has a size).
"""
import functools

from ... import ops
from .._common import as_list
from .base import Layer


def _broadcast(name, shapes):
    if len({len(s) for s in shapes}) != 1:
        raise ValueError(f"{name}: inputs must have the same rank, got shapes {shapes}")
    out = []
    for dims in zip(*shapes):
        known = {d for d in dims if d is not None and d != 1}
        if len(known) > 1:
            raise ValueError(f"{name}: operands could not be broadcast together with shapes {shapes}")
        out.append(known.pop() if known else (None if None in dims else 1))
    return tuple(out)


class _Merge(Layer):
    _internal_layout = True
    _min_inputs, _max_inputs = 2, None

    def _check_inputs(self, input_shape):
        if not isinstance(input_shape, list) or not self._min_inputs <= len(input_shape) <= \
                (self._max_inputs or len(input_shape)):
            want = f"exactly {self._min_inputs}" if self._max_inputs == self._min_inputs \
                else f"a list of at least {self._min_inputs}"
            got = f"{len(input_shape)} inputs" if isinstance(input_shape, list) else "a single input"
            raise ValueError(f"{self.name}: a {type(self).__name__} layer should be called on {want} inputs, "
                             f"got {got}")

    def build(self, input_shape):
        self._check_inputs(input_shape)
        self.compute_output_shape(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        self._check_inputs(input_shape)
        return _broadcast(self.name, [tuple(s) for s in input_shape])

    def call(self, inputs):
        return functools.reduce(self._merge, as_list(inputs))


class Add(_Merge):
    """The sum of its inputs."""
    @staticmethod
    def _merge(a, b):
        return a + b


class Subtract(_Merge):
    """inputs[0] - inputs[1]."""
    _min_inputs = _max_inputs = 2

    @staticmethod
    def _merge(a, b):
        return a - b


class Multiply(_Merge):
    """The elementwise product of its inputs."""
    @staticmethod
    def _merge(a, b):
        return a * b


class Average(_Merge):
    """The elementwise mean of its inputs."""
    def call(self, inputs):
        xs = as_list(inputs)
        return functools.reduce(Add._merge, xs) * (1.0 / len(xs))


class Maximum(_Merge):
    @staticmethod
    def _merge(a, b):
        return a.maximum(b)


class Minimum(_Merge):
    @staticmethod
    def _merge(a, b):
        return a.minimum(b)


class Concatenate(_Merge):
    """Joins its inputs along ``axis`` (Keras' layout: -1 is the channels of an image tensor)."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = int(axis)

    def _keras_axis(self, rank):
        axis = self.axis + rank if self.axis < 0 else self.axis
        if not 0 < axis < rank:
            raise ValueError(f"{self.name}: axis {self.axis} is out of range for inputs of rank {rank} (the batch "
                             f"axis 0 cannot be concatenated along)")
        return axis

    def compute_output_shape(self, input_shape):
        self._check_inputs(input_shape)
        shapes = [tuple(s) for s in input_shape]
        if len({len(s) for s in shapes}) != 1:
            raise ValueError(f"{self.name}: inputs must have the same rank, got shapes {shapes}")
        axis = self._keras_axis(len(shapes[0]))
        for d in range(1, len(shapes[0])):
            if d != axis and len({s[d] for s in shapes}) != 1:
                raise ValueError(f"{self.name}: a Concatenate layer requires inputs with matching shapes except "
                                 f"for the concatenation axis {self.axis}, got shapes {shapes}")
        sizes = [s[axis] for s in shapes]
        out = list(shapes[0])
        out[axis] = None if None in sizes else sum(sizes)
        return tuple(out)

    def call(self, inputs):
        xs = as_list(inputs)
        rank = xs[0].ndim
        axis = self._keras_axis(rank)
        if rank == 4:  # internal (N, C, H, W) holds Keras' (N, H, W, C): axis 3 -> 1, 1 -> 2, 2 -> 3
            axis = {1: 2, 2: 3, 3: 1}[axis]
        return ops.shape.cat(xs, axis)

    def get_config(self):
        return dict(super().get_config(), axis=self.axis)


class Dot(_Merge):
    """The dot product of two samples along `axes` (Keras' batch_dot): (B, n) . (B, n) -> (B, 1);
    (B, T1, d) . (B, T2, d) with axes=2 -> (B, T1, T2) (attention scores). ``normalize``: the
    cosine of the two (each L2-normalized along its axis first). Ranks 2 and 3."""
    _min_inputs = _max_inputs = 2

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        pair = (axes, axes) if isinstance(axes, int) else tuple(axes)
        if len(pair) != 2:
            raise ValueError(f"Dot: axes must be an int or a pair of ints, got {axes}")
        self.axes, self.normalize = axes, bool(normalize)
        self._pair = tuple(int(a) for a in pair)

    def _resolved(self, shapes):
        for s in shapes:
            if len(s) not in (2, 3):
                raise ValueError(f"{self.name}: Dot supports inputs of rank 2 or 3, got shapes {shapes}")
        axes = [a % len(s) for a, s in zip(self._pair, shapes)]
        if 0 in axes:
            raise ValueError(f"{self.name}: cannot take the dot product over the batch axis")
        a, b = shapes[0][axes[0]], shapes[1][axes[1]]
        if a is not None and b is not None and a != b:
            raise ValueError(f"{self.name}: dimension incompatibility: {a} != {b} (shapes {shapes}, axes {axes})")
        return axes

    def build(self, input_shape):
        self._check_inputs(input_shape)
        self._resolved([tuple(s) for s in input_shape])
        self.built = True

    def compute_output_shape(self, input_shape):
        self._check_inputs(input_shape)
        shapes = [tuple(s) for s in input_shape]
        axes = self._resolved(shapes)
        rest = [d for i, d in enumerate(shapes[0]) if i not in (0, axes[0])] + \
               [d for i, d in enumerate(shapes[1]) if i not in (0, axes[1])]
        return (shapes[0][0],) + (tuple(rest) if rest else (1,))

    def call(self, inputs):
        x, y = as_list(inputs)
        ax, ay = self._resolved([tuple(x.shape), tuple(y.shape)])
        if self.normalize:
            x = x / (x * x).sum(ax, keepdim=True).clamp(min=1e-12).sqrt()
            y = y / (y * y).sum(ay, keepdim=True).clamp(min=1e-12).sqrt()
        if x.ndim == 2 and y.ndim == 2:
            return (x * y).sum(1, keepdim=True)
        x = x.unsqueeze(1) if x.ndim == 2 else (x if ax == 2 else x.transpose(1, 2))   # (B, m, k)
        y = y.unsqueeze(2) if y.ndim == 2 else (y if ay == 1 else y.transpose(1, 2))   # (B, k, n)
        out = x @ y
        squeeze = [d for d, rank in ((1, len(inputs[0].shape)), (2, len(inputs[1].shape))) if rank == 2]
        for d in reversed(squeeze):
            out = out.squeeze(d)
        return out

    def get_config(self):
        return dict(super().get_config(), axes=self.axes, normalize=self.normalize)


def _functional(cls):
    def merge(inputs, **kwargs):
        return cls(**kwargs)(inputs)
    merge.__name__ = cls.__name__.lower()
    merge.__doc__ = f"{cls.__name__}(**kwargs)(inputs): the functional form of the {cls.__name__} layer."
    return merge


add, subtract, multiply, average, maximum, minimum = (
    _functional(c) for c in (Add, Subtract, Multiply, Average, Maximum, Minimum))


def dot(inputs, axes, normalize=False, **kwargs):
    """Dot(axes, normalize, **kwargs)(inputs)."""
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)


def concatenate(inputs, axis=-1, **kwargs):
    """Concatenate(axis=axis, **kwargs)(inputs)."""
    return Concatenate(axis=axis, **kwargs)(inputs)
