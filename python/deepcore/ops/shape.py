"""Shape ops: views (reshape, permute, expand, indexing) and copies (cat, stack)."""
import numbers

from .. import _C
from ..autograd import Function, is_grad_enabled
from ..tensor import Tensor
from .._dims import contiguous_strides, expand_array, normalize_dim
from .reduce import sum_to


def _infer_shape(shape, numel, op):
    shape = list(shape)
    unknown = [i for i, s in enumerate(shape) if s == -1]
    if len(unknown) > 1:
        raise ValueError(f"{op}: only one dimension can be -1, got shape {tuple(shape)}")
    for s in shape:
        if not isinstance(s, numbers.Integral) or s < -1:
            raise ValueError(f"{op}: invalid dimension {s!r} in shape {tuple(shape)}")
    known = 1
    for s in shape:
        if s != -1:
            known *= s
    if unknown:
        if known == 0 or numel % known:
            raise ValueError(f"{op}: shape {tuple(shape)} is invalid for input of size {numel}")
        shape[unknown[0]] = numel // known
    elif known != numel:
        raise ValueError(f"{op}: shape {tuple(shape)} is invalid for input of size {numel}")
    return tuple(int(s) for s in shape)


def _reshape_array(nd, shape):
    """A view wherever one can read `shape` from nd's layout (view's rule: a strided slice unsqueezed,
    flattened within a contiguous run), else a contiguous copy viewed as `shape`, as PyTorch's reshape.
    (unsqueeze, squeeze and flatten are reshapes: they must stay views, so writes through them land.)"""
    if not nd.is_contiguous():
        strides = _view_strides(tuple(nd.shape), tuple(nd.strides), tuple(shape))
        if strides is not None:
            return _C.view(nd, list(shape), list(strides), nd.offset)
        nd = Tensor._backend_of_array(nd).contiguous(nd)
    return _C.view(nd, list(shape), list(contiguous_strides(shape)), nd.offset)


class Reshape(Function):
    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = tuple(x.shape)
        return Tensor._make(_reshape_array(x._data, shape))

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.in_shape), None


def reshape(x, *shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    shape = _infer_shape(shape, x.numel(), "reshape")
    if shape == tuple(x.shape):
        return x if not x.requires_grad else Reshape.apply(x, shape)
    return Reshape.apply(x, shape)


def _view_strides(shape, strides, new_shape):
    """Strides that read `new_shape` from memory laid out as (shape, strides), or None when no view
    can (a merged run of dims that is not one stride apart). PyTorch's rule: dims that are
    contiguous with each other form chunks, and a view may split or merge only within a chunk."""
    if not shape:
        shape, strides = (1,), (1,)
    if 0 in shape:
        return contiguous_strides(new_shape)
    out = [0] * len(new_shape)
    view_d = len(new_shape) - 1
    chunk_stride = strides[-1]
    chunk_numel = view_numel = 1
    for d in range(len(shape) - 1, -1, -1):
        chunk_numel *= shape[d]
        if d == 0 or (shape[d - 1] != 1 and strides[d - 1] != chunk_numel * chunk_stride):
            while view_d >= 0 and (view_numel < chunk_numel or new_shape[view_d] == 1):
                out[view_d] = view_numel * chunk_stride
                view_numel *= new_shape[view_d]
                view_d -= 1
            if view_numel != chunk_numel:
                return None
            if d > 0:
                chunk_stride, chunk_numel, view_numel = strides[d - 1], 1, 1
    return out if view_d == -1 else None


class View(Function):
    @staticmethod
    def forward(ctx, x, shape, strides):
        ctx.in_shape = tuple(x.shape)
        return Tensor._make(_C.view(x._data, list(shape), list(strides), x._data.offset))

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.in_shape), None, None


