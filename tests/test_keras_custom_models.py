"""What custom Keras models are written with: merge layers (Add ... Concatenate), activation layers
with parameters (LeakyReLU ...), padding/cropping, the backend tensor functions (K.mean ...),
Layer.add_loss / compile(loss=None) and the GAN freezing rule (weights and generators: test_keras_data.py). Values against NumPy in Keras'
layout, gradients, shape errors, save/load, and custom losses, metrics and added losses training
exactly like the built-in equivalents."""
import numpy as np
import pytest

import deepcore
import deepcore.keras as keras
from deepcore.keras import backend as K
from deepcore.keras.layers import (ELU, PReLU, ReLU, Add, Average, Concatenate, Conv2D, Conv2DTranspose, Cropping2D,
                                   Dense, Flatten,
                                   Input, Layer, LeakyReLU, Maximum, Minimum, Multiply, Softmax, Subtract,
                                   ThresholdedReLU, ZeroPadding2D, add, concatenate)
from deepcore.keras.models import Model, load_model

RNG = np.random.default_rng(7)
NUMPY_MERGE = {Add: lambda xs: sum(xs), Subtract: lambda xs: xs[0] - xs[1], Multiply: lambda xs: np.prod(xs, 0),
               Average: lambda xs: np.mean(xs, 0), Maximum: lambda xs: np.max(xs, 0),
               Minimum: lambda xs: np.min(xs, 0)}


def arrays(shape, n):
    return [RNG.standard_normal(shape).astype(np.float32) for _ in range(n)]


# ---- merge layers --------------------------------------------------------------------------------

@pytest.mark.parametrize("cls", list(NUMPY_MERGE))
@pytest.mark.parametrize("shape", [(4, 5), (3, 6, 5, 2)])
def test_elementwise_merge_matches_numpy_eager_and_in_a_model(cls, shape):
    n = 2 if cls is Subtract else 3
    xs = arrays(shape, n)
    expected = NUMPY_MERGE[cls](np.stack(xs)) if cls is not Add else xs[0] + xs[1] + xs[2]
    eager = cls()([deepcore.tensor(x) for x in xs]).numpy()
    np.testing.assert_allclose(eager, expected, rtol=1e-6, atol=1e-6)
    inputs = [Input(shape[1:]) for _ in range(n)]
    model = Model(inputs, cls()(inputs))
    assert model.output_shape == (None,) + shape[1:]
    np.testing.assert_allclose(model.predict(xs), expected, rtol=1e-6, atol=1e-6)


def test_merge_broadcasts_a_size_one_axis_as_keras():
    a, b = Input((1,)), Input((5,))
    model = Model([a, b], Multiply()([a, b]))
    assert model.output_shape == (None, 5)
    xa, xb = arrays((3, 1), 1)[0], arrays((3, 5), 1)[0]
    np.testing.assert_allclose(model.predict([xa, xb]), xa * xb, rtol=1e-6)


@pytest.mark.parametrize("axis", [-1, 1, 2, 3])
def test_concatenate_of_feature_maps_joins_keras_axes(axis):
    shapes = [(2, 4, 5, 3), (2, 4, 5, 3)]
    grow = axis % 4
    shapes[1] = tuple(s + 2 if d == grow else s for d, s in enumerate(shapes[1]))
    xs = [RNG.standard_normal(s).astype(np.float32) for s in shapes]
    inputs = [Input(s[1:]) for s in shapes]
    model = Model(inputs, Concatenate(axis=axis)(inputs))
    expected = np.concatenate(xs, axis=axis)
    assert model.output_shape == (None,) + expected.shape[1:]
    np.testing.assert_array_equal(model.predict(xs), expected)
    np.testing.assert_array_equal(concatenate([deepcore.tensor(x) for x in xs], axis=axis).numpy(), expected)


def test_concatenate_gradient_splits_back_to_its_inputs():
    # Keras layout in, rank 4: the internal channel-axis concatenation must route each slice back.
    xs = [deepcore.tensor(x, requires_grad=True) for x in arrays((2, 3, 3, 2), 1) + arrays((2, 3, 3, 4), 1)]
    weight = RNG.standard_normal((2, 3, 3, 6)).astype(np.float32)
    (Concatenate()(xs) * deepcore.tensor(weight)).sum().backward()
    np.testing.assert_array_equal(xs[0].grad.numpy(), weight[..., :2])
    np.testing.assert_array_equal(xs[1].grad.numpy(), weight[..., 2:])


