"""deepcore.save / deepcore.load: tensors and state dicts in the safetensors format.

A file is: 8 bytes (little-endian uint64) = N, the length of a JSON header;
N bytes of JSON, ``{name: {"dtype": "F32", "shape": [...], "data_offsets":
[begin, end]}, ..., "__metadata__": {str: str}}``; then the raw little-endian
bytes of every tensor, offsets relative to the end of the header, no holes.
A flat dict of tensors (a state_dict) is a plain safetensors file that other
safetensors readers load too. Anything else (optimizer states: nested dicts
and lists of tensors and plain numbers, whole modules) is stored as tensors
named by their path plus the layout as JSON in ``__metadata__["deepcore.structure"]``
(see deepcore.serialization).

Writing a path is atomic: the bytes go to a new file in the same directory
(unnamed while it is written, on Linux), are flushed and fsync'ed, and the file
is renamed over the old one, whose mode it keeps; a symlink is written through.
A crash or kill midway leaves the old file as it was.

Reading never runs code from a file (nothing is ever unpickled) and never
allocates what a file merely claims: the header is checked against the file's
real size before any tensor is made. deepcore's files carry a CRC-32 of the
tensors, their names, shapes and the metadata (``__metadata__["deepcore.crc32"]``),
so a flipped bit is found too. A corrupt, truncated or foreign file (a pickle,
PyTorch's zip archive, HDF5) raises ValueError naming the file and the problem.
"""
import contextlib
import io
import json
import math
import os
import secrets
import stat
import struct
import zlib
from collections import OrderedDict

import numpy as np

from . import serialization
from .tensor import Tensor, from_numpy

_DTYPE_TAGS = {"float32": "F32", "float64": "F64", "int64": "I64", "bool": "BOOL"}
_NUMPY_OF_TAG = {"F32": np.dtype("<f4"), "F64": np.dtype("<f8"), "I64": np.dtype("<i8"), "BOOL": np.dtype("bool")}
_STRUCTURE_KEY = serialization.STRUCTURE_KEY
_CHECKSUM_KEY = "deepcore.crc32"
_FORMAT_KEY = "format"
_MAX_HEADER = 100 * 1024 * 1024  # the safetensors limit: a larger header means a corrupt file
_MAX_DIMS = 64  # NumPy's limit; no real tensor comes near it
_CHUNK = 1 << 24  # reads of unknown-length streams grow by at most this much past the data really there
_TEMP_PREFIX = ".deepcore-save-"


# ---- the checksum ------------------------------------------------------------------------------

def _checksum(described, metadata, data_crcs):
    """CRC-32 of what a file means: each tensor's name, dtype, shape and bytes, and the metadata,
    in name order. It leaves out the offsets and the order of the data, so a file another
    safetensors writer rewrote with the same metadata still checks out (offsets are checked on
    their own: no holes, no overlaps, exact sizes)."""
    meta = {k: v for k, v in metadata.items() if k != _CHECKSUM_KEY}
    text = json.dumps([sorted(described.items()), sorted(meta.items())], separators=(",", ":"))
    crc = zlib.crc32(text.encode("utf-8"))
    for name in sorted(data_crcs):
        crc = zlib.crc32(struct.pack("<I", data_crcs[name]), crc)
    return f"{crc:08x}"


def _byte_view(arr):
    """The bytes of a C-contiguous array without copying them (tobytes would double the memory)."""
    return arr.reshape(-1).view(np.uint8)


# ---- saving ------------------------------------------------------------------------------------

def _is_flat_tensor_dict(obj):
    return isinstance(obj, dict) and all(isinstance(k, str) and isinstance(v, Tensor) for k, v in obj.items())


