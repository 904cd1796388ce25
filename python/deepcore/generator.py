"""deepcore.Generator: torch.Generator's API over a Philox stream of its own.

deepcore's draws come from Philox 4x32-10 streams (csrc/cpu/random.h): a key (the seed) and a
counter (the offset), which each draw advances by the blocks it uses. The global stream is the one
``deepcore.manual_seed`` seeds; a Generator owns another (its own seed and offset in the engine,
behind their own lock), so drawing with ``generator=g`` never moves the global offset, whatever other
threads draw meanwhile. One seed gives the same numbers in both: ``Generator().manual_seed(5)``
draws what ``deepcore.manual_seed(5)`` followed by the same global draws would.

Every op that takes ``generator=`` in PyTorch takes one here: rand, randn, randint, randperm,
normal, bernoulli, multinomial, the in-place fills (uniform_, normal_, exponential_, bernoulli_,
random_), the samplers and random_split. ``default_generator`` is the global stream seen as a
Generator.
"""
import numbers
import os

from . import _C
from .device import as_device
from .dtypes import int64
from .tensor import Tensor, tensor

DEFAULT_SEED = 67280421310721  # torch.Generator()'s initial seed, so initial_seed() reads the same
_U64 = (1 << 64) - 1


def _seed_value(op, seed):
    """A seed as the engine's unsigned 64-bit key (negative seeds wrap, as in PyTorch)."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise RuntimeError(f"{op}: expected an int seed, but got {type(seed).__name__}")
    seed = int(seed)
    if not -(1 << 63) <= seed <= _U64:
        raise ValueError(f"{op}: seed must be within the range [-0x8000_0000_0000_0000, "
                         f"0xffff_ffff_ffff_ffff], got {seed}")
    return seed & _U64


def _signed(v):
    return v - (1 << 64) if v >= 1 << 63 else v


def _state_pair(op, state):
    """(seed, offset) from what get_state returns (an int64 tensor) or from a (seed, offset) pair."""
    if isinstance(state, Tensor):
        if state.dtype is not int64 or tuple(state.shape) != (2,):
            raise RuntimeError(f"{op}: expected the int64 tensor of 2 elements that get_state returns (seed, "
                               f"offset), got {state.dtype.name} of shape {tuple(state.shape)}")
        state = state.tolist()
    elif not isinstance(state, (tuple, list)):
        raise TypeError(f"{op}: expected the tensor get_state returns, got {type(state).__name__}")
    if len(state) != 2 or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in state):
        raise RuntimeError(f"{op}: expected a state of 2 ints (seed, offset), got {state!r}")
    return _seed_value(op, state[0]), _seed_value(op, state[1])


class Generator:
    """A private random stream: ``Generator(device='cpu')``, seeded with ``manual_seed(seed)``
    (returns self) or ``seed()`` (a fresh non-deterministic seed, returned); ``initial_seed()``;
    ``get_state()`` / ``set_state(state)`` save and restore the stream's position exactly.

    Draws are made on the CPU for every device (so one seed gives the same numbers everywhere);
    ``device`` only says which tensors the generator may fill, as in PyTorch."""

    def __init__(self, device="cpu"):
        self._device = as_device(device)
        self._stream = _C.PhiloxGenerator(DEFAULT_SEED)

    @property
    def device(self):
        return self._device

    @property
    def _native(self):
        """What the kernels take as generator=: this stream (None for the global one)."""
        return self._stream

    def _get(self):
        return self._stream.get_state()

    def _set(self, seed, offset):
        self._stream.set_state(seed, offset)

    def manual_seed(self, seed):
        self._set(_seed_value("Generator.manual_seed", seed), 0)
        return self

    def seed(self):
        """Seeds the stream from the operating system's entropy; returns the seed."""
        s = int.from_bytes(os.urandom(8), "little") & ((1 << 63) - 1)
        self._set(s, 0)
        return s

    def initial_seed(self):
        return self._get()[0]

    def get_state(self):
        """The stream's position: an int64 tensor (seed, offset), for set_state."""
        seed, offset = self._get()
        return tensor([_signed(seed), _signed(offset)], dtype=int64)

    def set_state(self, new_state):
        self._set(*_state_pair("Generator.set_state", new_state))
        return self

    def __reduce__(self):  # pickling and copy.deepcopy keep the device and the exact position
        return _rebuild, (str(self._device), *self._get())

    def __repr__(self):
        seed, offset = self._get()
        return f"<deepcore.Generator on {self._device}: seed {seed}, offset {offset}>"


class _GlobalGenerator(Generator):
    """default_generator: the global stream (what deepcore.manual_seed seeds) as a Generator."""

    def __init__(self):
        self._device = as_device("cpu")
        self._stream = None

    def _get(self):
        return _C.get_rng_state()

    def _set(self, seed, offset):
        _C.set_rng_state(seed, offset)

    def __reduce__(self):
        return "default_generator"  # the module attribute: one global stream per process


def _rebuild(device, seed, offset):
    g = Generator(device)
    g._set(seed, offset)
    return g


default_generator = _GlobalGenerator()


def native_stream(op, generator, device):
    """The engine stream an op draws from: None (the global one) for generator=None, else the
    Generator's, after checking that it is one and that its device type is that of the result
    (`device`; None: the CPU), as PyTorch requires."""
    if generator is None:
        return None
    if not isinstance(generator, Generator):
        raise TypeError(f"{op}: generator must be a deepcore.Generator (or None), got {type(generator).__name__}")
    want = as_device(device).type
    if generator.device.type != want:
        raise RuntimeError(f"{op}: expected a '{want}' device type for generator but found '{generator.device.type}'")
    return generator._native
