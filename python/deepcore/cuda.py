"""deepcore.cuda: is a GPU usable? Never loads CUDA unless asked."""
import importlib

_module = None
_tried = False


def _load():
    global _module, _tried
    if not _tried:
        _tried = True
        try:
            _module = importlib.import_module("deepcore._C_cuda")
        except ImportError:
            _module = None
    return _module


def is_built():
    """True when this install has the CUDA engine (deepcore._C_cuda)."""
    return _load() is not None


def device_count():
    m = _load()
    return m.device_count() if m is not None else 0


def is_available():
    """True when the CUDA engine is built and at least one GPU is visible."""
    return device_count() > 0


def synchronize():
    m = _load()
    if m is not None and m.device_count() > 0:
        m.synchronize()


def get_device_name(index=0):
    m = _load()
    if m is None or m.device_count() == 0:
        raise RuntimeError("get_device_name: no CUDA device is available")
    return m.device_name(index)
