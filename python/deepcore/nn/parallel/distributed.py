"""DistributedDataParallel: each rank trains a replica on its shard; gradients are averaged across ranks.

At wrap time the parameter list (names, shapes, dtypes) is compared across ranks (a mismatch is an
error naming the first differing parameter), then parameters and buffers are broadcast from rank 0.
The parameters are grouped into buckets of about ``bucket_cap_mb`` in reverse registration order
(the order backward produces their gradients). A post-accumulate-grad hook marks each parameter
ready; when a bucket's last gradient arrives its gradients are copied into one flat buffer and an
asynchronous all-reduce starts at once, while backward goes on with earlier layers. A callback at the
end of backward starts any bucket not yet complete (a parameter the forward did not use counts as a
zero gradient), waits for every reduction, and writes the averages back into ``.grad``.
"""
import contextlib

from ... import distributed as dist
from ...autograd import no_grad, queue_callback
from ...ops.shape import cat
from ..modules.module import Module


class _Bucket:
    __slots__ = ("params", "ready", "flat", "work")

    def __init__(self, params):
        self.params = params
        self.ready = set()
        self.flat = None
        self.work = None


class DistributedDataParallel(Module):
    """Wraps `module` for data-parallel training in the default process group (PyTorch's class)."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0, broadcast_buffers=True,
                 process_group=None, bucket_cap_mb=25, find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False):
        super().__init__()
        if not dist.is_initialized():
            raise RuntimeError("DistributedDataParallel: the default process group has not been initialized: call "
                               "deepcore.distributed.init_process_group('mpi') first (and launch with mpirun)")
        if process_group is not None:
            raise NotImplementedError("DistributedDataParallel: only the default process group is supported")
        ids = list(device_ids) if device_ids is not None else []
        if len(ids) > 1:
            raise ValueError(f"DistributedDataParallel: one device per process; got device_ids={ids}")
        if float(bucket_cap_mb) <= 0:
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be positive, got {bucket_cap_mb}")
        self.module = module
        self.dim = dim
        self.broadcast_buffers = bool(broadcast_buffers)
        self.find_unused_parameters = bool(find_unused_parameters)  # unused parameters are always handled
        self.bucket_cap_mb = float(bucket_cap_mb)
        self._require_sync = True
        self._pending = False
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        self._check_same_parameters(named, list(module.named_buffers()))
        with no_grad():
            for _, p in module.named_parameters():
                dist.broadcast(p.detach(), src=0)
            self._sync_buffers()
        self._buckets = self._make_buckets([p for _, p in named])
        self._bucket_of = {id(p): b for b in self._buckets for p in b.params}
        self._handles = [p.register_post_accumulate_grad_hook(self._on_grad_ready) for _, p in named]

    # ---- set-up --------------------------------------------------------------------------------------
    @staticmethod
    def _check_same_parameters(named, buffers):
        mine = [(n, tuple(p.shape), p.dtype.name) for n, p in named] + \
               [("buffer " + n, tuple(b.shape), b.dtype.name) for n, b in buffers]
        everyone = []
        dist.all_gather_object(everyone, mine)
        reference = everyone[0]
        for rank, theirs in enumerate(everyone[1:], start=1):
            if theirs != reference:
                for i in range(max(len(theirs), len(reference))):
                    a = reference[i] if i < len(reference) else None
                    b = theirs[i] if i < len(theirs) else None
                    if a != b:
                        raise ValueError(f"DistributedDataParallel: the model differs across ranks: parameter {i} "
                                         f"is {a} on rank 0 and {b} on rank {rank}")

    def _make_buckets(self, params):
        cap = self.bucket_cap_mb * 1024 * 1024
        buckets, current, size = [], [], 0
        for p in reversed(params):  # backward reaches the last layers first
            nbytes = p.numel() * p.dtype.itemsize
            if current and (size + nbytes > cap or p.dtype != current[0].dtype):
                buckets.append(_Bucket(current))
                current, size = [], 0
            current.append(p)
            size += nbytes
        if current:
            buckets.append(_Bucket(current))
        return buckets

    def _sync_buffers(self):
        if self.broadcast_buffers:
            for _, b in self.module.named_buffers():
                if b is not None and b.numel():
                    dist.broadcast(b.detach(), src=0)

    # ---- forward / backward --------------------------------------------------------------------------
    def forward(self, *inputs, **kwargs):
        if self.broadcast_buffers and self.training:
            with no_grad():
                self._sync_buffers()
        return self.module(*inputs, **kwargs)

    @contextlib.contextmanager
    def no_sync(self):
        """Gradients accumulate locally inside this block; the next backward outside it averages them all."""
        previous, self._require_sync = self._require_sync, False
        try:
            yield
        finally:
            self._require_sync = previous

    def _on_grad_ready(self, param):
        if not self._require_sync:
            return
        if not self._pending:
            self._pending = True
            queue_callback(self._finish_reduction)
        bucket = self._bucket_of[id(param)]
        bucket.ready.add(id(param))
        if len(bucket.ready) == len(bucket.params) and bucket.work is None:
            self._launch(bucket)
        for b in self._buckets:  # MPI progresses the started reductions while we call into it
            if b.work is not None:
                b.work.is_completed()

    def _launch(self, bucket):
        parts = []
        for p in bucket.params:
            g = p.grad
            parts.append((g if g is not None else p.detach().new_zeros(p.shape)).reshape(-1))
        bucket.flat = cat(parts).contiguous() if len(parts) > 1 else parts[0].clone()
        bucket.work = dist.all_reduce(bucket.flat, op=dist.ReduceOp.AVG, async_op=True)

    def _finish_reduction(self):
        self._pending = False
        try:
            for bucket in self._buckets:
                if bucket.work is None:
                    self._launch(bucket)
            for bucket in self._buckets:
                bucket.work.wait()
                offset = 0
                for p in bucket.params:
                    n = p.numel()
                    avg = bucket.flat[offset:offset + n].reshape(p.shape)
                    if p.grad is None:
                        p.grad = avg.clone()
                    else:
                        p.grad.copy_(avg)
                    offset += n
        finally:
            for bucket in self._buckets:
                bucket.ready.clear()
                bucket.flat = bucket.work = None

    # ---- what a wrapped model still looks like -------------------------------------------------------
    def state_dict(self, *args, **kwargs):
        return super().state_dict(*args, **kwargs)  # keys carry the 'module.' prefix, as in PyTorch


__all__ = ["DistributedDataParallel"]
