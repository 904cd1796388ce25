"""Image transforms in torchvision's spelling: ToTensor, Normalize, Compose, Lambda.

Datasets hand a transform a NumPy uint8 array (H x W, or H x W x C), where
torchvision hands a PIL image. ``batched_u8_plan`` recognises the chains that
are an affine map of the bytes (None, ToTensor, ToTensor + a one-channel
Normalize), so a dataset can produce whole batches with one native call.
"""
import numpy as np

from ..dtypes import float32
from ..tensor import Tensor, tensor


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
    """H x W (x C) NumPy array -> C x H x W tensor; uint8 is scaled to [0, 1] float32,
    other dtypes keep their values (as torchvision does)."""

    def __call__(self, pic):
        if isinstance(pic, Tensor):
            raise TypeError("ToTensor: the input is already a tensor (expected a NumPy H x W or H x W x C array)")
        arr = np.asarray(pic)
        if arr.ndim == 2:
            arr = arr[None, :, :]
        elif arr.ndim == 3:
            arr = arr.transpose(2, 0, 1)
        else:
            raise ValueError(f"ToTensor: expected an H x W or H x W x C image, got an array of shape {arr.shape}")
        if arr.dtype == np.uint8:
            return tensor(arr, dtype=float32) / 255.0
        return tensor(arr)

    def __repr__(self):
        return "ToTensor()"


class Normalize:
    """(x - mean[c]) / std[c] per channel of a C x H x W (or N x C x H x W) tensor."""

    def __init__(self, mean, std, inplace=False):
        self.mean = tuple(float(m) for m in (mean if isinstance(mean, (tuple, list)) else (mean,)))
        self.std = tuple(float(s) for s in (std if isinstance(std, (tuple, list)) else (std,)))
        if len(self.mean) != len(self.std):
            raise ValueError(f"Normalize: mean has {len(self.mean)} values but std has {len(self.std)}")
        if any(s == 0 for s in self.std):
            raise ValueError(f"Normalize: std evaluated to zero after conversion to float ({self.std}), leading "
                             f"to division by zero")
        self.inplace = inplace

    def __call__(self, x):
        if not isinstance(x, Tensor) or not x.is_floating_point():
            raise TypeError(f"Normalize: expected a float tensor (apply ToTensor first), got "
                            f"{type(x).__name__ if not isinstance(x, Tensor) else x.dtype.name}")
        if x.ndim < 3:
            raise ValueError(f"Normalize: expected a C x H x W tensor, got shape {tuple(x.shape)}")
        channels = x.shape[-3]
        if len(self.mean) not in (1, channels):
            raise ValueError(f"Normalize: {len(self.mean)} means for a tensor with {channels} channels")
        mean = tensor(self.mean, dtype=x.dtype).reshape(-1, 1, 1)
        std = tensor(self.std, dtype=x.dtype).reshape(-1, 1, 1)
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
