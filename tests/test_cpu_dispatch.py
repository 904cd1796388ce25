"""The CPU kernel level is picked at run time; every level gives the same answers."""
import os
import subprocess
import sys

import numpy as np
import pytest

import deepcore

LEVELS = ["portable", "avx2", "avx512"]


def available_levels():
    best = deepcore.backends.cpu.supported
    return LEVELS[:LEVELS.index(best) + 1]


@pytest.fixture
def restore_level():
    level = deepcore.backends.cpu.capability
    yield
    deepcore.backends.cpu.set_capability(level)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("m,k,n", [(1, 1, 1), (7, 13, 5), (33, 65, 17), (130, 70, 129), (6, 600, 16),
                                   (13, 9, 47), (127, 257, 31)])
@pytest.mark.parametrize("trans_a,trans_b", [(False, False), (True, False), (False, True), (True, True)])
def test_matmul_every_layout_on_every_level(level, m, k, n, trans_a, trans_b, restore_level):
    """Each layout packs differently (row runs, or an 8/16-line transpose), with tiles cut at the edges."""
    if level not in available_levels():
        pytest.skip(f"this CPU does not support {level}")
    deepcore.backends.cpu.set_capability(level)
    assert deepcore.backends.cpu.capability == level and level in deepcore.backends.cpu.gemm_kernel
    rng = np.random.default_rng(m * 1000 + n + 7 * k)
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    da = deepcore.tensor(a.T.copy()).T if trans_a else deepcore.tensor(a)
    db = deepcore.tensor(b.T.copy()).T if trans_b else deepcore.tensor(b)
    ref = a.astype(np.float64) @ b.astype(np.float64)
    np.testing.assert_allclose((da @ db).numpy(), ref, rtol=1e-4, atol=1e-4 * np.sqrt(k))


def test_cannot_raise_level_above_the_cpu(restore_level):
    best = deepcore.backends.cpu.supported
    if best == "avx512":
        pytest.skip("this CPU supports every level")
    with pytest.raises(ValueError, match="supports at most"):
        deepcore.backends.cpu.set_capability("avx512")


def test_unknown_level_is_refused():
    with pytest.raises(ValueError, match="unknown capability"):
        deepcore.backends.cpu.set_capability("sse9")


def test_environment_variable_lowers_the_level():
    env = dict(os.environ, DEEPCORE_CPU_CAPABILITY="portable")
    code = "import deepcore; print(deepcore.backends.cpu.capability, deepcore.backends.cpu.gemm_kernel)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[0] == "portable"
    assert "portable" in out.stdout


