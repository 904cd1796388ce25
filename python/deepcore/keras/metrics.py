"""keras.metrics: per-sample metric functions (fit reports their batch means, averaged over the
epoch weighted by batch size, as Keras 2). Any loss function is also a metric."""
from ..nn.functional import nll_loss
from . import losses as _losses
from ._common import as_tensor, deserialize, snake_case
from .losses import (  # noqa: F401
    binary_crossentropy, categorical_crossentropy, cosine_proximity, hinge, kullback_leibler_divergence, logcosh,
    mae, mape, mean_absolute_error, mean_absolute_percentage_error, mean_squared_error,
    mean_squared_logarithmic_error, mse, msle, poisson, sparse_categorical_crossentropy, squared_hinge,
)
from .losses import categorical_hinge  # noqa: F401


def _same_rank(y_true, y_pred):
    """Keras' squeeze_or_expand_to_same_rank: when one has one more axis, of size 1, the other is
    expanded if it is a vector (labels (N,) against outputs (N, 1) become (N, 1): one value per
    sample, never an (N, N) broadcast), else that size-1 axis is squeezed."""
    if y_true.ndim == y_pred.ndim + 1 and y_true.shape[-1] == 1:
        if y_pred.ndim == 1:
            y_pred = y_pred.reshape(tuple(y_pred.shape) + (1,))
        else:
            y_true = y_true.reshape(tuple(y_true.shape[:-1]))
    elif y_pred.ndim == y_true.ndim + 1 and y_pred.shape[-1] == 1:
        if y_true.ndim == 1:
            y_true = y_true.reshape(tuple(y_true.shape) + (1,))
        else:
            y_pred = y_pred.reshape(tuple(y_pred.shape[:-1]))
    return y_true, y_pred


def accuracy(y_true, y_pred):
    """How often y_pred equals y_true exactly, averaged over the last axis (Keras' ``accuracy``, what
    the ``Accuracy`` metric averages; for probabilities use binary/categorical accuracy)."""
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true, dtype=None).to(y_pred.dtype)
    y_true, y_pred = _same_rank(y_true, y_pred)
    return (y_true == y_pred).to(y_pred.dtype).mean(-1)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """How often (y_pred > threshold) equals the 0/1 label, averaged over the last axis."""
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true, dtype=None).to(y_pred.dtype)
    y_true, y_pred = _same_rank(y_true, y_pred)
    return ((y_pred > threshold).to(y_pred.dtype) == y_true).to(y_pred.dtype).mean(-1)


def categorical_accuracy(y_true, y_pred):
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true, dtype=None)
    return (y_true.argmax(-1) == y_pred.argmax(-1)).to(y_pred.dtype)


