"""Trace context for probe requests, and the link from a trace id to the tracing backend.

One :class:`Trace` per probe run: every request of it (a job's set-up, submit,
each poll and clean-up) carries the same trace id, each under a span id of its
own, sampled, so a backend joins them into one trace. The trace also keeps our
side of it, as plain :class:`~sloprobe.model.spans.SpanRecord` s: the probe's own
span (the root, :attr:`Trace.span_id`), each request's span under the very span
id its ``traceparent`` carried (:meth:`Trace.record_request`), and a job's
phases (:meth:`Trace.add`); :meth:`Trace.spans` hands them to the measurement,
for an OpenTelemetry export. The headers:

- ``traceparent: 00-<trace id>-<span id>-01`` (W3C; OpenTelemetry reads it);
- with :attr:`Trace.sentry` (Sentry is on for the run; the caller says so, the
  probes cannot know), also ``sentry-trace: <trace id>-<span id>-1`` and
  ``baggage: sentry-trace_id=<trace id>,sentry-sample_rate=1.0,sentry-sampled=true``
  (and ``sentry-org_id`` when the DSN names the organisation, for a backend with
  ``strict_trace_continuation``), which sentry-sdk reads (it does not read
  ``traceparent``).

These replace a header of the same name that the config sets (a fixed
``traceparent`` would put every run into one trace), with two exceptions: a
``tracestate`` configured in the target's (or a step's) headers passes through
as it is, and a configured ``baggage`` keeps its own members, only ``sentry-``
ones giving way to ours. No DSN part is sent: Sentry's public key stays here.

:func:`trace_link` makes the URL of one trace from ``settings.traces.url``
(``https://tempo.example/trace/{trace_id}``); sinks and notifiers call it, or
:class:`TraceLinks`, which holds the template and the run's redactor.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

from sloprobe.model.spans import AttributeValue, SpanRecord
from sloprobe.redact import redact_url

if TYPE_CHECKING:
    from sloprobe.model.measurement import Measurement

TRACE_ID = re.compile(r"[0-9a-f]{32}")
SENTRY_BAGGAGE = "sentry-"  # the prefix of Sentry's members of a W3C baggage header


def new_trace_id() -> str:
    """32 lowercase hex digits, never all zero (W3C: an all-zero id is invalid)."""
    while True:
        trace_id = secrets.token_hex(16)
        if trace_id.strip("0"):
            return trace_id


def new_span_id() -> str:
    while True:
        span_id = secrets.token_hex(8)
        if span_id.strip("0"):
            return span_id


@dataclass(frozen=True)
class Trace:
    """One trace per probe run; every request gets a new span id under it (sampled)."""

    trace_id: str = field(default_factory=new_trace_id)
    # Also send Sentry's headers (sentry-trace, baggage): set by the caller when the run has
    # Sentry configured (settings.sentry.dsn or $SENTRY_DSN), which the probes cannot know.
    sentry: bool = False
    # The organisation of that DSN (:func:`sentry_org_id`), said in the baggage: a backend with
    # `strict_trace_continuation` continues only a trace of its own organisation.
    sentry_org: str | None = None
    # The probe's own span: the root of this trace, the parent of every request's span.
    span_id: str = field(default_factory=new_span_id)
    _records: list[SpanRecord] = field(default_factory=list, init=False, compare=False, repr=False)

    def headers(self, baggage: str | None = None) -> dict[str, str]:
        """The trace headers of one request, under a new span id; ``baggage``: one configured
        for the request, whose members other than Sentry's are kept (with :attr:`sentry`)."""
        span_id = new_span_id()
        headers = {"traceparent": f"00-{self.trace_id}-{span_id}-01"}
        if self.sentry:
            headers["sentry-trace"] = f"{self.trace_id}-{span_id}-1"
            headers["baggage"] = self.baggage(baggage)
        return headers

    def baggage(self, configured: str | None = None) -> str:
        """``configured``'s own members, then Sentry's for this trace."""
        ours = (
            f"{SENTRY_BAGGAGE}trace_id={self.trace_id}",
            *((f"{SENTRY_BAGGAGE}org_id={self.sentry_org}",) if self.sentry_org else ()),
            f"{SENTRY_BAGGAGE}sample_rate=1.0",
            f"{SENTRY_BAGGAGE}sampled=true",
        )
        kept = [
            member.strip()
            for member in (configured or "").split(",")
            if member.strip() and not member.strip().lower().startswith(SENTRY_BAGGAGE)
        ]
        return ",".join((*kept, *ours))

    def apply(
        self, headers: Mapping[str, str] | None, carried: Mapping[str, str] | None = None
    ) -> dict[str, str]:
        """A request's own ``headers`` with this request's trace headers in place of any of
        the same name, in any case (``tracestate`` is left alone). ``carried``: the headers
        the client adds to every request (the target's), where a configured baggage may be."""
        replaced = {"traceparent", *(("sentry-trace", "baggage") if self.sentry else ())}
        own = dict(headers or {})
        baggage = _header(own, "baggage")
        if baggage is None and carried is not None:
            baggage = _header(carried, "baggage")
        kept = {name: value for name, value in own.items() if name.lower() not in replaced}
        return {**kept, **self.headers(baggage)}

    # -- our side of the trace: spans, recorded for an export ----------------------------

    def record_request(
        self,
        sent: Mapping[str, str],
        name: str,
        *,
        method: str,
        url: str,
        started_ns: int,
        status: int | None = None,
        error: str | None = None,
        attributes: Mapping[str, AttributeValue] | None = None,
    ) -> None:
        """The span of one request, from ``started_ns`` until now, under the span id its
        ``traceparent`` carried (``sent``: the headers it went with; one without this trace's
        ``traceparent`` records nothing). ``url``: as it may be shown (the caller redacts it);
        ``status``: the answer's, or ``error``: why there was none. A status of 400 or more
        is an error, as OpenTelemetry's HTTP client spans say."""
        span_id = self.span_id_sent(sent)
        if span_id is None:
            return
        said: dict[str, AttributeValue] = {"http.request.method": method, "url.full": url}
        if status is not None:
            said["http.response.status_code"] = status
        if error is not None:
            said["error.type"] = error
        elif status is not None and status >= 400:
            said["error.type"] = str(status)
        ok = error is None and status is not None and status < 400
        self.add(
            SpanRecord(
                span_id,
                self.span_id,
                name,
                started_ns,
                time.time_ns(),
                {**said, **(attributes or {})},
                ok,
                kind="client",
            )
        )

    def span_id_sent(self, sent: Mapping[str, str]) -> str | None:
        """The span id of this trace's ``traceparent`` in ``sent``, or None."""
        parts = (_header(sent, "traceparent") or "").split("-")
        if len(parts) != 4 or parts[1] != self.trace_id:
            return None
        return parts[2]

    def auth_refused(self) -> bool:
        """Whether the target answered one of this trace's requests 401 or 403: read from the
        recorded answers, not from a failure's wording."""
        return any(
            r.attributes.get("http.response.status_code") in (401, 403) for r in self._records
        )

    def add(self, record: SpanRecord) -> None:
        """Another span of this trace (a job's phase), a child of the probe's."""
        self._records.append(record)

    def spans(
        self,
        name: str,
        started_ns: int,
        ended_ns: int,
        attributes: Mapping[str, AttributeValue] | None = None,
        *,
        ok: bool = True,
    ) -> tuple[SpanRecord, ...]:
        """The probe's own span (the root: it covers every child's time) and its children."""
        children = tuple(self._records)
        start = min((started_ns, *(c.start_ns for c in children)))
        end = max((ended_ns, *(c.end_ns for c in children)))
        root = SpanRecord(self.span_id, None, name, start, end, dict(attributes or {}), ok)
        return (root, *children)

    def spans_of(self, measurement: Measurement) -> tuple[SpanRecord, ...]:
        """:meth:`spans` of the probe that measured ``measurement``, timed as it was."""
        started = int(measurement.started_at.timestamp() * 1e6) * 1000
        ended = started + int(max(measurement.duration_s, 0.0) * 1e9)
        said = {"sloprobe.probe": measurement.probe, "sloprobe.probe.kind": measurement.kind}
        return self.spans(
            f"probe {measurement.probe}", started, ended, said, ok=measurement.failure is None
        )


