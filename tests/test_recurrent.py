"""Recurrent family (nn.RNN/LSTM/GRU and their cells) against PyTorch, float64 gradcheck, their errors and a small learning task.

PyTorch twins get the parameters copied by name; outputs, final states and every gradient are compared.
"""
import math
import warnings

import numpy as np
import pytest

import deepcore
import deepcore.nn as nn
import deepcore.nn.functional as F
from deepcore.autograd import gradcheck
from deepcore.nn.utils import rnn as rnn_utils
from helpers import assert_close, check_op, torch as _torch

MODES = ["RNN_TANH", "RNN_RELU", "LSTM", "GRU"]
TOL = dict(atol=1e-5, rtol=1e-5)  # float32 against PyTorch; gradient atol scales with the gradient's size


def make(lib, mode, *args, **kwargs):
    """lib.RNN/LSTM/GRU for `mode` (lib: deepcore.nn or torch.nn)."""
    if mode.startswith("RNN"):
        return lib.RNN(*args, nonlinearity=mode[4:].lower(), **kwargs)
    return getattr(lib, mode)(*args, **kwargs)


def make_cell(lib, mode, *args, **kwargs):
    if mode.startswith("RNN"):
        return lib.RNNCell(*args, nonlinearity=mode[4:].lower(), **kwargs)
    return getattr(lib, mode + "Cell")(*args, **kwargs)


def torch_twin(torch, dmod, tmod):
    """Copies dmod's parameters into tmod by name, after checking both have the same names and shapes in order."""
    d_names = [(n, tuple(p.shape)) for n, p in dmod.named_parameters()]
    t_names = [(n, tuple(p.shape)) for n, p in tmod.named_parameters()]
    assert d_names == t_names
    with torch.no_grad():
        for n, p in dmod.named_parameters():
            getattr(tmod, n).copy_(torch.from_numpy(p.detach().numpy()))
    return tmod


def flat(out):
    """The tensors of (output, h_n) / (output, (h_n, c_n)) / (h, c) / h, in order."""
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in flat(o)]
    return [out]


def compare_with_torch(torch, rng, dmod, tmod, x, states, lstm, what):
    """Runs both modules on x (and the initial states, or None), compares the results, then the
    gradients of a random weighted sum of them w.r.t. x, the states and every parameter."""
    dx, tx = deepcore.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ds = [deepcore.tensor(s, requires_grad=True) for s in states or ()]
    ts = [torch.tensor(s, requires_grad=True) for s in states or ()]
    pack = (lambda s: tuple(s) if lstm else s[0]) if states else (lambda s: None)
    douts, touts = flat(dmod(dx, pack(ds))), flat(tmod(tx, pack(ts)))
    assert len(douts) == len(touts)
    for k, (d, t) in enumerate(zip(douts, touts)):
        assert_close(d.detach().numpy(), t.detach().numpy(), what=f"{what}: result {k}", **TOL)
    weights = [rng.standard_normal(tuple(t.shape)).astype(np.float32) for t in touts]
    sum((t * torch.from_numpy(w)).sum() for t, w in zip(touts, weights)).backward()
    sum((d * deepcore.tensor(w)).sum() for d, w in zip(douts, weights)).backward()
    pairs = [("input", dx, tx)] + [(f"state {i}", d, t) for i, (d, t) in enumerate(zip(ds, ts))]
    pairs += [(n, p, getattr(tmod, n)) for n, p in dmod.named_parameters()]
    for name, d, t in pairs:
        assert d.grad is not None, f"{what}: no gradient for {name}"
        tg = t.grad.numpy()
        scale = max(1.0, float(np.abs(tg).max()))
        assert_close(d.grad.numpy(), tg, TOL["atol"] * scale, TOL["rtol"], f"{what}: gradient of {name}")


# ---- the layers against PyTorch ------------------------------------------------------------

