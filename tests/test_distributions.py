"""deepcore.distributions: log_prob, entropy, kl_divergence against NumPy float64 formulas, finite
differences and PyTorch (values and gradients); sample statistics, shapes and reproducibility;
validation errors; register_kl; the REINFORCE and VAE patterns of pytorch/examples."""
import math

import numpy as np
import pytest

import deepcore
from deepcore import distributions as D
from deepcore.autograd import gradcheck

try:
    import torch
    import torch.distributions as TD
except ImportError:  # pragma: no cover - depends on the environment
    torch = TD = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")


def _np(t):
    return t.detach().numpy() if isinstance(t, deepcore.Tensor) else t.detach().cpu().numpy()


def _t(a, grad=False):
    return deepcore.tensor(np.array(a, dtype=np.float64), requires_grad=grad)


def _tt(a, grad=False):
    return torch.tensor(np.array(a, dtype=np.float64), requires_grad=grad)


def _softplus(x):
    return np.logaddexp(0.0, x)


# ---- NumPy float64 references ---------------------------------------------------------------------

def test_normal_matches_numpy(rng):
    loc, scale, x = rng.standard_normal((3, 1)), rng.uniform(0.5, 2.0, (1, 4)), rng.standard_normal((2, 3, 4))
    m = D.Normal(_t(loc), _t(scale))
    assert m.batch_shape == (3, 4) and m.event_shape == ()
    expected = -(x - loc) ** 2 / (2 * scale ** 2) - np.log(scale) - 0.5 * np.log(2 * np.pi)
    np.testing.assert_allclose(_np(m.log_prob(_t(x))), expected, rtol=1e-12)
    np.testing.assert_allclose(_np(m.entropy()), np.broadcast_to(0.5 * np.log(2 * np.pi * np.e * scale ** 2), (3, 4)),
                               rtol=1e-12)
    np.testing.assert_allclose(_np(m.variance), np.broadcast_to(scale ** 2, (3, 4)), rtol=1e-12)
    np.testing.assert_allclose(_np(m.stddev), np.broadcast_to(scale, (3, 4)))
    np.testing.assert_allclose(_np(m.mean), np.broadcast_to(loc, (3, 4)))


def test_bernoulli_and_categorical_match_numpy(rng):
    p = rng.uniform(0.05, 0.95, (5,))
    b = D.Bernoulli(probs=_t(p))
    v = (rng.uniform(size=(3, 5)) < 0.5).astype(np.float64)
    np.testing.assert_allclose(_np(b.log_prob(_t(v))), v * np.log(p) + (1 - v) * np.log(1 - p), rtol=1e-10)
    np.testing.assert_allclose(_np(b.entropy()), -p * np.log(p) - (1 - p) * np.log(1 - p), rtol=1e-10)
    np.testing.assert_allclose(_np(b.logits), np.log(p / (1 - p)), rtol=1e-10)
    logits = rng.standard_normal((2, 4))
    c = D.Categorical(logits=_t(logits))
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    k = np.array([[3, 0], [1, 1], [2, 3]])
    np.testing.assert_allclose(_np(c.log_prob(deepcore.tensor(k))), logp[np.arange(2), k], rtol=1e-12)
    np.testing.assert_allclose(_np(c.entropy()), -(np.exp(logp) * logp).sum(-1), rtol=1e-12)
    np.testing.assert_allclose(_np(c.probs), np.exp(logp), rtol=1e-12)
    assert c.mode.tolist() == np.argmax(logits, -1).tolist()
    assert np.isnan(_np(c.mean)).all() and c.mean.shape == (2,)


def test_uniform_matches_numpy(rng):
    low, high = rng.uniform(-2, 0, (3,)), rng.uniform(0.5, 2, (3,))
    u = D.Uniform(_t(low), _t(high), validate_args=False)
    x = np.array([[-3.0, 0.1, 0.2], [0.0, 0.0, 5.0]])
    inside = (x >= low) & (x < high)
    with np.errstate(divide="ignore"):
        expected = np.log(inside.astype(float)) - np.log(high - low)
    np.testing.assert_allclose(_np(u.log_prob(_t(x))), expected)
    np.testing.assert_allclose(_np(u.entropy()), np.log(high - low), rtol=1e-12)
    np.testing.assert_allclose(_np(u.cdf(_t(x))), np.clip((x - low) / (high - low), 0, 1), rtol=1e-12)
    np.testing.assert_allclose(_np(u.icdf(_t([0.25]))), low + 0.25 * (high - low), rtol=1e-12)
    np.testing.assert_allclose(_np(u.variance), (high - low) ** 2 / 12, rtol=1e-12)


