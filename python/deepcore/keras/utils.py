"""keras.utils: ``to_categorical``, ``normalize`` and the ``Progbar`` that ``fit`` draws.

    y_train = keras.utils.to_categorical(y_train, num_classes)

``np_utils`` is the same two functions under the older Keras 2 spelling
(``from keras.utils import np_utils; np_utils.to_categorical(...)``).
"""
import math
import sys
import time
import types

import numpy as np

from .preprocessing.sequence import pad_sequences  # noqa: F401  (keras.utils.pad_sequences: Keras 3's home of it)


def _as_numpy(x, name):
    if hasattr(x, "numpy") and not isinstance(x, np.ndarray):   # a deepcore (or torch) tensor
        x = x.numpy()
    try:
        return np.asarray(x)
    except Exception as exc:  # noqa: BLE001 - re-raised with the function's name
        raise TypeError(f"{name}: expected an array-like, got {type(x).__name__}") from exc


class Sequence:
    """Batches by index, for fit/evaluate/predict (Keras 2's keras.utils.Sequence): implement
    ``__len__`` (batches per epoch) and ``__getitem__(index)`` returning (x, y) or (x, y, sample_weight)
    (x alone for predict); ``on_epoch_end`` runs after each training epoch (e.g. to reshuffle).
    With ``shuffle=True`` fit visits the batches in a new random order each epoch."""

    def __getitem__(self, index):
        raise NotImplementedError

    def __len__(self):
        raise NotImplementedError

    def on_epoch_end(self):
        pass

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]


def unpack_x_y_sample_weight(data):
    """``x``, ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)`` -> (x, y, sample_weight) (keras.utils')."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) == 1:
        return data[0], None, None
    if len(data) == 2:
        return data[0], data[1], None
    if len(data) == 3:
        return data
    raise ValueError(f"Data is expected to be in format `x`, `(x,)`, `(x, y)`, or `(x, y, sample_weight)`, found "
                     f"a tuple of {len(data)} elements")


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """The inverse (keras.utils'): x alone stays x unless it is a tuple or list, then (x,)."""
    if y is None:
        return (x,) if isinstance(x, (list, tuple)) else x
    return (x, y) if sample_weight is None else (x, y, sample_weight)


def set_random_seed(seed):
    """Keras 3's one call for a reproducible run: seeds Python's `random`, NumPy's global generator
    (which fit(shuffle=True) and the Keras initializers' NumPy paths draw from) and deepcore's own."""
    import random

    from .. import manual_seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"set_random_seed: expected an integer seed, got {seed!r} ({type(seed).__name__})")
    random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)
    manual_seed(int(seed))


def to_categorical(y, num_classes=None, dtype="float32"):
    """One-hot encode class indices, as Keras 2: shape ``y.shape + (num_classes,)``, except
    that a trailing axis of length 1 is replaced (``(N, 1)`` gives ``(N, num_classes)``).
    ``num_classes=None`` means ``max(y) + 1``. Returns a NumPy array of ``dtype``.

    Keras casts to int silently; here labels that are not whole numbers, negative, or
    ``>= num_classes`` raise ValueError instead of producing a wrong encoding."""
    y = _as_numpy(y, "to_categorical")
    if y.dtype == object or not (np.issubdtype(y.dtype, np.integer) or np.issubdtype(y.dtype, np.floating)
                                 or y.dtype == np.bool_):
        raise TypeError(f"to_categorical: expected integer class indices, got an array of dtype {y.dtype}")
    if np.issubdtype(y.dtype, np.floating):
        if not np.all(np.isfinite(y)) or np.any(y != np.round(y)):
            raise ValueError("to_categorical: class indices must be whole numbers; got non-integer or "
                             "non-finite values")
    labels = y.astype(np.int64)
    input_shape = labels.shape
    if len(input_shape) > 1 and input_shape[-1] == 1:
        input_shape = input_shape[:-1]
    labels = labels.ravel()
    if labels.size and labels.min() < 0:
        raise ValueError(f"to_categorical: class indices must be >= 0, got {labels.min()}")
    if num_classes is None:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    num_classes = int(num_classes)
    if num_classes < 0:
        raise ValueError(f"to_categorical: num_classes must be >= 0, got {num_classes}")
    if labels.size and labels.max() >= num_classes:
        raise ValueError(f"to_categorical: class index {labels.max()} is out of range for "
                         f"num_classes={num_classes}")
    categorical = np.zeros((labels.size, num_classes), dtype=dtype)
    categorical[np.arange(labels.size), labels] = 1
    return categorical.reshape(input_shape + (num_classes,))


def normalize(x, axis=-1, order=2):
    """``x`` divided by its ``order``-norm along ``axis`` (zero vectors stay zero), as Keras."""
    x = _as_numpy(x, "normalize")
    norm = np.atleast_1d(np.linalg.norm(x, order, axis))
    norm[norm == 0] = 1
    return x / np.expand_dims(norm, axis)


np_utils = types.SimpleNamespace(to_categorical=to_categorical, normalize=normalize)


