"""The CUDA engine (deepcore._C_cuda) against NumPy float64 references.

Everything that needs a GPU is skipped when ``deepcore.cuda.is_available()``
is False; the test that CPU-only use never loads a CUDA library always runs.
With DEEPCORE_CUDA_EMULATOR=1 the same tests run the CUDA kernels on the host
launch emulator (deepcore._C_cuda_emu); tests/test_cuda_emulator.py does that on every run.
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
    C_cuda = dc.cuda.engine_module()
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


def test_emulator_switches_are_checked():
    # A malformed DEEPCORE_CUDA_EMULATOR is refused, not read as "off"; a missing module or folder
    # is an ImportError saying how to build it (run in a child: the choice is read once).
    code = textwrap.dedent(
        """
        import os, deepcore as dc
        os.environ["DEEPCORE_CUDA_EMULATOR"] = "maybe"
        try:
            dc.cuda.is_available()
        except ValueError as e:
            print("REFUSED", "DEEPCORE_CUDA_EMULATOR" in str(e))
        os.environ["DEEPCORE_CUDA_EMULATOR_DIR"] = "/nonexistent/emulator"
        try:
            dc.cuda.emulator_module()
        except ImportError as e:
            print("NO-DIR", "not a directory" in str(e))
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEEPCORE_CUDA_EMULATOR")}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stderr
    assert "REFUSED True" in r.stdout and "NO-DIR True" in r.stdout, r.stdout


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
    C_cuda = dc.cuda.engine_module()
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


@requires_cuda
@pytest.mark.parametrize("shape", [(3, 4), (2, 33, 5), (0, 3), (257,)], ids=str)
def test_reductions_and_their_gradients_match_the_cpu(shape):
    x = RNG.standard_normal(shape)
    for dtype in (dc.float32, dc.float64):
        c = dc.tensor(x, dtype=dtype, requires_grad=True)
        g = dc.tensor(x, dtype=dtype, device="cuda", requires_grad=True)
        # (norm's backward needs the CUDA `where` kernel, not written yet)
        cases = [lambda t: t.sum(), lambda t: t.mean(-1), lambda t: t.sum(0, keepdim=True), lambda t: t.std(-1)]
        if x.size:
            cases += [lambda t: t.amax(-1), lambda t: t.max(), lambda t: t.min(0).values]
        for fn in cases:
            want, got = fn(c), fn(g)
            assert got.device.type == "cuda"
            tol = np.float32 if dtype == dc.float32 else None
            _close(_np(got.detach()), want.detach().numpy().astype(np.float64), tol)
            (want.sum() if want.dim() else want).backward()
            (got.sum() if got.dim() else got).backward()
            _close(_np(g.grad), c.grad.numpy().astype(np.float64), tol)
            c.grad = g.grad = None
        if x.size:
            for dim in range(len(shape)):
                np.testing.assert_array_equal(_np(g.argmax(dim)), c.argmax(dim).numpy())
                np.testing.assert_array_equal(_np(g.argmin(dim)), c.argmin(dim).numpy())


@requires_cuda
def test_activations_and_losses_train_through_the_tensor_api():
    import deepcore.nn.functional as F

    x = RNG.standard_normal((6, 5))
    target = np.array([0, 4, 2, 2, 1, 3])
    c = dc.tensor(x, dtype=dc.float32, requires_grad=True)
    g = dc.tensor(x, dtype=dc.float32, device="cuda", requires_grad=True)
    cases = [
        lambda t, y: F.cross_entropy(t, y, label_smoothing=0.1),
        lambda t, y: F.nll_loss(F.log_softmax(t, dim=1), y, reduction="sum"),
        lambda t, y: (F.softmax(t, dim=0) * t).sum(),
        lambda t, y: F.mse_loss(t.tanh(), t.sigmoid()),
        lambda t, y: F.l1_loss(F.leaky_relu(t, 0.1), t.relu()),
        lambda t, y: F.binary_cross_entropy_with_logits(t, t.sigmoid().detach()),
        lambda t, y: (F.gelu(t) * F.elu(t) + F.silu(t) * F.softplus(t) - F.hardswish(t)).sum(),
        lambda t, y: (F.max_pool2d(t.reshape(1, 1, 6, 5), 2) * 2
                      + F.avg_pool2d(t.reshape(1, 1, 6, 5), 3, 1, 1)[..., :3, :2]).sum(),
    ]
    for fn in cases:
        want = fn(c, dc.tensor(target))
        got = fn(g, dc.tensor(target, device="cuda"))
        assert got.device.type == "cuda"
        _close(_np(got.detach()), np.float64(want.item()), np.float32)
        want.backward()
        got.backward()
        _close(_np(g.grad), c.grad.numpy().astype(np.float64), np.float32)
        c.grad = g.grad = None


@requires_cuda
@pytest.mark.parametrize("make_opt", [lambda ps: dc.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
                                      lambda ps: dc.optim.Adam(ps, lr=0.01, amsgrad=True),
                                      lambda ps: dc.optim.RMSprop(ps, lr=0.01, centered=True)],
                         ids=["sgd", "adam", "rmsprop"])
