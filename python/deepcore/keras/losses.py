"""keras.losses with Keras 2's formulas, on deepcore ops and nn's native loss kernels.

Each public function takes (y_true, y_pred) deepcore Tensors and returns the per-sample loss
(mean over the last axis), as Keras. ``compile`` uses each one's batch-mean form ``_mean`` (a
single native loss kernel where one applies) instead of the per-sample form plus a mean.

Probabilities are clipped to [epsilon, 1 - epsilon] (epsilon = backend.epsilon(), 1e-7 unless
set_epsilon changed it) before the logarithm in the cross-entropies, as Keras 2 does: the loss is
bounded by -log(1e-7) = 16.1 and the gradient is zero where a probability was clipped.

Called on a model's symbolic tensors (Keras 2's ``xent = losses.binary_crossentropy(x, x_decoded)``
while building a model), they return an expression evaluated at each training step
(_symbolic.py)."""
from ..nn import functional as F
from . import config as _config
from ._backend_ops import _clip
from ._common import as_tensor, deserialize, snake_case
from ._symbolic import symbolic_aware


def _prep(y_true, y_pred):
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true, dtype=None)
    if y_true.dtype.is_floating_point and y_true.dtype is not y_pred.dtype:
        y_true = y_true.to(y_pred.dtype)
    return y_true, y_pred


def _same_shape(name, y_true, y_pred):
    if tuple(y_true.shape) != tuple(y_pred.shape):
        raise ValueError(f"{name}: target of shape {tuple(y_true.shape)} does not match the output of shape "
                         f"{tuple(y_pred.shape)}" + (" (class indices? use sparse_categorical_crossentropy, or "
                                                     "keras.utils.to_categorical on the labels)"
                                                     if y_true.ndim == y_pred.ndim - 1 or
                                                     (y_true.ndim == 2 and y_true.shape[-1] == 1) else ""))
    if not y_true.dtype.is_floating_point:
        y_true = y_true.to(y_pred.dtype)
    return y_true


@symbolic_aware
def categorical_crossentropy(y_true, y_pred, from_logits=False):
    y_true, y_pred = _prep(y_true, y_pred)
    y_true = _same_shape("categorical_crossentropy", y_true, y_pred)
    if from_logits:
        return -(y_true * y_pred.log_softmax(-1)).sum(-1)
    y_pred = y_pred / y_pred.sum(-1, keepdim=True)  # Keras 2 renormalizes first (a no-op after softmax)
    return -(y_true * _clip(y_pred).log()).sum(-1)


def _categorical_crossentropy_mean(y_true, y_pred):
    return categorical_crossentropy(y_true, y_pred).mean()


def _sparse_targets(y_true, y_pred):
    if y_true.dtype.is_floating_point:
        y_true = y_true.long()
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true.reshape(tuple(y_true.shape[:-1]))
    if tuple(y_true.shape) != tuple(y_pred.shape[:-1]):
        raise ValueError(f"sparse_categorical_crossentropy: class indices of shape {tuple(y_true.shape)} do not "
                         f"match the output of shape {tuple(y_pred.shape)}")
    return y_true


def _class_last_to_dim1(t):
    return t if t.ndim == 2 else t.permute(0, t.ndim - 1, *range(1, t.ndim - 1))


@symbolic_aware
def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False):
    y_true, y_pred = _prep(y_true, y_pred)
    y_true = _sparse_targets(y_true, y_pred)
    logp = y_pred.log_softmax(-1) if from_logits else _clip(y_pred).log()
    return F.nll_loss(_class_last_to_dim1(logp), y_true, reduction="none")


def _sparse_categorical_crossentropy_mean(y_true, y_pred):
    y_true, y_pred = _prep(y_true, y_pred)
    y_true = _sparse_targets(y_true, y_pred)
    return F.nll_loss(_class_last_to_dim1(_clip(y_pred).log()), y_true)  # native NLL kernel


@symbolic_aware
def binary_crossentropy(y_true, y_pred, from_logits=False):
    y_true, y_pred = _prep(y_true, y_pred)
    y_true = _same_shape("binary_crossentropy", y_true, y_pred)
    if from_logits:
        return F.binary_cross_entropy_with_logits(y_pred, y_true, reduction="none").mean(-1)
    return F.binary_cross_entropy(_clip(y_pred), y_true, reduction="none").mean(-1)


def _binary_crossentropy_mean(y_true, y_pred):
    y_true, y_pred = _prep(y_true, y_pred)
    y_true = _same_shape("binary_crossentropy", y_true, y_pred)
    return F.binary_cross_entropy(_clip(y_pred), y_true)  # native BCE kernel


