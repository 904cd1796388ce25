"""deepcore.nn: Module API, layers against NumPy float64 and PyTorch, init, dropout,
batch norm, state_dict, repr, utils, and a custom layer with its own autograd.Function."""
import math
import warnings
from collections import OrderedDict

import numpy as np
import pytest

import deepcore
import deepcore.nn as nn
import deepcore.nn.functional as F
from helpers import assert_close, check_op, torch as _torch


def lib(x):
    return deepcore if isinstance(x, deepcore.Tensor) else _torch


def fn(x):
    return lib(x).nn.functional


def numpy_state(torch_module):
    return {k: v.detach().numpy().copy() for k, v in torch_module.state_dict().items()}


def conv_available():
    try:
        deepcore.ops.conv.conv2d(deepcore.zeros(1, 1, 3, 3), deepcore.zeros(1, 1, 2, 2))
        deepcore.ops.pool.max_pool2d(deepcore.zeros(1, 1, 2, 2), 2)
    except NotImplementedError:
        return False
    return True


needs_conv = pytest.mark.skipif(not conv_available(),
                                reason="deepcore.ops.conv / ops.pool are still stubs (NotImplementedError) in this "
                                       "build; the conv-family work (issue 3) lands them")


class MLP(nn.Module):
    def __init__(self, n_in=6, hidden=8, n_out=3):
        super().__init__()
        self.fc1 = nn.Linear(n_in, hidden)
        self.bn = nn.BatchNorm1d(hidden)
        self.drop = nn.Dropout(0.5)
        self.fc2 = nn.Linear(hidden, n_out)

    def forward(self, x):
        return F.log_softmax(self.fc2(self.drop(F.relu(self.bn(self.fc1(x))))), dim=1)


# ---- Module API ------------------------------------------------------------------------------

def test_module_registration_and_traversal():
    m = MLP()
    names = [n for n, _ in m.named_parameters()]
    assert names == ["fc1.weight", "fc1.bias", "bn.weight", "bn.bias", "fc2.weight", "fc2.bias"]
    assert len(list(m.parameters())) == 6
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in m.parameters())
    assert [n for n, _ in m.named_buffers()] == ["bn.running_mean", "bn.running_var", "bn.num_batches_tracked"]
    assert [n for n, _ in m.named_children()] == ["fc1", "bn", "drop", "fc2"]
    assert [n for n, _ in m.named_modules()] == ["", "fc1", "bn", "drop", "fc2"]
    assert list(m.children())[0] is m.fc1 and len(list(m.modules())) == 5
    assert m.get_submodule("fc2") is m.fc2 and m.get_parameter("fc1.bias") is m.fc1.bias
    # A shared layer is counted once.
    shared = nn.Sequential(m.fc1, m.fc1)
    assert len(list(shared.parameters())) == 2
    # register_* and add_module
    m.register_buffer("steps", deepcore.zeros(()))
    m.register_buffer("scratch", deepcore.zeros(2), persistent=False)
    m.register_parameter("scale", nn.Parameter(deepcore.ones(1)))
    m.add_module("head", nn.Identity())
    assert "steps" in m.state_dict() and "scratch" not in m.state_dict() and "scale" in m.state_dict()
    assert m.head is m._modules["head"]
    with pytest.raises(TypeError):
        m.register_parameter("bad", deepcore.ones(1))  # not a Parameter
    with pytest.raises(KeyError):
        m.register_buffer("a.b", deepcore.ones(1))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        m.nope
    del m.scale
    assert "scale" not in dict(m.named_parameters())


def test_assigning_before_super_init_is_clear():
    class Broken(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)
    with pytest.raises(AttributeError, match=r"super\(\)\.__init__\(\)"):
        Broken()


