"""Layer wrappers: Bidirectional (a recurrent layer run both ways) and TimeDistributed (a layer
applied to every time step), Keras 2 names and behaviour."""
from ...ops.shape import cat, stack, unbind
from .._common import to_internal, to_keras
from .base import Layer
from .serialization import deserialize_layer

_MERGE_MODES = ("concat", "sum", "mul", "ave", None)


def _layer_from(layer):
    """A layer object, or one rebuilt from its serialized {'class_name', 'config'} (load_model)."""
    if isinstance(layer, dict):
        return deserialize_layer(layer)
    if not isinstance(layer, Layer):
        raise TypeError(f"expected a Keras layer, got {type(layer).__name__}")
    return layer


def _serialized(layer):
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


class Bidirectional(Layer):
    """Runs `layer` (SimpleRNN, LSTM, GRU) forwards and a copy of it backwards over the sequence,
    and merges the two outputs (merge_mode 'concat', 'sum', 'mul', 'ave', or None for a list). With
    return_sequences the backward outputs are reversed back to the input's time order, as Keras.
    Weights: the forward layer's, then the backward layer's. return_state is not supported."""
    _internal_layout = True

    def __init__(self, layer, merge_mode="concat", backward_layer=None, **kwargs):
        super().__init__(**kwargs)
        self.forward_layer = _layer_from(layer)
        if not hasattr(self.forward_layer, "go_backwards"):
            raise ValueError(f"Bidirectional: expected a recurrent layer (SimpleRNN, LSTM, GRU), got "
                             f"{type(self.forward_layer).__name__}")
        if merge_mode not in _MERGE_MODES:
            raise ValueError(f"Bidirectional: invalid merge_mode {merge_mode!r}; expected one of {_MERGE_MODES}")
        if self.forward_layer.return_state:
            raise NotImplementedError("Bidirectional: return_state=True is not supported by deepcore.keras")
        if backward_layer is None:
            config = dict(self.forward_layer.get_config(), go_backwards=not self.forward_layer.go_backwards,
                          name="backward_" + self.forward_layer.name)
            config.pop("batch_input_shape", None)
            backward_layer = type(self.forward_layer).from_config(config)
        self.backward_layer = _layer_from(backward_layer)
        self.merge_mode = merge_mode
        if self._batch_input_shape is None and self.forward_layer._batch_input_shape is not None:
            self._batch_input_shape = self.forward_layer._batch_input_shape

    def build(self, input_shape):
        self.forward_layer._maybe_build(input_shape)
        self.backward_layer._maybe_build(input_shape)
        self.built = True

    def call(self, inputs, training=None):
        forward = self.forward_layer._run(inputs, training)
        backward = self.backward_layer._run(inputs, training)
        if self.forward_layer.return_sequences:
            backward = stack(list(reversed(unbind(backward, 1))), 1)  # back to the input's time order
        if self.merge_mode == "concat":
            return cat([forward, backward], -1)
        if self.merge_mode == "sum":
            return forward + backward
        if self.merge_mode == "mul":
            return forward * backward
        if self.merge_mode == "ave":
            return (forward + backward) * 0.5
        return [forward, backward]

    def compute_output_shape(self, input_shape):
        shape = self.forward_layer.compute_output_shape(input_shape)
        if self.merge_mode is None:
            return [shape, shape]
        return tuple(shape[:-1]) + (shape[-1] * 2,) if self.merge_mode == "concat" else shape

    def get_config(self):
        return dict(super().get_config(), layer=_serialized(self.forward_layer), merge_mode=self.merge_mode,
                    backward_layer=_serialized(self.backward_layer))


class TimeDistributed(Layer):
    """Applies `layer` to each time step of (batch, timesteps, ...) inputs, with the same weights:
    the steps are folded into the batch, (batch * timesteps, ...), and unfolded after."""

    def __init__(self, layer, **kwargs):
        super().__init__(**kwargs)
        self.layer = _layer_from(layer)

    def build(self, input_shape):
        if len(input_shape) < 3:
            raise ValueError(f"TimeDistributed: expects inputs of at least 3 dimensions (batch, timesteps, ...), "
                             f"got {input_shape}")
        self.layer._maybe_build((None,) + tuple(input_shape[2:]))
        self.built = True

    def call(self, inputs, training=None):
        batch, steps = inputs.shape[0], inputs.shape[1]
        folded = inputs.reshape((batch * steps,) + tuple(inputs.shape[2:]))
        out = to_keras(self.layer._run(to_internal(folded), training))
        return out.reshape((batch, steps) + tuple(out.shape[1:]))

    def compute_output_shape(self, input_shape):
        inner = self.layer.compute_output_shape((None,) + tuple(input_shape[2:]))
        return (input_shape[0], input_shape[1]) + tuple(inner[1:])

    def get_config(self):
        return dict(super().get_config(), layer=_serialized(self.layer))
