"""The HTTP probe: N requests, their latency and status, and named values from each answer.

Answers are data, whatever their status: a ``503`` with a JSON body is read
like a ``200``. Only connection errors (the request never reached the
server) are retried, with tenacity, and every retry is counted in the
Measurement so a flaky network is visible rather than hidden.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from sloprobe.model.measurement import Measurement, Reading, Sample, Series
from sloprobe.model.units import Dimension, Unit
from sloprobe.probes.base import ProbeCall, timed
from sloprobe.probes.context import ProbeContext
from sloprobe.probes.http.spec import HTTP_SERIES, HttpProbe, ValueSpec
from sloprobe.probes.network import (
    Answer,
    BodyError,
    describe_error,
    fetch,
    parse_json,
    samples_failure,
    status_problem,
)
from sloprobe.probes.network.errors import sending
from sloprobe.probes.tracing import Trace
from sloprobe.redact import MASK, excerpt_of, looks_secret, redact_url

EXCERPT_CHARS = 500


@dataclass
class _Collected:
    samples: dict[str, list[Sample]] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    attempts: int = 0
    retries: int = 0
    excerpt: str | None = None
    last_status: int | None = None
    redirects: str | None = None


async def measure(call: ProbeCall[HttpProbe]) -> Reading:
    return await read_http(call.spec, call.context, call.client, call.trace)


async def run_http_probe(
    name: str,
    spec: HttpProbe,
    context: ProbeContext,
    client: httpx.AsyncClient,
    trace: Trace | None = None,
) -> Measurement:
    """:func:`read_http` as probe ``name``'s timed Measurement, outside a run."""
    return await timed(name, "http", read_http(spec, context, client, trace))


async def read_http(
    spec: HttpProbe,
    context: ProbeContext,
    client: httpx.AsyncClient,
    trace: Trace | None = None,
) -> Reading:
    """Send ``spec.samples`` requests one after another and measure them."""
    collected = _Collected(samples={series: [] for series in (*HTTP_SERIES, *spec.values)})
    for _ in range(spec.samples):
        try:
            answer = await _send(spec, context, client, collected, trace)
        except httpx.HTTPError as exc:
            sent = sending(exc)  # what was really sent, not what the retries allowed
            attempts = sent.attempts if sent is not None else spec.retries + 1
            collected.attempts += attempts
            collected.retries += attempts - 1
            step = shown_request(spec, context)
            collected.failures.append(describe_error(exc, context.redactor, step))
            break  # the target is not answering; more samples would only wait longer
        _record(answer, spec, context, collected)
    return _reading(spec, context, collected)


def shown_request(spec: HttpProbe, context: ProbeContext) -> str:
    """The request as people read it: ``GET https://host/api/workers?status=1``.

    The query string is part of it (two probes of one path differ by their
    query), made safe before it is shown: userinfo is masked, the value of a
    secret-looking name (``token``, ``api_key``, …) is masked, and so is any
    value that holds a configured secret, whatever its name — masked as a whole
    before encoding, so no encoding of it can slip past.
    """
    redactor = context.redactor
    pairs = [
        (
            redactor.known(key),
            MASK if looks_secret(key) or redactor.known(_text(v)) != _text(v) else _text(v),
        )
        for key, v in spec.query.items()
    ]
    absolute = "://" in spec.path.split("?", 1)[0]  # a full URL: another host (Flower, …)
    url = spec.path if absolute else context.shown_base_url + spec.path
    if pairs:
        url += ("&" if "?" in spec.path else "?") + urlencode(pairs, safe="*")
    return f"{spec.method} {redactor(redact_url(url))}"


async def _send(
    spec: HttpProbe,
    context: ProbeContext,
    client: httpx.AsyncClient,
    collected: _Collected,
    trace: Trace | None,
) -> Answer:
    timeout = httpx.Timeout(spec.timeout) if spec.timeout is not None else None
    # Each request (sample) a span of the probe's one trace: trace.apply says what is sent.
    headers = trace.apply(spec.headers, client.headers) if trace is not None else spec.headers
    request = client.build_request(
        spec.method,
        spec.path,
        params={k: _text(v) for k, v in spec.query.items()} or None,
        headers=headers or None,
        json=spec.json_body,
        data={k: _text(v) for k, v in spec.form.items()} if spec.form is not None else None,
        timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
    )
    started_ns = time.time_ns()
    try:
        answer = await fetch(
            client,
            request,
            max_bytes=spec.max_body_bytes,
            retries=spec.retries,
            redirects=context.redirects(spec.redirects),
        )
    except BaseException as exc:  # no answer (or cancelled at the probe's deadline)
        if trace is not None:
            _record_span(trace, spec, context, request, started_ns, error=type(exc).__name__)
        raise
    if trace is not None:
        _record_span(trace, spec, context, request, started_ns, status=answer.status)
    collected.attempts += answer.attempts
    collected.retries += answer.attempts - 1
    return answer