def test_train_eval_zero_grad_apply_and_to():
    m = MLP()
    assert m.training and m.bn.training
    assert m.eval() is m and not m.training and not m.drop.training
    m.train()
    assert m.drop.training
    out = m(deepcore.randn(4, 6))
    out.sum().backward()
    assert m.fc1.weight.grad is not None
    m.zero_grad(set_to_none=False)
    assert float(m.fc1.weight.grad.abs().sum()) == 0.0
    m.zero_grad()
    assert m.fc1.weight.grad is None
    seen = []
    m.apply(lambda mod: seen.append(type(mod).__name__))
    assert seen == ["Linear", "BatchNorm1d", "Dropout", "Linear", "MLP"]
    w = m.fc1.weight
    m.double()
    assert m.fc1.weight is w and w.dtype is deepcore.float64 and m.bn.running_mean.dtype is deepcore.float64
    assert m.bn.num_batches_tracked.dtype is deepcore.int64  # integer buffers keep their dtype
    assert m(deepcore.randn(4, 6, dtype=deepcore.float64)).dtype is deepcore.float64
    m.to(deepcore.float32)
    assert w.dtype is deepcore.float32
    m.to("cpu")
    m.float()
    with pytest.raises(TypeError):
        m.to(deepcore.int64)


def test_parameter():
    p = nn.Parameter(deepcore.ones(2, 3))
    assert isinstance(p, deepcore.Tensor) and p.requires_grad and p.is_leaf
    assert repr(p).startswith("Parameter containing:\ntensor(")
    y = p * 2
    assert type(y) is deepcore.Tensor and not isinstance(p.detach(), nn.Parameter)
    y.sum().backward()
    with deepcore.no_grad():
        p -= 0.1 * p.grad
    assert isinstance(p, nn.Parameter)
    assert_close(p.detach().numpy(), np.full((2, 3), 0.8), 1e-6, 0, "parameter after an in-place step")
    assert not nn.Parameter(deepcore.ones(1), requires_grad=False).requires_grad


