"""The vectorized elementwise / activation kernels (csrc/cpu/vec_math*): float32
accuracy in ulp against float64 NumPy on every ISA level this CPU runs, special
values, lengths around the vector widths, strided views, and the same bits
whatever the thread count."""
import numpy as np
import pytest

import deepcore

LEVELS = ["portable", "avx2", "avx512"]
MAX_ULP = 4


def available_levels():
    best = deepcore.backends.cpu.supported
    return LEVELS[:LEVELS.index(best) + 1]


@pytest.fixture(params=LEVELS)
def level(request):
    if request.param not in available_levels():
        pytest.skip(f"this CPU does not support {request.param}")
    before = deepcore.backends.cpu.capability
    deepcore.backends.cpu.set_capability(request.param)
    assert deepcore.backends.cpu.vec_math == request.param
    yield request.param
    deepcore.backends.cpu.set_capability(before)


@pytest.fixture
def threads():
    before = deepcore.get_num_threads()
    yield deepcore.set_num_threads
    deepcore.set_num_threads(before)


def np_sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


FUNCS = {  # name: (deepcore, float64 reference)
    "exp": (deepcore.exp, np.exp),
    "log": (deepcore.log, np.log),
    "tanh": (deepcore.tanh, np.tanh),
    "sigmoid": (deepcore.sigmoid, np_sigmoid),
}

SPECIAL = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-6, -1e-6, 1e-30, -1e-30, 1e-40, -1e-40, 1e-45,
                    88.0, -88.0, 88.72, 88.73, 89.0, -87.3, -89.0, -103.0, -104.0, -110.0, 0.5499, 0.55, -0.55,
                    0.625, 9.0, 9.1, 20.0, -20.0, 1.0, -1.0, 2.0, 0.5, 3.4e38, -3.4e38, 1.17549435e-38],
                   dtype=np.float32)


def ulp_error(got, x, ref_fn):
    """|got - ref| in units of the float32 spacing at ref; exact matches (incl. NaN, inf) are 0."""
    with np.errstate(all="ignore"):
        ref = ref_fn(x.astype(np.float64))
        ref32 = ref.astype(np.float32)
        err = np.abs(got.astype(np.float64) - ref) / np.spacing(np.abs(ref32)).astype(np.float64)
    exact = (got == ref32) | (np.isnan(got) & np.isnan(ref))
    return np.where(exact, 0.0, err)


def inputs(name, rng):
    n = 100_000
    magnitudes = np.exp(rng.uniform(np.log(1e-45), np.log(3.4e38), n))
    xs = np.concatenate([SPECIAL, rng.uniform(-100, 100, n), rng.uniform(-6, 6, n),
                         magnitudes * rng.choice([-1.0, 1.0], n)]).astype(np.float32)
    return np.abs(xs) if name == "log" else xs


def run(fn, x):
    return fn(deepcore.from_numpy(x)).numpy()


@pytest.mark.parametrize("name", FUNCS)
def test_float32_accuracy_in_ulp(name, level):
    fn, ref = FUNCS[name]
    x = inputs(name, np.random.default_rng(7))
    err = ulp_error(run(fn, x), x, ref)
    worst = int(np.argmax(err))
    assert err[worst] <= MAX_ULP, f"{name} on {level}: {err[worst]:.2f} ulp at x={x[worst]!r}"


@pytest.mark.parametrize("name", ["log"])
def test_log_of_negative_is_nan(name, level):
    x = np.array([-1.0, -1e-40, -np.inf, -0.0, 0.0], np.float32)
    got = run(deepcore.log, x)
    assert np.isnan(got[:3]).all()
    assert got[3] == -np.inf and got[4] == -np.inf


def test_special_values(level):
    x = np.array([np.inf, -np.inf, np.nan, 0.0, -100.0, 1e-6, -1e-6], np.float32)
    e, t, s = run(deepcore.exp, x), run(deepcore.tanh, x), run(deepcore.sigmoid, x)
    assert e[0] == np.inf and e[1] == 0.0 and np.isnan(e[2]) and e[3] == 1.0
    assert t[0] == 1.0 and t[1] == -1.0 and np.isnan(t[2]) and t[3] == 0.0
    assert t[5] == np.float32(1e-6) and t[6] == np.float32(-1e-6)  # tanh(x) ~ x, no cancellation
    assert s[0] == 1.0 and s[1] == 0.0 and np.isnan(s[2]) and s[3] == 0.5
    assert 0 < s[4] < 1e-43  # e / (1 + e): no overflow, no early flush to 0
    assert np.isnan(run(deepcore.relu, x)[2])


