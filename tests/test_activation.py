"""Activation family (softmax, log_softmax, relu/leaky_relu/tanh/sigmoid as F functions and nn layers) against NumPy float64, gradcheck and PyTorch."""
import math

import numpy as np
import pytest

import deepcore
import deepcore.nn.functional as F
from helpers import assert_close, away_from_zero, check_op, functional_of, lib, named, raises, torch as _torch


def softmax_ref(x, axis):
    if x.ndim == 0:
        return np.ones_like(x)
    if x.size == 0:
        return x.copy()
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax_ref(x, axis):
    if x.ndim == 0:
        return np.zeros_like(x)
    if x.size == 0:
        return x.copy()
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


# ---- softmax / log_softmax -------------------------------------------------------------------

@pytest.mark.parametrize("dim", [0, 1, 2, -1, -2])
@pytest.mark.parametrize("name,ref", [("softmax", softmax_ref), ("log_softmax", log_softmax_ref)])
def test_softmax(name, ref, dim, rng):
    check_op(f"{name}(dim={dim})", lambda a: getattr(a, name)(dim), lambda a: ref(a, dim), [(3, 4, 5)], rng=rng)
    check_op(f"deepcore.{name}(dim={dim})", lambda a: getattr(lib(a), name)(a, dim=dim), lambda a: ref(a, dim),
             [(2, 3, 2)], rng=rng)


@pytest.mark.parametrize("shape,dim", [((1,), 0), ((5,), 0), ((1, 4), 0), ((4, 1), 1), ((3, 1000), 1),
                                       ((2, 0), 0), ((0, 3), 1), ((), 0)], ids=str)
@pytest.mark.parametrize("name,ref", [("softmax", softmax_ref), ("log_softmax", log_softmax_ref)])
def test_softmax_shapes(name, ref, shape, dim, rng):
    check_op(f"{name}(dim={dim})", lambda a: getattr(a, name)(dim), lambda a: ref(a, dim), [shape], rng=rng,
             gradcheck=int(np.prod(shape)) <= 60)


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("name,ref", [("softmax", softmax_ref), ("log_softmax", log_softmax_ref)])
def test_softmax_large_values_are_stable(name, ref, dim, rng):
    a = rng.uniform(-1e4, 1e4, (3, 4, 5))
    a[0, 0, :] = 1e4  # a row of equal, huge values
    a[1, :, 1] = -1e4
    check_op(f"{name}(dim={dim}) of values ~1e4", lambda x: getattr(x, name)(dim), lambda x: ref(x, dim),
             arrays=[a], rng=rng)
    out = getattr(deepcore.tensor(a, dtype=deepcore.float32), name)(dim).numpy()
    assert np.isfinite(out).all(), f"{name}: NaN or inf in the float32 output for inputs ~1e4"


def test_softmax_rows_sum_to_one(rng):
    x = deepcore.tensor(rng.standard_normal((6, 9)) * 30)
    assert_close(x.softmax(1).sum(1).numpy(), np.ones(6), 1e-6, 0, "softmax row sums")
    assert_close(x.log_softmax(0).exp().sum(0).numpy(), np.ones(9), 1e-5, 0, "exp(log_softmax) column sums")


# ---- nn activation layers --------------------------------------------------------------------

