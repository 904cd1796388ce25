"""deepcore.distributed: torch.distributed's process group and collectives, on MPI.

    mpirun -n 2 python train.py          # every rank runs the same script

    import deepcore.distributed as dist
    dist.init_process_group("mpi")       # rank and world size come from mpirun
    dist.all_reduce(t)                   # in place, on every rank
    model = deepcore.nn.parallel.DistributedDataParallel(model)

Backends: "mpi" (CPU tensors, through mpi4py: ``pip install ".[distributed]"``), "gloo" as
an alias of it (scripts written for PyTorch's CPU backend), and "nccl" (CUDA tensors, one process
per GPU, NCCL loaded at run time: _nccl.py; CPU tensors still go through MPI). Collectives time out after
``timeout`` (default 300 s, or DEEPCORE_DIST_TIMEOUT seconds) with DistributedTimeoutError, and
an uncaught exception on one rank aborts every rank of the job. docs/distributed.md.
"""
import datetime
import os
import sys

from ..autograd import no_grad
from ..ops.shape import stack
from ..tensor import empty as _empty
from . import _mpi, _nccl
from ._mpi import DistributedTimeoutError, Work  # noqa: F401

_group = None
_previous_hook = None


class _ReduceOpValue:
    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"<ReduceOp.{self.name}>"


class ReduceOp:
    """The reductions of all_reduce / reduce_scatter (PyTorch's names)."""
    SUM = _ReduceOpValue("SUM")
    AVG = _ReduceOpValue("AVG")
    PRODUCT = _ReduceOpValue("PRODUCT")
    MIN = _ReduceOpValue("MIN")
    MAX = _ReduceOpValue("MAX")


class Backend:
    MPI, GLOO, NCCL = "mpi", "gloo", "nccl"


def is_available():
    return True


def is_mpi_available():
    return _mpi.mpi_installed()


def is_nccl_available():
    """A CUDA device, deepcore's CUDA engine and a loadable libnccl.so.2."""
    from .. import cuda
    if not cuda.is_available():
        return False
    _nccl._point_at_the_wheel()
    return bool(cuda.engine_module().nccl_available()[0])


def is_gloo_available():
    return is_mpi_available()  # "gloo" runs on the MPI transport


def is_initialized():
    return _group is not None


def _default_timeout():
    return float(os.environ.get("DEEPCORE_DIST_TIMEOUT", "300"))


def init_process_group(backend="mpi", init_method=None, timeout=None, world_size=-1, rank=-1, store=None,
                       group_name="", pg_options=None, device_id=None):
    """Joins the job's process group. Under mpirun the world size and this process' rank come from MPI;
    `world_size` / `rank`, when given, must agree with them."""
    global _group, _previous_hook
    if _group is not None:
        raise RuntimeError("init_process_group: the default process group is already initialized "
                           "(call destroy_process_group first)")
    name = str(backend).lower() if backend is not None else "mpi"
    if name not in ("mpi", "gloo", "cpu:gloo", "cpu:mpi", "nccl", "cuda:nccl"):
        raise ValueError(f"init_process_group: unknown backend {backend!r} (deepcore has 'mpi'; 'gloo' is an "
                         f"alias of it)")
    if store is not None or pg_options is not None:
        raise NotImplementedError("init_process_group: store= and pg_options= are not supported (MPI sets up "
                                  "the group)")
    if timeout is None:
        timeout = _default_timeout()
    elif isinstance(timeout, datetime.timedelta):
        timeout = timeout.total_seconds()
    if float(timeout) <= 0:
        raise ValueError(f"init_process_group: timeout must be positive, got {timeout}")
    group = _nccl.NCCLGroup(timeout) if "nccl" in name else _mpi.MPIGroup(timeout)
    if world_size not in (-1, None) and int(world_size) != group.size:
        raise ValueError(f"init_process_group: world_size={world_size}, but MPI started {group.size} processes "
                         f"(mpirun -n {world_size})")
    if rank not in (-1, None) and int(rank) != group.rank:
        raise ValueError(f"init_process_group: rank={rank}, but MPI gave this process rank {group.rank}")
    _group = group
    _previous_hook = _mpi.install_abort_on_error(group)


