"""`sloprobe wait`, the Python probes' `target` client and the YAML probes keep the same bounds.

Against a real hostile server: an offsite redirect is reported and not
followed, a redirect loop stops, a 200 MB answer and a gzip bomb cost little
memory (measured in a child process, against the same call on a small
answer), a stalled or dripping answer is cut at the deadline, and an
authenticated health path sees the target's credentials from slo.yaml.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import suppress
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

from sloprobe.cli import main
from sloprobe.config.model import ProbeSpec, Target
from sloprobe.probes.context import make_context
from sloprobe.probes.http.spec import HttpProbe
from sloprobe.probes.job.spec import JobProbe, StatusSpec, SubmitSpec
from sloprobe.probes.python.client import BodyTooLarge, TargetClient
from sloprobe.probes.runner import run_probes
from tests.reliability.test_bounded_bodies import BIG_BYTES, MIB, PEAK_MARGIN, gzip_bomb
from tests.support.handler_server import serving

TOKEN = "wait-canary-token-5f1c"


class _Hostile(BaseHTTPRequestHandler):
    offsite = "http://127.0.0.2:9"  # set per server: another origin that answers

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/ok":
            self._send(200, b'{"status": "healthy", "version": "v2"}')
        elif path == "/offsite":
            self._redirect(f"{self.offsite}/landing")
        elif path == "/same":
            self._redirect("/ok")
        elif path == "/loop":
            self._redirect("/loop")
        elif path == "/big":
            self.send_response(200)
            self.send_header("Content-Length", str(BIG_BYTES))
            self.end_headers()
            chunk = b"x" * (1000 * 1000)
            with suppress(BrokenPipeError, ConnectionResetError):
                for _ in range(BIG_BYTES // len(chunk)):
                    self.wfile.write(chunk)
        elif path == "/bomb":
            self._send(200, gzip_bomb(), {"Content-Encoding": "gzip"})
        elif path == "/stall":
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.flush()
            time.sleep(30)
        elif path == "/drip":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            with suppress(BrokenPipeError, ConnectionResetError):
                for _ in range(1000):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(0.2)
        elif path == "/private":
            if self.headers.get("Authorization") == f"Bearer {TOKEN}":
                self._send(200, b'{"status": "healthy"}')
            else:
                self._send(401, b'{"detail": "Not authenticated"}')
        elif path == "/whoami":
            self._send(200, json.dumps(dict(self.headers.items())).encode())
        else:
            self._send(404, b"{}")

    def _redirect(self, where: str) -> None:
        self.send_response(302)
        self.send_header("Location", where)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Elsewhere(BaseHTTPRequestHandler):
    seen: ClassVar[list[dict[str, str]]] = []

    def do_GET(self) -> None:
        _Elsewhere.seen.append(dict(self.headers.items()))
        body = b'{"status": "healthy"}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[str, str]]:
    """The hostile target, and another origin (127.0.0.2) its offsite redirect points to."""
    with serving(_Elsewhere, "127.0.0.2") as elsewhere:

        class Handler(_Hostile):
            offsite = elsewhere

        with serving(Handler) as target:
            yield target, elsewhere


@pytest.fixture(scope="module")
def hostile(servers: tuple[str, str]) -> str:
    return servers[0]


def _wait(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, float]:
    clock = time.monotonic()
    code = main(["wait", *args])
    took = time.monotonic() - clock
    out = capsys.readouterr()
    return code, out.out + out.err, took


def test_wait_is_ready_on_a_healthy_path_and_on_a_same_origin_redirect(
    hostile: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    code, said, _ = _wait(capsys, "--base-url", hostile, "--path", "/same", "--timeout", "5s")
    assert code == 0, said
    assert "ready after" in said


def test_wait_reports_an_offsite_redirect_and_never_follows_it(
    servers: tuple[str, str], capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: Any
) -> None:
    hostile, elsewhere = servers
    monkeypatch.chdir(tmp_path)
    _Elsewhere.seen.clear()
    code, said, took = _wait(
        capsys,
        "--base-url",
        hostile,
        "--path",
        "/offsite",
        "--timeout",
        "1s",
        "--interval",
        "200ms",
    )
    assert code == 1
    assert f"redirected to {elsewhere}/landing (another origin" in said
    assert _Elsewhere.seen == []  # the other host's 200 is never taken for "ready"
    assert took < 6


def test_wait_stops_a_redirect_loop(
    hostile: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    code, said, _ = _wait(capsys, "--base-url", hostile, "--path", "/loop", "--timeout", "1s")
    assert code == 1
    assert "too many redirects" in said


@pytest.mark.parametrize("path", ["/stall", "/drip"])
def test_wait_never_outlasts_its_timeout_on_a_stalled_or_dripping_answer(
    hostile: str, path: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    code, said, took = _wait(capsys, "--base-url", hostile, "--path", path, "--timeout", "3s")
    assert code == 1
    assert took < 3 + 5, f"waited {took:.1f} s"
    assert "no complete answer within" in said or "read timeout" in said, said
    assert "not ready within 3s" in said


def test_wait_sends_the_targets_auth_from_the_slo_file(
    hostile: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WAIT_TOKEN", TOKEN)
    (tmp_path / "slo.yaml").write_text(
        "version: 1\nservice: s\n"
        "target:\n  auth:\n    bearer: ${WAIT_TOKEN}\n  timeout: 2s\n"
        "probes:\n  h:\n    http: {path: /private}\n"
        "slos:\n  up:\n    probe: h\n    measure: latency\n    threshold: p95 < 1s\n"
    )
    code, said, _ = _wait(capsys, "--base-url", hostile, "--path", "/private", "--timeout", "5s")
    assert code == 0, said
    bare = tmp_path / "bare"
    bare.mkdir()
    monkeypatch.chdir(bare)
    code, said, _ = _wait(capsys, "--base-url", hostile, "--path", "/private", "--timeout", "1s")
    assert code == 1 and "answered 401" in said
    assert TOKEN not in said


def test_wait_sends_the_probes_user_agent_and_synthetic_marker(
    hostile: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    with TargetClient(make_context(hostile, Target())) as client:
        expected = client.get("/whoami").json()
    assert expected["User-Agent"].startswith("sloprobe/")
    assert expected["X-Synthetic"] == "true"


WAIT_CHILD = """
import resource, sys
from sloprobe.cli import main
code = main(["wait", "--base-url", sys.argv[1], "--path", sys.argv[2], "--timeout", "4s",
             "--release", "v2", "--version-path", sys.argv[2]])
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""