CONFIGS = [
    dict(),
    dict(num_layers=2, batch_first=True),
    dict(bidirectional=True, hx=True),
    dict(num_layers=2, bidirectional=True, batch_first=True, hx=True),
    dict(unbatched=True, num_layers=2, bidirectional=True, hx=True),
    dict(unbatched=True, batch_first=True),  # batch_first does not apply to a 2-D input
    dict(bias=False, hx=True),
    dict(num_layers=2, dropout=0.5, eval=True),  # dropout is off in eval mode
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()) or "default")
def test_layer_matches_torch(torch, rng, mode, config):
    config = dict(config)
    unbatched, with_hx, eval_mode = config.pop("unbatched", False), config.pop("hx", False), config.pop("eval", False)
    T, N, I, H = (int(v) for v in rng.integers(2, 6, size=4))
    dmod = make(nn, mode, I, H, **config)
    tmod = torch_twin(torch, dmod, make(torch.nn, mode, I, H, **config))
    if eval_mode:
        dmod.eval()
        tmod.eval()
    D = 2 if config.get("bidirectional") else 1
    L = config.get("num_layers", 1)
    if unbatched:
        x_shape, h_shape = (T, I), (D * L, H)
    else:
        x_shape = (N, T, I) if config.get("batch_first") else (T, N, I)
        h_shape = (D * L, N, H)
    x = rng.standard_normal(x_shape).astype(np.float32)
    states = None
    if with_hx:
        states = [rng.standard_normal(h_shape).astype(np.float32) for _ in range(2 if mode == "LSTM" else 1)]
    out = dmod(deepcore.tensor(x))
    out_shape = x_shape[:-1] + (D * H,)
    assert tuple(out[0].shape) == out_shape
    assert all(tuple(s.shape) == h_shape for s in flat(out[1]))
    compare_with_torch(torch, rng, dmod, tmod, x, states, mode == "LSTM", f"{mode} {config}")


@pytest.mark.parametrize("mode", MODES)
def test_cell_matches_torch(torch, rng, mode):
    I, H, N = 4, 5, 3
    lstm = mode == "LSTM"
    for bias in (True, False):
        dcell = make_cell(nn, mode, I, H, bias=bias)
        tcell = torch_twin(torch, dcell, make_cell(torch.nn, mode, I, H, bias=bias))
        for x_shape, h_shape in (((N, I), (N, H)), ((I,), (H,))):
            for with_hx in (False, True):
                x = rng.standard_normal(x_shape).astype(np.float32)
                states = [rng.standard_normal(h_shape).astype(np.float32) for _ in range(2 if lstm else 1)]
                out = flat(dcell(deepcore.tensor(x)))
                assert [tuple(o.shape) for o in out] == [h_shape] * (2 if lstm else 1)
                for p in list(dcell.parameters()) + list(tcell.parameters()):
                    p.grad = None
                compare_with_torch(torch, rng, dcell, tcell, x, states if with_hx else None, lstm,
                                   f"{mode} cell bias={bias} x{x_shape} hx={with_hx}")


def test_parameter_names_shapes_and_repr_match_torch(torch):
    for mode in MODES:
        for kw in (dict(), dict(num_layers=3, bidirectional=True, bias=False, batch_first=True, dropout=0.25)):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                d, t = make(nn, mode, 3, 7, **kw), make(torch.nn, mode, 3, 7, **kw)
            assert [(n, tuple(p.shape)) for n, p in d.named_parameters()] == \
                   [(n, tuple(p.shape)) for n, p in t.named_parameters()]
            assert repr(d) == repr(t)
        for kw in (dict(), dict(bias=False)):
            d, t = make_cell(nn, mode, 3, 7, **kw), make_cell(torch.nn, mode, 3, 7, **kw)
            assert [(n, tuple(p.shape)) for n, p in d.named_parameters()] == \
                   [(n, tuple(p.shape)) for n, p in t.named_parameters()]
            assert repr(d) == repr(t)
    assert repr(nn.Embedding(10, 3, padding_idx=-1)) == repr(torch.nn.Embedding(10, 3, padding_idx=-1))