def test_sequential_and_module_list():
    seq = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    assert len(seq) == 3 and isinstance(seq[0], nn.Linear) and isinstance(seq[-1], nn.Linear)
    assert isinstance(seq[1:], nn.Sequential) and len(seq[1:]) == 2
    assert [type(m).__name__ for m in seq] == ["Linear", "ReLU", "Linear"]
    seq.append(nn.Tanh())
    assert len(seq) == 4 and list(seq.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    x = deepcore.randn(5, 3)
    assert seq(x).shape == (5, 2)
    with pytest.raises(IndexError):
        seq[4]
    named = nn.Sequential(OrderedDict([("fc", nn.Linear(3, 2)), ("act", nn.Sigmoid())]))
    assert named.fc is named[0] and list(named.state_dict()) == ["fc.weight", "fc.bias"]
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    layers.append(nn.Linear(2, 1))
    assert len(layers) == 4 and len(list(layers.parameters())) == 8
    holder = nn.Module()
    holder.layers = layers
    assert "layers.3.weight" in holder.state_dict()
    d = nn.ModuleDict({"a": nn.ReLU(), "b": nn.Linear(1, 1)})
    assert list(d.keys()) == ["a", "b"] and len(list(d.parameters())) == 2


def test_repr_matches_pytorch(torch):
    def build(ns):
        return ns.Sequential(
            ns.Linear(4, 8), ns.BatchNorm1d(8), ns.BatchNorm2d(3, momentum=None, affine=False), ns.ReLU(),
            ns.LeakyReLU(0.2), ns.Tanh(), ns.Sigmoid(), ns.Softmax(dim=1), ns.LogSoftmax(dim=1), ns.Dropout(0.25),
            ns.Identity(), ns.Flatten(), ns.Conv2d(1, 32, 3), ns.Conv2d(3, 4, (3, 5), stride=2, padding=1, bias=False),
            ns.MaxPool2d(2), ns.AvgPool2d(2), ns.Upsample(scale_factor=2), ns.ModuleList([ns.ReLU()]))
    assert repr(build(nn)) == repr(build(torch.nn))
    assert repr(MLP()).startswith("MLP(\n  (fc1): Linear(in_features=6, out_features=8, bias=True)\n")


# ---- state_dict ------------------------------------------------------------------------------------

def test_state_dict_round_trip_and_errors():
    a, b = MLP(), MLP()
    a(deepcore.randn(4, 6))  # moves the running statistics
    sd = a.state_dict()
    assert list(sd) == ["fc1.weight", "fc1.bias", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var",
                        "bn.num_batches_tracked", "fc2.weight", "fc2.bias"]
    assert not sd["fc1.weight"].requires_grad
    result = b.load_state_dict(sd)
    assert result.missing_keys == [] and result.unexpected_keys == []
    for k, v in b.state_dict().items():
        assert np.array_equal(v.numpy(), sd[k].numpy()), k
    assert b.fc1.weight.requires_grad and isinstance(b.fc1.weight, nn.Parameter)
    x = deepcore.randn(3, 6)
    a.eval(), b.eval()
    assert np.array_equal(a(x).detach().numpy(), b(x).detach().numpy())

    partial = dict(sd)
    del partial["fc2.bias"]
    partial["extra.weight"] = deepcore.ones(1)
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "fc2.bias"') as e:
        b.load_state_dict(partial)
    assert isinstance(e.value, ValueError) and 'Unexpected key(s) in state_dict: "extra.weight"' in str(e.value)
    missing, unexpected = b.load_state_dict(partial, strict=False)
    assert missing == ["fc2.bias"] and unexpected == ["extra.weight"]
    bad = dict(sd)
    bad["fc1.weight"] = deepcore.ones(3, 3)
    with pytest.raises(ValueError, match=r"size mismatch for fc1.weight.*\(3, 3\).*\(8, 6\)"):
        b.load_state_dict(bad)
    with pytest.raises(ValueError, match="size mismatch"):
        b.load_state_dict(bad, strict=False)  # shapes are checked even when not strict
    # NumPy arrays load too (and are copied in, not aliased).
    arrays = {k: v.numpy().copy() for k, v in sd.items()}
    b.load_state_dict(arrays)
    arrays["fc1.weight"][:] = 0
    assert float(b.fc1.weight.abs().sum()) > 0


# ---- layers against NumPy and PyTorch ---------------------------------------------------------------

def test_linear(rng):
    w, b = rng.uniform(-1, 1, (3, 4)), rng.uniform(-1, 1, 3)
    check_op("linear", lambda x, w_, b_: fn(x).linear(x, w_, b_), lambda x, w_, b_: x @ w_.T + b_,
             arrays=[rng.uniform(-2, 2, (5, 4)), w, b], rng=rng)
    check_op("linear_3d", lambda x, w_: fn(x).linear(x, w_), lambda x, w_: x @ w_.T,
             arrays=[rng.uniform(-2, 2, (2, 3, 4)), w], rng=rng)
    with pytest.raises(ValueError, match=r"\(5, 3\).*\(3, 4\)"):
        nn.Linear(4, 3)(deepcore.randn(5, 3))


def test_linear_module_matches_torch(torch, rng):
    tm = torch.nn.Linear(5, 3)
    dm = nn.Linear(5, 3)
    dm.load_state_dict(numpy_state(tm))
    x = rng.standard_normal((4, 5)).astype(np.float32)
    tx, dx = torch.tensor(x), deepcore.tensor(x)
    tm(tx).square().sum().backward()
    out = dm(dx)
    (out * out).sum().backward()
    assert_close(out.detach().numpy(), tm(tx).detach().numpy(), 1e-5, 1e-5, "Linear vs torch")
    assert_close(dm.weight.grad.numpy(), tm.weight.grad.numpy(), 1e-4, 1e-4, "Linear weight grad vs torch")
    assert_close(dm.bias.grad.numpy(), tm.bias.grad.numpy(), 1e-4, 1e-4, "Linear bias grad vs torch")


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


# ---- dropout --------------------------------------------------------------------------------------------

def test_dropout_training_statistics_and_eval_identity():
    x = deepcore.ones(200, 500)
    drop = nn.Dropout(0.3)
    y = drop(x).numpy()
    kept = y != 0
    assert abs(kept.mean() - 0.7) < 0.01
    assert_close(y[kept], np.full(kept.sum(), 1 / 0.7), 1e-6, 1e-6, "kept elements are scaled by 1/(1-p)")
    drop.eval()
    assert drop(x) is x
    assert F.dropout(x, 0.3, training=False) is x
    assert F.dropout(x, 0.0) is x
    assert float(F.dropout(x, 1.0).abs().sum()) == 0.0
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(x, -0.1)
    state = deepcore.get_rng_state()
    with pytest.raises(TypeError, match="float32 or float64"):
        F.dropout(deepcore.tensor([1, 2, 3]), 0.5)
    assert deepcore.get_rng_state() == state  # a refused call draws nothing


def test_dropout_reproducible_and_independent_of_threads():
    x = deepcore.randn(300, 301)  # not a multiple of 4: the tail of the last Philox block
    outs = []
    for threads in (1, 2, 1):
        deepcore.set_num_threads(threads)
        deepcore.manual_seed(123)
        outs.append(F.dropout(x, 0.5).numpy().copy())
    assert np.array_equal(outs[0], outs[1]) and np.array_equal(outs[0], outs[2])
    assert not np.array_equal(F.dropout(x, 0.5).numpy(), outs[0])  # the stream moves on


def test_dropout_keeps_nan_and_inf_visible():
    """As in PyTorch (x * mask / (1 - p)): a NaN or inf input makes NaN where it is dropped, so a
    diverged activation is not hidden by the layer that happens to drop it."""
    x = deepcore.tensor([np.nan, np.inf, -np.inf, 1.0] * 500)
    y = F.dropout(x, 0.5).numpy().reshape(500, 4)
    assert np.isnan(y[:, 0]).all()
    assert (np.isnan(y[:, 1]) | (y[:, 1] == np.inf)).all() and np.isnan(y[:, 1]).any()
    assert (np.isnan(y[:, 2]) | (y[:, 2] == -np.inf)).all()
    assert set(np.unique(y[:, 3])) <= {0.0, 2.0}


def test_dropout_backward_reuses_mask(rng):
    x = deepcore.tensor(rng.uniform(1, 2, (40, 30)), requires_grad=True)
    g = rng.standard_normal((40, 30))
    y = F.dropout(x, 0.4)
    y.backward(deepcore.tensor(g, dtype=deepcore.float32))
    mask = y.detach().numpy() != 0
    assert_close(x.grad.numpy(), np.where(mask, g / 0.6, 0.0), 1e-5, 1e-5, "dropout gradient")
    # a gradient arriving as a permuted view (Keras' channels-last Flatten hands back NHWC memory)
    x4 = deepcore.tensor(rng.uniform(1, 2, (3, 5, 4, 6)), requires_grad=True)
    g4 = rng.standard_normal((3, 4, 6, 5))
    y4 = F.dropout(x4, 0.25)
    y4.backward(deepcore.tensor(g4, dtype=deepcore.float32).permute(0, 3, 1, 2))
    kept4 = y4.detach().numpy() != 0
    assert_close(x4.grad.numpy(), np.where(kept4, g4.transpose(0, 3, 1, 2) / 0.75, 0.0), 1e-5, 1e-5,
                 "dropout gradient from a permuted view")
    # float64 and strided inputs
    xt = deepcore.randn(8, 6, dtype=deepcore.float64).t()
    yt = F.dropout(xt, 0.5)
    assert yt.dtype is deepcore.float64 and yt.shape == (6, 8)
    kept = yt.numpy() != 0
    assert_close(yt.numpy()[kept], xt.numpy()[kept] * 2, 1e-12, 0, "dropout on a transposed view")


# ---- batch norm --------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape,cls", [((6, 4), "BatchNorm1d"), ((5, 3, 7), "BatchNorm1d"),
                                       ((4, 3, 5, 5), "BatchNorm2d")], ids=str)
