"""NAdam: Adam with Nesterov momentum and a momentum schedule (PyTorch's formulas, composed of tensor ops)."""
from .adam import check_adam_options
from .optimizer import ComposedOptimizer, _check, _number, _unsupported_flags, lerp_
from ..tensor import Tensor
from .. import _C


class NAdam(ComposedOptimizer):
    r"""``torch.optim.NAdam``::

        g = grad (+ weight_decay * p)       decoupled_weight_decay instead: p *= 1 - lr * weight_decay
        mu_t = beta1 * (1 - 0.5 * 0.96^(t * momentum_decay));  mu_product *= mu_t
        m = m + (1 - beta1) * (g - m);  v = beta2 * v + (1 - beta2) * g^2
        d = sqrt(v / (1 - beta2^t)) + eps
        p -= lr * (1 - mu_t) / (1 - mu_product) * g / d + lr * mu_{t+1} / (1 - mu_product * mu_{t+1}) * m / d

    ``mu_product`` is a float32 0-d tensor in the state, as PyTorch keeps it.
    """

    _scalar_states = ("step", "mu_product")

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        _unsupported_flags("NAdam", capturable=capturable, differentiable=differentiable)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay,
                                      decoupled_weight_decay=decoupled_weight_decay, maximize=maximize))

    @classmethod
    def _check_options(cls, o):
        check_adam_options(cls.__name__, o)
        decay = _number(o["momentum_decay"], "momentum_decay", cls.__name__)
        _check(decay >= 0, f"Invalid momentum_decay value: {decay}")

    def _update_group(self, group, params, grads):
        beta1, beta2 = (float(b) for b in group["betas"])
        lr, eps, wd = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        decay = float(group["momentum_decay"])

        def init(p):
            return {"step": self._step_counter(), "mu_product": Tensor._make(_C.full([], 1.0, _C.DType.float32)),
                    "exp_avg": self._zeros_like(p), "exp_avg_sq": self._zeros_like(p)}

        for p, g, st in zip(params, grads, self._states(params, init)):
            st["step"] += 1
            t = st["step"].item()
            if wd != 0:
                if group["decoupled_weight_decay"]:
                    p.mul_(1.0 - lr * wd)
                else:
                    g = g + p * wd
            mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * decay))
            mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * decay))
            st["mu_product"] *= mu
            mu_product = st["mu_product"].item()
            exp_avg, exp_avg_sq = st["exp_avg"], st["exp_avg_sq"]
            lerp_(exp_avg, g, 1.0 - beta1)
            exp_avg_sq.mul_(beta2).add_(g * g * (1.0 - beta2))
            denom = (exp_avg_sq / (1.0 - beta2 ** t)).sqrt() + eps
            p.add_(g / denom * (-lr * (1.0 - mu) / (1.0 - mu_product)))
            p.add_(exp_avg / denom * (-lr * mu_next / (1.0 - mu_product * mu_next)))
