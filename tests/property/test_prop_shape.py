"""Properties of shape ops (views, joins, splits), indexing (index_select, gather, take, advanced
indices, masks, where) and matmul, on inputs in every layout; values against NumPy and torch, and
gradients of a composition of views against torch."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import deepcore
from prop_strategies import (ALL_DTYPES, FLOAT_DTYPES, broadcast_partner, examples, expect_error, expect_same,
                             expect_value, operands, shapes, to_numpy, torch, torch_raises)

_CHOICE = st.integers(0, 2 ** 16 - 1)


def _target_shape(rng, shape):
    """A shape of the same element count: the sizes shuffled, some neighbours merged, maybe one -1."""
    sizes = list(shape) or [1]
    rng.shuffle(sizes)
    out = []
    for s in sizes:
        if out and rng.random() < 0.4:
            out[-1] *= s
        else:
            out.append(s)
    if rng.random() < 0.3:
        out.insert(int(rng.integers(0, len(out) + 1)), 1)
    if rng.random() < 0.4:
        out[int(rng.integers(0, len(out)))] = -1
    return tuple(int(s) for s in out)


# name -> (args from (rng, shape)) ; the call is the same method on deepcore, torch and (mostly) NumPy
def _view_args(name, rng, shape):
    nd = len(shape)
    if name in ("reshape", "view"):
        return (_target_shape(rng, shape),)
    if name == "permute":
        return (tuple(int(i) for i in rng.permutation(nd)),)
    if name == "transpose":
        n = max(nd, 1)
        return int(rng.integers(-n, n)), int(rng.integers(-n, n))
    if name == "squeeze":
        return (int(rng.integers(-max(nd, 1), max(nd, 1))),)
    if name == "unsqueeze":
        return (int(rng.integers(-nd - 1, nd + 1)),)
    if name == "flatten":
        n = max(nd, 1)
        a, b = sorted(int(i) for i in rng.integers(0, n, 2))
        return a, b
    if name == "flip":
        return (tuple(int(i) for i in rng.choice(max(nd, 1), int(rng.integers(1, max(nd, 1) + 1)), replace=False)),)
    if name == "roll":   # a 0-d tensor rolls without dims only (test_prop_errors: with dims it is refused)
        shift = int(rng.integers(-7, 8))
        return (shift, int(rng.integers(0, nd))) if nd else (shift,)
    if name == "narrow":
        d = int(rng.integers(0, nd))
        start = int(rng.integers(0, shape[d] + 1))
        return d, start, int(rng.integers(0, shape[d] - start + 1))
    if name == "movedim":
        return int(rng.integers(0, nd)), int(rng.integers(0, nd))
    if name == "repeat":
        return tuple(int(r) for r in rng.integers(0, 3, max(nd + int(rng.integers(0, 2)), 1)))
    if name in ("tril", "triu"):
        return (int(rng.integers(-3, 4)),)
    if name == "diagonal":
        d1, d2 = (int(i) for i in rng.choice(nd, 2, replace=False))
        return int(rng.integers(-3, 4)), d1, d2
    return ()


def _numpy_view(name, v, args):
    if name in ("reshape", "view"):
        return v.reshape(args[0])
    if name == "permute":
        return v.transpose(args[0])
    if name == "transpose":
        return np.swapaxes(v, *args) if v.ndim else v
    if name == "squeeze":
        return np.squeeze(v, args[0]) if v.ndim and v.shape[args[0]] == 1 else v
    if name == "unsqueeze":
        return np.expand_dims(v, args[0])
    if name == "flatten":
        if not v.ndim:
            return v.reshape(1)
        a, b = args
        return v.reshape(v.shape[:a] + (-1 if np.prod(v.shape[a:b + 1]) else 0,) + v.shape[b + 1:]) \
            if v.size else v.reshape(v.shape[:a] + (int(np.prod(v.shape[a:b + 1])),) + v.shape[b + 1:])
    if name == "flip":
        return np.flip(v, args[0]) if v.ndim else v
    if name == "roll":
        return np.roll(v, args[0], args[1]) if v.ndim else v
    if name == "narrow":
        d, start, length = args
        return np.take(v, np.arange(start, start + length), axis=d)
    if name == "movedim":
        return np.moveaxis(v, *args)
    if name == "repeat":
        reps = args
        return np.tile(v.reshape((1,) * (len(reps) - v.ndim) + v.shape), reps)
    if name == "tril":
        return np.tril(v, args[0])
    if name == "triu":
        return np.triu(v, args[0])
    if name == "diagonal":
        return np.diagonal(v, *args)
    if name == "contiguous":
        return v
    if name == "t":
        return v.T
    raise KeyError(name)


_MIN_DIMS = {"narrow": 1, "movedim": 1, "tril": 2, "triu": 2, "diagonal": 2}
_MAX_DIMS = {"t": 2}
VIEWS = ("reshape", "view", "permute", "transpose", "squeeze", "unsqueeze", "flatten", "flip", "roll", "narrow",
         "movedim", "repeat", "tril", "triu", "diagonal", "contiguous", "t")


@pytest.mark.parametrize("name", ["tril", "triu"])
def test_tril_triu_keep_bool(name):
    assert getattr(deepcore.ones(2, 2, dtype=deepcore.bool), name)().dtype is deepcore.bool


@settings(max_examples=examples(700))
@given(st.sampled_from(VIEWS), st.sampled_from(ALL_DTYPES), _CHOICE, st.data())
def test_shape_ops(name, dtype, choice, data):
    shape = data.draw(shapes(min_dims=_MIN_DIMS.get(name, 0), max_dims=_MAX_DIMS.get(name, 4)), "shape")
    x = data.draw(operands(shape, dtype), "x")
    args = _view_args(name, np.random.default_rng(choice), shape)
    what = f"{name}{args} of {x}"
    if torch is not None and torch_raises(lambda: getattr(x.th(), name)(*args)):
        # view of a non-viewable layout, reshape to an impossible -1 ...: deepcore must refuse it too
        expect_error(lambda: getattr(x.dc(), name)(*args), (name, "view", "shape", "reshape"), what)
        return
    try:
        expected = _numpy_view(name, x.value, args)
    except ValueError:  # an impossible reshape (-1 of an empty tensor): refused
        expect_error(lambda: getattr(x.dc(), name)(*args), (name, "shape", "reshape"), what)
        return
    if name == "view" and torch is None:
        try:
            out = x.dc().view(*args)
        except RuntimeError as e:   # without torch: a refusal must name view and the strides
            assert "view" in str(e), what
            return
    else:
        out = getattr(x.dc(), name)(*args)
    expect_value(out, expected, dtype, what)
    if torch is not None:
        theirs = getattr(x.th(), name)(*args)
        expect_same(out, theirs, what)
        if name in ("reshape", "view", "permute", "transpose", "squeeze", "unsqueeze", "flatten", "narrow",
                    "movedim", "diagonal", "t") and x.layout != "expanded":
            # views are views: the same strides as torch's (deepcore promises PyTorch's stride rule)
            # (torch's view shares its input's storage; the strides of size-1 dims are immaterial)
            if theirs.numel() > 1 and theirs.untyped_storage().data_ptr() == x.th().untyped_storage().data_ptr():
                ours_s = [st for st, n in zip(out.stride(), out.shape) if n != 1]
                theirs_s = [st for st, n in zip(theirs.stride(), theirs.shape) if n != 1]
                assert ours_s == theirs_s, f"{what}: strides {tuple(out.stride())}, torch {tuple(theirs.stride())}"


# ---- joins and splits ---------------------------------------------------------------------------

@settings(max_examples=examples(300))
@given(st.sampled_from(("cat", "stack")), st.sampled_from(FLOAT_DTYPES + ("int64",)), st.integers(1, 3), st.data())
def test_cat_and_stack(name, dtype, count, data):
    shape = data.draw(shapes(min_dims=1, max_dims=3, max_numel=400), "shape")
    dim = data.draw(st.integers(-len(shape) - (name == "stack"), len(shape) - 1 + (name == "stack")), "dim")
    parts = []
    for i in range(count):
        s = list(shape)
        if name == "cat":
            s[dim] = data.draw(st.sampled_from((0, 1, 2, 5)), f"size {i}")
        parts.append(data.draw(operands(tuple(s), dtype), f"part {i}"))
    what = f"{name}(dim={dim}) of {parts}"
    out = getattr(deepcore, name)([p.dc() for p in parts], dim)
    expected = (np.concatenate if name == "cat" else np.stack)([p.value for p in parts], axis=dim)
    expect_value(out, expected, dtype, what)
    if torch is not None:
        expect_same(out, getattr(torch, name)([p.th() for p in parts], dim), what)


@settings(max_examples=examples(250))
@given(st.sampled_from(("split", "chunk", "unbind", "tensor_split")), st.sampled_from(FLOAT_DTYPES), _CHOICE,
       st.data())
def test_splits(name, dtype, choice, data):
    shape = data.draw(shapes(min_dims=1, max_numel=400), "shape")
    x = data.draw(operands(shape, dtype), "x")
    rng = np.random.default_rng(choice)
    dim = int(rng.integers(-len(shape), len(shape)))
    n = shape[dim]
    if name == "unbind":
        args = (dim,)
        expected = [np.take(x.value, i, axis=dim) for i in range(n)]
    elif name == "split":
        size = int(rng.integers(1, n + 2))
        args = (size, dim)
        expected = [np.take(x.value, np.arange(i, min(i + size, n)), axis=dim) for i in range(0, n, size)] or \
            [x.value]
    elif name == "chunk":
        chunks = int(rng.integers(1, 6))
        args = (chunks, dim)
        size = -(-n // chunks) if n else 0
        expected = ([np.take(x.value, np.arange(i, min(i + size, n)), axis=dim) for i in range(0, n, size)]
                    if size else [x.value] * chunks)   # an empty dim: `chunks` empty pieces (torch)
    else:
        sections = int(rng.integers(1, 6))
        args = (sections, dim)
        expected = np.array_split(x.value, sections, axis=dim)
    what = f"{name}{args} of {x}"
    outs = getattr(x.dc(), name)(*args)
    if torch is not None:
        theirs = getattr(x.th(), name)(*args)
        assert len(outs) == len(theirs), f"{what}: {len(outs)} pieces, torch {len(theirs)}"
        for o, t in zip(outs, theirs):
            expect_same(o, t, what)
    assert len(outs) == len(expected), f"{what}: {len(outs)} pieces, expected {len(expected)}"
    for o, e in zip(outs, expected):
        expect_value(o, e, dtype, what)


# ---- indexing -------------------------------------------------------------------------------------

INDEXING = ("index_select", "gather", "take", "getitem_tensor", "getitem_mask", "getitem_slices", "masked_fill",
            "where", "take_along_dim")


def _index_case(name, rng, x):
    shape, v = x.shape, x.value
    nd = len(shape)
    if name == "index_select":
        d = int(rng.integers(0, nd))
        idx = rng.integers(0, shape[d], int(rng.integers(0, 6))) if shape[d] else np.zeros(0, np.int64)
        return (d, idx), lambda lib, t: t.index_select(d, _as(lib, idx)), np.take(v, idx, axis=d)
    if name in ("gather", "take_along_dim"):
        d = int(rng.integers(0, nd))
        ishape = list(shape)
        ishape[d] = int(rng.integers(0, 4)) if shape[d] else 0
        idx = rng.integers(0, max(shape[d], 1), ishape)
        if name == "gather":
            return (d, idx.shape), lambda lib, t: t.gather(d, _as(lib, idx)), np.take_along_axis(v, idx, d)
        return (d, idx.shape), lambda lib, t: lib.take_along_dim(t, _as(lib, idx), d), np.take_along_axis(v, idx, d)
    if name == "take":
        idx = rng.integers(-v.size, v.size, (int(rng.integers(0, 4)), int(rng.integers(0, 4)))) if v.size else \
            np.zeros((0,), np.int64)
        return (idx.shape,), lambda lib, t: t.take(_as(lib, idx)), np.take(v.reshape(-1), idx)
    if name == "getitem_tensor":
        d0 = shape[0]
        idx = rng.integers(-d0, d0, int(rng.integers(0, 5))) if d0 else np.zeros(0, np.int64)
        return (idx.tolist(),), lambda lib, t: t[_as(lib, idx)], v[idx]
    if name == "getitem_mask":
        mask = rng.random(shape[:int(rng.integers(1, nd + 1))]) < 0.5
        return (mask.shape,), lambda lib, t: t[_as(lib, mask)], v[mask]
    if name == "getitem_slices":
        key = tuple(slice(int(rng.integers(-s - 1, s + 2)), int(rng.integers(-s - 1, s + 2)), int(rng.integers(1, 4)))
                    for s in shape[:int(rng.integers(1, nd + 1))])
        return (key,), lambda lib, t: t[key], v[key]
    if name == "masked_fill":
        mask = rng.random(shape[int(rng.integers(0, nd + 1)):]) < 0.5
        fill = float(rng.choice((0.0, -1.5, np.inf, np.nan))) if x.dtype != "int64" else int(rng.integers(-9, 9))
        return (mask.shape, fill), lambda lib, t: t.masked_fill(_as(lib, mask), fill), np.where(mask, fill, v)
    mask = rng.random(shape) < 0.5
    other = rng.uniform(-1, 1, shape[int(rng.integers(0, nd + 1)):])
    return ((mask.shape, other.shape), lambda lib, t: lib.where(_as(lib, mask), t, _as(lib, other, t.dtype)),
            np.where(mask, v, other))


def _as(lib, a, dtype=None):
    t = lib.tensor(a)
    return t.to(dtype) if dtype is not None else t


@settings(max_examples=examples(500))
@given(st.sampled_from(INDEXING), st.sampled_from(FLOAT_DTYPES + ("int64",)), _CHOICE, st.data())
def test_indexing(name, dtype, choice, data):
    shape = data.draw(shapes(min_dims=1, max_numel=400), "shape")
    x = data.draw(operands(shape, dtype), "x")
    if name == "where" and dtype == "int64":
        dtype = "float64"   # where(int, float) promotes; the case is about the selection, so keep floats
        x = data.draw(operands(shape, dtype), "x (float64)")
    args, call, expected = _index_case(name, np.random.default_rng(choice), x)
    what = f"{name}{args} of {x}"
    if torch is not None and torch_raises(lambda: call(torch, x.th())):
        expect_error(lambda: call(deepcore, x.dc()), (name.split("_")[0], "index", "mask"), what)
        return
    out = call(deepcore, x.dc())
    out_dtype = dtype if name != "where" else "float64" if dtype == "float64" else dtype
    expect_value(out, expected, out_dtype, what)
    if torch is not None:
        expect_same(out, call(torch, x.th()), what)


# ---- matmul ----------------------------------------------------------------------------------------

@st.composite
def matmul_shapes(draw):
    """Shapes a @ b accepts: 1-d and 2-d operands, batched with broadcast batch dims, empty k/m/n."""
    m, k, n = (draw(st.sampled_from((0, 1, 2, 3, 5, 7, 13, 17))) for _ in range(3))
    a_kind, b_kind = draw(st.sampled_from(("vec", "mat", "batch"))), draw(st.sampled_from(("vec", "mat", "batch")))
    batch = draw(shapes(min_dims=1, max_dims=2, allow_empty=True, max_numel=6, sizes=(0, 1, 2, 3)))
    a = (k,) if a_kind == "vec" else (m, k) if a_kind == "mat" else batch + (m, k)
    b_batch = broadcast_partner(draw, batch) if b_kind == "batch" else ()
    b = (k,) if b_kind == "vec" else (k, n) if b_kind == "mat" else b_batch + (k, n)
    return a, b


@settings(max_examples=examples(350))
@given(matmul_shapes(), st.sampled_from(FLOAT_DTYPES), st.booleans(), st.data())
def test_matmul(ab, dtype, specials, data):
    sa, sb = ab
    a = data.draw(operands(sa, dtype, -2.0, 2.0, specials=specials), "a")
    b = data.draw(operands(sb, dtype, -2.0, 2.0, specials=specials), "b")
    what = f"matmul({a}, {b})"
    with np.errstate(all="ignore"):
        expected = np.matmul(a.value, b.value)
        bound = np.matmul(np.abs(np.nan_to_num(a.value, posinf=0, neginf=0)),
                          np.abs(np.nan_to_num(b.value, posinf=0, neginf=0)))
    eps = 1e-6 if dtype == "float32" else 1e-14
    atol = float(np.max(bound, initial=0.0)) * eps * 8 + 1e-6
    out = a.dc() @ b.dc()
    expect_value(out, expected, dtype, what, atol=atol)
    if torch is not None:
        expect_same(out, a.th() @ b.th(), what, atol=atol)


@settings(max_examples=examples(200))
@given(matmul_shapes(), st.sampled_from(FLOAT_DTYPES), st.data())
def test_matmul_gradients(ab, dtype, data):
    sa, sb = ab
    a = data.draw(operands(sa, dtype, -2.0, 2.0, specials=False), "a")
    b = data.draw(operands(sb, dtype, -2.0, 2.0, specials=False), "b")
    (la, va), (lb, vb) = a.deepcore(True), b.deepcore(True)
    out = va @ vb
    w = np.random.default_rng(1).uniform(-1, 1, tuple(out.shape))
    out.backward(deepcore.tensor(w, dtype=getattr(deepcore, dtype)))
    if torch is None:
        assert tuple(la.grad.shape) == a.base.shape and tuple(lb.grad.shape) == b.base.shape
        return
    (ta, tva), (tb, tvb) = a.torch(True), b.torch(True)
    (tva @ tvb).backward(torch.tensor(w, dtype=getattr(torch, dtype)))
    tol = dict(atol=1e-4, rtol=1e-4) if dtype == "float32" else {}
    expect_same(la.grad, ta.grad, f"d matmul/da of ({a}, {b})", **tol)
    expect_same(lb.grad, tb.grad, f"d matmul/db of ({a}, {b})", **tol)


# ---- gradients through chains of views --------------------------------------------------------------

@settings(max_examples=examples(200))
@given(st.lists(st.sampled_from(("permute", "transpose", "flip", "narrow", "unsqueeze", "reshape", "roll",
                                 "repeat", "diagonal")), min_size=1, max_size=3),
       st.sampled_from(FLOAT_DTYPES), _CHOICE, st.data())
def test_gradients_through_view_chains(chain, dtype, choice, data):
    shape = data.draw(shapes(min_dims=2, max_numel=300), "shape")
    x = data.draw(operands(shape, dtype, specials=False), "x")
    rng = np.random.default_rng(choice)
    leaf, y = x.deepcore(True)
    steps = []
    for name in chain:
        if y.ndim < _MIN_DIMS.get(name, 0):
            continue
        args = _view_args(name, rng, tuple(y.shape))
        if name == "reshape" and y.numel() == 0 and -1 in args[0]:
            continue   # -1 of an empty tensor is ambiguous (refused; test_shape_ops covers it)
        steps.append((name, args))
        y = getattr(y, name)(*args)
    w = np.random.default_rng(2).uniform(-1, 1, tuple(y.shape))
    y.backward(deepcore.tensor(w, dtype=getattr(deepcore, dtype)))
    if torch is None:
        assert tuple(leaf.grad.shape) == x.base.shape
        return
    tleaf, ty = x.torch(True)
    for name, args in steps:
        ty = getattr(ty, name)(*args)
    ty.backward(torch.tensor(w, dtype=getattr(torch, dtype)))
    expect_same(leaf.grad, tleaf.grad, f"gradient through {steps} of {x}")


def test_reshape_target_keeps_the_element_count():
    """Sanity of the strategy: every drawn target shape holds the same elements (or one -1 for them)."""
    rng = np.random.default_rng(0)
    for shape in ((2, 3, 5), (7,), (1, 1), (13, 2)):
        target = _target_shape(rng, shape)
        assert to_numpy(deepcore.zeros(*shape).reshape(target)).size == int(np.prod(shape))


@settings(max_examples=examples(60))
@given(st.sampled_from(("unsqueeze", "squeeze", "flatten", "reshape")), st.sampled_from((2, 3, 7)), st.integers(1, 5))
def test_writes_through_reshaped_strided_views_reach_the_base(name, step, n):
    """unsqueeze/squeeze/flatten of a strided slice are views in PyTorch: an in-place op on them must
    change the base (they were copies: the write was silently lost)."""
    base, tbase = deepcore.zeros(n * step, 1), (torch.zeros(n * step, 1) if torch is not None else None)

    def apply(t):
        v = t[::step]   # (n, 1), strides (step, 1)
        v = {"unsqueeze": lambda: v.unsqueeze(0), "squeeze": lambda: v.squeeze(1), "flatten": lambda: v.flatten(),
             "reshape": lambda: v.reshape(1, n)}[name]()
        v.add_(1.0)
    apply(base)
    expected = np.zeros((n * step, 1))
    expected[::step] = 1.0
    expect_value(base, expected, "float32", f"{name} of base[::{step}] then add_(1)")
    if tbase is not None:
        apply(tbase)
        expect_same(base, tbase, f"{name} of base[::{step}] then add_(1)")
