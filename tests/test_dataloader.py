"""The DataLoader against torch.utils.data: default_collate / default_convert, Subset, ConcatDataset,
StackDataset, ChainDataset, IterableDataset, argument errors, and worker processes (batches by index
in order, worker_init_fn, get_worker_info, per-worker seeds, persistent workers, prefetch, timeout,
errors naming the worker, a dead worker, the spawn context, shared memory freed, clean shutdown).

Every dataset here is small and synthetic (named for what it returns)."""
import collections
import os
import random
import time
from multiprocessing.reduction import ForkingPickler

import numpy as np
import pytest

import deepcore
from deepcore.data import (ChainDataset, ConcatDataset, DataLoader, Dataset, IterableDataset, StackDataset, Subset,
                           TensorDataset, default_collate, default_convert, get_worker_info)
from deepcore.data import _ipc

try:
    import torch
    import torch.utils.data as tud
except ImportError:  # pragma: no cover - depends on the environment
    torch = tud = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
Point = collections.namedtuple("Point", "x y")


def _plain(value):
    """Collated output as plain Python (type names, dtypes and values), comparable across libraries."""
    if isinstance(value, deepcore.Tensor) or (torch is not None and isinstance(value, torch.Tensor)):
        dtype = str(value.dtype).split(".")[-1]
        return ("tensor", dtype, np.asarray(value.detach() if hasattr(value, "detach") else value).tolist())
    if isinstance(value, dict):
        return (type(value).__name__, {k: _plain(v) for k, v in value.items()})
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return (type(value).__name__, [_plain(v) for v in value])
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [_plain(v) for v in value])
    return (type(value).__name__, value)


def _samples(lib):
    t = lib.tensor
    return [
        [t([1.0, 2.0]), t([3.0, 4.0])],
        [1, 2, 3], [0.5, 1.5], [True, False], ["a", "b"], [b"x", b"y"],
        [np.array([1, 2], dtype=np.int64), np.array([3, 4], dtype=np.int64)],
        [np.float32(0.5), np.float32(1.5)], [np.float64(2.5), np.float64(3.5)], [np.int64(3), np.int64(4)],
        [{"a": 1, "b": [0.5, t([1])]}, {"a": 2, "b": [1.5, t([2])]}],
        [collections.OrderedDict(k=1), collections.OrderedDict(k=2)],
        [Point(1, 2.0), Point(3, 4.0)],
        [(1, "s", np.array([1.0, 2.0])), (2, "t", np.array([3.0, 4.0]))],
        [[1, [2, 3]], [4, [5, 6]]],
    ]


@needs_torch
def test_default_collate_matches_pytorch():
    for ours, theirs in zip(_samples(deepcore), _samples(torch)):
        assert _plain(default_collate(ours)) == _plain(tud.default_collate(theirs)), ours


@needs_torch
def test_default_convert_matches_pytorch():
    for sample in [np.array([1.0, 2.0]), (np.array([1]), 2, "s"), {"a": np.float64(1.0)}, Point(np.int64(1), 2),
                   [np.array([True])], "text", 3.5, np.array(["a", "b"])]:
        assert _plain(default_convert(sample)) == _plain(tud.default_convert(sample)), sample


def test_default_collate_without_torch():
    ints, floats = default_collate([1, 2]), default_collate([0.5, 1.5])
    assert ints.dtype is deepcore.int64 and floats.dtype is deepcore.float64  # as PyTorch: Python floats are doubles
    assert default_collate([np.uint8(3), np.uint8(4)]).dtype is deepcore.int64  # widened: deepcore has no uint8
    assert default_collate([np.float32(1.0)] * 2).dtype is deepcore.float32
    out = default_collate([(1, "s"), (2, "t")])
    assert isinstance(out, list) and out[1] == ("s", "t")  # the strings as zip gives them, as in PyTorch
    assert type(default_collate([Point(1, 2), Point(3, 4)])) is Point
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="found <U1"):
        default_collate([np.array(["a"]), np.array(["b"])])
    with pytest.raises(IndexError, match="empty batch"):
        default_collate([])


# ---- datasets -------------------------------------------------------------------------------------

