"""Samplers: the order in which a DataLoader visits a dataset's positions."""
import numbers

from ..dtypes import float64, int64
from ..ops.random import rand, randint, randperm
from ..ops.shape import cat
from ..tensor import Tensor, arange, tensor
from .dataset import _permutation, _private_generator


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
    (``deepcore.manual_seed`` makes the order reproducible), or from `generator` (a
    deepcore.Generator, or an int seed: see data/dataset.py _private_generator). num_samples: that many positions
    (whole permutations one after another, the last one cut); replacement=True: independent
    uniform draws."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got replacement={replacement}")
        self.data_source, self.replacement, self._num_samples = data_source, replacement, num_samples
        self.generator = generator
        if not isinstance(self.num_samples, numbers.Integral) or isinstance(self.num_samples, bool) or \
                self.num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={self.num_samples}")

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        return iter(self._index_tensor().tolist())

    def __len__(self):
        return self.num_samples

    def _index_tensor(self):
        n, k, g = len(self.data_source), self.num_samples, _private_generator(self.generator)
        if self.replacement:
            return randint(0, n, (k,), generator=g)
        if k == n:
            return randperm(n, generator=g)
        parts = [randperm(n, generator=g) for _ in range(k // n)] + \
            ([randperm(n, generator=g)[:k % n]] if k % n else [])
        return cat(parts, 0) if len(parts) > 1 else parts[0].contiguous()


class WeightedRandomSampler(Sampler):
    """num_samples positions drawn with probability proportional to `weights` (with replacement:
    the Gumbel-max draw of deepcore.distributions.Categorical)."""

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        if not isinstance(num_samples, numbers.Integral) or isinstance(num_samples, bool) or num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got replacement={replacement}")
        if not replacement:
            raise NotImplementedError("WeightedRandomSampler: replacement=False is not supported yet (needs a "
                                      "sort of the keys); use replacement=True")
        values = weights if isinstance(weights, Tensor) else tensor(weights, dtype=float64)
        if values.ndim != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape {tuple(values.shape)}")
        self.weights = values.to(float64)
        self.num_samples, self.replacement, self.generator = int(num_samples), replacement, generator

    def __iter__(self):
        return iter(self._index_tensor().tolist())

    def __len__(self):
        return self.num_samples

    def _index_tensor(self):
        from ..distributions import Categorical  # data does not need distributions otherwise
        g = _private_generator(self.generator)
        if g is None:
            return Categorical(probs=self.weights).sample((self.num_samples,))
        # Categorical.sample's Gumbel-max draw, with the uniforms taken from `g`
        logits = Categorical(probs=self.weights).logits
        u = rand(self.num_samples, logits.shape[-1], dtype=logits.dtype, generator=g)
        return (logits - (-u.log()).log()).argmax(-1)


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
