"""deepcore.save / deepcore.load: the safetensors format written and read by deepcore's own code."""
import io
import json
import math
import os
import struct

import numpy as np
import pytest

import deepcore
import deepcore.nn as nn


def sample_state():
    return {
        "w": deepcore.tensor(np.arange(12, dtype=np.float32).reshape(3, 4) / 7),
        "w64": deepcore.tensor(np.linspace(-1, 1, 5)),
        "steps": deepcore.tensor(42),
        "idx": deepcore.tensor([3, -1, 7]),
        "mask": deepcore.tensor([True, False, True]),
        "empty": deepcore.zeros(0, 3),
        "view": deepcore.tensor(np.arange(6, dtype=np.float32).reshape(2, 3)).t(),  # non-contiguous
    }


def test_round_trip_every_dtype(tmp_path):
    state = sample_state()
    path = tmp_path / "state.safetensors"
    deepcore.save(state, path)
    loaded = deepcore.load(path)
    assert list(loaded) == list(state)
    for k, v in state.items():
        assert loaded[k].dtype is v.dtype and tuple(loaded[k].shape) == tuple(v.shape), k
        assert np.array_equal(loaded[k].numpy(), v.numpy()), k
    assert [f for f in os.listdir(tmp_path) if f != "state.safetensors"] == []  # no temporary left behind


def test_file_layout_is_safetensors(tmp_path):
    path = tmp_path / "x.safetensors"
    deepcore.save({"a": deepcore.ones(2, 3), "b": deepcore.tensor([1, 2])}, str(path), metadata={"epoch": "3"})
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    assert (8 + n) % 8 == 0
    header = json.loads(raw[8:8 + n])
    assert header["a"] == {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}
    assert header["b"] == {"dtype": "I64", "shape": [2], "data_offsets": [24, 40]}
    assert header["__metadata__"]["epoch"] == "3"
    assert np.array_equal(np.frombuffer(raw[8 + n + 24:], "<i8"), [1, 2])
    assert len(raw) == 8 + n + 40
    assert deepcore.io.load_metadata(path)["epoch"] == "3"


def test_interoperates_with_the_safetensors_library(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    ours = tmp_path / "ours.safetensors"
    state = {k: v for k, v in sample_state().items()}
    deepcore.save(state, ours)
    theirs = st.load_file(str(ours))
    for k, v in state.items():
        assert np.array_equal(theirs[k], v.numpy()), k
    other = tmp_path / "theirs.safetensors"
    st.save_file({"x": np.arange(5, dtype=np.float64), "y": np.ones((2, 2), np.float32)}, str(other))
    back = deepcore.load(other)
    assert back["x"].dtype is deepcore.float64 and back["x"].tolist() == [0, 1, 2, 3, 4]
    assert back["y"].shape == (2, 2)


def test_model_state_dict_loads_into_pytorch(tmp_path, torch):
    st = pytest.importorskip("safetensors.torch")
    dm = nn.Sequential(nn.Linear(4, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, 2))
    dm(deepcore.randn(8, 4))
    dm.eval()
    path = tmp_path / "model.safetensors"
    deepcore.save(dm.state_dict(), path)
    tm = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.BatchNorm1d(5), torch.nn.ReLU(), torch.nn.Linear(5, 2))
    tm.load_state_dict(st.load_file(str(path)))
    tm.eval()
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    np.testing.assert_allclose(dm(deepcore.tensor(x)).detach().numpy(), tm(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)


def test_nested_structures_round_trip(tmp_path):
    obj = {
        "state": {0: {"step": deepcore.tensor(3.0), "exp_avg": deepcore.ones(2)}, 1: {"momentum_buffer": None}},
        "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "params": [0, 1], "amsgrad": False, "name": "main",
                          "max": math.inf}],
    }
    path = tmp_path / "optim.safetensors"
    deepcore.save(obj, path)
    back = deepcore.load(path)
    assert set(back["state"]) == {0, 1} and back["state"][1] == {"momentum_buffer": None}
    assert back["state"][0]["exp_avg"].tolist() == [1.0, 1.0] and back["state"][0]["step"].item() == 3.0
    group = back["param_groups"][0]
    assert group == {"lr": 1e-3, "betas": (0.9, 0.999), "params": [0, 1], "amsgrad": False, "name": "main",
                     "max": math.inf}
    deepcore.save(deepcore.arange(3), path)
    assert deepcore.load(path).tolist() == [0, 1, 2]


