"""Tensor: an NDArray (the kernels' data) plus what autograd needs.

Every method here is bookkeeping or a call into ``deepcore.ops``; the numbers
are computed by the native kernels.
"""
import numbers

import numpy as np

from . import _C
from . import backend as _backends
from ._dims import normalize_dim
from ._missing import NotImplementedInDeepcore, missing_message
from .device import CPU, as_device, device as _device_cls
from .dtypes import _FROM_C as _DTYPE_OF_C
from .dtypes import as_dtype, bool_, float32, float64, from_c, from_numpy_dtype, int64
from .backend import cpu as _cpu_backend

_CUDA_DEVICE = _C.Device.cuda
_new_tensor = object.__new__  # Tensor defines no __new__


class Size(tuple):
    """A tensor's shape: a tuple with ``numel()``."""

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n

    def __repr__(self):
        return f"deepcore.Size({list(self)})"


_INT64_MAX = 2 ** 63 - 1


def _shape_arg(size, op):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:
        if not isinstance(s, numbers.Integral) or isinstance(s, bool):
            raise TypeError(f"{op}: size must be a sequence of ints, got {size!r}")
        if s < 0:
            raise ValueError(f"{op}: negative dimension {s} in size {tuple(size)}")
        if s > _INT64_MAX:  # PyTorch: TypeError (its sizes are int64 too)
            raise TypeError(f"{op}: dimension {s} in size {tuple(size)} does not fit in a 64-bit integer")
    numel = 1
    for s in size:
        numel *= int(s)
    if numel > _INT64_MAX:  # PyTorch: RuntimeError ("Storage size calculation overflowed")
        raise RuntimeError(f"{op}: size {tuple(size)} has more elements than a 64-bit integer counts ({numel})")
    return [int(s) for s in size]


def _default_float(dt):
    dt = float32 if dt is None else as_dtype(dt)
    return dt


