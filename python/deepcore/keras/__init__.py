"""deepcore.keras: the Keras 2 API the lecture uses, as a facade over deepcore.nn,
deepcore.optim and deepcore's kernels (no second implementation).

    from deepcore.keras.models import Sequential
    from deepcore.keras.layers import Dense, Dropout
"""
from . import backend, callbacks, datasets, utils  # noqa: F401
