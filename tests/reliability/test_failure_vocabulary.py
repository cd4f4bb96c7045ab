"""Every kind that talks over the network says refused, DNS and timeout in the same words.

Each failure reads ``<step> <where>: <class>``, with the host and port (or
URL) of what could not be reached; the class is one of the vocabulary in
:mod:`sloprobe.probes.network`.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from sloprobe.config.model import ProbeSpec, Target
from sloprobe.probes.context import make_context
from sloprobe.probes.runner import run_probes

NOWHERE = "sloprobe-does-not-exist.invalid"
TIMEOUT = 1.0


@pytest.fixture(scope="module")
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never says a word."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# kind → (probe options for host:port, the step and where the reason must name)
Probe = Callable[[str, int], tuple[dict[str, object], str]]
KINDS: dict[str, Probe] = {
    "http": lambda host, port: (
        {"http": {"path": "/health", "timeout": TIMEOUT, "retries": 0}},
        f"GET http://{host}:{port}/health",
    ),
    "job": lambda host, port: (
        {"job": {"submit": {"path": "/jobs"}, "status": {"path": "/jobs/{id}"}}},
        f"submit: POST http://{host}:{port}/jobs",
    ),
    "prometheus": lambda host, port: (
        {"prometheus": {"url": "/metrics", "timeout": TIMEOUT, "metrics": {"up": {"name": "up"}}}},
        f"scrape GET http://{host}:{port}/metrics",
    ),
    "promql": lambda host, port: (
        {
            "promql": {
                "server": f"http://{host}:{port}",
                "timeout": TIMEOUT,
                "queries": {"up": {"query": "up"}},
            }
        },
        f"PromQL GET http://{host}:{port}/api/v1/query",
    ),
    "sql": lambda host, port: (
        {
            "sql": {
                "url": f"postgresql+psycopg://probe:pw@{host}:{port}/jobs",
                "timeout": TIMEOUT,
                "queries": {"queued": {"sql": "SELECT 1"}},
            }
        },
        f"sql postgresql+psycopg://***@{host}:{port}/jobs",
    ),
    "redis": lambda host, port: (
        {
            "redis": {
                "url": f"redis://{host}:{port}/0",
                "layout": "rq",
                "queues": ["default"],
                "timeout": TIMEOUT,
            }
        },
        f"redis redis://{host}:{port}/0",
    ),
}

CLASSES = {
    "refused": r"connection refused",
    "dns": r"DNS lookup failed( \(.*\))?",
    "timeout": r"(connect|read) timeout( \(.*\))?",
}


def _measure(kind: str, host: str, port: int) -> tuple[str, str]:
    options, where = KINDS[kind](host, port)
    spec = ProbeSpec.model_validate(options)
    target = Target(timeout=TIMEOUT)
    context = make_context(f"http://{host}:{port}", target)
    measured = run_probes({"p": spec}, context, 1, 15.0)["p"]
    assert measured.failure is not None, measured
    return measured.failure, where


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("failure", list(CLASSES))
def test_the_same_reason_shape_for_every_kind(kind: str, failure: str, silent_port: int) -> None:
    host, port = {
        "refused": ("127.0.0.1", _closed_port()),
        "dns": (NOWHERE, 5432),
        "timeout": ("127.0.0.1", silent_port),
    }[failure]
    clock = time.perf_counter()
    reason, where = _measure(kind, host, port)
    assert re.fullmatch(re.escape(where) + ": " + CLASSES[failure], reason), reason
    assert time.perf_counter() - clock < 12  # bounded: no kind waits past its timeouts
