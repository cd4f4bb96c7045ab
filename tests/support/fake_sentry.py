"""A real local HTTP endpoint that speaks Sentry's envelope protocol, for the real sentry-sdk.

It decodes envelopes (identity, gzip or brotli), keeps events and check-ins,
and can be told to refuse (429), to stall, or to be down.
"""

from __future__ import annotations

import gzip
import json
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class FakeSentry:
    dsn: str
    mode: str = "ok"  # ok | 429 | slow
    slow_s: float = 10.0
    events: list[dict[str, Any]] = field(default_factory=list)
    checkins: list[dict[str, Any]] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)
    refused: int = 0

    def unique_events(self) -> dict[str, dict[str, Any]]:
        """Sentry deduplicates by event id: this is what it would keep."""
        return {e["event_id"]: e for e in self.events}


def decode(body: bytes, encoding: str | None) -> bytes:
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "deflate":
        return zlib.decompress(body)
    if encoding == "br":
        import brotli  # type: ignore[import-not-found]

        return bytes(brotli.decompress(body))
    return body


def parse_envelope(data: bytes) -> list[tuple[dict[str, Any], bytes]]:
    """[(item header, payload)] of a Sentry envelope."""
    header_line, _, rest = data.partition(b"\n")
    json.loads(header_line)
    items = []
    while rest.strip():
        item_line, _, rest = rest.partition(b"\n")
        item_header = json.loads(item_line)
        length = item_header.get("length")
        if length is None:
            payload, _, rest = rest.partition(b"\n")
        else:
            payload, rest = rest[:length], rest[length + 1 :]
        items.append((item_header, payload))
    return items


@contextmanager
def fake_sentry() -> Iterator[FakeSentry]:
    state = FakeSentry(dsn="")
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if state.mode == "slow":
                time.sleep(state.slow_s)
            if state.mode == "429":
                with lock:
                    state.refused += 1
                self.send_response(429)
                self.send_header("Retry-After", "60")
                self.send_header("X-Sentry-Rate-Limits", "60::organization")
                self.end_headers()
                return
            data = decode(body, self.headers.get("Content-Encoding"))
            with lock:
                state.raw.append(data)
                for item_header, payload in parse_envelope(data):
                    if item_header.get("type") == "event":
                        state.events.append(json.loads(payload))
                    elif item_header.get("type") == "check_in":
                        state.checkins.append(json.loads(payload))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"id": "ok"}')

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    state.dsn = f"http://publickey0123456789@127.0.0.1:{server.server_address[1]}/42"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
