"""RNN, LSTM, GRU and their cells, as torch.nn's: same arguments, parameter names, shapes and initialisation.

The gate arithmetic is deepcore.ops.recurrent's (shared with the Keras layers); this file holds the
weight layout. A layer's input projection for all time steps is one GEMM before the loop, so each
step multiplies only the hidden state; each layer-direction's time loop is then one
ops.recurrent.recurrent_sequence node (the recurrent GEMM and the fused native cell per step, its
backward through time in one pass). A PackedSequence input runs, at step t, only the batch_sizes[t]
sequences still going (a prefix of the batch, which is sorted longest first), so each sequence's
final state is the one at its own last step; it and the cells go step by step through the fused cells.
"""
import math
import numbers
import warnings

from ...ops import recurrent as _rec
from ...ops.shape import cat as _cat, split as _split, stack as _stack
from ...tensor import Tensor, empty as _empty, zeros as _zeros
from .. import functional as F
from .. import init
from ..parameter import Parameter
from ..utils.rnn import PackedSequence
from .module import Module

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}  # blocks of hidden_size rows in the weights


def _step(mode, gx, gh, state):
    """One time step from the projections gx = x W_ih^T + b_ih and gh = h W_hh^T + b_hh: the new
    state, (h,) or (h, c). PyTorch's gate orders are the defaults of ops.recurrent (i, f, g, o; r, z, n)."""
    if mode == "LSTM":
        return _rec.lstm_cell(gx, gh, state[1], "tanh", "sigmoid")
    if mode == "GRU":
        return (_rec.gru_cell(gx, gh, state[0], "tanh", "sigmoid"),)
    return (_rec.rnn_cell(gx, gh, "relu" if mode == "RNN_RELU" else "tanh"),)


def _check_dropout(p):
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p <= 1:
        raise ValueError(f"dropout should be a number in range [0, 1] representing the probability of an element "
                         f"being zeroed, got {p!r}")


def _check_size(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} should be of type int, got: {type(value).__name__}")
    if value <= 0:
        raise ValueError(f"{name} must be greater than zero, got {value}")


def _check_input(op, input, input_size, weight, ranks):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a deepcore Tensor, got {type(input).__name__}")
    if input.ndim not in ranks:
        raise ValueError(f"{op}: Expected input to be {ranks[0]}D or {ranks[1]}D, got {input.ndim}D tensor instead "
                         f"(shape {tuple(input.shape)})")
    if input.shape[-1] != input_size:
        raise ValueError(f"{op}: input of shape {tuple(input.shape)} has {input.shape[-1]} features, expected "
                         f"input_size={input_size}")
    if input.dtype is not weight.dtype or input.device != weight.device:
        raise ValueError(f"{op}: input is {input.dtype.name} on {input.device} but the parameters are "
                         f"{weight.dtype.name} on {weight.device}")


def _check_state(op, what, t, expected, input):
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: {what} must be a deepcore Tensor, got {type(t).__name__}")
    if tuple(t.shape) != expected:
        raise ValueError(f"{op}: Expected {what} of shape {expected}, got {tuple(t.shape)} (input of shape "
                         f"{tuple(input.shape)})")
    if t.dtype is not input.dtype or t.device != input.device:
        raise ValueError(f"{op}: {what} is {t.dtype.name} on {t.device} but the input is {input.dtype.name} on "
                         f"{input.device}")


def _states(op, mode, hx, expected, input):
    """hx as a tuple of state tensors ((h,) or (h, c)), each checked against `expected`."""
    if mode == "LSTM":
        if not isinstance(hx, (tuple, list)) or len(hx) != 2:
            raise TypeError(f"{op}: hx must be a tuple (h_0, c_0), got {type(hx).__name__}")
        names = ("h_0", "c_0")
    else:
        hx, names = (hx,), ("hx",)
    for name, t in zip(names, hx):
        _check_state(op, name, t, expected, input)
    return tuple(hx)