@pytest.mark.parametrize("name,module,ref", [
    ("relu", lambda ns: ns.ReLU(), lambda x: np.maximum(x, 0)),
    ("leaky_relu", lambda ns: ns.LeakyReLU(0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
    ("tanh", lambda ns: ns.Tanh(), np.tanh),
    ("sigmoid", lambda ns: ns.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
    ("softmax", lambda ns: ns.Softmax(dim=1), lambda x: np.exp(x) / np.exp(x).sum(1, keepdims=True)),
    ("log_softmax", lambda ns: ns.LogSoftmax(dim=1), lambda x: x - np.log(np.exp(x).sum(1, keepdims=True))),
    ("flatten", lambda ns: ns.Flatten(), lambda x: x.reshape(x.shape[0], -1)),
    ("identity", lambda ns: ns.Identity(), lambda x: x),
])
def test_activation_layers(name, module, ref, rng):
    x = rng.choice([-1, 1], (3, 4, 2)) * rng.uniform(0.1, 2, (3, 4, 2))  # away from relu's kink
    check_op(name, lambda t: module(deepcore.nn if isinstance(t, deepcore.Tensor) else _torch.nn)(t), ref,
             arrays=[x], rng=rng)


def test_softmax_implicit_dim_warns_like_pytorch():
    x = deepcore.randn(3, 4)
    with pytest.warns(UserWarning, match="Implicit dimension"):
        y = F.log_softmax(x)
    assert_close(y.numpy(), F.log_softmax(x, dim=1).numpy(), 0, 0, "implicit dim of a 2-D input is 1")


# ---- F activations ---------------------------------------------------------------------------

F_ACTIVATIONS = [
    ("F.relu", lambda a: functional_of(a).relu(a), lambda a: np.maximum(a, 0)),
    ("F.leaky_relu", lambda a: functional_of(a).leaky_relu(a), lambda a: np.where(a > 0, a, 0.01 * a)),
    ("F.leaky_relu 0.3", lambda a: functional_of(a).leaky_relu(a, 0.3), lambda a: np.where(a > 0, a, 0.3 * a)),
    ("F.tanh", lambda a: functional_of(a).tanh(a), np.tanh),
    ("F.sigmoid", lambda a: functional_of(a).sigmoid(a), lambda a: 1 / (1 + np.exp(-a))),
    ("F.softmax", lambda a: functional_of(a).softmax(a, dim=-1), lambda a: softmax_ref(a, -1)),
    ("F.log_softmax", lambda a: functional_of(a).log_softmax(a, dim=0), lambda a: log_softmax_ref(a, 0)),
]


@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 4), (7,)], ids=str)
@pytest.mark.parametrize("name,act,ref", named(F_ACTIVATIONS))
def test_functional_activations(name, act, ref, shape, rng):
    a = away_from_zero(rng, shape, 0.05, 2.0)  # clear of relu's kink, for finite differences
    check_op(name, act, ref, arrays=[a], rng=rng)


def test_functional_activation_errors():
    with pytest.raises(TypeError, match="leaky_relu.*int64"):
        F.leaky_relu(deepcore.tensor([1, 2]))
    with raises(IndexError, "softmax", "dim 2"):
        F.softmax(deepcore.randn(2, 3), dim=2)
    with raises(IndexError, "log_softmax", "dim -3"):
        F.log_softmax(deepcore.randn(2, 3), dim=-3)


# ---- the pointwise activations (one native kernel pair, csrc/cpu/activation.h) ---------------

SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
_erfc = np.vectorize(math.erfc)


def gelu_ref(x):  # (1 + erf(x / sqrt 2)) / 2 as erfc(-x / sqrt 2) / 2, which keeps the left tail
    return 0.5 * x * _erfc(-x / math.sqrt(2))


def gelu_tanh_ref(x):  # (1 + tanh(u)) / 2 = 1 / (1 + exp(-2u)), likewise
    u = math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)
    with np.errstate(over="ignore"):
        return x / (1 + np.exp(-2 * u))