def sparse_categorical_accuracy(y_true, y_pred):
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true, dtype=None)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true.reshape(tuple(y_true.shape[:-1]))
    return (y_true.long() == y_pred.argmax(-1)).to(y_pred.dtype)


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1 where fewer than k classes score strictly higher than the true class."""
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true, dtype=None).to(y_pred.dtype)
    true_score = (y_true * y_pred).sum(-1, keepdim=True)
    higher = (y_pred > true_score).to(y_pred.dtype).sum(-1)
    return (higher < k).to(y_pred.dtype)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true, dtype=None).long()
    if y_true.ndim == y_pred.ndim:
        y_true = y_true.reshape(tuple(y_true.shape[:-1]))
    true_score = -nll_loss(y_pred, y_true, reduction="none").reshape(-1, 1)  # = y_pred[i, y_true[i]]
    higher = (y_pred > true_score).to(y_pred.dtype).sum(-1)
    return (higher < k).to(y_pred.dtype)


acc = accuracy  # the functions; the *strings* 'accuracy' / 'acc' in compile pick one by the loss (resolve)


# ---- Keras 3's metric objects ------------------------------------------------------------------------
# Stateful: ``update_state(y_true, y_pred, sample_weight=None)`` adds a batch, ``result()`` is the weighted
# mean so far, ``reset_state()`` starts again, ``m(y_true, y_pred)`` updates and returns the result. The
# running sums are Python floats read once per update (what a user's own loop calls; compile does not:
# given to compile, a MeanMetricWrapper contributes its per-sample function, which fit averages over the
# epoch by samples, the same number the object would give).
class Metric:
    """Base class: subclasses implement update_state, result and reset_state."""

    def __init__(self, name=None, dtype=None):
        if dtype not in (None, "float32"):
            raise NotImplementedError(f"{type(self).__name__}: dtype={dtype!r}: deepcore.keras computes metrics in "
                                      f"float32")
        self.name = name or snake_case(type(self).__name__)
        self.dtype = dtype

    def update_state(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__}.update_state must be implemented by the subclass")

    def result(self):
        raise NotImplementedError(f"{type(self).__name__}.result must be implemented by the subclass")

    def reset_state(self):
        raise NotImplementedError(f"{type(self).__name__}.reset_state must be implemented by the subclass")

    reset_states = reset_state  # Keras 2's spelling (looked up on the subclass at call time below)

    def __call__(self, *args, **kwargs):
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _weights_for(values, sample_weight):
    w = as_tensor(sample_weight)
    while w.ndim > values.ndim and w.shape[-1] == 1:
        w = w.reshape(tuple(w.shape[:-1]))
    while w.ndim < values.ndim:
        w = w.reshape(tuple(w.shape) + (1,))
    return w * (values.detach() * 0.0 + 1.0)  # broadcast to the values' shape


class Mean(Metric):
    """The (weighted) mean of every value given to update_state(values, sample_weight=None)."""

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total, self.count = 0.0, 0.0

    def update_state(self, values, sample_weight=None):
        values = as_tensor(values).detach()
        if sample_weight is None:
            self.total += float(values.sum().item())
            self.count += float(values.numel())
        else:
            w = _weights_for(values, sample_weight)
            self.total += float((values * w).sum().item())
            self.count += float(w.sum().item())

    def result(self):
        return as_tensor(self.total / self.count if self.count else 0.0)

    def reset_state(self):
        self.total, self.count = 0.0, 0.0

    def reset_states(self):
        self.reset_state()


class Sum(Mean):
    """The (weighted) sum of every value given to update_state."""

    def __init__(self, name="sum", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def result(self):
        return as_tensor(self.total)


class MeanMetricWrapper(Mean):
    """The mean of ``fn(y_true, y_pred, **kwargs)`` over the samples given to update_state."""

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name=name or getattr(fn, "__name__", None), dtype=dtype)
        self._fn, self._fn_kwargs = fn, kwargs

    def _per_sample(self, y_true, y_pred):
        return self._fn(y_true, y_pred, **self._fn_kwargs)

    def update_state(self, y_true, y_pred, sample_weight=None):
        super().update_state(self._per_sample(y_true, y_pred), sample_weight)

    def get_config(self):
        return dict(super().get_config(), **self._fn_kwargs)


def _wrapper_class(cls_name, fn, default_name, options=()):
    """A MeanMetricWrapper subclass for `fn` with keyword options [(name, default)] after name and dtype,
    in Keras 3's order (BinaryAccuracy(name, dtype, threshold); TopK...(k, name, dtype) puts k first)."""
    first = [o for o in options if o[0] == "k"]
    rest = [o for o in options if o[0] != "k"]

    def __init__(self, *args, **kwargs):
        order = [o for o, _ in first] + ["name", "dtype"] + [o for o, _ in rest]
        if len(args) > len(order):
            raise TypeError(f"{cls_name}: takes at most {len(order)} positional arguments ({order})")
        given = dict(zip(order, args))
        duplicate = sorted(set(given) & set(kwargs))
        unknown = sorted(set(kwargs) - set(order))
        if duplicate or unknown:
            raise TypeError(f"{cls_name}: " + (f"got multiple values for {duplicate}" if duplicate else
                                               f"unexpected keyword argument(s) {', '.join(unknown)}"))
        given.update(kwargs)
        values = {o: given.get(o, d) for o, d in first + rest}
        MeanMetricWrapper.__init__(self, fn, name=given.get("name", default_name), dtype=given.get("dtype"),
                                   **values)
    return type(cls_name, (MeanMetricWrapper,), {"__init__": __init__,
                                                 "__doc__": f"Keras 3's {cls_name}: the mean of {fn.__name__}."})


