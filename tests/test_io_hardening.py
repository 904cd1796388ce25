"""Model files under attack (issue 17): hostile files refused in both APIs, atomic writes, and
load_model checking a config against the file's weights before it allocates them.

Every hostile file goes to deepcore.load, keras load_model and model.load_weights; each must raise
ValueError naming the file and saying what is wrong (never RecursionError, OverflowError,
IsADirectoryError or a crash), before anything the file asks for is allocated.
"""
import io
import json
import os
import pickle
import signal
import stat
import struct
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest

import deepcore
import deepcore.nn as nn
from deepcore.keras.layers import Dense
from deepcore.keras.models import Sequential, load_model

TEMPS = ".deepcore-save-"


def keras_model():
    return Sequential([Dense(4, input_shape=(3,)), Dense(2)])


def split(raw):
    (n,) = struct.unpack("<Q", raw[:8])
    return json.loads(raw[8:8 + n]), raw[8 + n:]


def join(header, data):
    return with_blob(json.dumps(header).encode(), data)


def with_blob(blob, data=b""):
    """A file of this header text (whatever it is) and data."""
    return struct.pack("<Q", len(blob)) + blob + data


def leftovers(directory):
    return [f for f in os.listdir(directory) if f.startswith(TEMPS)]


# ---- the hostile files -------------------------------------------------------------------------