# (name, the call on deepcore or torch, float64 reference, kinks to keep finite differences away from)
POINTWISE = [
    ("elu", lambda a: functional_of(a).elu(a), lambda x: np.where(x > 0, x, np.expm1(x)), [0]),
    ("elu alpha=0.4", lambda a: functional_of(a).elu(a, 0.4), lambda x: np.where(x > 0, x, 0.4 * np.expm1(x)), [0]),
    ("selu", lambda a: functional_of(a).selu(a),
     lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(x)), [0]),
    ("celu alpha=2", lambda a: functional_of(a).celu(a, 2.0), lambda x: np.where(x > 0, x, 2 * np.expm1(x / 2)), [0]),
    ("gelu", lambda a: functional_of(a).gelu(a), gelu_ref, []),
    ("gelu tanh", lambda a: functional_of(a).gelu(a, approximate="tanh"), gelu_tanh_ref, []),
    ("silu", lambda a: functional_of(a).silu(a), lambda x: x / (1 + np.exp(-x)), []),
    ("mish", lambda a: functional_of(a).mish(a), lambda x: x * np.tanh(np.log1p(np.exp(x))), []),
    ("softplus", lambda a: functional_of(a).softplus(a), lambda x: np.log1p(np.exp(x)), []),
    ("softplus beta=2 threshold=3", lambda a: functional_of(a).softplus(a, 2, 3),
     lambda x: np.where(2 * x > 3, x, np.log1p(np.exp(2 * x)) / 2), [1.5]),
    ("hardtanh", lambda a: functional_of(a).hardtanh(a), lambda x: np.clip(x, -1, 1), [-1, 1]),
    ("hardtanh -0.5 2", lambda a: functional_of(a).hardtanh(a, -0.5, 2.0), lambda x: np.clip(x, -0.5, 2), [-0.5, 2]),
    ("relu6", lambda a: functional_of(a).relu6(a), lambda x: np.clip(x, 0, 6), [0, 6]),
    ("hardsigmoid", lambda a: functional_of(a).hardsigmoid(a), lambda x: np.clip(x + 3, 0, 6) / 6, [-3, 3]),
    ("hardswish", lambda a: functional_of(a).hardswish(a), lambda x: x * np.clip(x + 3, 0, 6) / 6, [-3, 3]),
    ("logsigmoid", lambda a: functional_of(a).logsigmoid(a), lambda x: -np.logaddexp(0, -x), []),
    ("softsign", lambda a: functional_of(a).softsign(a), lambda x: x / (1 + np.abs(x)), [0]),
    ("threshold 0.5 -2", lambda a: functional_of(a).threshold(a, 0.5, -2.0), lambda x: np.where(x <= 0.5, -2, x),
     [0.5]),
]


def clear_of(rng, shape, kinks, lo=-7.0, hi=7.0, margin=0.02):
    """Uniform values with none within `margin` of a kink (where finite differences are one-sided)."""
    x = rng.uniform(lo, hi, shape)
    for k in kinks:
        near = np.abs(x - k) < margin
        x[near] = k + np.where(x[near] >= k, 2, -2) * margin
    return x


@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 4), (7,), ()], ids=str)
@pytest.mark.parametrize("name,act,ref,kinks", named(POINTWISE))
def test_pointwise_activations(name, act, ref, kinks, shape, rng):
    check_op(name, act, ref, arrays=[clear_of(rng, shape, kinks)], rng=rng)


@pytest.mark.parametrize("name,act,ref,kinks", named(POINTWISE))
def test_pointwise_float32_accuracy_on_a_dense_grid(name, act, ref, kinks):
    """The float32 kernels (vector exp/log/sigmoid, erfc, the expm1 and log1p corrections) against float64
    on float32 inputs, over [-40, 40], near zero and in the tails: within 8 float32 ulps times
    (1 + the function's condition number |x f'(x) / f(x)|), the error a rounding of the input or of an
    intermediate argument costs (gelu's left tail has a condition number near x^2)."""
    grid = np.concatenate([np.linspace(-40, 40, 20001), np.linspace(-1e-3, 1e-3, 2001),
                           -np.logspace(-30, 1, 500), np.logspace(-30, 1, 500)]).astype(np.float32)
    x = grid.astype(np.float64)
    out = act(deepcore.tensor(grid)).numpy().astype(np.float64)
    expected = ref(x)
    h = 1e-6
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = (ref(x * (1 + h)) - ref(x * (1 - h))) / (2 * h * x)
        cond = np.nan_to_num(np.abs(x * slope / expected), nan=1.0, posinf=1.0)
    bound = 8 * 2.0 ** -24 * (1 + cond) * np.abs(expected) + 1e-37
    err = np.abs(out - expected)
    worst = int(np.argmax(err / bound))
    assert (err <= bound).all(), (f"{name} float32 vs float64: at x = {x[worst]!r} got {out[worst]!r}, expected "
                                  f"{expected[worst]!r} (condition number {cond[worst]:.3g})")


