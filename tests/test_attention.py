"""Attention family against NumPy float64, gradcheck and PyTorch: F.scaled_dot_product_attention (masks, causal,
scale, GQA, dropout), nn.MultiheadAttention (every constructor option, masks, weights), the Transformer layers and
models (same state_dict loaded into both, eval mode, outputs and parameter gradients), and their errors."""
import math

import numpy as np
import pytest

import deepcore
import deepcore.nn as nn
import deepcore.nn.functional as F
from deepcore.ops.attention import ScaledDotProductAttention
from helpers import assert_close, check_op, functional_of as fn, lib, named, numpy_state, raises


def _np_softmax(s):
    e = np.exp(s - s.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _np_attention(q, k, v, bias=None, scale=None):
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    s = q @ np.swapaxes(k, -1, -2) * scale
    if bias is not None:
        s = s + bias
    return _np_softmax(s) @ v


def _causal(L, S):
    return np.where(np.tril(np.ones((L, S), bool)), 0.0, -np.inf)


# ---- scaled_dot_product_attention --------------------------------------------------------------------

SDPA_CASES = named([
    ("plain-4d", (1, 2, 2, 3), (1, 2, 3, 3), (1, 2, 3, 2), {}, None),
    ("2d", (3, 4), (5, 4), (5, 2), {}, None),
    ("broadcast-heads", (2, 2, 2, 2), (2, 1, 3, 2), (2, 1, 3, 2), {}, None),
    ("scale", (1, 3, 4), (1, 3, 4), (1, 3, 4), {"scale": 0.7}, None),
    ("causal-L<S", (1, 2, 3, 4), (1, 2, 5, 4), (1, 2, 5, 3), {"is_causal": True}, _causal(3, 5)),
    ("causal-L>S", (1, 5, 4), (1, 3, 4), (1, 3, 2), {"is_causal": True}, _causal(5, 3)),
])


@pytest.mark.parametrize("name,sq,sk,sv,kwargs,bias", SDPA_CASES)
def test_sdpa_reference_gradcheck_and_torch(name, sq, sk, sv, kwargs, bias, rng):
    check_op(f"sdpa {name}", lambda q, k, v: fn(q).scaled_dot_product_attention(q, k, v, **kwargs),
             lambda q, k, v: _np_attention(q, k, v, bias, kwargs.get("scale")), shapes=[sq, sk, sv], rng=rng)


def test_sdpa_float_and_bool_masks_broadcast_over_batch_and_heads(rng):
    L, S = 3, 4
    float_mask = rng.uniform(-2, 2, (1, 1, L, S))
    bool_mask = rng.random((1, 1, L, S)) < 0.6
    bool_mask[..., 0] = True  # every query keeps at least one key
    # small enough for gradcheck (the float mask is differentiated too); the masks broadcast over batch / heads
    arrays = [rng.uniform(-2, 2, (2, 1, L, 2)), rng.uniform(-2, 2, (2, 1, S, 2)), rng.uniform(-2, 2, (2, 1, S, 1))]
    check_op("sdpa float mask (its gradient too)",
             lambda q, k, v, m: fn(q).scaled_dot_product_attention(q, k, v, attn_mask=m),
             lambda q, k, v, m: _np_attention(q, k, v, m), arrays=arrays + [float_mask], rng=rng)
    check_op("sdpa bool mask (True = attend)",
             lambda q, k, v, m: fn(q).scaled_dot_product_attention(q, k, v, attn_mask=m),
             lambda q, k, v, m: _np_attention(q, k, v, np.where(m, 0.0, -np.inf)), arrays=arrays + [bool_mask],
             rng=rng)


def test_sdpa_fully_masked_rows_give_zeros_as_torch(torch, rng):
    q, k, v = (rng.standard_normal(s).astype(np.float32) for s in ((2, 4, 3), (2, 5, 3), (2, 5, 2)))
    mask = np.ones((4, 5), bool)
    mask[1] = False
    tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    dq, dk, dv = (deepcore.tensor(a, requires_grad=True) for a in (q, k, v))
    to = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, attn_mask=torch.tensor(mask))
    do = F.scaled_dot_product_attention(dq, dk, dv, attn_mask=deepcore.tensor(mask))
    assert np.all(do.detach().numpy()[:, 1] == 0)
    assert_close(do.detach().numpy(), to.detach().numpy(), 1e-6, 1e-5, "fully masked row")
    to.sum().backward()
    do.sum().backward()
    for t, d, n in ((tq, dq, "q"), (tk, dk, "k"), (tv, dv, "v")):
        assert_close(d.grad.numpy(), t.grad.numpy(), 1e-5, 1e-4, f"grad {n} with a fully masked row")


