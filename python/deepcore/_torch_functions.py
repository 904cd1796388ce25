"""torch-level functions that scripts call as ``torch.X(tensor, ...)`` where deepcore had only the Tensor
method: the comparisons (``torch.eq`` .. ``torch.ge`` and their long names), ``std``/``var`` and their
``_mean`` pairs, ``t``, ``select``, ``is_floating_point``, and the broadcasting helpers
(``broadcast_to``, ``broadcast_shapes``, ``broadcast_tensors``, ``meshgrid``).

Each is the Tensor method of the same name or a few view ops; none computes anything of its own.
"""
import warnings

from ._dims import normalize_dim
from .ops import elementwise as ew
from .ops import reduce as red
from .ops import shape as shp
from .ops.elementwise import B
from .ops.normalization import broadcast_shapes as _broadcast
from .tensor import Size, Tensor


def _refuse_out(op, out):
    if out is not None:
        raise NotImplementedError(f"{op}: out= is not supported (use the returned tensor)")


def _tensor_arg(op, x, what="input"):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument '{what}' must be Tensor, not {type(x).__name__}")
    return x


def _comparison(name, op):
    def compare(input, other, *, out=None):
        _refuse_out(name, out)
        return ew.compare(op, _tensor_arg(name, input), other)
    compare.__name__ = name
    compare.__doc__ = f"torch.{name}(input, other): elementwise, a bool tensor (other: a tensor or a number)."
    return compare


eq, ne, lt, le, gt, ge = (_comparison(n, getattr(B, n)) for n in ("eq", "ne", "lt", "le", "gt", "ge"))
# the long names are their own functions, so an error names the one the script called
not_equal, less, less_equal, greater, greater_equal = (
    _comparison(n, op) for n, op in (("not_equal", B.ne), ("less", B.lt), ("less_equal", B.le), ("greater", B.gt),
                                     ("greater_equal", B.ge)))


def _moments(op, input, dim, unbiased, keepdim, correction):
    _tensor_arg(op, input)
    if isinstance(dim, bool):   # torch.std(input, unbiased): the legacy overload
        dim, unbiased = None, dim
    return getattr(input, op)(dim, unbiased=unbiased, keepdim=keepdim, correction=correction)


def std(input, dim=None, unbiased=True, keepdim=False, *, correction=None, out=None):
    _refuse_out("std", out)
    return _moments("std", input, dim, unbiased, keepdim, correction)


def var(input, dim=None, unbiased=True, keepdim=False, *, correction=None, out=None):
    _refuse_out("var", out)
    return _moments("var", input, dim, unbiased, keepdim, correction)


def std_mean(input, dim=None, unbiased=True, keepdim=False, *, correction=None):
    """(std, mean) over the same dims, as torch.std_mean."""
    spread = _moments("std", input, dim, unbiased, keepdim, correction)
    return spread, red.mean(input, None if isinstance(dim, bool) else dim, keepdim=keepdim)


def var_mean(input, dim=None, unbiased=True, keepdim=False, *, correction=None):
    """(var, mean) over the same dims, as torch.var_mean."""
    spread = _moments("var", input, dim, unbiased, keepdim, correction)
    return spread, red.mean(input, None if isinstance(dim, bool) else dim, keepdim=keepdim)


def t(input):
    return _tensor_arg("t", input).t()


def select(input, dim, index):
    """The view input[..., index, ...] with `index` taken along `dim` (that dim removed)."""
    _tensor_arg("select", input)
    if input.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = normalize_dim(dim, input.ndim, "select")
    size = input.shape[d]
    if not isinstance(index, int) or isinstance(index, bool):
        raise TypeError(f"select(): argument 'index' must be int, not {type(index).__name__}")
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size {tuple(input.shape)} at "
                         f"dimension {d}")
    return input[(slice(None),) * d + (index,)]


def is_floating_point(input):
    return _tensor_arg("is_floating_point", input).is_floating_point()


def broadcast_to(input, size):
    return shp.expand(_tensor_arg("broadcast_to", input), *tuple(size))


def broadcast_shapes(*shapes):
    """The shape every argument broadcasts to (each a shape or one int), as torch.broadcast_shapes."""
    shapes = [(s,) if isinstance(s, int) else tuple(s) for s in shapes]
    for s in shapes:
        if any(not isinstance(n, int) or isinstance(n, bool) or n < 0 for n in s):
            raise RuntimeError(f"broadcast_shapes: expected non-negative int sizes, got {s}")
    return Size(_broadcast("broadcast_shapes", *shapes) if shapes else ())


def broadcast_tensors(*tensors):
    """Views of every tensor expanded to their common shape (one list argument is unpacked, as in torch)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    for i, x in enumerate(tensors):
        _tensor_arg("broadcast_tensors", x, f"tensors[{i}]")
    shape = _broadcast("broadcast_tensors", *(tuple(x.shape) for x in tensors)) if tensors else ()
    return tuple(shp.expand(x, *shape) for x in tensors)


def meshgrid(*tensors, indexing=None):
    """Coordinate grids from 1-D tensors, as views. indexing 'ij' (the default, with torch's warning when
    it is not given) keeps the argument order; 'xy' swaps the first two output dims (NumPy's default)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the indexing argument.",
                      UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise ValueError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but received: {indexing}")
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    for i, x in enumerate(tensors):
        _tensor_arg("meshgrid", x, f"tensors[{i}]")
        if x.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: {x.ndim}-d "
                               f"tensor at position {i}")
    if len({x.dtype for x in tensors}) > 1 or len({str(x.device) for x in tensors}) > 1:
        raise RuntimeError("torch.meshgrid: Expected all tensors in the tensor list to have the same dtype and "
                           "device")
    swap = indexing == "xy" and len(tensors) >= 2
    order = list(tensors)
    if swap:
        order[0], order[1] = order[1], order[0]
    sizes = tuple(x.numel() for x in order)
    grids = []
    for i, x in enumerate(order):
        view = [1] * len(order)
        view[i] = sizes[i]
        grids.append(shp.expand(x.reshape(tuple(view)), *sizes))
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)