class RangeSquares(Dataset):
    """Sample i is (i, i * i) for i in range(n); counts how often a whole batch was asked for."""

    def __init__(self, n=10):
        self.n, self.batched_calls = n, 0

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not -self.n <= i < self.n:
            raise IndexError(f"RangeSquares: {i} out of range")
        i %= self.n
        return i, i * i


class BatchedRangeSquares(RangeSquares):
    def __getitems__(self, indices):
        self.batched_calls += 1
        return [self[i] for i in indices]


@needs_torch
def test_subset_and_concat_index_like_pytorch():
    for lib in ("ours", "theirs"):
        make_subset = Subset if lib == "ours" else tud.Subset
        make_concat = ConcatDataset if lib == "ours" else tud.ConcatDataset
        sub = make_subset(RangeSquares(10), [7, 2, 9, 0])
        cat = make_concat([RangeSquares(3), RangeSquares(2), RangeSquares(4)])
        got = [sub[0], sub[-1], sub[-4], len(sub), sub.__getitems__([1, 3]), cat[0], cat[3], cat[4], cat[-1],
               cat[-9], len(cat), cat.cumulative_sizes]
        if lib == "ours":
            ours = got
    assert ours == got
    for bad in (lambda c: c[-10], lambda c: c[9]):
        errors = []
        for make in (ConcatDataset, tud.ConcatDataset):
            with pytest.raises(Exception) as info:
                bad(make([RangeSquares(3), RangeSquares(2), RangeSquares(4)]))
            errors.append(info.type)
        assert errors[0] is errors[1]
    with pytest.raises(IndexError):
        Subset(RangeSquares(10), [1, 2])[2]
    with pytest.raises(AssertionError, match="empty"):
        ConcatDataset([])


def test_getitems_is_used_for_whole_batches():
    ds = BatchedRangeSquares(7)
    batches = [b[1].tolist() for b in DataLoader(ds, batch_size=3)]
    assert batches == [[0, 1, 4], [9, 16, 25], [36]] and ds.batched_calls == 3
    sub = Subset(ds, [6, 5, 4])
    assert [b[0].tolist() for b in DataLoader(sub, batch_size=2)] == [[6, 5], [4]] and ds.batched_calls == 5


def test_stack_and_chain_datasets():
    stacked = StackDataset(RangeSquares(3), RangeSquares(3))
    assert stacked[1] == ((1, 1), (1, 1)) and len(stacked) == 3
    named = StackDataset(a=RangeSquares(2), b=RangeSquares(2))
    batch = next(iter(DataLoader(named, batch_size=2)))
    assert batch["a"][1].tolist() == [0, 1]
    with pytest.raises(ValueError, match="Size mismatch"):
        StackDataset(RangeSquares(2), RangeSquares(3))
    chain = ChainDataset([CountUp(3), CountUp(2)])
    assert list(chain) == [0, 1, 2, 0, 1] and len(chain) == 5
    assert [b.tolist() for b in DataLoader(CountUp(3) + CountUp(2), batch_size=2)] == [[0, 1], [2, 0], [1]]


class _CountUpLogic:
    """Yields 0 .. n-1, split between DataLoader workers by worker id (as PyTorch's docs do it)."""

    def __init__(self, n, split=True):
        self.n, self.split = n, split

    def __len__(self):
        return self.n

    def __iter__(self):
        info = get_worker_info()
        if info is None or not self.split:
            return iter(range(self.n))
        return iter(range(info.id, self.n, info.num_workers))


class CountUp(_CountUpLogic, IterableDataset):
    pass


if tud is not None:
    class TorchCountUp(_CountUpLogic, tud.IterableDataset):
        """The same stream for torch's DataLoader (which asks for its own IterableDataset class)."""

        def __iter__(self):
            info = tud.get_worker_info()
            if info is None or not self.split:
                return iter(range(self.n))
            return iter(range(info.id, self.n, info.num_workers))


def test_iterable_dataset_in_this_process():
    assert [b.tolist() for b in DataLoader(CountUp(7), batch_size=3)] == [[0, 1, 2], [3, 4, 5], [6]]
    assert [b.tolist() for b in DataLoader(CountUp(7), batch_size=3, drop_last=True)] == [[0, 1, 2], [3, 4, 5]]
    assert list(DataLoader(CountUp(3), batch_size=None)) == [0, 1, 2]  # default_convert leaves ints
    assert len(DataLoader(CountUp(7), batch_size=3)) == 3 and len(DataLoader(CountUp(7), batch_size=3,
                                                                             drop_last=True)) == 2


