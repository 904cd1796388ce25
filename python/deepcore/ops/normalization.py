"""Batch normalization in training mode, with a hand-written backward.

The batch statistics are computed outside (they also feed the running
averages); the Function normalizes and, in backward, uses the closed form

    dx = w*invstd * (g - mean(g) - xc * invstd^2 * mean(g * xc))

which needs two reductions and a few elementwise passes instead of the
graph autograd would build from the composite.
"""
from ..autograd import Function


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
