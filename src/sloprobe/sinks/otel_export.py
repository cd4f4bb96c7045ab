"""The run's own spans, exported over OTLP/HTTP (protobuf) when OpenTelemetry is configured.

Off by default. On with the ``otel`` extra (``pip install 'sloprobe[otel]'``)
and the standard variables: ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` (the full
URL) or ``OTEL_EXPORTER_OTLP_ENDPOINT`` (a base URL, ``/v1/traces`` added),
``OTEL_EXPORTER_OTLP_HEADERS`` (``key=value,…``, values percent-decoded; every
value is a secret), ``OTEL_EXPORTER_OTLP_TIMEOUT`` (milliseconds). The caller
passes the environment: nothing here reads ``os.environ``.

What is sent (docs/traces.md draws it):

- a **run** span, in a trace of its own, linked to each probe's span;
- for each probe that talks to the target, its own trace (the trace id of
  results.json): the **probe** span is the root, linked to the run span, with
  each **request** a child under the very span id its ``traceparent`` carried
  (the service's own spans hang under it) and a **job**'s phases (submit,
  queued, processing, done) children too;
- a probe that does not talk to the target (Redis, SQL, PromQL, …) has no
  trace of its own: its span is a child of the run span.

The export is one batch (at most :data:`MAX_SPANS` spans) within one bound
(:attr:`OtelSettings.timeout_s`, :data:`DEFAULT_TIMEOUT_S` unless set): the
exporter runs in a daemon thread that is waited for that long, plus
:data:`GRACE_S`, and no longer. What goes wrong — the extra's import, the
endpoint down, a 4xx/5xx answer, a stall — is returned as one warning text,
masked by the run's redactor; nothing is raised.
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.util import find_spec
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from sloprobe.model.result import RunResult
from sloprobe.model.spans import AttributeValue, SpanRecord
from sloprobe.redact import url_secrets

if TYPE_CHECKING:
    from datetime import datetime

    from sloprobe.model.measurement import Measurement

ENDPOINT = "OTEL_EXPORTER_OTLP_ENDPOINT"
TRACES_ENDPOINT = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
HEADERS = "OTEL_EXPORTER_OTLP_HEADERS"
TRACES_HEADERS = "OTEL_EXPORTER_OTLP_TRACES_HEADERS"
TIMEOUT = "OTEL_EXPORTER_OTLP_TIMEOUT"
TRACES_TIMEOUT = "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT"
PROTOCOL = "OTEL_EXPORTER_OTLP_PROTOCOL"
TRACES_PROTOCOL = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
SDK_DISABLED = "OTEL_SDK_DISABLED"
TRACES_EXPORTER = "OTEL_TRACES_EXPORTER"

INSTALL = "pip install 'sloprobe[otel]'"
_EXPORTER_MODULE = "opentelemetry.exporter.otlp.proto.http"
DEFAULT_TIMEOUT_S = 5.0  # the spec's default is 10 s; a run waits for this, so less
MIN_TIMEOUT_S = 1.0
MAX_TIMEOUT_S = 30.0
GRACE_S = 1.0  # importing the SDK, building the batch: on top of the timeout, in the same bound
MAX_SPANS = 1000  # one batch; past it, request spans are dropped (the run span says how many)
MAX_TEXT = 500  # characters of one attribute's text
WHAT = "OpenTelemetry export"


@dataclass(frozen=True)
class OtelSettings:
    """Where the spans go: the traces endpoint's full URL, the headers sent with them, the bound."""

    endpoint: str
    headers: Mapping[str, str] = field(default_factory=dict)
    timeout_s: float = DEFAULT_TIMEOUT_S

    def secrets(self) -> list[str]:
        """What the run's redactor must know: every header value (and the part after a
        scheme such as ``Bearer``), and a password in the endpoint's URL."""
        found: list[str] = []
        for value in self.headers.values():
            found += [value, value.split(" ", 1)[-1]]
        return found + url_secrets(self.endpoint)


def otel_settings(environ: Mapping[str, str]) -> OtelSettings | None:
    """The export's settings from the standard OpenTelemetry variables; None: export is off."""
    return _resolve(environ)[0]


