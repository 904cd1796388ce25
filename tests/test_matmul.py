"""Matmul family (matmul/mm/@, batched and broadcast, strided operands, GEMM tile sizes) against NumPy float64, gradcheck and PyTorch."""
import numpy as np
import pytest

import deepcore
from deepcore import _C
from helpers import check_op, lib, raises, raw_ones as _arr


MATMUL_TOL = {"float64": 1e-9, "float32": 1e-4}


MATMUL_SHAPES = [
    ((1,), (1,)), ((7,), (7,)), ((7,), (7, 3)), ((3, 7), (7,)), ((2, 3, 7), (7,)), ((7,), (2, 7, 3)),
    ((1, 1), (1, 1)), ((1, 5), (5, 1)), ((5, 1), (1, 5)), ((2, 3), (3, 4)), ((3, 5), (5, 2)),
    ((2, 3, 5), (5, 4)), ((3, 5), (2, 5, 4)), ((2, 1, 3, 2), (3, 2, 4)), ((1, 2, 2), (3, 2, 1)),
]


@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES, ids=str)
def test_matmul_small_with_gradcheck(sa, sb, rng):
    check_op("matmul", lambda a, b: a @ b, np.matmul, [sa, sb], rng=rng, atol=MATMUL_TOL)


@pytest.mark.parametrize("m,k,n", [
    (1, 1, 1), (1, 17, 1), (7, 7, 7), (14, 32, 32), (15, 33, 31), (17, 1, 33), (28, 64, 64), (33, 130, 17),
    (130, 7, 130), (13, 3, 97), (64, 64, 1), (1, 64, 64), (31, 131, 37),
], ids=str)
def test_matmul_gemm_sizes(m, k, n, rng):
    # Sizes around and between the GEMM kernel's tiles (14x32 and others), primes and 1s; too big for gradcheck.
    check_op(f"mm {m}x{k} @ {k}x{n}", lambda a, b: a @ b, np.matmul, [(m, k), (k, n)], rng=rng, atol=MATMUL_TOL,
             gradcheck=False)


@pytest.mark.parametrize("case", ["a.T", "b.T", "both.T", "sliced", "batched.mT", "expanded"])
def test_matmul_non_contiguous_operands(case, rng):
    m, k, n = 17, 33, 15
    if case == "a.T":
        check_op(case, lambda a, b: a.T @ b, lambda a, b: a.T @ b, [(k, m), (k, n)], rng=rng, atol=MATMUL_TOL,
                 gradcheck=False)
    elif case == "b.T":
        check_op(case, lambda a, b: a @ b.T, lambda a, b: a @ b.T, [(m, k), (n, k)], rng=rng, atol=MATMUL_TOL,
                 gradcheck=False)
    elif case == "both.T":
        check_op(case, lambda a, b: a.T.mm(b.T), lambda a, b: a.T @ b.T, [(k, m), (n, k)], rng=rng,
                 atol=MATMUL_TOL, gradcheck=False)
    elif case == "sliced":  # a strided (every other column) operand
        check_op(case, lambda a, b: a[:, ::2] @ b, lambda a, b: a[:, ::2] @ b, [(m, 2 * k), (k, n)], rng=rng,
                 atol=MATMUL_TOL, gradcheck=False)
    elif case == "batched.mT":
        check_op(case, lambda a, b: a.transpose(-1, -2) @ b.transpose(1, 2),
                 lambda a, b: np.swapaxes(a, -1, -2) @ np.swapaxes(b, 1, 2), [(3, k, m), (3, n, k)], rng=rng,
                 atol=MATMUL_TOL, gradcheck=False)
    else:  # a stride-0 (broadcast) operand
        check_op(case, lambda a, b: a.expand(4, m, k) @ b, lambda a, b: np.broadcast_to(a, (4, m, k)) @ b,
                 [(1, m, k), (4, k, n)], rng=rng, atol=MATMUL_TOL, gradcheck=False)


def test_matmul_transposed_small_gradcheck(rng):
    check_op("a.T @ b.T", lambda a, b: a.T @ b.T, lambda a, b: a.T @ b.T, [(3, 2), (4, 3)], rng=rng,
             atol=MATMUL_TOL)
    check_op("mm", lambda a, b: a.mm(b), np.matmul, [(2, 5), (5, 3)], rng=rng, atol=MATMUL_TOL)
    check_op("deepcore.matmul", lambda a, b: lib(a).matmul(a, b), np.matmul, [(2, 2, 3), (3, 4)], rng=rng,
             atol=MATMUL_TOL)


@pytest.mark.parametrize("sa,sb", [((0, 3), (3, 4)), ((3, 0), (0, 4)), ((2, 0, 3), (3, 5)), ((3, 4), (4, 0))],
                         ids=str)
def test_matmul_empty(sa, sb, rng):
    check_op("matmul empty", lambda a, b: a @ b, np.matmul, [sa, sb], rng=rng)


def test_matmul_large_batched_forward(rng):
    check_op("batched matmul", lambda a, b: a @ b, np.matmul, [(4, 1, 45, 70), (3, 70, 18)], rng=rng,
             atol=MATMUL_TOL, gradcheck=False)


# ---- errors ----------------------------------------------------------------------------------

@pytest.mark.parametrize("a,b,fragments", [
    ((2, 3), (2, 3), ["matmul", "(2, 3)", "(2, 3)", "not aligned"]),
    ((3,), (4,), ["matmul", "(3,)", "(4,)"]),
    ((2, 2, 3), (3, 3, 4), ["matmul", "(2, 2, 3)", "(3, 3, 4)"]),
    ((5, 3), (2, 4), ["matmul", "(5, 3)", "(2, 4)"]),
], ids=str)
def test_matmul_shape_mismatch(a, b, fragments):
    with raises(ValueError, *fragments):
        deepcore.ones(*a) @ deepcore.ones(*b)


