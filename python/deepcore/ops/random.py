"""Random tensors from the Philox stream (csrc/cpu/random.cpp): rand, randn, randint, randperm, seeding.

Every draw is made on the CPU, so one seed gives the same numbers on every device.
"""
import time

from .. import _C
from ..tensor import Tensor, _default_float, _shape_arg
from ..device import as_device


def _random(kind, size, dtype, device, requires_grad):
    dev = as_device(device)
    dt = _default_float(dtype)
    if not dt.is_floating_point:
        raise TypeError(f"{kind}: dtype must be float32 or float64, got {dt.name}")
    nd = getattr(_C, kind)(_shape_arg(size, kind), dt._c)
    t = Tensor._make(nd)
    if dev.type != "cpu":  # drawn on the CPU so a seed gives the same numbers on every device
        t = t.to(dev)
    if requires_grad:
        t.requires_grad = True
    return t


def rand(*size, dtype=None, device=None, requires_grad=False):
    """Uniform on [0, 1)."""
    return _random("rand", size, dtype, device, requires_grad)


def randn(*size, dtype=None, device=None, requires_grad=False):
    """Standard normal."""
    return _random("randn", size, dtype, device, requires_grad)


def rand_like(t, dtype=None, device=None):
    return rand(*t.shape, dtype=dtype or t.dtype, device=device or t.device)


def randn_like(t, dtype=None, device=None):
    return randn(*t.shape, dtype=dtype or t.dtype, device=device or t.device)


def randint(low, high=None, size=None, dtype=None, device=None):
    if high is None:
        low, high = 0, low
    if size is None:
        raise TypeError("randint: size is required, e.g. randint(0, 10, (3,))")
    t = Tensor._make(_C.randint(int(low), int(high), _shape_arg((size,) if isinstance(size, int) else size,
                                                                "randint")))
    return t.to(dtype=dtype, device=device) if (dtype or device) else t


def randperm(n, dtype=None, device=None):
    t = Tensor._make(_C.randperm(int(n)))
    return t.to(dtype=dtype, device=device) if (dtype or device) else t


def manual_seed(seed):
    """Seed deepcore's random numbers (CPU and CUDA share one stream)."""
    _C.manual_seed(int(seed) & 0xFFFFFFFFFFFFFFFF)


def seed():
    s = time.time_ns() & 0xFFFFFFFFFFFFFFFF
    _C.manual_seed(s)
    return s


def get_rng_state():
    return _C.get_rng_state()


def set_rng_state(state):
    seed_, offset = state
    _C.set_rng_state(int(seed_), int(offset))
