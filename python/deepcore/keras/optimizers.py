"""keras.optimizers with Keras 2's defaults and update formulas, each run by one of deepcore.optim's
fused native kernels (docs/optimizers.md, docs/keras.md).

How each Keras 2 formula maps onto the PyTorch-convention kernels, exactly (up to rounding):

* SGD: Keras v = momentum * v - lr * g, p += v (nesterov: p += momentum * v - lr * g) equals
  torch's b = momentum * b + g, p -= lr * b at constant lr. With ``decay`` the lr changes every step
  and Keras' v remembers the old lr: the kernel's b is rescaled by lr_{t-1} / lr_t before the step,
  which makes the two identical.
* RMSprop, Adagrad, Adadelta: Keras 2's formulas are torch's (epsilon outside the root for RMSprop
  and Adagrad, inside both roots for Adadelta); only the defaults differ.
* Adam: Keras adds epsilon to sqrt(v) *before* the bias correction,
  p -= lr * sqrt(1 - beta_2^t) / (1 - beta_1^t) * m / (sqrt(v) + epsilon); torch adds it after.
  Giving the kernel eps_t = epsilon / sqrt(1 - beta_2^t) at step t makes them identical.
* ``decay`` (all): lr_t = lr / (1 + decay * iterations), as Keras 2.
* ``clipnorm`` (each gradient scaled to norm <= clipnorm) and ``clipvalue`` as Keras 2.

An optimizer object is created without parameters (``RMSprop()``); ``compile`` binds it to the
model's trainable weights. ``lr`` (alias ``learning_rate``) may be changed at any time. One object
may serve several models (Keras' GAN recipe compiles the discriminator and the combined model with
the same ``Adam(0.0002, 0.5)``): each set of weights keeps its own state (moments, and Adam's
bias-correction step count), never reset by the other model's steps; ``iterations`` counts every
step (what ``decay`` reads), as Keras' shared counter.
"""
import math

from .. import optim as _optim
from ..autograd import no_grad
from . import config as _config
from ._common import as_tensor, deserialize


