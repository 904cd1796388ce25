"""deepcore.save / deepcore.load: tensors and state dicts in the safetensors format.

A file is: 8 bytes (little-endian uint64) = N, the length of a JSON header;
N bytes of JSON, ``{name: {"dtype": "F32", "shape": [...], "data_offsets":
[begin, end]}, ..., "__metadata__": {str: str}}``; then the raw little-endian
bytes of every tensor, offsets relative to the end of the header, no holes.
A flat dict of tensors (a state_dict) is a plain safetensors file that other
safetensors readers load too. Anything else (optimizer states: nested dicts
and lists of tensors and plain numbers) is stored as tensors named by their
path plus the layout as JSON in ``__metadata__["deepcore.structure"]``.

Nothing is ever pickled: load never runs code from a file. A corrupt or
truncated file raises ValueError naming the file and the problem.
"""
import json
import math
import os
import struct
import tempfile
from collections import OrderedDict

import numpy as np

from . import serialization
from .tensor import Tensor

_DTYPE_TAGS = {"float32": "F32", "float64": "F64", "int64": "I64", "bool": "BOOL"}
_NUMPY_OF_TAG = {"F32": np.dtype("<f4"), "F64": np.dtype("<f8"), "I64": np.dtype("<i8"), "BOOL": np.dtype("bool")}
_STRUCTURE_KEY = "deepcore.structure"
_FORMAT_KEY = "format"
_MAX_HEADER = 100 * 1024 * 1024  # the safetensors limit: a larger header means a corrupt file


# ---- saving ------------------------------------------------------------------------------

def _is_flat_tensor_dict(obj):
    return isinstance(obj, dict) and all(isinstance(k, str) and isinstance(v, Tensor) for k, v in obj.items())


class _TensorTable(OrderedDict):
    """name -> tensor, and which object each name came from: a tensor held twice is stored once."""

    def __init__(self):
        super().__init__()
        self.names = {}


def _flatten(obj, path, tensors, original=None):
    """The JSON layout of `obj`, with each tensor moved into `tensors` under a path name."""
    extra = serialization.flatten_extra(obj, path, tensors, _flatten)
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
            items.append([k, _flatten(v, f"{path}.{k}" if path else str(k), tensors)])
        return {"__dict__": items}
    if isinstance(obj, (list, tuple)):
        values = [_flatten(v, f"{path}.{i}" if path else str(i), tensors) for i, v in enumerate(obj)]
        return values if isinstance(obj, list) else {"__tuple__": values}
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else {"__float__": repr(obj)}
    if isinstance(obj, np.generic):
        return _flatten(obj.item(), path, tensors)
    if isinstance(obj, np.ndarray):  # torch.save(array): loads back as the same NumPy array
        if obj.dtype.kind not in "biuf" or obj.dtype.itemsize > 8:
            raise TypeError(f"deepcore.save: cannot store a NumPy array of dtype {obj.dtype} (bool, integer and "
                            f"float arrays are supported)")
        kind = "bool" if obj.dtype.kind == "b" else ("float64" if obj.dtype.kind == "f" else "int64")
        return {"__ndarray__": _flatten(Tensor(np.asarray(obj, dtype=kind)), path, tensors), "dtype": obj.dtype.str}
    raise TypeError(f"deepcore.save: cannot store an object of type {type(obj).__name__} (tensors, dicts, lists, "
                    f"tuples, numbers, strings and None are supported)")


def save(obj, f, metadata=None):
    """Writes a tensor, a state_dict (dict of name -> tensor), a nested structure of dicts/lists of
    tensors and plain numbers (an optimizer's state_dict), or a whole module (its tree as data, see
    deepcore.serialization) to `f` in the safetensors format. f: a path, or a file opened for binary
    writing. metadata: optional dict of str -> str stored in the header. A path is written to a
    temporary name and renamed, so an interrupted save never leaves a half-written file behind."""
    tensors = _TensorTable()
    meta = {_FORMAT_KEY: "pt"}
    if _is_flat_tensor_dict(obj):
        tensors.update(obj)
    else:
        meta[_STRUCTURE_KEY] = json.dumps(_flatten(obj, "", tensors))
    if metadata:
        for k, v in metadata.items():
            if not isinstance(k, str) or not isinstance(v, str):
                raise TypeError("deepcore.save: metadata must map str to str")
            meta[k] = v
    header = {"__metadata__": meta}
    arrays = []
    offset = 0
    for name, t in tensors.items():
        arr = t.detach().cpu().numpy()  # np.ascontiguousarray would turn a 0-d array into 1-d
        arr = np.array(arr, dtype=arr.dtype.newbyteorder("<"), order="C", copy=not arr.flags.c_contiguous)
        header[name] = {"dtype": _DTYPE_TAGS[t.dtype.name], "shape": list(arr.shape),
                        "data_offsets": [offset, offset + arr.nbytes]}
        offset += arr.nbytes
        arrays.append(arr)
    blob = json.dumps(header, separators=(",", ":")).encode("utf-8")
    blob += b" " * (-len(blob) % 8)  # keeps the data 8-byte aligned, as the reference writer does
    if hasattr(f, "write"):  # torch.save(obj, open(path, "wb")): the caller owns the file
        f.write(struct.pack("<Q", len(blob)))
        f.write(blob)
        for arr in arrays:
            f.write(arr.tobytes())
        return
    path = os.fspath(f)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".deepcore-save-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(struct.pack("<Q", len(blob)))
            out.write(blob)
            for arr in arrays:
                out.write(arr.tobytes())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