@pytest.mark.parametrize("momentum,affine", [(0.1, True), (None, True), (0.3, False)])
def test_batchnorm_matches_torch(torch, shape, cls, momentum, affine, rng):
    C = shape[1]
    tm = getattr(torch.nn, cls)(C, momentum=momentum, affine=affine)
    dm = getattr(nn, cls)(C, momentum=momentum, affine=affine)
    if affine:
        with torch.no_grad():
            tm.weight.uniform_(0.5, 1.5)
            tm.bias.uniform_(-0.5, 0.5)
    dm.load_state_dict(numpy_state(tm))
    for step in range(2):
        x = rng.standard_normal(shape).astype(np.float32) * 2 + 1
        g = rng.standard_normal(shape).astype(np.float32)
        tx = torch.tensor(x, requires_grad=True)
        dx = deepcore.tensor(x, requires_grad=True)
        ty, dy = tm(tx), dm(dx)
        ty.backward(torch.tensor(g))
        dy.backward(deepcore.tensor(g))
        assert_close(dy.detach().numpy(), ty.detach().numpy(), 1e-5, 1e-4, f"{cls} train output step {step}")
        assert_close(dx.grad.numpy(), tx.grad.numpy(), 1e-4, 1e-3, f"{cls} input grad step {step}")
        if affine:
            assert_close(dm.weight.grad.numpy(), tm.weight.grad.numpy(), 1e-4, 1e-3, f"{cls} weight grad")
            assert_close(dm.bias.grad.numpy(), tm.bias.grad.numpy(), 1e-4, 1e-3, f"{cls} bias grad")
            dm.zero_grad(), tm.zero_grad()
    for k, v in tm.state_dict().items():
        assert_close(dm.state_dict()[k].numpy(), v.numpy(), 1e-5, 1e-5, f"{cls} {k} after two steps")
    tm.eval(), dm.eval()
    x = rng.standard_normal(shape).astype(np.float32)
    assert_close(dm(deepcore.tensor(x)).detach().numpy(), tm(torch.tensor(x)).detach().numpy(), 1e-5, 1e-4,
                 f"{cls} eval")


