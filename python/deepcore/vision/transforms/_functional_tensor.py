"""The image ops on tensors (..., C, H, W), as torchvision computes them.

The pixels only go through deepcore ops (index_select, matmul, cat, the
element-wise ops). NumPy builds the small tables those ops read, from the
sizes and the geometry alone: the source index of every output row or
column, a resampling matrix, the source coordinates of a rotation.

deepcore has no uint8: an int64 image tensor stands for torchvision's uint8
one (values 0-255). Results of ops that interpolate are rounded and clamped
back to that range, as torchvision does for uint8.
"""
import math

import numpy as np

from ...dtypes import float32, int64
from ...ops.shape import cat
from ...tensor import Tensor, full, tensor, zeros

BYTE_MAX = 255.0  # what an integer image tensor's values mean: bytes


def check_image(op, img):
    if not isinstance(img, Tensor):
        raise TypeError(f"{op}: img should be PIL Image or Tensor. Got {type(img)}")
    if img.ndim < 2:
        raise TypeError(f"{op}: tensor is not a torch image: expected (..., C, H, W) or (H, W), got shape "
                        f"{tuple(img.shape)}")


def dimensions(img):
    """[channels, height, width] of an image tensor ((H, W) counts as one channel)."""
    return [1 if img.ndim == 2 else img.shape[-3], img.shape[-2], img.shape[-1]]


def _index(values, device):
    return tensor(np.asarray(values, dtype=np.int64), dtype=int64, device=device)


def _to_float(img):
    return img if img.is_floating_point() else img.to(float32)


def _back_to_bytes(result, like):
    """An interpolated result in `like`'s dtype: integer images are rounded and clamped to bytes."""
    if like.is_floating_point():
        return result
    return (result.clamp(0.0, BYTE_MAX) + 0.5).to(int64)  # non-negative, so truncation rounds


# ---- flips, crops, padding ----------------------------------------------------------------------

def hflip(img):
    return img.index_select(img.ndim - 1, _index(np.arange(img.shape[-1])[::-1], img.device))


def vflip(img):
    return img.index_select(img.ndim - 2, _index(np.arange(img.shape[-2])[::-1], img.device))


def crop(img, top, left, height, width):
    """img[..., top:top+height, left:left+width]; the part outside the image is zeros."""
    h, w = img.shape[-2], img.shape[-1]
    bottom, right = top + height, left + width
    inside = img[..., max(top, 0):max(min(bottom, h), 0), max(left, 0):max(min(right, w), 0)]
    if top >= 0 and left >= 0 and bottom <= h and right <= w:
        return inside
    ltrb = [max(-left, 0), max(-top, 0), max(right - max(w, left), 0), max(bottom - max(h, top), 0)]
    if inside.shape[-1] == 0 or inside.shape[-2] == 0:  # entirely outside: all zeros
        return zeros(*img.shape[:-2], height, width, dtype=img.dtype, device=img.device)
    return pad(inside, ltrb, 0, "constant")


def _source_indices(size, before, after, mode):
    """For one axis of length `size` padded by `before`/`after` (negative: cropped), the
    source index of every output position under padding `mode` (edge, reflect, symmetric)."""
    positions = np.arange(-before, size + after)
    if mode == "edge":
        return np.clip(positions, 0, size - 1)
    if mode == "reflect":  # mirror about the edge pixels, which are not repeated
        period = 2 * (size - 1)
        if period == 0:
            return np.zeros_like(positions)
        folded = np.mod(positions, period)
        return np.where(folded < size, folded, period - folded)
    period = 2 * size  # symmetric: the edge pixels are repeated
    folded = np.mod(positions, period)
    return np.where(folded < size, folded, period - 1 - folded)


def pad(img, ltrb, fill, padding_mode):
    """Pad the last two dims by [left, top, right, bottom] (negative values crop)."""
    left, top, right, bottom = ltrb
    h, w = img.shape[-2], img.shape[-1]
    if padding_mode == "reflect":
        for name, (before, after, size) in (("width", (left, right, w)), ("height", (top, bottom, h))):
            if before >= size or after >= size:
                raise RuntimeError(f"pad: padding size should be less than the corresponding input dimension in "
                                   f"reflect mode, but got padding ({before}, {after}) for {name} {size}")
    if padding_mode != "constant":
        rows = _source_indices(h, top, bottom, padding_mode)
        cols = _source_indices(w, left, right, padding_mode)
        out = img.index_select(img.ndim - 2, _index(rows, img.device))
        return out.index_select(img.ndim - 1, _index(cols, img.device))
    img = img[..., max(-top, 0):h - max(-bottom, 0), max(-left, 0):w - max(-right, 0)]
    top, left, bottom, right = max(top, 0), max(left, 0), max(bottom, 0), max(right, 0)
    if not (top or left or bottom or right):
        return img
    out_h, out_w = img.shape[-2] + top + bottom, img.shape[-1] + left + right
    value = fill if img.is_floating_point() else int(fill)
    out = full(tuple(img.shape[:-2]) + (out_h, out_w), value, dtype=img.dtype, device=img.device)
    out[..., top:top + img.shape[-2], left:left + img.shape[-1]] = img
    return out


