"""Fashion-MNIST (Zalando), as Keras 2's ``fashion_mnist.load_data()``."""
from ...data.datasets import fashion_mnist_arrays


def load_data():
    """``(x_train, y_train), (x_test, y_test)``: uint8 arrays (60000, 28, 28), (60000,),
    (10000, 28, 28), (10000,), writable copies, from Debian's dataset-fashion-mnist or
    the IDX files under deepcore's data root (see docs/data.md); RuntimeError naming
    how to get them when neither is there."""
    x_train, y_train = fashion_mnist_arrays(train=True)
    x_test, y_test = fashion_mnist_arrays(train=False)
    return (x_train, y_train), (x_test, y_test)