def _record_span(
    trace: Trace,
    spec: HttpProbe,
    context: ProbeContext,
    request: httpx.Request,
    started_ns: int,
    *,
    status: int | None = None,
    error: str | None = None,
) -> None:
    """This request's span in the probe's trace: its URL as the report shows it."""
    template = urlsplit(spec.path).path if "://" in spec.path else spec.path.split("?", 1)[0]
    trace.record_request(
        request.headers,
        f"{spec.method} {template}",
        method=spec.method,
        url=shown_request(spec, context).split(" ", 1)[1],
        started_ns=started_ns,
        status=status,
        error=error,
    )


def _record(answer: Answer, spec: HttpProbe, context: ProbeContext, collected: _Collected) -> None:
    collected.samples["latency"].append(answer.latency_s)
    collected.samples["status"].append(float(answer.status))
    text = answer.text()
    problem = _unexpected(answer, text, spec, context)
    collected.samples["ok"].append(problem is None)
    collected.last_status = answer.status
    if answer.redirects is not None:
        collected.redirects = answer.redirects
    if problem is not None:
        collected.failures.append(problem)
    if collected.excerpt is None or problem is not None:
        collected.excerpt = excerpt_of(text, context.redactor, EXCERPT_CHARS)
    document, unreadable = _json(answer) if spec.values else (None, None)
    for value_name, value_spec in spec.values.items():
        value, why = _extract(value_spec, document, answer, unreadable)
        if value is not None and value_spec.masked:  # known from now on, in every text too
            if isinstance(value, str):
                context.redactor.add(value)
            value = MASK
        if why is not None:
            collected.missing.setdefault(value_name, why)
        elif value is not None:
            collected.samples[value_name].append(value)


def _unexpected(answer: Answer, text: str, spec: HttpProbe, context: ProbeContext) -> str | None:
    """Why this answer is not what the probe expects, or None (naming the URL that answered)."""
    step = shown_request(spec, context)
    if answer.redirects is not None and answer.not_followed is None:
        step = f"{step} (redirected to {context.redirects().show(answer.url)})"
    if answer.truncated:
        return f"{step}: body too large (over {spec.max_body_bytes} bytes, `max_body_bytes`)"
    if not _status_expected(answer.status, spec.expect.status):
        shown = ", ".join(str(s) for s in spec.expect.status)
        where = f": {answer.not_followed}" if answer.not_followed else ""
        said = _said(answer, text, context)
        return f"{step}: {status_problem(answer.status)}, expected {shown}{where}{said}"
    if spec.expect.body_contains is not None and spec.expect.body_contains not in text:
        return f"{step}: answered without `{spec.expect.body_contains}` in its body"
    return None


SAID_CHARS = 120  # the service's own message in a failure reason, at most
_MESSAGE_KEYS = ("detail", "message", "error", "errors", "msg", "title", "description")


def _said(answer: Answer, text: str, context: ProbeContext) -> str:
    """``; the service said "Database unavailable: …"``: why the answer failed, in its own
    words (a JSON ``detail``/``message``/``error``/``errors[0]``, else the first line of
    text), so a reason says more than ``HTTP 503``. Masked with the run's redactor before
    it is cut to :data:`SAID_CHARS`; the sanitize step neutralises it with the reason."""
    message = _message(answer, text)
    if not message or message.casefold() == _phrase(answer.status).casefold():
        return ""  # FastAPI's {"detail": "Not Found"} adds nothing to `HTTP 404`
    shown = context.redactor(message[: SAID_CHARS * 2], cut=True)
    if len(shown) > SAID_CHARS:
        shown = shown[: SAID_CHARS - 1].rstrip() + "…"
    return f'; the service said "{shown}"'


def _message(answer: Answer, text: str) -> str:
    """The body's own message, on one line; empty for markup (an HTML error page) or none."""
    document: Any = None
    if text.lstrip()[:1] in ("{", "["):
        try:
            document = parse_json(answer.body)
        except BodyError:
            document = None
    if document is not None:
        return " ".join(_json_message(document).split())
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return "" if first.startswith("<") else " ".join(first.split())


def _json_message(value: Any, depth: int = 0) -> str:
    """A message from JSON: a string, a list's first item, a mapping's message-like key."""
    if depth > 4:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return _json_message(value[0], depth + 1) if value else ""
    if isinstance(value, dict):
        for key in _MESSAGE_KEYS:
            found = _json_message(value.get(key), depth + 1)
            if found:
                return found
    return ""


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _status_expected(status: int, expected: list[int | str]) -> bool:
    for item in expected:
        text = str(item).lower()
        if len(text) == 3 and text.endswith("xx") and text[0].isdigit():
            if status // 100 == int(text[0]):
                return True
        elif text.isdigit() and int(text) == status:
            return True
    return False


