"""The fault matrix (docs/reliability.md): each fault gives a verdict or a warning, in bounded time, never a traceback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest

from sloprobe.config.model import ProbeSpec, Target
from sloprobe.model.measurement import Measurement
from sloprobe.probes.context import make_context
from sloprobe.probes.http.spec import HttpProbe
from sloprobe.probes.runner import run_probes
from tests.reliability.hostile_server import STALLED, hostile_server, silent_port

TIMEOUT = 1.0
MARGIN = 1.5  # documented: a fault may take its timeout plus this much


def probe(base_url: str, path: str, **http: object) -> tuple[Measurement, float]:
    spec = ProbeSpec(http=HttpProbe.model_validate({"path": path, "retries": 0, **http}))
    start = time.monotonic()
    measured = run_probes({"p": spec}, make_context(base_url, Target(timeout=TIMEOUT)), 2, 10.0)[
        "p"
    ]
    return measured, time.monotonic() - start


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        pytest.param("/500", ": HTTP 500, expected 2xx", id="5xx"),
        pytest.param("/loop", ": too many redirects", id="redirect-loop"),
        pytest.param(
            "/stall-after-headers", ": no complete answer within", id="headers-then-stall"
        ),
    ],
)
def test_hostile_answers_are_bad_measurements(path: str, expected: str) -> None:
    with hostile_server() as url:
        measured, took = probe(url, path)
    assert measured.failure is not None and expected in measured.failure
    assert took < TIMEOUT + MARGIN


@pytest.mark.parametrize("path", ["/html", "/invalid-json"])
def test_not_json_where_json_was_expected_is_no_data_with_reason(path: str) -> None:
    with hostile_server() as url:
        measured, _ = probe(url, path, values={"depth": {"json": "depth", "unit": "count"}})
    assert measured.failure is None
    assert "undecodable body (not JSON" in measured.missing["depth"]


def test_a_gigabyte_answer_is_capped_and_memory_stays_bounded() -> None:
    with hostile_server() as url:
        tracemalloc.start()
        measured, took = probe(url, "/huge", max_body_bytes=1_048_576)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert measured.failure is not None and "body too large" in measured.failure
    assert peak < 32 * 1024 * 1024
    assert took < 5


def test_dns_that_does_not_resolve() -> None:
    measured, took = probe("http://sloprobe-does-not-exist.invalid", "/health")
    assert measured.failure is not None and ": DNS lookup failed" in measured.failure
    assert took < TIMEOUT + MARGIN + 5  # resolver time is the system's


def test_read_timeout_on_a_silent_server() -> None:
    with silent_port() as url:
        measured, took = probe(url, "/health")
    assert measured.failure is not None and ": read timeout" in measured.failure
    assert took < TIMEOUT + MARGIN


def test_tls_that_does_not_verify_and_the_opt_in(tmp_path: Path) -> None:
    import http.server
    import ssl
    import threading

    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    made = subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
        ],
        capture_output=True,
    )
    if made.returncode != 0:
        pytest.skip("openssl is not available to make a certificate")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    url = f"https://127.0.0.1:{server.server_address[1]}"
    try:
        strict = run_probes(
            {"p": ProbeSpec(http=HttpProbe(path="/", retries=0))},
            make_context(url, Target(timeout=2)),
            1,
            10,
        )["p"]
        relaxed = run_probes(
            {
                "p": ProbeSpec(
                    http=HttpProbe(path="/", retries=0, expect={"status": ["2xx", "4xx"]})
                )
            },
            make_context(url, Target(timeout=2, verify_tls=False)),
            1,
            10,
        )["p"]
    finally:
        server.shutdown()
        server.server_close()
    assert strict.failure is not None and "CERTIFICATE_VERIFY_FAILED" in strict.failure
    assert relaxed.failure is None


SUITE = """\
version: 1
service: shop
probes:
  health:
    http: {path: /500}
slos:
  up:
    probe: health
    measure: status
    threshold: value == 200
"""


def test_corrupt_history_is_a_warning_and_the_report_is_written(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", slo=SUITE)
    (pytester.path / "reports").mkdir()
    (pytester.path / "reports" / "history.db").write_bytes(b"this is not a database" * 100)
    with hostile_server() as url:
        result = pytester.runpytest("--base-url", url)
    assert result.ret == 1  # the breach, unchanged
    result.stdout.fnmatch_lines(["*warning: history not used*"])
    assert "Traceback" not in result.stdout.str()
    data = json.loads((pytester.path / "reports" / "results.json").read_text())
    assert data["verdicts"][0]["status"] == "breach"


CTRL_C_ABLE = (
    "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "import pytest; sys.exit(pytest.main(sys.argv[1:]))"
)


def test_sigint_mid_run_exits_2_without_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "slo.yaml").write_text(
        SUITE.replace("/500", "/stall-after-headers").replace(
            "http: {path", "deadline: 30s\n    http: {timeout: 20s, path"
        )
    )
    STALLED.clear()
    with hostile_server() as url:
        # Ctrl-C as a terminal delivers it: the child starts with Python's own SIGINT handler,
        # whatever this worker inherited (an in-process Celery worker earlier on the same xdist
        # worker can leave SIGINT ignored, and an ignored signal stays ignored across exec).
        child = subprocess.Popen(
            [sys.executable, "-c", CTRL_C_ABLE, "--base-url", url, "-p", "no:cacheprovider"],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        # Mid-run: once the probe's request is stalled (however long the child took to start).
        assert STALLED.wait(60), "the run never sent its request"
        child.send_signal(signal.SIGINT)
        out, _ = child.communicate(timeout=30)
    assert child.returncode == 2, out
    assert "KeyboardInterrupt" in out
    assert "Traceback (most recent call last)" not in out