def test_batchnorm_reference_and_gradcheck(rng):
    x = rng.standard_normal((4, 3)) * 3 + 2
    w, b = rng.uniform(0.5, 1.5, 3), rng.uniform(-1, 1, 3)

    def ref(x_, w_, b_):
        return (x_ - x_.mean(0)) / np.sqrt(x_.var(0) + 1e-5) * w_ + b_
    check_op("batch_norm_train", lambda x_, w_, b_: fn(x_).batch_norm(x_, None, None, w_, b_, training=True),
             ref, arrays=[x, w, b], rng=rng)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(deepcore.randn(1, 3))
    with pytest.raises(ValueError, match="channels"):
        nn.BatchNorm2d(3)(deepcore.randn(2, 4, 2, 2))


# ---- conv / pool / upsample layers ---------------------------------------------------------------------

@needs_conv
def test_conv_pool_upsample_layers_match_torch(torch, rng):
    def build(ns):
        return ns.Sequential(ns.Conv2d(2, 4, 3, padding=1), ns.ReLU(), ns.MaxPool2d(2), ns.Conv2d(4, 4, 3, stride=2),
                             ns.AvgPool2d(1), ns.Upsample(scale_factor=2), ns.Flatten(), ns.Linear(4 * 2 * 2, 3))
    tm, dm = build(torch.nn), build(nn)
    dm.load_state_dict(numpy_state(tm))
    x = rng.standard_normal((2, 2, 8, 8)).astype(np.float32)
    tx, dx = torch.tensor(x, requires_grad=True), deepcore.tensor(x, requires_grad=True)
    ty, dy = tm(tx), dm(dx)
    assert_close(dy.detach().numpy(), ty.detach().numpy(), 1e-4, 1e-4, "conv net vs torch")
    ty.square().sum().backward()
    (dy * dy).sum().backward()
    assert_close(dx.grad.numpy(), tx.grad.numpy(), 1e-3, 1e-3, "conv net input grad vs torch")
    for (name, p), tp in zip(dm.named_parameters(), tm.parameters()):
        assert_close(p.grad.numpy(), tp.grad.numpy(), 1e-3, 1e-3, f"conv net grad of {name}")


@needs_conv
def test_conv_same_padding_and_default_init():
    conv = nn.Conv2d(3, 5, 3, padding="same")
    assert conv(deepcore.randn(1, 3, 6, 6)).shape == (1, 5, 6, 6)
    bound = 1 / math.sqrt(3 * 9)
    assert float(conv.weight.abs().max()) <= bound and float(conv.bias.abs().max()) <= bound


# ---- init --------------------------------------------------------------------------------------------

def test_default_linear_init_like_pytorch():
    layer = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)  # kaiming_uniform(a=sqrt(5)) and the bias rule both give 1/sqrt(fan_in)
    w, b = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.02 * bound  # U(-a, a) has std a/sqrt(3)
    deepcore.manual_seed(7)
    first = nn.Linear(3, 2).weight.detach().numpy().copy()
    deepcore.manual_seed(7)
    assert np.array_equal(first, nn.Linear(3, 2).weight.detach().numpy())


