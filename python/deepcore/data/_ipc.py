"""Tensors across processes: how multiprocessing pickles a deepcore Tensor (DataLoader batches from
its workers, a dataset sent to a spawned worker).

Tensors are not pickled in general (deepcore.save is the format for files); multiprocessing's
ForkingPickler gets its own reducer instead. A tensor of at least SHARED_MEMORY_BYTES goes through
a POSIX shared-memory block: the sender copies its bytes in once, the pickle carries only the
block's name, shape and dtype, and the receiver copies the bytes into a tensor of its own and
unlinks the block. Smaller ones travel as their NumPy array's bytes inside the pickle. Either way
the data never becomes a Python list.

A block is registered with multiprocessing's resource tracker, so one whose pickle is never
unpickled (a worker killed mid-send) is still removed when the program ends. The DataLoader starts
the tracker before its workers, so all of them share the parent's.
"""
from multiprocessing import resource_tracker, shared_memory
from multiprocessing.reduction import ForkingPickler

import numpy as np

from ..tensor import Tensor, from_numpy

SHARED_MEMORY_BYTES = 1 << 16


def _rebuild_from_bytes(arr, requires_grad, cls):
    return _wrap(from_numpy(arr), requires_grad, cls)


def _rebuild_from_shared_memory(name, shape, dtype, requires_grad, cls):
    block = shared_memory.SharedMemory(name=name)
    try:
        view = np.ndarray(shape, dtype=np.dtype(dtype), buffer=block.buf)
        t = from_numpy(view.copy())  # our own memory: the block goes away now
        del view
    finally:
        block.close()
        block.unlink()
    return _wrap(t, requires_grad, cls)


def _wrap(t, requires_grad, cls):
    if cls is not Tensor:  # a subclass such as nn.Parameter: rebuilt by its constructor
        return cls(t, requires_grad=requires_grad)
    if requires_grad:
        t.requires_grad_(True)
    return t


def reduce_tensor(t):
    """ForkingPickler's reducer for Tensor (and its subclasses)."""
    if t.requires_grad and not t.is_leaf:
        raise RuntimeError("Cowardly refusing to serialize non-leaf tensor which requires_grad, since autograd "
                           "does not support crossing process boundaries. If you just want to transfer the data, "
                           "call detach() on the tensor before serializing (e.g., putting it on the queue).")
    if t.is_cuda:
        raise RuntimeError(f"a CUDA tensor (shape {tuple(t.shape)}) cannot be sent between processes yet; "
                           f"send t.cpu() and move it to the device in the receiving process")
    arr = t.detach().contiguous().numpy()
    cls = type(t)
    if arr.nbytes < SHARED_MEMORY_BYTES:
        return _rebuild_from_bytes, (arr.copy(), t.requires_grad, cls)
    block = shared_memory.SharedMemory(create=True, size=max(arr.nbytes, 1))
    try:
        np.ndarray(arr.shape, dtype=arr.dtype, buffer=block.buf)[...] = arr
    finally:
        block.close()
    return _rebuild_from_shared_memory, (block.name, arr.shape, arr.dtype.str, t.requires_grad, cls)


def register(*classes):
    """Use reduce_tensor when multiprocessing pickles these classes (exact types, as pickle looks them up)."""
    for cls in classes:
        ForkingPickler.register(cls, reduce_tensor)


def start_resource_tracker():
    """Start the tracker in this process, so that worker processes share it instead of each starting
    their own (whose exit would remove blocks still in flight)."""
    resource_tracker.ensure_running()


def _all_subclasses(cls):
    out = [cls]
    for sub in cls.__subclasses__():
        out += _all_subclasses(sub)
    return out


register(*_all_subclasses(Tensor))
