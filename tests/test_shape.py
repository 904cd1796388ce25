"""Shape family (reshape/view/permute/transpose/squeeze/flatten/expand, __getitem__/__setitem__, cat/stack, split/chunk/unbind) against NumPy float64, gradcheck and PyTorch."""
import numpy as np
import pytest

import deepcore
from helpers import assert_close, check_op, lib, named, raises, torch as _torch


# ---- views -----------------------------------------------------------------------------------

SHAPE_OPS = [
    ("reshape", lambda a: a.reshape(6, 4), lambda a: a.reshape(6, 4), (2, 3, 4)),
    ("reshape tuple -1", lambda a: a.reshape((-1, 2)), lambda a: a.reshape(-1, 2), (2, 3, 4)),
    ("reshape to 0-d", lambda a: a.reshape(()), lambda a: a.reshape(()), (1, 1)),
    ("reshape from 0-d", lambda a: a.reshape(1, 1, 1), lambda a: a.reshape(1, 1, 1), ()),
    ("view", lambda a: a.view(4, 6), lambda a: a.reshape(4, 6), (2, 3, 4)),
    ("reshape of transposed", lambda a: a.T.reshape(-1), lambda a: a.T.reshape(-1), (3, 5)),
    ("transpose", lambda a: a.transpose(0, 2), lambda a: a.transpose(2, 1, 0), (2, 3, 4)),
    ("transpose neg", lambda a: a.transpose(-1, -2), lambda a: np.swapaxes(a, -1, -2), (2, 3, 4)),
    (".T", lambda a: a.T, lambda a: a.T, (3, 5)),
    (".T 3-d", lambda a: a.T, lambda a: a.transpose(2, 1, 0), (2, 3, 4)),
    (".t()", lambda a: a.t(), lambda a: a.T, (3, 5)),
    ("permute", lambda a: a.permute(1, 2, 0), lambda a: a.transpose(1, 2, 0), (2, 3, 4)),
    ("permute neg tuple", lambda a: a.permute((-1, 0, 1)), lambda a: a.transpose(2, 0, 1), (2, 3, 4)),
    ("flatten", lambda a: a.flatten(), lambda a: a.reshape(-1), (2, 3, 4)),
    ("flatten 1", lambda a: a.flatten(1), lambda a: a.reshape(2, -1), (2, 3, 4)),
    ("flatten 0,1", lambda a: a.flatten(0, 1), lambda a: a.reshape(6, 4), (2, 3, 4)),
    ("squeeze", lambda a: a.squeeze(), lambda a: a.squeeze(), (1, 3, 1, 4)),
    ("squeeze dim", lambda a: a.squeeze(2), lambda a: a.squeeze(2), (1, 3, 1, 4)),
    ("squeeze non-1 dim", lambda a: a.squeeze(1), lambda a: a, (1, 3, 1, 4)),
    ("unsqueeze 0", lambda a: a.unsqueeze(0), lambda a: a[None], (3, 4)),
    ("unsqueeze -1", lambda a: a.unsqueeze(-1), lambda a: a[..., None], (3, 4)),
    ("unsqueeze 1", lambda a: a.unsqueeze(1), lambda a: a[:, None], (3, 4)),
    ("expand", lambda a: a.expand(2, 3, 4), lambda a: np.broadcast_to(a, (2, 3, 4)), (3, 1)),
    ("expand -1", lambda a: a.expand(5, -1), lambda a: np.broadcast_to(a, (5, 4)), (1, 4)),
    ("deepcore.reshape", lambda a: lib(a).reshape(a, (4, 3)), lambda a: a.reshape(4, 3), (3, 4)),
    ("deepcore.flatten", lambda a: lib(a).flatten(a), lambda a: a.reshape(-1), (3, 4)),
    ("deepcore.squeeze", lambda a: lib(a).squeeze(a, 0), lambda a: a[0], (1, 4)),
    ("deepcore.unsqueeze", lambda a: lib(a).unsqueeze(a, 1), lambda a: a[:, None], (4,)),
    ("deepcore.transpose", lambda a: lib(a).transpose(a, 0, 1), lambda a: a.T, (3, 4)),
    ("deepcore.permute", lambda a: lib(a).permute(a, (1, 0)), lambda a: a.T, (3, 4)),
    ("reshape empty", lambda a: a.reshape(3, 0), lambda a: a.reshape(3, 0), (0, 3)),
    ("transpose empty", lambda a: a.T, lambda a: a.T, (0, 3)),
    ("view then op", lambda a: a.T.reshape(4, 3) * 2 + a.reshape(4, 3), lambda a: a.T.reshape(4, 3) * 2 +
     a.reshape(4, 3), (3, 4)),
]


