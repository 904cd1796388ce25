"""torch.nn.utils.rnn: batches of variable-length sequences, padded or packed.

A padded batch is (T, B, *) (or (B, T, *) with batch_first), the shorter sequences filled with
padding_value. A PackedSequence holds only the real steps, time-major: data stacks step 0 of every
sequence, then step 1 of those longer than 1, and so on, the sequences ordered longest first;
batch_sizes[t] is how many sequences have a step t. sorted_indices (None when the input was
already sorted) gives, for each packed position, the batch index it came from; unsorted_indices is
its inverse. nn.RNN/LSTM/GRU take a PackedSequence and stop each sequence at its own length.

Every conversion is one gather (index_select) of rows, so autograd runs through it: the index
lists are built from the lengths (metadata), never from the data.
"""
import numbers
from collections import namedtuple

from ...ops._checks import check_tensor
from ...ops.index import index_select
from ...ops.shape import cat
from ...tensor import Tensor, full, tensor

# torch names its base "PackedSequence_" (its repr shows the subclass name either way)
_Fields = namedtuple("PackedSequence_",  # type: ignore[name-match]
                     ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])


def invert_permutation(permutation):
    """The inverse of an int64 permutation tensor (None stays None)."""
    if permutation is None:
        return None
    inverse = [0] * permutation.numel()
    for i, p in enumerate(permutation.tolist()):
        inverse[p] = i
    return tensor(inverse, dtype="int64", device=permutation.device)


class PackedSequence(_Fields):
    """A packed batch of sequences (a namedtuple, as torch's): data (sum of lengths, *), batch_sizes (int64
    on the CPU), sorted_indices and unsorted_indices (int64 or None). Build it with pack_padded_sequence
    or pack_sequence; PackedSequence(data, batch_sizes, sorted_indices) fills in unsorted_indices."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:
            if not isinstance(data, (tuple, list)) or len(data) != 2:
                raise TypeError(f"PackedSequence: expected data and batch_sizes, or a (data, batch_sizes) pair, got "
                                f"{type(data).__name__}")
            data, batch_sizes = data
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        """data.to(...); the indices follow a device move (batch_sizes stays on the CPU)."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        indices = [None if t is None else t.to(data.device) for t in (self.sorted_indices, self.unsorted_indices)]
        return type(self)(data, self.batch_sizes, *indices)

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return self.to(self.data.cuda(device).device)

    def double(self):
        return self.to(dtype="float64")

    def float(self):
        return self.to(dtype="float32")

    def long(self):
        return self.to(dtype="int64")

    @property
    def is_cuda(self):
        return self.data.is_cuda

    def is_pinned(self):
        return False


def _lengths(op, lengths, batch):
    """lengths (a 1-D tensor or a sequence of numbers) as a list of positive ints, one per sequence."""
    if isinstance(lengths, Tensor):
        if lengths.ndim != 1:
            raise ValueError(f"{op}: 'lengths' argument should be a 1D CPU int64 tensor, but got a {lengths.ndim}D "
                             f"tensor of shape {tuple(lengths.shape)}")
        values = lengths.tolist()
    else:
        values = list(lengths)
    if not all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values):
        raise TypeError(f"{op}: lengths must be numbers, got {values!r}")
    values = [int(v) for v in values]
    if len(values) != batch:
        raise ValueError(f"{op}: expected `len(lengths)` to be equal to batch_size, but got {len(values)} "
                         f"(batch_size={batch})")
    if any(v <= 0 for v in values):
        raise ValueError(f"{op}: length of all samples has to be greater than 0, but found an element in 'lengths' "
                         f"that is <= 0 (lengths {values})")
    return values


def _batch_sizes(sorted_lengths):
    """batch_sizes[t] = how many of the (longest-first) lengths exceed t."""
    sizes, alive = [], len(sorted_lengths)
    for t in range(sorted_lengths[0]):
        while sorted_lengths[alive - 1] <= t:
            alive -= 1
        sizes.append(alive)
    return sizes


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """A PackedSequence of the padded batch input (T, B, *) ((B, T, *) with batch_first) whose sequence b
    has lengths[b] steps. enforce_sorted=True requires lengths in decreasing order; with False the
    sequences are sorted here (stably) and sorted_indices records the order."""
    op = "pack_padded_sequence"
    check_tensor(op, "input", input)
    if input.ndim < 2:
        raise ValueError(f"{op}: expected a padded batch of at least 2 dims (T, B, *), got shape {tuple(input.shape)}")
    steps, batch = (input.shape[1], input.shape[0]) if batch_first else (input.shape[0], input.shape[1])
    lens = _lengths(op, lengths, batch)
    if max(lens) > steps:
        raise ValueError(f"{op}: a sequence of length {max(lens)} does not fit the input's {steps} time steps (input "
                         f"shape {tuple(input.shape)}, batch_first={batch_first})")
    if enforce_sorted:
        if any(a < b for a, b in zip(lens, lens[1:])):
            raise ValueError(f"{op}: `lengths` array must be sorted in decreasing order when `enforce_sorted` is "
                             f"True (got {lens}). You can pass `enforce_sorted=False` to pack_padded_sequence "
                             f"and/or pack_sequence to sidestep this requirement if you do not need ONNX "
                             f"exportability.")
        order, sorted_indices = list(range(batch)), None
    else:
        order = sorted(range(batch), key=lambda b: -lens[b])
        sorted_indices = tensor(order, dtype="int64", device=input.device)
    sizes = _batch_sizes([lens[b] for b in order])
    # the row of (t, b) in input flattened over its first two dims
    rows = [order[j] * steps + t if batch_first else t * batch + order[j] for t, n in enumerate(sizes)
            for j in range(n)]
    flat = input.reshape((steps * batch,) + tuple(input.shape[2:]))
    data = index_select(flat, 0, tensor(rows, dtype="int64", device=input.device))
    return PackedSequence(data, tensor(sizes, dtype="int64"), sorted_indices)


