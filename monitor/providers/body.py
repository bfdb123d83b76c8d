"""A reply's body, its content-encoding undone a bounded step at a time.

    decoder = Decoder(response.headers.get("content-encoding", ""))
    decoder.feed(raw)                  # bytes as they came off the wire (`aiter_raw`)
    while piece := decoder.read(STEP_BYTES):
        ...                            # at most STEP_BYTES of decoded body each

httpx inflates each chunk it reads whole: 64 KB of a gzip bomb becomes 64 MB before the caller
can count a byte of it. Reading the raw bytes and inflating them here, at most `limit` bytes of
output per `read`, lets the reader stop at its size bound with one step more in memory.

Supported: `identity`, `gzip` (`x-gzip`), `deflate` (zlib-wrapped or raw, as httpx accepts
it), and `br` when the `brotli` package (1.2 or later, which bounds its output) is installed.
`ACCEPT_ENCODING` is what a request should say it accepts. A broken stream, or an encoding
this module cannot undo, raises `httpx.DecodingError`: the provider's failure, classified as
every other wire failure is.
"""

from __future__ import annotations

import importlib
import zlib
from typing import Any

import httpx

STEP_BYTES = 64 * 1024
"""Decoded bytes one `read` returns at most, by default."""

_brotli: Any
try:
    _brotli = importlib.import_module("brotli")  # optional; untyped
    if not hasattr(_brotli.Decompressor(), "can_accept_more_data"):  # before 1.2: unbounded
        _brotli = None
except ImportError:
    _brotli = None

ENCODINGS = ("gzip", "deflate", "br") if _brotli is not None else ("gzip", "deflate")
ACCEPT_ENCODING = ", ".join(ENCODINGS)


def negotiate(asked: str | None) -> str:
    """The accept-encoding to send when `asked` is what the request says (a user's header, or
    the client's default): its codings this module can undo within the size bound, in its
    order and with its q-values; `*` stands for those; `identity` when none is left.

    A user who asks for `identity` (a proxy that mangles gzip, a capture they want readable)
    gets it; one who asks for `zstd` gets an uncompressed body rather than one that cannot be
    read within the bound.
    """
    if asked is None:
        return ACCEPT_ENCODING
    kept: list[str] = []
    for item in asked.split(","):
        coding = item.split(";", 1)[0].strip().lower()
        if coding == "*":
            kept.extend(name for name in ENCODINGS if name not in kept)
        elif coding == "identity" or coding in ENCODINGS:
            kept.append(item.strip())
    return ", ".join(dict.fromkeys(kept)) or "identity"


class Decoder:
    """Undoes one content-encoding incrementally; `read` never returns more than asked."""

    def __init__(self, content_encoding: str) -> None:
        names = [
            name.strip().lower()
            for name in content_encoding.split(",")
            if name.strip() and name.strip().lower() != "identity"
        ]
        if len(names) > 1:
            raise httpx.DecodingError(f"more than one content-encoding: {content_encoding}")
        self.encoding = names[0] if names else "identity"
        if self.encoding == "x-gzip":
            self.encoding = "gzip"
        if self.encoding not in ("identity", *ENCODINGS):
            raise httpx.DecodingError(f"unsupported content-encoding: {self.encoding[:40]}")
        self._pending = b""
        self._zlib: Any = None
        self._brotli: Any = None
        self._first = True  # deflate: not yet known whether it is zlib-wrapped or raw
        self._ended = False
        self._held = b""  # brotli's output past `limit` (it rounds its buffer up to ~32 KB)
        if self.encoding == "gzip":
            self._zlib = zlib.decompressobj(zlib.MAX_WBITS | 16)
        elif self.encoding == "deflate":
            self._zlib = zlib.decompressobj()
        elif self.encoding == "br":
            self._brotli = _brotli.Decompressor()

    def feed(self, raw: bytes) -> None:
        """Queue `raw` wire bytes; call `read` until it returns b"" before feeding more."""
        self._pending = self._pending + raw if self._pending else raw

    def read(self, limit: int = STEP_BYTES) -> bytes:
        """Up to `limit` decoded bytes from what was fed; b"" once all of it is decoded."""
        if self.encoding == "identity":
            out, self._pending = self._pending[:limit], self._pending[limit:]
            return out
        if self._brotli is not None:
            if not self._held:
                self._held = self._read_brotli(limit)
            out, self._held = self._held[:limit], self._held[limit:]
            return out
        return self._read_zlib(limit)

    def _read_zlib(self, limit: int) -> bytes:
        while self._pending and not self._ended:
            data, self._pending = self._pending, b""
            try:
                out = self._zlib.decompress(data, limit)
            except zlib.error as exc:
                if self.encoding == "deflate" and self._first:
                    # Some servers send raw deflate under `deflate` (httpx retries the same way).
                    self._first = False
                    self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
                    self._pending = data
                    continue
                raise httpx.DecodingError(f"the {self.encoding} body is broken: {exc}") from exc
            self._first = False
            self._pending = self._zlib.unconsumed_tail
            if self._zlib.eof:
                self._ended = True  # anything after the end of the stream is not read
                self._pending = b""
            if out:
                return bytes(out)
        return b""

    def _read_brotli(self, limit: int) -> bytes:
        decompressor = self._brotli
        try:
            for _ in range(1_000):  # an empty step while output is held back ends the loop
                if decompressor.is_finished():
                    self._pending = b""
                    return b""
                if self._pending and decompressor.can_accept_more_data():
                    data, self._pending = self._pending, b""
                    out = decompressor.process(data, output_buffer_limit=limit)
                else:
                    out = decompressor.process(b"", output_buffer_limit=limit)
                    if not out and not self._pending:
                        return b""  # everything fed is decoded
                if out:
                    return bytes(out)
        except _brotli.error as exc:
            raise httpx.DecodingError(f"the br body is broken: {exc}") from exc
        raise httpx.DecodingError("the br body is broken: the decoder made no progress")
