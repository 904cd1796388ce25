"""Recurrent layers: SimpleRNN, LSTM, GRU (Keras 2 names, weights and defaults as tf.keras 2 / Keras 3).

Inputs are (batch, timesteps, features). Weights as Keras: ``kernel`` (features, k * units),
``recurrent_kernel`` (units, k * units), ``bias`` (k * units; GRU with reset_after: (2, 3 * units),
input and recurrent biases); gate blocks in Keras' order (LSTM i, f, c, o; GRU z, r, h).
Initializers: glorot_uniform kernel, orthogonal recurrent kernel, zero bias (LSTM:
unit_forget_bias sets the forget block to one). activation tanh, recurrent_activation sigmoid.

The input projection of every time step is one matrix product before the loop; the loop is
deepcore.nn's (ops/recurrent.py recurrent_sequence: the recurrent GEMM and a fused native cell per
step, one autograd node for the whole sequence) where the activations are the kernels' (tanh;
sigmoid or hard_sigmoid gates; SimpleRNN tanh or relu), else the same formulas composed of
differentiable ops (GRU with reset_after=False always: its reset gate comes before the product). ``dropout`` and
``recurrent_dropout`` draw one mask per sequence for the inputs and one for the state (Keras 3 and
tf.keras' default implementation). Not supported, with a clear error: stateful, masking
(Embedding(mask_zero=True)), an ``initial_state`` given as a symbolic tensor.
"""
from ...nn import functional as F
from ...ops import recurrent as _cells
from ...ops.arrange import flip
from ...ops.shape import cat, split, stack, unbind
from ...tensor import ones, zeros
from .. import activations, constraints, initializers, regularizers
from .._common import as_tensor, serialize
from .._symbolic import is_symbolic
from .base import Layer


# Keras' activation functions that the fused cells compute, by the kernels' names.
_KERNEL_NAMES = {activations.tanh: "tanh", activations.relu: "relu", activations.sigmoid: "sigmoid",
                 activations.hard_sigmoid: "hard_sigmoid"}


def _kernel_name(fn):
    return _KERNEL_NAMES.get(fn, fn)


def _as_states(initial_state):
    if initial_state is None:
        return []
    return list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]


