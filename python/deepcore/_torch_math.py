"""torch math functions that real scripts call and that are compositions of deepcore's native ops:
base-2/10 logs and exponentials, sinh/cosh, trunc/frac, logaddexp, hypot, xlogy, logit, sinc,
heaviside, degrees; diff, kron, cross, tensordot, inner; nansum/nanmean, cov/corrcoef, bincount,
logcumsumexp; the stacking and splitting helpers (atleast_Nd, hstack/vstack/dstack/column_stack,
hsplit/vsplit, block_diag, rot90, cartesian_prod).

Each is built from the native ops (elementwise, reduce, matmul, index, shape), so it is differentiable
through them; none loops over elements in Python. The formulas are chosen for accuracy where the
naive one loses it (sinh through expm1, logaddexp through the max, logcumsumexp shifted by the max).
"""
import math

from ._dims import normalize_dim
from ._tensor_api import where
from ._tensor_methods import maximum
from ._torch_functions import broadcast_tensors, meshgrid
from .autograd import no_grad
from .ops import shape as shp
from .ops.arrange import tensor_split
from .ops.elementwise import clamp
from .ops.index import scatter_add
from .ops.matmul import matmul
from .ops.scan import cumsum
from .tensor import Tensor, tensor, zeros

_LN2, _LN10 = math.log(2.0), math.log(10.0)


def _t(op, x, what="input"):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument '{what}' must be Tensor, not {type(x).__name__}")
    return x


def _float(op, x):
    x = _t(op, x)
    return x if x.dtype.is_floating_point else x.float()


def _other(x, other):
    return other if isinstance(other, Tensor) else tensor(other, dtype=x.dtype)


# ---- elementwise ------------------------------------------------------------------------------------
def log2(input):
    return _float("log2", input).log() * (1.0 / _LN2)


def log10(input):
    return _float("log10", input).log() * (1.0 / _LN10)


def exp2(input):
    return (_float("exp2", input) * _LN2).exp()


def sinh(input):
    x = _float("sinh", input)
    return (x.expm1() - (-x).expm1()) * 0.5  # exact near 0, where (e^x - e^-x) / 2 cancels


def cosh(input):
    x = _float("cosh", input)
    return (x.exp() + (-x).exp()) * 0.5


def trunc(input):
    x = _t("trunc", input)
    if not x.dtype.is_floating_point:
        return x.clone()
    return where(x < 0, x.ceil(), x.floor())


fix = trunc


def frac(input):
    x = _t("frac", input)
    return x - trunc(x)


def sgn(input):
    return _t("sgn", input).sign()  # real tensors: sgn is sign


def logaddexp(input, other):
    x = _float("logaddexp", input)
    y = _other(x, other)
    m = maximum(x, y)
    with no_grad():  # the shift: constant for the gradient, which then comes out exactly
        shift = where(m.isinf(), m.new_zeros(()), m)
    return ((x - shift).exp() + (y - shift).exp()).log() + shift


def hypot(input, other):
    x = _float("hypot", input)
    y = _other(x, other)
    return (x * x + y * y).sqrt()


def xlogy(input, other):
    """x * log(y), 0 where x == 0 (also for y == 0), NaN where y is NaN."""
    x = _float("xlogy", input) if isinstance(input, Tensor) else None
    if x is None:
        y = _float("xlogy", other)
        x = tensor(input, dtype=y.dtype)
    else:
        y = _other(x, other)
    value = x * y.log()
    return where((x == 0) & ~y.isnan(), value.new_zeros(()), value)


def logit(input, eps=None):
    x = _float("logit", input)
    if eps is not None:
        x = clamp(x, float(eps), 1.0 - float(eps))
    return (x / (1.0 - x)).log()


def sinc(input):
    """sin(pi x) / (pi x), 1 at 0."""
    x = _float("sinc", input)
    px = x * math.pi
    safe = where(x == 0, x.new_ones(()), px)
    return where(x == 0, x.new_ones(()), safe.sin() / safe)


