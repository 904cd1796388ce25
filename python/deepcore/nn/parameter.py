"""Parameter: a Tensor that a Module registers as one of its learnable weights."""
from ..tensor import Tensor, empty


class Parameter(Tensor):
    """A tensor that requires grad by default and is picked up by
    ``Module.parameters()`` when assigned as a module attribute.

    ``Parameter(data)`` shares ``data``'s memory (as in PyTorch). Ops on a
    Parameter return plain Tensors; in-place updates (``p -= lr * p.grad``
    under ``no_grad``) keep it a Parameter.
    """

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = empty(0)
        if not isinstance(data, Tensor):
            data = Tensor(data)
        self._init(data.detach()._data, requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    @property
    def value(self):
        """The tensor itself: a Keras 3 variable's ``.value`` (custom train steps read ``v.value.grad``)."""
        return self

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        out = Parameter(self.detach().clone(), requires_grad=self.requires_grad)
        memo[id(self)] = out
        if self.grad is not None:
            out.grad = self.grad.__deepcopy__(memo)
        return out

    def __reduce__(self):
        raise TypeError("deepcore parameters are not pickled; save module.state_dict() with deepcore.save "
                        "(safetensors format)")
