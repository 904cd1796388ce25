"""Pixel-shuffle family (F.pixel_shuffle / pixel_unshuffle, nn.PixelShuffle / PixelUnshuffle) against a float64 loop, gradcheck and PyTorch."""
import numpy as np
import pytest

import deepcore
import deepcore.nn as nn
import deepcore.nn.functional as F
from helpers import assert_close, check_op, functional_of, raises_in_order as raises


def shuffle_ref(x, r):
    """out[..., c, h * r + i, w * r + j] = x[..., c * r * r + i * r + j, h, w], element by element."""
    *lead, cr, h, w = x.shape
    c = cr // (r * r)
    out = np.zeros((*lead, c, h * r, w * r))
    for ch in range(c):
        for i in range(r):
            for j in range(r):
                out[..., ch, i::r, j::r] = x[..., ch * r * r + i * r + j, :, :]
    return out


def unshuffle_ref(x, r):
    *lead, c, hr, wr = x.shape
    out = np.zeros((*lead, c * r * r, hr // r, wr // r))
    for ch in range(c):
        for i in range(r):
            for j in range(r):
                out[..., ch * r * r + i * r + j, :, :] = x[..., ch, i::r, j::r]
    return out


CASES = [((2, 8, 3, 2), 2), ((1, 9, 2, 3), 3), ((4, 3, 5), 1), ((2, 3, 4, 2, 3), 2), ((1, 18, 1, 1), 3)]


@pytest.mark.parametrize("shape,r", CASES, ids=str)
def test_pixel_shuffle(shape, r, rng):
    check_op("pixel_shuffle", lambda t: functional_of(t).pixel_shuffle(t, r), lambda a: shuffle_ref(a, r),
             shapes=[shape], rng=rng)


@pytest.mark.parametrize("shape,r", [((2, 2, 6, 4), 2), ((1, 1, 3, 6), 3), ((3, 4, 5), 1), ((2, 3, 2, 4, 6), 2)],
                         ids=str)
def test_pixel_unshuffle(shape, r, rng):
    check_op("pixel_unshuffle", lambda t: functional_of(t).pixel_unshuffle(t, r), lambda a: unshuffle_ref(a, r),
             shapes=[shape], rng=rng)
    x = deepcore.tensor(rng.standard_normal(shape))
    assert_close(F.pixel_shuffle(F.pixel_unshuffle(x, r), r).numpy(), x.numpy(), 0, 0, "shuffle(unshuffle(x))")


def test_pixel_shuffle_errors_and_modules(torch):
    with raises(ValueError, "pixel_shuffle", "divisible by the square of upscale_factor", "input.size(-3)=5", "4"):
        F.pixel_shuffle(deepcore.ones(1, 5, 2, 2), 2)
    with raises(ValueError, "pixel_shuffle", "at least 3 dimensions", "2 dimension(s)"):
        F.pixel_shuffle(deepcore.ones(4, 2), 2)
    with raises(ValueError, "pixel_shuffle expects a positive upscale_factor, but got 0"):
        F.pixel_shuffle(deepcore.ones(1, 4, 2, 2), 0)
    with raises(TypeError, "pixel_shuffle", "upscale_factor", "int", "float"):
        F.pixel_shuffle(deepcore.ones(1, 4, 2, 2), 2.0)
    with raises(ValueError, "pixel_unshuffle expects height to be divisible by downscale_factor",
                "input.size(-2)=5"):
        F.pixel_unshuffle(deepcore.ones(1, 1, 5, 4), 2)
    with raises(ValueError, "pixel_unshuffle expects width", "input.size(-1)=5"):
        F.pixel_unshuffle(deepcore.ones(1, 1, 4, 5), 2)
    with raises(ValueError, "pixel_unshuffle expects a positive downscale_factor"):
        F.pixel_unshuffle(deepcore.ones(1, 1, 4, 4), -1)
    assert repr(nn.PixelShuffle(2)) == repr(torch.nn.PixelShuffle(2))
    assert repr(nn.PixelUnshuffle(3)) == repr(torch.nn.PixelUnshuffle(3))
    x = np.arange(2 * 8 * 2 * 3, dtype=np.float32).reshape(2, 8, 2, 3)
    assert nn.PixelShuffle(2)(deepcore.tensor(x)).numpy().tolist() == torch.nn.PixelShuffle(2)(torch.tensor(x)).tolist()
    i = deepcore.tensor(np.arange(16).reshape(1, 4, 2, 2))
    assert F.pixel_shuffle(i, 2).dtype is deepcore.int64  # any dtype: it only moves entries
    assert tuple(F.pixel_shuffle(deepcore.ones(0, 4, 2, 2), 2).shape) == (0, 1, 4, 4)  # (torch's backward fails here)