def test_init_functions(torch):
    t = deepcore.empty(256, 512)
    fan_in, fan_out = 512, 256
    cases = [
        (lambda: nn.init.xavier_uniform_(t, gain=2.0), 2.0 * math.sqrt(2.0 / (fan_in + fan_out))),
        (lambda: nn.init.xavier_normal_(t), math.sqrt(2.0 / (fan_in + fan_out))),
        (lambda: nn.init.kaiming_uniform_(t, nonlinearity="relu"), math.sqrt(2.0 / fan_in)),
        (lambda: nn.init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu"), math.sqrt(2.0 / fan_out)),
        (lambda: nn.init.normal_(t, 1.0, 0.5), 0.5),
        (lambda: nn.init.uniform_(t, -3, 3), 3 / math.sqrt(3)),
    ]
    for init_fn, std in cases:
        assert init_fn() is t
        assert abs(t.numpy().std() - std) < 0.02 * std
    assert abs(t.numpy().mean()) < 0.05
    assert nn.init.xavier_uniform_(t).numpy().max() <= math.sqrt(6.0 / (fan_in + fan_out))
    assert (nn.init.constant_(t, 0.25).numpy() == 0.25).all()
    assert (nn.init.zeros_(t).numpy() == 0).all() and (nn.init.ones_(t).numpy() == 1).all()
    p = nn.Parameter(deepcore.empty(3, 4))
    nn.init.kaiming_normal_(p)  # in place on a parameter that requires grad: runs under no_grad
    assert p.requires_grad and p.grad_fn is None
    for nl, param in [("linear", None), ("sigmoid", None), ("tanh", None), ("relu", None), ("leaky_relu", None),
                      ("leaky_relu", 0.2), ("selu", None), ("conv2d", None)]:
        assert nn.init.calculate_gain(nl, param) == pytest.approx(torch.nn.init.calculate_gain(nl, param))
    with pytest.raises(ValueError):
        nn.init.calculate_gain("swish")
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        nn.init.xavier_uniform_(deepcore.empty(3))


# ---- utils: regularization penalties and clipping ------------------------------------------------------

def test_l1_l2_penalties(rng):
    m = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    params = [p.detach().numpy() for p in m.parameters()]
    assert nn.utils.l1_penalty(m).item() == pytest.approx(sum(np.abs(p).sum() for p in params), rel=1e-5)
    assert nn.utils.l2_penalty(m).item() == pytest.approx(sum((p ** 2).sum() for p in params), rel=1e-5)
    assert nn.utils.l2_penalty(m[0], include_bias=False).item() == pytest.approx((params[0] ** 2).sum(), rel=1e-5)
    # Per layer: only the chosen layer's parameters get the penalty's gradient.
    (0.5 * nn.utils.l2_penalty(m[2]) + nn.utils.l1_penalty(m[2].weight)).backward()
    assert m[0].weight.grad is None
    w = m[2].weight.detach().numpy()
    assert_close(m[2].weight.grad.numpy(), w + np.sign(w), 1e-6, 1e-6, "penalty gradient")
    with pytest.raises(ValueError):
        nn.utils.l1_penalty([])


def test_clip_grad_norm_matches_torch(torch, rng):
    grads = [rng.standard_normal((3, 4)).astype(np.float32) * 3, rng.standard_normal(5).astype(np.float32)]
    for norm_type in (2.0, 1.0, float("inf")):
        dps = [nn.Parameter(deepcore.zeros(*g.shape)) for g in grads]
        tps = [torch.nn.Parameter(torch.zeros(g.shape)) for g in grads]
        for d, t, g in zip(dps, tps, grads):
            d.grad, t.grad = deepcore.tensor(g), torch.tensor(g)
        dn = nn.utils.clip_grad_norm_(dps, 1.5, norm_type)
        tn = torch.nn.utils.clip_grad_norm_(tps, 1.5, norm_type)
        assert dn.item() == pytest.approx(tn.item(), rel=1e-5)
        for d, t in zip(dps, tps):
            assert_close(d.grad.numpy(), t.grad.numpy(), 1e-6, 1e-5, f"clipped grad, norm {norm_type}")
    p = nn.Parameter(deepcore.zeros(3))
    p.grad = deepcore.tensor([-5.0, 0.5, 5.0])
    nn.utils.clip_grad_value_([p], 1.0)
    assert p.grad.tolist() == [-1.0, 0.5, 1.0]


# ---- training the same way as PyTorch -----------------------------------------------------------------------

def test_mlp_training_steps_match_torch(torch, rng):
    """Same weights, data and plain SGD updates: the losses of deepcore and PyTorch agree step by step."""
    tm = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))
    dm = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3))
    dm.load_state_dict(numpy_state(tm))
    x = rng.standard_normal((32, 6)).astype(np.float32)
    y = rng.integers(0, 3, 32)
    tx, ty, dx, dy = torch.tensor(x), torch.tensor(y), deepcore.tensor(x), deepcore.tensor(y)
    losses = []
    for _ in range(5):
        tl = torch.nn.functional.cross_entropy(tm(tx), ty)
        dl = F.cross_entropy(dm(dx), dy)
        tm.zero_grad(), dm.zero_grad()
        tl.backward(), dl.backward()
        with torch.no_grad():
            for p in tm.parameters():
                p -= 0.5 * p.grad
        with deepcore.no_grad():
            for p in dm.parameters():
                p -= 0.5 * p.grad
        losses.append((dl.item(), tl.item()))
    for d, t in losses:
        assert d == pytest.approx(t, rel=1e-4, abs=1e-5)
    assert losses[-1][0] < losses[0][0]


