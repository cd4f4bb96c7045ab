"""A run's own spans, exported over OTLP/HTTP to a real receiver that decodes the protobuf.

The run is a real pytest run (pytester, in a child process) of a small slo.yaml
against the bundled reference service: an http probe, a failing http probe, a
job probe and a Python probe. The spans must form one tree per probe, under
the trace ids of results.json and the span ids the service received in
``traceparent``; a collector that fails, stalls or is not there costs a
bounded wait and a warning, never a verdict or the exit status.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from sloprobe.demo.service import RunningService, ServiceConfig, start_service
from tests.traces.otlp_receiver import otlp_receiver

CANARY = "otlp-hdr-c4n4ry-7731"  # a header value: the collector sees it, nothing else does
BEARER = "otlp-bearer-s3cr3t-4412"
QUERY_CANARY = "q-t0ken-c4n4ry-9920"
BOUND_S = 2.0  # OTEL_EXPORTER_OTLP_TIMEOUT in these runs (milliseconds there)
CLIENT = 3  # SpanKind.SPAN_KIND_CLIENT in OTLP
ERROR = 2  # Status.STATUS_CODE_ERROR

SUITE = """\
version: 1
service: otel-shop
environment: test
target:
  timeout: 5s
probes:
  health:
    http:
      path: /health
      samples: 2
  gone:
    http:
      path: /admin/nope
      query: {token: "${GONE_TOKEN}"}
  job:
    job:
      submit: {path: /jobs, form: {asset_id: synthetic, prompt: probe}, id: job_id}
      status: {path: "/jobs/{id}", finished_at: completed_at, error: error_message}
      poll: {interval: 100ms, max_interval: 100ms, timeout: 10s}
  ping:
    python:
      values:
        latency: {unit: s}
slos:
  health-fast: {probe: health, measure: latency, threshold: p95 < 5s}
  gone-fast: {probe: gone, measure: latency, threshold: p95 < 5s}
  job-total: {probe: job, measure: total, threshold: max < 20s}
  ping-fast: {probe: ping, measure: latency, threshold: max < 10s}
"""
PING = """\
import pytest


@pytest.mark.probe("ping")
def test_ping(target, recorder):
    with recorder.timer("latency"):
        answer = target.get("/health")
    assert answer.status_code == 200
