"""Attempts are connection attempts, a failed hop is named, and "took" starts with the slot.

Real loopback servers throughout: the scripted server, and one that refuses
connections until the test lets it listen.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from sloprobe.config.model import ProbeSpec, Target
from sloprobe.model.measurement import Measurement
from sloprobe.probes.context import make_context
from sloprobe.probes.network import fetch
from sloprobe.probes.network.errors import sending
from sloprobe.probes.runner import run_probes
from tests.support.scripted_server import Answer, ScriptedServer

SLOW_S = 0.3


def _run(base_url: str, concurrency: int = 4, **probes: object) -> dict[str, Measurement]:
    specs = {name: ProbeSpec.model_validate(body) for name, body in probes.items()}
    context = make_context(base_url, Target(timeout=2.0))
    return run_probes(specs, context, concurrency=concurrency, default_deadline=10.0)


class _Ok(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def refusing_until_listening() -> Iterator[tuple[str, threading.Event, threading.Event]]:
    """A bound port that refuses connections (no listen yet) until ``listen`` is set;
    ``listening`` is set once it accepts."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok, bind_and_activate=False)
    server.daemon_threads = True
    server.server_bind()
    listen, listening = threading.Event(), threading.Event()

    def serve() -> None:
        listen.wait()
        server.server_activate()
        listening.set()
        server.serve_forever(poll_interval=0.05)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", listen, listening
    finally:
        if listen.is_set():
            server.shutdown()
        server.server_close()


def test_a_server_that_answers_at_once_is_one_attempt(scripted: ScriptedServer) -> None:
    scripted.routes["/health"] = Answer(200, "{}")
    m = _run(scripted.base_url, p={"http": {"path": "/health", "retries": 2}})["p"]
    assert (m.attempts, m.retries) == (1, 0)
    assert len(scripted.requests) == 1


def test_refused_then_accepted_counts_each_connection_attempt() -> None:
    """The second send finds the port listening: two attempts, one retry, one answer."""
    sends = 0

    with refusing_until_listening() as (url, listen, listening):

        async def on_send(request: httpx.Request) -> None:
            nonlocal sends
            sends += 1
            if sends == 2:  # the first attempt was refused; let the retry through
                listen.set()
                assert await asyncio.to_thread(listening.wait, 5.0)

        async def go() -> int:
            async with httpx.AsyncClient(base_url=url, event_hooks={"request": [on_send]}) as c:
                answer = await fetch(c, c.build_request("GET", "/"), retries=3)
                assert answer.status == 200
                return answer.attempts

        attempts = asyncio.run(go())
    assert attempts == sends == 2


def test_a_redirect_chain_on_one_connection_is_one_attempt(scripted: ScriptedServer) -> None:
    scripted.routes["/a"] = Answer(302, b"", headers={"Location": "/b"})
    scripted.routes["/b"] = Answer(302, b"", headers={"Location": "/c"})
    scripted.routes["/c"] = Answer(200, "{}")
    m = _run(scripted.base_url, p={"http": {"path": "/a", "retries": 2}})["p"]
    assert m.failure is None
    assert len(scripted.requests) == 3  # three requests, none of them a retry
    assert (m.attempts, m.retries) == (1, 0)


def test_a_read_timeout_was_one_attempt_and_the_error_says_so(scripted: ScriptedServer) -> None:
    """A read timeout is not retried: fetch's note on the error counts the one attempt made."""
    scripted.routes["/slow"] = Answer(200, "{}", delay_s=1.0)

    async def go() -> BaseException:
        async with httpx.AsyncClient(base_url=scripted.base_url, timeout=0.2) as c:
            with pytest.raises(httpx.ReadTimeout) as caught:
                await fetch(c, c.build_request("GET", "/slow"), retries=2)
            return caught.value

    sent = sending(asyncio.run(go()))
    assert sent is not None and sent.attempts == 1 and sent.failed_hop is None


def test_a_failure_after_a_redirect_names_the_hop_that_failed(scripted: ScriptedServer) -> None:
    scripted.routes["/start"] = Answer(302, b"", headers={"Location": "/slow?page=2"})
    scripted.routes["/slow"] = Answer(200, "{}", delay_s=1.0)
    m = _run(scripted.base_url, p={"http": {"path": "/start", "timeout": "200ms"}})["p"]
    assert m.failure == (
        f"GET {scripted.base_url}/start → 302 → GET {scripted.base_url}/slow?page=2: read timeout"
    )


def test_took_starts_when_the_probe_gets_its_slot(scripted: ScriptedServer) -> None:
    """Concurrency 1: the second probe waits ~0.3 s for the slot; its own time is ~0.3 s too."""
    scripted.routes["/slow"] = Answer(200, "{}", delay_s=SLOW_S)
    probes = {name: {"http": {"path": "/slow"}} for name in ("first", "second")}
    out = _run(scripted.base_url, concurrency=1, **probes)
    first, second = out["first"], out["second"]  # the gate is FIFO: "first" gets the slot first
    assert first.failure is None and second.failure is None
    assert second.duration_s >= SLOW_S
    assert second.duration_s / first.duration_s < 1.5  # not ≈2: the wait is not its time
    assert (second.started_at - first.started_at).total_seconds() >= SLOW_S * 0.9


def test_a_probe_past_its_deadline_took_its_deadline_not_the_wait_too(
    scripted: ScriptedServer,
) -> None:
    """The runner times a probe that overran: from its slot, as the probe itself would."""
    scripted.routes["/slow"] = Answer(200, "{}", delay_s=SLOW_S)
    probes = {name: {"deadline": "150ms", "http": {"path": "/slow"}} for name in ("a", "b")}
    out = _run(scripted.base_url, concurrency=1, **probes)
    first, second = out["a"], out["b"]
    assert all(m.failure and "deadline of 150ms" in m.failure for m in (first, second))
    assert second.duration_s / first.duration_s < 1.5  # ≈2 when the wait was counted
    assert (second.started_at - first.started_at).total_seconds() >= 0.1
