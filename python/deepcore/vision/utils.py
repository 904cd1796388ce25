"""torchvision.utils' image grids: make_grid and save_image.

    save_image(fake[:64], 'samples.png', nrow=8, normalize=True)

make_grid tiles a batch (B, C, H, W) or a list of C x H x W tensors into one
C x H' x W' image, torchvision's way: one-channel images become three
channels, ``padding`` pixels of ``pad_value`` around and between the tiles,
``nrow`` tiles per row, and a single image is returned unpadded.
"""
import math
import os
import struct
import zlib

from ..autograd import no_grad
from ..dtypes import int64
from ..ops.shape import cat, stack
from ..tensor import Tensor, full

__all__ = ["make_grid", "save_image"]


def _normalized(t, value_range):
    """t clamped to value_range (default: its own min and max) and mapped onto [0, 1]."""
    low, high = value_range if value_range is not None else (float(t.min()), float(t.max()))
    return (t.clamp(low, high) - low) / max(high - low, 1e-5)


def make_grid(tensor, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False, pad_value=0.0):
    """A grid of the images: ``nrow`` per row, ``padding`` pixels of ``pad_value`` between them.

    normalize=True maps the pixels onto [0, 1] by value_range = (min, max) (default: the
    batch's own min and max; with scale_each=True, each image's own)."""
    if not isinstance(tensor, Tensor):
        if not isinstance(tensor, list):
            raise TypeError(f"make_grid: tensor or list of tensors expected, got {type(tensor)}")
        for t in tensor:
            if not isinstance(t, Tensor):
                raise TypeError(f"make_grid: tensor or list of tensors expected, got a list containing {type(t)}")
        if not tensor:
            raise ValueError("make_grid: got an empty list of images")
    if value_range is not None and not isinstance(value_range, tuple):
        raise TypeError("make_grid: value_range has to be a tuple (min, max) if specified. min and max are numbers")
    with no_grad():
        if isinstance(tensor, list):
            tensor = stack(tensor, dim=0)
        if tensor.ndim == 2:  # a single H x W image
            tensor = tensor.unsqueeze(0)
        if tensor.ndim == 3:  # a single C x H x W image
            if tensor.shape[0] == 1:
                tensor = cat([tensor, tensor, tensor], dim=0)
            tensor = tensor.unsqueeze(0)
        if tensor.ndim != 4:
            raise ValueError(f"make_grid: expected a (B, C, H, W) batch, a C x H x W or H x W image, got shape "
                             f"{tuple(tensor.shape)}")
        if tensor.shape[1] == 1:
            tensor = cat([tensor, tensor, tensor], dim=1)
        if normalize is True:
            if scale_each is True:
                tensor = stack([_normalized(t, value_range) for t in tensor.unbind(0)], dim=0)
            else:
                tensor = _normalized(tensor, value_range)
        if tensor.shape[0] == 1:
            return tensor.squeeze(0)
        count, channels, h, w = tensor.shape
        xmaps = min(nrow, count)
        ymaps = int(math.ceil(float(count) / xmaps))
        height, width = int(h + padding), int(w + padding)
        grid = full((channels, height * ymaps + padding, width * xmaps + padding), pad_value, dtype=tensor.dtype,
                    device=tensor.device)
        for k in range(count):
            y, x = divmod(k, xmaps)
            grid[:, y * height + padding:(y + 1) * height, x * width + padding:(x + 1) * width] = tensor[k]
        return grid


def _write_png(arr, fp):
    """A PNG of the H x W x C bytes, written without Pillow: IHDR, one zlib IDAT of the rows
    (each with filter byte 0), IEND, each chunk with its CRC-32."""
    h, w, c = arr.shape
    color_type = {1: 0, 2: 4, 3: 2, 4: 6}[c]  # grey, grey + alpha, RGB, RGBA

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + arr[y].tobytes() for y in range(h))
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, color_type, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(rows, 6)) + chunk(b"IEND", b""))
    if hasattr(fp, "write"):
        fp.write(png)
    else:
        with open(fp, "wb") as f:
            f.write(png)


def _writer(fp, format):
    """Pillow's Image.save; without Pillow, PNG files are written here (matplotlib's imsave
    is no way round: it needs Pillow itself); other formats then raise ImportError."""
    try:
        from PIL import Image
        return lambda arr: Image.fromarray(arr).save(fp, format=format)
    except ImportError:
        pass
    ext = os.path.splitext(os.fspath(fp))[1].lower() if isinstance(fp, (str, os.PathLike)) else ""
    wanted = (format or ext.lstrip(".") or "png").lower()
    if wanted != "png":
        raise ImportError(f"save_image: writing {wanted!r} images needs Pillow (pip install pillow), which is not "
                          f"installed (matplotlib cannot stand in: it needs Pillow too); without it only PNG is "
                          f"written")
    return lambda arr: _write_png(arr, fp)


def save_image(tensor, fp, format=None, **kwargs):
    """Write make_grid(tensor, **kwargs) as an image file (PNG unless `fp`'s extension or
    `format` says otherwise) with Pillow, or as PNG without it; pixels in [0, 1] become
    bytes round(255 x)."""
    writer = _writer(fp, format)
    grid = make_grid(tensor, **kwargs)
    with no_grad():
        scaled = (grid.to(grid.dtype if grid.is_floating_point() else "float32") * 255.0 + 0.5).clamp(0.0, 255.0)
        arr = scaled.permute(1, 2, 0).to(int64).cpu().numpy().astype("uint8")  # truncation after +0.5 rounds
    writer(arr)
