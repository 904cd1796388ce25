"""keras.metrics' functions (accuracy, binary/categorical/sparse/top-k accuracy) against NumPy with
Keras' semantics, and the test/predict callback hooks of evaluate, predict and fit's validation."""
import numpy as np
import pytest

import deepcore
from deepcore.keras import layers, metrics
from deepcore.keras.callbacks import Callback
from deepcore.keras.models import Sequential

RNG = np.random.default_rng(11)


def values(t):
    return t.numpy() if hasattr(t, "numpy") else np.asarray(t)


# ---- the functions -----------------------------------------------------------------------------------

def test_accuracy_is_a_function_of_exact_equality():
    assert callable(metrics.accuracy) and metrics.acc is metrics.accuracy
    y_true = np.array([[1], [2], [3], [4]], np.float32)
    y_pred = np.array([[0], [2], [3], [4]], np.float32)
    np.testing.assert_allclose(values(metrics.accuracy(y_true, y_pred)), [0, 1, 1, 1])
    # labels (N,) against outputs (N, 1): sample by sample, not an (N, N) broadcast
    np.testing.assert_allclose(values(metrics.accuracy(y_true[:, 0], y_pred)), [0, 1, 1, 1])
    rows = RNG.integers(0, 3, (5, 4)).astype(np.float32)
    other = RNG.integers(0, 3, (5, 4)).astype(np.float32)
    np.testing.assert_allclose(values(metrics.accuracy(rows, other)), (rows == other).mean(-1))


def test_binary_accuracy_matches_numpy_and_handles_a_label_vector():
    y_true = RNG.integers(0, 2, (7, 3)).astype(np.float32)
    y_pred = RNG.random((7, 3)).astype(np.float32)
    np.testing.assert_allclose(values(metrics.binary_accuracy(y_true, y_pred)),
                               ((y_pred > 0.5) == y_true).mean(-1), rtol=1e-6)
    np.testing.assert_allclose(values(metrics.binary_accuracy(y_true, y_pred, threshold=0.2)),
                               ((y_pred > 0.2) == y_true).mean(-1), rtol=1e-6)
    # Keras' docstring example: [[1], [1], [0], [0]] vs [[0.98], [1], [0], [0.6]] -> 0.75 on average
    got = values(metrics.binary_accuracy(np.array([1, 1, 0, 0]), np.array([[0.98], [1], [0], [0.6]])))
    assert got.shape == (4,) and got.mean() == pytest.approx(0.75)


def test_categorical_and_sparse_accuracy_match_numpy():
    logits = RNG.standard_normal((9, 5)).astype(np.float32)
    labels = RNG.integers(0, 5, 9)
    onehot = np.eye(5, dtype=np.float32)[labels]
    expected = (logits.argmax(-1) == labels).astype(np.float32)
    np.testing.assert_allclose(values(metrics.categorical_accuracy(onehot, logits)), expected)
    np.testing.assert_allclose(values(metrics.sparse_categorical_accuracy(labels, logits)), expected)
    np.testing.assert_allclose(values(metrics.sparse_categorical_accuracy(labels[:, None], logits)), expected)
    # Keras' docstring examples
    assert values(metrics.categorical_accuracy([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])).mean() \
        == pytest.approx(0.5)
    assert values(metrics.sparse_categorical_accuracy([[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]])).mean() \
        == pytest.approx(0.5)


@pytest.mark.parametrize("k", [1, 2, 5])
def test_top_k_accuracies_match_numpy(k):
    scores = RNG.standard_normal((12, 6)).astype(np.float32)
    labels = RNG.integers(0, 6, 12)
    rank = (scores > scores[np.arange(12), labels][:, None]).sum(-1)  # classes scoring strictly higher
    expected = (rank < k).astype(np.float32)
    np.testing.assert_allclose(values(metrics.sparse_top_k_categorical_accuracy(labels, scores, k=k)), expected)
    np.testing.assert_allclose(values(metrics.top_k_categorical_accuracy(np.eye(6)[labels], scores, k=k)), expected)


def test_the_functions_work_as_compile_metrics():
    x = RNG.standard_normal((40, 4)).astype(np.float32)
    labels = (x[:, 0] > 0).astype(np.float32)
    model = Sequential([layers.Dense(1, activation="sigmoid", input_shape=(4,))])
    model.compile("sgd", "binary_crossentropy", metrics=[metrics.binary_accuracy, metrics.accuracy])
    assert model.metrics_names == ["loss", "binary_accuracy", "accuracy"]
    loss, bin_acc, exact = model.evaluate(x, labels, verbose=0)
    p = model.predict(x)[:, 0]
    assert bin_acc == pytest.approx(((p > 0.5) == labels).mean(), abs=1e-6)
    assert exact == pytest.approx((p == labels).mean(), abs=1e-6)  # probabilities rarely equal a label


# ---- test and predict hooks ----------------------------------------------------------------------------

