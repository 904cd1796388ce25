"""Loss family (every loss, the fused cross-entropy kernel's options, bad input) against NumPy float64, gradcheck and PyTorch."""
import warnings

import numpy as np
import pytest

import deepcore
import deepcore.nn as nn
import deepcore.nn.functional as F
from helpers import assert_close, check_op, functional_of as fn, lib


def const(x, arr):
    """A constant (non-differentiated) tensor in x's library and dtype."""
    return lib(x).tensor(arr, dtype=x.dtype)


REDUCTIONS = ["mean", "sum", "none"]


# ---- NumPy float64 references ---------------------------------------------------------------

def log_softmax_ref(x, axis=1):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


def reduce_ref(loss, reduction, denom=None):
    if reduction == "none":
        return loss
    if reduction == "sum":
        return np.array(loss.sum())
    return np.array(loss.sum() / (loss.size if denom is None else denom))


def nll_ref(logp, target, reduction, weight=None, ignore_index=-100):
    """logp (N, C, *), target (N, *)."""
    C = logp.shape[1]
    w = np.ones(C) if weight is None else weight
    moved = np.moveaxis(logp, 1, -1).reshape(-1, C)
    t = target.reshape(-1)
    keep = t != ignore_index
    tt = np.where(keep, t, 0)
    wt = np.where(keep, w[tt], 0.0)
    loss = -wt * moved[np.arange(len(t)), tt]
    return reduce_ref(loss.reshape(target.shape), reduction, wt.sum())


def cross_entropy_ref(x, target, reduction, weight=None, ignore_index=-100, label_smoothing=0.0):
    logp = log_softmax_ref(x, 1)
    C = x.shape[1]
    w = np.ones(C) if weight is None else weight
    nll = nll_ref(logp, target, "none", weight, ignore_index)
    keep = target != ignore_index
    smooth = -(np.moveaxis(logp, 1, -1) * w).sum(-1) * keep
    loss = (1 - label_smoothing) * nll + label_smoothing / C * smooth
    denom = np.where(keep, w[np.where(keep, target, 0)], 0.0).sum()
    return reduce_ref(loss, reduction, denom)


def bce_ref(p, y, reduction, weight=None):
    loss = -(y * np.maximum(np.log(p), -100) + (1 - y) * np.maximum(np.log1p(-p), -100))
    return reduce_ref(loss * (1 if weight is None else weight), reduction)


def bce_logits_ref(x, y, reduction, weight=None, pos_weight=None):
    pw = 1.0 if pos_weight is None else pos_weight
    loss = -(pw * y * np.log(1 / (1 + np.exp(-x))) + (1 - y) * np.log(1 / (1 + np.exp(x))))
    return reduce_ref(loss * (1 if weight is None else weight), reduction)


# ---- cross-entropy and NLL ---------------------------------------------------------------------

@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 5), (2, 3, 2, 2)], ids=str)
def test_cross_entropy(shape, reduction, rng):
    x = rng.uniform(-3, 3, shape)
    t = rng.integers(0, shape[1], (shape[0],) + shape[2:])
    check_op("cross_entropy", lambda a, b: fn(a).cross_entropy(a, b, reduction=reduction),
             lambda a, b: cross_entropy_ref(a, b, reduction), arrays=[x, t], rng=rng)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_weight_ignore_index_label_smoothing(reduction, rng):
    x = rng.uniform(-3, 3, (7, 5))
    t = rng.integers(0, 5, 7)
    t[[1, 4]] = 2  # ignore_index below
    w = rng.uniform(0.2, 2.0, 5)
    for eps in (0.0, 0.2):
        check_op("cross_entropy_options",
                 lambda a, b: fn(a).cross_entropy(a, b, weight=const(a, w), ignore_index=2, reduction=reduction,
                                                  label_smoothing=eps),
                 lambda a, b: cross_entropy_ref(a, b, reduction, w, 2, eps), arrays=[x, t], rng=rng)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss(reduction, rng):
    x = log_softmax_ref(rng.uniform(-3, 3, (6, 4)))
    t = rng.integers(0, 4, 6)
    w = rng.uniform(0.5, 2.0, 4)
    check_op("nll_loss", lambda a, b: fn(a).nll_loss(a, b, reduction=reduction),
             lambda a, b: nll_ref(a, b, reduction), arrays=[x, t], rng=rng)
    t[0] = -100  # the default ignore_index
    check_op("nll_loss_weighted", lambda a, b: fn(a).nll_loss(a, b, weight=const(a, w), reduction=reduction),
             lambda a, b: nll_ref(a, b, reduction, w), arrays=[x, t], rng=rng)
    x3 = rng.uniform(-3, 0, (2, 3, 4))
    t3 = rng.integers(0, 3, (2, 4))
    check_op("nll_loss_3d", lambda a, b: fn(a).nll_loss(a, b, reduction=reduction),
             lambda a, b: nll_ref(a, b, reduction), arrays=[x3, t3], rng=rng)