@symbolic_aware
def mean_squared_error(y_true, y_pred):
    y_true, y_pred = _prep(y_true, y_pred)
    y_true = _same_shape("mean_squared_error", y_true, y_pred)
    return F.mse_loss(y_pred, y_true, reduction="none").mean(-1)


def _mean_squared_error_mean(y_true, y_pred):
    y_true, y_pred = _prep(y_true, y_pred)
    return F.mse_loss(y_pred, _same_shape("mean_squared_error", y_true, y_pred))


@symbolic_aware
def mean_absolute_error(y_true, y_pred):
    y_true, y_pred = _prep(y_true, y_pred)
    y_true = _same_shape("mean_absolute_error", y_true, y_pred)
    return F.l1_loss(y_pred, y_true, reduction="none").mean(-1)


def _mean_absolute_error_mean(y_true, y_pred):
    y_true, y_pred = _prep(y_true, y_pred)
    return F.l1_loss(y_pred, _same_shape("mean_absolute_error", y_true, y_pred))


@symbolic_aware
def mean_absolute_percentage_error(y_true, y_pred):
    y_true, y_pred = _prep(y_true, y_pred)
    y_true = _same_shape("mean_absolute_percentage_error", y_true, y_pred)
    return ((y_true - y_pred).abs() / y_true.abs().clamp(_config.epsilon(), None)).mean(-1) * 100.0


@symbolic_aware
def mean_squared_logarithmic_error(y_true, y_pred):
    y_true, y_pred = _prep(y_true, y_pred)
    y_true = _same_shape("mean_squared_logarithmic_error", y_true, y_pred)
    d = (y_pred.clamp(_config.epsilon(), None) + 1.0).log() - (y_true.clamp(_config.epsilon(), None) + 1.0).log()
    return (d * d).mean(-1)


@symbolic_aware
def squared_hinge(y_true, y_pred):
    y_true, y_pred = _prep(y_true, y_pred)
    h = (1.0 - _same_shape("squared_hinge", y_true, y_pred) * y_pred).relu()
    return (h * h).mean(-1)


@symbolic_aware
def hinge(y_true, y_pred):
    y_true, y_pred = _prep(y_true, y_pred)
    return (1.0 - _same_shape("hinge", y_true, y_pred) * y_pred).relu().mean(-1)


@symbolic_aware
def categorical_hinge(y_true, y_pred):
    y_true, y_pred = _prep(y_true, y_pred)
    y_true = _same_shape("categorical_hinge", y_true, y_pred)
    pos = (y_true * y_pred).sum(-1)
    neg = ((1.0 - y_true) * y_pred).max(-1)
    neg = neg.values if hasattr(neg, "values") else neg
    return (neg - pos + 1.0).relu()


@symbolic_aware
def logcosh(y_true, y_pred):
    y_true, y_pred = _prep(y_true, y_pred)
    x = y_pred - _same_shape("logcosh", y_true, y_pred)
    # log(cosh(x)) = |x| + log(1 + e^(-2|x|)) - log 2, stable for large |x|
    return (x.abs() + ((x.abs() * -2.0).exp() + 1.0).log() - 0.6931471805599453).mean(-1)


@symbolic_aware
def kullback_leibler_divergence(y_true, y_pred):
    y_true, y_pred = _prep(y_true, y_pred)
    y_true = _clip(_same_shape("kullback_leibler_divergence", y_true, y_pred))
    return (y_true * (y_true / _clip(y_pred)).log()).sum(-1)


@symbolic_aware
def poisson(y_true, y_pred):
    y_true, y_pred = _prep(y_true, y_pred)
    y_true = _same_shape("poisson", y_true, y_pred)
    return (y_pred - y_true * (y_pred + _config.epsilon()).log()).mean(-1)


@symbolic_aware
def cosine_proximity(y_true, y_pred):
    y_true, y_pred = _prep(y_true, y_pred)
    y_true = _same_shape("cosine_proximity", y_true, y_pred)
    t = y_true / (y_true * y_true).sum(-1, keepdim=True).sqrt().clamp(1e-12, None)
    p = y_pred / (y_pred * y_pred).sum(-1, keepdim=True).sqrt().clamp(1e-12, None)
    return -(t * p).sum(-1)


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence
cosine = cosine_similarity = cosine_proximity

categorical_crossentropy._mean = _categorical_crossentropy_mean
sparse_categorical_crossentropy._mean = _sparse_categorical_crossentropy_mean
binary_crossentropy._mean = _binary_crossentropy_mean
mean_squared_error._mean = _mean_squared_error_mean
mean_absolute_error._mean = _mean_absolute_error_mean