def destroy_process_group(group=None):
    global _group, _previous_hook
    if _group is None:
        raise RuntimeError("destroy_process_group: no process group is initialized")
    if _previous_hook is not None:
        sys.excepthook = _previous_hook
    if hasattr(_group, "close"):
        _group.close()
    _group, _previous_hook = None, None


def _default(op):
    if _group is None:
        raise RuntimeError(f"{op}: the default process group has not been initialized: call "
                           f"deepcore.distributed.init_process_group('mpi') first (and launch with mpirun)")
    return _group


def _no_group(op, group):
    if group is not None and group is not _group:
        raise NotImplementedError(f"{op}: only the default (world) group is supported")


def get_rank(group=None):
    return _default("get_rank").rank


def get_world_size(group=None):
    return _default("get_world_size").size


def get_backend(group=None):
    return "nccl" if isinstance(_default("get_backend"), _nccl.NCCLGroup) else "mpi"


def barrier(group=None, async_op=False, device_ids=None):
    _no_group("barrier", group)
    _default("barrier").barrier()


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduces `tensor` across ranks in place (every rank gets the result)."""
    _no_group("all_reduce", group)
    return _default("all_reduce").all_reduce(tensor, op, async_op)


def broadcast(tensor, src=0, group=None, async_op=False):
    """Rank `src`'s tensor, written into `tensor` on every rank."""
    _no_group("broadcast", group)
    return _default("broadcast").broadcast(tensor, src, async_op)


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """Every rank's `input_tensor`, concatenated in rank order into `output_tensor` (world_size x its size)."""
    _no_group("all_gather_into_tensor", group)
    return _default("all_gather").all_gather_into_tensor(output_tensor, input_tensor, async_op)


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """Fills tensor_list[r] with rank r's `tensor`, on every rank."""
    _no_group("all_gather", group)
    g = _default("all_gather")
    if len(tensor_list) != g.size:
        raise ValueError(f"all_gather: tensor_list has {len(tensor_list)} tensors for world size {g.size}")
    for i, t in enumerate(tensor_list):
        if tuple(t.shape) != tuple(tensor.shape) or t.dtype != tensor.dtype:
            raise ValueError(f"all_gather: tensor_list[{i}] is {tuple(t.shape)} {t.dtype.name}, the input "
                             f"{tuple(tensor.shape)} {tensor.dtype.name}")
    flat = _empty((g.size,) + tuple(tensor.shape), dtype=tensor.dtype)
    work = g.all_gather_into_tensor(flat, tensor.contiguous(), True)

    def scatter():
        with no_grad():
            for r, t in enumerate(tensor_list):
                t.copy_(flat[r])
    work._finish = scatter
    if async_op:
        return work
    work.wait()
    return None


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduces `input` (world_size x output's size) across ranks; rank r keeps block r in `output`."""
    _no_group("reduce_scatter_tensor", group)
    return _default("reduce_scatter").reduce_scatter_tensor(output, input, op, async_op)


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduces input_list[r] across ranks into rank r's `output`."""
    _no_group("reduce_scatter", group)
    g = _default("reduce_scatter")
    if len(input_list) != g.size:
        raise ValueError(f"reduce_scatter: input_list has {len(input_list)} tensors for world size {g.size}")
    return g.reduce_scatter_tensor(output, stack([t.detach() for t in input_list]).contiguous(), op, async_op)


def all_gather_object(object_list, obj, group=None):
    """Small picklable Python objects from every rank (metadata; tensors go through all_gather)."""
    _no_group("all_gather_object", group)
    got = _default("all_gather_object").all_gather_object(obj)
    object_list[:] = got


__all__ = ["init_process_group", "destroy_process_group", "is_initialized", "is_available", "is_mpi_available",
           "is_nccl_available", "get_rank", "get_world_size", "get_backend", "barrier", "all_reduce", "broadcast",
           "all_gather", "all_gather_into_tensor", "reduce_scatter", "reduce_scatter_tensor", "all_gather_object",
           "ReduceOp", "Backend", "Work", "DistributedTimeoutError"]
