"""Keras 3's overridable steps: train_step / test_step / predict_step with compute_loss, self.metrics
and optimizer.apply, subclassed models with their own call, and keras.random (engine/steps.py,
engine/step_loops.py, keras/random.py). The reference is Keras 3's torch trainer: a custom step that
does what the default one does must give the built-in loop's numbers."""
import numpy as np
import pytest

import deepcore
import deepcore.keras as keras
from deepcore.keras import layers

RNG = np.random.default_rng(3)
X = RNG.normal(size=(96, 8)).astype("float32")
Y = (X @ RNG.normal(size=(8, 1)) + 0.1).astype("float32")
LABELS = (X[:, :3] @ RNG.normal(size=(3, 4))).argmax(1)


def _functional(cls=keras.Model, units=1, seed=0):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape=(8,))
    hidden = layers.Dense(16, activation="tanh")(inputs)
    return cls(inputs, layers.Dense(units)(hidden))


class GuideStep(keras.Model):
    """The Keras guide's first custom train_step: compute_loss, backward, optimizer.apply, self.metrics."""

    def train_step(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = self.compute_loss(y=y, y_pred=y_pred, sample_weight=sample_weight)
        loss.backward()
        weights = list(self.trainable_weights)
        with deepcore.no_grad():
            self.optimizer.apply([v.value.grad for v in weights], weights)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred, sample_weight=sample_weight)
        return {m.name: m.result() for m in self.metrics}


@pytest.mark.parametrize("with_weights", [False, True])
def test_custom_train_step_matches_the_built_in_fit(with_weights):
    sw = RNG.random(96).astype("float32") if with_weights else None
    runs = []
    for cls in (keras.Model, GuideStep):
        model = _functional(cls)
        model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse", metrics=["mae"])
        hist = model.fit(X, Y, batch_size=32, epochs=3, shuffle=False, sample_weight=sw, verbose=0)
        runs.append((hist.history, model.get_weights()))
    (h0, w0), (h1, w1) = runs
    assert set(h1) == {"loss", "mae"}
    for key in ("loss", "mae"):
        np.testing.assert_allclose(h1[key], h0[key], rtol=2e-5, atol=1e-6)
    for a, b in zip(w0, w1):
        np.testing.assert_allclose(b, a, rtol=2e-5, atol=1e-6)
    assert h1["loss"][-1] < h1["loss"][0]


