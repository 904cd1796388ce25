"""Random family (rand/randn/randint/randperm, manual_seed, rng state: the Philox stream) against the statistics of the distributions and reproducibility rules."""
import numpy as np
import pytest

import deepcore
from helpers import raises


@pytest.mark.parametrize("fn", [deepcore.rand, deepcore.randn])
@pytest.mark.parametrize("dtype", [deepcore.float32, deepcore.float64])
def test_manual_seed_reproducibility(fn, dtype):
    deepcore.manual_seed(123)
    a = fn(5, 7, dtype=dtype).numpy().copy()
    b = fn(5, 7, dtype=dtype).numpy().copy()
    deepcore.manual_seed(123)
    a2 = fn(5, 7, dtype=dtype).numpy()
    b2 = fn(5, 7, dtype=dtype).numpy()
    assert (a == a2).all() and (b == b2).all(), "the same seed must give the same numbers"
    assert not (a == b).all(), "consecutive draws must differ"
    deepcore.manual_seed(124)
    assert not (fn(5, 7, dtype=dtype).numpy() == a).any(), "a different seed must give different numbers"
    assert fn(5, 7, dtype=dtype).dtype is dtype


def test_rng_state_roundtrip():
    deepcore.manual_seed(7)
    state = deepcore.get_rng_state()
    a = deepcore.randn(10).tolist()
    deepcore.set_rng_state(state)
    assert deepcore.randn(10).tolist() == a


def test_randn_moments():
    deepcore.manual_seed(0)
    x = deepcore.randn(100_000, dtype=deepcore.float64).numpy()
    assert abs(x.mean()) < 0.02, x.mean()
    assert abs(x.std() - 1.0) < 0.02, x.std()
    assert abs((x > 1.0).mean() - 0.1587) < 0.01  # a tail probability: catches a wrong shape of distribution
    x32 = deepcore.randn(100_000).numpy()
    assert np.isfinite(x32).all() and abs(x32.mean()) < 0.02 and abs(x32.std() - 1.0) < 0.02


@pytest.mark.parametrize("dtype", [deepcore.float32, deepcore.float64])
def test_rand_range_and_moments(dtype):
    deepcore.manual_seed(1)
    x = deepcore.rand(100_000, dtype=dtype).numpy()
    assert x.min() >= 0.0 and x.max() < 1.0
    assert abs(x.mean() - 0.5) < 0.01 and abs(x.var() - 1 / 12) < 0.005
    counts = np.histogram(x, bins=10, range=(0, 1))[0]
    assert counts.min() > 9000 and counts.max() < 11000, counts


def test_randint_randperm_and_like():
    deepcore.manual_seed(3)
    r = deepcore.randint(2, 5, (1000,))
    assert r.dtype is deepcore.int64 and r.numpy().min() == 2 and r.numpy().max() == 4
    p = deepcore.randperm(50)
    assert sorted(p.tolist()) == list(range(50)) and p.tolist() != list(range(50))
    x = deepcore.zeros(3, 4, dtype=deepcore.float64)
    assert deepcore.randn_like(x).dtype is deepcore.float64 and tuple(deepcore.rand_like(x).shape) == (3, 4)
    with pytest.raises(TypeError, match="float32 or float64"):
        deepcore.randn(3, dtype=deepcore.int64)


def test_rand_requires_grad():
    x = deepcore.randn(3, requires_grad=True)
    assert x.requires_grad and x.is_leaf


@pytest.mark.parametrize("fn", [deepcore.rand, deepcore.randn])
def test_a_draw_is_a_prefix_of_a_longer_one(fn):
    """Counter-based: element i depends on (seed, offset, i) only, not on the length or shape of the draw."""
    deepcore.manual_seed(9)
    long = fn(1000).numpy().copy()
    deepcore.manual_seed(9)
    assert np.array_equal(fn(13).numpy(), long[:13])
    deepcore.manual_seed(9)
    assert np.array_equal(fn(10, 100).numpy().ravel(), long)


def test_randint_is_uniform_on_its_half_open_range():
    deepcore.manual_seed(4)
    r = deepcore.randint(-3, 7, (100_000,)).numpy()
    assert r.min() == -3 and r.max() == 6
    counts = np.bincount(r + 3, minlength=10)
    assert counts.min() > 9500 and counts.max() < 10500, counts  # +-5 standard deviations
    with pytest.raises(ValueError, match="randint"):
        deepcore.randint(3, 3, (2,))


