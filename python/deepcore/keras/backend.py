"""keras.backend: the global settings Keras 2 listings read.

    from deepcore.keras import backend as K
    if K.image_data_format() == 'channels_first': ...

``image_data_format()`` is 'channels_last' (Keras' default: Conv2D takes
(N, H, W, C)); 'channels_first' may be set so a listing can branch on it, and
then the convolution, pooling and Flatten layers refuse to be built (deepcore
has channels-last layers only). ``epsilon()`` 1e-7 is the fuzz factor of the
optimizers (their default epsilon, read when one is made) and the losses'
clipping (read at every call). ``floatx()`` is 'float32', the only
precision deepcore.keras builds. ``backend()`` 'deepcore'. ``get_uid(prefix)``
numbers objects per prefix (Keras 2 names layers 'dense_1', 'dense_2', ... this
way) and ``clear_session()`` resets those counters; deepcore has no graph or
session to tear down, so that, and running the hooks registered with
``register_clear_session_hook``, is all it does.

The tensor functions custom losses, metrics, Lambdas and layers are written with (``K.mean``,
``K.square``, ``K.exp``, ``K.random_normal``, ``K.concatenate``, ...) are in _backend_ops.py, the
settings and counters in config.py, and ``function`` / ``learning_phase`` (Keras 2's way to read a
layer's activations) in engine/functional.py; this module gathers them under Keras' names.
"""
from ._backend_ops import *  # noqa: F401,F403  (K.mean, K.square, ...: the tensor functions)
from .config import (  # noqa: F401  (the settings and counters live in keras/config.py)
    _clear_session_hooks, backend, clear_session, epsilon, floatx, get_uid, image_data_format,
    register_clear_session_hook, reset_uids, set_epsilon, set_floatx, set_image_data_format,
)
from .engine.functional import function, learning_phase  # noqa: F401  (K.function runs a sub-network)
