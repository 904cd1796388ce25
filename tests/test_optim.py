"""Optim family (every optimizer and option, the fused steps, param groups, state_dict, lr schedulers, errors) against PyTorch step by step and NumPy float64 references."""
import math

import numpy as np
import pytest

import deepcore
from deepcore import optim

try:
    import torch
except ImportError:  # pragma: no cover - depends on the environment
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")

SHAPES = [(4, 3), (5,), ()]
STEPS = 7
TOL = {"float64": dict(rtol=1e-9, atol=1e-12), "float32": dict(rtol=2e-5, atol=2e-6)}


def _gradients(seed, dtype, steps=STEPS, shapes=SHAPES):
    """Per step, one gradient per parameter; parameter 2 has no gradient at steps 1 and 4."""
    rng = np.random.default_rng(seed)
    out = []
    for s in range(steps):
        out.append([None if (i == 2 and s in (1, 4)) else rng.standard_normal(shape).astype(dtype)
                    for i, shape in enumerate(shapes)])
    return out


def _initial(seed, dtype, shapes=SHAPES):
    rng = np.random.default_rng(seed + 1000)
    return [rng.standard_normal(shape).astype(dtype) for shape in shapes]


def _dc_params(arrays):
    return [deepcore.tensor(a.copy(), requires_grad=True) for a in arrays]


def _set_grads(params, grads, make):
    for p, g in zip(params, grads):
        p.grad = None if g is None else make(g.copy())


def _np(t):
    return t.detach().numpy() if isinstance(t, deepcore.Tensor) else t.detach().cpu().numpy()


# (deepcore class name, options): every option of every optimizer at least once.
CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True)),
    ("SGD", dict(lr=0.05, momentum=0.5, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9, weight_decay=0.01, maximize=True)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-6)),
    ("RMSprop", dict(weight_decay=0.1)),
    ("RMSprop", dict(momentum=0.5)),
    ("RMSprop", dict(centered=True)),
    ("RMSprop", dict(centered=True, momentum=0.7, weight_decay=0.05, maximize=True)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.1)),
    ("Adagrad", dict(weight_decay=0.1)),
    ("Adagrad", dict(initial_accumulator_value=0.5)),
    ("Adagrad", dict(eps=1e-3, maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.5, eps=1e-4)),
    ("Adadelta", dict(weight_decay=0.1, maximize=True)),
    ("Adam", dict(lr=0.05)),
    ("Adam", dict(lr=0.05, betas=(0.8, 0.9))),
    ("Adam", dict(lr=0.05, weight_decay=0.1)),
    ("Adam", dict(lr=0.05, amsgrad=True)),
    ("Adam", dict(lr=0.05, eps=1e-3, weight_decay=0.01, amsgrad=True, maximize=True)),
    ("AdamW", dict(lr=0.05)),
    ("AdamW", dict(lr=0.05, weight_decay=0.1, amsgrad=True)),
    ("AdamW", dict(lr=0.05, maximize=True, betas=(0.5, 0.6))),
]


def _case_id(case):
    name, opts = case
    return name + "-" + ",".join(f"{k}={v}" for k, v in opts.items())


@needs_torch
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_matches_pytorch_step_by_step(case, dtype):
    name, opts = case
    init, grads = _initial(7, dtype), _gradients(7, dtype)
    ours = _dc_params(init)
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in init]
    opt = getattr(optim, name)(ours, **opts)
    ref = getattr(torch.optim, name)(theirs, **opts)
    for step, g in enumerate(grads):
        _set_grads(ours, g, deepcore.tensor)
        _set_grads(theirs, g, torch.tensor)
        opt.step()
        ref.step()
        for i, (p, q) in enumerate(zip(ours, theirs)):
            np.testing.assert_allclose(_np(p), _np(q), **TOL[dtype], err_msg=f"{name} step {step} param {i}")
            assert p.dtype.name == dtype
            mine, torchs = opt.state.get(p, {}), ref.state.get(q, {})
            assert set(mine) == set(torchs), f"{name}: state keys {sorted(mine)} vs PyTorch's {sorted(torchs)}"
            for key in torchs:
                np.testing.assert_allclose(_np(mine[key]), _np(torchs[key]), **TOL[dtype],
                                           err_msg=f"{name} step {step} param {i} state {key}")