@pytest.mark.filterwarnings("ignore:The use of `x.T` on tensors of dimension other than 2")  # torch, on .T 3-d
@pytest.mark.parametrize("name,fn,ref,shape", named(SHAPE_OPS))
def test_shape_ops(name, fn, ref, shape, rng):
    check_op(name, fn, ref, [shape], rng=rng)


def test_views_share_memory():
    x = deepcore.zeros(2, 3)
    for view in (x.reshape(6), x.T, x.permute(1, 0), x[1], x[:, 1:], x.unsqueeze(0), x.view(3, 2)):
        assert view._data.shares_storage(x._data)
    v = x.reshape(6)
    with deepcore.no_grad():
        v += 1
    assert x.tolist() == [[1.0] * 3] * 2


# ---- indexing and slicing --------------------------------------------------------------------

INDICES = [
    1, -1, (1, 2), (0, -1, 3), slice(1, 3), slice(None, None, 2), (slice(0, 3, 2), 1),
    (slice(None), slice(1, 4, 2)), (None, 1), (Ellipsis, 2), (1, Ellipsis, None), (slice(None), None, slice(1, 4, 2)),
    slice(5, 10), (slice(-2, None), slice(None, -1)), (0, 0, 0), Ellipsis, (Ellipsis, None), (2, slice(1, 1)),
    (slice(None, None, 3), slice(None, None, 3), slice(None, None, 3)), (slice(1, 2), 2, slice(0, 5, 4)),
]


@pytest.mark.parametrize("index", INDICES, ids=str)
def test_getitem(index, rng):
    check_op(f"x[{index}]", lambda a: a[index], lambda a: a[index], [(3, 4, 5)], rng=rng)


def test_getitem_chained_and_1d(rng):
    check_op("x[1:][::2][0]", lambda a: a[1:][::2][0], lambda a: a[1:][::2][0], [(5, 3)], rng=rng)
    check_op("x[2:7:3]", lambda a: a[2:7:3], lambda a: a[2:7:3], [(9,)], rng=rng)
    check_op("x[None, ...]", lambda a: a[None, ...], lambda a: a[None, ...], [()], rng=rng)


def test_getitem_overlapping_uses_accumulate(rng):
    # The same element read twice: the gradients add up.
    check_op("x[1] + x[1:3].sum(0)", lambda a: a[1] + a[1:3].sum(0), lambda a: a[1] + a[1:3].sum(0), [(4, 3)],
             rng=rng)


@pytest.mark.parametrize("index", [slice(None, None, -1), (slice(None), slice(3, 0, -1)), slice(None, None, 0)],
                         ids=str)
def test_negative_or_zero_step_is_rejected(index):
    x = deepcore.arange(24.0).reshape(4, 6)
    with pytest.raises(ValueError, match="step"):
        x[index]


def test_setitem(rng):
    a = rng.standard_normal((3, 4)).astype(np.float32)
    x = deepcore.tensor(a)
    x[1] = 5.0
    x[:, ::2] = deepcore.tensor([[-1.0, -2.0]])
    a[1] = 5.0
    a[:, ::2] = [[-1.0, -2.0]]
    assert_close(x.numpy(), a, 0, 0, "setitem")


# ---- cat and stack ---------------------------------------------------------------------------

@pytest.mark.parametrize("dim,shapes", [
    (0, [(2, 3), (4, 3)]), (1, [(2, 3), (2, 1), (2, 4)]), (-1, [(2, 3, 1), (2, 3, 2)]), (1, [(2, 3, 4), (2, 1, 4)]),
    (0, [(1,), (3,)]), (0, [(0, 3), (2, 3)]), (-2, [(1, 2, 2), (1, 3, 2)]), (0, [(3, 2)]),
], ids=str)
def test_cat(dim, shapes, rng):
    check_op(f"cat(dim={dim})", lambda *xs: lib(xs[0]).cat(list(xs), dim), lambda *xs: np.concatenate(xs, dim),
             shapes, rng=rng)


