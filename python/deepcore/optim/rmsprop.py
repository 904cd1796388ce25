"""RMSprop, PyTorch's variant: eps added outside the square root."""
from .optimizer import Optimizer, _check, _number


class RMSprop(Optimizer):
    r"""``torch.optim.RMSprop``::

        g = grad (+ weight_decay * p)
        v = alpha * v + (1 - alpha) * g^2
        centered: m = m + (1 - alpha) * (g - m);   denom = sqrt(v - m^2) + eps
        else:                                      denom = sqrt(v) + eps
        momentum > 0: b = momentum * b + g / denom;  p -= lr * b
        else:         p -= lr * g / denom

    Note eps is *outside* the square root (the lecture and Keras put it inside).
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False, *,
                 maximize=False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                                      centered=centered, maximize=maximize))

    @classmethod
    def _check_options(cls, o):
        for name, label in (("lr", "learning rate"), ("eps", "epsilon value"), ("momentum", "momentum value"),
                            ("weight_decay", "weight_decay value"), ("alpha", "alpha value")):
            value = _number(o[name], name, "RMSprop")
            _check(value >= 0, f"Invalid {label}: {value}")

    def _update(self, group, backend, params, params_nd, grads_nd):
        momentum, centered = float(group["momentum"]), bool(group["centered"])

        def init(p):
            st = {"step": self._step_counter(), "square_avg": self._zeros_like(p)}
            if momentum > 0:
                st["momentum_buffer"] = self._zeros_like(p)
            if centered:
                st["grad_avg"] = self._zeros_like(p)
            return st

        states = self._states(params, init)
        for p, st in zip(params, states):  # options changed after the first step (as PyTorch allows)
            if momentum > 0 and "momentum_buffer" not in st:
                st["momentum_buffer"] = self._zeros_like(p)
            if centered and "grad_avg" not in st:
                st["grad_avg"] = self._zeros_like(p)
        backend.rmsprop_step(params_nd, grads_nd, [s["square_avg"]._data for s in states],
                             [s["momentum_buffer"]._data for s in states] if momentum > 0 else [],
                             [s["grad_avg"]._data for s in states] if centered else [],
                             [s["step"]._data for s in states], lr=float(group["lr"]), alpha=float(group["alpha"]),
                             eps=float(group["eps"]), weight_decay=float(group["weight_decay"]), momentum=momentum,
                             centered=centered, maximize=bool(group["maximize"]))
