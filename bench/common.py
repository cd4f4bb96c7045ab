"""Shared bench helpers: median timing, subprocess timing, a slow loopback server, Markdown tables."""

from __future__ import annotations

import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable


def median_time(action: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run_seconds(command: Sequence[str], cwd: Path | None = None, repeats: int = 5) -> float:
    def once() -> None:
        subprocess.run(
            command, cwd=cwd, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    return median_time(once, repeats)


@contextmanager
def slow_server(delay_s: float, handled: list[float] | None = None) -> Iterator[str]:
    """Every GET sleeps ``delay_s``; ``handled`` collects each request's full handling time, as the server saw it."""

    class Handler(BaseHTTPRequestHandler):
        started = 0.0

        def parse_request(self) -> bool:
            self.started = time.perf_counter()  # the request line has just been read
            return super().parse_request()

        def handle_one_request(self) -> None:
            self.started = 0.0
            super().handle_one_request()
            if handled is not None and self.started:
                handled.append(time.perf_counter() - self.started)

        protocol_version = "HTTP/1.1"  # keep-alive, as real servers: no connect in every sample
        disable_nagle_algorithm = True  # no delayed-ACK stalls between header and body writes

        def do_GET(self) -> None:
            wanted = delay_s
            if "delay=" in self.path:
                wanted = float(self.path.split("delay=", 1)[1]) / 1000
            start = time.perf_counter()
            time.sleep(wanted)
            slept = time.perf_counter() - start
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.send_header("X-Slept", f"{slept:.6f}")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 128  # the listen backlog: 50 probes connect at once

    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[str]], note: str = "") -> str:
    lines = [f"### {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + ("\n\n" + note if note else "") + "\n"


def update_results(heading: str, text: str) -> None:
    """Put a section into bench/RESULTS.md, in place of an earlier one that starts with ``heading``."""
    path = Path(__file__).resolve().parent / "RESULTS.md"
    current = path.read_text()
    start = current.find(heading)
    if start >= 0:
        end = current.find("\n### ", start + 1)
        current = current[:start] + current[end + 1 if end >= 0 else len(current) :]
    path.write_text(current.rstrip("\n") + "\n\n" + text.rstrip("\n") + "\n")
