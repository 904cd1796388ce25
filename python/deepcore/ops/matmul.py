"""Matrix products: matmul (NumPy rules, batched), mm."""
from ..autograd import Function
from ..tensor import Tensor
from .reduce import sum_to


class Matmul(Function):
    """a @ b for ndim >= 2 (batch dimensions broadcast). The backward GEMMs
    read transposed operands through their strides: no transposed copies."""

    @staticmethod
    def forward(ctx, a, b):
        if ctx.needs_input_grad:  # empty when nothing is recorded
            ctx.save_for_backward(a, b)
        return Tensor._make(a._backend.matmul(a._data, b._data))

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = sum_to(g @ b.transpose(-1, -2), tuple(a.shape))
        if ctx.needs_input_grad[1]:
            gb = sum_to(a.transpose(-1, -2) @ g, tuple(b.shape))
        return ga, gb


def _check(op, a, b):
    # Cached fields only (_dtype, _backend, _data.shape): this runs on every matmul.
    for name, t in (("first", a), ("second", b)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: the {name} operand must be a Tensor, got {type(t).__name__}")
        if not t._dtype.is_floating_point:
            raise TypeError(f"{op}: expected float32 or float64 tensors, got {t._dtype.name} for the {name} operand")
    if a._dtype is not b._dtype:
        raise TypeError(f"{op}: operands have different dtypes {a._dtype.name} and {b._dtype.name}")
    if a._backend is not b._backend or (a._backend.name != "cpu" and a.device != b.device):
        raise ValueError(f"{op}: expected both operands on the same device, got {a.device} and {b.device}")
    if not a._data.ndim or not b._data.ndim:
        raise ValueError(f"{op}: both operands need at least one dimension, got shapes "
                         f"{tuple(a.shape)} and {tuple(b.shape)}")


def matmul(a, b):
    _check("matmul", a, b)
    sa, sb = a._data.shape, b._data.shape
    ka = sa[-1]
    kb = sb[-2] if len(sb) >= 2 else sb[0]
    if ka != kb:
        raise ValueError(f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} are not aligned: "
                         f"{ka} (last dim of the first) != {kb} ({'second-to-last' if b.ndim >= 2 else 'only'} "
                         f"dim of the second)")
    if len(sa) >= 2 and len(sb) >= 2:
        return Matmul.apply(a, b)
    # 1-D operands become matrices and the extra dimension is dropped afterwards (NumPy rules).
    a2 = a.unsqueeze(0) if a.ndim == 1 else a
    b2 = b.unsqueeze(-1) if b.ndim == 1 else b
    out = Matmul.apply(a2, b2)
    if b.ndim == 1:
        out = out.squeeze(-1)
    if a.ndim == 1:
        out = out.squeeze(-2 if b.ndim > 1 else -1) if out.ndim else out
    return out


def mm(a, b):
    _check("mm", a, b)
    sa, sb = a._data.shape, b._data.shape
    if len(sa) != 2 or len(sb) != 2:
        raise ValueError(f"mm: expected 2-D tensors, got shapes {tuple(a.shape)} and {tuple(b.shape)}")
    if sa[1] != sb[0]:
        raise ValueError(f"mm: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be multiplied "
                         f"({a.shape[1]} != {b.shape[0]})")
    return Matmul.apply(a, b)
