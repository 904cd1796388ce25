"""deepcore.keras callbacks, utils, backend and datasets.

The callbacks are driven by a small fake model (only the attributes callbacks use)
and a loop shaped like Keras' fit, so these tests need nothing of the Keras core.
TensorBoard files are decoded by deepcore's own reader and, where the tensorboard
package is installed, by TensorBoard's EventAccumulator.
"""
import csv
import os
import re
import struct
import types

import numpy as np
import pytest

from deepcore.keras import _tensorboard, backend, callbacks, utils
from deepcore.keras.callbacks import (CallbackList, CSVLogger, EarlyStopping, History, LambdaCallback,
                                      ModelCheckpoint, ProgbarLogger, ReduceLROnPlateau, TensorBoard,
                                      TerminateOnNaN)

MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


class FakeOptimizer:
    def __init__(self, lr):
        self.learning_rate = lr


class FakeParamGroupOptimizer:
    """A deepcore.optim-style optimizer: the rate lives in param_groups."""

    def __init__(self, lr):
        self.param_groups = [{"lr": lr, "params": []}, {"lr": lr, "params": []}]


class FakeKerasOptimizer:
    """A Keras facade wrapping a deepcore optimizer."""

    def __init__(self, lr):
        self.lr = lr
        self._optimizer = FakeParamGroupOptimizer(lr)


class FakeModel:
    """What callbacks touch: weights (one array whose value is the epoch index after
    each epoch, so restored weights identify their epoch), saving, stop_training, optimizer."""

    def __init__(self, optimizer=None):
        self.weights_value = [np.zeros((2, 2), np.float32), np.zeros(2, np.float32)]
        self.stop_training = False
        self.optimizer = optimizer if optimizer is not None else FakeOptimizer(0.01)
        self.saved = []

    def get_weights(self):
        return self.weights_value          # live arrays, as a careless model might return

    def set_weights(self, weights):
        for dst, src in zip(self.weights_value, weights):
            dst[...] = src

    def save(self, path):
        self.saved.append(("model", path))
        with open(path, "w") as f:
            f.write("model")

    def save_weights(self, path):
        self.saved.append(("weights", path))
        with open(path, "w") as f:
            f.write("weights")


def run_fit(model, cbs, epoch_logs, steps=3, verbose=0, batch_loss=None):
    """Keras' fit loop without the training: each epoch runs `steps` batch hooks and
    ends with epoch_logs[epoch]; the weights become the epoch index."""
    cb_list = CallbackList(cbs, add_history=True, add_progbar=verbose != 0, model=model, verbose=verbose,
                           epochs=len(epoch_logs), steps=steps)
    model.stop_training = False
    cb_list.on_train_begin()
    for epoch, logs in enumerate(epoch_logs):
        cb_list.on_epoch_begin(epoch)
        for batch in range(steps):
            cb_list.on_train_batch_begin(batch)
            loss = batch_loss(epoch, batch) if batch_loss else logs.get("loss", 1.0)
            batch_logs = {"loss": loss}
            if "accuracy" in logs:
                batch_logs["accuracy"] = logs["accuracy"]
            cb_list.on_train_batch_end(batch, batch_logs)
            if model.stop_training:
                break
        for w in model.weights_value:
            w[...] = epoch
        cb_list.on_epoch_end(epoch, dict(logs))
        if model.stop_training:
            break
    cb_list.on_train_end()
    return cb_list.history


def losses(*values):
    return [{"loss": v, "val_loss": v} for v in values]


# ---- Callback / CallbackList / History / LambdaCallback ---------------------------------------