def test_repr_and_shapes_without_torch():
    assert repr(nn.LSTM(10, 20, num_layers=2, batch_first=True)) == "LSTM(10, 20, num_layers=2, batch_first=True)"
    assert repr(nn.GRU(4, 8, bidirectional=True, bias=False)) == "GRU(4, 8, bias=False, bidirectional=True)"
    assert repr(nn.RNN(4, 8, nonlinearity="relu")) == "RNN(4, 8)"  # as PyTorch: the nonlinearity is not shown
    assert repr(nn.RNNCell(4, 8, nonlinearity="relu")) == "RNNCell(4, 8, nonlinearity=relu)"
    assert repr(nn.LSTMCell(4, 8, bias=False)) == "LSTMCell(4, 8, bias=False)"
    assert repr(nn.Embedding(10, 3, padding_idx=2)) == "Embedding(10, 3, padding_idx=2)"
    m = nn.GRU(3, 4, num_layers=2, bidirectional=True)
    assert tuple(m.weight_ih_l0.shape) == (12, 3) and tuple(m.weight_hh_l1_reverse.shape) == (12, 4)
    assert tuple(m.weight_ih_l1.shape) == (12, 8) and tuple(m.bias_hh_l1_reverse.shape) == (12,)
    assert len(m.all_weights) == 4 and m.all_weights[3][0] is m.weight_ih_l1_reverse


@pytest.mark.parametrize("mode", MODES)
def test_initialisation_is_uniform_within_one_over_sqrt_hidden(mode):
    H = 16
    m = make(nn, mode, 9, H, num_layers=2)
    bound = 1 / math.sqrt(H)
    values = np.concatenate([p.detach().numpy().ravel() for p in m.parameters()])
    assert np.abs(values).max() <= bound
    assert np.abs(values).max() > 0.95 * bound and abs(values.mean()) < 0.02  # spread over the whole range
    cell = make_cell(nn, mode, 9, H)
    values = np.concatenate([p.detach().numpy().ravel() for p in cell.parameters()])
    assert np.abs(values).max() <= bound and np.abs(values).max() > 0.9 * bound


def test_input_projection_is_one_gemm_per_layer_and_direction(monkeypatch):
    calls = []
    linear = F.linear

    def counting(x, w, b=None):
        calls.append((tuple(x.shape), tuple(w.shape)))
        return linear(x, w, b)

    from deepcore.backend import cpu as cpu_backend
    kernel_calls = []
    kernel = cpu_backend.linear_forward

    def counting_kernel(x, w, *args):
        kernel_calls.append((tuple(x.shape), tuple(w.shape)))
        return kernel(x, w, *args)

    monkeypatch.setattr(F, "linear", counting)
    monkeypatch.setattr(cpu_backend, "linear_forward", counting_kernel)
    T, N = 7, 3
    nn.LSTM(4, 5, num_layers=2, bidirectional=True)(deepcore.randn(T, N, 4))
    projections = [c for c in calls if c[0] == (T, N, c[1][1])]
    assert len(projections) == len(calls) == 4  # layers x directions, each on the whole sequence
    # The GEMM kernel: those 4 (on (T * N) rows) plus one hidden-state product per step inside the fused loop.
    assert sorted(r for r, _ in kernel_calls) == sorted([(T * N, 4)] * 2 + [(T * N, 10)] * 2 + [(N, 5)] * (4 * T))


# ---- dropout between layers --------------------------------------------------------------

