"""The NCCL transport of deepcore.distributed: collectives on CUDA tensors, one process per GPU.

The ranks come from MPI (mpirun starts the processes; rank r uses GPU r mod the GPUs it sees, or
the local rank Open MPI gives it), and rank 0's NCCL unique id reaches the others over MPI. NCCL
itself (libnccl.so.2, from the nvidia-nccl-cu13 wheel or the system) is loaded by deepcore._C_cuda at
run time (csrc/cuda/nccl.cu). Each collective runs on the tensors' device, ordered with deepcore's
kernels, and has completed when the call returns: ``async_op=True`` gives a completed Work. NCCL
calls block in the library, so the group's timeout does not bound them (MPI's barrier and the
metadata exchange keep it).
"""
import importlib.util
import os

from ..tensor import Tensor
from . import _mpi


class _Completed:
    @staticmethod
    def Test():  # noqa: N802  (mpi4py's Request spelling, which Work polls)
        return True


def _engine():
    from .. import cuda
    if not cuda.is_available():
        raise RuntimeError("init_process_group('nccl'): the nccl backend needs a CUDA device, and "
                           "deepcore.cuda.is_available() is False here (use backend='mpi' for CPU tensors)")
    return cuda.engine_module()


def _point_at_the_wheel():
    """DEEPCORE_NCCL_LIBRARY <- the nvidia-nccl wheel's libnccl.so.2, when installed and not set."""
    if os.environ.get("DEEPCORE_NCCL_LIBRARY"):
        return
    spec = importlib.util.find_spec("nvidia.nccl") if importlib.util.find_spec("nvidia") else None
    if spec is None or not spec.submodule_search_locations:
        return
    for folder in spec.submodule_search_locations:
        path = os.path.join(folder, "lib", "libnccl.so.2")
        if os.path.isfile(path):
            os.environ["DEEPCORE_NCCL_LIBRARY"] = path
            return


def _local_device(rank, count):
    for var in ("OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "LOCAL_RANK"):
        if var in os.environ:
            return int(os.environ[var]) % count
    return rank % count


class NCCLGroup(_mpi.MPIGroup):
    """The world group with NCCL for CUDA tensors; MPI for the rest (barrier, metadata, CPU tensors)."""

    _NCCL_OPS = {"SUM": "sum", "AVG": "avg", "PRODUCT": "prod", "MIN": "min", "MAX": "max"}

    def __init__(self, timeout):
        self._mod = _engine()
        super().__init__(timeout)
        _point_at_the_wheel()
        ok, where = self._mod.nccl_available()
        if not ok:
            raise RuntimeError(f"init_process_group('nccl'): NCCL could not be loaded ({where}): pip install "
                               f"nvidia-nccl-cu13, or set DEEPCORE_NCCL_LIBRARY")
        from .. import cuda
        self.device_index = _local_device(self.rank, cuda.device_count())
        uid = self._mod.nccl_unique_id() if self.rank == 0 else None
        uid = self.comm.bcast(uid, root=0)  # 128 bytes of id, once
        self._comm = self._mod.nccl_init_rank(self.size, self.rank, uid, self.device_index)

    def _cuda_array(self, op, t, what="tensor"):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {what} must be a deepcore tensor, got {type(t).__name__}")
        if t.device.type != "cuda":
            return None
        if t.device.index != self.device_index:
            raise ValueError(f"{op}: {what} is on {t.device}, but this rank's NCCL communicator is on "
                             f"cuda:{self.device_index}")
        if not t.is_contiguous():
            raise ValueError(f"{op}: {what} must be contiguous (call .contiguous() first)")
        return t.detach()._data

    def _done(self, op, async_op):
        work = _mpi.Work(self, _Completed(), op)
        return work if async_op else None

    def all_reduce(self, tensor, op, async_op):
        a = self._cuda_array("all_reduce", tensor)
        if a is None:
            return super().all_reduce(tensor, op, async_op)
        self._mod.nccl_all_reduce(self._comm, a, getattr(self._mod.NcclReduceOp, self._NCCL_OPS[self._op(op)]))
        return self._done("all_reduce", async_op)

    def broadcast(self, tensor, src, async_op):
        a = self._cuda_array("broadcast", tensor)
        if a is None:
            return super().broadcast(tensor, src, async_op)
        self._check_rank("broadcast", src)
        self._mod.nccl_broadcast(self._comm, a, int(src))
        return self._done("broadcast", async_op)

    def all_gather_into_tensor(self, output, input, async_op):
        out, inp = self._cuda_array("all_gather", output, "output"), self._cuda_array("all_gather", input, "input")
        if out is None and inp is None:
            return super().all_gather_into_tensor(output, input, async_op)
        if out is None or inp is None or output.numel() != input.numel() * self.size:
            raise ValueError(f"all_gather: input and output must both be on cuda:{self.device_index}, the output "
                             f"world_size ({self.size}) x the input's size")
        self._mod.nccl_all_gather(self._comm, inp, out)
        return self._done("all_gather", async_op)

    def reduce_scatter_tensor(self, output, input, op, async_op):
        out = self._cuda_array("reduce_scatter", output, "output")
        inp = self._cuda_array("reduce_scatter", input, "input")
        if out is None and inp is None:
            return super().reduce_scatter_tensor(output, input, op, async_op)
        if out is None or inp is None or input.numel() != output.numel() * self.size:
            raise ValueError(f"reduce_scatter: input and output must both be on cuda:{self.device_index}, the input "
                             f"world_size ({self.size}) x the output's size")
        self._mod.nccl_reduce_scatter(self._comm, inp, out,
                                      getattr(self._mod.NcclReduceOp, self._NCCL_OPS[self._op(op)]))
        return self._done("reduce_scatter", async_op)

    def close(self):
        if self._comm:
            self._mod.nccl_destroy(self._comm)
            self._comm = 0
