"""Normalization family against NumPy float64, gradcheck and PyTorch: F.batch_norm / nn.BatchNorm1d/2d (batch and
running statistics); layer, group, instance, RMS and local response norm and their modules; F.normalize,
cosine_similarity, pairwise_distance and nn.CosineSimilarity / nn.PairwiseDistance."""
import math
import warnings

import numpy as np
import pytest

import deepcore
import deepcore.nn as nn
import deepcore.nn.functional as F
from helpers import assert_close, check_op, functional_of as fn, lib, named, numpy_state, raises, torch as _torch


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


def test_batch_norm_eval_uses_the_running_statistics(rng):
    x = rng.standard_normal((5, 3, 2)) * 2 + 1
    mean, var = rng.uniform(-1, 1, 3), rng.uniform(0.5, 2, 3)
    w, b = rng.uniform(0.5, 1.5, 3), rng.uniform(-1, 1, 3)

    def ref(x_, w_, b_):
        return (x_ - mean[:, None]) / np.sqrt(var[:, None] + 1e-5) * w_[:, None] + b_[:, None]
    check_op("batch_norm_eval", lambda x_, w_, b_: fn(x_).batch_norm(
        x_, lib(x_).tensor(mean, dtype=x_.dtype), lib(x_).tensor(var, dtype=x_.dtype), w_, b_, training=False),
        ref, arrays=[x, w, b], rng=rng)


def test_batch_norm_eval_gradient_on_a_channels_last_view(rng):
    """The layout on which torch 2.13's CPU kernel returns a wrong input gradient (a permuted view that is
    also channels-last): deepcore's gradient is the closed form, g / sqrt(running_var + eps) per channel."""
    base = rng.standard_normal((3, 3, 1, 2)).astype(np.float32)
    g = rng.standard_normal((1, 2, 3, 3)).astype(np.float32)
    var = np.array([1.0, 0.5], np.float32)
    leaf = deepcore.tensor(base, requires_grad=True)
    x = leaf.permute(2, 3, 0, 1)
    y = deepcore.nn.functional.batch_norm(x, deepcore.zeros(2), deepcore.tensor(var), training=False)
    y.backward(deepcore.tensor(g))
    expected = (g / np.sqrt(var + 1e-5)[None, :, None, None]).transpose(2, 3, 0, 1)
    assert_close(leaf.grad.numpy(), expected, 1e-6, 1e-6, "batch_norm eval input gradient")


@pytest.mark.parametrize("momentum", [0.1, 0.3, 1.0])
def test_batch_norm_training_moves_the_running_statistics(momentum, rng):
    x = rng.standard_normal((6, 4, 3)) * 3 + 2
    rm0, rv0 = rng.uniform(-1, 1, 4), rng.uniform(0.5, 2, 4)
    rm, rv = deepcore.tensor(rm0), deepcore.tensor(rv0)
    out = F.batch_norm(deepcore.tensor(x), rm, rv, training=True, momentum=momentum)
    mean, var = x.mean((0, 2)), x.var((0, 2))
    expected = (x - mean[:, None]) / np.sqrt(var[:, None] + 1e-5)
    assert_close(out.numpy(), expected, 1e-10, 1e-9, "batch statistics normalize")
    # the running variance moves toward the unbiased batch variance, as in PyTorch
    assert_close(rm.numpy(), (1 - momentum) * rm0 + momentum * mean, 1e-12, 1e-12, "running_mean")
    assert_close(rv.numpy(), (1 - momentum) * rv0 + momentum * x.var((0, 2), ddof=1), 1e-12, 1e-12, "running_var")
    if _torch is not None:
        trm, trv = _torch.tensor(rm0), _torch.tensor(rv0)
        _torch.nn.functional.batch_norm(_torch.tensor(x), trm, trv, training=True, momentum=momentum)
        assert_close(rm.numpy(), trm.numpy(), 1e-12, 1e-12, "running_mean vs torch")
        assert_close(rv.numpy(), trv.numpy(), 1e-12, 1e-12, "running_var vs torch")