@pytest.mark.parametrize("name,act,ref,kinks", named(POINTWISE))
def test_pointwise_extremes_stay_finite(name, act, ref, kinks):
    """Huge and tiny inputs give the float64 formula's limit, never NaN or inf, forward and backward."""
    for dt in (deepcore.float32, deepcore.float64):
        x = deepcore.tensor([-1e30, -1e4, -800.0, -90.0, -30.0, 30.0, 90.0, 800.0, 1e4, 1e30], dtype=dt,
                            requires_grad=True)
        y = act(x)
        y.sum().backward()
        assert np.isfinite(y.detach().numpy()).all(), f"{name} [{dt.name}]: {y.detach().numpy()}"
        assert np.isfinite(x.grad.numpy()).all(), f"{name} [{dt.name}] gradient: {x.grad.numpy()}"
    nan = act(deepcore.tensor([np.nan, 1.0])).numpy()
    assert np.isnan(nan[0]) and not np.isnan(nan[1]), f"{name}: NaN must propagate, got {nan}"


@pytest.mark.parametrize("name,act,ref,kinks", named(POINTWISE))
def test_pointwise_gradients_at_the_kinks_match_torch(name, act, ref, kinks, torch):
    """PyTorch's boundary rules (hardtanh's gradient is 0 at min_val, hardswish's 0 at -3 and 1 at 3, ...)."""
    points = sorted({v for k in kinks for v in (k, k - 1e-3, k + 1e-3)} | {0.0, -3.0, 3.0, 6.0, -1.0, 1.0})
    x = deepcore.tensor(points, requires_grad=True)
    tx = torch.tensor(points, requires_grad=True)
    act(x).sum().backward()
    act(tx).sum().backward()
    assert_close(x.grad.numpy(), tx.grad.numpy(), 1e-6, 1e-5, f"{name}: gradient at {points}")


@pytest.mark.parametrize("base_shape,make", [((3, 4, 5), lambda t: t.permute(1, 0, 2)),
                                             ((3, 4, 5), lambda t: t[:, 1:3]),
                                             ((1, 4, 5), lambda t: t.expand(3, 4, 5))],
                         ids=["permuted", "sliced", "broadcast"])
@pytest.mark.parametrize("name,act,ref,kinks", named(POINTWISE))
def test_pointwise_on_strided_views(name, act, ref, kinks, base_shape, make, rng):
    """A view is read through its strides (gathered per chunk): the values and gradients of a dense copy."""
    base = clear_of(rng, base_shape, kinks)
    for dt in (deepcore.float32, deepcore.float64):
        x = deepcore.tensor(base, dtype=dt, requires_grad=True)
        view = make(x)
        y, ydense = act(view), act(view.contiguous())
        assert_close(y.detach().numpy(), ydense.detach().numpy(), 0, 0, f"{name} [{dt.name}] on a view")
        weights = deepcore.tensor(rng.standard_normal(tuple(view.shape)), dtype=dt)
        gradient = deepcore.autograd.grad((y * weights).sum(), [x], retain_graph=True)[0]
        dense = deepcore.autograd.grad((ydense * weights).sum(), [x])[0]
        assert_close(gradient.numpy(), dense.numpy(), 1e-12, 1e-6, f"{name} [{dt.name}] gradient through a view")


