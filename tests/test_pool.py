"""Pool family (max_pool2d, avg_pool2d, nearest upsampling / F.interpolate) against naive float64 loops, gradcheck and PyTorch."""
import numpy as np
import pytest

import deepcore
from deepcore import _C
from deepcore.ops.pool import avg_pool2d, max_pool2d, upsample_nearest2d
import deepcore.nn.functional as F
from helpers import assert_close, check_op, functional_of, pair, raises_in_order as raises, torch as _torch


def pool_ref(x, kernel, stride, padding, reduce, pad_value):
    """Direct loop over output pixels of the padded input."""
    kh, kw = pair(kernel)
    sh, sw = pair(stride if stride is not None else kernel)
    ph, pw = pair(padding)
    n, c, h, w = x.shape
    xp = np.full((n, c, h + 2 * ph, w + 2 * pw), pad_value)
    xp[:, :, ph:ph + h, pw:pw + w] = x
    oh, ow = (xp.shape[2] - kh) // sh + 1, (xp.shape[3] - kw) // sw + 1
    out = np.zeros((n, c, oh, ow))
    for oy in range(oh):
        for ox in range(ow):
            out[:, :, oy, ox] = reduce(xp[:, :, oy * sh:oy * sh + kh, ox * sw:ox * sw + kw], axis=(2, 3))
    return out


def max_ref(x, kernel, stride=None, padding=0):
    return pool_ref(x, kernel, stride, padding, np.max, -np.inf)


def avg_ref(x, kernel, stride=None, padding=0):
    return pool_ref(x, kernel, stride, padding, np.mean, 0.0)  # padding counted (count_include_pad)


def upsample_ref(x, scale):
    sh, sw = pair(scale)
    return x.repeat(sh, axis=2).repeat(sw, axis=3)


# (input shape, kernel_size, stride, padding)
POOL_CASES = [
    ((2, 3, 6, 6), 2, None, 0),            # the lecture's 2x2 pool (vectorized path)
    ((2, 2, 7, 5), 2, None, 0),            # odd sizes: the last row / column belong to no window
    ((2, 3, 7, 9), 3, 2, 1),               # overlapping windows, padding
    ((1, 1, 1, 1), 1, None, 0),            # sizes 1
    ((2, 2, 5, 7), (3, 2), (1, 2), (1, 0)),
    ((1, 2, 2, 2), 3, 1, 1),               # kernel larger than the input, padded
    ((1, 1, 3, 3), 2, 3, 0),               # stride larger than the kernel
    ((2, 3, 11, 13), (5, 3), (3, 2), (2, 1)),  # primes
    ((0, 3, 4, 4), 2, None, 0),            # empty batch
    ((3, 4, 24, 24), 2, 2, 0),             # the lecture's shape, small batch
]


def pool_id(c):
    return f"x{c[0]}-k{c[1]}-s{c[2]}-p{c[3]}"


@pytest.mark.parametrize("case", POOL_CASES, ids=pool_id)
def test_max_pool2d(case, rng):
    shape, k, s, p = case
    # Distinct values: finite differences need a unique maximum in every window.
    x = rng.permutation(np.prod(shape)).reshape(shape) / max(1, np.prod(shape)) - 0.5
    check_op("max_pool2d", lambda t: max_pool2d(t, k, s, p), lambda a: max_ref(a, k, s, p), arrays=[x],
             torch_fn=lambda t: _torch.nn.functional.max_pool2d(t, k, s, p), rng=rng)


@pytest.mark.parametrize("case", POOL_CASES, ids=pool_id)
def test_avg_pool2d(case, rng):
    shape, k, s, p = case
    check_op("avg_pool2d", lambda t: avg_pool2d(t, k, s, p), lambda a: avg_ref(a, k, s, p), shapes=[shape],
             torch_fn=lambda t: _torch.nn.functional.avg_pool2d(t, k, s, p), rng=rng)


@pytest.mark.parametrize("shape,scale", [((2, 3, 4, 5), 2), ((1, 2, 3, 2), (3, 1)), ((1, 1, 1, 1), 1),
                                         ((2, 1, 2, 3), (2, 3)), ((0, 2, 3, 3), 2)], ids=str)
