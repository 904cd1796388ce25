"""Properties of the Keras API: Dense, Conv2D (valid / same padding, strides, dilation), SimpleRNN,
LSTM and GRU (return_sequences, go_backwards, reset_after) called on random input, and small
Sequential models' predict (any batch_size) against float64 NumPy references written from Keras'
weight layouts (channels_last, kernel (in, units), gate blocks i f c o / z r h)."""
import math

import numpy as np
from hypothesis import given, settings, strategies as st

import deepcore
from deepcore import keras
import prop_references as ref
from prop_strategies import examples, expect_value

_SEEDS = st.integers(0, 2 ** 32 - 1)
_TOL = dict(atol=3e-5, rtol=2e-4)   # float32 layers against float64 references

ACTIVATIONS = {
    "linear": lambda z: z, "relu": lambda z: np.maximum(z, 0), "tanh": np.tanh,
    "sigmoid": lambda z: 0.5 * (1 + np.tanh(0.5 * z)),
    "softmax": lambda z: np.exp(z - z.max(-1, keepdims=True)) / np.exp(z - z.max(-1, keepdims=True)).sum(
        -1, keepdims=True),
}


def _weights(layer, rng, scale=0.5):
    """Random weights through set_weights (every layer is checked on weights it did not initialise)."""
    ws = [rng.uniform(-scale, scale, w.shape).astype(np.float32) for w in layer.get_weights()]
    layer.set_weights(ws)
    return [w.astype(np.float64) for w in ws]


def _as_array(t):
    return t.detach().numpy() if isinstance(t, deepcore.Tensor) else np.asarray(t)


@settings(max_examples=examples(120))
@given(st.sampled_from((1, 3, 8)), st.sampled_from(sorted(ACTIVATIONS)), st.booleans(),
       st.sampled_from(((0, 4), (1, 4), (5, 4), (2, 3, 4), (3, 1))), _SEEDS)
def test_dense(units, activation, use_bias, shape, seed):
    rng = np.random.default_rng(seed)
    layer = keras.layers.Dense(units, activation=activation, use_bias=use_bias)
    x = rng.uniform(-2, 2, shape).astype(np.float32)
    layer(x)   # builds the weights
    ws = _weights(layer, rng)
    out = layer(x)
    z = x.astype(np.float64) @ ws[0] + (ws[1] if use_bias else 0)
    expect_value(_as_array(out), ACTIVATIONS[activation](z), "float32",
                 f"Dense({units}, {activation}, use_bias={use_bias}) on {shape}", **_TOL)


def _same_padding(size, k, s, d):
    """TensorFlow's 'same': the output is ceil(size / s); the extra pixel of an odd total goes last."""
    eff = d * (k - 1) + 1
    total = max((math.ceil(size / s) - 1) * s + eff - size, 0)
    return total // 2, total - total // 2


def conv2d_channels_last(x, kernel, bias, strides, padding, dilation):
    """Keras Conv2D: x (N, H, W, C), kernel (kh, kw, C, F)."""
    kh, kw = kernel.shape[:2]
    if padding == "same":
        (t, b), (lft, r) = (_same_padding(x.shape[1], kh, strides[0], dilation[0]),
                            _same_padding(x.shape[2], kw, strides[1], dilation[1]))
        x = np.pad(x, ((0, 0), (t, b), (lft, r), (0, 0)))
    y = ref.conv2d(x.transpose(0, 3, 1, 2), kernel.transpose(3, 2, 0, 1), bias, strides, (0, 0), dilation, 1)
    return y.transpose(0, 2, 3, 1)