def test_dropout_between_layers_only_in_training(rng):
    x = deepcore.tensor(rng.standard_normal((5, 2, 3)).astype(np.float32))
    m = nn.LSTM(3, 4, num_layers=2, dropout=0.5)
    deepcore.manual_seed(1)
    train1 = m(x)[0].detach().numpy()
    deepcore.manual_seed(1)
    train2 = m(x)[0].detach().numpy()
    np.testing.assert_array_equal(train1, train2)  # reproducible with the seed
    m.eval()
    evaluated = m(x)[0].detach().numpy()
    assert np.abs(train1 - evaluated).max() > 1e-3  # the first layer's output was dropped out
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        single = nn.GRU(3, 4, dropout=0.5)
    out_train = single(x)[0].detach().numpy()
    single.eval()
    np.testing.assert_array_equal(out_train, single(x)[0].detach().numpy())  # never after the last layer


# ---- finite differences -------------------------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
def test_layer_gradcheck(rng, mode):
    m = make(nn, mode, 2, 2, num_layers=2, bidirectional=True).double()
    x = deepcore.tensor(rng.standard_normal((3, 2, 2)), requires_grad=True)
    states = [deepcore.tensor(rng.standard_normal((4, 2, 2)), requires_grad=True)
              for _ in range(2 if mode == "LSTM" else 1)]

    def fn(x, *args):
        hx = tuple(args[:2]) if mode == "LSTM" else args[0]
        return tuple(flat(m(x, hx)))

    assert gradcheck(fn, [x] + states + list(m.parameters()))


@pytest.mark.parametrize("mode", MODES)
def test_cell_gradcheck(rng, mode):
    cell = make_cell(nn, mode, 3, 2).double()
    x = deepcore.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    states = [deepcore.tensor(rng.standard_normal((2, 2)), requires_grad=True)
              for _ in range(2 if mode == "LSTM" else 1)]

    def fn(x, *args):
        hx = tuple(args[:2]) if mode == "LSTM" else args[0]
        return tuple(flat(cell(x, hx)))

    assert gradcheck(fn, [x] + states + list(cell.parameters()))


# ---- errors -----------------------------------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
def test_layer_errors(mode):
    m = make(nn, mode, 3, 4, num_layers=2)

    def hx(*shape):
        return (deepcore.zeros(*shape), deepcore.zeros(*shape)) if mode == "LSTM" else deepcore.zeros(*shape)

    with pytest.raises(ValueError, match=r"input of shape \(5, 2, 6\) has 6 features, expected input_size=3"):
        m(deepcore.randn(5, 2, 6))
    with pytest.raises(ValueError, match=r"Expected input to be 2D or 3D, got 4D"):
        m(deepcore.randn(5, 2, 3, 1))
    with pytest.raises(ValueError, match=r"Expected (hx|h_0) of shape \(2, 2, 4\), got \(1, 2, 4\)"):
        m(deepcore.randn(5, 2, 3), hx(1, 2, 4))
    with pytest.raises(ValueError, match=r"Expected (hx|h_0) of shape \(2, 4\), got \(2, 1, 4\)"):
        m(deepcore.randn(5, 3), hx(2, 1, 4))  # unbatched input, batched hx
    with pytest.raises(ValueError, match=r"float64 .* float32"):
        m(deepcore.randn(5, 2, 3, dtype=deepcore.float64))
    if mode == "LSTM":
        with pytest.raises(TypeError, match=r"tuple \(h_0, c_0\)"):
            m(deepcore.randn(5, 2, 3), deepcore.zeros(2, 2, 4))
        with pytest.raises(ValueError, match=r"Expected c_0 of shape \(2, 2, 4\), got \(2, 2, 5\)"):
            m(deepcore.randn(5, 2, 3), (deepcore.zeros(2, 2, 4), deepcore.zeros(2, 2, 5)))


def test_constructor_errors():
    with pytest.raises(ValueError, match="proj_size=3 is not supported"):
        nn.LSTM(3, 4, proj_size=3)
    with pytest.raises(ValueError, match="Unknown nonlinearity 'sigmoid'"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="Unknown nonlinearity"):
        nn.RNNCell(3, 4, nonlinearity="gelu")
    with pytest.raises(ValueError, match=r"dropout should be a number in range \[0, 1\]"):
        nn.GRU(3, 4, num_layers=2, dropout=1.5)
    for kw in (dict(hidden_size=0), dict(hidden_size=4, num_layers=0)):
        with pytest.raises(ValueError, match="must be greater than zero"):
            nn.GRU(3, **kw)
    with pytest.raises(TypeError, match="hidden_size should be of type int"):
        nn.LSTM(3, 4.0)