def otel_off(environ: Mapping[str, str]) -> str | None:
    """Why the export is off (``OTEL_EXPORTER_OTLP_ENDPOINT not set``, the extra missing), or
    None when it is on. Never quotes a variable's value."""
    settings, why = _resolve(environ)
    if settings is None:
        return why
    if not exporter_installed():
        return f"the otel extra is not installed: {INSTALL}"
    return None


def exporter_installed() -> bool:
    try:
        return (
            find_spec(_EXPORTER_MODULE) is not None and find_spec("opentelemetry.sdk") is not None
        )
    except (ImportError, ValueError):
        return False


def _resolve(environ: Mapping[str, str]) -> tuple[OtelSettings | None, str]:
    if environ.get(SDK_DISABLED, "").strip().lower() == "true":
        return None, f"{SDK_DISABLED} is true"
    exporters = environ.get(TRACES_EXPORTER, "").strip().lower()
    if exporters and "otlp" not in {e.strip() for e in exporters.split(",")}:
        return None, f"{TRACES_EXPORTER} does not name otlp"
    protocol = _first(environ, TRACES_PROTOCOL, PROTOCOL)
    if protocol is not None and protocol[1].strip().lower() != "http/protobuf":
        return None, f"{protocol[0]} is not http/protobuf, the one protocol sloprobe sends"
    found = _first(environ, TRACES_ENDPOINT, ENDPOINT)
    if found is None:
        if ENDPOINT in environ or TRACES_ENDPOINT in environ:
            return None, f"{ENDPOINT} is empty"
        return None, f"{ENDPOINT} not set"
    name, url = found[0], found[1].strip()
    if name == ENDPOINT:  # a base URL: the signal's path is added (the spec's rule)
        url = url.rstrip("/") + "/v1/traces"
    try:
        parts = urlsplit(url)
        ok = parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
    except ValueError:
        ok = False
    if not ok:
        return None, f"{name} is not an http:// or https:// URL"
    headers_var = _first(environ, TRACES_HEADERS, HEADERS)
    headers = parse_headers(headers_var[1]) if headers_var else {}
    timeout_var = _first(environ, TRACES_TIMEOUT, TIMEOUT)
    return OtelSettings(url, headers, _timeout(timeout_var[1] if timeout_var else None)), ""


def _first(environ: Mapping[str, str], *names: str) -> tuple[str, str] | None:
    """The first of ``names`` set to something other than blanks: (name, value)."""
    for name in names:
        value = environ.get(name)
        if value is not None and value.strip():
            return name, value
    return None


def parse_headers(text: str) -> dict[str, str]:
    """``OTEL_EXPORTER_OTLP_HEADERS`` as the spec reads it: ``key=value`` pairs separated by
    commas, blanks around each trimmed, the value percent-decoded; a pair without ``=`` or
    without a key is left out."""
    headers: dict[str, str] = {}
    for pair in text.split(","):
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            continue
        headers[key] = unquote(value.strip())
    return headers


def _timeout(text: str | None) -> float:
    """The spec's timeout in milliseconds, kept within [MIN, MAX] seconds; the default unset."""
    if text is None:
        return DEFAULT_TIMEOUT_S
    try:
        seconds = float(text.strip()) / 1000
    except ValueError:
        return DEFAULT_TIMEOUT_S
    if seconds != seconds:  # NaN
        return DEFAULT_TIMEOUT_S
    return min(max(seconds, MIN_TIMEOUT_S), MAX_TIMEOUT_S)


# -- what is exported: plain data first --------------------------------------------------


@dataclass(frozen=True)
class PlannedSpan:
    """One span as it will be exported: its trace, its record, its links and events."""

    trace_id: str
    record: SpanRecord
    links: tuple[tuple[str, str, Mapping[str, AttributeValue]], ...] = ()
    events: tuple[tuple[str, int, Mapping[str, AttributeValue]], ...] = ()
    status_text: str | None = None  # the description of an error status


