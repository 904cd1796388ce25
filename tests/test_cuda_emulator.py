"""The CUDA kernels on the host launch emulator (deepcore._C_cuda_emu, csrc/cuda/emulator/).

Runs on every CI machine, GPU or not: the emulator itself (shared memory, __syncthreads, warp
shuffles, atomics), every emulated kernel against its CPU twin on random shapes (odd sizes,
tile edges, empty tensors, strided and broadcast views), and tests/test_cuda.py as a whole with
DEEPCORE_CUDA_EMULATOR=1. Skipped only where _C_cuda_emu is not built (-DDEEPCORE_CUDA_EMU=ON).
"""
import os
import subprocess
import sys

import numpy as np
import pytest

dc = pytest.importorskip("deepcore")
try:
    E = dc.cuda.emulator_module()
except ImportError as e:  # .ci/emulator builds it and sets DEEPCORE_CUDA_EMULATOR_DIR
    pytest.skip(f"deepcore._C_cuda_emu is not built (-DDEEPCORE_CUDA_EMU=ON, docs/cuda.md): {e}",
                allow_module_level=True)
C = dc._C

RNG = np.random.default_rng(14)
U, B = C.UnaryOp, C.BinaryOp
FLOAT_ONLY_UNARY = {"exp", "log", "sqrt", "tanh", "sigmoid", "reciprocal", "sin", "cos", "log1p", "expm1", "erf",
                    "erfinv"}
SHAPES = [(), (0,), (1,), (31,), (257,), (3, 0, 2), (5, 7), (2, 3, 33), (1029,)]
NP_DTYPES = {"float32": np.float32, "float64": np.float64, "int64": np.int64, "bool": np.bool_}


def _dev(x):
    # np.array, not np.ascontiguousarray: that one turns a 0-d array into shape (1,).
    return E.to_device(C.from_numpy(np.array(x, order="C")), 0)


def _host(a):
    return C.to_numpy(E.to_host(a))


def _random(shape, dtype):
    # np.asarray: a 0-d shape gives a NumPy scalar, which from_numpy does not take.
    if dtype == np.bool_:
        return np.asarray(RNG.random(shape) < 0.5)
    if dtype == np.int64:
        return np.asarray(RNG.integers(-9, 10, shape), np.int64)
    return np.asarray(RNG.standard_normal(shape) * 2, dtype)


def _same(got, ref):
    assert got.shape == ref.shape and got.dtype == ref.dtype, (got.shape, got.dtype, ref.shape, ref.dtype)
    # The same formulas on the same CPU: only libm-vs-approximation differences (erfinv) remain.
    if got.dtype.kind == "f":
        tol = 4e-6 if got.dtype == np.float32 else 1e-13
        np.testing.assert_allclose(got, ref, rtol=tol, atol=tol, equal_nan=True)
    else:
        np.testing.assert_array_equal(got, ref)


# ---- the emulator itself ---------------------------------------------------------------------


def test_emulator_module_says_what_it_is():
    assert E.is_emulator is True
    assert E.device_count() == 1
    assert "emulator" in E.device_name(0)


@pytest.mark.parametrize("n", [0, 1, 31, 32, 33, 255, 256, 257, 1000, 10007, 70001])
def test_shared_memory_syncthreads_shuffle_atomic_sum(n):
    # Integers, so the float32 sum is exact whatever the order: a wrong shuffle source, a missed
    # barrier or a lost atomic update changes the answer.
    x = RNG.integers(-50, 51, n).astype(np.float32)
    assert E.emulator_self_test_sum(_dev(x)) == float(x.astype(np.int64).sum())


@pytest.mark.parametrize("kind, says", [
    ("config", "invalid configuration argument"),
    ("deadlock", "deadlock: threads of the block wait at different barriers"),
    ("exited_lane", "names lane 16 of warp 0, which has returned"),
    ("lane_not_in_mask", "called by lane 1, which is not in its mask"),
])
def test_kernel_bugs_fail_the_launch_naming_the_kernel(kind, says):
    # A bug that would hang or corrupt a GPU run is a RuntimeError naming the op and the kernel,
    # and the emulator keeps working afterwards.
    with pytest.raises(RuntimeError, match="emulator_self_test_fault: fault_kernel: CUDA error") as info:
        E.emulator_self_test_fault(kind)
    assert says in str(info.value), str(info.value)
    x = np.arange(300, dtype=np.float32)
    assert E.emulator_self_test_sum(_dev(x)) == float(x.sum())
    with pytest.raises(ValueError, match="unknown fault"):
        E.emulator_self_test_fault("nonsense")


