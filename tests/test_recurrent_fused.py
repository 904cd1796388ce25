"""The fused recurrent cells (csrc/cpu/recurrent.cpp, ops/recurrent.py): one cell step against a float64
NumPy reference, finite differences and PyTorch; the whole-sequence node against finite differences and
against the same loop composed of autograd ops; nn.LSTM/GRU/RNN against PyTorch on random shapes (with
dropout between layers in training); the Keras layers on the fused path against their composed twins.
"""
import numpy as np
import pytest

import deepcore
import deepcore.nn as nn
import deepcore.nn.functional as F
from deepcore import keras
from deepcore.autograd import gradcheck
from deepcore.ops import recurrent as rec
from helpers import assert_close, check_op, raises

# ---- float64 NumPy references of one step -----------------------------------------------------


def np_sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def np_hard_sigmoid(x):
    return np.clip(0.2 * x + 0.5, 0.0, 1.0)


NP_GATE = {"sigmoid": np_sigmoid, "hard_sigmoid": np_hard_sigmoid}


def np_lstm(gx, gh, c, order, ract):
    H = c.shape[1]
    z = gx + gh
    i, f, g, o = (z[:, k * H:(k + 1) * H] for k in order)
    s = NP_GATE[ract]
    c2 = s(f) * c + s(i) * np.tanh(g)
    return s(o) * np.tanh(c2), c2


def np_gru(gx, gh, h, order, ract):
    H = h.shape[1]
    blk = [(a[:, k * H:(k + 1) * H]) for a in (gx, gh) for k in order]  # xr, xz, xn, hr, hz, hn
    s = NP_GATE[ract]
    r, z = s(blk[0] + blk[3]), s(blk[1] + blk[4])
    n = np.tanh(blk[2] + r * blk[5])
    return (1 - z) * n + z * h


def torch_gate(torch, name):
    return torch.sigmoid if name == "sigmoid" else (lambda x: torch.clamp(0.2 * x + 0.5, 0.0, 1.0))


def torch_lstm(torch, order, ract):
    def fn(gx, gh, c):
        H = c.shape[1]
        z = gx + gh
        i, f, g, o = (z[:, k * H:(k + 1) * H] for k in order)
        s = torch_gate(torch, ract)
        c2 = s(f) * c + s(i) * torch.tanh(g)
        return s(o) * torch.tanh(c2), c2
    return fn


def torch_gru(torch, order, ract):
    def fn(gx, gh, h):
        H = h.shape[1]
        blk = [(a[:, k * H:(k + 1) * H]) for a in (gx, gh) for k in order]
        s = torch_gate(torch, ract)
        r, z = s(blk[0] + blk[3]), s(blk[1] + blk[4])
        n = torch.tanh(blk[2] + r * blk[5])
        return (1 - z) * n + z * h
    return fn


# Odd hidden sizes put the vector kernels' tails to work; 19 rows span more than one thread chunk only with
# large hidden sizes, so one case has hidden 70 and 300 rows (row_grain(5 * 70) = 46 rows per chunk).
SIZES = [(3, 5), (19, 17), (300, 70)]


@pytest.mark.parametrize("batch,hidden", SIZES)
@pytest.mark.parametrize("order,ract", [((0, 1, 2, 3), "sigmoid"), ((2, 0, 3, 1), "hard_sigmoid")])
def test_lstm_step_matches_numpy_gradcheck_and_torch(torch, batch, hidden, order, ract):
    shapes = [(batch, 4 * hidden), (batch, 4 * hidden), (batch, hidden)]
    small = batch * hidden < 200  # finite differences on the small case only
    check_op(f"lstm_cell {order} {ract} {batch}x{hidden}", lambda gx, gh, c: rec.lstm_cell(gx, gh, c, "tanh", ract, order),
             lambda gx, gh, c: np_lstm(gx, gh, c, order, ract), shapes, gradcheck=small,
             torch_fn=torch_lstm(torch, order, ract) if torch is not None else False)


