"""TensorBoard event files without TensorFlow: CRC-32C, TFRecord framing and the
few protobuf messages an event file holds, written (and read back) by hand.

An event file is a sequence of TFRecords::

    uint64 length | uint32 masked_crc32c(length) | data[length] | uint32 masked_crc32c(data)

(little-endian), each ``data`` a serialized ``tensorflow.Event``; the first
record's Event carries ``file_version = "brain.Event:2"``. The messages used
(field numbers from tensorflow/core/util/event.proto and
tensorflow/core/framework/summary.proto)::

    Event          { double wall_time = 1; int64 step = 2;
                     oneof { string file_version = 3; Summary summary = 5; } }
    Summary        { repeated Value value = 1; }
    Summary.Value  { string tag = 1; oneof { float simple_value = 2; HistogramProto histo = 5; } }
    HistogramProto { double min = 1; double max = 2; double num = 3; double sum = 4;
                     double sum_squares = 5; repeated double bucket_limit = 6 [packed];
                     repeated double bucket = 7 [packed]; }
"""
import itertools
import os
import socket
import struct
import time

import numpy as np

# ---- CRC-32C (Castagnoli), reflected polynomial 0x82F63B78 ------------------------------------


def _make_crc32c_tables():
    poly = 0x82F63B78
    first = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
        first.append(crc)
    # Slicing-by-4 tables: table[k][b] is the CRC of byte b followed by k zero bytes,
    # so four input bytes are folded in with four lookups instead of four rounds.
    tables = [first]
    for _ in range(3):
        prev = tables[-1]
        tables.append([(prev[b] >> 8) ^ first[prev[b] & 0xFF] for b in range(256)])
    return tuple(tuple(t) for t in tables)


_CRC_T0, _CRC_T1, _CRC_T2, _CRC_T3 = _make_crc32c_tables()