@pytest.mark.parametrize("mode", MODES)
def test_cell_errors(mode):
    cell = make_cell(nn, mode, 3, 4)
    state = (lambda *s: (deepcore.zeros(*s), deepcore.zeros(*s))) if mode == "LSTM" else deepcore.zeros
    with pytest.raises(ValueError, match=r"input of shape \(2, 5\) has 5 features, expected input_size=3"):
        cell(deepcore.randn(2, 5))
    with pytest.raises(ValueError, match=r"Expected input to be 1D or 2D, got 3D"):
        cell(deepcore.randn(1, 2, 3))
    with pytest.raises(ValueError, match=r"Expected (hx|h_0) of shape \(2, 4\), got \(3, 4\)"):
        cell(deepcore.randn(2, 3), state(3, 4))
    with pytest.raises(ValueError, match=r"Expected (hx|h_0) of shape \(4,\), got \(1, 4\)"):
        cell(deepcore.randn(3), state(1, 4))


# ---- learning -------------------------------------------------------------------------

class SumSign(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(1, 12, batch_first=True)
        self.head = nn.Linear(12, 1)

    def forward(self, x):
        _, (h, _) = self.lstm(x)
        return self.head(h[0])


def test_lstm_learns_the_sign_of_a_sum(rng):
    def data(n):
        x = rng.standard_normal((n, 6, 1)).astype(np.float32)
        return deepcore.tensor(x), deepcore.tensor((x.sum(axis=(1, 2)) > 0).astype(np.float32)[:, None])

    x, y = data(256)
    model = SumSign()
    opt = deepcore.optim.Adam(model.parameters(), lr=0.02)
    loss_fn = nn.BCEWithLogitsLoss()
    first = None
    for _ in range(150):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        first = loss.item() if first is None else first
    xt, yt = data(512)
    with deepcore.no_grad():
        accuracy = float(((model(xt).numpy() > 0) == (yt.numpy() > 0.5)).mean())
    assert loss.item() < 0.1 < first, (first, loss.item())
    assert accuracy >= 0.9, accuracy


# ---- nn.utils.rnn: padded and packed batches, and the layers on a PackedSequence -------------------

def padded_ref(seqs, batch_first=False, value=0.0, left=False):
    steps = max(len(s) for s in seqs)
    out = np.full((len(seqs), steps) + seqs[0].shape[1:], value)
    for b, s in enumerate(seqs):
        if left:
            out[b, steps - len(s):] = s
        else:
            out[b, :len(s)] = s
    return out if batch_first else out.swapaxes(0, 1)


def packed_ref(seqs, order):
    """(data, batch_sizes): step t of every sequence (in `order`) still running at t."""
    steps = max(len(s) for s in seqs)
    rows, sizes = [], []
    for t in range(steps):
        alive = [b for b in order if len(seqs[b]) > t]
        rows += [seqs[b][t] for b in alive]
        sizes.append(len(alive))
    return np.stack(rows), sizes


LENGTHS = [3, 5, 1, 5, 2]


@pytest.mark.parametrize("kw", [dict(), dict(batch_first=True), dict(padding_value=-1.0, padding_side="left"),
                                dict(batch_first=True, padding_side="left")], ids=str)
def test_pad_sequence(kw, rng):
    shapes = [(n, 2, 3) for n in LENGTHS]
    kw_ref = dict(batch_first=kw.get("batch_first", False), value=kw.get("padding_value", 0.0),
                  left=kw.get("padding_side") == "left")

    def torch_fn(*xs):
        return _torch.nn.utils.rnn.pad_sequence(xs, **kw)

    check_op("pad_sequence", lambda *xs: rnn_utils.pad_sequence(list(xs), **kw),
             lambda *xs: padded_ref(list(xs), **kw_ref), shapes=shapes[:3], rng=rng, torch_fn=torch_fn)


@pytest.mark.parametrize("enforce_sorted", [True, False])
@pytest.mark.parametrize("batch_first", [False, True])
def test_pack_and_pad_packed_sequence(enforce_sorted, batch_first, rng):
    lengths = sorted(LENGTHS, reverse=True) if enforce_sorted else LENGTHS
    seqs = [rng.standard_normal((n, 3)) for n in lengths]
    order = sorted(range(len(lengths)), key=lambda b: -lengths[b])  # stable: ties keep their order
    data, sizes = packed_ref(seqs, order)

    def pack(x):
        return rnn_utils.pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=enforce_sorted)

    padded = padded_ref(seqs, batch_first)
    check_op("pack_padded_sequence", lambda x: pack(x).data, lambda x: data, arrays=[padded], rng=rng,
             torch_fn=False)
    packed = pack(deepcore.tensor(padded))
    assert packed.batch_sizes.tolist() == sizes and packed.batch_sizes.dtype is deepcore.int64
    assert (packed.sorted_indices is None) == enforce_sorted
    if not enforce_sorted:
        assert packed.sorted_indices.tolist() == order
        assert [order[i] for i in packed.unsorted_indices.tolist()] == list(range(len(order)))
    check_op("pad_packed_sequence",
             lambda d: rnn_utils.pad_packed_sequence(rnn_utils.PackedSequence(d, packed.batch_sizes,
                                                                              packed.sorted_indices),
                                                     batch_first=batch_first, padding_value=2.5, total_length=7)[0],
             lambda d: np.pad(padded_ref(seqs, batch_first, 2.5), [(0, 2), (0, 0), (0, 0)] if not batch_first else
                              [(0, 0), (0, 2), (0, 0)], constant_values=2.5), arrays=[data], rng=rng, torch_fn=False)
    _, out_lengths = rnn_utils.pad_packed_sequence(packed)
    assert out_lengths.tolist() == lengths and out_lengths.dtype is deepcore.int64
    unpacked = rnn_utils.unpack_sequence(packed)
    assert all(np.array_equal(u.numpy(), s) for u, s in zip(unpacked, seqs))
    unpadded = rnn_utils.unpad_sequence(deepcore.tensor(padded), deepcore.tensor(lengths), batch_first=batch_first)
    assert all(np.array_equal(u.numpy(), s) for u, s in zip(unpadded, seqs))