def _packed_forward(mode, gx, sizes, state, w_hh, b_hh):
    """The forward direction over a packed batch: (outputs per step, final states). A sequence that
    ends before step t leaves the state there; those rows are put back in order at the end."""
    ended, ys = [], []
    for t, n in enumerate(sizes):
        if n < state[0].shape[0]:
            ended.append(tuple(s[n:] for s in state))
            state = tuple(s[:n] for s in state)
        state = _step(mode, gx[t], F.linear(state[0], w_hh, b_hh), state)
        ys.append(state[0])
    if ended:  # rows [0, n_last) finished last; earlier endings hold the rows after them
        parts = [state] + ended[::-1]
        state = tuple(_cat([p[i] for p in parts], 0) for i in range(len(state)))
    return ys, state


def _packed_reverse(mode, gx, sizes, start, w_hh, b_hh):
    """The reverse direction over a packed batch: each sequence starts (from `start`) at its own last
    step, joining the running rows as the loop walks back in time."""
    ys, state = [None] * len(sizes), None
    for t in range(len(sizes) - 1, -1, -1):
        n = sizes[t]
        if state is None:
            state = tuple(s[:n] for s in start)
        elif n > state[0].shape[0]:
            state = tuple(_cat([s, s0[s.shape[0]:n]], 0) for s, s0 in zip(state, start))
        state = _step(mode, gx[t], F.linear(state[0], w_hh, b_hh), state)
        ys[t] = state[0]
    return ys, state


