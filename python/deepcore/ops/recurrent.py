"""The recurrent cells' gate arithmetic, shared by nn.RNN/LSTM/GRU and keras SimpleRNN/LSTM/GRU.

Each cell takes gx, the input's projection (x W + b), and gh, the previous hidden state's
projection (h U + b), both (batch, k * hidden): each API multiplies in its own weight layout
(PyTorch's (k * hidden, in) matrices, Keras' (in, k * hidden) kernels seen as their transpose) and
only the arithmetic between the products and the next state is common. Gates are column blocks
of the projections, in an order the caller gives (LSTM: i, f, g, o in both APIs; GRU: PyTorch
r, z, n, Keras z, r, h).

Two entry points:

- ``rnn_cell`` / ``lstm_cell`` / ``gru_cell``: one time step, one autograd node whose forward and
  backward are one fused native pass each (csrc/cpu/recurrent.cpp). The cells and packed
  sequences use them.
- ``recurrent_sequence``: a whole layer-direction as one autograd node. Its forward loops over the
  steps calling the recurrent GEMM (the linear kernel) and the fused cell; its backward walks back
  through time with the fused cell backward and one GEMM per step for the state's gradient, then
  computes the recurrent weight's gradient as one GEMM over all steps (not one per step, and no
  autograd bookkeeping per step).

Activations other than the kernels' (tanh candidate; sigmoid or hard_sigmoid gates; tanh or relu
for the plain RNN), and engines without the kernels (CUDA today), take the same formulas composed
of differentiable ops, so autograd supplies the backward there.
"""
from .. import _C
from ..autograd import Function
from ..tensor import Tensor
from .shape import split, stack

_SUM = _C.ReduceOp.sum
_ADD, _MUL = _C.BinaryOp.add, _C.BinaryOp.mul

_GATE_NAMES = ("sigmoid", "hard_sigmoid")
_STATE_NAMES = ("tanh", "relu")
_BLOCKS = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}
_DEFAULT_ORDER = {"LSTM": (0, 1, 2, 3), "GRU": (0, 1, 2)}


def _hard_sigmoid(x):
    return (x * 0.2 + 0.5).clamp(0.0, 1.0)  # Keras 2's


# Tensor's methods, installed on the class when deepcore is imported (_tensor_methods.install).
_TANH, _SIGMOID, _RELU = (getattr(Tensor, name) for name in ("tanh", "sigmoid", "relu"))
_COMPOSED = {"tanh": _TANH, "sigmoid": _SIGMOID, "relu": _RELU, "hard_sigmoid": _hard_sigmoid}
_NAME_OF = {_TANH: "tanh", _SIGMOID: "sigmoid", _RELU: "relu"}


def _name(fn):
    """An activation as the kernels' name where it is one of theirs, else the callable itself."""
    if isinstance(fn, str):
        if fn not in _COMPOSED:
            raise ValueError(f"recurrent cell: unknown activation {fn!r} (expected one of {', '.join(_COMPOSED)} "
                             f"or a callable)")
        return fn
    return _NAME_OF.get(fn, fn)


def _fn(act):
    return _COMPOSED[act] if isinstance(act, str) else act


def _native(x, *kernels):
    be = x._backend
    return all(hasattr(be, k) for k in kernels)


# ---- one time step --------------------------------------------------------------------------

class RNNCell(Function):
    """h' = nonlinearity(gx + gh); the backward needs only h'."""

    @staticmethod
    def forward(ctx, gx, gh, nonlinearity):
        h = Tensor._make(gx._backend.rnn_cell_forward(gx._data, gh._data, nonlinearity))
        ctx.save_for_backward(h)
        ctx.nonlinearity = nonlinearity
        return h

    @staticmethod
    def backward(ctx, g):
        h, = ctx.saved_tensors
        d = Tensor._make(g._backend.rnn_cell_backward(g._data, h._data, ctx.nonlinearity))
        return d, d, None  # gx and gh enter as a sum: the same gradient


