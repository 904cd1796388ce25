"""The CUDA engine (deepcore._C_cuda) against NumPy float64 references.

Everything that needs a GPU is skipped when ``deepcore.cuda.is_available()``
is False; the test that CPU-only use never loads a CUDA library always runs.
"""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

dc = pytest.importorskip("deepcore")


def _cuda_available():
    try:
        return bool(dc.cuda.is_available())
    except Exception:  # a broken CUDA install must not break collection
        return False


requires_cuda = pytest.mark.skipif(not _cuda_available(), reason="no CUDA device (deepcore.cuda.is_available() is False)")

RNG = np.random.default_rng(0)

BROADCAST_SHAPES = [
    ((3, 4), (3, 4)),
    ((3, 4), (4,)),
    ((2, 1, 5), (3, 1)),
    ((4, 1), (1, 4)),
    ((), (2, 3)),
    ((2, 3), ()),
    ((0, 3), (3,)),
    ((2, 3, 4, 5), (1, 3, 1, 5)),
]


def _cuda(a):
    return dc.tensor(a, device="cuda")


def _np(t):
    return t.cpu().numpy()


def _close(got, ref, dtype):
    assert got.shape == ref.shape, (got.shape, ref.shape)
    if dtype == np.float32:
        np.testing.assert_allclose(got.astype(np.float64), ref, rtol=2e-6, atol=1e-6, equal_nan=True)
    else:
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12, equal_nan=True)


# ---- without a GPU --------------------------------------------------------------


def test_cpu_only_use_never_loads_a_cuda_library():
    if not os.path.exists("/proc/self/maps"):
        pytest.skip("needs /proc/self/maps (Linux)")
    code = textwrap.dedent(
        """
        import deepcore as dc
        x = dc.tensor([[1.0, -2.0, 3.0], [4.0, 5.0, -6.0]])
        y = dc.randn(2, 3)
        z = (x + y) * 2 - x / 3
        z = z.relu().exp().sum() + (x > y).float().mean()
        w = dc.randn(3, 4, requires_grad=True)
        loss = (x.mm(w).tanh() ** 2).sum()
        loss.backward()
        _ = z.item(), w.grad.numpy()
        maps = open('/proc/self/maps').read()
        libs = sorted({line.split()[-1] for line in maps.splitlines()
                       if any(k in line for k in ('libcuda', 'libcudart', 'libcublas', 'libnvrtc', 'libnvidia'))})
        print('CUDA-LIBS:' + ','.join(libs))
        """
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    line = [ln for ln in r.stdout.splitlines() if ln.startswith("CUDA-LIBS:")][-1]
    assert line == "CUDA-LIBS:", f"CPU-only use mapped CUDA libraries: {line[len('CUDA-LIBS:'):]}"


def test_cuda_module_reports_devices_without_crashing():
    if not dc.cuda.is_built():
        pytest.skip("deepcore._C_cuda is not built")
    import deepcore._C_cuda as C_cuda
    n = C_cuda.device_count()
    assert isinstance(n, int) and n >= 0
    assert n == dc.cuda.device_count()
    for name in ("empty", "full", "contiguous", "copy_", "cast", "unary", "binary", "binary_scalar",
                 "to_device", "to_host", "device_count", "synchronize", "device_name"):
        assert hasattr(C_cuda, name), name
    if n == 0:
        C_cuda.synchronize()  # a no-op, not an error
        with pytest.raises(RuntimeError, match="no CUDA device"):
            C_cuda.empty([2], dc._C.DType.float32, 0)
        # A CPU array given to a CUDA op is a ValueError naming the op.
        cpu = dc.tensor([1.0, 2.0])._data
        with pytest.raises(ValueError, match="exp"):
            C_cuda.unary(dc._C.UnaryOp.exp, cpu)
        with pytest.raises(ValueError, match="to_host"):
            C_cuda.to_host(cpu)


# ---- with a GPU ---------------------------------------------------------------------


@requires_cuda
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.bool_])
@pytest.mark.parametrize("shape", [(), (1,), (7,), (3, 5), (2, 0, 3), (2, 3, 4, 5)])
def test_round_trip(dtype, shape):
    x = (RNG.standard_normal(shape) * 10).astype(dtype)
    t = dc.tensor(x).to("cuda")
    assert t.device.type == "cuda"
    assert t.is_cuda
    back = t.cpu().numpy()
    assert back.dtype == x.dtype and back.shape == x.shape
    np.testing.assert_array_equal(back, x)