@pytest.mark.parametrize("length", [0, 1, 7, 15, 17, 1000003])
def test_lengths_around_vector_width(length, level):
    # Every element runs the same vector code, tail included: a prefix gives the prefix's bits.
    rng = np.random.default_rng(length)
    x = rng.uniform(-30, 30, length + 40).astype(np.float32)
    for name, (fn, ref) in FUNCS.items():
        xx = np.abs(x) if name == "log" else x
        full = run(fn, xx)
        part = run(fn, xx[:length].copy())
        np.testing.assert_array_equal(part, full[:length], err_msg=f"{name} on {level}, length {length}")
        assert ulp_error(part, xx[:length], ref).max(initial=0) <= MAX_ULP


def test_strided_views_match_contiguous(level):
    rng = np.random.default_rng(3)
    x = rng.uniform(0.01, 20, (70, 90)).astype(np.float32)
    t = deepcore.from_numpy(x)
    for name, (fn, ref) in FUNCS.items():
        for view_t, view_np in ((t[:, ::3], x[:, ::3]), (t.T, x.T), (t[5:60:2, 1:80], x[5:60:2, 1:80])):
            got = fn(view_t).numpy()
            np.testing.assert_array_equal(got, run(fn, np.ascontiguousarray(view_np)), err_msg=name)
            assert ulp_error(got, view_np, ref).max() <= MAX_ULP


def test_same_bits_on_one_and_two_threads(level, threads):
    rng = np.random.default_rng(11)
    x = deepcore.from_numpy(rng.uniform(-20, 20, 300_007).astype(np.float32))
    y = deepcore.from_numpy(rng.uniform(-20, 20, 300_007).astype(np.float32))
    logits = deepcore.from_numpy(rng.standard_normal((1000, 333)).astype(np.float32))
    cases = [lambda: x.exp(), lambda: x.abs().log(), lambda: x.tanh(), lambda: x.sigmoid(), lambda: x.relu(),
             lambda: x + y, lambda: x * 0.5, lambda: x / y, lambda: deepcore.leaky_relu(x, 0.1),
             lambda: logits.softmax(1), lambda: logits.log_softmax(1)]
    threads(1)
    one = [f().numpy() for f in cases]
    threads(2)
    two = [f().numpy() for f in cases]
    for i, (a, b) in enumerate(zip(one, two)):
        np.testing.assert_array_equal(a, b, err_msg=f"case {i}")


