"""default_collate and default_convert: how the DataLoader turns a list of samples into a batch
(and, without auto-batching, one sample's NumPy arrays into tensors), with torch.utils.data's rules.

Type mapping of default_collate (elem = the batch's first sample):

    Tensor                  -> stacked along a new dim 0
    NumPy array / scalar    -> a tensor of it (stacked); string and object arrays are an error
    float                   -> float64 tensor;  int -> int64 tensor;  bool -> bool tensor
    str, bytes              -> the list unchanged
    Mapping                 -> the same mapping type, collated per key
    namedtuple              -> the same namedtuple type, collated per field
    tuple, other Sequence   -> a list (tuple) or the same sequence type (list), collated per position

deepcore holds float32, float64, int64 and bool: narrower NumPy integers (uint8, int32, ...) become
int64 and float16 becomes float32.
"""
import collections.abc
import copy
import re

import numpy as np

from ..dtypes import bool_, float32, float64, int64
from ..ops.shape import stack
from ..tensor import Tensor, tensor

_STRING_OR_OBJECT = re.compile(r"[SaUO]")
_ERROR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def _as_deepcore_dtype(np_dtype):
    if np_dtype == np.bool_:
        return bool_
    if np_dtype.kind in "iu":
        return int64
    if np_dtype == np.float64:
        return float64
    if np_dtype.kind == "f":
        return float32
    raise TypeError(_ERROR.format(np_dtype))


def _from_numpy(value):
    """A deepcore tensor holding a NumPy array or scalar (a copy, in the nearest deepcore dtype)."""
    arr = np.asarray(value)
    return tensor(arr, dtype=_as_deepcore_dtype(arr.dtype))


def _is_numpy(value):
    kind = type(value)
    return kind.__module__ == "numpy" and kind.__name__ not in ("str_", "string_", "bytes_")


def default_convert(data):
    """Turn the NumPy arrays and scalars inside `data` into tensors, leaving everything else as it is
    (the DataLoader's collate_fn when batch_size=None)."""
    if isinstance(data, Tensor):
        return data
    if _is_numpy(data):
        if isinstance(data, np.ndarray) and _STRING_OR_OBJECT.search(data.dtype.str) is not None:
            return data
        return _from_numpy(data)
    if isinstance(data, collections.abc.Mapping):
        converted = {key: default_convert(data[key]) for key in data}
        return _rebuild_mapping(data, converted)
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # namedtuple
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _rebuild_sequence(data, [default_convert(d) for d in data])
    return data


def _rebuild_mapping(like, values):
    """`values` (a dict) in the mapping type of `like` where that type can be rebuilt, else a dict."""
    try:
        if isinstance(like, collections.abc.MutableMapping):
            clone = copy.copy(like)
            clone.update(values)
            return clone
        return type(like)(values)
    except TypeError:
        return values


def _rebuild_sequence(like, items):
    try:
        if isinstance(like, collections.abc.MutableSequence):
            clone = copy.copy(like)
            for i, item in enumerate(items):
                clone[i] = item
            return clone
        return type(like)(items)
    except TypeError:
        return items


def default_collate(batch):
    """Merge a list of samples into a batch (see the module docstring for the rules)."""
    if len(batch) == 0:
        raise IndexError("default_collate: got an empty batch (a list of samples is expected)")
    elem = batch[0]
    if isinstance(elem, Tensor):
        return stack(list(batch), 0)
    if _is_numpy(elem):
        if isinstance(elem, np.ndarray):
            if _STRING_OR_OBJECT.search(elem.dtype.str) is not None:
                raise TypeError(_ERROR.format(elem.dtype))
            return _from_numpy(np.stack(batch))
        return _from_numpy(np.array(batch))  # NumPy scalars keep their dtype, as torch.as_tensor does
    if isinstance(elem, bool):
        return tensor(list(batch), dtype=bool_)
    if isinstance(elem, float):
        return tensor(list(batch), dtype=float64)
    if isinstance(elem, int):
        return tensor(list(batch), dtype=int64)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        return _rebuild_mapping(elem, {key: default_collate([d[key] for d in batch]) for key in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(samples) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(b) != size for b in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        columns = [default_collate(samples) for samples in zip(*batch)]
        return columns if isinstance(elem, tuple) else _rebuild_sequence(elem, columns)
    raise TypeError(_ERROR.format(type(elem)))
