"""deepcore.keras: Keras 2 API behaviours, layouts and parameter counts, save/load, Keras optimizer
formulas vs NumPy, and a short real-MNIST training run."""
import json
import os

import numpy as np
import pytest

import deepcore
import deepcore.keras as keras
from deepcore.keras import callbacks as kcallbacks
from deepcore.keras.layers import (Activation, BatchNormalization, Conv2D, Dense, Dropout, Flatten, Input, Lambda,
                                   Layer, MaxPooling2D, Reshape, UpSampling2D)
from deepcore.keras.models import Model, Sequential, load_model


def mlp():
    model = Sequential()
    model.add(Dense(512, activation="relu", input_shape=(784,)))
    model.add(Dropout(0.2))
    model.add(Dense(512, activation="relu"))
    model.add(Dropout(0.2))
    model.add(Dense(10, activation="softmax"))
    return model


def cnn():
    model = Sequential()
    model.add(Conv2D(32, kernel_size=(3, 3), activation="relu", input_shape=(28, 28, 1)))
    model.add(Conv2D(64, (3, 3), activation="relu"))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Dropout(0.25))
    model.add(Flatten())
    model.add(Dense(128, activation="relu"))
    model.add(Dropout(0.5))
    model.add(Dense(10, activation="softmax"))
    return model


def conv_autoencoder():
    input_img = Input(shape=(28, 28, 1))
    x = Conv2D(16, (3, 3), activation="relu", padding="same")(input_img)
    x = MaxPooling2D((2, 2), padding="same")(x)
    x = Conv2D(8, (3, 3), activation="relu", padding="same")(x)
    x = MaxPooling2D((2, 2), padding="same")(x)
    x = Conv2D(8, (3, 3), activation="relu", padding="same")(x)
    encoded = MaxPooling2D((2, 2), padding="same")(x)
    x = Conv2D(8, (3, 3), activation="relu", padding="same")(encoded)
    x = UpSampling2D((2, 2))(x)
    x = Conv2D(8, (3, 3), activation="relu", padding="same")(x)
    x = UpSampling2D((2, 2))(x)
    x = Conv2D(16, (3, 3), activation="relu")(x)
    x = UpSampling2D((2, 2))(x)
    decoded = Conv2D(1, (3, 3), activation="sigmoid", padding="same")(x)
    return Model(input_img, decoded), encoded


def small_data(n=64, d=8, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)).astype("float32")
    y = keras.utils.to_categorical(rng.integers(0, classes, n), classes) if hasattr(keras.utils, "to_categorical") \
        else np.eye(classes, dtype="float32")[rng.integers(0, classes, n)]
    return x, y


# ---- shapes, parameter counts, summary ------------------------------------------------------------

def test_lecture_parameter_counts_and_summary(capsys):
    m = mlp()
    assert m.count_params() == 669_706
    m.summary()
    out = capsys.readouterr().out
    assert "Total params: 669,706" in out and "(None, 512)" in out and "Non-trainable params: 0" in out
    c = cnn()
    assert c.count_params() == 1_199_882
    assert [l.output_shape for l in c.layers][:5] == [(None, 26, 26, 32), (None, 24, 24, 64), (None, 12, 12, 64),
                                                      (None, 12, 12, 64), (None, 9216)]
    inp = Input(shape=(784,))
    dense_ae = Model(inp, Dense(784, activation="sigmoid")(Dense(32, activation="relu")(inp)))
    assert dense_ae.count_params() == 50_992
    conv_ae, encoded = conv_autoencoder()
    assert encoded.shape == (None, 4, 4, 8) and conv_ae.output_shape == (None, 28, 28, 1)
    assert conv_ae.count_params() == 4_385
    conv_ae.summary()
    assert "input_" in capsys.readouterr().out  # functional models list their InputLayer, as Keras
    pred = conv_ae.predict(np.random.rand(3, 28, 28, 1).astype("float32"))
    assert pred.shape == (3, 28, 28, 1) and np.all((pred > 0) & (pred < 1))


def test_weight_layouts_are_keras():
    c = cnn()
    shapes = [w.shape for w in c.get_weights()]
    assert shapes[:4] == [(3, 3, 1, 32), (32,), (3, 3, 32, 64), (64,)] and shapes[4] == (9216, 128)
    bn = Sequential([BatchNormalization(input_shape=(5,))])
    assert [w.shape for w in bn.get_weights()] == [(5,)] * 4
    assert len(bn.trainable_weights) == 2 and len(bn.non_trainable_weights) == 2
    with pytest.raises(ValueError, match="shape"):
        c.layers[0].set_weights([np.zeros((3, 3, 2, 32)), np.zeros(32)])


