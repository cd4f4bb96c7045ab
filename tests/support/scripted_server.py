"""A real HTTP server whose answers a test scripts: status, body, headers, delay.

For probe tests that need answers the reference service never gives
(hostile bodies, huge bodies, slow answers, odd statuses).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Answer:
    status: int = 200
    body: bytes | str = b""
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})
    delay_s: float = 0.0


@dataclass
class ScriptedServer:
    base_url: str
    routes: dict[str, Answer]
    requests: list[tuple[str, str, dict[str, str]]]
    bodies: list[bytes] = field(default_factory=list)
    default: Answer = field(default_factory=lambda: Answer(404, b'{"detail": "Not Found"}'))


@contextmanager
def scripted_server(routes: dict[str, Answer] | None = None) -> Iterator[ScriptedServer]:
    script = ScriptedServer("", dict(routes or {}), [])

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            script.bodies.append(self.rfile.read(length) if length else b"")
            path = self.path.split("?", 1)[0]
            script.requests.append((self.command, self.path, dict(self.headers.items())))
            answer = script.routes.get(path, script.default)
            if answer.delay_s:
                time.sleep(answer.delay_s)
            body = answer.body.encode() if isinstance(answer.body, str) else answer.body
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_DELETE = _answer

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    script.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield script
    finally:
        server.shutdown()
        server.server_close()