def test_randperm_positions_are_uniform():
    deepcore.manual_seed(2)
    where_zero = np.array([deepcore.randperm(5).tolist().index(0) for _ in range(10_000)])
    counts = np.bincount(where_zero, minlength=5)
    assert counts.min() > 1800 and counts.max() < 2200, counts  # +-5 standard deviations
    assert deepcore.randperm(0).tolist() == [] and deepcore.randperm(1).tolist() == [0]


def test_rng_state_restores_every_kind_of_draw():
    deepcore.manual_seed(11)
    state = deepcore.get_rng_state()

    def draws():
        return [deepcore.rand(5).tolist(), deepcore.randint(0, 100, (6,)).tolist(), deepcore.randperm(9).tolist(),
                deepcore.randn(3, dtype=deepcore.float64).tolist()]
    first = draws()
    assert deepcore.get_rng_state() != state  # the stream moved on
    deepcore.set_rng_state(state)
    assert draws() == first


# ---- in-place fills, bernoulli, normal, multinomial ---------------------------------------------

@pytest.mark.parametrize("dtype", [deepcore.float32, deepcore.float64])
def test_uniform_and_normal_fills_are_rand_and_randn_mapped(dtype):
    deepcore.manual_seed(5)
    u = deepcore.rand(1000, dtype=dtype).numpy().copy()
    deepcore.manual_seed(5)
    x = deepcore.empty(1000, dtype=dtype).uniform_(-2.0, 3.0)
    np.testing.assert_allclose(x.numpy(), -2.0 + 5.0 * u, rtol=1e-6, atol=1e-6)
    assert x.numpy().min() >= -2.0 and x.numpy().max() < 3.0
    deepcore.manual_seed(5)
    z = deepcore.randn(1001, dtype=dtype).numpy().copy()
    deepcore.manual_seed(5)
    y = deepcore.empty(1001, dtype=dtype).normal_(1.5, 0.5)
    np.testing.assert_allclose(y.numpy(), 1.5 + 0.5 * z, rtol=1e-6, atol=1e-6)
    deepcore.manual_seed(5)
    assert np.array_equal(deepcore.empty(1000, dtype=dtype).uniform_().numpy(), u)  # uniform_() is rand's stream


def test_fills_on_strided_views_and_reproducibility():
    m = deepcore.zeros(4, 6)
    deepcore.manual_seed(1)
    m.t().uniform_(5.0, 6.0)  # a transposed view: written through
    assert (m.numpy() >= 5.0).all()
    col = deepcore.zeros(4, 6)
    col[:, 1].normal_()
    assert (col.numpy()[:, [0, 2, 3, 4, 5]] == 0).all() and (col.numpy()[:, 1] != 0).all()
    deepcore.manual_seed(3)
    a = deepcore.empty(50).exponential_(2.0).numpy().copy()
    deepcore.manual_seed(3)
    assert np.array_equal(deepcore.empty(50).exponential_(2.0).numpy(), a)


def test_fill_statistics():
    deepcore.manual_seed(8)
    n = 200_000
    e = deepcore.empty(n, dtype=deepcore.float64).exponential_(4.0).numpy()
    assert e.min() >= 0 and abs(e.mean() - 0.25) < 5 * 0.25 / np.sqrt(n)
    b = deepcore.empty(n).bernoulli_(0.3).numpy()
    assert set(np.unique(b)) <= {0.0, 1.0} and abs(b.mean() - 0.3) < 5 * np.sqrt(0.21 / n)
    r = deepcore.empty(n, dtype=deepcore.int64).random_(2, 6).numpy()
    assert r.min() == 2 and r.max() == 5
    counts = np.bincount(r - 2, minlength=4)
    assert abs(counts - n / 4).max() < 5 * np.sqrt(n * 3 / 16)
    assert deepcore.empty(1000).random_(3).numpy().max() == 2.0
    assert deepcore.empty(10).random_().numpy().max() <= 2 ** 24
    p = deepcore.tensor([[0.0, 1.0], [0.5, 0.25]])
    draws = np.stack([deepcore.bernoulli(p).numpy() for _ in range(2000)])
    assert draws[:, 0, 0].max() == 0 and draws[:, 0, 1].min() == 1
    assert abs(draws[:, 1, 0].mean() - 0.5) < 0.06 and abs(draws[:, 1, 1].mean() - 0.25) < 0.06
    t = deepcore.normal(deepcore.tensor([0.0, 100.0]), deepcore.tensor([1.0, 0.0]))
    assert t.shape == (2,) and t[1].item() == 100.0
    t = deepcore.normal(2.0, 3.0, size=(n,)).numpy()
    assert abs(t.mean() - 2.0) < 5 * 3 / np.sqrt(n) and abs(t.std() - 3.0) < 0.05
    assert deepcore.normal(deepcore.zeros(3, 1), 1.0).shape == (3, 1)