def plan_spans(
    result: RunResult, redactor: Callable[[str], str], max_spans: int = MAX_SPANS
) -> list[PlannedSpan]:
    """Every span of the run, texts masked by ``redactor``: the run's first, then each
    probe's span, a job's phases, and the requests (the last to go past ``max_spans``)."""
    run_trace, run_span = _hex(16), _hex(8)
    roots: list[PlannedSpan] = []
    children: list[PlannedSpan] = []
    links: list[tuple[str, str, Mapping[str, AttributeValue]]] = []
    for measurement in result.measurements.values():
        if measurement.skipped is not None:
            continue  # not run (not due, or its test was skipped): nothing was timed
        root, kids = _probe_spans(result, measurement, run_trace, run_span, redactor)
        roots.append(root)
        children += kids
        if root.trace_id != run_trace:
            links.append((root.trace_id, root.record.span_id, {"sloprobe.link": "probe"}))
    phases = [c for c in children if c.record.kind != "client"]
    requests = [c for c in children if c.record.kind == "client"]
    room = max(0, max_spans - 1 - len(roots) - len(phases))
    dropped = max(0, len(requests) - room)
    run = _run_span(result, run_trace, run_span, tuple(links), dropped, redactor)
    return [run, *roots, *phases, *requests[:room]]


def _hex(size: int) -> str:
    while True:
        value = secrets.token_hex(size)
        if value.strip("0"):
            return value


def _ns(at: datetime) -> int:
    return int(at.timestamp() * 1e6) * 1000


def _text(value: str, redactor: Callable[[str], str]) -> str:
    return redactor(value[: MAX_TEXT * 2])[:MAX_TEXT]


def _safe(
    attributes: Mapping[str, AttributeValue], redactor: Callable[[str], str]
) -> dict[str, AttributeValue]:
    """Every text masked and cut (a list's texts each), numbers and booleans as they are."""

    def safe(value: AttributeValue) -> AttributeValue:
        if isinstance(value, str):
            return _text(value, redactor)
        if isinstance(value, tuple):
            return tuple(_text(item, redactor) for item in value)
        return value

    return {key: safe(value) for key, value in attributes.items()}


def _run_span(
    result: RunResult,
    trace_id: str,
    span_id: str,
    links: tuple[tuple[str, str, Mapping[str, AttributeValue]], ...],
    dropped: int,
    redactor: Callable[[str], str],
) -> PlannedSpan:
    run = result.run
    said: dict[str, AttributeValue] = {
        "sloprobe.run.id": run.run_id,
        "sloprobe.service": run.service,
        "sloprobe.environment": run.environment,
        "sloprobe.run.trigger": run.trigger,
        "sloprobe.run.status": result.status.value,
        "sloprobe.run.slos": len(result.verdicts),
        "sloprobe.run.breached": tuple(v.slo for v in result.verdicts if v.counts_as_bad),
    }
    if run.release:
        said["sloprobe.release"] = run.release
    if run.partial:
        said["sloprobe.run.partial"] = run.partial
    if result.exit is not None:
        said["sloprobe.run.exit_code"] = result.exit.code
    if dropped:
        said["sloprobe.spans.dropped"] = dropped
    bad = [v.slo for v in result.verdicts if v.counts_as_bad]
    record = SpanRecord(
        span_id,
        None,
        f"sloprobe run {run.service}",
        _ns(run.started_at),
        max(_ns(run.finished_at), _ns(run.started_at)),
        _safe(said, redactor),
        not bad,
    )
    status = _text(f"breached: {', '.join(bad)}", redactor) if bad else None
    return PlannedSpan(trace_id, record, links, status_text=status)