def test_packing_matches_torch(torch, rng):
    seqs = [rng.standard_normal((n, 2)).astype(np.float32) for n in (3, 5, 1, 4, 2)]  # distinct lengths
    d = rnn_utils.pack_sequence([deepcore.tensor(s) for s in seqs], enforce_sorted=False)
    t = torch.nn.utils.rnn.pack_sequence([torch.tensor(s) for s in seqs], enforce_sorted=False)
    assert_close(d.data.numpy(), t.data.numpy(), 0, 0, "packed data")
    for field in ("batch_sizes", "sorted_indices", "unsorted_indices"):
        assert getattr(d, field).tolist() == getattr(t, field).tolist(), field
    assert d._fields == t._fields and isinstance(d, tuple)
    padded, lengths = rnn_utils.pad_packed_sequence(d, batch_first=True)
    tpadded, tlengths = torch.nn.utils.rnn.pad_packed_sequence(t, batch_first=True)
    assert_close(padded.numpy(), tpadded.numpy(), 0, 0, "pad_packed_sequence")
    assert lengths.tolist() == tlengths.tolist()
    again = rnn_utils.PackedSequence(d.data, d.batch_sizes, d.sorted_indices)
    assert again.unsorted_indices.tolist() == d.unsorted_indices.tolist()
    assert rnn_utils.PackedSequence((d.data, d.batch_sizes)).batch_sizes is d.batch_sizes
    assert d.to(deepcore.float64).data.dtype is deepcore.float64 and d.double().batch_sizes is d.batch_sizes