@pytest.mark.parametrize("level", ["portable", "avx2", "avx512"])
@pytest.mark.parametrize("name,act,ref,kinks", named(POINTWISE))
def test_pointwise_every_cpu_level(name, act, ref, kinks, level, rng):
    best = deepcore.backends.cpu.supported
    levels = ["portable", "avx2", "avx512"]
    if levels.index(level) > levels.index(best):
        pytest.skip(f"this CPU tops out at {best}")
    previous = deepcore.backends.cpu.capability
    x = deepcore.tensor(clear_of(rng, (1000,), kinks, -20, 20), dtype=deepcore.float32, requires_grad=True)
    try:
        deepcore.backends.cpu.set_capability(level)
        y = act(x)
        y.sum().backward()
    finally:
        deepcore.backends.cpu.set_capability(previous)
    expected = ref(x.detach().numpy().astype(np.float64))
    assert_close(y.detach().numpy(), expected, 1e-6, 2e-6, f"{name} at {level}")
    assert x.grad is not None and np.isfinite(x.grad.numpy()).all()


def test_prelu_against_torch(rng):
    x = away_from_zero(rng, (3, 4, 5), 0.05, 2.0)
    for w in (np.array([0.25]), rng.uniform(-0.5, 0.5, 4)):
        check_op(f"prelu weight {w.shape}", lambda a, b: functional_of(a).prelu(a, b),
                 lambda a, b: np.where(a > 0, a, b.reshape((-1, 1)) * a), arrays=[x, w], rng=rng)
    check_op("prelu 1-d input", lambda a, b: functional_of(a).prelu(a, b), lambda a, b: np.where(a > 0, a, b * a),
             arrays=[away_from_zero(rng, (6,)), np.array([0.1])], rng=rng)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmin(dim, rng):
    check_op(f"softmin(dim={dim})", lambda a: functional_of(a).softmin(a, dim=dim), lambda a: softmax_ref(-a, dim),
             [(3, 4, 5)], rng=rng)


# ---- nn layers of the family: values, gradients and repr against torch.nn --------------------

LAYERS = [
    ("ELU", (), {}), ("ELU", (0.5,), {"inplace": True}), ("SELU", (), {}), ("CELU", (1.5,), {}),
    ("GELU", (), {}), ("GELU", ("tanh",), {}), ("SiLU", (), {}), ("Mish", (), {}), ("Softplus", (2.0, 3.0), {}),
    ("Hardtanh", (-0.5, 0.5), {}), ("ReLU6", (), {"inplace": True}), ("Hardsigmoid", (), {}), ("Hardswish", (), {}),
    ("LogSigmoid", (), {}), ("Softsign", (), {}), ("Threshold", (0.1, -1.0), {}), ("Softmin", (1,), {}),
    ("PReLU", (), {}), ("PReLU", (4,), {"init": 0.1}), ("ReLU", (), {"inplace": True}),
    ("LeakyReLU", (0.1, True), {}),
]


@pytest.mark.parametrize("cls,args,kwargs", LAYERS, ids=[f"{c}{a}{k}" for c, a, k in LAYERS])
def test_layers_match_torch(cls, args, kwargs, torch, rng):
    x = clear_of(rng, (3, 4, 5), [-3, -1, -0.5, 0, 0.1, 0.5, 1, 1.5, 3, 6], -5, 5)
    ours, theirs = getattr(deepcore.nn, cls)(*args, **kwargs), getattr(torch.nn, cls)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    # an in-place layer needs a non-leaf input, as in torch: the output of an op
    xd = deepcore.tensor(x, requires_grad=True)
    xt = torch.tensor(x, dtype=torch.float32, requires_grad=True)
    yd, yt = ours(xd * 1.0), theirs(xt * 1.0)
    assert_close(yd.detach().numpy(), yt.detach().numpy(), 1e-6, 1e-5, f"{cls} forward")
    w = rng.standard_normal((3, 4, 5)).astype(np.float32)
    (yd * deepcore.tensor(w)).sum().backward()
    (yt * torch.from_numpy(w)).sum().backward()
    assert_close(xd.grad.numpy(), xt.grad.numpy(), 1e-5, 1e-4, f"{cls} input gradient")
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert_close(p.grad.numpy(), q.grad.numpy(), 1e-5, 1e-4, f"{cls}.{name} gradient")


