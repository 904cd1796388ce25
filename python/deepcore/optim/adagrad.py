"""Adagrad (PyTorch's formulas, dense gradients)."""
from .optimizer import Optimizer, _check, _number


class Adagrad(Optimizer):
    r"""``torch.optim.Adagrad``::

        g = grad (+ weight_decay * p);  clr = lr / (1 + (t - 1) * lr_decay)
        s = s + g^2   (s starts at initial_accumulator_value)
        p -= clr * g / (sqrt(s) + eps)
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10, *,
                 maximize=False):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps,
                                      maximize=maximize))

    @classmethod
    def _check_options(cls, o):
        for name, label in (("lr", "learning rate"), ("lr_decay", "lr_decay value"),
                            ("weight_decay", "weight_decay value"),
                            ("initial_accumulator_value", "initial_accumulator_value value"),
                            ("eps", "epsilon value")):
            value = _number(o[name], name, "Adagrad")
            _check(value >= 0, f"Invalid {label}: {value}")

    def _update(self, group, backend, params, params_nd, grads_nd):
        start = float(group["initial_accumulator_value"])
        states = self._states(params, lambda p: {"step": self._step_counter(), "sum": self._zeros_like(p, start)})
        backend.adagrad_step(params_nd, grads_nd, [s["sum"]._data for s in states], [s["step"]._data for s in states],
                             lr=float(group["lr"]), lr_decay=float(group["lr_decay"]),
                             weight_decay=float(group["weight_decay"]), eps=float(group["eps"]),
                             maximize=bool(group["maximize"]))