def test_merge_layers_refuse_wrong_inputs_with_clear_errors():
    a, b, c = Input((4,)), Input((5,)), Input((4,))
    with pytest.raises(ValueError, match="at least 2"):
        Add()(a)
    with pytest.raises(ValueError, match="exactly 2"):
        Subtract()([a, c, c])
    with pytest.raises(ValueError, match="could not be broadcast"):
        Add()([a, b])
    with pytest.raises(ValueError, match="matching shapes except"):
        Concatenate(axis=-1)([Input((2, 3)), Input((4, 3))])
    with pytest.raises(ValueError, match="batch axis"):
        Concatenate(axis=0)([a, c])


def test_a_residual_model_with_merges_trains_saves_and_loads(tmp_path):
    inp = Input((6, 6, 2))
    h = Conv2D(4, (3, 3), padding="same", activation="relu")(inp)
    h = concatenate([inp, h])
    g = Conv2D(6, (1, 1))(h)
    out = Dense(1)(keras.layers.Flatten()(add([h, g])))
    model = Model(inp, out)
    model.compile("adam", "mse")
    x = RNG.standard_normal((32, 6, 6, 2)).astype(np.float32)
    y = x.sum(axis=(1, 2, 3))[:, None] * 0.1
    history = model.fit(x, y, epochs=30, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    path = str(tmp_path / "residual.safetensors")
    model.save(path)
    loaded = load_model(path)
    assert [type(l).__name__ for l in loaded.layers] == [type(l).__name__ for l in model.layers]
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


# ---- backend tensor functions --------------------------------------------------------------------

X = RNG.standard_normal((3, 4, 5)).astype(np.float32)


@pytest.mark.parametrize("name, reference", [
    ("sum", np.sum), ("mean", np.mean), ("max", np.max), ("min", np.min), ("var", np.var), ("std", np.std)])
@pytest.mark.parametrize("axis", [None, -1, 1, [0, 2]])
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions_match_numpy(name, reference, axis, keepdims):
    got = getattr(K, name)(deepcore.tensor(X), axis=axis, keepdims=keepdims)
    want = reference(X.astype(np.float64), axis=tuple(axis) if isinstance(axis, list) else axis, keepdims=keepdims)
    np.testing.assert_allclose(K.eval(got), want, rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("name, reference", [
    ("square", np.square), ("abs", np.abs), ("exp", np.exp), ("sign", np.sign), ("sigmoid", lambda v: 1 / (1 + np.exp(-v))),
    ("tanh", np.tanh), ("softplus", lambda v: np.logaddexp(0, v)), ("relu", lambda v: np.maximum(v, 0)),
    ("sqrt", lambda v: np.sqrt(np.maximum(v, 0))), ("log", lambda v: np.log(np.abs(v) + 1))])
def test_elementwise_functions_match_numpy(name, reference):
    v = np.abs(X) + 1 if name == "log" else X
    np.testing.assert_allclose(K.eval(getattr(K, name)(deepcore.tensor(v))), reference(v.astype(np.float64)) if
                               name != "log" else np.log(v), rtol=3e-6, atol=1e-6)


def test_shape_and_combination_functions_match_numpy():
    t = deepcore.tensor(X)
    assert K.int_shape(t) == (3, 4, 5) and K.ndim(t) == 3 and K.shape(t) == (3, 4, 5)
    assert K.int_shape(Input((7,))) == (None, 7)
    np.testing.assert_array_equal(K.eval(K.batch_flatten(t)), X.reshape(3, 20))
    np.testing.assert_array_equal(K.eval(K.expand_dims(t, -1)), X[..., None])
    np.testing.assert_array_equal(K.eval(K.transpose(t)), X.T)
    np.testing.assert_array_equal(K.eval(K.permute_dimensions(t, (1, 0, 2))), X.transpose(1, 0, 2))
    np.testing.assert_array_equal(K.eval(K.concatenate([t, t], axis=1)), np.concatenate([X, X], 1))
    np.testing.assert_array_equal(K.eval(K.stack([t, t], axis=1)), np.stack([X, X], 1))
    np.testing.assert_array_equal(K.eval(K.clip(t, -0.5, 0.5)), np.clip(X, -0.5, 0.5))
    np.testing.assert_array_equal(K.eval(K.maximum(t, 0.25)), np.maximum(X, 0.25))
    np.testing.assert_array_equal(K.eval(K.argmax(t)), X.argmax(-1))
    w = RNG.standard_normal((2, 5, 6)).astype(np.float32)
    np.testing.assert_allclose(K.eval(K.dot(t, deepcore.tensor(w))), np.tensordot(X, w, axes=([2], [1])),
                               rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(K.eval(K.softmax(t)), np.exp(X) / np.exp(X).sum(-1, keepdims=True), rtol=1e-5)
    assert K.eval(K.random_normal((2000,), mean=3.0, stddev=0.5)).std() == pytest.approx(0.5, rel=0.1)
    u = K.eval(K.random_uniform((2000,), -2.0, -1.0))
    assert u.min() >= -2.0 and u.max() <= -1.0


def test_variables_hold_values_and_take_gradients():
    v = K.variable(np.ones((2, 2)))
    K.sum(K.square(v)).backward()
    np.testing.assert_array_equal(v.grad.numpy(), 2 * np.ones((2, 2)))
    K.set_value(v, [[1, 2], [3, 4]])
    np.testing.assert_array_equal(K.get_value(v), [[1, 2], [3, 4]])
    assert v.requires_grad


def test_backend_crossentropies_equal_the_loss_functions():
    p = RNG.random((4, 6)).astype(np.float32)
    y = np.eye(6, dtype=np.float32)[[0, 3, 5, 1]]
    np.testing.assert_allclose(K.eval(K.mean(K.binary_crossentropy(deepcore.tensor(y), deepcore.tensor(p)), -1)),
                               K.eval(keras.losses.binary_crossentropy(y, p)), rtol=1e-6)
    np.testing.assert_allclose(K.eval(K.categorical_crossentropy(deepcore.tensor(y), deepcore.tensor(p))),
                               K.eval(keras.losses.categorical_crossentropy(y, p)), rtol=1e-6)


def test_a_custom_loss_and_metric_written_with_K_train_like_the_builtins():
    def my_mse(y_true, y_pred):
        return K.mean(K.square(y_pred - y_true), axis=-1)

    def mean_abs_error(y_true, y_pred):
        return K.mean(K.abs(y_pred - y_true), axis=-1)

    x = RNG.standard_normal((64, 5)).astype(np.float32)
    y = (x @ RNG.standard_normal((5, 2))).astype(np.float32)
    histories, weights = [], []
    for loss, metric in ((my_mse, mean_abs_error), ("mse", "mae")):
        deepcore.manual_seed(3)
        model = keras.Sequential([Dense(8, activation="relu", input_shape=(5,)), Dense(2)])
        model.compile("sgd", loss=loss, metrics=[metric])
        histories.append(model.fit(x, y, epochs=3, batch_size=16, shuffle=False, verbose=0).history)
        weights.append(model.get_weights())
    ours, builtin = histories
    np.testing.assert_allclose(ours["loss"], builtin["loss"], rtol=1e-5)
    np.testing.assert_allclose(ours["mean_abs_error"], builtin["mae"], rtol=1e-5)
    for a, b in zip(*weights):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


# ---- add_loss and compile(loss=None) -------------------------------------------------------------

class ActivityL2(Layer):
    """Identity that adds rate * mean(x^2) with add_loss (what activity_regularizer='l2' does, per sample)."""

    def __init__(self, rate=0.1, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate

    def call(self, inputs):
        self.add_loss(self.rate * K.mean(K.sum(K.square(inputs), axis=-1)))
        return inputs

    def get_config(self):
        return dict(super().get_config(), rate=self.rate)


def test_add_loss_trains_exactly_like_the_same_term_in_the_loss():
    x = RNG.standard_normal((48, 4)).astype(np.float32)
    y = RNG.standard_normal((48, 3)).astype(np.float32)

    def mse_plus_penalty_on_output(y_true, y_pred):
        return K.mean(K.square(y_pred - y_true), axis=-1) + 0.1 * K.sum(K.square(y_pred), axis=-1)

    results = []
    for added in (True, False):
        deepcore.manual_seed(5)
        inp = Input((4,))
        out = Dense(3)(Dense(6, activation="tanh")(inp))
        model = Model(inp, ActivityL2(0.1)(out) if added else out)
        model.compile("sgd", loss="mse" if added else mse_plus_penalty_on_output)
        hist = model.fit(x, y, epochs=3, batch_size=12, shuffle=False, verbose=0).history
        results.append((hist["loss"], model.get_weights(), model.evaluate(x, y, verbose=0)))
    (loss_a, w_a, ev_a), (loss_b, w_b, ev_b) = results
    np.testing.assert_allclose(loss_a, loss_b, rtol=1e-5)
    assert ev_a == pytest.approx(ev_b, rel=1e-5)
    for a, b in zip(w_a, w_b):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_a_model_trained_only_on_added_losses_takes_no_targets(tmp_path):
    inp = Input((3,))
    out = ActivityL2(1.0)(Dense(3)(inp))
    model = Model(inp, out)
    model.compile("sgd", loss=None)
    x = RNG.standard_normal((20, 3)).astype(np.float32)
    first = model.evaluate(x, verbose=0)
    history = model.fit(x, epochs=5, batch_size=5, verbose=0, validation_data=(x, None))
    assert history.history["loss"][-1] < first and model.evaluate(x, verbose=0) < first  # shrinks the output
    assert set(history.history) == {"loss", "val_loss"}
    assert model.train_on_batch(x) > 0 and len(model.layers[-1].losses) == 1
    assert len(model.losses) == 1 and model.losses[0] is model.layers[-1].losses[0]
    with pytest.raises(ValueError, match="no output with a loss"):
        model.fit(x, x, epochs=1, verbose=0)
    path = str(tmp_path / "added.safetensors")
    model.save(path)
    loaded = load_model(path, custom_objects={"ActivityL2": ActivityL2})
    assert loaded.evaluate(x, verbose=0) == pytest.approx(model.evaluate(x, verbose=0), rel=1e-6)


def test_nothing_to_minimize_and_metrics_without_a_loss_are_refused():
    inp = Input((3,))
    model = Model(inp, Dense(2)(inp))
    model.compile("sgd", loss=None)
    with pytest.raises(ValueError, match="nothing to minimize"):
        model.fit(np.ones((4, 3), np.float32), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="no loss"):
        model.compile("sgd", loss=None, metrics=["accuracy"])
        model.fit(np.ones((4, 3), np.float32), epochs=1, verbose=0)


def test_an_output_without_a_loss_takes_no_target():
    inp = Input((3,))
    hidden = Dense(4, name="hidden")(inp)
    model = Model(inp, [hidden, Dense(2, name="head")(hidden)])
    model.compile("sgd", loss=[None, "mse"])
    x = RNG.standard_normal((10, 3)).astype(np.float32)
    y = RNG.standard_normal((10, 2)).astype(np.float32)
    assert model.metrics_names == ["loss", "head_loss"]
    loss, head_loss = model.evaluate(x, y, verbose=0)
    assert loss == pytest.approx(head_loss)
    model.fit(x, {"head": y}, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="no data for the output"):
        model.fit(x, {"hidden": y}, epochs=1, verbose=0)


# ---- graph-style losses on a model's symbolic tensors --------------------------------------------

def tiny_vae(style):
    """A 2-D-latent VAE on 12-pixel inputs, its loss written three ways (Keras 2 idioms)."""
    deepcore.manual_seed(21)
    original_dim, latent_dim = 12, 2
    x = Input(shape=(original_dim,))
    h = Dense(8, activation="relu")(x)
    z_mean, z_log_var = Dense(latent_dim)(h), Dense(latent_dim)(h)

    class KL(Layer):
        def call(self, inputs):
            m, lv = inputs
            self.add_loss(K.mean(-0.5 * K.sum(1 + lv - K.square(m) - K.exp(lv), axis=-1)))
            return [m, lv]

    if style == "layer":
        z_mean, z_log_var = KL()([z_mean, z_log_var])

    def sampling(args):
        m, lv = args
        return m + K.exp(lv / 2) * K.random_normal(shape=(K.shape(m)[0], latent_dim))

    z = keras.layers.Lambda(sampling, output_shape=(latent_dim,))([z_mean, z_log_var])
    x_decoded = Dense(original_dim, activation="sigmoid")(Dense(8, activation="relu")(z))
    vae = Model(x, x_decoded)
    xent = original_dim * keras.metrics.binary_crossentropy(x, x_decoded) if style == "add_loss" else None

    def kl_of(m, lv):
        return -0.5 * K.sum(1 + lv - K.square(m) - K.exp(lv), axis=-1)

    if style == "add_loss":  # Keras 2's example: the whole loss from symbolic tensors, built once
        vae.add_loss(K.mean(xent + kl_of(z_mean, z_log_var)))
        vae.compile(optimizer="rmsprop")
    elif style == "closure":  # the Keras blog's: a loss function reading z_mean/z_log_var
        vae.compile(optimizer="rmsprop", loss=lambda y_true, y_pred: original_dim * keras.losses.binary_crossentropy(
            y_true, y_pred) + kl_of(z_mean, z_log_var))
    else:
        vae.compile(optimizer="rmsprop", loss=lambda y_true, y_pred: original_dim *
                    keras.losses.binary_crossentropy(y_true, y_pred))
    return vae


def test_symbolic_losses_train_exactly_like_a_layer_adding_the_same_loss():
    data = RNG.random((40, 12)).astype(np.float32)
    results = {}
    for style in ("add_loss", "closure", "layer"):
        vae = tiny_vae(style)
        deepcore.manual_seed(99)  # the same sampling noise for each
        y = None if style == "add_loss" else data
        hist = vae.fit(data, y, batch_size=10, epochs=3, shuffle=False, verbose=0)
        results[style] = (hist.history["loss"], vae.get_weights())
    base_loss, base_weights = results["layer"]
    assert base_loss[-1] < base_loss[0]
    for style in ("add_loss", "closure"):
        np.testing.assert_allclose(results[style][0], base_loss, rtol=1e-5)
        for a, b in zip(results[style][1], base_weights):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_symbolic_values_are_deferred_and_misuse_is_refused():
    x = Input((3,))
    h = Dense(2)(x)
    expr = K.mean(K.square(h)) * 2 + 1
    assert type(expr).__name__ == "SymbolicValue"
    with pytest.raises(ValueError, match="is symbolic"):
        K.eval(h)
    with pytest.raises(ValueError, match="has a value only while"):
        expr.evaluate()
    with pytest.raises(TypeError, match="no elements to iterate"):
        list(h)
    other = Dense(2)(Input((3,)))  # a tensor of another graph
    model = Model(x, h)
    model.add_loss(K.mean(other))
    model.compile("sgd")
    with pytest.raises(ValueError, match="not computed by the model"):
        model.fit(np.ones((4, 3), np.float32), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="add it to the model"):
        model.layers[1].add_loss(K.mean(h))


# ---- activation layers with parameters, padding and cropping -------------------------------------

def softmax_np(v, axis):
    e = np.exp(v - v.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


@pytest.mark.parametrize("layer, reference", [
    (lambda: LeakyReLU(0.2), lambda v: np.where(v > 0, v, 0.2 * v)),
    (lambda: LeakyReLU(), lambda v: np.where(v > 0, v, 0.3 * v)),  # Keras' default alpha
    (lambda: ELU(0.5), lambda v: np.where(v > 0, v, 0.5 * np.expm1(v))),
    (lambda: ThresholdedReLU(0.4), lambda v: np.where(v > 0.4, v, 0.0)),
    (lambda: ReLU(max_value=0.5, negative_slope=0.1), lambda v: np.where(v > 0, np.minimum(v, 0.5), 0.1 * v)),
    (lambda: Softmax(), lambda v: softmax_np(v, -1)),
    (lambda: Softmax(axis=1), lambda v: softmax_np(v, 1)),
    (lambda: ZeroPadding2D(((1, 2), (0, 3))), lambda v: np.pad(v, ((0, 0), (1, 2), (0, 3), (0, 0)))),
    (lambda: ZeroPadding2D(1), lambda v: np.pad(v, ((0, 0), (1, 1), (1, 1), (0, 0)))),
    (lambda: Cropping2D(((1, 2), (0, 3))), lambda v: v[:, 1:-2, 0:-3, :]),
])
def test_parameter_free_layers_match_numpy_on_images(layer, reference):
    v = RNG.standard_normal((2, 6, 7, 3)).astype(np.float32)
    inp = Input((6, 7, 3))
    model = Model(inp, layer()(inp))
    want = reference(v.astype(np.float64))
    assert model.output_shape == (None,) + want.shape[1:]
    np.testing.assert_allclose(model.predict(v), want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer()(deepcore.tensor(v)).numpy(), want, rtol=1e-5, atol=1e-6)


def test_prelu_learns_its_slope_per_channel():
    v = RNG.standard_normal((256, 4, 4, 2)).astype(np.float32)
    target = np.where(v > 0, v, v * np.array([0.25, -0.5], np.float32))
    deepcore.manual_seed(0)
    inp = Input((4, 4, 2))
    prelu = PReLU(shared_axes=[1, 2])
    model = Model(inp, prelu(inp))
    assert model.count_params() == 2
    model.compile(keras.optimizers.SGD(lr=0.5), "mse")
    model.fit(v, target, epochs=30, batch_size=64, verbose=0)
    np.testing.assert_allclose(prelu.get_weights()[0].reshape(-1), [0.25, -0.5], atol=1e-3)


def test_padding_and_activation_layers_save_and_load(tmp_path):
    inp = Input((8, 8, 1))
    h = ZeroPadding2D(((1, 0), (2, 1)))(inp)
    h = Conv2D(3, (3, 3))(h)
    h = LeakyReLU(0.1)(h)
    h = PReLU(shared_axes=[1, 2])(Cropping2D(1)(h))
    out = Softmax()(Dense(4)(Flatten()(ELU()(h))))
    model = Model(inp, out)
    x = RNG.standard_normal((3, 8, 8, 1)).astype(np.float32)
    path = str(tmp_path / "act.safetensors")
    model.save(path)
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert [l.get_config().get("alpha") for l in loaded.layers if isinstance(l, LeakyReLU)] == [0.1]


def test_padding_and_cropping_refuse_bad_sizes():
    with pytest.raises(ValueError, match="non-negative"):
        ZeroPadding2D(-1)
    with pytest.raises(ValueError, match="leaves nothing of the height"):
        Cropping2D(((2, 2), (0, 0)))(Input((4, 5, 1)))


# ---- the GAN rule: `trainable` is read when a model is compiled ----------------------------------

def test_a_frozen_discriminator_trains_alone_but_not_inside_the_combined_model():
    deepcore.manual_seed(4)
    d_in = Input((3,))
    discriminator = Model(d_in, Dense(1, activation="sigmoid")(LeakyReLU(0.2)(Dense(4)(d_in))))
    discriminator.compile("adam", "binary_crossentropy")
    discriminator.trainable = False  # Keras' GAN recipe: freeze, then build and compile the combined model
    z = Input((2,))
    generator = Model(z, Dense(3)(z))
    combined = Model(z, discriminator(generator(z)))
    combined.compile("adam", "binary_crossentropy")
    real, noise = RNG.standard_normal((8, 3)).astype(np.float32), RNG.standard_normal((8, 2)).astype(np.float32)
    d_before, g_before = discriminator.get_weights(), generator.get_weights()

    combined.train_on_batch(noise, np.ones((8, 1), np.float32))
    for a, b in zip(discriminator.get_weights(), d_before):
        np.testing.assert_array_equal(a, b)  # frozen inside the combined model
    assert any(not np.array_equal(a, b) for a, b in zip(generator.get_weights(), g_before))

    discriminator.train_on_batch(real, np.ones((8, 1), np.float32))  # compiled while trainable
    assert any(not np.array_equal(a, b) for a, b in zip(discriminator.get_weights(), d_before))
    assert not discriminator.layers[1].kernel.requires_grad  # `trainable` still says frozen

    discriminator.compile("adam", "binary_crossentropy")  # compiling again applies the freeze
    with pytest.raises(ValueError, match="no trainable weights"):
        discriminator.train_on_batch(real, np.ones((8, 1), np.float32))


def test_one_optimizer_shared_by_two_models_keeps_each_ones_state():
    x = RNG.standard_normal((16, 3)).astype(np.float32)
    y = RNG.standard_normal((16, 1)).astype(np.float32)

    def pair(shared):
        deepcore.manual_seed(8)
        a = keras.Sequential([Dense(4, activation="tanh", input_shape=(3,)), Dense(1)])
        b = keras.Sequential([Dense(2, input_shape=(3,)), Dense(1)])
        opt = keras.optimizers.Adam(0.01, 0.5)
        a.compile(opt if shared else keras.optimizers.Adam(0.01, 0.5), "mse")
        b.compile(opt if shared else keras.optimizers.Adam(0.01, 0.5), "mse")
        for _ in range(5):  # alternate, as a GAN's discriminator and combined model do
            a.train_on_batch(x, y)
            b.train_on_batch(x, y)
        return a.get_weights() + b.get_weights(), opt.iterations

    shared, steps = pair(True)
    separate, _ = pair(False)
    assert steps == 10  # Keras' counter counts every model's steps
    for s_, p_ in zip(shared, separate):
        np.testing.assert_allclose(s_, p_, rtol=1e-6, atol=1e-7)


# ---- Conv2DTranspose ----------------------------------------------------------------------------

def deconv_keras_ref(x, kernel, bias, stride, padding, output_padding=None):
    """Keras layout, float64: every input pixel scatters kernel * value, then TensorFlow's crop."""
    n, h, w, _ = x.shape
    kh, kw, f, _ = kernel.shape
    full = np.zeros((n, (h - 1) * stride + kh, (w - 1) * stride + kw, f))
    for i in range(h):
        for j in range(w):
            full[:, i * stride:i * stride + kh, j * stride:j * stride + kw, :] += \
                np.einsum("nc,abfc->nabf", x[:, i, j, :], kernel)
    out = []
    for size, k, length in ((h, kh, full.shape[1]), (w, kw, full.shape[2])):
        op = output_padding
        want = (size * stride + max(k - stride, 0) if padding == "valid" else size * stride) if op is None else \
            (size - 1) * stride + k + op - (0 if padding == "valid" else 2 * (k // 2))
        total = max((size - 1) * stride + k - want, 0) if padding == "same" else 0
        out.append((total // 2, want))
    (top, hh), (left, ww) = out
    padded = np.zeros((n, max(full.shape[1], top + hh), max(full.shape[2], left + ww), f))
    padded[:, :full.shape[1], :full.shape[2]] = full
    return padded[:, top:top + hh, left:left + ww, :] + bias


@pytest.mark.parametrize("k, stride, padding, output_padding", [
    (3, 2, "same", None), (3, 2, "valid", None), (2, 2, "same", None), (3, 1, "same", None), (4, 2, "same", None),
    (3, 2, "same", 1), (3, 2, "valid", 1), (5, 3, "same", None), (2, 3, "valid", None)])
def test_conv2d_transpose_matches_a_scatter_reference(k, stride, padding, output_padding):
    x = RNG.standard_normal((2, 4, 3, 3)).astype(np.float32)
    inp = Input((4, 3, 3))
    layer = Conv2DTranspose(2, k, strides=stride, padding=padding, output_padding=output_padding)
    model = Model(inp, layer(inp))
    kernel, bias = layer.get_weights()
    assert kernel.shape == (k, k, 2, 3)
    bias = RNG.standard_normal(2).astype(np.float32)
    layer.set_weights([kernel, bias])
    want = deconv_keras_ref(x.astype(np.float64), kernel.astype(np.float64), bias, stride, padding, output_padding)
    assert model.output_shape == (None,) + want.shape[1:]
    np.testing.assert_allclose(model.predict(x), want, rtol=1e-5, atol=1e-5)


def test_a_conv_decoder_with_transposed_convolutions_trains_saves_and_loads(tmp_path):
    deepcore.manual_seed(2)
    inp = Input((7, 7, 4))
    h = Conv2DTranspose(8, 3, strides=2, padding="same", activation="relu")(inp)
    out = Conv2DTranspose(1, 3, strides=2, padding="same", activation="sigmoid")(h)
    model = Model(inp, out)
    assert model.output_shape == (None, 28, 28, 1)
    model.compile(keras.optimizers.Adam(0.01), "binary_crossentropy")
    x = RNG.standard_normal((16, 7, 7, 4)).astype(np.float32)
    y = (x[..., :1] > 0).repeat(4, axis=1).repeat(4, axis=2).astype(np.float32)  # channel 0's sign, 4x larger
    hist = model.fit(x, y, epochs=20, batch_size=8, verbose=0).history
    assert hist["loss"][-1] < 0.5 * hist["loss"][0]
    path = str(tmp_path / "decoder.safetensors")
    model.save(path)
    np.testing.assert_array_equal(load_model(path).predict(x), model.predict(x))
    with pytest.raises(ValueError, match="smaller than the strides"):
        Conv2DTranspose(2, 3, strides=2, output_padding=2)


# ---- Dot, LayerNormalization, 1-D padding, noise layers, LearningRateScheduler --------------------------

def _dot_reference(x, y, ax, ay, normalize):
    if normalize:
        x = x / np.sqrt((x * x).sum(ax, keepdims=True))
        y = y / np.sqrt((y * y).sum(ay, keepdims=True))
    out = np.stack([np.tensordot(x[i], y[i], axes=(ax - 1, ay - 1)) for i in range(len(x))])
    return out.reshape(len(x), -1) if out.ndim == 1 else out


@pytest.mark.parametrize("shapes,axes,normalize", [([(4,), (4,)], 1, False), ([(5, 4), (6, 4)], 2, False),
                                                   ([(5, 4), (5, 2)], 1, False), ([(5, 4), (6, 4)], 2, True),
                                                   ([(4,), (6, 4)], (1, 2), False)], ids=str)
def test_dot_is_keras_batch_dot(shapes, axes, normalize):
    rng = np.random.default_rng(len(str(shapes)))
    x, y = (rng.standard_normal((3,) + s).astype(np.float32) for s in shapes)
    layer = keras.layers.Dot(axes=axes, normalize=normalize)
    inputs = [keras.Input(shape=s) for s in shapes]
    model = Model(inputs, layer(inputs))
    ax, ay = (axes, axes) if isinstance(axes, int) else axes
    expected = _dot_reference(x.astype(np.float64), y.astype(np.float64), ax, ay, normalize)
    out = model.predict([x, y], verbose=0)
    np.testing.assert_allclose(out, expected.reshape(out.shape), rtol=1e-5, atol=1e-5)
    assert model.output_shape == (None,) + out.shape[1:]
    with pytest.raises(ValueError, match="incompatib"):
        keras.layers.Dot(axes=1)([keras.Input(shape=(3,)), keras.Input(shape=(4,))])


@pytest.mark.parametrize("shape,axis", [((5, 4), -1), ((5, 4), [1, 2]), ((4, 5, 3), -1)], ids=str)
def test_layer_normalization_matches_numpy_and_trains(shape, axis):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2,) + shape).astype(np.float32) * 3 + 1
    layer = keras.layers.LayerNormalization(axis=axis)
    out = layer(x)
    gamma, beta = rng.standard_normal(layer.gamma.shape), rng.standard_normal(layer.beta.shape)
    layer.set_weights([gamma, beta])
    out = layer(deepcore.tensor(x)).detach().numpy()
    axes = tuple(sorted({a % x.ndim for a in (axis if isinstance(axis, list) else [axis])}))
    xd = x.astype(np.float64)
    normed = (xd - xd.mean(axes, keepdims=True)) / np.sqrt(xd.var(axes, keepdims=True) + 1e-3)
    bshape = tuple(x.shape[a] if a in axes else 1 for a in range(1, x.ndim))
    np.testing.assert_allclose(out, normed * gamma.reshape(bshape) + beta.reshape(bshape), rtol=1e-4, atol=1e-5)
    xt = deepcore.tensor(x, requires_grad=True)
    layer(xt).sum().backward()  # gradient reaches the input and both weights
    assert xt.grad is not None and layer.gamma.grad is not None and layer.beta.grad is not None


def test_zero_padding_and_cropping_1d():
    x = np.arange(24, dtype=np.float32).reshape(2, 4, 3)
    np.testing.assert_array_equal(keras.layers.ZeroPadding1D((1, 2))(x).numpy(), np.pad(x, ((0, 0), (1, 2), (0, 0))))
    np.testing.assert_array_equal(keras.layers.Cropping1D((1, 2))(x).numpy(), x[:, 1:2])
    with pytest.raises(ValueError, match="leaves no steps"):
        keras.layers.Cropping1D((2, 2))(x)


def test_noise_layers_act_only_while_training():
    x = deepcore.ones(64, 32, 16)
    for layer in (keras.layers.GaussianDropout(0.3), keras.layers.SpatialDropout1D(0.5)):
        assert layer(x) is x
    noisy = keras.layers.GaussianDropout(0.2)(x, training=True).numpy()
    assert abs(noisy.mean() - 1) < 0.01 and abs(noisy.std() - 0.5) < 0.01  # sqrt(0.2 / 0.8)
    dropped = keras.layers.SpatialDropout1D(0.5)(x, training=True).numpy()
    assert set(np.unique(dropped)) == {0.0, 2.0}
    assert (dropped == dropped[:, :1, :]).all()  # whole channels of a sample go together
    images = keras.layers.SpatialDropout2D(0.5)(deepcore.ones(8, 6, 6, 4), training=True).numpy()
    assert (images == images[:, :1, :1, :]).all() and 0 < (images == 0).mean() < 1


def test_activity_regularization_adds_its_penalty_to_the_loss():
    model = keras.Sequential([keras.layers.Dense(3, use_bias=False, kernel_initializer="ones", input_shape=(2,)),
                              keras.layers.ActivityRegularization(l1=0.5)])
    model.compile("sgd", "mse")
    x, y = np.ones((4, 2), np.float32), np.full((4, 3), 2.0, np.float32)
    # outputs are all 2: mse 0; l1 penalty 0.5 * sum(|2|) over the batch's 12 outputs = 12, as Keras 2.0-2.3
    # (tf.keras 2 and Keras 3 divide activity penalties by the batch size: 3)
    assert model.evaluate(x, y, verbose=0) == pytest.approx(12.0, rel=1e-6)


def test_learning_rate_scheduler_sets_and_logs_the_rate():
    model = keras.Sequential([keras.layers.Dense(1, input_shape=(3,))])
    model.compile(keras.optimizers.SGD(lr=0.1), "mse")
    x, y = np.ones((8, 3), np.float32), np.ones((8, 1), np.float32)
    h = model.fit(x, y, epochs=3, verbose=0,
                  callbacks=[keras.callbacks.LearningRateScheduler(lambda epoch: 0.1 * 0.5 ** epoch)])
    assert h.history["lr"] == pytest.approx([0.1, 0.05, 0.025])
    h = model.fit(x, y, epochs=2, verbose=0, callbacks=[keras.callbacks.LearningRateScheduler(lambda e, lr: lr / 10)])
    assert h.history["lr"] == pytest.approx([0.0025, 0.00025])
    with pytest.raises(TypeError, match="callable"):
        keras.callbacks.LearningRateScheduler(0.1)


def test_backend_function_reads_intermediate_layers():
    """Keras 2's idiom: K.function([model.input, K.learning_phase()], [layer.output])([x, 0])[0]."""
    model = keras.Sequential([keras.layers.Dense(4, activation="relu", input_shape=(3,)), keras.layers.Dropout(0.5),
                              keras.layers.Dense(2)])
    x = np.random.default_rng(3).random((6, 3)).astype(np.float32)
    kernel, bias = model.layers[0].get_weights()
    first = K.function([model.input], [model.layers[0].output])([x])[0]
    np.testing.assert_allclose(first, np.maximum(x @ kernel + bias, 0), rtol=1e-6, atol=1e-6)
    f = K.function([model.input, K.learning_phase()], [model.layers[1].output, model.output])
    test_mode, final = f([x, 0])
    np.testing.assert_array_equal(test_mode, first)  # no dropout in test mode
    np.testing.assert_allclose(final, model.predict(x, verbose=0), rtol=1e-6)
    assert not np.array_equal(f([x, 1])[0], first)  # dropout in training mode
    with pytest.raises(ValueError, match="expected 2 input"):
        f([x])
