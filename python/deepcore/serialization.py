"""torch.serialization's allow-list, and whole modules in a deepcore file, without pickle.

``torch.save(model, f)`` stores the module tree as data: each module's class by name
("package.module:QualName"), its attributes (numbers, strings, lists, dicts, dtypes, devices, the
functions it holds such as an activation, by name) and its parameters and buffers as tensors,
tied parameters once. Loading rebuilds the tree from that data alone: it never imports a module
and never runs code from the file. A class or function named in the file is used only when it is

- one of deepcore's own (``deepcore.*``), or
- allow-listed by the caller: ``torch.serialization.safe_globals([...])`` / ``add_safe_globals``,
  as PyTorch's ``weights_only=True`` load requires, or
- with ``weights_only=False``, already imported in this process (looked up, never imported).

Instances are made with ``cls.__new__`` and their attributes set directly: no ``__init__`` runs,
as with PyTorch's unpickler.
"""
import contextlib
import sys
import types

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
    for g in _safe_globals:
        obj, alias = (g[0], g[1]) if isinstance(g, tuple) else (g, None)
        if alias == name or global_name(obj) == name:
            return obj
    module_name, _, qualname = name.partition(":")
    if module_name == "deepcore" or module_name.startswith("deepcore.") or not weights_only:
        module = sys.modules.get(module_name)
        obj = module
        for part in qualname.split("."):
            obj = getattr(obj, part, None) if obj is not None else None
        if obj is not None:
            return obj
        if not weights_only:
            raise ValueError(f"deepcore.load: {path!r} names {name}, which is not defined in this process: import "
                             f"the code that defines it before loading (deepcore.load never imports modules)")
    raise ValueError(f"deepcore.load: {path!r} holds {name}, which is not allow-listed: wrap the load in "
                     f"torch.serialization.safe_globals([{qualname.split('.')[-1]}, ...]) (or "
                     f"add_safe_globals) if you trust this file")


def flatten_extra(obj, path, tensors, flatten):
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


EXTRA_TAGS = ("__parameter__", "__module__", "__dtype__", "__device__", "__global__", "__set__")


def restore_extra(layout, unflatten, memo, weights_only, path):
    """Rebuilds a value tagged by flatten_extra."""
    if "__parameter__" in layout:
        tensor = unflatten(layout["__parameter__"])
        key = id(tensor)
        if key not in memo:  # a tied parameter is one Parameter object, as it was when saved
            memo[key] = Parameter(tensor, requires_grad=bool(layout.get("requires_grad", True)))
        return memo[key]
    if "__module__" in layout:
        cls = _lookup(layout["__module__"], weights_only, path)
        if not (isinstance(cls, type) and issubclass(cls, Module)):
            raise ValueError(f"deepcore.load: {path!r}: {layout['__module__']} is not an nn.Module class")
        module = cls.__new__(cls)
        object.__setattr__(module, "_forward_hooks", {})
        object.__setattr__(module, "_forward_pre_hooks", {})
        for key, value in layout["state"]:
            object.__setattr__(module, key, unflatten(value))
        return module
    if "__dtype__" in layout:
        return as_dtype(layout["__dtype__"])
    if "__device__" in layout:
        return _device(layout["__device__"])
    if "__global__" in layout:
        return _lookup(layout["__global__"], weights_only, path)
    return set(unflatten(v) for v in layout["__set__"])
