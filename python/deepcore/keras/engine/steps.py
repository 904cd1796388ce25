"""Keras 3's overridable steps: ``train_step`` / ``test_step`` / ``predict_step``, ``compute_loss``,
``compute_metrics`` and the ``metrics`` a step updates.

fit, evaluate and predict run the built-in batched loop (training.py) for a functional or Sequential
model whose class overrides none of the steps. A model class that overrides a step, or a subclassed
model that defines its own ``call`` (no layer graph to replay), goes through the loops here instead,
as Keras 3 runs every model: each batch is handed to the step as the user gave it, ``x``, ``(x, y)``
or ``(x, y, sample_weight)`` (NumPy arrays turned into deepcore tensors in Keras' layout), and the
step returns the logs, a dict of numbers or tensors (nested dicts are flattened: ``compile_metrics``).
Stateful metrics carry the running means: ``self.metrics`` are reset at the start of each epoch and
of evaluate, and an epoch's logs are its last step's.

The compiled loss and metrics are built on the first predictions they see, so a subclassed model
needs no symbolic outputs: ``compile(loss=..., metrics=..., loss_weights=...)`` names one spec for
all outputs, a list by position, or a dict by output name (a dict of predictions' keys, or the
functional model's output names).
"""
import weakref

import numpy as np

from ...autograd import no_grad
from ...ops.index import index_select
from ...tensor import Tensor
from .. import losses as _losses
from .. import metrics as _metrics
from .._common import as_tensor
from ..utils import Sequence, pack_x_y_sample_weight, unpack_x_y_sample_weight  # noqa: F401


# ---- data structures -----------------------------------------------------------------------------
def _tree_map(fn, data):
    if isinstance(data, (list, tuple)):
        return tuple(_tree_map(fn, d) for d in data)  # a DataLoader's [x, y] arrives as (x, y), as in Keras
    if isinstance(data, dict):
        return {k: _tree_map(fn, v) for k, v in data.items()}
    return None if data is None else fn(data)


def _leaves(data):
    if isinstance(data, (list, tuple)):
        return [leaf for d in data for leaf in _leaves(d)]
    if isinstance(data, dict):
        return [leaf for d in data.values() for leaf in _leaves(d)]
    return [] if data is None else [data]


def _to_tensor(a):
    """An array (or number) -> a deepcore tensor: floats in float32 (Keras' floatx), integers and bools kept."""
    if isinstance(a, Tensor):
        return a
    if hasattr(a, "numpy") and not isinstance(a, np.ndarray):
        a = a.numpy()
    arr = np.asarray(a)
    if arr.dtype == object:
        raise TypeError("fit/evaluate/predict: expected numeric arrays in the data, got an object array")
    if arr.dtype.kind == "f":
        return as_tensor(arr)
    return Tensor(np.ascontiguousarray(arr if arr.dtype != np.int32 else arr.astype(np.int64)))


def _batch_size_of(data):
    leaves = _leaves(data)
    return int(leaves[0].shape[0]) if leaves and getattr(leaves[0], "ndim", 0) else 1


