"""Memory family (empty/full, copy_, casts, clone/contiguous, .to(dtype)/.to(device)) against NumPy (astype, broadcast copies), gradcheck and PyTorch."""
import numpy as np
import pytest

import deepcore
from deepcore import _C
from helpers import assert_close, check_op, named, raises, torch as _torch

f32 = _C.DType.float32
DTYPE_NAMES = ["float32", "float64", "int64", "bool"]


# ---- empty and full --------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPE_NAMES)
@pytest.mark.parametrize("shape", [(1,), (3,), (17,), (5, 13), (1000,)], ids=str)
def test_empty_and_full_are_aligned_and_filled(shape, dtype):
    dt = getattr(deepcore, dtype)
    e = deepcore.empty(*shape, dtype=dt)
    assert tuple(e.shape) == shape and e.dtype is dt and e.is_contiguous()
    assert e.data_ptr() % 64 == 0, "empty: buffers are 64-byte aligned"
    f = deepcore.full(shape, 3, dtype=dt)
    assert f.data_ptr() % 64 == 0
    assert_close(f.numpy(), np.full(shape, 3, dtype=dt.numpy), 0, 0, f"full {dtype}")


def test_c_empty_bad_sizes():
    with raises(ValueError, "negative dimension -1", "(-1, 3)"):
        _C.empty([-1, 3], f32)
    with raises(ValueError, "negative dimension"):
        _C.full([2, -5], 0.0, f32)
    with raises(ValueError, "negative dimension"):
        deepcore.zeros(2, -1)


@pytest.mark.parametrize("shape", [[2 ** 40, 2 ** 30], [2 ** 31, 2 ** 31, 4], [2 ** 61]], ids=str)
def test_c_huge_allocation(shape):
    with pytest.raises((ValueError, MemoryError)):
        _C.empty(shape, f32)


# ---- casts and .to(dtype) --------------------------------------------------------------------

def test_casts():
    x = deepcore.tensor([1.7, -2.5, 0.0])
    assert x.double().dtype is deepcore.float64
    assert x.long().tolist() == [1, -2, 0]  # truncation toward zero, as in C and PyTorch
    assert x.bool().tolist() == [True, True, False]
    assert x.to(deepcore.float64).dtype is deepcore.float64
    assert x.to("float64").dtype is deepcore.float64
    assert deepcore.tensor([1, 0]).float().tolist() == [1.0, 0.0]
    assert x.type_as(deepcore.zeros(1, dtype=deepcore.int64)).dtype is deepcore.int64
    assert x.to(deepcore.float32) is x  # no-op cast returns the same tensor


def test_cast_is_differentiable():
    x = deepcore.tensor([1.0, 2.0], requires_grad=True)
    (x.double() * 3).sum().backward()
    assert x.grad.dtype is deepcore.float32 and x.grad.tolist() == [3.0, 3.0]


@pytest.mark.parametrize("dst", DTYPE_NAMES)
@pytest.mark.parametrize("src", DTYPE_NAMES)
def test_to_dtype_matches_numpy_astype(src, dst, rng):
    # zeros included (-> False), fractions of both signs (truncated toward zero, as C and PyTorch do)
    a = (rng.uniform(-5, 5, (4, 5)) * rng.integers(0, 2, (4, 5))).astype(src)
    out = deepcore.tensor(a).to(getattr(deepcore, dst))
    assert out.dtype is getattr(deepcore, dst)
    assert_close(out.numpy(), a.astype(dst), 0, 0, f"{src} -> {dst}")
    if _torch is not None:
        expected = _torch.from_numpy(a).to(getattr(_torch, dst)).numpy()
        assert_close(out.numpy(), expected, 0, 0, f"{src} -> {dst} vs torch")


def test_cast_gradients_come_back_in_the_source_dtype(rng):
    w = rng.standard_normal((3, 4))
    x = deepcore.tensor(rng.standard_normal((3, 4)).astype(np.float32), requires_grad=True)
    (x.to(deepcore.float64) * deepcore.tensor(w)).sum().backward()
    assert x.grad.dtype is deepcore.float32
    assert_close(x.grad.numpy(), w.astype(np.float32), 0, 0, "gradient through float32 -> float64")
    assert not x.long().requires_grad  # an integer result carries no gradient


