"""torchvision.transforms.v2's spellings over the same transforms.

v2's classes take single images here (PIL or tensor), not v2's nested
structures of images, boxes and masks. ToImage and ToDtype are v2's own:
``v2.Compose([v2.ToImage(), v2.ToDtype(torch.float32, scale=True)])`` equals
ToTensor().
"""
import numpy as np

from ...data.transforms import Compose, Lambda, Normalize, ToTensor, is_pil_image
from ...dtypes import as_dtype
from ...tensor import Tensor, tensor
from . import functional
from .functional import InterpolationMode
from .transforms import (
    CenterCrop, ConvertImageDtype, Grayscale, PILToTensor, Pad, RandomAffine, RandomApply, RandomCrop,
    RandomHorizontalFlip, RandomResizedCrop, RandomRotation, RandomVerticalFlip, Resize, ToPILImage,
)

__all__ = ["Compose", "Lambda", "Normalize", "ToTensor", "PILToTensor", "ConvertImageDtype", "InterpolationMode",
           "CenterCrop", "Grayscale", "Pad", "RandomAffine", "RandomApply", "RandomCrop", "RandomHorizontalFlip",
           "RandomResizedCrop", "RandomRotation", "RandomVerticalFlip", "Resize", "ToPILImage", "ToImage", "ToDtype",
           "functional"]


class ToImage:
    """PIL image or H x W (x C) array -> C x H x W tensor of the unscaled values; tensors pass."""

    def __call__(self, inpt):
        if isinstance(inpt, Tensor):
            return inpt
        if is_pil_image(inpt):
            return functional.pil_to_tensor(inpt)
        if isinstance(inpt, np.ndarray):
            arr = inpt[:, :, None] if inpt.ndim == 2 else inpt
            if arr.ndim != 3:
                raise ValueError(f"ToImage: expected an H x W or H x W x C array, got shape {inpt.shape}")
            return tensor(np.ascontiguousarray(arr.transpose(2, 0, 1)))
        raise TypeError(f"ToImage: expected a PIL image, a NumPy array or a tensor, got {type(inpt)}")

    def __repr__(self):
        return "ToImage()"


class ToDtype:
    """Cast an image tensor to `dtype`; scale=True also rescales (bytes 0-255 <-> floats 0-1)."""

    def __init__(self, dtype, scale=False):
        if isinstance(dtype, dict):
            raise NotImplementedError("ToDtype: a dict of dtypes per input type is not supported; pass one dtype")
        self.dtype = as_dtype(dtype)
        self.scale = scale

    def __call__(self, inpt):
        if not isinstance(inpt, Tensor):
            raise TypeError(f"ToDtype: expected an image tensor (apply ToImage first), got {type(inpt)}")
        if self.scale:
            return functional.convert_image_dtype(inpt, self.dtype)
        return inpt.to(self.dtype)

    def __repr__(self):
        return f"ToDtype(dtype={self.dtype}, scale={self.scale})"
