"""deepcore.nn.utils: gradient clipping and per-layer regularization penalties.

L1/L2 regularization, the PyTorch way: add a penalty of the layers you choose
to the loss before ``backward()``::

    loss = F.cross_entropy(model(x), y)
    loss = loss + 1e-4 * nn.utils.l2_penalty(model.fc1) + 1e-5 * nn.utils.l1_penalty(model.fc2.weight)
    loss.backward()

``l2_penalty`` is the plain sum of squares (Keras' ``l2`` regularizer): adding
``0.5 * wd * l2_penalty(model)`` gives the same gradient as an optimizer's
``weight_decay=wd``.
"""
import math

from ...autograd import no_grad
from ...ops.shape import cat
from ...tensor import Tensor, tensor
from ..modules.module import Module


def _params(module_or_params, what):
    if isinstance(module_or_params, Module):
        return list(module_or_params.parameters())
    if isinstance(module_or_params, Tensor):
        return [module_or_params]
    params = list(module_or_params)
    for p in params:
        if not isinstance(p, Tensor):
            raise TypeError(f"{what}: expected a Module, a tensor or an iterable of tensors, got an element of type "
                            f"{type(p).__name__}")
    return params


def _penalty(module_or_params, fn, what, include_bias):
    if isinstance(module_or_params, Module) and not include_bias:
        params = [p for name, p in module_or_params.named_parameters() if not name.endswith("bias")]
    else:
        params = _params(module_or_params, what)
    if not params:
        raise ValueError(f"{what}: no parameters given")
    total = None
    for p in params:
        term = fn(p).sum()
        total = term if total is None else total + term
    return total


def l1_penalty(module_or_params, include_bias=True):
    """sum(|p|) over the parameters of a module (or the given tensors): a differentiable scalar.
    include_bias=False skips parameters named '*bias' (penalize weights only, as Keras' kernel_regularizer)."""
    return _penalty(module_or_params, lambda p: p.abs(), "l1_penalty", include_bias)


def l2_penalty(module_or_params, include_bias=True):
    """sum(p^2) over the parameters of a module (or the given tensors): a differentiable scalar."""
    return _penalty(module_or_params, lambda p: p * p, "l2_penalty", include_bias)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scales the gradients in place so that their joint norm is at most max_norm; returns the norm
    before clipping (a 0-d tensor)."""
    params = [p for p in _params(parameters, "clip_grad_norm_") if p.grad is not None]
    norm_type = float(norm_type)
    if not params:
        return tensor(0.0)
    with no_grad():
        grads = [p.grad for p in params]
        if math.isinf(norm_type):
            total = max(float(g.abs().max()) for g in grads if g.numel()) if any(g.numel() for g in grads) else 0.0
        else:
            total = sum(float((g.abs() ** norm_type).sum()) if norm_type != 2.0 else float((g * g).sum())
                        for g in grads) ** (1.0 / norm_type)
        if error_if_nonfinite and not math.isfinite(total):
            raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, "
                               f"so it cannot be clipped. To disable this error and scale the gradients by the "
                               f"non-finite norm anyway, set `error_if_nonfinite=False`")
        coef = float(max_norm) / (total + 1e-6)
        if coef < 1.0:
            for g in grads:
                g.mul_(coef)
    return tensor(total, dtype=params[0].dtype)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamps every gradient element to [-clip_value, clip_value] in place."""
    clip_value = float(clip_value)
    with no_grad():
        for p in _params(parameters, "clip_grad_value_"):
            if p.grad is not None:
                p.grad.clamp_(-clip_value, clip_value)


def parameters_to_vector(parameters):
    return cat([p.reshape(-1) for p in _params(parameters, "parameters_to_vector")])


def vector_to_parameters(vec, parameters):
    offset = 0
    with no_grad():
        for p in _params(parameters, "vector_to_parameters"):
            n = p.numel()
            p.copy_(vec[offset:offset + n].reshape(tuple(p.shape)))
            offset += n