def heaviside(input, values):
    x = _t("heaviside", input)
    v = _other(x, values)
    if v.dtype != x.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes.")  # as torch
    zero, one = x.new_zeros(()), x.new_ones(())
    return where(x == 0, v.to(x.dtype), where(x > 0, one, zero))


def rad2deg(input):
    return _float("rad2deg", input) * (180.0 / math.pi)


def deg2rad(input):
    return _float("deg2rad", input) * (math.pi / 180.0)


# ---- differences, products ------------------------------------------------------------------------
def diff(input, n=1, dim=-1, prepend=None, append=None):
    x = _t("diff", input)
    if x.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if int(n) < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    d = normalize_dim(dim, x.ndim, "diff")
    parts = [p for p in (prepend, x, append) if p is not None]
    if len(parts) > 1:
        x = shp.cat([p if p.ndim else p.expand(*[1 if i == d else s for i, s in enumerate(x.shape)])
                     for p in parts], d)
    for _ in range(int(n)):
        length = x.shape[d]
        if length == 0:
            break
        x = shp.narrow(x, d, 1, length - 1) - shp.narrow(x, d, 0, length - 1)
    return x


def kron(input, other):
    a, b = _t("kron", input), _t("kron", other, "other")
    nd = max(a.ndim, b.ndim)
    a = a.reshape(*([1] * (nd - a.ndim) + list(a.shape)))
    b = b.reshape(*([1] * (nd - b.ndim) + list(b.shape)))
    # a[i, j] * b[k, l] laid out as (i k, j l): interleave the axes, then merge the pairs
    sa = [s for d in a.shape for s in (d, 1)]
    sb = [s for d in b.shape for s in (1, d)]
    prod = a.reshape(*sa) * b.reshape(*sb)
    return prod.reshape(*[x * y for x, y in zip(a.shape, b.shape)])


def cross(input, other, dim=None):
    a, b = _t("cross", input), _t("cross", other, "other")
    a, b = broadcast_tensors(a, b)
    if dim is None:
        dims = [i for i, s in enumerate(a.shape) if s == 3]
        if not dims:
            raise RuntimeError(f"no dimension of size 3 in input (shape {tuple(a.shape)})")
        d = dims[0]
    else:
        d = normalize_dim(dim, a.ndim, "cross")
    if a.shape[d] != 3 or b.shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {d} must have length 3. Got {a.shape[d]} and "
                           f"{b.shape[d]}")
    a0, a1, a2 = shp.unbind(a, d)
    b0, b1, b2 = shp.unbind(b, d)
    return shp.stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], d)


def tensordot(a, b, dims=2):
    a, b = _t("tensordot", a), _t("tensordot", b, "b")
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        da, db = ([dims[0]], [dims[1]]) if isinstance(dims[0], int) else (list(dims[0]), list(dims[1]))
    da = [normalize_dim(d, a.ndim, "tensordot") for d in da]
    db = [normalize_dim(d, b.ndim, "tensordot") for d in db]
    if len(da) != len(db) or any(a.shape[i] != b.shape[j] for i, j in zip(da, db)):
        raise RuntimeError(f"contracted dimensions need to match: {[a.shape[i] for i in da]} and "
                           f"{[b.shape[j] for j in db]}")
    free_a = [i for i in range(a.ndim) if i not in da]
    free_b = [j for j in range(b.ndim) if j not in db]
    k = 1
    for i in da:
        k *= a.shape[i]
    am = a.permute(*(free_a + da)).reshape(-1, k)
    bm = b.permute(*(db + free_b)).reshape(k, -1)
    return matmul(am, bm).reshape(*([a.shape[i] for i in free_a] + [b.shape[j] for j in free_b]))


def inner(input, other):
    a, b = _t("inner", input), _t("inner", other, "other")
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    return tensordot(a, b, ([-1], [-1]))


