"""keras.preprocessing.sequence.pad_sequences (Keras 2): lists of token ids -> one padded array.
NumPy only: data preparation, before training."""
import numpy as np


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre", value=0.0):
    """(num_sequences, maxlen) array; shorter sequences are filled with `value` before ('pre') or after
    ('post') their items, longer ones lose items at the start ('pre') or the end ('post'). maxlen
    defaults to the longest sequence."""
    if padding not in ("pre", "post") or truncating not in ("pre", "post"):
        raise ValueError(f"pad_sequences: padding and truncating must be 'pre' or 'post', got {padding!r} and "
                         f"{truncating!r}")
    try:
        sequences = [list(s) for s in sequences]
    except TypeError:
        raise ValueError("pad_sequences: `sequences` must be a list of iterables (one sequence each)") from None
    if maxlen is None:
        maxlen = max((len(s) for s in sequences), default=0)
    if int(maxlen) < 0:
        raise ValueError(f"pad_sequences: maxlen must be non-negative, got {maxlen}")
    maxlen = int(maxlen)
    out = np.full((len(sequences), maxlen), value, dtype=dtype)
    for i, s in enumerate(sequences):
        if not s or not maxlen:
            continue
        kept = s[-maxlen:] if truncating == "pre" else s[:maxlen]
        if padding == "post":
            out[i, :len(kept)] = kept
        else:
            out[i, -len(kept):] = kept
    return out