class LSTMCell(Function):
    """(h', c'): the gates, their activations and the state update in one pass; the pass saves the
    activated gates and tanh(c') for the backward."""

    @staticmethod
    def forward(ctx, gx, gh, c, order, recurrent_activation):
        h, c_next, gates = gx._backend.lstm_cell_forward(gx._data, gh._data, c._data, order, recurrent_activation)
        ctx.save_for_backward(c, Tensor._make(gates))
        ctx.order, ctx.ract = order, recurrent_activation
        return Tensor._make(h), Tensor._make(c_next)

    @staticmethod
    def backward(ctx, grad_h, grad_c):
        c, gates = ctx.saved_tensors
        d, dc = grad_h._backend.lstm_cell_backward(grad_h._data, grad_c._data, gates._data, c._data, ctx.order,
                                                   ctx.ract)
        d = Tensor._make(d)
        return d, d, Tensor._make(dc), None, None


class GRUCell(Function):
    """h' = (1 - z) n + z h with n = tanh(gx_n + r gh_n): one pass; gx's and gh's gradients differ in
    the n block only (the reset gate scales the hidden product)."""

    @staticmethod
    def forward(ctx, gx, gh, h, order, recurrent_activation):
        h_next, gates = gx._backend.gru_cell_forward(gx._data, gh._data, h._data, order, recurrent_activation)
        ctx.save_for_backward(h, Tensor._make(gates))
        ctx.order, ctx.ract = order, recurrent_activation
        return Tensor._make(h_next)

    @staticmethod
    def backward(ctx, g):
        h, gates = ctx.saved_tensors
        dx, dh, dprev = g._backend.gru_cell_backward(g._data, gates._data, h._data, ctx.order, ctx.ract)
        return Tensor._make(dx), Tensor._make(dh), Tensor._make(dprev), None, None


def _check_order(order, n, op):
    order = tuple(int(k) for k in order)
    if sorted(order) != list(range(n)):
        raise ValueError(f"{op}: order must be a permutation of 0..{n - 1} (the block of each gate), got {order}")
    return order


def rnn_cell(gx, gh, activation="tanh"):
    """h' = activation(gx + gh) (Elman RNN); activation 'tanh', 'relu' or any callable."""
    act = _name(activation)
    if act in _STATE_NAMES and _native(gx, "rnn_cell_forward"):
        return RNNCell.apply(gx, gh, act)
    return _fn(act)(gx + gh)


def lstm_cell(gx, gh, c, activation="tanh", recurrent_activation="sigmoid", order=(0, 1, 2, 3)):
    """(h', c') of an LSTM: i, f, o = recurrent_activation(...), g = activation(...),
    c' = f * c + i * g, h' = o * activation(c'). `order` gives the block index of i, f, g, o."""
    order = _check_order(order, 4, "lstm_cell")
    act, ract = _name(activation), _name(recurrent_activation)
    if act == "tanh" and ract in _GATE_NAMES and _native(gx, "lstm_cell_forward"):
        return LSTMCell.apply(gx, gh, c, list(order), ract)
    act, ract = _fn(act), _fn(ract)
    blocks = split(gx + gh, c.shape[-1], 1)  # one split: its backward joins the blocks in one copy
    i, f, g, o = (blocks[k] for k in order)
    c_next = ract(f) * c + ract(i) * act(g)
    return ract(o) * act(c_next), c_next


def gru_cell(gx, gh, h, activation="tanh", recurrent_activation="sigmoid", order=(0, 1, 2)):
    """h' of a GRU with the reset gate applied after the hidden product (PyTorch; Keras'
    reset_after=True): r, z = recurrent_activation(gx + gh) blocks, n = activation(gx_n + r * gh_n),
    h' = z * h + (1 - z) * n. `order` gives the block index of r, z, n."""
    order = _check_order(order, 3, "gru_cell")
    act, ract = _name(activation), _name(recurrent_activation)
    if act == "tanh" and ract in _GATE_NAMES and _native(gx, "gru_cell_forward"):
        return GRUCell.apply(gx, gh, h, list(order), ract)
    act, ract = _fn(act), _fn(ract)
    bx, bh = split(gx, h.shape[-1], 1), split(gh, h.shape[-1], 1)
    r_at, z_at, n_at = order
    r = ract(bx[r_at] + bh[r_at])
    z = ract(bx[z_at] + bh[z_at])
    n = act(bx[n_at] + r * bh[n_at])
    return n + z * (h - n)


# ---- a whole sequence -----------------------------------------------------------------------