def test_thread_count_is_settable():
    n = deepcore.get_num_threads()
    try:
        deepcore.set_num_threads(1)
        assert deepcore.get_num_threads() == 1
        with pytest.raises(ValueError):
            deepcore.set_num_threads(0)
    finally:
        deepcore.set_num_threads(n)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("m,k,n", [(1, 1, 1), (7, 3, 5), (512, 128, 10), (33, 65, 16), (1000, 17, 3), (5, 0, 4),
                                   (100, 40, 14), (9, 20, 13)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_narrow_product_with_transposed_a(level, m, k, n, dtype, restore_level):
    """C at most 16 wide with A read transposed (a classifier's weight gradient) takes a no-packing path."""
    if level not in available_levels():
        pytest.skip(f"this CPU does not support {level}")
    deepcore.backends.cpu.set_capability(level)
    rng = np.random.default_rng(m + 7 * n)
    x, g = rng.standard_normal((k, m)).astype(dtype), rng.standard_normal((k, n)).astype(dtype)
    out = (deepcore.tensor(x).T @ deepcore.tensor(g)).numpy()
    tol = 1e-4 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out, x.astype(np.float64).T @ g.astype(np.float64), rtol=tol, atol=tol * max(1, k))
    # The short product g^T @ x (torch's Linear weight gradient) runs the same path, C written transposed.
    short = (deepcore.tensor(g).T @ deepcore.tensor(x)).numpy()
    np.testing.assert_allclose(short, g.astype(np.float64).T @ x.astype(np.float64), rtol=tol, atol=tol * max(1, k))


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("m,k,n", [(1, 1, 1), (5, 3, 16), (7, 13, 9), (128, 512, 10), (131, 300, 8), (25, 1000, 15),
                                   (3, 0, 4)])
@pytest.mark.parametrize("trans_b", [False, True])
@pytest.mark.parametrize("padded_rows", [False, True])
def test_narrow_product_reading_a_in_place(level, m, k, n, trans_b, padded_rows, restore_level):
    """C at most 16 wide with A not transposed (a classifier's forward pass) reads A without packing it,
    including A as a view whose rows are longer than k and edge tiles of every height."""
    if level not in available_levels():
        pytest.skip(f"this CPU does not support {level}")
    deepcore.backends.cpu.set_capability(level)
    rng = np.random.default_rng(m + 31 * n + k)
    wide = rng.standard_normal((m, k + 5 if padded_rows else k)).astype(np.float32)
    a = wide[:, :k]
    b = rng.standard_normal((k, n)).astype(np.float32)
    da = deepcore.tensor(wide)[:, :k] if padded_rows else deepcore.tensor(a)
    db = deepcore.tensor(b.T.copy()).T if trans_b else deepcore.tensor(b)
    ref = a.astype(np.float64) @ b.astype(np.float64)
    np.testing.assert_allclose((da @ db).numpy(), ref, rtol=1e-4, atol=1e-4 * np.sqrt(max(k, 1)))


def philox4x32_reference(counters, seed):
    """Philox 4x32-10 (Salmon et al., SC'11) in NumPy: the four words of each 64-bit counter."""
    low32 = np.uint64(0xFFFFFFFF)
    c = [counters & low32, counters >> np.uint64(32), np.zeros_like(counters), np.zeros_like(counters)]
    k0, k1 = seed & 0xFFFFFFFF, seed >> 32
    for _ in range(10):
        p0, p1 = c[0] * np.uint64(0xD2511F53), c[2] * np.uint64(0xCD9E8D57)
        c = [(p1 >> np.uint64(32)) ^ c[1] ^ np.uint64(k0), p1 & low32,
             (p0 >> np.uint64(32)) ^ c[3] ^ np.uint64(k1), p0 & low32]
        k0, k1 = (k0 + 0x9E3779B9) & 0xFFFFFFFF, (k1 + 0xBB67AE85) & 0xFFFFFFFF
    return np.stack(c, axis=1).reshape(-1)


def test_philox_reference_matches_the_published_answers():
    """Known-answer vectors of Random123's kat_vectors for philox4x32_10 (counter words 0 and 1 only)."""
    words = philox4x32_reference(np.array([0], np.uint64), 0)
    assert [hex(w) for w in words] == ["0x6627e8d5", "0xe169c58d", "0xbc57ac4c", "0x9b00dbd8"]


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("n", [1, 7, 64, 257, 4 * 16 * 5 + 3, 70001])
@pytest.mark.parametrize("offset", [0, (1 << 32) - 5, (3 << 32) + 17])
def test_dropout_masks_are_philox_words_on_every_level(level, n, offset, restore_level):
    """Each level's vectorized Philox gives the scalar words in order, also where the counter's
    low word wraps inside a vector, and with a seed above 2^32 (both key words in use)."""
    if level not in available_levels():
        pytest.skip(f"this CPU does not support {level}")
    deepcore.backends.cpu.set_capability(level)
    seed = (7 << 32) + 12345
    deepcore.set_rng_state((seed, offset))
    p = 0.3
    y = deepcore.nn.functional.dropout(deepcore.ones(n), p).numpy()
    blocks = (n + 3) // 4
    words = philox4x32_reference(np.arange(offset, offset + blocks, dtype=np.uint64), seed)[:n]
    keep = words >= int(np.ldexp(p, 32))
    np.testing.assert_array_equal(y != 0, keep)
    np.testing.assert_allclose(y[keep], 1 / (1 - p), rtol=1e-6)
    assert deepcore.get_rng_state() == (seed, offset + blocks)