def test_callback_list_forwards_every_hook_and_sets_model_and_params():
    calls = []

    class Recorder(callbacks.Callback):
        def __getattribute__(self, name):
            attr = object.__getattribute__(self, name)
            if name.startswith("on_") and callable(attr):
                def wrapped(*args, **kwargs):
                    calls.append(name)
                    return attr(*args, **kwargs)
                return wrapped
            return attr

    rec, model = Recorder(), FakeModel()
    cbl = CallbackList([rec], model=model, verbose=0, epochs=2, steps=1)
    assert rec.model is model and rec.params == {"verbose": 0, "epochs": 2, "steps": 1}
    hooks = ["on_train_begin", "on_train_end", "on_test_begin", "on_test_end", "on_predict_begin",
             "on_predict_end"]
    for h in hooks:
        getattr(cbl, h)()
    batch_hooks = ["on_epoch_begin", "on_epoch_end", "on_train_batch_begin", "on_train_batch_end",
                   "on_test_batch_begin", "on_test_batch_end", "on_predict_batch_begin", "on_predict_batch_end"]
    for h in batch_hooks:
        getattr(cbl, h)(0, {})
    cbl.on_batch_begin(0)
    cbl.on_batch_end(0)
    # The train-batch hooks of the base class call the on_batch_* aliases.
    expected = hooks + ["on_epoch_begin", "on_epoch_end", "on_train_batch_begin", "on_batch_begin",
                        "on_train_batch_end", "on_batch_end"] + batch_hooks[4:] + \
        ["on_train_batch_begin", "on_batch_begin", "on_train_batch_end", "on_batch_end"]
    assert calls == expected
    with pytest.raises(TypeError, match="Callback instances"):
        CallbackList([object()])


def test_old_style_on_batch_end_override_is_called():
    seen = []

    class OldStyle(callbacks.Callback):
        def on_batch_end(self, batch, logs=None):
            seen.append((batch, logs["loss"]))

    run_fit(FakeModel(), [OldStyle()], losses(0.5), steps=2)
    assert seen == [(0, 0.5), (1, 0.5)]


def test_history_records_epoch_logs_and_becomes_model_history():
    model = FakeModel()
    logs = [{"loss": 1.0, "accuracy": 0.5, "val_loss": 1.1, "val_accuracy": 0.4},
            {"loss": 0.5, "accuracy": 0.8, "val_loss": 0.7, "val_accuracy": 0.7}]
    history = run_fit(model, [], logs)
    assert isinstance(history, History) and model.history is history
    assert history.epoch == [0, 1]
    assert history.history == {"loss": [1.0, 0.5], "accuracy": [0.5, 0.8], "val_loss": [1.1, 0.7],
                               "val_accuracy": [0.4, 0.7]}
    # A user-supplied History is used, not duplicated.
    mine = History()
    cbl = CallbackList([mine], add_history=True)
    assert cbl.history is mine and len(cbl) == 1


def test_lambda_callback():
    events = []
    cb = LambdaCallback(on_epoch_end=lambda epoch, logs: events.append(("end", epoch, logs["loss"])),
                        on_train_begin=lambda logs: events.append("begin"),
                        on_batch_end=lambda batch, logs: events.append(("batch", batch)),
                        on_test_begin=lambda logs: events.append("test"))
    run_fit(FakeModel(), [cb], losses(0.3, 0.2), steps=1)
    cb.on_test_begin({})
    assert events == ["begin", ("batch", 0), ("end", 0, 0.3), ("batch", 0), ("end", 1, 0.2), "test"]
    with pytest.raises(TypeError, match="not a callback hook"):
        LambdaCallback(on_nonsense=print)


# ---- EarlyStopping ------------------------------------------------------------------------------


def test_early_stopping_patience_counts_epochs_without_improvement():
    model = FakeModel()
    es = EarlyStopping(monitor="val_loss", patience=2)
    history = run_fit(model, [es], losses(1.0, 0.8, 0.9, 0.85, 0.7, 0.6))
    # best at epoch 1; epochs 2 and 3 do not improve -> stop after epoch 3
    assert history.epoch == [0, 1, 2, 3] and es.stopped_epoch == 3 and model.stop_training
    assert es.best == 0.8 and es.best_epoch == 1


def test_early_stopping_patience_zero_stops_on_first_non_improvement():
    es = EarlyStopping(patience=0)
    history = run_fit(FakeModel(), [es], losses(1.0, 0.9, 0.8, 0.85, 0.1))
    assert history.epoch == [0, 1, 2, 3] and es.stopped_epoch == 3


