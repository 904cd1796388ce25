"""1-D layers on sequences (batch, steps, channels): Conv1D, MaxPooling1D, AveragePooling1D,
UpSampling1D, GlobalMaxPooling1D, GlobalAveragePooling1D, ZeroPadding1D, Cropping1D, and RepeatVector.

The convolution and poolings are their 2-D counterparts on an image one row high: (B, L, C) is
viewed as (B, C, 1, L), the 2-D layer's code runs (TensorFlow's 'same' rule included), and the
result is viewed back. Conv1D's kernel is Keras' (kernel_size, in, filters) in files and
get_weights; 'causal' padding puts (kernel_size - 1) * dilation zeros before the sequence."""
from ...tensor import zeros
from ...ops.shape import cat
from .base import Layer
from .convolutional import AveragePooling2D, Conv2D, MaxPooling2D, UpSampling2D, _out_len


def _single(value, name):
    if isinstance(value, int):
        return value
    value = tuple(int(v) for v in value)
    if len(value) != 1:
        raise ValueError(f"{name} must be an int or a tuple of 1 int, got {value}")
    return value[0]


def _format(layer, data_format):
    if data_format not in (None, "channels_last"):
        raise NotImplementedError(f"{layer}: only data_format='channels_last' (Keras' default) is supported")


def _as_image(x):
    """(B, L, C) -> (B, C, 1, L): a sequence as a one-row image in the internal layout."""
    if x.ndim != 3:
        raise ValueError(f"expected a 3-D input (batch, steps, channels), got shape {tuple(x.shape)}")
    return x.permute(0, 2, 1).unsqueeze(2)


def _as_sequence(y):
    return y.squeeze(2).permute(0, 2, 1)


class Conv1D(Conv2D):
    """Temporal convolution: kernel (kernel_size, in, filters); padding 'valid', 'same' or 'causal'."""

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format="channels_last",
                 dilation_rate=1, **kwargs):
        _format("Conv1D", data_format)
        mode = padding.lower()
        super().__init__(filters, (1, _single(kernel_size, "kernel_size")), strides=(1, _single(strides, "strides")),
                         padding="valid" if mode == "causal" else mode,
                         dilation_rate=(1, _single(dilation_rate, "dilation_rate")), **kwargs)
        self.padding_1d, self.data_format = mode, data_format

    def build(self, input_shape):
        if len(input_shape) != 3 or input_shape[-1] is None:
            raise ValueError(f"{self.name}: Conv1D expects inputs of shape (batch, steps, channels) with known "
                             f"channels, got {input_shape}")
        k, channels, filters = self.kernel_size[1], input_shape[-1], self.filters
        self.kernel = self.add_weight(
            "kernel", (k, channels, filters), initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
            _to_keras=lambda t: t.permute(2, 3, 1, 0).reshape(k, channels, filters).contiguous(),
            _from_keras=lambda t: t.reshape(1, k, channels, filters).permute(3, 2, 0, 1).contiguous())
        self.bias = self.add_weight("bias", (filters,), initializer=self.bias_initializer,
                                    regularizer=self.bias_regularizer,
                                    constraint=self.bias_constraint) if self.use_bias else None
        self.built = True

    def call(self, inputs):
        x = _as_image(inputs)
        if self.padding_1d == "causal":
            left = (self.kernel_size[1] - 1) * self.dilation_rate[1]
            if left:
                x = cat([zeros(x.shape[0], x.shape[1], 1, left, dtype=x.dtype), x], 3)
        return _as_sequence(super().call(x))

    def compute_output_shape(self, input_shape):
        n, steps, _ = input_shape
        window = (self.kernel_size[1] - 1) * self.dilation_rate[1] + 1
        if self.padding_1d == "causal":
            steps = None if steps is None else steps + window - 1
        return (n, _out_len(steps, window, self.strides[1], self.padding), self.filters)

    def get_config(self):
        return dict(super().get_config(), kernel_size=[self.kernel_size[1]], strides=[self.strides[1]],
                    padding=self.padding_1d, data_format=self.data_format, dilation_rate=[self.dilation_rate[1]])


Convolution1D = Conv1D


class _Pooling1D:
    """Mixin: a 2-D pooling layer over a one-row image."""

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format="channels_last", **kwargs):
        _format(type(self).__name__, data_format)
        size = _single(pool_size, "pool_size")
        step = size if strides is None else _single(strides, "strides")
        super().__init__(pool_size=(1, size), strides=(1, step), padding=padding, **kwargs)
        self.data_format = data_format

    def call(self, inputs, **kwargs):
        return _as_sequence(super().call(_as_image(inputs), **kwargs))

    def compute_output_shape(self, input_shape):
        n, steps, c = input_shape
        return (n, _out_len(steps, self.pool_size[1], self.strides[1], self.padding), c)

    def get_config(self):
        return dict(super().get_config(), pool_size=[self.pool_size[1]], strides=[self.strides[1]],
                    data_format=self.data_format)


