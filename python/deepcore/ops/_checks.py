"""Argument checks shared by the op families: the one layer where bad input is refused.

A wrong type is a TypeError and a wrong value (shape, range, geometry) a ValueError, as in PyTorch;
every message names the op and the argument. nn.functional, nn's modules and keras call ops that
check here, so no check is written twice.
"""
import numbers

from ..tensor import Tensor


def check_tensor(op, name, x):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: {name} must be a deepcore Tensor, got {type(x).__name__}")


def check_float_tensor(op, name, x):
    check_tensor(op, name, x)
    if not x.dtype.is_floating_point:
        raise TypeError(f"{op}: {name} must be float32 or float64, got {x.dtype.name}")


def require_float(op, x):
    """The float check of the elementwise ops, whose inputs are already known to be tensors."""
    if not x.dtype.is_floating_point:
        raise TypeError(f"{op}: expected a float32 or float64 tensor, got {x.dtype.name} "
                        f"(convert with .float() first)")


def pair(value, name, op, minimum=0):
    """An int or a pair of ints -> a tuple of two ints, each at least `minimum`."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, tuple, list)):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    both = (value, value) if isinstance(value, numbers.Integral) else tuple(value)
    if len(both) != 2 or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in both):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    if any(v < minimum for v in both):
        raise ValueError(f"{op}: {name} must be {'positive' if minimum else 'non-negative'}, got {value!r}")
    return (int(both[0]), int(both[1]))


def single(value, name, op, minimum=0):
    """An int or a sequence of one int (PyTorch's _single, for the 1-d ops) -> that int, at least `minimum`."""
    if isinstance(value, (tuple, list)) and len(value) == 1:
        value = value[0]
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{op}: {name} must be an int or a sequence of one int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{op}: {name} must be {'positive' if minimum else 'non-negative'}, got {value!r}")
    return int(value)


def unsupported(op, **flags):
    """Refuse (never ignore) an argument whose non-default value deepcore does not implement."""
    for name, (value, default) in flags.items():
        # a per-dim sequence of the default (dilation=(1, 1), as nn modules pass it) is the default
        same = (all(v == default for v in value) if isinstance(value, (tuple, list)) and
                not isinstance(default, (tuple, list)) else value == default)
        if not same:
            raise NotImplementedError(f"{op}: {name}={value!r} is not supported (only {name}={default!r})")