# ---- resizing -----------------------------------------------------------------------------------------

def _cubic(x, a):
    """The cubic convolution kernel with parameter a (PIL and antialiased torch: -0.5; torch: -0.75)."""
    x = np.abs(x)
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    far = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return np.where(x <= 1, near, np.where(x < 2, far, 0.0))


def _resample_matrix(in_size, out_size, mode, antialias):
    """The (out_size, in_size) matrix M with out = M @ in along one axis, for bilinear or
    bicubic resampling with half-pixel centres (align_corners=False).

    antialias=True is PIL's filter, which torchvision applies: when shrinking, the
    kernel is stretched by the scale, so every input pixel contributes. Without it,
    it is torch's interpolate: a fixed 2- or 4-tap kernel, indices clamped at the edges."""
    scale = in_size / out_size
    centres = (np.arange(out_size) + 0.5) * scale  # output pixel centres on the input axis
    matrix = np.zeros((out_size, in_size))
    rows = np.arange(out_size)
    if antialias:
        stretch = max(scale, 1.0)
        support = (1.0 if mode == "bilinear" else 2.0) * stretch
        for i, centre in enumerate(centres):
            lo = max(int(centre - support + 0.5), 0)  # int() truncates toward zero, as PIL's C cast
            hi = min(int(centre + support + 0.5), in_size)
            taps = np.arange(lo, hi)
            x = (taps - centre + 0.5) / stretch
            weights = np.maximum(1.0 - np.abs(x), 0.0) if mode == "bilinear" else _cubic(x, -0.5)
            total = weights.sum()
            matrix[i, taps] = weights / total if total != 0 else weights
        return matrix
    source = centres - 0.5
    if mode == "bilinear":
        source = np.maximum(source, 0.0)
        low = np.floor(source).astype(np.int64)
        frac = source - low
        np.add.at(matrix, (rows, np.minimum(low, in_size - 1)), 1.0 - frac)
        np.add.at(matrix, (rows, np.minimum(low + 1, in_size - 1)), frac)
        return matrix
    low = np.floor(source).astype(np.int64)
    frac = source - low
    for k in range(-1, 3):
        np.add.at(matrix, (rows, np.clip(low + k, 0, in_size - 1)), _cubic(frac - k, -0.75))
    return matrix


def _nearest_indices(in_size, out_size, mode):
    """torch's nearest source index: floor(i * scale) ('nearest') or floor((i + 0.5) * scale)
    ('nearest-exact'), computed in float32 as torch does, so ties fall the same way."""
    scale = np.float32(in_size) / np.float32(out_size)
    offset = np.float32(0.0 if mode == "nearest" else 0.5)
    positions = np.arange(out_size, dtype=np.float32) + offset
    return np.minimum(np.floor(positions * scale).astype(np.int64), in_size - 1)


def resize(img, size, mode, antialias):
    """img resized to size = [height, width]; mode nearest, nearest-exact, bilinear or bicubic."""
    h, w = img.shape[-2], img.shape[-1]
    out_h, out_w = size
    if mode in ("nearest", "nearest-exact"):
        rows, cols = _nearest_indices(h, out_h, mode), _nearest_indices(w, out_w, mode)
        out = img.index_select(img.ndim - 2, _index(rows, img.device))
        return out.index_select(img.ndim - 1, _index(cols, img.device))
    x = _to_float(img)
    if out_h != h:
        x = tensor(_resample_matrix(h, out_h, mode, antialias), dtype=x.dtype, device=x.device).matmul(x)
    if out_w != w:
        x = x.matmul(tensor(_resample_matrix(w, out_w, mode, antialias).T, dtype=x.dtype, device=x.device))
    return _back_to_bytes(x, img)


# ---- rotations and affine maps ------------------------------------------------------------------

def affine_output_size(matrix, w, h):
    """(width, height) that holds the whole w x h image mapped by the inverse affine
    `matrix` (rotate's expand=True), as torchvision computes it (PIL's rule)."""
    a, b, c, d, e, f = matrix
    corners = np.array([[-0.5 * w, -0.5 * h], [-0.5 * w, 0.5 * h], [0.5 * w, 0.5 * h], [0.5 * w, -0.5 * h]])
    xs = a * corners[:, 0] + b * corners[:, 1] + c
    ys = d * corners[:, 0] + e * corners[:, 1] + f
    tol = 1e-4  # so that 1e-15 above an integer does not round up to a whole pixel
    size = []
    for values, extent in ((xs, w), (ys, h)):
        hi = math.ceil(math.trunc((values.max() + 0.5 * extent) / tol) * tol)
        lo = math.floor(math.trunc((values.min() + 0.5 * extent) / tol) * tol)
        size.append(int(hi - lo))
    return size[0], size[1]


