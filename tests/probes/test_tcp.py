"""The `tcp` kind against real servers on 127.0.0.1: banners, echoes, silence, refusal, samples."""

from __future__ import annotations

import socket
import socketserver
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from pydantic import ValidationError

from sloprobe.config import ConfigError, load_slo_text
from sloprobe.config.model import ProbeSpec, Target
from sloprobe.model.measurement import Measurement
from sloprobe.model.units import Unit
from sloprobe.probes.context import make_context
from sloprobe.probes.registry import KINDS
from sloprobe.probes.runner import run_probes
from sloprobe.probes.tcp.spec import TcpProbe


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, handler: type[socketserver.BaseRequestHandler]) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.connections = 0
        self.ends: list[str] = []  # how each connection ended, seen from the server

    @property
    def port(self) -> int:
        return int(self.server_address[1])


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        self.server.connections += 1
        self.talk(self.request)
        self.server.ends.append(_drain(self.request))

    def talk(self, sock: socket.socket) -> None:
        pass  # accepts and never writes


class Banner(_Handler):
    def talk(self, sock: socket.socket) -> None:
        sock.sendall(b"220 ready\r\n")


class Echo(_Handler):
    def talk(self, sock: socket.socket) -> None:
        data = sock.recv(4096)
        if data:
            sock.sendall(data)


class Chatty(_Handler):
    """Sends 10 kB of `x` and no newline."""

    def talk(self, sock: socket.socket) -> None:
        sock.sendall(b"x" * 10_000)


class Hangup(_Handler):
    def handle(self) -> None:
        self.server.connections += 1  # closes at once without a word


def _drain(sock: socket.socket) -> str:
    """Wait for the client to go: "closed" for a clean FIN, "reset" for an RST."""
    sock.settimeout(10)
    try:
        while sock.recv(4096):
            pass
    except ConnectionResetError:
        return "reset"
    except OSError as exc:
        return type(exc).__name__
    return "closed"


