"""DataLoader: batches of a dataset, in order or shuffled, collated into tensors.

Loading runs in the calling process: ``num_workers``, ``pin_memory`` and the
other multiprocessing options are accepted (the lecture passes
``num_workers=1, pin_memory=True`` when CUDA is used) and ignored. The batches
of in-memory datasets (TensorDataset, MNIST, FashionMNIST, their Subsets) are
gathered by one native call each, so worker processes would not help.
"""
import collections.abc
import numbers

import numpy as np

from ..ops.shape import stack
from ..tensor import Tensor, tensor
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler


def default_collate(batch):
    """Stack a list of samples into a batch, recursing into tuples, lists and dicts.

    Tensors are stacked along a new dim 0; NumPy arrays likewise (as deepcore
    tensors; uint8 and other narrow ints widen to int64, as ``deepcore.tensor``
    does); Python ints become an int64 tensor, floats a float32 tensor (as
    ``deepcore.tensor`` does; PyTorch makes float64); strings stay a list.
    """
    if not batch:
        raise ValueError("default_collate: got an empty batch")
    first = batch[0]
    if isinstance(first, Tensor):
        return stack(batch)
    if isinstance(first, np.ndarray):
        return tensor(np.stack(batch))
    if isinstance(first, (bool, np.bool_)):
        return tensor(list(batch))
    if isinstance(first, (numbers.Integral, np.integer)):
        return tensor([int(x) for x in batch])
    if isinstance(first, (numbers.Real, np.floating)):
        return tensor([float(x) for x in batch])
    if isinstance(first, (str, bytes)):
        return list(batch)
    if isinstance(first, collections.abc.Mapping):
        return {k: default_collate([b[k] for b in batch]) for k in first}
    if isinstance(first, tuple) and hasattr(first, "_fields"):  # namedtuple
        return type(first)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(first, collections.abc.Sequence):
        if any(len(b) != len(first) for b in batch):
            raise RuntimeError("default_collate: each element in a batch of sequences should be of equal size")
        return [default_collate(list(s)) for s in zip(*batch)] if isinstance(first, list) else \
            tuple(default_collate(list(s)) for s in zip(*batch))
    raise TypeError(f"default_collate: batches must contain tensors, NumPy arrays, numbers, dicts or lists; "
                    f"found {type(first).__name__}")


class DataLoader:
    """Iterate over `dataset` in batches.

    DataLoader(dataset, batch_size=1, shuffle=False, sampler=None,
               batch_sampler=None, num_workers=0, collate_fn=None,
               pin_memory=False, drop_last=False, ...)

    shuffle=True draws a new permutation every epoch from deepcore's random
    stream (``deepcore.manual_seed`` makes it reproducible). ``len(loader)``
    is the number of batches; ``loader.dataset`` the dataset.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device=""):
        if not isinstance(num_workers, numbers.Integral) or num_workers < 0:
            raise ValueError(f"num_workers option should be non-negative; got {num_workers!r}")
        if shuffle not in (True, False, None):
            raise ValueError(f"shuffle should be a boolean value, but got shuffle={shuffle!r}")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader: batch_sampler option is mutually exclusive with batch_size, shuffle, "
                                 "sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("DataLoader: batch_size=None option disables auto-batching and is mutually exclusive "
                             "with drop_last")
        if sampler is None:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers  # accepted, ignored: loading runs in this process
        self.pin_memory = pin_memory    # accepted, ignored: no pinned host memory yet
        self.collate_fn = collate_fn if collate_fn is not None else default_collate
        self.generator = generator
        self.timeout = timeout

    def __len__(self):
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)

    def __iter__(self):
        if self.batch_sampler is None:  # batch_size=None: samples one by one, uncollated
            return (self.dataset[i] for i in self.sampler)
        fast = self._gathered_batches()
        if fast is not None:
            return fast
        return (self.collate_fn([self.dataset[i] for i in batch]) for batch in self.batch_sampler)

    def _gathered_batches(self):
        """Batches from dataset._gather_batch over slices of one index tensor, or None
        when that path does not apply (custom collate or samplers, or no gather)."""
        gather = getattr(self.dataset, "_gather_batch", None)
        if gather is None or self.collate_fn is not default_collate or type(self.batch_sampler) is not BatchSampler:
            return None
        if type(self.sampler) not in (SequentialSampler, RandomSampler) and not (
                isinstance(self.sampler, Sampler) and type(self.sampler)._index_tensor is not Sampler._index_tensor):
            return None
        order = self.sampler._index_tensor()
        if order is None:
            return None
        return self._iterate_gathered(gather, order)

    def _iterate_gathered(self, gather, order):
        n, bs = len(order), self.batch_size
        stop = n - n % bs if self.drop_last else n
        for start in range(0, stop, bs):
            index = order[start:min(start + bs, n)]
            batch = gather(index)
            if batch is NotImplemented:  # this dataset's transform has no batched form: per sample from here on
                positions = order.tolist()
                for s in range(start, stop, bs):
                    yield self.collate_fn([self.dataset[i] for i in positions[s:min(s + bs, n)]])
                return
            yield batch

    def __repr__(self):
        return f"<DataLoader over {type(self.dataset).__name__} of {len(self.dataset)}, batch_size={self.batch_size}>"
