"""A real decompression bomb: a valid gzip stream of `size` zero bytes, sent in small writes.

The deflate stream is made of one compressed mebibyte repeated: after a full flush the
compressor starts afresh, so every later mebibyte of zeros compresses to the same ~1 KB. The
trailer's CRC-32 is computed as the body goes out, so the bomb costs the simulator ~1 KB of
memory whatever its size (1 GiB of zeros is ~1 MB on the wire, a ratio of ~1,000).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from functools import cache

MIB = 1 << 20
BOMB_BYTES = 1 << 30
"""What the `gzip_bomb` fault inflates to: 1 GiB."""
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


def gzip_bomb(size: int = BOMB_BYTES) -> Iterator[bytes]:
    """The gzip stream of `size` zero bytes (a whole number of MiB, at least one), in writes of
    about `WRITE_BYTES`."""
    first, again, end = _pieces()
    block = bytes(MIB)
    crc = zlib.crc32(block)
    pending = [first]
    held = len(first)
    for _ in range(max(1, size // MIB) - 1):
        crc = zlib.crc32(block, crc)
        pending.append(again)
        held += len(again)
        if held >= WRITE_BYTES:
            yield b"".join(pending)
            pending, held = [], 0
    pending.append(end + struct.pack("<II", crc, (max(1, size // MIB) * MIB) & 0xFFFFFFFF))
    yield b"".join(pending)