@contextmanager
def serving(handler: type[socketserver.BaseRequestHandler]) -> Iterator[_Server]:
    server = _Server(handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def wait_for_ends(server: _Server, count: int) -> list[str]:
    limit = time.monotonic() + 5
    while len(server.ends) < count and time.monotonic() < limit:
        time.sleep(0.01)
    return server.ends


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def probe(**tcp: object) -> Measurement:
    spec = ProbeSpec.model_validate({"tcp": {"host": "127.0.0.1", **tcp}})
    return run_probes({"p": spec}, make_context("", Target()), 1, 10.0)["p"]


def test_banner_is_read_timed_and_matched() -> None:
    with serving(Banner) as server:
        m = probe(port=server.port, expect="^220 ")
        assert wait_for_ends(server, 1) == ["closed"]  # the probe closed with a FIN, not an RST
    assert m.failure is None
    assert m.kind == "tcp"
    assert m.series["ok"].samples == (True,)
    assert m.series["banner"].samples == ("220 ready",)
    assert m.series["banner"].unit is Unit.TEXT
    (connect,) = m.series["connect"].samples
    assert isinstance(connect, float) and 0 <= connect < 1
    assert m.series["connect"].unit is Unit.S
    assert m.excerpt == "220 ready\r\n"
    assert m.details["endpoint"] == f"tcp 127.0.0.1:{server.port}"
    assert m.details["connected to"] == "127.0.0.1"


def test_send_and_expect_against_an_echo_server() -> None:
    with serving(Echo) as server:
        m = probe(port=server.port, send="PING hello\r\n", expect=r"PING \w+")
    assert m.failure is None
    assert m.series["ok"].samples == (True,)
    assert m.series["banner"].samples == ("PING hello",)


def test_an_answer_that_does_not_match_is_a_failure_with_an_excerpt() -> None:
    with serving(Echo) as server:
        clock = time.monotonic()
        m = probe(port=server.port, send="hello\n", expect="^PONG", timeout="500ms", samples=3)
        took = time.monotonic() - clock
        assert wait_for_ends(server, 1) == ["closed"]
    # the echo server keeps the connection open: the probe waits for a match until `timeout`
    assert took < 0.5 + 1
    assert m.failure == f"tcp 127.0.0.1:{server.port}: answer did not match `^PONG`: 'hello\\n'"
    assert m.excerpt == "hello\n"
    assert m.details["answer ended"] == "timeout (500ms)"
    assert m.series["ok"].samples == (False,)  # a timeout ends the samples
    assert len(m.series["connect"].samples) == 1
    assert m.series["banner"].samples == ("hello",)


def test_a_mismatched_banner_does_not_end_the_samples() -> None:
    class Closing(Banner):
        def handle(self) -> None:
            self.server.connections += 1
            self.talk(self.request)  # and close: EOF ends the probe's read at once

    with serving(Closing) as server:
        m = probe(port=server.port, expect="^250", samples=2)
    assert m.failure == (
        f"2 of 2 connections failed; first: tcp 127.0.0.1:{server.port}: "
        "answer did not match `^250`: '220 ready\\r\\n'"
    )
    assert m.details["answer ended"] == "server closed"
    assert m.series["ok"].samples == (False, False)
    assert server.connections == 2


def test_a_server_that_closes_without_a_word() -> None:
    with serving(Hangup) as server:
        m = probe(port=server.port, expect="^220")
    assert m.failure == (
        f"tcp 127.0.0.1:{server.port}: answer did not match `^220`: "
        "the server sent nothing before closing"
    )
    assert m.series["banner"].samples == ()
    assert m.missing == {"banner": "the server sent nothing"}


def test_reading_stops_at_max_bytes() -> None:
    with serving(Chatty) as server:
        m = probe(port=server.port, expect="y", max_bytes=150, timeout=2)
    assert m.failure == f"tcp 127.0.0.1:{server.port}: answer did not match `y`: '{'x' * 100}'…"
    assert m.excerpt == "x" * 150
    assert m.details["answer ended"] == "max_bytes (150)"
    assert m.series["banner"].samples == ("x" * 150,)


def test_a_silent_server_times_out_within_the_timeout() -> None:
    with serving(_Handler) as server:
        clock = time.monotonic()
        m = probe(port=server.port, expect="^220", timeout="500ms")
        took = time.monotonic() - clock
        assert wait_for_ends(server, 1) == ["closed"]
    assert took < 0.5 + 1
    assert m.failure == f"tcp 127.0.0.1:{server.port}: read timeout (no answer within 500ms)"
    assert "timeout" in m.failure
    assert len(m.series["connect"].samples) == 1  # it did connect
    assert m.series["ok"].samples == (False,)


def test_without_expect_a_silent_server_is_not_waited_for() -> None:
    with serving(_Handler) as server:
        clock = time.monotonic()
        m = probe(port=server.port, timeout=5)
        took = time.monotonic() - clock
    assert m.failure is None
    assert took < 1
    assert m.series["ok"].samples == (True,)
    assert "banner" not in m.series


def test_a_closed_port_is_refused() -> None:
    port = closed_port()
    m = probe(port=port, samples=3)
    assert m.failure == f"tcp 127.0.0.1:{port}: connection refused"
    assert m.failure.endswith(": connection refused")
    assert m.series["connect"].samples == ()
    assert m.series["ok"].samples == (False,)  # the samples stop at the first refusal


@pytest.mark.skipif(sys.platform != "linux", reason="Linux drops SYNs to a full accept queue")
def test_a_port_that_never_accepts_is_a_connect_timeout() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)  # and never accept: once the queue is full, SYNs go unanswered
        port = int(listener.getsockname()[1])
        fillers = [socket.socket() for _ in range(3)]
        try:
            for filler in fillers:
                filler.setblocking(False)
                filler.connect_ex(("127.0.0.1", port))
            time.sleep(0.1)
            clock = time.monotonic()
            m = probe(port=port, timeout="300ms")
            took = time.monotonic() - clock
        finally:
            for filler in fillers:
                filler.close()
    assert m.failure == f"tcp 127.0.0.1:{port}: connect timeout (no connection within 300ms)"
    assert took < 0.3 + 1
    assert m.series["connect"].samples == ()
    assert m.series["ok"].samples == (False,)


def test_a_host_that_does_not_resolve() -> None:
    m = probe(host="no-such-host.invalid", port=25, timeout=3)
    assert m.failure is not None
    assert m.failure.startswith("tcp no-such-host.invalid:25: DNS lookup failed")
    assert m.series["connect"].samples == ()
    assert m.series["ok"].samples == (False,)
    assert m.missing == {} and "banner" not in m.series


