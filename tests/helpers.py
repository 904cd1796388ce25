"""Helpers shared by the test files; the main one is for op tests, in the style of tinygrad's ``helper_test_op``.

    check_op("add", lambda a, b: a + b, np.add, shapes=[(3, 1, 4), (5, 4)])

For every call it

1. runs the deepcore function on float64 and float32 tensors and compares the
   values (and shape and dtype) with the NumPy reference computed in float64;
2. runs ``deepcore.autograd.gradcheck`` in float64 (small inputs only);
3. when PyTorch is importable, runs the same function on torch tensors (or
   ``torch_fn`` when the spelling differs) and compares values and the
   gradients of a random-weighted sum of the outputs with deepcore's, in float32.

Failures name the op, dtype, shapes and the maximum absolute error.

The small helpers below it are shared by several test files (one copy, here):
``named`` (parametrize ids), ``lib`` / ``functional_of`` (one lambda for deepcore and
torch), ``away_from_zero``, ``pair``, ``numpy_state`` (a torch module's weights as
arrays), ``raises`` / ``raises_in_order`` (message fragments), ``raw_ones`` (an
NDArray for the raw ``deepcore._C`` kernels) and MNIST's normalization constants.
"""
import re
import zlib

import numpy as np
import pytest

import deepcore

try:  # optional: the comparison with PyTorch runs only where it is installed
    import torch
except ImportError:  # pragma: no cover - depends on the environment
    torch = None

# (atol, rtol) per dtype for values compared with the float64 reference.
TOLERANCE = {"float64": (1e-10, 1e-9), "float32": (1e-5, 1e-4)}
GRADCHECK_MAX_ELEMENTS = 60  # finite differences cost two forward passes per element


def _as_list(out):
    if isinstance(out, (tuple, list)):
        return list(out)
    return [out]


def _to_numpy(x):
    if isinstance(x, deepcore.Tensor):
        return x.detach().numpy()
    if torch is not None and isinstance(x, torch.Tensor):
        return x.detach().numpy()
    return np.asarray(x)


def assert_close(actual, expected, atol, rtol, what):
    """|actual - expected| <= atol + rtol * |expected| elementwise (NaN matches NaN, inf matches the same inf)."""
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape}, expected {expected.shape}"
    if expected.dtype.kind in "biu":
        bad = actual != expected
        assert not bad.any(), (f"{what}: {int(bad.sum())} of {bad.size} elements differ; first at "
                               f"{np.argwhere(bad)[0].tolist()}: {actual[bad][0]!r} vs {expected[bad][0]!r}")
        return
    a = actual.astype(np.float64)
    e = expected.astype(np.float64)
    nan_a, nan_e = np.isnan(a), np.isnan(e)
    assert (nan_a == nan_e).all(), (f"{what}: NaN in different places: actual has {int(nan_a.sum())}, expected "
                                    f"{int(nan_e.sum())} (first mismatch at "
                                    f"{np.argwhere(nan_a != nan_e)[0].tolist()})")
    inf_e = np.isinf(e) & ~nan_e
    assert (a[inf_e] == e[inf_e]).all(), f"{what}: infinities differ"
    ok = ~(nan_e | inf_e)
    err = np.where(ok, np.abs(a - e), 0.0)
    excess = err - (atol + rtol * np.abs(np.where(ok, e, 0.0)))
    if excess.size and excess.max() > 0:
        idx = np.unravel_index(int(excess.argmax()), excess.shape)
        raise AssertionError(f"{what}: max abs error {err.max():.3g} (atol {atol:g}, rtol {rtol:g}); worst at "
                             f"index {tuple(int(i) for i in idx)}: {a[idx]!r} vs expected {e[idx]!r}")


def _is_float(arr):
    return np.asarray(arr).dtype.kind == "f"


def make_inputs(shapes, rng, low=-2.0, high=2.0):
    """float64 arrays uniform in [low, high) for the given shapes."""
    return [rng.uniform(low, high, size=s) for s in shapes]


