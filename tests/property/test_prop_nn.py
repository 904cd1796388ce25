"""Properties of deepcore.nn layers: Linear, Conv1d/2d, Max/AvgPool1d/2d, BatchNorm1d/2d, LayerNorm,
Embedding, Dropout (eval, p=0, p=1) and the pointwise activations, on random valid geometry, batch
sizes including 0, and inputs in every layout; outputs against the float64 NumPy references of
prop_references and against torch with the same weights, gradients against torch."""
import math

import numpy as np
from hypothesis import given, settings, strategies as st

import deepcore
import prop_references as ref
from prop_strategies import FLOAT_DTYPES, examples, expect_error, expect_same, expect_value, operands, torch

_SEEDS = st.integers(0, 2 ** 32 - 1)


def _fill(module, rng, scale=0.5):
    """Random parameters and buffers (running_var positive) in place, so no test sees the defaults only."""
    with deepcore.no_grad():
        for name, t in module.state_dict().items():
            if not t.dtype.is_floating_point:
                continue
            shape = tuple(t.shape)
            value = rng.uniform(0.5, 2.0, shape) if "var" in name else rng.uniform(-scale, scale, shape) * 2
            t.copy_(deepcore.tensor(value, dtype=t.dtype))


def _twin(module, torch_cls, dtype, *args, **kwargs):
    """The torch layer with the deepcore layer's weights (None without torch)."""
    if torch is None:
        return None
    theirs = torch_cls(*args, **kwargs).to(getattr(torch, dtype))
    ref.copy_weights(module, theirs)
    return theirs


def _backward_both(ours, theirs, rng, dtype):
    w = rng.uniform(-1, 1, tuple(ours.shape))
    ours.backward(deepcore.tensor(w, dtype=getattr(deepcore, dtype)))
    theirs.backward(torch.tensor(w, dtype=getattr(torch, dtype)))


def _grad_tol(dtype):
    return dict(atol=2e-4, rtol=2e-4) if dtype == "float32" else dict(atol=1e-10, rtol=1e-8)


# ---- Linear ---------------------------------------------------------------------------------------

@settings(max_examples=examples(200))
@given(st.sampled_from((0, 1, 3, 7, 16)), st.sampled_from((1, 2, 5, 13)), st.booleans(),
       st.sampled_from(((), (0,), (1,), (4,), (2, 3))), st.sampled_from(FLOAT_DTYPES), _SEEDS, st.data())
def test_linear(in_features, out_features, bias, lead, dtype, seed, data):
    rng = np.random.default_rng(seed)
    layer = deepcore.nn.Linear(in_features, out_features, bias=bias, dtype=getattr(deepcore, dtype))
    _fill(layer, rng)
    x = data.draw(operands(lead + (in_features,), dtype, specials=data.draw(st.booleans())), "x")
    what = f"Linear({in_features}, {out_features}, bias={bias}) on {x}"
    leaf, view = x.deepcore(requires_grad=True)
    out = layer(view)
    w = layer.weight.detach().numpy().astype(np.float64)
    expected = x.value @ w.T + (layer.bias.detach().numpy() if bias else 0)
    atol = 1e-5 * (1 + in_features) if dtype == "float32" else None
    expect_value(out, expected, dtype, what, atol=atol)
    twin = _twin(layer, torch.nn.Linear if torch else None, dtype, in_features, out_features, bias=bias)
    if twin is None:
        return
    tleaf, tview = x.torch(requires_grad=True)
    tout = twin(tview)
    expect_same(out, tout, what, atol=atol)
    if np.isfinite(x.value).all():
        _backward_both(out, tout, rng, dtype)
        expect_same(leaf.grad, tleaf.grad, what + " input gradient", **_grad_tol(dtype))
        expect_same(layer.weight.grad, twin.weight.grad, what + " weight gradient", **_grad_tol(dtype))


# ---- Conv1d / Conv2d ----------------------------------------------------------------------------------