def test_upsample_nearest2d(shape, scale, rng):
    check_op("upsample_nearest2d", lambda t: upsample_nearest2d(t, scale), lambda a: upsample_ref(a, scale),
             shapes=[shape], rng=rng,
             torch_fn=lambda t: _torch.nn.functional.interpolate(t, scale_factor=pair(scale), mode="nearest"))


@pytest.mark.parametrize("kernel,stride", [(2, 2), (3, 1)], ids=["2x2", "3x3-overlapping"])
def test_max_pool2d_ties_and_nan_like_torch(kernel, stride, torch):
    """Ties send the gradient to the first maximum; NaN wins its window (both as in PyTorch)."""
    x = np.zeros((1, 2, 6, 6), np.float32)
    x[0, 1] = np.arange(36).reshape(6, 6) % 3
    x[0, 0, 1, 1] = np.nan
    g = np.arange(1, 1 + np.prod(max_ref(x, kernel, stride).shape), dtype=np.float32).reshape(
        max_ref(x, kernel, stride).shape)
    dx = deepcore.tensor(x, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    out, tout = max_pool2d(dx, kernel, stride), torch.nn.functional.max_pool2d(tx, kernel, stride)
    out.backward(deepcore.tensor(g))
    tout.backward(torch.tensor(g))
    assert_close(out.detach().numpy(), tout.detach().numpy(), 0, 0, "max_pool2d with ties and NaN")
    assert_close(dx.grad.numpy(), tx.grad.numpy(), 0, 0, "max_pool2d gradient with ties and NaN")


@pytest.mark.parametrize("fn", [
    lambda x: max_pool2d(x, 2),
    lambda x: max_pool2d(x, 3, 2, 1),
    lambda x: avg_pool2d(x, 3, 2, 1),
    lambda x: upsample_nearest2d(x, 2),
], ids=["max2x2", "max3x3", "avg3x3", "upsample"])
def test_pool_thread_count_does_not_change_results(fn, rng):
    x = rng.standard_normal((4, 16, 23, 24)).astype(np.float32)
    results = []
    for threads in (1, 2):
        deepcore.set_num_threads(threads)
        t = deepcore.tensor(x, requires_grad=True)
        out = fn(t)
        out.backward(deepcore.tensor(np.linspace(-1, 1, out.numel(), dtype=np.float32).reshape(tuple(out.shape))))
        results.append((out.detach().numpy(), t.grad.numpy()))
    assert np.array_equal(results[0][0], results[1][0])
    assert np.array_equal(results[0][1], results[1][1])


def test_pool_unbatched(rng):
    x = rng.standard_normal((3, 6, 5))
    assert_close(max_pool2d(deepcore.tensor(x), 2).numpy(), max_ref(x[None], 2)[0], 0, 0, "unbatched max_pool2d")
    assert_close(avg_pool2d(deepcore.tensor(x), 2).numpy(), avg_ref(x[None], 2)[0], 1e-12, 1e-12, "unbatched avg")
    assert_close(upsample_nearest2d(deepcore.tensor(x), 2).numpy(), upsample_ref(x[None], 2)[0], 0, 0,
                 "unbatched upsample")


@pytest.mark.parametrize("name,fn", [("max_pool2d", max_pool2d), ("avg_pool2d", avg_pool2d)])
def test_pool_errors(name, fn):
    x = deepcore.ones(2, 3, 8, 8)
    with raises(ValueError, name, "4-D input", "(8, 8)"):
        fn(deepcore.ones(8, 8), 2)
    with raises(ValueError, name, "kernel_size", "positive"):
        fn(x, 0)
    with raises(ValueError, name, "stride", "positive"):
        fn(x, 2, 0)
    with raises(ValueError, name, "at most half of the kernel size"):
        fn(x, 2, 2, 2)
    with raises(ValueError, name, "smaller than the kernel", "(3, 3)"):
        fn(deepcore.ones(1, 1, 2, 2), 3)
    with raises(TypeError, name, "int64"):
        fn(deepcore.ones(1, 1, 4, 4, dtype=deepcore.int64), 2)
    with raises(TypeError, name, "kernel_size"):
        fn(x, (2, 2, 2))


def test_upsample_errors():
    x = deepcore.ones(1, 1, 2, 2)
    with raises(ValueError, "upsample_nearest2d", "scale_factor", "positive"):
        upsample_nearest2d(x, 0)
    with raises(TypeError, "upsample_nearest2d", "scale_factor"):
        upsample_nearest2d(x, 1.5)
    with raises(ValueError, "upsample_nearest2d", "4-D input"):
        upsample_nearest2d(deepcore.ones(2, 2), 2)


def test_pool_kernel_errors():
    x = deepcore.ones(2, 3, 8, 8)._data
    with raises(ValueError, "max_pool2d_backward", "grad_out", "(2, 3, 4, 4)"):
        _C.max_pool2d_backward(deepcore.ones(2, 3, 3, 3)._data, x, [2, 2], [2, 2], [0, 0])
    with raises(ValueError, "avg_pool2d_backward", "grad_out"):
        _C.avg_pool2d_backward(deepcore.ones(2, 3, 3, 3)._data, [2, 3, 8, 8], [2, 2], [2, 2], [0, 0])
    with raises(ValueError, "max_pool2d", "padding"):
        _C.max_pool2d_forward(x, [2, 2], [2, 2], [2, 0])
    with raises(ValueError, "upsample_nearest2d_backward", "not a multiple"):
        _C.upsample_nearest2d_backward(deepcore.ones(1, 1, 3, 4)._data, [2, 2])


# ---- F.interpolate ---------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs,scale", [(dict(scale_factor=2), 2), (dict(scale_factor=(3, 1)), (3, 1)),
                                          (dict(scale_factor=2.0), 2), (dict(size=(4, 6)), 2),
                                          (dict(size=(6, 3)), (3, 1))], ids=str)
