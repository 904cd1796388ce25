"""deepcore.vision.transforms: torchvision.transforms' names.

    from deepcore.vision import transforms
    train_tf = transforms.Compose([transforms.RandomCrop(28, padding=2), transforms.RandomRotation(10),
                                   transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])

Compose, ToTensor, Normalize and Lambda are deepcore.data.transforms' classes
(the ones MNIST's batched fast path recognises). ``functional`` holds the ops,
``v2`` the newer module's spellings (ToImage, ToDtype) over the same classes.
"""
from ...data.transforms import Compose, Lambda, Normalize, ToTensor
from . import functional
from .functional import InterpolationMode
from .transforms import (
    CenterCrop, ConvertImageDtype, Grayscale, Pad, PILToTensor, RandomAffine, RandomApply, RandomCrop,
    RandomHorizontalFlip, RandomResizedCrop, RandomRotation, RandomVerticalFlip, Resize, ToPILImage,
)
from . import v2

__all__ = ["Compose", "ToTensor", "Normalize", "Lambda", "InterpolationMode", "Resize", "CenterCrop", "Pad",
           "RandomCrop", "RandomResizedCrop", "RandomHorizontalFlip", "RandomVerticalFlip", "RandomRotation",
           "RandomAffine", "RandomApply", "Grayscale", "ToPILImage", "PILToTensor", "ConvertImageDtype",
           "functional", "v2"]