_ORG_HOST = re.compile(r"o(\d+)\.")


def sentry_org_id(dsn: str | None) -> str | None:
    """The organisation id in a Sentry DSN's host (``o123.ingest.sentry.io``), as sentry-sdk
    reads it; None for a DSN without one (self-hosted). Not a secret: no key is read."""
    try:
        host = urlsplit(dsn or "").hostname or ""
    except ValueError:
        return None
    found = _ORG_HOST.match(host)
    return found[1] if found else None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value whatever the case of its name (a dict or httpx.Headers)."""
    found = headers.get(name)
    if found is not None:
        return found
    return next((v for k, v in headers.items() if k.lower() == name), None)


# -- links to a trace ----------------------------------------------------------------------

# What a `settings.traces.url` template may hold. The times frame the probe's run, with room
# for clock skew and for a job a worker ends late: backends that search a time range need one.
PLACEHOLDERS: dict[str, str] = {
    "trace_id": "the trace id, 32 lowercase hex digits (W3C)",
    "trace_id_64": "its lower 64 bits in decimal, as Datadog shows trace ids",
    "start": "Unix seconds, 10 minutes before the probe began",
    "end": "Unix seconds, 1 hour after the probe ended",
    "start_ms": "the same start in milliseconds",
    "end_ms": "the same end in milliseconds",
}
BEFORE = timedelta(minutes=10)
AFTER = timedelta(hours=1)
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
# Characters a link keeps as they are; any other is percent-encoded, so no quote, angle
# bracket, pipe, parenthesis, bracket or space of a template can end the link it is put in
# (HTML attribute, Markdown, Slack's <url|text>).
_URL_SAFE = "/:?#@!$&*+,;=%-._~"


def link_template_problem(template: str) -> str | None:
    """Why ``template`` cannot make trace links, or None. It never quotes the template
    (it may hold a secret)."""
    if any(c.isspace() or not c.isprintable() for c in template):
        return "a URL template holds no space or control character"
    try:
        parts = urlsplit(template.replace("{", "").replace("}", ""))
    except ValueError:
        return "not a URL"
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return "expected an http:// or https:// URL with a host"
    names = _PLACEHOLDER.findall(template)
    unknown = sorted({n for n in names if n not in PLACEHOLDERS})
    if unknown:
        known = ", ".join(f"{{{n}}}" for n in PLACEHOLDERS)
        return f"unknown placeholder {', '.join(f'{{{n}}}' for n in unknown)} (known: {known})"
    if "trace_id" not in names and "trace_id_64" not in names:
        return "the template needs {trace_id} (or {trace_id_64}) where the trace id goes"
    if _PLACEHOLDER.sub("", template).count("{") or _PLACEHOLDER.sub("", template).count("}"):
        return "an unmatched { or } (placeholders are {trace_id}, {start}, …)"
    return None


def trace_link(
    template: str | None,
    trace_id: str | None,
    *,
    started: datetime | None = None,
    took_s: float = 0.0,
    redactor: Callable[[str], str] | None = None,
) -> str | None:
    """The URL of one trace in the tracing backend, safe to show and to link; None without
    a usable template or a well-formed trace id.

    The template is config: a password in its userinfo and the value of a
    secret-named query parameter are masked, and so is whatever ``redactor``
    (the run's) knows. Every character that could end a link is percent-encoded.
    ``started`` and ``took_s``: when the probe ran (for ``{start}`` and ``{end}``;
    now when unknown).
    """
    if not template or not trace_id or not TRACE_ID.fullmatch(trace_id) or not trace_id.strip("0"):
        return None
    if link_template_problem(template) is not None:
        return None
    values = {"trace_id": trace_id, "trace_id_64": str(int(trace_id[16:], 16))}
    if "{start" in template or "{end" in template:
        began = started if started is not None else datetime.now().astimezone()
        start = began - BEFORE
        end = began + timedelta(seconds=max(took_s, 0.0)) + AFTER
        values |= {
            "start": str(int(start.timestamp())),
            "end": str(int(end.timestamp())),
            "start_ms": str(int(start.timestamp() * 1000)),
            "end_ms": str(int(end.timestamp() * 1000)),
        }
    url = _PLACEHOLDER.sub(lambda m: values[m[1]], template)
    url = redact_url(url)
    if redactor is not None:
        url = redactor(url)
    url = quote(url, safe=_URL_SAFE)
    if redactor is not None:
        url = redactor(url)
    return url if url.lower().startswith(("http://", "https://")) else None


@dataclass(frozen=True)
class TraceRef:
    """A measurement's trace as outputs show it: its id, its link (None: the id is shown as
    text), and the job it followed, if any (a job's id and its trace go together)."""

    trace_id: str
    url: str | None = None
    job: str | None = None


@dataclass(frozen=True)
class TraceLinks:
    """The run's ``settings.traces.url`` with the run's redactor: what outputs link with."""

    template: str | None = None
    redactor: Callable[[str], str] | None = None

    def url(
        self, trace_id: str | None, started: datetime | None = None, took_s: float = 0.0
    ) -> str | None:
        return trace_link(
            self.template, trace_id, started=started, took_s=took_s, redactor=self.redactor
        )

    def ref(self, measurement: Measurement | None) -> TraceRef | None:
        """The trace of ``measurement`` (None: it sent no traced request)."""
        if measurement is None or not measurement.trace_id:
            return None
        trace_id = measurement.trace_id
        if not TRACE_ID.fullmatch(trace_id):  # read back from a file: ours, unless edited
            return None
        job = measurement.details.get("job")
        return TraceRef(
            trace_id,
            self.url(trace_id, measurement.started_at, measurement.duration_s),
            job or None,
        )


def template_secrets(template: str | None) -> list[str]:
    """The secrets a template holds, for the run's redactor: its userinfo password and
    the values of its secret-named query parameters."""
    from urllib.parse import parse_qsl, unquote

    from sloprobe.redact import looks_secret

    if not template:
        return []
    try:
        parts = urlsplit(template)
        found = [parts.password, unquote(parts.password)] if parts.password else []
        query = parse_qsl(parts.query, keep_blank_values=True)
    except ValueError:
        return []
    return found + [v for k, v in query if looks_secret(k) and v and "{" not in v]
