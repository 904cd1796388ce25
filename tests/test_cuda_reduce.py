"""The CUDA reduce family (csrc/cuda/reduce.cu) against its CPU twin (csrc/cpu/reduce.cpp).

On the host launch emulator on every CI run, and on a real GPU when one is visible
(tests/cuda_twin.py). Random shapes with odd sizes, sizes around the block and warp widths (31,
32, 33, 255, 256, 257), empty tensors, 0-d tensors, strided views, every axis set, NaN.
"""
import itertools

import numpy as np
import pytest
from cuda_twin import ENGINES, C, assert_twin, cpu, load_engine, random_array, strided_view, to_dev, to_np

R = C.ReduceOp
RNG = np.random.default_rng(1414)


@pytest.fixture(params=ENGINES)
def engine(request):
    return load_engine(request.param)


DTYPES = {"float32": np.float32, "float64": np.float64, "int64": np.int64, "bool": np.bool_}
SHAPES = [(), (0,), (1,), (31,), (33,), (257,), (3, 0), (0, 4), (5, 7), (2, 3, 33), (4, 1, 65), (1030,)]


def _axis_sets(ndim):
    """Every subset of the axes (the empty one means all), with a negative spelling of one."""
    sets = [list(c) for k in range(ndim + 1) for c in itertools.combinations(range(ndim), k)]
    if ndim:
        sets.append([-1])
    return sets


def _check_reduce(engine, x, op, axes, keepdim):
    """The CUDA result, or the CUDA error, is the CPU's."""
    try:
        want = C.to_numpy(C.reduce(op, cpu(x), axes, keepdim))
    except (ValueError, TypeError) as e:
        with pytest.raises(type(e)):
            engine.reduce(op, to_dev(engine, x), axes, keepdim)
        return
    got = to_np(engine, engine.reduce(op, to_dev(engine, x), axes, keepdim))
    # float32 sums accumulate in float64 on both sides, in a different order.
    assert_twin(got, want, rtol=1e-6 if x.dtype == np.float32 else None)


@pytest.mark.parametrize("dtype", list(DTYPES))
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_reduce_matches_the_cpu_over_every_axis_set(engine, shape, dtype):
    x = random_array(RNG, shape, DTYPES[dtype])
    for op in (R.sum, R.mean, R.max, R.min):
        for axes in _axis_sets(len(shape)):
            for keepdim in (False, True):
                _check_reduce(engine, x, op, axes, keepdim)


@pytest.mark.parametrize("n", [255, 256, 257, 4099, 70001])
def test_long_sums_cross_blocks_and_warps(engine, n):
    # Integers in float32: the sum is exact in any order, so any lost or doubled element shows.
    x = RNG.integers(-100, 101, n).astype(np.float32)
    got = to_np(engine, engine.reduce(R.sum, to_dev(engine, x), [], False))
    assert float(got) == float(x.astype(np.int64).sum())
    # Many short rows: one block each (of one warp).
    m = RNG.integers(-5, 6, (min(n, 3000), 3)).astype(np.int64)
    assert_twin(to_np(engine, engine.reduce(R.sum, to_dev(engine, m), [1], False)), m.sum(axis=1))


def test_nan_wins_max_and_min_and_sums(engine):
    x = RNG.standard_normal((4, 70)).astype(np.float32)
    x[1, 3] = np.nan
    x[2, 69] = np.nan
    x[3, :] = -np.inf
    for op in (R.sum, R.mean, R.max, R.min):
        for axes in ([1], [0], []):
            _check_reduce(engine, x, op, axes, False)


@pytest.mark.parametrize("perm", [(1, 0), (2, 0, 1), (1, 2, 0)])
def test_strided_views(engine, perm):
    x = random_array(RNG, (6, 35, 3)[: len(perm)], np.float64)
    d = strided_view(to_dev(engine, x), perm)
    xt = np.transpose(x, perm)
    for op in (R.sum, R.max):
        for axes in _axis_sets(len(perm)):
            want = C.to_numpy(C.reduce(op, cpu(xt), axes, False))
            assert_twin(to_np(engine, engine.reduce(op, d, axes, False)), want)
            for ax in range(len(perm)):
                want = C.to_numpy(C.arg_reduce(op == R.max, cpu(xt), ax, False))
                assert_twin(to_np(engine, engine.arg_reduce(op == R.max, d, ax, False)), want)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool"])
@pytest.mark.parametrize("shape", [(), (1,), (33,), (5, 7), (2, 0, 3), (3, 257), (2, 3, 33)], ids=str)
def test_arg_reduce_matches_the_cpu(engine, shape, dtype):
    # Few distinct values: ties everywhere, so "the first index of the extreme" is what is tested.
    x = np.asarray(RNG.integers(-2, 3, shape), DTYPES[dtype])
    if dtype.startswith("float") and x.size > 4:
        x.flat[RNG.integers(0, x.size, 2)] = np.nan
    for is_max in (True, False):
        for axis in range(-max(len(shape), 1), max(len(shape), 1)):
            for keepdim in (False, True):
                try:
                    want = C.to_numpy(C.arg_reduce(is_max, cpu(x), axis, keepdim))
                except (ValueError, TypeError) as e:
                    with pytest.raises(type(e)):
                        engine.arg_reduce(is_max, to_dev(engine, x), axis, keepdim)
                    continue
                assert_twin(to_np(engine, engine.arg_reduce(is_max, to_dev(engine, x), axis, keepdim)), want)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_has_nonfinite(engine, dtype):
    for bad in (None, np.nan, np.inf, -np.inf):
        x = np.asarray(RNG.standard_normal((3, 301)), dtype)
        if bad is not None and dtype != np.int64:
            x[2, 300] = bad
        want = C.has_nonfinite(cpu(x))
        assert engine.has_nonfinite(to_dev(engine, x)) is want
        assert engine.has_nonfinite(strided_view(to_dev(engine, x), (1, 0))) is want
    assert engine.has_nonfinite(to_dev(engine, np.zeros((0, 3), dtype))) is False


def test_errors_are_the_cpus(engine):
    d = to_dev(engine, np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        engine.reduce(R.sum, d, [2], False)
    with pytest.raises(ValueError, match="appears twice"):
        engine.reduce(R.sum, d, [1, -1], False)
    with pytest.raises(ValueError, match="empty dimension"):
        engine.reduce(R.max, to_dev(engine, np.zeros((2, 0), np.float32)), [1], False)
    with pytest.raises(TypeError, match="mean"):
        engine.reduce(R.mean, to_dev(engine, np.zeros(3, np.int64)), [], False)
    with pytest.raises(ValueError, match="argmax"):
        engine.arg_reduce(True, to_dev(engine, np.zeros((2, 0), np.float32)), 1, False)
    with pytest.raises(ValueError):  # a CPU array given to the CUDA kernel
        engine.reduce(R.sum, cpu(np.zeros(3, np.float32)), [], False)