def test_multinomial_frequencies_and_rules():
    deepcore.manual_seed(0)
    w = deepcore.tensor([1.0, 0.0, 3.0, 4.0])
    s = deepcore.multinomial(w, 80_000, replacement=True).numpy()
    freq = np.bincount(s, minlength=4) / len(s)
    np.testing.assert_allclose(freq, [0.125, 0.0, 0.375, 0.5], atol=0.01)
    rows = deepcore.tensor([[1.0, 1.0, 1.0, 0.0], [0.0, 0.0, 5.0, 1.0]])
    out = rows.multinomial(2)
    assert out.shape == (2, 2) and out.dtype is deepcore.int64
    for row, picks in zip(rows.numpy(), out.numpy()):
        assert len(set(picks)) == 2 and all(row[p] > 0 for p in picks)
    # Without replacement, the first draw follows the weights (sequential sampling).
    first = np.array([deepcore.multinomial(w, 2).tolist()[0] for _ in range(4000)])
    np.testing.assert_allclose(np.bincount(first, minlength=4) / 4000, [0.125, 0.0, 0.375, 0.5], atol=0.03)
    deepcore.manual_seed(7)
    a = deepcore.multinomial(w, 5, True).tolist()
    deepcore.manual_seed(7)
    assert deepcore.multinomial(w, 5, True).tolist() == a


def test_random_errors():
    x = deepcore.empty(3)
    with raises(RuntimeError, "uniform_", "from=2.0 > to=1.0"):
        x.uniform_(2.0, 1.0)
    with raises(RuntimeError, "normal_", "std"):
        x.normal_(0.0, -1.0)
    with raises(RuntimeError, "exponential_", "lambda"):
        x.exponential_(0.0)
    with raises(RuntimeError, "bernoulli_", "p=1.5"):
        x.bernoulli_(1.5)
    with raises(RuntimeError, "uniform_", "leaf Variable"):
        deepcore.empty(3, requires_grad=True).uniform_()
    with deepcore.no_grad():  # nn.init's way: allowed
        deepcore.empty(3, requires_grad=True).uniform_()
    with raises(TypeError, "normal_", "float32 or float64"):
        deepcore.empty(3, dtype=deepcore.int64).normal_()
    with raises(NotImplementedError, "uniform_", "generator"):
        x.uniform_(generator=object())
    with raises(RuntimeError, "multinomial", "without replacement"):
        deepcore.multinomial(deepcore.ones(3), 4)
    with raises(RuntimeError, "multinomial", "not enough"):
        deepcore.multinomial(deepcore.tensor([1.0, 0.0, 0.0]), 2)
    with raises(RuntimeError, "multinomial", "element < 0"):
        deepcore.multinomial(deepcore.tensor([1.0, -1.0]), 1)
    with raises(RuntimeError, "multinomial", "sum of probabilities"):
        deepcore.multinomial(deepcore.zeros(3), 1, True)
    with raises(RuntimeError, "multinomial", "floating-point"):
        deepcore.multinomial(deepcore.tensor([1, 2]), 1)
    with raises(RuntimeError, "bernoulli", "p_in"):
        deepcore.bernoulli(deepcore.tensor([0.5, 2.0]))
    with raises(RuntimeError, "random_", "from=3 >= to=3"):
        x.random_(3, 3)


def test_randint_high_and_size_form():
    """torch.randint(high, size): word_language_model/generate.py's first word."""
    deepcore.manual_seed(1)
    t = deepcore.randint(10, (1, 1), dtype=deepcore.int64)
    assert t.shape == (1, 1) and 0 <= t.item() < 10
    assert deepcore.randint(3, (2,), dtype=deepcore.float32, requires_grad=True).requires_grad
    with raises(RuntimeError, "floating point"):
        deepcore.randint(3, (2,), requires_grad=True)
