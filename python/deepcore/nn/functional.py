"""deepcore.nn.functional: the stateless side of nn, as torch.nn.functional::

    import deepcore.nn.functional as F
    loss = F.nll_loss(F.log_softmax(model(x), dim=1), target)
"""
import math
import numbers
import re
import warnings

from .. import ops as _ops  # noqa: F401  (the op families below)
from ..ops import activation as _act
from ..ops import conv as _conv
from ..ops import pool as _pool
from ..ops.dropout import Dropout as _Dropout
from ..ops.elementwise import LeakyRelu as _LeakyRelu, _require_float
from ..ops.index import MaskRowGrad as _MaskRowGrad, index_select as _index_select
from ..ops.loss import CrossEntropy as _CrossEntropy, NLLLoss as _NLLLoss, PointwiseLoss as _PointwiseLoss
from ..ops.normalization import BatchNormTrain as _BatchNormTrain
from ..ops.shape import flatten as _flatten
from ..autograd import no_grad
from ..tensor import Tensor
from ..ops.linear import linear as _fused_linear

_REDUCTIONS = ("none", "mean", "sum")


def _check_tensor(op, name, x):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: {name} must be a deepcore Tensor, got {type(x).__name__}")


# ---- layers ------------------------------------------------------------------------------

def linear(input, weight, bias=None):
    """input @ weight.T + bias, weight of shape (out_features, in_features)."""
    _check_tensor("linear", "input", input)
    if input.ndim == 0 or input.shape[-1] != weight.shape[-1]:
        raise ValueError(f"linear: input of shape {tuple(input.shape)} does not fit a weight of shape "
                         f"{tuple(weight.shape)} (the last input dimension must be {weight.shape[-1]})")
    # One native call: bias fused into the GEMM, which reads weight transposed (no copy).
    return _fused_linear(input, weight, bias)


def _padding_index(op, padding_idx, num_embeddings):
    """padding_idx in [0, num_embeddings) (a negative one counts from the end, as in PyTorch), or None."""
    if padding_idx is None:
        return None
    if isinstance(padding_idx, bool) or not isinstance(padding_idx, numbers.Integral) \
            or not -num_embeddings <= padding_idx < num_embeddings:
        raise ValueError(f"{op}: padding_idx={padding_idx!r} must be an int within num_embeddings "
                         f"(-{num_embeddings} <= padding_idx < {num_embeddings})")
    return int(padding_idx) % num_embeddings


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    """The rows of weight (num_embeddings, embedding_dim) at the int64 indices `input` (any shape):
    (*input.shape, embedding_dim). Repeated indices accumulate their gradients; the padding_idx row
    gets none (its value is still returned, as in PyTorch)."""
    _check_tensor("embedding", "input", input)
    _check_tensor("embedding", "weight", weight)
    for name, value, default in (("max_norm", max_norm, None), ("scale_grad_by_freq", scale_grad_by_freq, False),
                                 ("sparse", sparse, False)):
        if value != default:
            raise ValueError(f"embedding: {name}={value!r} is not supported (not implemented; only "
                             f"{name}={default!r})")
    if input.dtype.name != "int64":
        raise TypeError(f"embedding: expected int64 indices, got a {input.dtype.name} input of shape "
                        f"{tuple(input.shape)} (convert with input.long())")
    if weight.ndim != 2:
        raise ValueError(f"embedding: weight must be 2-D (num_embeddings, embedding_dim), got shape "
                         f"{tuple(weight.shape)}")
    num = weight.shape[0]
    padding_idx = _padding_index("embedding", padding_idx, num)
    flat = input.reshape(-1)
    try:  # the gather checks the range itself; only its message is reworded here (no extra pass)
        rows = _index_select(weight, 0, flat)
    except ValueError as e:
        bad = re.search(r"index (-?\d+) .*out of range", str(e))
        if bad is None:
            raise
        raise IndexError(f"embedding: index {bad.group(1)} is out of range for a table of {num} embeddings "
                         f"(expected 0 <= index < {num}); input of shape {tuple(input.shape)}") from None
    if padding_idx is not None and rows.requires_grad:
        rows = _MaskRowGrad.apply(rows, flat != padding_idx)
    return rows.reshape(tuple(input.shape) + (weight.shape[1],))


