"""Keras 2 graph-style expressions on a model's symbolic tensors, evaluated per training step.

Keras 2 listings compute losses from a model's intermediate tensors, which in Keras are graph
nodes::

    kl_loss = -0.5 * K.sum(1 + z_log_var - K.square(z_mean) - K.exp(z_log_var), axis=-1)
    vae.add_loss(K.mean(xent_loss + kl_loss))        # built once, outside any step
    ...
    def vae_loss(x, x_decoded_mean):                  # or: a loss closing over z_mean
        return xent(x, x_decoded_mean) + kl(z_mean, z_log_var)

deepcore runs eagerly, so a backend function, loss or arithmetic operator that meets a
KerasTensor (what Input and layer calls return; defined here) or an expression built from one
returns a ``SymbolicValue``: the function and its arguments, kept for later. A Model scores each
batch inside ``graph_values(values)``, which maps its KerasTensors to the tensors the current pass
computed; there, expressions are evaluated on those tensors (in Keras' layout), and backend
functions called on KerasTensors compute at once.
Gradients flow through, since the evaluation uses deepcore's differentiable ops.
"""
import contextlib
import functools
import operator

from ._common import to_keras

_passes = []  # stack of {id(KerasTensor): internal-layout tensor} for the pass being scored


@contextlib.contextmanager
def graph_values(values):
    _passes.append(values)
    try:
        yield
    finally:
        _passes.pop()


def is_symbolic(x):
    if isinstance(x, (SymbolicValue, KerasTensor)):
        return True
    if isinstance(x, (list, tuple)):
        return any(is_symbolic(v) for v in x)
    return False


def resolve(x):
    """Real tensors for KerasTensors (from the pass being scored) and SymbolicValues (evaluated)."""
    if isinstance(x, SymbolicValue):
        return x.evaluate()
    if isinstance(x, KerasTensor):
        if not _passes:
            raise ValueError(f"{x!r} is symbolic: it has a value only while a model that computes it is being "
                             f"trained or evaluated (use it in a loss, add_loss or a Lambda layer)")
        value = _passes[-1].get(id(x))
        if value is None:
            raise ValueError(f"{x!r} is not computed by the model being trained or evaluated (a tensor of another "
                             f"model, or one that the model's outputs do not depend on)")
        return to_keras(value)
    if isinstance(x, (list, tuple)):
        return type(x)(resolve(v) for v in x)
    return x


def apply(fn, *args, **kwargs):
    """fn(*args, **kwargs) now when nothing is symbolic or a pass is being scored; else deferred."""
    if not (is_symbolic(args) or is_symbolic(list(kwargs.values()))):
        return fn(*args, **kwargs)
    if _passes:
        return fn(*resolve(args), **{k: resolve(v) for k, v in kwargs.items()})
    return SymbolicValue(fn, args, kwargs)


def symbolic_aware(fn):
    """Decorates a function of real tensors so that it also takes symbolic ones (see apply)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return apply(fn, *args, **kwargs)
    return wrapper


def _binary(op, reflected=False):
    def method(self, other):
        return apply(op, other, self) if reflected else apply(op, self, other)
    return method


class _Arithmetic:
    """Python operators for symbolic values: each returns a deferred (or, during a pass, real) result."""
    __array_priority__ = 1000  # NumPy defers to these in `array * symbolic`

    __add__, __radd__ = _binary(operator.add), _binary(operator.add, True)
    __sub__, __rsub__ = _binary(operator.sub), _binary(operator.sub, True)
    __mul__, __rmul__ = _binary(operator.mul), _binary(operator.mul, True)
    __truediv__, __rtruediv__ = _binary(operator.truediv), _binary(operator.truediv, True)
    __pow__, __rpow__ = _binary(operator.pow), _binary(operator.pow, True)

    def __neg__(self):
        return apply(operator.neg, self)

    def __getitem__(self, index):
        return apply(operator.getitem, self, index)

    def __iter__(self):  # without this, __getitem__ would make Python iterate it forever
        raise TypeError(f"{self!r} is symbolic and has no elements to iterate over yet")


class SymbolicValue(_Arithmetic):
    """A deferred ``fn(*args, **kwargs)`` over symbolic tensors (see the module docstring)."""

    def __init__(self, fn, args, kwargs):
        self.fn, self.args, self.kwargs = fn, args, kwargs

    def evaluate(self):
        return self.fn(*resolve(self.args), **{k: resolve(v) for k, v in self.kwargs.items()})

    def __repr__(self):
        return f"<SymbolicValue {getattr(self.fn, '__name__', self.fn)}(...)>"


class KerasTensor(_Arithmetic):
    """A symbolic tensor: the Keras shape (batch dim None) and where it came from, (layer,
    node_index, tensor_index) (layers/base.py records the nodes). Arithmetic and K functions on it
    build expressions evaluated per training step."""

    def __init__(self, shape, layer, node_index, tensor_index, name=None):
        self.shape = tuple(shape)
        self._keras_history = (layer, node_index, tensor_index)
        self.name = name or f"{layer.name}/out:{tensor_index}"

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        return f"<KerasTensor shape={self.shape} from {self._keras_history[0].name}>"

    def __hash__(self):
        return id(self)

    def __eq__(self, other):
        return self is other
