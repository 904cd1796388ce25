"""What fit/evaluate/predict are given -> the model's tensors, batch by batch.

Arrays are converted to deepcore tensors once (rank-4 inputs already in the internal NCHW layout)
and each batch is gathered with deepcore.index_select (NumPy only shuffles index arrays). A
generator or keras.utils.Sequence hands over one batch at a time, converted as it arrives. Either
way a ``DataAdapter`` gives the loops the same thing: ``steps`` batches per epoch, each
``(size, xs, ys, ws)`` (inputs, targets of the outputs with a loss, per-sample weights or None).
"""
import numpy as np

from ...ops.index import index_select
from ...tensor import Tensor
from .._common import as_list, as_tensor, to_internal
from ..utils import Sequence


def to_array(x, what):
    if isinstance(x, Tensor):
        return x
    if hasattr(x, "numpy") and not isinstance(x, np.ndarray):
        x = x.numpy()
    arr = np.asarray(x)
    if arr.dtype == object:
        raise TypeError(f"{what}: expected a numeric array, got an object array")
    return arr


def is_batch_source(x):
    """A keras.utils.Sequence or an iterator/generator of batches (not an array, list or dict of arrays)."""
    return isinstance(x, Sequence) or (hasattr(x, "__next__") and not isinstance(x, (np.ndarray, Tensor)))


def check_lengths(xs, ys=()):
    lengths = {int(t.shape[0]) for t in list(xs) + list(ys)}
    if len(lengths) > 1:
        raise ValueError(f"All input and target arrays should have the same number of samples; got "
                         f"{sorted(lengths)}")
    return lengths.pop() if lengths else 0


# ---- arrays -> tensors ---------------------------------------------------------------------------
def maybe_build_from(model, x):
    """Builds an unbuilt (Sequential) model from the shape of its data."""
    if model.built and model.outputs:
        return
    arrays = as_list(x) if not isinstance(x, dict) else list(x.values())
    if len(arrays) != 1:
        raise ValueError("This model has not yet been built and has several inputs")
    model.build((None,) + tuple(to_array(arrays[0], "x").shape[1:]))


def prepare_inputs(model, x, what="input"):
    if isinstance(x, dict):
        missing = [k for k in model.input_names if k not in x]
        if missing:
            raise ValueError(f"No data provided for {missing}. Need data for each key in: {model.input_names}")
        arrays = [x[k] for k in model.input_names]
    else:
        arrays = as_list(x) if isinstance(x, (list, tuple)) and len(model.inputs) > 1 else [x]
    if len(arrays) != len(model.inputs):
        raise ValueError(f"Error when checking model {what}: the list of arrays you are passing to your model is "
                         f"not the size the model expected. Expected to see {len(model.inputs)} array(s), but "
                         f"instead got {len(arrays)}")
    out = []
    for t, a, name in zip(model.inputs, arrays, model.input_names):
        a = to_array(a, what)
        shape = tuple(a.shape)
        expected = t.shape
        if len(shape) != len(expected) or any(e is not None and e != s for e, s in zip(expected[1:], shape[1:])):
            raise ValueError(f"Error when checking {what}: expected {name} to have shape {expected[1:]} but got "
                             f"array with shape {shape[1:]}")
        out.append(to_internal(as_tensor(a)))
    return out


def prepare_targets(model, y):
    """Tensors for the outputs that have a loss, in order (Keras 2 takes no target for the others;
    with no loss at all, y is None)."""
    if not model._targets:
        if y is not None and not (isinstance(y, (list, tuple, dict)) and len(y) == 0):
            raise ValueError("Error when checking model target: the model has no output with a loss (it trains "
                             "on the losses its layers add), so fit/evaluate take no targets: pass y=None")
        return []
    names = [model.output_names[i] for i in model._targets]
    if y is None:
        raise ValueError(f"Error when checking model target: targets are required for the output(s) {names}")
    if isinstance(y, dict):
        missing = [k for k in names if k not in y]
        if missing:
            raise ValueError(f"Error when checking model target: no data for the output(s) {missing}")
        arrays = [y[k] for k in names]
    else:
        arrays = as_list(y) if isinstance(y, (list, tuple)) and len(names) > 1 else [y]
    if len(arrays) != len(names):
        raise ValueError(f"Error when checking model target: expected {len(names)} array(s), got "
                         f"{len(arrays)}")
    out = []
    for i, a in zip(model._targets, arrays):
        a = to_array(a, "target")
        if model._sparse_targets[i]:
            t = a if isinstance(a, Tensor) else Tensor(np.ascontiguousarray(np.asarray(a).astype(np.int64)))
            out.append(t if t.dtype.name == "int64" else t.long())
        else:
            t = as_tensor(a)
            shape = model.outputs[i].shape
            if t.ndim == 1 and len(shape) == 2 and shape[-1] == 1:
                t = t.reshape(-1, 1)  # labels (N,) for an (N, 1) output, as Keras 2 expands 1-D targets
            out.append(t)
    return out


