"""Index family (index_select/index_add_, the uint8 gather, F.embedding/nn.Embedding, one_hot) against NumPy (take, add.at, gathers), gradcheck and PyTorch."""
import numpy as np
import pytest

import deepcore
import deepcore.nn as nn
import deepcore.nn.functional as F
from deepcore import _C
from deepcore.autograd import gradcheck
from helpers import MNIST_MEAN as MEAN, MNIST_STD as STD, assert_close, check_op, lib, raises


# ---- index_select / index_add_ ---------------------------------------------------------------

@pytest.mark.parametrize("shape,dim,index", [
    ((5,), 0, [4, 0, 0, 2]),
    ((4, 3), 0, [3, 1, 1, 0, 3]),
    ((4, 3), 1, [2, 0]),
    ((2, 3, 4), 1, [2, 2, 0]),
    ((2, 3, 4), -1, [3, 0, 1, 3, 3]),
    ((3, 4), 0, []),
], ids=lambda v: str(v).replace(" ", ""))
def test_index_select_matches_numpy_gradcheck_and_torch(shape, dim, index, rng):
    idx = np.array(index, dtype=np.int64)
    check_op(f"index_select{shape}dim{dim}", lambda x, i: x.index_select(dim, i),
             lambda x, i: np.take(x, i, axis=dim), arrays=[rng.uniform(-2, 2, shape), idx], rng=rng)


def test_index_select_strided_input_and_0d_index(rng):
    check_op("index_select_transposed", lambda x, i: x.t().index_select(0, i),
             lambda x, i: np.take(x.T, i, axis=0), arrays=[rng.uniform(-2, 2, (3, 5)), np.array([4, 1, 4])],
             rng=rng)
    x = deepcore.tensor(rng.uniform(size=(4, 3)))
    strided_index = deepcore.tensor([3, 9, 0, 9, 1])[::2]  # a view with stride 2: [3, 0, 1]
    assert_close(x.index_select(0, strided_index).numpy(), x.numpy()[[3, 0, 1]], 0, 0, "strided index")
    out = deepcore.index_select(x, 0, deepcore.tensor(2))
    assert tuple(out.shape) == (1, 3)
    assert_close(out.numpy(), x.numpy()[[2]], 0, 0, "0-d index")


def test_index_select_int64_and_list_index():
    x = deepcore.arange(12).reshape(3, 4)
    out = deepcore.index_select(x, 1, [3, 3, 0])
    assert out.dtype is deepcore.int64
    assert out.tolist() == np.arange(12).reshape(3, 4)[:, [3, 3, 0]].tolist()


@pytest.mark.parametrize("index,error,message", [
    ([0, 5], ValueError, "index 5 (at position 1 of the indices) is out of range for dimension 0 with size 5"),
    ([-1], ValueError, "index -1"),
])
def test_index_select_out_of_range(index, error, message):
    with pytest.raises(error) as e:
        deepcore.index_select(deepcore.zeros(5, 2), 0, deepcore.tensor(index))
    assert message in str(e.value)


def test_index_select_bad_arguments():
    x = deepcore.zeros(3, 2)
    with pytest.raises(TypeError, match="index must be an int64 tensor"):
        x.index_select(0, deepcore.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="0-d or 1-d"):
        x.index_select(0, deepcore.tensor([[0, 1]]))
    with pytest.raises(IndexError, match="dim 2 is out of range"):
        x.index_select(2, [0])
    with pytest.raises(ValueError, match="0-d tensor"):
        _C.index_select(deepcore.tensor(1.0)._data, 0, deepcore.tensor([0])._data)


def test_index_select_gradient_accumulates_repeats(torch):
    x = deepcore.ones(4, 2, requires_grad=True)
    w = deepcore.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    (x.index_select(0, [1, 1, 3]) * w).sum().backward()
    tx = torch.ones(4, 2, requires_grad=True)
    (tx.index_select(0, torch.tensor([1, 1, 3])) * torch.tensor(w.numpy())).sum().backward()
    assert x.grad.tolist() == tx.grad.tolist() == [[0, 0], [4, 6], [0, 0], [5, 6]]