def hostile_files(raw):
    """name -> (bytes, {api: text the error must hold}); built from a valid Keras model file."""
    header, data = split(raw)
    first = next(k for k in header if k != "__metadata__")

    def edited(change, checksum=False):
        h = json.loads(json.dumps(header))
        if not checksum:
            h["__metadata__"].pop("deepcore.crc32", None)  # a crafted file carries none
        change(h)
        return join(h, data)

    def meta(key, value):
        return edited(lambda h: h["__metadata__"].__setitem__(key, value))

    def entry(**fields):
        return edited(lambda h: h[first].update(fields))

    torch_zip = io.BytesIO()
    with zipfile.ZipFile(torch_zip, "w") as z:  # the layout of torch.save's archive
        z.writestr("archive/data.pkl", pickle.dumps({"w": 1}, protocol=2))
        z.writestr("archive/version", "3\n")
    keras3 = io.BytesIO()
    with zipfile.ZipFile(keras3, "w") as z:
        z.writestr("metadata.json", "{}")
        z.writestr("config.json", "{}")
    never = "deepcore never unpickles"
    all_apis = ("load", "load_model", "load_weights")
    cases = {
        "empty": (b"", "truncated: 0 bytes"),
        "five bytes": (raw[:5], "truncated: 5 bytes"),
        "header cut": (raw[:200], "truncated: the header needs"),
        "data truncated": (raw[:-7], "truncated: the header describes"),
        "trailing bytes": (raw + b"\0" * 8, "unexpected bytes follow"),
        "bit flipped in the data": (raw[:-3] + bytes([raw[-3] ^ 0x10]) + raw[-2:], "checksum does not match"),
        "bit flipped in the metadata": (raw.replace(b'"format":"pt"', b'"format":"pu"'), "checksum does not match"),
        "header length 2**63": (struct.pack("<Q", 2**63) + raw[8:], "header length field says"),
        "header length past the end": (struct.pack("<Q", len(raw)) + raw[8:], "truncated: the header needs"),
        "deeply nested header": (with_blob(b"{\"a\":" + b"[" * 100_000 + b"]" * 100_000 + b"}"),
                                 "nested too deeply"),
        "not JSON": (with_blob(b"{\"a\": nope}"), "not valid JSON"),
        "not UTF-8": (with_blob(b"{\"\xff\xfe\": 1}"), "not valid JSON"),
        "a JSON list header": (with_blob(b"[1, 2]"), "expected an object"),
        "repeated name": (with_blob(json.dumps(header)[:-1].encode() + b"," +
                                    json.dumps({first: header[first]})[1:].encode(), data), "twice"),
        "shape 2**64": (entry(shape=[2**64]), "multiply past 2**63 bytes"),
        "shape 2**60": (entry(shape=[2**60]), "needs 4611686018427387904 bytes"),
        "empty, but 2**62 wide": (entry(shape=[0, 2**62], data_offsets=[0, 0]), "multiply past 2**63 bytes"),
        "65 dimensions": (entry(shape=[1] * 65), "invalid shape"),
        "negative size": (entry(shape=[-3, 4]), "invalid shape"),
        "float size": (entry(shape=[3.0, 4]), "invalid shape"),
        "negative offsets": (entry(data_offsets=[-8, 40]), "data_offsets [-8, 40]"),
        "overlapping offsets": (entry(data_offsets=[16, 64]), "overlapping or with a hole"),
        "offsets 2**62": (entry(shape=[2**60], data_offsets=[0, 2**62]), "starts at byte"),
        "unknown dtype": (entry(dtype="F8E4M3"), "dtype 'F8E4M3'"),
        "dtype not a string": (entry(dtype=["F32"]), "dtype ['F32']"),
        "missing field": (edited(lambda h: h[first].pop("dtype")), "exactly dtype, shape and data_offsets"),
        "huge tensor claimed": (edited(lambda h: h.update({first: {"dtype": "F64", "shape": [2**31],
                                                                    "data_offsets": [0, 2**34]}})),
                                "starts at byte"),
        "metadata not strings": (meta("epoch", 3), "__metadata__ must map strings to strings"),
        "metadata a list": (edited(lambda h: h.__setitem__("__metadata__", [])), "__metadata__ must map strings"),
        "a 5000-digit size": (with_blob(b'{"a": {"dtype": "F32", "shape": [' + b"7" * 5000 + b'], "data_offsets": '
                                        b'[0, 4]}}'), "not valid JSON"),
        "config not JSON": (meta("deepcore.keras.model_config", "{not json"),
                            {"load_model": "damaged model configuration", "load_weights": None, "load": None}),
        "layer list not JSON": (meta("deepcore.keras.weight_names", "[[\"dense\""),
                                {"load_model": "damaged layer list", "load_weights": "damaged layer list",
                                 "load": None}),
        "layer list of numbers": (meta("deepcore.keras.weight_names", "[1, 2]"),
                                  {"load_model": "damaged layer list", "load_weights": "damaged layer list",
                                   "load": None}),
        # The Keras APIs read no structure: only deepcore.load must refuse these.
        "structure not JSON": (meta("deepcore.structure", "{\"__dict__\": ["),
                               {"load": "structure in __metadata__ is not", "load_model": None, "load_weights": None}),
        "structure nested deeply": (meta("deepcore.structure", "[" * 100_000 + "]" * 100_000),
                                    {"load": "nested too deeply", "load_model": None, "load_weights": None}),
        "pickle protocol 2": (pickle.dumps({"w": [1.0] * 50}, protocol=2), f"pickle file (protocol 2), and {never}"),
        "pickle protocol 5": (pickle.dumps(print, protocol=5), f"pickle file (protocol 5), and {never}"),
        "tiny pickle": (pickle.dumps(1, protocol=4), "pickle file (protocol 4)"),
        "torch zip archive": (torch_zip.getvalue(), f"zip archive holding a pickle (PyTorch's torch.save format), "
                                                    f"and {never}"),
        "Keras 3 archive": (keras3.getvalue(), "Keras 3's .keras format"),
        "HDF5": (b"\x89HDF\r\n\x1a\n" + b"\0" * 100, "HDF5 file (Keras' .h5 format)"),
        "npy": (b"\x93NUMPY\x01\x00v\x00{'descr': '<f4'}", "NumPy .npy file"),
        "random bytes": (bytes(range(256)) * 4, "is this a safetensors file?"),
    }
    out = {}
    for name, (content, expect) in cases.items():
        if isinstance(expect, str):
            expect = dict.fromkeys(all_apis, expect)
        out[name] = (content, expect)
    return out


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A model, the path of its valid file, and the hostile files built from it."""
    directory = tmp_path_factory.mktemp("hostile")
    model = keras_model()
    good = directory / "good.safetensors"
    model.save(str(good))
    return model, good, hostile_files(good.read_bytes())


def _apis(model):
    return {"load": deepcore.load, "load_model": load_model, "load_weights": model.load_weights}


def _case_names():
    buf = io.BytesIO()
    deepcore.save({"a": deepcore.ones(1)}, buf)
    return list(hostile_files(buf.getvalue()))


CASE_NAMES = _case_names()


@pytest.mark.parametrize("case", CASE_NAMES)
def test_a_hostile_file_is_refused_by_every_api_with_a_clear_error(saved, case, tmp_path):
    model, _, files = saved
    content, expect = files[case]
    path = tmp_path / "hostile.safetensors"
    path.write_bytes(content)
    for api, call in _apis(model).items():
        if expect[api] is None:  # not this API's part of the file: it loads
            call(str(path))
            continue
        with pytest.raises(ValueError) as e:
            call(str(path))
        message = str(e.value)
        assert repr(str(path)) in message and expect[api] in message, f"{case} / {api}: {message}"
        assert message.startswith(f"{'deepcore.load' if api == 'load' else api}: "), message


def test_a_directory_and_a_missing_file(saved, tmp_path):
    model, _, _ = saved
    for api, call in _apis(model).items():
        with pytest.raises(ValueError, match=f"{tmp_path}' is a directory, not a file"):
            call(tmp_path)
        with pytest.raises(FileNotFoundError):
            call(tmp_path / "nope.safetensors")


def test_real_torch_files_are_named_for_what_they_are(saved, tmp_path, torch):
    model, _, _ = saved
    for legacy, what in ((False, "zip archive holding a pickle (PyTorch's torch.save format)"),
                         (True, "pickle file (PyTorch's legacy torch.save format)")):
        path = tmp_path / f"a_checkpoint_named_at_length_to_push_the_archive_name_on_{legacy}.pt"
        torch.save({"w": torch.ones(2)}, path, _use_new_zipfile_serialization=not legacy)
        for api, call in _apis(model).items():
            with pytest.raises(ValueError, match="deepcore never unpickles") as e:
                call(path)
            assert what in str(e.value) and str(path) in str(e.value)


def test_every_single_bit_flip_is_refused_or_harmless(saved, tmp_path):
    """A sweep of one-bit flips across the whole file: each is refused with a ValueError, or (a flip
    the checksum does not cover, such as its own key's name) loads exactly the saved weights."""
    model, good, _ = saved
    raw = good.read_bytes()
    want = deepcore.load(good)
    path = tmp_path / "flipped.safetensors"
    refused = harmless = 0
    for i in range(0, len(raw), 3):
        path.write_bytes(raw[:i] + bytes([raw[i] ^ (1 << (i % 8))]) + raw[i + 1:])
        try:
            got = deepcore.load(path)
        except ValueError as e:
            assert str(path) in str(e)
            refused += 1
            continue
        assert set(got) == set(want) and all(np.array_equal(got[k].numpy(), want[k].numpy()) for k in want), i
        harmless += 1
    assert refused > 0.97 * (refused + harmless), (refused, harmless)
    weights = model.get_weights()
    for i in range(0, len(raw), 41):  # the Keras APIs on a sample of the same flips
        path.write_bytes(raw[:i] + bytes([raw[i] ^ (1 << (i % 8))]) + raw[i + 1:])
        for load in (load_model, lambda p: [m for m in [keras_model()] if m.load_weights(p) is None][0]):
            try:
                other = load(str(path))
            except ValueError as e:
                assert str(path) in str(e)
                continue
            if other is not None:
                assert all(np.array_equal(a, b) for a, b in zip(other.get_weights(), weights)), i


def test_the_checksum_survives_a_rewrite_that_reorders_the_data(tmp_path):
    """Another safetensors writer may lay the tensors out in another order; with the same metadata the
    file still checks out, since the checksum covers names, shapes and bytes, not offsets."""
    path = tmp_path / "a.safetensors"
    deepcore.save({"a": deepcore.arange(3), "b": deepcore.ones(2, 2)}, path)
    header, data = split(path.read_bytes())
    a, b = header["a"]["data_offsets"], header["b"]["data_offsets"]
    header["b"]["data_offsets"] = [0, b[1] - b[0]]
    header["a"]["data_offsets"] = [b[1] - b[0], b[1] - b[0] + a[1]]
    (tmp_path / "b.safetensors").write_bytes(join(header, data[b[0]:b[1]] + data[a[0]:a[1]]))
    back = deepcore.load(tmp_path / "b.safetensors")
    assert back["a"].tolist() == [0, 1, 2] and back["b"].tolist() == [[1, 1], [1, 1]]
    with pytest.raises(ValueError, match="deepcore's own"):
        deepcore.save({"a": deepcore.ones(1)}, path, metadata={"deepcore.crc32": "0"})


# ---- no allocation before refusing ---------------------------------------------------------------

def _peak_rss_growth(script, tmp_path):
    """Runs `script` in a fresh interpreter; it sets `result`. (result, growth of peak RSS in MB)."""
    pytest.importorskip("resource")
    code = textwrap.dedent("""
        import json, resource, sys
        import deepcore
        from deepcore.keras.models import Sequential, load_model
        from deepcore.keras.layers import Dense
        deepcore.ones(2) + 1  # the engine's own first allocations
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
    """) + textwrap.indent(textwrap.dedent(script), "    ") + textwrap.dedent("""
        except Exception as e:
            result = f"{type(e).__name__}: {e}"
        grew = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
        print(json.dumps([result, grew]))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_load_model_checks_the_config_against_the_weights_before_building(tmp_path):
    """A 2 KB file whose config asks for Dense(units=2**24) on 24 inputs (1.6 GB of kernel) fails at
    once; peak RSS grows by less than 50 MB (it grew by 1.6 GB before the check)."""
    model = Sequential([Dense(4, input_shape=(24,)), Dense(2)])
    path = tmp_path / "units.safetensors"
    model.save(str(path))
    header, data = split(path.read_bytes())
    header["__metadata__"].pop("deepcore.crc32", None)
    config = json.loads(header["__metadata__"]["deepcore.keras.model_config"])
    config["config"]["layers"][0]["config"]["units"] = 2**24
    header["__metadata__"]["deepcore.keras.model_config"] = json.dumps(config)
    path.write_bytes(join(header, data))
    renamed = json.loads(json.dumps(config))  # the same, its layers renamed: only the total can tell
    for layer in renamed["config"]["layers"]:
        layer["config"]["name"] = "other_" + layer["config"]["name"]
    header["__metadata__"]["deepcore.keras.model_config"] = json.dumps(renamed)
    (tmp_path / "renamed.safetensors").write_bytes(join(header, data))
    assert path.stat().st_size < 3000
    result, grew = _peak_rss_growth("load_model('units.safetensors'); result = 'loaded'", tmp_path)
    assert "shape (24, 16777216), but the file stores it with shape (24, 4)" in result and grew < 50, (result, grew)
    result, grew = _peak_rss_growth("load_model('renamed.safetensors'); result = 'loaded'", tmp_path)
    assert "402653184 values), but the file holds only 110 more weight values" in result and grew < 50, \
        (result, grew)


def test_a_file_claiming_gigabytes_costs_nothing_to_refuse(tmp_path):
    """A header describing an 8 GB tensor over 16 bytes of data: refused from a path and from a
    stream that cannot seek (which cannot be measured first, so it is read in bounded chunks)."""
    header = {"__metadata__": {}, "w": {"dtype": "F32", "shape": [2**31], "data_offsets": [0, 2**33]}}
    (tmp_path / "claim.safetensors").write_bytes(join(header, b"\0" * 16))
    script = """
        import io
        class Stream(io.RawIOBase):  # a pipe: no seek, no size
            def __init__(self, data): self.data = io.BytesIO(data)
            def readable(self): return True
            def readinto(self, b): return self.data.readinto(b)
        errors = []
        for how in ("path", "stream"):
            f = "claim.safetensors" if how == "path" else Stream(open("claim.safetensors", "rb").read())
            try:
                deepcore.load(f)
            except ValueError as e:
                errors.append(str(e))
        result = errors
    """
    result, grew = _peak_rss_growth(script, tmp_path)
    assert len(result) == 2 and "truncated" in result[0] and "truncated: a tensor needs 8589934592" in result[1], \
        result
    assert grew < 50, grew


# ---- hostile structures (whole-module and nested saves) -------------------------------------------

def _structure_file(tmp_path, obj, edit):
    path = tmp_path / "s.pt"
    deepcore.save(obj, path)
    header, data = split(path.read_bytes())
    header["__metadata__"].pop("deepcore.crc32", None)
    header["__metadata__"]["deepcore.structure"] = edit(header["__metadata__"]["deepcore.structure"])
    path.write_bytes(join(header, data))
    return path


class WithActivation(nn.Module):
    def __init__(self):
        super().__init__()
        self.act = deepcore.nn.functional.relu

    def forward(self, x):
        return self.act(x)


@pytest.mark.parametrize("layout, message", [
    ({"__dict__": 5}, "list of [key, value] pairs"),
    ({"__dict__": [[{"k": 1}, 2]]}, "dict key cannot be a JSON object"),
    ({"__tensor__": []}, "refers to a tensor [] that is not in the file"),
    ({"__tensor__": "nope"}, "refers to a tensor 'nope'"),
    ({"__tuple__": 3}, "__tuple__ must hold a list"),
    ({"__float__": "1e5"}, "only inf, -inf and nan"),
    ({"__set__": [[1]]}, "cannot be in a set"),
    ({"__set__": 4}, "__set__ must hold a list"),
    ({"__dtype__": 3}, "names no dtype"),
    ({"__dtype__": "float7"}, "names no dtype"),
    ({"__device__": "toaster:9"}, "names no device"),
    ({"__ndarray__": {"__tensor__": "x"}, "dtype": "O"}, "dtype 'O' cannot be"),
    ({"__ndarray__": 3, "dtype": "<f4"}, "must hold a tensor"),
    ({"__parameter__": 3}, "must hold a tensor"),
    ({"__global__": 7}, "not 'package.module:QualName'"),
    ({"__module__": "deepcore.nn.modules.linear:Linear", "state": 3}, "[name, value] pairs"),
    ({"__module__": "deepcore.nn.modules.linear:Linear", "state": [["__class__", None]]}, "plain attribute"),
    ({"__module__": "deepcore.nn.modules.linear:Linear", "state": [["_parameters", 3]]}, "must be a dict"),
    ({"__whatever__": 1, "a": 2, "b": 3}, "unknown entry"),
])
def test_a_malformed_structure_is_refused_naming_the_file(tmp_path, layout, message):
    path = _structure_file(tmp_path, {"x": deepcore.ones(1), "y": [1]}, lambda _: json.dumps(layout))
    with pytest.raises(ValueError) as e:
        deepcore.load(path)
    assert str(path) in str(e.value) and message in str(e.value), str(e.value)


def test_a_name_cannot_reach_a_function_imported_into_deepcore(tmp_path):
    """'deepcore.io:os.system' resolves, attribute by attribute, to os.system: refused, since
    weights_only looks up only what a deepcore module defines (and never a dunder attribute)."""
    model = WithActivation()
    relu = deepcore.serialization.global_name(model.act)
    with deepcore.serialization.safe_globals([WithActivation]):
        assert deepcore.load(_structure_file(tmp_path, model, lambda s: s)).act is model.act
        for name in ("deepcore.io:os.system", "deepcore.io:json.loads", f"{relu}.__globals__"):
            path = _structure_file(tmp_path, model, lambda s: s.replace(relu, name))
            assert name in split(path.read_bytes())[0]["__metadata__"]["deepcore.structure"]
            with pytest.raises(ValueError, match=f"holds {name}, which is not allow-listed"):
                deepcore.load(path)


# ---- writing atomically ----------------------------------------------------------------------------

def _writers(tmp_path):
    """Each API's save, as f(path)."""
    model = keras_model()
    return {"deepcore.save": lambda p: deepcore.save({"w": deepcore.ones(3)}, p),
            "model.save": lambda p: model.save(str(p)),
            "model.save_weights": lambda p: model.save_weights(str(p))}


def test_a_replaced_file_keeps_its_mode_and_a_new_one_gets_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        for api, write in _writers(tmp_path).items():
            path = tmp_path / f"{api}.safetensors"
            write(path)
            assert stat.S_IMODE(path.stat().st_mode) == 0o640, api  # 0o666 less the umask, as open() makes
            path.chmod(0o604)
            write(path)
            assert stat.S_IMODE(path.stat().st_mode) == 0o604, api
            deepcore.load(path)
    finally:
        os.umask(old)
    assert leftovers(tmp_path) == []


def test_a_symlink_is_written_through_and_stays_a_link(tmp_path):
    (tmp_path / "real").mkdir()
    for api, write in _writers(tmp_path).items():
        target = tmp_path / "real" / f"{api}.safetensors"
        target.write_bytes(b"old")
        link = tmp_path / f"{api}.link"
        link.symlink_to(target)
        write(link)
        assert link.is_symlink() and os.readlink(link) == str(target), api
        assert target.read_bytes()[8:9] == b"{" and deepcore.load(link) is not None
    dangling = tmp_path / "dangling.link"
    dangling.symlink_to(tmp_path / "real" / "new.safetensors")
    deepcore.save({"w": deepcore.ones(1)}, dangling)  # as open(link, "wb") would: the target is created
    assert dangling.is_symlink() and (tmp_path / "real" / "new.safetensors").is_file()
    assert leftovers(tmp_path) == [] and leftovers(tmp_path / "real") == []


def test_the_data_and_the_directory_are_fsynced(tmp_path, monkeypatch):
    synced = []
    real = os.fsync

    def spy(fd):
        synced.append(stat.S_ISDIR(os.fstat(fd).st_mode))
        real(fd)
    monkeypatch.setattr(os, "fsync", spy)
    deepcore.save({"w": deepcore.ones(2)}, tmp_path / "a.safetensors")
    assert synced == [False, True]  # the file's bytes before the rename, the directory's entry after it


@pytest.mark.parametrize("unnamed", [True, False])
@pytest.mark.parametrize("interrupt", [KeyboardInterrupt, OSError])
def test_an_interrupted_save_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch, unnamed, interrupt):
    if unnamed and not deepcore.io._UNNAMED_FILES:
        pytest.skip("no O_TMPFILE here")
    monkeypatch.setattr(deepcore.io, "_UNNAMED_FILES", unnamed)
    path = tmp_path / "model.safetensors"
    deepcore.save({"w": deepcore.ones(2)}, path)
    before = path.read_bytes()

    def fail(fd):
        raise interrupt("interrupted")
    monkeypatch.setattr(os, "fsync", fail)
    for write in _writers(tmp_path).values():
        with pytest.raises(interrupt):
            write(path)
        assert path.read_bytes() == before and leftovers(tmp_path) == []


@pytest.mark.skipif(not deepcore.io._UNNAMED_FILES, reason="a killed process can only leave nothing with O_TMPFILE")
def test_a_killed_save_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "model.safetensors"
    deepcore.save({"w": deepcore.ones(2)}, path)
    before = path.read_bytes()
    code = textwrap.dedent(f"""
        import os, signal
        import deepcore
        os.fsync = lambda fd: os.kill(os.getpid(), signal.SIGKILL)  # killed with all the data written
        deepcore.save({{"w": deepcore.zeros(1000, 1000)}}, {str(path)!r})
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120)
    assert out.returncode == -signal.SIGKILL
    assert path.read_bytes() == before and leftovers(tmp_path) == []


def test_save_refuses_a_directory_and_a_missing_parent(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a directory"):
        deepcore.save({"w": deepcore.ones(1)}, tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        deepcore.save({"w": deepcore.ones(1)}, tmp_path / "no" / "such.safetensors")


def test_file_objects_save_and_load_from_their_position(tmp_path):
    buf = io.BytesIO()
    deepcore.save({"w": deepcore.arange(3)}, buf)
    deepcore.save([deepcore.ones(2), 7], buf)  # two objects back to back, as torch.save allows
    buf.seek(0)
    assert deepcore.load(buf)["w"].tolist() == [0, 1, 2]
    second = deepcore.load(buf)
    assert second[0].tolist() == [1.0, 1.0] and second[1] == 7
    with pytest.raises(ValueError, match="truncated: 0 bytes"):
        deepcore.load(buf)  # at the end
    with open(tmp_path / "t.safetensors", "wb") as f:
        deepcore.save(deepcore.ones(2), f)
    with open(tmp_path / "t.safetensors", "r") as f, pytest.raises(TypeError, match="binary mode"):
        deepcore.load(f)


# ---- Keras' overwrite=False ------------------------------------------------------------------------

class _Terminal:
    def __init__(self, tty):
        self.tty = tty

    def isatty(self):
        return self.tty


@pytest.mark.parametrize("method", ["save", "save_weights"])
def test_keras_overwrite_false_asks_and_never_overwrites_silently(tmp_path, monkeypatch, method):
    model = keras_model()
    path = str(tmp_path / f"{method}.safetensors")
    getattr(model, method)(path, overwrite=False)  # no file yet: written
    before = open(path, "rb").read()
    other = keras_model()
    monkeypatch.setattr(sys, "stdin", _Terminal(False))
    with pytest.raises(FileExistsError, match="already exists and overwrite=False"):
        getattr(other, method)(path, overwrite=False)
    assert open(path, "rb").read() == before
    monkeypatch.setattr(sys, "stdin", _Terminal(True))
    answers = iter(["maybe", "n"])
    monkeypatch.setattr("builtins.input", lambda prompt: next(answers))
    assert getattr(other, method)(path, overwrite=False) is None
    assert open(path, "rb").read() == before  # 'n': Keras returns without saving
    monkeypatch.setattr("builtins.input", lambda prompt: "y")
    getattr(other, method)(path, overwrite=False)
    assert open(path, "rb").read() != before
    getattr(model, method)(path)  # overwrite=True, the default: no question
    assert open(path, "rb").read() == before


def test_save_weights_refuses_a_format_it_would_not_write(tmp_path):
    from deepcore import keras
    model = keras.Sequential([keras.layers.Input((3,)), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="save_format='h5' is not supported"):
        model.save_weights(str(tmp_path / "w.h5"), save_format="h5")
    assert not (tmp_path / "w.h5").exists()
    model.save_weights(str(tmp_path / "w.safetensors"), save_format="safetensors")
