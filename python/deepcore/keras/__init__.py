"""deepcore.keras: the Keras 2 API the lecture uses, as a facade over deepcore.nn,
deepcore.optim and deepcore's kernels (no second implementation).

    import deepcore.keras as keras
    from deepcore.keras.models import Sequential
    from deepcore.keras.layers import Dense, Dropout

Conventions and the differences from Keras that remain: docs/keras.md.
"""
from . import backend, callbacks, datasets, utils  # noqa: F401
from . import activations, constraints, initializers, losses, metrics, optimizers, regularizers  # noqa: F401
from . import ops, random  # noqa: F401  (Keras 3's tensor functions and random draws)
from . import layers, models, preprocessing  # noqa: F401
from .layers import Input  # noqa: F401
from .models import Model, Sequential, load_model  # noqa: F401

__version__ = "2.2.4"