def test_cross_entropy_is_log_softmax_plus_nll_and_stable(rng):
    x = deepcore.tensor(rng.uniform(-3, 3, (5, 4)))
    t = deepcore.tensor(rng.integers(0, 4, 5))
    fused = F.cross_entropy(x, t)
    composite = F.nll_loss(F.log_softmax(x, dim=1), t)
    assert_close(fused.numpy(), composite.numpy(), 1e-6, 1e-6, "cross_entropy vs log_softmax + nll")
    # Huge logits: no overflow, the exact answer.
    big = deepcore.tensor([[1000.0, 0.0, -1000.0], [0.0, 2000.0, 0.0]])
    loss = F.cross_entropy(big, deepcore.tensor([1, 1]), reduction="none")
    assert_close(loss.numpy(), np.array([1000.0, 0.0]), 1e-3, 1e-6, "cross_entropy on huge logits")


def test_cross_entropy_unbatched_and_probability_targets(rng):
    x = rng.uniform(-2, 2, 5)
    check_op("cross_entropy_unbatched", lambda a, b: fn(a).cross_entropy(a, b),
             lambda a, b: cross_entropy_ref(a[None], b[None], "mean"), arrays=[x, np.array(3)], rng=rng)
    xs = rng.uniform(-2, 2, (4, 3))
    probs = rng.dirichlet(np.ones(3), 4)
    for eps in (0.0, 0.1):
        def ref(a, p, eps=eps):
            p = p * (1 - eps) + eps / 3
            return np.array(-(log_softmax_ref(a) * p).sum(1).mean())
        check_op("cross_entropy_probs", lambda a, p, eps=eps: fn(a).cross_entropy(a, p, label_smoothing=eps), ref,
                 arrays=[xs, probs], rng=rng)


def test_cross_entropy_deterministic_across_thread_counts(rng):
    x = deepcore.tensor(rng.standard_normal((5000, 10)).astype(np.float32))
    t = deepcore.tensor(rng.integers(0, 10, 5000))
    results = []
    for threads in (1, 2):
        deepcore.set_num_threads(threads)
        xr = x.detach().requires_grad_()
        loss = F.cross_entropy(xr, t)
        loss.backward()
        results.append((loss.item(), xr.grad.numpy().copy()))
    assert results[0][0] == results[1][0]
    assert np.array_equal(results[0][1], results[1][1])


def test_legacy_size_average_argument(rng):
    x = deepcore.tensor(log_softmax_ref(rng.uniform(-2, 2, (4, 3))))
    t = deepcore.tensor([0, 2, 1, 1])
    with pytest.warns(UserWarning, match="reduction='sum'"):
        summed = F.nll_loss(x, t, size_average=False)
    assert summed.item() == pytest.approx(F.nll_loss(x, t, reduction="sum").item())


# ---- elementwise losses --------------------------------------------------------------------------------