def _json(answer: Answer) -> tuple[Any, str | None]:
    """(document, None) or (None, why the body is not JSON)."""
    if answer.truncated:
        return None, "the answer is too large to read"
    try:
        return parse_json(answer.body), None
    except BodyError as exc:
        return None, str(exc)


def _extract(
    spec: ValueSpec, document: Any, answer: Answer, unreadable: str | None
) -> tuple[Sample | None, str | None]:
    """(value in base units, None) or (None, why it is missing)."""
    if spec.header is not None:
        raw: Any = answer.headers.get(spec.header)
        where = f"header `{spec.header}`"
    else:
        assert spec.json_path is not None
        where = f"field `{spec.json_path}`"
        raw = dig(document, spec.json_path) if document is not None else ABSENT
        if document is None and spec.default is None:
            why = unreadable or "not JSON"
            return (
                None,
                f"the answer ({answer.status}) cannot be read: {why}, so {where} cannot be read",
            )
    if raw is None or raw is ABSENT:
        if spec.default is not None:
            raw = spec.default
        else:
            return None, f"{where} is {'null' if raw is None else 'absent'} in the answer"
    if spec.length:
        if not isinstance(raw, list | dict | str):
            return None, f"{where} has no length (it is {type(raw).__name__})"
        raw = len(raw)
    elif spec.count is not None:
        if not isinstance(raw, list | dict):
            return None, f"{where} is not a list or an object to count in"
        items = raw.values() if isinstance(raw, dict) else raw
        raw = sum(1 for item in items if _same(item, spec.count))
    return _convert(raw, spec.unit, where)


ABSENT: Any = object()


_PART = re.compile(r'"([^"]*)"|([^.]+)')


def path_parts(path: str) -> list[str]:
    """``workers."celery@host.example".active`` → three parts: quotes keep a key's dots."""
    return [m[1] if m[1] is not None else m[2] for m in _PART.finditer(path)]


def dig(document: Any, path: str) -> Any:
    if path in (".", "$"):
        return document  # the whole answer, e.g. a list to take the length of
    node = document
    for part in path_parts(path):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif (
            isinstance(node, list)
            and part.lstrip("-").isdigit()
            and -len(node) <= int(part) < len(node)
        ):
            node = node[int(part)]
        else:
            return ABSENT
    return node


def _same(item: Any, wanted: float | str | bool) -> bool:
    """JSON equality as a user means it: `true` is not 1, numbers compare as numbers."""
    if isinstance(wanted, bool) or isinstance(item, bool):
        return isinstance(item, bool) and isinstance(wanted, bool) and item is wanted
    return bool(item == wanted)


def _convert(raw: Any, unit: Unit, where: str) -> tuple[Sample | None, str | None]:
    dimension = unit.dimension
    if dimension is Dimension.TEXT:
        return _text(raw), None
    if dimension is Dimension.BOOLEAN:
        if isinstance(raw, bool):
            return raw, None
        if isinstance(raw, str) and raw.lower() in ("true", "false"):
            return raw.lower() == "true", None
        return None, f"{where} is {raw!r}, not true or false"
    if isinstance(raw, bool):
        return (
            (float(raw), None) if unit is Unit.NONE else (None, f"{where} is {raw!r}, not a number")
        )
    if isinstance(raw, int | float):
        return unit.to_base(float(raw)), None
    if isinstance(raw, str):
        try:
            return unit.to_base(float(raw)), None
        except ValueError:
            if unit is Unit.NONE:
                return raw, None  # a field without a unit may hold text: `value == "healthy"`
            return None, f"{where} is {raw[:40]!r}, not a number in {unit}"
    return None, f"{where} is a {type(raw).__name__}, not a single value"


def _text(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _reading(spec: HttpProbe, context: ProbeContext, collected: _Collected) -> Reading:
    units = {**HTTP_SERIES, **{n: v.unit for n, v in spec.values.items()}}
    series = {n: Series(n, units[n], tuple(s)) for n, s in collected.samples.items()}
    failure = samples_failure(collected.failures, spec.samples, "requests")
    details = {"request": shown_request(spec, context)}
    if collected.last_status is not None:
        details["last status"] = str(collected.last_status)
    if collected.redirects is not None:
        details["redirects"] = collected.redirects
    return Reading(
        series=series,
        failure=failure,
        missing=dict(collected.missing),
        attempts=collected.attempts,
        retries=collected.retries,
        excerpt=collected.excerpt,
        details=details,
    )
