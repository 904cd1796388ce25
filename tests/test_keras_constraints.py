"""keras.constraints: the projections against float64 NumPy, their (de)serialization, and that training
applies them to the weights after every optimizer update (in Keras' layout), as Keras does."""
import numpy as np
import pytest

import deepcore
import deepcore.keras as keras
from deepcore.keras import constraints, layers
from deepcore.keras.models import Model, Sequential, load_model

RNG = np.random.default_rng(3)
EPS = 1e-7


def np_norms(w, axis):
    return np.sqrt((w * w).sum(axis=tuple(axis) if isinstance(axis, list) else axis, keepdims=True))


def np_max_norm(w, max_value=2.0, axis=0):
    n = np_norms(w, axis)
    return w * (np.clip(n, 0, max_value) / (EPS + n))


def np_unit_norm(w, axis=0):
    return w / (EPS + np_norms(w, axis))


def np_min_max_norm(w, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
    n = np_norms(w, axis)
    desired = rate * np.clip(n, min_value, max_value) + (1 - rate) * n
    return w * (desired / (EPS + n))


CASES = [
    (constraints.MaxNorm(), lambda w: np_max_norm(w)),
    (constraints.max_norm(0.7, axis=1), lambda w: np_max_norm(w, 0.7, 1)),
    (constraints.MaxNorm(1.5, axis=[0, 1, 2]), lambda w: np_max_norm(w, 1.5, [0, 1, 2])),
    (constraints.NonNeg(), lambda w: np.maximum(w, 0)),
    (constraints.non_neg(), lambda w: np.maximum(w, 0)),
    (constraints.UnitNorm(), lambda w: np_unit_norm(w)),
    (constraints.unit_norm(axis=-1), lambda w: np_unit_norm(w, -1)),
    (constraints.MinMaxNorm(), lambda w: np_min_max_norm(w)),
    (constraints.min_max_norm(0.5, 2.0, rate=0.3, axis=[0, 1]), lambda w: np_min_max_norm(w, 0.5, 2.0, 0.3, [0, 1])),
]


@pytest.mark.parametrize("constraint,reference,shape", [
    (c, ref, shape) for c, ref in CASES for shape in [(5, 4), (3, 3, 2, 4)]
    if max(getattr(c, "axis", 0) if isinstance(getattr(c, "axis", 0), list) else [0]) < len(shape)])
def test_constraints_match_numpy(constraint, reference, shape):
    w = RNG.standard_normal(shape) * 3
    out = constraint(deepcore.tensor(w.astype(np.float32))).numpy()
    np.testing.assert_allclose(out, reference(w), rtol=1e-5, atol=1e-6)
    # float64 in, float64 out (the formulas are dtype-agnostic)
    np.testing.assert_allclose(constraint(deepcore.tensor(w)).numpy(), reference(w), rtol=1e-12, atol=1e-12)


def test_constraint_defaults_and_configs_are_keras():
    assert constraints.MaxNorm().get_config() == {"max_value": 2, "axis": 0}
    assert constraints.UnitNorm().get_config() == {"axis": 0}
    assert constraints.MinMaxNorm().get_config() == {"min_value": 0.0, "max_value": 1.0, "rate": 1.0, "axis": 0}
    assert constraints.NonNeg().get_config() == {}
    w = deepcore.tensor(np.array([[1.0, -2.0]], np.float32))
    np.testing.assert_array_equal(constraints.Constraint()(w).numpy(), w.numpy())  # the base is the identity


def test_get_serialize_deserialize():
    assert constraints.get(None) is None
    assert isinstance(constraints.get("max_norm"), constraints.MaxNorm)
    assert isinstance(constraints.get("NonNeg"), constraints.NonNeg)
    assert isinstance(constraints.get("unit_norm"), constraints.UnitNorm)
    assert isinstance(constraints.get(constraints.MinMaxNorm), constraints.MinMaxNorm)  # a class is instantiated
    c = constraints.MaxNorm(3, axis=[0, 1])
    assert constraints.get(c) is c
    spec = constraints.serialize(c)
    assert spec == {"class_name": "MaxNorm", "config": {"max_value": 3, "axis": [0, 1]}}
    back = constraints.deserialize(spec)
    assert isinstance(back, constraints.MaxNorm) and back.max_value == 3 and back.axis == [0, 1]
    fn = lambda w: w  # noqa: E731  (any callable is a constraint)
    assert constraints.get(fn) is fn
    with pytest.raises(ValueError, match="Unknown constraint"):
        constraints.get("no_such_constraint")
    with pytest.raises(ValueError, match="Could not interpret constraint identifier"):
        constraints.get(3)


# ---- applied by training ---------------------------------------------------------------------------

def regression(n, d_in, d_out, scale=10.0):
    x = RNG.standard_normal((n, d_in)).astype(np.float32)
    return x, (RNG.standard_normal((n, d_out)) * scale).astype(np.float32)


def test_dense_kernel_and_bias_constraints_hold_after_fit():
    x, y = regression(64, 6, 5)
    model = Sequential([layers.Dense(5, input_shape=(6,), kernel_constraint=constraints.MaxNorm(0.5),
                                     bias_constraint="non_neg")])
    model.compile(keras.optimizers.SGD(lr=0.5), "mse")
    free = Sequential([layers.Dense(5, input_shape=(6,))])
    free.compile(keras.optimizers.SGD(lr=0.5), "mse")
    free.set_weights(model.get_weights())
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    free.fit(x, y, epochs=2, batch_size=16, verbose=0, shuffle=False)
    kernel, bias = model.get_weights()
    norms = np.linalg.norm(kernel, axis=0)  # Keras' axis 0 of (in, out): the weights into each unit
    assert norms.max() <= 0.5 + 1e-5, norms
    assert bias.min() >= 0.0, bias
    assert np.linalg.norm(free.get_weights()[0], axis=0).max() > 1.0  # the same training unconstrained


def test_the_constraint_applies_to_the_updated_value_each_step():
    """One SGD step by hand, then the projection: exactly what train_on_batch leaves."""
    x, y = regression(8, 3, 2)
    c = constraints.UnitNorm(axis=0)
    model = Sequential([layers.Dense(2, input_shape=(3,), use_bias=False, kernel_constraint=c)])
    model.compile(keras.optimizers.SGD(lr=0.1), "mse")
    k0 = model.get_weights()[0].astype(np.float64)
    grad = 2.0 / y.size * x.T.astype(np.float64) @ (x @ k0 - y)
    expected = np_unit_norm(k0 - 0.1 * grad, axis=0)
    model.train_on_batch(x, y)
    np.testing.assert_allclose(model.get_weights()[0], expected, rtol=1e-5, atol=1e-6)
    model.train_on_batch(x, y)
    np.testing.assert_allclose(np.linalg.norm(model.get_weights()[0], axis=0), 1.0, rtol=1e-5)


def test_conv2d_constraint_sees_keras_layout():
    """MaxNorm(axis=[0, 1, 2]) bounds each filter of a (rows, cols, in, out) kernel, as in Keras
    (deepcore keeps the kernel (out, in, rows, cols) inside)."""
    x = RNG.standard_normal((16, 6, 6, 3)).astype(np.float32)
    y = (RNG.standard_normal((16, 4, 4, 4)) * 10).astype(np.float32)
    conv = layers.Conv2D(4, 3, input_shape=(6, 6, 3), kernel_constraint=constraints.MaxNorm(0.3, axis=[0, 1, 2]))
    model = Sequential([conv])
    model.compile(keras.optimizers.SGD(lr=0.5), "mse")
    model.fit(x, y, epochs=2, batch_size=4, verbose=0)
    kernel = model.get_weights()[0]
    assert kernel.shape == (3, 3, 3, 4)
    per_filter = np.sqrt((kernel ** 2).sum(axis=(0, 1, 2)))
    assert per_filter.max() <= 0.3 + 1e-5, per_filter
    assert np.sqrt((kernel ** 2).sum(axis=(1, 2, 3))).max() > 0.3 + 1e-3  # another axis is not the one bounded


@pytest.mark.parametrize("make,name", [
    (lambda c: layers.Embedding(10, 4, embeddings_constraint=c), "embeddings"),
    (lambda c: layers.LSTM(3, recurrent_constraint=c), "recurrent_kernel"),
    (lambda c: layers.GRU(3, kernel_constraint=c), "kernel"),
    (lambda c: layers.SimpleRNN(3, bias_constraint=c), "bias"),
    (lambda c: layers.Conv1D(3, 2, kernel_constraint=c), "kernel"),
    (lambda c: layers.BatchNormalization(gamma_constraint=c), "gamma"),
    (lambda c: layers.BatchNormalization(beta_constraint=c), "beta"),
    (lambda c: layers.LayerNormalization(gamma_constraint=c), "gamma"),
    (lambda c: layers.PReLU(alpha_constraint=c), "alpha"),
])
def test_every_layer_applies_its_constraints(make, name):
    calls = []

    def clamp(w):  # a plain function as a constraint, as Keras allows
        calls.append(tuple(w.shape))
        return w.clamp(-0.01, 0.01)
    layer = make(clamp)
    if isinstance(layer, layers.Embedding):
        x = RNG.integers(0, 10, (32, 5)).astype(np.float32)
        inputs = layers.Input((5,))
    elif isinstance(layer, layers.BatchNormalization):
        x = RNG.standard_normal((32, 4)).astype(np.float32)
        inputs = layers.Input((4,))
    else:
        x = RNG.standard_normal((32, 5, 4)).astype(np.float32)
        inputs = layers.Input((5, 4))
    out = layer(inputs)
    model = Model(inputs, out)
    y = (RNG.standard_normal((32,) + tuple(model.output_shape[1:])) * 5).astype(np.float32)
    model.compile(keras.optimizers.SGD(lr=1.0), "mse")
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert len(calls) == 4  # once per update
    spec = next(s for s in layer._weight_specs if s.name == name)
    w = dict(zip([s.name for _, s in layer._weight_entries("all")], layer.get_weights()))[name]
    assert np.abs(w).max() <= 0.01 + 1e-7, (name, np.abs(w).max())
    assert spec.constraint is clamp


def test_frozen_weights_are_not_projected():
    x, y = regression(16, 3, 2)
    dense = layers.Dense(2, input_shape=(3,), kernel_constraint=constraints.MaxNorm(1e-3))
    model = Sequential([dense, layers.Dense(2)])
    model.build((None, 3))
    before = dense.get_weights()[0]
    dense.trainable = False
    model.compile(keras.optimizers.SGD(lr=0.1), "mse")
    model.fit(x, y, epochs=1, verbose=0)
    np.testing.assert_array_equal(dense.get_weights()[0], before)


def test_constraints_are_in_the_config_and_survive_save_and_load(tmp_path):
    x, y = regression(32, 4, 3)
    model = Sequential([layers.Dense(6, input_shape=(4,), kernel_constraint=constraints.MaxNorm(0.4),
                                     bias_constraint=constraints.NonNeg()),
                        layers.Dense(3, kernel_constraint=constraints.MinMaxNorm(0.1, 0.2, rate=0.5))])
    config = model.layers[0].get_config()
    assert config["kernel_constraint"] == {"class_name": "MaxNorm", "config": {"max_value": 0.4, "axis": 0}}
    assert config["bias_constraint"] == {"class_name": "NonNeg", "config": {}}
    assert layers.Dense.from_config(config).kernel_constraint.max_value == 0.4
    model.compile(keras.optimizers.SGD(lr=0.5), "mse")
    path = str(tmp_path / "m.safetensors")
    model.save(path)
    loaded = load_model(path)
    first = loaded.layers[0]
    assert isinstance(first.kernel_constraint, constraints.MaxNorm) and first.kernel_constraint.max_value == 0.4
    assert isinstance(first.bias_constraint, constraints.NonNeg)
    loaded.fit(x, y * 10, epochs=2, verbose=0)  # and the loaded model applies them
    assert np.linalg.norm(loaded.get_weights()[0], axis=0).max() <= 0.4 + 1e-5


def test_a_constraint_that_changes_the_shape_is_an_error():
    x, y = regression(8, 3, 2)
    model = Sequential([layers.Dense(2, input_shape=(3,), kernel_constraint=lambda w: w.sum(0))])
    model.compile(keras.optimizers.SGD(lr=0.1), "mse")
    with pytest.raises(ValueError, match="constraint .* returned shape"):
        model.train_on_batch(x, y)


def test_backend_variable_refuses_a_constraint():
    with pytest.raises(NotImplementedError, match="backend.variable: constraint"):
        keras.backend.variable(np.ones(3), constraint=constraints.NonNeg())