def test_kl_matches_numpy(rng):
    m1, s1, m2, s2 = rng.standard_normal(4), rng.uniform(0.5, 2, 4), rng.standard_normal(4), rng.uniform(0.5, 2, 4)
    kl = D.kl_divergence(D.Normal(_t(m1), _t(s1)), D.Normal(_t(m2), _t(s2)))
    np.testing.assert_allclose(_np(kl), np.log(s2 / s1) + (s1 ** 2 + (m1 - m2) ** 2) / (2 * s2 ** 2) - 0.5,
                               rtol=1e-12)
    p, q = rng.uniform(0.1, 0.9, 4), rng.uniform(0.1, 0.9, 4)
    kl = D.kl_divergence(D.Bernoulli(_t(p)), D.Bernoulli(logits=_t(np.log(q / (1 - q)))))
    np.testing.assert_allclose(_np(kl), p * np.log(p / q) + (1 - p) * np.log((1 - p) / (1 - q)), rtol=1e-9)
    P, Q = rng.dirichlet(np.ones(5), size=3), rng.dirichlet(np.ones(5), size=3)
    kl = D.kl_divergence(D.Categorical(_t(P)), D.Categorical(_t(Q)))
    np.testing.assert_allclose(_np(kl), (P * np.log(P / Q)).sum(-1), rtol=1e-10)
    kl = D.kl_divergence(D.Uniform(_t([0.0, 0.0]), _t([1.0, 3.0])), D.Uniform(_t([-1.0, 0.5]), _t([2.0, 4.0])))
    assert _np(kl).tolist() == [math.log(3.0), math.inf]


def test_kl_edge_cases_zero_probabilities():
    kl = D.kl_divergence(D.Bernoulli(_t([0.0, 1.0, 0.5])), D.Bernoulli(_t([0.5, 0.5, 1.0])))
    np.testing.assert_allclose(_np(kl), [math.log(2), math.log(2), math.inf], rtol=1e-6)
    kl = D.kl_divergence(D.Categorical(_t([[0.5, 0.5, 0.0]])), D.Categorical(_t([[0.25, 0.75, 0.0]])))
    np.testing.assert_allclose(_np(kl), [0.5 * math.log(2) + 0.5 * math.log(2 / 3)], rtol=1e-12)
    kl = D.kl_divergence(D.Categorical(_t([[0.5, 0.5]])), D.Categorical(_t([[1.0, 0.0]])))
    assert _np(kl).tolist() == [math.inf]


# ---- finite differences ------------------------------------------------------------------------------

def test_gradchecks(rng):
    loc, scale = _t(rng.standard_normal(3), True), _t(rng.uniform(0.5, 2, 3), True)
    x = _t(rng.standard_normal((2, 3)))
    assert gradcheck(lambda a, b: D.Normal(a, b).log_prob(x), (loc, scale))
    assert gradcheck(lambda a, b: D.kl_divergence(D.Normal(a, b), D.Normal(0.0, 1.0)), (loc, scale))
    logits = _t(rng.standard_normal((2, 4)), True)
    k = deepcore.tensor([[1, 3], [0, 0]])
    assert gradcheck(lambda z: D.Categorical(logits=z).log_prob(k), (logits,))
    assert gradcheck(lambda z: D.Categorical(logits=z).entropy(), (logits,))
    probs = _t(rng.uniform(0.2, 1.0, (2, 4)), True)
    assert gradcheck(lambda p: D.Categorical(probs=p).log_prob(k), (probs,))
    bl = _t(rng.standard_normal(3), True)
    v = _t([1.0, 0.0, 1.0])
    assert gradcheck(lambda z: D.Bernoulli(logits=z).log_prob(v), (bl,))
    assert gradcheck(lambda z: D.Bernoulli(logits=z).entropy(), (bl,))
    assert gradcheck(lambda z: D.kl_divergence(D.Bernoulli(logits=z), D.Bernoulli(_t([0.3, 0.6, 0.5]))), (bl,))
    lo, hi = _t([-1.0, 0.0], True), _t([1.0, 2.0], True)
    assert gradcheck(lambda a, b: D.Uniform(a, b).entropy(), (lo, hi))


