"""keras.regularizers: L1, L2 and L1L2 penalties (added to the training loss by fit)."""
from ._common import deserialize


class Regularizer:
    def __call__(self, x):
        return 0.0

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class L1L2(Regularizer):
    """l1 * sum(|x|) + l2 * sum(x^2)."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1, self.l2 = float(l1), float(l2)

    def __call__(self, x):
        penalty = None
        if self.l1:
            penalty = x.abs().sum() * self.l1
        if self.l2:
            term = (x * x).sum() * self.l2
            penalty = term if penalty is None else penalty + term
        return penalty if penalty is not None else 0.0

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


def l1(l=0.01):  # noqa: E741 - Keras' argument name
    return L1L2(l1=l)


def l2(l=0.01):  # noqa: E741
    return L1L2(l2=l)


def l1_l2(l1=0.01, l2=0.01):
    return L1L2(l1=l1, l2=l2)


_ALL = {"L1L2": L1L2, "Regularizer": Regularizer, "l1": l1, "l2": l2, "l1_l2": l1_l2}


def get(identifier, custom_objects=None):
    if identifier is None:
        return None
    if isinstance(identifier, str):
        return deserialize(identifier, _ALL, custom_objects, "regularizer")()
    return deserialize(identifier, _ALL, custom_objects, "regularizer")