def test_sdpa_grouped_query_attention_matches_torch(torch, rng):
    shapes = ((1, 4, 2, 2), (1, 2, 3, 2), (1, 2, 3, 2))
    check_op("sdpa enable_gqa", lambda q, k, v: fn(q).scaled_dot_product_attention(q, k, v, enable_gqa=True),
             lambda q, k, v: _np_attention(q, np.repeat(k, 2, axis=1), np.repeat(v, 2, axis=1)), shapes=shapes,
             rng=rng)


def test_sdpa_dropout_backward_is_the_closed_form(rng):
    """With dropout the weights are random; the Function returns them, and the output and every gradient
    must follow from those weights (NumPy float64, the mask read back from the zeros)."""
    q, k, v = (rng.standard_normal(s) for s in ((2, 4, 3), (2, 5, 3), (2, 5, 2)))
    p, scale = 0.4, 0.5
    dq, dk, dv = (deepcore.tensor(a, requires_grad=True) for a in (q, k, v))
    out, weights = ScaledDotProductAttention.apply(dq, dk, dv, None, scale, p, True, True)
    w = weights.detach().numpy()
    soft = _np_softmax(q @ np.swapaxes(k, -1, -2) * scale)
    keep = w != 0
    assert 0 < keep.mean() < 1, "dropout kept everything or nothing"
    assert_close(w, np.where(keep, soft / (1 - p), 0.0), 1e-12, 1e-10, "dropped weights")
    assert_close(out.detach().numpy(), w @ v, 1e-12, 1e-10, "output = weights @ v")
    g = rng.standard_normal(out.shape)
    out.backward(deepcore.tensor(g))
    gw = g @ np.swapaxes(v, -1, -2) * keep / (1 - p)
    gs = soft * (gw - (gw * soft).sum(-1, keepdims=True)) * scale
    assert_close(dv.grad.numpy(), np.swapaxes(w, -1, -2) @ g, 1e-12, 1e-10, "grad v")
    assert_close(dq.grad.numpy(), gs @ k, 1e-12, 1e-10, "grad q")
    assert_close(dk.grad.numpy(), np.swapaxes(gs, -1, -2) @ q, 1e-12, 1e-10, "grad k")
    # dropout_p is applied whatever the mode (torch's functional has no training flag); reproducible by seed
    deepcore.manual_seed(3)
    a = F.scaled_dot_product_attention(dq, dk, dv, dropout_p=0.5)
    deepcore.manual_seed(3)
    b = F.scaled_dot_product_attention(dq, dk, dv, dropout_p=0.5)
    assert np.array_equal(a.detach().numpy(), b.detach().numpy())
    assert not np.allclose(a.detach().numpy(), F.scaled_dot_product_attention(dq, dk, dv).detach().numpy())