@pytest.mark.parametrize("shape,dim", [((6, 5), 0), ((3, 7, 4), 1), ((300, 2), 0)])
def test_index_add_matches_numpy_add_at(shape, dim, rng):
    n = 50
    index = rng.integers(0, shape[dim], size=n)  # many repeats
    src_shape = list(shape)
    src_shape[dim] = n
    dst = rng.uniform(size=shape)
    src = rng.uniform(size=src_shape)
    expected = dst.copy()
    np.add.at(expected, (slice(None),) * dim + (index,), src)
    for dt in (deepcore.float64, deepcore.float32):
        out = deepcore.tensor(dst, dtype=dt)
        out.index_add_(dim, deepcore.tensor(index), deepcore.tensor(src, dtype=dt))
        tol = 1e-12 if dt is deepcore.float64 else 1e-5
        assert_close(out.numpy(), expected, tol, tol, f"index_add_ {shape} dim {dim} {dt.name}")


def test_index_add_checks_shapes_and_bounds():
    dst = deepcore.zeros(3, 2)
    with pytest.raises(ValueError, match=r"source has shape \(2, 3\).*needs \(2, 2\)"):
        dst.index_add_(0, [0, 1], deepcore.ones(2, 3))
    with pytest.raises(ValueError, match="index 3"):
        dst.index_add_(0, [3], deepcore.ones(1, 2))


def test_index_select_u8_kernel_matches_numpy(rng):
    images = rng.integers(0, 256, size=(20, 5, 3), dtype=np.uint8)
    index = deepcore.tensor([19, 0, 7, 7])
    out = _C.index_select_u8(images, index._data, _C.DType.float32, 1 / 255 / STD, -MEAN / STD)
    ref = (images[[19, 0, 7, 7]].astype(np.float64) / 255 - MEAN) / STD
    assert_close(_C.to_numpy(out), ref, 1e-5, 1e-6, "index_select_u8 float32")
    out = _C.index_select_u8(images, index._data, _C.DType.int64, 1.0, 0.0)
    assert (_C.to_numpy(out) == images[[19, 0, 7, 7]]).all()
    with pytest.raises(ValueError, match="index 20"):
        _C.index_select_u8(images, deepcore.tensor([20])._data, _C.DType.float32, 1.0, 0.0)
    with pytest.raises(TypeError):
        _C.index_select_u8(images.astype(np.float32), index._data, _C.DType.float32, 1.0, 0.0)


# ---- Embedding -------------------------------------------------------------------------------

def test_embedding_matches_numpy_gather_and_accumulates_repeats(rng):
    table = rng.standard_normal((7, 5))
    idx = rng.integers(0, 7, size=(2, 3, 4))  # 24 draws from 7 rows: repeats are certain
    w = deepcore.tensor(table, requires_grad=True)
    out = F.embedding(deepcore.tensor(idx), w)
    assert out.dtype is deepcore.float64 and tuple(out.shape) == (2, 3, 4, 5)
    np.testing.assert_array_equal(out.detach().numpy(), table[idx])
    g = rng.standard_normal((2, 3, 4, 5))
    (out * deepcore.tensor(g)).sum().backward()
    expected = np.zeros_like(table)
    np.add.at(expected, idx.ravel(), g.reshape(-1, 5))
    assert_close(w.grad.numpy(), expected, 1e-12, 1e-12, "embedding gradient")
    # 0-d and empty indices
    assert tuple(F.embedding(deepcore.tensor(3), w).shape) == (5,)
    np.testing.assert_array_equal(F.embedding(deepcore.tensor(3), w).detach().numpy(), table[3])
    assert tuple(F.embedding(deepcore.tensor(np.zeros((2, 0), dtype=np.int64)), w).shape) == (2, 0, 5)


def test_embedding_gradcheck(rng):
    w = deepcore.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    idx = deepcore.tensor([[0, 2, 2], [3, 0, 2]])
    assert gradcheck(lambda w: F.embedding(idx, w), [w])