class Tensor:
    """A multi-dimensional array on the CPU or a GPU that records the ops applied
    to it when ``requires_grad`` is set, so ``backward()`` can differentiate."""

    __slots__ = ("_data", "_dtype", "_backend", "_requires_grad", "_grad", "grad_fn", "_output_nr", "_accumulator", "_retains_grad",
                 "__weakref__", "__dict__")
    __array_priority__ = 1000  # numpy_scalar * tensor dispatches to Tensor.__rmul__

    def __init__(self, data, dtype=None, device=None, requires_grad=False):
        self._init(_array_from_data(data, dtype, device), requires_grad)

    def _init(self, nd, requires_grad=False):
        self._data = nd
        # Cached once per tensor: read on every op, and fixed for the NDArray's life.
        self._dtype = from_c(nd.dtype)
        self._backend = _backends.for_array(nd)
        self._requires_grad = False
        self._grad = None
        self.grad_fn = None
        self._output_nr = 0
        self._accumulator = None
        self._retains_grad = False
        if requires_grad:
            self.requires_grad = True

    @classmethod
    def _make(cls, nd, requires_grad=False):
        """A tensor around a fresh NDArray: the hot path of every op's output, so _init's work is written
        out here (a CPU array's backend without the call that finds it)."""
        t = _new_tensor(Tensor)
        t._data = nd
        t._dtype = _DTYPE_OF_C[nd.dtype]
        t._backend = _cpu_backend if nd.device != _CUDA_DEVICE else _backends.for_array(nd)
        t._requires_grad = False
        t._grad = None
        t.grad_fn = None
        t._output_nr = 0
        t._accumulator = None
        t._retains_grad = False
        if requires_grad:
            t.requires_grad = True
        return t

    @staticmethod
    def _backend_of(dev):
        return _backends.for_device(dev)

    @staticmethod
    def _backend_of_array(nd):
        return _backends.for_array(nd)

    # ---- metadata -------------------------------------------------------------
    @property
    def shape(self):
        return Size(self._data.shape)

    def size(self, dim=None):
        if dim is None:
            return self.shape
        return self._data.shape[normalize_dim(dim, self.ndim, "size")]

    @property
    def ndim(self):
        return self._data.ndim

    def dim(self):
        return self._data.ndim

    def numel(self):
        return self._data.numel

    def nelement(self):
        return self._data.numel

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    @property
    def dtype(self):
        return self._dtype

    @property
    def device(self):
        nd = self._data
        return CPU if nd.device == _C.Device.cpu else _device_cls("cuda", nd.device_index)

    @property
    def is_cuda(self):
        return self._data.device == _C.Device.cuda

    @property
    def is_cpu(self):
        return self._data.device == _C.Device.cpu

    # Devices deepcore does not have: scripts test these flags before taking a device's code path.
    is_xpu = is_mps = is_meta = is_quantized = is_sparse = property(lambda self: False)

    def is_floating_point(self):
        return self.dtype.is_floating_point

    def is_contiguous(self):
        return self._data.is_contiguous()

    def stride(self, dim=None):
        return self._data.strides if dim is None else self._data.strides[dim]

    def data_ptr(self):
        return self._data.data_ptr

    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        if value and not self.dtype.is_floating_point:
            raise RuntimeError(f"only tensors of floating point dtype can require gradients, got {self.dtype.name}")
        if not value and self.grad_fn is not None:
            raise RuntimeError("you can only change requires_grad flags of leaf variables; use .detach() for a "
                               "non-leaf tensor")
        self._requires_grad = bool(value)

    def requires_grad_(self, requires_grad=True):
        self.requires_grad = requires_grad
        return self

    @property
    def grad(self):
        return self._grad

    @grad.setter
    def grad(self, value):
        """Checked here, as PyTorch does, so a wrong gradient fails at the assignment rather than later
        inside an optimizer's kernel."""
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type "
                                f"{type(value).__name__}")
            if tuple(value.shape) != tuple(self.shape):
                raise RuntimeError(f"grad: assigned grad has data of a different size: a gradient of size "
                                   f"{list(value.shape)} for a tensor of size {list(self.shape)}")
            if value.dtype is not self.dtype:
                raise RuntimeError(f"grad: assigned grad has data of a different type: {value.dtype.name} for a "
                                   f"{self.dtype.name} tensor")
            if value.device != self.device:
                raise RuntimeError(f"grad: assigned grad has data located on a different device: {value.device} "
                                   f"for a tensor on {self.device}")
        self._grad = value

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def data(self):
        return self.detach()

    @data.setter
    def data(self, other):
        if tuple(other.shape) != tuple(self.shape) or other.dtype is not self.dtype:
            raise ValueError(f"data: cannot replace a {self.dtype.name}{tuple(self.shape)} tensor's data with a "
                             f"{other.dtype.name}{tuple(other.shape)} one")
        self._init_data(other._data)

    def _init_data(self, nd):
        """Points this tensor at another NDArray (same shape and dtype), keeping its autograd state."""
        self._data, self._dtype, self._backend = nd, from_c(nd.dtype), _backends.for_array(nd)

    @property
    def T(self):
        return self.permute(*reversed(range(self.ndim)))

    @property
    def mT(self):
        return self.transpose(-2, -1)

    # ---- conversion -----------------------------------------------------------
    def numpy(self):
        """The tensor's memory as a NumPy array (shared, no copy) for CPU tensors."""
        if self.requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        if self.is_cuda:
            raise TypeError("can't convert a cuda tensor to numpy; use .cpu() first")
        return _C.to_numpy(self._data)

    def __array__(self, dtype=None, copy=None):
        arr = self.detach().cpu().numpy()
        return arr.astype(dtype) if dtype is not None else arr

    def item(self):
        if self.numel() != 1:
            raise ValueError(f"item: only a tensor with one element can be converted to a Python number, "
                             f"got shape {tuple(self.shape)}")
        return _C.item(self.cpu()._data)

    def tolist(self):
        return self.detach().cpu().numpy().tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.dtype.is_floating_point or self.numel() != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __bool__(self):
        if self.numel() != 1:
            raise RuntimeError(f"Boolean value of Tensor with more than one value is ambiguous "
                               f"(shape {tuple(self.shape)})")
        return bool(self.item())

    def cpu(self):
        return self.to(CPU)

    def cuda(self, device=None):
        return self.to(_device_cls("cuda", device if device is not None else 0))

    def float(self):
        return self.to(float32)

    def double(self):
        return self.to(float64)

    def long(self):
        return self.to(int64)

    def int(self):
        """Integer values, as int64: deepcore's one integer dtype (PyTorch's .int() gives int32; the
        values agree wherever int32 holds them)."""
        return self.to(int64)

    def bool(self):
        return self.to(bool_)

    def type_as(self, other):
        return self.to(other.dtype)

    def detach(self):
        """The same data, cut from the graph (shares memory)."""
        return Tensor._make(self._data)

    def detach_(self):
        if self.grad_fn is not None:
            self.grad_fn = None
        self._requires_grad = False
        return self

    @property
    def retains_grad(self):
        return self._retains_grad

    # ---- printing -------------------------------------------------------------
    def __format__(self, spec):
        # As PyTorch: a 0-d tensor formats as its Python number ('{:+.2f}'.format(loss)); others only
        # with an empty spec.
        if self.ndim == 0:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    def __getattr__(self, name):
        # Only reached when no attribute or method has the name: say it is deepcore's gap, in the
        # AttributeError that hasattr() expects.
        if name.startswith("_"):  # dunder probes (NumPy's __array_*__) and unset private slots
            raise AttributeError(f"'Tensor' object has no attribute {name!r}")
        raise NotImplementedInDeepcore(missing_message(f"torch.Tensor.{name}"))

    def __repr__(self):
        arr = np.asarray(self.detach().cpu().numpy())
        body = np.array2string(arr, separator=", ", prefix="tensor(", precision=4, threshold=1000,
                               floatmode="maxprec_equal")
        extras = []
        if self.device.type != "cpu":
            extras.append(f"device='{self.device}'")
        if self.dtype not in (float32, int64, bool_):
            extras.append(f"dtype=deepcore.{self.dtype.name}")
        if self.numel() == 0:
            extras.append(f"size={tuple(self.shape)}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name}Backward>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    __str__ = __repr__

    def __hash__(self):
        return id(self)

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    def __reduce__(self):
        raise TypeError("deepcore tensors are not pickled; save them with deepcore.save (safetensors format)")

    def __deepcopy__(self, memo):
        # copy.deepcopy(model) (keeping the best model, cloning layers): new memory, same values,
        # requires_grad and .grad. A tensor inside a graph cannot be copied, as in PyTorch.
        if id(self) in memo:
            return memo[id(self)]
        if self.grad_fn is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                               "protocol at the moment")
        out = self._copy_as_leaf()
        memo[id(self)] = out
        if self.grad is not None:
            out.grad = self.grad.__deepcopy__(memo)
        return out

    def _copy_as_leaf(self):
        out = self.detach().clone()
        out._requires_grad = self._requires_grad
        return out


