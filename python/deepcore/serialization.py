"""The layout of what deepcore.save stores beyond a flat state_dict, torch.serialization's
allow-list, and whole modules in a deepcore file, without pickle.

deepcore.save turns any object it can store into a JSON layout (``flatten``): dicts, lists,
tuples, numbers, strings, NumPy arrays, and its tensors by name; ``unflatten`` is the inverse and
checks every entry, so a damaged or hostile layout raises ValueError naming the file.

``torch.save(model, f)`` stores the module tree as data: each module's class by name
("package.module:QualName"), its attributes (numbers, strings, lists, dicts, dtypes, devices, the
functions it holds such as an activation, by name) and its parameters and buffers as tensors,
tied parameters once. Loading rebuilds the tree from that data alone: it never imports a module
and never runs code from the file. A class or function named in the file is used only when it is

- one of deepcore's own (defined in a ``deepcore.*`` module, not merely imported there), or
- allow-listed by the caller: ``torch.serialization.safe_globals([...])`` / ``add_safe_globals``,
  as PyTorch's ``weights_only=True`` load requires, or
- with ``weights_only=False``, already imported in this process (looked up, never imported).

Instances are made with ``cls.__new__`` and their attributes set directly: no ``__init__`` runs,
as with PyTorch's unpickler.
"""
import contextlib
import math
import sys
import types
from collections import OrderedDict

import numpy as np

from .device import device as _device
from .dtypes import as_dtype, dtype as _dtype
from .nn.modules.module import Module
from .nn.parameter import Parameter
from .tensor import Tensor

_safe_globals = []  # what add_safe_globals registered: objects, or (object, "module:qualname") pairs


def add_safe_globals(safe_globals):
    """Allow these classes and functions to be rebuilt by name when loading (PyTorch's allow-list)."""
    for g in safe_globals:
        obj = g[0] if isinstance(g, tuple) else g
        if not callable(obj):
            raise TypeError(f"add_safe_globals: expected classes or functions, got {obj!r}")
        _safe_globals.append(g)


def get_safe_globals():
    return list(_safe_globals)


def clear_safe_globals():
    _safe_globals.clear()


@contextlib.contextmanager
def safe_globals(safe_globals):
    """``with torch.serialization.safe_globals([MyModel, ...]): torch.load(f)``: the allow-list for
    the block only."""
    before = list(_safe_globals)
    add_safe_globals(safe_globals)
    try:
        yield
    finally:
        _safe_globals[:] = before


def global_name(obj):
    return f"{obj.__module__}:{obj.__qualname__}"


def _lookup(name, weights_only, path):
    if not isinstance(name, str) or name.count(":") != 1:
        raise _malformed(path, f"a class or function is named by {name!r}, not 'package.module:QualName'")
    for g in _safe_globals:
        obj, alias = (g[0], g[1]) if isinstance(g, tuple) else (g, None)
        if alias == name or global_name(obj) == name:
            return obj
    module_name, _, qualname = name.partition(":")
    if module_name == "deepcore" or module_name.startswith("deepcore.") or not weights_only:
        obj = sys.modules.get(module_name)
        for part in qualname.split("."):
            # No dunder steps (__globals__, __builtins__): only names the module itself defines.
            obj = getattr(obj, part, None) if obj is not None and not part.startswith("__") else None
        # With weights_only, defined there, not imported there: 'deepcore.io:os.system' must not reach os.system.
        if obj is not None and (not weights_only or (getattr(obj, "__module__", None) == module_name and
                                                     getattr(obj, "__qualname__", None) == qualname)):
            return obj
        if not weights_only:
            raise ValueError(f"deepcore.load: {path!r} names {name}, which is not defined in this process: import "
                             f"the code that defines it before loading (deepcore.load never imports modules)")
    raise ValueError(f"deepcore.load: {path!r} holds {name}, which is not allow-listed: wrap the load in "
                     f"torch.serialization.safe_globals([{qualname.split('.')[-1]}, ...]) (or "
                     f"add_safe_globals) if you trust this file")


# ---- the layout: any saved object as JSON, its tensors named by path ---------------------------

STRUCTURE_KEY = "deepcore.structure"  # the __metadata__ entry holding the layout


class TensorTable(OrderedDict):
    """name -> tensor, and which object each name came from: a tensor held twice is stored once."""

    def __init__(self):
        super().__init__()
        self.names = {}