@pytest.mark.parametrize("dim", [0, 1, 2, -1, -3])
def test_stack(dim, rng):
    check_op(f"stack(dim={dim})", lambda *xs: lib(xs[0]).stack(xs, dim), lambda *xs: np.stack(xs, dim),
             [(2, 3), (2, 3), (2, 3)], rng=rng)


def test_stack_and_cat_of_scalars_and_views(rng):
    check_op("stack of 0-d", lambda a, b: lib(a).stack([a, b]), lambda a, b: np.stack([a, b]), [(), ()], rng=rng)
    check_op("cat of transposed", lambda a, b: lib(a).cat([a.T, b], 0), lambda a, b: np.concatenate([a.T, b]),
             [(3, 2), (4, 3)], rng=rng)
    check_op("cat of same tensor", lambda a: lib(a).cat([a, a * 2], 1), lambda a: np.concatenate([a, a * 2], 1),
             [(2, 3)], rng=rng)


def test_cat_promotes_dtypes():
    out = deepcore.cat([deepcore.ones(2, dtype=deepcore.float32), deepcore.ones(2, dtype=deepcore.float64)])
    assert out.dtype is deepcore.float64
    assert out.tolist() == [1.0] * 4


# ---- split, chunk, unbind --------------------------------------------------------------------

@pytest.mark.parametrize("sections,dim,shape", [(2, 1, (3, 7)), ([1, 4, 2], 1, (3, 7)), (3, 0, (3, 4)),
                                                ([0, 2], -1, (2, 2)), (5, 0, (4, 2))], ids=str)
def test_split(sections, dim, shape, rng):
    """Every piece is used (weighted differently by the helper's random sum) and the gradient of x
    is their gradients joined; unused pieces are covered below."""
    cuts = (np.cumsum(sections)[:-1] if isinstance(sections, list)
            else np.arange(sections, shape[dim], sections))
    check_op(f"split({sections}, {dim})", lambda a: a.split(sections, dim),
             lambda a: tuple(np.split(a, cuts, axis=dim)), [shape], rng=rng)