class OwnMetrics(keras.Model):
    """The guide's lower-level step: its own loss and metric objects, listed in a metrics property."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.mae_metric = keras.metrics.MeanAbsoluteError(name="mae")
        self.loss_fn = keras.losses.MeanSquaredError()
        self.batches = []

    def train_step(self, data):
        x, y = data
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = self.loss_fn(y, y_pred)
        loss.backward()
        with deepcore.no_grad():
            self.optimizer.apply([v.grad for v in self.trainable_weights], self.trainable_weights)
        self.loss_tracker.update_state(loss)
        self.mae_metric.update_state(y, y_pred)
        self.batches.append(float(loss.detach()))
        return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}

    @property
    def metrics(self):
        return [self.loss_tracker, self.mae_metric]


def test_metrics_listed_by_the_model_are_reset_at_each_epoch():
    inputs = keras.Input(shape=(8,))
    model = OwnMetrics(inputs, layers.Dense(1)(inputs))
    model.compile(optimizer="adam")  # no loss: the step computes its own
    hist = model.fit(X, Y, batch_size=32, epochs=3, verbose=0)
    per_epoch = np.array(model.batches).reshape(3, 3).mean(axis=1)  # three equal batches per epoch
    np.testing.assert_allclose(hist.history["loss"], per_epoch, rtol=1e-5)
    model.reset_metrics()
    assert float(model.loss_tracker.result()) == 0.0


def test_compute_loss_weights_samples_and_adds_the_models_losses():
    model = _functional()
    model.compile(optimizer="sgd", loss="mse")
    x, y = deepcore.tensor(X[:10]), deepcore.tensor(Y[:10])
    sw = RNG.random(10).astype("float32")
    y_pred = model(x)
    per = ((y_pred.detach().numpy() - Y[:10]) ** 2).mean(axis=1)
    np.testing.assert_allclose(float(model.compute_loss(y=y, y_pred=y_pred)), per.mean(), rtol=1e-5)
    np.testing.assert_allclose(float(model.compute_loss(y=y, y_pred=y_pred, sample_weight=sw)),
                               (per * sw).mean(), rtol=1e-5)
    model.compile(optimizer="sgd")
    with pytest.raises(ValueError, match="No loss to compute"):
        model.compute_loss(y=y, y_pred=y_pred)


class GuideTestStep(keras.Model):
    def test_step(self, data):
        x, y = data
        y_pred = self(x, training=False)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        for metric in self.metrics:
            metric.update_state(loss) if metric.name == "loss" else metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


def test_custom_test_step_matches_the_built_in_evaluate():
    plain, custom = _functional(seed=5), _functional(GuideTestStep, seed=5)
    for m in (plain, custom):
        m.compile(loss="mse", metrics=["mae"])
    # equal batches: the guide's step counts each batch's loss once, the built-in loop each sample
    expected = plain.evaluate(X, Y, batch_size=24, verbose=0)
    got = custom.evaluate(X, Y, batch_size=24, verbose=0)
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    logs = custom.evaluate(X, Y, batch_size=24, verbose=0, return_dict=True)
    assert list(logs) == ["loss", "mae"]
    np.testing.assert_allclose(logs["loss"], expected[0], rtol=1e-5)  # reset before each evaluate


class ArgmaxPredict(keras.Model):
    def predict_step(self, data):
        return deepcore.argmax(self(data, training=False), dim=1)


def test_custom_predict_step_and_batches_concatenated():
    model = _functional(ArgmaxPredict, units=4)
    out = model.predict(X, batch_size=25, verbose=0)
    assert isinstance(out, np.ndarray) and out.shape == (96,)
    np.testing.assert_array_equal(out, model(deepcore.tensor(X)).detach().numpy().argmax(1))


class ActivityPenalty(layers.Layer):
    def call(self, inputs):
        self.add_loss(1e-3 * keras.ops.sum(keras.ops.square(inputs)))
        return inputs


class Subclassed(keras.Model):
    """A subclassed model with its own call and no layer graph (Keras 3's usual style)."""

    def __init__(self, classes=4):
        super().__init__()
        self.hidden = layers.Dense(32, activation="relu")
        self.penalty = ActivityPenalty()
        self.dropout = layers.Dropout(0.1)
        self.out = layers.Dense(classes)

    def call(self, inputs, training=False):
        return self.out(self.dropout(self.penalty(self.hidden(inputs)), training=training))


class NoTrainingArg(keras.Model):
    def __init__(self):
        super().__init__()
        self.dense = layers.Dense(4)

    def call(self, inputs):
        return self.dense(inputs)


def test_subclassed_model_with_call_fits_evaluates_and_predicts(tmp_path):
    keras.utils.set_random_seed(1)
    model = Subclassed()
    model.compile(optimizer=keras.optimizers.Adam(0.01),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    hist = model.fit(X, LABELS, batch_size=16, epochs=8, validation_split=0.25, verbose=0)
    assert set(hist.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    assert hist.history["accuracy"][-1] > 0.6
    assert [type(layer).__name__ for layer in model.layers] == ["Dense", "ActivityPenalty", "Dropout", "Dense"]
    assert len(model.trainable_weights) == 4
    logits = model(deepcore.tensor(X[:8]))
    assert len(model.losses) == 1  # the penalty of the last call, counted by compute_loss
    labels = deepcore.tensor(LABELS[:8])
    with_penalty = float(model.compute_loss(y=labels, y_pred=logits))
    ce = float(keras.losses.SparseCategoricalCrossentropy(from_logits=True)(labels, logits))
    np.testing.assert_allclose(with_penalty, ce + float(model.losses[0]), rtol=1e-5)
    logs = model.evaluate(X, LABELS, verbose=0, return_dict=True)
    assert 0.0 <= logs["accuracy"] <= 1.0
    pred = model.predict(X, verbose=0)
    assert pred.shape == (96, 4)
    lines = []
    model.summary(print_fn=lines.append)
    assert any(line.startswith("activity_penalty") for line in lines)
    path = str(tmp_path / "sub.weights.h5")
    model.save_weights(path)
    again = Subclassed()
    again(deepcore.tensor(X[:1]))
    again.load_weights(path)
    np.testing.assert_allclose(again.predict(X, verbose=0), pred, rtol=1e-6)
    plain = NoTrainingArg()
    plain.compile(optimizer="sgd", loss="mse")
    assert len(plain.fit(X, np.zeros((96, 4), "float32"), epochs=1, verbose=0).history["loss"]) == 1


def test_train_and_test_on_batch_report_one_batch():
    model = _functional(GuideStep)
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    model.fit(X, Y, epochs=1, verbose=0)
    logs = model.train_on_batch(X[:32], Y[:32], return_dict=True)
    assert set(logs) == {"loss", "mae"}
    loss, mae = model.test_on_batch(X[:32], Y[:32])
    pred = model.predict(X[:32], verbose=0)
    np.testing.assert_allclose(mae, np.abs(pred - Y[:32]).mean(), rtol=1e-5)  # not a running mean
    np.testing.assert_allclose(loss, ((pred - Y[:32]) ** 2).mean(), rtol=1e-5)


def test_fit_takes_a_dataloader_and_class_weight():
    from deepcore.data import DataLoader, TensorDataset
    seen = []

    class Recording(GuideStep):
        def train_step(self, data):
            seen.append(type(data))
            return super().train_step(data)

    model = _functional(Recording)
    model.compile(optimizer="adam", loss="mse")
    loader = DataLoader(TensorDataset(deepcore.tensor(X), deepcore.tensor(Y)), batch_size=32, shuffle=True)
    hist = model.fit(loader, epochs=2, verbose=0)
    assert len(hist.history["loss"]) == 2 and seen == [tuple] * 6  # a DataLoader's [x, y] arrives as (x, y)
    with pytest.raises(ValueError, match="do not pass y"):
        model.fit(loader, Y, verbose=0)
    clf = _functional(GuideStep, units=4)
    clf.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    clf.fit(X, LABELS, epochs=1, class_weight={0: 1.0, 1: 2.0, 2: 1.0, 3: 0.5}, verbose=0)
    with pytest.raises(ValueError, match="no weight for the class"):
        clf.fit(X, LABELS, epochs=1, class_weight={0: 1.0}, verbose=0)


def test_steps_refuse_an_uncompiled_model_and_bad_returns():
    model = _functional(GuideStep)
    with pytest.raises(RuntimeError, match="compile"):
        model.fit(X, Y, verbose=0)

    class ReturnsList(keras.Model):
        def train_step(self, data):
            return [1.0]

    bad = _functional(ReturnsList)
    bad.compile(optimizer="sgd", loss="mse")
    with pytest.raises(TypeError, match="must return a dict"):
        bad.fit(X, Y, verbose=0)


def test_optimizer_apply_and_apply_gradients():
    v = deepcore.nn.Parameter(deepcore.tensor([1.0, 2.0]))
    w = deepcore.nn.Parameter(deepcore.tensor([3.0]))
    opt = keras.optimizers.SGD(learning_rate=0.5)
    opt.apply([deepcore.tensor([2.0, -2.0]), None], [v, w])
    np.testing.assert_allclose(v.detach().numpy(), [0.0, 3.0])
    np.testing.assert_allclose(w.detach().numpy(), [3.0])  # a None gradient leaves its variable alone
    opt.apply_gradients([(deepcore.tensor([1.0]), w)])
    np.testing.assert_allclose(w.detach().numpy(), [2.5])
    assert v.value is v
    with pytest.raises(ValueError, match="2 gradients for 1 variables"):
        opt.apply([deepcore.tensor([1.0]), deepcore.tensor([1.0])], [w])
    with pytest.raises(ValueError, match="shape"):
        opt.apply([deepcore.tensor([1.0, 2.0])], [w])
    with pytest.raises(ValueError, match="trainable_variables"):
        keras.optimizers.Adam().apply([deepcore.tensor([1.0])])


def test_keras_random_seeds():
    a, b = keras.random.SeedGenerator(1337), keras.random.SeedGenerator(1337)
    first = keras.random.normal((3, 4), seed=a)
    assert first.dtype == deepcore.float32 and tuple(first.shape) == (3, 4)
    np.testing.assert_array_equal(first.numpy(), keras.random.normal((3, 4), seed=b).numpy())
    assert not np.array_equal(first.numpy(), keras.random.normal((3, 4), seed=a).numpy())  # the stream moves on
    np.testing.assert_array_equal(keras.random.uniform((5,), seed=7).numpy(), keras.random.uniform((5,), seed=7).numpy())
    u = keras.random.uniform((2000,), minval=-2.0, maxval=3.0, seed=0).numpy()
    assert u.min() >= -2.0 and u.max() < 3.0 and abs(u.mean() - 0.5) < 0.1
    n = keras.random.normal((4000,), mean=5.0, stddev=2.0, seed=1).numpy()
    assert abs(n.mean() - 5.0) < 0.15 and abs(n.std() - 2.0) < 0.15
    t = keras.random.truncated_normal((4000,), stddev=1.0, seed=2).numpy()
    assert np.abs(t).max() <= 2.0 and 0.8 < t.std() < 0.9  # a normal cut at 2 sigma has std 0.880
    r = keras.random.randint((1000,), 3, 7, seed=3).numpy()
    assert set(np.unique(r)) == {3, 4, 5, 6}
    ones = deepcore.ones(4000)
    kept = keras.random.dropout(ones, 0.25, seed=4).numpy()
    assert set(np.unique(kept)) <= {0.0, np.float32(1 / 0.75)} and abs((kept == 0).mean() - 0.25) < 0.03
    perm = keras.random.shuffle(deepcore.arange(50), seed=5).numpy()
    assert sorted(perm.tolist()) == list(range(50)) and perm.tolist() != list(range(50))
    assert tuple(keras.random.categorical(deepcore.zeros(2, 3), 5, seed=6).shape) == (2, 5)
    with pytest.raises(TypeError, match="seed"):
        keras.random.normal((2,), seed="x")
    with pytest.raises(ValueError, match="maxval"):
        keras.random.uniform((2,), minval=1.0, maxval=1.0)
    with pytest.raises(ValueError, match="dtype"):
        keras.random.normal((2,), dtype="int32")


def test_leaky_relu_negative_slope_and_concat_axis():
    x = deepcore.tensor([[-1.0, 2.0]])
    np.testing.assert_allclose(layers.LeakyReLU(negative_slope=0.2)(x).numpy(), [[-0.2, 2.0]])
    np.testing.assert_allclose(layers.LeakyReLU(alpha=0.1)(x).numpy(), [[-0.1, 2.0]])
    np.testing.assert_allclose(layers.LeakyReLU()(x).numpy(), [[-0.3, 2.0]])
    with pytest.raises(ValueError, match="not both"):
        layers.LeakyReLU(alpha=0.1, negative_slope=0.2)
    a = deepcore.ones(2, 3)
    assert tuple(deepcore.concat([a, a], axis=0).shape) == (4, 3)
    assert tuple(deepcore.concatenate((a, a), 1).shape) == (2, 6)
    with pytest.raises(TypeError, match="both dim"):
        deepcore.cat([a, a], dim=1, axis=0)
    with pytest.raises(NotImplementedError, match="out="):
        deepcore.cat([a, a], out=a)
    with pytest.raises(TypeError, match="tuple or list"):
        deepcore.cat(a)


def test_pack_and_unpack_x_y_sample_weight():
    u, p = keras.utils.unpack_x_y_sample_weight, keras.utils.pack_x_y_sample_weight
    assert u(1) == (1, None, None) and u((1,)) == (1, None, None)
    assert u([1, 2]) == (1, 2, None) and u((1, 2, 3)) == (1, 2, 3)
    with pytest.raises(ValueError, match="4 elements"):
        u((1, 2, 3, 4))
    assert p(1) == 1 and p((1, 2)) == ((1, 2),) and p(1, 2) == (1, 2) and p(1, 2, 3) == (1, 2, 3)
