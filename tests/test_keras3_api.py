"""Keras 3 names keras-io's examples use: keras.ops, the loss classes (keras.losses.SparseCategoricalCrossentropy
...), the metric objects (keras.metrics.SparseCategoricalAccuracy ...): values against float64 NumPy,
gradients through ops, Keras 3's defaults and reductions, and training with them in compile."""
import numpy as np
import pytest

import deepcore
import deepcore.keras as keras
from deepcore.keras import layers, losses, metrics, ops
from deepcore.keras.models import Sequential, load_model

RNG = np.random.default_rng(5)


def arr(*shape):
    return RNG.standard_normal(shape)


def npv(t):
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


# ---- keras.ops -----------------------------------------------------------------------------------------

UNARY = [
    (ops.relu, lambda x: np.maximum(x, 0)), (ops.abs, np.abs), (ops.exp, np.exp), (ops.square, np.square),
    (ops.negative, np.negative), (ops.sigmoid, lambda x: 1 / (1 + np.exp(-x))), (ops.tanh, np.tanh),
    (lambda x: ops.sqrt(ops.abs(x)), lambda x: np.sqrt(np.abs(x))),
    (lambda x: ops.mean(x, axis=-1, keepdims=True), lambda x: x.mean(-1, keepdims=True)),
    (lambda x: ops.sum(x, axis=0), lambda x: x.sum(0)), (ops.mean, np.mean),
    (lambda x: ops.max(x, axis=1), lambda x: x.max(1)),
    (lambda x: ops.softmax(x), lambda x: np.exp(x) / np.exp(x).sum(-1, keepdims=True)),
    (lambda x: ops.log_softmax(x), lambda x: x - np.log(np.exp(x).sum(-1, keepdims=True))),
    (lambda x: ops.clip(x, -0.5, 0.5), lambda x: np.clip(x, -0.5, 0.5)),
    (ops.transpose, np.transpose), (lambda x: ops.transpose(x, (1, 0, 2)), lambda x: x.transpose(1, 0, 2)),
    (lambda x: ops.concatenate([x, x * 2]), lambda x: np.concatenate([x, x * 2])),
    (lambda x: ops.concatenate([x, -x], axis=-1), lambda x: np.concatenate([x, -x], -1)),
    (lambda x: ops.stack([x, x]), lambda x: np.stack([x, x])),
    (lambda x: ops.expand_dims(x, 1), lambda x: np.expand_dims(x, 1)),
    (lambda x: ops.reshape(x, (-1, 4)), lambda x: x.reshape(-1, 4)),
    (lambda x: ops.where(x > 0, x, x * 0.1), lambda x: np.where(x > 0, x, x * 0.1)),
    (lambda x: ops.power(x, 2), lambda x: x ** 2),
    (lambda x: ops.add(ops.multiply(x, 3.0), ops.divide(x, 2.0)), lambda x: x * 3 + x / 2),
    (lambda x: ops.subtract(x, 1.0), lambda x: x - 1),
]


@pytest.mark.parametrize("op,reference", UNARY)
def test_ops_match_numpy_and_pass_gradients(op, reference):
    x = arr(3, 2, 4)
    np.testing.assert_allclose(npv(op(deepcore.tensor(x))), reference(x), rtol=1e-10, atol=1e-12)
    t = deepcore.tensor(x.astype(np.float32), requires_grad=True)
    out = op(t)
    out.sum().backward()
    assert t.grad is not None and t.grad.shape == t.shape
    # arrays are accepted too (as float32 tensors)
    np.testing.assert_allclose(npv(op(x.astype(np.float32))), reference(x), rtol=2e-5, atol=1e-5)


def test_matmul_gradient_matches_numpy():
    a, b = arr(4, 3), arr(3, 5)
    ta, tb = deepcore.tensor(a, requires_grad=True), deepcore.tensor(b, requires_grad=True)
    out = ops.matmul(ta, tb)
    np.testing.assert_allclose(npv(out), a @ b, rtol=1e-12)
    out.sum().backward()
    np.testing.assert_allclose(ta.grad.numpy(), np.ones((4, 5)) @ b.T, rtol=1e-12)
    np.testing.assert_allclose(tb.grad.numpy(), a.T @ np.ones((4, 5)), rtol=1e-12)