def test_rsample_is_reparameterized():
    loc, scale = _t([1.0, -2.0], True), _t([0.5, 3.0], True)
    deepcore.manual_seed(4)
    z = D.Normal(loc, scale).rsample((5,))
    z.sum().backward()
    deepcore.manual_seed(4)
    eps = deepcore.randn(5, 2, dtype=deepcore.float64)
    np.testing.assert_allclose(_np(z), _np(loc) + _np(eps) * _np(scale), rtol=1e-12)
    np.testing.assert_allclose(_np(loc.grad), [5.0, 5.0])
    np.testing.assert_allclose(_np(scale.grad), _np(eps).sum(0), rtol=1e-12)
    assert not D.Normal(loc, scale).sample((3,)).requires_grad
    low = _t([0.0], True)
    D.Uniform(low, 2.0).rsample((4,)).sum().backward()
    assert low.grad is not None
    with pytest.raises(NotImplementedError, match="reparameterized"):
        D.Bernoulli(_t([0.5])).rsample()


# ---- sampling ---------------------------------------------------------------------------------------

def test_sample_shapes_and_reproducibility():
    m = D.Categorical(_t(np.full((3, 4), 0.25)))
    assert m.sample().shape == (3,) and m.sample((2, 5)).shape == (2, 5, 3)
    assert m.sample().dtype is deepcore.int64
    assert D.Normal(0.0, 1.0).sample().shape == () and D.Normal(0.0, 1.0).sample((7,)).shape == (7,)
    assert D.Normal(_t([0.0, 1.0]), 1.0).sample((3,)).shape == (3, 2)
    assert D.Bernoulli(0.3).sample((4,)).dtype is deepcore.float32
    assert D.Independent(D.Normal(_t(np.zeros((2, 3))), 1.0), 1).sample((5,)).shape == (5, 2, 3)
    for make in (lambda: m.sample((10,)), lambda: D.Normal(0.0, 1.0).rsample((10,)),
                 lambda: D.Bernoulli(0.5).sample((10,)), lambda: D.Uniform(0.0, 1.0).sample((10,))):
        deepcore.manual_seed(7)
        a = make().tolist()
        deepcore.manual_seed(7)
        assert make().tolist() == a
        assert make().tolist() != a


def test_sample_statistics():
    deepcore.manual_seed(0)
    n = 40000
    x = D.Normal(_t([2.0]), _t([3.0])).sample((n,))
    assert abs(x.mean().item() - 2.0) < 4 * 3.0 / math.sqrt(n) and abs(x.std().item() - 3.0) < 0.05
    p = np.array([0.1, 0.2, 0.3, 0.4])
    counts = np.bincount(D.Categorical(_t(p)).sample((n,)).numpy(), minlength=4)
    assert np.all(np.abs(counts / n - p) < 4 * np.sqrt(p * (1 - p) / n)), counts
    zero = D.Categorical(_t([0.5, 0.0, 0.5])).sample((2000,)).numpy()
    assert 1 not in zero  # a category of probability 0 is never drawn
    freq = D.Bernoulli(_t([0.2, 0.9])).sample((n,)).mean(0).numpy()
    assert np.all(np.abs(freq - [0.2, 0.9]) < 4 * np.sqrt(np.array([0.16, 0.09]) / n))
    u = D.Uniform(_t([-1.0]), _t([3.0])).sample((n,)).numpy()
    assert u.min() >= -1.0 and u.max() < 3.0 and abs(u.mean() - 1.0) < 0.03


def test_enumerate_support_and_expand():
    b = D.Bernoulli(_t([0.2, 0.7]))
    assert b.enumerate_support().tolist() == [[0.0, 0.0], [1.0, 1.0]]
    assert b.enumerate_support(expand=False).shape == (2, 1)
    c = D.Categorical(_t([[0.5, 0.5, 0.0]]))
    assert c.enumerate_support().tolist() == [[0], [1], [2]]
    e = D.Normal(_t([0.0]), _t([1.0])).expand((4, 1))
    assert e.batch_shape == (4, 1) and e.sample().shape == (4, 1)
    ce = c.expand((3, 1))
    assert ce.batch_shape == (3, 1) and ce.log_prob(deepcore.tensor([[0]])).shape == (3, 1)


# ---- validation -------------------------------------------------------------------------------------

