"""The CUDA conv2d (csrc/cuda/conv.cu) against NumPy float64 and its CPU twin (csrc/cpu/conv.cpp).

On the host launch emulator on every CI run, and on a real GPU when one is visible
(tests/cuda_twin.py): the forward pass and both backward passes over strides, dilations,
symmetric and asymmetric padding, groups (depthwise too), 1 x 1 kernels, odd sizes and empty
batches; the same errors as the CPU.
"""
import numpy as np
import pytest
from cuda_twin import ENGINES, C, cpu, load_engine, to_dev, to_np

RNG = np.random.default_rng(1420)


@pytest.fixture(params=ENGINES)
def engine(request):
    return load_engine(request.param)


# (x shape, weight shape, stride, padding (2 or 4 values), dilation, groups)
GEOMETRIES = [((2, 3, 7, 6), (4, 3, 3, 3), (1, 1), (1, 1), (1, 1), 1),
              ((1, 2, 9, 8), (3, 2, 3, 2), (2, 3), (0, 1), (1, 1), 1),
              ((2, 4, 8, 8), (6, 2, 3, 3), (1, 2), (2, 2), (2, 1), 2),
              ((1, 3, 5, 5), (3, 1, 3, 3), (1, 1), (1, 1), (1, 1), 3),
              ((3, 2, 4, 5), (5, 2, 1, 1), (1, 1), (0, 0), (1, 1), 1),
              ((1, 1, 6, 7), (2, 1, 4, 3), (1, 1), (1, 2, 0, 2), (1, 1), 1),
              ((0, 2, 5, 5), (3, 2, 3, 3), (1, 1), (1, 1), (1, 1), 1),
              ((2, 1, 28, 28), (4, 1, 5, 5), (1, 1), (0, 0), (1, 1), 1)]


def _reference(x, w, b, stride, padding, dilation, groups):
    """float64 NumPy conv2d (the definition: a sum over every window)."""
    pt, pb, pl, pr = (padding[0], padding[0], padding[1], padding[1]) if len(padding) == 2 else padding
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    n, c, h, wd = xp.shape
    o, cg, kh, kw = w.shape
    oh = (h - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    ow = (wd - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    out = np.zeros((n, o, oh, ow))
    og = o // groups
    for oc in range(o):
        c0 = oc // og * cg
        for ky in range(kh):
            for kx in range(kw):
                ys, xs = ky * dilation[0], kx * dilation[1]
                patch = xp[:, c0:c0 + cg, ys:ys + stride[0] * oh:stride[0], xs:xs + stride[1] * ow:stride[1]]
                out[:, oc] += np.einsum("nchw,c->nhw", patch[:, :, :oh, :ow], w[oc, :, ky, kx].astype(np.float64))
    return out + (0 if b is None else b.astype(np.float64)[None, :, None, None])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("geometry", GEOMETRIES, ids=str)
def test_conv2d_forward_and_backward(engine, geometry, dtype):
    xs, ws, stride, padding, dilation, groups = geometry
    x = RNG.standard_normal(xs).astype(dtype)
    w = RNG.standard_normal(ws).astype(dtype)
    b = RNG.standard_normal(ws[0]).astype(dtype)
    args = (list(stride), list(padding), list(dilation), groups)
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    for bias in (None, b):
        got = to_np(engine, engine.conv2d_forward(to_dev(engine, x), to_dev(engine, w),
                                                  None if bias is None else to_dev(engine, bias), *args))
        np.testing.assert_allclose(got, _reference(x, w, bias, stride, padding, dilation, groups), **tol)
    g = RNG.standard_normal(got.shape).astype(dtype)
    want_dx = C.to_numpy(C.conv2d_backward_input(cpu(g), cpu(w), list(xs), *args))
    got_dx = to_np(engine, engine.conv2d_backward_input(to_dev(engine, g), to_dev(engine, w), list(xs), *args))
    np.testing.assert_allclose(got_dx, want_dx, **tol)
    want_dw, want_db = C.conv2d_backward_weight(cpu(g), cpu(x), list(ws), True, *args)
    got_dw, got_db = engine.conv2d_backward_weight(to_dev(engine, g), to_dev(engine, x), list(ws), True, *args)
    np.testing.assert_allclose(to_np(engine, got_dw), C.to_numpy(want_dw), **tol)
    np.testing.assert_allclose(to_np(engine, got_db), C.to_numpy(want_db), **tol)
    dw_only, none = engine.conv2d_backward_weight(to_dev(engine, g), to_dev(engine, x), list(ws), False, *args)
    assert none is None
    np.testing.assert_allclose(to_np(engine, dw_only), C.to_numpy(want_dw), **tol)


def test_errors_are_the_cpus(engine):
    x = to_dev(engine, np.zeros((1, 3, 5, 5), np.float32))
    w = to_dev(engine, np.zeros((2, 3, 3, 3), np.float32))
    args = ([1, 1], [0, 0], [1, 1])
    with pytest.raises(ValueError, match="input has 3 channels but weight expects 2"):
        engine.conv2d_forward(x, to_dev(engine, np.zeros((2, 2, 3, 3), np.float32)), None, *args, 1)
    with pytest.raises(ValueError, match="not divisible by groups"):
        engine.conv2d_forward(to_dev(engine, np.zeros((1, 2, 5, 5), np.float32)),
                              to_dev(engine, np.zeros((3, 1, 3, 3), np.float32)), None, *args, 2)
    with pytest.raises(ValueError, match="smaller than the dilated kernel"):
        engine.conv2d_forward(x, w, None, [1, 1], [0, 0], [3, 3], 1)
    with pytest.raises(ValueError, match="bias must have shape"):
        engine.conv2d_forward(x, w, to_dev(engine, np.zeros(3, np.float32)), *args, 1)
    with pytest.raises(TypeError, match="expected float32 like the other operands"):
        engine.conv2d_forward(x, to_dev(engine, np.zeros((2, 3, 3, 3))), None, *args, 1)
    with pytest.raises(ValueError, match="grad_out has shape"):
        engine.conv2d_backward_input(x, w, [1, 3, 5, 5], *args, 1)
    with pytest.raises(ValueError, match="stride must be positive"):
        engine.conv2d_forward(x, w, None, [0, 1], [0, 0], [1, 1], 1)
