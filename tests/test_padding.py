"""Padding family (F.pad's four modes, the nn padding layers) against np.pad in float64, gradcheck and PyTorch."""
import numpy as np
import pytest

import deepcore
import deepcore.nn as nn
import deepcore.nn.functional as F
from helpers import assert_close, check_op, functional_of, raises_in_order as raises

NUMPY_MODE = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def pad_ref(x, pad, mode="constant", value=0.0):
    """np.pad with PyTorch's pad tuple (last dim first); non-negative pads only."""
    widths = [(0, 0)] * x.ndim
    for k in range(len(pad) // 2):
        widths[x.ndim - 1 - k] = (pad[2 * k], pad[2 * k + 1])
    extra = dict(constant_values=value) if mode == "constant" else {}
    return np.pad(x, widths, mode=NUMPY_MODE[mode], **extra)


# (input shape, pad, mode)
CASES = [
    ((2, 3, 5), (1, 2), "constant"),
    ((2, 3, 4, 5), (1, 0, 2, 3), "constant"),
    ((2, 3, 4), (1, 1, 0, 2, 1, 0), "constant"),           # every dim padded
    ((5,), (2, 3), "constant"),                             # 1-D
    ((0, 3, 4), (1, 1), "constant"),                        # empty batch
    ((2, 3, 5), (2, 4), "reflect"),                         # up to size - 1
    ((2, 3, 4, 5), (1, 2, 3, 0), "reflect"),
    ((1, 2, 3, 4, 5), (1, 2, 2, 1, 1, 2), "reflect"),       # 3-d padding of a 5-D input
    ((3, 4), (3, 1), "reflect"),                            # unbatched 1-d
    ((2, 3, 5), (7, 3), "replicate"),                       # wider than the input
    ((2, 3, 4, 5), (2, 1, 0, 3), "replicate"),
    ((2, 3, 4, 5), (1, 1, 1, 1, 1, 1), "replicate"),        # 3-d padding of a 4-D input
    ((2, 3, 5), (5, 3), "circular"),                        # a whole period
    ((2, 3, 4, 5), (2, 1, 4, 3), "circular"),
    ((1, 2, 3, 4, 5), (1, 2, 2, 1, 3, 0), "circular"),
    ((1, 1, 1), (0, 0), "reflect"),                         # nothing to pad: still a copy
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[2]}-x{c[0]}-p{c[1]}")
def test_pad(case, rng):
    shape, pad, mode = case
    check_op(f"pad({mode})", lambda t: functional_of(t).pad(t, pad, mode), lambda a: pad_ref(a, pad, mode),
             shapes=[shape], rng=rng)


def test_pad_constant_value_crop_and_dtypes(rng, torch):
    x = rng.standard_normal((2, 3, 5, 6))
    check_op("pad(value)", lambda t: functional_of(t).pad(t, (1, 2), value=-1.5),
             lambda a: pad_ref(a, (1, 2), value=-1.5), arrays=[x], rng=rng)
    check_op("pad(crop)", lambda t: functional_of(t).pad(t, (-1, 2, 0, -3, 1, 1)),
             lambda a: pad_ref(a[:, :, :2, 1:], (0, 2, 0, 0, 1, 1)), arrays=[x], rng=rng)
    check_op("pad(crop to nothing)", lambda t: functional_of(t).pad(t, (-3, -3)), lambda a: a[..., 3:3],
             arrays=[x], rng=rng, torch_fn=False)
    i = np.arange(12).reshape(1, 3, 4)
    out = F.pad(deepcore.tensor(i), (1, 1), value=7)
    assert out.dtype is deepcore.int64 and out.numpy().tolist() == torch.nn.functional.pad(torch.tensor(i), (1, 1),
                                                                                           value=7).tolist()
    assert F.pad(deepcore.tensor(i), (2, 1), mode="reflect").numpy().tolist() == \
        torch.nn.functional.pad(torch.tensor(i), (2, 1), mode="reflect").tolist()
    t = deepcore.ones(2, 2)
    assert F.pad(t, (0, 0)) is not t  # a new tensor, as PyTorch's


@pytest.mark.parametrize("mode,pad,expected", [
    ("reflect", (-3, 3), [3, 4, 3, 2, 1]),    # reflects about the uncropped input's end
    ("reflect", (3, -3), [3, 2, 1, 0, 1]),
    ("replicate", (-3, 2), [3, 4, 4, 4]),
    ("replicate", (3, -3), [0, 0, 0, 0, 1]),
    ("circular", (-1, 2), [1, 2, 3, 4, 1, 2]),  # wraps around the cropped input
    ("circular", (2, -1), [2, 3, 0, 1, 2, 3]),
], ids=str)
def test_pad_negative_with_the_repeating_modes(mode, pad, expected, rng):
    x = np.arange(5.0).reshape(1, 1, 5)
    assert F.pad(deepcore.tensor(x), pad, mode).numpy().ravel().tolist() == expected
    check_op(f"pad({mode}, {pad})", lambda t: functional_of(t).pad(t, pad, mode),
             lambda a: a[..., np.array(expected)], shapes=[(2, 3, 5)], rng=rng)


def test_pad_gradient_collects_the_copies():
    """An entry repeated into the padding gets the gradient of every copy."""
    x = deepcore.tensor([[[1.0, 2.0, 3.0]]], requires_grad=True)
    F.pad(x, (2, 2), mode="replicate").sum().backward()
    assert x.grad.numpy().ravel().tolist() == [3.0, 1.0, 3.0]
    x.grad = None
    F.pad(x, (2, 2), mode="reflect").sum().backward()
    assert x.grad.numpy().ravel().tolist() == [2.0, 3.0, 2.0]  # x2 x1 | x0 x1 x2 | x1 x0
    x.grad = None
    F.pad(x, (3, 3), mode="circular").sum().backward()
    assert x.grad.numpy().ravel().tolist() == [3.0, 3.0, 3.0]


def test_pad_errors():
    x = deepcore.ones(1, 2, 5)
    with raises(ValueError, "pad", "divisible by 2"):
        F.pad(x, (1,))
    with raises(ValueError, "pad", "less than or equal to two times the input dimension", "length 8", "dimension 3"):
        F.pad(x, (1,) * 8)
    with raises(ValueError, "pad", "negative size"):
        F.pad(x, (-3, -3))
    with raises(TypeError, "pad", "tuple of ints", "float", "pos 0"):
        F.pad(x, (1.0, 1))
    with raises(TypeError, "pad", "tuple of ints"):
        F.pad(x, 1)
    with raises(NotImplementedError, "pad", "unrecognised padding mode 'foo'"):
        F.pad(x, (1, 1), mode="foo")
    with raises(ValueError, "pad", "mode 'reflect' doesn't take in value argument"):
        F.pad(x, (1, 1), mode="reflect", value=1.0)
    with raises(NotImplementedError, "pad", "padding size 2 is not supported for 1D input"):
        F.pad(deepcore.ones(5), (1, 1), mode="reflect")
    with raises(NotImplementedError, "pad", "padding size 4 is not supported for 2D input"):
        F.pad(deepcore.ones(2, 5), (1, 1, 1, 1), mode="replicate")
    with raises(NotImplementedError, "pad", "padding size 2 is not supported for 4D input"):
        F.pad(deepcore.ones(1, 1, 2, 5), (1, 1), mode="circular")
    with raises(ValueError, "pad", "less than the corresponding input dimension", "'reflect'", "(5, 1)", "[1, 2, 5]"):
        F.pad(x, (5, 1), mode="reflect")
    with raises(ValueError, "pad", "(6, 2)", "wrapping around more than once"):
        F.pad(x, (6, 2), mode="circular")
    with raises(ValueError, "pad", "'replicate'", "dimension 2", "empty"):
        F.pad(deepcore.ones(1, 2, 0), (1, 1), mode="replicate")
    with raises(TypeError, "pad", "input", "Tensor"):
        F.pad(np.ones((2, 2)), (1, 1))


LAYERS = [
    ("ZeroPad1d", (2,), (2, 3, 5)), ("ZeroPad2d", (1,), (2, 3, 4, 5)), ("ZeroPad2d", ((1, 2, 0, 3),), (3, 4, 5)),
    ("ZeroPad3d", (1,), (1, 2, 3, 4, 2)), ("ConstantPad1d", (2, 3.5), (2, 3, 5)),
    ("ConstantPad2d", ((1, 2), -1.0), (2, 3, 4, 5)), ("ConstantPad3d", (1, 0.5), (2, 3, 2, 2)),
    ("ReflectionPad1d", (2,), (2, 3, 5)), ("ReflectionPad2d", ((1, 2, 3, 0),), (2, 3, 4, 5)),
    ("ReflectionPad3d", (1,), (1, 2, 3, 3, 3)), ("ReplicationPad1d", (3,), (3, 4)),
    ("ReplicationPad2d", (2,), (2, 3, 4, 5)), ("ReplicationPad3d", ((1, 0, 2, 1, 0, 1),), (2, 3, 2, 2)),
    ("CircularPad1d", (2,), (2, 3, 5)), ("CircularPad2d", ((1, 1, 2, 0),), (2, 3, 4, 5)),
    ("CircularPad3d", (1,), (1, 2, 3, 3, 3)),
]


@pytest.mark.parametrize("name,args,shape", LAYERS, ids=lambda v: v if isinstance(v, str) else "")
def test_padding_layers_match_torch(name, args, shape, torch, rng):
    dm, tm = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(dm) == repr(tm) and dm.padding == tm.padding
    x = rng.standard_normal(shape).astype(np.float32)
    dx, tx = deepcore.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    dy, ty = dm(dx), tm(tx)
    assert_close(dy.detach().numpy(), ty.detach().numpy(), 0, 0, name)
    g = rng.standard_normal(tuple(ty.shape)).astype(np.float32)
    dy.backward(deepcore.tensor(g))
    ty.backward(torch.tensor(g))
    assert_close(dx.grad.numpy(), tx.grad.numpy(), 1e-6, 1e-6, f"{name} gradient")


def test_padding_layer_errors():
    with raises(ValueError, "expected 3D or 4D input (got 2D input)"):
        nn.CircularPad2d(1)(deepcore.ones(5, 5))
    with raises(NotImplementedError, "padding size 4 is not supported for 2D input"):
        nn.ReflectionPad2d(1)(deepcore.ones(5, 5))
    with raises(ValueError, "less than or equal to two times the input dimension"):
        nn.ZeroPad2d(1)(deepcore.ones(5))