def one_hot(tensor, num_classes=-1):
    """int64 class indices (any shape) -> int64 (*shape, num_classes) with a 1 at each index
    (num_classes=-1: the largest index + 1)."""
    _check_tensor("one_hot", "tensor", tensor)
    if tensor.dtype.name != "int64":
        raise TypeError(f"one_hot: expected int64 class indices, got {tensor.dtype.name}")
    if tensor.numel() == 0 and num_classes < 0:
        raise ValueError("one_hot: cannot infer num_classes from an empty tensor; pass num_classes")
    lo = int(tensor.min().item()) if tensor.numel() else 0
    hi = int(tensor.max().item()) if tensor.numel() else -1
    if num_classes < 0:
        num_classes = hi + 1
    if lo < 0 or hi >= num_classes:
        raise ValueError(f"one_hot: class index {lo if lo < 0 else hi} is out of range for num_classes={num_classes}")
    from ..tensor import arange
    classes = arange(num_classes, dtype=tensor.dtype, device=tensor.device)
    return (tensor.unsqueeze(-1) == classes).long()


def _pair(v, name, op):
    if isinstance(v, numbers.Integral):
        return (int(v), int(v))
    v = tuple(v)
    if len(v) != 2 or not all(isinstance(i, numbers.Integral) for i in v):
        raise ValueError(f"{op}: {name} must be an int or a pair of ints, got {v!r}")
    return tuple(int(i) for i in v)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (NCHW input, weight (out_channels, in_channels / groups, kH, kW))."""
    if isinstance(padding, str):
        padding = _conv_padding(padding, tuple(weight.shape[-2:]), _pair(stride, "stride", "conv2d"),
                                _pair(dilation, "dilation", "conv2d"))
    return _conv.conv2d(input, weight, bias, stride, padding, dilation, groups)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """PyTorch's conv_transpose2d: weight (in, out/groups, kh, kw); see deepcore.ops.conv."""
    return _conv.conv_transpose2d(input, weight, bias, stride, padding, output_padding, groups, dilation)