"""
VERDICTS = {"health-fast": "ok", "gone-fast": "breach", "job-total": "ok", "ping-fast": "ok"}


@pytest.fixture
def service() -> Iterator[RunningService]:
    with start_service(ServiceConfig()) as running:
        yield running


@pytest.fixture
def suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    pytester.makefile(".yaml", slo=SUITE)
    pytester.mkdir("probes")
    (pytester.path / "probes" / "test_ping.py").write_text(PING)
    for name in ("SENTRY_DSN", "SLACK_WEBHOOK_URL", "PROBE_BASE_URL", "SLOPROBE_HISTORY_URL"):
        monkeypatch.delenv(name, raising=False)
    for name in (
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_EXPORTER_OTLP_HEADERS",
        "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
        "OTEL_EXPORTER_OTLP_TIMEOUT",
        "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
        "OTEL_SDK_DISABLED",
        "OTEL_TRACES_EXPORTER",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GONE_TOKEN", QUERY_CANARY)
    return pytester


def _export_to(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", url)
    monkeypatch.setenv(
        "OTEL_EXPORTER_OTLP_HEADERS", f"x-canary={CANARY}, authorization=Bearer%20{BEARER}"
    )
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TIMEOUT", str(int(BOUND_S * 1000)))


def _run(suite: pytest.Pytester, service: RunningService) -> pytest.RunResult:
    return suite.runpytest("--base-url", service.base_url, "-p", "no:cacheprovider")


def _results(suite: pytest.Pytester) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((suite.path / "reports" / "results.json").read_text())
    return data


def _verdicts(data: dict[str, Any]) -> dict[str, str]:
    return {v["slo"]: v["status"] for v in data["verdicts"]}


def _outputs(suite: pytest.Pytester, result: pytest.RunResult) -> str:
    """Every file the run wrote under reports/, and its terminal output."""
    files = [p for p in (suite.path / "reports").rglob("*") if p.is_file()]
    texts = [p.read_bytes().decode("utf-8", "replace") for p in files]
    return "\n".join([*texts, result.stdout.str(), result.stderr.str()])


def test_a_run_exports_one_tree_per_probe_under_the_ids_it_sent(
    suite: pytest.Pytester,
    service: RunningService,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with otlp_receiver() as receiver:
        _export_to(monkeypatch, receiver.url)
        result = _run(suite, service)
    assert result.ret == 1, result.stdout.str()  # gone-fast breaches: the export changes nothing
    data = _results(suite)
    assert _verdicts(data) == VERDICTS
    assert not [w for w in data["warnings"] if "OpenTelemetry" in w]
    assert "OpenTelemetry off" not in result.stdout.str()

    assert len(receiver.posts) == 1  # one batch
    path, headers, _ = receiver.posts[0]
    assert path == "/v1/traces"
    assert {k.lower(): v for k, v in headers.items()}["x-canary"] == CANARY
    spans = receiver.spans()
    assert {s.resource["service.name"] for s in spans} == {"sloprobe"}
    assert spans[0].resource["sloprobe.service"] == "otel-shop"

    [run] = [s for s in spans if s.name == "sloprobe run otel-shop"]
    assert run.parent_span_id == ""
    assert run.attributes["sloprobe.run.id"] == data["run"]["run_id"]
    assert run.attributes["sloprobe.run.breached"] == ("gone-fast",)
    measurements = data["measurements"]
    traces = {name: m["trace_id"] for name, m in measurements.items()}
    assert set(traces) == {"health", "gone", "job", "ping"} and all(traces.values())
    assert run.trace_id not in traces.values()  # the run's trace is its own
    linked = {(t, s) for t, s, _ in run.links}

    log = service.request_log
    for probe, trace_id in traces.items():
        tree = [s for s in spans if s.trace_id == trace_id]
        [root] = [s for s in tree if s.parent_span_id == ""]
        assert root.name == f"probe {probe}"
        # every other span of the trace is a child of the probe's: one tree, one level deep
        assert all(s.parent_span_id == root.span_id for s in tree if s is not root)
        assert (run.trace_id, run.span_id) in {(t, s) for t, s, _ in root.links}
        assert (trace_id, root.span_id) in linked
        assert root.attributes["sloprobe.slos"] == tuple(
            slo for slo in VERDICTS if slo.startswith(probe)
        )
        assert root.start_ns <= min(s.start_ns for s in tree)
        assert root.end_ns >= max(s.end_ns for s in tree)
        # each request's span id is exactly the one its traceparent carried to the service
        requests = [s for s in tree if s.kind == CLIENT]
        received = [e.parent_id for e in log if e.trace_id == trace_id]
        assert requests and sorted(s.span_id for s in requests) == sorted(received)
        for span in requests:
            assert span.attributes["http.request.method"] in ("GET", "POST")
            assert span.attributes["url.full"].startswith(service.base_url)
            assert isinstance(span.attributes["http.response.status_code"], int)

    health = [s for s in spans if s.trace_id == traces["health"] and s.kind == CLIENT]
    assert [s.attributes["http.response.status_code"] for s in health] == [200, 200]
    assert {s.name for s in health} == {"GET /health"}

    [gone] = [s for s in spans if s.trace_id == traces["gone"] and s.parent_span_id == ""]
    assert gone.attributes["sloprobe.probe.status"] == "failed"
    assert gone.status_code == ERROR
    assert "404" in gone.attributes["sloprobe.probe.failure"]
    assert gone.attributes["sloprobe.slos.breached"] == ("gone-fast",)
    [gone_request] = [s for s in spans if s.trace_id == traces["gone"] and s.kind == CLIENT]
    assert gone_request.attributes["http.response.status_code"] == 404
    assert QUERY_CANARY not in gone_request.attributes["url.full"]
    assert "token=" in gone_request.attributes["url.full"]

    job = [s for s in spans if s.trace_id == traces["job"]]
    [job_root] = [s for s in job if s.parent_span_id == ""]
    assert job_root.attributes["sloprobe.job.id"] == measurements["job"]["details"]["job"]
    assert [e[1]["sloprobe.slo.status"] for e in job_root.events] == ["ok"]
    phases = sorted((s for s in job if s.name.startswith("job ")), key=lambda s: s.start_ns)
    assert [s.name for s in phases] == ["job submit", "job queued", "job processing", "job done"]
    assert all(s.attributes["sloprobe.job.phase_s"] >= 0 for s in phases)
    assert all(a.end_ns <= b.start_ns + 1000 for a, b in itertools.pairwise(phases))
    steps = {s.attributes.get("sloprobe.step") for s in job if s.kind == CLIENT}
    assert steps == {"submit", "status"}
    assert "POST /jobs" in {s.name for s in job} and "GET /jobs/{id}" in {s.name for s in job}

    everything = _outputs(suite, result)
    for secret in (CANARY, BEARER, QUERY_CANARY):
        assert secret not in everything
        assert all(secret not in json.dumps(s.attributes) for s in spans)


@pytest.mark.parametrize("collector", ["answers-500", "stalls", "port-closed"])
def test_a_failed_export_is_a_bounded_warning_never_a_verdict(
    suite: pytest.Pytester,
    service: RunningService,
    monkeypatch: pytest.MonkeyPatch,
    closed_port_url: str,
    collector: str,
) -> None:
    fail = 500 if collector == "answers-500" else None
    stall = 60.0 if collector == "stalls" else 0.0
    with otlp_receiver(fail_status=fail, stall_s=stall) as receiver:
        url = closed_port_url if collector == "port-closed" else receiver.url
        _export_to(monkeypatch, url)
        result = _run(suite, service)
    assert result.ret == 1, result.stdout.str()
    data = _results(suite)
    assert _verdicts(data) == VERDICTS
    [warning] = [w for w in data["warnings"] if "OpenTelemetry export" in w]
    assert "failed" in warning
    assert {
        "answers-500": "the collector answered HTTP 500",
        "stalls": f"no answer within {BOUND_S:g}s",
        "port-closed": "connection refused",
    }[collector] in warning
    result.stdout.fnmatch_lines(["*OpenTelemetry export failed*"])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
    # results.json is written after the export; the run's own end was before it
    finished = datetime.fromisoformat(data["run"]["finished_at"])
    written = (suite.path / "reports" / "results.json").stat().st_mtime
    assert written - finished.timestamp() < BOUND_S + 5
    if collector != "port-closed":
        assert len(receiver.posts) >= 1  # it was tried
    assert CANARY not in _outputs(suite, result)


def test_without_the_endpoint_nothing_is_sent_and_the_line_says_off(
    suite: pytest.Pytester, service: RunningService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", f"x-canary={CANARY}")
    with otlp_receiver() as receiver:
        result = _run(suite, service)
    assert result.ret == 1
    assert receiver.posts == []
    line = "*OpenTelemetry off (OTEL_EXPORTER_OTLP_ENDPOINT not set)*"
    result.stdout.fnmatch_lines([line])
    data = _results(suite)
    assert any(
        "OpenTelemetry off (OTEL_EXPORTER_OTLP_ENDPOINT not set)" in n for n in data["notes"]
    )
    assert not [w for w in data["warnings"] if "OpenTelemetry" in w]
