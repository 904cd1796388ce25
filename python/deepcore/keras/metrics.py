"""keras.metrics: per-sample metric functions (fit reports their batch means, averaged over the
epoch weighted by batch size, as Keras 2). Any loss function is also a metric."""
from ..nn.functional import nll_loss
from . import losses as _losses
from ._common import as_tensor, deserialize
from .losses import (  # noqa: F401
    binary_crossentropy, categorical_crossentropy, cosine_proximity, hinge, kullback_leibler_divergence, logcosh,
    mae, mape, mean_absolute_error, mean_absolute_percentage_error, mean_squared_error,
    mean_squared_logarithmic_error, mse, msle, poisson, sparse_categorical_crossentropy, squared_hinge,
)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true, dtype=None).to(y_pred.dtype)
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


acc = accuracy = None  # resolved per loss by compile (see resolve)

_ALL = dict(_losses._ALL)
_ALL.update(binary_accuracy=binary_accuracy, categorical_accuracy=categorical_accuracy,
            sparse_categorical_accuracy=sparse_categorical_accuracy,
            top_k_categorical_accuracy=top_k_categorical_accuracy,
            sparse_top_k_categorical_accuracy=sparse_top_k_categorical_accuracy)


def resolve(identifier, loss_fn, output_shape, custom_objects=None):
    """(name shown in logs, per-sample function). 'accuracy'/'acc' picks binary, sparse or categorical
    accuracy from the loss and output shape exactly as Keras 2 does."""
    if identifier in ("accuracy", "acc"):
        base = getattr(loss_fn, "__name__", "")
        if base == "binary_crossentropy" or (output_shape and output_shape[-1] == 1):
            return identifier, binary_accuracy
        if base == "sparse_categorical_crossentropy":
            return identifier, sparse_categorical_accuracy
        return identifier, categorical_accuracy
    fn = deserialize(identifier, _ALL, custom_objects, "metric")
    name = identifier if isinstance(identifier, str) else getattr(fn, "__name__", type(fn).__name__)
    return name, fn


def get(identifier, custom_objects=None):
    return deserialize(identifier, _ALL, custom_objects, "metric")