def test_batch_norm_argument_errors():
    with pytest.raises(ValueError, match=r"running_mean of shape \(2,\) does not match the 3 channels"):
        F.batch_norm(deepcore.randn(4, 3), deepcore.zeros(2), deepcore.ones(3))
    with pytest.raises(TypeError, match="batch_norm.*int64"):
        F.batch_norm(deepcore.tensor([[1, 2], [3, 4]]), None, None, training=True)
    with pytest.raises(ValueError, match="batch_norm"):
        F.batch_norm(deepcore.randn(4), None, None, training=True)


# ---- layer, group, instance and RMS norm -------------------------------------------------------------

def _np_norm(x, axes, eps, center=True):
    """NumPy float64 reference: normalize over `axes` (biased variance; center=False: RMS)."""
    xc = x - x.mean(axes, keepdims=True) if center else x
    return xc / np.sqrt((xc * xc).mean(axes, keepdims=True) + eps)


LAYER_NORM_CASES = named([
    ("1d-affine", (4, 5), (5,), True, True),
    ("2d-affine", (2, 3, 4), (3, 4), True, True),
    ("no-affine", (3, 6), (6,), False, False),
    ("weight-only", (2, 2, 5), (5,), True, False),
])


@pytest.mark.parametrize("name,shape,normalized,weight,bias", LAYER_NORM_CASES)
def test_layer_norm_reference_gradcheck_and_torch(name, shape, normalized, weight, bias, rng):
    axes = tuple(range(len(shape) - len(normalized), len(shape)))
    arrays = [rng.standard_normal(shape) * 2 + 1]
    if weight:
        arrays.append(rng.uniform(0.5, 1.5, normalized))
    if bias:
        arrays.append(rng.uniform(-1, 1, normalized))

    def fn_(x, *wb):
        return fn(x).layer_norm(x, normalized, *wb, eps=1e-5)

    def ref(x, *wb):
        y = _np_norm(x, axes, 1e-5)
        return y * wb[0] + (wb[1] if len(wb) > 1 else 0) if wb else y
    check_op(f"layer_norm {name}", fn_, ref, arrays=arrays, rng=rng)


def test_rms_norm_reference_gradcheck_and_torch(rng):
    x, w = rng.standard_normal((3, 2, 4)), rng.uniform(0.5, 1.5, (2, 4))
    check_op("rms_norm", lambda x_, w_: fn(x_).rms_norm(x_, (2, 4), w_, eps=1e-6),
             lambda x_, w_: _np_norm(x_, (1, 2), 1e-6, center=False) * w_, arrays=[x, w], rng=rng)
    # eps=None: the dtype's machine epsilon, as torch
    x32 = rng.standard_normal((2, 3)).astype(np.float32)
    assert_close(F.rms_norm(deepcore.tensor(x32), (3,)).numpy(),
                 x32 / np.sqrt((x32.astype(np.float64) ** 2).mean(-1, keepdims=True) + np.finfo(np.float32).eps),
                 1e-6, 1e-5, "rms_norm eps=None")


@pytest.mark.parametrize("shape,groups", [((2, 6, 3), 3), ((2, 4, 2, 2), 2), ((3, 6), 3), ((2, 4, 3), 1)], ids=str)
def test_group_norm_reference_gradcheck_and_torch(shape, groups, rng):
    N, C = shape[:2]
    x, w, b = rng.standard_normal(shape) * 3 - 1, rng.uniform(0.5, 1.5, C), rng.uniform(-1, 1, C)
    per_channel = (C,) + (1,) * (len(shape) - 2)

    def ref(x_, w_, b_):
        y = _np_norm(x_.reshape(N, groups, -1), (2,), 1e-5).reshape(shape)
        return y * w_.reshape(per_channel) + b_.reshape(per_channel)
    check_op(f"group_norm {shape} groups={groups}", lambda x_, w_, b_: fn(x_).group_norm(x_, groups, w_, b_), ref,
             arrays=[x, w, b], rng=rng)


