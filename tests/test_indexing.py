"""Advanced indexing (ops/indexing.py): tensors, lists, ranges and masks as indices, against NumPy's
rules (float64), finite differences and PyTorch."""
import numpy as np
import pytest

import deepcore
from helpers import check_op, torch as _torch

INDICES = [
    ("list", ([0, 2, 2],)),
    ("negative", ([-1, 0],)),
    ("slice then list", (slice(None), [1, 3])),
    ("separated lists", ([0, 1], slice(None), [2, 1])),
    ("int and list", (1, [0, 2])),
    ("ellipsis", (Ellipsis, [0, -1])),
    ("2-d index", (np.array([[0, 1], [2, 3]]),)),
    ("adjacent after a slice", (slice(1, 3), [0, 1], [2, 0])),
    ("None between", ([0, 1], None, [1, 2])),
    ("broadcast", (np.array([[0], [3]]), slice(None), np.array([1, 2]))),
    ("range", (range(3), range(3))),
    ("empty", ([],)),
]


def _for(lib_tensor, idx):
    return tuple(lib_tensor(np.asarray(i)) if isinstance(i, (list, np.ndarray)) and len(i) else i for i in idx)


@pytest.mark.parametrize("name,idx", INDICES, ids=[n for n, _ in INDICES])
def test_getitem_matches_numpy_and_torch(name, idx, rng):
    def dc(a):
        return a[_for(deepcore.tensor, idx)]

    def ref(a):
        return a[tuple(np.asarray(i, dtype=np.int64) if isinstance(i, list) else i for i in idx)]

    torch_fn = (lambda a: a[_for(_torch.tensor, idx)]) if _torch is not None and name != "empty" else False
    check_op(f"getitem {name}", dc, ref, arrays=[rng.normal(size=(4, 5, 3))], rng=rng, torch_fn=torch_fn)


def test_mask_indexing_and_its_gradient(rng):
    a = rng.normal(size=(3, 4))
    mask = a > 0
    check_op("mask", lambda x: x[deepcore.tensor(mask)], lambda x: x[mask], arrays=[a], rng=rng, torch_fn=False)
    check_op("row mask", lambda x: x[deepcore.tensor(mask[:, 0])], lambda x: x[mask[:, 0]], arrays=[a], rng=rng,
             torch_fn=False)


def test_setitem_with_advanced_indices(rng):
    x = deepcore.zeros(3, 5)
    x[range(3), deepcore.tensor([1, 2, 0])] = 7.0
    expected = np.zeros((3, 5))
    expected[range(3), [1, 2, 0]] = 7.0
    np.testing.assert_array_equal(x.numpy(), expected)
    y = deepcore.arange(6.0).reshape(2, 3)
    y[y > 2] = float("inf")  # written exactly, not computed
    assert y.tolist() == [[0.0, 1.0, 2.0], [float("inf")] * 3]
    z = deepcore.zeros(4)
    z[[0, 0, 2]] = deepcore.tensor([1.0, 2.0, 3.0])  # duplicates: the last value wins
    assert z.tolist() == [2.0, 0.0, 3.0, 0.0]
    t = deepcore.zeros(2, 3, 4).transpose(0, 2)  # a non-contiguous target is written through
    t[[1, 3], :, 0] = deepcore.ones(2, 3)
    assert t.sum().item() == 6.0 and t[1, 2, 0].item() == 1.0
    b = deepcore.zeros(3, dtype=deepcore.bool)
    b[[2]] = True
    assert b.tolist() == [False, False, True]


def test_advanced_index_errors():
    x = deepcore.zeros(3, 4)
    with pytest.raises(IndexError, match="index 3 is out of bounds for dimension 0 with size 3"):
        x[[0, 3]]
    with pytest.raises(IndexError, match="index -5 is out of bounds for dimension 1 with size 4"):
        x[:, [-5]]
    with pytest.raises(IndexError, match="must be long, int or bool"):
        x[deepcore.tensor([0.0, 1.0])]
    with pytest.raises(IndexError, match="could not be broadcast together"):
        x[[0, 1], [0, 1, 2]]
    with pytest.raises(IndexError, match="the shape of the mask"):
        x[deepcore.ones(2, 2) > 0]
    with pytest.raises(IndexError, match="too many indices"):
        x[[0], [0], [0]]
    with pytest.raises(ValueError, match="cannot be broadcast to indexing result"):
        x[[0, 1]] = deepcore.ones(3)
    w = deepcore.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="requires grad"):
        w[[0]] = 1.0