def _encode(obj, metadata):
    """(header bytes, [arrays]): the whole file but the data, and the data in file order."""
    tensors = serialization.TensorTable()
    meta = {_FORMAT_KEY: "pt"}
    if _is_flat_tensor_dict(obj):
        tensors.update(obj)
    else:
        meta[_STRUCTURE_KEY] = json.dumps(serialization.flatten(obj, "", tensors))
    for k, v in (metadata or {}).items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise TypeError("deepcore.save: metadata must map str to str")
        if k == _CHECKSUM_KEY:
            raise ValueError(f"deepcore.save: the metadata key {k!r} is deepcore's own (the file's checksum)")
        meta[k] = v
    header, arrays, described, crcs = {"__metadata__": meta}, [], {}, {}
    offset = 0
    for name, t in tensors.items():
        arr = t.detach().cpu().numpy()  # np.ascontiguousarray would turn a 0-d array into 1-d
        arr = np.array(arr, dtype=arr.dtype.newbyteorder("<"), order="C", copy=not arr.flags.c_contiguous)
        tag = _DTYPE_TAGS[t.dtype.name]
        header[name] = {"dtype": tag, "shape": list(arr.shape), "data_offsets": [offset, offset + arr.nbytes]}
        described[name] = [tag, list(arr.shape)]
        crcs[name] = zlib.crc32(_byte_view(arr))
        offset += arr.nbytes
        arrays.append(arr)
    meta[_CHECKSUM_KEY] = _checksum(described, meta, crcs)
    blob = json.dumps(header, separators=(",", ":")).encode("utf-8")
    blob += b" " * (-len(blob) % 8)  # keeps the data 8-byte aligned, as the reference writer does
    return blob, arrays


def save(obj, f, metadata=None):
    """Writes a tensor, a state_dict (dict of name -> tensor), a nested structure of dicts/lists of
    tensors and plain numbers (an optimizer's state_dict), or a whole module (its tree as data, see
    deepcore.serialization) to `f` in the safetensors format. f: a path, or a file opened for binary
    writing (written from its current position, as torch.save does). metadata: optional dict of
    str -> str stored in the header.

    A path is written atomically: to a new file beside it, flushed to disk, then renamed over it, so
    an interrupted or killed save leaves the old file whole and no temporary behind. The new file
    keeps the replaced one's mode; a symlink stays a link and its target is replaced."""
    blob, arrays = _encode(obj, metadata)

    def write(out):
        out.write(struct.pack("<Q", len(blob)))
        out.write(blob)
        for arr in arrays:
            if arr.nbytes:
                out.write(_byte_view(arr))

    if hasattr(f, "write"):  # torch.save(obj, open(path, "wb")) or a BytesIO: the caller owns the file
        write(f)
        if hasattr(f, "flush"):
            f.flush()
        return
    write_atomically(f, write, "deepcore.save")


def write_atomically(path, write, who):
    """Calls write(binary file) on a new file that replaces `path` once it is complete and on disk."""
    shown = os.fspath(path)
    target = os.path.realpath(shown)  # through symlinks: the link stays, its target is replaced
    if os.path.isdir(target):
        raise IsADirectoryError(f"{who}: {shown!r} is a directory, not a file")
    directory = os.path.dirname(target)
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"{who}: cannot write {shown!r}: the directory {directory!r} does not exist")
    try:
        old = os.stat(target)
    except FileNotFoundError:
        old = None
    if old is not None and not os.access(target, os.W_OK):  # open(path, "wb") would refuse; so do we
        raise PermissionError(f"{who}: {shown!r} is not writable")
    global _UNNAMED_FILES
    try:
        _replace(target, directory, old, write, unnamed=_UNNAMED_FILES)
    except _NoUnnamedFiles:  # /proc hides the file (a sandbox): named temporaries from now on
        _UNNAMED_FILES = False
        _replace(target, directory, old, write, unnamed=False)
    _fsync_directory(directory)  # the rename itself must reach the disk too


# O_TMPFILE makes a file with no name until it is linked in: a process killed while writing leaves
# nothing behind. Elsewhere (macOS, Windows, NFS) the file has a name from the start and is removed
# on any exception, KeyboardInterrupt included; only a hard kill can leave it.
_UNNAMED_FILES = hasattr(os, "O_TMPFILE") and os.link in os.supports_dir_fd and os.path.isdir("/proc/self/fd")


class _NoUnnamedFiles(Exception):
    pass


def _temp_name(directory):
    return os.path.join(directory, _TEMP_PREFIX + secrets.token_hex(8))