@pytest.mark.parametrize("shape", [(2, 3, 5), (2, 2, 3, 3)], ids=str)
def test_instance_norm_reference_gradcheck_and_torch(shape, rng):
    C = shape[1]
    x, w, b = rng.standard_normal(shape) * 2, rng.uniform(0.5, 1.5, C), rng.uniform(-1, 1, C)
    per_channel = (C,) + (1,) * (len(shape) - 2)
    axes = tuple(range(2, len(shape)))
    check_op(f"instance_norm {shape}", lambda x_, w_, b_: fn(x_).instance_norm(x_, weight=w_, bias=b_),
             lambda x_, w_, b_: _np_norm(x_, axes, 1e-5) * w_.reshape(per_channel) + b_.reshape(per_channel),
             arrays=[x, w, b], rng=rng)


def test_normalizations_are_one_autograd_node_each(rng):
    """The closed-form backward: the output's grad_fn is one node whose edges reach the leaves directly."""
    x = deepcore.tensor(rng.standard_normal((2, 2, 6)), requires_grad=True)
    w, b = nn.Parameter(deepcore.ones(6, dtype=x.dtype)), nn.Parameter(deepcore.zeros(6, dtype=x.dtype))
    wc, bc = nn.Parameter(deepcore.ones(2, dtype=x.dtype)), nn.Parameter(deepcore.zeros(2, dtype=x.dtype))
    for y, n in ((F.layer_norm(x, (6,), w, b), 3), (F.group_norm(x, 2, wc, bc), 3), (F.rms_norm(x, (6,), w), 2),
                 (F.instance_norm(x, weight=wc, bias=bc), 3)):
        assert y.grad_fn.name == "Normalize"
        edges = [e for e in y.grad_fn.edges if e is not None]
        assert len(edges) == n and all(e[0].name == "AccumulateGrad" for e in edges), y.grad_fn.edges


def test_instance_norm_running_statistics_match_torch(torch, rng):
    C = 3
    tm = torch.nn.InstanceNorm1d(C, affine=True, track_running_stats=True, momentum=0.3)
    dm = nn.InstanceNorm1d(C, affine=True, track_running_stats=True, momentum=0.3)
    with torch.no_grad():
        tm.weight.uniform_(0.5, 1.5)
        tm.bias.uniform_(-0.5, 0.5)
    dm.load_state_dict(numpy_state(tm))
    assert list(dm.state_dict()) == list(tm.state_dict())
    for step in range(2):
        x = (rng.standard_normal((4, C, 6)) * 2 + 1).astype(np.float32)
        tx, dx = torch.tensor(x, requires_grad=True), deepcore.tensor(x, requires_grad=True)
        g = rng.standard_normal(x.shape).astype(np.float32)
        tm(tx).backward(torch.tensor(g))
        dm(dx).backward(deepcore.tensor(g))
        assert_close(dx.grad.numpy(), tx.grad.numpy(), 1e-4, 1e-3, f"InstanceNorm1d input grad step {step}")
        assert_close(dm.weight.grad.numpy(), tm.weight.grad.numpy(), 1e-4, 1e-3, "InstanceNorm1d weight grad")
        dm.zero_grad(), tm.zero_grad()
    for k in ("running_mean", "running_var"):
        assert_close(getattr(dm, k).numpy(), getattr(tm, k).numpy(), 1e-5, 1e-5, f"InstanceNorm1d {k}")
    tm.eval(), dm.eval()  # eval: the running statistics
    x = rng.standard_normal((2, C, 5)).astype(np.float32)
    assert_close(dm(deepcore.tensor(x)).detach().numpy(), tm(torch.tensor(x)).detach().numpy(), 1e-5, 1e-4,
                 "InstanceNorm1d eval")
    # unbatched (C, L)
    assert_close(dm(deepcore.tensor(x[0])).detach().numpy(), tm(torch.tensor(x[0])).detach().numpy(), 1e-5, 1e-4,
                 "InstanceNorm1d unbatched")