def test_embedding_padding_idx_gets_no_gradient(rng):
    table = rng.standard_normal((6, 3))
    idx = np.array([[1, 4, 4], [0, 4, 1]])
    for pad in (4, -2):
        w = deepcore.tensor(table, requires_grad=True)
        out = F.embedding(deepcore.tensor(idx), w, padding_idx=pad)
        np.testing.assert_array_equal(out.detach().numpy(), table[idx])  # the row's value is still returned
        out.sum().backward()
        expected = np.zeros_like(table)
        np.add.at(expected, idx.ravel(), 1.0)
        expected[4] = 0.0
        np.testing.assert_array_equal(w.grad.numpy(), expected)


def test_embedding_module(rng, torch):
    e = nn.Embedding(2000, 8, padding_idx=3)
    w = e.weight.detach().numpy()
    assert abs(w.mean()) < 0.02 and abs(w.std() - 1) < 0.02  # N(0, 1)
    assert not w[3].any()
    assert e.weight.requires_grad
    t = torch.nn.Embedding(2000, 8, padding_idx=3)
    with torch.no_grad():
        t.weight.copy_(torch.from_numpy(w))
    idx = rng.integers(0, 2000, size=(4, 6))
    idx[0, :3] = 3
    idx[1, 2] = idx[2, 5] = 17
    out, tout = e(deepcore.tensor(idx)), t(torch.from_numpy(idx))
    assert_close(out.detach().numpy(), tout.detach().numpy(), 0, 0, "Embedding vs torch")
    g = rng.standard_normal(tuple(tout.shape)).astype(np.float32)
    (out * deepcore.tensor(g)).sum().backward()
    (tout * torch.from_numpy(g)).sum().backward()
    assert_close(e.weight.grad.numpy(), t.weight.grad.numpy(), 1e-6, 1e-6, "Embedding gradient vs torch")
    pre = nn.Embedding.from_pretrained(deepcore.tensor(w[:10]))
    assert not pre.weight.requires_grad and pre.num_embeddings == 10
    np.testing.assert_array_equal(pre(deepcore.tensor([9])).numpy(), w[9:10])


def test_embedding_errors():
    w = deepcore.randn(7, 3)
    with pytest.raises(IndexError, match=r"index 7 is out of range for a table of 7 embeddings"):
        F.embedding(deepcore.tensor([[1, 7], [0, 2]]), w)
    with pytest.raises(IndexError, match=r"index -1 is out of range for a table of 7"):
        nn.Embedding(7, 3)(deepcore.tensor([-1, 2]))
    with pytest.raises(TypeError, match=r"expected int64 indices, got a float32"):
        F.embedding(deepcore.tensor([1.0, 2.0]), w)
    with pytest.raises(TypeError, match="int64 indices"):
        F.embedding(deepcore.tensor([True]), w)
    with pytest.raises(ValueError, match="max_norm=1.0 is not supported"):
        nn.Embedding(7, 3, max_norm=1.0)
    with pytest.raises(ValueError, match="max_norm=1.0 is not supported"):
        F.embedding(deepcore.tensor([1]), w, max_norm=1.0)
    with pytest.raises(ValueError, match="padding_idx=7 must be an int within num_embeddings"):
        nn.Embedding(7, 3, padding_idx=7)
    with pytest.raises(ValueError, match="weight must be 2-D"):
        F.embedding(deepcore.tensor([1]), deepcore.randn(7))


# ---- one_hot ---------------------------------------------------------------------------------

def test_one_hot(rng):
    labels = rng.integers(0, 5, (3, 4))
    out = F.one_hot(deepcore.tensor(labels), 6)
    assert out.dtype is deepcore.int64 and out.shape == (3, 4, 6)
    np.testing.assert_array_equal(out.numpy(), np.eye(6, dtype=np.int64)[labels])
    assert F.one_hot(deepcore.tensor([2, 0])).shape == (2, 3)  # num_classes from the largest index
    with pytest.raises(ValueError, match="out of range"):
        F.one_hot(deepcore.tensor([-1, 0]), 3)
    with pytest.raises(TypeError, match="int64"):
        F.one_hot(deepcore.tensor([1.0]), 3)


# ---- gather / scatter / scatter_add, index_fill, masked_select, nonzero, take_along_dim ---------