def test_early_stopping_min_delta():
    # Improvements of 0.005 are below min_delta=0.01: they count as no improvement.
    es = EarlyStopping(patience=2, min_delta=0.01)
    history = run_fit(FakeModel(), [es], losses(1.0, 0.995, 0.99, 0.5))
    assert history.epoch == [0, 1, 2] and es.stopped_epoch == 2 and es.best == 1.0
    es = EarlyStopping(patience=2, min_delta=-0.01)          # sign ignored, as Keras
    assert es.min_delta == 0.01


def test_early_stopping_mode_max_and_auto():
    es = EarlyStopping(monitor="val_accuracy", patience=1)
    assert es.mode == "max"
    logs = [{"val_accuracy": a} for a in (0.5, 0.6, 0.55, 0.9)]
    history = run_fit(FakeModel(), [es], logs)
    assert history.epoch == [0, 1, 2] and es.best == 0.6
    assert EarlyStopping(monitor="val_acc").mode == "max"
    assert EarlyStopping(monitor="loss").mode == "min"
    # mode='min' on an accuracy: a rising accuracy is "not improving".
    es = EarlyStopping(monitor="val_accuracy", patience=1, mode="min")
    history = run_fit(FakeModel(), [es], logs)
    assert history.epoch == [0, 1]


def test_early_stopping_restores_best_weights_only_when_it_stops():
    model = FakeModel()
    es = EarlyStopping(patience=2, restore_best_weights=True)
    run_fit(model, [es], losses(1.0, 0.5, 0.7, 0.8, 0.1))
    # Stopped after epoch 3; the weights are back to those after epoch 1 (value 1), even
    # though the model's get_weights returned live arrays.
    assert es.stopped_epoch == 3
    assert all((w == 1).all() for w in model.weights_value)
    model = FakeModel()
    run_fit(model, [EarlyStopping(patience=5, restore_best_weights=True)], losses(1.0, 0.5, 0.7))
    assert all((w == 2).all() for w in model.weights_value)   # never stopped: last weights kept


def test_early_stopping_baseline_and_missing_monitor(capsys):
    es = EarlyStopping(patience=2, baseline=0.5, verbose=1)
    history = run_fit(FakeModel(), [es], losses(0.9, 0.8, 0.4, 0.3))
    assert history.epoch == [0, 1] and es.stopped_epoch == 1     # never beat the baseline
    assert "Epoch 00002: early stopping" in capsys.readouterr().out
    es = EarlyStopping(patience=2, baseline=0.5)
    history = run_fit(FakeModel(), [es], losses(0.9, 0.4, 0.45, 0.46))
    assert history.epoch == [0, 1, 2, 3] and es.stopped_epoch == 3
    with pytest.warns(RuntimeWarning, match="'val_loss' is not in the logs"):
        history = run_fit(FakeModel(), [EarlyStopping()], [{"loss": 1.0}, {"loss": 2.0}])
    assert history.epoch == [0, 1]


# ---- ModelCheckpoint ------------------------------------------------------------------------------


def test_model_checkpoint_names_files_from_epoch_and_logs(tmp_path):
    model = FakeModel()
    pattern = str(tmp_path / "ckpt" / "weights.{epoch:02d}-{val_loss:.2f}.h5")
    run_fit(model, [ModelCheckpoint(pattern, save_weights_only=True)], losses(0.5, 0.25, 0.125))
    names = [os.path.basename(p) for kind, p in model.saved]
    assert [k for k, _ in model.saved] == ["weights"] * 3
    assert names == ["weights.01-0.50.h5", "weights.02-0.25.h5", "weights.03-0.12.h5"]
    assert sorted(os.listdir(tmp_path / "ckpt")) == names
    model = FakeModel()
    run_fit(model, [ModelCheckpoint(str(tmp_path / "m{epoch}.keras"), period=2)], losses(3, 2, 1, 0))
    assert model.saved == [("model", str(tmp_path / "m2.keras")), ("model", str(tmp_path / "m4.keras"))]
    with pytest.raises(KeyError, match="names 'val_acc'"):
        run_fit(FakeModel(), [ModelCheckpoint(str(tmp_path / "{val_acc}.h5"))], losses(1))


