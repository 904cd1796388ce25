"""Matrix products: matmul (NumPy rules, batched), mm, bmm, addmm/baddbmm/addmv, mv, dot, outer, einsum.

einsum is composed: diagonals and sums within each operand, then each pair of operands as one
batched matmul over (shared kept labels, own labels, summed labels), so its gradient is matmul's.
"""
import math

from ..autograd import Function
from ..dtypes import bool_
from ..tensor import Tensor
from .elementwise import where
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


# ---- the other products: bmm, addmm, baddbmm, mv, dot, outer ----------------------------------

def bmm(input, mat2):
    """Batched (b, n, m) @ (b, m, p) -> (b, n, p); no broadcasting, as in PyTorch."""
    _check("bmm", input, mat2)
    if input.ndim != 3 or mat2.ndim != 3:
        raise RuntimeError(f"bmm: expected 3-D tensors, got shapes {tuple(input.shape)} and {tuple(mat2.shape)}")
    if input.shape[0] != mat2.shape[0] or input.shape[2] != mat2.shape[1]:
        raise RuntimeError(f"bmm: shapes {tuple(input.shape)} and {tuple(mat2.shape)} cannot be multiplied (batch "
                           f"sizes and inner dims must match)")
    return Matmul.apply(input, mat2)


def _scaled_sum(op, input, product, beta, alpha):
    """beta * input + alpha * product, input broadcast to the product's shape. With beta = 0 input is
    not read (NaN or inf in it do not reach the result), as in PyTorch."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    shape = tuple(product.shape)
    lead = len(shape) - input.ndim
    if lead < 0 or any(s not in (1, t) for s, t in zip(input.shape, shape[lead:])):
        raise RuntimeError(f"{op}: input of shape {tuple(input.shape)} does not broadcast to the product's shape "
                           f"{shape}")
    term = product if alpha == 1 else product * alpha
    if beta == 0:
        if input.requires_grad:  # a zero gradient, as PyTorch's, without reading input's values
            never = Tensor._make(input._backend.full_on(list(input.shape), 0.0, bool_._c, input.device.index))
            return term + where(never, input, 0.0)
        return term
    return (input if beta == 1 else input * beta) + term


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """beta * input + alpha * (mat1 @ mat2), input broadcast to the product's shape."""
    return _scaled_sum("addmm", input, mm(mat1, mat2), beta, alpha)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta * input + alpha * bmm(batch1, batch2)."""
    return _scaled_sum("baddbmm", input, bmm(batch1, batch2), beta, alpha)


def addmv(input, mat, vec, *, beta=1, alpha=1):
    return _scaled_sum("addmv", input, mv(mat, vec), beta, alpha)


def mv(input, vec):
    """Matrix (n, m) times vector (m,) -> (n,)."""
    _check("mv", input, vec)
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"mv: expected a matrix and a vector, got shapes {tuple(input.shape)} and "
                           f"{tuple(vec.shape)}")
    return matmul(input, vec)


def dot(input, other):
    """The inner product of two 1-d tensors of the same length."""
    _check("dot", input, other)
    if input.ndim != 1 or other.ndim != 1 or input.shape[0] != other.shape[0]:
        raise RuntimeError(f"dot: expected two 1-D tensors of the same size, got shapes {tuple(input.shape)} and "
                           f"{tuple(other.shape)}")
    return matmul(input, other)


def outer(input, vec2):
    """The outer product of two 1-d tensors: (n,) x (m,) -> (n, m)."""
    for name, t in (("input", input), ("vec2", vec2)):
        if not isinstance(t, Tensor) or t.ndim != 1:
            raise RuntimeError(f"outer: {name} must be a 1-D tensor, got "
                               f"{tuple(t.shape) if isinstance(t, Tensor) else type(t).__name__}")
    return input.reshape(-1, 1) * vec2.reshape(1, -1)


# ---- einsum --------------------------------------------------------------------------------------

def _parse_einsum(equation, operands):
    """Each operand's labels (ellipsis dims get labels '0', '1', ... aligned from the right) and the
    output's labels."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(operands):
        raise RuntimeError(f"einsum(): {len(terms)} operands in the equation {equation!r} but {len(operands)} "
                           f"tensors given")
    ell = 0
    labels = []
    for term, t in zip(terms, operands):
        letters = term.replace("...", "")
        if not all(c.isalpha() for c in letters) or term.count("...") > 1:
            raise RuntimeError(f"einsum(): invalid subscripts {term!r} in {equation!r} (letters and one '...')")
        n_ell = t.ndim - len(letters)
        if n_ell < 0 or (n_ell and "..." not in term):
            raise RuntimeError(f"einsum(): the term {term!r} does not match the operand of shape {tuple(t.shape)}")
        ell = max(ell, n_ell)
        head, _, tail = term.partition("...")
        labels.append(list(head) + [str(ell - n_ell + i) for i in range(n_ell)] + list(tail))
    ell_labels = [str(i) for i in range(ell)]
    if arrow:
        if rhs.count("...") > 1 or not all(c.isalpha() for c in rhs.replace("...", "")):
            raise RuntimeError(f"einsum(): invalid output subscripts {rhs!r}")
        head, dots, tail = rhs.partition("...")
        out = list(head) + (ell_labels if dots else []) + list(tail)
        if not dots and ell:
            raise RuntimeError("einsum(): the output subscripts must contain '...' when the inputs do")
    else:  # implicit: the ellipsis dims, then the letters used exactly once, alphabetically
        counts = {}
        for ls in labels:
            for c in ls:
                counts[c] = counts.get(c, 0) + 1
        out = ell_labels + sorted(c for c, k in counts.items() if k == 1 and c.isalpha())
    if len(set(out)) != len(out):
        raise RuntimeError(f"einsum(): output subscript repeated in {equation!r}")
    known = {c for ls in labels for c in ls}
    for c in out:
        if c not in known:
            raise RuntimeError(f"einsum(): output subscript {c} does not appear in the equation for any input "
                               f"operand")
    return labels, out