def check_op(name, fn, ref, shapes=None, arrays=None, *, torch_fn=None, rng=None, low=-2.0, high=2.0,
             grad=True, gradcheck=True, atol=None, rtol=None, gradcheck_atol=1e-5, gradcheck_rtol=1e-3, torch_tol=None):
    """Test deepcore op `fn` against the float64 NumPy reference `ref` (and PyTorch).

    shapes: input shapes, drawn uniform in [low, high); or arrays: the inputs
    themselves (float arrays become float tensors, int/bool arrays int64/bool
    tensors that are not differentiated). fn may return a tensor or a tuple of
    tensors; ref returns the matching array(s). grad=False skips every
    gradient check (ops without a gradient, or not differentiable there);
    gradcheck=False keeps the PyTorch gradient comparison but skips finite
    differences (e.g. at a three-way tie of max, where they are one-sided).
    torch_fn: the op written against torch when fn's spelling does not work on
    torch tensors; False skips the PyTorch comparison.
    """
    if rng is None:
        rng = np.random.default_rng(zlib.crc32(name.encode()))
    if arrays is None:
        arrays = make_inputs(shapes, rng, low, high)
    arrays = [np.asarray(a) for a in arrays]
    desc = f"{name} on shapes {[tuple(a.shape) for a in arrays]}"
    expected = [np.asarray(e) for e in _as_list(ref(*[a.astype(np.float64) if _is_float(a) else a
                                                      for a in arrays]))]
    diff = [i for i, a in enumerate(arrays) if _is_float(a)]

    # 1. values in both float dtypes against the float64 reference
    outputs32 = None
    for dt in (deepcore.float64, deepcore.float32):
        xs = [deepcore.tensor(a, dtype=dt) if _is_float(a) else deepcore.tensor(a) for a in arrays]
        outs = _as_list(fn(*xs))
        assert len(outs) == len(expected), f"{desc}: {len(outs)} outputs, reference has {len(expected)}"
        d_atol, d_rtol = TOLERANCE[dt.name]
        tol = (atol[dt.name] if isinstance(atol, dict) else atol) if atol is not None else d_atol
        rtl = (rtol[dt.name] if isinstance(rtol, dict) else rtol) if rtol is not None else d_rtol
        for k, (o, e) in enumerate(zip(outs, expected)):
            assert isinstance(o, deepcore.Tensor), f"{desc} [{dt.name}]: output {k} is {type(o).__name__}"
            if e.dtype.kind == "f" and diff:
                assert o.dtype is dt, f"{desc} [{dt.name}]: output {k} has dtype {o.dtype.name}"
            assert_close(_to_numpy(o), e, tol, rtl, f"{desc} [{dt.name}] output {k}")
        if dt is deepcore.float32:
            outputs32 = outs

    if not grad or not gradcheck or not diff:
        pass
    # 2. gradcheck in float64, on small inputs
    elif sum(arrays[i].size for i in diff) <= GRADCHECK_MAX_ELEMENTS and all(arrays[i].size for i in diff):
        xs = [deepcore.tensor(a, dtype=deepcore.float64, requires_grad=True) if _is_float(a) else
              deepcore.tensor(a) for a in arrays]
        try:
            deepcore.autograd.gradcheck(fn, xs, atol=gradcheck_atol, rtol=gradcheck_rtol)
        except deepcore.autograd.GradcheckError as e:
            raise AssertionError(f"{desc}: {e}") from None

    # 3. PyTorch: values and gradients in float32
    if torch is None or torch_fn is False:
        return
    tfn = torch_fn or fn
    t_atol, t_rtol = torch_tol if torch_tol is not None else TOLERANCE["float32"]
    if atol is not None and torch_tol is None:
        t_atol = max(t_atol, atol["float32"] if isinstance(atol, dict) else atol)
    txs = [torch.tensor(a, dtype=torch.float32, requires_grad=grad) if _is_float(a) else torch.from_numpy(a.copy())
           for a in arrays]
    douts = None
    if grad:
        dxs = [deepcore.tensor(a, dtype=deepcore.float32, requires_grad=True) if _is_float(a) else
               deepcore.tensor(a) for a in arrays]
        douts = _as_list(fn(*dxs))
    touts = _as_list(tfn(*txs))
    for k, (t, o) in enumerate(zip(touts, douts or outputs32)):
        assert_close(_to_numpy(o), _to_numpy(t), t_atol, t_rtol, f"{desc} [float32] output {k} vs torch")
    if not grad:
        return
    weights = [rng.standard_normal(tuple(t.shape)).astype(np.float32) for t in touts]
    pairs = [(t, o, w) for t, o, w in zip(touts, douts, weights) if t.requires_grad]
    assert all(o.requires_grad for _, o, _ in pairs), f"{desc}: deepcore output does not require grad"
    if not pairs:
        return
    sum(((t * torch.from_numpy(w)).sum() for t, _, w in pairs), torch.zeros(())).backward()
    sum(((o * deepcore.tensor(w)).sum() for _, o, w in pairs), deepcore.zeros(())).backward()
    for i in diff:
        tg, dg = txs[i].grad, dxs[i].grad
        if tg is None:
            tg = torch.zeros_like(txs[i])
        assert dg is not None, f"{desc}: deepcore left input {i}'s .grad empty (torch: {tuple(tg.shape)})"
        scale = max(1.0, float(np.abs(_to_numpy(tg)).max(initial=0.0)))
        assert_close(_to_numpy(dg), _to_numpy(tg), t_atol * scale, t_rtol,
                     f"{desc} [float32] gradient of input {i} vs torch")


# ---- small helpers shared by several test files ----------------------------------------

def named(cases):
    """pytest.param per case, with the case's name (its first element) as the test id."""
    return [pytest.param(*c, id=c[0]) for c in cases]


def lib(x):
    """The library `x` belongs to, so one lambda serves deepcore and torch (deepcore.cat vs torch.cat)."""
    return deepcore if isinstance(x, deepcore.Tensor) else torch


def functional_of(x):
    """nn.functional of x's library."""
    return lib(x).nn.functional


def away_from_zero(rng, shape, lo=0.5, hi=2.0):
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(lo, hi, size=shape)


def pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def numpy_state(torch_module):
    return {k: v.detach().numpy().copy() for k, v in torch_module.state_dict().items()}


def raises(exc, *fragments):
    """pytest.raises whose message must contain every fragment (in any order)."""
    class _Checker:
        def __enter__(self):
            self.ctx = pytest.raises(exc)
            self.info = self.ctx.__enter__()
            return self.info

        def __exit__(self, *args):
            suppressed = self.ctx.__exit__(*args)
            msg = str(self.info.value)
            missing = [f for f in fragments if f not in msg]
            assert not missing, f"{exc.__name__} message {msg!r} lacks {missing}"
            return suppressed
    return _Checker()


def raises_in_order(exc, *fragments):
    """pytest.raises whose message must contain the fragments in this order."""
    return pytest.raises(exc, match=".*".join(re.escape(f) for f in fragments))


F32 = deepcore._C.DType.float32


def raw_ones(*shape, dtype=F32):
    """An NDArray of ones from the raw kernel, for tests that call deepcore._C directly."""
    return deepcore._C.full(list(shape), 1.0, dtype)


MNIST_MEAN, MNIST_STD = 0.1307, 0.3081  # the lecture's Normalize constants (MNIST's own pixel statistics)