MODULE_CASES = named([
    ("LayerNorm", lambda m: m.LayerNorm(6), (3, 4, 6)),
    ("LayerNorm-2d-no-bias", lambda m: m.LayerNorm([4, 6], eps=1e-3, bias=False), (3, 4, 6)),
    ("LayerNorm-no-affine", lambda m: m.LayerNorm((6,), elementwise_affine=False), (2, 6)),
    ("RMSNorm", lambda m: m.RMSNorm(6, eps=1e-5), (3, 6)),
    ("GroupNorm", lambda m: m.GroupNorm(2, 4), (3, 4, 5)),
    ("GroupNorm-no-affine", lambda m: m.GroupNorm(4, 4, affine=False), (2, 4, 3, 3)),
    ("InstanceNorm1d", lambda m: m.InstanceNorm1d(3), (2, 3, 7)),
    ("InstanceNorm2d-affine", lambda m: m.InstanceNorm2d(3, affine=True), (2, 3, 4, 4)),
    ("InstanceNorm2d-unbatched", lambda m: m.InstanceNorm2d(3), (3, 4, 5)),
    ("InstanceNorm3d", lambda m: m.InstanceNorm3d(2), (2, 2, 3, 3, 3)),
    ("LocalResponseNorm", lambda m: m.LocalResponseNorm(3, alpha=0.1, beta=0.6, k=2.0), (2, 5, 4)),
    ("LocalResponseNorm-even-4d", lambda m: m.LocalResponseNorm(2), (2, 4, 3, 3)),
])


@pytest.mark.parametrize("name,make,shape", MODULE_CASES)
def test_normalization_modules_match_torch(torch, name, make, shape, rng):
    tm, dm = make(torch.nn), make(nn)
    with torch.no_grad():
        for p in tm.parameters():
            p.uniform_(0.5, 1.5)
    assert list(dm.state_dict()) == list(tm.state_dict()) and repr(dm) == repr(tm)
    dm.load_state_dict(numpy_state(tm))
    x = rng.standard_normal(shape).astype(np.float32) * 2 + 0.5
    g = rng.standard_normal(shape).astype(np.float32)
    tx, dx = torch.tensor(x, requires_grad=True), deepcore.tensor(x, requires_grad=True)
    ty, dy = tm(tx), dm(dx)
    ty.backward(torch.tensor(g))
    dy.backward(deepcore.tensor(g))
    assert_close(dy.detach().numpy(), ty.detach().numpy(), 1e-5, 1e-4, f"{name} output")
    assert_close(dx.grad.numpy(), tx.grad.numpy(), 1e-4, 1e-3, f"{name} input grad")
    for (k, dp), tp in zip(dm.named_parameters(), tm.parameters()):
        assert_close(dp.grad.numpy(), tp.grad.numpy(), 1e-4, 1e-3, f"{name} {k} grad")