Accuracy = _wrapper_class("Accuracy", accuracy, "accuracy")
BinaryAccuracy = _wrapper_class("BinaryAccuracy", binary_accuracy, "binary_accuracy", [("threshold", 0.5)])
CategoricalAccuracy = _wrapper_class("CategoricalAccuracy", categorical_accuracy, "categorical_accuracy")
SparseCategoricalAccuracy = _wrapper_class("SparseCategoricalAccuracy", sparse_categorical_accuracy,
                                           "sparse_categorical_accuracy")
TopKCategoricalAccuracy = _wrapper_class("TopKCategoricalAccuracy", top_k_categorical_accuracy,
                                         "top_k_categorical_accuracy", [("k", 5)])
SparseTopKCategoricalAccuracy = _wrapper_class("SparseTopKCategoricalAccuracy", sparse_top_k_categorical_accuracy,
                                               "sparse_top_k_categorical_accuracy", [("k", 5)])
MeanSquaredError = _wrapper_class("MeanSquaredError", mean_squared_error, "mean_squared_error")
MeanAbsoluteError = _wrapper_class("MeanAbsoluteError", mean_absolute_error, "mean_absolute_error")
BinaryCrossentropy = _wrapper_class("BinaryCrossentropy", binary_crossentropy, "binary_crossentropy",
                                    [("from_logits", False)])
CategoricalCrossentropy = _wrapper_class("CategoricalCrossentropy", categorical_crossentropy,
                                         "categorical_crossentropy", [("from_logits", False)])
SparseCategoricalCrossentropy = _wrapper_class("SparseCategoricalCrossentropy", sparse_categorical_crossentropy,
                                               "sparse_categorical_crossentropy", [("from_logits", False)])

_ALL = {k: v for k, v in _losses._ALL.items() if not isinstance(v, type)}  # loss functions are metrics too
_ALL.update(accuracy=accuracy, binary_accuracy=binary_accuracy, categorical_accuracy=categorical_accuracy,
            sparse_categorical_accuracy=sparse_categorical_accuracy,
            top_k_categorical_accuracy=top_k_categorical_accuracy,
            sparse_top_k_categorical_accuracy=sparse_top_k_categorical_accuracy)
_ALL.update({c.__name__: c for c in (
    Metric, Mean, Sum, MeanMetricWrapper, Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
    TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy, MeanSquaredError, MeanAbsoluteError, BinaryCrossentropy,
    CategoricalCrossentropy, SparseCategoricalCrossentropy)})


def resolve(identifier, loss_fn, output_shape, custom_objects=None):
    """(name shown in logs, per-sample function). 'accuracy'/'acc' picks binary, sparse or categorical
    accuracy from the loss and output shape exactly as Keras 2 does; a metric object (or its class
    name) contributes its name and per-sample function."""
    if isinstance(identifier, str) and identifier in ("accuracy", "acc"):
        base = getattr(loss_fn, "__name__", "")
        if base == "binary_crossentropy" or (output_shape and output_shape[-1] == 1):
            return identifier, binary_accuracy
        if base == "sparse_categorical_crossentropy":
            return identifier, sparse_categorical_accuracy
        return identifier, categorical_accuracy
    fn = get(identifier, custom_objects)
    if isinstance(fn, MeanMetricWrapper):
        return fn.name, fn._per_sample
    if isinstance(fn, Metric):
        raise TypeError(f"compile: the metric {fn.name!r} ({type(fn).__name__}) is not a function of (y_true, "
                        f"y_pred) per sample; deepcore.keras compiles MeanMetricWrapper metrics (Accuracy, "
                        f"SparseCategoricalAccuracy, ...) and functions")
    name = identifier if isinstance(identifier, str) else getattr(fn, "__name__", type(fn).__name__)
    return name, fn


def get(identifier, custom_objects=None):
    """A metric function or object from a name (a class name gives an instance with the defaults), a
    serialized {'class_name', 'config'} or a callable."""
    obj = deserialize(identifier, _ALL, custom_objects, "metric")
    return obj() if isinstance(obj, type) and issubclass(obj, Metric) else obj