# ---- statistics ----------------------------------------------------------------------------------
def nansum(input, dim=None, keepdim=False, *, dtype=None):
    x = _t("nansum", input)
    clean = where(x.isnan(), x.new_zeros(()), x) if x.dtype.is_floating_point else x
    out = clean.sum() if dim is None else clean.sum(dim=dim, keepdim=keepdim)
    return out if dtype is None else out.to(dtype)


def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    x = _float("nanmean", input)
    present = (~x.isnan()).to(x.dtype)
    total = nansum(x, dim, keepdim)
    count = present.sum() if dim is None else present.sum(dim=dim, keepdim=keepdim)
    out = total / count
    return out if dtype is None else out.to(dtype)


def cov(input, *, correction=1, fweights=None, aweights=None):
    """Covariance of the rows (variables) over the columns (observations), as torch.cov."""
    x = _float("cov", input)
    if x.ndim > 2:
        raise ValueError(f"cov(): expected input to have two or fewer dimensions but got {x.ndim}")
    if fweights is not None or aweights is not None:
        raise NotImplementedError("cov: fweights and aweights are not supported yet")
    x = x.reshape(1, -1) if x.ndim < 2 else x
    n = x.shape[1]
    centred = x - x.mean(dim=1, keepdim=True)
    c = matmul(centred, centred.t()) / max(n - int(correction), 0)
    return c.reshape(()) if input.ndim < 2 else c


def corrcoef(input):
    c = cov(input)
    if c.ndim == 0:
        return c / c
    d = c.diagonal().sqrt()
    return clamp(c / d.reshape(-1, 1) / d.reshape(1, -1), -1.0, 1.0)


def bincount(input, weights=None, minlength=0):
    x = _t("bincount", input)
    if x.ndim != 1 or x.dtype.is_floating_point or x.dtype.name == "bool":
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if x.numel() and int(x.min()) < 0:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    size = max(int(minlength), int(x.max()) + 1 if x.numel() else 0)
    if weights is None:
        out = zeros(size, dtype=x.dtype)
        return scatter_add(out, 0, x.long(), x.new_ones(x.shape).to(x.dtype))
    w = _t("bincount", weights, "weights")
    if tuple(w.shape) != tuple(x.shape):
        raise RuntimeError("weights should be 1-d and have the same length as input")
    w = w if w.dtype.is_floating_point else w.double()
    return scatter_add(zeros(size, dtype=w.dtype), 0, x.long(), w)


def logcumsumexp(input, dim):
    x = _float("logcumsumexp", input)
    d = normalize_dim(dim, max(x.ndim, 1), "logcumsumexp")
    if x.numel() == 0:
        return x.clone()
    with no_grad():
        m = x.amax(dim=d, keepdim=True)
        m = where(m.isinf(), m.new_zeros(()), m)
    return cumsum((x - m).exp(), d).log() + m


# ---- stacking and splitting ----------------------------------------------------------------------
def _many(op, tensors):
    if isinstance(tensors, Tensor):
        raise TypeError(f"{op}(): argument 'tensors' must be a tuple or list of Tensors, not Tensor")
    return [_t(op, t, "tensors") for t in tensors]


def atleast_1d(*tensors):
    ts = tensors[0] if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else tensors
    out = [t.reshape(1) if t.ndim == 0 else t for t in ts]
    return out[0] if len(tensors) == 1 and isinstance(tensors[0], Tensor) else tuple(out)


def atleast_2d(*tensors):
    ts = tensors[0] if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else tensors
    out = [t.reshape(1, -1) if t.ndim < 2 else t for t in ts]
    return out[0] if len(tensors) == 1 and isinstance(tensors[0], Tensor) else tuple(out)


def atleast_3d(*tensors):
    ts = tensors[0] if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else tensors
    out = [t.reshape(1, 1, 1) if t.ndim == 0 else t.reshape(1, -1, 1) if t.ndim == 1 else
           t.unsqueeze(-1) if t.ndim == 2 else t for t in ts]
    return out[0] if len(tensors) == 1 and isinstance(tensors[0], Tensor) else tuple(out)


