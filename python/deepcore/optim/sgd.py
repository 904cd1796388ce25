"""SGD with momentum, dampening, Nesterov momentum and weight decay (PyTorch's formulas)."""
from .optimizer import Optimizer, _check, _number


class SGD(Optimizer):
    r"""Stochastic gradient descent, exactly as ``torch.optim.SGD``::

        g = grad (+ weight_decay * p)                  (-grad when maximize)
        b = g on the first step, else momentum * b + (1 - dampening) * g
        g = g + momentum * b if nesterov else b        (when momentum != 0)
        p = p - lr * g

    The lecture's momentum (v = gamma v + eta grad; theta -= v) is the same
    trajectory with lr * b = v (see docs/optimizers.md).
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize))

    @classmethod
    def _check_options(cls, o):
        lr, momentum = _number(o["lr"], "lr", "SGD"), _number(o["momentum"], "momentum", "SGD")
        _check(lr >= 0, f"Invalid learning rate: {lr}")
        _check(momentum >= 0, f"Invalid momentum value: {momentum}")
        _check(_number(o["weight_decay"], "weight_decay", "SGD") >= 0, f"Invalid weight_decay value: "
                                                                        f"{o['weight_decay']}")
        _number(o["dampening"], "dampening", "SGD")
        _check(not o["nesterov"] or (momentum > 0 and o["dampening"] == 0),
               "Nesterov momentum requires a momentum and zero dampening")

    def _update(self, group, backend, params, params_nd, grads_nd):
        momentum = float(group["momentum"])
        buffers, fresh = [], []
        if momentum != 0:
            for p in params:
                buf = self.state.get(p, {}).get("momentum_buffer")
                fresh.append(buf is None)
                buffers.append(buf if buf is not None else self._zeros_like(p))
        backend.sgd_step(params_nd, grads_nd, [b._data for b in buffers], fresh, lr=float(group["lr"]),
                         momentum=momentum, dampening=float(group["dampening"]),
                         weight_decay=float(group["weight_decay"]), nesterov=bool(group["nesterov"]),
                         maximize=bool(group["maximize"]))
        for p, buf in zip(params, buffers):  # recorded only once the kernel has filled them
            self.state.setdefault(p, {})["momentum_buffer"] = buf
