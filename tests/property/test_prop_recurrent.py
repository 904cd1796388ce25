"""Properties of the recurrent layers: RNN (tanh / relu), LSTM and GRU with 1-2 layers, bias or not,
batch_first, bidirectional, given or zero initial states, batched and unbatched input, and the
RNNCell / LSTMCell / GRUCell; outputs and final states against a float64 NumPy loop over
prop_references.rnn_step, and against torch with the same weights (values and gradients)."""
import numpy as np
from hypothesis import given, settings, strategies as st

import deepcore
import prop_references as ref
from prop_strategies import examples, expect_same, expect_value, operands, torch

_SEEDS = st.integers(0, 2 ** 32 - 1)


def _reference(kind, weights, x, h0, c0, num_layers, directions, nonlinearity):
    """x (T, N, F), h0/c0 (L * D, N, H) -> output (T, N, D * H), h_n, c_n."""
    layer_input = x
    h_n, c_n = [], []
    for layer in range(num_layers):
        outs = []
        for direction in range(directions):
            sfx = f"_l{layer}" + ("_reverse" if direction else "")
            w_ih, w_hh = weights["weight_ih" + sfx], weights["weight_hh" + sfx]
            b_ih, b_hh = weights.get("bias_ih" + sfx), weights.get("bias_hh" + sfx)
            k = layer * directions + direction
            h, c = h0[k], (c0[k] if c0 is not None else None)
            steps = range(len(layer_input))
            out = [None] * len(layer_input)
            for t in (reversed(steps) if direction else steps):
                h, c = ref.rnn_step(kind, layer_input[t], h, c, w_ih, w_hh, b_ih, b_hh, nonlinearity)
                out[t] = h
            outs.append(np.stack(out))
            h_n.append(h)
            c_n.append(c)
        layer_input = np.concatenate(outs, axis=-1)
    return layer_input, np.stack(h_n), (np.stack(c_n) if kind == "LSTM" else None)


@st.composite
def recurrent_config(draw):
    kind = draw(st.sampled_from(("RNN", "LSTM", "GRU")))
    return dict(kind=kind, input_size=draw(st.sampled_from((1, 3, 5))), hidden=draw(st.sampled_from((1, 2, 4))),
                layers=draw(st.sampled_from((1, 1, 2))), bias=draw(st.booleans()), batch_first=draw(st.booleans()),
                bidirectional=draw(st.booleans()), steps=draw(st.sampled_from((1, 2, 5))),
                batch=draw(st.sampled_from((None, 1, 3))), initial=draw(st.booleans()),
                nonlinearity=draw(st.sampled_from(("tanh", "relu"))) if kind == "RNN" else "tanh")