# ---- loading -----------------------------------------------------------------------------

def _corrupt(path, what):
    return ValueError(f"deepcore.load: {path!r} is not a valid safetensors file: {what}")


def _read_tensors(path, data, header):
    entries = []
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
            raise _corrupt(path, f"entry {name!r} must have exactly dtype, shape and data_offsets")
        tag, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
        if tag not in _NUMPY_OF_TAG:
            raise _corrupt(path, f"tensor {name!r} has dtype {tag!r}; deepcore reads "
                                 f"{', '.join(_NUMPY_OF_TAG)}")
        if not isinstance(shape, list) or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0
                                                  for s in shape):
            raise _corrupt(path, f"tensor {name!r} has an invalid shape {shape!r}")
        if (not isinstance(offsets, list) or len(offsets) != 2 or
                not all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)):
            raise _corrupt(path, f"tensor {name!r} has invalid data_offsets {offsets!r}")
        begin, end = offsets
        npd = _NUMPY_OF_TAG[tag]
        expected = int(np.prod(shape, dtype=np.int64)) * npd.itemsize if shape else npd.itemsize
        if not 0 <= begin <= end or end - begin != expected:
            raise _corrupt(path, f"tensor {name!r} of shape {tuple(shape)} and dtype {tag} needs {expected} bytes, "
                                 f"but its data_offsets {offsets} span {end - begin}")
        entries.append((begin, end, name, npd, shape))
    entries.sort()
    position = 0
    for begin, end, name, _, _ in entries:
        if begin != position:
            raise _corrupt(path, f"tensor {name!r} starts at byte {begin} of the data, expected {position} "
                                 f"(overlapping or with a hole)")
        position = end
    if position != len(data):
        if position > len(data):
            raise _corrupt(path, f"the file is truncated: the header describes {position} bytes of tensor data, "
                                 f"but only {len(data)} follow it")
        raise _corrupt(path, f"{len(data) - position} unexpected bytes follow the last tensor")
    tensors = {}
    for begin, end, name, npd, shape in entries:
        arr = np.frombuffer(data, dtype=npd, count=(end - begin) // npd.itemsize, offset=begin) \
            if end > begin else np.zeros(0, dtype=npd)
        if npd == np.dtype("bool") and arr.size and arr.view(np.uint8).max() > 1:
            raise _corrupt(path, f"bool tensor {name!r} holds bytes other than 0 and 1")
        tensors[name] = np.array(arr.reshape(shape), dtype=npd.newbyteorder("="))
    return {name: tensors[name] for name in header if name != "__metadata__"}


def _unflatten(layout, tensors, path, weights_only=True, memo=None):
    memo = {} if memo is None else memo

    def again(v):
        return _unflatten(v, tensors, path, weights_only, memo)

    if isinstance(layout, list):
        return [again(v) for v in layout]
    if isinstance(layout, dict):
        if len(layout) <= 2 and any(tag in layout for tag in serialization.EXTRA_TAGS):
            return serialization.restore_extra(layout, again, memo, weights_only, path)
        if set(layout) == {"__tensor__"}:
            name = layout["__tensor__"]
            if name not in tensors:
                raise _corrupt(path, f"the structure refers to a tensor {name!r} that is not in the file")
            return tensors[name]
        if set(layout) == {"__dict__"}:
            return OrderedDict(((k if not isinstance(k, list) else tuple(k)), again(v))
                               for k, v in layout["__dict__"])
        if set(layout) == {"__tuple__"}:
            return tuple(again(v) for v in layout["__tuple__"])
        if set(layout) == {"__ndarray__", "dtype"}:
            try:
                npd = np.dtype(layout["dtype"])
            except TypeError:
                raise _corrupt(path, f"unknown NumPy dtype {layout['dtype']!r}") from None
            if npd.kind not in "biuf":
                raise _corrupt(path, f"a NumPy array of dtype {npd} cannot be in a deepcore file")
            return again(layout["__ndarray__"]).numpy().astype(npd)
        if set(layout) == {"__float__"}:
            return float(layout["__float__"])
        raise _corrupt(path, f"unknown structure entry with keys {sorted(layout)}")
    return layout


def load(f, map_location=None, weights_only=True):
    """Reads a file written by deepcore.save (or any safetensors file of float32/float64/int64/bool
    tensors) and returns what was saved: a dict name -> Tensor for a state_dict. map_location: a device
    to put the tensors on ('cpu' by default): a device or its name, a dict {saved location: device}
    (deepcore's files hold host copies, so the 'cpu' entry applies), or a function (tensor,
    'cpu') -> tensor. f: a path, or a file opened for binary reading.

    weights_only: as in PyTorch. Nothing is ever unpickled either way; the flag decides which
    classes and functions a saved module may name (see deepcore.serialization): with True (the
    default) deepcore's own and allow-listed ones, with False also any already imported."""
    if hasattr(f, "read"):
        path = getattr(f, "name", "<file object>")
        raw = f.read()
    else:
        path = os.fspath(f)
        try:
            with open(path, "rb") as fh:
                raw = fh.read()
        except IsADirectoryError:
            raise ValueError(f"deepcore.load: {path!r} is a directory, not a file") from None
    if len(raw) < 8:
        raise _corrupt(path, f"the file is truncated: {len(raw)} bytes, fewer than the 8-byte header length")
    (n,) = struct.unpack("<Q", raw[:8])
    hint = "" if raw[8:9] == b"{" else (" (a safetensors header starts with '{'; is this a safetensors file? "
                                        "torch.save writes a zip/pickle archive, which deepcore never reads)")
    if n > _MAX_HEADER:
        raise _corrupt(path, f"the header length field says {n} bytes, more than any real header" + hint)
    if 8 + n > len(raw):
        raise _corrupt(path, f"the file is truncated: the header needs {n} bytes but the file has only "
                             f"{len(raw) - 8} after the length field" + hint)
    try:
        header = json.loads(raw[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise _corrupt(path, f"the header is not valid JSON ({e})") from None
    if not isinstance(header, dict):
        raise _corrupt(path, f"the header is a JSON {type(header).__name__}, expected an object")
    metadata = header.get("__metadata__", {}) or {}
    if not isinstance(metadata, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                 for k, v in metadata.items()):
        raise _corrupt(path, "__metadata__ must map strings to strings")
    arrays = _read_tensors(path, memoryview(raw)[8 + n:], header)
    tensors = {name: _place(Tensor(arr), map_location) for name, arr in arrays.items()}
    structure = metadata.get(_STRUCTURE_KEY)
    if structure is None:
        return tensors
    try:
        layout = json.loads(structure)
    except json.JSONDecodeError as e:
        raise _corrupt(path, f"the structure in __metadata__ is not valid JSON ({e})") from None
    return _unflatten(layout, tensors, path, weights_only=bool(weights_only) if weights_only is not None else True)


def _place(tensor, map_location):
    if map_location is None:
        return tensor
    if isinstance(map_location, dict):
        target = map_location.get("cpu", "cpu")
        return tensor if target == "cpu" else tensor.to(target)
    if callable(map_location) and not isinstance(map_location, str):
        moved = map_location(tensor, "cpu")
        return moved if isinstance(moved, Tensor) else tensor
    return tensor.to(map_location)


def load_metadata(f):
    """The __metadata__ dict of a safetensors file (str -> str), without reading the tensors."""
    path = os.fspath(f)
    with open(path, "rb") as fh:
        head = fh.read(8)
        if len(head) < 8:
            raise _corrupt(path, "the file is truncated before the header length")
        (n,) = struct.unpack("<Q", head)
        if n > _MAX_HEADER:
            raise _corrupt(path, f"the header length field says {n} bytes")
        blob = fh.read(n)
    if len(blob) < n:
        raise _corrupt(path, "the file is truncated inside the header")
    try:
        return json.loads(blob.decode("utf-8")).get("__metadata__", {}) or {}
    except (UnicodeDecodeError, json.JSONDecodeError, AttributeError) as e:
        raise _corrupt(path, f"the header is not valid JSON ({e})") from None
