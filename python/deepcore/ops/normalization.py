"""Normalization: batch, layer, group, instance and RMS norm with closed-form backwards; local response
norm; vector norms and the distances built on them (F.normalize, cosine_similarity, pairwise_distance).

Batch norm's statistics are computed outside its Function (they also feed the running averages); its
backward is

    dx = w*invstd * (g - mean(g) - xc * invstd^2 * mean(g * xc))

The other norms normalize each row of the input read as a matrix (layer norm: one row per sample,
group norm: one per (sample, group), instance norm: one per (sample, channel)); one Function,
`Normalize`, serves them all, with the same closed form per row. Each is one autograd node: two
reductions and a few elementwise passes, instead of the graph autograd would build from the composite.
"""
import math
import numbers

from ..autograd import Function, no_grad
from .._dims import normalize_dim
from ._checks import check_float_tensor, require_float
from .elementwise import where
from .pool import avg_pool2d
from .reduce import sum_to


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


# ---- per-row normalization: layer, group, instance and RMS norm ------------------------------------

class Normalize(Function):
    """y = xhat * weight + bias with xhat = (x - mean) * rstd, rstd = 1 / sqrt(var + eps), the
    statistics taken over the last dim of x read as `rows` (center=False, RMS norm: no mean, the
    variance is the mean square). weight and bias are read as `affine_shape`, which broadcasts
    against x. Backward, per row, with gh = g * weight:

        dx = rstd * (gh - mean(gh) - xhat * mean(gh * xhat))     (RMS norm: without mean(gh))
    """

    @staticmethod
    def forward(ctx, x, weight, bias, rows, affine_shape, eps, center):
        xr = x.reshape(rows)
        if center:
            xr = xr - xr.mean(-1, keepdim=True)
        rstd = 1.0 / ((xr * xr).mean(-1, keepdim=True) + eps).sqrt()
        xhat = xr * rstd
        y = xhat.reshape(tuple(x.shape))
        if weight is not None:
            y = y * weight.reshape(affine_shape)
        if bias is not None:
            y = y + bias.reshape(affine_shape)
        ctx.save_for_backward(xhat, rstd, weight)
        ctx.meta = (tuple(x.shape), affine_shape, center,
                    None if weight is None else tuple(weight.shape), None if bias is None else tuple(bias.shape))
        return y

    @staticmethod
    def backward(ctx, g):
        xhat, rstd, weight = ctx.saved_tensors
        shape, affine_shape, center, weight_shape, bias_shape = ctx.meta
        gx = gw = gb = None
        if weight is not None and ctx.needs_input_grad[1]:
            gw = sum_to(g * xhat.reshape(shape), affine_shape).reshape(weight_shape)
        if bias_shape is not None and ctx.needs_input_grad[2]:
            gb = sum_to(g, affine_shape).reshape(bias_shape)
        if ctx.needs_input_grad[0]:
            gh = (g if weight is None else g * weight.reshape(affine_shape)).reshape(tuple(xhat.shape))
            inner = gh - xhat * (gh * xhat).mean(-1, keepdim=True)
            if center:
                inner = inner - gh.mean(-1, keepdim=True)
            gx = (inner * rstd).reshape(shape)
        return gx, gw, gb, None, None, None, None


def _check_affine(op, name, t, input, expected):
    if t is None:
        return
    check_float_tensor(op, name, t)
    if tuple(t.shape) != expected:
        raise RuntimeError(f"{op}: expected {name} of shape {expected}, got {tuple(t.shape)} (input of shape "
                           f"{tuple(input.shape)})")
    if t.dtype is not input.dtype or t.device != input.device:
        raise RuntimeError(f"{op}: {name} is {t.dtype.name} on {t.device} but the input is {input.dtype.name} on "
                           f"{input.device}")


def _normalized_shape(op, normalized_shape):
    # torch accepts a tuple, list or Size; an int is taken as (int,), as nn.LayerNorm does.
    shape = (normalized_shape,) if isinstance(normalized_shape, numbers.Integral) else tuple(normalized_shape)
    if not shape or not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) for s in shape):
        raise TypeError(f"{op}: normalized_shape must be a non-empty tuple of ints, got {normalized_shape!r}")
    return tuple(int(s) for s in shape)