@settings(max_examples=examples(180))
@given(recurrent_config(), st.sampled_from(("float32", "float64")), _SEEDS, st.data())
def test_recurrent_layers(g, dtype, seed, data):
    rng = np.random.default_rng(seed)
    kind, directions = g["kind"], 2 if g["bidirectional"] else 1
    kwargs = dict(num_layers=g["layers"], bias=g["bias"], batch_first=g["batch_first"],
                  bidirectional=g["bidirectional"])
    if kind == "RNN":
        kwargs["nonlinearity"] = g["nonlinearity"]
    layer = getattr(deepcore.nn, kind)(g["input_size"], g["hidden"], **kwargs, dtype=getattr(deepcore, dtype))
    t, n, f, h = g["steps"], g["batch"], g["input_size"], g["hidden"]
    shape = (t, f) if n is None else ((n, t, f) if g["batch_first"] else (t, n, f))
    x = data.draw(operands(shape, dtype, -1.5, 1.5, specials=False), "x")
    state_shape = (g["layers"] * directions, h) if n is None else (g["layers"] * directions, n, h)
    h0 = rng.uniform(-1, 1, state_shape).astype(dtype) if g["initial"] else np.zeros(state_shape, dtype)
    c0 = rng.uniform(-1, 1, state_shape).astype(dtype) if g["initial"] and kind == "LSTM" else \
        np.zeros(state_shape, dtype)
    what = f"{kind}({f}, {h}, {kwargs}) on {x}, initial state {g['initial']}"
    leaf, view = x.deepcore(requires_grad=True)
    if g["initial"]:
        hx = (deepcore.tensor(h0), deepcore.tensor(c0)) if kind == "LSTM" else deepcore.tensor(h0)
        out, state = layer(view, hx)
    else:
        out, state = layer(view)
    weights = {k: v.numpy().astype(np.float64) for k, v in layer.state_dict().items()}
    xv = x.value
    if n is None:
        xv, h0v, c0v = xv[:, None, :], h0[:, None, :], c0[:, None, :]
    else:
        h0v, c0v = h0, c0
        if g["batch_first"]:
            xv = xv.transpose(1, 0, 2)
    out_ref, h_ref, c_ref = _reference(kind, weights, xv, h0v.astype(np.float64),
                                       c0v.astype(np.float64) if kind == "LSTM" else None,
                                       g["layers"], directions, g["nonlinearity"])
    if n is None:
        out_ref, h_ref = out_ref[:, 0], h_ref[:, 0]
        c_ref = c_ref[:, 0] if c_ref is not None else None
    elif g["batch_first"]:
        out_ref = out_ref.transpose(1, 0, 2)
    tol = dict(atol=2e-5, rtol=1e-4) if dtype == "float32" else dict(atol=1e-11, rtol=1e-10)
    expect_value(out, out_ref, dtype, what + " output", **tol)
    h_n, c_n = state if kind == "LSTM" else (state, None)
    expect_value(h_n, h_ref, dtype, what + " h_n", **tol)
    if kind == "LSTM":
        expect_value(c_n, c_ref, dtype, what + " c_n", **tol)
    if torch is None:
        return
    twin = getattr(torch.nn, kind)(f, h, **kwargs).to(getattr(torch, dtype))
    ref.copy_weights(layer, twin)
    tleaf, tview = x.torch(requires_grad=True)
    if g["initial"]:
        thx = (torch.tensor(h0), torch.tensor(c0)) if kind == "LSTM" else torch.tensor(h0)
        tout, tstate = twin(tview, thx)
    else:
        tout, tstate = twin(tview)
    expect_same(out, tout, what + " output", **tol)
    w = rng.uniform(-1, 1, tuple(out.shape))
    out.backward(deepcore.tensor(w, dtype=getattr(deepcore, dtype)))
    tout.backward(torch.tensor(w, dtype=getattr(torch, dtype)))
    gtol = dict(atol=1e-4, rtol=1e-3) if dtype == "float32" else tol
    expect_same(leaf.grad, tleaf.grad, what + " input gradient", **gtol)
    expect_same(layer.weight_hh_l0.grad, twin.weight_hh_l0.grad, what + " weight_hh_l0 gradient", **gtol)


@settings(max_examples=examples(100))
@given(st.sampled_from(("RNNCell", "LSTMCell", "GRUCell")), st.sampled_from((1, 4)), st.sampled_from((1, 3)),
       st.sampled_from((None, 1, 5)), st.booleans(), st.booleans(), _SEEDS)
def test_recurrent_cells(name, input_size, hidden, batch, bias, given_state, seed):
    rng = np.random.default_rng(seed)
    cell = getattr(deepcore.nn, name)(input_size, hidden, bias=bias)
    lead = () if batch is None else (batch,)
    x = rng.uniform(-1.5, 1.5, lead + (input_size,)).astype(np.float32)
    h = rng.uniform(-1, 1, lead + (hidden,)).astype(np.float32) if given_state else np.zeros(lead + (hidden,),
                                                                                             np.float32)
    c = rng.uniform(-1, 1, lead + (hidden,)).astype(np.float32) if given_state else np.zeros(lead + (hidden,),
                                                                                             np.float32)
    kind = name[:-4]
    if given_state:
        state = (deepcore.tensor(h), deepcore.tensor(c)) if kind == "LSTM" else deepcore.tensor(h)
        out = cell(deepcore.tensor(x), state)
    else:
        out = cell(deepcore.tensor(x))
    w = {k: v.numpy().astype(np.float64) for k, v in cell.state_dict().items()}
    h_ref, c_ref = ref.rnn_step(kind, x.astype(np.float64), h.astype(np.float64), c.astype(np.float64),
                                w["weight_ih"], w["weight_hh"], w.get("bias_ih"), w.get("bias_hh"))
    what = f"{name}({input_size}, {hidden}, bias={bias}) batch {batch}"
    if kind == "LSTM":
        expect_value(out[0], h_ref, "float32", what + " h", atol=2e-5, rtol=1e-4)
        expect_value(out[1], c_ref, "float32", what + " c", atol=2e-5, rtol=1e-4)
    else:
        expect_value(out, h_ref, "float32", what, atol=2e-5, rtol=1e-4)
