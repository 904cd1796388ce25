"""Batch normalization in training mode, with a hand-written backward.

The batch statistics are computed outside (they also feed the running
averages); the Function normalizes and, in backward, uses the closed form

    dx = w*invstd * (g - mean(g) - xc * invstd^2 * mean(g * xc))

which needs two reductions and a few elementwise passes instead of the
graph autograd would build from the composite.
"""
from ..autograd import Function, no_grad
from ._checks import require_float


class BatchNormTrain(Function):
    @staticmethod
    def forward(ctx, x, weight, bias, mean, var, eps, dims, stat_shape):
        invstd = 1.0 / (var + eps).sqrt()           # (C,)
        xc = x - mean.reshape(stat_shape)
        scale = invstd if weight is None else invstd * weight
        y = xc * scale.reshape(stat_shape)
        if bias is not None:
            y = y + bias.reshape(stat_shape)
        ctx.save_for_backward(xc, invstd, weight)
        ctx.meta = dims, stat_shape, x.numel() // max(invstd.numel(), 1)
        return y

    @staticmethod
    def backward(ctx, g):
        xc, invstd, weight = ctx.saved_tensors
        dims, stat_shape, count = ctx.meta
        sum_g = g.sum(dims)
        sum_g_xc = (g * xc).sum(dims)
        gw = sum_g_xc * invstd if weight is not None and ctx.needs_input_grad[1] else None
        gb = sum_g if ctx.needs_input_grad[2] else None
        gx = None
        if ctx.needs_input_grad[0]:
            a = invstd if weight is None else invstd * weight
            k = a * invstd * invstd * sum_g_xc / count
            c = a * sum_g / count
            gx = g * a.reshape(stat_shape) - (xc * k.reshape(stat_shape) + c.reshape(stat_shape))
        return gx, gw, gb, None, None, None, None, None


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Normalizes over every dim but 1 (the channels). training: batch statistics, and the running
    ones (if given) move by `momentum` (unbiased variance, as PyTorch); else the running statistics."""
    require_float("batch_norm", input)
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
        return BatchNormTrain.apply(input, weight, bias, mean, var, eps, dims, stat_shape)
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