def _conv_padding(mode, kernel, stride, dilation):
    if mode == "valid":
        return 0
    if mode == "same":
        if stride != (1, 1):
            raise ValueError("conv2d: padding='same' is not supported for strided convolutions")
        total = [d * (k - 1) for k, d in zip(kernel, dilation)]
        if any(t % 2 for t in total):
            raise NotImplementedError(f"conv2d: padding='same' with an even kernel {kernel} needs asymmetric "
                                      f"padding, which deepcore does not support; pad explicitly")
        return tuple(t // 2 for t in total)
    raise ValueError(f"conv2d: padding must be an int, a pair, 'valid' or 'same', got {mode!r}")


def _unsupported(op, **flags):
    for name, (value, default) in flags.items():
        if value != default:
            raise NotImplementedError(f"{op}: {name}={value!r} is not supported (only {name}={default!r})")


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    _unsupported("max_pool2d", dilation=(dilation, 1), ceil_mode=(ceil_mode, False),
                 return_indices=(return_indices, False))
    return _pool.max_pool2d(input, kernel_size, stride, padding)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    _unsupported("avg_pool2d", ceil_mode=(ceil_mode, False), count_include_pad=(count_include_pad, True),
                 divisor_override=(divisor_override, None))
    return _pool.avg_pool2d(input, kernel_size, stride, padding)


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None):
    """Nearest-neighbour upsampling of an NCHW tensor by an integer factor (or to an integer multiple size)."""
    if mode != "nearest":
        raise NotImplementedError(f"interpolate: mode={mode!r} is not supported (only 'nearest')")
    if input.ndim != 4:
        raise ValueError(f"interpolate: expected a 4-D (N, C, H, W) input, got shape {tuple(input.shape)}")
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    h, w = input.shape[2], input.shape[3]
    if size is not None:
        oh, ow = _pair(size, "size", "interpolate")
        if h == 0 or w == 0 or oh % h or ow % w:
            raise NotImplementedError(f"interpolate: size {(oh, ow)} is not an integer multiple of the input "
                                      f"size {(h, w)}")
        factor = (oh // h, ow // w)
    else:
        sf = scale_factor if isinstance(scale_factor, (tuple, list)) else (scale_factor, scale_factor)
        if any(float(f) != int(f) or f < 1 for f in sf):
            raise NotImplementedError(f"interpolate: scale_factor {scale_factor!r} must be a positive integer")
        factor = tuple(int(f) for f in sf)
    scale = factor[0] if factor[0] == factor[1] else factor
    return _pool.upsample_nearest2d(input, scale)


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    return interpolate(input, size, scale_factor, "nearest")


# ---- activations -------------------------------------------------------------------------
# inplace=True is accepted for PyTorch compatibility; the result is computed out of place.

def relu(input, inplace=False):
    return input.relu()


def leaky_relu(input, negative_slope=0.01, inplace=False):
    _require_float("leaky_relu", input)
    return _LeakyRelu.apply(input, negative_slope)


def tanh(input):
    return input.tanh()


def sigmoid(input):
    return input.sigmoid()


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """softmax over `dim`; without dim, PyTorch's legacy choice (dim 0 for 0/1/3-D input, else 1) with a warning."""
    if dtype is not None:
        input = input.to(dtype)
    return _act.softmax(input, dim)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """log(softmax(input)), computed stably; implicit dim as in softmax."""
    if dtype is not None:
        input = input.to(dtype)
    return _act.log_softmax(input, dim)


def dropout(input, p=0.5, training=True, inplace=False):
    """Zeroes each element with probability p and scales the rest by 1 / (1 - p) when training;
    the identity otherwise. Reproducible with deepcore.manual_seed, for any thread count."""
    if not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    _require_float("dropout", input)
    return _Dropout.apply(input, float(p))


def flatten(input, start_dim=0, end_dim=-1):
    return _flatten(input, start_dim, end_dim)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Normalizes over every dim but 1 (the channels). training: batch statistics, and the running
    ones (if given) move by `momentum` (unbiased variance, as PyTorch); else the running statistics."""
    _require_float("batch_norm", input)
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected an input of shape (N, C) or (N, C, ...), got {tuple(input.shape)}")
    C = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                    ("bias", bias)):
        if t is not None and tuple(t.shape) != (C,):
            raise ValueError(f"batch_norm: {name} of shape {tuple(t.shape)} does not match the {C} channels of an "
                             f"input of shape {tuple(input.shape)}")
    stat_shape = (1, C) + (1,) * (input.ndim - 2)
    dims = (0,) + tuple(range(2, input.ndim))
    if training:
        count = input.numel() // max(C, 1)
        if count <= 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when training, got input of shape "
                             f"{tuple(input.shape)}")
        with no_grad():
            x = input.detach()
            mean = x.mean(dims)
            centered = x - mean.reshape(stat_shape)
            var = (centered * centered).mean(dims)
            if running_mean is not None:
                running_mean.mul_(1 - momentum).add_(mean.to(running_mean.dtype) * momentum)
            if running_var is not None:
                unbiased = var * (count / (count - 1))
                running_var.mul_(1 - momentum).add_(unbiased.to(running_var.dtype) * momentum)
        return _BatchNormTrain.apply(input, weight, bias, mean, var, eps, dims, stat_shape)
    if running_mean is None or running_var is None:
        raise ValueError("batch_norm: evaluation mode needs running_mean and running_var")
    # Fold everything into one scale and shift per channel: two elementwise passes over the input.
    scale = 1.0 / (running_var.to(input.dtype) + eps).sqrt()
    if weight is not None:
        scale = scale * weight
    shift = -running_mean.to(input.dtype) * scale
    if bias is not None:
        shift = shift + bias
    return input * scale.reshape(stat_shape) + shift.reshape(stat_shape)


# ---- losses --------------------------------------------------------------------------------

def _legacy_reduction(size_average, reduce, reduction):
    """PyTorch's deprecated size_average/reduce arguments (older listings: nll_loss(..., size_average=False))."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    result = "none" if not reduce else ("mean" if size_average else "sum")
    warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{result}' instead.",
                  UserWarning, stacklevel=3)
    return result


def _check_reduction(op, reduction, allowed=_REDUCTIONS):
    if reduction not in allowed:
        raise ValueError(f"{op}: {reduction!r} is not a valid value for reduction (expected one of "
                         f"{', '.join(repr(r) for r in allowed)})")


