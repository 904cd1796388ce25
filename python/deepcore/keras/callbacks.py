"""Keras 2 callbacks: ``Callback``, ``CallbackList``, ``History``, ``ProgbarLogger``,
``EarlyStopping``, ``ModelCheckpoint``, ``CSVLogger``, ``LambdaCallback``, ``LearningRateScheduler``,
``TerminateOnNaN``, ``ReduceLROnPlateau`` and ``TensorBoard`` (real event files,
written without TensorFlow).

What a callback may use of its model: ``stop_training`` (set to stop after the
current epoch), ``get_weights()`` / ``set_weights()`` (EarlyStopping with
restore_best_weights), ``save(path)`` / ``save_weights(path)`` (ModelCheckpoint),
``optimizer`` (ReduceLROnPlateau: its ``learning_rate`` / ``lr`` attribute, or the
``param_groups`` of a deepcore optimizer it is or wraps). ``fit`` passes
``params`` = {'verbose', 'epochs', 'steps'} (older Keras also 'samples',
'batch_size'; both are understood).

Batch logs (``on_train_batch_end(batch, logs)``) hold the batch's own values
(Keras 2.2 style); the progress bar averages them over the epoch. Epoch logs
(``on_epoch_end(epoch, logs)``) hold the epoch's values, 'val_'-prefixed for the
validation data; the bar's last line shows exactly those.
"""
import csv
import math
import os
import sys
import time
import warnings

import numpy as np

from . import _tensorboard
from .utils import Progbar


class Callback:
    """Base class: every hook is a no-op. ``model`` and ``params`` are set by fit."""

    def __init__(self):
        self.model = None
        self.params = {}
        self.validation_data = None

    def set_params(self, params):
        self.params = params

    def set_model(self, model):
        self.model = model

    # Training batches; on_batch_* are Keras' older names and what the train-batch hooks
    # call by default, so a subclass may override either spelling.
    def on_batch_begin(self, batch, logs=None):
        pass

    def on_batch_end(self, batch, logs=None):
        pass

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs=logs)

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_test_begin(self, logs=None):
        pass

    def on_test_end(self, logs=None):
        pass

    def on_test_batch_begin(self, batch, logs=None):
        pass

    def on_test_batch_end(self, batch, logs=None):
        pass

    def on_predict_begin(self, logs=None):
        pass

    def on_predict_end(self, logs=None):
        pass

    def on_predict_batch_begin(self, batch, logs=None):
        pass

    def on_predict_batch_end(self, batch, logs=None):
        pass


