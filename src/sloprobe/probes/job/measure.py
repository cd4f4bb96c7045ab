"""The end-to-end job probe: submit a real test job, follow it to its end, time every phase.

Phases add up: ``submit + queue_wait + processing`` is the total minus the
delay until a poll saw the end (at most one poll interval plus one request).
Where the job reports its own timestamps they are used (the service's clock
for both ends of a phase); otherwise the polls that saw each state are.

``{id}`` and saved values are quoted where they go into a path (``a/b c`` →
``a%2Fb%20c``), and sent as they are in headers, queries and bodies. A status
answered 404 or 410 means the job is gone: that fails at once, as a 401 or
403 does, instead of polling until the timeout.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx
from tenacity import AsyncRetrying, RetryError, retry_if_result, stop_after_delay, wait_exponential

from sloprobe.errors import TargetError
from sloprobe.model.measurement import Measurement, Reading, Sample, Series
from sloprobe.model.spans import SpanRecord
from sloprobe.model.units import Dimension, format_base
from sloprobe.probes.base import ProbeCall, timed
from sloprobe.probes.context import ProbeContext
from sloprobe.probes.http.measure import ABSENT, dig
from sloprobe.probes.job.spec import JOB_SERIES, JobProbe, RequestSpec
from sloprobe.probes.network import (
    Answer,
    BodyError,
    RedirectMode,
    describe_error,
    fetch,
    parse_json,
    status_problem,
)
from sloprobe.probes.tracing import Trace, new_span_id
from sloprobe.redact import excerpt_of, redact_url

ERROR_CHARS = 300
EXCERPT_CHARS = 500
MAX_BODY_BYTES = 4 * 1024 * 1024
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.\-]*)\}")


GONE = (404, 410)  # a status answer that says the job no longer exists


class JobFailure(TargetError):
    """The target failed the job probe; the message is the measurement's failure reason.

    ``status`` is the HTTP status that caused it, if any; a ``final`` failure
    is not retried by polling (it will not change).
    """

    def __init__(self, reason: str, *, status: int | None = None, final: bool = False) -> None:
        super().__init__(reason)
        self.status = status
        self.final = final


@dataclass
class _Timeline:
    submit_s: float | None = None
    submitted_at: float = 0.0  # perf_counter when the submit answer arrived
    started_seen: float | None = None
    finished_seen: float | None = None
    last_seen: float | None = None  # perf_counter of the latest usable status answer
    job: dict[str, Any] = field(default_factory=dict)
    state: str | None = None
    polls: int = 0
    poll_errors: int = 0


def fill(value: Any, variables: dict[str, str]) -> Any:
    """Replace ``{name}`` for known names in strings, recursively; unknown braces stay as they are."""
    if isinstance(value, str):
        return _PLACEHOLDER.sub(lambda m: variables.get(m[1], m[0]), value)
    if isinstance(value, dict):
        return {k: fill(v, variables) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, variables) for v in value]
    return value


def fill_path(path: str, variables: dict[str, str]) -> str:
    """A path with ``{name}`` replaced by the value quoted as one path segment (``/`` → ``%2F``)."""
    return _PLACEHOLDER.sub(
        lambda m: quote(variables[m[1]], safe="") if m[1] in variables else m[0], path
    )


async def measure(call: ProbeCall[JobProbe]) -> Reading:
    return await read_job(call.spec, call.context, call.client, call.trace)


async def run_job_probe(
    name: str,
    spec: JobProbe,
    context: ProbeContext,
    client: httpx.AsyncClient,
    trace: Trace | None = None,
) -> Measurement:
    """:func:`read_job` as probe ``name``'s timed Measurement, outside a run."""
    return await timed(name, "job", read_job(spec, context, client, trace))


