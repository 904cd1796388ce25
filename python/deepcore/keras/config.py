"""keras.config: the global settings and name counters (a leaf: it imports nothing from keras).

``image_data_format()`` is 'channels_last' (Keras' default: Conv2D takes (N, H, W, C));
'channels_first' may be set so a listing can branch on it, and then the convolution, pooling and
Flatten layers refuse to be built (deepcore has channels-last layers only). ``epsilon()`` 1e-7 is
the fuzz factor of the optimizers (their default epsilon, read when one is made) and the losses'
clipping (read at every call). ``floatx()`` is 'float32', the only precision deepcore.keras builds.
``backend()`` 'deepcore'.

Two kinds of counters: ``unique_name(prefix)`` names layers and models ('dense_1', 'dense_2',
...) and is never reset; ``get_uid(prefix)`` is Keras 2's ``K.get_uid``, which ``clear_session()``
resets (deepcore has no graph or session to tear down, so that, and running the hooks registered
with ``register_clear_session_hook``, is all it does). keras.backend re-exports all of these.
"""
import collections

_IMAGE_DATA_FORMATS = ("channels_last", "channels_first")
_FLOATX = ("float32",)

_image_data_format = "channels_last"
_epsilon = 1e-7
_floatx = "float32"
_uids = collections.defaultdict(int)  # get_uid's, reset by clear_session
_name_uids = {}  # unique_name's (layer and model names)
_clear_session_hooks = []


def backend():
    """The name of the engine under this Keras API."""
    return "deepcore"


def image_data_format():
    return _image_data_format


def set_image_data_format(data_format):
    global _image_data_format
    if data_format not in _IMAGE_DATA_FORMATS:
        raise ValueError(f"set_image_data_format: expected one of {_IMAGE_DATA_FORMATS}, got {data_format!r}")
    _image_data_format = str(data_format)


def epsilon():
    return _epsilon


def set_epsilon(value):
    global _epsilon
    value = float(value)
    if not value > 0:
        raise ValueError(f"set_epsilon: expected a positive number, got {value}")
    _epsilon = value


def floatx():
    return _floatx


def set_floatx(value):
    global _floatx
    if value not in _FLOATX:
        raise ValueError(f"set_floatx: deepcore.keras builds float32 models only, got {value!r} (for "
                         f"float64, write the model with deepcore.nn and call .double())")
    _floatx = str(value)


def unique_name(prefix):
    """Keras 2 names: dense_1, dense_2, ... (one counter per prefix, starting at 1)."""
    _name_uids[prefix] = _name_uids.get(prefix, 0) + 1
    return f"{prefix}_{_name_uids[prefix]}"


def get_uid(prefix=""):
    """1, 2, 3, ... per ``prefix``, since the last clear_session()."""
    _uids[prefix] += 1
    return _uids[prefix]


def reset_uids():
    _uids.clear()


def register_clear_session_hook(fn):
    """Have clear_session() call ``fn()`` (e.g. to reset other name counters)."""
    if fn not in _clear_session_hooks:
        _clear_session_hooks.append(fn)
    return fn


def clear_session():
    """Reset the per-prefix name counters (and run registered hooks). Layers and models
    already built keep their weights; nothing else in deepcore is global state."""
    reset_uids()
    for fn in list(_clear_session_hooks):
        fn()
