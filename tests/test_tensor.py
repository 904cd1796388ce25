"""Tensor basics: creation, dtype inference and aliases, NumPy interop, item/tolist, printing, thread-count independence (families: test_<stem>.py)."""
import numpy as np
import pytest

import deepcore
from helpers import assert_close, check_op

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
    # NumPy float64 scalars (a float subclass) keep float64, as torch.tensor infers, alone or in lists
    (np.float64(0.1), deepcore.float64, np.float64), ([np.float64(0.1), 2.0], deepcore.float64, np.float64),
    ([[np.float64(1.0)], [2.0]], deepcore.float64, np.float64), (np.float32(0.1), deepcore.float32, np.float32),
    ([np.float32(1.0), 2.0], deepcore.float32, np.float32), ([np.array([1.0]), np.array([2.0])], deepcore.float64,
                                                            np.float64),
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


def test_format_int_and_the_torch_namespace_flags():
    x = deepcore.tensor(2.5)
    assert "{:+.2f}".format(x) == "+2.50" and f"{deepcore.tensor(3)}" == "3"
    assert format(deepcore.ones(2)) == str(deepcore.ones(2))
    with pytest.raises(TypeError):
        "{:.2f}".format(deepcore.ones(2))  # as PyTorch: only a 0-d tensor takes a format spec
    assert deepcore.tensor([1.7, -2.2]).int().tolist() == [1, -2]
    assert deepcore.tensor([1.7]).int().dtype is deepcore.int64  # deepcore's one integer dtype
    with pytest.raises(AttributeError, match="deepcore does not implement torch.Tensor.frobnicate yet"):
        deepcore.ones(1).frobnicate
    assert not hasattr(deepcore.ones(1), "_private_thing")
    assert deepcore.accelerator.is_available() == deepcore.cuda.is_available()
    assert deepcore.accelerator.current_device_index() == (0 if deepcore.cuda.is_available() else -1)
    assert deepcore.backends.mps.is_available() is False and deepcore.backends.cudnn.is_available() is False
    assert deepcore.backends.cpu.get_cpu_capability() in ("AVX512", "AVX2", "DEFAULT")
    model = deepcore.nn.Linear(2, 2)
    assert deepcore.compile(model) is model and deepcore.compile(mode="max-autotune")(abs) is abs
    with pytest.raises(RuntimeError, match="unrecognized mode"):
        deepcore.compile(model, mode="fast")


def test_inference_mode_as_context_and_decorator():
    w = deepcore.ones(2, requires_grad=True)
    with deepcore.inference_mode():
        assert deepcore.is_inference_mode_enabled() and not (w * 2).requires_grad
    assert deepcore.is_grad_enabled() and not deepcore.is_inference_mode_enabled()

    @deepcore.inference_mode()
    def predict(v):
        return v * 2

    assert not predict(w).requires_grad and (w * 2).requires_grad
    with deepcore.inference_mode(False):
        assert (w * 2).requires_grad
    with pytest.raises(TypeError, match="mode must be a bool"):
        deepcore.inference_mode("yes")


# ---- type strings, legacy constructors, new_*, small methods ------------------------------------

def test_type_strings_and_conversions(torch):
    for dt, tdt in ((deepcore.float32, torch.float32), (deepcore.float64, torch.float64),
                    (deepcore.int64, torch.int64), (deepcore.bool, torch.bool)):
        assert deepcore.zeros(2, dtype=dt).type() == torch.zeros(2, dtype=tdt).type()
    x = deepcore.tensor([1.5, -2.0])
    assert x.type(deepcore.LongTensor).tolist() == [1, -2]
    assert x.type("torch.DoubleTensor").dtype is deepcore.float64
    assert x.type(deepcore.int64).dtype is deepcore.int64
    with pytest.raises(ValueError, match="invalid type: 'float'"):
        x.type("float")


