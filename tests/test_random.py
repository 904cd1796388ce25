"""Random family (rand/randn/randint/randperm, manual_seed, rng state: the Philox stream) against the statistics of the distributions and reproducibility rules."""
import numpy as np
import pytest

import deepcore


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
