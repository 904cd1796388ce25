"""The optimizers composed of tensor ops (Adamax, NAdam, RAdam, LBFGS) against PyTorch over 20 steps
(trajectories and state), NumPy float64 references, state_dict, closures on an nn model, errors."""
import math

import numpy as np
import pytest

import deepcore
from deepcore import nn, optim

try:
    import torch
except ImportError:  # pragma: no cover - depends on the environment
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")

SHAPES = [(4, 3), (5,), ()]
STEPS = 20
TOL = {"float64": dict(rtol=1e-9, atol=1e-12), "float32": dict(rtol=1e-4, atol=1e-5)}


def _arrays(seed, dtype, steps=STEPS):
    """Initial parameters and per-step gradients; parameter 2 has no gradient at steps 1 and 4."""
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    grads = [[None if (i == 2 and s in (1, 4)) else rng.standard_normal(shape).astype(dtype)
              for i, shape in enumerate(SHAPES)] for s in range(steps)]
    return init, grads


def _np(t):
    return t.detach().numpy() if isinstance(t, deepcore.Tensor) else t.detach().cpu().numpy()


def _set(params, grads, make):
    for p, g in zip(params, grads):
        p.grad = None if g is None else make(g.copy())


CASES = [
    ("Adamax", dict()),
    ("Adamax", dict(lr=0.05, betas=(0.5, 0.8), eps=1e-4)),
    ("Adamax", dict(lr=0.05, weight_decay=0.1, maximize=True)),
    ("NAdam", dict()),
    ("NAdam", dict(lr=0.05, momentum_decay=0.01, betas=(0.8, 0.9))),
    ("NAdam", dict(lr=0.05, weight_decay=0.1)),
    ("NAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("RAdam", dict()),
    ("RAdam", dict(lr=0.05, betas=(0.6, 0.7))),  # rho_t > 5 from step 2 on: both branches run
    ("RAdam", dict(lr=0.05, weight_decay=0.1)),
    ("RAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True, eps=1e-3, maximize=True)),
]


def _id(case):
    return case[0] + "-" + ",".join(f"{k}={v}" for k, v in case[1].items())


@needs_torch
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_matches_pytorch_for_20_steps(case, dtype):
    name, opts = case
    init, grads = _arrays(3, dtype)
    ours = [deepcore.tensor(a.copy(), requires_grad=True) for a in init]
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in init]
    opt, ref = getattr(optim, name)(ours, **opts), getattr(torch.optim, name)(theirs, **opts)
    for step, g in enumerate(grads):
        _set(ours, g, deepcore.tensor)
        _set(theirs, g, torch.tensor)
        opt.step()
        ref.step()
        for i, (p, q) in enumerate(zip(ours, theirs)):
            np.testing.assert_allclose(_np(p), _np(q), **TOL[dtype], err_msg=f"{name} step {step} param {i}")
            mine, torchs = opt.state.get(p, {}), ref.state.get(q, {})
            assert set(mine) == set(torchs), f"{name}: state keys {sorted(mine)} vs PyTorch's {sorted(torchs)}"
            for key in torchs:
                assert mine[key].dtype.name == str(torchs[key].dtype).replace("torch.", "")
                np.testing.assert_allclose(_np(mine[key]), _np(torchs[key]), **TOL[dtype],
                                           err_msg=f"{name} step {step} param {i} state {key}")
    assert opt.state[ours[2]]["step"].item() == STEPS - 2  # the steps without a gradient are not counted


# ---- NumPy float64 references (written from the papers' formulas; run without PyTorch) -------------

def _ref_adamax(p, g, st, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    st["t"] = t = st.get("t", 0) + 1
    g = g + weight_decay * p
    st["m"] = betas[0] * st.get("m", 0.0) + (1 - betas[0]) * g
    st["u"] = np.maximum(betas[1] * st.get("u", 0.0), np.abs(g) + eps)
    return p - lr / (1 - betas[0] ** t) * st["m"] / st["u"]


def _ref_nadam(p, g, st, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, momentum_decay=4e-3):
    st["t"] = t = st.get("t", 0) + 1
    g = g + weight_decay * p
    mu = betas[0] * (1 - 0.5 * 0.96 ** (t * momentum_decay))
    mu_next = betas[0] * (1 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
    st["prod"] = np.float32(st.get("prod", 1.0)) * np.float32(mu)  # PyTorch keeps this product in float32
    st["m"] = betas[0] * st.get("m", 0.0) + (1 - betas[0]) * g
    st["v"] = betas[1] * st.get("v", 0.0) + (1 - betas[1]) * g * g
    v_hat = st["v"] / (1 - betas[1] ** t)
    prod = float(st["prod"])
    m_bar = (1 - mu) * g / (1 - prod) + mu_next * st["m"] / (1 - prod * mu_next)
    return p - lr * m_bar / (np.sqrt(v_hat) + eps)


def _ref_radam(p, g, st, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    st["t"] = t = st.get("t", 0) + 1
    g = g + weight_decay * p
    st["m"] = betas[0] * st.get("m", 0.0) + (1 - betas[0]) * g
    st["v"] = betas[1] * st.get("v", 0.0) + (1 - betas[1]) * g * g
    m_hat = st["m"] / (1 - betas[0] ** t)
    rho_inf = 2 / (1 - betas[1]) - 1
    rho = rho_inf - 2 * t * betas[1] ** t / (1 - betas[1] ** t)
    if rho <= 5:
        return p - lr * m_hat
    r = math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
    return p - lr * m_hat * r * math.sqrt(1 - betas[1] ** t) / (np.sqrt(st["v"]) + eps)


NUMPY_CASES = [
    ("Adamax", _ref_adamax, dict(lr=0.05, betas=(0.8, 0.9), weight_decay=0.1)),
    ("NAdam", _ref_nadam, dict(lr=0.05, momentum_decay=0.02, weight_decay=0.1)),
    ("RAdam", _ref_radam, dict(lr=0.05, betas=(0.6, 0.7), weight_decay=0.1)),
    ("RAdam", _ref_radam, dict(lr=0.05)),  # rho_t <= 5 for the first 5 steps: plain momentum
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", NUMPY_CASES, ids=[_id((c[0], c[2])) for c in NUMPY_CASES])
def test_matches_numpy_reference(case, dtype):
    name, reference, opts = case
    init, grads = _arrays(5, "float64")
    params = [deepcore.tensor(a.astype(dtype), requires_grad=True) for a in init]
    opt = getattr(optim, name)(params, **opts)
    expected, states = [a.copy() for a in init], [{} for _ in init]
    tol = TOL["float64"] if dtype == "float64" else dict(rtol=1e-4, atol=1e-5)
    for step, g in enumerate(grads):
        _set(params, [None if x is None else x.astype(dtype) for x in g], deepcore.tensor)
        opt.step()
        for i, x in enumerate(g):
            if x is not None:
                expected[i] = reference(expected[i], x, states[i], **opts)
            np.testing.assert_allclose(_np(params[i]), expected[i], **tol, err_msg=f"{name} step {step} param {i}")


def test_decoupled_weight_decay_multiplies_the_parameter_first():
    (p,) = [deepcore.tensor(np.array([2.0, -1.0]), requires_grad=True)]
    opt = optim.RAdam([p], lr=0.1, weight_decay=0.5, decoupled_weight_decay=True)
    p.grad = deepcore.zeros(2, dtype=deepcore.float64)
    opt.step()  # zero gradient: only the decay acts, p *= 1 - lr * wd
    np.testing.assert_allclose(_np(p), [2.0 * 0.95, -1.0 * 0.95], rtol=1e-12)


@pytest.mark.parametrize("name", ["Adamax", "NAdam", "RAdam"])
def test_state_dict_round_trip_and_param_groups(name):
    init, grads = _arrays(9, "float32", steps=6)
    first = [deepcore.tensor(a.copy(), requires_grad=True) for a in init]
    opt = getattr(optim, name)([{"params": first[:1]}, {"params": first[1:], "lr": 0.02}], lr=0.05)
    for g in grads[:3]:
        _set(first, g, deepcore.tensor)
        opt.step()
    saved = opt.state_dict()
    assert [g["params"] for g in saved["param_groups"]] == [[0], [1, 2]]
    second = [deepcore.tensor(_np(p).copy(), requires_grad=True) for p in first]
    resumed = getattr(optim, name)([{"params": second[:1]}, {"params": second[1:]}])
    resumed.load_state_dict(saved)
    assert resumed.param_groups[1]["lr"] == 0.02 and resumed.param_groups[0]["lr"] == 0.05
    for g in grads[3:]:
        _set(first, g, deepcore.tensor)
        _set(second, g, deepcore.tensor)
        opt.step()
        resumed.step()
        for p, q in zip(first, second):
            np.testing.assert_array_equal(_np(p), _np(q))


@needs_torch
def test_load_pytorch_nadam_state_dict_and_continue():
    init, grads = _arrays(11, "float64")
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in init]
    ref = torch.optim.NAdam(theirs, lr=0.05, weight_decay=0.01)
    for g in grads[:5]:
        _set(theirs, g, torch.tensor)
        ref.step()
    ours = [deepcore.tensor(_np(q).copy(), requires_grad=True) for q in theirs]
    opt = optim.NAdam(ours)
    opt.load_state_dict(ref.state_dict())
    assert opt.state[ours[0]]["mu_product"].dtype is deepcore.float32
    for g in grads[5:]:
        _set(theirs, g, torch.tensor)
        _set(ours, g, deepcore.tensor)
        ref.step()
        opt.step()
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(_np(p), _np(q), rtol=1e-9, atol=1e-12)


BAD = [
    (lambda p: optim.Adamax([p], lr=-1), ValueError, "Invalid learning rate"),
    (lambda p: optim.Adamax([p], betas=(1.0, 0.9)), ValueError, "beta parameter at index 0"),
    (lambda p: optim.NAdam([p], eps=-1), ValueError, "Invalid epsilon"),
    (lambda p: optim.NAdam([p], momentum_decay=-0.1), ValueError, "Invalid momentum_decay"),
    (lambda p: optim.RAdam([p], weight_decay=-1), ValueError, "Invalid weight_decay"),
    (lambda p: optim.RAdam([p], capturable=True), NotImplementedError, "capturable"),
    (lambda p: optim.Adamax([p], differentiable=True), NotImplementedError, "differentiable"),
    (lambda p: optim.LBFGS([p], lr=-1), ValueError, "Invalid learning rate"),
    (lambda p: optim.LBFGS([p], line_search_fn="armijo"), RuntimeError, "only 'strong_wolfe'"),
    (lambda p: optim.LBFGS([{"params": [p]}, {"params": [deepcore.zeros(1, requires_grad=True)]}]), ValueError,
     "parameter groups"),
    (lambda p: optim.LBFGS([p]).step(None), RuntimeError, "closure"),
]


@pytest.mark.parametrize("make,exc,message", BAD, ids=[b[2] for b in BAD])
def test_bad_arguments(make, exc, message):
    with pytest.raises(exc, match=message):
        make(deepcore.zeros(2, requires_grad=True))


# ---- LBFGS ---------------------------------------------------------------------------------------

def _rosenbrock_run(lib, x0, steps, **opts):
    x = lib.tensor(x0.copy(), requires_grad=True)
    opt = (optim.LBFGS if lib is deepcore else torch.optim.LBFGS)([x], **opts)
    losses = []

    def closure():
        opt.zero_grad()
        loss = (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2
        loss.backward()
        return loss

    for _ in range(steps):
        losses.append(opt.step(closure).item())
    return _np(x), losses, opt.state[x]


LBFGS_CASES = [dict(), dict(line_search_fn="strong_wolfe"), dict(lr=0.5, history_size=3, max_iter=7),
               dict(line_search_fn="strong_wolfe", history_size=2, max_iter=5, max_eval=6),
               dict(lr=0.1, tolerance_change=1e-3)]


CONVERGING = [dict(), dict(lr=0.5), dict(line_search_fn="strong_wolfe"),
              dict(line_search_fn="strong_wolfe", history_size=2, max_iter=5, max_eval=6)]


@pytest.mark.parametrize("opts", CONVERGING, ids=[str(c) for c in CONVERGING])
def test_lbfgs_minimizes_rosenbrock(opts):
    x, losses, state = _rosenbrock_run(deepcore, np.array([-1.2, 1.0]), 10, **opts)
    assert losses[-1] < 1e-8 < losses[0] and np.allclose(x, [1.0, 1.0], atol=1e-3), (x, losses)
    assert state["func_evals"] >= state["n_iter"] >= 10


@needs_torch
@pytest.mark.parametrize("opts", LBFGS_CASES, ids=[str(c) for c in LBFGS_CASES])
def test_lbfgs_matches_pytorch_on_rosenbrock(opts):
    ours, our_losses, our_state = _rosenbrock_run(deepcore, np.array([-1.2, 1.0]), 4, **opts)
    theirs, their_losses, their_state = _rosenbrock_run(torch, np.array([-1.2, 1.0]), 4, **opts)
    np.testing.assert_allclose(our_losses, their_losses, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)
    for key in ("func_evals", "n_iter"):
        assert our_state[key] == their_state[key], key
    assert float(our_state["t"]) == pytest.approx(float(their_state["t"]), rel=1e-9)
    assert len(our_state["old_dirs"]) == len(their_state["old_dirs"])


class _Sequence:
    """pytorch/examples' time_sequence_prediction model, small: two LSTM cells and a linear read-out."""

    def __init__(self, lib, hidden=5):
        self.lib, self.hidden = lib, hidden
        self.lstm1, self.lstm2 = lib.nn.LSTMCell(1, hidden).double(), lib.nn.LSTMCell(hidden, hidden).double()
        self.linear = lib.nn.Linear(hidden, 1).double()

    def parameters(self):
        return [p for m in (self.lstm1, self.lstm2, self.linear) for p in m.parameters()]

    def __call__(self, x):
        lib, n = self.lib, x.shape[0]
        h1 = c1 = h2 = c2 = lib.zeros(n, self.hidden, dtype=lib.float64)
        outputs = []
        for t in range(x.shape[1]):
            h1, c1 = self.lstm1(x[:, t:t + 1], (h1, c1))
            h2, c2 = self.lstm2(h1, (h2, c2))
            outputs.append(self.linear(h2))
        return lib.cat(outputs, 1)


@needs_torch
@pytest.mark.parametrize("line_search", [None, "strong_wolfe"])
def test_lbfgs_closure_on_an_lstm_matches_pytorch(line_search):
    torch.manual_seed(0)
    theirs = _Sequence(torch)
    ours = _Sequence(deepcore)
    for p, q in zip(ours.parameters(), theirs.parameters()):
        with deepcore.no_grad():
            p.copy_(deepcore.tensor(_np(q).copy()))
    wave = np.sin(np.arange(3 * 7, dtype=np.float64).reshape(3, 7) / 3.0)
    results = []
    for lib, model in ((deepcore, ours), (torch, theirs)):
        x, y = lib.tensor(wave[:, :-1].copy()), lib.tensor(wave[:, 1:].copy())
        opt = (optim if lib is deepcore else torch.optim).LBFGS(model.parameters(), lr=0.8, max_iter=6,
                                                                 line_search_fn=line_search)
        criterion = lib.nn.MSELoss()
        losses = []

        def closure():
            opt.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            return loss

        for _ in range(3):
            losses.append(opt.step(closure).item())
        results.append((losses, [_np(p) for p in model.parameters()]))
    (our_losses, our_params), (their_losses, their_params) = results
    np.testing.assert_allclose(our_losses, their_losses, rtol=1e-8, atol=1e-10)
    assert our_losses[-1] < our_losses[0]
    for a, b in zip(our_params, their_params):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-8)


def test_lbfgs_state_dict_round_trip():
    def make():
        x = deepcore.tensor(np.array([-1.2, 1.0]), requires_grad=True)
        return x, optim.LBFGS([x], history_size=4, max_iter=3)

    def closure_for(x, opt):
        def closure():
            opt.zero_grad()
            loss = (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2
            loss.backward()
            return loss
        return closure

    x, opt = make()
    opt.step(closure_for(x, opt))
    y, resumed = make()
    with deepcore.no_grad():
        y.copy_(x.detach())
    resumed.load_state_dict(opt.state_dict())
    for _ in range(2):
        a, b = opt.step(closure_for(x, opt)).item(), resumed.step(closure_for(y, resumed)).item()
        assert a == b
    np.testing.assert_array_equal(_np(x), _np(y))


@needs_torch
def test_lbfgs_loads_pytorch_state_dict():
    xt = torch.tensor([-1.2, 1.0], dtype=torch.float64, requires_grad=True)
    ref = torch.optim.LBFGS([xt], max_iter=3)

    def closure():
        ref.zero_grad()
        loss = (1 - xt[0]) ** 2 + 100 * (xt[1] - xt[0] ** 2) ** 2
        loss.backward()
        return loss

    ref.step(closure)
    x = deepcore.tensor(_np(xt).copy(), requires_grad=True)
    opt = optim.LBFGS([x], max_iter=3)
    opt.load_state_dict(ref.state_dict())
    state = opt.state[x]
    assert isinstance(state["prev_flat_grad"], deepcore.Tensor) and len(state["old_dirs"]) == len(
        ref.state[xt]["old_dirs"])

    def our_closure():
        opt.zero_grad()
        loss = (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2
        loss.backward()
        return loss

    ref.step(closure)
    opt.step(our_closure)
    np.testing.assert_allclose(_np(x), _np(xt), rtol=1e-9)


def test_lbfgs_stops_at_once_when_the_gradient_is_zero():
    x = deepcore.tensor(np.array([1.0, 1.0]), requires_grad=True)
    opt = optim.LBFGS([x])
    calls = []

    def closure():
        calls.append(1)
        opt.zero_grad()
        loss = ((x - 1.0) ** 2).sum()
        loss.backward()
        return loss

    assert opt.step(closure).item() == 0.0 and len(calls) == 1
    assert opt.state[x]["n_iter"] == 0
    np.testing.assert_array_equal(_np(x), [1.0, 1.0])


def test_composed_optimizer_on_a_model_decreases_the_loss():
    deepcore.manual_seed(0)
    x, y = deepcore.randn(32, 3), deepcore.randn(32, 1)
    for cls in (optim.Adamax, optim.NAdam, optim.RAdam):
        deepcore.manual_seed(1)
        model = nn.Linear(3, 1)
        opt = cls(model.parameters(), lr=0.05)
        losses = []
        for _ in range(30):
            opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        assert losses[-1] < losses[0], (cls.__name__, losses[0], losses[-1])