@st.composite
def conv_geometry(draw):
    nd = draw(st.sampled_from((1, 2)))
    groups = draw(st.sampled_from((1, 1, 2, 3)))
    cin, cout = groups * draw(st.sampled_from((1, 2))), groups * draw(st.sampled_from((1, 2)))
    k = tuple(draw(st.sampled_from((1, 2, 3, 5))) for _ in range(nd))
    s = tuple(draw(st.sampled_from((1, 2, 3))) for _ in range(nd))
    p = tuple(draw(st.sampled_from((0, 0, 1, 2))) for _ in range(nd))
    d = tuple(draw(st.sampled_from((1, 1, 2))) for _ in range(nd))
    size = tuple(max(1, dd * (kk - 1) + 1 - 2 * pp) + draw(st.integers(0, 6)) for kk, pp, dd in zip(k, p, d))
    batch = draw(st.sampled_from((0, 1, 2, 3)))
    return dict(nd=nd, groups=groups, cin=cin, cout=cout, k=k, s=s, p=p, d=d, size=size, batch=batch,
                bias=draw(st.booleans()))


@settings(max_examples=examples(250))
@given(conv_geometry(), st.sampled_from(FLOAT_DTYPES), _SEEDS, st.data())
def test_conv(g, dtype, seed, data):
    rng = np.random.default_rng(seed)
    cls = deepcore.nn.Conv1d if g["nd"] == 1 else deepcore.nn.Conv2d
    args = (g["cin"], g["cout"], g["k"])
    kwargs = dict(stride=g["s"], padding=g["p"], dilation=g["d"], groups=g["groups"], bias=g["bias"])
    layer = cls(*args, **kwargs, dtype=getattr(deepcore, dtype))
    _fill(layer, rng)
    x = data.draw(operands((g["batch"], g["cin"]) + g["size"], dtype, specials=data.draw(st.booleans())), "x")
    what = f"{cls.__name__}{args} {kwargs} on {x}"
    leaf, view = x.deepcore(requires_grad=True)
    out = layer(view)
    w = layer.weight.detach().numpy().astype(np.float64)
    b = layer.bias.detach().numpy().astype(np.float64) if g["bias"] else None
    if g["nd"] == 1:   # Conv1d is Conv2d on an H = 1 view
        expected = ref.conv2d(x.value[:, :, None, :], w[:, :, None, :], b, (1,) + g["s"], (0,) + g["p"],
                              (1,) + g["d"], g["groups"])[:, :, 0, :]
    else:
        expected = ref.conv2d(x.value, w, b, g["s"], g["p"], g["d"], g["groups"])
    fan_in = g["cin"] // g["groups"] * math.prod(g["k"])
    atol = 1e-5 * (1 + fan_in) if dtype == "float32" else 1e-11 * (1 + fan_in)
    with np.errstate(invalid="ignore"):
        expect_value(out, expected, dtype, what, atol=atol)
    if torch is None:
        return
    twin = _twin(layer, getattr(torch.nn, cls.__name__), dtype, *args, **kwargs)
    tleaf, tview = x.torch(requires_grad=True)
    tout = twin(tview)
    expect_same(out, tout, what, atol=atol)
    if np.isfinite(x.value).all() and out.numel():
        _backward_both(out, tout, rng, dtype)
        tol = dict(atol=atol * 10, rtol=2e-4) if dtype == "float32" else {}
        expect_same(leaf.grad, tleaf.grad, what + " input gradient", **tol)
        expect_same(layer.weight.grad, twin.weight.grad, what + " weight gradient", **tol)


# ---- pooling ----------------------------------------------------------------------------------------