def _probe_spans(
    result: RunResult,
    measurement: Measurement,
    run_trace: str,
    run_span: str,
    redactor: Callable[[str], str],
) -> tuple[PlannedSpan, list[PlannedSpan]]:
    """The probe's span and its children. With a trace of its own (it talked to the target),
    the probe's span is that trace's root, linked to the run's; else a child of the run's."""
    own = measurement.trace_id is not None and bool(measurement.spans)
    records = measurement.spans if own else ()
    root = next((r for r in records if r.parent_span_id is None), None)
    if root is None:  # no span recorded: timed as the measurement says
        started = _ns(measurement.started_at)
        root = SpanRecord(
            _hex(8),
            None,
            f"probe {measurement.probe}",
            started,
            started + int(max(measurement.duration_s, 0.0) * 1e9),
            {"sloprobe.probe": measurement.probe, "sloprobe.probe.kind": measurement.kind},
        )
    trace_id = measurement.trace_id if own and measurement.trace_id else run_trace
    verdicts = [v for v in result.verdicts if v.probe == measurement.probe]
    said: dict[str, AttributeValue] = {
        **root.attributes,
        "sloprobe.probe.status": "failed" if measurement.failed else "ok",
        "sloprobe.slos": tuple(v.slo for v in verdicts),
        "sloprobe.slos.breached": tuple(v.slo for v in verdicts if v.counts_as_bad),
        "sloprobe.run.id": result.run.run_id,
    }
    if measurement.failure:
        said["sloprobe.probe.failure"] = measurement.failure
    job = measurement.details.get("job")
    if job:
        said["sloprobe.job.id"] = job
    record = SpanRecord(
        root.span_id,
        None if trace_id != run_trace else run_span,
        root.name,
        root.start_ns,
        root.end_ns,
        _safe(said, redactor),
        not measurement.failed,
    )
    events = tuple(
        (
            f"slo {v.slo}",
            root.end_ns,
            _safe(
                {
                    "sloprobe.slo": v.slo,
                    "sloprobe.slo.status": v.status.value,
                    "sloprobe.slo.observed": v.observed,
                    "sloprobe.slo.threshold": v.threshold,
                },
                redactor,
            ),
        )
        for v in verdicts
    )
    link = ((run_trace, run_span, {"sloprobe.link": "run"}),) if trace_id != run_trace else ()
    failure = _text(measurement.failure, redactor) if measurement.failure else None
    planned = PlannedSpan(trace_id, record, link, events, failure)
    kids = [
        PlannedSpan(
            trace_id,
            SpanRecord(
                r.span_id,
                r.parent_span_id,
                _text(r.name, redactor),
                r.start_ns,
                r.end_ns,
                _safe(r.attributes, redactor),
                r.ok,
                r.kind,
            ),
        )
        for r in records
        if r.parent_span_id is not None
    ]
    return planned, kids


# -- the export ----------------------------------------------------------------------------


def export_spans(
    result: RunResult, settings: OtelSettings, redactor: Callable[[str], str]
) -> str | None:
    """Send the run's spans in one batch, within ``settings.timeout_s`` plus :data:`GRACE_S`;
    None when the collector took them, else the warning to show (masked by ``redactor``).
    Never raises. Without the ``otel`` extra it sends nothing and returns None: the
    ``integrations:`` line says OpenTelemetry is off, and why."""
    if not exporter_installed():
        return None
    said: list[str] = []
    outcome: list[bool] = []
    exporter: list[Any] = []
    counted: list[int] = []

    def send() -> None:  # imports, building and sending: all inside the one bound
        try:
            spans = _readable(plan_spans(result, redactor), result)
            counted.append(len(spans))
            exporter.append(_exporter(settings))
            outcome.append(exporter[0].export(spans).name == "SUCCESS")
        except Exception as exc:  # a bug of ours, or an SDK that changed: a warning, never the run
            said.append(f"{type(exc).__name__}: {exc}")
            outcome.append(False)

    capture = _Capture(said)
    logger = logging.getLogger("opentelemetry")
    before = logger.propagate
    logger.addHandler(capture)
    logger.propagate = False  # its messages become this warning, not a stray log line
    try:
        thread = threading.Thread(target=send, name="sloprobe-otel-export", daemon=True)
        thread.start()
        thread.join(settings.timeout_s + GRACE_S)
        finished = not thread.is_alive()
    finally:
        logger.removeHandler(capture)
        logger.propagate = before
    for sender in exporter:
        _shut(sender)
    spans = f"{counted[0]} span{'' if counted[0] == 1 else 's'}" if counted else "the spans"
    if not finished:
        return redactor(
            f"{WHAT} failed: the collector at {_where(settings.endpoint)} did not take "
            f"{spans} within {settings.timeout_s:g}s ({TIMEOUT}); the run did not wait longer"
        )
    if outcome and outcome[0]:
        return None
    why = _why(said, settings.timeout_s)
    return redactor(f"{WHAT} failed: {spans} not sent to {_where(settings.endpoint)}: {why}")[:400]


