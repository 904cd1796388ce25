"""Datasets: the map-style protocol (``__getitem__`` + ``__len__``), tensors as a
dataset, subsets and random splits.

A dataset may also define ``_gather_batch(index)``: given an int64 tensor of
positions it returns the whole collated batch, computed by native batched ops.
The DataLoader uses it (when the default collate applies) instead of one
``__getitem__`` call per sample, and falls back when it returns NotImplemented.
"""
import bisect
import math
import numbers

from ..dtypes import int64
from ..generator import Generator
from ..ops.random import randperm
from ..tensor import Tensor, tensor


class Dataset:
    """Map-style dataset: subclasses define ``__getitem__(i)`` and ``__len__()`` (and may define
    ``__getitems__(list of positions)``, which the DataLoader then uses for a whole batch)."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A stream of samples: subclasses define ``__iter__``. With DataLoader workers every worker
    iterates its own copy, so split the stream by ``get_worker_info()`` (in ``__iter__`` or in
    worker_init_fn) or each worker yields all of it."""

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")

    def __add__(self, other):
        return ChainDataset([self, other])


class ChainDataset(IterableDataset):
    """IterableDatasets one after another, chained on the fly."""

    def __init__(self, datasets):
        self.datasets = datasets

    def __iter__(self):
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            yield from d

    def __len__(self):
        total = 0
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            total += len(d)
        return total


class TensorDataset(Dataset):
    """Samples are tuples ``(t[i] for t in tensors)``; all tensors share their first dimension."""

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: expected at least one tensor")
        for k, t in enumerate(tensors):
            if not isinstance(t, Tensor):
                raise TypeError(f"TensorDataset: argument {k} is a {type(t).__name__}, expected a deepcore Tensor")
            if t.ndim == 0:
                raise ValueError(f"TensorDataset: argument {k} is a 0-d tensor; samples are taken along dim 0")
        n = tensors[0].shape[0]
        for k, t in enumerate(tensors):
            if t.shape[0] != n:  # AssertionError, as PyTorch raises
                raise AssertionError(f"TensorDataset: Size mismatch between tensors: argument 0 has {n} rows, "
                                     f"argument {k} has {t.shape[0]} (shape {tuple(t.shape)})")
        self.tensors = tuple(tensors)

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]

    def _gather_batch(self, index):
        if any(t.is_cuda for t in self.tensors):  # no CUDA gather kernel yet: per sample
            return NotImplemented
        return tuple(t.index_select(0, index) for t in self.tensors)


class StackDataset(Dataset):
    """Datasets of one length side by side: sample i is the tuple (or, given keywords, the dict) of
    their samples i."""

    def __init__(self, *args, **kwargs):
        if args and kwargs:
            raise ValueError("Supported either ``tuple``- (via ``args``) or``dict``- (via ``kwargs``) like input/"
                             "output, but both types are given.")
        if not args and not kwargs:
            raise ValueError("At least one dataset should be passed")
        members = list(args) if args else list(kwargs.values())
        self._length = len(members[0])
        if any(len(d) != self._length for d in members):
            raise ValueError("Size mismatch between datasets")
        self.datasets = args if args else kwargs

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {k: d[index] for k, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __len__(self):
        return self._length


class Subset(Dataset):
    """The samples of `dataset` at `indices` (in that order; negative positions count from the end,
    as list indexing does)."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = [int(i) for i in indices]
        self._index_tensor = None

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices):
        getitems = getattr(self.dataset, "__getitems__", None)
        if callable(getitems):
            return getitems([self.indices[i] for i in indices])
        return [self.dataset[self.indices[i]] for i in indices]

    def __len__(self):
        return len(self.indices)

    def _gather_batch(self, index):
        gather = getattr(self.dataset, "_gather_batch", None)
        if gather is None:
            return NotImplemented
        if self._index_tensor is None or len(self._index_tensor) != len(self.indices):
            self._index_tensor = tensor(self.indices) if self.indices else tensor([], dtype=int64)
        return gather(self._index_tensor.index_select(0, index))


class ConcatDataset(Dataset):
    """Datasets one after another."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:  # AssertionError, as PyTorch raises
            raise AssertionError("datasets should not be an empty iterable")
        if any(isinstance(d, IterableDataset) for d in self.datasets):
            raise AssertionError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes, total = [], 0
        for d in self.datasets:
            total += len(d)
            self.cumulative_sizes.append(total)

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        if idx < 0:
            if -idx > len(self):  # ValueError, as PyTorch raises
                raise ValueError(f"absolute value of index should not exceed dataset length (index {idx}, "
                                 f"length {len(self)})")
            idx += len(self)
        k = bisect.bisect_right(self.cumulative_sizes, idx)
        if k >= len(self.datasets):
            raise IndexError(f"ConcatDataset: index {idx} is out of range for length {len(self)}")
        start = self.cumulative_sizes[k - 1] if k else 0
        return self.datasets[k][idx - start]


def _private_generator(generator):
    """The Generator a sampler or split draws from: None (deepcore's global stream) for None; a
    deepcore.Generator as it is (each draw advances it, as in PyTorch); for an int seed (or an object
    with ``initial_seed()``, e.g. a torch.Generator) a fresh Generator seeded with it, so every pass
    repeats that seed's draw. The global stream is never touched when a generator is given, whatever
    other threads draw meanwhile."""
    if generator is None or isinstance(generator, Generator):
        return generator
    if isinstance(generator, numbers.Integral) and not isinstance(generator, bool):
        seed = int(generator)
    elif hasattr(generator, "initial_seed"):
        seed = int(generator.initial_seed())
    else:
        raise TypeError(f"generator must be None, a deepcore.Generator, an int seed or an object with "
                        f"initial_seed(), got {type(generator).__name__}")
    return Generator().manual_seed(seed & 0xFFFFFFFFFFFFFFFF)


def _permutation(n, generator):
    """randperm(n) from deepcore's global stream, or from `generator` (see _private_generator)."""
    return randperm(n, generator=_private_generator(generator))


def random_split(dataset, lengths, generator=None):
    """Split `dataset` into non-overlapping random Subsets of the given lengths.

    lengths: ints summing to len(dataset), or fractions summing to 1 (e.g.
    [0.8, 0.1, 0.1] for train/test/holdout; floor(frac * n) each, the remainder
    handed out one by one, round-robin, as in PyTorch). The permutation comes
    from deepcore.manual_seed's stream, or from `generator` (a deepcore.Generator or an int seed).
    """
    lengths = list(lengths)
    n = len(dataset)
    if not lengths:
        raise ValueError("random_split: lengths is empty")
    if all(isinstance(x, numbers.Real) for x in lengths) and math.isclose(sum(lengths), 1.0) and sum(lengths) <= 1:
        if any(x < 0 or x > 1 for x in lengths):
            raise ValueError(f"random_split: fractions must lie in [0, 1], got {lengths}")
        sizes = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
        lengths = sizes
    for x in lengths:
        if not isinstance(x, numbers.Integral) or x < 0:
            raise ValueError(f"random_split: lengths must be non-negative ints or fractions, got {lengths}")
    if sum(lengths) != n:
        raise ValueError(f"random_split: sum of input lengths ({sum(lengths)}) does not equal the length of the "
                         f"input dataset ({n})")
    perm = _permutation(n, generator).tolist()
    out, start = [], 0
    for length in lengths:
        out.append(Subset(dataset, perm[start:start + length]))
        start += length
    return out
