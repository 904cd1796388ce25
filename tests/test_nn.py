"""deepcore.nn outside the op families: Module/Parameter/containers, state_dict, repr and init against PyTorch, utils, training steps, a custom autograd.Function layer."""
import math
from collections import OrderedDict

import numpy as np
import pytest

import deepcore
import deepcore.nn as nn
import deepcore.nn.functional as F
from helpers import assert_close, numpy_state


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


# ---- init --------------------------------------------------------------------------------------------


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


def test_deepcopy_of_modules_parameters_and_tensors():
    import copy
    deepcore.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 3))
    model[2].weight = model[0].weight.__class__(model[0].weight.detach().t().clone())  # a fresh Parameter
    model[0].weight.grad = deepcore.ones(4, 3)
    model.eval()
    twin = copy.deepcopy(model)
    assert type(twin[0].weight) is nn.Parameter and twin[0].weight is not model[0].weight
    assert not twin.training and twin[0].weight.grad.tolist() == [[1.0] * 3] * 4
    x = deepcore.randn(2, 3)
    np.testing.assert_array_equal(twin(x).detach().numpy(), model(x).detach().numpy())
    with deepcore.no_grad():
        twin[0].weight.fill_(0.0)  # new memory: the original is untouched
    assert model[0].weight.abs().sum().item() > 0
    tied = nn.Module()
    tied.a = nn.Linear(2, 2)
    tied.b = nn.Linear(2, 2)
    tied.b.weight = tied.a.weight
    copied = copy.deepcopy(tied)
    assert copied.b.weight is copied.a.weight and copied.a.weight is not tied.a.weight
    leaf = deepcore.ones(2, requires_grad=True)
    assert copy.deepcopy(leaf).requires_grad
    with pytest.raises(RuntimeError, match="deepcopy protocol"):
        copy.deepcopy(leaf * 2)