def test_packing_errors():
    x = deepcore.ones(5, 3, 2)
    with pytest.raises(ValueError, match="must be sorted in decreasing order when `enforce_sorted` is True"):
        rnn_utils.pack_padded_sequence(x, [3, 5, 1])
    with pytest.raises(ValueError, match="greater than 0"):
        rnn_utils.pack_padded_sequence(x, [5, 3, 0])
    with pytest.raises(ValueError, match=r"`len\(lengths\)` to be equal to batch_size, but got 2 \(batch_size=3\)"):
        rnn_utils.pack_padded_sequence(x, [5, 3])
    with pytest.raises(ValueError, match="sequence of length 6 does not fit the input.s 5 time steps"):
        rnn_utils.pack_padded_sequence(x, [6, 3, 1])
    with pytest.raises(ValueError, match="1D CPU int64 tensor, but got a 2D"):
        rnn_utils.pack_padded_sequence(x, deepcore.tensor([[5, 3, 1]]))
    packed = rnn_utils.pack_padded_sequence(x, deepcore.tensor([5, 3, 1]))
    with pytest.raises(ValueError, match="total_length=3 and max sequence length being 5"):
        rnn_utils.pad_packed_sequence(packed, total_length=3)
    with pytest.raises(ValueError, match="empty list of sequences"):
        rnn_utils.pad_sequence([])
    with pytest.raises(ValueError, match="padding_side to be one of left or right, but got middle"):
        rnn_utils.pad_sequence([deepcore.ones(2)], padding_side="middle")
    with pytest.raises(ValueError, match=r"sequence 1 has shape \(3, 3\) but sequence 0 has shape \(3, 2\)"):
        rnn_utils.pad_sequence([deepcore.ones(3, 2), deepcore.ones(3, 3)])
    with pytest.raises(ValueError, match="PackedSequence's data must be 2-D"):
        nn.RNN(2, 3)(rnn_utils.PackedSequence(deepcore.ones(3, 1, 2), deepcore.tensor([2, 1])))
    with pytest.raises(ValueError, match=r"Expected hx of shape \(1, 3, 4\), got \(1, 2, 4\)"):
        nn.GRU(2, 4)(rnn_utils.pack_padded_sequence(deepcore.ones(5, 3, 2), [5, 3, 1]), deepcore.zeros(1, 2, 4))


PACKED_CONFIGS = [dict(), dict(num_layers=2, bidirectional=True, hx=True), dict(bidirectional=True),
                  dict(num_layers=2, hx=True, batch_first=True), dict(bias=False, hx=True, sorted=True)]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("config", PACKED_CONFIGS,
                         ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()) or "default")