# ---- a custom layer with its own autograd.Function -------------------------------------------------------

class ScaledSoftsign(deepcore.autograd.Function):
    """y = scale * x / (1 + |x|), written by a user with its own backward."""

    @staticmethod
    def forward(ctx, x, scale):
        ctx.save_for_backward(x, scale)
        return scale * x / (x.abs() + 1)

    @staticmethod
    def backward(ctx, g):
        x, scale = ctx.saved_tensors
        denom = x.abs() + 1
        gx = g * scale / (denom * denom)
        gscale = (g * x / denom).sum(0)
        return gx, gscale


class Softsign(nn.Module):
    def __init__(self, features):
        super().__init__()
        self.scale = nn.Parameter(deepcore.ones(features))

    def forward(self, x):
        return ScaledSoftsign.apply(x, self.scale)

    def extra_repr(self):
        return f"features={self.scale.shape[0]}"


class CustomNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.act = Softsign(8)
        self.fc2 = nn.Linear(8, 1)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


def test_custom_layer_gradcheck_trains_saves_and_loads(tmp_path, rng):
    x64 = deepcore.tensor(rng.standard_normal((3, 4)), dtype=deepcore.float64, requires_grad=True)
    s64 = deepcore.tensor(rng.uniform(0.5, 2, 4), dtype=deepcore.float64, requires_grad=True)
    assert deepcore.autograd.gradcheck(ScaledSoftsign.apply, (x64, s64))
    net = CustomNet()
    assert "(act): Softsign(features=8)" in repr(net)
    assert [n for n, _ in net.named_parameters()] == ["fc1.weight", "fc1.bias", "act.scale", "fc2.weight",
                                                      "fc2.bias"]
    x = deepcore.tensor(rng.standard_normal((64, 4)).astype(np.float32))
    y = (x[:, :1] * 2 - x[:, 1:2]).tanh()
    first = None
    for _ in range(60):
        loss = F.mse_loss(net(x), y)
        net.zero_grad()
        loss.backward()
        with deepcore.no_grad():
            for p in net.parameters():
                p -= 0.1 * p.grad
        first = loss.item() if first is None else first
    assert loss.item() < 0.5 * first
    assert float((net.act.scale - 1).abs().sum()) > 0  # the custom parameter was trained
    path = tmp_path / "custom.safetensors"
    deepcore.save(net.state_dict(), path)
    fresh = CustomNet()
    fresh.load_state_dict(deepcore.load(path))
    assert np.array_equal(fresh(x).detach().numpy(), net(x).detach().numpy())
