"""The IDX file format of the MNIST distribution: a big-endian header, then raw bytes.

Only unsigned-byte arrays (type code 0x08) occur in MNIST, so only those are read and
written. Reading checks that the header's shape accounts for every byte, so a
truncated file is refused rather than silently padded or cut.
"""

from __future__ import annotations

import struct

import numpy as np

UBYTE = 0x08


class IdxError(ValueError):
    """Bytes that are not a well-formed unsigned-byte IDX array."""


def encode(array: np.ndarray) -> bytes:
    """The IDX bytes of a uint8 array: magic (0, 0, 0x08, ndim), each dimension, the data."""
    if array.dtype != np.uint8:
        raise IdxError(f"only uint8 arrays are written as IDX, got {array.dtype}")
    header = struct.pack(">HBB", 0, UBYTE, array.ndim) + b"".join(struct.pack(">I", n) for n in array.shape)
    return header + np.ascontiguousarray(array).tobytes()


def decode(data: bytes, name: str = "IDX data") -> np.ndarray:
    """The uint8 array in ``data``; ``name`` is used in errors, e.g. the file's path."""
    if len(data) < 4:
        raise IdxError(f"{name}: {len(data)} bytes is too short for an IDX header")
    zero, code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or code != UBYTE or not 1 <= ndim <= 4:
        raise IdxError(f"{name}: not an unsigned-byte IDX file (magic {data[:4].hex()})")
    end = 4 + 4 * ndim
    if len(data) < end:
        raise IdxError(f"{name}: the header is cut short")
    shape = struct.unpack(f">{ndim}I", data[4:end])
    expected = end + int(np.prod(shape))
    if len(data) != expected:
        raise IdxError(f"{name}: the header promises {expected:,} bytes for shape {shape}, the file has {len(data):,}")
    return np.frombuffer(data, dtype=np.uint8, offset=end).reshape(shape)