@pytest.mark.parametrize("name", FUNCS)
def test_float64_stays_exact_scalar(name, level):
    fn, ref = FUNCS[name]
    x = np.random.default_rng(5).uniform(0.001, 30, 1001)
    np.testing.assert_allclose(run(fn, x), ref(x), rtol=1e-15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_arithmetic_is_exact(dtype, level):
    rng = np.random.default_rng(2)
    a = rng.standard_normal(1037).astype(dtype)
    b = rng.uniform(0.5, 2, 1037).astype(dtype)
    ta, tb = deepcore.from_numpy(a), deepcore.from_numpy(b)
    for got, want in (((ta + tb), a + b), ((ta - tb), a - b), ((ta * tb), a * b), ((ta / tb), a / b),
                      ((ta + 1.5), a + dtype(1.5)), ((ta - 1.5), a - dtype(1.5)), ((ta * 0.3), a * dtype(0.3)),
                      ((ta / 0.3), a / dtype(0.3)), (ta.relu(), np.maximum(a, 0))):
        np.testing.assert_array_equal(got.numpy(), want)


@pytest.mark.parametrize("shape", [(1, 1), (3, 1), (5, 7), (4, 17), (33, 16), (2, 1000), (128, 10)])
@pytest.mark.parametrize("log", [False, True])
def test_softmax_rows(shape, log, level):
    x = np.random.default_rng(shape[1]).normal(0, 5, shape).astype(np.float32)
    x64 = x.astype(np.float64)
    z = x64 - x64.max(1, keepdims=True)
    lse = np.log(np.exp(z).sum(1, keepdims=True))
    t = deepcore.from_numpy(x)
    got = (t.log_softmax(1) if log else t.softmax(1)).numpy()
    want = z - lse if log else np.exp(z - lse)
    np.testing.assert_allclose(got, want, rtol=2e-6, atol=2e-7 if log else 1e-9)


def test_softmax_special_rows(level):
    x = np.array([[0.0, -np.inf, 1.0], [np.nan, 1.0, 2.0], [1e30, 0.0, -1e30], [-np.inf, -np.inf, -np.inf]],
                 np.float32)
    s = deepcore.from_numpy(x).softmax(1).numpy()
    ls = deepcore.from_numpy(x).log_softmax(1).numpy()
    e = np.exp([0.0, 1.0])
    np.testing.assert_allclose(s[0], [e[0] / e.sum(), 0.0, e[1] / e.sum()], rtol=1e-6)
    assert ls[0, 1] == -np.inf
    assert np.isnan(s[1]).all() and np.isnan(ls[1]).all()
    np.testing.assert_array_equal(s[2], [1.0, 0.0, 0.0])
    assert ls[2, 0] == 0.0 and ls[2, 2] == np.float32(-2e30)
    assert np.isnan(s[3]).all()  # exp(-inf - 0) sums to 0: 0/0, as in PyTorch


def test_backward_kernels(level):
    rng = np.random.default_rng(9)
    n = 10_001
    g = rng.standard_normal(n).astype(np.float32)
    x = rng.standard_normal(n).astype(np.float32)
    y = np.tanh(x)
    kern = deepcore.from_numpy(g)._backend
    nd = lambda a: deepcore.from_numpy(a)._data  # noqa: E731
    out = lambda r: deepcore.Tensor._make(r).numpy()  # noqa: E731
    np.testing.assert_allclose(out(kern.tanh_backward(nd(g), nd(y))), g * (1 - y * y), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(out(kern.sigmoid_backward(nd(g), nd(y))), g * y * (1 - y), rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(out(kern.leaky_relu_backward(nd(g), nd(x), 0.1)),
                                  np.where(x > 0, g, g * np.float32(0.1)))
    np.testing.assert_array_equal(out(kern.leaky_relu(nd(x), 0.1)), np.where(x > 0, x, x * np.float32(0.1)))
    # relu's backward is exactly 0 where x <= 0, even for an infinite gradient (not inf * 0 = NaN).
    g_inf = np.full(n, np.inf, np.float32)
    np.testing.assert_array_equal(out(kern.leaky_relu_backward(nd(g_inf), nd(x), 0.0)), np.where(x > 0, np.inf, 0))
    # strided operands take the scalar path, with the same results
    gs, ys = deepcore.from_numpy(g)[::2], deepcore.from_numpy(y)[::2]
    np.testing.assert_allclose(out(kern.tanh_backward(gs._data, ys._data)), (g * (1 - y * y))[::2], rtol=1e-6,
                               atol=1e-7)


@pytest.mark.parametrize("n", [0, 1, 33, 131_073, 1_000_003])
def test_contiguous_sum(n, level, threads):
    x = np.random.default_rng(n).standard_normal(n).astype(np.float32)
    t = deepcore.from_numpy(x)
    threads(1)
    one = t.sum().numpy()
    threads(2)
    np.testing.assert_array_equal(t.sum().numpy(), one)  # fixed blocks: the same bits
    np.testing.assert_allclose(one, x.astype(np.float64).sum(), rtol=1e-6, atol=1e-6)
    rows = deepcore.from_numpy(x[: n - n % 7].reshape(-1, 7))
    np.testing.assert_allclose(rows.sum(1).numpy(), x[: n - n % 7].reshape(-1, 7).astype(np.float64).sum(1),
                               rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(rows.mean(1).numpy(), x[: n - n % 7].reshape(-1, 7).astype(np.float64).mean(1),
                               rtol=1e-6, atol=1e-6)


def test_capability_switch_changes_kernels(level):
    assert level in repr(deepcore.backends.cpu)