class Optimizer:
    _defaults = {}

    def __init__(self, lr=None, learning_rate=None, decay=0.0, clipnorm=None, clipvalue=None, **kwargs):
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unexpected keyword argument(s) {', '.join(sorted(kwargs))}")
        if lr is not None and learning_rate is not None and lr != learning_rate:
            raise ValueError(f"{type(self).__name__}: give lr or learning_rate, not both")
        lr = lr if lr is not None else learning_rate
        self.lr = float(self._defaults["lr"] if lr is None else lr)
        if self.lr < 0:
            raise ValueError(f"{type(self).__name__}: lr must be >= 0, got {self.lr}")
        self.initial_decay = self.decay = float(decay)
        if self.decay < 0:
            raise ValueError(f"{type(self).__name__}: decay must be >= 0, got {decay}")
        self.clipnorm, self.clipvalue = clipnorm, clipvalue
        self.iterations = 0
        self._bindings = {}  # weights (by identity) -> [weights, kernel optimizer, steps taken on them]
        self._bound = None
        self._opt = None
        self._params = None
        self._last_lr = None

    @property
    def learning_rate(self):
        return self.lr

    @learning_rate.setter
    def learning_rate(self, value):
        self.lr = float(value)

    # ---- binding to a model ---------------------------------------------------------
    def _bind(self, params):
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__}: the model has no trainable weights to optimize")
        key = tuple(id(p) for p in params)  # the binding holds the weights, so their ids stay unique
        bound = self._bindings.get(key)
        if bound is None:
            bound = self._bindings[key] = [params, self._make(params), 0]
        self._bound = bound
        self._params, self._opt = bound[0], bound[1]

    def _make(self, params):
        raise NotImplementedError

    def _current_lr(self):
        if self.decay:
            return self.lr / (1.0 + self.decay * self.iterations)
        return self.lr

    def _before_step(self, group, lr_t):
        """Set per-step options on the kernel's param group (subclasses)."""

    def zero_grad(self):
        self._opt.zero_grad()

    def step(self):
        """One update of every bound weight from its .grad (what fit calls once per batch)."""
        if self._opt is None:
            raise RuntimeError(f"{type(self).__name__}: not bound to any weights (compile a model with it first)")
        if self.clipvalue is not None or self.clipnorm is not None:
            self._clip()
        lr_t = self._current_lr()
        for group in self._opt.param_groups:
            group["lr"] = lr_t
            self._before_step(group, lr_t)
        self._opt.step()
        self._apply_constraints()
        self._last_lr = lr_t
        self._bound[2] += 1
        self.iterations += 1

    def apply(self, grads, trainable_variables=None):
        """Keras 3: one update of `trainable_variables` (default: the weights bound last) from `grads`, in the
        same order; a None gradient leaves its variable as it is. Each set of variables keeps its own state."""
        grads = list(grads)
        if trainable_variables is None:
            if self._params is None:
                raise ValueError(f"{type(self).__name__}.apply: give trainable_variables (the optimizer is not "
                                 f"bound to any weights yet)")
            variables = self._params
        else:
            variables = list(trainable_variables)
        if len(grads) != len(variables):
            raise ValueError(f"{type(self).__name__}.apply: {len(grads)} gradients for {len(variables)} variables")
        if not variables:
            return
        from .engine import distribute as _distribute  # (engine imports this module)
        if _distribute.apply_averages():  # inside fit under a process group: every rank's mean gradient
            _distribute.average_gradients(variables, [g if g is None else as_tensor(g) for g in grads])
        self._bind(variables)
        with no_grad():
            for i, (g, v) in enumerate(zip(grads, variables)):
                if g is not None and g is not v.grad:
                    g = as_tensor(g)
                    if tuple(g.shape) != tuple(v.shape):
                        raise ValueError(f"{type(self).__name__}.apply: gradient {i} has shape {tuple(g.shape)}, "
                                         f"its variable {tuple(v.shape)}")
                v.grad = g
            self.step()

    def apply_gradients(self, grads_and_vars):
        """Keras' spelling: an iterable of (gradient, variable) pairs."""
        pairs = list(grads_and_vars)
        self.apply([g for g, _ in pairs], [v for _, v in pairs])

    def _apply_constraints(self):
        """Each updated weight with a ``constraint`` (Layer.add_weight sets it) becomes the constraint of
        its new value, right after the update, as Keras 3's optimizer.apply (Keras 2: get_updates)."""
        for p in self._params:
            constraint = getattr(p, "constraint", None)
            if constraint is None or p.grad is None:
                continue
            to_keras, from_keras = getattr(p, "_keras_layout", (None, None))
            with no_grad():
                value = p.detach()
                projected = as_tensor(constraint(to_keras(value) if to_keras else value))
                projected = from_keras(projected) if from_keras else projected
                if tuple(projected.shape) != tuple(p.shape):
                    raise ValueError(f"{type(self).__name__}: the constraint {constraint!r} returned shape "
                                     f"{tuple(projected.shape)} for a weight of shape {tuple(p.shape)}")
                p.copy_(projected)

    def _clip(self):
        for p in self._params:
            g = p.grad
            if g is None:
                continue
            if self.clipnorm is not None:
                norm = math.sqrt((g * g).sum().item())
                if norm > self.clipnorm:
                    g.mul_(self.clipnorm / norm)
            if self.clipvalue is not None:
                g.clamp_(-self.clipvalue, self.clipvalue)

    # ---- config ---------------------------------------------------------------------
    def get_config(self):
        config = {"lr": self.lr, "decay": self.decay}
        if self.clipnorm is not None:
            config["clipnorm"] = self.clipnorm
        if self.clipvalue is not None:
            config["clipvalue"] = self.clipvalue
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(f'{k}={v}' for k, v in self.get_config().items())})"


class SGD(Optimizer):
    """Keras 2 SGD(lr=0.01, momentum=0., decay=0., nesterov=False)."""
    _defaults = {"lr": 0.01}

    def __init__(self, lr=None, momentum=0.0, decay=0.0, nesterov=False, **kwargs):
        super().__init__(lr=lr, decay=decay, **kwargs)
        if momentum < 0:
            raise ValueError(f"SGD: momentum must be >= 0, got {momentum}")
        self.momentum, self.nesterov = float(momentum), bool(nesterov)

    def _make(self, params):
        return _optim.SGD(params, lr=self.lr, momentum=self.momentum, nesterov=self.nesterov)

    def _before_step(self, group, lr_t):
        group["momentum"], group["nesterov"] = self.momentum, self.nesterov and self.momentum > 0
        if self.momentum and self._last_lr is not None and lr_t != self._last_lr and lr_t > 0:
            # Keras' velocity carries the old lr; torch's buffer does not: rescale it (see module doc).
            scale = self._last_lr / lr_t
            for p in group["params"]:
                buf = self._opt.state.get(p, {}).get("momentum_buffer")
                if buf is not None:
                    buf.mul_(scale)

    def get_config(self):
        return dict(super().get_config(), momentum=self.momentum, nesterov=self.nesterov)


