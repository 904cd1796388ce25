"""The CUDA engine: deepcore._C_cuda's kernels, under the names every backend shares.

Only imported once a CUDA tensor exists, so CPU-only use never loads CUDA.
Kernels the CUDA engine does not have yet raise NotImplementedError by name.
"""
import importlib

name = "cuda"
_mod = importlib.import_module("deepcore._C_cuda")


def empty_on(shape, dtype, index):
    return _mod.empty(shape, dtype, index)


def full_on(shape, value, dtype, index):
    return _mod.full(shape, value, dtype, index)


def __getattr__(attr):
    try:
        return getattr(_mod, attr)
    except AttributeError:
        raise NotImplementedError(f"{attr}: this operation has no CUDA kernel yet; move the tensor to the CPU "
                                  f"with .cpu() to run it") from None