def test_model_checkpoint_save_best_only(tmp_path, capsys):
    model = FakeModel()
    path = str(tmp_path / "best.h5")
    cb = ModelCheckpoint(path, monitor="val_loss", save_best_only=True, verbose=1)
    run_fit(model, [cb], losses(1.0, 0.5, 0.7, 0.4, 0.4))
    assert len(model.saved) == 3 and cb.best == 0.4
    out = capsys.readouterr().out
    assert "val_loss improved from inf to 1.00000" in out and "did not improve from 0.50000" in out
    model = FakeModel()
    cb = ModelCheckpoint(str(tmp_path / "acc{epoch}.h5"), monitor="val_accuracy", save_best_only=True)
    run_fit(model, [cb], [{"val_accuracy": a} for a in (0.5, 0.4, 0.6)])
    assert [os.path.basename(p) for _, p in model.saved] == ["acc1.h5", "acc3.h5"]


def test_model_checkpoint_every_n_batches(tmp_path):
    model = FakeModel()
    cb = ModelCheckpoint(str(tmp_path / "e{epoch}b{batch}.h5"), save_freq=2, save_weights_only=True)
    run_fit(model, [cb], losses(1, 1), steps=3)
    assert [os.path.basename(p) for _, p in model.saved] == ["e1b2.h5", "e2b1.h5", "e2b3.h5"]
    with pytest.raises(ValueError, match="save_freq"):
        ModelCheckpoint("x", save_freq="sometimes")


# ---- CSVLogger ---------------------------------------------------------------------------------------


def test_csv_logger_writes_header_and_rows(tmp_path):
    path = tmp_path / "log.csv"
    logs = [{"loss": 0.5, "accuracy": 0.8, "val_loss": 0.6, "val_accuracy": 0.75},
            {"loss": 0.25, "accuracy": 0.9, "val_loss": 0.4, "val_accuracy": 0.85}]
    run_fit(FakeModel(), [CSVLogger(str(path))], logs)
    rows = list(csv.reader(open(path)))
    assert rows == [["epoch", "accuracy", "loss", "val_accuracy", "val_loss"],
                    ["0", "0.8", "0.5", "0.75", "0.6"], ["1", "0.9", "0.25", "0.85", "0.4"]]
    # append=True continues the file without a second header; separator is honoured.
    run_fit(FakeModel(), [CSVLogger(str(path), append=True)], logs[:1])
    assert len(list(csv.reader(open(path)))) == 4
    run_fit(FakeModel(), [CSVLogger(str(path), separator=";")], logs[:1])
    assert open(path).read().splitlines() == ["epoch;accuracy;loss;val_accuracy;val_loss", "0;0.8;0.5;0.75;0.6"]


# ---- TerminateOnNaN, ReduceLROnPlateau ---------------------------------------------------------------


def test_terminate_on_nan(capsys):
    model = FakeModel()
    history = run_fit(model, [TerminateOnNaN()], losses(1.0, 1.0, 1.0), steps=4,
                      batch_loss=lambda e, b: float("nan") if (e, b) == (1, 2) else 1.0)
    assert model.stop_training and history.epoch == [0, 1]
    assert "Batch 2: Invalid loss, terminating training" in capsys.readouterr().out
    model = FakeModel()
    run_fit(model, [TerminateOnNaN()], losses(1.0), batch_loss=lambda e, b: float("inf"))
    assert model.stop_training


@pytest.mark.parametrize("make_optimizer", [FakeOptimizer, FakeParamGroupOptimizer, FakeKerasOptimizer])
def test_reduce_lr_on_plateau(make_optimizer):
    model = FakeModel(make_optimizer(0.1))
    cb = ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1, min_lr=0.03, cooldown=2)
    history = run_fit(model, [cb], losses(1.0, 1.0, 1.0, 1.0, 1.0, 1.0))
    # Keras' counting: reduce after epoch 1; cooldown covers epoch 2; reduce after epoch 3
    # (0.025, clipped to min_lr 0.03); at min_lr nothing more happens.
    assert history.history["lr"] == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.03, 0.03])
    lr = callbacks.get_learning_rate(model.optimizer)
    assert lr == pytest.approx(0.03)
    if isinstance(model.optimizer, FakeKerasOptimizer):
        assert [g["lr"] for g in model.optimizer._optimizer.param_groups] == pytest.approx([0.03, 0.03])
    if isinstance(model.optimizer, FakeParamGroupOptimizer):
        assert [g["lr"] for g in model.optimizer.param_groups] == pytest.approx([0.03, 0.03])
    with pytest.raises(ValueError, match="factor >= 1.0"):
        ReduceLROnPlateau(factor=1.5)