@requires_cuda
def test_round_trip_non_contiguous_source_and_large():
    x = RNG.standard_normal((64, 48)).astype(np.float32)
    t = dc.tensor(x).t()  # a transposed (strided) CPU view
    np.testing.assert_array_equal(t.to("cuda").cpu().numpy(), x.T)
    big = RNG.standard_normal(3_000_001).astype(np.float32)
    np.testing.assert_array_equal(dc.tensor(big).cuda().cpu().numpy(), big)


@requires_cuda
def test_cuda_dtype_casts():
    x = np.array([-2.7, -0.0, 0.0, 0.4, 1.0, 3.9], dtype=np.float64)
    t = _cuda(x)
    np.testing.assert_array_equal(_np(t.float()), x.astype(np.float32))
    np.testing.assert_array_equal(_np(t.long()), x.astype(np.int64))
    np.testing.assert_array_equal(_np(t.bool()), x.astype(np.bool_))
    np.testing.assert_array_equal(_np(t.bool().float()), x.astype(np.bool_).astype(np.float32))


@requires_cuda
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shapes", BROADCAST_SHAPES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_binary_broadcasting_matches_numpy(dtype, shapes):
    sa, sb = shapes
    a = RNG.standard_normal(sa).astype(dtype)
    b = (RNG.standard_normal(sb) + 3.0).astype(dtype)  # away from 0 for div and pow
    pa, pb = np.abs(a) + 0.5, np.abs(b) + 0.5
    ta, tb, tpa, tpb = _cuda(a), _cuda(b), _cuda(pa), _cuda(pb)
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    _close(_np(ta + tb), a64 + b64, dtype)
    _close(_np(ta - tb), a64 - b64, dtype)
    _close(_np(ta * tb), a64 * b64, dtype)
    _close(_np(ta / tb), a64 / b64, dtype)
    _close(_np(tpa ** tpb), pa.astype(np.float64) ** pb.astype(np.float64), dtype)
    _close(_np(dc.maximum(ta, tb)), np.maximum(a64, b64), dtype)
    _close(_np(dc.minimum(ta, tb)), np.minimum(a64, b64), dtype)
    # scalars on either side (rsub, rdiv, rpow)
    _close(_np(ta + 2.5), a64 + np.float64(dtype(2.5)), dtype)
    _close(_np(2.5 - ta), np.float64(dtype(2.5)) - a64, dtype)
    _close(_np(3.0 / tb), 3.0 / b64, dtype)
    _close(_np(tpa ** 2), pa.astype(np.float64) ** 2, dtype)
    _close(_np(2 ** tpa), 2.0 ** pa.astype(np.float64), dtype)
    for t in (ta + tb, ta * 2.0):
        assert t.device.type == "cuda"


@requires_cuda
@pytest.mark.parametrize("shapes", BROADCAST_SHAPES[:5], ids=lambda s: f"{s[0]}x{s[1]}")
def test_comparisons_give_bool(shapes):
    sa, sb = shapes
    a = RNG.integers(-2, 3, sa).astype(np.float32)
    b = RNG.integers(-2, 3, sb).astype(np.float32)
    ta, tb = _cuda(a), _cuda(b)
    for got, ref in [(ta == tb, a == b), (ta != tb, a != b), (ta < tb, a < b), (ta <= tb, a <= b),
                     (ta > tb, a > b), (ta >= tb, a >= b), (ta > 0.5, a > 0.5), (ta == 1, a == 1)]:
        assert got.dtype == dc.bool
        assert got.device.type == "cuda"
        g = _np(got)
        assert g.dtype == np.bool_
        np.testing.assert_array_equal(g, ref)


@requires_cuda
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_unary_ops_match_numpy(dtype):
    x = RNG.standard_normal((5, 7)).astype(dtype) * 3
    x[0, 0] = 0.0
    pos = np.abs(x) + 0.1
    t, tp = _cuda(x), _cuda(pos)
    x64, p64 = x.astype(np.float64), pos.astype(np.float64)
    cases = [
        (t.exp(), np.exp(x64)), (tp.log(), np.log(p64)), (tp.sqrt(), np.sqrt(p64)), (t.abs(), np.abs(x64)),
        (t.tanh(), np.tanh(x64)), (t.sigmoid(), 1.0 / (1.0 + np.exp(-x64))), (t.relu(), np.maximum(x64, 0.0)),
        (-t, -x64), (t.neg(), -x64), (t.sign(), np.sign(x64)), (t.square(), x64 * x64), (1.0 / tp, 1.0 / p64),
    ]
    for got, ref in cases:
        assert got.device.type == "cuda"
        _close(_np(got), ref, dtype)


