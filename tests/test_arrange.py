"""Arrange family (repeat/tile/repeat_interleave, flip/roll, tensor_split, diagonal/diag/diag_embed/trace)
against NumPy float64, gradcheck and PyTorch."""
import numpy as np
import pytest

import deepcore
from helpers import check_op, lib, raises


@pytest.mark.parametrize("shape,reps", [((3,), (2,)), ((2, 3), (2, 1)), ((2, 3), (1, 2, 2)), ((2, 1, 3), (1, 3, 2)),
                                        ((), (3,))], ids=str)
def test_repeat_and_tile(shape, reps, rng):
    check_op(f"repeat{reps}", lambda x: x.repeat(*reps), lambda x: np.tile(x, reps), [shape], rng=rng)
    check_op(f"tile{reps[-1:]}", lambda x: lib(x).tile(x, reps[-1:]), lambda x: np.tile(x, reps[-1:]), [shape],
             rng=rng)


@pytest.mark.parametrize("dim", [None, 0, 1])
def test_repeat_interleave(dim, rng):
    check_op(f"repeat_interleave(2, dim={dim})", lambda x: x.repeat_interleave(2, dim=dim),
             lambda x: np.repeat(x, 2, axis=dim), [(2, 3)], rng=rng)
    counts = np.array([1, 0, 3]) if dim == 1 else np.array([2, 1])
    if dim is not None:
        check_op(f"repeat_interleave(tensor, dim={dim})",
                 lambda x, c: lib(x).repeat_interleave(x, c, dim=dim), lambda x, c: np.repeat(x, c, axis=dim),
                 arrays=[rng.standard_normal((2, 3)), counts])
    assert deepcore.repeat_interleave(deepcore.tensor([2, 0, 1])).tolist() == [0, 0, 2]


@pytest.mark.parametrize("dims", [(0,), (1,), (0, 2), (-1, 0, 1)], ids=str)
def test_flip(dims, rng):
    check_op(f"flip{dims}", lambda x: lib(x).flip(x, dims), lambda x: np.flip(x, dims), [(2, 3, 4)], rng=rng)
    check_op("fliplr/flipud", lambda x: (lib(x).fliplr(x), lib(x).flipud(x)), lambda x: (np.fliplr(x), np.flipud(x)),
             [(3, 4)], rng=rng)


@pytest.mark.parametrize("shifts,dims", [(1, None), (-2, None), (1, 0), ((2, -1), (1, 0)), (7, 1)], ids=str)
def test_roll(shifts, dims, rng):
    check_op(f"roll({shifts}, {dims})", lambda x: lib(x).roll(x, shifts, dims),
             lambda x: np.roll(x, shifts, dims), [(3, 4)], rng=rng)


@pytest.mark.parametrize("spec", [3, 4, [1, 3], [0, 2, 2, 10]], ids=str)
def test_tensor_split(spec, rng):
    check_op(f"tensor_split({spec})", lambda x: tuple(lib(x).tensor_split(x, spec, dim=1)),
             lambda x: tuple(np.array_split(x, spec, axis=1)), [(2, 5)], rng=rng)


@pytest.mark.parametrize("offset,d1,d2", [(0, 0, 1), (1, 0, 1), (-1, 0, 1), (0, 1, 2), (2, 2, 0), (-5, 0, 1)],
                         ids=str)
def test_diagonal(offset, d1, d2, rng):
    check_op(f"diagonal({offset}, {d1}, {d2})", lambda x: x.diagonal(offset, d1, d2),
             lambda x: np.diagonal(x, offset, d1, d2), [(3, 4, 5)], rng=rng)


def test_diag_diag_embed_trace(rng):
    for k in (0, 1, -2):
        check_op(f"diag(vector, {k})", lambda x: lib(x).diag(x, k), lambda x: np.diag(x, k), [(4,)], rng=rng)
        check_op(f"diag(matrix, {k})", lambda x: lib(x).diag(x, k), lambda x: np.diag(x, k), [(4, 5)], rng=rng)
    check_op("diag_embed", lambda x: lib(x).diag_embed(x), lambda x: np.stack([np.diag(r) for r in x]), [(2, 3)],
             rng=rng)
    check_op("trace", lambda x: lib(x).trace(x), np.trace, [(3, 4)], rng=rng)
    m = deepcore.zeros(3, 3)
    m.diagonal().fill_(1.0)  # a view: writes reach the matrix
    assert m.tolist() == np.eye(3).tolist()
    assert deepcore.diag(deepcore.tensor([[1, 2], [3, 4]])).tolist() == [1, 4]


def test_arrange_errors():
    x = deepcore.ones(2, 3)
    with raises(RuntimeError, "repeat", "smaller than number of dimensions"):
        x.repeat(2)
    with raises(RuntimeError, "flip", "duplicates"):
        x.flip(0, 0)
    with raises(RuntimeError, "roll", "align"):
        x.roll((1, 2), 0)
    with raises(RuntimeError, "tensor_split", "larger than 0"):
        x.tensor_split(0)
    with raises(RuntimeError, "diagonal", "identical"):
        x.diagonal(0, 1, 1)
    with raises(RuntimeError, "trace", "matrix"):
        deepcore.ones(2).trace()
    with raises(RuntimeError, "repeat_interleave", "same size"):
        x.repeat_interleave(deepcore.tensor([1, 2, 3]), dim=0)
    with raises(RuntimeError, "diag", "1-d or 2-d"):
        deepcore.ones(2, 2, 2).diag()