def _open_new_file(directory, unnamed):
    """(fd, name): name is None for an unnamed (O_TMPFILE) file."""
    cloexec = getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    if unnamed:
        try:
            return os.open(directory, os.O_TMPFILE | os.O_WRONLY | cloexec, 0o666), None  # umask applies
        except OSError:  # EOPNOTSUPP, EISDIR (an old kernel): this filesystem cannot
            pass
    while True:
        name = _temp_name(directory)
        try:
            return os.open(name, os.O_CREAT | os.O_EXCL | os.O_WRONLY | cloexec, 0o666), name
        except FileExistsError:
            continue


def _keep_owner_and_mode(fd, old):
    if hasattr(os, "fchmod"):
        os.fchmod(fd, stat.S_IMODE(old.st_mode))
    if hasattr(os, "fchown") and (old.st_uid, old.st_gid) != (os.geteuid(), os.getegid()):
        with contextlib.suppress(PermissionError):  # only root may give a file away; keep ours then
            os.fchown(fd, old.st_uid, old.st_gid)


def _replace(target, directory, old, write, unnamed):
    fd, name = -1, None
    try:
        fd, name = _open_new_file(directory, unnamed)
        if old is not None:
            _keep_owner_and_mode(fd, old)
        with os.fdopen(fd, "wb", closefd=False) as out:
            write(out)
            out.flush()
            os.fsync(fd)  # the data is on disk before the rename makes it the file
        if name is None:
            name = _link_unnamed(fd, directory)
        os.replace(name, target)
        name = None
    except BaseException:
        if name is not None:
            with contextlib.suppress(OSError):
                os.unlink(name)
        raise
    finally:
        if fd >= 0:
            os.close(fd)


def _link_unnamed(fd, directory):
    """Gives the finished unnamed file a temporary name (rename needs one; linkat cannot replace)."""
    dir_fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        while True:
            name = _temp_name(directory)
            try:
                # dst_dir_fd makes Python call linkat(..., AT_SYMLINK_FOLLOW), which links the file the
                # /proc entry stands for; plain link() would try to link the /proc symlink itself.
                os.link(f"/proc/self/fd/{fd}", os.path.basename(name), dst_dir_fd=dir_fd, follow_symlinks=True)
                return name
            except FileExistsError:
                continue
            except OSError as e:
                raise _NoUnnamedFiles() from e
    finally:
        os.close(dir_fd)


def _fsync_directory(directory):
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    except OSError:  # some filesystems cannot fsync a directory; the rename is as durable as they allow
        pass
    finally:
        os.close(fd)


# ---- loading: what a file is -------------------------------------------------------------------

_NEVER_UNPICKLE = ("deepcore never unpickles, since loading a pickle runs whatever code the file holds. If you "
                   "trust the file, convert it once with PyTorch: safetensors.torch.save_file("
                   "torch.load(path, weights_only=True), 'model.safetensors')")


def _foreign_format(head):
    """What a file that is not safetensors is, from its first bytes, or None."""
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:  # PROTO opcode: a pickle of protocol 2 to 5
        if head[2:3] == b"\x8a":  # a pickled long first: the magic number of torch.save's legacy format
            return "it is a pickle file (PyTorch's legacy torch.save format), and " + _NEVER_UNPICKLE
        return f"it is a pickle file (protocol {head[1]}), and " + _NEVER_UNPICKLE
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        # The first member's name (from its local header) says whose archive it is.
        name_len = struct.unpack("<H", head[26:28])[0] if len(head) >= 28 else 0
        first = head[30:30 + name_len]
        if first.endswith(b"data.pkl"):
            return "it is a zip archive holding a pickle (PyTorch's torch.save format), and " + _NEVER_UNPICKLE
        if first in (b"metadata.json", b"config.json"):
            return ("it is a zip archive in Keras 3's .keras format, which deepcore does not read: rebuild the "
                    "model with deepcore.keras and save it there")
        return "it is a zip archive, not a safetensors file"
    if head[:8] == b"\x89HDF\r\n\x1a\n":
        return ("it is an HDF5 file (Keras' .h5 format), which deepcore does not read: deepcore.keras saves and "
                "loads safetensors")
    if head[:6] == b"\x93NUMPY":
        return "it is a NumPy .npy file: read it with numpy.load(path, allow_pickle=False)"
    return None