@pytest.mark.parametrize("batch,hidden", SIZES)
@pytest.mark.parametrize("order,ract", [((0, 1, 2), "sigmoid"), ((1, 0, 2), "sigmoid"), ((0, 1, 2), "hard_sigmoid")])
def test_gru_step_matches_numpy_gradcheck_and_torch(torch, batch, hidden, order, ract):
    shapes = [(batch, 3 * hidden), (batch, 3 * hidden), (batch, hidden)]
    small = batch * hidden < 200
    check_op(f"gru_cell {order} {ract} {batch}x{hidden}", lambda gx, gh, h: rec.gru_cell(gx, gh, h, "tanh", ract, order),
             lambda gx, gh, h: np_gru(gx, gh, h, order, ract), shapes, gradcheck=small,
             torch_fn=torch_gru(torch, order, ract) if torch is not None else False)


@pytest.mark.parametrize("batch,hidden", SIZES)
@pytest.mark.parametrize("act", ["tanh", "relu"])
def test_rnn_step_matches_numpy_gradcheck_and_torch(torch, batch, hidden, act):
    np_act = np.tanh if act == "tanh" else (lambda z: np.maximum(z, 0.0))
    rng = np.random.default_rng(batch * hidden)
    # Away from relu's kink, where finite differences are one-sided.
    arrays = [rng.uniform(-2, 2, (batch, hidden)), rng.uniform(-2, 2, (batch, hidden))]
    arrays[1] = np.where(np.abs(arrays[0] + arrays[1]) < 0.05, arrays[1] + 0.2, arrays[1])
    check_op(f"rnn_cell {act} {batch}x{hidden}", lambda gx, gh: rec.rnn_cell(gx, gh, act),
             lambda gx, gh: np_act(gx + gh), arrays=arrays, gradcheck=batch * hidden < 200,
             torch_fn=(lambda gx, gh: getattr(torch, act)(gx + gh)) if torch is not None else False)


def test_the_cells_are_the_fused_nodes():
    x = deepcore.randn(2, 12, requires_grad=True)
    c = deepcore.randn(2, 3)
    h, c2 = rec.lstm_cell(x, x, c)
    assert h.grad_fn.name == c2.grad_fn.name == "LSTMCell"
    assert rec.gru_cell(x[:, :9], x[:, :9], c).grad_fn.name == "GRUCell"
    assert rec.rnn_cell(x[:, :3], x[:, :3], "relu").grad_fn.name == "RNNCell"
    # Any other activation is composed of autograd ops, with the same formula.
    composed = rec.lstm_cell(x, x, c, lambda t: t.tanh(), "sigmoid")
    assert composed[0].grad_fn.name != "LSTMCell"
    assert_close(composed[0].detach().numpy(), h.detach().numpy(), 1e-6, 1e-6, "composed LSTM step")
    out, _ = nn.LSTM(3, 4)(deepcore.randn(5, 2, 3))
    assert out.grad_fn.name == "Sequence"


# ---- the whole-sequence node ----------------------------------------------------------------------

def sequence_inputs(rng, mode, steps, batch, hidden, time_dim, keras_weight, bias, mask, input_bias=False):
    k = {"LSTM": 4, "GRU": 3}.get(mode, 1)
    shape = (steps, batch, k * hidden) if time_dim == 0 else (batch, steps, k * hidden)
    gx = deepcore.tensor(rng.uniform(-1, 1, shape), requires_grad=True)
    if keras_weight:  # a Keras recurrent_kernel (hidden, k * hidden) seen through .t()
        kernel = deepcore.tensor(rng.uniform(-1, 1, (hidden, k * hidden)), requires_grad=True)
        weight, leaf = kernel.t(), kernel
    else:
        weight = leaf = deepcore.tensor(rng.uniform(-1, 1, (k * hidden, hidden)), requires_grad=True)
    b = deepcore.tensor(rng.uniform(-1, 1, (k * hidden,)), requires_grad=True) if bias else None
    h0 = deepcore.tensor(rng.uniform(-1, 1, (batch, hidden)), requires_grad=True)
    c0 = deepcore.tensor(rng.uniform(-1, 1, (batch, hidden)), requires_grad=True) if mode == "LSTM" else None
    m = deepcore.tensor((rng.uniform(0, 1, (batch, hidden)) > 0.3) / 0.7) if mask else None
    bi = deepcore.tensor(rng.uniform(-1, 1, (k * hidden,)), requires_grad=True) if input_bias else None
    return gx, weight, leaf, b, h0, c0, m, bi