def _trailing(op, input, shape):
    check_float_tensor(op, "input", input)
    if input.ndim < len(shape) or tuple(input.shape[input.ndim - len(shape):]) != shape:
        raise RuntimeError(f"{op}: Given normalized_shape={list(shape)}, expected input with shape "
                           f"[*, {', '.join(str(s) for s in shape)}], but got input of size {list(input.shape)}")


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalizes over the trailing dims `normalized_shape` (mean 0, variance 1, biased), then
    weight * . + bias (each of shape normalized_shape)."""
    shape = _normalized_shape("layer_norm", normalized_shape)
    _trailing("layer_norm", input, shape)
    for name, t in (("weight", weight), ("bias", bias)):
        _check_affine("layer_norm", name, t, input, shape)
    return Normalize.apply(input, weight, bias, (-1, math.prod(shape)), shape, float(eps), True)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """x / sqrt(mean(x^2) + eps) over the trailing dims normalized_shape, times weight; eps=None is the
    dtype's machine epsilon, as in PyTorch."""
    shape = _normalized_shape("rms_norm", normalized_shape)
    _trailing("rms_norm", input, shape)
    _check_affine("rms_norm", "weight", weight, input, shape)
    if eps is None:
        eps = 2.0 ** -23 if input.dtype.name == "float32" else 2.0 ** -52
    return Normalize.apply(input, weight, None, (-1, math.prod(shape)), shape, float(eps), False)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Splits the C channels of (N, C, *) into num_groups groups and normalizes each (sample, group);
    weight and bias are per channel."""
    check_float_tensor("group_norm", "input", input)
    if input.ndim < 2:
        raise RuntimeError(f"group_norm: expected at least 2 dimensions for input tensor but received {input.ndim}")
    N, C = input.shape[0], input.shape[1]
    if isinstance(num_groups, bool) or not isinstance(num_groups, numbers.Integral) or num_groups <= 0 \
            or C % num_groups:
        raise RuntimeError(f"group_norm: Expected number of channels in input to be divisible by num_groups, but got "
                           f"input of shape {list(input.shape)} and num_groups={num_groups}")
    for name, t in (("weight", weight), ("bias", bias)):
        _check_affine("group_norm", name, t, input, (C,))
    rows = (N, int(num_groups), C // int(num_groups) * math.prod(input.shape[2:]))  # explicit: N may be 0
    return Normalize.apply(input, weight, bias, rows, (C,) + (1,) * (input.ndim - 2), float(eps), True)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    """Normalizes each (sample, channel) of (N, C, *) over its spatial dims. use_input_stats=False: the
    running statistics instead; with use_input_stats and running statistics given, those move by
    `momentum` toward the batch's mean of the instance statistics (unbiased variance), as PyTorch."""
    check_float_tensor("instance_norm", "input", input)
    if input.ndim < 2:
        raise ValueError(f"instance_norm: expected an input of shape (N, C, ...), got {tuple(input.shape)}")
    N, C = input.shape[0], input.shape[1]
    for name, t in (("weight", weight), ("bias", bias)):
        _check_affine("instance_norm", name, t, input, (C,))
    for name, t in (("running_mean", running_mean), ("running_var", running_var)):
        if t is not None and tuple(t.shape) != (C,):
            raise RuntimeError(f"instance_norm: {name} should contain {C} elements not {t.numel()}")
    if not use_input_stats:
        return batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    count = input.numel() // max(N * C, 1)
    if count <= 1:
        raise ValueError(f"instance_norm: Expected more than 1 spatial element when training, got input size "
                         f"{tuple(input.shape)}")
    if running_mean is not None or running_var is not None:
        with no_grad():
            x = input.detach().reshape(N, C, count)
            mean = x.mean(-1)
            centered = x - mean.unsqueeze(-1)
            unbiased = (centered * centered).sum(-1) / (count - 1)
            if running_mean is not None:
                running_mean.mul_(1 - momentum).add_(mean.mean(0).to(running_mean.dtype) * momentum)
            if running_var is not None:
                running_var.mul_(1 - momentum).add_(unbiased.mean(0).to(running_var.dtype) * momentum)
    rows = (N, C, math.prod(input.shape[2:]))
    return Normalize.apply(input, weight, bias, rows, (C,) + (1,) * (input.ndim - 2), float(eps), True)


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """x / (k + alpha * mean of x^2 over `size` neighbouring channels)^beta (zero-padded windows of
    size//2 channels before and (size-1)//2 after). The window mean is the native avg_pool2d over the
    channels of (N, 1, C, rest), so the chain is five nodes, none of them per channel."""
    check_float_tensor("local_response_norm", "input", input)
    if input.ndim < 3:
        raise ValueError(f"local_response_norm: Expected 3D or higher dimensionality input (got {input.ndim} "
                         f"dimensions)")
    if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < 1:
        raise ValueError(f"local_response_norm: size must be a positive int, got {size!r}")
    if input.numel() == 0:
        return input * 1.0
    N, C = input.shape[0], input.shape[1]
    sq = (input * input).reshape(N, 1, C, -1)
    # Symmetric padding of size//2 both sides; an even window pads one less after, so drop the last row.
    window = avg_pool2d(sq, (int(size), 1), stride=1, padding=(int(size) // 2, 0))[:, :, :C]
    return input / (window.reshape(tuple(input.shape)) * alpha + k) ** beta


# ---- vector norms and distances --------------------------------------------------------------------

class VectorNorm(Function):
    """The p-norm over `dims`: (sum |x|^p)^(1/p); p = inf / -inf: max / min |x|; p = 0: the count of
    non-zeros. Its gradient is 0 where the norm is 0 (a subgradient, as PyTorch), not 0/0."""

    @staticmethod
    def forward(ctx, x, p, dims, keepdim):
        ax = x.abs()
        if p == 2:
            out = (x * x).sum(dims, keepdim=True).sqrt()
        elif p == 1:
            out = ax.sum(dims, keepdim=True)
        elif p == math.inf:
            out = ax.amax(dims, keepdim=True)
        elif p == -math.inf:
            out = ax.amin(dims, keepdim=True)
        elif p == 0:
            out = (x != 0).to(x.dtype).sum(dims, keepdim=True)
        else:
            out = (ax ** p).sum(dims, keepdim=True) ** (1.0 / p)
        ctx.save_for_backward(x, out)
        ctx.meta = p, dims, keepdim
        return out if keepdim else out.reshape(tuple(s for i, s in enumerate(x.shape) if i not in dims))

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        p, dims, keepdim = ctx.meta
        if not keepdim:
            g = g.reshape(tuple(out.shape))
        if p == 0:
            return x * 0.0, None, None, None
        if p == 1:
            return g * x.sign(), None, None, None
        zero = out == 0
        safe = where(zero, 1.0, out)
        if p in (math.inf, -math.inf):
            hit = (x.abs() == out).to(x.dtype)
            share = hit / hit.sum(dims, keepdim=True)
            return g * x.sign() * share, None, None, None
        if p == 2:
            scale = g / safe
            return where(zero, 0.0, scale) * x, None, None, None
        # d/dx (sum |x|^p)^(1/p) = sign(x) |x|^(p-1) / norm^(p-1)
        scale = where(zero, 0.0, g / safe ** (p - 1))
        return scale * x.sign() * x.abs() ** (p - 1), None, None, None


def vector_norm(x, p=2.0, dim=None, keepdim=False, op="vector_norm"):
    """The p-norm of x over dim (an int, a tuple, or None for all dims), as torch.linalg.vector_norm."""
    check_float_tensor(op, "input", x)
    if isinstance(p, bool) or not isinstance(p, numbers.Real):
        raise TypeError(f"{op}: p must be a number, got {p!r}")
    if dim is None:
        dims = tuple(range(x.ndim))
    else:
        dims = tuple(sorted({normalize_dim(d, x.ndim, op) for d in ((dim,) if isinstance(dim, int) else dim)}))
    if not x.ndim:
        dims = ()
    return VectorNorm.apply(x, float(p), dims, bool(keepdim))


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """input / max(||input||_p over dim, eps), as torch.nn.functional.normalize."""
    if out is not None:
        raise NotImplementedError("normalize: out= is not supported (assign the result instead)")
    norm = vector_norm(input, p, dim, keepdim=True, op="normalize")
    return input / norm.clamp(min=eps)


def broadcast_shapes(op, *shapes):
    """The NumPy broadcast of `shapes`; RuntimeError naming op and the first dimension that disagrees."""
    ndim = max(len(s) for s in shapes)
    out = []
    for i in range(-ndim, 0):
        sizes = {s[i] for s in shapes if len(s) >= -i} - {1}
        if len(sizes) > 1:
            raise RuntimeError(f"{op}: shapes {' and '.join(str(tuple(s)) for s in shapes)} do not broadcast (sizes "
                               f"{sorted(sizes)} at dimension {i})")
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """sum(x1 * x2) / (max(||x1||, eps) * max(||x2||, eps)) over dim, after broadcasting x1 and x2."""
    check_float_tensor("cosine_similarity", "x1", x1)
    check_float_tensor("cosine_similarity", "x2", x2)
    shape = broadcast_shapes("cosine_similarity", tuple(x1.shape), tuple(x2.shape))
    x1, x2 = x1.expand(shape), x2.expand(shape)
    d = normalize_dim(dim, len(shape), "cosine_similarity")
    n1 = vector_norm(x1, 2.0, d, keepdim=True, op="cosine_similarity").clamp(min=eps)
    n2 = vector_norm(x2, 2.0, d, keepdim=True, op="cosine_similarity").clamp(min=eps)
    return ((x1 / n1) * (x2 / n2)).sum(d)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p over the last dim (of the broadcast shape)."""
    check_float_tensor("pairwise_distance", "x1", x1)
    check_float_tensor("pairwise_distance", "x2", x2)
    ndim = max(x1.ndim, x2.ndim)
    broadcast_shapes("pairwise_distance", tuple(x1.shape), tuple(x2.shape))
    return vector_norm(x1 - x2 + eps, p, ndim - 1 if ndim else None, keepdim=keepdim, op="pairwise_distance")



def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """torch.norm: the vector p-norm over dim (all elements for dim None); 'fro' is the 2-norm of the
    elements (over dim, or all of them)."""
    if dtype is not None:
        input = input.to(dtype)
    if p == "nuc":
        raise NotImplementedError("norm: p='nuc' (the nuclear norm needs an SVD) is not supported")
    if p == "fro" or p is None:
        p = 2.0
    if isinstance(p, str):
        raise RuntimeError(f"norm: unknown p={p!r} (expected a number, 'fro' or 'nuc')")
    return vector_norm(input, p, dim, keepdim, op="norm")


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """The p-norm distance between each row of x1 (..., P, M) and each row of x2 (..., R, M): (..., P, R).
    Computed from the broadcast differences (P * R * M elements), so values and gradients are exact
    (zero distances get a zero gradient)."""
    check_float_tensor("cdist", "x1", x1)
    check_float_tensor("cdist", "x2", x2)
    if compute_mode not in ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                            "donot_use_mm_for_euclid_dist"):
        raise ValueError(f"cdist: {compute_mode!r} is not a valid value for compute_mode")
    if x1.ndim < 2 or x2.ndim < 2 or x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"cdist: X1 {tuple(x1.shape)} and X2 {tuple(x2.shape)} must be at least 2-D with the "
                           f"same number of columns")
    if p < 0:
        raise RuntimeError(f"cdist: only supports non-negative p values, got {p}")
    diff = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    return vector_norm(diff, p, -1, op="cdist")