@needs_torch
def test_argument_errors_match_pytorch():
    cases = [dict(num_workers=-1), dict(timeout=-1), dict(prefetch_factor=2), dict(persistent_workers=True),
             dict(num_workers=1, prefetch_factor=-1), dict(multiprocessing_context="fork"),
             dict(num_workers=1, multiprocessing_context="nope"), dict(num_workers=1, multiprocessing_context=3),
             dict(sampler=[0, 1], shuffle=True), dict(batch_sampler=[[0]], batch_size=2),
             dict(batch_size=None, drop_last=True)]
    for kwargs in cases:
        with pytest.raises(Exception) as ours:
            DataLoader(RangeSquares(), **kwargs)
        with pytest.raises(Exception) as theirs:
            tud.DataLoader(RangeSquares(), **kwargs)
        assert ours.type is theirs.type, kwargs
        assert str(theirs.value)[:30] in str(ours.value), (kwargs, str(ours.value))
    for kwargs in [dict(shuffle=True), dict(sampler=[0]), dict(batch_sampler=[[0]])]:
        with pytest.raises(ValueError, match="IterableDataset: expected unspecified"):
            DataLoader(CountUp(3), **kwargs)
    loader = DataLoader(RangeSquares())
    with pytest.raises(ValueError, match="batch_size attribute should not be set"):
        loader.batch_size = 4


# ---- worker processes ----------------------------------------------------------------------------

def _shm_blocks():
    return {f for f in os.listdir("/dev/shm") if f.startswith("psm_")} if os.path.isdir("/dev/shm") else set()


def synthetic(n=40, width=700):
    """Row i of x is i repeated `width` times (so batches over 64 KiB go through shared memory), y is i."""
    x = deepcore.arange(n, dtype=deepcore.float32).unsqueeze(1).expand(n, width).contiguous()
    return TensorDataset(x, deepcore.arange(n))


def test_workers_give_the_same_batches_in_order():
    before = _shm_blocks()
    ds = synthetic()
    for shuffle in (False, True):
        deepcore.manual_seed(3)
        single = [(x.tolist(), y.tolist()) for x, y in DataLoader(ds, batch_size=6, shuffle=shuffle)]
        deepcore.manual_seed(3)
        loader = DataLoader(ds, batch_size=6, shuffle=shuffle, num_workers=2, pin_memory=True)
        batches = list(loader)
        assert all(isinstance(b, list) for b in batches)
        assert [(x.tolist(), y.tolist()) for x, y in batches] == single  # same order, whatever num_workers
    assert _shm_blocks() <= before  # every block was unlinked


def test_worker_info_init_fn_and_seeds_are_per_worker_and_reproducible():
    class WhoAmI(Dataset):
        """Sample i: (i, worker id, the worker's seed, a deepcore draw, a Python draw, a NumPy draw)."""

        def __len__(self):
            return 8

        def __getitem__(self, i):
            info = get_worker_info()
            assert info.dataset is self and info.num_workers == 2
            return (i, info.id, info.seed, deepcore.rand(1).item(), random.random(), float(np.random.rand()),
                    os.environ.get("DEEPCORE_TEST_WORKER"))

    def init(worker_id):
        os.environ["DEEPCORE_TEST_WORKER"] = f"init {worker_id}"

    def run():
        loader = DataLoader(WhoAmI(), batch_size=2, num_workers=2, worker_init_fn=init)
        return [list(zip(*[c.tolist() if isinstance(c, deepcore.Tensor) else c for c in b])) for b in loader]

    deepcore.manual_seed(11)
    first = [s for b in run() for s in b]
    assert [s[1] for s in first] == [0, 0, 1, 1, 0, 0, 1, 1]  # whole batches, round-robin
    assert [s[6] for s in first] == [f"init {s[1]}" for s in first]
    seeds = {s[1]: s[2] for s in first}
    assert seeds[1] == seeds[0] + 1  # base_seed + worker_id
    for column in (3, 4, 5):
        assert first[0][column] != first[2][column]  # the two workers' streams differ
    deepcore.manual_seed(11)
    assert [s for b in run() for s in b] == first
    deepcore.manual_seed(12)
    assert [s for b in run() for s in b] != first
    assert get_worker_info() is None