def test_an_mlp_trains_the_same_on_cuda_as_on_the_cpu(make_opt):
    # Linear (matmul + bias), ReLU, log-softmax, NLL, backward and a fused optimizer step:
    # three steps on each device, the same losses and weights.
    import deepcore.nn as nn

    x = RNG.standard_normal((16, 7)).astype(np.float32)
    y = RNG.integers(0, 3, 16)
    losses, weights = {}, {}
    for device in ("cpu", "cuda"):
        dc.manual_seed(0)
        model = nn.Sequential(nn.Linear(7, 33), nn.ReLU(), nn.Linear(33, 3), nn.LogSoftmax(dim=1)).to(device)
        opt = make_opt(model.parameters())
        xs, ys = dc.tensor(x, device=device), dc.tensor(y, device=device)
        losses[device] = []
        for _ in range(3):
            opt.zero_grad()
            loss = nn.functional.nll_loss(model(xs), ys)
            loss.backward()
            opt.step()
            losses[device].append(loss.item())
        weights[device] = [p.detach().cpu().numpy() for p in model.parameters()]
    np.testing.assert_allclose(losses["cuda"], losses["cpu"], rtol=1e-5)
    assert losses["cpu"][-1] < losses["cpu"][0]
    for w_cuda, w_cpu in zip(weights["cuda"], weights["cpu"]):
        np.testing.assert_allclose(w_cuda, w_cpu, rtol=1e-5, atol=1e-6)


@requires_cuda
def test_a_small_cnn_trains_the_same_on_cuda_as_on_the_cpu():
    # The lecture CNN's layer kinds (Conv2d, ReLU, MaxPool2d, Flatten, Linear, cross-entropy) with
    # Adadelta, on 6 x 1 x 12 x 12 images: three steps on each device.
    import deepcore.nn as nn

    x = RNG.standard_normal((6, 1, 12, 12)).astype(np.float32)
    y = RNG.integers(0, 4, 6)
    losses, weights = {}, {}
    for device in ("cpu", "cuda"):
        dc.manual_seed(0)
        model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Conv2d(4, 5, 3, padding=1), nn.ReLU(),
                              nn.MaxPool2d(2), nn.Flatten(), nn.Linear(5 * 5 * 5, 4)).to(device)
        opt = dc.optim.Adadelta(model.parameters())
        xs, ys = dc.tensor(x, device=device), dc.tensor(y, device=device)
        losses[device] = []
        for _ in range(3):
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(xs), ys)
            loss.backward()
            opt.step()
            losses[device].append(loss.item())
        weights[device] = [p.detach().cpu().numpy() for p in model.parameters()]
    np.testing.assert_allclose(losses["cuda"], losses["cpu"], rtol=1e-5)
    for w_cuda, w_cpu in zip(weights["cuda"], weights["cpu"]):
        np.testing.assert_allclose(w_cuda, w_cpu, rtol=1e-4, atol=1e-6)


@requires_cuda
def test_dropout_draws_the_cpus_masks_from_the_same_seed():
    # The CUDA backend reserves the Philox counters as the CPU does: two draws in a row after one
    # manual_seed give the CPU's two masks, and leave the generator where the CPU leaves it.
    x = RNG.standard_normal((7, 9)).astype(np.float32)
    outs = {}
    for device in ("cpu", "cuda"):
        dc.manual_seed(5)
        t = dc.tensor(x, device=device)
        outs[device] = [dc.nn.functional.dropout(t, 0.4, training=True).cpu().numpy() for _ in range(2)]
        outs[device].append(dc._C.get_rng_state())
    np.testing.assert_array_equal(outs["cuda"][0], outs["cpu"][0])
    np.testing.assert_array_equal(outs["cuda"][1], outs["cpu"][1])
    assert not np.array_equal(outs["cpu"][0], outs["cpu"][1])
    assert outs["cuda"][2] == outs["cpu"][2]


@requires_cuda
def test_the_caching_allocator_reports_what_tensors_hold():
    import gc
    gc.collect()
    dc.cuda.empty_cache()
    base = dc.cuda.memory_allocated()
    dc.cuda.reset_peak_memory_stats()
    a = dc.zeros(1000, device="cuda")  # 4000 bytes, in a block rounded up from there
    held = dc.cuda.memory_allocated() - base
    assert 4000 <= held < 8192
    b = dc.ones(3000, device="cuda")
    peak = dc.cuda.max_memory_allocated()
    assert peak >= base + held + 12000
    del a, b
    gc.collect()
    assert dc.cuda.memory_allocated() == base  # freed blocks are no longer counted ...
    assert dc.cuda.memory_reserved() >= base + held + 12000  # ... but the cache keeps them
    assert dc.cuda.max_memory_allocated() == peak  # until the peak is reset
    dc.cuda.empty_cache()
    assert dc.cuda.memory_reserved() == dc.cuda.memory_allocated() == base
    dc.cuda.reset_peak_memory_stats("cuda:0")
    assert dc.cuda.max_memory_allocated(0) == base
    with pytest.raises(ValueError, match="CUDA device"):
        dc.cuda.memory_allocated("cpu")


def test_memory_counters_without_a_device_are_zero():
    counters = (dc.cuda.memory_allocated(), dc.cuda.max_memory_allocated(), dc.cuda.memory_reserved())
    if not _cuda_available():
        assert counters == (0, 0, 0)
    else:  # (the allocator test above checks the values on a device)
        assert all(isinstance(c, int) and c >= 0 for c in counters)
    dc.cuda.empty_cache()  # without a device, no-ops as torch.cuda's
    dc.cuda.reset_peak_memory_stats()
