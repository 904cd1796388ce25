"""deepcore.keras layers for sequences: recurrent layers, Embedding, Bidirectional/TimeDistributed,
the 1-D convolution and poolings, RepeatVector, GaussianNoise. Keras' equations in float64 NumPy,
gradients against PyTorch's LSTM/GRU/conv1d with the same weights, finite differences on the shared
cells, Keras parameter counts and initializers, save/load, training, and the errors."""
import numpy as np
import pytest

import deepcore
import deepcore.keras as keras
from deepcore.autograd import gradcheck
from deepcore.keras.layers import (GRU, LSTM, AveragePooling1D, Bidirectional, Conv1D, Conv2D, Dense, Embedding,
                                   Flatten, GaussianNoise, GlobalAveragePooling1D, GlobalMaxPooling1D, Input,
                                   MaxPooling1D, RepeatVector, SimpleRNN, TimeDistributed, UpSampling1D)
from deepcore.keras.preprocessing.sequence import pad_sequences
from deepcore.keras.models import Model, Sequential, load_model
from deepcore.ops.recurrent import gru_cell, lstm_cell, rnn_cell
from helpers import assert_close


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def keras_reference(name, x, weights, units, go_backwards=False, reset_after=True):
    """Keras 2 / 3 recurrences in float64: (all hidden states in processing order, final states)."""
    kernel, recurrent = weights[0].astype(np.float64), weights[1].astype(np.float64)
    bias = weights[2].astype(np.float64) if len(weights) > 2 else np.zeros(kernel.shape[1])
    batch, steps, _ = x.shape
    h, c = np.zeros((batch, units)), np.zeros((batch, units))
    hs = []
    for t in (range(steps - 1, -1, -1) if go_backwards else range(steps)):
        xt = x[:, t].astype(np.float64)
        if name == "SimpleRNN":
            h = np.tanh(xt @ kernel + bias + h @ recurrent)
        elif name == "LSTM":
            z = xt @ kernel + bias + h @ recurrent
            i, f, g, o = (z[:, k * units:(k + 1) * units] for k in range(4))
            c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
            h = sigmoid(o) * np.tanh(c)
        elif reset_after:  # GRU, blocks z, r, h; bias rows: input, recurrent
            gx, gh = xt @ kernel + bias[0], h @ recurrent + bias[1]
            z = sigmoid(gx[:, :units] + gh[:, :units])
            r = sigmoid(gx[:, units:2 * units] + gh[:, units:2 * units])
            hh = np.tanh(gx[:, 2 * units:] + r * gh[:, 2 * units:])
            h = z * h + (1 - z) * hh
        else:
            gx = xt @ kernel + bias
            z = sigmoid(gx[:, :units] + h @ recurrent[:, :units])
            r = sigmoid(gx[:, units:2 * units] + h @ recurrent[:, units:2 * units])
            hh = np.tanh(gx[:, 2 * units:] + (r * h) @ recurrent[:, 2 * units:])
            h = z * h + (1 - z) * hh
        hs.append(h)
    return np.stack(hs, 1), h, c


def random_weights(layer, rng):
    return [rng.standard_normal(w.shape).astype(np.float32) * 0.5 for w in layer.get_weights()]


CASES = [("SimpleRNN", {}), ("LSTM", {}), ("GRU", {}), ("GRU", {"reset_after": False}),
         ("LSTM", {"go_backwards": True}), ("GRU", {"go_backwards": True}), ("SimpleRNN", {"use_bias": False})]


@pytest.mark.parametrize("name,options", CASES, ids=str)
@pytest.mark.parametrize("return_sequences", [False, True])
def test_recurrent_layers_follow_keras_equations(name, options, return_sequences, rng):
    units, x = 5, rng.standard_normal((4, 6, 3)).astype(np.float32)
    layer = getattr(keras.layers, name)(units, return_sequences=return_sequences, return_state=True, **options)
    inp = Input(shape=(6, 3))
    model = Model(inp, layer(inp))
    weights = random_weights(layer, rng)
    layer.set_weights(weights)
    out = model.predict(x, verbose=0)
    hs, h, c = keras_reference(name, x, weights, units, options.get("go_backwards", False),
                               options.get("reset_after", True))
    assert_close(out[0], hs if return_sequences else h, 1e-5, 1e-4, f"{name} output")
    assert_close(out[1], h, 1e-5, 1e-4, f"{name} final h")
    if name == "LSTM":
        assert len(out) == 3
        assert_close(out[2], c, 1e-5, 1e-4, "LSTM final c")
    else:
        assert len(out) == 2


