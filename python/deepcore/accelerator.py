"""torch.accelerator: the current accelerator, which for deepcore is CUDA when a GPU is visible.

Scripts write ``device = torch.accelerator.current_accelerator() if torch.accelerator.is_available()
else torch.device("cpu")``; on a machine without a GPU that picks the CPU, as in PyTorch."""
from . import cuda
from .device import device


def is_available():
    """True when an accelerator (a CUDA device with deepcore's CUDA engine built) is usable."""
    return cuda.is_available()


def current_accelerator(check_available=False):
    """device('cuda') when the CUDA engine is built (and, with check_available, a GPU is visible); else None."""
    if not cuda.is_built() or (check_available and not cuda.is_available()):
        return None
    return device("cuda")


def device_count():
    return cuda.device_count()


def current_device_index():
    """The index of the current accelerator device (deepcore uses device 0), or -1 when there is none."""
    return 0 if cuda.is_available() else -1


current_device_idx = current_device_index  # PyTorch 2.6's spelling


def set_device_index(index):
    index = int(index)
    if not 0 <= index < max(cuda.device_count(), 0) and index != -1:
        raise RuntimeError(f"set_device_index: no accelerator device {index} (device_count() = {cuda.device_count()})")
    if index > 0:
        raise NotImplementedError("set_device_index: deepcore runs on CUDA device 0; pass tensors device('cuda:N')")


set_device_idx = set_device_index


def synchronize(device=None):
    """Waits for the accelerator's queued work (a no-op without one)."""
    cuda.synchronize()