class _ArrayBatches:
    """(x, y, sample_weight) arrays -> ``steps`` batches per epoch, shuffled with NumPy's global generator
    (as fit's built-in loop) and gathered with index_select."""

    def __init__(self, x, y, sample_weight, batch_size, shuffle):
        self.data = _tree_map(_to_tensor, pack_x_y_sample_weight(x, y, sample_weight))
        sizes = {int(t.shape[0]) for t in _leaves(self.data)}
        if len(sizes) != 1:
            raise ValueError(f"Data cardinality is ambiguous: the arrays have {sorted(sizes)} samples; make sure "
                             f"all arrays contain the same number of samples")
        self.samples = sizes.pop()
        if self.samples == 0:
            raise ValueError("fit/evaluate/predict: no samples given")
        self.batch_size, self.shuffle = batch_size, shuffle
        self.steps = -(-self.samples // batch_size)

    def epoch(self):
        order = np.random.permutation(self.samples) if self.shuffle else None
        for start in range(0, self.samples, self.batch_size):
            stop = min(start + self.batch_size, self.samples)
            if order is None and start == 0 and stop == self.samples:
                yield self.data
                continue
            idx = Tensor(np.ascontiguousarray(order[start:stop] if order is not None
                                              else np.arange(start, stop), dtype=np.int64))
            yield _tree_map(lambda t: index_select(t, 0, idx), self.data)


class _SourceBatches:
    """A generator, keras.utils.Sequence or torch-style DataLoader (iterable, with a length) -> batches."""

    def __init__(self, source, steps, who):
        self.source, self.samples, self.batch_size = source, None, None
        if steps is None:
            if not hasattr(source, "__len__"):
                raise ValueError(f"{who}: a generator has no length: give steps_per_epoch / steps")
            steps = len(source)
        self.steps = int(steps)
        self._iterator = None

    def epoch(self):
        src = self.source
        if isinstance(src, Sequence):
            batches = (src[i] for i in range(len(src)))
        elif hasattr(src, "__next__"):  # one generator for all epochs, as Keras
            batches = src
        else:  # a DataLoader: a fresh pass (and shuffle) per epoch
            batches = iter(src)
        for step, batch in enumerate(batches):
            if step >= self.steps:
                break
            yield _tree_map(_to_tensor, batch)
        if isinstance(src, Sequence) and hasattr(src, "on_epoch_end"):
            src.on_epoch_end()


def is_step_source(x):
    """What the step loops take as batches: a generator, a Sequence, or an iterable of batches with a length
    (a DataLoader); arrays, tensors, lists and dicts of arrays are data, not a source."""
    if isinstance(x, (np.ndarray, Tensor, list, tuple, dict)) or x is None:
        return False
    return isinstance(x, Sequence) or hasattr(x, "__next__") or (hasattr(x, "__iter__") and hasattr(x, "__len__"))


def make_batches(x, y, sample_weight, batch_size, shuffle, steps, who):
    if is_step_source(x):
        if y is not None or sample_weight is not None:
            raise ValueError(f"{who}: a generator, Sequence or DataLoader yields (x, y[, sample_weight]) itself: "
                             f"do not pass y or sample_weight with it")
        return _SourceBatches(x, steps, who)
    if steps is not None:
        raise ValueError(f"{who}: steps are for generators, Sequences and DataLoaders; with arrays, batch_size "
                         f"sets them")
    batch_size = 32 if batch_size is None else int(batch_size)
    if batch_size < 1:
        raise ValueError(f"{who}: batch_size must be positive, got {batch_size}")
    return _ArrayBatches(x, y, sample_weight, batch_size, shuffle)


def flatten_logs(logs, who):
    """A step's returned dict -> {name: float}; nested dicts (compile_metrics) are merged in."""
    if not isinstance(logs, dict):
        raise TypeError(f"{who} must return a dict of metric names to values, got {type(logs).__name__}")
    out = {}
    for k, v in logs.items():
        if isinstance(v, dict):
            out.update(flatten_logs(v, who))
        elif isinstance(v, Tensor):
            out[k] = float(v.detach().item()) if v.numel() == 1 else v.detach().numpy()
        else:
            out[k] = float(v) if isinstance(v, (int, float, np.number)) else v
    return out


# ---- the compiled loss and metrics -------------------------------------------------------------------
def _structure(model, y_pred):
    """(output names, predictions as a list) of a model's predictions (one tensor, a list or a dict)."""
    if isinstance(y_pred, dict):
        return list(y_pred), list(y_pred.values())
    preds = list(y_pred) if isinstance(y_pred, (list, tuple)) else [y_pred]
    names = list(getattr(model, "output_names", []) or [])
    if len(names) != len(preds):
        names = ["output"] if len(preds) == 1 else [f"output_{i + 1}" for i in range(len(preds))]
    return names, preds


def _per_output(spec, names, what):
    if isinstance(spec, dict):
        unknown = [k for k in spec if k not in names]
        if unknown:
            raise ValueError(f"compile: unknown output(s) {unknown} in the {what} dictionary; outputs are {names}")
        return [spec.get(k) for k in names]
    if isinstance(spec, (list, tuple)) and len(names) > 1:
        if len(spec) != len(names):
            raise ValueError(f"compile: {what} has {len(spec)} entries for {len(names)} outputs")
        return list(spec)
    return [spec] * len(names)


def _targets(y, names, who):
    if isinstance(y, dict):
        return [y.get(k) for k in names]
    if isinstance(y, (list, tuple)) and len(names) > 1:
        if len(y) != len(names):
            raise ValueError(f"{who}: {len(y)} targets for {len(names)} outputs")
        return list(y)
    return [y] * len(names) if len(names) == 1 else [y] + [None] * (len(names) - 1)


def _as_target(y, fn):
    y = _to_tensor(y)
    if getattr(fn, "__name__", "") == "sparse_categorical_crossentropy" and y.dtype.is_floating_point:
        y = y.long()  # Keras 3 takes float class labels too
    return y


class CompiledLoss:
    """compile()'s loss and loss_weights, applied by compute_loss: the sum over outputs of weight * loss,
    each reduced as Keras 3 does (a Loss object by its own reduction; a function: the mean over the batch
    of its per-sample values times sample_weight)."""

    def __init__(self, loss, loss_weights):
        self.loss, self.loss_weights = loss, loss_weights
        self._names = None

    def _build(self, model, y_pred):
        names, _ = _structure(model, y_pred)
        specs = _per_output(self.loss, names, "loss")
        self.fns = [None if s is None else _losses.get(s) for s in specs]
        self.means = [None if fn is None else _losses.batch_mean(fn) for fn in self.fns]
        lw = self.loss_weights
        self.weights = [1.0 if w is None else float(w) for w in
                        (_per_output(lw, names, "loss_weights") if lw is not None else [None] * len(names))]
        self._names = names

    def __call__(self, model, y, y_pred, sample_weight):
        if self._names is None:
            self._build(model, y_pred)
        names, preds = _structure(model, y_pred)
        if len(names) != len(self._names):
            raise ValueError(f"compute_loss: the model gave {len(names)} outputs, compiled for {len(self._names)}")
        ys = _targets(y, names, "compute_loss")
        ws = _targets(sample_weight, names, "compute_loss") if sample_weight is not None else [None] * len(names)
        total = None
        for name, fn, mean, weight, yt, yp, w in zip(names, self.fns, self.means, self.weights, ys, preds, ws):
            if fn is None:
                continue
            if yt is None:
                raise ValueError(f"compute_loss: output {name!r} has a loss but no target (y) was given")
            yt = _as_target(yt, fn)
            if w is None:
                value = mean(yt, yp)
            elif isinstance(fn, _losses.Loss):
                value = fn(yt, yp, sample_weight=_to_tensor(w))
            else:
                per = fn(yt, yp)
                value = (per * _metrics._weights_for(per, _to_tensor(w))).mean()
            value = value if weight == 1.0 else value * weight
            total = value if total is None else total + value
        return total


class CompileMetrics(_metrics.Metric):
    """The metrics given to compile, as one stateful metric named 'compile_metrics' (Keras 3): update_state(y,
    y_pred, sample_weight) adds a batch to each (unweighted, as Keras 3's `metrics`), result() is a dict of
    their running means."""

    def __init__(self, model, spec, compiled_loss):
        super().__init__(name="compile_metrics")
        self._model = weakref.ref(model)  # the model holds its metrics: no cycle back
        self._spec, self._loss = spec, compiled_loss
        self._entries = None  # [(output index, name, per-sample fn, Mean)], built on the first batch

    def _build(self, model, y_pred):
        names, preds = _structure(model, y_pred)
        per_output = _per_output(self._spec or [], names, "metrics")
        loss_fns = _per_output(self._loss.loss, names, "loss")
        self._entries = []
        for i, (ms, loss) in enumerate(zip(per_output, loss_fns)):
            ms = ms if isinstance(ms, (list, tuple)) else ([] if ms is None else [ms])
            loss_fn = None if loss is None else _losses.get(loss)
            for m in ms:
                name, fn = _metrics.resolve(m, loss_fn, tuple(preds[i].shape))
                shown = f"{names[i]}_{name}" if len(names) > 1 else name
                self._entries.append((i, shown, fn, _metrics.Mean(name=shown)))

    def update_state(self, y_true, y_pred, sample_weight=None):
        model = self._model()
        if self._entries is None:
            self._build(model, y_pred)
        names, preds = _structure(model, y_pred)
        ys = _targets(y_true, names, "compute_metrics")
        with no_grad():  # compile's `metrics` are unweighted in Keras 3 (sample_weight is for weighted_metrics)
            for i, _, fn, mean in self._entries:
                if ys[i] is not None:
                    mean.update_state(fn(_as_target(ys[i], fn), preds[i].detach()))

    def result(self):
        return {name: mean.result() for _, name, _, mean in (self._entries or [])}

    def reset_state(self):
        for _, _, _, mean in self._entries or []:
            mean.reset_state()

    def reset_states(self):
        self.reset_state()
