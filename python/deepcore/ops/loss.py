"""Loss functions on the native kernels (csrc/cpu/loss.cpp), with their argument checks.

nn.functional exports these under PyTorch's names; keras.losses and nn's loss modules call them.
"""
import warnings

from ..autograd import Function
from ..tensor import Tensor
from ._checks import check_tensor
from .activation import log_softmax


def _opt(t):
    return None if t is None else t._data


class CrossEntropy(Function):
    """Fused log-softmax + NLL over dim 1; the backward rebuilds softmax from the logits shifted by their
    row max, as the forward does (a saved logsumexp, rounded to float32, would cost its rounding error)."""

    @staticmethod
    def forward(ctx, logits, target, weight, ignore_index, label_smoothing, reduction):
        loss, total_weight = logits._backend.cross_entropy(logits._data, target._data, _opt(weight),
                                                           ignore_index, label_smoothing, reduction)
        ctx.save_for_backward(logits, target, weight)
        ctx.args = ignore_index, label_smoothing, reduction, total_weight
        return Tensor._make(loss)

    @staticmethod
    def backward(ctx, g):
        logits, target, weight = ctx.saved_tensors
        ignore_index, label_smoothing, reduction, total_weight = ctx.args
        grad = g._backend.cross_entropy_backward(g._data, logits._data, target._data, _opt(weight),
                                                 ignore_index, label_smoothing, reduction, total_weight)
        return Tensor._make(grad), None, None, None, None, None


class NLLLoss(Function):
    @staticmethod
    def forward(ctx, log_probs, target, weight, ignore_index, reduction):
        loss, total_weight = log_probs._backend.nll_loss(log_probs._data, target._data, _opt(weight), ignore_index,
                                                         reduction)
        ctx.save_for_backward(log_probs, target, weight)
        ctx.args = ignore_index, reduction, total_weight
        return Tensor._make(loss)

    @staticmethod
    def backward(ctx, g):
        log_probs, target, weight = ctx.saved_tensors
        ignore_index, reduction, total_weight = ctx.args
        grad = g._backend.nll_loss_backward(g._data, log_probs._data, target._data, _opt(weight), ignore_index,
                                            reduction, total_weight)
        return Tensor._make(grad), None, None, None, None


class PointwiseLoss(Function):
    """mse, l1, bce, bce_with_logits: one native kernel each way (weight/pos_weight already input-shaped)."""

    @staticmethod
    def forward(ctx, kind, x, y, weight, pos_weight, reduction):
        ctx.save_for_backward(x, y, weight, pos_weight)
        ctx.args = kind, reduction
        return Tensor._make(x._backend.pointwise_loss(kind, x._data, y._data, _opt(weight), _opt(pos_weight),
                                                      reduction))

    @staticmethod
    def backward(ctx, g):
        x, y, weight, pos_weight = ctx.saved_tensors
        kind, reduction = ctx.args
        gx = gy = None
        if ctx.needs_input_grad[1]:
            gx = Tensor._make(g._backend.pointwise_loss_backward(kind, g._data, x._data, y._data, _opt(weight),
                                                                 _opt(pos_weight), reduction))
        if ctx.needs_input_grad[2]:
            gy = _target_grad(kind, g, x, y, weight, pos_weight, reduction)
        return None, gx, gy, None, None, None


def _target_grad(kind, g, x, y, weight, pos_weight, reduction):
    """d loss / d target: rare (a target that requires grad), so composed of tensor ops."""
    if kind in ("mse", "l1"):
        gx = Tensor._make(g._backend.pointwise_loss_backward(kind, g._data, x._data, y._data, _opt(weight), None,
                                                             reduction))
        return -gx
    if kind == "bce":  # d/dy -(y log x + (1-y) log(1-x)) = log(1-x) - log(x), logs clamped at -100
        d = (1 - x).log().clamp(min=-100.0) - x.log().clamp(min=-100.0)
    else:  # d/dy [(1-y) x + (1 + (pw-1) y) softplus(-x)] = -x + (pw-1) softplus(-x)
        softplus_neg = ((-x.abs()).exp() + 1).log() + (-x).clamp(min=0.0)
        d = -x if pos_weight is None else -x + (pos_weight - 1) * softplus_neg
    if weight is not None:
        d = d * weight
    if reduction == "none":
        return g * d
    scale = g / x.numel() if reduction == "mean" else g
    return d * scale


_REDUCTIONS = ("none", "mean", "sum")


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
    check_tensor(op, "input", input)
    check_tensor(op, "target", target)
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
        check_tensor(op, "weight", weight)
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
    out = NLLLoss.apply(input, target, weight, int(ignore_index), reduction)
    return out.reshape(()) if unbatched and reduction == "none" else out


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                  label_smoothing=0.0):
    """log_softmax + nll_loss in one stable native kernel. ``target`` holds int64 class indices, or class
    probabilities (a float tensor of the input's shape)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction("cross_entropy", reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}")
    check_tensor("cross_entropy", "input", input)
    check_tensor("cross_entropy", "target", target)
    if target.dtype.is_floating_point:
        if tuple(target.shape) != tuple(input.shape):
            raise TypeError(f"cross_entropy: a float target must hold class probabilities of the input's shape "
                            f"{tuple(input.shape)}, got shape {tuple(target.shape)}; for class indices pass an "
                            f"int64 target (target.long())")
        return _soft_cross_entropy(input, target, weight, reduction, label_smoothing)
    input, target, weight, unbatched = _class_inputs("cross_entropy", input, target, weight)
    out = CrossEntropy.apply(input, target, weight, int(ignore_index), float(label_smoothing), reduction)
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
    logp = log_softmax(input, dim)
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
    check_tensor(op, "input", input)
    check_tensor(op, "target", target)
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
    check_tensor(op, "weight", weight)
    try:
        expanded = weight.detach().to(input.dtype).expand(*input.shape)
    except ValueError:
        raise ValueError(f"{op}: weight of shape {tuple(weight.shape)} cannot be broadcast to the input's shape "
                         f"{tuple(input.shape)}") from None
    return expanded.contiguous()


def _fused_pointwise(kind, op, input, target, reduction, weight=None, pos_weight=None):
    """The checks and the one native call behind mse_loss, l1_loss and the two BCEs."""
    _check_reduction(op, reduction)
    input, target = _pointwise_inputs(op, input, target)
    weight = _elementwise_weight(op, weight, input)
    pos_weight = _elementwise_weight(op, pos_weight, input)
    return PointwiseLoss.apply(kind, input, target, weight, pos_weight, reduction)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """(input - target)^2 (times weight, broadcast to the input), averaged (or summed) over all elements."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    return _fused_pointwise("mse", "mse_loss", input, target, reduction, weight)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """|input - target| (times weight, broadcast to the input), averaged (or summed) over all elements."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    return _fused_pointwise("l1", "l1_loss", input, target, reduction, weight)


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
    return _fused_pointwise("bce", "binary_cross_entropy", input, target, reduction, weight)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction="mean",
                                     pos_weight=None):
    """sigmoid + binary_cross_entropy in one stable kernel, on raw scores (logits).
    pos_weight (broadcast over the input, e.g. one per class) scales the positive term."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    return _fused_pointwise("bce_with_logits", "binary_cross_entropy_with_logits", input, target, reduction, weight,
                            pos_weight)


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