@st.composite
def conv2d_config(draw):
    k = (draw(st.sampled_from((1, 2, 3))), draw(st.sampled_from((1, 3))))
    dilated = draw(st.integers(0, 3)) == 0
    s = (1, 1) if dilated else (draw(st.sampled_from((1, 2))), draw(st.sampled_from((1, 3))))
    d = (draw(st.sampled_from((1, 2))), 2) if dilated else (1, 1)
    padding = draw(st.sampled_from(("valid", "same")))
    h = draw(st.integers(d[0] * (k[0] - 1) + 1, 9))
    w = draw(st.integers(d[1] * (k[1] - 1) + 1, 9))
    return dict(k=k, s=s, d=d, padding=padding, size=(h, w), channels=draw(st.sampled_from((1, 3))),
                filters=draw(st.sampled_from((1, 4))), batch=draw(st.sampled_from((1, 2))),
                activation=draw(st.sampled_from(("linear", "relu"))), use_bias=draw(st.booleans()))


@settings(max_examples=examples(120))
@given(conv2d_config(), _SEEDS)
def test_conv2d(g, seed):
    rng = np.random.default_rng(seed)
    layer = keras.layers.Conv2D(g["filters"], g["k"], strides=g["s"], padding=g["padding"], dilation_rate=g["d"],
                                activation=g["activation"], use_bias=g["use_bias"])
    x = rng.uniform(-2, 2, (g["batch"],) + g["size"] + (g["channels"],)).astype(np.float32)
    layer(x)
    ws = _weights(layer, rng)
    out = layer(x)
    y = conv2d_channels_last(x.astype(np.float64), ws[0], ws[1] if g["use_bias"] else None, g["s"], g["padding"],
                             g["d"])
    expect_value(_as_array(out), ACTIVATIONS[g["activation"]](y), "float32", f"Conv2D({g}) on {x.shape}", **_TOL)


# ---- recurrent layers (Keras gate layouts) ---------------------------------------------------------------

def _sigmoid(z):
    return 0.5 * (1 + np.tanh(0.5 * z))


def keras_rnn(kind, x, ws, units, go_backwards, reset_after=True):
    """x (N, T, F) -> (all h (N, T, U) in the order computed, last h, last c)."""
    kernel, recurrent = ws[0], ws[1]
    bias = ws[2] if len(ws) > 2 else None
    n = x.shape[0]
    h, c = np.zeros((n, units)), np.zeros((n, units))
    steps = range(x.shape[1])
    hs = []
    for t in (reversed(steps) if go_backwards else steps):
        if kind == "GRU":
            b_in, b_rec = ((bias[0], bias[1]) if reset_after else (bias, np.zeros(3 * units))) if bias is not None \
                else (np.zeros(3 * units), np.zeros(3 * units))
            gx = x[:, t] @ kernel + b_in
            xz, xr, xh = np.split(gx, 3, axis=-1)
            if reset_after:
                hz, hr, hh = np.split(h @ recurrent + b_rec, 3, axis=-1)
                z, r = _sigmoid(xz + hz), _sigmoid(xr + hr)
                cand = np.tanh(xh + r * hh)
            else:
                uz, ur, uh = np.split(recurrent, 3, axis=-1)
                z, r = _sigmoid(xz + h @ uz), _sigmoid(xr + h @ ur)
                cand = np.tanh(xh + (r * h) @ uh)
            h = z * h + (1 - z) * cand
        else:
            gates = x[:, t] @ kernel + h @ recurrent + (bias if bias is not None else 0)
            if kind == "SimpleRNN":
                h = np.tanh(gates)
            else:
                i, f, cc, o = np.split(gates, 4, axis=-1)
                c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(cc)
                h = _sigmoid(o) * np.tanh(c)
        hs.append(h)
    return np.stack(hs, 1), h, c


@settings(max_examples=examples(120))
@given(st.sampled_from(("SimpleRNN", "LSTM", "GRU")), st.sampled_from((1, 3)), st.sampled_from((1, 4)),
       st.sampled_from((1, 2, 6)), st.sampled_from((1, 3)), st.booleans(), st.booleans(), st.booleans(),
       st.booleans(), _SEEDS)