def _gather_padded(rows, lengths, starts, total, batch_first, left, padding_value):
    """A padded batch (total, B, *) ((B, total, *) with batch_first) in one gather: step i of sequence b
    is rows[starts(b, i)] (i < lengths[b]), shifted right when `left`; every padded position reads
    one extra row of padding_value appended to `rows`."""
    pad_row = rows.shape[0]
    rest = tuple(rows.shape[1:])
    filler = full((1,) + rest, padding_value, dtype=rows.dtype, device=rows.device)
    source = cat([rows, filler], 0)
    batch = len(lengths)

    def row(b, t):
        i = t - (total - lengths[b]) if left else t
        return starts(b, i) if 0 <= i < lengths[b] else pad_row

    index = [row(b, t) for b in range(batch) for t in range(total)] if batch_first else \
        [row(b, t) for t in range(total) for b in range(batch)]
    out = index_select(source, 0, tensor(index, dtype="int64", device=rows.device))
    return out.reshape(((batch, total) if batch_first else (total, batch)) + rest)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """(padded, lengths): the PackedSequence as a padded batch (T, B, *) ((B, T, *) with batch_first), in the
    original batch order, and the int64 lengths. total_length pads T up to that many steps."""
    op = "pad_packed_sequence"
    if not isinstance(sequence, PackedSequence):
        raise TypeError(f"{op}: expected a PackedSequence, got {type(sequence).__name__}")
    sizes = [int(n) for n in sequence.batch_sizes.tolist()]
    steps, batch = len(sizes), sizes[0] if sizes else 0
    if total_length is not None:
        if total_length < steps:
            raise ValueError(f"Expected total_length to be at least the length of the longest sequence in input, but "
                             f"got total_length={total_length} and max sequence length being {steps}")
        steps_out = int(total_length)
    else:
        steps_out = steps
    offsets = [0]
    for n in sizes:
        offsets.append(offsets[-1] + n)
    # position j of the packed (sorted) batch lives for sorted_lengths[j] steps
    sorted_lengths = [sum(1 for n in sizes if n > j) for j in range(batch)]
    where_sorted = list(range(batch)) if sequence.unsorted_indices is None else sequence.unsorted_indices.tolist()
    lengths = [sorted_lengths[where_sorted[b]] for b in range(batch)]
    padded = _gather_padded(sequence.data, lengths, lambda b, t: offsets[t] + where_sorted[b], steps_out,
                            batch_first, False, padding_value)
    return padded, tensor(lengths, dtype="int64")


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """The sequences (each (L_i, *), the same *) as one padded batch (T, B, *) ((B, T, *) with batch_first),
    T = max L_i, filled with padding_value on the right (or the left, padding_side='left')."""
    op = "pad_sequence"
    seqs = list(sequences.unbind(0) if isinstance(sequences, Tensor) else sequences)
    if not seqs:
        raise ValueError(f"{op}: received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise ValueError(f"{op}: expected padding_side to be one of left or right, but got {padding_side}.")
    for i, s in enumerate(seqs):
        check_tensor(op, f"sequence {i}", s)
        if s.ndim == 0:
            raise ValueError(f"{op}: sequence {i} is 0-dimensional; each sequence needs a time dim (L, *)")
        if tuple(s.shape[1:]) != tuple(seqs[0].shape[1:]):
            raise ValueError(f"{op}: sequence {i} has shape {tuple(s.shape)} but sequence 0 has shape "
                             f"{tuple(seqs[0].shape)}: the dims after the first must match")
    lengths = [s.shape[0] for s in seqs]
    starts = [0]
    for n in lengths[:-1]:
        starts.append(starts[-1] + n)
    return _gather_padded(cat(seqs, 0), lengths, lambda b, t: starts[b] + t, max(lengths), batch_first,
                          padding_side == "left", padding_value)


def pack_sequence(sequences, enforce_sorted=True):
    """A PackedSequence of the sequences (each (L_i, *)); enforce_sorted as in pack_padded_sequence."""
    seqs = list(sequences)
    if not seqs:
        raise ValueError("pack_sequence: received an empty list of sequences")
    return pack_padded_sequence(pad_sequence(seqs), [s.shape[0] for s in seqs], enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The list of sequences (L_i, *) in a padded batch: pad_sequence's inverse (views)."""
    check_tensor("unpad_sequence", "padded_sequences", padded_sequences)
    x = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    lens = _lengths("unpad_sequence", lengths, x.shape[0])
    return [x[b, :n] for b, n in enumerate(lens)]


def unpack_sequence(packed_sequences):
    """The list of sequences (L_i, *) in a PackedSequence, in the original batch order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