def _stdout_is_dynamic():
    """True where ``\\r`` redraws a line: a terminal, or a Jupyter/IPython kernel."""
    stream = sys.stdout
    try:
        if stream.isatty():
            return True
    except (AttributeError, ValueError):
        pass
    return "ipykernel" in sys.modules or "google.colab" in sys.modules


def _format_duration(seconds):
    if seconds >= 3600:
        return "%d:%02d:%02d" % (seconds // 3600, (seconds % 3600) // 60, seconds % 60)
    if seconds >= 60:
        return "%d:%02d" % (seconds // 60, seconds % 60)
    return "%ds" % seconds


def _format_time_per_unit(seconds, unit_name):
    if seconds >= 1 or seconds == 0:
        return f"{seconds:.0f}s/{unit_name}"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/{unit_name}"
    return f"{seconds * 1e6:.0f}us/{unit_name}"


def _format_value(value):
    try:
        value = float(value)
    except (TypeError, ValueError):
        return f" {value}"
    return f" {value:.4f}" if abs(value) > 1e-3 or value == 0 or not math.isfinite(value) else f" {value:.4e}"


class Progbar:
    """Keras' progress bar::

        469/469 [==============================] - 3s 6ms/step - loss: 0.2461 - accuracy: 0.9243

    ``update(current, values)``: ``values`` is a list of ``(name, value)``; a name in
    ``stateful_metrics`` is shown as given, any other is averaged over the steps seen
    (each weighted by how far ``current`` moved). ``verbose=1`` redraws one line with
    an ETA, at most every ``interval`` seconds; ``verbose=2`` prints one line when
    ``current`` reaches ``target``. When stdout is not a terminal (a log file, a pipe)
    verbose=1 prints a complete line at most every ``non_tty_interval`` seconds (10 s)
    plus the final one, instead of hundreds of redraws."""

    non_tty_interval = 10.0

    def __init__(self, target, width=30, verbose=1, interval=0.05, stateful_metrics=None, unit_name="step"):
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self.stateful_metrics = set(stateful_metrics) if stateful_metrics else set()
        self._dynamic_display = _stdout_is_dynamic()
        self._totals = {}           # name -> [weighted sum, weight] (averaged) or value (stateful)
        self._names = []            # display order: first appearance
        self._seen_so_far = 0
        self._start = time.time()
        self._last_update = 0.0
        self._last_print = self._start
        self._prev_total_width = 0
        self._finished = False

    def update(self, current, values=None, finalize=None):
        values = values or []
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        for name, value in values:
            if name not in self._names:
                self._names.append(name)
            if name in self.stateful_metrics:
                self._totals[name] = value
            else:
                weight = max(current - self._seen_so_far, 1)
                total = self._totals.get(name)
                if not isinstance(total, list):
                    total = self._totals[name] = [0.0, 0]
                total[0] += float(value) * weight
                total[1] += weight
        self._seen_so_far = current
        if self.verbose == 0 or self._finished:
            return
        now = time.time()
        if finalize:
            self._finished = True
        if self.verbose == 1:
            if not finalize and now - self._last_update < self.interval:
                return
            if not self._dynamic_display and not finalize and now - self._last_print < self.non_tty_interval:
                return
            self._last_update = self._last_print = now
            line = self._bar(current) + self._timing(current, now, finalize) + self._metrics()
            self._write_line(line, finalize)
        elif self.verbose == 2 and finalize:
            elapsed = now - self._start
            line = f"{self._counter(current)} - {_format_duration(elapsed)}"
            if current:
                line += " - " + _format_time_per_unit(elapsed / current, self.unit_name)
            sys.stdout.write(line + self._metrics() + "\n")
            sys.stdout.flush()

    def add(self, n, values=None):
        self.update(self._seen_so_far + n, values)

    # ---- drawing ----------------------------------------------------------------------------------
    def _counter(self, current):
        if self.target is None:
            return f"{current:7d}/Unknown"
        digits = len(str(self.target))
        return f"{current:{digits}d}/{self.target}"

    def _bar(self, current):
        text = self._counter(current)
        if self.target is None:
            return text
        progress = min(current / self.target, 1.0) if self.target else 1.0
        filled = int(self.width * progress)
        bar = ""
        if filled > 0:
            bar = "=" * (filled - 1) + (">" if current < self.target else "=")
        return f"{text} [{bar}{'.' * (self.width - len(bar))}]"

    def _timing(self, current, now, finalize):
        elapsed = now - self._start
        per_unit = elapsed / current if current else 0.0
        if finalize or self.target is None:
            return f" - {_format_duration(elapsed)} {_format_time_per_unit(per_unit, self.unit_name)}"
        return f" - ETA: {_format_duration(per_unit * (self.target - current))}"

    def _metrics(self):
        text = ""
        for name in self._names:
            total = self._totals[name]
            value = total[0] / max(total[1], 1) if isinstance(total, list) else total
            text += f" - {name}:{_format_value(value)}"
        return text

    def _write_line(self, line, finalize):
        if self._dynamic_display:
            padding = " " * max(self._prev_total_width - len(line), 0)
            self._prev_total_width = len(line)
            sys.stdout.write("\r" + line + padding + ("\n" if finalize else ""))
        else:
            sys.stdout.write(line + "\n")
        sys.stdout.flush()