# ---- NumPy float64 references (run without PyTorch) ---------------------------------

def _ref_sgd(p, g, st, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
    g = g + weight_decay * p
    if momentum:
        st["b"] = g.copy() if "b" not in st else momentum * st["b"] + (1 - dampening) * g
        g = g + momentum * st["b"] if nesterov else st["b"]
    return p - lr * g


def _ref_rmsprop(p, g, st, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
    g = g + weight_decay * p
    st["v"] = alpha * st.get("v", 0.0) + (1 - alpha) * g * g
    if centered:
        st["m"] = alpha * st.get("m", 0.0) + (1 - alpha) * g
        denom = np.sqrt(st["v"] - st["m"] ** 2) + eps
    else:
        denom = np.sqrt(st["v"]) + eps
    if momentum:
        st["b"] = momentum * st.get("b", 0.0) + g / denom
        return p - lr * st["b"]
    return p - lr * g / denom


def _ref_adagrad(p, g, st, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10):
    st["t"] = st.get("t", 0) + 1
    g = g + weight_decay * p
    st["s"] = st.get("s", initial_accumulator_value) + g * g
    return p - lr / (1 + (st["t"] - 1) * lr_decay) * g / (np.sqrt(st["s"]) + eps)


def _ref_adadelta(p, g, st, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0):
    g = g + weight_decay * p
    st["v"] = rho * st.get("v", 0.0) + (1 - rho) * g * g
    delta = np.sqrt(st.get("u", 0.0) + eps) / np.sqrt(st["v"] + eps) * g
    st["u"] = rho * st.get("u", 0.0) + (1 - rho) * delta * delta
    return p - lr * delta


def _ref_adam(p, g, st, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, decoupled=False):
    st["t"] = t = st.get("t", 0) + 1
    if decoupled:
        p = p * (1 - lr * weight_decay)
    else:
        g = g + weight_decay * p
    st["m"] = betas[0] * st.get("m", 0.0) + (1 - betas[0]) * g
    st["v"] = betas[1] * st.get("v", 0.0) + (1 - betas[1]) * g * g
    v = st["v"]
    if amsgrad:
        st["vmax"] = v = np.maximum(st.get("vmax", 0.0), v)
    m_hat, v_hat = st["m"] / (1 - betas[0] ** t), v / (1 - betas[1] ** t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps)


NUMPY_CASES = [
    ("SGD", _ref_sgd, dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    ("SGD", _ref_sgd, dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("RMSprop", _ref_rmsprop, dict(lr=0.01, alpha=0.9)),
    ("RMSprop", _ref_rmsprop, dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.1)),
    ("Adagrad", _ref_adagrad, dict(lr=0.1, lr_decay=0.05, initial_accumulator_value=0.1, weight_decay=0.1)),
    ("Adadelta", _ref_adadelta, dict()),
    ("Adadelta", _ref_adadelta, dict(lr=0.5, rho=0.95, eps=1e-7, weight_decay=0.1)),
    ("Adam", _ref_adam, dict(lr=0.05)),
    ("Adam", _ref_adam, dict(lr=0.05, betas=(0.8, 0.9), amsgrad=True, weight_decay=0.1)),
    ("AdamW", lambda p, g, st, **kw: _ref_adam(p, g, st, decoupled=True, **kw), dict(lr=0.05, weight_decay=0.1)),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", NUMPY_CASES, ids=[_case_id((c[0], c[2])) for c in NUMPY_CASES])
def test_matches_numpy_reference(case, dtype):
    name, reference, opts = case
    init, grads = _initial(3, "float64"), _gradients(3, "float64")
    params = _dc_params([a.astype(dtype) for a in init])
    opt = getattr(optim, name)(params, **opts)
    expected, states = [a.copy() for a in init], [{} for _ in init]
    for step, g in enumerate(grads):
        _set_grads(params, [None if x is None else x.astype(dtype) for x in g], deepcore.tensor)
        opt.step()
        for i, x in enumerate(g):
            if x is not None:
                expected[i] = reference(expected[i], x, states[i], **opts)
            tol = TOL[dtype] if dtype == "float64" else dict(rtol=1e-4, atol=1e-5)
            np.testing.assert_allclose(_np(params[i]), expected[i], **tol, err_msg=f"{name} step {step} param {i}")


def test_large_tensors_use_the_threaded_path_and_agree():
    n = 300_007  # several chunks, not a multiple of the chunk size
    rng = np.random.default_rng(0)
    init = [rng.standard_normal(n), rng.standard_normal(17)]
    params = _dc_params(init)
    opt = optim.Adam(params, lr=0.01, amsgrad=True)
    expected, states = [a.copy() for a in init], [{}, {}]
    for _ in range(3):
        g = [rng.standard_normal(n), rng.standard_normal(17)]
        _set_grads(params, g, deepcore.tensor)
        opt.step()
        expected = [_ref_adam(e, x, s, lr=0.01, amsgrad=True) for e, x, s in zip(expected, g, states)]
    for p, e in zip(params, expected):
        np.testing.assert_allclose(_np(p), e, rtol=1e-10, atol=1e-12)


# ---- param groups, grads None, bookkeeping -------------------------------------------

def test_param_groups_have_their_own_options():
    a, b = _dc_params(_initial(1, "float64", [(3,), (2, 2)]))
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5, "momentum": 0.9}], lr=0.1)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[0]["momentum"] == 0
    assert opt.param_groups[1]["lr"] == 0.5 and opt.param_groups[1]["momentum"] == 0.9
    a0, b0 = _np(a).copy(), _np(b).copy()
    st = {}
    for step in range(3):
        _set_grads([a, b], [np.ones(3), np.full((2, 2), 2.0)], deepcore.tensor)
        opt.step()
        a0 = _ref_sgd(a0, np.ones(3), {}, lr=0.1)
        b0 = _ref_sgd(b0, np.full((2, 2), 2.0), st, lr=0.5, momentum=0.9)
    np.testing.assert_allclose(_np(a), a0, rtol=1e-12)
    np.testing.assert_allclose(_np(b), b0, rtol=1e-12)


@needs_torch
def test_param_groups_match_pytorch_with_add_param_group():
    init, grads = _initial(5, "float64"), _gradients(5, "float64")
    ours, theirs = _dc_params(init), [torch.tensor(a.copy(), requires_grad=True) for a in init]
    opt = optim.Adam([{"params": ours[:1]}, {"params": ours[1:2], "lr": 0.1, "amsgrad": True}], lr=0.01)
    ref = torch.optim.Adam([{"params": theirs[:1]}, {"params": theirs[1:2], "lr": 0.1, "amsgrad": True}], lr=0.01)
    for step, g in enumerate(grads):
        if step == 2:
            opt.add_param_group({"params": [ours[2]], "betas": (0.5, 0.7)})
            ref.add_param_group({"params": [theirs[2]], "betas": (0.5, 0.7)})
        _set_grads(ours, g, deepcore.tensor)
        _set_grads(theirs, g, torch.tensor)
        opt.step()
        ref.step()
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(_np(p), _np(q), rtol=1e-10, atol=1e-12)


def test_grads_none_are_skipped_and_not_counted():
    a, b = _dc_params(_initial(2, "float32", [(3,), (3,)]))
    before = _np(b).copy()
    opt = optim.Adam([a, b], lr=0.1)
    a.grad = deepcore.ones(3)
    opt.step()
    opt.step()
    np.testing.assert_array_equal(_np(b), before)
    assert b not in opt.state and opt.state[a]["step"].item() == 2
    opt.zero_grad()
    assert a.grad is None
    opt.step()  # no gradient anywhere: nothing happens
    assert opt.state[a]["step"].item() == 2


def test_one_kernel_call_per_param_group(monkeypatch):
    from deepcore.backend import cpu
    calls = []
    original = cpu.adam_step

    def counting(params, *args, **kwargs):
        calls.append(len(params))
        return original(params, *args, **kwargs)

    monkeypatch.setattr(cpu, "adam_step", counting)
    params = _dc_params(_initial(4, "float32", [(3,), (4, 2), (5,), (1,)]))
    opt = optim.Adam([{"params": params[:3]}, {"params": params[3:], "lr": 0.1}])
    for p in params:
        p.grad = deepcore.ones(*p.shape)
    opt.step()
    opt.step()
    assert calls == [3, 1, 3, 1]


def test_zero_grad_to_zeros_and_closure():
    (p,) = _dc_params([np.array([1.0, -2.0])])
    opt = optim.SGD([p], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with deepcore.no_grad():
        loss = opt.step(closure)  # the closure runs with grad enabled even inside no_grad
    assert loss.item() == pytest.approx(5.0)
    np.testing.assert_allclose(_np(p), [0.5, -1.0])  # p - 0.25 * 2p
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(_np(p.grad), [0.0, 0.0])


def test_step_bumps_version_so_stale_backward_raises():
    (w,) = _dc_params([np.array([1.0, 2.0, 3.0])])
    opt = optim.SGD([w], lr=0.1, momentum=0.9)
    version = w._data.version
    loss = (w * w).sum()  # saves w for backward
    w.grad = deepcore.ones(3, dtype=deepcore.float64)
    opt.step()
    assert w._data.version > version
    assert opt.state[w]["momentum_buffer"]._data.version > 0
    with pytest.raises(RuntimeError, match="inplace"):
        loss.backward()


def test_non_contiguous_parameter_is_updated_in_place():
    base = deepcore.tensor(np.arange(6.0).reshape(2, 3))
    p = base.T.detach().requires_grad_()  # a (3, 2) view with strides (1, 3)
    assert not p.is_contiguous()
    opt = optim.SGD([p], lr=0.5)
    p.grad = deepcore.ones(3, 2, dtype=deepcore.float64)
    opt.step()
    np.testing.assert_allclose(_np(base), np.arange(6.0).reshape(2, 3) - 0.5)


def test_mixed_dtypes_in_one_group():
    a = deepcore.tensor(np.ones(3, np.float32), requires_grad=True)
    b = deepcore.tensor(np.ones(3), requires_grad=True)
    opt = optim.RMSprop([a, b], lr=0.05)
    a.grad, b.grad = deepcore.ones(3), deepcore.ones(3, dtype=deepcore.float64)
    opt.step()
    expected = 1 - 0.05 / (math.sqrt(0.01) + 1e-8)
    np.testing.assert_allclose(_np(a), expected, rtol=1e-6)
    np.testing.assert_allclose(_np(b), expected, rtol=1e-12)


# ---- state_dict ------------------------------------------------------------------------

@pytest.mark.parametrize("name,opts", [("SGD", dict(lr=0.1, momentum=0.9)), ("RMSprop", dict(centered=True,
                                       momentum=0.3)), ("Adagrad", {}), ("Adadelta", {}),
                                       ("Adam", dict(amsgrad=True)), ("AdamW", {})])
def test_state_dict_round_trip_continues_identically(name, opts):
    init, grads = _initial(9, "float32"), _gradients(9, "float32")
    first = _dc_params(init)
    opt = getattr(optim, name)([{"params": first[:1]}, {"params": first[1:], "lr": 0.02}], **opts)
    for g in grads[:3]:
        _set_grads(first, g, deepcore.tensor)
        opt.step()
    saved = opt.state_dict()
    assert sorted(saved) == ["param_groups", "state"]
    assert [g["params"] for g in saved["param_groups"]] == [[0], [1, 2]]
    assert saved["param_groups"][1]["lr"] == 0.02
    second = _dc_params([_np(p) for p in first])
    resumed = getattr(optim, name)([{"params": second[:1]}, {"params": second[1:]}])
    resumed.load_state_dict(saved)
    assert resumed.param_groups[1]["lr"] == 0.02
    for g in grads[3:]:
        _set_grads(first, g, deepcore.tensor)
        _set_grads(second, g, deepcore.tensor)
        opt.step()
        resumed.step()  # shares no state tensor with `opt`, or the two would drift apart
        for p, q in zip(first, second):
            np.testing.assert_array_equal(_np(p), _np(q))


@needs_torch
def test_load_pytorch_state_dict_and_continue():
    init, grads = _initial(11, "float64"), _gradients(11, "float64")
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in init]
    ref = torch.optim.Adam(theirs, lr=0.05, amsgrad=True)
    for g in grads[:3]:
        _set_grads(theirs, g, torch.tensor)
        ref.step()
    ours = _dc_params([_np(q) for q in theirs])
    opt = optim.Adam(ours)
    opt.load_state_dict(ref.state_dict())
    assert opt.param_groups[0]["lr"] == 0.05 and opt.param_groups[0]["amsgrad"] is True
    for g in grads[3:]:
        _set_grads(theirs, g, torch.tensor)
        _set_grads(ours, g, deepcore.tensor)
        ref.step()
        opt.step()
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(_np(p), _np(q), rtol=1e-10, atol=1e-12)


def test_load_state_dict_rejects_mismatched_groups():
    a, b = _dc_params(_initial(1, "float32", [(2,), (3,)]))
    saved = optim.SGD([a, b]).state_dict()
    with pytest.raises(ValueError, match="number of parameter groups"):
        optim.SGD([{"params": [a]}, {"params": [b]}]).load_state_dict(saved)
    with pytest.raises(ValueError, match="size"):
        optim.SGD([a]).load_state_dict(saved)


# ---- errors ----------------------------------------------------------------------------

def _p():
    return deepcore.zeros(2, requires_grad=True)


BAD = [
    (lambda: optim.SGD([_p()], lr=-0.1), "Invalid learning rate"),
    (lambda: optim.SGD([_p()], momentum=-1), "Invalid momentum"),
    (lambda: optim.SGD([_p()], weight_decay=-1), "Invalid weight_decay"),
    (lambda: optim.SGD([_p()], nesterov=True), "Nesterov"),
    (lambda: optim.SGD([_p()], momentum=0.9, dampening=0.1, nesterov=True), "Nesterov"),
    (lambda: optim.RMSprop([_p()], eps=-1), "Invalid epsilon"),
    (lambda: optim.RMSprop([_p()], alpha=-0.5), "Invalid alpha"),
    (lambda: optim.Adagrad([_p()], lr_decay=-1), "Invalid lr_decay"),
    (lambda: optim.Adagrad([_p()], initial_accumulator_value=-1), "initial_accumulator_value"),
    (lambda: optim.Adadelta([_p()], rho=1.5), "Invalid rho"),
    (lambda: optim.Adam([_p()], betas=(1.0, 0.999)), "beta parameter at index 0"),
    (lambda: optim.Adam([_p()], betas=(0.9, -0.1)), "beta parameter at index 1"),
    (lambda: optim.AdamW([_p()], eps=-1e-8), "Invalid epsilon"),
    (lambda: optim.Adam([_p()], lr=-1), "Invalid learning rate"),
    (lambda: optim.Adam([], lr=0.1), "empty parameter list"),
    (lambda: optim.SGD([{"params": [_p()], "lr": -1}]), "Invalid learning rate"),
    (lambda: optim.lr_scheduler.ReduceLROnPlateau(optim.SGD([_p()]), factor=1.5), "Factor"),
    (lambda: optim.lr_scheduler.ReduceLROnPlateau(optim.SGD([_p()]), mode="up"), "mode"),
    (lambda: optim.lr_scheduler.StepLR(optim.SGD([_p()]), step_size=0), "step_size"),
]


@pytest.mark.parametrize("make,message", BAD, ids=[m for _, m in BAD])
def test_bad_arguments_raise_value_error(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_bad_parameters():
    p = _p()
    with pytest.raises(TypeError, match="iterable"):
        optim.SGD(p)
    with pytest.raises(TypeError, match="Tensors"):
        optim.SGD([p, 3.0])
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([p * 2])
    with pytest.raises(TypeError, match="int64"):
        optim.SGD([deepcore.zeros(2, dtype=deepcore.int64)])
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [p]}, {"params": [p]}])
    with pytest.raises(TypeError, match="ordered"):
        optim.SGD({p})