_ANSWERED = re.compile(r"code: (\d{3}), reason: ([^|]*)")
_TRANSIENT = re.compile(r"Transient error (.+?) encountered")


def _why(said: Sequence[str], timeout_s: float) -> str:
    """The exporter's log lines (or exception) said as one reason a person reads."""
    text = " | ".join(said)
    answered = _ANSWERED.search(text)
    if answered:
        return f"the collector answered HTTP {answered[1]} {answered[2].strip()}".rstrip()
    if "Connection refused" in text or "Errno 111" in text:
        return "connection refused"
    if "Name or service not known" in text or "Failed to resolve" in text:
        return "the collector's host name does not resolve"
    if "Failed to establish a new connection" in text:
        return "no connection to the collector"
    transient = _TRANSIENT.search(text)
    if transient:
        return (
            f"the collector answered {transient[1]} until the bound of {timeout_s:g}s ({TIMEOUT})"
        )
    if "timeout" in text.lower() or "timed out" in text.lower():
        return f"no answer within {timeout_s:g}s ({TIMEOUT})"
    return said[-1] if said else "the collector did not take them"


class _Capture(logging.Handler):
    """The exporter's own error lines (``code: 500``, a refused connection): the warning's why."""

    def __init__(self, said: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.said = said

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.said.append(" ".join(record.getMessage().split())[:1000])
        except Exception:  # a message that cannot be formatted says nothing
            return


def _where(endpoint: str) -> str:
    """The endpoint as a warning names it: scheme, host and port, never userinfo or query."""
    try:
        parts = urlsplit(endpoint)
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{parts.hostname}{port}{parts.path}"
    except ValueError:
        return "the configured endpoint"


def _shut(exporter: Any) -> None:
    try:
        exporter.shutdown()
    except Exception:
        return


def _exporter(settings: OtelSettings) -> Any:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(
        endpoint=settings.endpoint, headers=dict(settings.headers), timeout=settings.timeout_s
    )


def _readable(planned: Sequence[PlannedSpan], result: RunResult) -> list[Any]:
    """The SDK's ``ReadableSpan`` of each planned span, with our ids, sampled."""
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import Event, ReadableSpan
    from opentelemetry.sdk.util.instrumentation import InstrumentationScope
    from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags

    run = result.run
    resource = Resource(
        {
            "service.name": "sloprobe",
            "service.version": run.sloprobe_version,
            "sloprobe.service": run.service,
            "sloprobe.environment": run.environment,
            "deployment.environment.name": run.environment,
        }
    )
    scope = InstrumentationScope("sloprobe", run.sloprobe_version)
    sampled = TraceFlags(TraceFlags.SAMPLED)

    def context(trace_id: str, span_id: str) -> SpanContext:
        return SpanContext(
            int(trace_id, 16), int(span_id, 16), is_remote=False, trace_flags=sampled
        )

    spans = []
    for p in planned:
        r = p.record
        parent = context(p.trace_id, r.parent_span_id) if r.parent_span_id else None
        status = Status(StatusCode.UNSET) if r.ok else Status(StatusCode.ERROR, p.status_text)
        spans.append(
            ReadableSpan(
                name=r.name,
                context=context(p.trace_id, r.span_id),
                parent=parent,
                resource=resource,
                attributes=dict(r.attributes),
                events=[Event(name, dict(said), at) for name, at, said in p.events],
                links=[Link(context(t, s), dict(said)) for t, s, said in p.links],
                kind=SpanKind.CLIENT if r.kind == "client" else SpanKind.INTERNAL,
                status=status,
                start_time=r.start_ns,
                end_time=max(r.end_ns, r.start_ns),
                instrumentation_scope=scope,
            )
        )
    return spans