@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_and_l1(reduction, rng):
    check_op("mse_loss", lambda a, b: fn(a).mse_loss(a, b, reduction=reduction),
             lambda a, b: reduce_ref((a - b) ** 2, reduction), shapes=[(3, 4), (3, 4)], rng=rng)
    check_op("l1_loss", lambda a, b: fn(a).l1_loss(a, b, reduction=reduction),
             lambda a, b: reduce_ref(np.abs(a - b), reduction), shapes=[(3, 4), (3, 4)], rng=rng)


def huber_ref(a, b, delta, reduction, scale=1.0):
    d = np.abs(a - b)
    return reduce_ref(np.where(d < delta, 0.5 * d * d, delta * (d - 0.5 * delta)) * scale, reduction)


def away_from_the_kink(rng, shape, delta):
    """Differences at least 0.05 from +-delta, where finite differences would straddle the branch switch."""
    d = rng.uniform(0.05, 2.5, shape) * rng.choice([-1, 1], shape)
    d = np.where(np.abs(np.abs(d) - delta) < 0.05, d * 1.3, d)
    b = rng.standard_normal(shape)
    return [b + d, b]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("delta", [1.0, 0.5, 2.0])
def test_huber_and_smooth_l1(reduction, delta, rng):
    arrays = away_from_the_kink(rng, (3, 4), delta)
    check_op("huber_loss", lambda a, b: fn(a).huber_loss(a, b, reduction=reduction, delta=delta),
             lambda a, b: huber_ref(a, b, delta, reduction), arrays=arrays, rng=rng)
    check_op("smooth_l1_loss", lambda a, b: fn(a).smooth_l1_loss(a, b, reduction=reduction, beta=delta),
             lambda a, b: huber_ref(a, b, delta, reduction, 1.0 / delta), arrays=arrays, rng=rng)


def test_huber_modules_and_limits():
    x, y = deepcore.tensor([0.0, 3.0]), deepcore.tensor([0.5, 0.0])
    assert nn.HuberLoss(reduction="none")(x, y).tolist() == [0.125, 2.5]
    assert nn.SmoothL1Loss(beta=0.0)(x, y).item() == pytest.approx(F.l1_loss(x, y).item())
    with pytest.raises(ValueError, match="non-negative"):
        F.huber_loss(x, y, delta=-1.0)
    with pytest.raises(ValueError, match="differ"):
        F.huber_loss(x, y[:1])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy(reduction, rng):
    p = rng.uniform(0.05, 0.95, (4, 3))
    y = rng.uniform(0, 1, (4, 3))
    w = rng.uniform(0.5, 2, (3,))
    check_op("bce", lambda a, b: fn(a).binary_cross_entropy(a, b, reduction=reduction),
             lambda a, b: bce_ref(a, b, reduction), arrays=[p, y], rng=rng)
    check_op("bce_weighted", lambda a, b: fn(a).binary_cross_entropy(a, b, weight=const(a, w), reduction=reduction),
             lambda a, b: bce_ref(a, b, reduction, w), arrays=[p, y], rng=rng)


def test_binary_cross_entropy_at_zero_and_one():
    p = deepcore.tensor([0.0, 1.0, 0.0, 1.0])
    y = deepcore.tensor([0.0, 1.0, 1.0, 0.0])
    assert_close(F.binary_cross_entropy(p, y, reduction="none").numpy(), np.array([0.0, 0.0, 100.0, 100.0]),
                 1e-6, 1e-6, "bce clamps log at -100")


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_with_logits(reduction, rng):
    x = rng.uniform(-4, 4, (4, 3))
    y = rng.uniform(0, 1, (4, 3))
    w = rng.uniform(0.5, 2, (4, 1))
    pw = rng.uniform(0.5, 3, (3,))
    check_op("bce_logits", lambda a, b: fn(a).binary_cross_entropy_with_logits(a, b, reduction=reduction),
             lambda a, b: bce_logits_ref(a, b, reduction), arrays=[x, y], rng=rng)
    check_op("bce_logits_weights",
             lambda a, b: fn(a).binary_cross_entropy_with_logits(a, b, weight=const(a, w), pos_weight=const(a, pw),
                                                                 reduction=reduction),
             lambda a, b: bce_logits_ref(a, b, reduction, w, pw), arrays=[x, y], rng=rng)