CASES = [
    dict(mode="LSTM"), dict(mode="LSTM", reverse=True, time_dim=1, keras_weight=True, bias=False, mask=True),
    dict(mode="GRU", order=(1, 0, 2), time_dim=1, mask=True), dict(mode="GRU", reverse=True),
    dict(mode="GRU", keras_weight=True, bias=False, ract="hard_sigmoid"),
    dict(mode="LSTM", ract="hard_sigmoid", order=(1, 3, 0, 2)),
    dict(mode="RNN_TANH", reverse=True, time_dim=1, mask=True), dict(mode="RNN_RELU", keras_weight=True),
    dict(mode="LSTM", input_bias=True), dict(mode="LSTM", input_bias=True, bias=False, time_dim=1),
    dict(mode="RNN_TANH", input_bias=True), dict(mode="GRU", input_bias=True, mask=True),
]


def case_id(case):
    return "-".join(f"{k}={v}" for k, v in case.items())


def run_sequence(case, composed, gx, weight, b, h0, c0, m, bi=None):
    act = (lambda t: t.tanh()) if composed else "tanh"  # a callable is not the kernels': the composed loop
    if composed and case["mode"].startswith("RNN"):
        act = "tanh"
    kw = dict(mask=m, activation=act, recurrent_activation=case.get("ract", "sigmoid"), order=case.get("order"),
              reverse=case.get("reverse", False), time_dim=case.get("time_dim", 0), input_bias=bi)
    if composed and case["mode"].startswith("RNN"):  # the RNN modes name their nonlinearity: force the loop
        import unittest.mock as mock
        with mock.patch.object(rec, "_native", lambda *a: False):
            return rec.recurrent_sequence(case["mode"], gx, weight, b, h0, c0, **kw)
    return rec.recurrent_sequence(case["mode"], gx, weight, b, h0, c0, **kw)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_sequence_matches_the_composed_loop_and_gradcheck(rng, case):
    steps, batch, hidden = 4, 3, 5
    gx, weight, leaf, b, h0, c0, m, bi = sequence_inputs(rng, case["mode"], steps, batch, hidden,
                                                         case.get("time_dim", 0), case.get("keras_weight", False),
                                                         case.get("bias", True), case.get("mask", False),
                                                         case.get("input_bias", False))
    leaves = [t for t in (gx, leaf, b, h0, c0, bi) if t is not None]
    results = []
    for composed in (False, True):
        for t in leaves:
            t.grad = None
        weight = leaf.t() if case.get("keras_weight") else leaf  # a fresh view: each backward frees its node
        ys, states = run_sequence(case, composed, gx, weight, b, h0, c0, m, bi)
        assert (ys.grad_fn.name == "Sequence") != composed
        outs = [ys] + list(states)
        w = np.random.default_rng(7)
        sum((o * deepcore.tensor(w.standard_normal(tuple(o.shape)))).sum() for o in outs).backward()
        results.append(([o.detach().numpy() for o in outs], [t.grad.numpy() for t in leaves]))
    (fo, fg), (co, cg) = results
    for k, (a, e) in enumerate(zip(fo, co)):
        assert_close(a, e, 1e-12, 1e-12, f"{case_id(case)}: output {k}")
    for k, (a, e) in enumerate(zip(fg, cg)):
        assert_close(a, e, 1e-12, 1e-10, f"{case_id(case)}: gradient {k}")

    small = sequence_inputs(rng, case["mode"], 3, 2, 2, case.get("time_dim", 0), case.get("keras_weight", False),
                            case.get("bias", True), case.get("mask", False), case.get("input_bias", False))
    gx, weight, leaf, b, h0, c0, m, bi = small

    def fn(gx, leaf, *rest):
        rest = list(rest)
        bb = rest.pop(0) if b is not None else None
        hh = rest.pop(0)
        cc = rest.pop(0) if c0 is not None else None
        ib = rest.pop(0) if bi is not None else None
        ww = leaf.t() if case.get("keras_weight") else leaf
        ys, states = run_sequence(case, False, gx, ww, bb, hh, cc, m, ib)
        return (ys,) + tuple(states)

    assert gradcheck(fn, [t for t in (gx, leaf, b, h0, c0, bi) if t is not None])


