"""Tensor basics: creation, dtype inference and aliases, NumPy interop, item/tolist, printing, thread-count independence (families: test_<stem>.py)."""
import numpy as np
import pytest

import deepcore
from helpers import assert_close

DTYPES = [deepcore.float32, deepcore.float64, deepcore.int64, deepcore.bool]


# ---- creation -------------------------------------------------------------------

@pytest.mark.parametrize("fn,value", [(deepcore.zeros, 0), (deepcore.ones, 1)])
@pytest.mark.parametrize("size", [(), (3,), (2, 3), (0, 4), (1, 1, 1)], ids=str)
def test_zeros_ones(fn, value, size):
    for args in ((size,), size):  # zeros((2, 3)) and zeros(2, 3)
        t = fn(*args)
        assert tuple(t.shape) == size and t.dtype is deepcore.float32
        assert (t.numpy() == value).all()
    for dt in DTYPES:
        t = fn(*size, dtype=dt)
        assert t.dtype is dt and t.numpy().dtype == dt.numpy
        assert_close(t.numpy(), np.full(size, value, dtype=dt.numpy), 0, 0, f"{fn.__name__} {dt.name}")


def test_full_infers_dtype():
    assert deepcore.full((2,), 3.5).dtype is deepcore.float32
    assert deepcore.full((2,), 3).dtype is deepcore.int64
    assert deepcore.full((2,), True).dtype is deepcore.bool
    assert deepcore.full(3, 2.0).tolist() == [2.0, 2.0, 2.0]
    assert deepcore.full((2, 2), 7, dtype=deepcore.float64).tolist() == [[7.0, 7.0], [7.0, 7.0]]
    assert deepcore.full((2, 2), 7, dtype=deepcore.float64).dtype is deepcore.float64


@pytest.mark.parametrize("data,dtype,np_dtype", [
    ([1.0, 2.5], deepcore.float32, np.float32), ([1, 2], deepcore.int64, np.int64),
    ([True, False], deepcore.bool, np.bool_), (3.0, deepcore.float32, np.float32), (7, deepcore.int64, np.int64),
    ([[1, 2], [3, 4]], deepcore.int64, np.int64), ([1, 2.5], deepcore.float32, np.float32),
    (np.array([1.0, 2.0]), deepcore.float64, np.float64), (np.array([1, 2], dtype=np.int32), deepcore.int64, np.int64),
    (np.array([1.5], dtype=np.float16), deepcore.float32, np.float32),
], ids=str)
def test_tensor_infers_dtype(data, dtype, np_dtype):
    t = deepcore.tensor(data)
    assert t.dtype is dtype
    assert_close(t.numpy(), np.asarray(data).astype(np_dtype), 0, 0, f"tensor({data!r})")


def test_tensor_copies_its_data():
    a = np.array([1.0, 2.0])
    t = deepcore.tensor(a)
    a[0] = 100.0
    assert t.tolist() == [1.0, 2.0]
    u = deepcore.tensor(t)
    u += 1
    assert t.tolist() == [1.0, 2.0]


def test_tensor_with_explicit_dtype_and_requires_grad():
    t = deepcore.tensor([1, 2], dtype=deepcore.float64, requires_grad=True)
    assert t.dtype is deepcore.float64 and t.requires_grad and t.is_leaf
    assert deepcore.tensor([1.7, -2.2], dtype=deepcore.int64).tolist() == [1, -2]


@pytest.mark.parametrize("args,kwargs,expected,dtype", [
    ((5,), {}, [0, 1, 2, 3, 4], deepcore.int64),
    ((2, 6, 2), {}, [2, 4], deepcore.int64),
    ((0.0, 1.0, 0.25), {}, [0.0, 0.25, 0.5, 0.75], deepcore.float32),
    ((3,), {"dtype": deepcore.float64}, [0.0, 1.0, 2.0], deepcore.float64),
    ((5, 0, -2), {}, [5, 3, 1], deepcore.int64),
    ((0,), {}, [], deepcore.int64),
], ids=str)
def test_arange(args, kwargs, expected, dtype):
    t = deepcore.arange(*args, **kwargs)
    assert t.dtype is dtype
    assert t.tolist() == expected


