"""The DataLoader's worker processes: the loop each runs, what it knows about itself
(get_worker_info), and how its errors reach the main process.

A worker receives (task index, batch of dataset positions) on its own index queue, fetches and
collates that batch, and puts (task index, pickled batch) on the shared result queue (the tensors
inside travel through shared memory: data/_ipc.py). It stops on None, when the main process sets
the done event, or when its parent dies.
"""
import os
import pickle
import queue
import random
import sys
import traceback
from dataclasses import dataclass
from multiprocessing.reduction import ForkingPickler
from typing import Any, Optional

import numpy as np

from ..ops.random import manual_seed
from ..tensor import tensor
from ..dtypes import int64

POLL_SECONDS = 1.0  # how often a waiting worker checks its parent, and the main process its workers


@dataclass(frozen=True)
class WorkerInfo:
    """What get_worker_info() returns inside a worker: its id (0 .. num_workers-1), the number of
    workers, its seed (base_seed + id) and its copy of the dataset."""

    id: int
    num_workers: int
    seed: int
    dataset: Any


_worker_info: Optional[WorkerInfo] = None


def get_worker_info():
    """The WorkerInfo of this DataLoader worker process, or None in the main process."""
    return _worker_info


class ExceptionWrapper:
    """An exception caught in a worker, carried to the main process as its type and formatted
    traceback, and raised there again naming where it happened."""

    def __init__(self, where):
        exc_type, exc, _ = sys.exc_info()
        try:
            pickle.dumps(exc_type)
        except Exception:  # e.g. a class defined inside a function: cannot be named in the main process
            exc_type = RuntimeError
        self.exc_type = exc_type
        self.exc_msg = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        self.where = where

    def reraise(self):
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:  # KeyError shows its argument with repr: keep the message readable
            msg = KeyErrorMessage(msg)
        try:
            exception = self.exc_type(msg)
        except Exception:  # an exception type whose constructor wants other arguments
            raise RuntimeError(msg) from None
        raise exception


class KeyErrorMessage(str):
    def __repr__(self):
        return self


class IterableStopped:
    """Sent by a worker whose copy of an IterableDataset is exhausted."""

    def __init__(self, worker_id):
        self.worker_id = worker_id


class ResumeIteration:
    """Sent to persistent workers at the start of each epoch after the first (an IterableDataset
    restarts its iterator); the worker echoes it back."""


class MapFetcher:
    """Batches of a map-style dataset by position: dataset._gather_batch (one native gather) when it
    applies, else __getitems__ or one __getitem__ per position, then collate_fn."""

    def __init__(self, dataset, auto_collation, collate_fn, drop_last, use_gather=False):
        self.dataset, self.auto_collation, self.collate_fn = dataset, auto_collation, collate_fn
        self.gather = getattr(dataset, "_gather_batch", None) if use_gather and auto_collation else None

    def fetch(self, index):
        if not self.auto_collation:
            return self.collate_fn(self.dataset[index])
        if self.gather is not None:
            batch = self.gather(tensor(list(index), dtype=int64))
            if batch is not NotImplemented:
                return list(batch) if isinstance(batch, tuple) else batch
            self.gather = None  # this dataset's transform has no batched form: per sample from now on
        getitems = getattr(self.dataset, "__getitems__", None)
        samples = getitems(list(index)) if callable(getitems) else [self.dataset[i] for i in index]
        return self.collate_fn(samples)


class IterableFetcher:
    """Batches from an iterator over an IterableDataset: `len(index)` items each (index holds only
    placeholders); StopIteration once it is exhausted (a short last batch unless drop_last)."""

    def __init__(self, dataset, auto_collation, collate_fn, drop_last, use_gather=False):
        self.iterator = iter(dataset)
        self.auto_collation, self.collate_fn, self.drop_last = auto_collation, collate_fn, drop_last
        self.ended = False

    def fetch(self, index):
        if self.ended:
            raise StopIteration
        if not self.auto_collation:
            return self.collate_fn(next(self.iterator))
        items = []
        for _ in index:
            try:
                items.append(next(self.iterator))
            except StopIteration:
                self.ended = True
                break
        if not items or (self.drop_last and len(items) < len(index)):
            raise StopIteration
        return self.collate_fn(items)


def _seed_everything(seed, worker_id, base_seed):
    """deepcore's Philox stream, Python's random and NumPy's legacy global generator, per worker."""
    manual_seed(seed)
    random.seed(seed)
    words = np.random.SeedSequence([worker_id, base_seed & 0xFFFFFFFF, base_seed >> 32]).generate_state(4)
    np.random.seed(words)


def worker_loop(iterable, dataset, index_queue, result_queue, done_event, auto_collation, collate_fn, drop_last,
                base_seed, init_fn, worker_id, num_workers, parent_pid, use_gather):
    """The body of one worker process (the target of its multiprocessing.Process)."""
    global _worker_info
    from .. import set_num_threads
    try:
        set_num_threads(1)  # the workers share the cores; one OpenMP team per process is plenty
        seed = base_seed + worker_id
        _seed_everything(seed, worker_id, base_seed)
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)
        fetcher_type = IterableFetcher if iterable else MapFetcher
        init_error = None
        fetcher = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
            fetcher = fetcher_type(dataset, auto_collation, collate_fn, drop_last, use_gather)
        except Exception:
            init_error = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")
        exhausted = False
        while True:
            try:
                message = index_queue.get(timeout=POLL_SECONDS)
            except queue.Empty:
                if os.getppid() != parent_pid:  # orphaned: the main process died
                    break
                continue
            if message is None:
                break
            if isinstance(message, ResumeIteration):
                result_queue.put((message, None))
                exhausted = False
                if init_error is None:
                    try:
                        fetcher = fetcher_type(dataset, auto_collation, collate_fn, drop_last, use_gather)
                    except Exception:
                        init_error = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")
                continue
            if done_event.is_set() or exhausted:
                continue  # shutting down, or nothing left to give this epoch: tasks are not answered
            task, index = message
            if init_error is not None:
                reply, init_error = init_error, None
            else:
                try:
                    reply = bytes(ForkingPickler.dumps(fetcher.fetch(index)))
                except StopIteration:
                    if not iterable:
                        reply = _wrap_current(worker_id)
                    else:
                        reply, exhausted = IterableStopped(worker_id), True
                except Exception:
                    reply = _wrap_current(worker_id)
            result_queue.put((task, reply))
            del reply
    except KeyboardInterrupt:
        pass  # the main process handles the interrupt and shuts the workers down


def _wrap_current(worker_id):
    return ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")