class CallbackList:
    """Holds callbacks and forwards every hook to each, in order.

    ``CallbackList(callbacks, add_history=True, add_progbar=verbose != 0, model=model,
    verbose=..., epochs=..., steps=...)`` is how fit builds it (as tf.keras 2): the
    History (and a ProgbarLogger) are added unless the list already has one, and the
    keyword arguments become every callback's ``params``."""

    def __init__(self, callbacks=None, add_history=False, add_progbar=False, model=None, **params):
        self.callbacks = list(callbacks) if callbacks else []
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks: expected keras Callback instances, got {type(cb).__name__}")
        self._history = next((cb for cb in self.callbacks if isinstance(cb, History)), None)
        if add_history and self._history is None:
            self._history = History()
            self.callbacks.append(self._history)
        if add_progbar and not any(isinstance(cb, ProgbarLogger) for cb in self.callbacks):
            self.callbacks.insert(0, ProgbarLogger(count_mode="steps"))
        self.model = None
        self.params = {}
        if model is not None:
            self.set_model(model)
        if params:
            self.set_params(params)

    @property
    def history(self):
        """The History callback in the list (None if there is none)."""
        return self._history

    def append(self, callback):
        self.callbacks.append(callback)
        if isinstance(callback, History) and self._history is None:
            self._history = callback

    def __iter__(self):
        return iter(self.callbacks)

    def __len__(self):
        return len(self.callbacks)

    def set_params(self, params):
        self.params = params
        for cb in self.callbacks:
            cb.set_params(params)

    def set_model(self, model):
        self.model = model
        for cb in self.callbacks:
            cb.set_model(model)

    def _call(self, hook, *args, logs=None):
        logs = {} if logs is None else logs
        for cb in self.callbacks:
            getattr(cb, hook)(*args, logs)

    def on_train_begin(self, logs=None):
        self._call("on_train_begin", logs=logs)

    def on_train_end(self, logs=None):
        self._call("on_train_end", logs=logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._call("on_epoch_begin", epoch, logs=logs)

    def on_epoch_end(self, epoch, logs=None):
        self._call("on_epoch_end", epoch, logs=logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._call("on_train_batch_begin", batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        self._call("on_train_batch_end", batch, logs=logs)

    on_batch_begin = on_train_batch_begin
    on_batch_end = on_train_batch_end

    def on_test_begin(self, logs=None):
        self._call("on_test_begin", logs=logs)

    def on_test_end(self, logs=None):
        self._call("on_test_end", logs=logs)

    def on_test_batch_begin(self, batch, logs=None):
        self._call("on_test_batch_begin", batch, logs=logs)

    def on_test_batch_end(self, batch, logs=None):
        self._call("on_test_batch_end", batch, logs=logs)

    def on_predict_begin(self, logs=None):
        self._call("on_predict_begin", logs=logs)

    def on_predict_end(self, logs=None):
        self._call("on_predict_end", logs=logs)

    def on_predict_batch_begin(self, batch, logs=None):
        self._call("on_predict_batch_begin", batch, logs=logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._call("on_predict_batch_end", batch, logs=logs)


class History(Callback):
    """Records the epoch logs: ``history`` {name: [value per epoch]}, ``epoch`` [indices].
    fit returns it, and it becomes the model's ``history`` attribute."""

    def __init__(self):
        super().__init__()
        self.epoch = []
        self.history = {}

    def set_model(self, model):
        super().set_model(model)
        try:
            model.history = self
        except AttributeError:
            pass

    def on_train_begin(self, logs=None):
        self.epoch = []
        self.history = {}

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for name, value in (logs or {}).items():
            self.history.setdefault(name, []).append(value)


def _scalar(value):
    """A log value as a Python float where it is one (tensors, NumPy scalars), else as given."""
    if hasattr(value, "item"):
        try:
            return value.item()
        except (TypeError, ValueError, RuntimeError):
            return value
    return value


class ProgbarLogger(Callback):
    """Prints ``Epoch i/n`` and a Progbar per epoch (verbose=1: redrawn with an ETA;
    verbose=2: one line per epoch). ``count_mode`` 'steps' counts batches, 'samples'
    counts samples (needs 'samples' and 'batch_size' in params or 'size' in the batch
    logs)."""

    def __init__(self, count_mode="samples", stateful_metrics=None):
        super().__init__()
        if count_mode not in ("samples", "steps"):
            raise ValueError(f"ProgbarLogger: count_mode must be 'samples' or 'steps', got {count_mode!r}")
        self.count_mode = count_mode
        self.stateful_metrics = set(stateful_metrics) if stateful_metrics else set()
        self.progbar = None
        self.seen = 0
        self.verbose = 1
        self.epochs = 1
        self.target = None
        self._use_steps = True
        self._in_epoch = False

    def set_params(self, params):
        super().set_params(params)
        self.verbose = params.get("verbose", 1)
        self.epochs = params.get("epochs", 1)
        steps, samples = params.get("steps"), params.get("samples")
        if steps is None and samples is not None and params.get("batch_size"):
            steps = -(-samples // params["batch_size"])
        if self.count_mode == "samples" and samples is not None:
            self.target, self._use_steps = samples, False
        else:
            self.target, self._use_steps = steps, True

    def on_train_begin(self, logs=None):
        self._in_epoch = False

    def on_epoch_begin(self, epoch, logs=None):
        self.seen = 0
        if self.verbose:
            sys.stdout.write(f"Epoch {epoch + 1}/{self.epochs}\n")
            sys.stdout.flush()
        self.progbar = Progbar(target=self.target, verbose=self.verbose,
                               stateful_metrics=self.stateful_metrics, unit_name="step")
        self._in_epoch = True

    def on_train_batch_end(self, batch, logs=None):
        logs = logs or {}
        if self._use_steps:
            self.seen += 1
        else:
            self.seen += int(logs.get("size", self.params.get("batch_size", 1)) or 1)
        if self.progbar is None:
            return
        values = [(k, _scalar(v)) for k, v in logs.items() if k not in ("batch", "size")]
        # Never the last line here: on_epoch_end draws it with the epoch's numbers.
        self.progbar.update(self.seen, values, finalize=False)

    def on_epoch_end(self, epoch, logs=None):
        if self.progbar is None or not self._in_epoch:
            return
        self._in_epoch = False
        # The epoch line shows the epoch's own numbers, exactly what History records.
        epoch_values = [(k, _scalar(v)) for k, v in (logs or {}).items()]
        self.progbar.stateful_metrics.update(k for k, _ in epoch_values)
        target = self.target if self.target is not None else self.seen
        self.progbar.update(target, epoch_values, finalize=True)


def _default_monitor_op(mode, monitor, who):
    if mode not in ("auto", "min", "max"):
        warnings.warn(f"{who}: mode {mode!r} is unknown, falling back to 'auto'", RuntimeWarning, stacklevel=3)
        mode = "auto"
    if mode == "auto":
        name = monitor[4:] if monitor.startswith("val_") else monitor
        maximize = "acc" in name or name.startswith("fmeasure") or name == "auc" or name.startswith("auc")
        mode = "max" if maximize else "min"
    return mode


def _is_number(value):
    try:
        float(value)
        return True
    except (TypeError, ValueError):
        return False


class EarlyStopping(Callback):
    """Stop training when ``monitor`` has not improved by more than ``min_delta`` for
    ``patience`` epochs. ``mode`` 'auto' maximizes names containing 'acc' and minimizes
    anything else. ``baseline``: the epochs that do not beat it count as not improving.
    ``restore_best_weights``: when it stops, put back the weights of the best epoch.
    ``stopped_epoch`` is the (0-based) epoch it stopped after, 0 if it never did."""

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto", baseline=None,
                 restore_best_weights=False):
        super().__init__()
        self.monitor = monitor
        self.patience = int(patience)
        self.verbose = verbose
        self.baseline = baseline
        self.min_delta = abs(float(min_delta))
        self.restore_best_weights = restore_best_weights
        self.mode = _default_monitor_op(mode, monitor, "EarlyStopping")
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_epoch = 0
        self.best_weights = None
        self._stopped = False

    def _improves(self, current, reference):
        if self.mode == "min":
            return current + self.min_delta < reference
        return current - self.min_delta > reference

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = 0
        self.best_weights = None
        self._stopped = False

    def get_monitor_value(self, logs):
        value = (logs or {}).get(self.monitor)
        if value is None:
            warnings.warn(f"EarlyStopping: the monitored quantity {self.monitor!r} is not in the logs "
                          f"(available: {', '.join(sorted(logs or {})) or 'none'}); not stopping on it",
                          RuntimeWarning, stacklevel=3)
            return None
        return float(_scalar(value))

    def on_epoch_end(self, epoch, logs=None):
        current = self.get_monitor_value(logs)
        if current is None:
            return
        if self.best is None:            # used without on_train_begin
            self.on_train_begin()
        if self._improves(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                # Copies: a model may hand out views of its live parameters.
                self.best_weights = [np.array(w, copy=True) for w in self.model.get_weights()]
            if self.baseline is None or self._improves(current, self.baseline):
                self.wait = 0
                return
        self.wait += 1
        if self.wait >= self.patience and self.wait > 0:
            self.stopped_epoch = epoch
            self._stopped = True
            self.model.stop_training = True
            if self.restore_best_weights and self.best_weights is not None:
                if self.verbose > 0:
                    print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
                self.model.set_weights(self.best_weights)

    def on_train_end(self, logs=None):
        if self._stopped and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1:05d}: early stopping")


class ModelCheckpoint(Callback):
    """Save the model (``model.save(path)``) or its weights (``model.save_weights(path)``)
    after every epoch, every ``period`` epochs, or every ``save_freq`` batches.
    ``filepath`` may hold ``{epoch:02d}`` (1-based, as Keras) and any log name, e.g.
    ``'weights.{epoch:02d}-{val_loss:.2f}.h5'``. ``save_best_only``: only when
    ``monitor`` improves (mode as EarlyStopping)."""

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False, save_weights_only=False,
                 mode="auto", save_freq="epoch", period=None, initial_value_threshold=None, **kwargs):
        super().__init__()
        if kwargs.pop("options", None) is not None:
            warnings.warn("ModelCheckpoint: 'options' (TensorFlow save options) is ignored", RuntimeWarning,
                          stacklevel=2)
        if kwargs:
            raise TypeError(f"ModelCheckpoint: unexpected arguments {sorted(kwargs)}")
        self.filepath = os.fspath(filepath)
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        if save_freq != "epoch" and not (isinstance(save_freq, int) and save_freq > 0):
            raise ValueError(f"ModelCheckpoint: save_freq must be 'epoch' or a positive number of batches, "
                             f"got {save_freq!r}")
        if period is not None and (not isinstance(period, int) or period < 1):
            raise ValueError(f"ModelCheckpoint: period must be a positive number of epochs, got {period!r}")
        self.save_freq = save_freq
        self.period = period if period is not None else 1
        self.mode = _default_monitor_op(mode, monitor, "ModelCheckpoint")
        self.initial_value_threshold = initial_value_threshold
        self.best = None
        self.epochs_since_last_save = 0
        self._batches_seen = 0
        self._current_epoch = 0

    def _better(self, current, best):
        return current < best if self.mode == "min" else current > best

    def on_train_begin(self, logs=None):
        if self.best is None:
            if self.initial_value_threshold is not None:
                self.best = float(self.initial_value_threshold)
            else:
                self.best = math.inf if self.mode == "min" else -math.inf

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        self._batches_seen += 1
        if self._batches_seen % self.save_freq == 0:
            self._save(self._current_epoch, logs, batch=batch)

    def on_epoch_end(self, epoch, logs=None):
        self.epochs_since_last_save += 1
        if self.save_freq == "epoch" and self.epochs_since_last_save >= self.period:
            self.epochs_since_last_save = 0
            self._save(epoch, logs)

    def _format_path(self, epoch, logs, batch=None):
        fields = {k: _scalar(v) for k, v in (logs or {}).items()}
        extra = {"epoch": epoch + 1}
        if batch is not None:
            extra["batch"] = batch + 1
        try:
            return self.filepath.format(**{**fields, **extra})
        except KeyError as exc:
            raise KeyError(f"ModelCheckpoint: filepath {self.filepath!r} names {exc.args[0]!r}, which is not "
                           f"in the logs (available: epoch, {', '.join(sorted(fields))})") from None

    def _save(self, epoch, logs, batch=None):
        if self.best is None:
            self.on_train_begin()
        path = self._format_path(epoch, logs, batch)
        if self.save_best_only:
            current = (logs or {}).get(self.monitor)
            if current is None:
                warnings.warn(f"ModelCheckpoint: can save the best model only with {self.monitor!r} in the logs "
                              f"(available: {', '.join(sorted(logs or {})) or 'none'}); skipping",
                              RuntimeWarning, stacklevel=3)
                return
            current = float(_scalar(current))
            if not self._better(current, self.best):
                if self.verbose > 0:
                    print(f"\nEpoch {epoch + 1:05d}: {self.monitor} did not improve from {self.best:.5f}")
                return
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1:05d}: {self.monitor} improved from {self.best:.5f} to {current:.5f}, "
                      f"saving model to {path}")
            self.best = current
        elif self.verbose > 0:
            print(f"\nEpoch {epoch + 1:05d}: saving model to {path}")
        parent = os.path.dirname(path)
        if parent:
            os.makedirs(parent, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)


class CSVLogger(Callback):
    """One CSV row per epoch: the column 'epoch' (0-based, as Keras) then the log names
    in sorted order. ``append=True`` continues an existing file (no second header)."""

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename = os.fspath(filename)
        self.sep = separator
        self.append = append
        self.keys = None
        self.writer = None
        self.csv_file = None

    def on_train_begin(self, logs=None):
        self._append_header = True
        if self.append and os.path.exists(self.filename):
            with open(self.filename, "r", newline="") as f:
                self._append_header = not f.read(1)
        self.csv_file = open(self.filename, "a" if self.append else "w", newline="")
        self.writer = None
        self.keys = None

    def on_epoch_end(self, epoch, logs=None):
        logs = {k: _scalar(v) for k, v in (logs or {}).items()}
        if self.csv_file is None:
            self.on_train_begin()
        if self.keys is None:
            self.keys = sorted(logs)
        if getattr(self.model, "stop_training", False):
            logs = {k: logs.get(k, "NA") for k in self.keys}   # a stopped run may lack the val_ entries
        if self.writer is None:
            self.writer = csv.DictWriter(self.csv_file, fieldnames=["epoch"] + self.keys, delimiter=self.sep,
                                         extrasaction="ignore", restval="NA")
            if self._append_header:
                self.writer.writeheader()
        row = {"epoch": epoch}
        for k in self.keys:
            v = logs.get(k, "NA")
            if isinstance(v, (list, tuple, np.ndarray)) and not isinstance(v, str):
                v = "[" + ", ".join(str(x) for x in np.asarray(v).ravel()) + "]"
            row[k] = v
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs=None):
        if self.csv_file is not None:
            self.csv_file.close()
        self.csv_file = None
        self.writer = None