def test_like_functions_linspace_eye(rng):
    x = deepcore.tensor(rng.standard_normal((2, 3)), dtype=deepcore.float64)
    for fn, v in ((deepcore.zeros_like, 0.0), (deepcore.ones_like, 1.0)):
        t = fn(x)
        assert tuple(t.shape) == (2, 3) and t.dtype is deepcore.float64 and (t.numpy() == v).all()
    assert deepcore.full_like(x, 4.0).tolist() == [[4.0] * 3] * 2
    assert tuple(deepcore.empty_like(x).shape) == (2, 3)
    assert tuple(deepcore.empty(4, 0).shape) == (4, 0)
    assert_close(deepcore.linspace(0, 1, 5).numpy(), np.linspace(0, 1, 5), 1e-7, 0, "linspace")
    assert deepcore.eye(3).tolist() == np.eye(3).tolist()
    assert deepcore.eye(2, 3).tolist() == np.eye(2, 3).tolist()


def test_shape_metadata():
    t = deepcore.zeros(2, 3, 4)
    assert t.shape == (2, 3, 4) and t.size() == (2, 3, 4) and t.size(1) == 3 and t.size(-1) == 4
    assert t.ndim == 3 and t.dim() == 3 and t.numel() == 24 and len(t) == 2
    assert t.shape.numel() == 24 and isinstance(t.shape, deepcore.Size)
    assert t.is_contiguous() and not t.transpose(0, 2).is_contiguous()
    assert t.stride() == (12, 4, 1)
    assert t.is_floating_point() and not deepcore.zeros(2, dtype=deepcore.int64).is_floating_point()
    with pytest.raises(TypeError):
        len(deepcore.tensor(1.0))


def test_dtype_aliases():
    assert deepcore.float is deepcore.float32 and deepcore.double is deepcore.float64
    assert deepcore.long is deepcore.int64
    assert deepcore.zeros(1, dtype=np.float64).dtype is deepcore.float64
    assert repr(deepcore.float32) == "deepcore.float32"


# ---- NumPy interop -----------------------------------------------------------------------

@pytest.mark.parametrize("np_dtype", [np.float32, np.float64, np.int64, np.bool_])
def test_from_numpy_shares_memory_both_ways(np_dtype):
    a = np.zeros((2, 3), dtype=np_dtype)
    t = deepcore.from_numpy(a)
    assert t.dtype.numpy == np.dtype(np_dtype) and tuple(t.shape) == (2, 3)
    a[0, 1] = 1  # numpy -> tensor
    assert t.tolist()[0][1] == 1
    t[1, 2] = 1  # tensor -> numpy
    assert a[1, 2] == 1
    assert t.data_ptr() == a.ctypes.data


def test_from_numpy_of_a_strided_view():
    base = np.arange(12, dtype=np.float64).reshape(3, 4)
    view = base[:, 1::2]
    t = deepcore.from_numpy(view)
    assert t.tolist() == view.tolist()
    with deepcore.no_grad():
        t *= 10
    assert base[0].tolist() == [0.0, 10.0, 2.0, 30.0]


def test_from_numpy_keeps_the_array_alive():
    t = deepcore.from_numpy(np.arange(5, dtype=np.float64))
    import gc
    gc.collect()
    assert t.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_from_numpy_rejects_unsupported_arrays():
    with pytest.raises(TypeError, match="unsupported NumPy dtype"):
        deepcore.from_numpy(np.zeros(3, dtype=np.int32))
    with pytest.raises(TypeError, match="ndarray"):
        deepcore.from_numpy([1.0, 2.0])
    ro = np.zeros(3)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        deepcore.from_numpy(ro)


def test_numpy_is_zero_copy():
    t = deepcore.zeros(2, 3)
    a = t.numpy()
    assert a.dtype == np.float32 and a.shape == (2, 3)
    a[1, 1] = 5.0  # numpy -> tensor
    assert t.tolist()[1][1] == 5.0
    t.fill_(2.0)  # tensor -> numpy
    assert (a == 2.0).all()
    tt = t.T.numpy()  # a non-contiguous view is exposed with its strides, not copied
    assert tt.shape == (3, 2) and not tt.flags.c_contiguous
    tt[0, 1] = -1.0
    assert t.tolist()[1][0] == -1.0


def test_numpy_of_a_tensor_requiring_grad_raises():
    x = deepcore.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="detach"):
        x.numpy()
    assert x.detach().numpy().tolist() == [1.0, 1.0]
    assert np.asarray(x).tolist() == [1.0, 1.0]  # __array__ detaches