def test_prelu_layer_learns_its_weight():
    layer = deepcore.nn.PReLU(3, init=0.25)
    assert isinstance(layer.weight, deepcore.nn.Parameter) and layer.weight.shape == (3,)
    assert_close(layer.weight.detach().numpy(), np.full(3, 0.25), 0, 0, "PReLU init")
    x = deepcore.tensor([[[-2.0], [1.0], [-4.0]]])  # (1, 3, 1): channel 1 positive
    layer(x).sum().backward()
    assert_close(layer.weight.grad.numpy(), np.array([-2.0, 0.0, -4.0]), 0, 0, "PReLU weight gradient")
    assert [n for n, _ in layer.named_parameters()] == ["weight"]


def test_hardtanh_layer_checks_its_bounds_as_torch():
    with raises(AssertionError, "max_val (1.0) must be greater than min_val (1.0)"):
        deepcore.nn.Hardtanh(1.0, 1.0)
    with pytest.warns(FutureWarning, match="min_value"):
        layer = deepcore.nn.Hardtanh(min_value=-2.0)
    assert layer.min_val == -2.0


# ---- inplace=True: the result written into the input ------------------------------------------

@pytest.mark.parametrize("call", [lambda F, t: F.elu(t, inplace=True), lambda F, t: F.selu(t, True),
                                  lambda F, t: F.celu(t, 2.0, True), lambda F, t: F.silu(t, inplace=True),
                                  lambda F, t: F.mish(t, inplace=True), lambda F, t: F.hardtanh(t, -1, 1, True),
                                  lambda F, t: F.relu6(t, True), lambda F, t: F.hardsigmoid(t, True),
                                  lambda F, t: F.hardswish(t, True), lambda F, t: F.threshold(t, 0.2, 5.0, True),
                                  lambda F, t: F.relu(t, inplace=True), lambda F, t: F.leaky_relu(t, 0.2, True),
                                  lambda F, t: F.elu_(t), lambda F, t: F.relu_(t), lambda F, t: F.hardtanh_(t),
                                  lambda F, t: F.threshold_(t, 0.2, 5.0), lambda F, t: F.leaky_relu_(t, 0.3)],
                         ids=["elu", "selu", "celu", "silu", "mish", "hardtanh", "relu6", "hardsigmoid", "hardswish",
                              "threshold", "relu", "leaky_relu", "elu_", "relu_", "hardtanh_", "threshold_",
                              "leaky_relu_"])
def test_inplace_writes_into_the_input_and_keeps_the_graph(call, torch, rng):
    x = clear_of(rng, (4, 6), [-3, -1, 0, 0.2, 1, 3, 6], -5, 5)
    w = rng.standard_normal((4, 6)).astype(np.float32)
    results = []
    for lib_, functional in ((deepcore, deepcore.nn.functional), (torch, torch.nn.functional)):
        leaf = lib_.tensor(x.astype(np.float32), requires_grad=True)
        h = leaf * 2.0  # a non-leaf, as in-place ops need when they record
        out = call(functional, h)
        assert out is h, "the in-place form returns its input"
        (h * lib_.tensor(w)).sum().backward()  # through h itself: it now stands for the result
        plain = lib_.tensor(x.astype(np.float32))
        call(functional, plain)  # no graph: simply overwritten
        results.append((h.detach().numpy(), leaf.grad.numpy(), plain.numpy()))
    for (ours, theirs), what in zip(zip(results[0], results[1]), ("values", "gradient", "no-grad values")):
        assert_close(ours, theirs, 1e-6, 1e-5, what)


