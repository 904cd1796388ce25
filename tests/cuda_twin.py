"""Shared by the CUDA twin tests (tests/test_cuda_<family>.py): each CUDA kernel against its CPU twin.

The CUDA engines a test runs on: the host launch emulator (deepcore._C_cuda_emu, where it is built:
.ci/emulator builds it on every CI run) and the real deepcore._C_cuda when a GPU is visible. A
test parametrized with ``ENGINES`` skips one that is not there, saying why.
"""
import numpy as np
import pytest

import deepcore as dc

C = dc._C


def _emulator():
    try:
        return dc.cuda.emulator_module(), None
    except ImportError as e:
        return None, f"deepcore._C_cuda_emu is not built (-DDEEPCORE_CUDA_EMU=ON, docs/cuda.md): {e}"


def _gpu():
    try:
        import deepcore._C_cuda as gpu
    except ImportError:
        return None, "deepcore._C_cuda is not built"
    if gpu.device_count() == 0:
        return None, "no CUDA device"
    return gpu, None


ENGINES = [pytest.param(_emulator, id="emulator"), pytest.param(_gpu, id="gpu")]


def load_engine(loader):
    """The CUDA engine module an ENGINES entry names, or a skip saying what is missing.

    Each test module defines its fixture with it:
        @pytest.fixture(params=ENGINES)
        def engine(request):
            return load_engine(request.param)
    """
    mod, why = loader()
    if mod is None:
        pytest.skip(why)
    return mod


def to_dev(engine, x):
    # np.array, not np.ascontiguousarray: that one turns a 0-d array into shape (1,).
    return engine.to_device(C.from_numpy(np.array(x, order="C")), 0)


def to_np(engine, a):
    return C.to_numpy(engine.to_host(a))


def cpu(x):
    return C.from_numpy(np.array(x, order="C"))


def strided_view(a, perm):
    """A permuted (non-contiguous) view of NDArray `a`, on whatever device `a` is."""
    return C.view(a, [a.shape[p] for p in perm], [a.strides[p] for p in perm], 0)


def random_array(rng, shape, dtype):
    # np.asarray: a 0-d shape gives a NumPy scalar, which from_numpy does not take.
    if dtype == np.bool_:
        return np.asarray(rng.random(shape) < 0.5)
    if dtype == np.int64:
        return np.asarray(rng.integers(-9, 10, shape), np.int64)
    return np.asarray(rng.standard_normal(shape) * 2, dtype)


def assert_twin(got, ref, rtol=None):
    """The CUDA result equals the CPU one: exactly for integers and bools, to rounding for floats."""
    assert got.shape == ref.shape and got.dtype == ref.dtype, (got.shape, got.dtype, ref.shape, ref.dtype)
    if got.dtype.kind == "f":
        tol = rtol if rtol is not None else (2e-6 if got.dtype == np.float32 else 1e-12)
        np.testing.assert_allclose(got, ref, rtol=tol, atol=tol, equal_nan=True)
    else:
        np.testing.assert_array_equal(got, ref)