def test_sequence_without_gradients_records_nothing():
    with deepcore.no_grad():
        ys, (h, c) = rec.recurrent_sequence("LSTM", deepcore.randn(3, 2, 8), deepcore.randn(8, 2), None,
                                            deepcore.zeros(2, 2), deepcore.zeros(2, 2))
    assert ys.grad_fn is None and h.grad_fn is None
    np.testing.assert_array_equal(ys.numpy()[-1], h.numpy())


def test_sequence_errors():
    gx, w, h = deepcore.randn(3, 2, 8), deepcore.randn(8, 2), deepcore.zeros(2, 2)
    with raises(ValueError, "weight must have shape (4 * hidden, hidden)"):
        rec.recurrent_sequence("LSTM", gx, deepcore.randn(6, 2), None, h, h)
    with raises(ValueError, "gx must be 3-D"):
        rec.recurrent_sequence("LSTM", gx[0], w, None, h, h)
    with raises(ValueError, "h0 must have shape (2, 2)"):
        rec.recurrent_sequence("LSTM", gx, w, None, deepcore.zeros(3, 2), h)
    with raises(ValueError, "c0 is required"):
        rec.recurrent_sequence("LSTM", gx, w, None, h)
    with raises(ValueError, "bias must have shape (8,)"):
        rec.recurrent_sequence("LSTM", gx, w, deepcore.zeros(4), h, h)
    with raises(ValueError, "input_bias must have shape (8,)"):
        rec.recurrent_sequence("LSTM", gx, w, None, h, h, input_bias=deepcore.zeros(4))
    with raises(ValueError, "is float64"):
        rec.recurrent_sequence("LSTM", gx, w, None, h.double(), h)
    with raises(ValueError, "order must be a permutation"):
        rec.recurrent_sequence("LSTM", gx, w, None, h, h, order=(0, 1, 2, 2))
    with raises(ValueError, "mode must be one of"):
        rec.recurrent_sequence("LSTMP", gx, w, None, h, h)
    with raises(ValueError, "unknown activation 'swish'"):
        rec.lstm_cell(gx[0], gx[0], h, "swish")


def test_kernels_refuse_bad_arguments():
    from deepcore import _C
    gx, c = _C.full([2, 8], 0.0, _C.DType.float32), _C.full([2, 2], 0.0, _C.DType.float32)
    with raises(ValueError, "recurrent_activation must be 'sigmoid' or 'hard_sigmoid'"):
        _C.lstm_cell_forward(gx, gx, c, [0, 1, 2, 3], "relu")
    with raises(ValueError, "order must be a permutation"):
        _C.lstm_cell_forward(gx, gx, c, [0, 0, 2, 3], "sigmoid")
    with raises(ValueError, "gx must have shape (2, 4 * 2)"):
        _C.lstm_cell_forward(_C.full([2, 6], 0.0, _C.DType.float32), gx, c, [0, 1, 2, 3], "sigmoid")
    with raises(ValueError, "gh must have shape (2, 6)"):
        _C.gru_cell_forward(gx[:, :6] if False else _C.full([2, 6], 0.0, _C.DType.float32), gx, c, [0, 1, 2],
                            "sigmoid")
    with raises(ValueError, "nonlinearity must be 'tanh' or 'relu'"):
        _C.rnn_cell_forward(c, c, "sigmoid")
    with pytest.raises(TypeError):
        _C.rnn_cell_forward(c, _C.full([2, 2], 0.0, _C.DType.float64), "tanh")