def test_samples_are_separate_connections() -> None:
    with serving(Banner) as server:
        m = probe(port=server.port, samples=3, expect="^220")
        assert wait_for_ends(server, 3) == ["closed"] * 3
    assert server.connections == 3
    assert m.failure is None
    assert len(m.series["connect"].samples) == 3
    assert m.series["ok"].samples == (True, True, True)
    assert m.series["banner"].samples == ("220 ready",) * 3
    assert m.attempts == 3


def test_the_banner_is_redacted_and_truncated() -> None:
    class Secret(_Handler):
        def talk(self, sock: socket.socket) -> None:
            sock.sendall(b"220 token=hunter2-secret " + b"y" * 300 + b"\r\nmore\r\n")

    with serving(Secret) as server:
        spec = ProbeSpec.model_validate(
            {"tcp": {"host": "127.0.0.1", "port": server.port, "expect": "more"}}
        )
        context = make_context("", Target())
        context.redactor.add("hunter2-secret")
        m = run_probes({"p": spec}, context, 1, 10.0)["p"]
    (banner,) = m.series["banner"].samples
    assert isinstance(banner, str)
    assert banner.startswith("220 token=*** yyy")
    assert len(banner) == 200
    assert m.excerpt is not None and "hunter2" not in m.excerpt


def test_end_to_end_through_the_config_model() -> None:
    with serving(Banner) as server:
        spec = ProbeSpec.model_validate(
            {"tcp": {"host": "127.0.0.1", "port": server.port, "expect": "^220", "samples": 2}}
        )
        assert spec.kind == "tcp"
        assert spec.series_units() == {"connect": Unit.S, "ok": Unit.BOOLEAN, "banner": Unit.TEXT}
        results = run_probes({"smtp": spec}, make_context("", Target()), 1, 10.0)
    m = results["smtp"]
    assert m.failure is None, m.failure
    assert m.probe == "smtp"
    assert len(m.series["connect"].samples) == 2
    assert m.series["ok"].samples == (True, True)
    assert m.trace_id is None  # it does not talk to the target
    assert results.warnings == []


SLO_YAML = """\
version: 1
service: mail
probes:
  smtp:
    tcp:
      host: mail.example.com
      port: 25
      timeout: 3s
      samples: 3
      send: "EHLO sloprobe\\r\\n"
      expect: "^250"
slos:
  smtp-connect:
    probe: smtp
    measure: connect
    threshold: p95 < 100ms
  smtp-up:
    probe: smtp
    measure: ok
    threshold: rate >= 100%
"""


def test_an_slo_on_connect_validates() -> None:
    loaded = load_slo_text(SLO_YAML)
    tcp = loaded.spec.probes["smtp"].body
    assert isinstance(tcp, TcpProbe)
    assert tcp.send == "EHLO sloprobe\r\n"  # YAML's double-quoted escapes
    assert tcp.timeout == 3.0
    assert loaded.spec.slos["smtp-connect"].measure == "connect"


def test_banner_needs_expect() -> None:
    text = SLO_YAML.replace('      expect: "^250"\n', "").replace(
        "measure: connect\n    threshold: p95 < 100ms",
        'measure: banner\n    threshold: value == "x"',
    )
    with pytest.raises(ConfigError, match="does not measure `banner`"):
        load_slo_text(text)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"port": 0}, "greater than or equal to 1"),
        ({"port": 65536}, "less than or equal to 65535"),
        ({"host": "tcp://db:5432"}, "bare host name"),
        ({"host": ""}, "at least 1 character"),
        ({"expect": "("}, "`expect` is not a regular expression"),
        ({"max_bytes": 10}, "set `expect`"),
        ({"samples": 0}, "greater than or equal to 1"),
        ({"timeout": "0s"}, "timeout"),
        ({"banner": "x"}, "Extra inputs are not permitted"),
    ],
)
def test_invalid_specs(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        TcpProbe.model_validate({"host": "db", "port": 5432, **fields})


def test_spec_defaults_and_kind() -> None:
    spec = TcpProbe.model_validate({"host": "[::1]", "port": 22})
    assert (spec.timeout, spec.samples, spec.send, spec.expect, spec.max_bytes) == (
        10.0,
        1,
        None,
        None,
        4096,
    )
    assert spec.endpoint == "[::1]:22"
    kind = KINDS["tcp"]
    assert not kind.talks_to_target
    assert [m.name for m in kind.measures] == ["connect", "ok", "banner"]
    assert kind.default_deadline(spec, 10.0) == 25.0
