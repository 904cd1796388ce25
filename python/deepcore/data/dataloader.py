"""DataLoader: batches of a dataset, in order or shuffled, collated into tensors, loaded in this
process (num_workers=0) or by worker processes, with torch.utils.data.DataLoader's semantics.

In this process, the batches of in-memory datasets (TensorDataset, MNIST, FashionMNIST, their
Subsets) are gathered by one native call each. With num_workers > 0 each worker process gets
whole batches by their positions (at most prefetch_factor * num_workers batches in flight), and
the batches come back in order (in_order=False: as they are ready); every worker is seeded with
base_seed + worker_id, base_seed drawn from deepcore's stream per epoch (so deepcore.manual_seed
makes the workers' random transforms reproducible). pin_memory is accepted and changes nothing:
deepcore has no pinned host memory, and CPU batches need none.
"""
import itertools
import multiprocessing
import numbers
import os
import queue
import time
from multiprocessing.reduction import ForkingPickler

from ..ops.random import randint
from . import _ipc
from ._worker import (POLL_SECONDS, ExceptionWrapper, IterableFetcher, IterableStopped, MapFetcher,
                      ResumeIteration, get_worker_info, worker_loop)
from .collate import default_collate, default_convert
from .dataset import IterableDataset, _private_generator
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader", "default_collate", "default_convert", "get_worker_info"]

_SHUTDOWN_SECONDS = 2.0  # how long a stopping worker may take to finish its batch before it is terminated
_FROZEN = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers")


class _InfiniteConstantSampler(Sampler):
    """The sampler of an IterableDataset: placeholders, forever (the dataset decides when to stop)."""

    def __iter__(self):
        while True:
            yield None


class DataLoader:
    """Iterate over `dataset` in batches.

    DataLoader(dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
               collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
               multiprocessing_context=None, generator=None, *, prefetch_factor=None,
               persistent_workers=False, pin_memory_device="", in_order=True)

    shuffle=True draws a new permutation every epoch from deepcore's random stream
    (``deepcore.manual_seed`` makes it reproducible). ``len(loader)`` is the number of batches.
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device="", in_order=True):
        if isinstance(num_workers, bool) or not isinstance(num_workers, numbers.Integral) or num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable "
                             "multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing.let num_workers > 0 "
                             "to enable multiprocessing, otherwise set prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            if shuffle not in (False, None):
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle option, but got "
                                 f"shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler option, but got "
                                 f"sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified batch_sampler option, but "
                                 f"got batch_sampler={batch_sampler}")
        else:
            shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and "
                                 "drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with "
                             "drop_last")
        if sampler is None:
            if self._iterable:
                sampler = _InfiniteConstantSampler()
            else:
                sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.dataset = dataset
        self.num_workers = int(num_workers)
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory  # accepted: no pinned host memory in deepcore (see the module docstring)
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if batch_sampler is not None else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self._iterator = None
        self._initialized = True

    def __setattr__(self, name, value):
        if getattr(self, "_initialized", False) and name in _FROZEN:
            raise ValueError(f"{name} attribute should not be set after {type(self).__name__} is initialized")
        super().__setattr__(name, value)

    @property
    def multiprocessing_context(self):
        return self._multiprocessing_context

    @multiprocessing_context.setter
    def multiprocessing_context(self, context):
        if context is not None:
            if self.num_workers == 0:
                raise ValueError(f"multiprocessing_context can only be used with multi-process loading "
                                 f"(num_workers > 0), but got num_workers={self.num_workers}")
            if isinstance(context, str):
                methods = multiprocessing.get_all_start_methods()
                if context not in methods:
                    raise ValueError(f"multiprocessing_context option should specify a valid start method in "
                                     f"{methods!r}, but got multiprocessing_context={context!r}")
                context = multiprocessing.get_context(context)
            if not isinstance(context, multiprocessing.context.BaseContext):
                raise TypeError(f"multiprocessing_context option should be a valid context object or a string "
                                f"specifying the start method, but got multiprocessing_context={context}")
        self._multiprocessing_context = context

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def __len__(self):
        if self._iterable:
            length = len(self.dataset)  # TypeError when the dataset has no len, as in PyTorch
            if self.batch_size is not None:
                length = length // self.batch_size if self.drop_last else -(-length // self.batch_size)
            return length
        return len(self._index_sampler)

    def __iter__(self):
        if self.num_workers == 0:
            return self._single_process()
        if self.persistent_workers:
            if self._iterator is None:
                self._iterator = _MultiProcessingIter(self)
            else:
                self._iterator._reset(self)
            return self._iterator
        return _MultiProcessingIter(self)

    def _uses_gather(self):
        return self.collate_fn is default_collate and getattr(self.dataset, "_gather_batch", None) is not None

    # ---- loading in this process ------------------------------------------------------------
    def _single_process(self):
        if self._iterable:
            return self._iterate_iterable()
        if not self._auto_collation:  # batch_size=None: samples one by one
            return (self.collate_fn(self.dataset[i]) for i in self.sampler)
        fast = self._gathered_batches()
        if fast is not None:
            return fast
        fetcher = MapFetcher(self.dataset, True, self.collate_fn, self.drop_last)
        return (fetcher.fetch(batch) for batch in self.batch_sampler)

    def _iterate_iterable(self):
        fetcher = IterableFetcher(self.dataset, self._auto_collation, self.collate_fn, self.drop_last)
        for index in self._index_sampler:
            try:
                yield fetcher.fetch(index)
            except StopIteration:
                return

    def _gathered_batches(self):
        """Batches from dataset._gather_batch over slices of one index tensor, or None
        when that path does not apply (custom collate or samplers, or no gather)."""
        if not self._uses_gather() or type(self.batch_sampler) is not BatchSampler:
            return None
        if type(self.sampler) not in (SequentialSampler, RandomSampler) and not (
                isinstance(self.sampler, Sampler) and type(self.sampler)._index_tensor is not Sampler._index_tensor):
            return None
        order = self.sampler._index_tensor()
        if order is None:
            return None
        return self._iterate_gathered(self.dataset._gather_batch, order)

    def _iterate_gathered(self, gather, order):
        n, bs = len(order), self.batch_size
        stop = n - n % bs if self.drop_last else n
        for start in range(0, stop, bs):
            batch = gather(order[start:min(start + bs, n)])
            if batch is NotImplemented:  # this dataset's transform has no batched form: per sample from here on
                fetcher = MapFetcher(self.dataset, True, self.collate_fn, self.drop_last)
                positions = order.tolist()
                for s in range(start, stop, bs):
                    yield fetcher.fetch(positions[s:min(s + bs, n)])
                return
            yield list(batch) if isinstance(batch, tuple) else batch  # as default_collate makes of tuples

    def __repr__(self):
        size = len(self.dataset) if hasattr(self.dataset, "__len__") else "?"
        return (f"<DataLoader over {type(self.dataset).__name__} of {size}, batch_size={self.batch_size}, "
                f"num_workers={self.num_workers}>")


def _base_seed(generator):
    """A 63-bit seed for the workers, from deepcore's stream (or from `generator`: see _private_generator)."""
    return int(randint(0, 2 ** 62, (1,), generator=_private_generator(generator)).item())


