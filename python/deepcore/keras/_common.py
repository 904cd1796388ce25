"""Helpers shared by the Keras facade: layouts, conversions, (de)serialization of objects."""
import re

import numpy as np

from ..tensor import Tensor

# Keras shows image tensors channels-last (N, H, W, C); deepcore's conv/pool kernels are NCHW.
# Inside a model every rank-4 tensor is kept NCHW ("internal layout"); it is converted only where
# Keras' layout is observable: model inputs/outputs, Flatten, Reshape, Lambda and user layers.


def to_internal(t):
    """Keras layout (N, H, W, C) -> internal (N, C, H, W); other ranks unchanged."""
    if isinstance(t, Tensor) and t.ndim == 4:
        return t.permute(0, 3, 1, 2).contiguous()
    return t


def to_keras(t):
    """Internal (N, C, H, W) -> Keras layout (N, H, W, C) (a contiguous copy); other ranks unchanged."""
    if isinstance(t, Tensor) and t.ndim == 4:
        return t.permute(0, 2, 3, 1).contiguous()
    return t


def as_list(x):
    if x is None:
        return []
    return list(x) if isinstance(x, (list, tuple)) else [x]


def unpack(xs):
    return xs[0] if len(xs) == 1 else xs


def snake_case(name):
    s = re.sub(r"(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    s = re.sub(r"([a-z])([A-Z])", r"\1_\2", s).lower()
    return s[1:] if s.startswith("_") else s


def as_tensor(x, dtype="float32"):
    """Array-like -> deepcore Tensor (interchange: NumPy only here, never per training step)."""
    if isinstance(x, Tensor):
        return x
    arr = np.asarray(x)
    if dtype == "float32" and arr.dtype != np.float32:
        arr = arr.astype(np.float32)
    # not np.ascontiguousarray on every array: it turns a 0-d array (a number) into shape (1,)
    return Tensor(arr if arr.flags["C_CONTIGUOUS"] else np.ascontiguousarray(arr))


def serialize(obj):
    """A JSON-able description of an activation/initializer/regularizer/loss/optimizer object."""
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    if hasattr(obj, "get_config") and not isinstance(obj, type):
        return {"class_name": getattr(obj, "_keras_name", type(obj).__name__), "config": obj.get_config()}
    name = getattr(obj, "__name__", None)
    if name is None:
        raise TypeError(f"deepcore.keras: cannot serialize {obj!r} (give it a __name__ or a get_config)")
    return name


_custom_scope = {}  # filled by load_model while it rebuilds a model (custom_objects)


def deserialize(spec, registry, custom_objects, kind):
    """The inverse of serialize: strings and {'class_name', 'config'} dicts looked up in
    custom_objects first, then in `registry` (name -> class or function)."""
    if spec is None or callable(spec):
        return spec
    custom_objects = dict(_custom_scope, **(custom_objects or {}))
    if isinstance(spec, dict):
        name, config = spec["class_name"], spec.get("config", {})
        cls = custom_objects.get(name) or registry.get(name)
        if cls is None:
            raise ValueError(f"Unknown {kind}: {name!r}. Pass it in custom_objects={{'{name}': ...}}")
        return cls.from_config(config) if hasattr(cls, "from_config") else cls(**config)
    if isinstance(spec, str):
        obj = custom_objects.get(spec) or registry.get(spec)
        if obj is None:
            raise ValueError(f"Unknown {kind}: {spec!r}. Known: {', '.join(sorted(registry))}; or pass it in "
                             f"custom_objects")
        return obj
    raise TypeError(f"Could not interpret {kind} identifier: {spec!r}")
