"""Adamax: Adam with the infinity norm (PyTorch's formulas, composed of tensor ops)."""
from .adam import check_adam_options
from .optimizer import ComposedOptimizer, _unsupported_flags, lerp_


class Adamax(ComposedOptimizer):
    r"""``torch.optim.Adamax``::

        g = grad (+ weight_decay * p)               (-grad when maximize)
        m = m + (1 - beta1) * (g - m)
        u = max(beta2 * u, |g| + eps)
        p -= lr / (1 - beta1^t) * m / u
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False):
        _unsupported_flags("Adamax", differentiable=differentiable, capturable=capturable)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      maximize=maximize))

    @classmethod
    def _check_options(cls, o):
        check_adam_options(cls.__name__, o)

    def _update_group(self, group, params, grads):
        beta1, beta2 = (float(b) for b in group["betas"])
        lr, eps, wd = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        states = self._states(params, lambda p: {"step": self._step_counter(), "exp_avg": self._zeros_like(p),
                                                 "exp_inf": self._zeros_like(p)})
        for p, g, st in zip(params, grads, states):
            st["step"] += 1
            if wd != 0:
                g = g + p * wd
            lerp_(st["exp_avg"], g, 1.0 - beta1)
            exp_inf = st["exp_inf"]
            exp_inf.copy_((exp_inf * beta2).maximum(g.abs() + eps))
            clr = lr / (1.0 - beta1 ** st["step"].item())
            p.sub_(st["exp_avg"] / exp_inf * clr)
