"""Image transforms in torchvision's spelling: ToTensor, Normalize, Compose, Lambda.

ToTensor takes a PIL image (what torchvision's datasets hand a transform) or a
NumPy array H x W (x C), as torchvision does; ``deepcore.data.datasets``
hands a NumPy uint8 array, ``deepcore.vision.datasets`` a PIL image. The
geometric and random transforms live in ``deepcore.vision.transforms``.

``batched_u8_plan`` recognises the chains that are an affine map of the bytes
(None, ToTensor, ToTensor + a one-channel Normalize), so a dataset can produce
whole batches with one native call.
"""
import sys

import numpy as np

from .. import _C
from ..dtypes import float32, int64
from ..tensor import Tensor, tensor

# PIL modes whose pixels are not bytes: ToTensor keeps their values (torchvision's rule).
_PIL_MODE_DTYPES = {"I": np.int32, "I;16": np.uint16, "I;16B": np.uint16, "I;16L": np.uint16, "F": np.float32}


def is_pil_image(x):
    """True for a PIL image; False (without importing PIL) when PIL was never imported."""
    image_module = sys.modules.get("PIL.Image")
    return image_module is not None and isinstance(x, image_module.Image)


def pil_to_array(pic):
    """A PIL image as a NumPy array H x W (one band) or H x W x C, in the mode's own dtype
    (uint8 for the byte modes; mode '1' becomes 0/255 bytes, as in torchvision)."""
    if pic.mode == "1":
        pic = pic.convert("L")  # 0/255 bytes: ToTensor then makes 0.0/1.0
    return np.array(pic, dtype=_PIL_MODE_DTYPES.get(pic.mode, np.uint8))


_ROWS = {}


def _all_rows(n):
    """The index tensor [0, ..., n-1] (made once per n: ToTensor runs per image)."""
    if n not in _ROWS:
        _ROWS[n] = tensor(list(range(n)), dtype=int64)
    return _ROWS[n]


class Compose:
    """Apply the transforms one after another."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, x):
        for t in self.transforms:
            x = t(x)
        return x

    def __repr__(self):
        inner = "".join(f"\n    {t!r}" for t in self.transforms)
        return f"Compose({inner}\n)"


class ToTensor:
    """PIL image or NumPy H x W (x C) array -> C x H x W tensor. Bytes (uint8 arrays, the
    PIL byte modes L, RGB, RGBA, P, 1, ...) are scaled to [0, 1] float32; other dtypes
    (PIL modes I, I;16, F; int or float arrays) keep their values, as in torchvision."""

    def __call__(self, pic):
        if is_pil_image(pic):
            arr = pil_to_array(pic)
        elif isinstance(pic, np.ndarray):
            arr = pic
        else:
            raise TypeError(f"ToTensor: pic should be PIL Image or ndarray. Got {type(pic)}")
        if arr.ndim == 2:
            arr = arr[None, :, :]
        elif arr.ndim == 3:
            arr = arr.transpose(2, 0, 1)
        else:
            raise ValueError(f"ToTensor: pic should be 2/3 dimensional (H x W or H x W x C). Got {arr.ndim} "
                             f"dimensions (shape {arr.shape})")
        if arr.dtype == np.uint8:  # one native call: byte * (1/255), as the batched MNIST gather computes it
            channels = _all_rows(arr.shape[0])
            return Tensor._make(_C.index_select_u8(np.ascontiguousarray(arr), channels._data, float32._c,
                                                   1.0 / 255.0, 0.0))
        return tensor(arr)

    def __repr__(self):
        return "ToTensor()"


class Normalize:
    """(x - mean[c]) / std[c] per channel of a C x H x W (or ... x C x H x W) float tensor;
    inplace=True overwrites x (as torchvision does)."""

    def __init__(self, mean, std, inplace=False):
        self.mean = tuple(float(m) for m in (mean if isinstance(mean, (tuple, list)) else (mean,)))
        self.std = tuple(float(s) for s in (std if isinstance(std, (tuple, list)) else (std,)))
        if len(self.mean) != len(self.std):
            raise ValueError(f"Normalize: mean has {len(self.mean)} values but std has {len(self.std)}")
        if any(s == 0 for s in self.std):
            raise ValueError(f"Normalize: std evaluated to zero after conversion to float ({self.std}), leading "
                             f"to division by zero")
        self.inplace = inplace
        self._constants = {}  # (dtype, device) -> (mean, std) tensors: made once, not per image

    def __call__(self, x):
        if not isinstance(x, Tensor) or not x.is_floating_point():
            raise TypeError(f"Normalize: expected a float tensor (apply ToTensor first), got "
                            f"{type(x).__name__ if not isinstance(x, Tensor) else x.dtype.name}")
        if x.ndim < 3:
            raise ValueError(f"Normalize: expected a tensor image of size (..., C, H, W), got shape {tuple(x.shape)}")
        channels = x.shape[-3]
        if len(self.mean) not in (1, channels):
            raise ValueError(f"Normalize: {len(self.mean)} means for a tensor with {channels} channels")
        key = (x.dtype, str(x.device))
        if key not in self._constants:
            self._constants[key] = (tensor(self.mean, dtype=x.dtype, device=x.device).reshape(-1, 1, 1),
                                    tensor(self.std, dtype=x.dtype, device=x.device).reshape(-1, 1, 1))
        mean, std = self._constants[key]
        if self.inplace:
            return x.sub_(mean).div_(std)
        return (x - mean) / std

    def __repr__(self):
        return f"Normalize(mean={self.mean}, std={self.std})"


class Lambda:
    """A user function as a transform."""

    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError(f"Lambda: argument should be callable, got {type(lambd).__name__}")
        self.lambd = lambd

    def __call__(self, x):
        return self.lambd(x)

    def __repr__(self):
        return "Lambda()"


def batched_u8_plan(transform, item_shape):
    """How `transform` maps one uint8 image of `item_shape` (H, W), as
    (dtype name, scale, shift, output item shape): out = byte * scale + shift.
    None when the transform is anything else (it then runs per sample)."""
    if len(item_shape) != 2:
        return None
    if transform is None:
        return "int64", 1.0, 0.0, tuple(item_shape)
    steps = transform.transforms if type(transform) is Compose else [transform]
    if not steps or type(steps[0]) is not ToTensor:
        return None
    scale, shift = 1.0 / 255.0, 0.0
    for step in steps[1:]:
        if type(step) is not Normalize or len(step.mean) != 1:
            return None
        scale, shift = scale / step.std[0], (shift - step.mean[0]) / step.std[0]
    return "float32", scale, shift, (1,) + tuple(item_shape)
