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