# ---- creation -----------------------------------------------------------------

def _array_from_data(data, dtype, device):
    dev = as_device(device)
    if isinstance(data, Tensor):
        t = data.detach().to(dtype=dtype, device=dev, copy=True)
        return t._data
    if isinstance(data, np.ndarray):
        dt = as_dtype(dtype) if dtype is not None else from_numpy_dtype(data.dtype, copy_ok=True)
    else:
        arr = np.asarray(data)
        if arr.dtype == object:
            raise TypeError(f"tensor: could not infer a numeric dtype from {type(data).__name__} data")
        if dtype is not None:
            dt = as_dtype(dtype)
        elif arr.dtype.kind == "f":
            # Python floats default to float32, as in PyTorch; NumPy float64 scalars or arrays among the
            # data keep float64 (np.float64 subclasses float, so NumPy's inference cannot tell them apart)
            dt = float64 if arr.dtype == np.float64 and _holds_numpy_float64(data) else float32
        elif arr.dtype.kind == "b":
            dt = bool_
        elif arr.dtype.kind in "iu":
            dt = int64
        else:
            raise TypeError(f"tensor: unsupported element type {arr.dtype}")
        data = arr
    arr = np.array(data, dtype=dt.numpy, order="C", copy=True)
    nd = _C.from_numpy(arr)
    if dev.type == "cuda":
        nd = _backends.for_device(dev).to_device(nd, dev.index)
    return nd