@pytest.mark.parametrize("size", [1, 2, 3, 4])
def test_local_response_norm_reference(size, rng):
    x = rng.standard_normal((2, 5, 3))

    def ref(x_):
        sq = np.pad(x_ * x_, ((0, 0), (size // 2, (size - 1) // 2), (0, 0)))
        window = np.stack([sq[:, c:c + size].sum(1) for c in range(x_.shape[1])], 1) / size
        return x_ / (1.0 + 1e-2 * window) ** 0.75
    check_op(f"local_response_norm size={size}", lambda x_: fn(x_).local_response_norm(x_, size, alpha=1e-2), ref,
             arrays=[x], rng=rng)


def test_normalization_layers_initialize_and_reset_as_torch():
    ln = nn.LayerNorm((2, 3))
    assert tuple(ln.weight.shape) == (2, 3) and float(ln.weight.sum()) == 6 and float(ln.bias.abs().sum()) == 0
    gn = nn.GroupNorm(2, 4)
    with deepcore.no_grad():
        gn.weight.fill_(3.0)
    gn.reset_parameters()
    assert float(gn.weight.sum()) == 4
    inorm = nn.InstanceNorm1d(3)
    assert inorm.weight is None and inorm.running_mean is None and not inorm.affine
    assert nn.RMSNorm(4).eps is None and nn.PairwiseDistance(p=3).norm == 3


def test_normalization_argument_errors():
    x = deepcore.randn(3, 4)
    with raises(RuntimeError, "layer_norm", "normalized_shape=[5]", "[*, 5]", "[3, 4]"):
        F.layer_norm(x, (5,))
    with raises(RuntimeError, "layer_norm", "weight", "(3,)"):
        F.layer_norm(x, (4,), weight=deepcore.ones(3))
    with raises(RuntimeError, "layer_norm", "float64"):
        F.layer_norm(x, (4,), weight=deepcore.ones(4, dtype=deepcore.float64))
    with raises(TypeError, "layer_norm", "int64"):
        F.layer_norm(deepcore.tensor([[1, 2]]), (2,))
    with raises(TypeError, "layer_norm", "normalized_shape"):
        F.layer_norm(x, ())
    with raises(RuntimeError, "group_norm", "divisible by num_groups", "num_groups=4"):
        F.group_norm(deepcore.randn(2, 6, 4), 4)
    with raises(RuntimeError, "group_norm", "at least 2 dimensions"):
        F.group_norm(deepcore.randn(6), 3)
    with raises(ValueError, "num_channels (6) must be divisible by num_groups (4)"):
        nn.GroupNorm(4, 6)
    with raises(ValueError, "instance_norm", "more than 1 spatial element"):
        F.instance_norm(deepcore.randn(2, 3, 1))
    with raises(ValueError, "expected 2D or 3D input (got 4D input)"):
        nn.InstanceNorm1d(3)(deepcore.randn(2, 3, 4, 5))
    with raises(ValueError, "expected input's size at dim=1 to match num_features (3), but got: 4."):
        nn.InstanceNorm1d(3, affine=True)(deepcore.randn(2, 4, 5))
    with pytest.warns(UserWarning, match="does not match num_features"):
        nn.InstanceNorm1d(3)(deepcore.randn(2, 4, 5))
    with raises(ValueError, "local_response_norm", "3D or higher", "got 2"):
        F.local_response_norm(x, 2)
    with raises(ValueError, "local_response_norm", "size"):
        F.local_response_norm(deepcore.randn(2, 3, 4), 0)


# ---- vector norms and distances -----------------------------------------------------------------------

@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, 0.5, math.inf, -math.inf, -1.0])
def test_normalize_reference_gradcheck_and_torch(p, rng):
    x = rng.choice([-1, 1], (3, 4)) * rng.uniform(0.3, 2, (3, 4))  # away from 0 and from ties of |x|

    def ref(x_):
        ax = np.abs(x_)
        norm = {math.inf: ax.max(1, keepdims=True), -math.inf: ax.min(1, keepdims=True)}.get(
            p, (ax ** p).sum(1, keepdims=True) ** (1 / p) if p else None)
        return x_ / np.maximum(norm, 1e-12)
    check_op(f"normalize p={p}", lambda x_: fn(x_).normalize(x_, p=p), ref, arrays=[x], rng=rng)
    check_op(f"normalize p={p} dim=0", lambda x_: fn(x_).normalize(x_, p=p, dim=0),
             lambda x_: ref(x_.T).T, arrays=[x], rng=rng)


def test_normalize_a_zero_row_has_a_finite_gradient_as_torch(torch):
    x = np.array([[0.0, 0.0, 0.0], [3.0, 4.0, 0.0]])
    dx, tx = deepcore.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    F.normalize(dx).sum().backward()
    torch.nn.functional.normalize(tx).sum().backward()
    assert_close(dx.grad.numpy(), tx.grad.numpy(), 1e-9, 1e-9, "normalize gradient at a zero row")
    for p in (1.0, 3.0):
        dx.grad = None
        F.normalize(dx, p=p).sum().backward()
        assert np.isfinite(dx.grad.numpy()).all(), f"p={p}: {dx.grad}"


@pytest.mark.parametrize("s1,s2,dim", [((4, 5), (4, 5), 1), ((2, 3, 4), (3, 4), -1), ((3, 1, 4), (1, 2, 4), 0),
                                       ((5,), (5,), 0)], ids=str)
def test_cosine_similarity_reference_and_torch(s1, s2, dim, rng):
    def ref(a, b):
        a, b = np.broadcast_arrays(a, b)
        na = np.maximum(np.sqrt((a * a).sum(dim, keepdims=True)), 1e-8)
        nb = np.maximum(np.sqrt((b * b).sum(dim, keepdims=True)), 1e-8)
        return ((a / na) * (b / nb)).sum(dim)
    check_op(f"cosine_similarity {s1} {s2} dim={dim}", lambda a, b: fn(a).cosine_similarity(a, b, dim=dim), ref,
             shapes=[s1, s2], rng=rng)


@pytest.mark.parametrize("p,keepdim", [(2.0, False), (1.0, True), (3.0, False), (math.inf, False)])
def test_pairwise_distance_reference_and_torch(p, keepdim, rng):
    def ref(a, b):
        d = np.abs(a - b + 1e-6)
        out = d.max(-1, keepdims=True) if p == math.inf else (d ** p).sum(-1, keepdims=True) ** (1 / p)
        return out if keepdim else out[..., 0]
    check_op(f"pairwise_distance p={p}", lambda a, b: fn(a).pairwise_distance(a, b, p=p, keepdim=keepdim), ref,
             shapes=[(4, 6), (1, 6)], rng=rng)


def test_distance_modules_match_torch(torch, rng):
    a, b = rng.standard_normal((3, 5)).astype(np.float32), rng.standard_normal((3, 5)).astype(np.float32)
    for make in (lambda m: m.CosineSimilarity(dim=0, eps=1e-6), lambda m: m.PairwiseDistance(p=1.5, keepdim=True)):
        tm, dm = make(torch.nn), make(nn)
        assert repr(dm) == repr(tm)
        assert_close(dm(deepcore.tensor(a), deepcore.tensor(b)).numpy(),
                     tm(torch.tensor(a), torch.tensor(b)).numpy(), 1e-6, 1e-5, repr(dm))


def test_distance_errors():
    with raises(RuntimeError, "cosine_similarity", "(2, 3) and (4, 3)"):
        F.cosine_similarity(deepcore.randn(2, 3), deepcore.randn(4, 3))
    with raises(IndexError, "normalize", "dim 2"):
        F.normalize(deepcore.randn(2, 3), dim=2)
    with raises(TypeError, "pairwise_distance", "int64"):
        F.pairwise_distance(deepcore.tensor([[1, 2]]), deepcore.tensor([[1, 2]]))
    with raises(NotImplementedError, "normalize", "out="):
        F.normalize(deepcore.randn(2, 3), out=deepcore.randn(2, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.normalize(deepcore.randn(2, 3), p=0)  # the count of non-zeros: allowed, no warning


# ---- torch.norm, cdist ---------------------------------------------------------------------------

@pytest.mark.parametrize("p,dim,keepdim", [("fro", None, False), (2, 1, False), (1, 0, True), (float("inf"), 1, False),
                                           (3, None, False), ("fro", (0, 1), True)], ids=str)
def test_norm(p, dim, keepdim, rng):
    def ref(x):
        axis = dim
        ax = np.abs(x)
        if p == float("inf"):
            return ax.max(axis=axis, keepdims=keepdim)
        q = 2 if p == "fro" else p
        return (ax ** q).sum(axis=axis, keepdims=keepdim) ** (1 / q)
    check_op(f"norm(p={p}, dim={dim})", lambda x: lib(x).norm(x, p, dim, keepdim), ref, [(3, 4)], rng=rng)
    check_op("Tensor.norm()", lambda x: x.norm(), lambda x: np.sqrt((x * x).sum()), [(3, 4)], rng=rng)


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0])
def test_cdist(p, rng):
    def ref(a, b):
        d = np.abs(a[..., :, None, :] - b[..., None, :, :])
        return (d ** p).sum(-1) ** (1 / p)
    check_op(f"cdist(p={p})", lambda a, b: lib(a).cdist(a, b, p=p), ref, [(4, 3), (5, 3)], rng=rng)
    check_op(f"cdist batched (p={p})", lambda a, b: lib(a).cdist(a, b, p=p), ref, [(2, 3, 2), (2, 4, 2)], rng=rng)


def test_norm_cdist_errors():
    with pytest.raises(NotImplementedError, match="norm: p='nuc'"):
        deepcore.ones(2, 2).norm(p="nuc")
    with pytest.raises(RuntimeError, match="cdist"):
        deepcore.cdist(deepcore.ones(2, 3), deepcore.ones(2, 4))