class _MultiProcessingIter:
    """One epoch (or, with persistent workers, every epoch) of a DataLoader with worker processes."""

    def __init__(self, loader):
        self._num_workers = loader.num_workers
        self._timeout = loader.timeout
        self._in_order = loader.in_order
        self._persistent = loader.persistent_workers
        self._iterable = loader._iterable
        self._prefetch = max(1, loader.prefetch_factor * loader.num_workers)
        self._shutdown = False
        self._workers = []  # set first: __del__ may run if a worker fails to start
        context = loader.multiprocessing_context or multiprocessing.get_context()
        _ipc.start_resource_tracker()
        self._result_queue = context.Queue()
        self._done_event = context.Event()
        self._index_queues = []
        # The epoch's order is drawn before the workers' base seed, so a seed gives the same batches
        # whatever num_workers is.
        order = _peeked(iter(loader._index_sampler))
        base_seed = _base_seed(loader.generator)
        use_gather = loader._uses_gather()
        for worker_id in range(self._num_workers):
            index_queue = context.Queue()
            index_queue.cancel_join_thread()  # unread tasks must not keep this process from exiting
            worker = context.Process(
                target=worker_loop, daemon=True,
                args=(self._iterable, loader.dataset, index_queue, self._result_queue, self._done_event,
                      loader._auto_collation, loader.collate_fn, loader.drop_last, base_seed, loader.worker_init_fn,
                      worker_id, self._num_workers, os.getpid(), use_gather))
            worker.start()
            self._index_queues.append(index_queue)
            self._workers.append(worker)
        self._reset(loader, first=True, sampler_iter=order)

    def __iter__(self):
        return self

    def __len__(self):
        if self._length is None:
            raise TypeError("this DataLoader's IterableDataset has no len()")
        return self._length

    def _reset(self, loader, first=False, sampler_iter=None):
        try:
            self._length = len(loader)
        except TypeError:  # an IterableDataset without __len__
            self._length = None
        self._sampler_iter = sampler_iter if sampler_iter is not None else iter(loader._index_sampler)
        self._send_idx = self._rcvd_idx = 0
        for data in getattr(self, "_arrived", {}).values():  # an abandoned epoch's batches
            _discard(data)
        self._task_worker = {}  # task index -> worker, for tasks sent and not answered
        self._arrived = {}      # task index -> data, answered ahead of its turn (in_order)
        self._active = [True] * self._num_workers
        self._worker_cycle = itertools.cycle(range(self._num_workers))
        if not first:  # persistent workers: restart their iterators, drop what an abandoned epoch left
            for q in self._index_queues:
                q.put(ResumeIteration())
            pending = self._num_workers
            while pending:
                task, data = self._get_data()
                if isinstance(task, ResumeIteration):
                    pending -= 1
                else:
                    _discard(data)
        for _ in range(self._prefetch):
            self._try_put_index()

    def _try_put_index(self):
        if len(self._task_worker) + len(self._arrived) >= self._prefetch:
            return
        try:
            index = next(self._sampler_iter)
        except StopIteration:
            return
        for _ in range(self._num_workers):
            worker_id = next(self._worker_cycle)
            if self._active[worker_id]:
                break
        else:
            return  # every worker's iterable is exhausted
        self._index_queues[worker_id].put((self._send_idx, index))
        self._task_worker[self._send_idx] = worker_id
        self._send_idx += 1

    def _get_data(self):
        """The next (task, data) from the result queue; raises when a worker died or on timeout."""
        deadline = time.monotonic() + self._timeout if self._timeout > 0 else None
        while True:
            wait = POLL_SECONDS if deadline is None else min(POLL_SECONDS, max(deadline - time.monotonic(), 0.0))
            try:
                return self._result_queue.get(timeout=wait)
            except queue.Empty:
                dead = [w for w in self._workers if not w.is_alive()]
                if dead:
                    pids = ", ".join(str(w.pid) for w in dead)
                    self._shutdown_workers()
                    raise RuntimeError(f"DataLoader worker (pid(s) {pids}) exited unexpectedly") from None
                if deadline is not None and time.monotonic() >= deadline:
                    raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds") from None

    def __next__(self):
        if self._shutdown:  # the workers are gone (an earlier error, or shut down by hand)
            raise StopIteration
        while True:
            while self._rcvd_idx < self._send_idx and self._rcvd_idx not in self._task_worker \
                    and self._rcvd_idx not in self._arrived:
                self._rcvd_idx += 1  # answered out of order already, or dropped with an exhausted worker
            if self._rcvd_idx in self._arrived:
                data = self._arrived.pop(self._rcvd_idx)
                self._rcvd_idx += 1
                return self._process(data)
            if not self._task_worker:
                if not self._persistent:
                    self._shutdown_workers()
                raise StopIteration
            task, data = self._get_data()
            if isinstance(task, ResumeIteration) or task not in self._task_worker:
                continue  # a leftover of an earlier epoch
            self._task_worker.pop(task)
            if isinstance(data, IterableStopped):
                self._active[data.worker_id] = False
                # that worker answers nothing more this epoch: forget its other tasks
                for t in [t for t, w in self._task_worker.items() if w == data.worker_id]:
                    del self._task_worker[t]
                self._try_put_index()
                continue
            if self._in_order and task != self._rcvd_idx:
                self._arrived[task] = data
                continue
            if task == self._rcvd_idx:
                self._rcvd_idx += 1
            return self._process(data)

    def _process(self, data):
        self._try_put_index()
        if isinstance(data, ExceptionWrapper):
            data.reraise()
        return ForkingPickler.loads(data)

    def _shutdown_workers(self):
        """Stop the workers, read what they still send (so its shared memory is freed), close the queues."""
        if self._shutdown:
            return
        self._shutdown = True
        try:
            self._done_event.set()
            for q in self._index_queues:
                q.put(None)
            deadline = time.monotonic() + _SHUTDOWN_SECONDS
            while any(w.is_alive() for w in self._workers) and time.monotonic() < deadline:
                self._drain(0.05)
            for w in self._workers:
                if w.is_alive():
                    w.terminate()
                w.join(timeout=1.0)
            self._drain(0.0)
            for data in self._arrived.values():
                _discard(data)
            self._arrived.clear()
        finally:
            for q in self._index_queues:
                q.close()
            self._result_queue.cancel_join_thread()
            self._result_queue.close()

    def _drain(self, wait):
        while True:
            try:
                _, data = self._result_queue.get(timeout=wait) if wait else self._result_queue.get_nowait()
            except (queue.Empty, OSError, EOFError, ValueError):
                return
            _discard(data)
            wait = 0.0

    def __del__(self):
        if self._workers:
            self._shutdown_workers()


def _peeked(iterator):
    """The same items, the first one already taken (so whatever it draws is drawn now)."""
    try:
        first = next(iterator)
    except StopIteration:
        return iter(())
    return itertools.chain([first], iterator)


def _discard(data):
    """Unpickle and drop a batch nobody will read, which removes its shared-memory blocks."""
    if isinstance(data, bytes):
        try:
            ForkingPickler.loads(data)
        except Exception:  # noqa: S110 - best effort while shutting down
            pass