# ---- the layers against PyTorch on random shapes --------------------------------------------------

def copy_to_torch(torch, dmod, tmod):
    with torch.no_grad():
        for n, p in dmod.named_parameters():
            getattr(tmod, n).copy_(torch.from_numpy(p.detach().numpy()))
    return tmod


def compare(torch, douts, touts, dleaves, tleaves, what, seed=0):
    douts, touts = list(douts), list(touts)
    for k, (d, t) in enumerate(zip(douts, touts)):
        assert_close(d.detach().numpy(), t.detach().numpy(), 2e-5, 1e-4, f"{what}: output {k}")
    rng = np.random.default_rng(seed)
    ws = [rng.standard_normal(tuple(t.shape)).astype(np.float32) for t in touts]
    sum((t * torch.from_numpy(w)).sum() for t, w in zip(touts, ws)).backward()
    sum((d * deepcore.tensor(w)).sum() for d, w in zip(douts, ws)).backward()
    for name, d, t in zip([n for n, _ in dleaves], [d for _, d in dleaves], tleaves):
        assert d.grad is not None, f"{what}: no gradient for {name}"
        tg = t.grad.numpy()
        assert_close(d.grad.numpy(), tg, 2e-5 * max(1.0, float(np.abs(tg).max())), 1e-4, f"{what}: grad {name}")


@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN_TANH"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_layers_match_torch_on_random_shapes(torch, mode, seed):
    rng = np.random.default_rng(seed + 100 * len(mode))
    T, N, I, H = int(rng.integers(1, 9)), int(rng.integers(1, 7)), int(rng.integers(1, 9)), int(rng.integers(1, 20))
    L, bi, bf, with_hx = int(rng.integers(1, 4)), bool(rng.integers(2)), bool(rng.integers(2)), bool(rng.integers(2))
    kw = dict(num_layers=L, bidirectional=bi, batch_first=bf)
    name = "RNN" if mode.startswith("RNN") else mode
    dmod = getattr(nn, name)(I, H, **kw)
    tmod = copy_to_torch(torch, dmod, getattr(torch.nn, name)(I, H, **kw))
    x = rng.standard_normal((N, T, I) if bf else (T, N, I)).astype(np.float32)
    D = 2 if bi else 1
    states = [rng.standard_normal((D * L, N, H)).astype(np.float32) for _ in range(2 if mode == "LSTM" else 1)]
    dx, tx = deepcore.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ds = [deepcore.tensor(s, requires_grad=True) for s in states]
    ts = [torch.tensor(s, requires_grad=True) for s in states]
    pack = (lambda s: tuple(s)) if mode == "LSTM" else (lambda s: s[0])
    dout = dmod(dx, pack(ds) if with_hx else None)
    tout = tmod(tx, pack(ts) if with_hx else None)
    flat = (lambda o: [o[0], *o[1]]) if mode == "LSTM" else (lambda o: list(o))
    dleaves = [("input", dx)] + ([(f"state{i}", s) for i, s in enumerate(ds)] if with_hx else [])
    tleaves = [tx] + (ts if with_hx else [])
    dleaves += list(dmod.named_parameters())
    tleaves += [getattr(tmod, n) for n, _ in dmod.named_parameters()]
    compare(torch, flat(dout), flat(tout), dleaves, tleaves, f"{mode} T{T} N{N} I{I} H{H} {kw} hx={with_hx}")


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
def test_dropout_between_layers_in_training_matches_torch(torch, monkeypatch, mode):
    """Training mode with dropout=0.4: the mask deepcore draws is recorded and applied between two
    single-layer PyTorch twins, so the stacked torch reference sees the same dropout."""
    rng = np.random.default_rng(3)
    T, N, I, H = 5, 4, 3, 6
    dmod = getattr(nn, mode)(I, H, num_layers=2, dropout=0.4, bidirectional=True)
    dmod.train()
    masks = []
    real = F.dropout

    def recording(x, p=0.5, training=True, inplace=False):
        out = real(x, p, training, inplace)
        masks.append((out.detach().numpy() != 0) / (1 - p))
        return out

    monkeypatch.setattr(F, "dropout", recording)
    x = rng.standard_normal((T, N, I)).astype(np.float32)
    dx = deepcore.tensor(x, requires_grad=True)
    dout = dmod(dx)
    assert len(masks) == 1 and 0 < masks[0].mean() < 1.5  # some zeroed, the rest scaled by 1 / 0.6
    assert (masks[0] == 0).any()
    t_layers = [getattr(torch.nn, mode)(I if k == 0 else 2 * H, H, bidirectional=True) for k in range(2)]
    with torch.no_grad():
        for n, p in dmod.named_parameters():
            kind, layer = n.rsplit("_l", 1)
            k, suffix = int(layer[0]), layer[1:]
            getattr(t_layers[k], f"{kind}_l0{suffix}").copy_(torch.from_numpy(p.detach().numpy()))
    tx = torch.tensor(x, requires_grad=True)
    y0, h0 = t_layers[0](tx)
    y1, h1 = t_layers[1](y0 * torch.from_numpy(masks[0].astype(np.float32)))
    if mode == "LSTM":
        touts = [y1, torch.cat([h0[0], h1[0]]), torch.cat([h0[1], h1[1]])]
        douts = [dout[0], *dout[1]]
    else:
        touts, douts = [y1, torch.cat([h0, h1])], list(dout)
    dleaves = [("input", dx)] + list(dmod.named_parameters())
    tleaves = [tx]
    for n, _ in dmod.named_parameters():
        kind, layer = n.rsplit("_l", 1)
        tleaves.append(getattr(t_layers[int(layer[0])], f"{kind}_l0{layer[1:]}"))
    compare(torch, douts, touts, dleaves, tleaves, f"{mode} dropout=0.4 in training")