@st.composite
def pool_geometry(draw):
    nd, kind = draw(st.sampled_from((1, 2))), draw(st.sampled_from(("max", "avg")))
    k = tuple(draw(st.sampled_from((1, 2, 3, 4))) for _ in range(nd))
    s = tuple(draw(st.sampled_from((1, 2, 3))) for _ in range(nd)) if draw(st.booleans()) else None
    p = tuple(draw(st.integers(0, kk // 2)) for kk in k)
    # deepcore refuses (NotImplementedError) dilation > 1, ceil_mode and count_include_pad=False: one
    # geometry in eight asks for one of them
    refused = draw(st.sampled_from((None,) * 7 + ("dilation", "ceil_mode", "count_include_pad")))
    d = (2,) * nd if refused == "dilation" and kind == "max" else (1,) * nd
    size = tuple(max(1, dd * (kk - 1) + 1 - 2 * pp) + draw(st.integers(0, 7)) for kk, pp, dd in zip(k, p, d))
    return dict(nd=nd, kind=kind, k=k, s=s, p=p, d=d, size=size, ceil_mode=refused == "ceil_mode",
                count_include_pad=not (refused == "count_include_pad" and kind == "avg"),
                batch=draw(st.sampled_from((1, 2))), channels=draw(st.sampled_from((1, 3))))


@settings(max_examples=examples(300))
@given(pool_geometry(), st.sampled_from(FLOAT_DTYPES), _SEEDS, st.data())
def test_pool(g, dtype, seed, data):
    name = f"{'Max' if g['kind'] == 'max' else 'Avg'}Pool{g['nd']}d"
    kwargs = dict(kernel_size=g["k"], stride=g["s"], padding=g["p"], ceil_mode=g["ceil_mode"])
    if g["kind"] == "max":
        kwargs["dilation"] = g["d"]
    else:
        kwargs["count_include_pad"] = g["count_include_pad"]
    x = data.draw(operands((g["batch"], g["channels"]) + g["size"], dtype, specials=data.draw(st.booleans())), "x")
    what = f"{name}({kwargs}) on {x}"
    refused = [f for f, v in (("dilation", g["d"][0] != 1), ("ceil_mode", g["ceil_mode"]),
                              ("count_include_pad", not g["count_include_pad"])) if v]
    if refused:   # a gap, not a crash: the refusal names the layer and the argument
        expect_error(lambda: getattr(deepcore.nn, name)(**kwargs)(x.dc()), name, what, also=refused)
        return
    layer = getattr(deepcore.nn, name)(**kwargs)
    leaf, view = x.deepcore(requires_grad=True)
    out = layer(view)
    s = g["s"] or g["k"]
    if g["nd"] == 1:
        k2, s2, p2, d2, v = (1,) + g["k"], (1,) + s, (0,) + g["p"], (1,) + g["d"], x.value[:, :, None, :]
    else:
        k2, s2, p2, d2, v = g["k"], s, g["p"], g["d"], x.value
    with np.errstate(invalid="ignore"):
        expected = (ref.max_pool2d(v, k2, s2, p2, d2, g["ceil_mode"]) if g["kind"] == "max"
                    else ref.avg_pool2d(v, k2, s2, p2, g["ceil_mode"], g["count_include_pad"]))
        # a window holding both +1e30 and -1e30 sums to whatever the order leaves (torch's order is
        # deepcore's; the float64 reference's is not): there only the torch comparison below holds
        cancels = (ref.avg_pool2d(np.where(v >= 1e29, 1.0, 0.0) * np.isfinite(v), k2, s2, p2, g["ceil_mode"], True) *
                   ref.avg_pool2d(np.where(v <= -1e29, 1.0, 0.0) * np.isfinite(v), k2, s2, p2, g["ceil_mode"], True)
                   ) > 0 if g["kind"] == "avg" else np.zeros(expected.shape, bool)
    if g["nd"] == 1:
        expected, cancels = expected[:, :, 0, :], cancels[:, :, 0, :]
    actual = out.detach().numpy()
    expect_value(np.where(cancels, 0, actual).astype(actual.dtype), np.where(cancels, 0, expected), dtype, what)
    if torch is None:
        return
    tleaf, tview = x.torch(requires_grad=True)
    tout = getattr(torch.nn, name)(**kwargs)(tview)
    expect_same(out, tout, what)
    if np.isfinite(x.value).all() and len(np.unique(x.value)) == x.value.size:   # no ties: one argmax
        _backward_both(out, tout, np.random.default_rng(seed), dtype)
        expect_same(leaf.grad, tleaf.grad, what + " input gradient", **_grad_tol(dtype))


# ---- normalization ------------------------------------------------------------------------------------

@settings(max_examples=examples(150))
@given(st.sampled_from(((2, 3), (4, 1), (3, 2, 5), (2, 3, 4, 3), (1, 2, 3, 3), (5, 2, 1, 1))), st.booleans(),
       st.booleans(), st.sampled_from((0.1, 0.5, 1.0)), st.sampled_from(FLOAT_DTYPES), _SEEDS, st.data())
def test_batch_norm(shape, training, affine, momentum, dtype, seed, data):
    rng = np.random.default_rng(seed)
    name = "BatchNorm1d" if len(shape) <= 3 else "BatchNorm2d"
    layer = getattr(deepcore.nn, name)(shape[1], momentum=momentum, affine=affine, dtype=getattr(deepcore, dtype))
    _fill(layer, rng)
    layer.train(training)
    x = data.draw(operands(shape, dtype, specials=False), "x")
    what = f"{name}({shape[1]}, momentum={momentum}, affine={affine}) {'train' if training else 'eval'} on {x}"
    state = {k: v.numpy().astype(np.float64) for k, v in layer.state_dict().items() if v.dtype.is_floating_point}
    leaf, view = x.deepcore(requires_grad=True)
    out = layer(view)
    y, new_mean, new_var = ref.batch_norm(x.value, state.get("weight"), state.get("bias"), state["running_mean"],
                                          state["running_var"], training, momentum, layer.eps)
    expect_value(out, y, dtype, what, atol=1e-4 if dtype == "float32" else 1e-10)
    expect_value(layer.running_mean, new_mean, dtype, what + " running_mean")
    expect_value(layer.running_var, new_var, dtype, what + " running_var", rtol=1e-4 if dtype == "float32" else None)
    if torch is None:
        return
    twin = getattr(torch.nn, name)(shape[1], momentum=momentum, affine=affine).to(
        getattr(torch, dtype))
    _load(twin, state)   # the state before the forward (the deepcore layer's running stats moved since)
    twin.train(training)
    tleaf, tview = x.torch(requires_grad=True)
    # torch 2.13's CPU batch norm returns a wrong input gradient in eval mode for a permuted view that is
    # also channels-last (strides (2, 1, 6, 2) of shape (1, 2, 3, 3): off by 1.96 against the closed
    # form); torch is given a contiguous copy, whose gradient reaches the same leaf
    tout = twin(tview.contiguous())
    expect_same(out, tout, what, atol=1e-4 if dtype == "float32" else 1e-10)
    _backward_both(out, tout, rng, dtype)
    expect_same(leaf.grad, tleaf.grad, what + " input gradient", atol=2e-3 if dtype == "float32" else 1e-9,
                rtol=2e-3 if dtype == "float32" else 1e-8)


def _load(twin, state):
    theirs = twin.state_dict()
    for k, v in state.items():
        theirs[k].copy_(torch.from_numpy(v))


@settings(max_examples=examples(120))
@given(st.sampled_from(((3, 5), (2, 3, 4), (4, 1), (2, 2, 7), (0, 6))), st.integers(1, 2), st.booleans(),
       st.sampled_from(FLOAT_DTYPES), _SEEDS, st.data())
def test_layer_norm(shape, k, affine, dtype, seed, data):
    k = min(k, len(shape) - 1)
    normalized = shape[len(shape) - k:]
    layer = deepcore.nn.LayerNorm(normalized, elementwise_affine=affine, dtype=getattr(deepcore, dtype))
    rng = np.random.default_rng(seed)
    _fill(layer, rng)
    x = data.draw(operands(shape, dtype, specials=False), "x")
    what = f"LayerNorm({normalized}, affine={affine}) on {x}"
    leaf, view = x.deepcore(requires_grad=True)
    out = layer(view)
    wt = layer.weight.detach().numpy().astype(np.float64) if affine else None
    bs = layer.bias.detach().numpy().astype(np.float64) if affine else None
    expect_value(out, ref.layer_norm(x.value, k, wt, bs, layer.eps), dtype, what,
                 atol=1e-4 if dtype == "float32" else 1e-10)
    twin = _twin(layer, torch.nn.LayerNorm if torch else None, dtype, normalized, elementwise_affine=affine)
    if twin is None:
        return
    tleaf, tview = x.torch(requires_grad=True)
    # torch 2.13's CPU batch norm returns a wrong input gradient in eval mode for a permuted view that is
    # also channels-last (strides (2, 1, 6, 2) of shape (1, 2, 3, 3): off by 1.96 against the closed
    # form); torch is given a contiguous copy, whose gradient reaches the same leaf
    tout = twin(tview.contiguous())
    expect_same(out, tout, what, atol=1e-4 if dtype == "float32" else 1e-10)
    if out.numel():
        _backward_both(out, tout, rng, dtype)
        expect_same(leaf.grad, tleaf.grad, what + " input gradient", atol=2e-3 if dtype == "float32" else 1e-9,
                    rtol=2e-3 if dtype == "float32" else 1e-8)


# ---- Embedding, Dropout, activations ------------------------------------------------------------------

@settings(max_examples=examples(150))
@given(st.sampled_from((1, 2, 7, 13)), st.sampled_from((1, 3, 8)), st.sampled_from(((0,), (5,), (2, 3), (4, 1, 2))),
       st.booleans(), _SEEDS)
def test_embedding(num, dim, index_shape, with_padding, seed):
    rng = np.random.default_rng(seed)
    padding_idx = int(rng.integers(-num, num)) if with_padding else None
    layer = deepcore.nn.Embedding(num, dim, padding_idx=padding_idx)
    _fill(layer, rng)
    idx = rng.integers(0, num, index_shape)
    what = f"Embedding({num}, {dim}, padding_idx={padding_idx}) at {idx.tolist()}"
    out = layer(deepcore.tensor(idx))
    weight = layer.weight.detach().numpy().astype(np.float64)
    expect_value(out, weight[idx], "float32", what)
    g = rng.uniform(-1, 1, tuple(out.shape))
    out.backward(deepcore.tensor(g, dtype=deepcore.float32))
    expected = np.zeros_like(weight)
    np.add.at(expected, idx.reshape(-1), g.reshape(-1, dim))
    if padding_idx is not None:
        expected[padding_idx % num] = 0.0   # the padding row gets no gradient
    expect_value(layer.weight.grad, expected, "float32", what + " weight gradient")


@settings(max_examples=examples(60))
@given(st.sampled_from(("eval", "p=0", "p=1")), st.sampled_from(("Dropout", "Dropout1d", "Dropout2d", "AlphaDropout")),
       st.sampled_from(FLOAT_DTYPES), st.data())
def test_dropout_where_it_is_deterministic(mode, name, dtype, data):
    shape = (2, 3, 4) if name != "Dropout2d" else (2, 3, 4, 2)
    if mode == "p=1" and name == "AlphaDropout":
        mode = "eval"   # alpha dropout with p=1 is a constant, not zeros
    layer = getattr(deepcore.nn, name)(p=1.0 if mode == "p=1" else 0.0 if mode == "p=0" else 0.5)
    layer.train(mode != "eval")
    x = data.draw(operands(shape, dtype, specials=False), "x")
    out = layer(x.dc())
    expect_value(out, np.zeros(shape) if mode == "p=1" else x.value, dtype, f"{name} ({mode}) on {x}")


_ACTIVATIONS = {
    "gelu": lambda x: 0.5 * x * (1 + np.vectorize(math.erf, otypes=[np.float64])(x / math.sqrt(2))),
    "silu": lambda x: x / (1 + np.exp(-x)),
    "elu": lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0))),
    "softplus": lambda x: np.where(x > 20, x, np.log1p(np.exp(np.minimum(x, 20)))),
    "leaky_relu": lambda x: np.where(x > 0, x, 0.01 * x),
    "hardtanh": lambda x: np.clip(x, -1, 1),
    "relu6": lambda x: np.clip(x, 0, 6),
    "hardsigmoid": lambda x: np.clip(x / 6 + 0.5, 0, 1),
    "hardswish": lambda x: x * np.clip(x / 6 + 0.5, 0, 1),
    "logsigmoid": lambda x: -np.logaddexp(0, -x),
    "softsign": lambda x: x / (1 + np.abs(x)),
    "mish": lambda x: x * np.tanh(np.logaddexp(0, x)),
    "selu": lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * np.expm1(np.minimum(x, 0))),
}