def _holds_numpy_float64(data):
    """Whether nested lists/tuples hold a NumPy float64 scalar or array (torch.tensor infers float64 then)."""
    if isinstance(data, (np.float64, np.ndarray)):
        return data.dtype == np.float64
    if isinstance(data, (list, tuple)):
        return any(_holds_numpy_float64(x) for x in data)
    return False


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new tensor holding a copy of `data` (list, number, NumPy array or tensor)."""
    return Tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)


def as_tensor(data, dtype=None, device=None):
    if isinstance(data, Tensor):
        return data.to(dtype=dtype, device=device) if (dtype or device) else data
    return Tensor(data, dtype=dtype, device=device)


def from_numpy(array):
    """A tensor sharing `array`'s memory (float32, float64, int64 or bool)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    return Tensor._make(_C.from_numpy(array))


def _full(size, value, dtype, device, requires_grad, op):
    dev = as_device(device)
    shape = _shape_arg(size, op)
    dt = as_dtype(dtype) if dtype is not None else (float32 if isinstance(value, float) or op != "full" else
                                                    (bool_ if isinstance(value, bool) else int64))
    nd = _backends.for_device(dev).full_on(shape, float(value), dt._c, dev.index)
    return Tensor._make(nd, requires_grad)


def _fill_out(out, size, value, dtype, op):
    """torch.zeros(..., out=t) / ones: fills `out` in place when it has the shape (and dtype); an out
    of another shape would have to be resized, which deepcore's fixed-size tensors cannot."""
    if not isinstance(out, Tensor):
        raise TypeError(f"{op}: out must be a Tensor, got {type(out).__name__}")
    shape = _shape_arg(size, op)
    if tuple(out.shape) != tuple(shape):
        raise NotImplementedError(f"{op}: out= of shape {tuple(out.shape)} would need resizing to {tuple(shape)}, "
                                  f"which is not supported (pass an out of that shape, or use the result)")
    if dtype is not None and as_dtype(dtype) is not out.dtype:
        raise RuntimeError(f"{op}: dtype {as_dtype(dtype).name} does not match out's dtype {out.dtype.name}")
    if out.requires_grad:
        raise RuntimeError(f"{op}(): functions with out=... arguments don't support automatic differentiation, "
                           f"but one of the arguments requires grad")
    out._backend.copy_(out._data, out._backend.full_on([], value, out.dtype._c, out.device.index))
    return out


def zeros(*size, out=None, dtype=None, device=None, requires_grad=False):
    if out is not None:
        return _fill_out(out, size, 0.0, dtype, "zeros")
    return _full(size, 0.0, dtype, device, requires_grad, "zeros")


def ones(*size, out=None, dtype=None, device=None, requires_grad=False):
    if out is not None:
        return _fill_out(out, size, 1.0, dtype, "ones")
    return _full(size, 1.0, dtype, device, requires_grad, "ones")


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    return _full((size,) if isinstance(size, numbers.Integral) else tuple(size), fill_value, dtype, device,
                 requires_grad, "full")


def empty(*size, dtype=None, device=None, requires_grad=False):
    dev = as_device(device)
    dt = _default_float(dtype)
    return Tensor._make(_backends.for_device(dev).empty_on(_shape_arg(size, "empty"), dt._c, dev.index),
                        requires_grad)


def zeros_like(t, dtype=None, device=None, requires_grad=False):
    return zeros(*t.shape, dtype=dtype or t.dtype, device=device or t.device, requires_grad=requires_grad)


def ones_like(t, dtype=None, device=None, requires_grad=False):
    return ones(*t.shape, dtype=dtype or t.dtype, device=device or t.device, requires_grad=requires_grad)


def full_like(t, fill_value, dtype=None, device=None, requires_grad=False):
    return full(tuple(t.shape), fill_value, dtype=dtype or t.dtype, device=device or t.device,
                requires_grad=requires_grad)


def empty_like(t, dtype=None, device=None, requires_grad=False):
    return empty(*t.shape, dtype=dtype or t.dtype, device=device or t.device, requires_grad=requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    is_int = all(isinstance(v, numbers.Integral) for v in (start, end, step))
    dt = as_dtype(dtype) if dtype is not None else (int64 if is_int else float32)
    # Index generation is interchange, not arithmetic on model data.
    values = np.arange(start, end, step, dtype=np.float64 if dt.is_floating_point else np.int64)
    return Tensor(values, dtype=dt, device=device, requires_grad=requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    return Tensor(np.linspace(start, end, int(steps)), dtype=_default_float(dtype), device=device,
                  requires_grad=requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    return Tensor(np.eye(n, m), dtype=_default_float(dtype), device=device, requires_grad=requires_grad)
