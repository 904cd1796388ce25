"""Copies between dtypes and devices as differentiable ops: ``to``, ``clone``, ``contiguous``.

The kernels are the memory family's (csrc/cpu/memory.cpp, csrc/cuda/memory.cu): cast, copy_ and the
host<->device transfers. Installed on Tensor by ``_tensor_methods``.
"""
from .. import backend as _backends
from .. import cuda as _cuda
from ..autograd import Function
from ..device import as_device, device as _device_cls
from ..dtypes import as_dtype
from ..tensor import Tensor


class Cast(Function):
    @staticmethod
    def forward(ctx, x, dt):
        ctx.src = x.dtype
        return Tensor._make(x._backend.cast(x._data, dt._c))

    @staticmethod
    def backward(ctx, g):
        return (g.to(ctx.src) if ctx.src.is_floating_point else None), None


class ToDevice(Function):
    @staticmethod
    def forward(ctx, x, dev):
        ctx.src = x.device
        if dev.type == "cuda":
            if not x.is_cuda:
                if not _cuda.is_available():
                    raise RuntimeError("to('cuda'): no CUDA device is available (deepcore.cuda.is_available() is "
                                       "False)" + ("" if _cuda.is_built() else "; this build has no CUDA engine"))
                return Tensor._make(_backends.for_device(dev).to_device(x._data, dev.index))
            # cuda:i -> cuda:j goes through the host: simple, and rare in this library's use.
            return Tensor._make(_backends.for_device(dev).to_device(x._backend.to_host(x._data), dev.index))
        return Tensor._make(x._backend.to_host(x._data))

    @staticmethod
    def backward(ctx, g):
        return g.to(ctx.src), None


class Clone(Function):
    @staticmethod
    def forward(ctx, x):
        out = x._backend.empty_on(list(x.shape), x.dtype._c, x.device.index)
        x._backend.copy_(out, x._data)
        return Tensor._make(out)

    @staticmethod
    def backward(ctx, g):
        return g


def _is_dtype_name(a):
    return isinstance(a, str) and a in ("float32", "float64", "int64", "bool")


def to(self, *args, dtype=None, device=None, copy=False):
    """``to(dtype)``, ``to(device)``, ``to(device, dtype)`` or ``to(other_tensor)``: differentiable."""
    for a in args:
        if isinstance(a, Tensor):
            dtype, device = a.dtype, a.device
        elif isinstance(a, (_device_cls, str)) and not _is_dtype_name(a):
            device = a
        else:
            dtype = a
    out = self
    if dtype is not None:
        dt = as_dtype(dtype)
        if dt is not out.dtype:
            out = Cast.apply(out, dt)
    if device is not None:
        dev = as_device(device)
        if dev != out.device:
            out = ToDevice.apply(out, dev)
    if copy and out is self:
        out = clone(self)
    return out


def clone(x):
    return Clone.apply(x)


def contiguous(x):
    return x if x._data.is_contiguous() else Clone.apply(x)