def test_sdpa_errors():
    q, k, v = deepcore.randn(2, 3, 4), deepcore.randn(2, 5, 4), deepcore.randn(2, 5, 6)
    sdpa = F.scaled_dot_product_attention
    with raises(RuntimeError, "scaled_dot_product_attention", "attn_mask should not be set when is_causal=True"):
        sdpa(q, k, v, attn_mask=deepcore.ones(3, 5).bool(), is_causal=True)
    with raises(RuntimeError, "scaled_dot_product_attention", "at least 2 dimensional", "query.dim: 1"):
        sdpa(deepcore.randn(4), k, v)
    with raises(RuntimeError, "scaled_dot_product_attention", "same dtype", "float64"):
        sdpa(q.double(), k, v)
    with raises(RuntimeError, "scaled_dot_product_attention", "attn_mask dtype", "int64"):
        sdpa(q, k, v, attn_mask=deepcore.ones(3, 5).long())
    with raises(RuntimeError, "scaled_dot_product_attention", "attn_mask dtype", "float64"):
        sdpa(q, k, v, attn_mask=deepcore.zeros(3, 5, dtype=deepcore.float64))
    with raises(RuntimeError, "scaled_dot_product_attention", "(4, 5)", "(2, 3, 5)"):
        sdpa(q, k, v, attn_mask=deepcore.zeros(4, 5))
    with raises(RuntimeError, "scaled_dot_product_attention", "do not fit"):
        sdpa(q, deepcore.randn(2, 5, 3), v)
    with raises(RuntimeError, "scaled_dot_product_attention", "do not broadcast"):
        sdpa(q, deepcore.randn(3, 5, 4), deepcore.randn(3, 5, 6))
    with raises(RuntimeError, "dropout probability has to be between 0 and 1, but got 1.5"):
        sdpa(q, k, v, dropout_p=1.5)
    with raises(RuntimeError, "Number of heads in key and value must divide"):
        sdpa(deepcore.randn(1, 4, 3, 2), deepcore.randn(1, 3, 3, 2), deepcore.randn(1, 3, 3, 2), enable_gqa=True)
    with raises(TypeError, "scaled_dot_product_attention", "key", "int64"):
        sdpa(q, deepcore.ones(2, 5, 4).long(), v)


# ---- nn.MultiheadAttention -----------------------------------------------------------------------

def _inputs(rng, L, S, N, E, kdim=None, vdim=None, batch_first=False, batched=True):
    def make(seq, dim):
        shape = ((N, seq, dim) if batch_first else (seq, N, dim)) if batched else (seq, dim)
        return rng.standard_normal(shape).astype(np.float32)
    return make(L, E), make(S, kdim or E), make(S, vdim or E)


