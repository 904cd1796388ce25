"""The dropout family on the native Philox mask kernel (csrc/cpu/dropout.cpp): dropout (the backward
reuses the mask), the channel-wise dropout1d/2d/3d, alpha_dropout and feature_alpha_dropout.

The channel-wise and alpha variants draw their mask with the same kernel (on a tensor of ones of the
noise's shape: (N, C, 1, ...) for a whole channel per draw) and apply it with elementwise ops, whose
autograd gives the gradient. Every draw comes from deepcore's one Philox stream, so
deepcore.manual_seed makes all of them reproducible, for any thread count."""
import numbers
import warnings

from ..autograd import Function
from ..tensor import Tensor
from ._checks import check_tensor, require_float
from .activation import write_in_place

# SELU's negative saturation value -scale * alpha: alpha_dropout sets dropped elements to it.
_SELU_SATURATION = 1.7580993408473766


class Dropout(Function):
    @staticmethod
    def forward(ctx, x, p):
        out, mask = x._backend.dropout(x._data, p)
        ctx.save_for_backward(Tensor._make(mask))  # freed with the graph after backward
        ctx.p = p
        return Tensor._make(out)

    @staticmethod
    def backward(ctx, g):
        mask, = ctx.saved_tensors
        return Tensor._make(g._backend.dropout_backward(g._data, mask._data, ctx.p)), None


def _check_p(p):
    if not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    return float(p)


def dropout(input, p=0.5, training=True, inplace=False):
    """Zeroes each element with probability p and scales the rest by 1 / (1 - p) when training;
    the identity otherwise. Reproducible with deepcore.manual_seed, for any thread count."""
    p = _check_p(p)
    if not training or p == 0.0:
        return input
    check_tensor("dropout", "input", input)
    require_float("dropout", input)
    if inplace:  # Dropout saves only its mask: input may be overwritten without a copy
        return write_in_place("dropout", input, lambda x: Dropout.apply(x, p), saves_input=False)
    return Dropout.apply(input, p)


def _keep_mask(op, input, p, feature):
    """(scaled, kept): a Philox draw of the noise's shape, scaled = kept / (1 - p) in input's dtype and
    kept the bool mask. feature: one draw per (sample, channel), broadcast over the rest."""
    if feature:
        if input.ndim < 2:
            raise RuntimeError(f"{op}: Feature dropout requires at least 2 dimensions in the input, got shape "
                               f"{tuple(input.shape)}")
        shape = list(input.shape[:2]) + [1] * (input.ndim - 2)
    else:
        shape = list(input.shape)
    be = input._backend
    scaled, kept = be.dropout(be.full_on(shape, 1.0, input.dtype._c, input.device.index), p)
    return Tensor._make(scaled), Tensor._make(kept)


def _feature_dropout(op, input, p, training, inplace, add_batch=False):
    """PyTorch's feature_dropout: whole channels (dim 1) zeroed, the rest scaled by 1 / (1 - p).
    add_batch: input has no batch dim, so its dim 0 is the channel (PyTorch unsqueezes it)."""
    if not training or p == 0.0 or input.numel() == 0:
        return input
    require_float(op, input)
    if p == 1.0:  # as PyTorch: a product with zero, so inf and NaN inputs stay visible as NaN
        def compute(x):
            return x * 0.0
    else:
        if add_batch:
            noise = _keep_mask(op, input.unsqueeze(0), p, feature=True)[0].squeeze(0)
        else:
            noise = _keep_mask(op, input, p, feature=True)[0]

        def compute(x):
            return x * noise
    return write_in_place(op, input, compute) if inplace else compute(input)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zeroes whole channels of (N, C, L) or (C, L) input with probability p, scaling the rest by 1 / (1 - p)."""
    p = _check_p(p)
    check_tensor("dropout1d", "input", input)
    if input.ndim not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D input. Note that "
                           "dropout1d exists to provide channel-wise dropout on inputs with 1 spatial dimension, a "
                           "channel dimension, and an optional batch dimension (i.e. 2D or 3D inputs).")
    return _feature_dropout("dropout1d", input, p, training, inplace, add_batch=input.ndim == 2)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zeroes whole channels of (N, C, H, W) input. As in PyTorch, 3-D input is read as (N, C, L), with a
    warning, and other ranks are warned about (then dim 1 is the channel)."""
    p = _check_p(p)
    check_tensor("dropout2d", "input", input)
    if input.ndim not in (3, 4):
        warnings.warn(f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is deprecated and will result "
                      "in an error in a future release. To retain the behavior and silence this warning, please use "
                      "dropout instead. Note that dropout2d exists to provide channel-wise dropout on inputs with 2 "
                      "spatial dimensions, a channel dimension, and an optional batch dimension (i.e. 3D or 4D "
                      "inputs).", UserWarning, stacklevel=2)
    if input.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout "
                      "behavior is desired - input is interpreted as shape (N, C, L), where C is the channel dim. "
                      "This behavior will change in a future release to interpret the input as one without a batch "
                      "dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise dropout behavior, please "
                      "switch to using dropout1d instead.", UserWarning, stacklevel=2)
    return _feature_dropout("dropout2d", input, p, training, inplace)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zeroes whole channels of (N, C, D, H, W) or (C, D, H, W) input; other ranks are warned about."""
    p = _check_p(p)
    check_tensor("dropout3d", "input", input)
    if input.ndim not in (4, 5):
        warnings.warn(f"dropout3d: Received a {input.ndim}-D input to dropout3d, which is deprecated and will result "
                      "in an error in a future release. To retain the behavior and silence this warning, please use "
                      "dropout instead. Note that dropout3d exists to provide channel-wise dropout on inputs with 3 "
                      "spatial dimensions, a channel dimension, and an optional batch dimension (i.e. 4D or 5D "
                      "inputs).", UserWarning, stacklevel=2)
    return _feature_dropout("dropout3d", input, p, training, inplace, add_batch=input.ndim != 5)


def _alpha_dropout(op, input, p, training, inplace, feature):
    """PyTorch's alpha dropout: kept elements become a x + b, dropped ones a alpha' + b with alpha' SELU's
    negative saturation, a and b chosen so that zero mean and unit variance are kept."""
    p = _check_p(p)
    if not training or p == 0.0 or input.numel() == 0:
        return input
    check_tensor(op, "input", input)
    require_float(op, input)
    if p == 1.0:
        def compute(x):
            return x * 0.0
    else:
        _, kept = _keep_mask(op, input, p, feature)
        kept = kept.to(input.dtype)
        a = ((_SELU_SATURATION ** 2 * p + 1) * (1 - p)) ** -0.5
        scale = kept * a
        shift = (kept - 1.0) * (_SELU_SATURATION * a) + _SELU_SATURATION * a * p

        def compute(x):
            return x * scale + shift
    return write_in_place(op, input, compute) if inplace else compute(input)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout for SELU networks: dropped elements are set to SELU's negative saturation, then all are
    scaled and shifted to keep the mean and variance. Note PyTorch's default training=False."""
    return _alpha_dropout("alpha_dropout", input, p, training, inplace, feature=False)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """alpha_dropout with one draw per (sample, channel): whole channels are set to the saturation value."""
    return _alpha_dropout("feature_alpha_dropout", input, p, training, inplace, feature=True)
