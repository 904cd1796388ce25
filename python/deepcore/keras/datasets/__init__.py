"""keras.datasets: ``mnist`` and ``fashion_mnist``, the real data from deepcore's
offline sources (see docs/data.md); nothing synthetic ever stands in."""
from . import fashion_mnist, mnist  # noqa: F401
