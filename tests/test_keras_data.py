"""Fit's data paths in Keras' own terms: sample_weight and class_weight (Keras 2's weighted mean),
validation weights, generators and keras.utils.Sequence, each training exactly like the equivalent arrays."""
import numpy as np
import pytest

import deepcore
import deepcore.keras as keras
from deepcore.keras import backend as K
from deepcore.keras.layers import Dense

RNG = np.random.default_rng(7)


# ---- sample_weight and class_weight --------------------------------------------------------------

def small_classifier(seed=11):
    deepcore.manual_seed(seed)
    model = keras.Sequential([Dense(8, activation="relu", input_shape=(4,)), Dense(3, activation="softmax")])
    model.compile("sgd", "categorical_crossentropy", metrics=["accuracy"])
    return model


CX = RNG.standard_normal((30, 4)).astype(np.float32)
CLASSES = RNG.integers(0, 3, 30)
CY = np.eye(3, dtype=np.float32)[CLASSES]


def test_weighted_loss_is_keras_2s_mean_over_nonzero_weights():
    model = small_classifier()
    w = RNG.random(30).astype(np.float32)
    w[::4] = 0.0
    p = np.clip(model.predict(CX).astype(np.float64), 1e-7, 1 - 1e-7)
    per_sample = -(CY * np.log(p)).sum(-1)
    expected = (per_sample * w).mean() / (w != 0).mean()
    loss, _ = model.evaluate(CX, CY, sample_weight=w, batch_size=30, verbose=0)
    assert loss == pytest.approx(expected, rel=1e-5)
    assert model.test_on_batch(CX, CY, sample_weight=w)[0] == pytest.approx(expected, rel=1e-5)
    unweighted, _ = model.evaluate(CX, CY, verbose=0)
    assert model.evaluate(CX, CY, sample_weight=np.ones(30), verbose=0)[0] == pytest.approx(unweighted, rel=1e-6)


def test_zero_weights_remove_samples_from_training():
    keep = np.arange(30) % 2 == 0
    noisy = CY.copy()
    noisy[~keep] = np.eye(3, dtype=np.float32)[(CLASSES[~keep] + 1) % 3]  # wrong labels, weight 0
    a = small_classifier()
    a.fit(CX, noisy, sample_weight=keep.astype(np.float32), batch_size=30, epochs=4, shuffle=False, verbose=0)
    b = small_classifier()
    b.fit(CX[keep], CY[keep], batch_size=15, epochs=4, shuffle=False, verbose=0)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-5, atol=1e-6)


def test_class_weight_equals_the_matching_sample_weight():
    class_weight = {0: 1.0, 1: 3.0, 2: 0.5}
    histories = []
    for kwargs in (dict(class_weight=class_weight), dict(sample_weight=np.array([class_weight[c] for c in CLASSES]))):
        model = small_classifier()
        histories.append(model.fit(CX, CY, batch_size=10, epochs=3, verbose=0, validation_split=0.2, shuffle=False,
                                   **kwargs).history)
    for key in ("loss", "val_loss", "accuracy"):
        np.testing.assert_allclose(histories[0][key], histories[1][key], rtol=1e-6)
    sparse = keras.Sequential([Dense(3, activation="softmax", input_shape=(4,))])
    sparse.compile("sgd", "sparse_categorical_crossentropy")
    sparse.fit(CX, CLASSES, class_weight=class_weight, epochs=1, verbose=0)  # integer labels weigh by value


def test_a_custom_accuracy_metric_written_with_K_equals_the_builtin():
    def my_accuracy(y_true, y_pred):
        return K.mean(K.cast(K.equal(K.argmax(y_true, axis=-1), K.argmax(y_pred, axis=-1)), K.floatx()))

    model = small_classifier()
    model.compile("sgd", "categorical_crossentropy", metrics=["accuracy", my_accuracy])
    hist = model.fit(CX, CY, epochs=2, batch_size=10, verbose=0).history
    np.testing.assert_allclose(hist["my_accuracy"], hist["accuracy"], rtol=1e-6)


def test_validation_sample_weights_are_used():
    model = small_classifier()
    w = RNG.random(30).astype(np.float32)
    hist = model.fit(CX, CY, epochs=1, verbose=0, validation_data=(CX, CY, w), batch_size=30).history
    assert hist["val_loss"][0] == pytest.approx(model.evaluate(CX, CY, sample_weight=w, verbose=0)[0], rel=1e-5)


