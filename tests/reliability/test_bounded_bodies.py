"""Bodies are capped by their decompressed size, bombs stop early, JSON depth is bounded.

Peak memory is measured where it matters: the probe runs in a child process
(``ru_maxrss`` at its end, the whole process's high-water mark), once against
a hostile body and once against a small one; the difference is what the
hostile body cost. The servers run here, in the test process.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from sloprobe.config.model import ProbeSpec, Target
from sloprobe.model.measurement import Measurement
from sloprobe.probes.context import make_context
from sloprobe.probes.runner import run_probes
from tests.support.scripted_server import Answer, ScriptedServer

MIB = 1024 * 1024
BIG_BYTES = 200 * 1000 * 1000  # 200 MB, sent as is
BOMB_ZEROS = 1024 * MIB  # 1 GiB of zeros, sent gzip-compressed (~1 MB on the wire)
PEAK_MARGIN = 32 * MIB
DEEP = b"[" * 1_000_000

SMALL = {
    "/metrics": b"# TYPE up gauge\nup 1\n",
    "/api/v1/query": b'{"status": "success", "data": {"resultType": "vector", "result": []}}',
    "/jobs/7": b'{"status": "succeeded"}',
}


@cache
def gzip_bomb() -> bytes:
    """1 GiB of zeros as one gzip member (computed once: a few seconds)."""
    packer = zlib.compressobj(6, zlib.DEFLATED, 31)
    zeros = bytes(MIB)
    parts = [packer.compress(zeros) for _ in range(BOMB_ZEROS // MIB)]
    parts.append(packer.flush())
    return b"".join(parts)


@contextmanager
def body_server(mode: str) -> Iterator[str]:
    """Every GET answers with the body of ``mode``: ``big``, ``bomb`` or ``small``; POST /jobs a job."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self._send(202, b'{"id": "7"}', {})

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if mode == "bomb":
                self._send(200, gzip_bomb(), {"Content-Encoding": "gzip"})
            elif mode == "big":
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(BIG_BYTES))
                self.end_headers()
                chunk = b"x" * (1000 * 1000)
                with suppress(BrokenPipeError, ConnectionResetError):
                    for _ in range(BIG_BYTES // len(chunk)):
                        self.wfile.write(chunk)
            else:
                self._send(200, SMALL.get(path, b'{"ok": true}'), {})

        def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            with suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    if mode == "bomb":
        gzip_bomb()  # before the server answers: never inside a timed probe
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


CHILD = """
import json, resource, sys, time
from sloprobe.config.model import ProbeSpec, Target
from sloprobe.probes.context import make_context
from sloprobe.probes.runner import run_probes

def hwm():  # the peak RSS since the last reset (Linux), for the report only
    try:
        with open("/proc/self/status") as status:
            line = next(l for l in status if l.startswith("VmHWM:"))
        return int(line.split()[1]) * 1024
    except (OSError, StopIteration):
        return None

spec = ProbeSpec.model_validate(json.loads(sys.argv[1]))
context = make_context(sys.argv[2], Target(timeout=20))
try:
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")  # resets VmHWM: what follows is the probe's own peak
    before = hwm()
except OSError:
    before = None
clock = time.perf_counter()
m = run_probes({"p": spec}, context, 1, 60.0)["p"]
took = time.perf_counter() - clock
peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
after = hwm()
probe_peak = after - before if before is not None and after is not None else None
print(json.dumps({"failure": m.failure, "took": took, "peak": peak_kib * 1024,
                  "probe_peak": probe_peak}))
"""


def _probe(kind: str, url: str) -> dict[str, Any]:
    if kind == "http":
        return {"http": {"path": "/body", "retries": 0}}
    if kind == "job":
        poll = {"interval": "50ms", "max_interval": "50ms", "timeout": "10s"}
        return {
            "job": {"submit": {"path": "/jobs"}, "status": {"path": "/jobs/{id}"}, "poll": poll}
        }
    if kind == "prometheus":
        return {"prometheus": {"url": "/metrics", "metrics": {"up": {"name": "up"}}}}
    return {"promql": {"server": url, "queries": {"up": {"query": "up"}}}}


def _run_child(kind: str, mode: str) -> dict[str, Any]:
    with body_server(mode) as url:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, json.dumps(_probe(kind, url)), url],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


CAPS = {
    "http": "body too large (over 1048576 bytes, `max_body_bytes`)",
    "job": "body too large (over 4194304 bytes)",
    "prometheus": "body too large (over 16777216 bytes)",
    "promql": "body too large (over 16777216 bytes)",
}