# ---- Keras layers: the fused loop against the composed one ----------------------------------------

def graph_names(t):
    """The names of the nodes behind t."""
    seen, todo, names = set(), [t.grad_fn], set()
    while todo:
        node = todo.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        names.add(node.name)
        todo.extend(e[0] for e in node.edges if e is not None)
    return names


@pytest.mark.parametrize("layer", ["LSTM", "GRU", "SimpleRNN"])
@pytest.mark.parametrize("kw", [dict(return_sequences=True, return_state=True),
                                dict(go_backwards=True, return_sequences=True, recurrent_dropout=0.3),
                                dict(go_backwards=True, return_state=True, dropout=0.2)], ids=case_id)
def test_keras_layers_fused_match_composed(layer, kw):
    rng = np.random.default_rng(5)
    x = deepcore.tensor(rng.standard_normal((3, 6, 4)).astype(np.float32))
    fused = getattr(keras.layers, layer)(5, **kw)
    composed = getattr(keras.layers, layer)(5, activation=lambda t: t.tanh(), **kw)
    fused.build((3, 6, 4))
    composed.build((3, 6, 4))
    composed.set_weights(fused.get_weights())
    results = []
    for lay in (fused, composed):
        deepcore.manual_seed(11)  # the same dropout masks
        outs = lay(x, training=True)
        outs = outs if isinstance(outs, list) else [outs]
        assert ("Sequence" in graph_names(outs[0])) == (lay is fused)
        sum((o * o).sum() for o in outs).backward()
        results.append(([o.detach().numpy() for o in outs], [w.grad.numpy() for w in lay.trainable_weights]))
    for k, (a, e) in enumerate(zip(results[0][0], results[1][0])):
        assert_close(a, e, 1e-5, 1e-5, f"keras {layer} {kw}: output {k}")
    for k, (a, e) in enumerate(zip(results[0][1], results[1][1])):
        assert_close(a, e, 1e-5 * max(1.0, float(np.abs(e).max())), 1e-4, f"keras {layer} {kw}: gradient {k}")


