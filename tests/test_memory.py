"""Memory family (empty/full, copy_, casts, clone/contiguous, .to(dtype)/.to(device)) against NumPy (astype, broadcast copies), gradcheck and PyTorch."""
import gc
import os
import subprocess
import sys
import weakref

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


@pytest.mark.parametrize("shape,fragment", [([2 ** 40, 2 ** 30], "too many elements"),
                                            ([2 ** 31, 2 ** 31, 4], "too many elements"),
                                            ([2 ** 61], "more than 2**62")], ids=str)
def test_c_huge_allocation(shape, fragment):
    # PyTorch's type for sizes no storage can have: RuntimeError ("Storage size calculation overflowed").
    with raises(RuntimeError, fragment, str(shape[0])):
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


# ---- views that wrap int64, sizes beyond it, tensors beyond memory (issue 17) --------------------

@pytest.mark.parametrize("shape,strides,offset", [([3], [2 ** 62 + 2 ** 26], 0), ([2, 2], [2 ** 62, 2 ** 62], 0),
                                                  ([3], [1], 2 ** 63 - 2), ([2, 3], [2 ** 61, 2 ** 62], 5)], ids=str)
def test_view_bounds_check_cannot_be_wrapped_around(shape, strides, offset):
    # The last element's index overflows int64: a wrapped sum would pass the bounds test, and
    # contiguous / copy_ would then read and write outside the buffer.
    base = _C.full([4], 1.0, f32)
    with raises(ValueError, "view:", "reaches element beyond 2**63", "a buffer holding 4"):
        _C.view(base, shape, strides, offset)


def test_views_up_to_the_last_element_are_still_made():
    base = _C.full([12], 1.0, f32)
    assert _C.view(base, [3, 4], [4, 1], 0).shape == (3, 4)
    assert _C.view(base, [2], [11], 0).strides == (11,)
    with raises(ValueError, "reaches element 12", "a buffer holding 12"):
        _C.view(base, [2], [12], 0)


def test_sizes_beyond_int64_are_refused_naming_the_op():
    with raises(TypeError, "empty:", "18446744073709551616", "64-bit"):
        deepcore.empty(2 ** 64)
    with raises(TypeError, "zeros:", "64-bit"):
        deepcore.zeros(2, 2 ** 63)
    with raises(RuntimeError, "empty:", "(2147483648, 2147483648, 4)", "more elements than"):
        deepcore.empty(2 ** 31, 2 ** 31, 4)
    with raises(RuntimeError, "ones:", "more elements than"):
        deepcore.ones([2 ** 40, 2 ** 30])


@pytest.mark.parametrize("make,nbytes", [
    (lambda: deepcore.empty(2 ** 40), 2 ** 42),
    (lambda: deepcore.zeros(2 ** 38, 4), 2 ** 42),
    (lambda: deepcore.full((2 ** 40,), 1.5, dtype=deepcore.float64), 2 ** 43),
    (lambda: _C.empty([2 ** 40], f32), 2 ** 42),
], ids=["empty", "zeros", "full float64", "_C.empty"])
def test_a_tensor_larger_than_memory_raises_naming_its_size(make, nbytes):
    # 4 TiB: refused before any allocation (an overcommitting kernel would hand out the address
    # space and kill the process when the pages are touched), with PyTorch's words and type.
    with raises(RuntimeError, f"tried to allocate {nbytes} bytes", "memory"):
        make()
    assert deepcore.ones(3).sum().item() == 3.0  # the allocator still works


def _cached_after_freeing(env, blocks=8):
    """Bytes the idle-block cache holds after `blocks` freed 256 KiB buffers, in a fresh process."""
    code = ("from deepcore import _C\n_C.cpu_empty_cache()\n"
            f"held = [_C.empty([65536], _C.DType.float32) for _ in range({blocks})]\n"
            "del held\nprint(_C.cpu_empty_cache())")
    base = {k: v for k, v in os.environ.items() if not k.startswith("DEEPCORE_CPU_CACHE")}
    out = subprocess.run([sys.executable, "-c", code], env={**base, **env}, capture_output=True, text=True,
                         check=True, timeout=120)
    return int(out.stdout.split()[-1])


def test_the_idle_cpu_block_cache_is_capped():
    assert _cached_after_freeing({"DEEPCORE_CPU_CACHE_MB": "1"}) == 2 ** 20   # 4 of the 8 blocks fit
    assert _cached_after_freeing({"DEEPCORE_CPU_CACHE_MB": "0"}) == 0
    assert _cached_after_freeing({"DEEPCORE_CPU_CACHE": "0"}) == 0
    assert _cached_after_freeing({}) == 8 * 2 ** 18                         # the default cap: 1 GiB


# ---- a leaf is freed when dropped, without the cyclic GC (issue 17) ----------------------------------

def _rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_a_leaf_and_its_gradient_are_freed_as_soon_as_they_are_dropped():
    gc.disable()  # what the cyclic GC would find later does not count
    try:
        w = deepcore.randn(8, 8, requires_grad=True)
        (w * 2).sum().backward()
        leaf_ref, grad_ref = weakref.ref(w), weakref.ref(w.grad)
        del w
        assert leaf_ref() is None and grad_ref() is None, "a reference cycle keeps the dropped leaf alive"
    finally:
        gc.enable()


def test_backward_into_a_dropped_leaf_and_hooks_on_a_live_one():
    y = deepcore.randn(3, requires_grad=True) * 2  # the leaf itself is gone: its gradient goes nowhere
    y.sum().backward()
    x = deepcore.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(g.tolist()))
    (x * 3).sum().backward()
    assert seen == [[3.0, 3.0]] and x.grad.tolist() == [3.0, 3.0]


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="reads the RSS from /proc (Linux)")
def test_fresh_leaves_in_a_loop_keep_memory_flat():
    # 100 steps of a fresh 512x512 leaf (1 MiB, and 1 MiB of gradient) with the cyclic GC off: a leaf
    # kept alive by its own gradient sink would add 2 MiB a step.
    gc.disable()
    try:
        deepcore._C.cpu_empty_cache()
        base, peak = _rss_bytes(), 0
        for _ in range(100):
            w = deepcore.randn(512, 512, requires_grad=True)
            (w * 2).sum().backward()
            peak = max(peak, _rss_bytes() - base)
        del w
        assert peak < 40e6, f"RSS grew by {peak / 1e6:.0f} MB over 100 steps"
    finally:
        gc.enable()
