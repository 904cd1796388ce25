"""deepcore.vision.transforms.functional: torchvision.transforms.functional's image ops.

Each op takes a PIL image (PIL's own operation runs, as in torchvision) or a
tensor (..., C, H, W) (deepcore ops, ``_functional_tensor``), checks its
arguments as torchvision does and raises the same exception types.
"""
import math
import numbers
import warnings
from enum import Enum

import numpy as np

from ...data.transforms import Normalize, ToTensor, is_pil_image
from ...dtypes import as_dtype, float32, int64
from ...tensor import Tensor, tensor
from . import _functional_pil as F_pil
from . import _functional_tensor as F_t


class InterpolationMode(Enum):
    """How pixels between the sampled ones are computed (torchvision's names and values)."""
    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


# PIL's resampling constants (Image.Resampling): NEAREST 0, LANCZOS 1, BILINEAR 2, BICUBIC 3, BOX 4, HAMMING 5.
_PIL_CODES = {InterpolationMode.NEAREST: 0, InterpolationMode.NEAREST_EXACT: 0, InterpolationMode.LANCZOS: 1,
              InterpolationMode.BILINEAR: 2, InterpolationMode.BICUBIC: 3, InterpolationMode.BOX: 4,
              InterpolationMode.HAMMING: 5}
_FROM_PIL_CODE = {0: InterpolationMode.NEAREST, 1: InterpolationMode.LANCZOS, 2: InterpolationMode.BILINEAR,
                  3: InterpolationMode.BICUBIC, 4: InterpolationMode.BOX, 5: InterpolationMode.HAMMING}


def interpolation_mode(op, interpolation):
    """An InterpolationMode from an InterpolationMode or a Pillow integer constant."""
    if isinstance(interpolation, InterpolationMode):
        return interpolation
    if isinstance(interpolation, numbers.Integral) and not isinstance(interpolation, bool):
        if int(interpolation) not in _FROM_PIL_CODE:
            raise ValueError(f"{op}: {interpolation} is not a Pillow resampling constant (0-5)")
        return _FROM_PIL_CODE[int(interpolation)]
    raise TypeError(f"{op}: argument interpolation should be a InterpolationMode or a corresponding Pillow integer "
                    f"constant, got {interpolation!r}")


def _check_image(op, img):
    if not is_pil_image(img):
        F_t.check_image(op, img)


def get_dimensions(img):
    """[channels, height, width] of a PIL image or an image tensor."""
    if is_pil_image(img):
        return F_pil.dimensions(img)
    F_t.check_image("get_dimensions", img)
    return F_t.dimensions(img)


def get_image_size(img):
    """[width, height]."""
    _, h, w = get_dimensions(img)
    return [w, h]


def get_image_num_channels(img):
    return get_dimensions(img)[0]


# ---- conversions ---------------------------------------------------------------------------------------

def to_tensor(pic):
    return ToTensor()(pic)


def pil_to_tensor(pic):
    """PIL image -> C x H x W tensor of its values, not scaled (bytes become int64 0-255)."""
    if not is_pil_image(pic):
        raise TypeError(f"pil_to_tensor: pic should be PIL Image. Got {type(pic)}")
    return tensor(np.ascontiguousarray(F_pil.to_array(pic).transpose(2, 0, 1)))


_ONE_BAND_MODES = {np.dtype(np.uint8): "L", np.dtype(np.uint16): "I;16", np.dtype(np.int32): "I",
                   np.dtype(np.float32): "F"}
_MODES_BY_BANDS = {2: ["LA"], 3: ["RGB", "YCbCr", "HSV"], 4: ["RGBA", "CMYK", "RGBX"]}