def test_reduce_lr_on_a_real_deepcore_optimizer():
    import deepcore
    from deepcore import optim
    param = deepcore.zeros(3, requires_grad=True)
    opt = optim.SGD([param], lr=0.2)
    model = FakeModel(opt)
    run_fit(model, [ReduceLROnPlateau(patience=0, factor=0.5)], losses(1.0, 1.0))
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1)


# ---- ProgbarLogger / Progbar ----------------------------------------------------------------------


def test_progbar_logger_verbose_1_when_stdout_is_not_a_terminal(capsys):
    logs = [{"loss": 0.2461, "accuracy": 0.9243, "val_loss": 0.1, "val_accuracy": 0.97},
            {"loss": 0.1, "accuracy": 0.97, "val_loss": 0.08, "val_accuracy": 0.98}]
    run_fit(FakeModel(), [], logs, steps=469, verbose=1)
    lines = capsys.readouterr().out.splitlines()
    # Not a TTY: no carriage-return redraws, just the final line of each epoch.
    assert len(lines) == 4 and lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2"
    head = "469/469 [==============================] - "
    assert lines[1].startswith(head) and lines[3].startswith(head)
    assert re.fullmatch(r"469/469 \[=+\] - \d+s \d+(s|ms|us)/step - loss: 0.2461 - accuracy: 0.9243 - "
                        r"val_loss: 0.1000 - val_accuracy: 0.9700", lines[1]), lines[1]


def test_progbar_logger_verbose_2_prints_one_line_per_epoch(capsys):
    run_fit(FakeModel(), [], [{"loss": 0.5, "val_loss": 0.25}], steps=10, verbose=2)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Epoch 1/1" and len(lines) == 2
    assert lines[1].startswith("10/10 - 0s - ") and lines[1].endswith(" - loss: 0.5000 - val_loss: 0.2500")
    assert "[" not in lines[1]