def test_bce_with_logits_stable_for_large_logits():
    x = deepcore.tensor([1000.0, -1000.0, 1000.0])
    y = deepcore.tensor([1.0, 0.0, 0.0])
    assert_close(F.binary_cross_entropy_with_logits(x, y, reduction="none").numpy(), np.array([0.0, 0.0, 1000.0]),
                 1e-4, 1e-6, "bce_with_logits at +-1000")


@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(reduction, log_target, rng):
    x = log_softmax_ref(rng.uniform(-2, 2, (3, 4)))
    t = rng.dirichlet(np.ones(4), 3)
    t[0, 1] = 0.0  # 0 * log 0 = 0
    if log_target:
        t = np.log(t + 0.1)

    def ref(a, b):
        loss = np.exp(b) * (b - a) if log_target else np.where(b > 0, b * (np.log(np.where(b > 0, b, 1)) - a), 0)
        return np.array(loss.sum() / a.shape[0]) if reduction == "batchmean" else reduce_ref(loss, reduction)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # The target's gradient at t = 0 is -inf in PyTorch (xlogy); compare the input's gradient only.
        check_op("kl_div", lambda a: fn(a).kl_div(a, const(a, t), reduction=reduction, log_target=log_target),
                 lambda a: ref(a, t), arrays=[x], rng=rng)


# ---- modules ---------------------------------------------------------------------------------------

def test_loss_modules_match_functional(rng):
    x = deepcore.tensor(rng.uniform(-2, 2, (5, 3)))
    t = deepcore.tensor(rng.integers(0, 3, 5))
    y = deepcore.tensor(rng.uniform(0, 1, (5, 3)))
    p = deepcore.tensor(rng.uniform(0.1, 0.9, (5, 3)))
    w = deepcore.tensor(rng.uniform(0.5, 2, 3))
    cases = [
        (nn.CrossEntropyLoss(weight=w, reduction="sum", label_smoothing=0.1),
         F.cross_entropy(x, t, weight=w, reduction="sum", label_smoothing=0.1), (x, t)),
        (nn.NLLLoss(ignore_index=1), F.nll_loss(x, t, ignore_index=1), (x, t)),
        (nn.MSELoss(reduction="none"), F.mse_loss(x, y, reduction="none"), (x, y)),
        (nn.L1Loss(), F.l1_loss(x, y), (x, y)),
        (nn.BCELoss(), F.binary_cross_entropy(p, y), (p, y)),
        (nn.BCEWithLogitsLoss(pos_weight=w), F.binary_cross_entropy_with_logits(x, y, pos_weight=w), (x, y)),
        (nn.KLDivLoss(reduction="batchmean"), F.kl_div(x, p, reduction="batchmean"), (x, p)),
    ]
    for module, expected, args in cases:
        assert_close(module(*args).numpy(), expected.numpy(), 0, 0, type(module).__name__)


def test_loss_module_repr(torch):
    assert repr(nn.CrossEntropyLoss()) == repr(torch.nn.CrossEntropyLoss()) == "CrossEntropyLoss()"
    assert repr(nn.MSELoss()) == repr(torch.nn.MSELoss())


# ---- bad input ------------------------------------------------------------------------------------

def test_label_out_of_range_names_label_and_classes():
    x = deepcore.randn(3, 4)
    with pytest.raises(ValueError, match=r"label 7 .*4 classes"):
        F.cross_entropy(x, deepcore.tensor([0, 7, 1]))
    with pytest.raises(ValueError, match=r"label -1 .*4 classes"):
        F.nll_loss(x, deepcore.tensor([0, -1, 1]))
    with pytest.raises(ValueError, match=r"label 4 .*4 classes"):
        nn.CrossEntropyLoss()(deepcore.randn(2, 4, 3), deepcore.tensor([[0, 1, 2], [3, 4, 0]]))


