"""Properties of the losses: cross_entropy (class indices or probabilities, weight, ignore_index,
label_smoothing), nll_loss, mse, l1, bce, bce_with_logits (pos_weight), smooth_l1, huber and kl_div,
every reduction, batches including 0 and spatial dims; values against float64 NumPy, values and
gradients against torch."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import deepcore
import deepcore.nn.functional as F
from prop_strategies import FLOAT_DTYPES, examples, expect_same, expect_value, operands, torch

_SEEDS = st.integers(0, 2 ** 32 - 1)
REDUCTIONS = ("none", "mean", "sum")


def _log_softmax(x, axis=1):
    m = np.max(x, axis=axis, keepdims=True)
    return (x - m) - np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))


def _reduce(per, reduction, denominator=None):
    if reduction == "none":
        return per
    if reduction == "sum":
        return per.sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        return per.sum() / (per.size if denominator is None else denominator)


def _class_loss(logp, target, weight, ignore_index, reduction, smoothing=0.0):
    """cross_entropy / nll_loss with class indices, PyTorch's formulas: the weighted NLL of the target
    class plus label_smoothing / C times the weighted sum over all classes; mean divides both by the
    target weights of the elements not ignored."""
    c = logp.shape[1]
    w = np.ones(c) if weight is None else weight
    keep = target != ignore_index
    safe = np.where(keep, target, 0)
    picked = np.take_along_axis(logp, safe[:, None], 1)[:, 0]
    wt = np.where(keep, w[safe], 0.0)
    nll = -wt * picked
    wshape = (1, c) + (1,) * (logp.ndim - 2)
    smooth = np.where(keep, -np.sum(logp * w.reshape(wshape), axis=1), 0.0)
    if reduction == "none":
        return (1 - smoothing) * nll + smoothing / c * smooth
    denominator = wt.sum() if reduction == "mean" else None
    return (1 - smoothing) * _reduce(nll, reduction, denominator) + smoothing / c * _reduce(smooth, reduction,
                                                                                            denominator)


@st.composite
def classification(draw):
    n = draw(st.sampled_from((0, 1, 2, 5, 8)))
    c = draw(st.sampled_from((1, 2, 3, 7)))
    spatial = draw(st.sampled_from(((), (), (3,), (2, 2))))
    return dict(n=n, c=c, spatial=spatial, weight=draw(st.booleans()), ignore=draw(st.booleans()),
                reduction=draw(st.sampled_from(REDUCTIONS)), smoothing=draw(st.sampled_from((0.0, 0.0, 0.1, 0.5))),
                probabilities=draw(st.integers(0, 4)) == 0)


@settings(max_examples=examples(300))
@given(classification(), st.sampled_from(("cross_entropy", "nll_loss")), st.sampled_from(FLOAT_DTYPES), _SEEDS,
       st.data())
def test_classification_losses(g, name, dtype, seed, data):
    rng = np.random.default_rng(seed)
    n, c, spatial = g["n"], g["c"], g["spatial"]
    x = data.draw(operands((n, c) + spatial, dtype, -4.0, 4.0, specials=False), "input")
    weight = rng.uniform(0.2, 2.0, c) if g["weight"] else None
    probabilities = g["probabilities"] and name == "cross_entropy"
    if probabilities:
        target = rng.dirichlet(np.ones(c), (n,) + spatial)
        target = np.moveaxis(target, -1, 1) if target.size else np.zeros((n, c) + spatial)
        ignore_index = -100
    else:
        target = rng.integers(0, c, (n,) + spatial)
        ignore_index = int(rng.integers(0, c)) if g["ignore"] else -100
    kwargs = dict(weight=None if weight is None else deepcore.tensor(weight, dtype=getattr(deepcore, dtype)),
                  reduction=g["reduction"])
    if ignore_index != -100:
        kwargs["ignore_index"] = ignore_index
    smoothing = g["smoothing"] if name == "cross_entropy" else 0.0
    if name == "cross_entropy" and smoothing:
        kwargs["label_smoothing"] = smoothing
    what = f"{name}(input {x}, target {'probabilities' if probabilities else 'classes'} {target.shape}, {kwargs})"
    leaf, view = x.deepcore(requires_grad=True)
    t_dc = deepcore.tensor(target, dtype=getattr(deepcore, dtype)) if probabilities else deepcore.tensor(target)
    out = getattr(F, name)(view, t_dc, **kwargs)
    logp = _log_softmax(x.value) if name == "cross_entropy" else x.value
    if probabilities:
        w = np.ones(c) if weight is None else weight
        soft = target * (1 - smoothing) + smoothing / c
        per = -np.sum(soft * logp * w.reshape((1, c) + (1,) * len(spatial)), axis=1)
        expected = _reduce(per, g["reduction"])   # mean: over batch and spatial elements, unweighted
    else:
        expected = _class_loss(logp, target, weight, ignore_index, g["reduction"], smoothing)
    tol = dict(atol=2e-5, rtol=1e-4) if dtype == "float32" else dict(atol=1e-11, rtol=1e-10)
    expect_value(out, expected, dtype, what, **tol)
    if torch is None:
        return
    tkw = dict(kwargs, weight=None if weight is None else torch.tensor(weight, dtype=getattr(torch, dtype)))
    tleaf, tview = x.torch(requires_grad=True)
    t_t = torch.tensor(target, dtype=getattr(torch, dtype)) if probabilities else torch.tensor(target)
    # .contiguous(): torch's nll_loss2d backward refuses a non-contiguous input ("grad_input must be contiguous")
    tout = getattr(torch.nn.functional, name)(tview.contiguous(), t_t, **tkw)
    expect_same(out, tout, what, **tol)
    if np.isfinite(expected).all() and out.numel():
        w = rng.uniform(-1, 1, tuple(out.shape))
        out.backward(deepcore.tensor(w, dtype=getattr(deepcore, dtype)))
        tout.backward(torch.tensor(w, dtype=getattr(torch, dtype)))
        expect_same(leaf.grad, tleaf.grad, what + " gradient", **tol)


@pytest.mark.parametrize("scale", [1e15, 1e30, -1e30])
def test_cross_entropy_of_equal_huge_logits_is_log_c(scale):
    """The kernel takes log sum exp(x - max) - (x[target] - max): (max + lse) - x[target] would cancel to 0."""
    out = F.cross_entropy(deepcore.tensor([[scale, scale]], dtype=deepcore.float64), deepcore.tensor([0]))
    assert abs(out.item() - np.log(2)) < 1e-12


@settings(max_examples=examples(100))
@given(st.sampled_from((1, 3, 6)), st.sampled_from((2, 5)), st.sampled_from((1e2, 1e3, 1e6, 1e15)), st.booleans(), _SEEDS)
def test_cross_entropy_of_large_logits_is_finite(n, c, scale, negative, seed):
    """The forward shifts by the row max: large logits give the loss of their differences (finite).
    (Equal huge logits: the test above.)"""
    rng = np.random.default_rng(seed)
    base = rng.uniform(-3, 3, (n, c))
    logits = base + (-scale if negative else scale)
    target = rng.integers(0, c, n)
    out = F.cross_entropy(deepcore.tensor(logits, dtype=deepcore.float64), deepcore.tensor(target))
    with np.errstate(all="ignore"):
        expected = _class_loss(_log_softmax(logits), target, None, -100, "mean")
    expect_value(out, expected, "float64", f"cross_entropy of logits {scale:g} + U(-3, 3)", atol=1e-6, rtol=1e-6)
    assert np.isfinite(out.item())


# ---- pointwise losses ---------------------------------------------------------------------------------

def _bce(x, t, w):
    with np.errstate(divide="ignore"):
        per = -(t * np.maximum(np.log(x), -100) + (1 - t) * np.maximum(np.log1p(-x), -100))
    return per * (w if w is not None else 1)


def _bce_logits(x, t, w, pos_weight):
    pw = 1.0 if pos_weight is None else pos_weight
    per = (1 - t) * x + (1 + (pw - 1) * t) * (np.log1p(np.exp(-np.abs(x))) + np.maximum(-x, 0))
    return per * (w if w is not None else 1)


def _smooth_l1(d, beta):
    a = np.abs(d)
    return np.where(a < beta, 0.5 * d * d / beta, a - 0.5 * beta) if beta > 0 else a


def _huber(d, delta):
    a = np.abs(d)
    return np.where(a <= delta, 0.5 * d * d, delta * (a - 0.5 * delta))


POINTWISE = ("mse_loss", "l1_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits", "smooth_l1_loss",
             "huber_loss", "kl_div")


@settings(max_examples=examples(350))
@given(st.sampled_from(POINTWISE), st.sampled_from(REDUCTIONS + ("batchmean",)), st.sampled_from(FLOAT_DTYPES),
       st.sampled_from(((), (0,), (1,), (4,), (3, 5), (2, 3, 4))), st.booleans(), _SEEDS, st.data())
def test_pointwise_losses(name, reduction, dtype, shape, option, seed, data):
    if reduction == "batchmean" and (name != "kl_div" or not shape):
        reduction = "mean"
    rng = np.random.default_rng(seed)
    probability_input = name == "binary_cross_entropy"
    x = data.draw(operands(shape, dtype, 0.02 if probability_input else -3.0, 0.98 if probability_input else 3.0,
                           specials=False), "input")
    target = rng.uniform(0, 1, shape) if name in ("binary_cross_entropy", "binary_cross_entropy_with_logits") else \
        rng.uniform(-3, 3, shape)
    kwargs, extra = dict(reduction=reduction), {}
    if name == "kl_div":
        target = rng.dirichlet(np.ones(shape[-1]), shape[:-1]) if shape and shape[-1] else rng.uniform(0, 1, shape)
        if option:
            kwargs["log_target"] = True
            with np.errstate(divide="ignore"):
                target = np.log(target)
    if name in ("binary_cross_entropy", "binary_cross_entropy_with_logits") and option:
        extra["weight"] = rng.uniform(0.2, 2.0, shape[-1:] if shape else ())
    if name == "binary_cross_entropy_with_logits" and rng.random() < 0.5:
        extra["pos_weight"] = rng.uniform(0.2, 3.0, shape[-1:] if shape else ())
    if name == "smooth_l1_loss":
        kwargs["beta"] = float(rng.choice((0.0, 0.5, 1.0, 2.0)))
    if name == "huber_loss":
        kwargs["delta"] = float(rng.choice((0.5, 1.0, 2.0)))
    xv, tv = x.value, target.astype(dtype).astype(np.float64)
    w, pw = extra.get("weight"), extra.get("pos_weight")
    with np.errstate(all="ignore"):
        per = {"mse_loss": lambda: (xv - tv) ** 2, "l1_loss": lambda: np.abs(xv - tv),
               "binary_cross_entropy": lambda: _bce(xv, tv, w),
               "binary_cross_entropy_with_logits": lambda: _bce_logits(xv, tv, w, pw),
               "smooth_l1_loss": lambda: _smooth_l1(xv - tv, kwargs["beta"]),
               "huber_loss": lambda: _huber(xv - tv, kwargs["delta"]),
               "kl_div": lambda: (np.exp(tv) * (tv - xv) if kwargs.get("log_target") else
                                  np.where(tv > 0, tv * (np.log(np.where(tv > 0, tv, 1)) - xv), 0.0))}[name]()
        expected = (per.sum() / shape[0] if reduction == "batchmean" else _reduce(per, reduction))
    what = f"{name}(input {x}, {kwargs}, {sorted(extra)})"
    as_dc = {k: deepcore.tensor(v, dtype=getattr(deepcore, dtype)) for k, v in extra.items()}
    leaf, view = x.deepcore(requires_grad=True)
    out = getattr(F, name)(view, deepcore.tensor(target, dtype=getattr(deepcore, dtype)), **kwargs, **as_dc)
    tol = dict(atol=2e-5, rtol=1e-4) if dtype == "float32" else dict(atol=1e-11, rtol=1e-10)
    expect_value(out, expected, dtype, what, **tol)
    if torch is None:
        return
    as_t = {k: torch.tensor(v, dtype=getattr(torch, dtype)) for k, v in extra.items()}
    tleaf, tview = x.torch(requires_grad=True)
    tout = getattr(torch.nn.functional, name)(tview, torch.tensor(target, dtype=getattr(torch, dtype)), **kwargs,
                                              **as_t)
    expect_same(out, tout, what, **tol)
    if out.numel() and np.isfinite(to_float(out)).all():
        g = rng.uniform(-1, 1, tuple(out.shape))
        out.backward(deepcore.tensor(g, dtype=getattr(deepcore, dtype)))
        tout.backward(torch.tensor(g, dtype=getattr(torch, dtype)))
        expect_same(leaf.grad, tleaf.grad, what + " gradient", **tol)


def to_float(t):
    return t.detach().numpy().astype(np.float64)