def test_ops_keras3_defaults():
    x = np.array([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    assert int(npv(ops.argmax(x))) == 3  # axis=None: the flattened index
    np.testing.assert_array_equal(npv(ops.argmax(x, axis=-1)), [1, 0])
    np.testing.assert_array_equal(npv(ops.argmin(x, axis=0)), [0, 1, 0])
    assert ops.squeeze(np.ones((1, 3, 1))).shape == (3,)
    assert ops.squeeze(np.ones((1, 3, 1)), axis=0).shape == (3, 1)
    assert ops.shape(np.ones((2, 3))) == (2, 3) and ops.ndim(np.ones((2, 3))) == 2
    np.testing.assert_array_equal(npv(ops.one_hot(np.array([0, 2]), 3)), np.eye(3)[[0, 2]])
    assert ops.zeros((2, 3)).shape == (2, 3) and float(ops.ones((2,)).sum().item()) == 2.0
    assert isinstance(ops.convert_to_numpy(ops.convert_to_tensor([1.0, 2.0])), np.ndarray)
    assert ops.stop_gradient(deepcore.tensor([1.0], requires_grad=True)).requires_grad is False
    with pytest.raises(NotImplementedError, match="ops.where"):
        ops.where(x > 1)


def test_a_keras3_custom_layer_written_with_ops_trains():
    class Antirectifier(layers.Layer):
        def build(self, input_shape):
            self.kernel = self.add_weight(shape=(input_shape[-1] * 2, input_shape[-1]), initializer="he_normal",
                                          name="kernel", trainable=True)

        def call(self, inputs):
            inputs -= ops.mean(inputs, axis=-1, keepdims=True)
            return ops.matmul(ops.concatenate([ops.relu(inputs), ops.relu(-inputs)], axis=-1), self.kernel)
    deepcore.manual_seed(0)
    x = RNG.standard_normal((64, 6)).astype(np.float32)
    y = (x[:, 0] > x[:, 1]).astype(np.int64)
    model = Sequential([keras.Input(shape=(6,)), layers.Dense(8), Antirectifier(), layers.Dense(2)])
    model.compile(loss=losses.SparseCategoricalCrossentropy(from_logits=True), optimizer=keras.optimizers.Adam(0.01),
                  metrics=[metrics.SparseCategoricalAccuracy()])
    history = model.fit(x, y, epochs=30, batch_size=16, verbose=0)
    assert model.metrics_names == ["loss", "sparse_categorical_accuracy"]
    assert history.history["loss"][-1] < history.history["loss"][0] * 0.7
    assert history.history["sparse_categorical_accuracy"][-1] > 0.85


# ---- loss classes --------------------------------------------------------------------------------------

def np_log_softmax(z):
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def test_crossentropy_classes_match_numpy():
    logits = arr(6, 4)
    labels = RNG.integers(0, 4, 6)
    onehot = np.eye(4)[labels]
    per = -np_log_softmax(logits)[np.arange(6), labels]
    assert float(losses.SparseCategoricalCrossentropy(from_logits=True)(labels, logits)) == pytest.approx(per.mean())
    assert float(losses.CategoricalCrossentropy(from_logits=True)(onehot, logits)) == pytest.approx(per.mean())
    probs = np.exp(np_log_softmax(logits))
    assert float(losses.SparseCategoricalCrossentropy()(labels, probs)) == pytest.approx(per.mean(), rel=1e-6)
    smooth = onehot * 0.8 + 0.2 / 4
    expected = -(smooth * np_log_softmax(logits)).sum(-1).mean()
    assert float(losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.2)(onehot, logits)) == \
        pytest.approx(expected)
    z, t = arr(5, 3), RNG.integers(0, 2, (5, 3)).astype(np.float64)
    bce = np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z)))
    assert float(losses.BinaryCrossentropy(from_logits=True)(t, z)) == pytest.approx(bce.mean())
    ts = t * 0.9 + 0.05
    bce_s = np.maximum(z, 0) - z * ts + np.log1p(np.exp(-np.abs(z)))
    assert float(losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1)(t, z)) == pytest.approx(bce_s.mean())