def test_wrong_target_dtype_is_type_error():
    x = deepcore.randn(3, 4)
    with pytest.raises(TypeError, match="int64"):
        F.cross_entropy(x, deepcore.tensor([0.0, 1.0, 2.0]))  # float labels, not probabilities
    with pytest.raises(TypeError, match="int64"):
        F.nll_loss(x, deepcore.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(TypeError, match="floating-point target"):
        F.mse_loss(x, deepcore.tensor([[0, 1, 2, 3]] * 3))
    with pytest.raises(TypeError, match="floating-point target"):
        F.binary_cross_entropy(x.sigmoid(), deepcore.ones(3, 4, dtype=deepcore.int64))
    with pytest.raises(TypeError):
        F.cross_entropy(deepcore.tensor([[1, 2]]), deepcore.tensor([0]))  # integer logits


def test_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(4, 1\).*\(4,\)"):
        F.mse_loss(deepcore.randn(4, 1), deepcore.randn(4))
    with pytest.raises(ValueError, match=r"\(3, 4\).*\(3,\).*\(2,\)"):
        F.cross_entropy(deepcore.randn(3, 4), deepcore.tensor([0, 1]))
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(3, 2\)"):
        nn.BCEWithLogitsLoss()(deepcore.randn(2, 3), deepcore.rand(3, 2))
    with pytest.raises(ValueError, match="one entry per class"):
        F.cross_entropy(deepcore.randn(3, 4), deepcore.tensor([0, 1, 2]), weight=deepcore.ones(3))


def test_bce_input_outside_unit_interval():
    y = deepcore.tensor([0.0, 1.0, 1.0])
    with pytest.raises(ValueError, match=r"\[0, 1\].*element 1 is 1.5"):
        F.binary_cross_entropy(deepcore.tensor([0.5, 1.5, 0.2]), y)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        nn.BCELoss()(deepcore.tensor([0.5, -0.1, 0.2]), y)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        F.binary_cross_entropy(deepcore.tensor([0.5, float("nan"), 0.2]), y)


def test_bad_reduction():
    with pytest.raises(ValueError, match="reduction"):
        F.mse_loss(deepcore.randn(2), deepcore.randn(2), reduction="avg")


# ---- precision far from zero (issue 17) -----------------------------------------------------------

def _softmax_grad_ref(x, target):
    """d mean(cross_entropy) / dx in float64, from the max-shifted softmax over dim 1."""
    x = x.astype(np.float64)
    p = np.exp(x - x.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    np.put_along_axis(p, np.expand_dims(target, 1), np.take_along_axis(p, np.expand_dims(target, 1), 1) - 1, 1)
    return p / target.size


def test_cross_entropy_gradient_keeps_its_precision_for_large_logits(rng):
    x = deepcore.tensor([[-1e6, -1e6]], requires_grad=True)
    F.cross_entropy(x, deepcore.tensor([1])).backward()
    assert x.grad.tolist() == [[0.5, -0.5]]
    # float32 logits around large offsets, in the (N, C) and the (N, C, d) layouts: the softmax is
    # rebuilt from x - max, so only float32's rounding of exp and the sum is left.
    for shape in [(6, 5), (2, 4, 3)]:
        base = rng.uniform(-3, 3, shape)
        target = rng.integers(0, shape[1], (shape[0],) + shape[2:])
        for offset in (1e4, -3e5, 1e6):
            a = (base + offset).astype(np.float32)
            x = deepcore.tensor(a, requires_grad=True)
            F.cross_entropy(x, deepcore.tensor(target)).backward()
            assert_close(x.grad.numpy(), _softmax_grad_ref(a, target), 2e-7, 1e-5,
                         f"cross_entropy gradient, logits {shape} near {offset}")