def _flat_gather(flat, rows, cols, h, w):
    """flat (..., C, h*w + 1) sampled at integer (rows, cols); positions outside the image
    read the extra last column (zeros). Returns the samples and the inside mask."""
    inside = (rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)
    index = np.where(inside, rows * w + cols, h * w)
    return flat.index_select(flat.ndim - 1, _index(index.ravel(), flat.device)), inside.ravel()


def apply_affine(img, matrix, out_w, out_h, mode, fill):
    """Sample img at the inverse affine map `matrix` (centred pixel coordinates) onto an
    out_h x out_w grid, as torchvision's grid_sample path does (align_corners=False,
    zeros outside). With a fill, outside is blended in through a sampled mask of ones
    (nearest: replaced where the mask is 0; bilinear: x * mask + (1 - mask) * fill)."""
    h, w = img.shape[-2], img.shape[-1]
    a, b, c, d, e, f = matrix
    xb = np.arange(out_w) + 0.5 - 0.5 * out_w
    yb = (np.arange(out_h) + 0.5 - 0.5 * out_h)[:, None]
    src_x = a * xb + b * yb + c + 0.5 * (w - 1)  # source pixel coordinates (pixel i at i)
    src_y = d * xb + e * yb + f + 0.5 * (h - 1)
    x = _to_float(img)
    lead = tuple(x.shape[:-2])
    flat = x.reshape(lead + (h * w,))
    flat = cat([flat, zeros(*lead, 1, dtype=x.dtype, device=x.device)], dim=flat.ndim - 1)
    if mode == "nearest":
        out, inside = _flat_gather(flat, np.rint(src_y).astype(np.int64), np.rint(src_x).astype(np.int64), h, w)
        mask = inside.astype(np.float64)
    else:
        x0, y0 = np.floor(src_x), np.floor(src_y)
        fx, fy = src_x - x0, src_y - y0
        x0, y0 = x0.astype(np.int64), y0.astype(np.int64)
        out, mask = None, np.zeros(out_h * out_w)
        for dy, dx, weight in ((0, 0, (1 - fy) * (1 - fx)), (0, 1, (1 - fy) * fx), (1, 0, fy * (1 - fx)),
                               (1, 1, fy * fx)):
            sample, inside = _flat_gather(flat, y0 + dy, x0 + dx, h, w)
            weight = weight.ravel()
            term = sample * tensor(weight, dtype=x.dtype, device=x.device)
            out = term if out is None else out + term
            mask += weight * inside
    if fill is not None:
        channels = 1 if img.ndim == 2 else img.shape[-3]
        values = np.broadcast_to(np.asarray(fill, dtype=np.float64).reshape(-1, 1), (channels, 1))
        if img.ndim == 2:
            values = values[0]
        if mode == "nearest":
            out = out + tensor(values * (1.0 - mask), dtype=x.dtype, device=x.device)
        else:
            out = out * tensor(mask, dtype=x.dtype, device=x.device) + \
                tensor(values * (1.0 - mask), dtype=x.dtype, device=x.device)
    return _back_to_bytes(out.reshape(lead + (out_h, out_w)), img)


# ---- colour and dtype -----------------------------------------------------------------------------

def rgb_to_grayscale(img, num_output_channels):
    channels = dimensions(img)[0]
    if channels not in (1, 3):
        raise TypeError(f"rgb_to_grayscale: input image tensor permitted channel values are [1, 3], but found "
                        f"{channels}")
    if channels == 1:
        gray = img.clone()
    else:
        r, g, b = img[..., 0:1, :, :], img[..., 1:2, :, :], img[..., 2:3, :, :]
        gray = 0.2989 * _to_float(r) + 0.587 * _to_float(g) + 0.114 * _to_float(b)
        gray = gray if img.is_floating_point() else gray.to(img.dtype)  # truncated, as torchvision's cast
    if num_output_channels == 3:
        gray = gray.expand(*gray.shape[:-3], 3, gray.shape[-2], gray.shape[-1]).contiguous()
    return gray


def convert_image_dtype(image, dtype):
    """Floats are in [0, 1]; integer (int64) images hold bytes 0-255 (deepcore's stand-in
    for torchvision's uint8): int -> float divides by 255, float -> int scales by
    255.999 and truncates, as torchvision's float -> uint8."""
    if image.dtype is dtype:
        return image
    if dtype.name == "bool" or image.dtype.name == "bool":
        raise ValueError(f"convert_image_dtype: bool images are not supported (got {image.dtype} -> {dtype})")
    if image.is_floating_point() and dtype.is_floating_point:
        return image.to(dtype)
    if image.is_floating_point():
        return (image * (BYTE_MAX + 1.0 - 1e-3)).to(dtype)
    return image.to(dtype) / BYTE_MAX
