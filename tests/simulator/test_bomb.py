"""The simulator's decompression bomb (`monitor.simulator.bomb`) is a valid gzip stream."""

from __future__ import annotations

import zlib

import pytest

from monitor.simulator.bomb import BOMB_BYTES, MIB, gzip_bomb


@pytest.mark.parametrize("size", [MIB, 8 * MIB, BOMB_BYTES])
def test_the_bomb_inflates_to_exactly_its_size_of_zeros_with_a_valid_trailer(size: int) -> None:
    inflate = zlib.decompressobj(31)  # gzip: checks the trailer's CRC-32 and length at the end
    wire = b"".join(gzip_bomb(size))
    inflated, nonzero = 0, False
    while wire:
        out = inflate.decompress(wire, 16 * MIB)
        inflated += len(out)
        nonzero = nonzero or any(out[:: 4096 + 1])
        wire = inflate.unconsumed_tail
    assert (inflated, nonzero, inflate.eof) == (size, False, True)
    assert len(b"".join(gzip_bomb(size))) < size // 900
