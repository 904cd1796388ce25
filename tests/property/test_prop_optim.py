"""Properties of the optimizers' steps: SGD (momentum, dampening, nesterov), Adam / AdamW (amsgrad),
RMSprop (centered, momentum), Adagrad (lr_decay, initial accumulator) and Adadelta, with weight decay
and maximize, over one to three steps on parameters of random shapes (0-d and empty included) and
random gradients; parameters after each step against a float64 NumPy transcription of PyTorch's
documented update, and against torch.optim with the same hyper-parameters."""
import numpy as np
from hypothesis import given, settings, strategies as st

import deepcore
from prop_strategies import examples, expect_same, expect_value, torch

_SEEDS = st.integers(0, 2 ** 32 - 1)
_PARAM_SHAPES = ((), (0,), (1,), (3,), (2, 5), (4, 1, 3))


# ---- the references: state per parameter in a dict, one call per step ------------------------------

def _sgd(p, g, s, t, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
    g = g + weight_decay * p
    if momentum:
        s["buf"] = g.copy() if t == 1 else momentum * s["buf"] + (1 - dampening) * g
        g = g + momentum * s["buf"] if nesterov else s["buf"]
    return p - lr * g


def _adam(p, g, s, t, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, decoupled=False):
    if decoupled:
        p = p * (1 - lr * weight_decay)
    else:
        g = g + weight_decay * p
    b1, b2 = betas
    s["m"] = b1 * s.get("m", 0.0) + (1 - b1) * g
    s["v"] = b2 * s.get("v", 0.0) + (1 - b2) * g * g
    v = s["v"]
    if amsgrad:
        s["vmax"] = np.maximum(s.get("vmax", 0.0), s["v"])
        v = s["vmax"]
    denom = np.sqrt(v) / np.sqrt(1 - b2 ** t) + eps
    return p - lr / (1 - b1 ** t) * s["m"] / denom


def _rmsprop(p, g, s, t, lr, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
    g = g + weight_decay * p
    s["sq"] = alpha * s.get("sq", 0.0) + (1 - alpha) * g * g
    if centered:
        s["ga"] = alpha * s.get("ga", 0.0) + (1 - alpha) * g
        avg = np.sqrt(s["sq"] - s["ga"] ** 2) + eps
    else:
        avg = np.sqrt(s["sq"]) + eps
    if momentum:
        s["buf"] = momentum * s.get("buf", 0.0) + g / avg
        return p - lr * s["buf"]
    return p - lr * g / avg


def _adagrad(p, g, s, t, lr, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10):
    g = g + weight_decay * p
    s["sum"] = s.get("sum", initial_accumulator_value) + g * g
    return p - lr / (1 + (t - 1) * lr_decay) * g / (np.sqrt(s["sum"]) + eps)


def _adadelta(p, g, s, t, lr, rho=0.9, eps=1e-6, weight_decay=0.0):
    g = g + weight_decay * p
    s["sq"] = rho * s.get("sq", 0.0) + (1 - rho) * g * g
    delta = np.sqrt(s.get("acc", 0.0) + eps) / np.sqrt(s["sq"] + eps) * g
    s["acc"] = rho * s.get("acc", 0.0) + (1 - rho) * delta * delta
    return p - lr * delta


@st.composite
def optimizer_config(draw):
    """(name, the optimizer's keyword arguments, the reference and its keyword arguments)."""
    name = draw(st.sampled_from(("SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta")))
    lr = draw(st.sampled_from((1e-3, 0.01, 0.1, 1.0)))
    wd = draw(st.sampled_from((0.0, 0.0, 0.01, 0.5)))
    kw = dict(lr=lr, weight_decay=wd)
    if name == "SGD":
        kw["momentum"] = draw(st.sampled_from((0.0, 0.5, 0.9)))
        kw["dampening"] = draw(st.sampled_from((0.0, 0.3))) if kw["momentum"] else 0.0
        kw["nesterov"] = bool(kw["momentum"]) and not kw["dampening"] and draw(st.booleans())
        return name, kw, _sgd, dict(kw)
    if name in ("Adam", "AdamW"):
        kw["betas"] = draw(st.sampled_from(((0.9, 0.999), (0.5, 0.9), (0.0, 0.99))))
        kw["eps"] = draw(st.sampled_from((1e-8, 1e-3)))
        kw["amsgrad"] = draw(st.booleans())
        if name == "AdamW" and not wd:
            kw["weight_decay"] = 0.01   # AdamW's default
        return name, kw, _adam, dict(kw, decoupled=name == "AdamW")
    if name == "RMSprop":
        kw["alpha"] = draw(st.sampled_from((0.99, 0.9)))
        kw["momentum"] = draw(st.sampled_from((0.0, 0.5)))
        kw["centered"] = draw(st.booleans())
        kw["eps"] = draw(st.sampled_from((1e-8, 1e-2)))
        return name, kw, _rmsprop, dict(kw)
    if name == "Adagrad":
        kw["lr_decay"] = draw(st.sampled_from((0.0, 0.1)))
        kw["initial_accumulator_value"] = draw(st.sampled_from((0.0, 0.1)))
        return name, kw, _adagrad, dict(kw)
    kw["rho"] = draw(st.sampled_from((0.9, 0.5)))
    kw["eps"] = draw(st.sampled_from((1e-6, 1e-3)))
    return name, kw, _adadelta, dict(kw)


@settings(max_examples=examples(300))
@given(optimizer_config(), st.lists(st.sampled_from(_PARAM_SHAPES), min_size=1, max_size=3), st.integers(1, 3),
       st.booleans(), st.sampled_from(("float32", "float64")), _SEEDS)
def test_optimizer_steps(config, param_shapes, steps, maximize, dtype, seed):
    name, kwargs, reference, ref_kwargs = config
    rng = np.random.default_rng(seed)
    values = [rng.uniform(-2, 2, s).astype(dtype).astype(np.float64) for s in param_shapes]
    ours = [deepcore.tensor(v, dtype=getattr(deepcore, dtype), requires_grad=True) for v in values]
    opt = getattr(deepcore.optim, name)(ours, maximize=maximize, **kwargs)
    theirs = None
    if torch is not None:
        theirs = [torch.tensor(v, dtype=getattr(torch, dtype), requires_grad=True) for v in values]
        topt = getattr(torch.optim, name)(theirs, maximize=maximize, **kwargs)
    states = [{} for _ in values]
    what = f"{name}({kwargs}, maximize={maximize}) on {param_shapes} [{dtype}]"
    # float32: the fused kernels round each state update; three steps of lr 1 amplify that
    tol = dict(atol=2e-5, rtol=2e-4) if dtype == "float32" else dict(atol=1e-12, rtol=1e-10)
    for t in range(1, steps + 1):
        grads = [rng.uniform(-1, 1, s).astype(dtype).astype(np.float64) for s in param_shapes]
        for p, g in zip(ours, grads):
            p.grad = deepcore.tensor(g, dtype=getattr(deepcore, dtype))
        opt.step()
        for i, g in enumerate(grads):
            values[i] = reference(values[i], -g if maximize else g, states[i], t, **ref_kwargs)
            expect_value(ours[i], values[i], dtype, f"{what}: parameter {i} after step {t}", **tol)
        if theirs is not None:
            for p, g in zip(theirs, grads):
                p.grad = torch.tensor(g, dtype=getattr(torch, dtype))
            topt.step()
            for i, (p, tp) in enumerate(zip(ours, theirs)):
                expect_same(p, tp, f"{what}: parameter {i} after step {t}", **tol)


@settings(max_examples=examples(60))
@given(st.sampled_from(("SGD", "Adam", "RMSprop", "Adagrad", "Adadelta")), _SEEDS)
def test_a_parameter_without_grad_is_left_alone(name, seed):
    """A parameter whose .grad is None is skipped (PyTorch), not updated by weight decay or momentum."""
    rng = np.random.default_rng(seed)
    a = deepcore.tensor(rng.uniform(-1, 1, 3), dtype=deepcore.float32, requires_grad=True)
    b = deepcore.tensor(rng.uniform(-1, 1, 3), dtype=deepcore.float32, requires_grad=True)
    before = b.detach().numpy().copy()
    opt = getattr(deepcore.optim, name)([a, b], lr=0.1, weight_decay=0.1)
    a.grad = deepcore.ones(3)
    opt.step()
    expect_value(b, before, "float32", f"{name}: the parameter without grad")