def test_parameter_validation():
    with pytest.raises(ValueError, match=r"Expected parameter scale \(Tensor of shape \(2,\)\) of distribution "
                                         r"Normal\(loc: .*\) to satisfy the constraint GreaterThan\(lower_bound=0.0\)"):
        D.Normal(_t([0.0, 0.0]), _t([1.0, -1.0]))
    with pytest.raises(ValueError, match="constraint Interval"):
        D.Bernoulli(_t([1.5]))
    with pytest.raises(ValueError, match="constraint Simplex"):
        D.Categorical(_t([0.5, -0.1, 0.6]))
    with pytest.raises(ValueError, match="constraint LessThan"):
        D.Uniform(1.0, 0.0)
    with pytest.raises(ValueError, match="Either `probs` or `logits`"):
        D.Bernoulli(probs=_t([0.5]), logits=_t([0.0]))
    with pytest.raises(ValueError, match="Either `probs` or `logits`"):
        D.Categorical()
    with pytest.raises(ValueError, match="at least one-dimensional"):
        D.Categorical(_t(0.5))
    D.Normal(_t([0.0]), _t([-1.0]), validate_args=False)  # not checked


def test_sample_validation():
    with pytest.raises(ValueError, match=r"to be within the support \(Boolean\(\)\) of the distribution Bernoulli"):
        D.Bernoulli(_t([0.5])).log_prob(_t([0.5]))
    with pytest.raises(ValueError, match=r"support \(IntegerInterval\(lower_bound=0, upper_bound=2\)\)"):
        D.Categorical(_t([0.2, 0.3, 0.5])).log_prob(deepcore.tensor([3]))
    with pytest.raises(ValueError, match="not broadcastable with batch_shape"):
        D.Normal(_t([0.0, 1.0]), 1.0).log_prob(_t([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match="must be a Tensor"):
        D.Normal(0.0, 1.0).log_prob(0.5)
    with pytest.raises(IndexError, match="out of range"):
        D.Categorical(_t([0.2, 0.8]), validate_args=False).log_prob(deepcore.tensor([2]))
    assert D.Bernoulli(_t([0.5]), validate_args=False).log_prob(_t([0.5])).shape == (1,)


def test_default_validation_can_be_switched_off():
    try:
        D.Distribution.set_default_validate_args(False)
        D.Normal(0.0, -1.0)
    finally:
        D.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        D.Normal(0.0, -1.0)
    with pytest.raises(ValueError):
        D.Distribution.set_default_validate_args("yes")


def test_register_kl_dispatch():
    class MyNormal(D.Normal):
        pass

    assert D.kl_divergence(MyNormal(0.0, 1.0), D.Normal(1.0, 1.0)).item() == pytest.approx(0.5)
    try:
        @D.register_kl(MyNormal, D.Normal)
        def _mine(p, q):
            return deepcore.tensor(42.0)

        assert D.kl_divergence(MyNormal(0.0, 1.0), D.Normal(1.0, 1.0)).item() == 42.0
        assert D.kl_divergence(D.Normal(0.0, 1.0), MyNormal(1.0, 1.0)).item() == pytest.approx(0.5)
    finally:
        from deepcore.distributions import kl
        kl._KL_REGISTRY.pop((MyNormal, D.Normal))
        kl._KL_MEMOIZE.clear()
    with pytest.raises(NotImplementedError, match="No KL"):
        D.kl_divergence(D.Normal(0.0, 1.0), D.Bernoulli(0.5))
    with pytest.raises(TypeError, match="Distribution subclass"):
        D.register_kl(int, D.Normal)


# ---- PyTorch: values and gradients -----------------------------------------------------------------

@needs_torch
def test_log_prob_entropy_kl_and_grads_match_pytorch(rng):
    loc, scale = rng.standard_normal((3, 2)), rng.uniform(0.5, 2, (3, 2))
    probs, logits = rng.dirichlet(np.ones(4), size=3), rng.standard_normal((3, 4))
    bern = rng.uniform(0.1, 0.9, (3, 2))
    x, k, v = rng.standard_normal((5, 3, 2)), rng.integers(0, 4, (5, 3)), (rng.uniform(size=(5, 3, 2)) < 0.5) * 1.0

    def build(lib, mod):
        t = _t if lib is deepcore else _tt
        args = [t(loc, True), t(scale, True), t(probs, True), t(logits, True), t(bern, True)]
        n = mod.Normal(args[0], args[1])
        cp, cl = mod.Categorical(probs=args[2]), mod.Categorical(logits=args[3])
        b, bl = mod.Bernoulli(probs=args[4]), mod.Bernoulli(logits=args[0])
        ind = mod.Independent(mod.Normal(args[0], args[1]), 1)
        kk = lib.tensor(k)
        outs = [n.log_prob(t(x)), n.entropy(), cp.log_prob(kk), cl.log_prob(kk), cp.entropy(), cl.entropy(),
                b.log_prob(t(v)), bl.log_prob(t(v)), b.entropy(), bl.entropy(), ind.log_prob(t(x)), ind.entropy(),
                mod.kl_divergence(n, mod.Normal(args[1], args[1] * 2)), mod.kl_divergence(cp, cl),
                mod.kl_divergence(b, bl), mod.kl_divergence(ind, mod.Independent(mod.Normal(0.0 * args[0], 1.0), 1)),
                cl.probs, b.logits, n.variance, b.variance]
        total = sum((o * (i + 1.0)).sum() for i, o in enumerate(outs))
        total.backward()
        return [_np(o) for o in outs], [_np(a.grad) for a in args]

    ours, theirs = build(deepcore, D), build(torch, TD)
    for i, (a, b) in enumerate(zip(ours[0], theirs[0])):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=f"output {i}")
    for i, (a, b) in enumerate(zip(ours[1], theirs[1])):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11, err_msg=f"gradient of argument {i}")


