"""deepcore.cuda: is a GPU usable? Never loads CUDA unless asked.

DEEPCORE_CUDA_EMULATOR=1 in the environment (read once, at the first CUDA call) makes device
'cuda' run on deepcore._C_cuda_emu: the same CUDA kernels compiled for the host launch
emulator (csrc/cuda/emulator/), one device, no GPU needed. It is a test tool (docs/cuda.md).
The module is looked for in the package (a build configured with -DDEEPCORE_CUDA_EMU=ON) and,
when DEEPCORE_CUDA_EMULATOR_DIR names a directory (a CMake build folder, as .ci/emulator
makes), in that directory too, so a test build never has to touch the installed package.
"""
import importlib
import os

_module = None
_tried = False

_YES, _NO = ("1", "true", "on", "yes"), ("", "0", "false", "off", "no")


def emulator_requested():
    """True when DEEPCORE_CUDA_EMULATOR asks for the host launch emulator instead of the GPU."""
    value = os.environ.get("DEEPCORE_CUDA_EMULATOR", "").strip().lower()
    if value not in _YES + _NO:
        raise ValueError(f"DEEPCORE_CUDA_EMULATOR={value!r}: expected 1/true/on/yes or 0/false/off/no")
    return value in _YES


def emulator_module():
    """deepcore._C_cuda_emu, imported from the package or from DEEPCORE_CUDA_EMULATOR_DIR.

    ImportError when it is built in neither place.
    """
    extra = os.environ.get("DEEPCORE_CUDA_EMULATOR_DIR", "").strip()
    if extra:
        if not os.path.isdir(extra):
            raise ImportError(f"DEEPCORE_CUDA_EMULATOR_DIR={extra!r} is not a directory")
        import deepcore

        # Appended: the package's own modules (its _C above all) keep precedence over the folder's.
        extra = os.path.abspath(extra)
        if extra not in deepcore.__path__:
            deepcore.__path__.append(extra)
    return importlib.import_module("deepcore._C_cuda_emu")


def engine_module_name():
    """The module that runs device 'cuda': deepcore._C_cuda, or deepcore._C_cuda_emu."""
    return "deepcore._C_cuda_emu" if emulator_requested() else "deepcore._C_cuda"


def engine_module():
    """The CUDA engine module; ImportError saying how to build it when it is missing."""
    m = _load()
    if m is None:
        name = engine_module_name()
        how = ("build it with -DDEEPCORE_CUDA_EMU=ON (g++ only, no nvcc needed; docs/cuda.md) and install it "
               "or point DEEPCORE_CUDA_EMULATOR_DIR at the build folder" if emulator_requested()
               else "install with the CUDA toolkit (nvcc) on the PATH")
        raise ImportError(f"{name} is not built: {how}")
    return m


def _load():
    global _module, _tried
    if not _tried:
        emulate = emulator_requested()  # a malformed value raises here, every time
        _tried = True
        try:
            _module = emulator_module() if emulate else importlib.import_module("deepcore._C_cuda")
        except ImportError:
            _module = None
    return _module


def is_built():
    """True when this install has the CUDA engine (deepcore._C_cuda, or _C_cuda_emu under the emulator)."""
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


def _index(device):
    """A device argument (None, an int, 'cuda', 'cuda:1', a deepcore.device) -> its index."""
    if device is None:
        return 0
    if isinstance(device, int):
        return device
    from .device import as_device
    d = as_device(device)
    if d.type != "cuda":
        raise ValueError(f"expected a CUDA device, got {d}")
    return d.index or 0


def _counter(name, device):
    m = _load()
    if m is None or m.device_count() == 0:
        return 0  # as torch.cuda: no device, nothing allocated
    return int(getattr(m, name)(_index(device)))


def memory_allocated(device=None):
    """Bytes held by live CUDA tensors on `device` (their blocks' sizes, as allocated)."""
    return _counter("memory_allocated", device)


def max_memory_allocated(device=None):
    """The peak of memory_allocated since the start or reset_peak_memory_stats."""
    return _counter("max_memory_allocated", device)


def memory_reserved(device=None):
    """memory_allocated plus the idle blocks the caching allocator keeps for reuse."""
    return _counter("memory_reserved", device)


def reset_peak_memory_stats(device=None):
    m = _load()
    if m is not None and m.device_count() > 0:
        m.reset_peak_memory_stats(_index(device))


def empty_cache():
    """Returns the caching allocator's idle blocks to the driver (live tensors keep theirs)."""
    m = _load()
    if m is not None and m.device_count() > 0:
        m.empty_cache()
