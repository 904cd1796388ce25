"""The learning-rate schedulers added for PyTorch scripts (ConstantLR, LinearLR, PolynomialLR,
MultiplicativeLR, CosineAnnealingWarmRestarts, OneCycleLR, SequentialLR, ChainedScheduler) and
step(epoch)'s closed forms, against PyTorch's lr sequences, param groups and state_dicts; closed
forms without PyTorch; errors. (StepLR ... ReduceLROnPlateau: tests/test_optim.py.)"""
import math
import warnings

import numpy as np
import pytest

import deepcore
from deepcore import optim
from deepcore.optim import lr_scheduler as sched

try:
    import torch
except ImportError:  # pragma: no cover - depends on the environment
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
# Options of PyTorch's optimizers deepcore's param groups do not carry (implementation switches).
_TORCH_ONLY = {"params", "foreach", "differentiable", "capturable", "fused", "decoupled_weight_decay"}


def _optimizer(lib, kind="SGD"):
    a, b = lib.zeros(2, requires_grad=True), lib.zeros(3, requires_grad=True)
    groups = [{"params": [a]}, {"params": [b], "lr": 0.3}]
    if kind == "SGD":
        return (optim if lib is deepcore else torch.optim).SGD(groups, lr=0.1, momentum=0.9)
    return (optim if lib is deepcore else torch.optim).Adam(groups, lr=0.1)


def _module(lib):
    return sched if lib is deepcore else torch.optim.lr_scheduler


CASES = [
    ("ConstantLR", dict(), 10),
    ("ConstantLR", dict(factor=0.5, total_iters=3), 10),
    ("LinearLR", dict(), 10),
    ("LinearLR", dict(start_factor=0.5, end_factor=0.1, total_iters=4), 10),
    ("PolynomialLR", dict(), 10),
    ("PolynomialLR", dict(total_iters=6, power=2.0), 10),
    ("MultiplicativeLR", dict(lr_lambda=lambda epoch: 0.9 if epoch % 2 else 0.8), 10),
    ("CosineAnnealingWarmRestarts", dict(T_0=3), 20),
    ("CosineAnnealingWarmRestarts", dict(T_0=2, T_mult=2, eta_min=0.01), 20),
    ("OneCycleLR", dict(max_lr=1.0, total_steps=20), 20),
    ("OneCycleLR", dict(max_lr=[1.0, 2.0], epochs=3, steps_per_epoch=7, anneal_strategy="linear", three_phase=True),
     21),
    ("OneCycleLR", dict(max_lr=0.5, total_steps=15, cycle_momentum=False, div_factor=10.0, final_div_factor=100.0,
                        pct_start=0.4), 15),
    ("OneCycleLR", dict(max_lr=0.5, total_steps=12, base_momentum=[0.8, 0.7], max_momentum=0.9), 12),
]