TARGET_CHILD = """
import resource, sys
from sloprobe.config.model import ProbeSpec, Target
from sloprobe.probes.http.spec import HttpProbe
from sloprobe.probes.job.spec import JobProbe, StatusSpec, SubmitSpec
from sloprobe.probes.context import make_context
from sloprobe.probes.python.client import TargetClient
with TargetClient(make_context(sys.argv[1], Target(timeout=10))) as client:
    try:
        client.get(sys.argv[2])
        print("read", file=sys.stderr)
    except Exception as exc:
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""


def _child(script: str, url: str, path: str, cwd: Path) -> tuple[int, str, float]:
    clock = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", script, url, path],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=cwd,
    )
    assert done.stdout.strip(), done.stderr
    return int(done.stdout.strip().splitlines()[-1]), done.stderr, time.monotonic() - clock


@pytest.mark.parametrize("script", [WAIT_CHILD, TARGET_CHILD], ids=["wait", "target"])
@pytest.mark.parametrize("path", ["/big", "/bomb"])
def test_a_huge_answer_or_a_bomb_costs_little_memory(
    hostile: str, script: str, path: str, tmp_path: Path
) -> None:
    gzip_bomb()
    small, _, _ = _child(script, hostile, "/ok", tmp_path)
    peak, said, took = _child(script, hostile, path, tmp_path)
    print(f"\n{path}: peak {peak / MIB:.1f} MiB vs {small / MIB:.1f} MiB, {took:.1f} s")
    assert peak - small < PEAK_MARGIN
    assert took < 10
    if script is TARGET_CHILD:
        assert "BodyTooLarge" in said and "the most the target client reads" in said
    else:
        assert "not read as a version" in said, said


@pytest.mark.parametrize("path", ["/stall", "/drip"])
def test_the_target_client_has_one_deadline_per_request(hostile: str, path: str) -> None:
    with TargetClient(make_context(hostile, Target(timeout=2))) as client:
        clock = time.monotonic()
        with pytest.raises(httpx.TimeoutException) as caught:
            client.get(path)
        took = time.monotonic() - clock
    assert took < 2 + 2, f"took {took:.1f} s"
    assert "within 2s" in str(caught.value) or isinstance(caught.value, httpx.ReadTimeout)


def test_the_target_client_refuses_a_huge_body_with_a_clear_error(hostile: str) -> None:
    with TargetClient(make_context(hostile, Target(timeout=10))) as client:
        with pytest.raises(BodyTooLarge, match="larger than 16 MiB"):
            client.get("/big")
        assert client.get("/ok").json()["status"] == "healthy"  # the client goes on


YAML_PROBES = {
    "http": ProbeSpec(http=HttpProbe(path="/drip", retries=0)),
    "job": ProbeSpec(
        job=JobProbe(
            submit=SubmitSpec(method="GET", path="/drip"), status=StatusSpec(path="/jobs/{id}")
        )
    ),
}


def test_yaml_probes_have_one_deadline_per_request(hostile: str) -> None:
    """`target.timeout` bounds each request whole, as it does the `target` client's: an answer
    that drips a byte every 0.2 s (each read well within the timeout) is cut at 2 s, not at the
    probe's deadline (60 s here). (A server that sends no answer at all is still a `read
    timeout`: tests/unit/test_http_probe.py.)"""
    clock = time.monotonic()
    measured = run_probes(YAML_PROBES, make_context(hostile, Target(timeout=2)), 2, 60.0)
    took = time.monotonic() - clock
    assert took < 2 * 2 + 2, f"took {took:.1f} s"  # the http probe, then the job (not timed)
    for name in YAML_PROBES:
        failure = measured[name].failure or ""
        assert "no complete answer within 2s (the request's total deadline)" in failure, failure
        assert measured[name].duration_s < 2 + 1