def test_item_and_tolist():
    assert deepcore.tensor(3.5).item() == 3.5 and isinstance(deepcore.tensor(3.5).item(), float)
    assert deepcore.tensor([7]).item() == 7 and isinstance(deepcore.tensor([7]).item(), int)
    assert deepcore.tensor([[True]]).item() is True
    assert deepcore.tensor(2.5, dtype=deepcore.float64).item() == 2.5
    with pytest.raises(ValueError, match=r"one element.*\(2,\)"):
        deepcore.tensor([1.0, 2.0]).item()
    assert deepcore.tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
    assert deepcore.tensor(5).tolist() == 5
    assert deepcore.zeros(0, 2).tolist() == []
    assert deepcore.arange(6).reshape(2, 3).T.tolist() == [[0, 3], [1, 4], [2, 5]]
    assert float(deepcore.tensor([2.0])) == 2.0 and int(deepcore.tensor(3)) == 3
    assert bool(deepcore.tensor([1.0])) is True
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(deepcore.tensor([1.0, 2.0]))


@pytest.mark.parametrize("make", [
    lambda: deepcore.tensor(1.5), lambda: deepcore.zeros(2, 3), lambda: deepcore.zeros(0, 3),
    lambda: deepcore.arange(5), lambda: deepcore.tensor([True, False]), lambda: deepcore.randn(40, 40),
    lambda: deepcore.ones(2, dtype=deepcore.float64, requires_grad=True),
    lambda: deepcore.ones(2, requires_grad=True) * 2, lambda: deepcore.zeros(3, 4).T,
], ids=["0d", "2d", "empty", "int", "bool", "big", "f64 grad", "grad_fn", "transposed"])
def test_repr_does_not_crash(make):
    t = make()
    r = repr(t)
    assert r.startswith("tensor(") and r.endswith(")") and str(t) == r
    if t.dtype is deepcore.float64:
        assert "float64" in r
    if t.grad_fn is not None:
        assert "grad_fn=<MulBackward>" in r
    elif t.requires_grad:
        assert "requires_grad=True" in r


# ---- threads: results must not depend on the thread count ---------------------------------

def _workloads(rng):
    a = deepcore.tensor(rng.standard_normal((257, 131)))
    b = deepcore.tensor(rng.standard_normal((131, 67)))
    c = deepcore.tensor(rng.standard_normal((1, 131)))
    # float32 products with a 10-wide (or 10-tall) C take the GEMM's no-packing paths.
    x = deepcore.tensor(rng.standard_normal((300, 512)).astype(np.float32))
    w = deepcore.tensor(rng.standard_normal((10, 512)).astype(np.float32))
    g = deepcore.tensor(rng.standard_normal((300, 10)).astype(np.float32))
    return {
        "narrow x @ w^T": lambda: x @ w.T,
        "narrow x^T @ g": lambda: x.T @ g,
        "short g^T @ x": lambda: g.T @ x,
        "elementwise": lambda: ((a * 2 + c).exp() / (a.abs() + 1)).tanh(),
        "sum all": lambda: a.sum(),
        "sum dim 0": lambda: a.sum(0),
        "mean dim 1": lambda: a.mean(1),
        "amax dim 0": lambda: a.amax(0),
        "argmax dim 1": lambda: a.argmax(1),
        "softmax": lambda: a.softmax(1),
        "matmul": lambda: a @ b,
        "matmul transposed": lambda: b.T @ a.T,
        "randn": lambda: (deepcore.manual_seed(5), deepcore.randn(1000, 33))[1],
        "rand": lambda: (deepcore.manual_seed(5), deepcore.rand(100_001))[1],
        "backward": lambda: _grad_of(a, b),
    }


def _grad_of(a, b):
    w = b.detach().requires_grad_()
    (a @ w).tanh().sum().backward()
    return w.grad


def test_results_do_not_depend_on_the_thread_count(rng):
    if deepcore.get_num_threads() < 2 and not deepcore._C.has_openmp:
        pytest.skip("single-threaded build")
    work = _workloads(rng)
    results = {}
    for n in (1, 2):
        deepcore.set_num_threads(n)
        assert deepcore.get_num_threads() == n
        results[n] = {k: f().numpy().copy() for k, f in work.items()}
    for k in work:
        assert results[1][k].shape == results[2][k].shape, k
        assert (results[1][k] == results[2][k]).all(), f"{k}: results differ between 1 and 2 threads " \
            f"(max abs difference {np.abs(results[1][k].astype(float) - results[2][k]).max():.3g})"


def test_set_num_threads_rejects_zero():
    with pytest.raises(ValueError, match="at least 1"):
        deepcore.set_num_threads(0)
