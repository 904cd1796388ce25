"""deepcore.vision: what ``import torchvision`` maps onto.

    from deepcore.vision import datasets, transforms, utils

``datasets``: MNIST and FashionMNIST (PIL items, offline sources);
``transforms``: torchvision.transforms' classes and ``functional`` on PIL
images and tensors; ``utils``: make_grid and save_image. No ``models``.
"""
from . import datasets, transforms, utils

__version__ = "0.1.0"  # deepcore's version: there is no torchvision underneath

_image_backend = "PIL"


def get_image_backend():
    """The package used to load images: always 'PIL'."""
    return _image_backend


def set_image_backend(backend):
    if backend != "PIL":
        raise ValueError(f"set_image_backend: deepcore.vision loads images with PIL only, got {backend!r}")


__all__ = ["datasets", "transforms", "utils", "get_image_backend", "set_image_backend"]
