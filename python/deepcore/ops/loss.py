"""Loss functions on the native kernels (csrc/cpu/loss.cpp); checks live in nn.functional."""
from ..autograd import Function
from ..tensor import Tensor


def _opt(t):
    return None if t is None else t._data


class CrossEntropy(Function):
    """Fused log-softmax + NLL over dim 1; the backward rebuilds softmax from the saved logsumexp."""

    @staticmethod
    def forward(ctx, logits, target, weight, ignore_index, label_smoothing, reduction):
        loss, lse, total_weight = logits._backend.cross_entropy(logits._data, target._data, _opt(weight),
                                                                ignore_index, label_smoothing, reduction)
        lse = Tensor._make(lse)
        ctx.save_for_backward(logits, target, lse, weight)
        ctx.args = ignore_index, label_smoothing, reduction, total_weight
        return Tensor._make(loss)

    @staticmethod
    def backward(ctx, g):
        logits, target, lse, weight = ctx.saved_tensors
        ignore_index, label_smoothing, reduction, total_weight = ctx.args
        grad = g._backend.cross_entropy_backward(g._data, logits._data, target._data, lse._data, _opt(weight),
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