def _take_diagonals(x, labels):
    """Repeated labels within one operand ('ii') -> its diagonal, once per repeat."""
    while len(set(labels)) != len(labels):
        c = next(c for c in labels if labels.count(c) > 1)
        i = labels.index(c)
        j = labels.index(c, i + 1)
        x = x.diagonal(0, i, j)
        labels = [lab for k, lab in enumerate(labels) if k not in (i, j)] + [c]
    return x, labels


def _sum_out(x, labels, keep):
    dims = [i for i, c in enumerate(labels) if c not in keep]
    if not dims:
        return x, labels
    return x.sum(dims), [c for c in labels if c in keep]


def _contract(a, la, b, lb, keep):
    """a (labels la) times b (labels lb), summing the shared labels not in `keep`: one batched matmul."""
    size = {}
    for t, ls in ((a, la), (b, lb)):
        for c, n in zip(ls, t.shape):
            size[c] = n if size.get(c, 1) == 1 else size[c]
    batch = [c for c in la if c in lb and c in keep]
    summed = [c for c in la if c in lb and c not in keep]
    a_only = [c for c in la if c not in lb]
    b_only = [c for c in lb if c not in la]
    # Shared labels broadcast (size 1 against n): expand so that the merged dims agree.
    a = a.permute(*[la.index(c) for c in batch + a_only + summed])
    b = b.permute(*[lb.index(c) for c in batch + summed + b_only])
    a = a.expand(*([size[c] if c in summed else -1 for c in batch + a_only + summed]))
    b = b.expand(*([size[c] if c in summed else -1 for c in batch + summed + b_only]))
    m = math.prod(size[c] for c in a_only)
    k = math.prod(size[c] for c in summed)
    n = math.prod(size[c] for c in b_only)
    nb = len(batch)
    a2 = a.reshape(tuple(a.shape[:nb]) + (m, k))
    b2 = b.reshape(tuple(b.shape[:nb]) + (k, n))
    out = matmul(a2, b2)
    out = out.reshape(tuple(out.shape[:nb]) + tuple(size[c] for c in a_only + b_only))
    return out, batch + a_only + b_only


def einsum(equation, *operands):
    """torch.einsum: products and sums over labelled dims ('bij,bjk->bik', 'ij->ji', 'ii->', '...ij,jk'),
    contracted left to right, each pair as one batched matmul (float tensors)."""
    if not isinstance(equation, str):
        raise TypeError(f"einsum(): the first argument must be the equation string, got {type(equation).__name__}")
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise RuntimeError("einsum(): must provide at least one operand")
    for t in operands:
        if not isinstance(t, Tensor):
            raise TypeError(f"einsum(): operands must be tensors, got {type(t).__name__}")
    labels, out = _parse_einsum(equation, operands)
    xs = []
    for i, (t, ls) in enumerate(zip(operands, labels)):
        t, ls = _take_diagonals(t, ls)
        later = set(out).union(*(labels[j] for j in range(len(labels)) if j != i))
        xs.append(_sum_out(t, ls, later))
    x, lx = xs[0]
    for i in range(1, len(xs)):
        y, ly = xs[i]
        keep = set(out).union(*(xs[j][1] for j in range(i + 1, len(xs))))
        x, lx = _contract(x, lx, y, ly, keep)
    x, lx = _sum_out(x, lx, set(out))
    return x.permute(*[lx.index(c) for c in out]) if lx != out else x