def test_conv_pool_flatten_follow_keras_channels_last():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 7, 7, 3)).astype("float32")
    k = rng.standard_normal((3, 3, 3, 4)).astype("float32")
    b = rng.standard_normal(4).astype("float32")
    inp = Input(shape=(7, 7, 3))
    conv = Conv2D(4, (3, 3), padding="same")
    pooled = MaxPooling2D((2, 2), padding="same")(conv(inp))
    model = Model(inp, [conv.output, pooled, Flatten()(pooled)])
    conv.set_weights([k, b])
    y_conv, y_pool, y_flat = model.predict(x)
    xp = np.pad(x.astype(np.float64), ((0, 0), (1, 1), (1, 1), (0, 0)))
    ref = np.zeros((2, 7, 7, 4))
    for i in range(7):
        for j in range(7):
            ref[:, i, j, :] = np.einsum("nhwc,hwco->no", xp[:, i:i + 3, j:j + 3, :], k) + b
    np.testing.assert_allclose(y_conv, ref, rtol=1e-4, atol=1e-4)
    # TF 'same' pooling on 7: windows [0,1] [2,3] [4,5] [6] (the extra padding at the end)
    padded = np.pad(ref, ((0, 0), (0, 1), (0, 1), (0, 0)), constant_values=-np.inf)
    pool_ref = padded.reshape(2, 4, 2, 4, 2, 4).max(axis=(2, 4))
    np.testing.assert_allclose(y_pool, pool_ref, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(y_flat, pool_ref.reshape(2, -1), rtol=1e-4, atol=1e-4)  # (H, W, C) order


def test_reshape_lambda_activation_and_eager_calls():
    inp = Input(shape=(12,))
    x = Reshape((2, 2, 3))(inp)
    x = Lambda(lambda t: t * 2.0)(x)
    x = Activation("relu")(Flatten()(x))
    model = Model(inp, x)
    data = np.arange(-12, 12, dtype="float32").reshape(2, 12)
    np.testing.assert_allclose(model.predict(data), np.maximum(data * 2, 0))
    assert Dense(3)(deepcore.ones(4, 5)).shape == (4, 3)  # layers also run eagerly on tensors
    with pytest.raises(ValueError, match="expected"):
        model.predict(np.zeros((2, 11), "float32"))


# ---- training API --------------------------------------------------------------------------------

def test_fit_history_evaluate_predict_consistency():
    deepcore.manual_seed(0)
    np.random.seed(0)
    x, y = small_data(96)
    model = Sequential([Dense(16, activation="relu", input_shape=(8,)), Dropout(0.1),
                        Dense(3, activation="softmax")])
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=16, epochs=3, verbose=0, validation_split=0.25)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == 3 for v in history.history.values())
    assert history.history["loss"][-1] < history.history["loss"][0]
    loss, acc = model.evaluate(x, y, verbose=0)
    pred = model.predict(x, batch_size=7)
    assert pred.shape == (96, 3)
    assert acc == pytest.approx(np.mean(pred.argmax(1) == y.argmax(1)))
    p = np.clip(pred.astype(np.float64), 1e-7, 1 - 1e-7)
    assert loss == pytest.approx(-np.mean(np.sum(y * np.log(p), axis=1)), rel=1e-4)
    np.testing.assert_array_equal(pred, model.predict(x))  # inference: no dropout
    assert model.train_on_batch(x[:16], y[:16])[0] > 0 and len(model.test_on_batch(x, y)) == 2
    assert model.metrics_names == ["loss", "accuracy"]


def test_sparse_labels_and_accuracy_choice():
    x, y = small_data(32)
    model = Sequential([Dense(3, activation="softmax", input_shape=(8,))])
    model.compile(loss="sparse_categorical_crossentropy", optimizer="sgd", metrics=["acc"])
    labels = y.argmax(1)
    history = model.fit(x, labels, epochs=1, verbose=0)
    assert "acc" in history.history
    loss, acc = model.evaluate(x, labels, verbose=0)
    assert acc == pytest.approx(np.mean(model.predict(x).argmax(1) == labels))
    binary = Sequential([Dense(1, activation="sigmoid", input_shape=(8,))])
    binary.compile(loss="binary_crossentropy", optimizer="rmsprop", metrics=["accuracy"])
    t = (x[:, 0] > 0).astype("float32")[:, None]
    _, bacc = binary.evaluate(x, t, verbose=0)
    assert bacc == pytest.approx(np.mean((binary.predict(x) > 0.5) == t))