@requires_cuda
def test_raw_unary_reciprocal_and_int64():
    C_cuda = pytest.importorskip("deepcore._C_cuda")
    x = np.array([0.5, -2.0, 4.0, 0.0], dtype=np.float32)
    r = C_cuda.to_host(C_cuda.unary(dc._C.UnaryOp.reciprocal, C_cuda.to_device(dc.tensor(x)._data, 0)))
    with np.errstate(divide="ignore"):
        np.testing.assert_array_equal(dc._C.to_numpy(r), 1.0 / x)
    i = np.array([-3, 0, 5], dtype=np.int64)
    ti = _cuda(i)
    np.testing.assert_array_equal(_np(-ti), -i)
    np.testing.assert_array_equal(_np(ti.abs()), np.abs(i))
    np.testing.assert_array_equal(_np(ti * ti + 1), i * i + 1)


@requires_cuda
def test_special_values_match_the_cpu_engine():
    vals = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 1e-30, 80.0, -80.0, 100.0, -100.0],
                    dtype=np.float32)
    other = np.array([1.0, np.nan, 2.0, -0.0, 0.0, np.inf, -np.inf, 0.0, 1.0, np.nan, -3.0, 0.0], dtype=np.float32)
    c, g = dc.tensor(vals), _cuda(vals)
    co, go = dc.tensor(other), _cuda(other)
    with np.errstate(all="ignore"):
        for name in ("exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "sign", "square", "neg"):
            np.testing.assert_allclose(_np(getattr(g, name)()), getattr(c, name)().numpy(), rtol=2e-6, atol=0,
                                       equal_nan=True, err_msg=name)
        for fn in (lambda a, b: a + b, lambda a, b: a / b, lambda a, b: a ** b, dc.maximum, dc.minimum,
                   lambda a, b: a < b, lambda a, b: a == b, lambda a, b: a != b):
            np.testing.assert_allclose(_np(fn(g, go)), fn(c, co).numpy(), rtol=2e-6, atol=0, equal_nan=True)
    # NaN propagates through maximum/minimum, like NumPy
    m = _np(dc.maximum(g, go))
    assert np.isnan(m[0]) and np.isnan(m[1])


@requires_cuda
def test_inplace_ops_on_cuda():
    a = RNG.standard_normal((4, 5)).astype(np.float32)
    b = RNG.standard_normal((5,)).astype(np.float32)
    ta, tb = _cuda(a), _cuda(b)
    ident = id(ta)
    ta += tb
    assert id(ta) == ident and ta.device.type == "cuda"
    ref = a.astype(np.float64) + b
    _close(_np(ta), ref, np.float32)
    ta *= 2.0
    ta -= tb
    ref = ref * 2.0 - b
    _close(_np(ta), ref, np.float32)
    ta /= 4.0
    _close(_np(ta), ref / 4.0, np.float32)


@requires_cuda
def test_strided_cuda_operands():
    a = RNG.standard_normal((6, 4)).astype(np.float32)
    b = RNG.standard_normal((4, 6)).astype(np.float32)
    ta, tb = _cuda(a), _cuda(b)
    try:
        tat = ta.t()  # a transposed view of a CUDA tensor
    except NotImplementedError as e:
        pytest.skip(f"views of CUDA tensors not implemented: {e}")
    _close(_np(tat + tb), a.T.astype(np.float64) + b, np.float32)
    _close(_np(tat.exp()), np.exp(a.T.astype(np.float64)), np.float32)
    _close(_np(tat.contiguous()), a.T.astype(np.float64), np.float32)
    # in place through a transposed view writes the right elements
    tat += tb
    _close(_np(ta), a.astype(np.float64) + b.T, np.float32)


@requires_cuda
def test_mixing_cpu_and_cuda_tensors_is_an_error():
    a = dc.tensor([1.0, 2.0, 3.0])
    b = dc.tensor([1.0, 2.0, 3.0], device="cuda")
    for fn in (lambda: a + b, lambda: b + a, lambda: dc.maximum(a, b), lambda: a < b):
        with pytest.raises((ValueError, RuntimeError)) as info:
            fn()
        msg = str(info.value)
        assert "cpu" in msg and "cuda" in msg, msg
    with pytest.raises((ValueError, RuntimeError)) as info:
        b += a
    assert "cpu" in str(info.value) and "cuda" in str(info.value)


@requires_cuda
def test_device_properties():
    assert dc.cuda.device_count() >= 1
    name = dc.cuda.get_device_name(0)
    assert isinstance(name, str) and name
    dc.cuda.synchronize()
