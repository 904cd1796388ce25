"""The class-name -> class table that rebuilds layers and models from their configs.

``layers/__init__.py`` registers the built-in layers, ``engine/training.py`` and
``engine/sequential.py`` register Model and Sequential, so this module (and the wrappers, which
rebuild the layer they wrap) needs none of them.
"""
import inspect

from .. import _common

_BUILTIN = {}  # class name -> the built-in layer or model class


def register(*classes):
    """Makes `classes` known to deserialize_layer by their names."""
    for cls in classes:
        _BUILTIN[cls.__name__] = cls


def deserialize_layer(config, custom_objects=None):
    """A layer (or model) from {'class_name', 'config'}; custom classes come from custom_objects."""
    name = config["class_name"]
    custom_objects = dict(_common._custom_scope, **(custom_objects or {}))
    cls = custom_objects.get(name) or _BUILTIN.get(name)
    if cls is None:
        raise ValueError(f"Unknown layer: {name}. A custom layer must be passed in custom_objects={{'{name}': "
                         f"{name}}}")
    from_config = cls.from_config
    if "custom_objects" in inspect.signature(from_config).parameters:
        return from_config(config["config"], custom_objects=custom_objects)
    return from_config(config["config"])