def test_kernels_write_into_given_outputs_and_refuse_shared_memory():
    """The optional outputs (a step of an all-steps buffer, rows strided) get exactly the values the
    kernels return without them; an output sharing memory with an input is refused."""
    from deepcore import _C
    rng = np.random.default_rng(9)
    B, H = 4, 3

    def arr(*shape):
        return _C.from_numpy(rng.standard_normal(shape).astype(np.float32))

    def step(buf, t):  # step t of a (B, T, W) buffer: rows strided by T * W
        return _C.view(buf, [B, buf.shape[2]], [buf.strides[0], 1], buf.offset + t * buf.strides[1])

    gx, gh, c = arr(B, 4 * H), arr(B, 4 * H), arr(B, H)
    buf = _C.full([B, 3, 4 * H], 7.0, _C.DType.float32)
    h_ref, c_ref, g_ref = _C.lstm_cell_forward(gx, gh, c, [0, 1, 2, 3], "sigmoid")
    h_out = _C.view(buf, [B, H], [buf.strides[0], 1], buf.offset + buf.strides[1])
    h, _, _ = _C.lstm_cell_forward(gx, gh, c, [0, 1, 2, 3], "sigmoid", h_out)
    np.testing.assert_array_equal(_C.to_numpy(h), _C.to_numpy(h_ref))
    full = _C.to_numpy(buf)
    np.testing.assert_array_equal(full[:, 1, :H], _C.to_numpy(h_ref))
    assert (full[:, 0] == 7).all() and (full[:, 2] == 7).all() and (full[:, 1, H:] == 7).all()  # nothing else
    d_ref, _ = _C.lstm_cell_backward(c, c, g_ref, c, [0, 1, 2, 3], "sigmoid")
    d, _ = _C.lstm_cell_backward(c, c, g_ref, c, [0, 1, 2, 3], "sigmoid", step(buf, 2))
    np.testing.assert_array_equal(_C.to_numpy(d), _C.to_numpy(d_ref))
    g3x, g3h, h3 = arr(B, 3 * H), arr(B, 3 * H), arr(B, H)
    n_ref, gates3 = _C.gru_cell_forward(g3x, g3h, h3, [1, 0, 2], "hard_sigmoid")
    bx, bh = _C.full([B, 2, 3 * H], 0.0, _C.DType.float32), _C.full([B, 2, 3 * H], 0.0, _C.DType.float32)
    refs = _C.gru_cell_backward(h3, gates3, h3, [1, 0, 2], "hard_sigmoid")
    outs = _C.gru_cell_backward(h3, gates3, h3, [1, 0, 2], "hard_sigmoid", step(bx, 1), step(bh, 0))
    for r, o in zip(refs, outs):
        np.testing.assert_array_equal(_C.to_numpy(o), _C.to_numpy(r))
    r_ref = _C.rnn_cell_forward(h3, h3, "relu")
    r_out = _C.view(bx, [B, H], [6 * H, 1], 0)
    np.testing.assert_array_equal(_C.to_numpy(_C.rnn_cell_forward(h3, h3, "relu", r_out)), _C.to_numpy(r_ref))
    with raises(ValueError, "h_out shares memory with an input"):
        _C.lstm_cell_forward(gx, gh, c, [0, 1, 2, 3], "sigmoid", c)
    with raises(ValueError, "out must have shape (4, 3)"):
        _C.rnn_cell_forward(h3, h3, "tanh", arr(B, H + 1))
    with raises(ValueError, "adjacent columns"):
        _C.rnn_cell_backward(h3, h3, "tanh", _C.view(bx, [B, H], [6 * H, 2], 0))
    with raises(ValueError, "grad_gh_out shares memory with an input"):
        _C.gru_cell_backward(h3, gates3, h3, [1, 0, 2], "sigmoid", step(bx, 0), step(bx, 0))
