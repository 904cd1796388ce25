"""The CUDA activation family (csrc/cuda/activation.cu) against its CPU twin (csrc/cpu/activation.cpp).

On the host launch emulator on every CI run, and on a real GPU when one is visible
(tests/cuda_twin.py): leaky_relu and its backward, the tanh and sigmoid backward passes, the
pointwise kinds (elu ... threshold) forward and backward, softmax
and log_softmax forward and backward over every axis, on odd sizes, sizes around the warp and
block widths, empty and 0-d tensors, strided views, and NaN / +-inf / huge values.
"""
import numpy as np
import pytest
from cuda_twin import ENGINES, C, assert_twin, cpu, load_engine, random_array, strided_view, to_dev, to_np

RNG = np.random.default_rng(1415)


@pytest.fixture(params=ENGINES)
def engine(request):
    return load_engine(request.param)


SHAPES = [(), (0,), (1,), (31,), (33,), (257,), (3, 0), (5, 7), (2, 3, 33), (4, 1, 65)]
SPECIAL = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e30, -1e30, 1e-30]


def _with_specials(x):
    x = x.copy()
    k = min(x.size, len(SPECIAL))
    x.flat[:k] = np.asarray(SPECIAL[:k], x.dtype)
    return x


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_pointwise_forward_and_backward(engine, shape, dtype):
    x = _with_specials(random_array(RNG, shape, dtype))
    g = random_array(RNG, shape, dtype)
    y = np.tanh(x).astype(dtype)
    with np.errstate(all="ignore"):
        for slope in (0.0, 0.01, -2.5):
            assert_twin(to_np(engine, engine.leaky_relu(to_dev(engine, x), slope)),
                        C.to_numpy(C.leaky_relu(cpu(x), slope)))
            assert_twin(to_np(engine, engine.leaky_relu_backward(to_dev(engine, g), to_dev(engine, x), slope)),
                        C.to_numpy(C.leaky_relu_backward(cpu(g), cpu(x), slope)))
        assert_twin(to_np(engine, engine.tanh_backward(to_dev(engine, g), to_dev(engine, y))),
                    C.to_numpy(C.tanh_backward(cpu(g), cpu(y))))
        assert_twin(to_np(engine, engine.sigmoid_backward(to_dev(engine, g), to_dev(engine, y))),
                    C.to_numpy(C.sigmoid_backward(cpu(g), cpu(y))))


