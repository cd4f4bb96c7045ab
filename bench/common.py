"""Shared bench helpers: the run modes, median timing, subprocess timing, a slow loopback server,
Markdown tables."""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
T = TypeVar("T")


def on_path(*folders: Path) -> None:
    """Put each folder on sys.path (first), unless it is there already: the repository's root
    for ``tests.support``, its ``src`` for a sloprobe that is not installed."""
    for folder in folders:
        if str(folder) not in sys.path:
            sys.path.insert(0, str(folder))


class Unavailable(RuntimeError):
    """A bench cannot run on this machine (a tool or package is missing); the message says why."""


@dataclass(frozen=True)
class Mode:
    """How big a bench run is.

    ``full`` is what bench/RESULTS.md holds; ``quick`` fewer repeats and rows, for a look;
    ``small`` one round at small sizes, in seconds, for the test suite (tests/bench): it
    proves the bench still runs and produces its figures, and judges no goal.
    """

    name: str

    @property
    def small(self) -> bool:
        return self.name == "small"

    @property
    def repeats(self) -> int:
        return {"full": 5, "quick": 3, "small": 1}[self.name]

    def size(self, full: T, quick: T | None = None, small: T | None = None) -> T:
        """The size for this mode: ``quick`` and ``small`` default to the one before them."""
        quick = full if quick is None else quick
        if self.name == "full":
            return full
        if self.name == "quick":
            return quick
        return quick if small is None else small

    def goal(self, goal: str, met: bool, figure: str) -> str:
        """A goal's verdict, recorded in JUDGED; a small run reports its figures but judges nothing."""
        verdict = "not judged (small mode)" if self.small else "met" if met else "missed"
        JUDGED.append(Judged(goal, verdict, figure))
        return verdict


@dataclass(frozen=True)
class Judged:
    goal: str
    verdict: str  # met, missed, or not judged (small mode)
    figure: str


JUDGED: list[Judged] = []  # every goal judged in this process, in turn: run.py's summary
FULL, QUICK, SMALL = Mode("full"), Mode("quick"), Mode("small")


def add_mode_options(parser: argparse.ArgumentParser) -> None:
    sizes = parser.add_mutually_exclusive_group()
    sizes.add_argument(
        "--quick",
        action="store_true",
        help="fewer repeats and smaller sizes (a look, not a result)",
    )
    sizes.add_argument(
        "--small",
        action="store_true",
        help="one round at small sizes, in seconds, as tests/bench runs it; judges no goal",
    )


def mode_of(args: argparse.Namespace) -> Mode:
    return SMALL if args.small else QUICK if args.quick else FULL


def median_time(action: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run_seconds(command: Sequence[str], cwd: Path | None = None, repeats: int = 5) -> float:
    """Median wall time of a command; RuntimeError if it fails (a failing command is no figure)."""

    def once() -> None:
        done = subprocess.run(
            command, cwd=cwd, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"`{' '.join(command)}` exited {done.returncode}: "
                f"{done.stderr.decode(errors='replace')[-2000:]}"
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
    """Put a section into bench/RESULTS.md in place of an earlier one that starts with
    ``heading`` (a bench run alone), or at the end if there is none."""
    path = Path(__file__).resolve().parent / "RESULTS.md"
    current = path.read_text()
    start = current.find(heading)
    if start < 0:
        path.write_text(current.rstrip("\n") + "\n\n" + text.rstrip("\n") + "\n")
        return
    end = current.find("\n### ", start + 1)
    after = current[end + 1 :] if end >= 0 else ""
    path.write_text(current[:start] + text.rstrip("\n") + "\n" + ("\n" + after if after else ""))
