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
``K.square``, ``K.exp``, ``K.random_normal``, ``K.concatenate``, ...) are in _backend_ops.py.
"""
import collections

from ._backend_ops import *  # noqa: F401,F403  (K.mean, K.square, ...: the tensor functions)

_IMAGE_DATA_FORMATS = ("channels_last", "channels_first")
_FLOATX = ("float32",)

_image_data_format = "channels_last"
_epsilon = 1e-7
_floatx = "float32"
_uids = collections.defaultdict(int)
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


class _LearningPhase:
    """What K.learning_phase() returns: a placeholder among a K.function's inputs, fed 0 (test
    mode: no dropout) or 1 (training mode)."""

    def __repr__(self):
        return "<keras learning_phase>"


_LEARNING_PHASE = _LearningPhase()


def learning_phase():
    return _LEARNING_PHASE


def function(inputs, outputs, updates=None, name=None, **kwargs):
    """Keras 2's K.function: a callable taking a list of arrays for `inputs` (symbolic tensors of a
    model, and optionally K.learning_phase()) and returning a list of NumPy arrays for `outputs`,
    e.g. a layer's activations: K.function([model.input], [model.layers[2].output])([x])[0]."""
    if updates:
        raise NotImplementedError("K.function(updates=...) is not supported by deepcore.keras")
    return _GraphFunction(inputs, outputs)


class _GraphFunction:
    def __init__(self, inputs, outputs):
        from .models import Model
        inputs = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        self._phase_at = [i for i, t in enumerate(inputs) if t is _LEARNING_PHASE]
        outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
        self._model = Model([t for t in inputs if t is not _LEARNING_PHASE], outputs)

    def __call__(self, values):
        from ..autograd import no_grad
        from ._common import to_keras
        values = list(values) if isinstance(values, (list, tuple)) else [values]
        expected = len(self._model.inputs) + len(self._phase_at)
        if len(values) != expected:
            raise ValueError(f"K.function: expected {expected} input value(s), got {len(values)}")
        training = bool(values.pop(self._phase_at[0])) if self._phase_at else False
        xs = self._model._prepare_inputs(values if len(values) > 1 else values[0])
        with no_grad():
            outs = self._model._run_graph(xs, training)
        outs = outs if isinstance(outs, list) else [outs]
        return [to_keras(o).numpy().copy() for o in outs]