@needs_torch
def test_shapes_and_properties_match_pytorch():
    for ours, theirs in [(D.Normal(_t([[0.0], [1.0]]), _t([1.0, 2.0, 3.0])), TD.Normal(_tt([[0.0], [1.0]]),
                                                                                        _tt([1.0, 2.0, 3.0]))),
                         (D.Categorical(_t(np.ones((2, 3, 4)))), TD.Categorical(_tt(np.ones((2, 3, 4))))),
                         (D.Bernoulli(0.3), TD.Bernoulli(0.3)), (D.Uniform(0.0, _t([1.0, 2.0])),
                                                                 TD.Uniform(0.0, _tt([1.0, 2.0]))),
                         (D.Independent(D.Normal(_t(np.zeros((2, 3))), 1.0), 1),
                          TD.Independent(TD.Normal(_tt(np.zeros((2, 3))), 1.0), 1))]:
        assert repr(ours).replace("deepcore.Size", "torch.Size") == repr(theirs).replace("tensor(1.)", "1.0")
        assert tuple(ours.batch_shape) == tuple(theirs.batch_shape)
        assert tuple(ours.event_shape) == tuple(theirs.event_shape)
        assert tuple(ours.sample((2,)).shape) == tuple(theirs.sample((2,)).shape)
        assert ours.has_rsample == theirs.has_rsample
        assert ours.has_enumerate_support == theirs.has_enumerate_support
        assert repr(ours.support).replace("deepcore", "torch") == repr(theirs.support)
        assert np.allclose(_np(ours.mean), _np(theirs.mean), equal_nan=True)


@needs_torch
def test_reinforce_pattern_matches_pytorch():
    """pytorch/examples reinforcement_learning/reinforce.py: probs from a softmax policy, sample an action,
    keep -log_prob * return for the policy gradient."""
    rng = np.random.default_rng(0)
    w, state = rng.standard_normal((4, 2)), rng.standard_normal((1, 4))
    deepcore.manual_seed(0)
    wd = _t(w, True)
    m = D.Categorical(deepcore.softmax(_t(state) @ wd, dim=1))
    action = m.sample()
    assert action.shape == (1,) and action.item() in (0, 1)
    loss = deepcore.cat([-m.log_prob(action) * 2.5]).sum()
    loss.backward()
    wt = _tt(w, True)
    mt = TD.Categorical(torch.softmax(_tt(state) @ wt, dim=1))
    (-mt.log_prob(torch.tensor([action.item()])) * 2.5).sum().backward()
    np.testing.assert_allclose(_np(wd.grad), _np(wt.grad), rtol=1e-10)
    assert isinstance(m.entropy().item(), float)


@needs_torch
def test_vae_pattern_matches_pytorch():
    """A VAE's reparameterized latent and its KL term to the standard normal prior."""
    rng = np.random.default_rng(1)
    mu, logvar, eps = rng.standard_normal((3, 2)), rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    results = []
    for lib, mod, t in ((deepcore, D, _t), (torch, TD, _tt)):
        m, lv = t(mu, True), t(logvar, True)
        q = mod.Normal(m, (lv * 0.5).exp())
        z = q.loc + q.scale * t(eps)  # rsample with a fixed eps, to compare
        kl = mod.kl_divergence(q, mod.Normal(lib.zeros_like(m), lib.ones_like(m))).sum()
        (kl + (z ** 2).sum()).backward()
        results.append([_np(kl), _np(m.grad), _np(lv.grad)])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-10)
    closed = -0.5 * np.sum(1 + logvar - mu ** 2 - np.exp(logvar))  # the VAE paper's closed form
    np.testing.assert_allclose(results[0][0], closed, rtol=1e-10)