def prepare_weights(model, ys, sample_weight=None, class_weight=None):
    """Per-sample weights for each output with a loss (None: unweighted), as Keras 2's
    standardize_weights: sample_weight (one array, or a list/dict per output) wins over
    class_weight ({class: weight}, or {output: {class: weight}}), which weighs each sample by its
    target's class (the argmax of a one-hot row)."""
    names = [model.output_names[i] for i in model._targets]
    if sample_weight is None and class_weight is None:
        return [None] * len(names)

    def per_output(spec, what, nested_dict):
        if spec is None:
            return [None] * len(names)
        if isinstance(spec, dict) and (nested_dict or len(names) > 1) and set(spec) <= set(names):
            return [spec.get(k) for k in names]
        if isinstance(spec, (list, tuple)) and len(names) > 1:
            if len(spec) != len(names):
                raise ValueError(f"{what}: expected one entry per output with a loss ({names}), got {len(spec)}")
            return list(spec)
        return [spec] * len(names)

    samples = per_output(sample_weight, "sample_weight", False)
    classes = per_output(class_weight, "class_weight",
                         isinstance(class_weight, dict) and all(isinstance(v, dict) for v in class_weight.values()))
    out = []
    for k, (y, sw, cw) in enumerate(zip(ys, samples, classes)):
        n = int(y.shape[0])
        if sw is not None:
            w = np.asarray(sw, dtype=np.float32)
            if w.shape != (n,):
                raise ValueError(f"sample_weight for output {names[k]!r}: expected shape ({n},) (one weight per "
                                 f"sample), got {w.shape}")
        elif cw is not None:
            if not isinstance(cw, dict):
                raise TypeError(f"class_weight must be a dict {{class: weight}}, got {type(cw).__name__}")
            labels = y.numpy()  # once per fit: interchange, not the training step
            labels = labels.argmax(-1) if labels.ndim > 1 and labels.shape[-1] > 1 else labels.reshape(n)
            labels = labels.astype(np.int64)
            missing = sorted(set(np.unique(labels).tolist()) - {int(c) for c in cw})
            if missing:
                raise ValueError(f"class_weight for output {names[k]!r} has no weight for the class(es) "
                                 f"{missing} present in the data")
            table = np.zeros(int(max(max(int(c) for c in cw), labels.max(initial=0))) + 1, dtype=np.float32)
            for c, v in cw.items():
                table[int(c)] = float(v)
            w = table[labels]
        else:
            out.append(None)
            continue
        if not np.all(np.isfinite(w)) or np.any(w < 0):
            raise ValueError(f"weights for output {names[k]!r} must be finite and non-negative")
        out.append(Tensor(np.ascontiguousarray(w)))
    return out


# ---- generators and Sequences --------------------------------------------------------------------
def build_from_source(model, source):
    """Builds an unbuilt Sequential from the first batch; returns it for a generator (to be used)."""
    if model.built and model.outputs:
        return None
    item = source[0] if isinstance(source, Sequence) else next(source)
    maybe_build_from(model, item[0] if isinstance(item, tuple) else item)
    return None if isinstance(source, Sequence) else [item]


def source_steps(source, steps, what):
    if steps is not None:
        steps = int(steps)
        if steps < 1:
            raise ValueError(f"{what} must be a positive number of batches, got {steps}")
        return steps
    if hasattr(source, "__len__"):
        return len(source)
    raise ValueError(f"{what} is required with a generator (it has no length: how many batches make an epoch?)")


