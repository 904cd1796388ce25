"""The CUDA pooling family (csrc/cuda/pool.cu) against its CPU twin (csrc/cpu/pool.cpp).

On the host launch emulator on every CI run, and on a real GPU when one is visible
(tests/cuda_twin.py): max and average pooling (overlapping windows, strides, padding, odd sizes,
the lecture's 2 x 2 / 2 with odd heights and widths), ties and NaN in max windows, nearest
upsampling, forward and backward; empty batches; the same errors as the CPU.
"""
import numpy as np
import pytest
from cuda_twin import ENGINES, C, cpu, load_engine, strided_view, to_dev, to_np

RNG = np.random.default_rng(1419)


@pytest.fixture(params=ENGINES)
def engine(request):
    return load_engine(request.param)


# (input shape, kernel, stride, padding)
GEOMETRIES = [((2, 3, 8, 8), (2, 2), (2, 2), (0, 0)), ((1, 2, 7, 9), (2, 2), (2, 2), (0, 0)),
              ((2, 1, 9, 7), (3, 3), (1, 1), (1, 1)), ((1, 2, 10, 11), (3, 2), (2, 3), (1, 1)),
              ((1, 1, 5, 5), (5, 5), (1, 1), (2, 2)), ((3, 2, 6, 4), (1, 1), (1, 1), (0, 0)),
              ((0, 3, 6, 6), (2, 2), (2, 2), (0, 0)), ((1, 1, 13, 3), (4, 1), (3, 1), (2, 0))]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("geometry", GEOMETRIES, ids=str)
def test_pooling_forward_and_backward_match_the_cpu(engine, geometry, dtype):
    shape, k, s, p = geometry
    # Few distinct values: ties in most windows, where the first maximum must win on both sides.
    x = np.asarray(RNG.integers(-3, 4, shape), dtype)
    if x.size > 10:
        x.flat[RNG.integers(0, x.size, 3)] = np.nan
    args = (list(k), list(s), list(p))
    dx = to_dev(engine, x)
    for name in ("max_pool2d", "avg_pool2d"):
        want = getattr(C, name + "_forward")(cpu(x), *args)
        got = getattr(engine, name + "_forward")(dx, *args)
        if name == "max_pool2d":  # a selection: the same bits
            np.testing.assert_array_equal(to_np(engine, got), C.to_numpy(want))
        else:
            np.testing.assert_allclose(to_np(engine, got), C.to_numpy(want), rtol=1e-6, equal_nan=True)
        g = np.asarray(RNG.standard_normal(want.shape), dtype)
        if name == "max_pool2d":
            want_b = C.max_pool2d_backward(cpu(g), cpu(x), *args)
            got_b = engine.max_pool2d_backward(to_dev(engine, g), dx, *args)
        else:
            want_b = C.avg_pool2d_backward(cpu(g), list(shape), *args)
            got_b = engine.avg_pool2d_backward(to_dev(engine, g), list(shape), *args)
        # Overlapping windows add up in the CPU's order: the same bits.
        np.testing.assert_array_equal(to_np(engine, got_b), C.to_numpy(want_b))


@pytest.mark.parametrize("scale", [(1, 1), (2, 2), (3, 1), (2, 5)], ids=str)
@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (1, 1, 1, 1), (0, 2, 3, 3), (1, 2, 7, 3)], ids=str)
def test_upsampling_matches_the_cpu(engine, shape, scale):
    x = RNG.standard_normal(shape).astype(np.float32)
    want = C.upsample_nearest2d_forward(cpu(x), list(scale))
    got = engine.upsample_nearest2d_forward(to_dev(engine, x), list(scale))
    np.testing.assert_array_equal(to_np(engine, got), C.to_numpy(want))
    g = RNG.standard_normal(want.shape).astype(np.float32)
    np.testing.assert_array_equal(
        to_np(engine, engine.upsample_nearest2d_backward(to_dev(engine, g), list(scale))),
        C.to_numpy(C.upsample_nearest2d_backward(cpu(g), list(scale))))


def test_strided_input(engine):
    x = RNG.standard_normal((2, 9, 8, 3))  # NHWC in memory, NCHW as a view
    view = strided_view(to_dev(engine, x), (0, 3, 1, 2))
    xt = np.ascontiguousarray(np.transpose(x, (0, 3, 1, 2)))
    for name in ("max_pool2d_forward", "avg_pool2d_forward"):
        np.testing.assert_allclose(to_np(engine, getattr(engine, name)(view, [3, 2], [2, 2], [1, 1])),
                                   C.to_numpy(getattr(C, name)(cpu(xt), [3, 2], [2, 2], [1, 1])), rtol=1e-12)


def test_errors_are_the_cpus(engine):
    d = to_dev(engine, np.zeros((1, 1, 4, 4), np.float32))
    with pytest.raises(ValueError, match="expected a 4-D input"):
        engine.max_pool2d_forward(to_dev(engine, np.zeros((4, 4), np.float32)), [2, 2], [2, 2], [0, 0])
    with pytest.raises(ValueError, match="padding should be at most half"):
        engine.avg_pool2d_forward(d, [2, 2], [2, 2], [2, 2])
    with pytest.raises(ValueError, match="smaller than the kernel"):
        engine.max_pool2d_forward(d, [5, 5], [1, 1], [0, 0])
    with pytest.raises(ValueError, match="kernel_size must have 2 values"):
        engine.max_pool2d_forward(d, [2], [2, 2], [0, 0])
    with pytest.raises(ValueError, match="grad_out has shape"):
        engine.max_pool2d_backward(d, d, [2, 2], [2, 2], [0, 0])
    with pytest.raises(ValueError, match="not a multiple of the scale"):
        engine.upsample_nearest2d_backward(to_dev(engine, np.zeros((1, 1, 3, 4), np.float32)), [2, 2])
    with pytest.raises(TypeError, match="float32 or float64"):
        engine.max_pool2d_forward(to_dev(engine, np.zeros((1, 1, 4, 4), np.int64)), [2, 2], [2, 2], [0, 0])