def to_pil_image(pic, mode=None):
    """C x H x W tensor or H x W x C array -> PIL image. Float tensors are taken as [0, 1] and
    scaled to bytes (truncated) unless mode='F'; int64 tensors hold bytes (0-255)."""
    from PIL import Image
    if isinstance(pic, Tensor):
        if pic.ndim not in (2, 3):
            raise ValueError(f"to_pil_image: pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        if pic.ndim == 2:
            pic = pic.unsqueeze(0)
        if pic.shape[-3] > 4:
            raise ValueError(f"to_pil_image: pic should not have > 4 channels. Got {pic.shape[-3]} channels.")
        from_float = pic.is_floating_point() and mode != "F"
        if from_float:
            pic = (pic.detach() * 255.0).to(int64)  # torchvision's pic.mul(255).byte(): truncation
        arr = pic.detach().cpu().numpy().transpose(1, 2, 0)
        if arr.dtype == np.int64:  # deepcore's byte images
            if not from_float and arr.size and (arr.min() < 0 or arr.max() > 255):
                raise ValueError(f"to_pil_image: an integer image tensor holds bytes 0-255, got values in "
                                 f"[{arr.min()}, {arr.max()}]")
            arr = arr.astype(np.uint8)  # from floats out of [0, 1] this wraps, as torch's byte() does
    elif isinstance(pic, np.ndarray):
        if pic.ndim not in (2, 3):
            raise ValueError(f"to_pil_image: pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        arr = pic[:, :, None] if pic.ndim == 2 else pic
        if arr.shape[-1] > 4:
            raise ValueError(f"to_pil_image: pic should not have > 4 channels. Got {arr.shape[-1]} channels.")
    else:
        raise TypeError(f"to_pil_image: pic should be Tensor or ndarray. Got {type(pic)}.")
    bands = arr.shape[2]
    if bands == 1:
        arr = arr[:, :, 0]
        expected = _ONE_BAND_MODES.get(arr.dtype)
        if mode is not None and mode != expected:
            raise ValueError(f"to_pil_image: incorrect mode ({mode}) supplied for input type {arr.dtype}. Should be "
                             f"{expected}")
        mode = expected
    else:
        permitted = _MODES_BY_BANDS[bands]
        if mode is not None and mode not in permitted:
            raise ValueError(f"to_pil_image: only modes {permitted} are supported for {bands}D inputs")
        if mode is None and arr.dtype == np.uint8:
            mode = permitted[0]
    if mode is None or (bands > 1 and arr.dtype != np.uint8):
        raise TypeError(f"to_pil_image: input type {arr.dtype} is not supported")
    arr = np.ascontiguousarray(arr)
    if mode in ("L", "I", "F", "I;16", "LA", "RGB", "RGBA"):
        return Image.fromarray(arr)  # these are the modes fromarray infers from shape and dtype
    return Image.frombytes(mode, (arr.shape[1], arr.shape[0]), arr.tobytes())


def normalize(tensor, mean, std, inplace=False):
    return Normalize(mean, std, inplace)(tensor)


def convert_image_dtype(image, dtype=float32):
    """Convert an image tensor to `dtype`, rescaling between float [0, 1] and integer bytes."""
    if not isinstance(image, Tensor):
        raise TypeError(f"convert_image_dtype: input img should be Tensor Image, got {type(image)}")
    return F_t.convert_image_dtype(image, as_dtype(dtype))


# ---- geometry ------------------------------------------------------------------------------------------

def hflip(img):
    _check_image("hflip", img)
    return F_pil.hflip(img) if is_pil_image(img) else F_t.hflip(img)


def vflip(img):
    _check_image("vflip", img)
    return F_pil.vflip(img) if is_pil_image(img) else F_t.vflip(img)


def crop(img, top, left, height, width):
    """The height x width region whose top-left pixel is (top, left); outside the image is zeros."""
    _check_image("crop", img)
    top, left, height, width = int(top), int(left), int(height), int(width)
    return F_pil.crop(img, top, left, height, width) if is_pil_image(img) else \
        F_t.crop(img, top, left, height, width)


def _size_pair(op, size):
    """(height, width) from an int or a sequence of 1 or 2 ints."""
    if isinstance(size, numbers.Number):
        return int(size), int(size)
    if isinstance(size, (list, tuple)) and len(size) == 1:
        return int(size[0]), int(size[0])
    if not isinstance(size, (list, tuple)) or len(size) != 2:
        raise ValueError(f"{op}: please provide only two dimensions (h, w) for size, got {size!r}")
    return int(size[0]), int(size[1])


def center_crop(img, output_size):
    """Crop the centre (padding with zeros first when output_size is larger than the image)."""
    _check_image("center_crop", img)
    crop_h, crop_w = _size_pair("center_crop", output_size)
    _, h, w = get_dimensions(img)
    if crop_w > w or crop_h > h:
        ltrb = [(crop_w - w) // 2 if crop_w > w else 0, (crop_h - h) // 2 if crop_h > h else 0,
                (crop_w - w + 1) // 2 if crop_w > w else 0, (crop_h - h + 1) // 2 if crop_h > h else 0]
        img = pad(img, ltrb, fill=0)
        _, h, w = get_dimensions(img)
        if crop_w == w and crop_h == h:
            return img
    top, left = int(round((h - crop_h) / 2.0)), int(round((w - crop_w) / 2.0))
    return crop(img, top, left, crop_h, crop_w)


def parse_padding(op, padding):
    """[left, top, right, bottom] from an int or a sequence of 1, 2 (left/right, top/bottom) or 4."""
    if isinstance(padding, numbers.Integral) and not isinstance(padding, bool):
        return [int(padding)] * 4
    if not isinstance(padding, (list, tuple)) or not all(isinstance(p, numbers.Integral) for p in padding):
        raise TypeError(f"{op}: got inappropriate padding arg {padding!r} (an int or a sequence of ints)")
    if len(padding) not in (1, 2, 4):
        raise ValueError(f"{op}: padding must be an int or a 1, 2, or 4 element tuple, not a {len(padding)} element "
                         f"tuple")
    if len(padding) == 1:
        return [int(padding[0])] * 4
    if len(padding) == 2:
        return [int(padding[0]), int(padding[1]), int(padding[0]), int(padding[1])]
    return [int(p) for p in padding]


_PADDING_MODES = ("constant", "edge", "reflect", "symmetric")


def pad(img, padding, fill=0, padding_mode="constant"):
    """Pad the borders: constant (fill), edge (repeat the last pixel), reflect (mirror without
    repeating the edge), symmetric (mirror repeating it). Negative padding crops."""
    _check_image("pad", img)
    ltrb = parse_padding("pad", padding)
    if padding_mode not in _PADDING_MODES:
        raise ValueError(f"pad: padding mode should be either constant, edge, reflect or symmetric, got "
                         f"{padding_mode!r}")
    if is_pil_image(img):
        if not isinstance(fill, (numbers.Number, tuple, list)):
            raise TypeError(f"pad: got inappropriate fill arg {fill!r}")
        return F_pil.pad(img, ltrb, fill, padding_mode)
    if not isinstance(fill, numbers.Number):
        raise TypeError(f"pad: got inappropriate fill arg {fill!r} (only a number is supported for tensors)")
    return F_t.pad(img, ltrb, fill, padding_mode)


def resized_output_size(op, image_size, size, max_size=None):
    """[new_height, new_width] as Resize computes it: an int (or [int]) matches the smaller
    edge keeping the aspect ratio, capped by max_size; (h, w) is taken as is."""
    h, w = image_size
    short, long = (w, h) if w <= h else (h, w)
    if size is None:
        if max_size is None:
            raise ValueError(f"{op}: size=None requires max_size (the length of the longer edge)")
        new_short, new_long = int(max_size * short / long), max_size
    elif isinstance(size, numbers.Integral) or len(size) == 1:
        requested = int(size) if isinstance(size, numbers.Integral) else int(size[0])
        new_short, new_long = requested, int(requested * long / short)
        if max_size is not None:
            if max_size <= requested:
                raise ValueError(f"{op}: max_size = {max_size} must be strictly greater than the requested size for "
                                 f"the smaller edge size = {size}")
            if new_long > max_size:
                new_short, new_long = int(max_size * new_short / new_long), max_size
    else:
        return [int(size[0]), int(size[1])]
    return [new_short, new_long] if w > h else [new_long, new_short]


def check_resize_size(op, size, max_size):
    if size is not None and not isinstance(size, (numbers.Integral, list, tuple)):
        raise TypeError(f"{op}: size should be int or sequence. Got {type(size)}")
    if isinstance(size, (list, tuple)):
        if len(size) not in (1, 2):
            raise ValueError(f"{op}: if size is a sequence, it should have 1 or 2 values, got {size!r}")
        if max_size is not None and len(size) != 1:
            raise ValueError(f"{op}: max_size should only be passed if size specifies the length of the smaller "
                             f"edge, i.e. size should be an int or a sequence of length 1")


_TENSOR_RESIZE_MODES = ("nearest", "nearest-exact", "bilinear", "bicubic")


def resize(img, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
    """Resize to `size` (see resized_output_size). PIL images use PIL's resize (always
    antialiased); tensors torch's interpolate (antialias for bilinear and bicubic)."""
    _check_image("resize", img)
    interpolation = interpolation_mode("resize", interpolation)
    check_resize_size("resize", size, max_size)
    _, h, w = get_dimensions(img)
    output_size = resized_output_size("resize", (h, w), size, max_size)
    if [h, w] == output_size:
        return img
    if is_pil_image(img):
        if antialias is False:
            warnings.warn("resize: anti-alias option is always applied for PIL Image input. Argument antialias is "
                          "ignored.", stacklevel=2)
        return F_pil.resize(img, output_size, _PIL_CODES[interpolation])
    if interpolation.value not in _TENSOR_RESIZE_MODES:
        raise ValueError(f"resize: interpolation mode {interpolation.value!r} is unsupported with Tensor input "
                         f"(supported: {', '.join(_TENSOR_RESIZE_MODES)})")
    return F_t.resize(img, output_size, interpolation.value, bool(antialias))


def resized_crop(img, top, left, height, width, size, interpolation=InterpolationMode.BILINEAR, antialias=True):
    return resize(crop(img, top, left, height, width), size, interpolation, antialias=antialias)


def inverse_affine_matrix(center, angle, translate, scale, shear):
    """The 2 x 3 map (as 6 numbers) from output to input pixel coordinates of the affine
    map: about `center`, rotate by `angle` degrees (clockwise in image coordinates, y down),
    shear by shear = (x, y) degrees, scale, then translate."""
    rot, sx, sy = math.radians(angle), math.radians(shear[0]), math.radians(shear[1])
    # The forward linear part R(rot) * SHy(sy) * SHx(sx) (determinant 1), then the scale.
    a = math.cos(rot - sy) / math.cos(sy)
    b = -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)
    ia, ib, ic, id_ = d / scale, -b / scale, -c / scale, a / scale
    cx, cy = center
    tx, ty = translate
    # input = center + A^-1 (output - center - translate)
    return [ia, ib, cx - ia * (cx + tx) - ib * (cy + ty), ic, id_, cy - ic * (cx + tx) - id_ * (cy + ty)]


def _tensor_fill(op, img, fill):
    if fill is None:
        return None
    values = list(fill) if isinstance(fill, (list, tuple)) else [float(fill)]
    channels = F_t.dimensions(img)[0]
    if len(values) > 1 and len(values) != channels:
        raise ValueError(f"{op}: the number of elements in 'fill' cannot broadcast to match the number of channels "
                         f"of the image ({len(values)} != {channels})")
    return [float(v) for v in values]


def _grid_mode(op, interpolation):
    if interpolation not in (InterpolationMode.NEAREST, InterpolationMode.BILINEAR):
        raise ValueError(f"{op}: interpolation mode {interpolation.value!r} is unsupported with Tensor input "
                         f"(nearest or bilinear)")
    return interpolation.value


def rotate(img, angle, interpolation=InterpolationMode.NEAREST, expand=False, center=None, fill=None):
    """Rotate by `angle` degrees counter-clockwise about `center` (default: the image centre);
    expand=True enlarges the output to hold the whole rotated image; outside is `fill`."""
    _check_image("rotate", img)
    if not isinstance(angle, (int, float)):
        raise TypeError(f"rotate: argument angle should be int or float, got {type(angle).__name__}")
    if center is not None and not isinstance(center, (list, tuple)):
        raise TypeError(f"rotate: argument center should be a sequence, got {type(center).__name__}")
    interpolation = interpolation_mode("rotate", interpolation)
    if is_pil_image(img):
        return F_pil.rotate(img, angle, _PIL_CODES[interpolation], expand, center, fill)
    mode = _grid_mode("rotate", interpolation)
    _, h, w = F_t.dimensions(img)
    center_f = [0.0, 0.0] if center is None else [c - s * 0.5 for c, s in zip(center, (w, h))]
    matrix = inverse_affine_matrix(center_f, -angle, [0.0, 0.0], 1.0, [0.0, 0.0])
    ow, oh = F_t.affine_output_size(matrix, w, h) if expand else (w, h)
    return F_t.apply_affine(img, matrix, ow, oh, mode, _tensor_fill("rotate", img, fill))


def affine(img, angle, translate, scale, shear, interpolation=InterpolationMode.NEAREST, fill=None, center=None):
    """Rotate by `angle` degrees (clockwise), translate by (tx, ty) pixels, scale, and shear by
    (x, y) degrees (one number: x only), about `center` (default: the image centre)."""
    _check_image("affine", img)
    if not isinstance(angle, (int, float)):
        raise TypeError(f"affine: argument angle should be int or float, got {type(angle).__name__}")
    if not isinstance(translate, (list, tuple)):
        raise TypeError(f"affine: argument translate should be a sequence, got {type(translate).__name__}")
    if len(translate) != 2:
        raise ValueError(f"affine: argument translate should be a sequence of length 2, got {translate!r}")
    if scale <= 0.0:
        raise ValueError(f"affine: argument scale should be positive, got {scale}")
    if not isinstance(shear, (numbers.Number, list, tuple)):
        raise TypeError(f"affine: shear should be either a single value or a sequence of two values, got {shear!r}")
    if isinstance(shear, numbers.Number):
        shear = [shear, 0.0]
    elif len(shear) == 1:
        shear = [shear[0], shear[0]]
    if len(shear) != 2:
        raise ValueError(f"affine: shear should be a sequence containing two values. Got {shear}")
    if center is not None and not isinstance(center, (list, tuple)):
        raise TypeError(f"affine: argument center should be a sequence, got {type(center).__name__}")
    interpolation = interpolation_mode("affine", interpolation)
    _, h, w = get_dimensions(img)
    if is_pil_image(img):
        pil_center = [w * 0.5, h * 0.5] if center is None else list(center)
        matrix = inverse_affine_matrix(pil_center, angle, translate, scale, shear)
        return F_pil.affine(img, matrix, _PIL_CODES[interpolation], fill)
    mode = _grid_mode("affine", interpolation)
    center_f = [0.0, 0.0] if center is None else [c - s * 0.5 for c, s in zip(center, (w, h))]
    matrix = inverse_affine_matrix(center_f, angle, [float(t) for t in translate], scale, shear)
    return F_t.apply_affine(img, matrix, w, h, mode, _tensor_fill("affine", img, fill))


# ---- colour ------------------------------------------------------------------------------------------

def rgb_to_grayscale(img, num_output_channels=1):
    """Luma 0.2989 R + 0.587 G + 0.114 B (PIL images: PIL's convert('L')), as 1 or 3 channels."""
    _check_image("rgb_to_grayscale", img)
    if is_pil_image(img):
        return F_pil.to_grayscale(img, num_output_channels)
    if num_output_channels not in (1, 3):
        raise ValueError(f"rgb_to_grayscale: num_output_channels should be either 1 or 3, got {num_output_channels}")
    return F_t.rgb_to_grayscale(img, num_output_channels)


def to_grayscale(img, num_output_channels=1):
    if not is_pil_image(img):
        raise TypeError(f"to_grayscale: input should be PIL Image, got {type(img)}")
    return F_pil.to_grayscale(img, num_output_channels)