class MaxPooling1D(_Pooling1D, MaxPooling2D):
    """Max over windows of pool_size steps."""


class AveragePooling1D(_Pooling1D, AveragePooling2D):
    """Mean over windows of pool_size steps ('same' averages only the real steps, as TensorFlow)."""


MaxPool1D, AvgPool1D = MaxPooling1D, AveragePooling1D


class UpSampling1D(UpSampling2D):
    """Repeats each step `size` times."""

    def __init__(self, size=2, **kwargs):
        super().__init__(size=(1, _single(size, "size")), **kwargs)

    def call(self, inputs, **kwargs):
        return _as_sequence(super().call(_as_image(inputs), **kwargs))

    def compute_output_shape(self, input_shape):
        n, steps, c = input_shape
        return (n, None if steps is None else steps * self.size[1], c)

    def get_config(self):
        config = dict(super().get_config(), size=self.size[1])
        config.pop("data_format", None)
        config.pop("interpolation", None)
        return config


class _GlobalPooling1D(Layer):
    _internal_layout = True

    def __init__(self, data_format="channels_last", **kwargs):
        super().__init__(**kwargs)
        _format(type(self).__name__, data_format)
        self.data_format = data_format

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2])

    def get_config(self):
        return dict(super().get_config(), data_format=self.data_format)


class GlobalMaxPooling1D(_GlobalPooling1D):
    """(B, L, C) -> (B, C): the maximum over the steps."""

    def call(self, inputs):
        return inputs.amax(1)


class GlobalAveragePooling1D(_GlobalPooling1D):
    """(B, L, C) -> (B, C): the mean over the steps."""

    def call(self, inputs):
        return inputs.mean(1)


GlobalMaxPool1D, GlobalAvgPool1D = GlobalMaxPooling1D, GlobalAveragePooling1D


class RepeatVector(Layer):
    """(B, F) -> (B, n, F): the input repeated n times (an LSTM decoder's input in a seq2seq model)."""
    _internal_layout = True

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        if int(n) <= 0:
            raise ValueError(f"RepeatVector: n must be a positive integer, got {n}")
        self.n = int(n)

    def call(self, inputs):
        if inputs.ndim != 2:
            raise ValueError(f"{self.name}: expected a 2-D input (batch, features), got shape {tuple(inputs.shape)}")
        return inputs.unsqueeze(1).expand(inputs.shape[0], self.n, inputs.shape[1])

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self):
        return dict(super().get_config(), n=self.n)


def _two(value, name):
    pair = (value, value) if isinstance(value, int) else tuple(int(v) for v in value)
    if len(pair) != 2 or min(pair) < 0:
        raise ValueError(f"{name} must be a non-negative int or a pair of them, got {value}")
    return pair


class ZeroPadding1D(Layer):
    """(B, L, C) -> (B, before + L + after, C) with zero steps."""
    _internal_layout = True

    def __init__(self, padding=1, **kwargs):
        super().__init__(**kwargs)
        self.padding = _two(padding, "ZeroPadding1D padding")

    def call(self, inputs):
        before, after = self.padding
        parts = [zeros(inputs.shape[0], n, inputs.shape[2], dtype=inputs.dtype) for n in (before,) if n] + \
            [inputs] + [zeros(inputs.shape[0], n, inputs.shape[2], dtype=inputs.dtype) for n in (after,) if n]
        return cat(parts, 1) if len(parts) > 1 else inputs

    def compute_output_shape(self, input_shape):
        n, steps, c = input_shape
        return (n, None if steps is None else steps + sum(self.padding), c)

    def get_config(self):
        return dict(super().get_config(), padding=list(self.padding))


class Cropping1D(Layer):
    """(B, L, C) -> (B, L - start - end, C): steps removed at both ends."""
    _internal_layout = True

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(**kwargs)
        self.cropping = _two(cropping, "Cropping1D cropping")

    def call(self, inputs):
        start, end = self.cropping
        if start + end >= inputs.shape[1]:
            raise ValueError(f"{self.name}: cropping {self.cropping} leaves no steps of {inputs.shape[1]}")
        return inputs[:, start:inputs.shape[1] - end]

    def compute_output_shape(self, input_shape):
        n, steps, c = input_shape
        return (n, None if steps is None else steps - sum(self.cropping), c)

    def get_config(self):
        return dict(super().get_config(), cropping=list(self.cropping))