def _corrupt(path, what, who="deepcore.load"):
    return ValueError(f"{who}: {path!r} is not a valid safetensors file: {what}")


@contextlib.contextmanager
def _source(f, who):
    """(binary file, its name for messages, bytes from here to its end or None when unknown, whether
    the file holds only this: a path, not an open file)."""
    if hasattr(f, "read"):
        if isinstance(f, io.TextIOBase):
            raise TypeError(f"{who}: the file object must be opened in binary mode ('rb'), not text mode")
        name = getattr(f, "name", None)
        size = None
        with contextlib.suppress(AttributeError, OSError, ValueError):
            if f.seekable():
                here = f.tell()
                size = f.seek(0, os.SEEK_END) - here
                f.seek(here)
        yield f, name if isinstance(name, str) else "<file object>", size, False
        return
    path = os.fspath(f)
    if os.path.isdir(path):
        raise ValueError(f"{who}: {path!r} is a directory, not a file")
    with open(path, "rb") as fh:
        st = os.fstat(fh.fileno())
        yield fh, path, st.st_size if stat.S_ISREG(st.st_mode) else None, True


def _read_exact(fh, n, path, what, who):
    """n bytes, read in bounded chunks: a stream claiming more than it holds costs only what it holds."""
    buf = bytearray()
    while len(buf) < n:
        chunk = fh.read(min(n - len(buf), _CHUNK))
        if not isinstance(chunk, (bytes, bytearray)):
            raise TypeError(f"{who}: the file object must be opened in binary mode ('rb')")
        if not chunk:
            raise _corrupt(path, f"the file is truncated: {what} needs {n} bytes, only {len(buf)} follow", who)
        buf += chunk
    return buf


def _read_upto(fh, n, who):
    """Up to n (a few) bytes: fewer only at the end of the file."""
    buf = bytearray()
    while len(buf) < n:
        chunk = fh.read(n - len(buf))
        if not isinstance(chunk, (bytes, bytearray)):
            raise TypeError(f"{who}: the file object must be opened in binary mode ('rb')")
        if not chunk:
            break
        buf += chunk
    return bytes(buf)