def test_bad_weights_are_refused_with_clear_errors():
    model = small_classifier()
    with pytest.raises(ValueError, match=r"expected shape \(30,\)"):
        model.fit(CX, CY, sample_weight=np.ones(29), verbose=0)
    with pytest.raises(ValueError, match=r"no weight for the class\(es\) \[2\]"):
        model.fit(CX, CY, class_weight={0: 1.0, 1: 1.0}, verbose=0)
    with pytest.raises(ValueError, match="finite and non-negative"):
        model.fit(CX, CY, sample_weight=-np.ones(30), verbose=0)


# ---- generators and keras.utils.Sequence ---------------------------------------------------------

class ArraySequence(keras.utils.Sequence):
    def __init__(self, x, y, batch_size, with_targets=True):
        self.x, self.y, self.batch_size, self.with_targets = x, y, batch_size, with_targets
        self.epochs_ended = 0

    def __len__(self):
        return -(-len(self.x) // self.batch_size)

    def __getitem__(self, i):
        sl = slice(i * self.batch_size, (i + 1) * self.batch_size)
        return (self.x[sl], self.y[sl]) if self.with_targets else self.x[sl]

    def on_epoch_end(self):
        self.epochs_ended += 1


def looping(x, y, batch_size):
    while True:
        for i in range(0, len(x), batch_size):
            yield x[i:i + batch_size], y[i:i + batch_size]


def test_a_sequence_in_order_trains_exactly_like_the_arrays():
    results = []
    for source in ("arrays", "sequence", "generator"):
        model = small_classifier()
        if source == "arrays":
            hist = model.fit(CX, CY, batch_size=8, epochs=3, shuffle=False, verbose=0, validation_data=(CX, CY))
        elif source == "sequence":
            seq = ArraySequence(CX, CY, 8)
            hist = model.fit(seq, epochs=3, shuffle=False, verbose=0, validation_data=ArraySequence(CX, CY, 8))
            assert seq.epochs_ended == 3
        else:
            hist = model.fit_generator(looping(CX, CY, 8), steps_per_epoch=4, epochs=3, verbose=0,
                                       validation_data=looping(CX, CY, 8), validation_steps=4)
        results.append((hist.history, model.get_weights()))
    (h0, w0) = results[0]
    for h, w in results[1:]:
        for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
            np.testing.assert_allclose(h[key], h0[key], rtol=1e-6)
        for a, b in zip(w, w0):
            np.testing.assert_array_equal(a, b)


def test_evaluate_and_predict_take_sequences_and_generators():
    model = small_classifier()
    want_eval = model.evaluate(CX, CY, batch_size=8, verbose=0)
    np.testing.assert_allclose(model.evaluate(ArraySequence(CX, CY, 8), verbose=0), want_eval, rtol=1e-6)
    np.testing.assert_allclose(model.evaluate_generator(looping(CX, CY, 8), steps=4), want_eval, rtol=1e-6)
    want = model.predict(CX)
    np.testing.assert_array_equal(model.predict(ArraySequence(CX, CY, 8, with_targets=False)), want)
    np.testing.assert_array_equal(model.predict_generator(looping(CX, CY, 8), steps=4), want)


def test_an_unbuilt_sequential_builds_from_the_first_batch_of_a_generator():
    deepcore.manual_seed(1)
    model = keras.Sequential([Dense(5, activation="relu"), Dense(3, activation="softmax")])
    model.compile("sgd", "categorical_crossentropy")
    model.fit(looping(CX, CY, 10), steps_per_epoch=3, epochs=2, verbose=0)
    assert model.count_params() == 4 * 5 + 5 + 5 * 3 + 3


def test_generator_misuse_is_refused_with_clear_errors():
    model = small_classifier()
    with pytest.raises(ValueError, match="steps_per_epoch is required"):
        model.fit(looping(CX, CY, 8), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="do not pass y"):
        model.fit(ArraySequence(CX, CY, 8), CY, verbose=0)
    with pytest.raises(ValueError, match="stopped after 1 batch"):
        model.fit(iter([(CX, CY)]), steps_per_epoch=2, verbose=0)
    with pytest.raises(ValueError, match="must yield tuples"):
        model.fit(iter([CX, CX]), steps_per_epoch=1, verbose=0)
    with pytest.raises(ValueError, match="steps_per_epoch is for generators"):
        model.fit(CX, CY, steps_per_epoch=3, verbose=0)
    with pytest.raises(TypeError, match="for arrays use fit"):
        model.fit_generator(CX)