def crc32c(data, crc=0):
    """CRC-32C of ``data`` (bytes-like), continuing from ``crc`` (0 to start)."""
    data = memoryview(data).cast("B")
    t0, t1, t2, t3 = _CRC_T0, _CRC_T1, _CRC_T2, _CRC_T3
    crc ^= 0xFFFFFFFF
    n4 = len(data) & ~3
    if n4:
        for (word,) in struct.iter_unpack("<I", data[:n4]):
            crc ^= word
            crc = t3[crc & 0xFF] ^ t2[(crc >> 8) & 0xFF] ^ t1[(crc >> 16) & 0xFF] ^ t0[crc >> 24]
    for byte in data[n4:]:
        crc = t0[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data):
    """The CRC TFRecord stores: rotated right by 15 bits plus a constant, so that a CRC of
    data that itself contains CRCs does not degenerate."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


# ---- protobuf wire format ----------------------------------------------------------------------
_VARINT, _FIXED64, _LENGTH_DELIMITED, _FIXED32 = 0, 1, 2, 5


def _varint(value):
    if value < 0:                      # int64 negatives: ten bytes of two's complement
        value += 1 << 64
    out = bytearray()
    while True:
        bits = value & 0x7F
        value >>= 7
        if value:
            out.append(bits | 0x80)
        else:
            out.append(bits)
            return bytes(out)


def _key(field, wire_type):
    return _varint((field << 3) | wire_type)


def field_varint(field, value):
    return _key(field, _VARINT) + _varint(int(value))


def field_double(field, value):
    return _key(field, _FIXED64) + struct.pack("<d", float(value))


def field_float(field, value):
    return _key(field, _FIXED32) + struct.pack("<f", float(value))


def field_bytes(field, payload):
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    return _key(field, _LENGTH_DELIMITED) + _varint(len(payload)) + bytes(payload)


def field_packed_doubles(field, values):
    return field_bytes(field, struct.pack(f"<{len(values)}d", *values))


def parse_message(data):
    """Decode one protobuf message into ``[(field, wire_type, value), ...]``: ints for
    varints, raw 8/4 bytes for fixed64/fixed32, bytes for length-delimited fields."""
    data = memoryview(data)
    pos, end, fields = 0, len(data), []

    def read_varint():
        nonlocal pos
        shift = result = 0
        while True:
            if pos >= end:
                raise ValueError("protobuf: truncated varint")
            byte = data[pos]
            pos += 1
            result |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return result
            shift += 7
            if shift > 63:
                raise ValueError("protobuf: varint longer than 10 bytes")

    while pos < end:
        key = read_varint()
        field, wire_type = key >> 3, key & 7
        if wire_type == _VARINT:
            value = read_varint()
        elif wire_type in (_FIXED64, _FIXED32):
            size = 8 if wire_type == _FIXED64 else 4
            if pos + size > end:
                raise ValueError("protobuf: truncated fixed-width field")
            value = bytes(data[pos:pos + size])
            pos += size
        elif wire_type == _LENGTH_DELIMITED:
            size = read_varint()
            if pos + size > end:
                raise ValueError("protobuf: truncated length-delimited field")
            value = bytes(data[pos:pos + size])
            pos += size
        else:
            raise ValueError(f"protobuf: unsupported wire type {wire_type} (field {field})")
        fields.append((field, wire_type, value))
    return fields


# ---- messages ------------------------------------------------------------------------------------


def scalar_value(tag, value):
    """A Summary.Value holding ``simple_value`` (a float32, as TensorBoard stores it)."""
    return field_bytes(1, tag) + field_float(2, value)


def histogram_value(tag, values, bins=30):
    """A Summary.Value holding a HistogramProto of ``values`` (NumPy, any shape)."""
    values = np.asarray(values, dtype=np.float64).ravel()
    values = values[np.isfinite(values)]
    if values.size == 0:
        lo = hi = 0.0
        limits, counts = [0.0], [0.0]
    else:
        lo, hi = float(values.min()), float(values.max())
        if lo == hi:                       # one bucket around a constant (e.g. zero biases)
            limits, counts = [hi], [float(values.size)]
        else:
            counts_np, edges = np.histogram(values, bins=bins, range=(lo, hi))
            limits, counts = [float(e) for e in edges[1:]], [float(c) for c in counts_np]
    histo = (field_double(1, lo) + field_double(2, hi) + field_double(3, values.size)
             + field_double(4, float(values.sum())) + field_double(5, float(np.dot(values, values)))
             + field_packed_doubles(6, limits) + field_packed_doubles(7, counts))
    return field_bytes(1, tag) + field_bytes(5, histo)


def event(step, wall_time=None, file_version=None, summary_values=()):
    out = field_double(1, time.time() if wall_time is None else wall_time) + field_varint(2, step)
    if file_version is not None:
        out += field_bytes(3, file_version)
    if summary_values:
        out += field_bytes(5, b"".join(field_bytes(1, v) for v in summary_values))
    return out


def tfrecord(data):
    header = struct.pack("<Q", len(data))
    return header + struct.pack("<I", masked_crc32c(header)) + data + struct.pack("<I", masked_crc32c(data))


_file_counter = itertools.count()


class EventFileWriter:
    """Appends Events to ``<log_dir>/events.out.tfevents.<time>.<host>.<pid>.<n>.v2``,
    the name TensorBoard looks for; the file_version record comes first."""

    def __init__(self, log_dir):
        os.makedirs(log_dir, exist_ok=True)
        self.log_dir = log_dir
        name = (f"events.out.tfevents.{int(time.time())}.{socket.gethostname()}."
                f"{os.getpid()}.{next(_file_counter)}.v2")
        self.path = os.path.join(log_dir, name)
        self._file = open(self.path, "wb")
        self.add_event(event(0, file_version="brain.Event:2"))
        self.flush()

    def add_event(self, serialized_event):
        self._file.write(tfrecord(serialized_event))

    def add_scalars(self, step, scalars):
        """``scalars``: {tag: number}; one Event holding all of them."""
        values = [scalar_value(tag, v) for tag, v in scalars.items()]
        if values:
            self.add_event(event(step, summary_values=values))

    def add_histogram(self, step, tag, values):
        self.add_event(event(step, summary_values=[histogram_value(tag, values)]))

    def flush(self):
        self._file.flush()

    def close(self):
        if not self._file.closed:
            self._file.close()


# ---- reading back (tests, and anyone who wants the numbers without TensorBoard) ----------------


def read_records(path):
    """The payloads of a TFRecord file, every length and data CRC checked."""
    with open(path, "rb") as f:
        blob = f.read()
    records, pos = [], 0
    while pos < len(blob):
        if pos + 12 > len(blob):
            raise ValueError(f"{path}: truncated record header at byte {pos}")
        header = blob[pos:pos + 8]
        (length,) = struct.unpack("<Q", header)
        (header_crc,) = struct.unpack("<I", blob[pos + 8:pos + 12])
        if header_crc != masked_crc32c(header):
            raise ValueError(f"{path}: bad length CRC at byte {pos}")
        start, stop = pos + 12, pos + 12 + length
        if stop + 4 > len(blob):
            raise ValueError(f"{path}: truncated record at byte {pos}")
        data = blob[start:stop]
        (data_crc,) = struct.unpack("<I", blob[stop:stop + 4])
        if data_crc != masked_crc32c(data):
            raise ValueError(f"{path}: bad data CRC in the record at byte {pos}")
        records.append(data)
        pos = stop + 4
    return records


def _signed64(value):
    return value - (1 << 64) if value >= 1 << 63 else value


def decode_event(data):
    """An Event as a dict: wall_time, step, and file_version or summary (a list of
    {'tag', 'simple_value'} / {'tag', 'histo': {...}} dicts)."""
    out = {"wall_time": 0.0, "step": 0}
    for field, wire_type, value in parse_message(data):
        if field == 1 and wire_type == _FIXED64:
            out["wall_time"] = struct.unpack("<d", value)[0]
        elif field == 2 and wire_type == _VARINT:
            out["step"] = _signed64(value)
        elif field == 3 and wire_type == _LENGTH_DELIMITED:
            out["file_version"] = value.decode("utf-8")
        elif field == 5 and wire_type == _LENGTH_DELIMITED:
            out["summary"] = [_decode_value(v) for f, w, v in parse_message(value) if f == 1 and w == 2]
    return out


def _decode_value(data):
    out = {}
    for field, wire_type, value in parse_message(data):
        if field == 1 and wire_type == _LENGTH_DELIMITED:
            out["tag"] = value.decode("utf-8")
        elif field == 2 and wire_type == _FIXED32:
            out["simple_value"] = struct.unpack("<f", value)[0]
        elif field == 5 and wire_type == _LENGTH_DELIMITED:
            out["histo"] = _decode_histogram(value)
    return out


def _decode_histogram(data):
    names = {1: "min", 2: "max", 3: "num", 4: "sum", 5: "sum_squares"}
    out = {"bucket_limit": [], "bucket": []}
    for field, wire_type, value in parse_message(data):
        if field in names and wire_type == _FIXED64:
            out[names[field]] = struct.unpack("<d", value)[0]
        elif field in (6, 7) and wire_type == _LENGTH_DELIMITED:
            out["bucket_limit" if field == 6 else "bucket"] += list(struct.unpack(f"<{len(value) // 8}d", value))
        elif field in (6, 7) and wire_type == _FIXED64:      # unpacked encoding, also legal
            out["bucket_limit" if field == 6 else "bucket"].append(struct.unpack("<d", value)[0])
    return out


def read_events(path):
    """Every Event of an event file, decoded (see decode_event)."""
    return [decode_event(r) for r in read_records(path)]


def read_scalars(path):
    """{tag: [(step, value), ...]} of the simple_value scalars in an event file."""
    scalars = {}
    for ev in read_events(path):
        for v in ev.get("summary", ()):
            if "simple_value" in v:
                scalars.setdefault(v["tag"], []).append((ev["step"], v["simple_value"]))
    return scalars