def test_relu_backward_is_zero_for_an_infinite_gradient(engine):
    g = np.array([np.inf, -np.inf, 1.0], np.float32)
    x = np.array([-1.0, 0.0, 2.0], np.float32)
    got = to_np(engine, engine.leaky_relu_backward(to_dev(engine, g), to_dev(engine, x), 0.0))
    np.testing.assert_array_equal(got, [0.0, 0.0, 1.0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_softmax_and_log_softmax_over_every_axis(engine, shape, dtype):
    x = random_array(RNG, shape, dtype) * 4
    g = random_array(RNG, shape, dtype)
    for axis in range(-max(len(shape), 1), max(len(shape), 1)):
        for name in ("softmax", "log_softmax"):
            fwd = getattr(engine, name)(to_dev(engine, x), axis)
            want = getattr(C, name)(cpu(x), axis)
            assert_twin(to_np(engine, fwd), C.to_numpy(want), rtol=4e-6 if dtype == np.float32 else None)
            back = getattr(engine, name + "_backward")(to_dev(engine, g), fwd, axis)
            want_back = getattr(C, name + "_backward")(cpu(g), want, axis)
            assert_twin(to_np(engine, back), C.to_numpy(want_back), rtol=4e-6 if dtype == np.float32 else None)


def test_softmax_rows_with_nan_inf_and_huge_values(engine):
    x = RNG.standard_normal((6, 40)).astype(np.float32)
    x[0, 5] = np.nan          # a NaN row stays NaN
    x[1, :] = -np.inf         # all -inf: the CPU's rule (shift by 0) gives NaN
    x[2, 7] = np.inf
    x[3, :] = 1e30            # huge but equal: uniform
    x[4, 3] = -1e30
    with np.errstate(all="ignore"):
        for name in ("softmax", "log_softmax"):
            for axis in (0, 1):
                assert_twin(to_np(engine, getattr(engine, name)(to_dev(engine, x), axis)),
                            C.to_numpy(getattr(C, name)(cpu(x), axis)), rtol=4e-6)


def test_strided_inputs(engine):
    x = random_array(RNG, (5, 36, 3), np.float64)
    g = random_array(RNG, (5, 36, 3), np.float64)
    perm = (2, 0, 1)
    dx, dg = strided_view(to_dev(engine, x), perm), strided_view(to_dev(engine, g), perm)
    xt, gt = np.transpose(x, perm), np.transpose(g, perm)
    assert not dx.is_contiguous()
    assert_twin(to_np(engine, engine.leaky_relu(dx, 0.1)), C.to_numpy(C.leaky_relu(cpu(xt), 0.1)))
    assert_twin(to_np(engine, engine.tanh_backward(dg, dx)), C.to_numpy(C.tanh_backward(cpu(gt), cpu(xt))))
    for axis in range(3):
        y = engine.softmax(dx, axis)
        assert_twin(to_np(engine, y), C.to_numpy(C.softmax(cpu(xt), axis)))
        assert_twin(to_np(engine, engine.softmax_backward(dg, y, axis)),
                    C.to_numpy(C.softmax_backward(cpu(gt), C.softmax(cpu(xt), axis), axis)))


# kind, a, b (the CPU's defaults where the kind takes none)
KINDS = [("elu", 1.0, 0.0), ("elu", 0.3, 0.0), ("selu", 0.0, 0.0), ("celu", 0.7, 0.0), ("gelu", 0.0, 0.0),
         ("gelu_tanh", 0.0, 0.0), ("silu", 0.0, 0.0), ("mish", 0.0, 0.0), ("softplus", 1.0, 20.0),
         ("softplus", 2.0, 3.0), ("hardtanh", -1.0, 1.0), ("hardtanh", 0.0, 6.0), ("hardsigmoid", 0.0, 0.0),
         ("hardswish", 0.0, 0.0), ("logsigmoid", 0.0, 0.0), ("softsign", 0.0, 0.0), ("threshold", 0.5, -2.0)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", KINDS, ids=lambda k: f"{k[0]}({k[1]},{k[2]})")
def test_pointwise_activation_kinds_forward_and_backward(engine, kind, dtype):
    name, a, b = kind
    # Wide values (the saturated and linear regions), the kinks at -3, 0, 3 and the thresholds,
    # specials; an odd size across several blocks, and a strided view.
    x = np.concatenate([random_array(RNG, (301,), dtype) * 8, np.asarray([-3, 0, 3, a, b, 20, 21, -40, 40], dtype),
                        np.asarray(SPECIAL, dtype)])
    g = random_array(RNG, x.shape, dtype)
    # The CPU runs float32 through its own vector exp/erfc/log, the device through its own: about 1e-6 apart.
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-14)
    with np.errstate(all="ignore"):
        got = to_np(engine, engine.activation(to_dev(engine, x), name, a, b))
        np.testing.assert_allclose(got, C.to_numpy(C.activation(cpu(x), name, a, b)), equal_nan=True, **tol)
        got = to_np(engine, engine.activation_backward(to_dev(engine, g), to_dev(engine, x), name, a, b))
        want = C.to_numpy(C.activation_backward(cpu(g), cpu(x), name, a, b))
        np.testing.assert_allclose(got, want, equal_nan=True, **tol)
        x2 = random_array(RNG, (4, 37), dtype)
        view = strided_view(to_dev(engine, x2), (1, 0))
        np.testing.assert_allclose(to_np(engine, engine.activation(view, name, a, b)),
                                   C.to_numpy(C.activation(cpu(x2.T), name, a, b)), equal_nan=True, **tol)
    assert got.dtype == dtype and got.shape == x.shape


def test_errors_are_the_cpus(engine):
    d = to_dev(engine, np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="dim 2 is out of range"):
        engine.softmax(d, 2)
    with pytest.raises(TypeError, match="float32 or float64"):
        engine.log_softmax(to_dev(engine, np.zeros(3, np.int64)), 0)
    with pytest.raises(TypeError, match="float32 or float64"):
        engine.leaky_relu(to_dev(engine, np.zeros(3, np.int64)), 0.1)
    with pytest.raises(ValueError, match="does not match"):
        engine.tanh_backward(d, to_dev(engine, np.zeros((3, 2), np.float32)))
    with pytest.raises(TypeError, match="dtype"):
        engine.sigmoid_backward(d, to_dev(engine, np.zeros((2, 3), np.float64)))
    with pytest.raises(ValueError):  # a CPU array given to the CUDA kernel
        engine.softmax(cpu(np.zeros(3, np.float32)), 0)
    with pytest.raises(ValueError, match="unknown activation kind 'swish'"):
        engine.activation(d, "swish", 0.0, 0.0)
    with pytest.raises(ValueError, match="celu's alpha cannot be 0"):
        engine.activation(d, "celu", 0.0, 0.0)
    with pytest.raises(ValueError, match="min_val 2 is above max_val 1"):
        engine.activation_backward(d, d, "hardtanh", 2.0, 1.0)
    with pytest.raises(TypeError, match="float32 or float64"):
        engine.activation(to_dev(engine, np.zeros(3, np.int64)), "gelu", 0.0, 0.0)
