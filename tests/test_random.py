"""Random family (rand/randn/randint/randperm, manual_seed, rng state: the Philox stream) against the statistics of the distributions and reproducibility rules."""
import numpy as np
import pytest

import deepcore
from helpers import raises, torch as torch_or_none


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
    with raises(TypeError, "uniform_", "deepcore.Generator"):
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


# ---- deepcore.Generator: private streams --------------------------------------------------------

# Every op that takes generator=, as a function of (generator, seed-dependent nothing else): each
# returns a NumPy array so that draws can be compared bitwise.
GENERATOR_DRAWS = {
    "rand": lambda g: deepcore.rand(3, 5, generator=g),
    "randn float64": lambda g: deepcore.randn(7, dtype=deepcore.float64, generator=g),
    "randint": lambda g: deepcore.randint(-4, 9, (11,), generator=g),
    "randperm": lambda g: deepcore.randperm(13, generator=g),
    "multinomial": lambda g: deepcore.multinomial(deepcore.tensor([[1.0, 2.0, 0.0, 3.0]] * 2), 6, True, generator=g),
    "multinomial without replacement": lambda g: deepcore.multinomial(deepcore.ones(9), 4, generator=g),
    "normal(size=)": lambda g: deepcore.normal(1.0, 2.0, (5,), generator=g),
    "normal(tensors)": lambda g: deepcore.normal(deepcore.zeros(2, 3), deepcore.ones(3), generator=g),
    "bernoulli": lambda g: deepcore.bernoulli(deepcore.full((9,), 0.4), generator=g),
    "bernoulli(p=)": lambda g: deepcore.bernoulli(deepcore.empty(9), 0.3, generator=g),
    "uniform_": lambda g: deepcore.empty(4, 3).t().uniform_(-1.0, 2.0, generator=g),
    "normal_": lambda g: deepcore.empty(6).normal_(0.5, 3.0, generator=g),
    "exponential_": lambda g: deepcore.empty(6, dtype=deepcore.float64).exponential_(2.0, generator=g),
    "bernoulli_": lambda g: deepcore.empty(8).bernoulli_(deepcore.full((8,), 0.5), generator=g),
    "random_": lambda g: deepcore.empty(8, dtype=deepcore.int64).random_(0, 100, generator=g),
}


def _drawn(name, g):
    return GENERATOR_DRAWS[name](g).numpy().copy()


@pytest.mark.parametrize("name", sorted(GENERATOR_DRAWS))
def test_a_generator_draws_the_global_stream_of_its_seed_and_leaves_the_global_stream_alone(name):
    """Generator().manual_seed(s) draws exactly what the global stream draws after manual_seed(s),
    twice in a row (so the generator advances as the global stream does), and the global stream's
    position does not move while the generator draws."""
    deepcore.manual_seed(21)
    want = [_drawn(name, None), _drawn(name, None)]
    deepcore.manual_seed(99)
    before = deepcore.get_rng_state()
    g = deepcore.Generator().manual_seed(21)
    got = [_drawn(name, g), _drawn(name, g)]
    assert deepcore.get_rng_state() == before, f"{name}: a generator draw moved the global stream"
    assert all(np.array_equal(a, b) for a, b in zip(got, want)), f"{name}: generator draws differ from the seed's"
    assert g.get_state().tolist()[1] > 0, f"{name}: the generator did not advance"
    same = deepcore.Generator().manual_seed(21)
    assert np.array_equal(_drawn(name, same), want[0]), f"{name}: two generators of one seed differ"


def test_generator_state_seed_pickling_and_torch_api():
    g = deepcore.Generator()
    assert g.device == deepcore.device("cpu") and g.initial_seed() == 67280421310721
    assert g.manual_seed(7) is g and g.initial_seed() == 7
    deepcore.rand(10, generator=g)
    state = g.get_state()
    assert state.dtype is deepcore.int64 and state.tolist() == [7, 3]  # 10 float32 uniforms: 3 Philox blocks
    a = deepcore.randn(20, generator=g).numpy().copy()
    assert g.set_state(state) is g
    assert np.array_equal(deepcore.randn(20, generator=g).numpy(), a), "set_state must restore the position"
    import copy
    import pickle
    g.set_state(state)
    for twin in (pickle.loads(pickle.dumps(g)), copy.deepcopy(g)):
        assert twin is not g and twin.get_state().tolist() == [7, 3]
        assert np.array_equal(deepcore.randn(20, generator=twin).numpy(), a)
    s = g.seed()
    assert isinstance(s, int) and g.initial_seed() == s and g.get_state().tolist() == [s, 0]
    assert g.manual_seed(-1).initial_seed() == 2 ** 64 - 1  # negative seeds wrap, as in PyTorch
    g.manual_seed(2 ** 64 - 1)
    assert g.get_state().tolist() == [-1, 0]  # the unsigned seed's bits, in int64
    assert g.set_state(g.get_state()).initial_seed() == 2 ** 64 - 1
    if torch_or_none is not None:
        t = torch_or_none
        assert t.Generator().initial_seed() == deepcore.Generator().initial_seed()
        assert t.Generator().manual_seed(-5).initial_seed() == deepcore.Generator().manual_seed(-5).initial_seed()