def test_loss_reductions_and_sample_weights_are_keras3():
    y, p = arr(4, 3), arr(4, 3)
    per = ((y - p) ** 2).mean(-1)
    w = np.array([1.0, 0.0, 2.0, 0.5])
    mse = losses.MeanSquaredError
    assert float(mse()(y, p)) == pytest.approx(per.mean())
    assert float(mse()(y, p, sample_weight=w)) == pytest.approx((per * w).sum() / 4)  # sum over batch size
    assert float(mse(reduction="sum")(y, p, sample_weight=w)) == pytest.approx((per * w).sum())
    assert float(mse(reduction="mean_with_sample_weight")(y, p, sample_weight=w)) == \
        pytest.approx((per * w).sum() / w.sum())
    np.testing.assert_allclose(npv(mse(reduction=None)(y, p, sample_weight=w[:, None])), per * w, rtol=1e-6)
    assert float(losses.MeanAbsoluteError()(y, p)) == pytest.approx(np.abs(y - p).mean())
    assert float(losses.Hinge()(np.sign(y), p)) == pytest.approx(np.maximum(1 - np.sign(y) * p, 0).mean())
    with pytest.raises(ValueError, match="invalid reduction"):
        mse(reduction="average")
    with pytest.raises(NotImplementedError, match="ignore_class"):
        losses.SparseCategoricalCrossentropy(ignore_class=0)


def test_loss_objects_names_configs_and_get():
    sce = losses.SparseCategoricalCrossentropy(from_logits=True)
    assert sce.name == "sparse_categorical_crossentropy" and sce.reduction == "sum_over_batch_size"
    assert sce.get_config() == {"name": "sparse_categorical_crossentropy", "reduction": "sum_over_batch_size",
                                "from_logits": True}
    assert losses.MeanSquaredError().name == "mean_squared_error"
    assert isinstance(losses.get("BinaryCrossentropy"), losses.BinaryCrossentropy)
    back = losses.get(losses.serialize(sce))
    assert isinstance(back, losses.SparseCategoricalCrossentropy) and back.get_config() == sce.get_config()


@pytest.mark.parametrize("weighted", [False, True])
def test_a_loss_object_trains_as_its_function(weighted):
    """SparseCategoricalCrossentropy(from_logits=True) on a linear layer == the string loss on softmax outputs;
    the plain object == the string (same fused kernel), sample weights included."""
    x = RNG.standard_normal((32, 5)).astype(np.float32)
    y = RNG.integers(0, 3, 32)
    w = RNG.random(32).astype(np.float32) if weighted else None

    def trained(activation, loss):
        deepcore.manual_seed(1)
        model = Sequential([layers.Dense(3, activation=activation, input_shape=(5,))])
        model.compile(keras.optimizers.SGD(lr=0.5), loss)
        model.fit(x, y, epochs=3, batch_size=8, verbose=0, shuffle=False, sample_weight=w)
        return model.get_weights()[0]
    string = trained("softmax", "sparse_categorical_crossentropy")
    np.testing.assert_allclose(trained("softmax", losses.SparseCategoricalCrossentropy()), string, rtol=1e-6,
                               atol=1e-7)
    np.testing.assert_allclose(trained(None, losses.SparseCategoricalCrossentropy(from_logits=True)), string,
                               rtol=1e-4, atol=1e-5)
    assert np.abs(string - trained(None, losses.SparseCategoricalCrossentropy(from_logits=False,
                                                                               reduction="sum"))).max() > 1e-3