def hstack(tensors):
    ts = [atleast_1d(t) for t in _many("hstack", tensors)]
    return shp.cat(ts, 0 if ts[0].ndim == 1 else 1)


def vstack(tensors):
    return shp.cat([atleast_2d(t) for t in _many("vstack", tensors)], 0)


row_stack = vstack


def dstack(tensors):
    return shp.cat([atleast_3d(t) for t in _many("dstack", tensors)], 2)


def column_stack(tensors):
    ts = [t.reshape(-1, 1) if t.ndim < 2 else t for t in _many("column_stack", tensors)]
    return shp.cat(ts, 1)


def hsplit(input, indices_or_sections):
    x = _t("hsplit", input)
    return tensor_split(x, indices_or_sections, 0 if x.ndim == 1 else 1)


def vsplit(input, indices_or_sections):
    x = _t("vsplit", input)
    if x.ndim < 2:
        raise RuntimeError(f"torch.vsplit requires a tensor with at least 2 dimension, but got a tensor with "
                           f"{x.ndim} dimensions!")
    return tensor_split(x, indices_or_sections, 0)


def block_diag(*tensors):
    ts = [t.reshape(1, -1) if t.ndim < 2 else t for t in tensors]
    if not ts:
        return zeros(1, 0)
    cols = sum(t.shape[1] for t in ts)
    dtype = ts[0].dtype
    for t in ts[1:]:
        if t.dtype._rank > dtype._rank:
            dtype = t.dtype
    row_blocks, c0 = [], 0
    for t in ts:
        left = zeros(t.shape[0], c0, dtype=dtype)
        right = zeros(t.shape[0], cols - c0 - t.shape[1], dtype=dtype)
        row_blocks.append(shp.cat([left, t.to(dtype), right], 1))
        c0 += t.shape[1]
    return shp.cat(row_blocks, 0)


def rot90(input, k=1, dims=(0, 1)):
    x = _t("rot90", input)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    d0, d1 = (normalize_dim(d, x.ndim, "rot90") for d in dims)
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {d0} and dim1 = {d1}")
    k = int(k) % 4
    if k == 1:
        return x.flip(d1).transpose(d0, d1)
    if k == 2:
        return x.flip(d0).flip(d1)
    if k == 3:
        return x.flip(d0).transpose(d0, d1)
    return x.clone()


def cartesian_prod(*tensors):
    ts = [_t("cartesian_prod", t, "tensors") for t in tensors]
    if len(ts) == 1:
        return ts[0]
    grids = meshgrid(*ts, indexing="ij")
    return shp.stack([g.reshape(-1) for g in grids], 1)


FUNCTIONS = ["log2", "log10", "exp2", "sinh", "cosh", "trunc", "fix", "frac", "sgn", "logaddexp", "hypot", "xlogy",
             "logit", "sinc", "heaviside", "rad2deg", "deg2rad", "diff", "kron", "cross", "tensordot", "inner",
             "nansum", "nanmean", "cov", "corrcoef", "bincount", "logcumsumexp", "atleast_1d", "atleast_2d",
             "atleast_3d", "hstack", "vstack", "row_stack", "dstack", "column_stack", "hsplit", "vsplit",
             "block_diag", "rot90", "cartesian_prod"]
# The ones that are also Tensor methods in PyTorch (x.log2(), x.diff(), ...).
METHODS = ["log2", "log10", "exp2", "sinh", "cosh", "trunc", "fix", "frac", "sgn", "logaddexp", "hypot", "xlogy",
           "logit", "sinc", "heaviside", "rad2deg", "deg2rad", "diff", "kron", "cross", "inner", "nansum", "nanmean",
           "cov", "corrcoef", "bincount", "logcumsumexp", "hsplit", "vsplit", "rot90"]