class LambdaCallback(Callback):
    """A callback from functions: ``on_epoch_begin(epoch, logs)``, ``on_epoch_end(epoch, logs)``,
    ``on_batch_begin(batch, logs)``, ``on_batch_end(batch, logs)``, ``on_train_begin(logs)``,
    ``on_train_end(logs)``, and any other hook by its name as a keyword."""

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_batch_begin=None, on_batch_end=None,
                 on_train_begin=None, on_train_end=None, **kwargs):
        super().__init__()
        hooks = dict(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end, on_batch_begin=on_batch_begin,
                     on_batch_end=on_batch_end, on_train_begin=on_train_begin, on_train_end=on_train_end)
        for name, fn in kwargs.items():
            if not name.startswith("on_") or not callable(getattr(Callback, name, None)):
                raise TypeError(f"LambdaCallback: {name!r} is not a callback hook")
            hooks[name] = fn
        for name, fn in hooks.items():
            if fn is not None:
                setattr(self, name, fn)


class TerminateOnNaN(Callback):
    """Stop training as soon as a batch's loss is NaN or infinite."""

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None:
            return
        loss = _scalar(loss)
        if _is_number(loss) and not math.isfinite(float(loss)):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


def _optimizer_targets(optimizer):
    """The objects whose learning rate fit uses: the optimizer itself and any deepcore
    optimizer (something with param_groups) it wraps."""
    targets = [optimizer]
    for name in ("optimizer", "_optimizer", "torch_optimizer", "_inner", "_impl", "_opt"):
        inner = getattr(optimizer, name, None)
        if inner is not None and inner is not optimizer and hasattr(inner, "param_groups"):
            targets.append(inner)
    return targets


