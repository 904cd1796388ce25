"""The CUDA dropout (csrc/cuda/dropout.cu) against its CPU twin (csrc/cpu/dropout.cpp).

On the host launch emulator on every CI run, and on a real GPU when one is visible
(tests/cuda_twin.py): the same seed gives the same mask and output on both devices (the same
Philox stream, advanced by the same number of counters), for odd sizes, p = 0 and p = 1; the
backward; the same errors as the CPU.
"""
import numpy as np
import pytest
from cuda_twin import ENGINES, C, cpu, load_engine, strided_view, to_dev, to_np

RNG = np.random.default_rng(1421)


@pytest.fixture(params=ENGINES)
def engine(request):
    return load_engine(request.param)


@pytest.mark.parametrize("p", [0.0, 0.3, 0.5, 1.0])
@pytest.mark.parametrize("shape", [(0,), (1,), (3,), (5, 7), (2, 3, 33)], ids=str)
def test_the_same_seed_gives_the_same_mask_on_both_devices(engine, shape, p):
    x = RNG.standard_normal(shape).astype(np.float32)
    x.flat[:1] = np.inf  # a dropped inf gives NaN on both
    for seed in (0, 2**40 + 7):
        C.manual_seed(seed)
        want, want_mask = C.dropout(cpu(x), p)
        want_state = C.get_rng_state()
        C.manual_seed(seed)
        seed_, first = C.get_rng_state()
        got, got_mask = engine.dropout_at(to_dev(engine, x), p, seed_, first)
        np.testing.assert_array_equal(to_np(engine, got_mask), C.to_numpy(want_mask))
        np.testing.assert_array_equal(to_np(engine, got), C.to_numpy(want))
        assert want_state == (seed, (x.size + 3) // 4)
        g = RNG.standard_normal(shape).astype(np.float64)
        np.testing.assert_array_equal(
            to_np(engine, engine.dropout_backward(to_dev(engine, g), got_mask, p)),
            C.to_numpy(C.dropout_backward(cpu(g), want_mask, p)))
    if 0 < p < 1 and x.size > 100:
        kept = C.to_numpy(want_mask).mean()
        assert abs(kept - (1 - p)) < 0.15


def test_strided_input(engine):
    x = RNG.standard_normal((6, 5)).astype(np.float64)
    C.manual_seed(3)
    want, _ = C.dropout(cpu(np.ascontiguousarray(x.T)), 0.5)
    C.manual_seed(3)
    got, _ = engine.dropout_at(strided_view(to_dev(engine, x), (1, 0)), 0.5, *C.get_rng_state())
    np.testing.assert_array_equal(to_np(engine, got), C.to_numpy(want))


def test_errors_are_the_cpus(engine):
    d = to_dev(engine, np.zeros(4, np.float32))
    with pytest.raises(ValueError, match="between 0 and 1"):
        engine.dropout_at(d, 1.5, 0, 0)
    with pytest.raises(TypeError, match="float32 or float64"):
        engine.dropout_at(to_dev(engine, np.zeros(4, np.int64)), 0.5, 0, 0)
    with pytest.raises(TypeError, match="must be bool"):
        engine.dropout_backward(d, d, 0.5)
    with pytest.raises(ValueError, match="does not match the mask"):
        engine.dropout_backward(d, to_dev(engine, np.zeros(3, np.bool_)), 0.5)