def test_save_refuses_what_it_cannot_store(tmp_path):
    with pytest.raises(TypeError, match="object"):
        deepcore.save({"f": object()}, tmp_path / "o.safetensors")
    assert os.listdir(tmp_path) == []
    with pytest.raises(TypeError):
        import pickle
        pickle.dumps(deepcore.ones(2))


def _valid_file(tmp_path):
    path = tmp_path / "good.safetensors"
    deepcore.save({"a": deepcore.ones(4), "b": deepcore.tensor([1, 2, 3])}, path)
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    return raw, n, json.loads(raw[8:8 + n])


def _with_header(header, data):
    blob = json.dumps(header).encode()
    return struct.pack("<Q", len(blob)) + blob + data


def corruptions(raw, n, header):
    data = raw[8 + n:]

    def edit(name, **changes):
        h = json.loads(json.dumps(header))
        h[name].update(changes)
        return _with_header(h, data)
    return {
        "empty": (b"", "truncated"),
        "short": (raw[:5], "truncated"),
        "huge header": (struct.pack("<Q", 1 << 40) + raw[8:], "header length"),
        "header cut": (raw[:8 + n // 2], "truncated"),
        "not json": (struct.pack("<Q", 4) + b"{{{{" + data, "not valid JSON"),
        "json list": (_with_header([1, 2], data), "expected an object"),
        "bad dtype": (edit("a", dtype="F16"), "dtype 'F16'"),
        "bad shape": (edit("a", shape=[-4]), "invalid shape"),
        "offsets mismatch": (edit("a", data_offsets=[0, 12]), "needs 16 bytes"),
        "overlap": (edit("b", data_offsets=[8, 32]), "overlapping"),
        "data truncated": (raw[:-5], "truncated"),
        "trailing bytes": (raw + b"junk", "unexpected bytes"),
        "missing field": (_with_header({"a": {"dtype": "F32", "shape": [4]}}, data), "exactly dtype"),
        "pickle": (b"\x80\x04\x95" + b"\x00" * 40, "it is a pickle file (protocol 4), and deepcore never unpickles"),
        "not safetensors": (b"\x00\x00\x00\x00\x00\x00\x01\x00" + b"\x00" * 40, "is this a safetensors file?"),
    }


def test_corrupt_files_raise_value_error_naming_file(tmp_path):
    raw, n, header = _valid_file(tmp_path)
    for what, (content, message) in corruptions(raw, n, header).items():
        path = tmp_path / f"bad_{what.replace(' ', '_')}.safetensors"
        path.write_bytes(content)
        with pytest.raises(ValueError) as e:
            deepcore.load(path)
        assert str(path) in str(e.value) and message in str(e.value), f"{what}: {e.value}"


def test_torch_pickle_is_rejected_not_executed(tmp_path, torch):
    path = tmp_path / "torch.pt"
    torch.save({"w": torch.ones(2)}, path)
    with pytest.raises(ValueError, match="not a valid safetensors file"):
        deepcore.load(path)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(FileNotFoundError):
        deepcore.load(tmp_path / "nope.safetensors")
    with pytest.raises(ValueError, match="directory"):
        deepcore.load(tmp_path)


class TiedNet(nn.Module):
    """A model saved whole (torch.save(model)): nested modules, a tied weight, buffers, plain attributes."""

    def __init__(self, vocab=7, width=4):
        super().__init__()
        self.vocab, self.kind, self.sizes, self.dtype_used = vocab, "tied", (vocab, width), deepcore.float32
        self.encoder = nn.Embedding(vocab, width)
        self.body = nn.Sequential(nn.Linear(width, width), nn.ReLU())
        self.decoder = nn.Linear(width, vocab)
        self.decoder.weight = self.encoder.weight
        self.register_buffer("scale", deepcore.tensor([2.0]))
        self.register_buffer("scratch", deepcore.zeros(3), persistent=False)

    def forward(self, idx):
        return self.decoder(self.body(self.encoder(idx))) * self.scale


def test_a_whole_module_round_trips_without_pickle(tmp_path):
    deepcore.manual_seed(0)
    model = TiedNet()
    model.eval()
    model.body[0].weight.requires_grad_(False)
    path = tmp_path / "model.pt"
    with open(path, "wb") as f:  # torch.save(model, f) on an open file, as scripts write it
        deepcore.save(model, f)
    assert path.read_bytes()[8:9] == b"{"  # safetensors: a JSON header, no pickle
    with pytest.raises(ValueError, match=r"TiedNet, which is not allow-listed: wrap the load in "
                                         r"torch.serialization.safe_globals\(\[TiedNet"):
        deepcore.load(path)
    with deepcore.serialization.safe_globals([TiedNet]):
        with open(path, "rb") as f:
            loaded = deepcore.load(f)
    assert deepcore.serialization.get_safe_globals() == []  # the allow-list was for the block only
    assert type(loaded) is TiedNet and not loaded.training and not loaded.body[0].training
    assert (loaded.vocab, loaded.kind, loaded.sizes, loaded.dtype_used) == (7, "tied", (7, 4), deepcore.float32)
    assert loaded.decoder.weight is loaded.encoder.weight  # still tied: one Parameter
    assert isinstance(loaded.decoder.weight, nn.Parameter) and loaded.decoder.weight.requires_grad
    assert not loaded.body[0].weight.requires_grad
    assert set(loaded.state_dict()) == set(model.state_dict())  # 'scratch' stays non-persistent
    idx = deepcore.tensor([0, 3, 6])
    np.testing.assert_array_equal(loaded(idx).detach().numpy(), model(idx).detach().numpy())
    loaded(idx).sum().backward()  # trains on
    assert loaded.encoder.weight.grad is not None
    assert type(deepcore.load(path, weights_only=False)) is TiedNet  # defined here: found without importing


def test_whole_module_saves_refuse_code(tmp_path):
    model = nn.Linear(2, 2)
    model.act = lambda x: x  # code, not data
    with pytest.raises(TypeError, match="lambda"):
        deepcore.save(model, tmp_path / "a.pt")
    model = nn.Linear(2, 2)
    model.register_forward_hook(lambda m, i, o: o)
    with pytest.raises(TypeError, match="forward hooks"):
        deepcore.save(model, tmp_path / "b.pt")
    # A file that names a function outside deepcore as a module class is refused, never resolved.
    deepcore.save(nn.Linear(2, 2), tmp_path / "c.pt")
    raw = (tmp_path / "c.pt").read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    header["__metadata__"]["deepcore.structure"] = header["__metadata__"]["deepcore.structure"].replace(
        "deepcore.nn.modules.linear:Linear", "os:system")
    header["__metadata__"].pop("deepcore.crc32", None)  # a crafted file carries no checksum
    (tmp_path / "d.pt").write_bytes(_with_header(header, raw[8 + n:]))
    with pytest.raises(ValueError, match="os:system, which is not allow-listed"):
        deepcore.load(tmp_path / "d.pt")
    with pytest.raises(ValueError, match="not an nn.Module class"):
        deepcore.load(tmp_path / "d.pt", weights_only=False)


def test_load_map_location_forms(tmp_path):
    path = tmp_path / "t.safetensors"
    deepcore.save({"w": deepcore.ones(2)}, path)
    for where in ("cpu", deepcore.device("cpu"), {"cuda:0": "cpu"}, lambda storage, loc: storage, None):
        assert deepcore.load(path, map_location=where, weights_only=True)["w"].tolist() == [1.0, 1.0]
    buf = io.BytesIO()
    deepcore.save(deepcore.arange(3), buf)
    buf.seek(0)
    assert deepcore.load(buf).tolist() == [0, 1, 2]


def test_numpy_arrays_round_trip_as_arrays(tmp_path):
    # pytorch/examples' time_sequence_prediction saves its data with torch.save(ndarray, open(path, "wb")).
    data = {"f64": np.sin(np.arange(6.0)).reshape(2, 3), "u8": np.arange(4, dtype=np.uint8),
            "f32": np.ones(2, np.float32), "b": np.array([True, False])}
    for name, arr in data.items():
        with open(tmp_path / f"{name}.pt", "wb") as f:
            deepcore.save(arr, f)
        back = deepcore.load(tmp_path / f"{name}.pt")
        assert isinstance(back, np.ndarray) and back.dtype == arr.dtype
        np.testing.assert_array_equal(back, arr)
    with pytest.raises(TypeError, match="complex128"):
        deepcore.save(np.ones(2, complex), tmp_path / "c.pt")