def test_bad_gradients_raise_before_touching_memory():
    p = deepcore.tensor(np.ones((2, 3), np.float32), requires_grad=True)
    opt = optim.Adam([p])
    with pytest.raises(RuntimeError, match="assigned grad has data of a different size"):
        p.grad = deepcore.ones(3, 2)   # refused at assignment, as in torch
    # the kernels check again: a gradient can reach a step without the setter (bypassed here)
    p._grad = deepcore.ones(3, 2)
    with pytest.raises(ValueError, match=r"adam_step: gradient of parameter 0 has shape \(3, 2\)"):
        opt.step()
    p._grad = deepcore.ones(2, 3, dtype=deepcore.float64)
    with pytest.raises(TypeError, match="adam_step: gradient of parameter 0 is float64"):
        opt.step()
    np.testing.assert_array_equal(_np(p), np.ones((2, 3)))
    assert opt.state[p]["step"].item() == 0  # the failed calls did not count a step


def test_kernel_checks_state_lists():
    from deepcore import _C
    p = _C.from_numpy(np.ones(3))
    g = _C.from_numpy(np.ones(3))
    with pytest.raises(ValueError, match="1 parameters but 0 momentum buffers"):
        _C.sgd_step([p], [g], [], [], lr=0.1, momentum=0.9, dampening=0.0, weight_decay=0.0, nesterov=False,
                    maximize=False)
    with pytest.raises(ValueError, match="shares memory"):
        _C.sgd_step([p], [g], [p], [True], lr=0.1, momentum=0.9, dampening=0.0, weight_decay=0.0,
                    nesterov=False, maximize=False)
    with pytest.raises(ValueError, match="step counter of parameter 0 has shape"):
        _C.adagrad_step([p], [g], [_C.from_numpy(np.zeros(3))], [_C.from_numpy(np.zeros(2, np.float32))],
                        lr=0.1, lr_decay=0.0, weight_decay=0.0, eps=1e-10, maximize=False)


