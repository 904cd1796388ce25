"""RAdam: Adam with the variance of the adaptive step rectified (PyTorch's formulas, composed of tensor ops)."""
import math

from .adam import check_adam_options
from .optimizer import ComposedOptimizer, _unsupported_flags, lerp_


class RAdam(ComposedOptimizer):
    r"""``torch.optim.RAdam``::

        g = grad (+ weight_decay * p)       decoupled_weight_decay instead: p *= 1 - lr * weight_decay
        m = m + (1 - beta1) * (g - m);  v = beta2 * v + (1 - beta2) * g^2
        rho_inf = 2 / (1 - beta2) - 1;  rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)
        rho_t > 5: r = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
                   p -= lr * m / (1 - beta1^t) * sqrt(1 - beta2^t) / (sqrt(v) + eps) * r
        else:      p -= lr * m / (1 - beta1^t)          (plain momentum while the variance is unreliable)
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False,
                 *, foreach=None, maximize=False, capturable=False, differentiable=False):
        _unsupported_flags("RAdam", capturable=capturable, differentiable=differentiable)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      decoupled_weight_decay=decoupled_weight_decay, maximize=maximize))

    @classmethod
    def _check_options(cls, o):
        check_adam_options(cls.__name__, o)

    def _update_group(self, group, params, grads):
        beta1, beta2 = (float(b) for b in group["betas"])
        lr, eps, wd = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        states = self._states(params, lambda p: {"step": self._step_counter(), "exp_avg": self._zeros_like(p),
                                                 "exp_avg_sq": self._zeros_like(p)})
        for p, g, st in zip(params, grads, states):
            st["step"] += 1
            t = st["step"].item()
            if wd != 0:
                if group["decoupled_weight_decay"]:
                    p.mul_(1.0 - lr * wd)
                else:
                    g = g + p * wd
            exp_avg, exp_avg_sq = st["exp_avg"], st["exp_avg_sq"]
            lerp_(exp_avg, g, 1.0 - beta1)
            exp_avg_sq.mul_(beta2).add_(g * g * (1.0 - beta2))
            correction1, correction2 = 1.0 - beta1 ** t, 1.0 - beta2 ** t
            corrected = exp_avg / correction1
            rho_inf = 2.0 / (1.0 - beta2) - 1.0
            rho_t = rho_inf - 2.0 * t * beta2 ** t / correction2
            if rho_t > 5.0:
                rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
                adaptive = correction2 ** 0.5 / (exp_avg_sq.sqrt() + eps)
                p.sub_(corrected * lr * adaptive * rect)
            else:
                p.sub_(corrected * lr)
