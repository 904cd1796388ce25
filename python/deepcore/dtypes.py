"""The dtypes deepcore holds: float32 (the default), float64, int64 and bool."""
import numpy as np

from . import _C


class dtype:
    """A tensor element type, e.g. ``deepcore.float32``."""

    __slots__ = ("name", "itemsize", "numpy", "is_floating_point", "_c", "_rank")

    def __init__(self, name, c_dtype, numpy_dtype, is_floating_point, rank):
        self.name = name
        self._c = c_dtype
        self.numpy = np.dtype(numpy_dtype)
        self.itemsize = self.numpy.itemsize
        self.is_floating_point = is_floating_point
        self._rank = rank  # promotion order: bool < int64 < float32 < float64

    def __repr__(self):
        return "deepcore." + self.name

    def __reduce__(self):
        return (_by_name, (self.name,))


float32 = dtype("float32", _C.DType.float32, np.float32, True, 2)
float64 = dtype("float64", _C.DType.float64, np.float64, True, 3)
int64 = dtype("int64", _C.DType.int64, np.int64, False, 1)
bool_ = dtype("bool", _C.DType.bool, np.bool_, False, 0)

_ALL = (float32, float64, int64, bool_)
_FROM_C = {d._c: d for d in _ALL}
_NAMES = {d.name: d for d in _ALL}
_NAMES.update({"float": float32, "double": float64, "long": int64})


def _by_name(name):
    return _NAMES[name]


def from_c(c_dtype):
    return _FROM_C[c_dtype]


def as_dtype(d):
    """Accepts a deepcore dtype, its name, or a NumPy dtype; returns the deepcore dtype."""
    if isinstance(d, dtype):
        return d
    if isinstance(d, str) and d in _NAMES:
        return _NAMES[d]
    if d is float:
        return float32
    if d is int:
        return int64
    if d is bool:
        return bool_
    try:
        npd = np.dtype(d)
    except TypeError:
        npd = None
    if npd is not None:
        for cand in _ALL:
            if cand.numpy == npd:
                return cand
    raise TypeError(f"unsupported dtype {d!r}: deepcore holds float32, float64, int64 and bool")


def from_numpy_dtype(npd, copy_ok):
    """The deepcore dtype for a NumPy dtype; narrower types widen when a copy is allowed."""
    npd = np.dtype(npd)
    for cand in _ALL:
        if cand.numpy == npd:
            return cand
    if copy_ok:
        if npd.kind == "f":
            return float32
        if npd.kind in "iu":
            return int64
    raise TypeError(f"unsupported NumPy dtype {npd}: deepcore holds float32, float64, int64 and bool")


def promote(a, b):
    """Result dtype of a binary op between two tensor dtypes."""
    return a if a._rank >= b._rank else b


def promote_scalar(t, value):
    """Result dtype of a binary op between a tensor dtype and a Python scalar."""
    if isinstance(value, bool):
        return t
    if isinstance(value, int):
        return int64 if t is bool_ else t
    return t if t.is_floating_point else float32


def _category(d):
    """bool < integer < floating: a lower-priority operand decides the dtype only from a higher category."""
    return 2 if d.is_floating_point else (0 if d is bool_ else 1)


def _combine(higher, lower):
    """PyTorch's combine_categories: the `higher`-priority group's dtype wins unless `lower`'s category is higher."""
    if higher is None:
        return lower
    if lower is None or _category(higher) >= _category(lower):
        return higher
    return promote(higher, lower)


def result_type(*operands):
    """The dtype of a binary op's result under PyTorch's rule: dimensioned tensors outrank 0-d tensors, which
    outrank Python numbers, and a lower-ranked operand only matters when its category (bool < int < float) is
    higher (float32[n] + float64[] is float32; int64[n] + float64[] is float64; int64[n] + 1.5 is float32).
    Tensors are anything with ``dtype`` and ``ndim``; the rest are Python numbers."""
    groups = [None, None, None]   # dimensioned tensors, 0-d tensors, Python numbers
    for x in operands:
        if hasattr(x, "dtype"):
            slot, d = (0 if x.ndim else 1), x.dtype
        else:
            slot, d = 2, (bool_ if isinstance(x, bool) else int64 if isinstance(x, int) else float32)
        groups[slot] = d if groups[slot] is None else promote(groups[slot], d)
    return _combine(groups[0], _combine(groups[1], groups[2]))