# ---- schedulers ------------------------------------------------------------------------

SCHEDULERS = [
    ("StepLR", dict(step_size=3, gamma=0.5)),
    ("MultiStepLR", dict(milestones=[2, 5, 5, 9], gamma=0.3)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("LambdaLR", dict(lr_lambda=lambda epoch: 1.0 / (1 + epoch))),
    ("CosineAnnealingLR", dict(T_max=4, eta_min=0.001)),
]


def _two_groups(lib, make):
    a, b = make(np.zeros(2)), make(np.zeros(3))
    return lib.SGD([{"params": [a]}, {"params": [b], "lr": 0.3}], lr=0.1, momentum=0.9)


@needs_torch
@pytest.mark.parametrize("name,opts", SCHEDULERS, ids=[s[0] for s in SCHEDULERS])
def test_scheduler_matches_pytorch(name, opts):
    ours = _two_groups(optim, lambda a: deepcore.tensor(a, requires_grad=True))
    theirs = _two_groups(torch.optim, lambda a: torch.tensor(a, requires_grad=True))
    sched = getattr(optim.lr_scheduler, name)(ours, **opts)
    ref = getattr(torch.optim.lr_scheduler, name)(theirs, **opts)
    for epoch in range(14):
        np.testing.assert_allclose(sched.get_last_lr(), ref.get_last_lr(), rtol=1e-12, err_msg=f"epoch {epoch}")
        assert [g["lr"] for g in ours.param_groups] == pytest.approx([g["lr"] for g in theirs.param_groups],
                                                                      rel=1e-12)
        ours.step()
        theirs.step()
        sched.step()
        ref.step()


@needs_torch
@pytest.mark.parametrize("opts", [dict(patience=2), dict(mode="max", factor=0.5, patience=1, cooldown=2),
                                  dict(threshold=0.1, threshold_mode="abs", patience=0, min_lr=[0.02, 0.05])])
def test_reduce_lr_on_plateau_matches_pytorch(opts):
    ours = _two_groups(optim, lambda a: deepcore.tensor(a, requires_grad=True))
    theirs = _two_groups(torch.optim, lambda a: torch.tensor(a, requires_grad=True))
    sched = optim.lr_scheduler.ReduceLROnPlateau(ours, **opts)
    ref = torch.optim.lr_scheduler.ReduceLROnPlateau(theirs, **opts)
    metrics = [1.0, 0.9, 0.95, 0.93, 0.92, 0.91, 0.5, 0.6, 0.6, 0.7, 0.45, 0.46, 0.47, 0.48, 0.3, 0.31, 0.32]
    for epoch, m in enumerate(metrics):
        sched.step(m)
        ref.step(m)
        np.testing.assert_allclose(sched.get_last_lr(), ref.get_last_lr(), rtol=1e-12, err_msg=f"epoch {epoch}")
    assert min(sched.get_last_lr()) < max(g["initial_lr"] if "initial_lr" in g else 0.3
                                          for g in ours.param_groups)  # the test did reduce something


def test_schedulers_closed_forms_without_torch():
    opt = _two_groups(optim, lambda a: deepcore.tensor(a, requires_grad=True))
    step = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    lrs = []
    for _ in range(6):
        lrs.append(step.get_last_lr())
        opt.step()
        step.step()
    np.testing.assert_allclose(lrs, [[0.1 * 0.5 ** (e // 2), 0.3 * 0.5 ** (e // 2)] for e in range(6)], rtol=1e-12)
    opt = _two_groups(optim, lambda a: deepcore.tensor(a, requires_grad=True))
    cos = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=5)
    for e in range(6):
        np.testing.assert_allclose(cos.get_last_lr(), [b * (1 + math.cos(math.pi * e / 5)) / 2 for b in (0.1, 0.3)],
                                   rtol=1e-9, atol=1e-15)
        cos.step()


def test_scheduler_state_dict_round_trip():
    opt = _two_groups(optim, lambda a: deepcore.tensor(a, requires_grad=True))
    sched = optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
    for _ in range(3):
        sched.step()
    saved = sched.state_dict()
    assert "optimizer" not in saved and saved["last_epoch"] == 3
    opt2 = _two_groups(optim, lambda a: deepcore.tensor(a, requires_grad=True))
    opt2.load_state_dict(opt.state_dict())
    sched2 = optim.lr_scheduler.ExponentialLR(opt2, gamma=0.9)
    sched2.load_state_dict(saved)
    sched.step()
    sched2.step()
    assert sched2.get_last_lr() == sched.get_last_lr() == pytest.approx([0.1 / 16, 0.3 / 16])
    plateau = optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0)
    plateau.step(1.0)
    plateau.step(2.0)
    state = plateau.state_dict()
    other = optim.lr_scheduler.ReduceLROnPlateau(opt2)
    other.load_state_dict(state)
    assert other.best == 1.0 and other.patience == 0


# ---- the lecture's optimizer race ----------------------------------------------------

def test_optimizer_race_example_reaches_the_minimum():
    # The script imports headless_pyplot (matplotlib) at its top, as the other example tests' scripts.
    pytest.importorskip("matplotlib", reason="examples/optimizers.py draws its figure with matplotlib")
    import importlib.util
    import os
    path = os.path.join(os.path.dirname(__file__), os.pardir, "examples", "optimizers.py")
    spec = importlib.util.spec_from_file_location("optimizers_example", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    deepcore.manual_seed(0)
    finals = {name.split(" ")[0]: final for name, _, _, final in
              (example.race("GD", lambda ps: optim.SGD(ps, lr=0.05)),
               example.race("Adam", lambda ps: optim.Adam(ps, lr=0.05)),
               example.race("RMSprop", lambda ps: optim.RMSprop(ps, lr=0.02)))}
    assert all(f < -0.99 for f in finals.values()), finals  # all leave the saddle (f = 0) for a minimum (f = -1)