def test_default_generator_is_the_global_stream():
    dg = deepcore.default_generator
    assert dg.manual_seed(5) is dg and deepcore.get_rng_state() == (5, 0) and dg.initial_seed() == 5
    a = deepcore.rand(6, generator=dg).numpy().copy()
    deepcore.manual_seed(5)
    assert np.array_equal(deepcore.rand(6).numpy(), a)
    state = dg.get_state()
    b = deepcore.randn(4).numpy().copy()
    dg.set_state(state)
    assert np.array_equal(deepcore.randn(4).numpy(), b)
    dg.set_state((5, 0))
    assert np.array_equal(deepcore.rand(6).numpy(), a)
    import copy
    import pickle
    assert pickle.loads(pickle.dumps(dg)) is dg and copy.deepcopy(dg) is dg


def test_generator_misuse_is_refused_naming_the_op():
    g = deepcore.Generator()
    with raises(TypeError, "rand", "deepcore.Generator", "int"):
        deepcore.rand(3, generator=5)
    with raises(TypeError, "randperm", "deepcore.Generator"):
        deepcore.randperm(3, generator=np.random.default_rng(0))
    with raises(RuntimeError, "multinomial", "'cpu' device type", "'cuda'"):
        deepcore.multinomial(deepcore.ones(3), 1, generator=deepcore.Generator("cuda"))
    with raises(RuntimeError, "normal_", "'cpu' device type"):
        deepcore.empty(3).normal_(generator=deepcore.Generator("cuda"))
    with raises(RuntimeError, "Generator.manual_seed", "int seed", "float"):
        g.manual_seed(1.5)
    with raises(ValueError, "Generator.manual_seed", "range"):
        g.manual_seed(2 ** 64)
    with raises(TypeError, "Generator.set_state", "str"):
        g.set_state("state")
    with raises(RuntimeError, "Generator.set_state", "2 elements", "(3,)"):
        g.set_state(deepcore.zeros(3, dtype=deepcore.int64))
    with raises(RuntimeError, "Generator.set_state", "2 ints"):
        g.set_state((1, 2, 3))
    with raises(ValueError, "device", "tpu"):
        deepcore.Generator("tpu")


# ---- generator= on the samplers, random_split and the DataLoader ---------------------------------

def test_int_seeded_samplers_and_splits_draw_what_they_drew_before():
    """An int generator= seeds a private stream at offset 0 for each pass: the numbers of the global
    stream after manual_seed(seed), as the former save-swap-restore of the global state gave."""
    from deepcore.data import RandomSampler, SubsetRandomSampler, WeightedRandomSampler, random_split
    from deepcore.distributions import Categorical
    data = list(range(50))
    deepcore.manual_seed(5)
    want = deepcore.randperm(50).tolist()
    deepcore.manual_seed(123)
    before = deepcore.get_rng_state()
    assert list(RandomSampler(data, generator=5)) == want == list(RandomSampler(data, generator=5))
    assert [s.indices for s in random_split(data, [20, 30], generator=5)] == [want[:20], want[20:]]
    deepcore.manual_seed(5)
    want_long = deepcore.cat([deepcore.randperm(50), deepcore.randperm(50)[:10]]).tolist()
    deepcore.manual_seed(5)
    want_replaced = deepcore.randint(0, 50, (30,)).tolist()
    deepcore.manual_seed(5)
    want_subset = deepcore.tensor([3, 1, 4, 15]).index_select(0, deepcore.randperm(4)).tolist()
    weights = deepcore.tensor([0.1, 2.0, 0.5, 0.0, 1.0], dtype=deepcore.float64)
    deepcore.manual_seed(5)
    want_weighted = Categorical(probs=weights).sample((40,)).tolist()
    deepcore.manual_seed(123)
    assert list(RandomSampler(data, num_samples=60, generator=5)) == want_long
    assert list(RandomSampler(data, replacement=True, num_samples=30, generator=5)) == want_replaced
    assert list(SubsetRandomSampler([3, 1, 4, 15], generator=5)) == want_subset
    assert list(WeightedRandomSampler(weights, 40, generator=5)) == want_weighted
    assert deepcore.get_rng_state() == before, "generator= must leave the global stream where it was"
    with raises(TypeError, "generator must be None, a deepcore.Generator"):
        list(RandomSampler(data, generator="5"))


def test_a_generator_object_advances_per_pass_as_in_pytorch():
    from deepcore.data import DataLoader, RandomSampler, TensorDataset, WeightedRandomSampler, random_split
    data = list(range(40))
    sampler = RandomSampler(data, generator=deepcore.Generator().manual_seed(8))
    passes = [list(sampler) for _ in range(3)]
    g = deepcore.Generator().manual_seed(8)
    assert passes == [deepcore.randperm(40, generator=g).tolist() for _ in range(3)]
    assert passes[0] != passes[1], "each pass must draw a new permutation"
    split = [s.indices for s in random_split(data, [0.5, 0.5], generator=deepcore.Generator().manual_seed(8))]
    assert split == [passes[0][:20], passes[0][20:]]
    weights = [1.0, 3.0, 0.0, 2.0]
    weighted = WeightedRandomSampler(weights, 30, generator=deepcore.Generator().manual_seed(2))
    a, b = list(weighted), list(weighted)
    assert a != b and 2 not in a + b
    assert a == list(WeightedRandomSampler(weights, 30, generator=deepcore.Generator().manual_seed(2)))
    ds = TensorDataset(deepcore.arange(40))
    deepcore.manual_seed(0)
    before = deepcore.get_rng_state()
    loader = DataLoader(ds, batch_size=40, shuffle=True, generator=deepcore.Generator().manual_seed(8))
    assert [batch[0].tolist() for _ in range(3) for batch in loader] == passes
    assert deepcore.get_rng_state() == before