def flatten(obj, path, tensors, original=None):
    """The JSON layout of `obj`, with each tensor moved into `tensors` under a path name."""
    extra = _flatten_extra(obj, path, tensors)
    if extra is not None:
        return extra
    if isinstance(obj, Tensor):
        key = id(original if original is not None else obj)
        if key in tensors.names:  # tied weights: one tensor, named once
            return {"__tensor__": tensors.names[key]}
        name = path or "tensor"
        while name in tensors:
            name += "_"
        tensors[name] = obj
        tensors.names[key] = name
        return {"__tensor__": name}
    if isinstance(obj, dict):
        items = []
        for k, v in obj.items():
            if not isinstance(k, (str, int, float, bool)) and k is not None:
                raise TypeError(f"deepcore.save: dict keys must be str, int, float, bool or None, got "
                                f"{type(k).__name__}")
            items.append([k, flatten(v, f"{path}.{k}" if path else str(k), tensors)])
        return {"__dict__": items}
    if isinstance(obj, (list, tuple)):
        values = [flatten(v, f"{path}.{i}" if path else str(i), tensors) for i, v in enumerate(obj)]
        return values if isinstance(obj, list) else {"__tuple__": values}
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else {"__float__": repr(obj)}
    if isinstance(obj, np.generic):
        return flatten(obj.item(), path, tensors)
    if isinstance(obj, np.ndarray):  # torch.save(array): loads back as the same NumPy array
        if obj.dtype.kind not in "biuf" or obj.dtype.itemsize > 8:
            raise TypeError(f"deepcore.save: cannot store a NumPy array of dtype {obj.dtype} (bool, integer and "
                            f"float arrays are supported)")
        kind = "bool" if obj.dtype.kind == "b" else ("float64" if obj.dtype.kind == "f" else "int64")
        return {"__ndarray__": flatten(Tensor(np.asarray(obj, dtype=kind)), path, tensors), "dtype": obj.dtype.str}
    raise TypeError(f"deepcore.save: cannot store an object of type {type(obj).__name__} (tensors, dicts, lists, "
                    f"tuples, numbers, strings and None are supported)")


def _flatten_extra(obj, path, tensors):
    """The layout of the values that only whole-module saves hold; None for the others."""
    if isinstance(obj, Parameter):
        return {"__parameter__": flatten(Tensor._make(obj._data), path, tensors, original=obj),
                "requires_grad": obj.requires_grad}
    if isinstance(obj, Module):
        state = []
        for key, value in obj.__dict__.items():
            if key in ("_forward_hooks", "_forward_pre_hooks") and value:
                raise TypeError(f"deepcore.save: {path or type(obj).__name__} has forward hooks, which are code; "
                                f"remove them before saving the module")
            if key in ("_forward_hooks", "_forward_pre_hooks"):
                continue  # rebuilt empty
            if key == "_non_persistent_buffers":
                state.append([key, {"__set__": sorted(value)}])
                continue
            state.append([key, flatten(value, f"{path}.{key}" if path else key, tensors)])
        return {"__module__": global_name(type(obj)), "state": state}
    if isinstance(obj, _dtype):
        return {"__dtype__": obj.name}
    if isinstance(obj, _device):
        return {"__device__": str(obj)}
    if isinstance(obj, (types.FunctionType, types.BuiltinFunctionType, type)):
        if "<locals>" in obj.__qualname__ or obj.__qualname__ == "<lambda>":
            raise TypeError(f"deepcore.save: {path} is a local function or lambda ({obj.__qualname__}), which can "
                            f"only be stored by name; use a module-level function")
        return {"__global__": global_name(obj)}
    if isinstance(obj, (set, frozenset)):
        return {"__set__": [flatten(v, path, tensors) for v in obj]}
    return None


_EXTRA_TAGS = ("__parameter__", "__module__", "__dtype__", "__device__", "__global__", "__set__")


def _malformed(path, what):
    return ValueError(f"deepcore.load: {path!r} is not a valid safetensors file: its structure (__metadata__"
                      f"[{STRUCTURE_KEY!r}]) is malformed: {what}")


def unflatten(layout, tensors, path, weights_only=True):
    """The object a layout describes, its tensors taken from `tensors` (the inverse of flatten).
    Every entry is checked: a damaged or hostile layout raises ValueError naming the file."""
    try:
        return _Unflattener(tensors, path, weights_only).value(layout)
    except RecursionError:
        raise _malformed(path, "it is nested too deeply") from None