def _prepare_item(model, item, class_weight=None, targets=True):
    """A generator's/Sequence's item, (x, y) or (x, y, sample_weight) (or (x,) for a model without
    targets), as (size, xs, ys, ws) tensors. Without targets (predict) the item is x or (x, ...)."""
    if not targets:
        xs = prepare_inputs(model, item[0] if isinstance(item, tuple) else item)
        return check_lengths(xs), xs, [], []
    if not isinstance(item, tuple) or not 1 <= len(item) <= 3:
        raise ValueError(f"a generator or Sequence for this model must yield tuples (x, y) or (x, y, "
                         f"sample_weight), got {type(item).__name__}"
                         + (f" of length {len(item)}" if isinstance(item, tuple) else ""))
    x, y, w = (tuple(item) + (None, None))[:3]
    xs, ys = prepare_inputs(model, x), prepare_targets(model, y)
    size = check_lengths(xs, ys)
    return size, xs, ys, prepare_weights(model, ys, w, class_weight)


# ---- one interface over both -----------------------------------------------------------------------
def _array_batches(xs, ys, ws, n, batch_size, order):
    """(size, xs, ys, ws) batches of in-memory tensors; gathered by `order` (shuffling) when given."""
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        if order is None:
            yield (stop - start, [t[start:stop] for t in xs], [t[start:stop] for t in ys],
                   [None if w is None else w[start:stop] for w in ws])
        else:
            index = Tensor(np.ascontiguousarray(order[start:stop]))
            yield (stop - start, [index_select(t, 0, index) for t in xs], [index_select(t, 0, index) for t in ys],
                   [None if w is None else index_select(w, 0, index) for w in ws])


def _source_batches(model, source, steps, shuffle, class_weight, first, targets):
    """One epoch of `steps` batches (a Sequence's in a random order if asked)."""
    if isinstance(source, Sequence):
        for k in (np.random.permutation(steps) if shuffle else range(steps)):
            yield _prepare_item(model, source[int(k)], class_weight, targets)
        return
    for step in range(steps):
        if step == 0 and first:
            item = first.pop()
        else:
            try:
                item = next(source)
            except StopIteration:
                raise ValueError(f"the generator stopped after {step} batch(es) of an epoch of {steps} "
                                 f"(steps_per_epoch / steps); Keras generators loop forever") from None
        yield _prepare_item(model, item, class_weight, targets)


class DataAdapter:
    """Epochs of ``steps`` (size, xs, ys, ws) batches, from arrays (``samples`` of them, in batches of
    ``batch_size``) or from a generator / Sequence (``samples`` and ``batch_size`` None)."""

    def __init__(self, epoch, steps, samples=None, batch_size=None, sequence=None):
        self._epoch, self.steps, self.samples, self.batch_size = epoch, steps, samples, batch_size
        self._sequence = sequence

    @classmethod
    def from_arrays(cls, xs, ys, ws, batch_size, shuffle=False):
        """Prepared tensors (prepare_inputs/targets/weights); shuffled anew each epoch if asked."""
        n = check_lengths(xs, ys)

        def epoch():
            return _array_batches(xs, ys, ws, n, batch_size, np.random.permutation(n) if shuffle else None)
        return cls(epoch, -(-n // batch_size), n, batch_size)

    @classmethod
    def from_source(cls, model, source, steps, shuffle=False, class_weight=None, first=None, targets=True):
        """A generator or Sequence of `steps` batches per epoch; `first`: the item build_from_source
        took from a generator; targets=False (predict): only the inputs are read."""
        def epoch():
            return _source_batches(model, source, steps, shuffle, class_weight, first, targets)
        return cls(epoch, steps, sequence=source if isinstance(source, Sequence) else None)

    def epoch(self):
        """A generator of the next epoch's batches."""
        return self._epoch()

    def on_epoch_end(self):
        """After a training epoch: a Sequence's on_epoch_end (e.g. to reshuffle)."""
        if self._sequence is not None:
            self._sequence.on_epoch_end()