def test_layer_on_a_packed_sequence_matches_torch(torch, rng, mode, config):
    """Packed output, h_n at each sequence's own last step, and every gradient, against PyTorch."""
    config = dict(config)
    with_hx, presorted = config.pop("hx", False), config.pop("sorted", False)
    I, H = 3, 4
    lengths = [5, 5, 3, 2, 1] if presorted else [3, 5, 1, 5, 2]
    dmod = make(nn, mode, I, H, **config)
    tmod = torch_twin(torch, dmod, make(torch.nn, mode, I, H, **config))
    count = (2 if config.get("bidirectional") else 1) * config.get("num_layers", 1)
    seqs = [rng.standard_normal((n, I)).astype(np.float32) for n in lengths]
    states = [rng.standard_normal((count, len(lengths), H)).astype(np.float32)
              for _ in range(2 if mode == "LSTM" else 1)] if with_hx else []
    ds = [deepcore.tensor(s, requires_grad=True) for s in seqs]
    ts = [torch.tensor(s, requires_grad=True) for s in seqs]
    dh = [deepcore.tensor(s, requires_grad=True) for s in states]
    th = [torch.tensor(s, requires_grad=True) for s in states]
    pack = (lambda s: tuple(s) if mode == "LSTM" else s[0]) if with_hx else (lambda s: None)
    dp = rnn_utils.pack_sequence(ds, enforce_sorted=presorted)
    tp = torch.nn.utils.rnn.pack_sequence(ts, enforce_sorted=presorted)
    dout, dfinal = dmod(dp, pack(dh))
    tout, tfinal = tmod(tp, pack(th))
    assert isinstance(dout, rnn_utils.PackedSequence)
    assert dout.batch_sizes.tolist() == tout.batch_sizes.tolist()
    douts, touts = [dout.data] + flat(dfinal), [tout.data] + flat(tfinal)
    for k, (d, t) in enumerate(zip(douts, touts)):
        assert_close(d.detach().numpy(), t.detach().numpy(), what=f"{mode} {config}: result {k}", **TOL)
    weights = [rng.standard_normal(tuple(t.shape)).astype(np.float32) for t in touts]
    sum((t * torch.from_numpy(w)).sum() for t, w in zip(touts, weights)).backward()
    sum((d * deepcore.tensor(w)).sum() for d, w in zip(douts, weights)).backward()
    pairs = [(f"sequence {i}", d, t) for i, (d, t) in enumerate(zip(ds, ts))]
    pairs += [(f"state {i}", d, t) for i, (d, t) in enumerate(zip(dh, th))]
    pairs += [(n, p, getattr(tmod, n)) for n, p in dmod.named_parameters()]
    for name, d, t in pairs:
        tg = t.grad.numpy()
        assert_close(d.grad.numpy(), tg, TOL["atol"] * max(1.0, float(np.abs(tg).max())), TOL["rtol"],
                     f"{mode} {config}: gradient of {name}")


@pytest.mark.parametrize("mode", MODES)
def test_packed_final_state_is_each_sequences_own_last_step(mode, rng):
    """Without PyTorch: running each sequence alone gives the packed batch's output and h_n, column by column."""
    dmod = make(nn, mode, 3, 4, bidirectional=True, num_layers=2)
    seqs = [deepcore.tensor(rng.standard_normal((n, 3)).astype(np.float32)) for n in (2, 4, 1, 3)]
    out, final = dmod(rnn_utils.pack_sequence(seqs, enforce_sorted=False))
    h_n = final[0] if mode == "LSTM" else final
    padded, lengths = rnn_utils.pad_packed_sequence(out)
    for b, s in enumerate(seqs):
        alone_out, alone_final = dmod(s.unsqueeze(1))
        alone_h = alone_final[0] if mode == "LSTM" else alone_final
        assert_close(h_n[:, b].detach().numpy(), alone_h[:, 0].detach().numpy(), 1e-6, 1e-6, f"h_n of sequence {b}")
        assert_close(padded[:int(lengths[b]), b].detach().numpy(), alone_out[:, 0].detach().numpy(), 1e-6, 1e-6,
                     f"output of sequence {b}")


def test_packed_gradcheck(rng):
    dmod = nn.LSTM(2, 2, bidirectional=True).double()
    seqs = [deepcore.tensor(rng.standard_normal((n, 2)), requires_grad=True) for n in (1, 3, 2)]

    def fn(*xs):
        out, (h, c) = dmod(rnn_utils.pack_sequence(list(xs), enforce_sorted=False))
        return out.data, h, c

    assert gradcheck(fn, seqs)


def test_nn_utils_is_a_package_with_its_old_names():
    import deepcore.nn.utils.rnn as as_module
    from deepcore.nn.utils import clip_grad_norm_, clip_grad_value_, l1_penalty, l2_penalty  # noqa: F401
    from deepcore.nn.utils import parameters_to_vector, vector_to_parameters  # noqa: F401
    from deepcore.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence  # noqa: F401
    assert as_module is nn.utils.rnn