def test_callbacks_receive_keras_hooks():
    events = []

    class Recorder(kcallbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            events.append((epoch, sorted(logs)))
            if epoch == 1:
                self.model.stop_training = True

    x, y = small_data(40)
    model = Sequential([Dense(3, activation="softmax", input_shape=(8,))])
    model.compile(loss="categorical_crossentropy", optimizer="sgd", metrics=["accuracy"])
    history = model.fit(x, y, epochs=5, verbose=0, validation_data=(x, y), callbacks=[Recorder()])
    assert [e for e, _ in events] == [0, 1] and len(history.history["loss"]) == 2
    assert events[0][1] == ["accuracy", "loss", "val_accuracy", "val_loss"]


def test_sequential_equals_functional_and_shared_layers_share_weights():
    seq = Sequential([Dense(6, activation="tanh", input_shape=(8,)), Dense(2)])
    inp = Input(shape=(8,))
    func = Model(inp, Dense(2)(Dense(6, activation="tanh")(inp)))
    func.set_weights(seq.get_weights())
    x, _ = small_data(10)
    np.testing.assert_allclose(seq.predict(x), func.predict(x), rtol=1e-6)

    shared = Dense(4)
    a_in, b_in = Input(shape=(8,)), Input(shape=(8,))
    model_a = Model(a_in, Dense(1)(shared(a_in)))
    model_b = Model(b_in, shared(b_in))
    before = model_b.predict(x)
    model_a.compile(loss="mse", optimizer=keras.optimizers.SGD(lr=0.1))
    model_a.fit(x, np.ones((10, 1), "float32"), epochs=2, verbose=0)
    assert not np.allclose(before, model_b.predict(x))  # training model_a moved the shared weights
    assert model_a.layers[1].kernel is model_b.layers[1].kernel
    two_in = Model([a_in, b_in], keras.layers.Lambda(lambda ts: ts[0] - ts[1])([shared(a_in), shared(b_in)]))
    np.testing.assert_allclose(two_in.predict([x, x]), 0.0, atol=1e-6)


def test_regularizers_add_to_the_loss():
    x, y = small_data(16)
    model = Sequential([Dense(3, activation="softmax", input_shape=(8,),
                              kernel_regularizer=keras.regularizers.l2(0.5))])
    model.compile(loss="categorical_crossentropy", optimizer="sgd")
    kernel = model.get_weights()[0]
    p = np.clip(model.predict(x).astype(np.float64), 1e-7, 1 - 1e-7)
    expected = -np.mean(np.sum(y * np.log(p), 1)) + 0.5 * np.sum(kernel.astype(np.float64) ** 2)
    assert model.evaluate(x, y, verbose=0) == pytest.approx(expected, rel=1e-5)


class Scale(Layer):
    """A user layer: y = x @ w + offset, with a non-trainable offset."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(name="w", shape=(input_shape[-1], self.units), initializer="glorot_uniform")
        self.offset = self.add_weight(name="offset", shape=(self.units,), initializer="ones", trainable=False)
        super().build(input_shape)

    def call(self, inputs):
        return inputs.matmul(self.w) + self.offset

    def get_config(self):
        return dict(super().get_config(), units=self.units)


def test_custom_layer_trains_saves_and_loads(tmp_path):
    x, y = small_data(32)
    model = Sequential([Scale(5, input_shape=(8,)), Activation("relu"), Dense(3, activation="softmax")])
    assert model.count_params() == 8 * 5 + 5 + 5 * 3 + 3
    assert len(model.trainable_weights) == 3
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    w0 = model.layers[0].get_weights()
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    w1 = model.layers[0].get_weights()
    assert not np.allclose(w0[0], w1[0]) and np.array_equal(w0[1], w1[1])  # offset is not trained
    path = str(tmp_path / "custom.safetensors")
    model.save(path)
    with pytest.raises(ValueError, match="Scale"):
        load_model(path)
    loaded = load_model(path, custom_objects={"Scale": Scale})
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert loaded.optimizer.__class__.__name__ == "Adam" and loaded.metrics_names == ["loss", "accuracy"]
    loaded.fit(x, y, epochs=1, verbose=0)  # compiled and trainable after loading


def test_save_load_round_trip_and_weights_files(tmp_path):
    model, _ = conv_autoencoder()
    model.compile(optimizer="adadelta", loss="binary_crossentropy")
    x = np.random.default_rng(2).random((4, 28, 28, 1)).astype("float32")
    model.train_on_batch(x, x)
    path = str(tmp_path / "ae.safetensors")
    model.save(path)
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert loaded.evaluate(x, x, verbose=0) == pytest.approx(model.evaluate(x, x, verbose=0), rel=1e-6)
    meta = deepcore.io.load_metadata(path)
    assert json.loads(meta["deepcore.keras.model_config"])["class_name"] == "Model"
    tensors = deepcore.load(path)
    assert tuple(tensors[f"{model.layers[1].name}/kernel"].shape) == (3, 3, 1, 16)  # Keras layout on disk

    seq = cnn()
    wpath = str(tmp_path / "cnn.weights.safetensors")
    seq.save_weights(wpath)
    other = cnn()  # different layer names (dense_7 vs dense_5): loads by order, as Keras
    other.load_weights(wpath)
    xi = x[:2]
    np.testing.assert_array_equal(other.predict(xi), seq.predict(xi))
    with pytest.raises(ValueError, match="layers"):
        mlp().load_weights(wpath)
    with pytest.raises(ValueError, match="no model configuration"):
        load_model(wpath)
    restored = Sequential.from_config(seq.get_config())
    assert restored.count_params() == seq.count_params()


def test_corrupted_and_truncated_files_are_refused(tmp_path):
    model = mlp()
    path = str(tmp_path / "mlp.safetensors")
    model.save(path)
    raw = open(path, "rb").read()
    truncated = str(tmp_path / "truncated.safetensors")
    open(truncated, "wb").write(raw[:len(raw) - 1000])
    with pytest.raises(ValueError, match="truncated"):
        load_model(truncated)
    with pytest.raises(ValueError, match="truncated"):
        model.load_weights(truncated)
    garbage = str(tmp_path / "garbage.safetensors")
    open(garbage, "wb").write(raw[:8] + b"X" + raw[9:])
    with pytest.raises(ValueError):
        load_model(garbage)
    tiny = str(tmp_path / "tiny.safetensors")
    open(tiny, "wb").write(b"\x01\x02")
    with pytest.raises(ValueError):
        load_model(tiny)


# ---- optimizers: Keras 2 formulas ------------------------------------------------------------------

def _keras_reference(name, cfg, p, grads):
    """Keras 2.2.4's update rules, float64."""
    p = p.astype(np.float64).copy()
    state = [np.zeros_like(p), np.zeros_like(p), np.zeros_like(p)]
    for t, g in enumerate(grads, start=1):
        lr = cfg.get("lr") * (1.0 / (1.0 + cfg.get("decay", 0.0) * (t - 1)))
        if name == "SGD":
            v = cfg["momentum"] * state[0] - lr * g
            state[0] = v
            p = p + (cfg["momentum"] * v - lr * g if cfg["nesterov"] else v)
        elif name == "RMSprop":
            state[0] = cfg["rho"] * state[0] + (1 - cfg["rho"]) * g * g
            p = p - lr * g / (np.sqrt(state[0]) + cfg["epsilon"])
        elif name == "Adagrad":
            state[0] = state[0] + g * g
            p = p - lr * g / (np.sqrt(state[0]) + cfg["epsilon"])
        elif name == "Adadelta":
            state[0] = cfg["rho"] * state[0] + (1 - cfg["rho"]) * g * g
            update = g * np.sqrt(state[1] + cfg["epsilon"]) / np.sqrt(state[0] + cfg["epsilon"])
            p = p - lr * update
            state[1] = cfg["rho"] * state[1] + (1 - cfg["rho"]) * update * update
        elif name == "Adam":
            lr_t = lr * np.sqrt(1 - cfg["beta_2"] ** t) / (1 - cfg["beta_1"] ** t)
            state[0] = cfg["beta_1"] * state[0] + (1 - cfg["beta_1"]) * g
            state[1] = cfg["beta_2"] * state[1] + (1 - cfg["beta_2"]) * g * g
            denom = state[1]
            if cfg["amsgrad"]:
                state[2] = np.maximum(state[2], state[1])
                denom = state[2]
            p = p - lr_t * state[0] / (np.sqrt(denom) + cfg["epsilon"])
    return p


@pytest.mark.parametrize("make", [
    lambda: keras.optimizers.SGD(),
    lambda: keras.optimizers.SGD(lr=0.1, momentum=0.9, decay=0.3),
    lambda: keras.optimizers.SGD(lr=0.1, momentum=0.5, nesterov=True, decay=0.1),
    lambda: keras.optimizers.RMSprop(),
    lambda: keras.optimizers.RMSprop(learning_rate=0.01, decay=0.2),
    lambda: keras.optimizers.Adagrad(),
    lambda: keras.optimizers.Adadelta(),
    lambda: keras.optimizers.Adam(),
    lambda: keras.optimizers.Adam(lr=0.01, epsilon=1e-2, amsgrad=True),
])
def test_keras_optimizer_formulas(make):
    opt = make()
    rng = np.random.default_rng(3)
    p0 = rng.standard_normal((4, 5))
    # tiny gradients make epsilon's placement (Adam) visible
    grads = [rng.standard_normal((4, 5)) * s for s in (1.0, 1e-3, 0.5, 1e-4, 2.0)]
    param = deepcore.nn.Parameter(deepcore.tensor(p0, dtype=deepcore.float64))
    opt._bind([param])
    for g in grads:
        param.grad = deepcore.tensor(g, dtype=deepcore.float64)
        opt.step()
    expected = _keras_reference(type(opt).__name__, opt.get_config(), p0, grads)
    np.testing.assert_allclose(param.detach().numpy(), expected, rtol=1e-10, atol=1e-12)


def test_keras_2_defaults():
    assert keras.optimizers.RMSprop().get_config() == {"lr": 0.001, "decay": 0.0, "rho": 0.9, "epsilon": 1e-7}
    assert keras.optimizers.Adadelta().get_config()["lr"] == 1.0 and keras.optimizers.Adadelta().rho == 0.95
    assert keras.optimizers.SGD().lr == 0.01 and keras.optimizers.Adam().epsilon == 1e-7
    assert isinstance(keras.optimizers.get("adadelta"), keras.optimizers.Adadelta)
    dense = Dense(300)
    dense.build((None, 200))
    w = dense.get_weights()[0]
    limit = np.sqrt(6 / 500)  # glorot_uniform
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.95 * limit and not dense.get_weights()[1].any()


def test_categorical_crossentropy_clips_like_keras():
    y_true = deepcore.tensor([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    y_pred = deepcore.tensor([[0.5, 0.0, 0.5], [0.7, 0.2, 0.1]], requires_grad=True)
    loss = keras.losses.categorical_crossentropy(y_true, y_pred)
    np.testing.assert_allclose(loss.detach().numpy(), [-np.log(1e-7), -np.log(0.7)], rtol=1e-5)
    loss.sum().backward()
    grad = y_pred.grad.numpy()
    assert grad[0, 1] == 0.0  # clipped: no gradient, as Keras
    np.testing.assert_allclose(grad[1, 0], -1 / 0.7 + 1.0, rtol=1e-5)  # through the renormalization


# ---- real MNIST -------------------------------------------------------------------------------------

def test_real_mnist_mlp_smoke():
    """The lecture MLP, 1 epoch on 20k real MNIST images: > 90 % on 2000 test images
    (measured: 91-94 % over seeds; PyTorch with the same setup: 93-94 %)."""
    from deepcore.data.datasets import mnist_arrays
    try:
        (x_train, y_train), (x_test, y_test) = mnist_arrays(True), mnist_arrays(False)
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"MNIST not available offline: {exc}")
    deepcore.manual_seed(0)
    np.random.seed(0)
    x_train = x_train[:20000].reshape(-1, 784).astype("float32") / 255
    x_test = x_test[:2000].reshape(-1, 784).astype("float32") / 255
    eye = np.eye(10, dtype="float32")
    model = mlp()
    model.compile(loss="categorical_crossentropy", optimizer=keras.optimizers.RMSprop(), metrics=["accuracy"])
    model.fit(x_train, eye[y_train[:20000]], batch_size=128, epochs=1, verbose=0)
    loss, acc = model.evaluate(x_test, eye[y_test[:2000]], verbose=0)
    assert acc > 0.90, acc





def test_lecture_mlp_example_runs_one_epoch():
    pytest.importorskip("deepcore.keras.datasets.mnist")
    import subprocess
    import sys
    script = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples",
                          "keras_mnist_mlp.py")
    out = subprocess.run([sys.executable, script, "--epochs", "1", "--seed", "0", "--verbose", "0"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "Total params: 669,706" in out.stdout
    acc = float(out.stdout.split("Test accuracy:")[1].split()[0])
    assert acc > 0.95, out.stdout[-500:]  # one epoch of the lecture listing: 96-97 %