def test_interpolate_nearest(kwargs, scale, rng):
    check_op(f"interpolate({kwargs})", lambda t: functional_of(t).interpolate(t, **kwargs),
             lambda t: upsample_ref(t, scale), [(2, 2, 2, 3)], rng=rng)


def test_interpolate_errors():
    x = deepcore.ones(1, 1, 2, 3)
    with pytest.raises(NotImplementedError, match="mode='bilinear'"):
        F.interpolate(x, scale_factor=2, mode="bilinear")
    with pytest.raises(NotImplementedError, match="positive integer"):
        F.interpolate(x, scale_factor=1.5)
    with pytest.raises(NotImplementedError, match="integer multiple"):
        F.interpolate(x, size=(3, 3))
    with pytest.raises(ValueError, match="exactly one of size and scale_factor"):
        F.interpolate(x)
    with pytest.raises(ValueError, match="4-D"):
        F.interpolate(deepcore.ones(2, 3), scale_factor=2)


# ---- 1-d pools ------------------------------------------------------------------------------------

POOL1D_CASES = [((2, 3, 8), 2, None, 0), ((2, 2, 7), 3, 2, 1), ((1, 1, 1), 1, None, 0), ((2, 3, 11), 5, 3, 2),
                ((0, 2, 4), 2, None, 0), ((3, 9), 2, 1, 1)]  # the last one unbatched


@pytest.mark.parametrize("case", POOL1D_CASES, ids=pool_id)
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pool1d(kind, case, rng):
    shape, k, s, p = case
    ref = max_ref if kind == "max" else avg_ref

    def reference(a):
        batched = a if a.ndim == 3 else a[None]
        out = ref(batched[:, :, None], (1, k), None if s is None else (1, s), (0, p))[:, :, 0]
        return out if a.ndim == 3 else out[0]

    x = (rng.permutation(np.prod(shape)).reshape(shape) / max(1, np.prod(shape)) - 0.5) if kind == "max" else None
    name = f"{kind}_pool1d"
    check_op(name, lambda t: getattr(functional_of(t), name)(t, k, s, p), reference,
             arrays=None if x is None else [x], shapes=None if x is not None else [shape], rng=rng)


