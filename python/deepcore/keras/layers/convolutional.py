"""Conv2D, MaxPooling2D, AveragePooling2D, UpSampling2D and global poolings, channels-last as Keras
(N, H, W, C) outside a model and NCHW inside it, on deepcore's conv/pool kernels.

Conv2D keeps its kernel as the conv kernel reads it, (filters, in, kh, kw); get_weights/set_weights
and saved files use Keras' (kh, kw, in, filters). 'same' padding follows TensorFlow: when the total
padding is odd the extra row/column goes at the bottom/right."""
from ...nn import functional as F
from ...ops._checks import pair
from ...ops.conv import conv_transpose2d
from ...ops.shape import cat
from ...tensor import zeros
from .. import activations, constraints, initializers, regularizers
from .. import config as _config
from .._common import serialize
from .base import Layer
from .core import activate


def _check_format(layer, data_format):
    if data_format not in (None, "channels_last"):
        raise NotImplementedError(f"{layer}: only data_format='channels_last' (Keras' default) is supported")
    if data_format is None and _config.image_data_format() != "channels_last":
        raise NotImplementedError(f"{layer}: keras.backend.image_data_format() is "
                                  f"{_config.image_data_format()!r}, but deepcore's layers are channels_last only "
                                  f"(set it back with set_image_data_format('channels_last'))")


def _padding(padding, layer):
    padding = padding.lower()
    if padding not in ("valid", "same"):
        raise ValueError(f"{layer}: padding must be 'valid' or 'same', got {padding!r}")
    return padding


