"""Bodies read with a cap on their decompressed size: a decompression bomb stops at the cap."""

from __future__ import annotations

import importlib
import zlib
from collections.abc import Iterable, Iterator
from typing import Any, Protocol

import httpx

PIECE_BYTES = 256 * 1024  # the most any one decode step may produce
TRUNCATED_KEEP = 64 * 1024  # what a truncated answer keeps: enough for an excerpt


class _Decoder(Protocol):
    def feed(self, data: bytes) -> Iterator[bytes]: ...

    def finish(self) -> Iterator[bytes]: ...


class _Identity:
    def feed(self, data: bytes) -> Iterator[bytes]:
        if data:
            yield data

    def finish(self) -> Iterator[bytes]:
        return iter(())


class _Zlib:
    """gzip or deflate; never more than :data:`PIECE_BYTES` out of one step, however dense the input."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self.raw_fallback = encoding == "deflate"  # "deflate" is zlib-wrapped, or raw in the wild
        wbits = zlib.MAX_WBITS | 16 if encoding == "gzip" else zlib.MAX_WBITS
        self.inflater = zlib.decompressobj(wbits)

    def _step(self, data: bytes) -> bytes:
        try:
            piece = self.inflater.decompress(data, PIECE_BYTES)
        except zlib.error as exc:
            if not self.raw_fallback:
                raise httpx.DecodingError(f"{self.encoding}: {exc}") from None
            self.raw_fallback = False
            self.inflater = zlib.decompressobj(-zlib.MAX_WBITS)
            return self._step(data)
        if piece or len(data) > 1:  # the zlib header was read: no raw deflate after all
            self.raw_fallback = False
        return piece

    def feed(self, data: bytes) -> Iterator[bytes]:
        if not data or self.inflater.eof:
            return
        while True:
            piece = self._step(data)
            if piece:
                yield piece
            data = self.inflater.unconsumed_tail
            if self.inflater.eof or (not data and len(piece) < PIECE_BYTES):
                return

    def finish(self) -> Iterator[bytes]:
        if not self.inflater.eof:
            rest = self.inflater.flush()  # feed() drained the output: only a cut stream's tail
            if rest:
                yield rest


class _Brotli:
    """br, through a module that can bound its output (brotli ≥ 1.2, brotlicffi ≥ 1.2)."""

    def __init__(self, module: Any) -> None:
        self.module = module
        self.decompressor = module.Decompressor()

    def feed(self, data: bytes) -> Iterator[bytes]:
        if not data and self.decompressor.can_accept_more_data():
            return  # nothing new, nothing held back
        try:
            while True:
                piece: bytes = self.decompressor.process(data, output_buffer_limit=PIECE_BYTES)
                data = b""
                if piece:
                    yield piece
                if self.decompressor.can_accept_more_data():
                    return
        except self.module.error as exc:
            raise httpx.DecodingError(f"br: {exc}") from None

    def finish(self) -> Iterator[bytes]:
        return iter(())


def _bounded_brotli() -> Any:
    """The brotli module if one is installed that can bound its output, else None."""
    for name in ("brotli", "brotlicffi"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        if hasattr(module.Decompressor(), "can_accept_more_data"):
            return module
    return None


_BROTLI = _bounded_brotli()
ACCEPT_ENCODING = "gzip, deflate, br" if _BROTLI is not None else "gzip, deflate"
"""What :func:`read_capped` can decode, for the ``Accept-Encoding`` of every probe request."""


def _decoders(content_encoding: str) -> list[_Decoder]:
    """The decoders of a ``Content-Encoding``, first applied last; unknown codings pass through."""
    found: list[_Decoder] = []
    for coding in reversed([c.strip().lower() for c in content_encoding.split(",")]):
        if coding in ("gzip", "x-gzip"):
            found.append(_Zlib("gzip"))
        elif coding == "deflate":
            found.append(_Zlib("deflate"))
        elif coding == "br" and _BROTLI is not None:
            found.append(_Brotli(_BROTLI))
    return found or [_Identity()]


def _through(decoder: _Decoder, pieces: Iterable[bytes], last: bool) -> Iterator[bytes]:
    for piece in pieces:
        yield from decoder.feed(piece)
    if last:
        yield from decoder.finish()


def _decode(decoders: list[_Decoder], raw: bytes, *, last: bool = False) -> Iterator[bytes]:
    pieces: Iterable[bytes] = [raw]
    for decoder in decoders:
        pieces = _through(decoder, pieces, last)
    return iter(pieces)


async def read_capped(response: httpx.Response, limit: int) -> tuple[bytes, bool]:
    """The decompressed body up to ``limit`` bytes, and whether there was more.

    The raw stream is decoded here in pieces of at most :data:`PIECE_BYTES`,
    so memory stays near ``limit`` whatever the compression ratio: a gzip
    bomb stops at the first piece past the cap. A body over the cap keeps
    only its first :data:`TRUNCATED_KEEP` bytes.
    """
    decoders = _decoders(response.headers.get("Content-Encoding", ""))
    pieces: list[bytes] = []
    size = 0

    def over(decoded: Iterator[bytes]) -> bool:
        nonlocal size
        for piece in decoded:
            pieces.append(piece)
            size += len(piece)
            if size > limit:
                return True
        return False

    raw_stream = response.aiter_raw()
    try:
        async for raw in raw_stream:
            if over(_decode(decoders, raw)):
                return _prefix(pieces, min(limit, TRUNCATED_KEEP)), True
    finally:
        await close_stream(raw_stream)
    if over(_decode(decoders, b"", last=True)):
        return _prefix(pieces, min(limit, TRUNCATED_KEEP)), True
    return b"".join(pieces), False


def _prefix(pieces: list[bytes], size: int) -> bytes:
    kept: list[bytes] = []
    total = 0
    for piece in pieces:
        if total >= size:
            break
        kept.append(piece[: size - total])
        total += len(kept[-1])
    return b"".join(kept)


async def close_stream(stream: Any) -> None:
    close = getattr(stream, "aclose", None)
    if close is not None:
        await close()
