"""Keras fit across processes: when deepcore.distributed has a process group (mpirun -n N), fit on
arrays trains data-parallel, as Horovod's Keras recipe does, with no change to the script.

- The weights start from rank 0's (broadcast when fit begins).
- Each rank takes its shard of the training arrays: every N-th sample, padded by repeating the first
  ones so that all ranks run the same number of steps (DistributedSampler's rule).
- After each backward the gradients of the trained weights are averaged across ranks (one flat
  all-reduce), so every replica makes the same update.
- The epoch's loss and metrics are averaged across ranks; validation runs on every rank's full
  validation data (the same weights give the same figures); only rank 0 prints progress.
Generators and Sequences are not sharded (each rank trains on what its own source yields).
"""
import numpy as np

from ... import distributed as dist
from ...autograd import no_grad
from ...ops.index import index_select
from ...ops.shape import cat
from ...tensor import Tensor


def active():
    return dist.is_initialized() and dist.get_world_size() > 1


def quiet_unless_rank0(verbose):
    return verbose if not active() or dist.get_rank() == 0 else 0


def broadcast_weights(weights):
    with no_grad():
        for w in weights:
            dist.broadcast(w.detach(), src=0)


def shard(xs, ys, ws, n):
    """This rank's samples of the prepared tensors (every world_size-th, padded to equal shards)."""
    size, rank = dist.get_world_size(), dist.get_rank()
    per_rank = -(-n // size)
    positions = np.arange(per_rank * size) % n  # pads with the first samples again
    index = Tensor(np.ascontiguousarray(positions[rank::size], dtype=np.int64))

    def take(t):
        return None if t is None else index_select(t, 0, index)
    return [take(t) for t in xs], [take(t) for t in ys], [take(w) for w in ws]


def average_gradients(weights):
    """Every rank's gradients of `weights`, averaged in one flat all-reduce."""
    with_grad = [w for w in weights if w.grad is not None]
    if not with_grad:
        return
    with no_grad():
        flat = cat([w.grad.reshape(-1) for w in with_grad]).contiguous()
        dist.all_reduce(flat, op=dist.ReduceOp.AVG)
        offset = 0
        for w in with_grad:
            n = w.numel()
            w.grad.copy_(flat[offset:offset + n].reshape(w.grad.shape))
            offset += n


def average_logs(logs):
    """{name: float} averaged across ranks (every rank must pass the same names)."""
    if not logs:
        return logs
    names = list(logs)  # the same order on every rank: fit builds it from metrics_names
    values = Tensor(np.array([float(logs[k]) for k in names], dtype=np.float64))
    dist.all_reduce(values, op=dist.ReduceOp.AVG)
    return dict(zip(names, (float(v) for v in values.numpy())))