class RNNBase(Module):
    """What RNN, LSTM and GRU share: the arguments, the parameters (weight_ih_l{k}{_reverse},
    weight_hh_l{k}{_reverse}, bias_ih_l{k}{_reverse}, bias_hh_l{k}{_reverse}, registered in
    PyTorch's order), their U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)) initialisation, and the
    multi-layer, bidirectional time loop."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        if mode not in _GATES:
            raise ValueError(f"Unrecognized RNN mode: {mode!r} (expected one of {', '.join(_GATES)})")
        if proj_size != 0:
            raise ValueError(f"{type(self).__name__}: proj_size={proj_size} is not supported (only proj_size=0)")
        _check_dropout(dropout)
        _check_size("input_size", input_size)
        _check_size("hidden_size", hidden_size)
        _check_size("num_layers", num_layers)
        if dropout > 0 and num_layers == 1:
            warnings.warn(f"dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                          f"expects num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}",
                          UserWarning, stacklevel=3)
        self.mode = mode
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional, self.proj_size = bidirectional, 0
        gate_size = _GATES[mode] * hidden_size
        num_directions = 2 if bidirectional else 1
        self._all_weights = []  # the parameter names, one list per (layer, direction)
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * num_directions
            for direction in range(num_directions):
                suffix = "_reverse" if direction == 1 else ""
                shapes = [("weight_ih", (gate_size, layer_input)), ("weight_hh", (gate_size, hidden_size))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                names = []
                for kind, shape in shapes:
                    name = f"{kind}_l{layer}{suffix}"
                    setattr(self, name, Parameter(_empty(*shape, dtype=dtype, device=device)))
                    names.append(name)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def flatten_parameters(self):
        """A no-op (PyTorch packs the weights for cuDNN here); kept so that PyTorch code runs."""

    @property
    def all_weights(self):
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def _weights(self, k):
        """(weight_ih, weight_hh, bias_ih, bias_hh) of layer-direction k (biases None without bias)."""
        w = [getattr(self, name) for name in self._all_weights[k]]
        return tuple(w) if self.bias else (w[0], w[1], None, None)

    def _run_packed(self, packed, hx):
        """_run for a PackedSequence: (the output as a PackedSequence, final states), hx and the final
        states in the original batch order."""
        op = type(self).__name__
        data, sizes = packed.data, [int(n) for n in packed.batch_sizes.tolist()]
        if not isinstance(data, Tensor) or data.ndim != 2:
            raise ValueError(f"{op}: a PackedSequence's data must be 2-D (total steps, input_size), got "
                             f"{tuple(data.shape) if isinstance(data, Tensor) else type(data).__name__}")
        _check_input(op, data, self.input_size, self.weight_ih_l0, (2, 2))
        num_directions = 2 if self.bidirectional else 1
        count, hidden, batch = self.num_layers * num_directions, self.hidden_size, sizes[0]
        n_states = 2 if self.mode == "LSTM" else 1
        if hx is None:
            initial = ((_zeros(count, batch, hidden, dtype=data.dtype, device=data.device),) * n_states)
        else:
            initial = _states(op, self.mode, hx, (count, batch, hidden), data)
            if packed.sorted_indices is not None:  # into the packed (longest-first) order
                initial = tuple(s.index_select(1, packed.sorted_indices) for s in initial)
        finals = [[] for _ in range(n_states)]
        x = data
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(num_directions):
                k = layer * num_directions + direction
                w_ih, w_hh, b_ih, b_hh = self._weights(k)
                gx = _split(F.linear(x, w_ih, b_ih), sizes, 0)  # one GEMM, then a view per step
                run = _packed_reverse if direction else _packed_forward
                ys, state = run(self.mode, gx, sizes, tuple(s[k] for s in initial), w_hh, b_hh)
                outputs.append(_cat(ys, 0))
                for i, s in enumerate(state):
                    finals[i].append(s)
            x = outputs[0] if num_directions == 1 else _cat(outputs, 1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        states = tuple(_stack(f, 0) for f in finals)
        if packed.unsorted_indices is not None:
            states = tuple(s.index_select(1, packed.unsorted_indices) for s in states)
        return PackedSequence(x, packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices), states

    def _run(self, input, hx):
        """The shared forward: (output, final states as a tuple of (h_n,) or (h_n, c_n))."""
        if isinstance(input, PackedSequence):
            return self._run_packed(input, hx)
        op = type(self).__name__
        _check_input(op, input, self.input_size, self.weight_ih_l0, (2, 3))
        batched = input.ndim == 3
        if not batched:
            x = input.unsqueeze(1)
        else:
            x = input.transpose(0, 1) if self.batch_first else input
        steps, batch = x.shape[0], x.shape[1]
        if steps == 0:
            raise ValueError(f"{op}: expected a sequence of at least one step, got an input of shape "
                             f"{tuple(input.shape)}")
        num_directions = 2 if self.bidirectional else 1
        count, hidden = self.num_layers * num_directions, self.hidden_size
        n_states = 2 if self.mode == "LSTM" else 1
        if hx is None:
            zero = _zeros(batch, hidden, dtype=input.dtype, device=input.device)
            initial = None
        else:
            expected = (count, batch, hidden) if batched else (count, hidden)
            initial = _states(op, self.mode, hx, expected, input)
            if not batched:
                initial = tuple(s.unsqueeze(1) for s in initial)
        finals = [[] for _ in range(n_states)]
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(num_directions):
                k = layer * num_directions + direction
                w_ih, w_hh, b_ih, b_hh = self._weights(k)
                # One GEMM for all steps. LSTM and RNN leave b_ih to the loop, which adds it to b_hh (the
                # gates see only the sum): one reduction then gives both biases their gradient.
                split_bias = self.mode != "GRU"
                gx = F.linear(x, w_ih, None if split_bias else b_ih)
                state = (zero,) * n_states if initial is None else tuple(s[k] for s in initial)
                ys, state = _rec.recurrent_sequence(self.mode, gx, w_hh, b_hh, state[0],
                                                    state[1] if n_states == 2 else None, reverse=bool(direction),
                                                    input_bias=b_ih if split_bias else None)
                outputs.append(ys)
                for i, s in enumerate(state):
                    finals[i].append(s)
            x = outputs[0] if num_directions == 1 else _cat(outputs, 2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        finals = tuple(_stack(f, 0) for f in finals)
        if not batched:
            return x.squeeze(1), tuple(f.squeeze(1) for f in finals)
        return (x.transpose(0, 1) if self.batch_first else x), finals

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s


class RNN(RNNBase):
    """Elman RNN: h_t = nonlinearity(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), nonlinearity 'tanh' or 'relu'.

    input (L, N, H_in) ((N, L, H_in) with batch_first, or (L, H_in) unbatched), hx (D * num_layers, N, H)
    -> output (L, N, D * H) and h_n (D * num_layers, N, H), D = 2 if bidirectional else 1.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size, hidden_size, num_layers,
                         bias, batch_first, dropout, bidirectional, 0, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        output, (h_n,) = self._run(input, hx)
        return output, h_n