def test_progbar_logger_counting_samples(capsys):
    logger = ProgbarLogger(count_mode="samples")
    model = FakeModel()
    cbl = CallbackList([logger], model=model, verbose=1, epochs=1, samples=10, batch_size=4)
    cbl.on_epoch_begin(0)
    for batch, size in enumerate((4, 4, 2)):
        cbl.on_train_batch_end(batch, {"batch": batch, "size": size, "loss": 1.0})
    cbl.on_epoch_end(0, {"loss": 1.0})
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Epoch 1/1" and lines[1].startswith("10/10 [====") and lines[1].endswith("loss: 1.0000")
    assert logger.seen == 10
    with pytest.raises(ValueError, match="count_mode"):
        ProgbarLogger(count_mode="epochs")


def test_progbar_redraws_with_eta_on_a_terminal(capsys, monkeypatch):
    clock = iter(range(100))
    monkeypatch.setattr(utils, "time", types.SimpleNamespace(time=lambda: float(next(clock))))
    bar = utils.Progbar(target=10, interval=0.0)      # starts at t=0, then one second per update
    bar._dynamic_display = True
    bar.update(5, [("loss", 1.0), ("accuracy", 0.5)])
    bar.update(6, [("loss", 0.0), ("accuracy", 1.0)])
    bar.add(4, [("loss", 0.0)])
    out = capsys.readouterr().out
    frames = out.split("\r")[1:]
    assert frames[0].startswith(" 5/10 [==============>...............] - ETA: ")
    assert frames[0].rstrip().endswith("loss: 1.0000 - accuracy: 0.5000")
    # weighted running means: loss (1*5 + 0*1)/6, accuracy (0.5*5 + 1*1)/6
    assert "loss: 0.8333 - accuracy: 0.5833" in frames[1]
    assert frames[2].startswith("10/10 [==============================] - ") and frames[2].endswith("\n")
    assert "loss: 0.5000" in frames[2] and "/step" in frames[2]


def test_progbar_stateful_metrics_and_small_values(capsys):
    bar = utils.Progbar(target=2, verbose=1, stateful_metrics=["acc"])
    bar._dynamic_display = False
    bar.update(1, [("acc", 0.1), ("tiny", 1e-5)])
    bar.update(2, [("acc", 0.9), ("tiny", 3e-5)])
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and "acc: 0.9000" in out[0] and "tiny: 2.0000e-05" in out[0]


# ---- TensorBoard ---------------------------------------------------------------------------------------


def test_crc32c_known_vectors():
    # RFC 3720 (iSCSI) B.4 test vectors and the usual check value.
    assert _tensorboard.crc32c(b"123456789") == 0xE3069283
    assert _tensorboard.crc32c(b"") == 0
    assert _tensorboard.crc32c(bytes(32)) == 0x8A9136AA
    assert _tensorboard.crc32c(b"\xff" * 32) == 0x62A8AB43
    assert _tensorboard.crc32c(bytes(range(32))) == 0x46DD794E
    assert _tensorboard.crc32c(bytes(range(31, -1, -1))) == 0x113FDB5C
    # TFRecord's mask (rotate right 15, add 0xA282EAD8); the value TensorBoard's own code gives.
    assert _tensorboard.masked_crc32c(b"123456789") == 3347755237
    # Slicing-by-4 and the byte loop agree at every split and length.
    data = bytes(range(256)) * 3 + b"tail"
    for n in (1, 3, 4, 5, 7, 8, 100, len(data)):
        assert _tensorboard.crc32c(data[n:], _tensorboard.crc32c(data[:n])) == _tensorboard.crc32c(data)


def test_protobuf_encoding_is_canonical():
    assert _tensorboard._varint(0) == b"\x00" and _tensorboard._varint(300) == b"\xac\x02"
    assert _tensorboard._varint(-1) == b"\xff" * 9 + b"\x01"
    assert _tensorboard.field_varint(2, 150) == b"\x10\x96\x01"
    assert _tensorboard.field_bytes(1, "ab") == b"\x0a\x02ab"
    assert _tensorboard.field_float(2, 1.0) == b"\x15\x00\x00\x80\x3f"
    assert _tensorboard.field_double(1, 1.0) == b"\x09" + struct.pack("<d", 1.0)
    ev = _tensorboard.decode_event(_tensorboard.event(-3, wall_time=12.5, file_version="brain.Event:2"))
    assert ev == {"wall_time": 12.5, "step": -3, "file_version": "brain.Event:2"}
    with pytest.raises(ValueError, match="truncated"):
        _tensorboard.parse_message(b"\x0a\x05ab")


def _event_file(directory):
    files = [f for f in os.listdir(directory) if f.startswith("events.out.tfevents.")]
    assert len(files) == 1, files
    return os.path.join(directory, files[0])


LOGS = [{"loss": 0.5, "accuracy": 0.8, "val_loss": 0.6, "val_accuracy": 0.75, "lr": 0.001},
        {"loss": 0.25, "accuracy": 0.9, "val_loss": 0.4, "val_accuracy": 0.85, "lr": 0.0005}]


def test_tensorboard_writes_keras_layout_event_files(tmp_path):
    run_fit(FakeModel(), [TensorBoard(log_dir=str(tmp_path), histogram_freq=1)], LOGS)
    assert sorted(os.listdir(tmp_path)) == ["train", "validation"]
    train, val = _event_file(tmp_path / "train"), _event_file(tmp_path / "validation")
    events = _tensorboard.read_events(train)
    assert events[0]["file_version"] == "brain.Event:2"
    train_scalars, val_scalars = _tensorboard.read_scalars(train), _tensorboard.read_scalars(val)
    assert set(train_scalars) == {"epoch_loss", "epoch_accuracy", "epoch_learning_rate"}
    assert set(val_scalars) == {"epoch_loss", "epoch_accuracy"}
    assert train_scalars["epoch_loss"] == [(0, 0.5), (1, 0.25)]
    assert [s for s, _ in val_scalars["epoch_accuracy"]] == [0, 1]
    assert np.allclose([v for _, v in val_scalars["epoch_accuracy"]], [0.75, 0.85])   # float32 storage
    histos = [v for e in events for v in e.get("summary", ()) if "histo" in v]
    assert [h["tag"] for h in histos] == ["weight_0", "weight_1"] * 2
    last = histos[2]["histo"]                       # the 2x2 weight after epoch 1: four ones
    assert last["num"] == 4 and last["min"] == last["max"] == 1.0 and last["sum"] == 4.0
    assert sum(last["bucket"]) == 4


def test_tensorboard_batch_scalars_and_corruption_detected(tmp_path):
    run_fit(FakeModel(), [TensorBoard(log_dir=str(tmp_path), update_freq=2)], LOGS, steps=3)
    path = _event_file(tmp_path / "train")
    scalars = _tensorboard.read_scalars(path)
    assert [s for s, _ in scalars["batch_loss"]] == [2, 4, 6]
    blob = bytearray(open(path, "rb").read())
    blob[-6] ^= 0x01
    open(path, "wb").write(bytes(blob))
    with pytest.raises(ValueError, match="bad data CRC"):
        _tensorboard.read_records(path)
    open(path, "wb").write(bytes(blob[:-3]))
    with pytest.raises(ValueError, match="truncated"):
        _tensorboard.read_records(path)


def test_tensorboard_files_open_in_tensorboard(tmp_path):
    event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    run_fit(FakeModel(), [TensorBoard(log_dir=str(tmp_path), histogram_freq=1)], LOGS)
    for run, expected in (("train", {"epoch_loss": [0.5, 0.25], "epoch_accuracy": [0.8, 0.9],
                                     "epoch_learning_rate": [0.001, 0.0005]}),
                          ("validation", {"epoch_loss": [0.6, 0.4], "epoch_accuracy": [0.75, 0.85]})):
        acc = event_accumulator.EventAccumulator(str(tmp_path / run), size_guidance={
            event_accumulator.SCALARS: 0, event_accumulator.HISTOGRAMS: 0})   # 0: keep every event
        acc.Reload()
        assert set(acc.Tags()["scalars"]) == set(expected)
        for tag, values in expected.items():
            events = acc.Scalars(tag)
            assert [e.step for e in events] == [0, 1]
            assert np.allclose([e.value for e in events], values)
        if run == "train":
            assert set(acc.Tags()["histograms"]) == {"weight_0", "weight_1"}
            assert acc.Histograms("weight_0")[1].histogram_value.sum == pytest.approx(4.0)


# ---- utils, backend ------------------------------------------------------------------------------------


def test_to_categorical_keras_semantics():
    y = utils.to_categorical([0, 2, 1, 2])
    assert y.dtype == np.float32 and y.shape == (4, 3)
    assert (y == np.eye(3, dtype=np.float32)[[0, 2, 1, 2]]).all()
    assert utils.to_categorical(np.array([[1], [3]]), 5).shape == (2, 5)          # (N, 1) -> (N, C)
    assert utils.to_categorical(np.array([[1, 2], [0, 1]]), 3).shape == (2, 2, 3)
    assert utils.to_categorical(np.uint8([3]), num_classes=10, dtype="int64").dtype == np.int64
    assert (utils.to_categorical(np.array([1.0, 0.0])) == [[0, 1], [1, 0]]).all()
    assert utils.to_categorical(np.int64(2), 4).tolist() == [0, 0, 1, 0]           # scalar -> (C,)
    with pytest.raises(ValueError, match="out of range for num_classes=3"):
        utils.to_categorical([0, 3], 3)
    with pytest.raises(ValueError, match=">= 0"):
        utils.to_categorical([-1, 0], 3)
    with pytest.raises(ValueError, match="whole numbers"):
        utils.to_categorical([0.5])
    assert utils.np_utils.to_categorical is utils.to_categorical


def test_to_categorical_matches_torch_one_hot(torch, rng):
    y = rng.integers(0, 10, size=(7, 3))
    ref = torch.nn.functional.one_hot(torch.from_numpy(y), 10).numpy()
    assert (utils.to_categorical(y, 10) == ref).all()


def test_normalize():
    x = np.array([[3.0, 4.0], [0.0, 0.0]])
    assert np.allclose(utils.normalize(x), [[0.6, 0.8], [0.0, 0.0]])
    assert np.allclose(utils.normalize(x, axis=0, order=1), [[1.0, 1.0], [0.0, 0.0]])


def test_backend_basics():
    assert backend.image_data_format() == "channels_last" and backend.epsilon() == 1e-7
    assert backend.floatx() == "float32" and backend.backend() == "deepcore"
    try:
        backend.set_image_data_format("channels_first")
        assert backend.image_data_format() == "channels_first"
        with pytest.raises(ValueError, match="channels_last"):
            backend.set_image_data_format("NCHW")
        backend.set_epsilon(1e-6)
        assert backend.epsilon() == 1e-6
        with pytest.raises(ValueError):
            backend.set_floatx("float16")
    finally:
        backend.set_image_data_format("channels_last")
        backend.set_epsilon(1e-7)
    hook_calls = []
    backend.register_clear_session_hook(lambda: hook_calls.append(1))
    assert [backend.get_uid("dense"), backend.get_uid("dense"), backend.get_uid("conv2d")] == [1, 2, 1]
    backend.clear_session()
    assert backend.get_uid("dense") == 1 and hook_calls == [1]
    backend._clear_session_hooks.clear()


# ---- datasets ----------------------------------------------------------------------------------------


def test_mnist_load_data_is_the_real_dataset():
    from deepcore.keras.datasets import mnist
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert y_train.shape == (60000,) and y_test.shape == (10000,)
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.uint8)}
    assert y_train[0] == 5 and y_test[0] == 7
    assert np.bincount(y_train).tolist() == MNIST_TRAIN_COUNTS
    assert np.bincount(y_test).tolist() == MNIST_TEST_COUNTS
    assert x_train.max() == 255 and abs(x_train.mean() - 33.318) < 1e-3
    x_train[0, 0, 0] = 1                       # writable copies, as Keras
    assert mnist.load_data()[0][0][0, 0, 0] == 0