def test_matmul_of_0d():
    with raises(ValueError, "matmul", "()"):
        deepcore.matmul(deepcore.tensor(1.0), deepcore.ones(2))


@pytest.mark.parametrize("a,b", [((2, 3), (2, 3)), ((2, 3, 4), (4, 2)), ((3,), (3, 2))], ids=str)
def test_mm_shape_mismatch(a, b):
    with raises(ValueError, "mm", str(a), str(b)):
        deepcore.ones(*a).mm(deepcore.ones(*b))


def test_c_matmul_bad_shapes():
    with raises(ValueError, "matmul", "(3, 4)", "not aligned"):
        _C.matmul(_arr(3, 4), _arr(3, 4))
    with raises(ValueError, "matmul", "at least 2 dimensions"):
        _C.matmul(_arr(4), _arr(4, 3))
    with raises(ValueError, "matmul", "batch"):
        _C.matmul(_arr(2, 3, 4), _arr(3, 4, 5))
    with raises(ValueError, "matmul", "int64"):
        _C.matmul(_arr(2, 2, dtype=_C.DType.int64), _arr(2, 2, dtype=_C.DType.int64))


# ---- bmm, addmm, baddbmm, addmv, mv, dot, outer, einsum ------------------------------------------

def test_bmm_addmm_baddbmm_mv_dot_outer(rng):
    check_op("bmm", lambda a, b: lib(a).bmm(a, b), np.matmul, [(2, 3, 4), (2, 4, 5)], rng=rng, atol=MATMUL_TOL)
    check_op("addmm", lambda c, a, b: lib(c).addmm(c, a, b, beta=0.5, alpha=2.0),
             lambda c, a, b: 0.5 * c + 2.0 * a @ b, [(5,), (3, 4), (4, 5)], rng=rng, atol=MATMUL_TOL)
    check_op("addmm beta=0", lambda c, a, b: lib(c).addmm(c, a, b, beta=0), lambda c, a, b: a @ b,
             [(3, 5), (3, 4), (4, 5)], rng=rng, atol=MATMUL_TOL)
    check_op("baddbmm", lambda c, a, b: c.baddbmm(a, b, alpha=-1.0), lambda c, a, b: c - a @ b,
             [(2, 3, 5), (2, 3, 4), (2, 4, 5)], rng=rng, atol=MATMUL_TOL)
    check_op("addmv", lambda c, a, b: lib(c).addmv(c, a, b), lambda c, a, b: c + a @ b, [(3,), (3, 4), (4,)],
             rng=rng, atol=MATMUL_TOL)
    check_op("mv", lambda a, b: a.mv(b), np.matmul, [(3, 4), (4,)], rng=rng, atol=MATMUL_TOL)
    check_op("dot", lambda a, b: lib(a).dot(a, b), np.dot, [(5,), (5,)], rng=rng, atol=MATMUL_TOL)
    check_op("outer", lambda a, b: lib(a).outer(a, b), np.outer, [(3,), (4,)], rng=rng)
    nan_input = deepcore.full((3, 5), float("nan"))
    assert not deepcore.addmm(nan_input, deepcore.ones(3, 4), deepcore.ones(4, 5), beta=0).isnan().any().item()


EINSUMS = [
    ("ij,jk->ik", [(3, 4), (4, 5)]), ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]), ("ij->ji", [(3, 4)]),
    ("ii->i", [(4, 4)]), ("ii", [(4, 4)]), ("ij->", [(3, 4)]), ("i,i->", [(5,), (5,)]), ("i,j->ij", [(3,), (4,)]),
    ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]), ("...ij,jk->...ik", [(2, 3, 4), (4, 5)]),
    ("ij,kj", [(3, 4), (5, 4)]), ("bn,anm,bm->ba", [(2, 3), (4, 3, 5), (2, 5)]), ("ijk->kij", [(2, 3, 4)]),
    ("ij,ij->i", [(3, 4), (3, 4)]), ("b i d, b j d -> b i j", [(2, 3, 4), (2, 5, 4)]),
]


@pytest.mark.parametrize("equation,shapes", EINSUMS, ids=[e for e, _ in EINSUMS])
def test_einsum(equation, shapes, rng):
    check_op(f"einsum({equation})", lambda *xs: lib(xs[0]).einsum(equation, *xs),
             lambda *xs: np.einsum(equation.replace(" ", ""), *xs), shapes, rng=rng, atol=MATMUL_TOL)


def test_einsum_list_form_and_errors(rng):
    a, b = deepcore.ones(2, 3), deepcore.ones(3, 4)
    assert deepcore.einsum("ij,jk->ik", [a, b]).tolist() == (np.ones((2, 4)) * 3).tolist()
    with raises(RuntimeError, "einsum", "3 operands", "2 tensors"):
        deepcore.einsum("ij,jk,kl->il", a, b)
    with raises(RuntimeError, "einsum", "does not match"):
        deepcore.einsum("ijk,jk->i", a, b)
    with raises(RuntimeError, "einsum", "output subscript z"):
        deepcore.einsum("ij,jk->iz", a, b)
    with raises(RuntimeError, "bmm", "3-D"):
        deepcore.bmm(a, b)
    with raises(RuntimeError, "addmm", "broadcast"):
        deepcore.addmm(deepcore.ones(3), a, b)
    with raises(RuntimeError, "dot", "1-D"):
        deepcore.dot(a, b)
