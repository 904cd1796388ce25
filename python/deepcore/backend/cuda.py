"""The CUDA engine: deepcore._C_cuda's kernels, under the names every backend shares.

Only imported once a CUDA tensor exists, so CPU-only use never loads CUDA.
Kernels the CUDA engine does not have yet raise NotImplementedError by name.
With DEEPCORE_CUDA_EMULATOR=1 the kernels are deepcore._C_cuda_emu's: the same CUDA
sources on the host launch emulator (deepcore.cuda.engine_module_name()).
"""
import threading

from .. import _C
from .. import cuda as _cuda

name = "cuda"
_mod = _cuda.engine_module()
_rng_lock = threading.Lock()


def empty_on(shape, dtype, index):
    return _mod.empty(shape, dtype, index)


def full_on(shape, value, dtype, index):
    return _mod.full(shape, value, dtype, index)


def dropout(x, p):
    """The CPU's dropout(x, p) -> (out, mask) on CUDA, from the same Philox stream: the counters come
    from the global generator (what deepcore.manual_seed seeds), reserved only once the kernel has
    accepted its arguments, so a seed gives the same mask on both devices."""
    with _rng_lock:  # (a CPU dropout in another thread reserves under the engine's own lock)
        seed, first = _C.get_rng_state()
        out = _mod.dropout_at(x, p, seed, first)
        _C.set_rng_state(seed, first + (x.numel + 3) // 4)
    return out


class MissingKernel(NotImplementedError, AttributeError):
    """A kernel the CUDA engine does not have. Also an AttributeError, so that the op layer's
    ``hasattr(backend, "linear_forward")`` probes say False instead of raising."""


def __getattr__(attr):
    try:
        return getattr(_mod, attr)
    except AttributeError:
        raise MissingKernel(f"{attr}: this operation has no CUDA kernel yet; move the tensor to the CPU "
                            f"with .cpu() to run it") from None