def view(x, *shape):
    """The same memory read as `shape`: always a view (writes go through), never a copy. A layout no
    view can read (e.g. a transposed matrix flattened) raises, as in PyTorch; reshape copies then."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    if len(shape) == 1 and not isinstance(shape[0], numbers.Integral):
        raise TypeError(f"view: expected a shape of ints, got {shape[0]!r} (reinterpreting the bytes as another "
                        f"dtype is not supported; convert with .to(dtype))")
    shape = _infer_shape(shape, x.numel(), "view")
    nd = x._data
    strides = _view_strides(tuple(nd.shape), tuple(nd.strides), shape)
    if strides is None:
        raise RuntimeError(f"view: shape {shape} is not compatible with the input's size {tuple(x.shape)} and "
                           f"strides {tuple(nd.strides)} (at least one dimension spans across two contiguous "
                           f"subspaces); use .reshape(...) instead")
    return View.apply(x, shape, tuple(strides))


class Permute(Function):
    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        nd = x._data
        shape, strides = nd.shape, nd.strides  # each read builds a new tuple in C++
        return Tensor._make(_C.view(nd, [shape[d] for d in dims], [strides[d] for d in dims], nd.offset))

    @staticmethod
    def backward(ctx, g):
        inverse = [0] * len(ctx.dims)
        for i, d in enumerate(ctx.dims):
            inverse[d] = i
        return g.permute(*inverse), None


def permute(x, *dims):
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = dims[0]
    dims = tuple(normalize_dim(d, x.ndim, "permute") for d in dims)
    if sorted(dims) != list(range(x.ndim)):
        raise ValueError(f"permute: dims {dims} are not a permutation of the {x.ndim} dimensions of "
                         f"a tensor of shape {tuple(x.shape)}")
    return Permute.apply(x, dims)


def transpose(x, dim0, dim1):
    d0, d1 = normalize_dim(dim0, x.ndim, "transpose"), normalize_dim(dim1, x.ndim, "transpose")
    if x.ndim == 0:  # dims 0 and -1 of a 0-d tensor name the tensor itself (PyTorch): nothing to swap
        return Permute.apply(x, ())
    dims = list(range(x.ndim))
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return Permute.apply(x, tuple(dims))


class Expand(Function):
    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = tuple(x.shape)
        return Tensor._make(expand_array(x._data, shape))

    @staticmethod
    def backward(ctx, g):
        return sum_to(g, ctx.in_shape), None


def expand(x, *shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    lead = len(shape) - x.ndim
    shape = tuple(x.shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(shape))
    return Expand.apply(x, shape)


def squeeze(x, dim=None):
    if dim is None:
        return reshape(x, tuple(s for s in x.shape if s != 1))
    d = normalize_dim(dim, x.ndim, "squeeze")
    if x.ndim == 0 or x.shape[d] != 1:
        return x
    return reshape(x, tuple(s for i, s in enumerate(x.shape) if i != d))


def unsqueeze(x, dim):
    d = normalize_dim(dim, x.ndim + 1, "unsqueeze")
    shape = list(x.shape)
    shape.insert(d, 1)
    return reshape(x, tuple(shape))


def flatten(x, start_dim=0, end_dim=-1):
    if x.ndim == 0:
        return reshape(x, (1,))
    s = normalize_dim(start_dim, x.ndim, "flatten")
    e = normalize_dim(end_dim, x.ndim, "flatten")
    if s > e:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    shape = tuple(x.shape)
    n = 1
    for v in shape[s:e + 1]:
        n *= v
    return reshape(x, shape[:s] + (n,) + shape[e + 1:])


# ---- basic indexing: ints, slices, None and Ellipsis give views ------------

def _index_view(shape, strides, offset, index):
    """(shape, strides, offset) of x[index] for a view with the given layout."""
    if not isinstance(index, tuple):
        index = (index,)
    for i in index:
        if isinstance(i, bool) or not (i is None or i is Ellipsis or isinstance(i, (numbers.Integral, slice))):
            raise IndexError(f"index {i!r} ({type(i).__name__}): only integers, slices, None and ... are supported "
                             f"(indexing with tensors, lists or masks is not supported yet)")
    if sum(i is Ellipsis for i in index) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    specified = sum(1 for i in index if i is not None and i is not Ellipsis)
    if specified > len(shape):
        raise IndexError(f"too many indices for tensor of dimension {len(shape)}")
    if Ellipsis in index:
        k = index.index(Ellipsis)
        index = index[:k] + (slice(None),) * (len(shape) - specified) + index[k + 1:]
    else:
        index = index + (slice(None),) * (len(shape) - specified)
    new_shape, new_strides, d = [], [], 0
    for i in index:
        if i is None:
            new_shape.append(1)
            new_strides.append(0)
            continue
        size, stride = shape[d], strides[d]
        if isinstance(i, slice):
            start, stop, step = i.indices(size)
            if step <= 0:
                raise ValueError("slice step must be greater than zero")
            length = max(0, (stop - start + step - 1) // step)
            if length:
                offset += start * stride
            new_shape.append(length)
            new_strides.append(stride * step)
        else:
            i = int(i)
            if not -size <= i < size:
                raise IndexError(f"index {i} is out of bounds for dimension {d} with size {size}")
            offset += (i % size) * stride
        d += 1
    return new_shape, new_strides, offset


class Index(Function):
    @staticmethod
    def forward(ctx, x, index):
        nd = x._data
        ctx.in_shape, ctx.index = tuple(x.shape), index
        shape, strides, offset = _index_view(nd.shape, nd.strides, nd.offset, index)
        return Tensor._make(_C.view(nd, shape, strides, offset))

    @staticmethod
    def backward(ctx, g):
        be = g._backend
        grad = be.full_on(list(ctx.in_shape), 0.0, g.dtype._c, g.device.index)
        shape, strides, offset = _index_view(ctx.in_shape, contiguous_strides(ctx.in_shape), 0, ctx.index)
        be.copy_(_C.view(grad, shape, strides, offset), g._data)
        return Tensor._make(grad), None


def getitem(x, index):
    return Index.apply(x, index)


def setitem(x, index, value):
    """x[index] = value: writes through a view (no autograd through the target)."""
    if x.requires_grad and is_grad_enabled():
        raise RuntimeError("setitem: cannot assign into a tensor that requires grad outside no_grad() "
                           f"(shape {tuple(x.shape)}); wrap the assignment in deepcore.no_grad()")
    nd = x._data
    shape, strides, offset = _index_view(nd.shape, nd.strides, nd.offset, index)
    target = _C.view(nd, shape, strides, offset)
    if isinstance(value, Tensor):
        if value.device != x.device:
            raise ValueError(f"setitem: value is on {value.device} but the tensor is on {x.device}")
        src = value._data
    else:
        src = x._backend.full_on([], float(value), x.dtype._c, x.device.index)
    x._backend.copy_(target, src)


# ---- joining -----------------------------------------------------------------

class Cat(Function):
    @staticmethod
    def forward(ctx, dim, *tensors):
        first = tensors[0]
        ctx.dim, ctx.sizes = dim, [t.shape[dim] for t in tensors]
        shape = list(first.shape)
        shape[dim] = sum(ctx.sizes)
        be = first._backend
        out = be.empty_on(shape, first.dtype._c, first.device.index)
        strides = contiguous_strides(shape)
        start = 0
        for t in tensors:
            part = list(shape)
            part[dim] = t.shape[dim]
            be.copy_(_C.view(out, part, list(strides), start * strides[dim]), t._data)
            start += t.shape[dim]
        return Tensor._make(out)

    @staticmethod
    def backward(ctx, g):
        grads, start = [None], 0
        for size in ctx.sizes:
            index = (slice(None),) * ctx.dim + (slice(start, start + size),)
            grads.append(g[index])
            start += size
        return tuple(grads)


def cat(tensors, dim=0, *, axis=None, out=None):
    """Joins tensors along `dim` (NumPy's name `axis` is accepted, as by torch). out= is refused."""
    if out is not None:
        raise NotImplementedError("cat: out= is not supported (use the returned tensor)")
    if axis is not None:
        if dim != 0 and dim != axis:
            raise TypeError(f"cat: got both dim={dim} and axis={axis}")
        dim = axis
    if isinstance(tensors, Tensor):
        raise TypeError("cat(): argument 'tensors' must be a tuple or list of Tensors, not Tensor")
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat: expected a non-empty list of tensors")
    for t in tensors:
        if not isinstance(t, Tensor):
            raise TypeError(f"cat: expected tensors, got {type(t).__name__}")
    first = tensors[0]
    d = normalize_dim(dim, first.ndim, "cat")
    dt = first.dtype
    for t in tensors[1:]:
        if t.ndim != first.ndim or any(a != b for i, (a, b) in enumerate(zip(t.shape, first.shape)) if i != d):
            raise ValueError(f"cat: sizes of tensors must match except in dimension {d}: got shapes "
                             f"{tuple(first.shape)} and {tuple(t.shape)}")
        if t.device != first.device:
            raise ValueError(f"cat: expected all tensors on the same device, got {first.device} and {t.device}")
        if t.dtype._rank > dt._rank:
            dt = t.dtype
    tensors = [t.to(dt) for t in tensors]
    return Cat.apply(d, *tensors)


def stack(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: expected a non-empty list of tensors")
    shape = tuple(tensors[0].shape)
    for t in tensors[1:]:
        if tuple(t.shape) != shape:
            raise ValueError(f"stack: expects each tensor to be equal size, but got {shape} and {tuple(t.shape)}")
    d = normalize_dim(dim, len(shape) + 1, "stack")
    return cat([unsqueeze(t, d) for t in tensors], d)


# ---- splitting ---------------------------------------------------------------

class Split(Function):
    """Views of consecutive pieces of x along dim (with `squeeze`, pieces of size 1 without that
    dim: unbind). One node for all pieces, whose backward joins their gradients in one copy:
    slicing the pieces one by one would give each a full-size zero gradient to add up (an RNN's
    per-step slices of its input projections cost O(steps^2) that way)."""

    @staticmethod
    def forward(ctx, x, dim, sizes, squeeze_dim):
        nd = x._data
        ctx.dim, ctx.squeeze = dim, squeeze_dim
        shape, strides = list(nd.shape), list(nd.strides)
        pieces, start = [], 0
        for size in sizes:
            offset = nd.offset + start * strides[dim]
            if squeeze_dim:
                piece = _C.view(nd, shape[:dim] + shape[dim + 1:], strides[:dim] + strides[dim + 1:], offset)
            else:
                piece = _C.view(nd, shape[:dim] + [size] + shape[dim + 1:], strides, offset)
            pieces.append(Tensor._make(piece))
            start += size
        return tuple(pieces)

    @staticmethod
    def backward(ctx, *grads):
        joined = stack(grads, ctx.dim) if ctx.squeeze else cat(grads, ctx.dim)
        return joined, None, None, None


def split(x, split_size_or_sections, dim=0):
    """torch.split: pieces of split_size_or_sections along dim (the last one smaller), or of the
    listed sizes (which must add up to the dim's size). Views."""
    d = normalize_dim(dim, x.ndim, "split")
    n = x.shape[d]
    if isinstance(split_size_or_sections, numbers.Integral):
        size = int(split_size_or_sections)
        if size <= 0 and n > 0:
            raise ValueError(f"split: split_size must be positive, got {size}")
        sizes = [min(size, n - s) for s in range(0, n, size)] if n else [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if any(s < 0 for s in sizes) or sum(sizes) != n:
            raise ValueError(f"split: sizes {sizes} must be non-negative and add up to {n}, the size of dimension "
                             f"{d}")
    return Split.apply(x, d, sizes, False)


def chunk(x, chunks, dim=0):
    """torch.chunk: at most `chunks` pieces of ceil(size / chunks) along dim."""
    if int(chunks) <= 0:
        raise ValueError(f"chunk: chunks must be positive, got {chunks}")
    d = normalize_dim(dim, x.ndim, "chunk")
    if x.shape[d] == 0:  # PyTorch: an empty dim gives `chunks` empty pieces
        return split(x, [0] * int(chunks), d)
    return split(x, max(1, -(-x.shape[d] // int(chunks))), d)


def unbind(x, dim=0):
    """torch.unbind: the slices along dim, without that dim (views)."""
    d = normalize_dim(dim, x.ndim, "unbind")
    if x.shape[d] == 0:
        return ()
    return Split.apply(x, d, [1] * x.shape[d], True)


# ---- more views: narrow, movedim, swapaxes, unflatten ----------------------------------------

def narrow(x, dim, start, length):
    """The view x[..., start:start + length, ...] along dim (start may be negative, or a 0-d tensor)."""
    d = normalize_dim(dim, x.ndim, "narrow")
    if x.ndim == 0:
        raise RuntimeError("narrow: cannot be applied to a 0-dim tensor")
    if isinstance(start, Tensor):
        if start.ndim or start.dtype.is_floating_point:
            raise RuntimeError("narrow: start must be an 0-dim integral Tensor")
        start = int(start.item())
    size = x.shape[d]
    if not -size <= start <= size:
        raise IndexError(f"narrow: start out of range (expected to be in range of [{-size}, {size}], but got "
                         f"{start})")
    start = start % size if start < 0 else start
    if length < 0 or start + length > size:
        raise RuntimeError(f"narrow: start ({start}) + length ({length}) exceeds dimension size ({size})")
    return getitem(x, (slice(None),) * d + (slice(start, start + length),))


def movedim(x, source, destination):
    """The view with the dims in `source` moved to the places in `destination` (ints or sequences)."""
    src = (source,) if isinstance(source, numbers.Integral) else tuple(source)
    dst = (destination,) if isinstance(destination, numbers.Integral) else tuple(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(src)} dims) should "
                           f"contain the same number of dims as destination ({list(dst)} dims)")
    src = tuple(normalize_dim(s, x.ndim, "movedim") for s in src)
    dst = tuple(normalize_dim(s, x.ndim, "movedim") for s in dst)
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise RuntimeError(f"movedim: repeated dim in source {list(src)} or destination {list(dst)}")
    order = [None] * x.ndim
    for s, t in zip(src, dst):
        order[t] = s
    rest = iter(d for d in range(x.ndim) if d not in src)
    order = [next(rest) if o is None else o for o in order]
    return permute(x, tuple(order))


def swapaxes(x, axis0, axis1):
    return transpose(x, axis0, axis1)


def unflatten(x, dim, sizes):
    """Dim `dim` split into `sizes` (one may be -1): a view."""
    d = normalize_dim(dim, x.ndim, "unflatten")
    sizes = tuple(sizes)
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    inner = _infer_shape(sizes, x.shape[d], "unflatten")
    return reshape(x, tuple(x.shape[:d]) + inner + tuple(x.shape[d + 1:]))