# ---- clone, contiguous, copy_ ----------------------------------------------------------------

CLONES = [
    ("clone", lambda a: a.clone(), lambda a: a.copy()),
    ("clone of a strided view", lambda a: a[:, ::2].clone(), lambda a: a[:, ::2]),
    ("contiguous of a transpose", lambda a: a.transpose(0, 1).contiguous(), lambda a: a.transpose(1, 0, 2)),
    ("contiguous of contiguous", lambda a: a.contiguous(), lambda a: a),
]


@pytest.mark.parametrize("name,fn,ref", named(CLONES))
def test_clone_and_contiguous_values_and_gradients(name, fn, ref, rng):
    check_op(name, fn, ref, [(3, 4, 2)], rng=rng)


def test_clone_and_contiguous_copy_only_when_needed():
    x = deepcore.arange(12.0).reshape(3, 4)
    c = x.clone()
    assert c is not x and not c._data.shares_storage(x._data) and c.is_contiguous()
    c += 1
    assert x.tolist() == np.arange(12.0).reshape(3, 4).tolist()  # the original is untouched
    assert x.contiguous() is x
    t = x.T.contiguous()
    assert t.is_contiguous() and t.stride() == (3, 1) and not t._data.shares_storage(x._data)
    assert t.tolist() == np.arange(12.0).reshape(3, 4).T.tolist()


@pytest.mark.parametrize("dtype", DTYPE_NAMES)
def test_copy_broadcasts_and_casts_like_numpy_and_torch(dtype, rng):
    src = rng.uniform(-3, 3, 4) * rng.integers(0, 2, 4)
    dst = deepcore.zeros(3, 4, dtype=getattr(deepcore, dtype))
    assert dst.copy_(deepcore.tensor(src)) is dst
    assert_close(dst.numpy(), np.broadcast_to(src, (3, 4)).astype(dtype), 0, 0, f"copy_ float64 (4,) -> {dtype} (3, 4)")
    if _torch is not None:
        t = _torch.zeros(3, 4, dtype=getattr(_torch, dtype)).copy_(_torch.from_numpy(src))
        assert_close(dst.numpy(), t.numpy(), 0, 0, f"copy_ -> {dtype} vs torch")


def test_copy_into_and_from_strided_views(rng):
    base = deepcore.zeros(3, 6, dtype=deepcore.float64)
    base[:, 1::2].copy_(deepcore.tensor([[1.5], [2.5], [3.5]]))
    expected = np.zeros((3, 6))
    expected[:, 1::2] = [[1.5], [2.5], [3.5]]
    assert_close(base.numpy(), expected, 0, 0, "copy_ into a strided view")
    a = rng.standard_normal((4, 3)).astype(np.float32)
    dst = deepcore.zeros(3, 4)
    dst.copy_(deepcore.tensor(a).T)
    assert_close(dst.numpy(), a.T, 0, 0, "copy_ from a transposed view")
    with raises(ValueError, "copy_", "(3, 4)", "(5,)"):
        deepcore.zeros(3, 4).copy_(deepcore.zeros(5))
    with raises(RuntimeError, "copy_", "leaf"):
        deepcore.ones(3, requires_grad=True).copy_(deepcore.zeros(3))


# ---- .to(device) -----------------------------------------------------------------------------

def test_to_cpu_is_a_no_op_and_copy_true_copies():
    x = deepcore.randn(2, 3)
    assert x.to("cpu") is x and x.cpu() is x and x.to(deepcore.device("cpu")) is x and x.to(x) is x
    y = x.to("cpu", deepcore.float64)
    assert y.dtype is deepcore.float64 and y.device == x.device == deepcore.device("cpu")
    c = x.to(copy=True)
    assert c is not x and not c._data.shares_storage(x._data) and c.tolist() == x.tolist()


@pytest.mark.skipif(deepcore.cuda.is_available(), reason="a CUDA device is present (test_cuda.py covers it)")
def test_to_cuda_without_a_device_says_so():
    with pytest.raises(RuntimeError, match="no CUDA device is available"):
        deepcore.ones(2).to("cuda")