class Recorder(Callback):
    def __init__(self):
        super().__init__()
        self.calls = []

    def _record(name):
        def hook(self, *args):
            self.calls.append((name,) + tuple(a if not isinstance(a, dict) else dict(a) for a in args))
        return hook

    for _hook in ("on_test_begin", "on_test_end", "on_test_batch_begin", "on_test_batch_end", "on_predict_begin",
                  "on_predict_end", "on_predict_batch_begin", "on_predict_batch_end", "on_epoch_end"):
        locals()[_hook] = _record(_hook)

    def names(self):
        return [c[0] for c in self.calls]


def compiled_model():
    deepcore.manual_seed(0)
    model = Sequential([layers.Dense(3, activation="softmax", input_shape=(4,))])
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def data(n=10):
    return RNG.standard_normal((n, 4)).astype(np.float32), RNG.integers(0, 3, n).astype(np.float32)


def test_evaluate_calls_the_test_hooks_with_running_means():
    model, (x, y), rec = compiled_model(), data(10), Recorder()
    result = model.evaluate(x, y, batch_size=4, verbose=0, callbacks=[rec])
    assert rec.names() == ["on_test_begin"] + ["on_test_batch_begin", "on_test_batch_end"] * 3 + ["on_test_end"]
    assert [c[1] for c in rec.calls if c[0] == "on_test_batch_end"] == [0, 1, 2]
    end_logs = rec.calls[-1][1]
    assert end_logs == pytest.approx({"loss": result[0], "accuracy": result[1]})
    assert rec.calls[-2][2] == pytest.approx(end_logs)  # the last batch's running means are the result
    first = model.evaluate(x[:4], y[:4], verbose=0)
    assert rec.calls[2][2] == pytest.approx({"loss": first[0], "accuracy": first[1]})  # after batch 0: its means
    assert rec.model is model and rec.params["steps"] == 3
    assert model.evaluate(x, y, batch_size=4, verbose=0, return_dict=True) == pytest.approx(end_logs)


def test_predict_calls_the_predict_hooks_with_the_outputs():
    model, (x, _), rec = compiled_model(), data(10), Recorder()
    out = model.predict(x, batch_size=4, callbacks=[rec])
    assert rec.names() == ["on_predict_begin"] + ["on_predict_batch_begin", "on_predict_batch_end"] * 3 + \
        ["on_predict_end"]
    batches = [values(c[2]["outputs"]) for c in rec.calls if c[0] == "on_predict_batch_end"]
    assert [b.shape for b in batches] == [(4, 3), (4, 3), (2, 3)]
    np.testing.assert_allclose(np.concatenate(batches), out, rtol=1e-6)


def test_a_callback_may_stop_evaluate_and_predict_early():
    class StopAfterFirst(Callback):
        def on_test_batch_end(self, batch, logs=None):
            self.model.stop_evaluating = True

        def on_predict_batch_end(self, batch, logs=None):
            self.model.stop_predicting = True
    model, (x, y) = compiled_model(), data(10)
    assert model.evaluate(x, y, batch_size=4, verbose=0, callbacks=[StopAfterFirst()]) == \
        pytest.approx(model.evaluate(x[:4], y[:4], verbose=0))
    assert model.predict(x, batch_size=4, callbacks=[StopAfterFirst()]).shape == (4, 3)


def test_fits_validation_runs_the_test_hooks_before_each_epoch_end():
    model, (x, y), rec = compiled_model(), data(12), Recorder()
    history = model.fit(x, y, batch_size=4, epochs=2, verbose=0, validation_split=0.25, callbacks=[rec])
    per_epoch = ["on_test_begin", "on_test_batch_begin", "on_test_batch_end", "on_test_end", "on_epoch_end"]
    assert rec.names() == per_epoch * 2
    test_end = [c[1] for c in rec.calls if c[0] == "on_test_end"]
    assert [t["loss"] for t in test_end] == pytest.approx(history.history["val_loss"])
    assert "val_loss" in rec.calls[4][2]
    rec.calls.clear()
    model.fit(x, y, batch_size=4, epochs=1, verbose=0, callbacks=[rec])
    assert rec.names() == ["on_epoch_end"]  # no validation data: no test hooks


def test_evaluates_progress_bar_shows_the_loss_and_metrics(capsys):
    model, (x, y) = compiled_model(), data(10)
    loss, acc = model.evaluate(x, y, batch_size=4, verbose=1)
    last = capsys.readouterr().out.replace("\r", "\n").strip().splitlines()[-1]
    assert last.startswith("3/3 [") and f"loss: {loss:.4f}" in last and f"accuracy: {acc:.4f}" in last, last


def test_labels_as_a_vector_fit_an_output_of_one_unit():
    """Keras expands 1-D targets to (N, 1): binary labels (N,) for a sigmoid Dense(1)."""
    x = RNG.standard_normal((16, 3)).astype(np.float32)
    labels = (x[:, 0] > 0).astype(np.float32)
    model = Sequential([layers.Dense(1, activation="sigmoid", input_shape=(3,))])
    model.compile("sgd", "binary_crossentropy", metrics=["accuracy"])
    loss, acc = model.evaluate(x, labels, verbose=0)
    p = model.predict(x)
    expected = -np.mean(labels[:, None] * np.log(p) + (1 - labels[:, None]) * np.log(1 - p))
    assert loss == pytest.approx(expected, rel=1e-5)
    assert acc == pytest.approx(((p[:, 0] > 0.5) == labels).mean())
