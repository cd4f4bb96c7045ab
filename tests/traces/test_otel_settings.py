"""The OpenTelemetry export's settings from the standard variables, the spans it plans, its bound."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sloprobe.model.measurement import Measurement
from sloprobe.model.result import RunInfo, RunResult
from sloprobe.model.spans import SpanRecord
from sloprobe.sinks import otel_export
from sloprobe.sinks.otel_export import (
    DEFAULT_TIMEOUT_S,
    GRACE_S,
    OtelSettings,
    export_spans,
    otel_off,
    otel_settings,
    parse_headers,
    plan_spans,
)

BASE = "OTEL_EXPORTER_OTLP_ENDPOINT"
TRACES = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"


@pytest.mark.parametrize(
    ("environ", "endpoint"),
    [
        ({BASE: "http://collector:4318"}, "http://collector:4318/v1/traces"),
        ({BASE: "https://otlp.example/otlp/"}, "https://otlp.example/otlp/v1/traces"),
        ({TRACES: "http://c:4318/custom"}, "http://c:4318/custom"),
        ({BASE: "http://base:4318", TRACES: "http://c:4318/custom"}, "http://c:4318/custom"),
        ({BASE: "http://base:4318", TRACES: " "}, "http://base:4318/v1/traces"),
    ],
    ids=["base", "base-with-path", "traces", "traces-first", "blank-traces"],
)
def test_the_endpoint_follows_the_spec(environ: dict[str, str], endpoint: str) -> None:
    settings = otel_settings(environ)
    assert settings is not None and settings.endpoint == endpoint
    assert settings.timeout_s == DEFAULT_TIMEOUT_S


@pytest.mark.parametrize(
    ("environ", "why"),
    [
        ({}, "OTEL_EXPORTER_OTLP_ENDPOINT not set"),
        ({BASE: "  "}, "OTEL_EXPORTER_OTLP_ENDPOINT is empty"),
        ({BASE: "collector:4318"}, "OTEL_EXPORTER_OTLP_ENDPOINT is not an http:// or https:// URL"),
        (
            {TRACES: "ftp://x/y"},
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is not an http:// or https:// URL",
        ),
        ({BASE: "http://c", "OTEL_SDK_DISABLED": "true"}, "OTEL_SDK_DISABLED is true"),
        (
            {BASE: "http://c", "OTEL_TRACES_EXPORTER": "none"},
            "OTEL_TRACES_EXPORTER does not name otlp",
        ),
        (
            {BASE: "http://c", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
            "OTEL_EXPORTER_OTLP_PROTOCOL is not http/protobuf, the one protocol sloprobe sends",
        ),
    ],
    ids=["unset", "empty", "no-scheme", "ftp", "sdk-disabled", "exporter-none", "grpc"],
)
def test_off_says_why_without_quoting_a_value(environ: dict[str, str], why: str) -> None:
    assert otel_settings(environ) is None
    assert otel_off(environ) == why


def test_on_when_the_protocol_and_exporter_name_it() -> None:
    environ = {
        BASE: "http://c",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_TRACES_EXPORTER": "console, otlp",
    }
    assert otel_settings(environ) is not None
    assert otel_off(environ) is None


def test_without_the_extra_it_is_off_and_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(otel_export, "exporter_installed", lambda: False)
    assert otel_off({BASE: "http://c"}) == (
        "the otel extra is not installed: pip install 'sloprobe[otel]'"
    )


def test_headers_are_read_as_the_spec_says_and_every_value_is_a_secret() -> None:
    text = " api-key = s3cr3t-v4lue , authorization=Bearer%20tok3n-abc,broken,=nokey, x=a%3Db "
    assert parse_headers(text) == {
        "api-key": "s3cr3t-v4lue",
        "authorization": "Bearer tok3n-abc",
        "x": "a=b",
    }
    settings = otel_settings(
        {
            BASE: "https://user:p4ssw0rd-xyz@otlp.example",
            "OTEL_EXPORTER_OTLP_HEADERS": "a=general",
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS": text,
        }
    )
    assert settings is not None
    assert dict(settings.headers) == parse_headers(text)  # the traces' own first
    assert {"s3cr3t-v4lue", "Bearer tok3n-abc", "tok3n-abc", "p4ssw0rd-xyz"} <= set(
        settings.secrets()
    )


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("2500", 2.5), ("10", 1.0), ("600000", 30.0), ("soon", DEFAULT_TIMEOUT_S)],
    ids=["ms", "at-least-1s", "at-most-30s", "not-a-number"],
)
def test_the_timeout_is_in_milliseconds_within_bounds(value: str, seconds: float) -> None:
    settings = otel_settings({BASE: "http://c", "OTEL_EXPORTER_OTLP_TIMEOUT": value})
    assert settings is not None and settings.timeout_s == seconds


# -- the spans planned from a result -------------------------------------------------------

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


def _result(*measurements: Measurement) -> RunResult:
    info = RunInfo("run1", "shop", "prod", T0, T0 + timedelta(seconds=3), "0.1", "slo.yaml", None)
    return RunResult(info, (), {m.probe: m for m in measurements})


def _traced(requests: int) -> Measurement:
    root = SpanRecord("a" * 16, None, "probe api", 0, 10, {"sloprobe.probe": "api"})
    kids = tuple(
        SpanRecord(f"{i + 1:016x}", root.span_id, "GET /", 1, 2, {}, kind="client")
        for i in range(requests)
    )
    phase = SpanRecord("b" * 16, root.span_id, "job done", 2, 3, {"sloprobe.job.phase": "done"})
    return Measurement(
        "api", "http", T0, 1.0, trace_id=TRACE_ID, spans=(root, phase, *kids), failure="x"
    )


def test_a_probe_without_a_trace_of_its_own_is_a_child_of_the_run() -> None:
    redis = Measurement("queue", "redis", T0, 0.5)
    deferred = Measurement("job", "job", T0, 0.0, skipped="not due", deferred=True)
    run, queue = plan_spans(_result(redis, deferred), str)
    assert run.record.parent_span_id is None and run.links == ()
    assert queue.trace_id == run.trace_id
    assert queue.record.parent_span_id == run.record.span_id
    assert queue.record.name == "probe queue" and queue.links == ()


def test_past_one_batch_requests_go_first_and_the_run_says_how_many() -> None:
    planned = plan_spans(_result(_traced(requests=20)), str, max_spans=10)
    assert len(planned) == 10
    run = planned[0]
    assert run.record.attributes["sloprobe.spans.dropped"] == 13  # run, probe, phase, 7 requests
    assert [p.record.name for p in planned[1:3]] == ["probe api", "job done"]
    assert run.links == ((TRACE_ID, "a" * 16, {"sloprobe.link": "probe"}),)
    probe = planned[1]
    assert probe.trace_id == TRACE_ID and probe.record.parent_span_id is None
    assert probe.links == ((run.trace_id, run.record.span_id, {"sloprobe.link": "run"}),)
    assert probe.status_text == "x" and not probe.record.ok


def test_every_text_is_masked_by_the_runs_redactor() -> None:
    secret = "hunter2-very-secret"
    measured = Measurement("api", "http", T0, 1.0, failure=f"GET /x?k={secret}: HTTP 500")
    planned = plan_spans(_result(measured), lambda text: text.replace(secret, "***"))
    assert secret not in repr(planned)


def test_an_exporter_that_never_returns_is_left_behind_at_the_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Stuck:
        def export(self, spans: Any) -> Any:
            time.sleep(30)

        def shutdown(self) -> None:
            pass

    monkeypatch.setattr(otel_export, "_exporter", lambda settings: Stuck())
    began = time.monotonic()
    settings = OtelSettings("http://127.0.0.1:9/v1/traces", timeout_s=1.0)
    said = export_spans(_result(_traced(2)), settings, str)
    took = time.monotonic() - began
    assert said is not None and said.startswith("OpenTelemetry export failed")
    assert "within 1s" in said
    assert 1.0 <= took < 1.0 + GRACE_S + 3
