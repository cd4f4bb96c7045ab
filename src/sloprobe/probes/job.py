"""The end-to-end job probe: submit a real test job, follow it to its end, time every phase.

Phases add up: ``submit + queue_wait + processing`` is the total minus the
delay until a poll saw the end (at most one poll interval plus one request).
Where the job reports its own timestamps they are used (the service's clock
for both ends of a phase); otherwise the polls that saw each state are.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from tenacity import AsyncRetrying, RetryError, retry_if_result, stop_after_delay, wait_exponential

from sloprobe.model.measurement import Measurement, Sample, Series
from sloprobe.model.units import Dimension, format_base
from sloprobe.probes.context import ProbeContext
from sloprobe.probes.http import ABSENT, dig
from sloprobe.probes.job_config import JOB_SERIES, JobProbe, RequestSpec

ERROR_CHARS = 300
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.\-]*)\}")


class JobFailure(Exception):
    """The target failed the job probe; the message is the measurement's failure reason."""


@dataclass
class _Timeline:
    submit_s: float | None = None
    submitted_at: float = 0.0  # perf_counter when the submit answer arrived
    started_seen: float | None = None
    finished_seen: float | None = None
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


async def run_job_probe(
    name: str,
    spec: JobProbe,
    context: ProbeContext,
    client: httpx.AsyncClient,
    trace_headers: dict[str, str],
) -> Measurement:
    started, clock = datetime.now(UTC), time.perf_counter()
    variables: dict[str, str] = {}
    timeline = _Timeline()
    failure = None
    details: dict[str, str] = {}
    try:
        for request in spec.setup:
            await _send(client, request, variables, trace_headers, context)
        await _submit(client, spec, variables, trace_headers, timeline, context)
        details["job"] = variables["id"]
        await _follow(client, spec, variables, trace_headers, timeline)
        if timeline.state in spec.status.failure:
            error = _text(dig(timeline.job, spec.status.error)) if spec.status.error else None
            raise JobFailure(
                f"job {variables['id']} ended {timeline.state}"
                + (f": {error[:ERROR_CHARS]}" if error else "")
            )
    except JobFailure as exc:
        failure = context.redactor(str(exc))
    except httpx.HTTPError as exc:
        failure = context.redactor(f"{type(exc).__name__}: {exc}"[:ERROR_CHARS])
    finally:
        for request in spec.cleanup if "id" in variables else ():
            try:
                await _send(client, request, variables, trace_headers, context)
            except (JobFailure, httpx.HTTPError) as exc:
                details["cleanup"] = context.redactor(str(exc))[:ERROR_CHARS]
    if timeline.poll_errors:
        details["poll errors"] = str(timeline.poll_errors)
    details["polls"] = str(timeline.polls)
    series, missing = _phases(spec, timeline)
    return Measurement(
        probe=name,
        kind="job",
        started_at=started,
        duration_s=time.perf_counter() - clock,
        series=series,
        failure=failure,
        missing=missing,
        attempts=timeline.polls + 1,
        details=details,
    )


async def _send(
    client: httpx.AsyncClient,
    request: RequestSpec,
    variables: dict[str, str],
    headers: dict[str, str],
    context: ProbeContext,
) -> httpx.Response:
    response = await client.request(
        request.method,
        fill(request.path, variables),
        json=fill(request.json_body, variables),
        data=fill(request.form, variables),
        headers={**headers, **fill(request.headers, variables)},
    )
    if response.status_code >= 400:
        raise JobFailure(
            f"{request.method} {fill(request.path, variables)} answered {response.status_code}"
        )
    if request.save:
        document = _json(response)
        for key, path in request.save.items():
            found = dig(document, path)
            if found is ABSENT or found is None:
                raise JobFailure(
                    f"{request.method} {request.path}: no `{path}` in the answer to save as `{key}`"
                )
            variables[key] = _text(found)
    return response


async def _submit(
    client: httpx.AsyncClient,
    spec: JobProbe,
    variables: dict[str, str],
    headers: dict[str, str],
    timeline: _Timeline,
    context: ProbeContext,
) -> None:
    submit = spec.submit
    body = fill(submit.json_body, variables)
    if submit.synthetic_field and isinstance(body, dict):
        body = {**body, submit.synthetic_field: True}
    form = fill(submit.form, variables)
    if submit.synthetic_field and form is not None:
        form = {**form, submit.synthetic_field: "true"}
    clock = time.perf_counter()
    response = await client.request(
        submit.method,
        fill(submit.path, variables),
        json=body,
        data=form,
        headers={**headers, **submit.headers},
    )
    timeline.submitted_at = time.perf_counter()
    timeline.submit_s = timeline.submitted_at - clock
    if response.status_code >= 400:
        raise JobFailure(
            f"submitting the job: {submit.method} {submit.path} answered {response.status_code}"
        )
    job_id = dig(_json(response), submit.id)
    if job_id is ABSENT or job_id is None:
        raise JobFailure(f"the submit answer has no job id at `{submit.id}`")
    variables["id"] = _text(job_id)


async def _follow(
    client: httpx.AsyncClient,
    spec: JobProbe,
    variables: dict[str, str],
    headers: dict[str, str],
    timeline: _Timeline,
) -> None:
    status, poll = spec.status, spec.poll
    final = {*status.success, *status.failure}
    path = fill(status.path, variables)

    async def look() -> str | None:
        timeline.polls += 1
        try:
            response = await client.request(status.method, path, headers=headers)
        except httpx.TransportError:
            timeline.poll_errors += 1  # a flaky poll is not a failed job; the timeout bounds it
            return None
        seen = time.perf_counter()
        document = _json(response) if response.status_code < 500 else None
        if response.status_code == 404 or not isinstance(document, dict):
            timeline.poll_errors += 1
            return None
        state = _text(dig(document, status.field))
        timeline.job, timeline.state = document, state
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
        where = f"still {timeline.state}" if timeline.state else "never answered its status URL"
        raise JobFailure(
            f"job {variables['id']} {where} after {format_base(poll.timeout, Dimension.TIME)} (timeout)"
        ) from None


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


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


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
