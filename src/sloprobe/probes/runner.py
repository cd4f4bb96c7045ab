"""Run the YAML probes a run needs: once each, concurrently (bounded), each within its deadline.

A target with a ``login`` is logged into first; its token goes into every
request of the run and into the redactor, so it is masked everywhere.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Mapping
from datetime import UTC, datetime

import httpx

from sloprobe.config.model import ProbeSpec
from sloprobe.model.measurement import Measurement
from sloprobe.model.units import Dimension, format_base
from sloprobe.probes.context import ProbeContext
from sloprobe.probes.http import ABSENT, dig, run_http_probe
from sloprobe.probes.job_config import Login
from sloprobe.probes.tracing import Trace

HTTP_KINDS = frozenset({"http", "job", "prometheus"})
JOB_DEADLINE_MARGIN_S = 30.0


def run_probes(
    probes: Mapping[str, ProbeSpec],
    context: ProbeContext,
    concurrency: int,
    default_deadline: float,
    deferred: Mapping[str, str] | None = None,
) -> dict[str, Measurement]:
    """Measure every probe in ``probes`` (``deferred`` ones are not due: name → why); never raises."""
    if not probes:
        return {}
    return asyncio.run(_run_all(probes, context, concurrency, default_deadline, deferred or {}))


async def _run_all(
    probes: Mapping[str, ProbeSpec],
    context: ProbeContext,
    concurrency: int,
    default_deadline: float,
    deferred: Mapping[str, str],
) -> dict[str, Measurement]:
    gate = asyncio.Semaphore(concurrency)
    async with context.async_client() as client:
        login_failure = None
        login = context.target.login
        if login is not None and any(
            p.kind in HTTP_KINDS for n, p in probes.items() if n not in deferred
        ):
            login_failure = await _log_in(client, login, context)

        async def one(name: str, spec: ProbeSpec) -> Measurement:
            started, clock = datetime.now(UTC), time.perf_counter()
            if name in deferred:
                return Measurement(
                    name, spec.kind, started, 0.0, skipped=deferred[name], deferred=True
                )
            if login_failure is not None and spec.kind in HTTP_KINDS:
                return Measurement(name, spec.kind, started, 0.0, failure=login_failure)
            deadline = _deadline(spec, default_deadline)
            trace = Trace()
            async with gate:
                try:
                    measured = await asyncio.wait_for(
                        _measure(name, spec, context, client, trace), deadline
                    )
                except TimeoutError:
                    measured = Measurement(
                        probe=name,
                        kind=spec.kind,
                        started_at=started,
                        duration_s=time.perf_counter() - clock,
                        failure=f"did not finish within its deadline of {format_base(deadline, Dimension.TIME)}",
                    )
            return (
                dataclasses.replace(measured, trace_id=trace.trace_id)
                if spec.kind in HTTP_KINDS
                else measured
            )

        results = await asyncio.gather(*(one(n, s) for n, s in probes.items()))
    return {m.probe: m for m in results}


def _deadline(spec: ProbeSpec, default: float) -> float:
    if spec.deadline is not None:
        return spec.deadline
    if spec.job is not None:  # let the job's own timeout speak first, with its clearer reason
        return max(default, spec.job.poll.timeout + JOB_DEADLINE_MARGIN_S)
    if spec.prometheus is not None and spec.prometheus.interval:
        return max(default, spec.prometheus.interval + 2 * spec.prometheus.timeout)
    return default


async def _log_in(client: httpx.AsyncClient, login: Login, context: ProbeContext) -> str | None:
    """Log in and set the token on the client; returns why it failed, or None."""
    try:
        response = await client.request(
            login.method, login.path, json=login.json_body, data=login.form
        )
    except httpx.HTTPError as exc:
        return context.redactor(f"login: {login.method} {login.path}: {type(exc).__name__}: {exc}")[
            :300
        ]
    if response.status_code >= 400:
        return f"login: {login.method} {login.path} answered {response.status_code}"
    try:
        token = dig(response.json(), login.token)
    except ValueError:
        token = ABSENT
    if token is ABSENT or not isinstance(token, str) or not token:
        return f"login: the answer has no token at `{login.token}`"
    context.redactor.add(token)
    client.headers[login.header] = f"{login.scheme} {token}" if login.scheme else token
    return None


async def _measure(
    name: str, spec: ProbeSpec, context: ProbeContext, client: httpx.AsyncClient, trace: Trace
) -> Measurement:
    if spec.http is not None:
        return await run_http_probe(name, spec.http, context, client, trace)
    if spec.job is not None:
        from sloprobe.probes.job import run_job_probe

        return await run_job_probe(name, spec.job, context, client, trace.headers())
    if spec.redis is not None:
        from sloprobe.probes.redis_queue import run_redis_queue_probe

        return await run_redis_queue_probe(name, spec.redis, context.redactor)
    if spec.prometheus is not None:
        from sloprobe.probes.prometheus import run_prometheus_probe

        return await run_prometheus_probe(name, spec.prometheus, context, client)
    if spec.promql is not None:
        from sloprobe.probes.prometheus import run_promql_probe

        return await run_promql_probe(name, spec.promql, context)
    if spec.sql is not None:
        from sloprobe.probes.sql import run_sql_probe

        return await run_sql_probe(name, spec.sql, context.redactor)
    raise ValueError(f"probe `{name}` of kind `{spec.kind}` is not run by the YAML runner")