def test_recurrent(kind, units, features, steps, batch, return_sequences, go_backwards, use_bias, reset_after, seed):
    rng = np.random.default_rng(seed)
    kwargs = dict(return_sequences=return_sequences, go_backwards=go_backwards, use_bias=use_bias)
    if kind == "GRU":
        kwargs["reset_after"] = reset_after
    layer = getattr(keras.layers, kind)(units, **kwargs)
    x = rng.uniform(-1.5, 1.5, (batch, steps, features)).astype(np.float32)
    layer(x)
    ws = _weights(layer, rng)
    out = layer(x)
    seq, last, _ = keras_rnn(kind, x.astype(np.float64), ws, units, go_backwards, reset_after)
    expect_value(_as_array(out), seq if return_sequences else last, "float32",
                 f"{kind}({units}, {kwargs}) on {x.shape}", **_TOL)


# ---- small models -------------------------------------------------------------------------------------------

@settings(max_examples=examples(60))
@given(st.sampled_from((1, 2, 3)), st.sampled_from((4, 7)), st.sampled_from(("valid", "same")),
       st.sampled_from((1, 2, 5, 9)), st.sampled_from((1, 4, 32)), _SEEDS)
def test_small_conv_model_predict(channels, size, padding, n, batch_size, seed):
    """Conv2D -> MaxPooling2D -> Flatten -> Dense(softmax): predict in batches of batch_size equals the
    composed references, whatever the batching."""
    rng = np.random.default_rng(seed)
    model = keras.Sequential([keras.layers.Input((size, size, channels)),
                              keras.layers.Conv2D(3, 3, padding=padding, activation="relu"),
                              keras.layers.MaxPooling2D(2), keras.layers.Flatten(),
                              keras.layers.Dense(4, activation="softmax")])
    ws = [rng.uniform(-0.5, 0.5, w.shape).astype(np.float32) for w in model.get_weights()]
    model.set_weights(ws)
    ws = [w.astype(np.float64) for w in ws]
    x = rng.uniform(-1, 1, (n, size, size, channels)).astype(np.float32)
    out = model.predict(x, batch_size=batch_size, verbose=0)
    y = np.maximum(conv2d_channels_last(x.astype(np.float64), ws[0], ws[1], (1, 1), padding, (1, 1)), 0)
    h2, w2 = y.shape[1] // 2, y.shape[2] // 2
    y = y[:, :2 * h2, :2 * w2].reshape(n, h2, 2, w2, 2, 3).max(axis=(2, 4)).reshape(n, -1)
    expect_value(out, ACTIVATIONS["softmax"](y @ ws[2] + ws[3]), "float32",
                 f"conv model ({channels} channels, {size}x{size}, {padding}) predict n={n} batch_size={batch_size}",
                 **_TOL)


@settings(max_examples=examples(50))
@given(st.sampled_from(("LSTM", "GRU", "SimpleRNN")), st.sampled_from((1, 3, 8)), st.sampled_from((1, 4, 16)), _SEEDS)
def test_small_recurrent_model_predict(kind, n, batch_size, seed):
    rng = np.random.default_rng(seed)
    model = keras.Sequential([keras.layers.Input((5, 3)), getattr(keras.layers, kind)(4),
                              keras.layers.Dense(2)])
    ws = [rng.uniform(-0.5, 0.5, w.shape).astype(np.float32) for w in model.get_weights()]
    model.set_weights(ws)
    ws = [w.astype(np.float64) for w in ws]
    x = rng.uniform(-1, 1, (n, 5, 3)).astype(np.float32)
    out = model.predict(x, batch_size=batch_size, verbose=0)
    _, last, _ = keras_rnn(kind, x.astype(np.float64), ws[:-2], 4, False)
    expect_value(out, last @ ws[-2] + ws[-1], "float32", f"{kind} model predict n={n} batch_size={batch_size}",
                 **_TOL)