@needs_torch
@pytest.mark.parametrize("drop_last", [False, True])
def test_iterable_dataset_with_workers_matches_pytorch(drop_last):
    for split, workers in ((True, 2), (True, 3), (False, 2)):
        ours = [b.tolist() for b in DataLoader(CountUp(11, split), batch_size=3, num_workers=workers,
                                               drop_last=drop_last)]
        theirs = [b.tolist() for b in tud.DataLoader(TorchCountUp(11, split), batch_size=3, num_workers=workers,
                                                     drop_last=drop_last)]
        assert ours == theirs, (split, workers)


def test_in_order_false_and_prefetch_factor():
    ds = synthetic(30, 4)
    got = [y.tolist() for _, y in DataLoader(ds, batch_size=4, num_workers=2, in_order=False, prefetch_factor=1)]
    assert sorted(sum(got, [])) == list(range(30))
    loader = DataLoader(ds, batch_size=4, num_workers=2, prefetch_factor=3)
    it = iter(loader)
    assert it._prefetch == 6 and len(it._task_worker) == 6 and len(it) == 8
    assert len(list(it)) == 8


class FailsAt(Dataset):
    """Raises KeyError (PyTorch's special case) at position `bad`, returns i elsewhere."""

    def __init__(self, bad=5):
        self.bad = bad

    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i == self.bad:
            raise KeyError(f"no sample {i}")
        return i


def test_worker_errors_are_raised_in_the_main_process_naming_the_worker():
    it = iter(DataLoader(FailsAt(5), batch_size=2, num_workers=2))
    assert next(it).tolist() == [0, 1] and next(it).tolist() == [2, 3]
    with pytest.raises(KeyError, match=r"Caught KeyError in DataLoader worker process 0\.[\s\S]*no sample 5"):
        next(it)
    assert next(it).tolist() == [6, 7]  # the loader goes on after the failed batch, as PyTorch's does

    def bad_init(worker_id):
        raise ValueError(f"init failed in {worker_id}")

    with pytest.raises(ValueError, match="worker process [01].[\\s\\S]*init failed in"):
        list(DataLoader(FailsAt(99), batch_size=2, num_workers=2, worker_init_fn=bad_init))


class Sleeps(Dataset):
    def __len__(self):
        return 2

    def __getitem__(self, i):
        time.sleep(5)
        return i


class Dies(Dataset):
    def __len__(self):
        return 2

    def __getitem__(self, i):
        os._exit(3)


def test_timeout_and_a_dead_worker():
    start = time.monotonic()
    with pytest.raises(RuntimeError, match="DataLoader timed out after 0.5 seconds"):
        next(iter(DataLoader(Sleeps(), num_workers=1, timeout=0.5)))
    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid\(s\) \d+\) exited unexpectedly"):
        next(iter(DataLoader(Dies(), num_workers=1)))
    assert time.monotonic() - start < 15  # neither waits for the sleeping worker's 5 s


def test_persistent_workers_live_across_epochs():
    before = _shm_blocks()
    loader = DataLoader(synthetic(), batch_size=4, num_workers=2, persistent_workers=True)
    seen, pids = [], []
    for epoch in range(3):
        ys = []
        for i, (_, y) in enumerate(loader):
            ys += y.tolist()
            if epoch == 1 and i == 2:
                break  # an abandoned epoch: its batches in flight are dropped at the next one
        seen.append(ys)
        pids.append([w.pid for w in loader._iterator._workers])
    assert seen[0] == seen[2] == list(range(40)) and seen[1] == list(range(12))
    assert pids[0] == pids[1] == pids[2] and all(w.is_alive() for w in loader._iterator._workers)
    chained = DataLoader(CountUp(5), batch_size=2, num_workers=2, persistent_workers=True)
    assert [sorted(sum((b.tolist() for b in chained), [])) for _ in range(2)] == [list(range(5))] * 2
    workers = loader._iterator._workers
    del loader
    deadline = time.monotonic() + 10
    while any(w.is_alive() for w in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(w.is_alive() for w in workers)
    assert _shm_blocks() <= before


def test_breaking_out_shuts_the_workers_down():
    it = iter(DataLoader(synthetic(), batch_size=2, num_workers=2))
    next(it)
    workers = it._workers
    it._shutdown_workers()
    assert not any(w.is_alive() for w in workers)
    with pytest.raises(StopIteration):
        for _ in range(100):
            next(it)


def test_spawn_context_pickles_the_dataset_through_shared_memory():
    before = _shm_blocks()
    ds = synthetic(12, 2000)
    loader = DataLoader(ds, batch_size=5, num_workers=2, multiprocessing_context="spawn")
    assert [y.tolist() for _, y in loader] == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9], [10, 11]]
    assert _shm_blocks() <= before


