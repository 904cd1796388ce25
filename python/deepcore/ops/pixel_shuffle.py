"""pixel_shuffle / pixel_unshuffle: channels <-> space blocks (sub-pixel convolution), as views.

pixel_shuffle(x, r) turns (*, C * r^2, H, W) into (*, C, H * r, W * r): channel c * r^2 + i * r + j
becomes the pixel (i, j) of each r x r block of channel c. It is one reshape, one permute and one
reshape (the last one copies, as the permuted layout is not a view of the new shape); autograd
reverses each. pixel_unshuffle is its inverse.
"""
import numbers

from ._checks import check_tensor


def _factor(op, name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{op}: {name} must be an int, got {type(value).__name__}")
    if value <= 0:
        raise ValueError(f"{op} expects a positive {name}, but got {value}")
    return int(value)


def _check_rank(op, x):
    check_tensor(op, "input", x)
    if x.ndim < 3:
        raise ValueError(f"{op} expects input to have at least 3 dimensions, but got input with {x.ndim} "
                         f"dimension(s) (shape {tuple(x.shape)})")


def pixel_shuffle(input, upscale_factor):
    """(*, C * r^2, H, W) -> (*, C, H * r, W * r), r = upscale_factor."""
    op = "pixel_shuffle"
    _check_rank(op, input)
    r = _factor(op, "upscale_factor", upscale_factor)
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise ValueError(f"{op} expects its input's 'channel' dimension to be divisible by the square of "
                         f"upscale_factor, but input.size(-3)={c} is not divisible by {r * r}")
    n = len(lead)
    x = input.reshape(*lead, c // (r * r), r, r, h, w)
    x = x.permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)  # (..., C, H, r, W, r)
    return x.reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H * r, W * r) -> (*, C * r^2, H, W), r = downscale_factor: pixel_shuffle's inverse."""
    op = "pixel_unshuffle"
    _check_rank(op, input)
    r = _factor(op, "downscale_factor", downscale_factor)
    *lead, c, h, w = input.shape
    for what, size in (("height", h), ("width", w)):
        if size % r:
            raise ValueError(f"{op} expects {what} to be divisible by downscale_factor, but input.size("
                             f"{-2 if what == 'height' else -1})={size} is not divisible by {r}")
    n = len(lead)
    x = input.reshape(*lead, c, h // r, r, w // r, r)
    x = x.permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)  # (..., C, r, r, H, W)
    return x.reshape(*lead, c * r * r, h // r, w // r)
