"""The findings of the property suite that were fixed, one reproducer each (each failed before its fix).
The property tests reach these cases too; these pin them whatever examples hypothesis draws."""
import numpy as np
import pytest

import deepcore
from prop_strategies import expect_error, expect_value, torch


def test_amax_over_an_empty_dim_is_refused_even_when_the_result_is_empty():
    # was: zeros(0, 0).amax(0) returned an empty tensor (torch: "Expected reduction dim 0 to have non-zero size")
    for op in ("amax", "amin", "argmax", "argmin"):
        expect_error(lambda: getattr(deepcore.zeros(0, 0), op)(0), op, f"{op}(0) of shape (0, 0)",
                     torch_call=lambda: getattr(torch.zeros(0, 0), op)(0), also=("empty",))
    expect_error(lambda: deepcore.zeros(0, 0).max(0), "max", "max(0) of shape (0, 0)")
    expect_error(lambda: deepcore.zeros(0).amax(), "amax", "amax() of shape (0,)")


def test_max_and_min_of_bool_tensors():
    # was: TypeError "amax: not supported for bool tensors" (torch computes them)
    x = deepcore.tensor([[True, False], [False, False]])
    assert x.amax().dtype is deepcore.bool and x.amax().item() is True
    assert x.amin(1).tolist() == [False, False]
    values, indices = x.max(1)
    assert values.tolist() == [True, False] and indices.tolist() == [0, 0]
    assert x.min().item() is False


def test_roll_of_a_zero_dim_tensor():
    # was: a bare IndexError "tuple index out of range"
    assert deepcore.tensor(2.0).roll(3).item() == 2.0
    expect_error(lambda: deepcore.tensor(2.0).roll(1, 0), "roll", "roll(1, 0) of a 0-d tensor")


def test_transpose_of_a_zero_dim_tensor():
    # was: IndexError "list index out of range" (torch: dims 0 and -1 name the 0-d tensor itself)
    assert deepcore.tensor(2.0).transpose(0, -1).item() == 2.0


@pytest.mark.parametrize("name", ["unsqueeze", "squeeze", "flatten", "reshape"])
def test_reshapes_of_a_strided_slice_are_views(name):
    # was: a contiguous copy, so base[::4].unsqueeze(1).add_(1) left base unchanged
    base = deepcore.zeros(9, 1)
    v = base[::4]
    v = {"unsqueeze": lambda: v.unsqueeze(0), "squeeze": lambda: v.squeeze(1), "flatten": lambda: v.flatten(),
         "reshape": lambda: v.reshape(1, 3)}[name]()
    v.add_(1.0)
    expected = np.zeros((9, 1))
    expected[::4] = 1
    expect_value(base, expected, "float32", f"base[::4].{name}(...).add_(1)")


def test_chunk_of_an_empty_dim():
    # was: one piece; torch gives `chunks` empty pieces
    pieces = deepcore.zeros(0, 3).chunk(4, 0)
    assert len(pieces) == 4 and all(tuple(p.shape) == (0, 3) for p in pieces)


def test_take_with_negative_and_out_of_range_indices():
    # was: "gather: index -1 is out of bounds" (torch.take counts negative indices from the end)
    assert deepcore.arange(5.0).take(deepcore.tensor([-1, -5, 2])).tolist() == [4.0, 0.0, 2.0]
    expect_error(lambda: deepcore.arange(5.0).take(deepcore.tensor([5])), "take", "take(5) of 5 elements",
                 also=("5",))


def test_linear_with_zero_in_features():
    # was: "reshape: shape (-1, 0) is invalid for input of size 0" for Linear(0, n) on unbatched or 3-d input
    layer = deepcore.nn.Linear(0, 2)
    for shape in ((0,), (2, 3, 0)):
        out = layer(deepcore.zeros(*shape))
        assert tuple(out.shape) == shape[:-1] + (2,)
        expect_value(out, np.broadcast_to(layer.bias.detach().numpy(), shape[:-1] + (2,)), "float32",
                     f"Linear(0, 2) on {shape}")


def test_a_per_dim_tuple_of_the_default_is_the_default():
    # was: MaxPool1d(2, dilation=(1,)) -> NotImplementedError "dilation=(1,) is not supported (only dilation=1)"
    assert tuple(deepcore.nn.MaxPool1d(2, dilation=(1,))(deepcore.zeros(1, 1, 4)).shape) == (1, 1, 2)
    assert tuple(deepcore.nn.MaxPool2d(2, dilation=(1, 1))(deepcore.zeros(1, 1, 4, 4)).shape) == (1, 1, 2, 2)
    with pytest.raises(NotImplementedError, match="dilation"):
        deepcore.nn.MaxPool2d(2, dilation=(1, 2))