class SafetensorsFile:
    """A checked header: .metadata (str -> str) and .shapes (name -> shape, in header order), read
    and validated against the file's size; .read_arrays() then reads the data."""

    def __init__(self, fh, path, size, who, whole=True):
        """size: bytes from here to the end of the file, None when unknown (a pipe); whole: the file
        must end with the data (a path), rather than go on to more (an open file may hold several)."""
        self._fh, self.path, self._who, self._size_known = fh, path, who, size is not None
        head = _read_upto(fh, 8, who)
        if len(head) < 8:
            raise self._bad(_foreign_format(head) or
                            f"the file is truncated: {len(head)} bytes, fewer than the 8-byte header length")
        (n,) = struct.unpack("<Q", head)
        peek = _read_upto(fh, min(n, 512), who)  # enough to tell a pickle or a zip archive (its first name)
        foreign = _foreign_format(head + peek)
        if foreign is not None:
            raise self._bad(foreign)
        if n and not peek:
            raise self._bad(f"the file is truncated: the header needs {n} bytes, none follow the length field")
        hint = "" if peek.startswith(b"{") else (
            f" (a safetensors file starts with an 8-byte header length and a JSON header, '{{'; this one starts "
            f"with {(head + peek)[:12]!r}: is this a safetensors file?)")
        if n > _MAX_HEADER:
            raise self._bad(f"the header length field says {n} bytes, more than the {_MAX_HEADER} safetensors "
                            f"allows" + hint)
        if size is not None and 8 + n > size:
            raise self._bad(f"the file is truncated: the header needs {n} bytes but the file has only {size - 8} "
                            f"after the length field" + hint)
        header = self._parse(peek + _read_exact(fh, n - len(peek), path, "the header", who))
        self.metadata = header.pop("__metadata__", None)
        self.metadata = {} if self.metadata is None else self.metadata  # null is allowed, as no metadata
        if not isinstance(self.metadata, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                          for k, v in self.metadata.items()):
            raise self._bad("__metadata__ must map strings to strings")
        self._entries = [self._entry(name, info) for name, info in header.items()]
        self.shapes = OrderedDict((name, tuple(shape)) for _, _, name, _, shape in self._entries)
        self._check_layout(None if size is None else size - 8 - n, whole)

    def _bad(self, what):
        return _corrupt(self.path, what, self._who)

    def _parse(self, blob):
        def no_repeats(pairs):
            seen = {}
            for k, v in pairs:
                if k in seen:
                    raise self._bad(f"the header names {k!r} twice")
                seen[k] = v
            return seen
        try:
            header = json.loads(blob.decode("utf-8"), object_pairs_hook=no_repeats)
        except ValueError as e:  # not UTF-8, not JSON, or an integer of more digits than Python reads
            raise self._bad(f"the header is not valid JSON ({e})") from None
        except RecursionError:
            raise self._bad("the header is nested too deeply to be a safetensors header") from None
        if not isinstance(header, dict):
            raise self._bad(f"the header is a JSON {type(header).__name__}, expected an object")
        return header

    def _entry(self, name, info):
        if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
            raise self._bad(f"entry {name!r} must have exactly dtype, shape and data_offsets")
        tag, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
        if not isinstance(tag, str) or tag not in _NUMPY_OF_TAG:
            raise self._bad(f"tensor {name!r} has dtype {tag!r}; deepcore reads {', '.join(_NUMPY_OF_TAG)}")
        if (not isinstance(shape, list) or len(shape) > _MAX_DIMS or
                not all(type(s) is int and s >= 0 for s in shape)):
            raise self._bad(f"tensor {name!r} has an invalid shape {shape!r} (at most {_MAX_DIMS} sizes >= 0)")
        if not isinstance(offsets, list) or len(offsets) != 2 or not all(type(o) is int for o in offsets):
            raise self._bad(f"tensor {name!r} has invalid data_offsets {offsets!r}")
        begin, end = offsets
        itemsize = _NUMPY_OF_TAG[tag].itemsize
        if math.prod(s for s in shape if s) * itemsize >= 2**63:  # NumPy refuses it even with a zero size in it
            raise self._bad(f"tensor {name!r} has a shape {tuple(shape)} that no array can have: its sizes multiply "
                            f"past 2**63 bytes")
        expected = math.prod(shape) * itemsize  # Python ints: a claimed 2**64 cannot overflow
        if not 0 <= begin <= end or end - begin != expected:
            raise self._bad(f"tensor {name!r} of shape {tuple(shape)} and dtype {tag} needs {expected} bytes, but "
                            f"its data_offsets {offsets} span {end - begin}")
        return begin, end, name, tag, shape

    def _check_layout(self, data_size, whole):
        """Tensors back to back from byte 0, within the file (ending at its end for a whole file)."""
        position = 0
        for begin, end, name, _, _ in sorted(self._entries, key=lambda e: e[:2]):
            if begin != position:
                raise self._bad(f"tensor {name!r} starts at byte {begin} of the data, expected {position} "
                                f"(overlapping or with a hole)")
            position = end
        if data_size is not None and position > data_size:
            raise self._bad(f"the file is truncated: the header describes {position} bytes of tensor data, but only "
                            f"{data_size} follow it")
        if whole and data_size is not None and position < data_size:
            raise self._bad(f"{data_size - position} unexpected bytes follow the last tensor")

    def read_arrays(self):
        """name -> NumPy array (native byte order, owning its memory), in header order."""
        arrays, crcs = {}, {}
        for begin, end, name, tag, shape in sorted(self._entries, key=lambda e: e[:2]):
            npd = _NUMPY_OF_TAG[tag]
            arr = self._read_array(end - begin, npd, shape)
            if tag == "BOOL" and arr.size and _byte_view(arr).max() > 1:
                raise self._bad(f"bool tensor {name!r} holds bytes other than 0 and 1")
            crcs[name] = zlib.crc32(_byte_view(arr))
            arrays[name] = arr if npd.isnative else arr.astype(npd.newbyteorder("="))
        stored = self.metadata.get(_CHECKSUM_KEY)
        if stored is not None:
            described = {name: [tag, shape] for _, _, name, tag, shape in self._entries}
            if stored != _checksum(described, self.metadata, crcs):
                raise self._bad(f"its checksum does not match ({_CHECKSUM_KEY} {stored!r}): the file was damaged "
                                f"(a flipped bit, a bad copy) or edited after deepcore wrote it")
        return {name: arrays[name] for name in self.shapes}

    def _read_array(self, nbytes, npd, shape):
        readinto = getattr(self._fh, "readinto", None)
        if not self._size_known or readinto is None:  # a stream: read what is there, never what it claims
            raw = _read_exact(self._fh, nbytes, self.path, "a tensor", self._who)
            return np.frombuffer(raw, dtype=npd).reshape(shape) if nbytes else np.zeros(shape, npd)
        arr = np.empty(shape, dtype=npd)  # its size was checked against the file's
        view, got = memoryview(_byte_view(arr)), 0
        while got < nbytes:
            n = readinto(view[got:])
            if not n:
                raise self._bad(f"the file is truncated: a tensor needs {nbytes} bytes, only {got} follow")
            got += n
        return arr


