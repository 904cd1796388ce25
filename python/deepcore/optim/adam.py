"""Adam and AdamW (PyTorch's formulas, with amsgrad)."""
from .optimizer import Optimizer, _check, _number


def check_adam_options(name, o):
    """PyTorch's checks of lr, eps, betas and weight_decay, shared by the Adam family."""
    lr, eps = _number(o["lr"], "lr", name), _number(o["eps"], "eps", name)
    _check(lr >= 0, f"Invalid learning rate: {lr}")
    _check(eps >= 0, f"Invalid epsilon value: {eps}")
    betas = o["betas"]
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"{name}: betas must be a pair (beta1, beta2), got {betas!r}")
    for i, beta in enumerate(betas):
        beta = _number(beta, f"betas[{i}]", name)
        _check(0.0 <= beta < 1.0, f"Invalid beta parameter at index {i}: {beta}")
    wd = _number(o["weight_decay"], "weight_decay", name)
    _check(wd >= 0, f"Invalid weight_decay value: {wd}")


class Adam(Optimizer):
    r"""``torch.optim.Adam``::

        g = grad (+ weight_decay * p)            AdamW instead: p *= 1 - lr * weight_decay
        m = m + (1 - beta1) * (g - m)
        v = beta2 * v + (1 - beta2) * g^2        amsgrad: v_max = max(v_max, v), used instead of v
        p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
    """

    _decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 maximize=False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize))

    @classmethod
    def _check_options(cls, o):
        check_adam_options(cls.__name__, o)

    def _update(self, group, backend, params, params_nd, grads_nd):
        amsgrad = bool(group["amsgrad"])

        def init(p):
            st = {"step": self._step_counter(), "exp_avg": self._zeros_like(p), "exp_avg_sq": self._zeros_like(p)}
            if amsgrad:
                st["max_exp_avg_sq"] = self._zeros_like(p)
            return st

        states = self._states(params, init)
        if amsgrad:
            for p, st in zip(params, states):
                st.setdefault("max_exp_avg_sq", self._zeros_like(p))
        beta1, beta2 = (float(b) for b in group["betas"])
        backend.adam_step(params_nd, grads_nd, [s["exp_avg"]._data for s in states],
                          [s["exp_avg_sq"]._data for s in states],
                          [s["max_exp_avg_sq"]._data for s in states] if amsgrad else [],
                          [s["step"]._data for s in states], lr=float(group["lr"]), beta1=beta1, beta2=beta2,
                          eps=float(group["eps"]), weight_decay=float(group["weight_decay"]), amsgrad=amsgrad,
                          maximize=bool(group["maximize"]), decoupled_weight_decay=self._decoupled)


class AdamW(Adam):
    """``torch.optim.AdamW``: Adam with decoupled weight decay (p *= 1 - lr * weight_decay first); the default
    weight_decay is 1e-2."""

    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                         maximize=maximize)