def test_pool1d_errors_and_modules(torch):
    x = deepcore.ones(2, 3, 8)
    for name in ("max_pool1d", "avg_pool1d"):
        f = getattr(F, name)
        with raises(ValueError, name, "3-D input", "(1, 2, 5, 6)"):
            f(deepcore.ones(1, 2, 5, 6), 2)
        with raises(TypeError, name, "kernel_size", "one int"):
            f(x, (2, 2))
        with raises(ValueError, name, "at most half of the kernel size", "padding 2", "kernel_size 2"):
            f(x, 2, padding=2)
        with raises(ValueError, name, "smaller than the kernel 5"):
            f(deepcore.ones(1, 1, 3), 5)
    with pytest.raises(NotImplementedError, match="max_pool1d: ceil_mode=True"):
        F.max_pool1d(x, 2, ceil_mode=True)
    with pytest.raises(NotImplementedError, match="avg_pool1d: count_include_pad=False"):
        F.avg_pool1d(x, 2, count_include_pad=False)
    for build in (lambda ns: ns.MaxPool1d(3, 2, 1), lambda ns: ns.AvgPool1d(3), lambda ns: ns.AvgPool1d(4, 2, 2)):
        dm, tm = build(deepcore.nn), build(torch.nn)
        assert repr(dm) == repr(tm)
        a = np.random.default_rng(1).standard_normal((2, 3, 10)).astype(np.float32)
        assert_close(dm(deepcore.tensor(a)).numpy(), tm(torch.tensor(a)).numpy(), 1e-6, 1e-6, repr(dm))


# ---- adaptive pools ---------------------------------------------------------------------------------

