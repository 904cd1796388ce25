"""The CUDA matmul (csrc/cuda/matmul.cu, a tiled shared-memory GEMM) against NumPy float64 and
its CPU twin (csrc/cpu/matmul.cpp).

On the host launch emulator on every CI run, and on a real GPU when one is visible
(tests/cuda_twin.py): sizes at and around the 64 x 64 x 16 tile edges, odd and empty sizes, K = 0,
every operand layout (row-major, transposed, strided in both dimensions), broadcast batches;
and the same errors as the CPU.
"""
import numpy as np
import pytest
from cuda_twin import ENGINES, C, cpu, load_engine, strided_view, to_dev, to_np

RNG = np.random.default_rng(1417)


@pytest.fixture(params=ENGINES)
def engine(request):
    return load_engine(request.param)


def _check(got, a, b, dtype):
    """got == a @ b within the rounding a K-term float sum may have (float64 reference)."""
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    want = np.matmul(a64, b64)
    assert got.shape == want.shape and got.dtype == dtype, (got.shape, got.dtype, want.shape)
    k = a.shape[-1]
    eps = np.finfo(dtype).eps
    bound = 2 * (k + 2) * eps * np.matmul(np.abs(a64), np.abs(b64)) + np.finfo(dtype).tiny
    assert np.all(np.abs(got - want) <= bound), np.max(np.abs(got - want) - bound)


# (M, K, N) at and around the tile edges (64 rows/cols, 16 along K), odd, 1 and 0.
SIZES = [(1, 1, 1), (3, 5, 7), (64, 16, 64), (65, 17, 63), (63, 33, 129), (130, 2, 1), (1, 200, 3), (5, 0, 4),
         (0, 3, 4), (4, 3, 0)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mkn", SIZES, ids=str)
def test_matmul_sizes_at_the_tile_edges(engine, mkn, dtype):
    m, k, n = mkn
    a = RNG.standard_normal((m, k)).astype(dtype)
    b = RNG.standard_normal((k, n)).astype(dtype)
    got = to_np(engine, engine.matmul(to_dev(engine, a), to_dev(engine, b)))
    _check(got, a, b, dtype)
    np.testing.assert_allclose(got, C.to_numpy(C.matmul(cpu(a), cpu(b))), rtol=1e-4 if dtype == np.float32 else 1e-10,
                               atol=1e-4 if dtype == np.float32 else 1e-10)


@pytest.mark.parametrize("layout", ["nn", "tn", "nt", "tt", "strided"])
def test_every_operand_layout(engine, layout):
    # Transposed views are read through their strides; "strided" has no unit stride at all.
    m, k, n = 37, 70, 45
    a = RNG.standard_normal((m, k)).astype(np.float32)
    b = RNG.standard_normal((k, n)).astype(np.float32)
    if layout == "strided":
        big_a = RNG.standard_normal((2 * m, 3 * k)).astype(np.float32)
        big_b = RNG.standard_normal((3 * k, 2 * n)).astype(np.float32)
        a, b = big_a[::2, ::3], big_b[::3, ::2]
        da, db = to_dev(engine, big_a), to_dev(engine, big_b)
        da = C.view(da, [m, k], [2 * da.strides[0], 3 * da.strides[1]], 0)
        db = C.view(db, [k, n], [3 * db.strides[0], 2 * db.strides[1]], 0)
    else:
        da = strided_view(to_dev(engine, np.ascontiguousarray(a.T)), (1, 0)) if layout[0] == "t" else to_dev(engine, a)
        db = strided_view(to_dev(engine, np.ascontiguousarray(b.T)), (1, 0)) if layout[1] == "t" else to_dev(engine, b)
    _check(to_np(engine, engine.matmul(da, db)), a, b, np.float32)


@pytest.mark.parametrize("shapes", [((3, 4, 5), (3, 5, 2)), ((2, 1, 6, 7), (4, 7, 3)), ((1, 5, 4), (4, 6)),
                                    ((4, 6), (2, 3, 6, 5)), ((0, 3, 4), (4, 2)), ((2, 65, 17), (2, 17, 66))],
                         ids=str)
def test_broadcast_batches(engine, shapes):
    a = RNG.standard_normal(shapes[0])
    b = RNG.standard_normal(shapes[1])
    _check(to_np(engine, engine.matmul(to_dev(engine, a), to_dev(engine, b))), a, b, np.float64)


def test_errors_are_the_cpus(engine):
    a = to_dev(engine, np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="are not aligned"):
        engine.matmul(a, a)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        engine.matmul(to_dev(engine, np.zeros(3, np.float32)), a)
    with pytest.raises(ValueError, match="two float32 or two float64"):
        engine.matmul(a, to_dev(engine, np.zeros((3, 2), np.float64)))
    with pytest.raises(ValueError, match="cannot be broadcast"):
        engine.matmul(to_dev(engine, np.zeros((2, 2, 3))), to_dev(engine, np.zeros((3, 3, 2))))
    with pytest.raises(ValueError):  # a CPU array given to the CUDA kernel
        engine.matmul(a, cpu(np.zeros((3, 2), np.float32)))