def _np_scatter(x, dim, index, src, add):
    out = x.copy()
    for pos in np.ndindex(*index.shape):
        target = list(pos)
        target[dim] = index[pos]
        if add:
            out[tuple(target)] += src[pos]
        else:
            out[tuple(target)] = src[pos]
    return out


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_gather_matches_take_along_axis(dim, rng):
    a = rng.standard_normal((4, 5))
    index = rng.integers(0, a.shape[dim], size=(3, 4))  # smaller than the input outside dim, with repeats
    check_op(f"gather(dim={dim})", lambda x, i: lib(x).gather(x, dim, i), lambda x, i: _np_gather(x, dim, i),
             arrays=[a, index])


def _np_gather(x, dim, index):
    out = np.empty(index.shape)
    for pos in np.ndindex(*index.shape):
        src = list(pos)
        src[dim] = index[pos]
        out[pos] = x[tuple(src)]
    return out


def test_gather_strided_3d_and_0d(rng):
    a = rng.standard_normal((3, 4, 5))
    index = rng.integers(0, 4, size=(3, 2, 5))
    check_op("gather 3d", lambda x, i: x.transpose(0, 2).gather(1, i.transpose(0, 2)),
             lambda x, i: _np_gather(x.transpose(2, 1, 0), 1, i.transpose(2, 1, 0)), arrays=[a, index])
    x = deepcore.tensor(3.0)
    assert deepcore.gather(x, 0, deepcore.tensor(0)).item() == 3.0
    assert deepcore.tensor([[1, 2], [3, 4]]).gather(1, deepcore.tensor([[1], [0]])).tolist() == [[2], [3]]


@pytest.mark.parametrize("add", [False, True])
@pytest.mark.parametrize("dim", [0, 1])
def test_scatter_and_scatter_add(dim, add, rng):
    x = rng.standard_normal((4, 5))
    src = rng.standard_normal((3, 4))  # index's shape (torch's backward requires it)
    if add:
        index = rng.integers(0, x.shape[dim], size=(3, 4))  # repeats accumulate
    else:  # distinct targets per line: which write wins on a repeat is unspecified in PyTorch
        index = np.stack([rng.permutation(x.shape[dim])[:4] for _ in range(3)]) if dim == 1 else \
            np.stack([rng.permutation(4)[:3] for _ in range(4)], axis=1)
    name = "scatter_add" if add else "scatter"
    check_op(f"{name}(dim={dim})", lambda a, i, s: getattr(lib(a), name)(a, dim, i, s),
             lambda a, i, s: _np_scatter(a, dim, i, s, add), arrays=[x, index, src])


@pytest.mark.filterwarnings("ignore:The reduce argument of torch.scatter")
def test_scatter_value_reduce_and_in_place(rng, torch):
    x = deepcore.zeros(3, 4)
    index = deepcore.tensor([[0, 1], [2, 3], [1, 1]])
    out = x.scatter(1, index, 2.5)
    np.testing.assert_array_equal(out.numpy(), torch.zeros(3, 4).scatter(1, torch.tensor(index.numpy()), 2.5).numpy())
    y = deepcore.ones(3, 4)
    assert y.scatter_(1, index, deepcore.full((3, 2), 2.0), reduce="add") is y
    np.testing.assert_array_equal(y.numpy(), torch.ones(3, 4).scatter_(1, torch.tensor(index.numpy()),
                                                                       torch.full((3, 2), 2.0), reduce="add").numpy())
    z = deepcore.zeros(3, 4).scatter_add_(0, deepcore.tensor([[0, 0, 0, 0]]), deepcore.ones(1, 4))
    assert z.sum().item() == 4.0
    # The in-place forms record: the gradient reaches src and the non-overwritten part of self.
    w = deepcore.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    s = deepcore.tensor(rng.standard_normal((3, 2)), requires_grad=True)
    t = w * 1.0
    t.scatter_(1, index, s)
    t.sum().backward()
    tw = torch.tensor(w.detach().numpy(), requires_grad=True)
    ts = torch.tensor(s.detach().numpy(), requires_grad=True)
    tt = tw * 1.0
    tt.scatter_(1, torch.tensor(index.numpy()), ts)
    tt.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy())
    np.testing.assert_allclose(s.grad.numpy(), ts.grad.numpy())