_ALL = {
    name: fn for name, fn in dict(
        categorical_crossentropy=categorical_crossentropy,
        sparse_categorical_crossentropy=sparse_categorical_crossentropy, binary_crossentropy=binary_crossentropy,
        mean_squared_error=mean_squared_error, mse=mse, MSE=mse, mean_absolute_error=mean_absolute_error, mae=mae,
        MAE=mae, mean_absolute_percentage_error=mape, mape=mape, MAPE=mape, mean_squared_logarithmic_error=msle,
        msle=msle, MSLE=msle, squared_hinge=squared_hinge, hinge=hinge, categorical_hinge=categorical_hinge,
        logcosh=logcosh, kullback_leibler_divergence=kld, kld=kld, KLD=kld, poisson=poisson,
        cosine_proximity=cosine_proximity, cosine=cosine).items()
}


def get(identifier, custom_objects=None):
    """A loss function or Loss object from a name ('mse', 'BinaryCrossentropy': an instance with the
    defaults), a serialized {'class_name', 'config'}, or a callable."""
    obj = deserialize(identifier, _ALL, custom_objects, "loss function")
    return obj() if isinstance(obj, type) and issubclass(obj, Loss) else obj


def serialize(fn):
    if isinstance(fn, Loss):
        return {"class_name": type(fn).__name__, "config": fn.get_config()}
    return getattr(fn, "__name__", str(fn))


def batch_mean(fn):
    """The function compile() calls per batch: the fused mean form when there is one, else
    the per-sample loss averaged (what Keras does for any loss, custom ones included)."""
    fast = getattr(fn, "_mean", None)
    if fast is not None:
        return fast

    def mean_of(y_true, y_pred):
        out = fn(y_true, y_pred)
        return out.mean() if getattr(out, "ndim", 0) else out
    return mean_of


# ---- Keras 3's loss classes ---------------------------------------------------------------------------
# ``keras.losses.SparseCategoricalCrossentropy(from_logits=True)`` and the others: a per-sample function
# above with its options, a reduction and a name. ``loss(y_true, y_pred, sample_weight=None)`` reduces as
# Keras 3: per-sample values times the weights, then 'sum_over_batch_size' (the default: sum / number of
# values), 'sum', 'mean_with_sample_weight' (sum / sum of the weights) or None / 'none'. Given to
# compile, an object trains as its function with the same options would: compile reads ``__name__``
# (the function's name, which picks sparse targets and the 'accuracy' metric) and ``_mean`` (the batch
# loss; the fused kernel when the options are the defaults), and with sample weights calls the object
# itself (its own reduction: Keras 3's rule, where the strings keep Keras 2's).
_REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


def _weights_like(w, per):
    """Sample weights (N,) or (N, 1) against per-sample losses: Keras 3 squeezes or expands them to the
    losses' rank."""
    w = as_tensor(w)
    while w.ndim > per.ndim and w.shape[-1] == 1:
        w = w.reshape(tuple(w.shape[:-1]))
    while w.ndim < per.ndim:
        w = w.reshape(tuple(w.shape) + (1,))
    return w


class Loss:
    """Base class: a subclass implements ``call(y_true, y_pred)``, the per-sample losses."""

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        if reduction not in _REDUCTIONS:
            raise ValueError(f"{type(self).__name__}: invalid reduction {reduction!r}; expected one of "
                             f"'sum_over_batch_size', 'sum', 'mean', 'mean_with_sample_weight', 'none' or None")
        if dtype not in (None, "float32"):
            raise NotImplementedError(f"{type(self).__name__}: dtype={dtype!r}: deepcore.keras computes losses in "
                                      f"float32")
        self.name = name or snake_case(type(self).__name__)
        self.reduction, self.dtype = reduction, dtype

    def call(self, y_true, y_pred):
        raise NotImplementedError(f"{type(self).__name__}.call(y_true, y_pred) must be implemented by the subclass")

    def __call__(self, y_true, y_pred, sample_weight=None):
        per = as_tensor(self.call(y_true, y_pred))
        weights = None
        if sample_weight is not None:
            weights = _weights_like(sample_weight, per) * (per.detach() * 0.0 + 1.0)  # broadcast to the losses
            per = per * weights
        if self.reduction in (None, "none"):
            return per
        total = per.sum()
        if self.reduction == "sum":
            return total
        if self.reduction == "mean_with_sample_weight" and weights is not None:
            return total / weights.sum()
        return total / max(per.numel(), 1)

    @property
    def _mean(self):
        return lambda y_true, y_pred: self(y_true, y_pred)

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class LossFunctionWrapper(Loss):
    """``fn(y_true, y_pred, **kwargs)``, a per-sample function, as a Loss object."""

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        super().__init__(name=name or getattr(fn, "__name__", None), reduction=reduction, dtype=dtype)
        self.fn, self._fn_kwargs = fn, kwargs
        self.__name__ = getattr(fn, "__name__", self.name)  # compile reads the function's name

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    @property
    def _mean(self):
        fast = getattr(self.fn, "_mean", None)
        if fast is not None and not any(self._fn_kwargs.values()) and self.reduction == "sum_over_batch_size":
            return fast
        return super()._mean

    def get_config(self):
        return dict(super().get_config(), **self._fn_kwargs)