def test_inplace_refuses_a_leaf_that_requires_grad_and_detects_a_saved_overwrite():
    leaf = deepcore.randn(3, requires_grad=True)
    with raises(RuntimeError, "elu", "leaf Variable"):
        F.elu(leaf, inplace=True)
    y = leaf.exp()  # exp saves its output for backward
    F.relu(y, inplace=True)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_inplace_relu_after_conv_and_batch_norm_trains_like_out_of_place(rng):
    """torchvision's pattern, conv -> bn -> ReLU(inplace=True): the same gradients as out of place."""
    x = deepcore.tensor(rng.standard_normal((2, 2, 6, 6)), dtype=deepcore.float32)
    grads = []
    for inplace in (False, True):
        deepcore.manual_seed(4)
        net = deepcore.nn.Sequential(deepcore.nn.Conv2d(2, 3, 3), deepcore.nn.BatchNorm2d(3),
                                     deepcore.nn.ReLU(inplace=inplace), deepcore.nn.Conv2d(3, 2, 1),
                                     deepcore.nn.Hardswish(inplace=inplace))
        net(x).sum().backward()
        grads.append([p.grad.numpy().copy() for p in net.parameters()])
    for a, b in zip(*grads):
        assert_close(a, b, 1e-6, 1e-5, "gradient with inplace=True")


# ---- errors -----------------------------------------------------------------------------------

def test_pointwise_errors_name_the_op():
    x = deepcore.randn(2, 3)
    for name in ("elu", "selu", "gelu", "silu", "mish", "softplus", "hardtanh", "relu6", "hardsigmoid", "hardswish",
                 "logsigmoid", "softsign"):
        with raises(TypeError, name, "int64"):
            getattr(F, name)(deepcore.tensor([1, 2]))
        with raises(TypeError, name, "Tensor"):
            getattr(F, name)([1.0, 2.0])
    with raises(TypeError, "elu", "alpha", "str"):
        F.elu(x, "a")
    with raises(RuntimeError, "celu", "alpha cannot be 0"):
        F.celu(x, 0.0)
    with raises(ValueError, "hardtanh", "min_val cannot be greater than max_val"):
        F.hardtanh(x, 1.0, -1.0)
    with raises(RuntimeError, "gelu", "either none or tanh"):
        F.gelu(x, approximate="fast")
    with pytest.raises(TypeError):
        F.gelu(x, "tanh")  # approximate is keyword-only, as in torch
    with raises(RuntimeError, "prelu", "parameter numbers = 4 and channel size = 3"):
        F.prelu(x, deepcore.ones(4))
    with raises(RuntimeError, "prelu", "scalar or 1D"):
        F.prelu(x, deepcore.ones(1, 3))
    with raises(ValueError, "activation", "unknown activation kind 'swish'"):
        deepcore._C.activation(x._data, "swish", 0.0, 0.0)


# ---- keras.activations on the same kernels -----------------------------------------------------

@pytest.mark.parametrize("name,kwargs,ref", [
    ("elu", {}, lambda x: np.where(x > 0, x, np.expm1(x))),
    ("elu", {"alpha": 0.3}, lambda x: np.where(x > 0, x, 0.3 * np.expm1(x))),
    ("selu", {}, lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(x))),
    ("softplus", {}, lambda x: np.logaddexp(0, x)),
    ("softsign", {}, lambda x: x / (1 + np.abs(x))),
    ("gelu", {}, gelu_ref), ("gelu", {"approximate": True}, gelu_tanh_ref),
    ("swish", {}, lambda x: x / (1 + np.exp(-x))), ("silu", {}, lambda x: x / (1 + np.exp(-x))),
    ("mish", {}, lambda x: x * np.tanh(np.logaddexp(0, x))),
], ids=lambda v: v if isinstance(v, str) else "")
def test_keras_activations(name, kwargs, ref, rng):
    from deepcore.keras import activations
    x = np.concatenate([rng.uniform(-8, 8, 50), [-30.0, 30.0, 25.0]])
    fn = activations.get(name)
    out = fn(deepcore.tensor(x, dtype=deepcore.float64), **kwargs).numpy()
    assert_close(out, ref(x), 1e-12, 1e-10, f"keras.activations.{name}")