@pytest.mark.parametrize("name", ["LSTM", "GRU"])
def test_gradients_match_pytorch_with_the_same_weights(name, rng, torch):
    """Keras' LSTM is torch's with weight_ih = kernel^T (same gate order i, f, g, o); Keras' GRU
    (reset_after) is torch's with blocks reordered from z, r, h to r, z, n."""
    units, batch, steps, features = 4, 3, 5, 2
    layer = getattr(keras.layers, name)(units, return_sequences=True)
    x = rng.standard_normal((batch, steps, features)).astype(np.float32)
    xd = deepcore.tensor(x, requires_grad=True)
    out = layer(xd)
    weights = random_weights(layer, rng)
    layer.set_weights(weights)
    out = layer(xd)
    g = rng.standard_normal(out.shape).astype(np.float32)
    (out * deepcore.tensor(g)).sum().backward()

    kernel, recurrent, bias = (torch.tensor(w, requires_grad=True) for w in weights)
    blocks = [1, 0, 2] if name == "GRU" else [0, 1, 2, 3]

    def torch_order(w):  # columns in Keras' gate order -> rows in torch's
        parts = w.split(units, dim=-1)
        joined = torch.cat([parts[k] for k in blocks], dim=-1)
        return joined.T if joined.ndim == 2 else joined

    module = getattr(torch.nn, name)(features, units, batch_first=True)
    params = dict(weight_ih_l0=torch_order(kernel), weight_hh_l0=torch_order(recurrent),
                  bias_ih_l0=torch_order(bias[0] if name == "GRU" else bias),
                  bias_hh_l0=torch_order(bias[1]) if name == "GRU" else torch.zeros(4 * units))
    xt = torch.tensor(x, requires_grad=True)
    ref, _ = torch.func.functional_call(module, params, (xt,))
    (ref * torch.tensor(g)).sum().backward()
    assert_close(out.detach().numpy(), ref.detach().numpy(), 1e-5, 1e-4, f"{name} output vs torch")
    assert_close(xd.grad.numpy(), xt.grad.numpy(), 1e-5, 1e-4, f"{name} input gradient vs torch")
    for w, ref_w, label in ((layer.kernel, kernel, "kernel"), (layer.recurrent_kernel, recurrent, "recurrent_kernel"),
                            (layer.bias, bias, "bias")):
        assert_close(w.grad.numpy(), ref_w.grad.numpy(), 1e-5, 1e-4, f"{name} {label} gradient vs torch")


def test_shared_cells_pass_finite_differences(rng):
    def t(*shape):
        return deepcore.tensor(rng.standard_normal(shape), dtype=deepcore.float64, requires_grad=True)
    gx4, gh4, gx3, gh3, h, c = t(2, 12), t(2, 12), t(2, 9), t(2, 9), t(2, 3), t(2, 3)
    gradcheck(lambda a, b: rnn_cell(a, b, deepcore.tanh), (t(2, 3), t(2, 3)))
    gradcheck(lambda a, b, s: lstm_cell(a, b, s, deepcore.tanh, deepcore.sigmoid), (gx4, gh4, c))
    gradcheck(lambda a, b, s: gru_cell(a, b, s, deepcore.tanh, deepcore.sigmoid, order=(1, 0, 2)), (gx3, gh3, h))


