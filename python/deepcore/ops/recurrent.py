"""The gate arithmetic of the recurrent cells, shared by nn.RNN/LSTM/GRU and keras SimpleRNN/LSTM/GRU.

Each cell takes gx, the input's projection (x W + b), and gh, the previous hidden state's
projection (h U + b), both (batch, k * hidden): each API multiplies in its own weight layout
(PyTorch's (k * hidden, in) matrices, Keras' (in, k * hidden) kernels) and only the arithmetic
below is common. The input projections of all time steps can be computed by one matrix product
before the loop; only gh is sequential. Gates are column blocks of the projections; their order
is given by the caller (LSTM: i, f, g, o in both APIs; GRU: PyTorch r, z, n, Keras z, r, h).
Everything is composed of differentiable ops, so autograd supplies the backward pass.
"""
from .shape import split


def _blocks(z, size):
    """The gate blocks of z's columns, as one split (its backward joins them in one copy)."""
    return split(z, size, 1)


def rnn_cell(gx, gh, activation):
    """h' = activation(gx + gh) (Elman RNN)."""
    return activation(gx + gh)


def lstm_cell(gx, gh, c, activation, recurrent_activation, order=(0, 1, 2, 3)):
    """(h', c') of an LSTM: i, f, o = recurrent_activation(...), g = activation(...),
    c' = f * c + i * g, h' = o * activation(c'). `order` gives the block index of i, f, g, o."""
    blocks = _blocks(gx + gh, c.shape[-1])
    i, f, g, o = (blocks[k] for k in order)
    c_next = recurrent_activation(f) * c + recurrent_activation(i) * activation(g)
    return recurrent_activation(o) * activation(c_next), c_next


def gru_cell(gx, gh, h, activation, recurrent_activation, order=(0, 1, 2)):
    """h' of a GRU with the reset gate applied after the hidden product (PyTorch; Keras'
    reset_after=True): r, z = recurrent_activation(gx + gh) blocks, n = activation(gx_n + r * gh_n),
    h' = z * h + (1 - z) * n. `order` gives the block index of r, z, n."""
    bx, bh = _blocks(gx, h.shape[-1]), _blocks(gh, h.shape[-1])
    r_at, z_at, n_at = order
    r = recurrent_activation(bx[r_at] + bh[r_at])
    z = recurrent_activation(bx[z_at] + bh[z_at])
    n = activation(bx[n_at] + r * bh[n_at])
    return n + z * (h - n)