@pytest.mark.parametrize("kind", list(CAPS))
@pytest.mark.parametrize("mode", ["big", "bomb"])
def test_a_huge_body_or_a_bomb_is_capped_fast_in_bounded_memory(kind: str, mode: str) -> None:
    small = _run_child(kind, "small")
    hostile = _run_child(kind, mode)
    assert small["failure"] is None, small["failure"]
    assert hostile["failure"] is not None and hostile["failure"].endswith(CAPS[kind])
    assert hostile["took"] < 5
    grown = hostile["peak"] - small["peak"]
    during = ""
    if hostile["probe_peak"] is not None and small["probe_peak"] is not None:
        during = (
            f"; during the probe alone +{hostile['probe_peak'] / MIB:.1f} MiB"
            f" vs +{small['probe_peak'] / MIB:.1f} MiB"
        )
    print(
        f"\n{kind} {mode}: peak RSS {hostile['peak'] / MIB:.1f} MiB vs {small['peak'] / MIB:.1f} MiB"
        f" with a small body (+{grown / MIB:.1f} MiB){during}, {hostile['took']:.2f} s"
    )
    assert grown < PEAK_MARGIN
    if hostile["probe_peak"] is not None and small["probe_peak"] is not None:
        assert hostile["probe_peak"] - small["probe_peak"] < PEAK_MARGIN


def _http(server: ScriptedServer, **http: object) -> Measurement:
    spec = ProbeSpec.model_validate({"http": {"retries": 0, **http}})
    return run_probes({"p": spec}, make_context(server.base_url, Target(timeout=5)), 1, 20.0)["p"]


def test_a_gzip_body_is_capped_by_its_decompressed_size(scripted: ScriptedServer) -> None:
    packed = zlib.compress(b'{"pad": "' + b"a" * 3_000_000 + b'"}', wbits=31)
    assert len(packed) < 1024 * 1024  # under the cap on the wire, far over it decompressed
    scripted.routes["/packed"] = Answer(200, packed, headers={"Content-Encoding": "gzip"})
    m = _http(scripted, path="/packed")
    assert m.failure == (
        f"GET {scripted.base_url}/packed: body too large (over 1048576 bytes, `max_body_bytes`)"
    )
    assert m.excerpt is not None and m.excerpt.startswith('{"pad": "aaa')


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "raw-deflate"])
def test_compressed_bodies_under_the_cap_are_read(scripted: ScriptedServer, encoding: str) -> None:
    body = json.dumps({"depth": 7, "pad": "b" * 500_000}).encode()
    if encoding == "gzip":
        packed = zlib.compress(body, wbits=31)
    elif encoding == "deflate":
        packed = zlib.compress(body)
    else:  # what some servers send as "deflate": no zlib header
        packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
        packed = packer.compress(body) + packer.flush()
    sent = "deflate" if encoding == "raw-deflate" else encoding
    scripted.routes["/packed"] = Answer(200, packed, headers={"Content-Encoding": sent})
    m = _http(scripted, path="/packed", values={"depth": {"json": "depth"}})
    assert m.failure is None, m.failure
    assert m.series["depth"].samples == (7.0,)


def test_a_corrupt_gzip_body_is_undecodable_not_a_crash(scripted: ScriptedServer) -> None:
    scripted.routes["/broken"] = Answer(
        200, b"\x1f\x8b\x08\x00garbage-not-gzip" * 10, headers={"Content-Encoding": "gzip"}
    )
    m = _http(scripted, path="/broken")
    assert m.failure is not None
    assert m.failure.startswith(f"GET {scripted.base_url}/broken: undecodable body (gzip: ")


def test_deep_json_in_an_http_value_is_no_data_with_a_reason(scripted: ScriptedServer) -> None:
    scripted.routes["/deep"] = Answer(200, DEEP)
    m = _http(scripted, path="/deep", values={"depth": {"json": "depth", "unit": "count"}})
    assert m.failure is None
    assert m.series["depth"].samples == ()
    assert m.missing["depth"] == (
        "the answer (200) cannot be read: undecodable body (JSON nested too deeply), "
        "so field `depth` cannot be read"
    )


def test_deep_json_in_a_job_status_answer_is_a_failure_with_a_reason(
    scripted: ScriptedServer,
) -> None:
    scripted.routes["/jobs"] = Answer(202, '{"id": "7"}')
    scripted.routes["/jobs/7"] = Answer(200, DEEP)
    poll = {"interval": "50ms", "max_interval": "50ms", "timeout": "1s"}
    spec = ProbeSpec.model_validate(
        {"job": {"submit": {"path": "/jobs"}, "status": {"path": "/jobs/{id}"}, "poll": poll}}
    )
    m = run_probes({"job": spec}, make_context(scripted.base_url, Target()), 1, 20.0)["job"]
    assert m.failure is not None
    assert m.failure.startswith(
        f"job 7 no usable status answer in 1s (timeout); last: status: GET "
        f"{scripted.base_url}/jobs/7: undecodable body (JSON nested too deeply): [[["
    )
    assert "traceback" not in m.details
    assert m.series["succeeded"].samples == ()