class _Unflattener:
    def __init__(self, tensors, path, weights_only):
        self.tensors, self.path, self.weights_only = tensors, path, weights_only
        self.memo = {}  # id(tensor) -> its Parameter: a tied parameter comes back as one object

    def bad(self, what):
        return _malformed(self.path, what)

    def value(self, layout):
        if isinstance(layout, list):
            return [self.value(v) for v in layout]
        if not isinstance(layout, dict):
            return layout  # a JSON number, string, bool or null
        keys = set(layout)
        if len(keys) <= 2 and keys & set(_EXTRA_TAGS):
            return self.extra(layout)
        if keys == {"__tensor__"}:
            name = layout["__tensor__"]
            if not isinstance(name, str) or name not in self.tensors:
                raise self.bad(f"it refers to a tensor {name!r} that is not in the file")
            return self.tensors[name]
        if keys == {"__dict__"}:
            items = layout["__dict__"]
            if not isinstance(items, list) or not all(isinstance(i, list) and len(i) == 2 for i in items):
                raise self.bad("a __dict__ entry must be a list of [key, value] pairs")
            return OrderedDict((self.key(k), self.value(v)) for k, v in items)
        if keys == {"__tuple__"}:
            return tuple(self.value(v) for v in self.listed(layout, "__tuple__"))
        if keys == {"__ndarray__", "dtype"}:
            return self.ndarray(layout)
        if keys == {"__float__"}:
            text = layout["__float__"]
            if text not in ("inf", "-inf", "nan"):
                raise self.bad(f"__float__ holds {text!r}; only inf, -inf and nan are stored that way")
            return float(text)
        raise self.bad(f"unknown entry with keys {sorted(keys)}")

    def listed(self, layout, tag):
        if not isinstance(layout[tag], list):
            raise self.bad(f"{tag} must hold a list, not {type(layout[tag]).__name__}")
        return layout[tag]

    def key(self, k):
        if isinstance(k, list):  # a tuple key
            return tuple(self.key(v) for v in k)
        if isinstance(k, dict):
            raise self.bad("a dict key cannot be a JSON object")
        return k

    def ndarray(self, layout):
        try:
            npd = np.dtype(layout["dtype"]) if isinstance(layout["dtype"], str) else None
        except (TypeError, ValueError):
            npd = None
        if npd is None or npd.kind not in "biuf":
            raise self.bad(f"a NumPy array of dtype {layout['dtype']!r} cannot be in a deepcore file")
        tensor = self.value(layout["__ndarray__"])
        if not isinstance(tensor, Tensor):
            raise self.bad("an __ndarray__ entry must hold a tensor")
        return tensor.numpy().astype(npd)

    def extra(self, layout):
        """Rebuilds a value tagged by _flatten_extra."""
        if "__parameter__" in layout:
            tensor = self.value(layout["__parameter__"])
            if not isinstance(tensor, Tensor) or not isinstance(layout.get("requires_grad", True), bool):
                raise self.bad("a __parameter__ entry must hold a tensor and a bool requires_grad")
            if id(tensor) not in self.memo:
                self.memo[id(tensor)] = Parameter(tensor, requires_grad=layout.get("requires_grad", True))
            return self.memo[id(tensor)]
        if "__module__" in layout:
            return self.module(layout)
        for tag, make in (("__dtype__", as_dtype), ("__device__", _device)):
            if tag in layout:
                try:
                    if isinstance(layout[tag], str):
                        return make(layout[tag])
                except (TypeError, ValueError, RuntimeError, KeyError):
                    pass
                raise self.bad(f"{tag} holds {layout[tag]!r}, which names no {tag.strip('_')}")
        if "__global__" in layout:
            return _lookup(layout["__global__"], self.weights_only, self.path)
        try:
            return set(self.value(v) for v in self.listed(layout, "__set__"))
        except TypeError:  # an unhashable member
            raise self.bad("a __set__ entry holds a value that cannot be in a set") from None

    def module(self, layout):
        cls = _lookup(layout["__module__"], self.weights_only, self.path)
        if not (isinstance(cls, type) and issubclass(cls, Module)):
            raise ValueError(f"deepcore.load: {self.path!r}: {layout['__module__']} is not an nn.Module class")
        state = layout.get("state")
        if not isinstance(state, list) or not all(isinstance(i, list) and len(i) == 2 and isinstance(i[0], str)
                                                  and i[0].isidentifier() and not i[0].startswith("__")
                                                  for i in state):
            raise self.bad(f"the state of a {cls.__name__} must be [name, value] pairs, each name a plain "
                           f"attribute name")
        module = cls.__new__(cls)
        object.__setattr__(module, "_forward_hooks", {})
        object.__setattr__(module, "_forward_pre_hooks", {})
        for key, value in state:
            value = self.value(value)
            if key in ("_parameters", "_buffers", "_modules") and not isinstance(value, dict):
                raise self.bad(f"{cls.__name__}.{key} must be a dict, not {type(value).__name__}")
            object.__setattr__(module, key, value)
        return module