@settings(max_examples=examples(300))
@given(st.sampled_from(sorted(_ACTIVATIONS)), st.sampled_from(FLOAT_DTYPES), st.data())
def test_activations(name, dtype, data):
    from prop_strategies import shapes
    x = data.draw(operands(data.draw(shapes(max_numel=300)), dtype, -8.0, 8.0, specials=False), "x")
    leaf, view = x.deepcore(requires_grad=True)
    out = getattr(deepcore.nn.functional, name)(view)
    with np.errstate(over="ignore"):
        expected = _ACTIVATIONS[name](x.value)
    tol = dict(atol=1e-5, rtol=1e-4) if dtype == "float32" else dict(atol=1e-12, rtol=1e-10)
    expect_value(out, expected, dtype, f"{name} on {x}", **tol)
    if torch is None:
        return
    tleaf, tview = x.torch(requires_grad=True)
    tout = getattr(torch.nn.functional, name)(tview)
    expect_same(out, tout, f"{name} on {x}", **tol)
    _backward_both(out, tout, np.random.default_rng(0), dtype)
    if name == "hardsigmoid" and dtype == "float64":
        tol = dict(atol=1e-7, rtol=1e-7)   # torch's float64 hardsigmoid gradient is g * (1/6 in float32)
    expect_same(leaf.grad, tleaf.grad, f"gradient of {name} on {x}", **tol)