def test_fashion_mnist_load_data():
    from deepcore.keras.datasets import fashion_mnist
    try:
        (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    except RuntimeError as exc:
        assert "dataset-fashion-mnist" in str(exc)
        pytest.skip("Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)")
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28) and x_train.dtype == np.uint8
    assert np.bincount(y_train).tolist() == [6000] * 10 and np.bincount(y_test).tolist() == [1000] * 10


def test_backend_settings_take_effect_or_are_refused():
    """set_epsilon reaches the losses and new optimizers; set_floatx and a channels_first format, which
    deepcore.keras cannot honour, are refused instead of being ignored."""
    from deepcore.keras import layers, losses, optimizers
    y_true, y_pred = np.array([[1.0, 0.0]], np.float32), np.array([[0.0, 1.0]], np.float32)
    try:
        backend.set_epsilon(1e-3)
        assert optimizers.RMSprop().epsilon == 1e-3 and optimizers.Adam(epsilon=1e-5).epsilon == 1e-5
        loss = losses.categorical_crossentropy(y_true, y_pred).numpy()
        np.testing.assert_allclose(loss, [-np.log(1e-3)], rtol=1e-5)
    finally:
        backend.set_epsilon(1e-7)
    np.testing.assert_allclose(losses.categorical_crossentropy(y_true, y_pred).numpy(), [-np.log(1e-7)], rtol=1e-4)
    with pytest.raises(ValueError, match="float32 models only"):
        backend.set_floatx("float64")
    try:
        backend.set_image_data_format("channels_first")
        for make in (lambda: layers.Conv2D(4, 3), lambda: layers.MaxPooling2D(), lambda: layers.Flatten()):
            with pytest.raises(NotImplementedError, match="channels_last"):
                make()
    finally:
        backend.set_image_data_format("channels_last")
    assert layers.Conv2D(4, 3).data_format is None
