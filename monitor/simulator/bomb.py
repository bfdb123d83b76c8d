"""A real decompression bomb: a valid gzip stream of `size` zero bytes, sent in small writes.

The deflate stream is made of one compressed mebibyte repeated: after a full flush the
compressor starts afresh, so every later mebibyte of zeros compresses to the same ~1 KB, and
the bomb costs the simulator ~1 KB of memory and no compression whatever its size (1 GiB of
zeros is ~1 MB on the wire, a ratio of ~1,000). The trailer's CRC-32 of 1 GiB of zeros is a
constant (computing it takes ~1.5 s of CPU, which would stall the simulator's event loop); other
sizes compute theirs, once.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from functools import cache

MIB = 1 << 20
BOMB_BYTES = 1 << 30
"""What the `gzip_bomb` fault inflates to: 1 GiB."""
BOMB_CRC = 0x5B64C2B0
"""CRC-32 of 1 GiB of zero bytes."""
WRITE_BYTES = 64 * 1024


@cache
def _pieces() -> tuple[bytes, bytes, bytes]:
    """(gzip header + the first MiB, each further MiB, the final empty block without trailer)."""
    block = bytes(MIB)
    squeeze = zlib.compressobj(9, zlib.DEFLATED, 31)
    first = squeeze.compress(block) + squeeze.flush(zlib.Z_FULL_FLUSH)
    again = squeeze.compress(block) + squeeze.flush(zlib.Z_FULL_FLUSH)
    end = squeeze.flush()[:-8]  # the trailer would count only the two MiB seen; ours follows
    return first, again, end


@cache
def _crc_of_zeros(mib: int) -> int:
    if mib == BOMB_BYTES // MIB:
        return BOMB_CRC
    block, crc = bytes(MIB), 0
    for _ in range(mib):
        crc = zlib.crc32(block, crc)
    return crc


def gzip_bomb(size: int = BOMB_BYTES) -> Iterator[bytes]:
    """The gzip stream of `size` zero bytes (a whole number of MiB, at least one), in writes of
    about `WRITE_BYTES`."""
    first, again, end = _pieces()
    mib = max(1, size // MIB)
    crc = _crc_of_zeros(mib)
    pending = [first]
    held = len(first)
    for _ in range(mib - 1):
        pending.append(again)
        held += len(again)
        if held >= WRITE_BYTES:
            yield b"".join(pending)
            pending, held = [], 0
    pending.append(end + struct.pack("<II", crc, (mib * MIB) & 0xFFFFFFFF))
    yield b"".join(pending)