async def read_job(
    spec: JobProbe,
    context: ProbeContext,
    client: httpx.AsyncClient,
    trace: Trace | None = None,
) -> Reading:
    """Submit the job, follow it to its end (or the timeout), clean up; time every phase."""
    anchor, wall_ns = time.perf_counter(), time.time_ns()  # places the phases' spans in time
    steps = _Steps(client, context, trace, spec.redirects)
    timeline = _Timeline()
    failure = None
    details: dict[str, str] = {}
    try:
        for request in spec.setup:
            await steps.send("set-up", request)
        await _submit(steps, spec, timeline)
        details["job"] = steps.variables["id"]
        await _follow(steps, spec, timeline)
        if timeline.state in spec.status.failure:
            error = _text(dig(timeline.job, spec.status.error)) if spec.status.error else None
            raise JobFailure(
                f"job {steps.variables['id']} ended {timeline.state}"
                + (f": {error[:ERROR_CHARS]}" if error else "")
            )
    except JobFailure as exc:
        failure = context.redactor(str(exc))
    finally:
        for request in spec.cleanup if "id" in steps.variables else ():
            try:
                await steps.send("clean-up", request)
            except JobFailure as exc:
                details["cleanup"] = context.redactor(str(exc))[:ERROR_CHARS]
    if timeline.poll_errors:
        details["poll errors"] = str(timeline.poll_errors)
    for step, chain in steps.redirects.items():
        details[f"redirects ({step})"] = chain
    details["polls"] = str(timeline.polls)
    series, missing = _phases(spec, timeline)
    if trace is not None:
        for record in _phase_spans(
            spec,
            timeline,
            series,
            steps.variables.get("id"),
            trace.span_id,
            lambda at: wall_ns + int((at - anchor) * 1e9),
        ):
            trace.add(record)
    return Reading(
        series=series,
        failure=failure,
        missing=missing,
        attempts=timeline.polls + 1,
        details=details,
        excerpt=steps.excerpt,
    )