class RMSprop(Optimizer):
    """Keras 2 RMSprop(lr=0.001, rho=0.9, epsilon=1e-7): a = rho a + (1 - rho) g^2,
    p -= lr g / (sqrt(a) + epsilon)."""
    _defaults = {"lr": 0.001}

    def __init__(self, lr=None, rho=0.9, epsilon=None, decay=0.0, **kwargs):
        super().__init__(lr=lr, decay=decay, **kwargs)
        self.rho = float(rho)
        self.epsilon = _config.epsilon() if epsilon is None else float(epsilon)

    def _make(self, params):
        return _optim.RMSprop(params, lr=self.lr, alpha=self.rho, eps=self.epsilon)

    def _before_step(self, group, lr_t):
        group["alpha"], group["eps"] = self.rho, self.epsilon

    def get_config(self):
        return dict(super().get_config(), rho=self.rho, epsilon=self.epsilon)


class Adagrad(Optimizer):
    """Keras 2 Adagrad(lr=0.01, epsilon=1e-7): a += g^2, p -= lr g / (sqrt(a) + epsilon)."""
    _defaults = {"lr": 0.01}

    def __init__(self, lr=None, epsilon=None, decay=0.0, **kwargs):
        super().__init__(lr=lr, decay=decay, **kwargs)
        self.epsilon = _config.epsilon() if epsilon is None else float(epsilon)

    def _make(self, params):
        return _optim.Adagrad(params, lr=self.lr, eps=self.epsilon)

    def _before_step(self, group, lr_t):
        group["eps"] = self.epsilon

    def get_config(self):
        return dict(super().get_config(), epsilon=self.epsilon)


class Adadelta(Optimizer):
    """Keras 2 Adadelta(lr=1.0, rho=0.95, epsilon=1e-7)."""
    _defaults = {"lr": 1.0}

    def __init__(self, lr=None, rho=0.95, epsilon=None, decay=0.0, **kwargs):
        super().__init__(lr=lr, decay=decay, **kwargs)
        self.rho = float(rho)
        self.epsilon = _config.epsilon() if epsilon is None else float(epsilon)

    def _make(self, params):
        return _optim.Adadelta(params, lr=self.lr, rho=self.rho, eps=self.epsilon)

    def _before_step(self, group, lr_t):
        group["rho"], group["eps"] = self.rho, self.epsilon

    def get_config(self):
        return dict(super().get_config(), rho=self.rho, epsilon=self.epsilon)


class Adam(Optimizer):
    """Keras 2 Adam(lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False), epsilon added
    before the bias correction (see the module doc for how the kernel reproduces it)."""
    _defaults = {"lr": 0.001}

    def __init__(self, lr=None, beta_1=0.9, beta_2=0.999, epsilon=None, decay=0.0, amsgrad=False, **kwargs):
        super().__init__(lr=lr, decay=decay, **kwargs)
        self.beta_1, self.beta_2 = float(beta_1), float(beta_2)
        self.epsilon = _config.epsilon() if epsilon is None else float(epsilon)
        self.amsgrad = bool(amsgrad)

    def _make(self, params):
        return _optim.Adam(params, lr=self.lr, betas=(self.beta_1, self.beta_2), eps=self.epsilon,
                           amsgrad=self.amsgrad)

    def _before_step(self, group, lr_t):
        t = self._bound[2] + 1  # the kernel's own step count for these weights
        group["betas"] = (self.beta_1, self.beta_2)
        group["eps"] = self.epsilon / math.sqrt(1.0 - self.beta_2 ** t)

    def get_config(self):
        return dict(super().get_config(), beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon,
                    amsgrad=self.amsgrad)


sgd, rmsprop, adagrad, adadelta, adam = SGD, RMSprop, Adagrad, Adadelta, Adam
_ALL = {"SGD": SGD, "RMSprop": RMSprop, "Adagrad": Adagrad, "Adadelta": Adadelta, "Adam": Adam,
        "sgd": SGD, "rmsprop": RMSprop, "adagrad": Adagrad, "adadelta": Adadelta, "adam": Adam}


def get(identifier, custom_objects=None):
    """An optimizer object from a string ('rmsprop': Keras 2 defaults), a config dict or an optimizer."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, _optim.Optimizer):
        raise TypeError("compile: pass a deepcore.keras optimizer (e.g. keras.optimizers.RMSprop()), not a "
                        "deepcore.optim one bound to parameters")
    if isinstance(identifier, str):
        key = identifier if identifier in _ALL else identifier.lower()
        if key not in _ALL:
            raise ValueError(f"Unknown optimizer: {identifier!r} (known: sgd, rmsprop, adagrad, adadelta, adam)")
        return _ALL[key]()
    return deserialize(identifier, _ALL, custom_objects, "optimizer")


def serialize(optimizer):
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}