def test_legacy_constructors(torch):
    assert deepcore.LongTensor(5).shape == (5,) and deepcore.LongTensor(5).dtype is deepcore.int64
    assert deepcore.FloatTensor(2, 3).shape == (2, 3) and deepcore.FloatTensor(2, 3).dtype is deepcore.float32
    assert deepcore.LongTensor([1, 2]).tolist() == [1, 2]
    assert deepcore.FloatTensor((1, 2)).tolist() == [1.0, 2.0]
    assert deepcore.DoubleTensor(np.ones(2)).dtype is deepcore.float64
    assert deepcore.BoolTensor([True, False]).tolist() == [True, False]
    assert deepcore.FloatTensor().shape == (0,)
    assert deepcore.FloatTensor(deepcore.Size([2, 3])).shape == torch.FloatTensor(torch.Size([2, 3])).shape
    assert isinstance(deepcore.zeros(2), deepcore.FloatTensor) and not isinstance(deepcore.zeros(2),
                                                                                   deepcore.LongTensor)
    assert deepcore.IntTensor([3]).dtype is deepcore.int64
    with pytest.raises(TypeError, match="FloatTensor"):
        deepcore.FloatTensor(1, [2])


def test_new_methods_element_size_and_memory_no_ops():
    x = deepcore.ones(2, 3, dtype=deepcore.float64)
    for t in (x.new_zeros(4), x.new_zeros((2, 2)), x.new_ones(3), x.new_empty(2, 5), x.new_full((2,), 7.0)):
        assert t.dtype is deepcore.float64
    assert x.new_ones(3).tolist() == [1.0, 1.0, 1.0] and x.new_full((2,), 7).tolist() == [7.0, 7.0]
    assert x.new_zeros(2, dtype=deepcore.int64).dtype is deepcore.int64
    t = x.new_tensor([1, 2])
    assert t.dtype is deepcore.float64 and t.tolist() == [1.0, 2.0] and not t.requires_grad
    assert x.new_tensor([1.0], requires_grad=True).requires_grad
    assert x.element_size() == 8 and deepcore.ones(1).element_size() == 4 and deepcore.ones(1, dtype=deepcore.bool) \
        .element_size() == 1
    assert x.ndimension() == 2 and x.nelement() == 6
    assert x.pin_memory() is x and x.share_memory_() is x and not x.is_pinned()


def test_zeros_ones_out():
    out = deepcore.empty(2, 3)
    assert deepcore.zeros(2, 3, out=out) is out and out.sum().item() == 0
    assert deepcore.ones((2, 3), out=out) is out and out.sum().item() == 6
    with pytest.raises(NotImplementedError, match="zeros: out= of shape"):
        deepcore.zeros(4, out=out)
    with pytest.raises(RuntimeError, match="ones: dtype"):
        deepcore.ones(2, 3, out=out, dtype=deepcore.float64)


@pytest.mark.parametrize("name,np_fn,low", [
    ("exp_", np.exp, -2), ("sqrt_", np.sqrt, 0.2), ("neg_", np.negative, -2), ("abs_", np.abs, -2),
    ("sigmoid_", lambda a: 1 / (1 + np.exp(-a)), -2), ("tanh_", np.tanh, -2), ("relu_", lambda a: np.maximum(a, 0), -2),
    ("log_", np.log, 0.2), ("reciprocal_", lambda a: 1 / a, 0.5), ("floor_", np.floor, -2),
])
def test_in_place_unary_methods(name, np_fn, low, rng):
    a = rng.uniform(low, 2.0, size=(3, 4))
    x = deepcore.tensor(a)
    assert getattr(x, name)() is x
    np.testing.assert_allclose(x.numpy(), np_fn(a), rtol=1e-6)
    # On a non-leaf the write records: the gradient is the out-of-place op's.
    check_op(name, lambda t: getattr(t * 1.0, name)(), np_fn, arrays=[a], gradcheck=name != "floor_")
    with pytest.raises(RuntimeError, match=f"{name}: a leaf Variable that requires grad"):
        getattr(deepcore.tensor(a, requires_grad=True), name)()


def test_in_place_pow_clip_and_friends():
    x = deepcore.tensor([1.0, -2.0, 3.0])
    assert x.pow_(2).tolist() == [1.0, 4.0, 9.0]
    assert x.clip_(2.0, 5.0).tolist() == [2.0, 4.0, 5.0]
    assert x.clamp_max_(4.5).tolist() == [2.0, 4.0, 4.5]
    assert x.lerp_(deepcore.zeros(3), 0.5).tolist() == [1.0, 2.0, 2.25]
    y = deepcore.tensor([5, 7])
    y.remainder_(3)
    assert y.tolist() == [2, 1]
    m = deepcore.tensor([[0.0, 1.0]])
    m.cumsum_(1)
    assert m.tolist() == [[0.0, 1.0]]