def adaptive_ref(x, out, reduce):
    """A loop over PyTorch's bins: bin i of a size-L dim into n is [floor(i L / n), ceil((i + 1) L / n))."""
    *lead, h, w = x.shape
    oh, ow = out
    res = np.zeros((*lead, oh, ow))
    for i in range(oh):
        for j in range(ow):
            rows = slice(i * h // oh, -(-(i + 1) * h // oh))
            cols = slice(j * w // ow, -(-(j + 1) * w // ow))
            res[..., i, j] = reduce(x[..., rows, cols], axis=(-2, -1))
    return res


def adaptive_argmax_ref(x, out):
    """Each bin's first maximum as a position y * W + x in its plane."""
    *lead, h, w = x.shape
    oh, ow = out
    res = np.zeros((*lead, oh, ow), np.int64)
    for i in range(oh):
        for j in range(ow):
            r0, c0 = i * h // oh, j * w // ow
            rows, cols = slice(r0, -(-(i + 1) * h // oh)), slice(c0, -(-(j + 1) * w // ow))
            window = x[..., rows, cols]
            flat = window.reshape(*lead, -1).argmax(-1)
            res[..., i, j] = (r0 + flat // window.shape[-1]) * w + c0 + flat % window.shape[-1]
    return res


def _full_size(output_size, shape):
    out = (output_size, output_size) if isinstance(output_size, int) else output_size
    return tuple(s if o is None else o for o, s in zip(out, shape[-2:]))


# (input shape, output_size)
ADAPTIVE_CASES = [
    ((2, 3, 8, 8), (4, 2)),     # equal bins: one native pool
    ((2, 3, 6, 6), 1),          # global pooling
    ((2, 3, 5, 5), (5, 5)),     # the same size
    ((2, 3, 7, 9), (3, 4)),     # unequal, overlapping bins
    ((1, 2, 5, 6), (7, 9)),     # more bins than entries
    ((2, 3, 5, 7), (None, 3)),  # None keeps H
    ((3, 10, 7), (4, 3)),       # unbatched
    ((2, 2, 9, 6), (2, 4)),     # equal along H only
    ((0, 2, 5, 4), (3, 2)),     # empty batch
    ((1, 2, 5, 4), (0, 2)),     # no bins
]


@pytest.mark.parametrize("case", ADAPTIVE_CASES, ids=lambda c: f"x{c[0]}-out{c[1]}")
def test_adaptive_avg_pool2d(case, rng):
    shape, out = case
    full = _full_size(out, shape)
    check_op("adaptive_avg_pool2d", lambda t: functional_of(t).adaptive_avg_pool2d(t, out),
             lambda a: adaptive_ref(a, full, np.mean), shapes=[shape], rng=rng,
             torch_fn=None if min(full) else False)  # torch's backward refuses an empty output


@pytest.mark.parametrize("shape,out", [((2, 3, 7, 9), (3, 4)), ((1, 2, 5, 6), (7, 9)), ((2, 2, 9, 6), (2, 4))],
                         ids=str)
def test_adaptive_avg_pool2d_gathers(shape, out, rng):
    """The masked-gather path that inputs holding inf/NaN take (finite here, so gradcheck can run)."""
    from deepcore.ops.pool import _average_bins
    check_op("adaptive avg gathers", lambda t: _average_bins(_average_bins(t, 2, out[0]), 3, out[1]),
             lambda a: adaptive_ref(a, out, np.mean), shapes=[shape], rng=rng,
             torch_fn=lambda t: _torch.nn.functional.adaptive_avg_pool2d(t, out))


def test_adaptive_avg_pool2d_keeps_inf_and_nan_in_their_bins(rng):
    x = rng.standard_normal((1, 2, 7, 9))
    x[0, 0, 1, 1], x[0, 1, 5, 2], x[0, 1, 6, 8] = np.inf, np.nan, -np.inf
    t = deepcore.tensor(x, requires_grad=True)
    out = F.adaptive_avg_pool2d(t, (3, 4))
    np.testing.assert_allclose(out.detach().numpy(), adaptive_ref(x, (3, 4), np.mean), rtol=1e-12, equal_nan=True)
    assert np.isfinite(out.detach().numpy()).sum() == 24 - 1 - 2 - 1  # only the 1, 2 and 1 bins holding them
    out.backward(deepcore.ones(1, 2, 3, 4, dtype=deepcore.float64))  # value-independent: 1 / |bin| per bin
    finite = deepcore.tensor(np.zeros_like(x), requires_grad=True)
    F.adaptive_avg_pool2d(finite, (3, 4)).sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), finite.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("case", ADAPTIVE_CASES, ids=lambda c: f"x{c[0]}-out{c[1]}")
def test_adaptive_max_pool2d(case, rng):
    shape, out = case
    full = _full_size(out, shape)
    x = rng.permutation(np.prod(shape)).reshape(shape) / max(1, np.prod(shape)) - 0.5  # one maximum per bin
    check_op("adaptive_max_pool2d", lambda t: functional_of(t).adaptive_max_pool2d(t, out),
             lambda a: adaptive_ref(a, full, np.max) if a.size and min(full) else np.zeros(shape[:-2] + full),
             arrays=[x], rng=rng, torch_fn=None if min(full) else False)
    values, indices = F.adaptive_max_pool2d(deepcore.tensor(x), out, return_indices=True)
    assert indices.dtype is deepcore.int64
    assert_close(indices.numpy(), adaptive_argmax_ref(x, full) if x.size and min(full) else
                 np.zeros(shape[:-2] + full, np.int64), 0, 0, "adaptive_max_pool2d indices")
    if _torch is not None:
        tv, ti = _torch.nn.functional.adaptive_max_pool2d(_torch.tensor(x), out, return_indices=True)
        assert_close(indices.numpy(), ti.numpy(), 0, 0, "adaptive_max_pool2d indices vs torch")


@pytest.mark.parametrize("shape,out", [((2, 3, 12), 4), ((2, 3, 11), 4), ((3, 7), (9,)), ((2, 1, 5), 5)], ids=str)
def test_adaptive_pool1d(shape, out, rng):
    n = out if isinstance(out, int) else out[0]
    check_op("adaptive_avg_pool1d", lambda t: functional_of(t).adaptive_avg_pool1d(t, out),
             lambda a: adaptive_ref(a[..., None, :], (1, n), np.mean)[..., 0, :], shapes=[shape], rng=rng)
    x = rng.permutation(np.prod(shape)).reshape(shape) / np.prod(shape) - 0.5
    check_op("adaptive_max_pool1d", lambda t: functional_of(t).adaptive_max_pool1d(t, out),
             lambda a: adaptive_ref(a[..., None, :], (1, n), np.max)[..., 0, :], arrays=[x], rng=rng)
    _, indices = F.adaptive_max_pool1d(deepcore.tensor(x), out, return_indices=True)
    assert_close(indices.numpy(), adaptive_argmax_ref(x[..., None, :], (1, n))[..., 0, :], 0, 0,
                 "adaptive_max_pool1d indices")


@pytest.mark.parametrize("out", [(2, 3), (3, 2), 2], ids=str)
def test_adaptive_max_pool2d_ties_and_nan_like_torch(out, torch):
    """Ties (a ReLU's zeros) send the gradient to the bin's first maximum, NaN wins its bin: as PyTorch."""
    x = np.zeros((1, 2, 4, 6), np.float32)
    x[0, 1] = np.arange(24).reshape(4, 6) % 3
    x[0, 0, 1, 1] = np.nan
    dx, tx = deepcore.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (dv, di), (tv, ti) = (F.adaptive_max_pool2d(dx, out, True), torch.nn.functional.adaptive_max_pool2d(tx, out, True))
    g = np.arange(1, 1 + tv.numel(), dtype=np.float32).reshape(tuple(tv.shape))
    dv.backward(deepcore.tensor(g))
    tv.backward(torch.tensor(g))
    assert_close(dv.detach().numpy(), tv.detach().numpy(), 0, 0, "values with ties and NaN")
    assert_close(di.numpy(), ti.numpy(), 0, 0, "indices with ties and NaN")
    assert_close(dx.grad.numpy(), tx.grad.numpy(), 0, 0, "gradient with ties and NaN")


def test_adaptive_pools_with_equal_bins_are_one_native_pool():
    x = deepcore.randn(2, 3, 8, 6, requires_grad=True)
    assert F.adaptive_avg_pool2d(x, (4, 3)).grad_fn.name == "AvgPool2d"
    assert F.adaptive_avg_pool2d(x, 1).grad_fn.name == "AvgPool2d"
    assert F.adaptive_max_pool2d(x, (2, 2)).grad_fn.name == "MaxPool2d"
    assert F.adaptive_avg_pool2d(x, (3, 3)).grad_fn.name != "AvgPool2d"  # 8 into 3: unequal bins
    assert F.adaptive_max_pool2d(x, (3, 3)).grad_fn.name != "MaxPool2d"


def test_adaptive_pool_errors_and_modules(torch):
    x = deepcore.ones(1, 2, 5, 6)
    for name in ("adaptive_avg_pool2d", "adaptive_max_pool2d"):
        f = getattr(F, name)
        with raises(ValueError, name, "4-D input", "(2, 5)"):
            f(deepcore.ones(2, 5), 2)
        with raises(ValueError, name, "non-zero size for non-batch dimensions", "dimension 2 being empty"):
            f(deepcore.ones(1, 2, 0, 4), 2)
        with raises(ValueError, name, "output_size must be 2 values"):
            f(x, (1, 2, 3))
        with raises(ValueError, name, "greater than or equal to 0"):
            f(x, -1)
        with raises(TypeError, name, "output_size"):
            f(x, 2.0)
        with raises(TypeError, name, "int64"):
            f(deepcore.ones(1, 1, 4, 4, dtype=deepcore.int64), 2)
    for name in ("adaptive_avg_pool1d", "adaptive_max_pool1d"):
        with raises(ValueError, name, "3-D input", "(1, 2, 5, 6)"):
            getattr(F, name)(x, 3)
        with raises(TypeError, name, "output_size"):
            getattr(F, name)(deepcore.ones(2, 5), None)
    rng = np.random.default_rng(2)
    a = rng.standard_normal((2, 3, 7, 9)).astype(np.float32)
    for build in (lambda ns: ns.AdaptiveAvgPool2d((None, 3)), lambda ns: ns.AdaptiveAvgPool2d(1),
                  lambda ns: ns.AdaptiveMaxPool2d((3, 4)), lambda ns: ns.AdaptiveMaxPool2d(2, return_indices=True)):
        dm, tm = build(deepcore.nn), build(torch.nn)
        assert repr(dm) == repr(tm)
        d, t = dm(deepcore.tensor(a)), tm(torch.tensor(a))
        for do, to in zip(d if isinstance(d, tuple) else (d,), t if isinstance(t, tuple) else (t,)):
            assert_close(do.numpy(), to.numpy(), 1e-6, 1e-6, repr(dm))
    b = a[:, :, 0]
    for build in (lambda ns: ns.AdaptiveAvgPool1d(4), lambda ns: ns.AdaptiveMaxPool1d(4, True)):
        dm, tm = build(deepcore.nn), build(torch.nn)
        assert repr(dm) == repr(tm)
        d, t = dm(deepcore.tensor(b)), tm(torch.tensor(b))
        for do, to in zip(d if isinstance(d, tuple) else (d,), t if isinstance(t, tuple) else (t,)):
            assert_close(do.numpy(), to.numpy(), 1e-6, 1e-6, repr(dm))
