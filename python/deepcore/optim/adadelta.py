"""Adadelta (PyTorch's formulas)."""
from .optimizer import Optimizer, _check, _number


class Adadelta(Optimizer):
    r"""``torch.optim.Adadelta``::

        g = grad (+ weight_decay * p)
        v = rho * v + (1 - rho) * g^2
        delta = sqrt(u + eps) / sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta^2
        p -= lr * delta
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, *, maximize=False):
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize))

    @classmethod
    def _check_options(cls, o):
        lr, rho = _number(o["lr"], "lr", "Adadelta"), _number(o["rho"], "rho", "Adadelta")
        eps, wd = _number(o["eps"], "eps", "Adadelta"), _number(o["weight_decay"], "weight_decay", "Adadelta")
        _check(lr >= 0, f"Invalid learning rate: {lr}")
        _check(0.0 <= rho <= 1.0, f"Invalid rho value: {rho}")
        _check(eps >= 0, f"Invalid epsilon value: {eps}")
        _check(wd >= 0, f"Invalid weight_decay value: {wd}")

    def _update(self, group, backend, params, params_nd, grads_nd):
        states = self._states(params, lambda p: {"step": self._step_counter(), "square_avg": self._zeros_like(p),
                                                 "acc_delta": self._zeros_like(p)})
        backend.adadelta_step(params_nd, grads_nd, [s["square_avg"]._data for s in states],
                              [s["acc_delta"]._data for s in states], [s["step"]._data for s in states],
                              lr=float(group["lr"]), rho=float(group["rho"]), eps=float(group["eps"]),
                              weight_decay=float(group["weight_decay"]), maximize=bool(group["maximize"]))