def get_learning_rate(optimizer):
    for name in ("learning_rate", "lr"):
        value = getattr(optimizer, name, None)
        if value is not None and _is_number(_scalar(value)):
            return float(_scalar(value))
    for target in _optimizer_targets(optimizer):
        groups = getattr(target, "param_groups", None)
        if groups:
            return float(groups[0]["lr"])
    raise AttributeError(f"the optimizer ({type(optimizer).__name__}) has no 'learning_rate', 'lr' or "
                         f"'param_groups'")


def set_learning_rate(optimizer, value):
    """Sets every place the learning rate lives: learning_rate / lr attributes and the
    'lr' of each param group of the optimizer or the deepcore optimizer it wraps."""
    value = float(value)
    found = False
    for target in _optimizer_targets(optimizer):
        for name in ("learning_rate", "lr"):
            if getattr(target, name, None) is not None and not callable(getattr(target, name)):
                try:
                    setattr(target, name, value)
                    found = True
                except AttributeError:       # a read-only alias
                    pass
        for group in getattr(target, "param_groups", None) or ():
            group["lr"] = value
            found = True
    if not found:
        raise AttributeError(f"the optimizer ({type(optimizer).__name__}) has no 'learning_rate', 'lr' or "
                             f"'param_groups' to set")


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when ``monitor`` has not improved by more
    than ``min_delta`` for ``patience`` epochs; then wait ``cooldown`` epochs; never go
    below ``min_lr``. Adds 'lr' to the epoch logs."""

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto", min_delta=1e-4,
                 cooldown=0, min_lr=0, **kwargs):
        super().__init__()
        if "epsilon" in kwargs:                      # Keras 2.0's name for min_delta
            min_delta = kwargs.pop("epsilon")
        if kwargs:
            raise TypeError(f"ReduceLROnPlateau: unexpected arguments {sorted(kwargs)}")
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0, got {factor}")
        self.monitor = monitor
        self.factor = float(factor)
        self.patience = int(patience)
        self.verbose = verbose
        self.min_delta = abs(float(min_delta))
        self.cooldown = int(cooldown)
        self.min_lr = float(min_lr)
        self.mode = _default_monitor_op(mode, monitor, "ReduceLROnPlateau")
        self._reset()

    def _reset(self):
        self.best = math.inf if self.mode == "min" else -math.inf
        self.wait = 0
        self.cooldown_counter = 0

    def _improves(self, current):
        if self.mode == "min":
            return current < self.best - self.min_delta
        return current > self.best + self.min_delta

    def in_cooldown(self):
        return self.cooldown_counter > 0

    def on_train_begin(self, logs=None):
        self._reset()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        logs["lr"] = get_learning_rate(self.model.optimizer)
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"ReduceLROnPlateau: the monitored quantity {self.monitor!r} is not in the logs "
                          f"(available: {', '.join(sorted(logs))})", RuntimeWarning, stacklevel=2)
            return
        current = float(_scalar(current))
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._improves(current):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience:
                old_lr = logs["lr"]
                if old_lr > self.min_lr:
                    new_lr = max(old_lr * self.factor, self.min_lr)
                    set_learning_rate(self.model.optimizer, new_lr)
                    if self.verbose > 0:
                        print(f"\nEpoch {epoch + 1:05d}: ReduceLROnPlateau reducing learning rate to {new_lr}.")
                    self.cooldown_counter = self.cooldown
                    self.wait = 0


class LearningRateScheduler(Callback):
    """Sets the learning rate at the start of every epoch to ``schedule(epoch)`` (or
    ``schedule(epoch, lr)`` with the current rate, as Keras 2.2+ accepts); adds 'lr' to the
    epoch logs."""

    def __init__(self, schedule, verbose=0):
        super().__init__()
        if not callable(schedule):
            raise TypeError(f"LearningRateScheduler: schedule must be callable, got {type(schedule).__name__}")
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch, logs=None):
        current = get_learning_rate(self.model.optimizer)
        try:
            lr = self.schedule(epoch, current)
        except TypeError:  # the one-argument form of Keras 2.0/2.1
            lr = self.schedule(epoch)
        if not _is_number(_scalar(lr)):
            raise ValueError(f"LearningRateScheduler: the schedule must return a number, got {lr!r}")
        set_learning_rate(self.model.optimizer, float(_scalar(lr)))
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1:05d}: LearningRateScheduler setting learning rate to {float(_scalar(lr))}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["lr"] = get_learning_rate(self.model.optimizer)


class TensorBoard(Callback):
    """Writes TensorBoard event files (``tensorboard --logdir <log_dir>``), as Keras:
    ``<log_dir>/train`` and ``<log_dir>/validation`` runs with the scalars
    'epoch_loss', 'epoch_accuracy', ... (a log 'val_x' goes to validation as
    'epoch_x'; 'lr'/'learning_rate' to train as 'epoch_learning_rate') at step = epoch.

    ``update_freq`` 'batch' or an integer N also writes 'batch_<name>' train scalars
    every N batches (step = batches seen across epochs). ``histogram_freq`` N > 0
    writes a histogram of every weight array every N epochs (names from
    ``model.weights[i].name`` where the model has them). ``write_graph``: deepcore has
    no TensorFlow graph to show, so nothing is written for it.

    The files are written by hand (TFRecord framing with masked CRC-32C, protobuf
    Event/Summary messages; see _tensorboard.py): no TensorFlow or TensorBoard
    needed to write them."""

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True, write_images=False,
                 write_steps_per_second=False, update_freq="epoch", profile_batch=0, embeddings_freq=0,
                 embeddings_metadata=None, **kwargs):
        super().__init__()
        for legacy in ("batch_size", "write_grads", "embeddings_layer_names", "embeddings_data"):
            kwargs.pop(legacy, None)                 # Keras 2.2 arguments with no effect here
        if kwargs:
            raise TypeError(f"TensorBoard: unexpected arguments {sorted(kwargs)}")
        if update_freq not in ("epoch", "batch") and not (isinstance(update_freq, int) and update_freq > 0):
            raise ValueError(f"TensorBoard: update_freq must be 'epoch', 'batch' or a positive int, "
                             f"got {update_freq!r}")
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = int(histogram_freq)
        self.write_graph = write_graph
        self.write_images = write_images
        self.write_steps_per_second = write_steps_per_second
        self.update_freq = 1 if update_freq == "batch" else update_freq
        self._writers = {}
        self._global_batch = 0
        self._epoch_start = None
        self._epoch_batches = 0

    def _writer(self, run):
        writer = self._writers.get(run)
        if writer is None:
            writer = self._writers[run] = _tensorboard.EventFileWriter(os.path.join(self.log_dir, run))
        return writer

    def on_train_begin(self, logs=None):
        self._writer("train")

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.time()
        self._epoch_batches = 0

    def on_train_batch_end(self, batch, logs=None):
        self._global_batch += 1
        self._epoch_batches += 1
        if self.update_freq == "epoch" or self._global_batch % self.update_freq:
            return
        scalars = {f"batch_{k}": float(_scalar(v)) for k, v in (logs or {}).items()
                   if k not in ("batch", "size") and _is_number(_scalar(v))}
        self._writer("train").add_scalars(self._global_batch, scalars)

    def on_epoch_end(self, epoch, logs=None):
        train, validation = {}, {}
        for name, value in (logs or {}).items():
            value = _scalar(value)
            if not _is_number(value):
                continue
            if name.startswith("val_"):
                validation["epoch_" + name[4:]] = float(value)
            elif name in ("lr", "learning_rate"):
                train["epoch_learning_rate"] = float(value)
            else:
                train["epoch_" + name] = float(value)
        if self.write_steps_per_second and self._epoch_start is not None and self._epoch_batches:
            train["epoch_steps_per_second"] = self._epoch_batches / max(time.time() - self._epoch_start, 1e-9)
        self._writer("train").add_scalars(epoch, train)
        if validation:
            self._writer("validation").add_scalars(epoch, validation)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._write_histograms(epoch)
        for writer in self._writers.values():
            writer.flush()

    def _write_histograms(self, epoch):
        if not hasattr(self.model, "get_weights"):
            return
        weights = self.model.get_weights()
        variables = getattr(self.model, "weights", None)
        names = []
        for i in range(len(weights)):
            name = None
            if variables is not None and len(variables) == len(weights):
                name = getattr(variables[i], "name", None)
            names.append(str(name) if name else f"weight_{i}")
        writer = self._writer("train")
        for name, value in zip(names, weights):
            writer.add_histogram(epoch, name.replace(":", "_"), np.asarray(value))

    def on_train_end(self, logs=None):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}