def test_tensor_pickling_for_multiprocessing():
    big = deepcore.arange(20000, dtype=deepcore.float64).reshape(100, 200)[:, ::2]  # a non-contiguous view
    payload = bytes(ForkingPickler.dumps(big))
    assert len(payload) < 1000  # the bytes live in a shared-memory block, not in the pickle
    back = ForkingPickler.loads(payload)
    assert back.dtype is deepcore.float64 and back.tolist() == big.tolist()
    small = deepcore.tensor([1.0, 2.0], requires_grad=True)
    copy = ForkingPickler.loads(bytes(ForkingPickler.dumps(small)))
    assert copy.requires_grad and copy.tolist() == [1.0, 2.0] and copy is not small
    param = ForkingPickler.loads(bytes(ForkingPickler.dumps(deepcore.nn.Parameter(deepcore.ones(2)))))
    assert isinstance(param, deepcore.nn.Parameter)
    with pytest.raises(RuntimeError, match="non-leaf tensor which requires_grad"):
        ForkingPickler.dumps(small * 2)
    assert _ipc.SHARED_MEMORY_BYTES > 2 * 8


# ---- samplers ---------------------------------------------------------------------------------------

def test_random_sampler_num_samples_and_replacement():
    from deepcore.data import RandomSampler, WeightedRandomSampler
    deepcore.manual_seed(5)
    ten = list(RandomSampler(range(4), num_samples=10))
    assert len(ten) == 10 and sorted(ten[:4]) == sorted(ten[4:8]) == [0, 1, 2, 3]  # whole permutations first
    drawn = list(RandomSampler(range(3), replacement=True, num_samples=3000))
    counts = np.bincount(drawn, minlength=3)
    assert len(drawn) == 3000 and counts.min() > 850  # uniform, with repeats
    assert len(DataLoader(range(10), batch_size=3, sampler=RandomSampler(range(10), num_samples=7))) == 3
    weights = [0.1, 0.0, 0.9]
    picks = np.bincount(list(WeightedRandomSampler(weights, 4000)), minlength=3) / 4000
    assert picks[1] == 0 and abs(picks[2] - 0.9) < 4 * np.sqrt(0.09 / 4000)
    deepcore.manual_seed(1)
    a = list(WeightedRandomSampler(weights, 20))
    deepcore.manual_seed(1)
    assert list(WeightedRandomSampler(weights, 20)) == a
    assert list(WeightedRandomSampler(weights, 20, generator=3)) == list(WeightedRandomSampler(weights, 20,
                                                                                                generator=3))


@needs_torch
def test_sampler_argument_errors_match_pytorch():
    from deepcore.data import RandomSampler, WeightedRandomSampler
    for ours, theirs in [(lambda: RandomSampler(range(3), num_samples=0),
                          lambda: tud.RandomSampler(range(3), num_samples=0)),
                         (lambda: RandomSampler(range(3), replacement=1),
                          lambda: tud.RandomSampler(range(3), replacement=1)),
                         (lambda: WeightedRandomSampler([1.0], num_samples=-1),
                          lambda: tud.WeightedRandomSampler([1.0], num_samples=-1)),
                         (lambda: WeightedRandomSampler([[1.0]], num_samples=2),
                          lambda: tud.WeightedRandomSampler([[1.0]], num_samples=2))]:
        with pytest.raises(Exception) as mine:
            ours()
        with pytest.raises(Exception) as torchs:
            theirs()
        assert mine.type is torchs.type and str(torchs.value)[:25] in str(mine.value)
    with pytest.raises(NotImplementedError, match="replacement=False"):
        WeightedRandomSampler([1.0, 2.0], 1, replacement=False)