def test_gather_scatter_errors():
    x = deepcore.zeros(2, 3)
    with raises(RuntimeError, "gather", "out of bounds", "size 3"):
        x.gather(1, deepcore.tensor([[3]]))
    with raises(RuntimeError, "gather", "int64"):
        x.gather(1, deepcore.tensor([[0.0]]))
    with raises(RuntimeError, "gather", "same number of dimensions"):
        x.gather(1, deepcore.tensor([0]))
    with raises(RuntimeError, "scatter", "dtype"):
        x.scatter(1, deepcore.tensor([[0]]), deepcore.tensor([[1]]))
    with raises(NotImplementedError, "scatter_", "multiply"):
        x.scatter_(1, deepcore.tensor([[0]]), 1.0, reduce="multiply")
    with raises(RuntimeError, "scatter_", "leaf Variable"):
        deepcore.zeros(2, 3, requires_grad=True).scatter_(1, deepcore.tensor([[0]]), 1.0)
    with raises(RuntimeError, "scatter_", "single memory location"):
        deepcore.zeros(3).expand(2, 3).scatter_(1, deepcore.tensor([[0]]), 1.0)
    with raises(NotImplementedError, "gather", "sparse_grad"):
        deepcore.gather(x, 1, deepcore.tensor([[0]]), sparse_grad=True)


def test_index_fill(rng, torch):
    a = rng.standard_normal((3, 4))
    check_op("index_fill", lambda x: x.index_fill(1, deepcore.tensor([0, 2]) if isinstance(x, deepcore.Tensor)
                                                  else torch.tensor([0, 2]), -1.5),
             lambda x: np.where(np.isin(np.arange(4), [0, 2])[None, :], -1.5, x), arrays=[a])
    x = deepcore.ones(2, 3)
    assert x.index_fill_(0, deepcore.tensor([-1]), 0.0) is x and x.tolist() == [[1, 1, 1], [0, 0, 0]]
    with raises(IndexError, "index_fill", "index 3"):
        x.index_fill(1, deepcore.tensor([3]), 0.0)


def test_masked_select_nonzero_where_take(rng, torch):
    a = rng.standard_normal((3, 4))
    mask = a > 0.2
    check_op("masked_select", lambda x, m: lib(x).masked_select(x, m), lambda x, m: x[m], arrays=[a, mask])
    check_op("masked_select broadcast", lambda x, m: lib(x).masked_select(x, m),
             lambda x, m: np.broadcast_to(x, (3, 4))[np.broadcast_to(m, (3, 4))], arrays=[a[0], mask])
    t = deepcore.tensor([[0, 1, 0], [2, 0, 3]])
    assert deepcore.nonzero(t).tolist() == torch.nonzero(torch.tensor(t.numpy())).tolist()
    for ours, theirs in zip(t.nonzero(as_tuple=True), torch.tensor(t.numpy()).nonzero(as_tuple=True)):
        assert ours.tolist() == theirs.tolist()
    for ours, theirs in zip(deepcore.where(t > 0), torch.where(torch.tensor(t.numpy()) > 0)):
        assert ours.tolist() == theirs.tolist()
    assert deepcore.nonzero(deepcore.zeros(2, 2)).shape == (0, 2)
    assert deepcore.count_nonzero(t).item() == 3 and t.count_nonzero(0).tolist() == [1, 1, 1]
    idx = rng.integers(0, 4, size=(3, 2))
    check_op("take_along_dim", lambda x, i: lib(x).take_along_dim(x, i, 1),
             lambda x, i: np.take_along_axis(x, i, 1), arrays=[a, idx])
    check_op("take_along_dim broadcast", lambda x, i: lib(x).take_along_dim(x, i, 1),
             lambda x, i: np.take_along_axis(x, np.broadcast_to(i, (3, 2)), 1), arrays=[a, idx[:1]])
    check_op("take", lambda x, i: lib(x).take(x, i), lambda x, i: x.reshape(-1)[i],
             arrays=[a, rng.integers(0, 12, size=(2, 2))])
