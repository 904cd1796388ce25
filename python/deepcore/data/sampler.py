"""Samplers: the order in which a DataLoader visits a dataset's positions."""
import numbers

from ..dtypes import int64
from ..ops.random import randperm
from ..tensor import arange, tensor
from .dataset import _permutation


class Sampler:
    """Yields dataset positions; ``__len__`` says how many."""

    def __iter__(self):
        raise NotImplementedError

    def _index_tensor(self):
        """The positions of one pass as an int64 tensor (None: iterate instead)."""
        return None


class SequentialSampler(Sampler):
    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)

    def _index_tensor(self):
        return arange(len(self.data_source))


class RandomSampler(Sampler):
    """A fresh permutation per pass, drawn from deepcore's global stream
    (``deepcore.manual_seed`` makes the order reproducible)."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        if replacement or num_samples is not None:
            raise NotImplementedError("RandomSampler: replacement and num_samples are not supported yet")
        self.data_source = data_source
        self.generator = generator

    def __iter__(self):
        return iter(self._index_tensor().tolist())

    def __len__(self):
        return len(self.data_source)

    def _index_tensor(self):
        if self.generator is not None:
            return _permutation(len(self.data_source), self.generator)
        return randperm(len(self.data_source))


class SubsetRandomSampler(Sampler):
    """The given positions in a fresh random order per pass (e.g. a validation split)."""

    def __init__(self, indices, generator=None):
        self.indices = [int(i) for i in indices]
        self.generator = generator

    def __iter__(self):
        return iter(self._index_tensor().tolist())

    def __len__(self):
        return len(self.indices)

    def _index_tensor(self):
        if not self.indices:
            return tensor([], dtype=int64)
        return tensor(self.indices).index_select(0, _permutation(len(self.indices), self.generator))


class BatchSampler(Sampler):
    """Groups a sampler's positions into lists of `batch_size` (the last one shorter unless drop_last)."""

    def __init__(self, sampler, batch_size, drop_last):
        if not isinstance(batch_size, numbers.Integral) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size!r}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last!r}")
        self.sampler, self.batch_size, self.drop_last = sampler, int(batch_size), drop_last

    def __iter__(self):
        batch = []
        for i in self.sampler:
            batch.append(i)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else (n + self.batch_size - 1) // self.batch_size