def test_parameter_counts_and_initializers_are_keras():
    model = Sequential([LSTM(32, return_sequences=True, input_shape=(7, 10)), GRU(16, return_sequences=True),
                        SimpleRNN(8), Dense(1)])
    counts = [layer.count_params() for layer in model.layers]
    assert counts == [4 * (10 * 32 + 32 * 32 + 32), 3 * (32 * 16 + 16 * 16 + 2 * 16), 16 * 8 + 8 * 8 + 8, 9]
    lstm = model.layers[0]
    bias = lstm.bias.detach().numpy()
    assert (bias[32:64] == 1).all() and (bias[:32] == 0).all() and (bias[64:] == 0).all()  # unit_forget_bias
    for layer in model.layers[:3]:
        r = layer.recurrent_kernel.detach().numpy()  # orthogonal columns per gate block stack
        u = layer.units
        q = r.reshape(u, -1)
        np.testing.assert_allclose(q @ q.T, np.eye(u), atol=1e-5)
    assert model.output_shape == (None, 1)
    assert model.layers[0].output_shape == (None, 7, 32)


def test_embedding_gathers_rows_and_accumulates_gradients(rng):
    layer = Embedding(10, 4)
    idx = np.array([[1, 3, 1], [9, 0, 3]])
    out = layer(idx.astype(np.float32))  # a Model feeds float arrays: cast to indices as Keras does
    table = layer.get_weights()[0]
    assert table.min() >= -0.05 and table.max() <= 0.05
    assert_close(out.detach().numpy(), table[idx], 0, 0, "embedding rows")
    out.sum().backward()
    counts = np.bincount(idx.ravel(), minlength=10)[:, None] * np.ones((1, 4))
    assert_close(layer.embeddings.grad.numpy(), counts, 0, 0, "embedding gradient counts each use")
    with pytest.raises((IndexError, ValueError), match="10"):
        layer(np.array([[10]]))
    with pytest.raises(NotImplementedError, match="mask"):
        Embedding(10, 4, mask_zero=True)
    assert Sequential([Embedding(10, 4, input_length=3)]).output_shape == (None, 3, 4)