def _out_len(size, window, stride, padding):
    if size is None:
        return None
    if padding == "same":
        return -(-size // stride)
    return max((size - window) // stride + 1, 0)


def _same_pads(size, window, stride):
    out = -(-size // stride)
    total = max((out - 1) * stride + window - size, 0)
    return total // 2, total - total // 2


def _pad_end(x, dim, count, replicate):
    """Append `count` rows along dim (2 or 3): zeros, or copies of the last row (for max pooling)."""
    if count <= 0:
        return x
    if replicate:
        edge = x[:, :, -1:, :] if dim == 2 else x[:, :, :, -1:]
        return cat([x] + [edge] * count, dim)
    shape = list(x.shape)
    shape[dim] = count
    return cat([x, zeros(*shape, dtype=x.dtype)], dim)


def _pad_begin(x, dim, count):
    if count <= 0:
        return x
    edge = x[:, :, :1, :] if dim == 2 else x[:, :, :, :1]
    return cat([edge] * count + [x], dim)


def _kernel_to_keras(t):
    return t.permute(2, 3, 1, 0).contiguous()


def _kernel_from_keras(t):
    return t.permute(3, 2, 0, 1).contiguous()


class Conv2D(Layer):
    _internal_layout = True

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        _check_format("Conv2D", data_format)
        self.filters = int(filters)
        self.kernel_size = pair(kernel_size, "kernel_size", type(self).__name__, 1)
        self.strides = pair(strides, "strides", type(self).__name__, 1)
        self.padding = _padding(padding, "Conv2D")
        self.data_format = data_format
        self.dilation_rate = pair(dilation_rate, "dilation_rate", type(self).__name__, 1)
        if self.dilation_rate != (1, 1) and self.strides != (1, 1):
            raise ValueError("Conv2D: dilation_rate > 1 is incompatible with strides > 1 (as in Keras)")
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    def build(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(f"{self.name}: Conv2D expects inputs of shape (batch, rows, cols, channels), got "
                             f"{input_shape}")
        if input_shape[-1] is None:
            raise ValueError(f"{self.name}: the channel dimension of the inputs should be defined, got "
                             f"{input_shape}")
        shape = self._kernel_shape(input_shape[-1])
        self.kernel = self.add_weight("kernel", shape, initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
                                      _to_keras=_kernel_to_keras,
                                      _from_keras=_kernel_from_keras)
        self.bias = self.add_weight("bias", (self.filters,), initializer=self.bias_initializer,
                                    regularizer=self.bias_regularizer,
                                    constraint=self.bias_constraint) if self.use_bias else None
        self.built = True

    def _kernel_shape(self, in_channels):
        return self.kernel_size + (in_channels, self.filters)

    def call(self, inputs):
        if inputs.ndim != 4:
            raise ValueError(f"{self.name}: expected a 4-D input, got shape {tuple(inputs.shape)}")
        x, pad = inputs, [0, 0]
        if self.padding == "same":
            for i, dim in enumerate((2, 3)):
                window = (self.kernel_size[i] - 1) * self.dilation_rate[i] + 1
                before, after = _same_pads(x.shape[dim], window, self.strides[i])
                x = _pad_end(x, dim, after - before, replicate=False)  # TF: the odd row goes at the end
                pad[i] = before
        out = F.conv2d(x, self.kernel, self.bias, self.strides, tuple(pad), self.dilation_rate)
        return activate(self.activation, out)

    def compute_output_shape(self, input_shape):
        n, h, w, _ = input_shape
        dims = [_out_len(s, (k - 1) * d + 1, st, self.padding)
                for s, k, d, st in zip((h, w), self.kernel_size, self.dilation_rate, self.strides)]
        return (n, dims[0], dims[1], self.filters)

    def get_config(self):
        return dict(super().get_config(), filters=self.filters, kernel_size=list(self.kernel_size),
                    strides=list(self.strides), padding=self.padding, data_format=self.data_format,
                    dilation_rate=list(self.dilation_rate), activation=activations.serialize(self.activation),
                    use_bias=self.use_bias, kernel_initializer=serialize(self.kernel_initializer),
                    bias_initializer=serialize(self.bias_initializer),
                    kernel_regularizer=serialize(self.kernel_regularizer),
                    bias_regularizer=serialize(self.bias_regularizer),
                    kernel_constraint=serialize(self.kernel_constraint),
                    bias_constraint=serialize(self.bias_constraint))


Convolution2D = Conv2D


class Conv2DTranspose(Conv2D):
    """The transposed convolution (Keras 2's 'deconvolution'): kernel (kh, kw, filters, in_channels).
    Output size per Keras: 'valid' d * s + max(k - s, 0), 'same' d * s, or with output_padding p:
    (d - 1) * s + k + p ('valid'), (d - 1) * s + k - 2 * (k // 2) + p ('same'); 'same' pads as TensorFlow
    (the odd row at the bottom/right)."""

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", output_padding=None, **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding, **kwargs)
        self.output_padding = (None if output_padding is None else
                               pair(output_padding, "output_padding", type(self).__name__))
        for p, s in zip(self.output_padding or (), self.strides):
            if p >= s:
                raise ValueError(f"Conv2DTranspose: output_padding {self.output_padding} must be smaller than the "
                                 f"strides {self.strides}")

    def _kernel_shape(self, in_channels):
        return self.kernel_size + (self.filters, in_channels)  # Keras' (kh, kw, out, in)

    def _out_len(self, i, size):
        if size is None:
            return None
        k = (self.kernel_size[i] - 1) * self.dilation_rate[i] + 1
        s, p = self.strides[i], None if self.output_padding is None else self.output_padding[i]
        if p is None:
            return size * s + max(k - s, 0) if self.padding == "valid" else size * s
        return (size - 1) * s + k + p - (0 if self.padding == "valid" else 2 * (k // 2))

    def call(self, inputs):
        out_hw = [self._out_len(i, inputs.shape[2 + i]) for i in range(2)]
        pads = []
        for i in range(2):  # the padding of the conv2d this one transposes (TensorFlow's 'same' rule)
            k = (self.kernel_size[i] - 1) * self.dilation_rate[i] + 1
            total = 0 if self.padding == "valid" else max((inputs.shape[2 + i] - 1) * self.strides[i] + k - out_hw[i], 0)
            pads += [total // 2, total - total // 2]
        out = conv_transpose2d(inputs, self.kernel, self.bias, self.strides, dilation=self.dilation_rate,
                               _pads=tuple(pads), _out_hw=tuple(out_hw))
        return activate(self.activation, out)

    def compute_output_shape(self, input_shape):
        n, h, w, _ = input_shape
        return (n, self._out_len(0, h), self._out_len(1, w), self.filters)

    def get_config(self):
        return dict(super().get_config(), output_padding=None if self.output_padding is None
                    else list(self.output_padding))


Convolution2DTranspose = Deconvolution2D = Conv2DTranspose


class _Pooling2D(Layer):
    _internal_layout = True

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        _check_format(type(self).__name__, data_format)
        self.pool_size = pair(pool_size, "pool_size", type(self).__name__, 1)
        self.strides = pair(strides, "strides", type(self).__name__, 1) if strides is not None else self.pool_size
        self.padding = _padding(padding, type(self).__name__)
        self.data_format = data_format

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        return (n, _out_len(h, self.pool_size[0], self.strides[0], self.padding),
                _out_len(w, self.pool_size[1], self.strides[1], self.padding), c)

    def get_config(self):
        return dict(super().get_config(), pool_size=list(self.pool_size), strides=list(self.strides),
                    padding=self.padding, data_format=self.data_format)


class MaxPooling2D(_Pooling2D):
    """Max over pool_size windows. 'same' as TensorFlow: windows hanging over the edge take the max of
    the real values (done by repeating the edge rows, which never changes a maximum)."""

    def call(self, inputs):
        x = inputs
        if self.padding == "same":
            for i, dim in enumerate((2, 3)):
                before, after = _same_pads(x.shape[dim], self.pool_size[i], self.strides[i])
                x = _pad_end(_pad_begin(x, dim, before), dim, after, replicate=True)
        return F.max_pool2d(x, self.pool_size, self.strides)


MaxPool2D = MaxPooling2D


class AveragePooling2D(_Pooling2D):
    """Mean over pool_size windows ('same' averages only the real values, as TensorFlow)."""

    def call(self, inputs):
        x = inputs
        if self.padding == "same":
            pads = [_same_pads(x.shape[d], self.pool_size[i], self.strides[i]) for i, d in enumerate((2, 3))]
            if any(p != (0, 0) for p in pads):
                # mean of real values = avg_pool(x padded with zeros) / avg_pool(ones padded with zeros)
                ones = zeros(1, 1, x.shape[2], x.shape[3], dtype=x.dtype) + 1.0
                padded, count = x, ones
                for i, dim in enumerate((2, 3)):
                    before, after = pads[i]
                    for which in ("x", "c"):
                        t = padded if which == "x" else count
                        shape = list(t.shape)
                        parts = []
                        if before:
                            shape[dim] = before
                            parts.append(zeros(*shape, dtype=x.dtype))
                        parts.append(t)
                        if after:
                            shape[dim] = after
                            parts.append(zeros(*shape, dtype=x.dtype))
                        t = cat(parts, dim) if len(parts) > 1 else t
                        if which == "x":
                            padded = t
                        else:
                            count = t
                return F.avg_pool2d(padded, self.pool_size, self.strides) / \
                    F.avg_pool2d(count, self.pool_size, self.strides)
        return F.avg_pool2d(x, self.pool_size, self.strides)


AvgPool2D = AveragePooling2D


class UpSampling2D(Layer):
    """Repeats rows and columns `size` times (nearest neighbour)."""
    _internal_layout = True

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        _check_format("UpSampling2D", data_format)
        if interpolation != "nearest":
            raise NotImplementedError("UpSampling2D: only interpolation='nearest' is supported")
        self.size = pair(size, "size", type(self).__name__, 1)
        self.data_format, self.interpolation = data_format, interpolation

    def call(self, inputs):
        return F.interpolate(inputs, scale_factor=self.size)

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        return (n, None if h is None else h * self.size[0], None if w is None else w * self.size[1], c)

    def get_config(self):
        return dict(super().get_config(), size=list(self.size), data_format=self.data_format,
                    interpolation=self.interpolation)


def _edges(value, name):
    """Keras' int / (sym_h, sym_w) / ((top, bottom), (left, right)) -> ((top, bottom), (left, right))."""
    if isinstance(value, int):
        value = (value, value)
    value = tuple(value)
    if len(value) == 2 and all(isinstance(v, int) for v in value):
        value = ((value[0], value[0]), (value[1], value[1]))
    edges = tuple(tuple(int(v) for v in pair) for pair in value)
    if len(edges) != 2 or any(len(p) != 2 or min(p) < 0 for p in edges):
        raise ValueError(f"{name} must be a non-negative int, 2 ints or 2 pairs of ints, got {value}")
    return edges


def _zeros_along(x, dim, count):
    shape = list(x.shape)
    shape[dim] = count
    return zeros(*shape, dtype=x.dtype)


class ZeroPadding2D(Layer):
    """Zero rows above/below and zero columns left/right of each image."""
    _internal_layout = True

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        _check_format("ZeroPadding2D", data_format)
        self.padding, self.data_format = _edges(padding, "ZeroPadding2D: padding"), data_format

    def call(self, inputs):
        x = inputs
        for dim, (before, after) in zip((2, 3), self.padding):
            parts = ([_zeros_along(x, dim, before)] if before else []) + [x] + \
                ([_zeros_along(x, dim, after)] if after else [])
            x = cat(parts, dim) if len(parts) > 1 else x
        return x

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        (t, b), (l, r) = self.padding
        return (n, None if h is None else h + t + b, None if w is None else w + l + r, c)

    def get_config(self):
        return dict(super().get_config(), padding=[list(p) for p in self.padding], data_format=self.data_format)


class Cropping2D(Layer):
    """Drops rows above/below and columns left/right of each image."""
    _internal_layout = True

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        _check_format("Cropping2D", data_format)
        self.cropping, self.data_format = _edges(cropping, "Cropping2D: cropping"), data_format

    def build(self, input_shape):
        (t, b), (l, r) = self.cropping
        for size, cut, what in ((input_shape[1], t + b, "height"), (input_shape[2], l + r, "width")):
            if size is not None and cut >= size:
                raise ValueError(f"{self.name}: cropping {self.cropping} leaves nothing of the {what} {size} "
                                 f"(input shape {input_shape})")
        self.built = True

    def call(self, inputs):
        (t, b), (l, r) = self.cropping
        return inputs[:, :, t:inputs.shape[2] - b, l:inputs.shape[3] - r]

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        (t, b), (l, r) = self.cropping
        return (n, None if h is None else h - t - b, None if w is None else w - l - r, c)

    def get_config(self):
        return dict(super().get_config(), cropping=[list(p) for p in self.cropping], data_format=self.data_format)


class GlobalAveragePooling2D(Layer):
    _internal_layout = True

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        _check_format("GlobalAveragePooling2D", data_format)
        self.data_format = data_format

    def call(self, inputs):
        return inputs.mean((2, 3))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[3])


class GlobalMaxPooling2D(GlobalAveragePooling2D):
    def call(self, inputs):
        return inputs.amax((2, 3))