class _RNN(Layer):
    _internal_layout = True
    _gates = 1       # blocks of units in the kernels
    _states = 1      # tensors of state (LSTM: h and c)

    def __init__(self, units, activation="tanh", use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if int(units) <= 0:
            raise ValueError(f"{type(self).__name__}: units must be a positive integer, got {units}")
        for name, rate in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
            if not 0.0 <= float(rate) <= 1.0:
                raise ValueError(f"{type(self).__name__}: {name} must be in [0, 1], got {rate}")
        if stateful:
            raise NotImplementedError(f"{type(self).__name__}(stateful=True) is not supported by deepcore.keras")
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout, self.recurrent_dropout = float(dropout), float(recurrent_dropout)
        self.return_sequences, self.return_state = bool(return_sequences), bool(return_state)
        self.go_backwards, self.stateful, self.unroll = bool(go_backwards), False, bool(unroll)

    # ---- weights ---------------------------------------------------------------------------------
    def _bias_shape(self):
        return (self._gates * self.units,)

    def _bias_initializer(self):
        return self.bias_initializer

    def build(self, input_shape):
        if len(input_shape) != 3 or input_shape[-1] is None:
            raise ValueError(f"{self.name}: expects inputs of shape (batch, timesteps, features) with known "
                             f"features, got {input_shape}")
        width = self._gates * self.units
        self.kernel = self.add_weight("kernel", (input_shape[-1], width), initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight("recurrent_kernel", (self.units, width),
                                                initializer=self.recurrent_initializer,
                                                regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint)
        self.bias = self.add_weight("bias", self._bias_shape(), initializer=self._bias_initializer(),
                                    regularizer=self.bias_regularizer,
                                    constraint=self.bias_constraint) if self.use_bias else None
        self.built = True

    def _input_bias(self):
        return self.bias

    def _recurrent_bias(self):
        return None

    # ---- the time loop ---------------------------------------------------------------------------
    def call(self, inputs, training=None, initial_state=None):
        if inputs.ndim != 3 or inputs.shape[-1] != self.kernel.shape[0]:
            raise ValueError(f"{self.name}: expected inputs (batch, timesteps, {self.kernel.shape[0]}), got "
                             f"{tuple(inputs.shape)}")
        training = self.training if training is None else bool(training)
        batch, steps, features = inputs.shape
        if steps == 0:
            raise ValueError(f"{self.name}: the inputs have no time steps")
        states = self._initial_states(batch, initial_state)
        x = inputs
        if training and 0.0 < self.dropout:
            x = x * F.dropout(ones(batch, 1, features), self.dropout)  # one mask per sequence
        state_mask = (F.dropout(ones(batch, self.units), self.recurrent_dropout)
                      if training and 0.0 < self.recurrent_dropout else None)
        mode = self._sequence_mode()
        # LSTM and SimpleRNN on the fused loop hand it the input bias (see nn.LSTM: one reduction for its gradient).
        loop_bias = mode is not None and mode != "GRU"
        # One GEMM for the input projections of all steps: (batch * steps, features) @ kernel.
        gx_all = F.linear(x.reshape(batch * steps, features), self.kernel.t(),
                          None if loop_bias else self._input_bias())
        gx_all = gx_all.reshape(batch, steps, self._gates * self.units)
        if mode is not None:  # the whole loop as one node
            ys, states = _cells.recurrent_sequence(
                mode, gx_all, self.recurrent_kernel.t(), self._recurrent_bias(), states[0],
                states[1] if self._states == 2 else None, mask=state_mask, activation=_kernel_name(self.activation),
                recurrent_activation=_kernel_name(getattr(self, "recurrent_activation", "sigmoid")),
                order=self._order, reverse=self.go_backwards, time_dim=1,
                input_bias=self._input_bias() if loop_bias else None)
            states = list(states)
            # go_backwards returns the outputs in the order they were made (ys holds them by time index)
            output = (flip(ys, (1,)) if self.go_backwards else ys) if self.return_sequences else states[0]
        else:
            outputs = []
            gx_steps = unbind(gx_all, 1)
            for gx in (reversed(gx_steps) if self.go_backwards else gx_steps):
                states = self._step(gx, states, state_mask)
                if self.return_sequences:
                    outputs.append(states[0])
            output = stack(outputs, 1) if self.return_sequences else states[0]
        return [output] + list(states) if self.return_state else output

    _order = None

    def _sequence_mode(self):
        """ops.recurrent.recurrent_sequence's mode for this layer, or None for the step-by-step loop."""
        return None

    def _call_symbolic(self, inputs, xs, kwargs):
        if any(is_symbolic(s) for s in _as_states(kwargs.get("initial_state"))):
            raise NotImplementedError(f"{self.name}: initial_state as a symbolic tensor is not supported by "
                                      "deepcore.keras; call the layer on real tensors")
        return super()._call_symbolic(inputs, xs, kwargs)

    def _recurrent_product(self, h, state_mask):
        hm = h * state_mask if state_mask is not None else h
        return F.linear(hm, self.recurrent_kernel.t(), self._recurrent_bias())

    def _initial_states(self, batch, initial_state):
        if initial_state is None:
            return [zeros(batch, self.units) for _ in range(self._states)]
        given = _as_states(initial_state)
        if len(given) != self._states:
            raise ValueError(f"{self.name}: initial_state needs {self._states} tensor(s), got {len(given)}")
        states = [as_tensor(s) for s in given]  # arrays become float32, as the weights
        for s in states:
            if tuple(s.shape) != (batch, self.units):
                raise ValueError(f"{self.name}: an initial state must have shape {(batch, self.units)}, got "
                                 f"{tuple(s.shape)}")
        return states

    def compute_output_shape(self, input_shape):
        batch, steps = input_shape[0], input_shape[1]
        out = (batch, steps, self.units) if self.return_sequences else (batch, self.units)
        return [out] + [(batch, self.units)] * self._states if self.return_state else out

    def get_config(self):
        return dict(super().get_config(), units=self.units, activation=activations.serialize(self.activation),
                    use_bias=self.use_bias, kernel_initializer=serialize(self.kernel_initializer),
                    recurrent_initializer=serialize(self.recurrent_initializer),
                    bias_initializer=serialize(self.bias_initializer),
                    kernel_regularizer=serialize(self.kernel_regularizer),
                    recurrent_regularizer=serialize(self.recurrent_regularizer),
                    bias_regularizer=serialize(self.bias_regularizer),
                    kernel_constraint=serialize(self.kernel_constraint),
                    recurrent_constraint=serialize(self.recurrent_constraint),
                    bias_constraint=serialize(self.bias_constraint), dropout=self.dropout,
                    recurrent_dropout=self.recurrent_dropout, return_sequences=self.return_sequences,
                    return_state=self.return_state, go_backwards=self.go_backwards, stateful=False,
                    unroll=self.unroll)


class SimpleRNN(_RNN):
    """h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias)."""

    def _sequence_mode(self):
        return {"tanh": "RNN_TANH", "relu": "RNN_RELU"}.get(_kernel_name(self.activation))

    def _step(self, gx, states, state_mask):
        return [_cells.rnn_cell(gx, self._recurrent_product(states[0], state_mask), self.activation)]


class _GatedRNN(_RNN):
    """What LSTM and GRU add: the gates' recurrent_activation."""

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", **kwargs):
        super().__init__(units, activation=activation, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)

    def get_config(self):
        return dict(super().get_config(), recurrent_activation=activations.serialize(self.recurrent_activation))


class LSTM(_GatedRNN):
    """Long short-term memory; gate blocks i, f, c, o; returns h (and with return_state, [out, h, c])."""
    _gates = 4
    _states = 2
    _order = (0, 1, 2, 3)  # i, f, c, o: PyTorch's order too

    def __init__(self, units, unit_forget_bias=True, **kwargs):
        super().__init__(units, **kwargs)
        self.unit_forget_bias = bool(unit_forget_bias)

    def _bias_initializer(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        units, base = self.units, self.bias_initializer

        def init(shape, dtype=None):  # zeros (or the given initializer) with the forget block at one
            b = base((units,), dtype), initializers.Ones()((units,), dtype), base((2 * units,), dtype)
            return cat(list(b), 0)
        return init

    def _sequence_mode(self):
        return "LSTM"

    def get_config(self):
        return dict(super().get_config(), unit_forget_bias=self.unit_forget_bias)


class GRU(_GatedRNN):
    """Gated recurrent unit; gate blocks z, r, h. reset_after=True (tf.keras 2 and Keras 3's default,
    PyTorch's formula): hh = activation(x W_h + b_h + r * (h U_h + b'_h)), two bias rows;
    reset_after=False (Keras 2.0-2.3's default): hh = activation(x W_h + b_h + (r * h) U_h)."""
    _gates = 3
    _order = (1, 0, 2)  # the blocks of r, z, n in Keras' z, r, h

    def __init__(self, units, reset_after=True, **kwargs):
        super().__init__(units, **kwargs)
        self.reset_after = bool(reset_after)

    def _bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def _input_bias(self):
        return self.bias[0] if self.bias is not None and self.reset_after else self.bias

    def _recurrent_bias(self):
        return self.bias[1] if self.bias is not None and self.reset_after else None

    def _sequence_mode(self):
        return "GRU" if self.reset_after else None

    def _step(self, gx, states, state_mask):  # reset_after=False only
        h = states[0]
        u = self.units
        hm = h * state_mask if state_mask is not None else h
        gx_zr, gx_h = split(gx, [2 * u, u], 1)
        kernel_zr, kernel_h = split(self.recurrent_kernel, [2 * u, u], 1)
        z, r = split(self.recurrent_activation(gx_zr + F.linear(hm, kernel_zr.t())), u, 1)
        hh = self.activation(gx_h + F.linear(r * hm, kernel_h.t()))
        return [hh + z * (h - hh)]

    def get_config(self):
        return dict(super().get_config(), reset_after=self.reset_after)
