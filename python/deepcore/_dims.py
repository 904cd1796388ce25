"""Dimension and stride arithmetic on shapes, shared by Tensor and the op families (metadata only)."""
from . import _C


def normalize_dim(dim, ndim, op):
    n = max(ndim, 1)
    if not isinstance(dim, int) or isinstance(dim, bool):
        raise TypeError(f"{op}: dim must be an int, got {dim!r}")
    if not -n <= dim < n:
        raise IndexError(f"{op}: dim {dim} is out of range for a tensor with {ndim} dimension(s) "
                         f"(expected a value in [{-n}, {n - 1}])")
    return dim % n


def normalize_dims(dims, ndim, op):
    """None -> all dims; an int or a sequence of ints -> a sorted tuple."""
    if dims is None:
        return tuple(range(ndim))
    if isinstance(dims, int):
        dims = (dims,)
    # A 0-d tensor accepts dim 0 / -1 (reducing nothing) but still range-checks: sum(5) is an IndexError.
    checked = [normalize_dim(d, ndim, op) for d in dims]
    out = tuple(sorted(checked)) if ndim else ()
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: dim {tuple(dims)} names a dimension twice")
    return out


def contiguous_strides(shape):
    strides, s = [], 1
    for d in reversed(shape):
        strides.append(s)
        s *= max(d, 1)
    return tuple(reversed(strides))


def expand_array(nd, shape, op="expand"):
    """A stride-0 view of NDArray `nd` read as `shape` (NumPy broadcasting rules)."""
    shape = tuple(shape)
    src_shape, src_strides = nd.shape, nd.strides
    lead = len(shape) - len(src_shape)
    if lead < 0:
        raise ValueError(f"{op}: cannot expand shape {src_shape} to {shape} (fewer dimensions)")
    strides = []
    for i, size in enumerate(shape):
        if i < lead:
            strides.append(0)
            continue
        s, st = src_shape[i - lead], src_strides[i - lead]
        if s == size:
            strides.append(st)
        elif s == 1:
            strides.append(0)
        else:
            raise ValueError(f"{op}: cannot expand shape {src_shape} to {shape} (dimension {i}: {s} vs {size})")
    return _C.view(nd, list(shape), strides, nd.offset)