def _compare_module(torch, tm, dm, args, kwargs, what, tol=(1e-5, 1e-4)):
    """Same weights, eval mode: outputs (and weights) and every parameter's and input's gradient."""
    dm.load_state_dict(numpy_state(tm))
    tm.eval(), dm.eval()
    def convert(lib_, a, seen):
        # one tensor per array, so that self-attention gets query is key is value; floats are differentiated
        if id(a) not in seen:
            seen[id(a)] = lib_.tensor(a, requires_grad=a.dtype.kind == "f")
        return seen[id(a)]
    tseen, dseen = {}, {}
    targs = [convert(torch, a, tseen) for a in args]
    dargs = [convert(deepcore, a, dseen) for a in args]
    tkw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    dkw = {k: deepcore.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    tout, dout = tm(*targs, **tkw), dm(*dargs, **dkw)
    touts, douts = (tout, dout) if isinstance(tout, tuple) else ((tout,), (dout,))
    for i, (t, d) in enumerate(zip(touts, douts)):
        assert (t is None) == (d is None), f"{what}: output {i} is {d} (torch: {t})"
        if t is not None:
            assert_close(d.detach().numpy(), t.detach().numpy(), *tol, f"{what} output {i}")
    rng = np.random.default_rng(0)
    g = rng.standard_normal(tuple(touts[0].shape)).astype(np.float32)
    (touts[0] * torch.tensor(g)).sum().backward()
    (douts[0] * deepcore.tensor(g)).sum().backward()
    tparams = dict(tm.named_parameters())
    for name, p in dm.named_parameters():
        tg = tparams[name].grad
        if tg is None:
            assert p.grad is None or not np.abs(p.grad.numpy()).any(), f"{what}: {name} has a gradient, torch none"
            continue
        scale = max(1.0, float(np.abs(tg.numpy()).max()))
        assert_close(p.grad.numpy(), tg.numpy(), tol[0] * 10 * scale, tol[1] * 10, f"{what} grad {name}")
    for i, (t, d) in enumerate(zip(targs, dargs)):
        if t.grad is not None:
            assert_close(d.grad.numpy(), t.grad.numpy(), tol[0] * 10, tol[1] * 10, f"{what} grad of input {i}")


def _masks(rng, L, S, N, H, kind):
    if kind == "bool-2d":
        return {"attn_mask": np.triu(np.ones((L, S), bool), 1)}
    if kind == "float-3d":
        return {"attn_mask": rng.uniform(-1, 1, (N * H, L, S)).astype(np.float32)}
    if kind == "kpm-bool":
        kpm = np.zeros((N, S), bool)
        kpm[0, -2:] = True
        return {"key_padding_mask": kpm}
    if kind == "both-float":
        kpm = np.zeros((N, S), np.float32)
        kpm[1, 0] = -np.inf
        return {"key_padding_mask": kpm, "attn_mask": rng.uniform(-1, 1, (L, S)).astype(np.float32)}
    return {}


MHA_CASES = named([
    ("self", dict(), "self", "none", {}),
    ("cross-kv", dict(), "kv", "bool-2d", {}),
    ("cross-qkv", dict(), "qkv", "float-3d", {"average_attn_weights": False}),
    ("kdim-vdim", dict(kdim=5, vdim=3), "qkv", "kpm-bool", {}),
    ("bias-kv-zero-attn", dict(add_bias_kv=True, add_zero_attn=True), "kv", "both-float", {}),
    ("no-bias", dict(bias=False), "self", "kpm-bool", {}),
    ("batch-first", dict(batch_first=True), "self", "bool-2d", {}),
    ("batch-first-cross", dict(batch_first=True, kdim=5, vdim=5), "kv", "kpm-bool", {}),
    ("no-weights", dict(), "self", "both-float", {"need_weights": False}),
    ("causal-hint", dict(), "self", "bool-2d", {"need_weights": False, "is_causal": True}),
    ("unbatched", dict(), "unbatched", "none", {}),
])


@pytest.mark.parametrize("name,config,inputs,masks,kwargs", MHA_CASES)
def test_multihead_attention_matches_torch(torch, name, config, inputs, masks, kwargs, rng):
    E, H, L, S, N = 8, 2, 4, 5, 3
    if inputs == "self":
        S = L
    tm, dm = torch.nn.MultiheadAttention(E, H, **config), nn.MultiheadAttention(E, H, **config)
    q, k, v = _inputs(rng, L, S, N, E, config.get("kdim"), config.get("vdim"), config.get("batch_first", False),
                      inputs != "unbatched")
    args = {"self": (q, q, q), "kv": (q, k, k), "qkv": (q, k, v), "unbatched": (q, k, v)}[inputs]
    # masks cover the keys passed in (bias_k and the zero-attention key get a column of zeros)
    kw = dict(_masks(rng, L, S, N, H, masks), **kwargs)
    _compare_module(torch, tm, dm, args, kw, f"MultiheadAttention {name}")


def test_functional_multi_head_attention_forward_matches_torch(torch, rng):
    E, H = 6, 3
    tm = torch.nn.MultiheadAttention(E, H, add_bias_kv=True)
    w = {k: v.detach().numpy() for k, v in tm.state_dict().items()}
    q, k = rng.standard_normal((4, 2, E)).astype(np.float32), rng.standard_normal((5, 2, E)).astype(np.float32)
    mask = np.triu(np.ones((4, 5), bool), 2)

    def run(lib_):
        t = {n: lib_.tensor(a) for n, a in w.items()}
        return lib_.nn.functional.multi_head_attention_forward(
            lib_.tensor(q), lib_.tensor(k), lib_.tensor(k), E, H, t["in_proj_weight"], t["in_proj_bias"],
            t["bias_k"], t["bias_v"], False, 0.0, t["out_proj.weight"], t["out_proj.bias"], training=False,
            attn_mask=lib_.tensor(mask), average_attn_weights=False)
    (to, tw), (do, dw) = run(torch), run(deepcore)
    assert_close(do.numpy(), to.numpy(), 1e-5, 1e-4, "F.multi_head_attention_forward output")
    assert_close(dw.numpy(), tw.numpy(), 1e-6, 1e-5, "F.multi_head_attention_forward weights")


def test_multihead_attention_parameters_init_and_repr_match_torch(torch):
    for config in (dict(), dict(kdim=3, vdim=5), dict(add_bias_kv=True, bias=False)):
        tm, dm = torch.nn.MultiheadAttention(6, 3, **config), nn.MultiheadAttention(6, 3, **config)
        assert list(dm.state_dict()) == list(tm.state_dict()), config
        assert [tuple(v.shape) for v in dm.state_dict().values()] == [tuple(v.shape) for v in
                                                                      tm.state_dict().values()]
        assert repr(dm) == repr(tm)
    m = nn.MultiheadAttention(40, 4)
    bound = math.sqrt(6 / (120 + 40))  # xavier_uniform_ over the (3E, E) stack, as torch
    w = m.in_proj_weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert not m.in_proj_bias.detach().numpy().any() and not m.out_proj.bias.detach().numpy().any()
    assert type(m.out_proj).__name__ == "NonDynamicallyQuantizableLinear" and isinstance(m.out_proj, nn.Linear)


def test_multihead_attention_dropout_only_in_training(rng):
    m = nn.MultiheadAttention(8, 2, dropout=0.5)
    x = deepcore.tensor(rng.standard_normal((4, 2, 8)).astype(np.float32))
    out_train, w_train = m(x, x, x)
    m.eval()
    out_eval, w_eval = m(x, x, x)
    assert not np.allclose(out_train.detach().numpy(), out_eval.detach().numpy())
    assert_close(w_eval.detach().numpy().sum(-1), np.ones((2, 4)), 1e-6, 1e-6, "eval weights sum to 1")
    out_again, _ = m(x, x, x)
    assert np.array_equal(out_again.detach().numpy(), out_eval.detach().numpy())


def test_multihead_attention_errors():
    with raises(AssertionError, "embed_dim must be divisible by num_heads"):
        nn.MultiheadAttention(10, 3)
    with raises(ValueError, "embed_dim and num_heads must be greater than 0"):
        nn.MultiheadAttention(0, 1)
    m = nn.MultiheadAttention(4, 2)
    x = deepcore.randn(3, 2, 4)
    with raises(RuntimeError, "Need attn_mask if specifying the is_causal hint"):
        m(x, x, x, is_causal=True)
    with raises(RuntimeError, "The shape of the 2D attn_mask is (3, 4), but should be (3, 3)."):
        m(x, x, x, attn_mask=deepcore.zeros(3, 4))
    with raises(RuntimeError, "The shape of the 3D attn_mask is (2, 3, 3), but should be (4, 3, 3)."):
        m(x, x, x, attn_mask=deepcore.zeros(2, 3, 3))
    with raises(AssertionError, "Expected key_padded_mask.shape[1] to be 3, but got 2"):
        m(x, x, x, key_padding_mask=deepcore.zeros(2, 2).bool())
    with raises(AssertionError, "expected `key` and `value` to be 3-D"):
        m(x, deepcore.randn(3, 4), deepcore.randn(3, 4))
    with raises(AssertionError, "query should be unbatched 2D or batched 3D tensor"):
        m(deepcore.randn(1, 3, 2, 4), x, x)
    with raises(AssertionError, "was expecting embedding dimension of 4, but got 5"):
        m(deepcore.randn(3, 2, 5), x, x)
    with raises(AssertionError, "only bool and floating types of attn_mask are supported"):
        m(x, x, x, attn_mask=deepcore.zeros(3, 3).long())
    with pytest.warns(UserWarning, match="Support for mismatched key_padding_mask and attn_mask is deprecated"):
        m(x, x, x, key_padding_mask=deepcore.zeros(2, 3).bool(), attn_mask=deepcore.zeros(3, 3))


# ---- Transformer layers and models ------------------------------------------------------------

def _causal_mask(L, lib_):
    return lib_.nn.Transformer.generate_square_subsequent_mask(L)


def test_generate_square_subsequent_mask_matches_torch(torch):
    for n in (1, 4):
        assert np.array_equal(nn.Transformer.generate_square_subsequent_mask(n).numpy(),
                              torch.nn.Transformer.generate_square_subsequent_mask(n).numpy()), n
    assert nn.Transformer.generate_square_subsequent_mask(3, dtype=deepcore.float64).dtype is deepcore.float64


def _gelu_or_skip():
    if getattr(F, "gelu", None) is None:
        pytest.skip("deepcore.nn.functional.gelu does not exist yet")


ENCODER_LAYER_CASES = named([
    ("post-norm-causal", dict(), {"src_mask": "causal"}),
    ("pre-norm-padding", dict(norm_first=True), {"src_key_padding_mask": "padding"}),
    ("batch-first-causal-hint", dict(batch_first=True), {"src_mask": "causal", "is_causal": True}),
    ("no-bias-callable", dict(bias=False, activation="tanh"), {}),
    ("gelu", dict(activation="gelu", layer_norm_eps=1e-6), {"src_mask": "causal"}),
])


def _resolve(kwargs, L, N):
    out = {}
    for k, v in kwargs.items():
        if v == "causal":
            v = np.triu(np.full((L, L), -np.inf, np.float32), 1)
        elif v == "padding":
            v = np.zeros((N, L), bool)
            v[1, -2:] = True
        out[k] = v
    return out


@pytest.mark.parametrize("name,config,kwargs", ENCODER_LAYER_CASES)
def test_transformer_encoder_layer_matches_torch(torch, name, config, kwargs, rng):
    if config.get("activation") == "gelu":
        _gelu_or_skip()
    d, H, ff, L, N = 8, 2, 16, 5, 3

    def make(lib_):
        c = dict(config)
        if c.get("activation") == "tanh":
            c["activation"] = lib_.tanh
        return lib_.nn.TransformerEncoderLayer(d, H, ff, dropout=0.1, **c)
    tm, dm = make(torch), make(deepcore)
    assert list(dm.state_dict()) == list(tm.state_dict()) and repr(dm) == repr(tm)
    x = rng.standard_normal((N, L, d) if config.get("batch_first") else (L, N, d)).astype(np.float32)
    _compare_module(torch, tm, dm, (x,), _resolve(kwargs, L, N), f"TransformerEncoderLayer {name}")


def test_transformer_encoder_word_language_model_config_matches_torch(torch, rng):
    """pytorch/examples word_language_model: TransformerEncoder(TransformerEncoderLayer(ninp, nhead, nhid, dropout),
    nlayers) on (35, 20, 200), nhead 2, nhid 200, with the float causal mask.

    In float64: with 140,000 ReLU inputs per layer, float32 rounding puts one of them on the other side
    of zero now and then (torch's weights are unseeded), which moves one linear1.weight gradient by a whole
    input row (CI saw 0.074). float64 keeps the comparison exact to 1e-9 whatever the weights."""
    def make(lib_):
        return lib_.nn.TransformerEncoder(lib_.nn.TransformerEncoderLayer(200, 2, 200, 0.2), 2).double()
    tm, dm = make(torch), make(deepcore)
    x = rng.standard_normal((35, 20, 200))
    mask = torch.nn.Transformer.generate_square_subsequent_mask(35, dtype=torch.float64).numpy()
    _compare_module(torch, tm, dm, (x,), {"mask": mask}, "word_language_model encoder", tol=(1e-10, 1e-9))


def test_encoder_layers_are_independent_copies():
    layer = nn.TransformerEncoderLayer(4, 2, 8)
    enc = nn.TransformerEncoder(layer, 3, norm=nn.LayerNorm(4), enable_nested_tensor=True)
    params = [p for m in enc.layers for p in m.parameters()]
    assert len({id(p) for p in params}) == len(params) == 3 * len(list(layer.parameters()))
    assert all(p is not q for p, q in zip(enc.layers[0].parameters(), layer.parameters()))
    w0 = enc.layers[0].linear1.weight.detach().numpy().copy()
    with deepcore.no_grad():
        enc.layers[1].linear1.weight.fill_(0.0)
    assert np.array_equal(enc.layers[0].linear1.weight.detach().numpy(), w0)
    assert np.array_equal(w0, layer.linear1.weight.detach().numpy())  # the copies start from the given layer
    assert enc.layers[2].activation is F.relu and enc.layers[2].norm_first is False and not enc.use_nested_tensor
    assert list(enc.state_dict())[:2] == ["layers.0.self_attn.in_proj_weight", "layers.0.self_attn.in_proj_bias"]


def test_causal_mask_detection_as_torch():
    from deepcore.nn.modules.transformer import _detect_is_causal_mask
    causal = nn.Transformer.generate_square_subsequent_mask(4)
    assert _detect_is_causal_mask(causal, None, 4) is True
    assert _detect_is_causal_mask(causal, False, 4) is False
    assert _detect_is_causal_mask(deepcore.zeros(4, 4), None, 4) is False
    assert _detect_is_causal_mask(causal, None, 5) is False
    assert _detect_is_causal_mask(None, True) is True


def test_transformer_decoder_and_full_model_match_torch(torch, rng):
    d, H, ff = 8, 2, 16
    src = rng.standard_normal((6, 2, d)).astype(np.float32)
    tgt = rng.standard_normal((4, 2, d)).astype(np.float32)
    for norm_first in (False, True):
        def make(lib_):
            return lib_.nn.Transformer(d, H, 2, 2, ff, dropout=0.1, norm_first=norm_first)
        tm, dm = make(torch), make(deepcore)
        assert list(dm.state_dict()) == list(tm.state_dict())
        pad = np.zeros((2, 6), bool)
        pad[0, -1] = True
        _compare_module(torch, tm, dm, (src, tgt),
                        {"tgt_mask": _causal_mask(4, torch).numpy(), "src_key_padding_mask": pad,
                         "memory_key_padding_mask": pad}, f"Transformer norm_first={norm_first}")
    layer_t, layer_d = torch.nn.TransformerDecoderLayer(d, H, ff, batch_first=True), \
        nn.TransformerDecoderLayer(d, H, ff, batch_first=True)
    _compare_module(torch, torch.nn.TransformerDecoder(layer_t, 2), nn.TransformerDecoder(layer_d, 2),
                    (tgt.transpose(1, 0, 2).copy(), src.transpose(1, 0, 2).copy()),
                    {"tgt_mask": _causal_mask(4, torch).numpy(), "tgt_is_causal": True}, "TransformerDecoder")


def test_transformer_initialization_is_xavier_on_matrices():
    m = nn.Transformer(16, 2, 1, 1, 32)
    w = m.encoder.layers[0].linear1.weight.detach().numpy()
    bound = math.sqrt(6 / (16 + 32))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound
    assert float(m.decoder.norm.weight.sum()) == 16


def test_word_language_model_subclass_of_transformer(torch, rng):
    """word_language_model's TransformerModel subclasses nn.Transformer, replaces its decoder by a Linear and
    calls self.encoder(src, mask=...)."""
    def build(lib_):
        class TransformerModel(lib_.nn.Transformer):
            def __init__(self, ntoken, ninp, nhead, nhid, nlayers):
                super().__init__(d_model=ninp, nhead=nhead, dim_feedforward=nhid, num_encoder_layers=nlayers)
                self.input_emb = lib_.nn.Embedding(ntoken, ninp)
                self.decoder = lib_.nn.Linear(ninp, ntoken)

            def forward(self, src):
                mask = self.generate_square_subsequent_mask(len(src))
                out = self.encoder(self.input_emb(src) * math.sqrt(8), mask=mask)
                return lib_.nn.functional.log_softmax(self.decoder(out), dim=-1)
        return TransformerModel(11, 8, 2, 16, 2)
    tm, dm = build(torch), build(deepcore)
    assert list(dm.state_dict()) == list(tm.state_dict())
    tokens = rng.integers(0, 11, (6, 3))
    _compare_module(torch, tm, dm, (tokens,), {}, "word_language_model TransformerModel")


def test_transformer_errors():
    with raises(RuntimeError, "activation should be relu/gelu, not swish"):
        nn.TransformerEncoderLayer(4, 2, activation="swish")
    m = nn.Transformer(4, 2, 1, 1, 8)
    with raises(RuntimeError, "the batch number of src and tgt must be equal"):
        m(deepcore.randn(3, 2, 4), deepcore.randn(3, 3, 4))
    with raises(RuntimeError, "the feature number of src and tgt must be equal to d_model"):
        m(deepcore.randn(3, 2, 4), deepcore.randn(3, 2, 5))
    layer = nn.TransformerEncoderLayer(4, 2, 8)
    with raises(RuntimeError, "Need attn_mask if specifying the is_causal hint"):
        layer(deepcore.randn(3, 2, 4), is_causal=True)
    assert lib(deepcore.zeros(1)) is deepcore