def _smoothed_one_hot(y_true, smoothing, classes):
    return y_true * (1.0 - smoothing) + smoothing / classes


def _check_axis(cls, axis):
    if axis != -1:
        raise NotImplementedError(f"{cls}: axis={axis}: deepcore.keras takes the classes on the last axis")


class _CrossentropyWrapper(LossFunctionWrapper):
    """Cross-entropies: from_logits and label_smoothing (targets moved towards uniform, as Keras 3)."""
    _classes_for_smoothing = None  # binary: 2 (towards 0.5); categorical: the number of classes

    def __init__(self, fn, from_logits, label_smoothing, axis, reduction, name, dtype):
        _check_axis(type(self).__name__, axis)
        super().__init__(fn, reduction=reduction, name=name, dtype=dtype, from_logits=bool(from_logits))
        self.label_smoothing, self.axis = float(label_smoothing), axis

    def call(self, y_true, y_pred):
        if self.label_smoothing:
            y_true, y_pred = _prep(y_true, y_pred)
            classes = self._classes_for_smoothing or y_pred.shape[-1]
            y_true = _smoothed_one_hot(y_true, self.label_smoothing, classes)
        return super().call(y_true, y_pred)

    @property
    def _mean(self):
        return super()._mean if not self.label_smoothing else Loss._mean.fget(self)

    def get_config(self):
        return dict(super().get_config(), label_smoothing=self.label_smoothing, axis=self.axis)


class BinaryCrossentropy(_CrossentropyWrapper):
    _classes_for_smoothing = 2

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="binary_crossentropy", dtype=None):
        super().__init__(binary_crossentropy, from_logits, label_smoothing, axis, reduction, name, dtype)


class CategoricalCrossentropy(_CrossentropyWrapper):
    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="categorical_crossentropy", dtype=None):
        super().__init__(categorical_crossentropy, from_logits, label_smoothing, axis, reduction, name, dtype)


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size",
                 name="sparse_categorical_crossentropy", dtype=None):
        if ignore_class is not None:
            raise NotImplementedError("SparseCategoricalCrossentropy(ignore_class=...) is not supported by "
                                      "deepcore.keras")
        super().__init__(sparse_categorical_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         from_logits=bool(from_logits))


def _plain(cls_name, fn, default_name):
    """A Loss class for a function without options (MeanSquaredError, Hinge, ...)."""
    def __init__(self, reduction="sum_over_batch_size", name=default_name, dtype=None):
        LossFunctionWrapper.__init__(self, fn, reduction=reduction, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}
    return type(cls_name, (LossFunctionWrapper,), {"__init__": __init__, "get_config": get_config,
                                                   "__doc__": f"Keras 3's {cls_name}: losses.{fn.__name__}."})


MeanSquaredError = _plain("MeanSquaredError", mean_squared_error, "mean_squared_error")
MeanAbsoluteError = _plain("MeanAbsoluteError", mean_absolute_error, "mean_absolute_error")
MeanAbsolutePercentageError = _plain("MeanAbsolutePercentageError", mean_absolute_percentage_error,
                                     "mean_absolute_percentage_error")
MeanSquaredLogarithmicError = _plain("MeanSquaredLogarithmicError", mean_squared_logarithmic_error,
                                     "mean_squared_logarithmic_error")
Hinge = _plain("Hinge", hinge, "hinge")
SquaredHinge = _plain("SquaredHinge", squared_hinge, "squared_hinge")
CategoricalHinge = _plain("CategoricalHinge", categorical_hinge, "categorical_hinge")
LogCosh = _plain("LogCosh", logcosh, "log_cosh")
KLDivergence = _plain("KLDivergence", kullback_leibler_divergence, "kl_divergence")
Poisson = _plain("Poisson", poisson, "poisson")

_CLASSES = {c.__name__: c for c in (Loss, LossFunctionWrapper, BinaryCrossentropy, CategoricalCrossentropy,
                                    SparseCategoricalCrossentropy, MeanSquaredError, MeanAbsoluteError,
                                    MeanAbsolutePercentageError, MeanSquaredLogarithmicError, Hinge, SquaredHinge,
                                    CategoricalHinge, LogCosh, KLDivergence, Poisson)}
_ALL.update(_CLASSES)