def _class_inputs(op, input, target, weight):
    """Checks for the class-index losses; returns (input, target, weight, unbatched)."""
    _check_tensor(op, "input", input)
    _check_tensor(op, "target", target)
    if not input.dtype.is_floating_point:
        raise TypeError(f"{op}: expected a float32 or float64 input, got {input.dtype.name}")
    if target.dtype.is_floating_point or target.dtype.name == "bool":
        raise TypeError(f"{op}: expected class indices of dtype int64 as the target, got a {target.dtype.name} target "
                        f"of shape {tuple(target.shape)} (convert with target.long())")
    if input.ndim == 0:
        raise ValueError(f"{op}: input must have at least one dimension (the classes), got a 0-d tensor")
    unbatched = input.ndim == 1
    if unbatched:
        if target.ndim != 0:
            raise ValueError(f"{op}: a 1-D input of shape {tuple(input.shape)} (one sample) needs a 0-d target, got "
                             f"shape {tuple(target.shape)}")
        input, target = input.unsqueeze(0), target.reshape(1)
    expected = (input.shape[0],) + tuple(input.shape[2:])
    if tuple(target.shape) != expected:
        raise ValueError(f"{op}: input of shape {tuple(input.shape)} needs a target of shape {expected}, got "
                         f"{tuple(target.shape)}")
    if weight is not None:
        _check_tensor(op, "weight", weight)
        if tuple(weight.shape) != (input.shape[1],):
            raise ValueError(f"{op}: weight of shape {tuple(weight.shape)} should have one entry per class, i.e. "
                             f"shape ({input.shape[1]},)")
        weight = weight.detach().to(input.dtype)
    if target.device != input.device:
        raise ValueError(f"{op}: input on {input.device} and target on {target.device}")
    return input, target.detach(), weight, unbatched


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """Negative log-likelihood of log-probabilities ``input`` (N, C) or (N, C, d1, ...) at the int64 class
    indices ``target`` (N) or (N, d1, ...); mean over the (weighted) targets, as in PyTorch."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction("nll_loss", reduction)
    input, target, weight, unbatched = _class_inputs("nll_loss", input, target, weight)
    out = _NLLLoss.apply(input, target, weight, int(ignore_index), reduction)
    return out.reshape(()) if unbatched and reduction == "none" else out


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                  label_smoothing=0.0):
    """log_softmax + nll_loss in one stable native kernel. ``target`` holds int64 class indices, or class
    probabilities (a float tensor of the input's shape)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction("cross_entropy", reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}")
    _check_tensor("cross_entropy", "input", input)
    _check_tensor("cross_entropy", "target", target)
    if target.dtype.is_floating_point:
        if tuple(target.shape) != tuple(input.shape):
            raise TypeError(f"cross_entropy: a float target must hold class probabilities of the input's shape "
                            f"{tuple(input.shape)}, got shape {tuple(target.shape)}; for class indices pass an "
                            f"int64 target (target.long())")
        return _soft_cross_entropy(input, target, weight, reduction, label_smoothing)
    input, target, weight, unbatched = _class_inputs("cross_entropy", input, target, weight)
    out = _CrossEntropy.apply(input, target, weight, int(ignore_index), float(label_smoothing), reduction)
    return out.reshape(()) if unbatched and reduction == "none" else out


def _soft_cross_entropy(input, target, weight, reduction, label_smoothing):
    """Cross-entropy against class probabilities (composite: rarely on a hot path)."""
    if not input.dtype.is_floating_point:
        raise TypeError(f"cross_entropy: expected a float32 or float64 input, got {input.dtype.name}")
    dim = 0 if input.ndim == 1 else 1
    C = input.shape[dim]
    target = target.to(input.dtype)
    if label_smoothing > 0:
        target = target * (1 - label_smoothing) + label_smoothing / C
    logp = _act.log_softmax(input, dim)
    if weight is not None:
        shape = [1] * input.ndim
        shape[dim] = C
        logp = logp * weight.detach().to(input.dtype).reshape(tuple(shape))
    per_row = -(logp * target).sum(dim)
    return _reduce(per_row, reduction)


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _pointwise_inputs(op, input, target, float_target=True):
    _check_tensor(op, "input", input)
    _check_tensor(op, "target", target)
    if not input.dtype.is_floating_point:
        raise TypeError(f"{op}: expected a float32 or float64 input, got {input.dtype.name}")
    if float_target and not target.dtype.is_floating_point:
        raise TypeError(f"{op}: expected a floating-point target, got {target.dtype.name} of shape "
                        f"{tuple(target.shape)} (convert with target.float()); class-index targets belong to "
                        f"cross_entropy / nll_loss")
    if tuple(input.shape) != tuple(target.shape):
        raise ValueError(f"{op}: input of shape {tuple(input.shape)} and target of shape {tuple(target.shape)} "
                         f"differ; broadcasting them is almost always a bug (e.g. output (N, 1) vs target (N,)): "
                         f"reshape one of them")
    if target.dtype is not input.dtype:
        target = target.to(input.dtype)
    return input, target


def _elementwise_weight(op, weight, input):
    """A per-element weight broadcast to the input's shape (the kernel reads it densely)."""
    if weight is None:
        return None
    _check_tensor(op, "weight", weight)
    try:
        expanded = weight.detach().to(input.dtype).expand(*input.shape)
    except ValueError:
        raise ValueError(f"{op}: weight of shape {tuple(weight.shape)} cannot be broadcast to the input's shape "
                         f"{tuple(input.shape)}") from None
    return expanded.contiguous()


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """(input - target)^2 (times weight, broadcast to the input), averaged (or summed) over all elements."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction("mse_loss", reduction)
    input, target = _pointwise_inputs("mse_loss", input, target)
    weight = _elementwise_weight("mse_loss", weight, input)
    return _PointwiseLoss.apply("mse", input, target, weight, None, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """|input - target| (times weight, broadcast to the input), averaged (or summed) over all elements."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction("l1_loss", reduction)
    input, target = _pointwise_inputs("l1_loss", input, target)
    weight = _elementwise_weight("l1_loss", weight, input)
    return _PointwiseLoss.apply("l1", input, target, weight, None, reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta), d = input - target: squared near the
    target, absolute far from it (DQN's TD-error loss). Composed of elementwise ops."""
    return _robust_loss("huber_loss", input, target, reduction, delta, weight, scale=1.0)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """huber_loss divided by beta (PyTorch's SmoothL1Loss): 0.5 d^2 / beta where |d| < beta, else
    |d| - 0.5 beta; beta = 0 is l1_loss."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if beta == 0:
        return l1_loss(input, target, reduction=reduction)
    return _robust_loss("smooth_l1_loss", input, target, reduction, beta, None, scale=1.0 / beta)


def _robust_loss(op, input, target, reduction, delta, weight, scale):
    _check_reduction(op, reduction)
    if not delta >= 0:
        raise ValueError(f"{op}: delta/beta must be non-negative, got {delta}")
    input, target = _pointwise_inputs(op, input, target)
    weight = _elementwise_weight(op, weight, input)
    d = (input - target).abs()
    inside = (d < delta).to(input.dtype)  # no gradient through the choice of branch
    loss = (inside * (0.5 * d * d) + (1.0 - inside) * (delta * (d - 0.5 * delta))) * scale
    return _reduce(loss if weight is None else loss * weight, reduction)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """-(t log p + (1 - t) log(1 - p)) for probabilities p in [0, 1] (e.g. after sigmoid)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction("binary_cross_entropy", reduction)
    input, target = _pointwise_inputs("binary_cross_entropy", input, target)
    weight = _elementwise_weight("binary_cross_entropy", weight, input)
    return _PointwiseLoss.apply("bce", input, target, weight, None, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction="mean",
                                     pos_weight=None):
    """sigmoid + binary_cross_entropy in one stable kernel, on raw scores (logits).
    pos_weight (broadcast over the input, e.g. one per class) scales the positive term."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction("binary_cross_entropy_with_logits", reduction)
    input, target = _pointwise_inputs("binary_cross_entropy_with_logits", input, target)
    weight = _elementwise_weight("binary_cross_entropy_with_logits", weight, input)
    pos_weight = _elementwise_weight("binary_cross_entropy_with_logits", pos_weight, input)
    return _PointwiseLoss.apply("bce_with_logits", input, target, weight, pos_weight, reduction)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """KL(target || exp(input)) pointwise: target * (log target - input), input being log-probabilities.
    reduction='batchmean' divides the sum by the batch size (the mathematically right KL);
    'mean' averages over all elements, as PyTorch does (with its warning)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction("kl_div", reduction, _REDUCTIONS + ("batchmean",))
    input, target = _pointwise_inputs("kl_div", input, target)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        # xlogy: 0 * log 0 = 0. The clamp only moves targets below the smallest normal number.
        tiny = 1e-300 if input.dtype.name == "float64" else 1e-38
        loss = target * (target.clamp(min=tiny).log() - input)
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    if reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size. "
                      "'batchmean' divides only by the batch size, and aligns with the KL div math definition.",
                      UserWarning, stacklevel=2)
    return _reduce(loss, reduction)