@pytest.mark.parametrize("chunks,dim", [(3, 1), (2, 0), (7, 1), (1, -1)])
def test_chunk(chunks, dim, rng):
    axis_len = (4, 5)[dim]
    size = -(-axis_len // chunks)  # torch.chunk: pieces of ceil(len / chunks)
    check_op(f"chunk({chunks}, {dim})", lambda a: lib(a).chunk(a, chunks, dim),
             lambda a: tuple(np.split(a, np.arange(size, axis_len, size), axis=dim)), [(4, 5)], rng=rng)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_unbind(dim, rng):
    check_op(f"unbind({dim})", lambda a: lib(a).unbind(a, dim), lambda a: tuple(np.moveaxis(a, dim, 0)),
             [(3, 4, 2)], rng=rng)


def test_split_pieces_are_views_and_unused_pieces_get_zero_gradients():
    x = deepcore.arange(12, dtype=deepcore.float64).reshape(3, 4).requires_grad_()
    a, b = x.split(2, 1)
    assert a.shape == (3, 2) and a.tolist() == [[0, 1], [4, 5], [8, 9]]
    (b * 3).sum().backward()
    assert x.grad.tolist() == [[0, 0, 3, 3]] * 3
    with pytest.raises(ValueError, match="add up to 4"):
        x.split([1, 2], 1)
    with pytest.raises(ValueError, match="positive"):
        deepcore.chunk(x, 0)
    assert deepcore.unbind(deepcore.zeros(0, 3)) == ()


# ---- errors ----------------------------------------------------------------------------------

def test_cat_stack_mismatch():
    with raises(ValueError, "cat", "(2, 3)", "(3, 4)"):
        deepcore.cat([deepcore.ones(2, 3), deepcore.ones(3, 4)], 0)
    with raises(ValueError, "cat", "(2, 3)", "(2, 3, 1)"):
        deepcore.cat([deepcore.ones(2, 3), deepcore.ones(2, 3, 1)], 1)
    with raises(IndexError, "cat", "dim 2"):
        deepcore.cat([deepcore.ones(2, 3), deepcore.ones(2, 3)], 2)
    with raises(ValueError, "cat", "non-empty"):
        deepcore.cat([])
    with raises(ValueError, "stack", "(2, 3)", "(3, 2)"):
        deepcore.stack([deepcore.ones(2, 3), deepcore.ones(3, 2)])


@pytest.mark.parametrize("shape,fragments", [
    ((4, 2), ["reshape", "(4, 2)", "size 6"]),
    ((-1, 4), ["reshape", "(-1, 4)", "size 6"]),
    ((-1, -1), ["reshape", "only one dimension can be -1"]),
    ((7,), ["reshape", "(7,)", "6"]),
], ids=str)
def test_reshape_mismatch(shape, fragments):
    with raises(ValueError, *fragments):
        deepcore.ones(2, 3).reshape(shape)
    with raises(ValueError, *["view" if f == "reshape" else f for f in fragments]):
        deepcore.ones(2, 3).view(*shape)


@pytest.mark.parametrize("index,fragments", [
    (3, ["index 3", "dimension 0", "size 3"]),
    (-4, ["index -4", "size 3"]),
    ((0, 4), ["index 4", "dimension 1", "size 4"]),
    ((0, 0, 0), ["too many indices", "dimension 2"]),
    ((Ellipsis, Ellipsis), ["single ellipsis"]),
    (1.5, ["float", "not supported"]),
], ids=str)
def test_index_errors(index, fragments):
    x = deepcore.zeros(3, 4)
    with raises(IndexError, *fragments):
        x[index]


def test_setitem_out_of_range_and_dim_errors():
    x = deepcore.zeros(3, 4)
    with raises(IndexError, "index 5", "size 3"):
        x[5] = 1.0
    with raises(IndexError, "size", "dim 2"):
        x.size(2)
    with raises(ValueError, "copy_", "(2,)", "(4,)"):
        x[0] = deepcore.ones(2)


VIEW_CASES = [  # (base shape, how to slice or permute it, the view's shape)
    ((4, 6), lambda a: a[:, :4], (4, 2, 2)),          # split a dim of a strided (sliced) matrix
    ((2, 3, 4), lambda a: a[:, 1:], (2, 8)),          # merge the two inner dims, still one stride apart
    ((2, 3, 4), lambda a: a.permute(1, 0, 2), (3, 2, 2, 2)),
    ((3, 1, 4), lambda a: a[:, :, ::2], (3, 2, 1)),   # size-1 dims take any stride
    ((5,), lambda a: a[::2], (3, 1)),
    ((2, 3), lambda a: a[:0], (0, 7)),
    ((), lambda a: a, (1, 1)),
]


@pytest.mark.parametrize("base, pick, shape", VIEW_CASES, ids=str)
def test_view_of_a_strided_tensor_is_a_view_like_pytorchs(base, pick, shape):
    """view on a non-contiguous tensor reads the same memory (a write shows in the base), where PyTorch
    allows it; it used to return a silent copy."""
    n = int(np.prod(base)) if base else 1
    x = deepcore.arange(n, dtype=deepcore.float64).reshape(base)
    expected = pick(x).contiguous().numpy().reshape(shape)
    v = pick(x).view(*shape)
    np.testing.assert_array_equal(v.numpy(), expected)
    if v.numel():
        with deepcore.no_grad():
            v.fill_(-1.0)
        assert (pick(x).numpy() == -1.0).all(), "a write through the view did not reach the base"
    if _torch is not None:
        t = pick(_torch.arange(n, dtype=_torch.float64).reshape(base)).view(*shape)
        assert tuple(t.stride()) == tuple(v.stride()) or t.numel() == 0


@pytest.mark.parametrize("base, pick, shape", [((3, 4), lambda a: a.T, (12,)),
                                               ((2, 3, 4), lambda a: a.permute(0, 2, 1), (2, 12)),
                                               ((4, 6), lambda a: a[:, :4], (16,))], ids=str)
def test_view_that_no_stride_can_read_raises_as_pytorch(base, pick, shape):
    x = pick(deepcore.zeros(*base))
    with raises(RuntimeError, "view", "reshape"):
        x.view(*shape)
    assert x.reshape(*shape).shape == shape  # reshape copies instead
    if _torch is not None:
        with pytest.raises(RuntimeError):
            pick(_torch.zeros(*base)).view(*shape)


def test_view_gradient_flows_back_to_the_strided_input():
    x = deepcore.arange(24, dtype=deepcore.float64).reshape(4, 6).requires_grad_()
    x[:, :4].view(4, 2, 2).sum().backward()
    expected = np.zeros((4, 6))
    expected[:, :4] = 1.0
    np.testing.assert_array_equal(x.grad.numpy(), expected)


# ---- narrow, movedim, swapaxes, unflatten, reshape_as, the in-place views ------------------------

def test_narrow_movedim_swapaxes_unflatten(rng):
    check_op("narrow", lambda x: lib(x).narrow(x, 1, 1, 2), lambda x: x[:, 1:3], [(3, 4, 2)], rng=rng)
    check_op("narrow negative start", lambda x: x.narrow(-1, -2, 2), lambda x: x[..., -2:], [(3, 4)], rng=rng)
    check_op("movedim", lambda x: lib(x).movedim(x, 0, -1), lambda x: np.moveaxis(x, 0, -1), [(2, 3, 4)], rng=rng)
    check_op("movedim pairs", lambda x: x.movedim((0, 1), (2, 0)), lambda x: np.moveaxis(x, (0, 1), (2, 0)),
             [(2, 3, 4)], rng=rng)
    check_op("moveaxis", lambda x: x.moveaxis(1, 0), lambda x: np.moveaxis(x, 1, 0), [(2, 3, 4)], rng=rng)
    check_op("swapaxes", lambda x: lib(x).swapaxes(x, 0, 2), lambda x: np.swapaxes(x, 0, 2), [(2, 3, 4)], rng=rng)
    check_op("swapdims", lambda x: x.swapdims(1, 2), lambda x: np.swapaxes(x, 1, 2), [(2, 3, 4)], rng=rng)
    check_op("unflatten", lambda x: x.unflatten(1, (2, -1)), lambda x: x.reshape(3, 2, 3), [(3, 6)], rng=rng)
    check_op("reshape_as", lambda x, y: x.reshape_as(y), lambda x, y: x.reshape(y.shape),
             arrays=[rng.standard_normal((2, 6)), np.zeros((4, 3), dtype=np.int64)])
    x = deepcore.arange(6)
    v = x.narrow(0, 2, 3)
    v.fill_(0)
    assert x.tolist() == [0, 1, 0, 0, 0, 5]  # a view
    assert x.narrow(0, deepcore.tensor(4), 2).tolist() == [0, 5]


def test_in_place_view_ops(rng):
    x = deepcore.zeros(1, 3, 1)
    assert x.squeeze_() is x and x.shape == (3,)
    assert x.unsqueeze_(0).shape == (1, 3)
    m = deepcore.tensor([[1.0, 2.0, 3.0]])
    assert m.t_() is m and m.shape == (3, 1) and m.tolist() == [[1.0], [2.0], [3.0]]
    assert m.transpose_(0, 1).shape == (1, 3)
    leaf = deepcore.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    y = leaf * 2.0
    y.t_()
    assert y.shape == (3, 2)
    (y * deepcore.tensor(rng.standard_normal((3, 2)))).sum().backward()
    assert leaf.grad.shape == (2, 3)
    with raises(RuntimeError, "t_", "leaf Variable"):
        leaf.t_()


def test_narrow_movedim_errors():
    x = deepcore.ones(3, 4)
    with raises(RuntimeError, "narrow", "exceeds dimension size"):
        x.narrow(1, 3, 2)
    with raises(IndexError, "narrow", "start out of range"):
        x.narrow(0, 5, 1)
    with raises(RuntimeError, "movedim", "same number of dims"):
        x.movedim((0, 1), 0)
    with raises(RuntimeError, "unflatten", "non-empty"):
        x.unflatten(0, ())
    with raises(ValueError, "unflatten", "invalid"):
        x.unflatten(1, (3, 2))
