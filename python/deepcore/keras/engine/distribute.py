"""Keras fit across processes: when deepcore.distributed has a process group (mpirun -n N), fit on
arrays trains data-parallel, as Horovod's Keras recipe does, with no change to the script.

- The weights start from rank 0's (broadcast when fit begins).
- Each rank takes its shard of the training arrays: every N-th sample, padded by repeating the first
  ones so that all ranks run the same number of steps (DistributedSampler's rule).
- After each backward the gradients of the trained weights are averaged across ranks (one flat
  all-reduce), so every replica makes the same update.
- The epoch's loss and metrics are averaged across ranks; validation runs on every rank's full
  validation data (the same weights give the same figures); only rank 0 prints progress.
Models with their own train_step (engine/step_loops.py) get the same: their array data is sharded,
and while fit runs, ``optimizer.apply`` averages the gradients it is given across ranks first.
Generators, Sequences and DataLoaders are not sharded (each rank trains on what its source yields).
"""
import contextlib

import numpy as np

from ... import distributed as dist
from ...autograd import no_grad
from ...ops.index import index_select
from ...ops.shape import cat
from ...tensor import Tensor


_averaging = [False]  # inside a step-loop fit: optimizer.apply averages its gradients across ranks


def active():
    return dist.is_initialized() and dist.get_world_size() > 1


@contextlib.contextmanager
def averaging_in_apply():
    previous, _averaging[0] = _averaging[0], active()
    try:
        yield
    finally:
        _averaging[0] = previous


def apply_averages():
    return _averaging[0]


def shard_tree(data, n):
    """This rank's samples of nested arrays / tensors (lists, tuples, dicts; None kept), as shard() does."""
    size, rank = dist.get_world_size(), dist.get_rank()
    per_rank = -(-n // size)
    # every world_size-th sample, padded with the first ones again so that all shards are equal
    positions = np.ascontiguousarray((np.arange(per_rank * size) % n)[rank::size], dtype=np.int64)

    def take(a):
        if a is None:
            return None
        if isinstance(a, (list, tuple)):
            return type(a)(take(x) for x in a)
        if isinstance(a, dict):
            return {k: take(v) for k, v in a.items()}
        if isinstance(a, Tensor):
            return index_select(a, 0, Tensor(positions))
        return np.asarray(a)[positions]
    return take(data)


def quiet_unless_rank0(verbose):
    return verbose if not active() or dist.get_rank() == 0 else 0


def broadcast_weights(weights):
    with no_grad():
        for w in weights:
            dist.broadcast(w.detach(), src=0)


def shard(xs, ys, ws, n):
    """This rank's samples of the prepared tensors (every world_size-th, padded to equal shards)."""
    return shard_tree(list(xs), n), shard_tree(list(ys), n), shard_tree(list(ws), n)


def average_gradients(weights, grads=None):
    """Every rank's gradients of `weights` (their .grad, or `grads` in the same order, averaged in place),
    in one flat all-reduce."""
    tensors = [w.grad for w in weights] if grads is None else list(grads)
    with no_grad():
        _average_flat([t for t in tensors if t is not None])


def _average_flat(tensors):
    if not tensors:
        return
    flat = cat([t.reshape(-1) for t in tensors]).contiguous()
    dist.all_reduce(flat, op=dist.ReduceOp.AVG)
    offset = 0
    for t in tensors:
        n = t.numel()
        t.copy_(flat[offset:offset + n].reshape(t.shape))
        offset += n


def average_logs(logs):
    """{name: float} averaged across ranks (every rank must pass the same names)."""
    if not logs:
        return logs
    names = list(logs)  # the same order on every rank: fit builds it from metrics_names
    values = Tensor(np.array([float(logs[k]) for k in names], dtype=np.float64))
    dist.all_reduce(values, op=dist.ReduceOp.AVG)
    return dict(zip(names, (float(v) for v in values.numpy())))