def _step_view(be, a, t, time_dim):
    """Step t of a 3-D array whose time axis is `time_dim` (0 or 1), as a 2-D view."""
    sh, st = a.shape, a.strides
    keep = (1, 2) if time_dim == 0 else (0, 2)
    return be.view(a, [sh[keep[0]], sh[2]], [st[keep[0]], st[2]], a.offset + t * st[time_dim])


def _flat(be, a):
    """A contiguous 3-D buffer as 2-D (rows = its first two axes together)."""
    return be.view(a, [a.shape[0] * a.shape[1], a.shape[2]], [a.shape[2], 1], a.offset)


def _transposed(be, a):
    return be.view(a, [a.shape[1], a.shape[0]], [a.strides[1], a.strides[0]], a.offset)


class Sequence(Function):
    """One layer-direction over all steps. Inputs: gx (the input projections of every step, time on
    axis `time_dim`), weight (k * hidden, hidden) in linear's layout, bias or None, h0, c0 (LSTM) or
    None, mask (multiplies h before the recurrent product: Keras' recurrent dropout) or None,
    input_bias or None (LSTM/RNN: gx's bias, added with `bias` in the recurrent product; both
    gradients are then one reduction of the same pre-activation gradient).
    Outputs: every step's h (in gx's layout, steps in time order), then h_n (and c_n)."""

    @staticmethod
    def forward(ctx, gx, weight, bias, h0, c0, mask, input_bias, mode, order, ract, reverse, time_dim):
        be = gx._backend
        g, w = gx._data, weight._data
        b = [t._data for t in (bias, input_bias) if t is not None]
        b = be.binary(_ADD, b[0], b[1]) if len(b) == 2 else (b[0] if b else None)
        m = mask._data if mask is not None else None
        steps, hidden = g.shape[time_dim], h0.shape[1]
        lead = [g.shape[0], g.shape[1]]
        record = bool(ctx.needs_input_grad)
        lstm, gru = mode == "LSTM", mode == "GRU"
        ys = be.empty(lead + [hidden], g.dtype)
        # Kept for the backward, by time index: the recurrent GEMM's inputs (h, masked) in one buffer, for
        # the weight gradient's one GEMM; the kernels' own outputs as they are (no copies): the activated
        # gates and the previous state the cell needs (c for LSTM, h for GRU).
        hin = be.empty(lead + [hidden], g.dtype) if record else None
        gates, prev = [None] * steps, [None] * steps
        h, c = h0._data, c0._data if lstm else None
        # The cells write h straight into the outputs' step, except GRU batch-major, whose input h (the
        # previous step of the same buffer) the kernel's no-shared-memory rule would refuse.
        direct = time_dim == 0 or not gru
        for t in (range(steps - 1, -1, -1) if reverse else range(steps)):
            x_t, y_t = _step_view(be, g, t, time_dim), _step_view(be, ys, t, time_dim)
            h_in = be.binary(_MUL, h, m) if m is not None else h
            gh = be.linear_forward(h_in, w, b, False)
            if record:
                be.copy_(_step_view(be, hin, t, time_dim), h_in)
            if lstm:
                prev[t] = c
                h, c, gates[t] = be.lstm_cell_forward(x_t, gh, c, order, ract, y_t)
            elif gru:
                prev[t] = h
                h, gates[t] = be.gru_cell_forward(x_t, gh, h, order, ract, y_t if direct else None)
            else:
                h = be.rnn_cell_forward(x_t, gh, "relu" if mode == "RNN_RELU" else "tanh", y_t)
            if not direct:
                be.copy_(y_t, h)
        h_n = be.empty([lead[1 - time_dim], hidden], g.dtype)  # its own memory, not a view of the outputs
        be.copy_(h_n, h)
        out_ys = Tensor._make(ys)
        outs = (out_ys, Tensor._make(h_n)) + ((Tensor._make(c),) if lstm else ())
        if record:
            kept = [Tensor._make(a) for a in gates + prev] if lstm or gru else []
            ctx.save_for_backward(weight, mask, out_ys, Tensor._make(hin), *kept)
            ctx.cfg = (mode, order, ract, reverse, time_dim, bias is not None, input_bias is not None)
        return outs

    @staticmethod
    def backward(ctx, grad_ys, grad_h, *grad_c):
        weight, mask, ys, hin, *kept = ctx.saved_tensors
        mode, order, ract, reverse, time_dim, has_bias, has_input_bias = ctx.cfg
        gates, prev = [t._data for t in kept[:len(kept) // 2]], [t._data for t in kept[len(kept) // 2:]]
        need = ctx.needs_input_grad
        be = grad_ys._backend
        w, m = weight._data, mask._data if mask is not None else None
        gy, hin_d, ys_d = grad_ys._data, hin._data, ys._data
        lstm, gru = mode == "LSTM", mode == "GRU"
        steps, dt = gy.shape[time_dim], gy.dtype
        lead, width = [gy.shape[0], gy.shape[1]], w.shape[0]
        dgx = be.empty(lead + [width], dt)
        dgh = be.empty(lead + [width], dt) if gru else dgx  # the same values but for GRU's n block
        dh, dc = grad_h._data, grad_c[0]._data if lstm else None
        for t in (range(steps) if reverse else range(steps - 1, -1, -1)):
            dh = be.binary(_ADD, dh, _step_view(be, gy, t, time_dim))
            dgx_t = _step_view(be, dgx, t, time_dim)  # the kernels write into the gradient buffers' step
            if lstm:
                d_gh, dc = be.lstm_cell_backward(dh, dc, gates[t], prev[t], order, ract, dgx_t)
            elif gru:
                _, d_gh, direct = be.gru_cell_backward(dh, gates[t], prev[t], order, ract, dgx_t,
                                                       _step_view(be, dgh, t, time_dim))
            else:
                d_gh = be.rnn_cell_backward(dh, _step_view(be, ys_d, t, time_dim),
                                            "relu" if mode == "RNN_RELU" else "tanh", dgx_t)
            dh = be.matmul(d_gh, w)  # through the recurrent product to the previous state
            if m is not None:
                dh = be.binary(_MUL, dh, m)
            if gru:
                dh = be.binary(_ADD, dh, direct)
        g_w = g_b = None
        if need[1]:
            # One GEMM over all steps, as h^T dgh: (hidden, k hidden) out is ~10% faster than dgh^T h (measured,
            # 3584 rows, 1 thread). Handed over in the weight's own memory order (see ops/linear.py): Keras'
            # kernel (hidden, k hidden) arrives as kernel.t() and takes it as it is; PyTorch's (k hidden,
            # hidden) weight takes a contiguous copy (64K elements, against ~1 ms saved).
            g_wt = be.matmul(_transposed(be, _flat(be, hin_d)), _flat(be, dgh))
            g_w = _transposed(be, g_wt)
            if not (w.strides[0] == 1 and w.strides[1] == w.shape[0]):
                g_w = be.contiguous(g_w)
            g_w = Tensor._make(g_w)
        if (has_bias and need[2]) or (has_input_bias and need[6]):
            g_b = Tensor._make(be.reduce(_SUM, dgh, [0, 1], False))  # dgh is dgx but for GRU (no input_bias)
        g_c0 = Tensor._make(dc) if lstm and need[4] else None
        return (Tensor._make(dgx), g_w, g_b if has_bias else None, Tensor._make(dh), g_c0, None,
                g_b if has_input_bias else None, None, None, None, None, None)


def _check_sequence(mode, gx, weight, bias, h0, c0, mask, input_bias, time_dim):
    op = f"recurrent_sequence({mode})"
    if mode not in _BLOCKS:
        raise ValueError(f"{op}: mode must be one of {', '.join(_BLOCKS)}")
    if time_dim not in (0, 1):
        raise ValueError(f"{op}: time_dim must be 0 or 1, got {time_dim!r}")
    for name, t in (("gx", gx), ("weight", weight), ("h0", h0)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a deepcore Tensor, got {type(t).__name__}")
    if weight.ndim != 2 or weight.shape[0] != _BLOCKS[mode] * weight.shape[1]:
        raise ValueError(f"{op}: weight must have shape ({_BLOCKS[mode]} * hidden, hidden), got {tuple(weight.shape)}")
    hidden = weight.shape[1]
    if gx.ndim != 3 or gx.shape[2] != weight.shape[0] or gx.shape[time_dim] == 0:
        raise ValueError(f"{op}: gx must be 3-D with at least one step and {weight.shape[0]} columns, got "
                         f"{tuple(gx.shape)}")
    batch = gx.shape[1 - time_dim]
    for name, t in (("bias", bias), ("input_bias", input_bias)):
        if t is not None and tuple(t.shape) != (weight.shape[0],):
            raise ValueError(f"{op}: {name} must have shape ({weight.shape[0]},), got {tuple(t.shape)}")
    for name, t in (("h0", h0), ("c0", c0), ("mask", mask)):
        if t is not None and tuple(t.shape) != (batch, hidden):
            raise ValueError(f"{op}: {name} must have shape ({batch}, {hidden}), got {tuple(t.shape)}")
    if (mode == "LSTM") != (c0 is not None):
        raise ValueError(f"{op}: c0 is {'required' if mode == 'LSTM' else 'only for LSTM'}")
    for name, t in (("weight", weight), ("bias", bias), ("input_bias", input_bias), ("h0", h0), ("c0", c0),
                    ("mask", mask)):
        if t is not None and (t.dtype is not gx.dtype or t.device != gx.device):
            raise ValueError(f"{op}: {name} is {t.dtype.name} on {t.device} but gx is {gx.dtype.name} on "
                             f"{gx.device}")


def recurrent_sequence(mode, gx, weight, bias, h0, c0=None, mask=None, activation="tanh",
                       recurrent_activation="sigmoid", order=None, reverse=False, time_dim=0, input_bias=None):
    """Runs one recurrent layer-direction over a sequence whose input projections are already made.

    mode: 'RNN_TANH', 'RNN_RELU', 'LSTM' or 'GRU' (the reset gate after the hidden product).
    gx: (steps, batch, k * hidden) (time_dim=0) or (batch, steps, k * hidden) (time_dim=1).
    weight: (k * hidden, hidden), gh = (h * mask) @ weight^T + bias at every step. h0, c0, mask: (batch, hidden).
    reverse: walk from the last step to the first (outputs stay at their own time index).
    input_bias: a bias of gx that the caller left out of its projection (k * hidden,): gx + input_bias
    is the projection. For LSTM and RNN it joins `bias` in the recurrent product (the gates see only
    the sum), so one reduction gives both gradients; GRU adds it to gx (its n block keeps them apart).
    Returns (outputs in gx's layout with hidden columns, (h_n,) or (h_n, c_n)).
    """
    _check_sequence(mode, gx, weight, bias, h0, c0, mask, input_bias, time_dim)
    lstm, gru = mode == "LSTM", mode == "GRU"
    if gru and input_bias is not None:
        gx, input_bias = gx + input_bias, None
    if lstm or gru:
        order = _check_order(_DEFAULT_ORDER[mode] if order is None else order, _BLOCKS[mode], mode)
    act, ract = _name(activation), _name(recurrent_activation)
    if mode.startswith("RNN"):  # the mode names the nonlinearity
        act = "relu" if mode == "RNN_RELU" else "tanh"
    native = ((act == "tanh" and ract in _GATE_NAMES) if lstm or gru else True) and _native(
        gx, "rnn_cell_forward", "lstm_cell_forward", "gru_cell_forward", "linear_forward")
    if native:
        out = Sequence.apply(gx, weight, bias, h0, c0, mask, input_bias, mode, list(order or ()), ract,
                             bool(reverse), time_dim)
        return out[0], tuple(out[1:])
    # The composed loop: the same steps as differentiable ops, for the other activations and engines.
    state = (h0, c0) if lstm else (h0,)
    steps = gx.shape[time_dim]
    ys = [None] * steps
    w_t = weight.t()
    for t in (range(steps - 1, -1, -1) if reverse else range(steps)):
        x_t = gx[t] if time_dim == 0 else gx[:, t]
        h_in = state[0] * mask if mask is not None else state[0]
        gh = h_in.matmul(w_t)
        for b in (bias, input_bias):
            gh = gh + b if b is not None else gh
        if lstm:
            state = lstm_cell(x_t, gh, state[1], act, ract, order)
        elif gru:
            state = (gru_cell(x_t, gh, state[0], act, ract, order),)
        else:
            state = (rnn_cell(x_t, gh, act),)
        ys[t] = state[0]
    return stack(ys, time_dim), state