def test_a_model_compiled_with_objects_saves_and_loads_them(tmp_path):
    model = Sequential([layers.Dense(3, input_shape=(4,))])
    model.compile(loss=losses.SparseCategoricalCrossentropy(from_logits=True), optimizer="rmsprop",
                  metrics=[metrics.SparseCategoricalAccuracy(name="acc")])
    path = str(tmp_path / "m.safetensors")
    model.save(path)
    loaded = load_model(path)
    assert isinstance(loaded.loss, losses.SparseCategoricalCrossentropy) and loaded.loss._fn_kwargs["from_logits"]
    assert loaded.metrics_names == ["loss", "acc"]
    x, y = RNG.standard_normal((8, 4)).astype(np.float32), RNG.integers(0, 3, 8)
    assert loaded.evaluate(x, y, verbose=0) == pytest.approx(model.evaluate(x, y, verbose=0), rel=1e-6)


# ---- metric objects ------------------------------------------------------------------------------------

def test_metric_objects_are_stateful_weighted_means():
    m = metrics.SparseCategoricalAccuracy()
    assert m.name == "sparse_categorical_accuracy"
    assert float(m([[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]])) == pytest.approx(0.5)
    m.reset_state()
    m.update_state([[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]], sample_weight=[0.7, 0.3])
    assert float(m.result()) == pytest.approx(0.3)
    m.update_state([1], [[0.0, 1.0, 0.0]])  # running: (0.3 + 1) / (1 + 1)
    assert float(m.result()) == pytest.approx(0.65)
    assert m.result().shape == ()
    b = metrics.BinaryAccuracy(threshold=0.7)
    assert float(b([[1], [1], [0], [0]], [[0.98], [0.6], [0], [0.6]])) == pytest.approx(0.75)
    assert b.get_config() == {"name": "binary_accuracy", "dtype": None, "threshold": 0.7}
    t = metrics.TopKCategoricalAccuracy(k=1)
    assert float(t([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])) == pytest.approx(0.5)
    s = metrics.SparseTopKCategoricalAccuracy(k=1)
    assert float(s([2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])) == pytest.approx(0.5)
    mean = metrics.Mean()
    mean.update_state([1.0, 2.0, 3.0])
    mean.update_state([10.0], sample_weight=[2.0])
    assert float(mean.result()) == pytest.approx((6 + 20) / 5)
    assert float(metrics.Accuracy()([[1], [2], [3], [4]], [[0], [2], [3], [4]])) == pytest.approx(0.75)
    mse = metrics.MeanSquaredError()
    y, p = arr(5, 2), arr(5, 2)
    assert float(mse(y, p)) == pytest.approx(((y - p) ** 2).mean(), rel=1e-6)
    assert isinstance(metrics.get("CategoricalAccuracy"), metrics.CategoricalAccuracy)


def test_metric_objects_in_compile_report_what_the_object_would():
    deepcore.manual_seed(0)
    x = RNG.standard_normal((20, 4)).astype(np.float32)
    y = RNG.integers(0, 3, 20)
    model = Sequential([layers.Dense(3, activation="softmax", input_shape=(4,))])
    model.compile("sgd", "sparse_categorical_crossentropy",
                  metrics=[metrics.SparseCategoricalAccuracy(), metrics.SparseTopKCategoricalAccuracy(k=2, name="top2")])
    assert model.metrics_names == ["loss", "sparse_categorical_accuracy", "top2"]
    _, acc, top2 = model.evaluate(x, y, batch_size=6, verbose=0)
    p = model.predict(x)
    standalone = metrics.SparseCategoricalAccuracy()
    standalone.update_state(y, p)
    assert acc == pytest.approx(float(standalone.result()), abs=1e-6)
    assert top2 == pytest.approx(float(metrics.SparseTopKCategoricalAccuracy(k=2)(y, p)), abs=1e-6)
    with pytest.raises(TypeError, match="not a function of"):
        model.compile("sgd", "mse", metrics=[metrics.Mean()])
        model._compile_outputs()
