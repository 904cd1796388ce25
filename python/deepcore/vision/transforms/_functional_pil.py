"""The image ops on PIL images: PIL's own operations, called as torchvision calls them.

PIL is imported when an op first runs on a PIL image (there is no other way to
have one), so deepcore.vision imports without Pillow.
"""
import numbers

import numpy as np

from ...data.transforms import pil_to_array


def _image():
    from PIL import Image
    return Image


def dimensions(img):
    """[channels, height, width]."""
    return [len(img.getbands()), img.size[1], img.size[0]]


def parse_fill(op, fill, img, name="fillcolor"):
    """PIL's fill argument for `img`: one value per band, ints except for mode 'F'."""
    bands = len(img.getbands())
    if fill is None:
        fill = 0
    if isinstance(fill, numbers.Number) and bands > 1:
        fill = (fill,) * bands
    if isinstance(fill, (list, tuple)):
        if len(fill) == 1:
            fill = tuple(fill) * bands
        elif len(fill) != bands:
            raise ValueError(f"{op}: the number of elements in 'fill' does not match the number of bands of the "
                             f"image ({len(fill)} != {bands})")
        fill = tuple(fill)
    if img.mode != "F":
        fill = tuple(int(v) for v in fill) if isinstance(fill, tuple) else int(fill)
    return {name: fill}


def hflip(img):
    return img.transpose(_image().Transpose.FLIP_LEFT_RIGHT)


def vflip(img):
    return img.transpose(_image().Transpose.FLIP_TOP_BOTTOM)


def crop(img, top, left, height, width):
    return img.crop((left, top, left + width, top + height))  # PIL fills outside with zeros


def pad(img, ltrb, fill, padding_mode):
    """Constant padding by ImageOps.expand; edge, reflect and symmetric by NumPy's pad of the
    pixels (as torchvision does); negative values crop first."""
    from PIL import ImageOps
    if any(p < 0 for p in ltrb):
        cl, ct, cr, cb = (-min(p, 0) for p in ltrb)
        img = img.crop((cl, ct, img.size[0] - cr, img.size[1] - cb))
        ltrb = [max(p, 0) for p in ltrb]
    left, top, right, bottom = ltrb
    palette = img.getpalette() if img.mode == "P" else None
    if padding_mode == "constant":
        out = ImageOps.expand(img, border=(left, top, right, bottom), **parse_fill("pad", fill, img, name="fill"))
    else:
        arr = np.asarray(img)
        widths = ((top, bottom), (left, right)) + (((0, 0),) if arr.ndim == 3 else ())
        out = _image().fromarray(np.pad(arr, widths, mode=padding_mode))
    if palette is not None:
        out.putpalette(palette)
    return out


def resize(img, size, resample):
    """size = [height, width]."""
    return img.resize((size[1], size[0]), resample)


def rotate(img, angle, resample, expand, center, fill):
    return img.rotate(angle, resample, expand, center, **parse_fill("rotate", fill, img))


def affine(img, matrix, resample, fill):
    return img.transform(img.size, _image().Transform.AFFINE, matrix, resample, **parse_fill("affine", fill, img))


def to_grayscale(img, num_output_channels):
    if num_output_channels not in (1, 3):
        raise ValueError(f"to_grayscale: num_output_channels should be either 1 or 3, got {num_output_channels}")
    gray = img.convert("L")
    if num_output_channels == 3:
        return _image().merge("RGB", (gray, gray, gray))
    return gray


def to_array(img):
    """H x W x C array of the pixels, in the mode's dtype."""
    arr = pil_to_array(img)
    return arr[:, :, None] if arr.ndim == 2 else arr