def test_sequence_classifier_trains_saves_and_loads(tmp_path, rng):
    """Embedding -> LSTM -> Dense learns whether token 1 occurs in a sequence of tokens 1..5."""
    deepcore.manual_seed(0)
    x = rng.integers(2, 6, (600, 8))
    has = rng.random(600) < 0.5
    x[has, rng.integers(0, 8, has.sum())] = 1
    y = has.astype(np.float32)[:, None]
    model = Sequential([Embedding(6, 8, input_length=8), LSTM(16), Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    model.fit(x[:500], y[:500], batch_size=32, epochs=12, verbose=0)
    _, accuracy = model.evaluate(x[500:], y[500:], verbose=0)
    assert accuracy > 0.9, f"held-out accuracy {accuracy}"
    path = str(tmp_path / "seq.safetensors")
    model.save(path)
    again = load_model(path)
    np.testing.assert_array_equal(again.predict(x[500:], verbose=0), model.predict(x[500:], verbose=0))


def test_dropout_only_while_training_and_initial_state(rng):
    layer = GRU(6, dropout=0.5, recurrent_dropout=0.5)
    x = deepcore.tensor(rng.standard_normal((3, 4, 2)).astype(np.float32))
    a, b = layer(x).detach().numpy(), layer(x).detach().numpy()
    np.testing.assert_array_equal(a, b)  # inference: no dropout
    assert not np.array_equal(layer(x, training=True).detach().numpy(), a)
    lstm = LSTM(6)
    h0, c0 = deepcore.ones(3, 6), deepcore.zeros(3, 6)
    assert not np.allclose(lstm(x, initial_state=[h0, c0]).detach().numpy(), lstm(x).detach().numpy())
    with pytest.raises(ValueError, match="2 tensor"):
        lstm(x, initial_state=[h0])
    with pytest.raises(ValueError, match=r"\(3, 6\)"):
        lstm(x, initial_state=[deepcore.ones(2, 6), c0])


def test_recurrent_errors_are_clear():
    with pytest.raises(ValueError, match="timesteps"):
        Sequential([LSTM(4, input_shape=(5,))])
    with pytest.raises(NotImplementedError, match="stateful"):
        LSTM(4, stateful=True)
    with pytest.raises(ValueError, match="units"):
        GRU(0)
    with pytest.raises(ValueError, match="dropout"):
        SimpleRNN(3, dropout=1.5)
    inp, state = Input(shape=(5, 2)), Input(shape=(4,))
    with pytest.raises(NotImplementedError, match="initial_state"):
        SimpleRNN(4)(inp, initial_state=state)
    layer = SimpleRNN(4)
    layer(deepcore.zeros(1, 3, 2))
    with pytest.raises(ValueError, match=r"\(batch, timesteps, 2\)"):
        layer(deepcore.zeros(1, 3, 5))


@pytest.mark.parametrize("name,merge_mode,return_sequences", [("LSTM", "concat", False), ("GRU", "sum", True),
                                                              ("SimpleRNN", "ave", True), ("LSTM", "mul", True)])
def test_bidirectional_runs_a_backward_copy_and_merges(name, merge_mode, return_sequences, rng):
    units, x = 3, rng.standard_normal((2, 5, 4)).astype(np.float32)
    layer = Bidirectional(getattr(keras.layers, name)(units, return_sequences=return_sequences),
                          merge_mode=merge_mode)
    inp = Input(shape=(5, 4))
    model = Model(inp, layer(inp))
    weights = random_weights(layer, rng)
    layer.set_weights(weights)
    half = len(weights) // 2
    hs_f, h_f, _ = keras_reference(name, x, weights[:half], units)
    hs_b, h_b, _ = keras_reference(name, x, weights[half:], units, go_backwards=True)
    forward, backward = (hs_f, hs_b[:, ::-1]) if return_sequences else (h_f, h_b)  # back in input order
    expected = {"concat": lambda: np.concatenate([forward, backward], -1), "sum": lambda: forward + backward,
                "ave": lambda: (forward + backward) / 2, "mul": lambda: forward * backward}[merge_mode]()
    assert_close(model.predict(x, verbose=0), expected, 1e-5, 1e-4, f"Bidirectional({name}, {merge_mode})")
    assert model.output_shape == (None,) + ((5,) if return_sequences else ()) + (
        2 * units if merge_mode == "concat" else units,)


def test_bidirectional_and_time_distributed_train_save_and_load(tmp_path, rng):
    deepcore.manual_seed(1)
    model = Sequential([Bidirectional(LSTM(6, return_sequences=True), input_shape=(7, 3)),
                        TimeDistributed(Dense(2)), Flatten(), Dense(1)])
    assert [w.shape for w in model.layers[0].get_weights()] == [(3, 24), (6, 24), (24,)] * 2
    model.compile(keras.optimizers.Adam(0.01), "mse")
    x = rng.standard_normal((64, 7, 3)).astype(np.float32)
    y = x.mean(axis=(1, 2))[:, None] * 3  # variance 9 / 21
    history = model.fit(x, y, epochs=30, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.3 * history.history["loss"][0]
    path = str(tmp_path / "bi.safetensors")
    model.save(path)
    np.testing.assert_array_equal(load_model(path).predict(x, verbose=0), model.predict(x, verbose=0))


def test_time_distributed_applies_one_layer_to_every_step(rng):
    dense = Dense(4)
    x = rng.standard_normal((2, 3, 5)).astype(np.float32)
    out = TimeDistributed(dense)(x).detach().numpy()
    kernel, bias = dense.get_weights()
    assert_close(out, x @ kernel + bias, 1e-5, 1e-5, "TimeDistributed(Dense)")
    frames = rng.standard_normal((2, 3, 6, 6, 1)).astype(np.float32)  # (batch, time, H, W, C)
    conv = Conv2D(2, 3)
    out = TimeDistributed(conv)(frames).detach().numpy()
    assert out.shape == (2, 3, 4, 4, 2)
    assert_close(out[1, 2], conv(frames[1, 2][None]).detach().numpy()[0], 1e-5, 1e-5, "one frame")
    with pytest.raises(ValueError, match="at least 3"):
        TimeDistributed(Dense(2))(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="recurrent"):
        Bidirectional(Dense(3))
    with pytest.raises(ValueError, match="merge_mode"):
        Bidirectional(LSTM(3), merge_mode="max")


def test_pad_sequences_as_keras():
    seqs = [[1, 2, 3], [4], [5, 6, 7, 8, 9]]
    np.testing.assert_array_equal(pad_sequences(seqs), [[0, 0, 1, 2, 3], [0, 0, 0, 0, 4], [5, 6, 7, 8, 9]])
    np.testing.assert_array_equal(pad_sequences(seqs, maxlen=3, padding="post", truncating="post", value=-1),
                                  [[1, 2, 3], [4, -1, -1], [5, 6, 7]])
    np.testing.assert_array_equal(pad_sequences(seqs, maxlen=2), [[2, 3], [0, 4], [8, 9]])
    assert pad_sequences(seqs).dtype == np.int32 and keras.utils.pad_sequences([[1]], maxlen=2).tolist() == [[0, 1]]
    with pytest.raises(ValueError, match="'pre' or 'post'"):
        pad_sequences(seqs, padding="middle")


def conv1d_reference(x, kernel, bias, stride, padding, dilation):
    """Keras' Conv1D in float64: TensorFlow's 'same' (the odd padding at the end), 'causal' (all before)."""
    steps, (k, _, filters) = x.shape[1], kernel.shape
    window = (k - 1) * dilation + 1
    if padding == "same":
        out_len = -(-steps // stride)
        total = max((out_len - 1) * stride + window - steps, 0)
        before, after = total // 2, total - total // 2
    elif padding == "causal":
        before, after = window - 1, 0
    else:
        before = after = 0
    xp = np.pad(x.astype(np.float64), ((0, 0), (before, after), (0, 0)))
    out_len = (xp.shape[1] - window) // stride + 1
    out = np.zeros((x.shape[0], out_len, filters))
    for t in range(out_len):
        for j in range(k):
            out[:, t] += xp[:, t * stride + j * dilation] @ kernel[j]
    return out + bias


@pytest.mark.parametrize("kernel_size,stride,padding,dilation", [(3, 1, "valid", 1), (4, 2, "same", 1),
                                                                 (3, 1, "causal", 2), (2, 3, "valid", 1),
                                                                 (5, 1, "same", 2)])
def test_conv1d_follows_keras(kernel_size, stride, padding, dilation, rng):
    x = rng.standard_normal((2, 11, 3)).astype(np.float32)
    layer = Conv1D(4, kernel_size, strides=stride, padding=padding, dilation_rate=dilation)
    out = layer(x)
    kernel, bias = layer.get_weights()
    assert kernel.shape == (kernel_size, 3, 4)
    assert_close(out.detach().numpy(), conv1d_reference(x, kernel, bias, stride, padding, dilation), 1e-5, 1e-4,
                 f"Conv1D({kernel_size}, {stride}, {padding}, {dilation})")
    assert layer.compute_output_shape((None, 11, 3)) == (None, out.shape[1], 4)


def test_conv1d_gradients_match_pytorch(rng, torch):
    x = rng.standard_normal((2, 9, 3)).astype(np.float32)
    layer = Conv1D(4, 3, dilation_rate=2)
    xd = deepcore.tensor(x, requires_grad=True)
    out = layer(xd)
    g = rng.standard_normal(out.shape).astype(np.float32)
    (out * deepcore.tensor(g)).sum().backward()
    kernel, bias = (torch.tensor(w, requires_grad=True) for w in layer.get_weights())
    xt = torch.tensor(x, requires_grad=True)
    ref = torch.nn.functional.conv1d(xt.transpose(1, 2), kernel.permute(2, 1, 0), bias, dilation=2).transpose(1, 2)
    (ref * torch.tensor(g)).sum().backward()
    assert_close(xd.grad.numpy(), xt.grad.numpy(), 1e-5, 1e-4, "Conv1D input gradient")
    kernel_grad = layer.kernel.grad.permute(2, 3, 1, 0).reshape(3, 3, 4)  # internal (F, C, 1, k) -> Keras'
    assert_close(kernel_grad.numpy(), kernel.grad.numpy(), 1e-5, 1e-4, "Conv1D kernel gradient")
    assert_close(layer.bias.grad.numpy(), bias.grad.numpy(), 1e-5, 1e-4, "Conv1D bias gradient")


def test_poolings_upsampling_and_repeat_follow_keras(rng):
    x = rng.standard_normal((2, 7, 3)).astype(np.float32)
    windows = np.stack([x[:, 2 * t:2 * t + 2] for t in range(3)], 1)  # pool 2, valid: 3 windows
    assert_close(MaxPooling1D()(x).numpy(), windows.max(2), 0, 0, "MaxPooling1D")
    assert_close(AveragePooling1D()(x).numpy(), windows.mean(2), 1e-6, 1e-6, "AveragePooling1D")
    # 'same', pool 2 over 7 steps: 4 windows, the last one holds only the real step 6
    same = AveragePooling1D(padding="same")(x).numpy()
    assert same.shape == (2, 4, 3)
    assert_close(same[:, 3], x[:, 6], 1e-6, 1e-6, "AveragePooling1D 'same' averages real steps only")
    assert_close(MaxPooling1D(padding="same")(x).numpy()[:, 3], x[:, 6], 0, 0, "MaxPooling1D 'same'")
    assert_close(UpSampling1D(3)(x).numpy(), np.repeat(x, 3, axis=1), 0, 0, "UpSampling1D")
    assert_close(GlobalMaxPooling1D()(x).numpy(), x.max(1), 0, 0, "GlobalMaxPooling1D")
    assert_close(GlobalAveragePooling1D()(x).numpy(), x.mean(1), 1e-6, 1e-6, "GlobalAveragePooling1D")
    v = deepcore.tensor(rng.standard_normal((2, 5)).astype(np.float32), requires_grad=True)
    r = RepeatVector(4)(v)
    assert_close(r.detach().numpy(), np.repeat(v.detach().numpy()[:, None], 4, axis=1), 0, 0, "RepeatVector")
    r.sum().backward()
    assert_close(v.grad.numpy(), np.full((2, 5), 4.0), 0, 0, "RepeatVector gradient sums the copies")
    with pytest.raises(ValueError, match="3-D"):
        MaxPooling1D()(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="2-D"):
        RepeatVector(2)(np.zeros((2, 3, 4), np.float32))


def test_gaussian_noise_only_while_training():
    layer = GaussianNoise(0.5)
    x = deepcore.zeros(200, 500)
    assert layer(x) is x
    noisy = layer(x, training=True).numpy()
    assert abs(noisy.std() - 0.5) < 0.01 and abs(noisy.mean()) < 0.01
    with pytest.raises(ValueError, match="stddev"):
        GaussianNoise(-1)


def test_text_cnn_and_sequence_autoencoder_train(tmp_path, rng):
    """Keras' text-CNN shape (Embedding, Conv1D, GlobalMaxPooling1D) learns whether token 1 occurs;
    an LSTM auto-encoder (encoder, RepeatVector, decoder LSTM, TimeDistributed Dense) lowers its loss."""
    deepcore.manual_seed(2)
    x = rng.integers(2, 6, (600, 10))
    has = rng.random(600) < 0.5
    x[has, rng.integers(0, 10, has.sum())] = 1
    y = has.astype(np.float32)[:, None]
    model = Sequential([Embedding(6, 8, input_length=10), Conv1D(16, 3, activation="relu", padding="same"),
                        GlobalMaxPooling1D(), Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    model.fit(x[:500], y[:500], batch_size=32, epochs=10, verbose=0)
    assert model.evaluate(x[500:], y[500:], verbose=0)[1] > 0.9
    path = str(tmp_path / "textcnn.safetensors")
    model.save(path)
    np.testing.assert_array_equal(load_model(path).predict(x[500:], verbose=0), model.predict(x[500:], verbose=0))

    seqs = np.cumsum(rng.standard_normal((128, 6, 2)).astype(np.float32) * 0.3, axis=1)
    auto = Sequential([LSTM(16, input_shape=(6, 2)), RepeatVector(6), LSTM(16, return_sequences=True),
                       TimeDistributed(Dense(2))])
    auto.compile(keras.optimizers.Adam(0.01), "mse")
    history = auto.fit(seqs, seqs, epochs=15, batch_size=32, verbose=0).history["loss"]
    assert history[-1] < 0.5 * history[0]