class _Steps:
    """Sends the job probe's requests: saved values filled in everywhere, bounded reads, one vocabulary.

    Every request (set-up, submit, each poll, clean-up) is a span of the probe's one trace.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        context: ProbeContext,
        trace: Trace | None,
        redirects: RedirectMode = "same_origin",
    ) -> None:
        self.client = client
        self.context = context
        self.trace = trace
        self.policy = context.redirects(redirects)
        self.variables: dict[str, str] = {}
        self.excerpt: str | None = None
        self.unreadable: str | None = None  # why the latest answer is not JSON, if it is not
        self.redirects: dict[str, str] = {}  # step → its latest redirect chain

    def label(self, step: str, method: str, path: str) -> str:
        return f"{step}: {method} {self.context.shown_base_url}{fill_path(path, self.variables)}"

    async def request(
        self,
        step: str,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        query: dict[str, Any] | None = None,
        json_body: Any = None,
        form: dict[str, Any] | None = None,
        retries: int = 2,
    ) -> tuple[Answer, Any]:
        """Send one step; (answer, JSON document or None). Raises JobFailure with the reason."""
        label = self.label(step, method, path)
        filled_form = fill(form, self.variables)
        own: dict[str, str] = fill(headers or {}, self.variables)
        request = self.client.build_request(
            method,
            fill_path(path, self.variables),
            params={k: _text(v) for k, v in fill(query or {}, self.variables).items()} or None,
            headers=self.trace.apply(own, self.client.headers) if self.trace else own,
            json=fill(json_body, self.variables),
            data={k: _text(v) for k, v in filled_form.items()} if filled_form is not None else None,
        )
        started_ns = time.time_ns()
        try:
            answer = await fetch(
                self.client,
                request,
                max_bytes=MAX_BODY_BYTES,
                retries=retries,
                redirects=self.policy,
            )
        except httpx.HTTPError as exc:
            self.record(step, request, path, started_ns, error=type(exc).__name__)
            raise JobFailure(describe_error(exc, self.context.redactor, label)) from None
        except BaseException as exc:  # cancelled at the probe's deadline: the span says so
            self.record(step, request, path, started_ns, error=type(exc).__name__)
            raise
        self.record(step, request, path, started_ns, status=answer.status)
        if answer.redirects is not None:
            self.redirects[step] = answer.redirects
        text = excerpt_of(answer.text(), self.context.redactor, EXCERPT_CHARS)
        if answer.truncated:
            self.excerpt = text
            raise JobFailure(
                f"{label}: body too large (over {MAX_BODY_BYTES} bytes)",
                status=answer.status,
                final=True,  # polling again would read as much: say so now
            )
        if answer.not_followed is not None:
            self.excerpt = text
            raise JobFailure(
                f"{label}: {status_problem(answer.status)}: {answer.not_followed}",
                status=answer.status,
                final=True,  # the same redirect next poll: say so now
            )
        if answer.status >= 400:
            self.excerpt = text
            raise JobFailure(
                f"{label}: {status_problem(answer.status)}: {text[:ERROR_CHARS]}",
                status=answer.status,
            )
        self.unreadable = None
        try:
            document = parse_json(answer.body) if answer.body else None
        except BodyError as exc:
            document, self.unreadable = None, str(exc)
        self.excerpt = text  # the latest answer: what a failure's reason shows
        return answer, document

    def record(
        self,
        step: str,
        request: httpx.Request,
        path: str,
        started_ns: int,
        *,
        status: int | None = None,
        error: str | None = None,
    ) -> None:
        """This step's span in the probe's trace, named by its path as configured (``{id}``)."""
        if self.trace is None:
            return
        self.trace.record_request(
            request.headers,
            f"{request.method} {path}",
            method=request.method,
            url=self.context.redactor(redact_url(str(request.url))),
            started_ns=started_ns,
            status=status,
            error=error,
            attributes={"sloprobe.step": step},
        )

    async def send(self, step: str, request: RequestSpec) -> Any:
        _, document = await self.request(
            step,
            request.method,
            request.path,
            headers=request.headers,
            query=request.query,
            json_body=request.json_body,
            form=request.form,
        )
        self.save(step, request, document)
        return document

    def save(self, step: str, request: RequestSpec, document: Any) -> None:
        for key, path in request.save.items():
            found = dig(document, path) if document is not None else ABSENT
            if found is ABSENT or found is None:
                raise JobFailure(
                    f"{self.label(step, request.method, request.path)}: no `{path}` in the answer "
                    f"to save as `{key}`: {self.excerpt or ''}"[: ERROR_CHARS * 2]
                )
            self.variables[key] = _text(found)


async def _submit(steps: _Steps, spec: JobProbe, timeline: _Timeline) -> None:
    submit = spec.submit
    body = fill(submit.json_body, steps.variables)
    if submit.synthetic_field and isinstance(body, dict):
        body = {**body, submit.synthetic_field: True}
    form = submit.form
    if submit.synthetic_field and form is not None:
        form = {**form, submit.synthetic_field: "true"}
    clock = time.perf_counter()
    # a submit is not retried: the server may have taken the first one
    answer, document = await steps.request(
        "submit",
        submit.method,
        submit.path,
        headers=submit.headers,
        query=submit.query,
        json_body=body,
        form=form,
        retries=0,
    )
    timeline.submitted_at = time.perf_counter()
    timeline.submit_s = answer.latency_s if answer.latency_s else timeline.submitted_at - clock
    job_id = dig(document, submit.id) if document is not None else ABSENT
    if job_id is ABSENT or job_id is None:
        raise JobFailure(
            f"{steps.label('submit', submit.method, submit.path)}: the answer has no job id at "
            f"`{submit.id}`: {steps.excerpt or ''}"[: ERROR_CHARS * 2]
        )
    steps.variables["id"] = _text(job_id)
    steps.save("submit", submit, document)


async def _follow(steps: _Steps, spec: JobProbe, timeline: _Timeline) -> None:
    status, poll = spec.status, spec.poll
    final = {*status.success, *status.failure}
    label = steps.label("status", status.method, status.path)
    last_problem: list[str] = []

    async def look() -> str | None:
        timeline.polls += 1
        try:
            _, document = await steps.request(
                "status",
                status.method,
                status.path,
                headers=status.headers,
                query=status.query,
                json_body=status.json_body,
                retries=0,
            )
        except JobFailure as exc:
            reason = str(exc)
            if exc.status in GONE:  # the job is gone: polling will not bring it back
                raise JobFailure(
                    f"job {steps.variables['id']} disappeared: "
                    f"{steps.label('status', status.method, status.path)} answered {exc.status}",
                    status=exc.status,
                ) from None
            if exc.final or "auth refused" in reason:
                raise  # a 401/403 will not change by polling: say so on the first poll
            timeline.poll_errors += 1  # a flaky poll is not a failed job; the timeout bounds it
            last_problem[:] = [reason]
            return None
        seen = time.perf_counter()
        if not isinstance(document, dict):
            timeline.poll_errors += 1
            why = steps.unreadable or "the answer is not a JSON object"
            last_problem[:] = [f"{label}: {why}: {(steps.excerpt or '')[:ERROR_CHARS]}"]
            return None
        found = dig(document, status.field)
        if found is ABSENT:
            raise JobFailure(
                f"{label}: no `{status.field}` in the answer (set `status.field`): "
                f"{steps.excerpt or ''}"[: ERROR_CHARS * 2]
            )
        state = _text(found)
        timeline.job, timeline.state, timeline.last_seen = document, state, seen
        if state in status.running and timeline.started_seen is None:
            timeline.started_seen = seen
        if state in final:
            timeline.finished_seen = seen
        return state

    retrying = AsyncRetrying(
        stop=stop_after_delay(poll.timeout),
        wait=wait_exponential(
            multiplier=poll.interval,
            exp_base=poll.backoff,
            min=poll.interval,
            max=poll.max_interval,
        ),
        retry=retry_if_result(lambda state: state not in final),
    )
    try:
        await retrying(look)
    except RetryError:
        after = format_base(poll.timeout, Dimension.TIME)
        if timeline.state:
            where = f"still {timeline.state} after {after} (timeout)"
        else:
            where = f"no usable status answer in {after} (timeout)"
            if last_problem:
                where += f"; last: {last_problem[0]}"
        raise JobFailure(f"job {steps.variables['id']} {where}") from None


def _phases(spec: JobProbe, t: _Timeline) -> tuple[dict[str, Series], dict[str, str]]:
    samples: dict[str, list[Sample]] = {name: [] for name in JOB_SERIES}
    missing: dict[str, str] = {}
    if t.submit_s is not None:
        samples["submit"].append(t.submit_s)
    if t.state is not None:
        samples["state"].append(t.state)
    if t.finished_seen is not None:
        total = t.finished_seen - (t.submitted_at - (t.submit_s or 0.0))
        samples["total"].append(total)
        samples["succeeded"].append(t.state in spec.status.success)
        created = _time(t.job, spec.status.created_at)
        begun = _time(t.job, spec.status.started_at)
        ended = _time(t.job, spec.status.finished_at)
        if begun is not None and ended is not None:
            samples["processing"].append(max(0.0, (ended - begun).total_seconds()))
            if created is not None:
                samples["queue_wait"].append(max(0.0, (begun - created).total_seconds()))
        elif t.started_seen is not None:
            samples["processing"].append(t.finished_seen - t.started_seen)
        if not samples["queue_wait"]:
            seen_start = t.started_seen if t.started_seen is not None else t.finished_seen
            samples["queue_wait"].append(max(0.0, seen_start - t.submitted_at))
        if not samples["processing"]:
            missing["processing"] = (
                "the job finished between two polls and reports no start and end times"
            )
    for name in ("total", "queue_wait", "processing", "succeeded"):
        if not samples[name] and name not in missing:
            missing[name] = "the job did not finish"
    return {
        name: Series(name, JOB_SERIES[name], tuple(values)) for name, values in samples.items()
    }, missing


def _phase_spans(
    spec: JobProbe,
    t: _Timeline,
    series: dict[str, Series],
    job_id: str | None,
    parent: str,
    wall_ns: Callable[[float], int],
) -> list[SpanRecord]:
    """The job's phases as spans of the probe's trace, laid end to end from the submit on:
    ``submit``, ``queued``, ``processing`` (each as long as its series says) and ``done``,
    the wait until a poll saw the end. A job that did not finish ends at the last status
    answer, in the phase it was in, not ok. ``wall_ns``: a perf_counter reading in epoch ns."""
    if t.submit_s is None:
        return []
    job = {"sloprobe.job.id": job_id} if job_id else {}
    spans: list[SpanRecord] = []

    def phase(name: str, begin: float, end: float, ok: bool = True, state: bool = False) -> None:
        end = max(begin, end)
        said: dict[str, str | float] = {
            **job,
            "sloprobe.job.phase": name,
            "sloprobe.job.phase_s": round(end - begin, 6),
        }
        if state:
            said["sloprobe.job.state"] = t.state or ""
        spans.append(
            SpanRecord(new_span_id(), parent, f"job {name}", wall_ns(begin), wall_ns(end), said, ok)
        )

    submitted = t.submitted_at
    phase("submit", submitted - t.submit_s, submitted)
    if t.finished_seen is not None:
        queued = _first(series, "queue_wait") or 0.0
        processing = _first(series, "processing")
        phase("queued", submitted, min(submitted + queued, t.finished_seen))
        began = min(submitted + queued, t.finished_seen)
        if processing is not None:
            phase("processing", began, min(began + processing, t.finished_seen))
            began = min(began + processing, t.finished_seen)
        phase("done", began, t.finished_seen, t.state in spec.status.success, state=True)
    elif t.last_seen is not None:
        if t.started_seen is not None:
            phase("queued", submitted, t.started_seen)
            phase("processing", t.started_seen, t.last_seen, False, state=True)
        else:
            phase("queued", submitted, t.last_seen, False, state=True)
    return spans


def _first(series: dict[str, Series], name: str) -> float | None:
    found = series.get(name)
    value = found.samples[0] if found is not None and found.samples else None
    return value if isinstance(value, float) else None


def _text(value: Any) -> str:
    if value is ABSENT or value is None:
        return ""
    return str(value).lower() if isinstance(value, bool) else str(value)


def _time(document: dict[str, Any], path: str | None) -> datetime | None:
    if not path:
        return None
    raw = dig(document, path)
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return datetime.fromtimestamp(raw / 1000 if raw > 1e11 else raw, UTC)  # epoch seconds or ms
    if not isinstance(raw, str) or not raw:
        return None
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