def test_self_test_refuses_bad_input():
    with pytest.raises(TypeError, match="float32"):
        E.emulator_self_test_sum(_dev(np.zeros(3)))
    with pytest.raises(ValueError, match="emulator_self_test_sum"):
        E.emulator_self_test_sum(C.from_numpy(np.zeros(3, np.float32)))


# ---- every emulated kernel against its CPU twin ------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_unary_kernels_match_the_cpu(dtype, shape):
    x = _random(shape, NP_DTYPES[dtype])
    if dtype != "int64" and x.size:
        x.flat[0] = np.nan
    for name, op in U.__members__.items():
        if dtype == "int64" and name in FLOAT_ONLY_UNARY:
            with pytest.raises(TypeError):
                E.unary(op, _dev(x))
            continue
        arg = np.asarray(np.tanh(x)) if name == "erfinv" else x  # erfinv's domain is [-1, 1]
        with np.errstate(all="ignore"):
            _same(_host(E.unary(op, _dev(arg))), C.to_numpy(C.unary(op, C.from_numpy(arg))))


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool"])
@pytest.mark.parametrize("shapes", [((5, 7), (5, 7)), ((33,), ()), ((2, 1, 3), (4, 1)), ((0, 3), (3,)),
                                    ((3, 1, 5, 1), (1, 4, 1, 6))], ids=str)
def test_binary_kernels_match_the_cpu(dtype, shapes):
    npd = NP_DTYPES[dtype]
    a, b = _random(shapes[0], npd), _random(shapes[1], npd)
    if dtype == "int64":
        b[b == 0] = 3  # integer division by zero is refused in Python, not in the kernel
    for name, op in B.__members__.items():
        ca, cb = C.from_numpy(a), C.from_numpy(b)
        try:
            ref = C.to_numpy(C.binary(op, ca, cb))
        except TypeError:  # not defined for this dtype on the CPU: the CUDA twin refuses it too
            with pytest.raises(TypeError):
                E.binary(op, _dev(a), _dev(b))
            continue
        with np.errstate(all="ignore"):
            _same(_host(E.binary(op, _dev(a), _dev(b))), ref)
            if dtype != "bool":
                for reverse in (False, True):
                    want = C.to_numpy(C.binary_scalar(op, ca, 3.0, reverse))
                    _same(_host(E.binary_scalar(op, _dev(a), 3.0, reverse)), want)


@pytest.mark.parametrize("src", ["float32", "float64", "int64", "bool"])
@pytest.mark.parametrize("dst", ["float32", "float64", "int64", "bool"])
def test_casts_match_the_cpu(src, dst):
    x = _random((3, 37), NP_DTYPES[src])
    want = C.to_numpy(C.cast(C.from_numpy(x), getattr(C.DType, dst)))
    _same(_host(E.cast(_dev(x), getattr(C.DType, dst))), want)


@pytest.mark.parametrize("shape", [(7, 9), (4, 33, 5), (0, 4)], ids=str)
def test_strided_views_and_broadcast_copies(shape):
    x = _random(shape, np.float32)
    d = _dev(x)
    # A transposed view (C.view works on any storage) through contiguous(): the strided copy kernel.
    shape_t, strides_t = list(reversed(d.shape)), list(reversed(d.strides))
    view = C.view(d, shape_t, strides_t, 0)
    assert not view.is_contiguous() or x.size == 0 or min(shape) == 1
    _same(_host(E.contiguous(view)), np.ascontiguousarray(x.T))
    # Unary and binary kernels on the strided view (the Indexer path).
    _same(_host(E.unary(U.exp, view)), C.to_numpy(C.unary(U.exp, C.from_numpy(np.ascontiguousarray(x.T)))))
    _same(_host(E.binary(B.mul, view, E.contiguous(view))), np.ascontiguousarray(x.T) * np.ascontiguousarray(x.T))
    row = _random(shape[-1:], np.float32)
    dst = E.empty(list(shape), C.DType.float64, 0)
    E.copy_(dst, _dev(row))
    _same(_host(dst), np.broadcast_to(row.astype(np.float64), shape).copy())
    full = E.full(list(shape), -2.5, C.DType.float32, 0)
    _same(_host(full), np.full(shape, -2.5, np.float32))


# ---- the whole CUDA test file on the emulator ---------------------------------------------------------


def test_cuda_test_suite_passes_on_the_emulator():
    env = dict(os.environ, DEEPCORE_CUDA_EMULATOR="1")
    here = os.path.dirname(os.path.abspath(__file__))
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", os.path.join(here, "test_cuda.py")]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    summary = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else r.stderr
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    # Nothing may be skipped: on the emulator every "requires a GPU" test must really run.
    assert "passed" in summary and "skipped" not in summary, summary