@needs_torch
@pytest.mark.parametrize("kind", ["SGD", "Adam"])
@pytest.mark.parametrize("name,opts,steps", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_matches_pytorch(name, opts, steps, kind):
    ours, theirs = _optimizer(deepcore, kind), _optimizer(torch, kind)
    s, r = getattr(sched, name)(ours, **opts), getattr(torch.optim.lr_scheduler, name)(theirs, **opts)
    for epoch in range(steps):
        np.testing.assert_allclose(s.get_last_lr(), r.get_last_lr(), rtol=1e-13, err_msg=f"{name} epoch {epoch}")
        for mine, their in zip(ours.param_groups, theirs.param_groups):
            for key in set(their) - _TORCH_ONLY:  # lr, initial_lr, max_lr, momentum / betas, ...
                np.testing.assert_allclose(mine[key], their[key], rtol=1e-13, err_msg=f"{name} {key} {epoch}")
        if epoch < steps - 1:
            ours.step()
            theirs.step()
            s.step()
            r.step()
    assert set(s.state_dict()) == set(r.state_dict())


def _sequential(lib):
    opt = _optimizer(lib)
    L = _module(lib)
    members = [L.LinearLR(opt, start_factor=0.1, total_iters=3), L.ExponentialLR(opt, gamma=0.9),
               L.StepLR(opt, step_size=2, gamma=0.5)]
    return opt, L.SequentialLR(opt, members, milestones=[4, 7])


def _chained(lib):
    opt = _optimizer(lib)
    L = _module(lib)
    return opt, L.ChainedScheduler([L.ConstantLR(opt, factor=0.1, total_iters=2), L.ExponentialLR(opt, gamma=0.9),
                                    L.CosineAnnealingLR(opt, T_max=5)])


@needs_torch
@pytest.mark.parametrize("make", [_sequential, _chained], ids=["SequentialLR", "ChainedScheduler"])
def test_composites_match_pytorch(make):
    (ours, s), (theirs, r) = make(deepcore), make(torch)
    for epoch in range(14):
        np.testing.assert_allclose(s.get_last_lr(), r.get_last_lr(), rtol=1e-13, err_msg=f"epoch {epoch}")
        ours.step()
        theirs.step()
        s.step()
        r.step()
    mine, their = s.state_dict(), r.state_dict()
    assert set(mine) == set(their)
    assert [set(m) for m in mine["_schedulers"]] == [set(t) for t in their["_schedulers"]]


EPOCH_CASES = [("StepLR", dict(step_size=3, gamma=0.5)), ("MultiStepLR", dict(milestones=[2, 5, 5], gamma=0.3)),
               ("ExponentialLR", dict(gamma=0.9)), ("CosineAnnealingLR", dict(T_max=4, eta_min=0.01)),
               ("ConstantLR", dict(factor=0.25, total_iters=3)), ("LinearLR", dict(total_iters=4)),
               ("PolynomialLR", dict(total_iters=5, power=1.5))]


@needs_torch
@pytest.mark.parametrize("name,opts", EPOCH_CASES, ids=[c[0] for c in EPOCH_CASES])
def test_step_with_epoch_uses_the_closed_form(name, opts):
    ours, theirs = _optimizer(deepcore), _optimizer(torch)
    s, r = getattr(sched, name)(ours, **opts), getattr(torch.optim.lr_scheduler, name)(theirs, **opts)
    for epoch in [3, 1, 4, 4, 0, 2, 7]:
        with pytest.warns(UserWarning, match="epoch parameter"):
            s.step(epoch)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r.step(epoch)
        np.testing.assert_allclose(s.get_last_lr(), r.get_last_lr(), rtol=1e-13, err_msg=f"{name} epoch {epoch}")
        assert s.last_epoch == r.last_epoch


@needs_torch
def test_warm_restarts_with_fractional_epochs_match_pytorch():
    ours, theirs = _optimizer(deepcore), _optimizer(torch)
    s = sched.CosineAnnealingWarmRestarts(ours, T_0=2, T_mult=3, eta_min=0.001)
    r = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(theirs, T_0=2, T_mult=3, eta_min=0.001)
    iters = 4
    for epoch in range(10):
        for i in range(iters):
            s.step(epoch + i / iters)
            r.step(epoch + i / iters)
            np.testing.assert_allclose(s.get_last_lr(), r.get_last_lr(), rtol=1e-12)
            assert (s.T_i, s.last_epoch) == (r.T_i, r.last_epoch)


def test_one_cycle_closed_form_without_torch():
    opt = _optimizer(deepcore)
    total, top = 10, 2.0
    s = sched.OneCycleLR(opt, max_lr=top, total_steps=total)  # pct_start 0.3: up for 3 steps, down for 7
    assert opt.param_groups[0]["momentum"] == 0.95 and opt.param_groups[0]["initial_lr"] == top / 25
    lrs, moms = [], []
    for _ in range(total):
        lrs.append(s.get_last_lr()[0])
        moms.append(opt.param_groups[0]["momentum"])
        opt.step()
        if len(lrs) < total:
            s.step()
    up = [top - (top - top / 25) / 2 * (1 + math.cos(math.pi * k / 2)) for k in range(3)]
    down = [top / 25 / 1e4 + (top - top / 25 / 1e4) / 2 * (1 + math.cos(math.pi * k / 7)) for k in range(1, 8)]
    np.testing.assert_allclose(lrs, up + down, rtol=1e-12)
    assert moms[2] == pytest.approx(0.85) and moms[-1] == pytest.approx(0.95)
    s.step()  # step 10 of 10 is still allowed (PyTorch's bound), the next one is not
    with pytest.raises(ValueError, match="Tried to step 11 times"):
        s.step()


def test_linear_and_polynomial_closed_forms_without_torch():
    opt = _optimizer(deepcore)
    s = sched.LinearLR(opt, start_factor=0.25, total_iters=3)
    seen = []
    for _ in range(6):
        seen.append(s.get_last_lr())
        s.step()
    factors = [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    np.testing.assert_allclose(seen, [[0.1 * f, 0.3 * f] for f in factors], rtol=1e-12)
    opt = _optimizer(deepcore)
    s = sched.PolynomialLR(opt, total_iters=4, power=2.0)
    seen = []
    for _ in range(6):
        seen.append(s.get_last_lr()[0])
        s.step()
    np.testing.assert_allclose(seen, [0.1 * (1 - min(e, 4) / 4) ** 2 for e in range(6)], rtol=1e-12, atol=1e-15)


def test_one_cycle_moves_adams_beta1():
    opt = _optimizer(deepcore, "Adam")
    s = sched.OneCycleLR(opt, max_lr=0.1, total_steps=10, base_momentum=0.8, max_momentum=0.9)
    assert opt.param_groups[1]["betas"] == (0.9, 0.999)
    for _ in range(2):  # the rise ends at step pct_start * total - 1 = 2, with beta1 at base_momentum
        opt.step()
        s.step()
    assert opt.param_groups[1]["betas"] == (pytest.approx(0.8), 0.999)


@pytest.mark.parametrize("make", ["onecycle", "sequential"])
def test_state_dict_round_trip_continues_identically(make):
    def build():
        opt = _optimizer(deepcore)
        if make == "onecycle":
            return opt, sched.OneCycleLR(opt, max_lr=1.0, total_steps=30, three_phase=True)
        return _sequential(deepcore)

    opt, s = build()
    for _ in range(5):
        opt.step()
        s.step()
    opt2, s2 = build()
    s2.load_state_dict(s.state_dict())
    opt2.load_state_dict(opt.state_dict())
    for _ in range(8):
        opt.step()
        opt2.step()
        s.step()
        s2.step()
        assert s.get_last_lr() == s2.get_last_lr()
        assert [g["lr"] for g in opt.param_groups] == [g["lr"] for g in opt2.param_groups]


def test_get_lr_outside_step_warns():
    s = sched.LinearLR(_optimizer(deepcore))
    with pytest.warns(UserWarning, match="get_last_lr"):
        s.get_lr()


BAD = [
    (lambda o: sched.ConstantLR(o, factor=1.5), ValueError, "between 0 and 1"),
    (lambda o: sched.LinearLR(o, start_factor=0), ValueError, "greater than 0"),
    (lambda o: sched.LinearLR(o, end_factor=2), ValueError, "Ending multiplicative factor"),
    (lambda o: sched.CosineAnnealingWarmRestarts(o, T_0=0), ValueError, "positive integer T_0"),
    (lambda o: sched.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=0), ValueError, "T_mult >= 1"),
    (lambda o: sched.CosineAnnealingWarmRestarts(o, T_0=2).step(-1), ValueError, "non-negative epoch"),
    (lambda o: sched.OneCycleLR(o, max_lr=1.0), ValueError, "total_steps OR"),
    (lambda o: sched.OneCycleLR(o, max_lr=1.0, total_steps=0), ValueError, "positive integer total_steps"),
    (lambda o: sched.OneCycleLR(o, max_lr=1.0, epochs=2, steps_per_epoch=0), ValueError, "steps_per_epoch"),
    (lambda o: sched.OneCycleLR(o, max_lr=1.0, total_steps=5, pct_start=1), ValueError, "pct_start"),
    (lambda o: sched.OneCycleLR(o, max_lr=1.0, total_steps=5, anneal_strategy="exp"), ValueError,
     "anneal_strategy"),
    (lambda o: sched.OneCycleLR(o, max_lr=[1.0], total_steps=5), ValueError, "same length"),
    (lambda o: sched.OneCycleLR(optim.Adagrad([deepcore.zeros(1, requires_grad=True)]), max_lr=1.0, total_steps=5),
     ValueError, "momentum or beta1"),
    (lambda o: sched.SequentialLR(o, [sched.ConstantLR(o)], milestones=[3]), ValueError, "one more"),
    (lambda o: sched.SequentialLR(o, [], milestones=[]), ValueError, "at least one scheduler"),
    (lambda o: sched.ChainedScheduler([sched.ConstantLR(o), sched.ConstantLR(_optimizer(deepcore))]), ValueError,
     "same optimizer"),
    (lambda o: sched.ChainedScheduler([sched.ReduceLROnPlateau(o)]), ValueError, "ReduceLROnPlateau"),
    (lambda o: sched.MultiplicativeLR(o, lr_lambda=3), TypeError, "should be a function"),
    (lambda o: sched.LinearLR("not an optimizer"), TypeError, "Optimizer"),
]


@pytest.mark.parametrize("make,exc,message", BAD, ids=[b[2] for b in BAD])
def test_bad_arguments(make, exc, message):
    with pytest.raises(exc, match=message):
        make(_optimizer(deepcore))