@contextlib.contextmanager
def open_safetensors(f, who="deepcore.load"):
    """``with open_safetensors(path) as st``: st.metadata and st.shapes are checked and read;
    st.read_arrays() reads the tensors (deepcore.keras checks a model's config against st.shapes
    before it builds anything)."""
    with _source(f, who) as (fh, path, size, whole):
        yield SafetensorsFile(fh, path, size, who, whole)


def read_tensors(f, who="deepcore.load"):
    """(name -> Tensor, metadata) of a safetensors file, whatever its metadata holds."""
    with open_safetensors(f, who) as st:
        arrays = st.read_arrays()
        return {name: from_numpy(arr) for name, arr in arrays.items()}, st.metadata


def load(f, map_location=None, weights_only=True):
    """Reads a file written by deepcore.save (or any safetensors file of float32/float64/int64/bool
    tensors) and returns what was saved: a dict name -> Tensor for a state_dict. map_location: a device
    to put the tensors on ('cpu' by default): a device or its name, a dict {saved location: device}
    (deepcore's files hold host copies, so the 'cpu' entry applies), or a function (tensor,
    'cpu') -> tensor. f: a path, or a file opened for binary reading (read from its current position).

    weights_only: as in PyTorch. Nothing is ever unpickled either way; the flag decides which
    classes and functions a saved module may name (see deepcore.serialization): with True (the
    default) deepcore's own and allow-listed ones, with False also any already imported.

    A file that is not a valid safetensors file (truncated, damaged, a pickle or a zip archive,
    a header claiming more than the file holds) raises ValueError naming it, before anything the
    file asks for is allocated."""
    with open_safetensors(f) as st:
        path, metadata = st.path, st.metadata
        structure = metadata.get(_STRUCTURE_KEY)
        layout = None
        if structure is not None:  # parsed before the data is read: a damaged layout costs nothing
            try:
                layout = json.loads(structure)
            except ValueError as e:
                raise _corrupt(path, f"the structure in __metadata__ is not valid JSON ({e})") from None
            except RecursionError:
                raise _corrupt(path, "the structure in __metadata__ is nested too deeply") from None
        arrays = st.read_arrays()
    tensors = {name: _place(from_numpy(arr), map_location) for name, arr in arrays.items()}
    if layout is None:
        return tensors
    return serialization.unflatten(layout, tensors, path,
                                   weights_only=bool(weights_only) if weights_only is not None else True)


def _place(tensor, map_location):
    if map_location is None:
        return tensor
    if isinstance(map_location, dict):
        target = map_location.get("cpu", "cpu")
        return tensor if target == "cpu" else tensor.to(target)
    if callable(map_location) and not isinstance(map_location, str):
        moved = map_location(tensor, "cpu")
        return moved if isinstance(moved, Tensor) else tensor
    return tensor.to(map_location)


def load_metadata(f, who="deepcore.load"):
    """The __metadata__ dict of a safetensors file (str -> str), without reading the tensors. The
    header is checked as load checks it (its sizes against the file's)."""
    with open_safetensors(f, who) as st:
        return dict(st.metadata)
