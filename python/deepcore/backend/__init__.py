"""One kernel vocabulary per device. Ops ask ``for_array(a)`` which engine runs `a`."""
from .. import _C
from . import cpu

_CUDA = _C.Device.cuda


def for_array(a):
    """The backend module that runs kernels on NDArray `a`."""
    if a.device == _CUDA:
        from . import cuda  # imported on first use: CPU-only work never loads the CUDA libraries
        return cuda
    return cpu


def for_device(dev):
    """The backend module for a deepcore.device."""
    if dev.type == "cuda":
        from . import cuda  # (lazily, as in for_array)
        return cuda
    return cpu