class LSTM(RNNBase):
    """Long short-term memory, PyTorch's gates i, f, g, o (weight rows in that order); proj_size is not supported.

    forward(input, (h_0, c_0)) -> (output, (h_n, c_n)), shapes as in RNN (c like h).
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, device, dtype)

    def forward(self, input, hx=None):
        output, (h_n, c_n) = self._run(input, hx)
        return output, (h_n, c_n)


class GRU(RNNBase):
    """Gated recurrent unit, PyTorch's gates r, z, n (the reset gate applied after the hidden product).

    forward(input, hx) -> (output, h_n), shapes as in RNN.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, 0,
                         device, dtype)

    def forward(self, input, hx=None):
        output, (h_n,) = self._run(input, hx)
        return output, h_n


# ---- cells: one time step --------------------------------------------------------------------

class RNNCellBase(Module):
    """What the cells share: weight_ih (gates * hidden, input), weight_hh (gates * hidden, hidden),
    bias_ih and bias_hh (gates * hidden), all U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""

    _mode = None

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        _check_size("input_size", input_size)
        _check_size("hidden_size", hidden_size)
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        self.weight_ih = Parameter(_empty(num_chunks * hidden_size, input_size, dtype=dtype, device=device))
        self.weight_hh = Parameter(_empty(num_chunks * hidden_size, hidden_size, dtype=dtype, device=device))
        if bias:
            self.bias_ih = Parameter(_empty(num_chunks * hidden_size, dtype=dtype, device=device))
            self.bias_hh = Parameter(_empty(num_chunks * hidden_size, dtype=dtype, device=device))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _run(self, input, hx):
        """input (N, H_in) or (H_in,), hx None or its states (N, H) or (H,) -> the new states (a tuple)."""
        op = type(self).__name__
        _check_input(op, input, self.input_size, self.weight_ih, (1, 2))
        batched = input.ndim == 2
        x = input if batched else input.unsqueeze(0)
        n_states = 2 if self._mode == "LSTM" else 1
        if hx is None:
            state = (_zeros(x.shape[0], self.hidden_size, dtype=input.dtype, device=input.device),) * n_states
        else:
            expected = (x.shape[0], self.hidden_size) if batched else (self.hidden_size,)
            state = _states(op, self._mode, hx, expected, input)
            if not batched:
                state = tuple(s.unsqueeze(0) for s in state)
        state = _step(self._mode, F.linear(x, self.weight_ih, self.bias_ih),
                      F.linear(state[0], self.weight_hh, self.bias_hh), state)
        return state if batched else tuple(s.squeeze(0) for s in state)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s


class RNNCell(RNNCellBase):
    """h' = nonlinearity(x W_ih^T + b_ih + h W_hh^T + b_hh); forward(input, hx=None) -> h'."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}. Select from 'tanh' or 'relu'.")
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity
        self._mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"

    def forward(self, input, hx=None):
        return self._run(input, hx)[0]


class LSTMCell(RNNCellBase):
    """One LSTM step (gates i, f, g, o); forward(input, (h, c)=None) -> (h', c')."""

    _mode = "LSTM"

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input, hx=None):
        h, c = self._run(input, hx)
        return h, c


class GRUCell(RNNCellBase):
    """One GRU step (gates r, z, n); forward(input, hx=None) -> h'."""

    _mode = "GRU"

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input, hx=None):
        return self._run(input, hx)[0]
