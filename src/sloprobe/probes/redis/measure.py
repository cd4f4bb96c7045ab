"""Queue depth, the age of the oldest waiting job and RQ workers, read from Redis.

Reads the keys RQ, Celery (kombu) and BullMQ themselves use (see
:mod:`sloprobe.probes.redis_layouts`) in two pipelined round trips of
read-only commands, so a probe costs Redis next to nothing. An absent key is
an empty queue. Redis down, refusing the password or too slow is the target
failing: a ``failure`` with a secret-free reason, never an exception.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import redis.exceptions as errors
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from sloprobe.model.measurement import Measurement, Sample, Series
from sloprobe.model.units import Dimension, format_base
from sloprobe.probes.base import ProbeCall
from sloprobe.probes.network import describe_error
from sloprobe.probes.redis import layouts
from sloprobe.probes.redis.spec import RedisQueueProbe, redis_series_units
from sloprobe.redact import Redactor, redact_url, url_secrets


async def measure(call: ProbeCall[RedisQueueProbe]) -> Measurement:
    return await run_redis_queue_probe(call.name, call.spec, call.context.redactor)


async def run_redis_queue_probe(
    name: str, spec: RedisQueueProbe, redactor: Redactor
) -> Measurement:
    """Read every queue of ``spec`` once, within ``spec.timeout``; never raises for Redis's failures."""
    started, clock = datetime.now(UTC), time.perf_counter()
    secrets = url_secrets(spec.url)
    redactor.add(*secrets)
    refused = "refused the credentials" if secrets else "needs credentials, the URL has none"
    shown = redact_url(spec.url)
    step = f"redis {shown}"
    details = {"redis": shown, "layout": spec.layout, "key prefix": spec.key_prefix or "(none)"}
    if spec.layout == "celery" and spec.oldest_age:
        details["oldest_age"] = layouts.CELERY_NO_AGE

    def measured(failure: str | None = None, reading: layouts.Reading | None = None) -> Measurement:
        series, missing = _series(spec, reading, time.time()) if reading is not None else ({}, {})
        return Measurement(
            probe=name,
            kind="redis",
            started_at=started,
            duration_s=time.perf_counter() - clock,
            series=series,
            failure=failure,
            missing=missing,
            details=details,
        )

    def why(exc: BaseException) -> str:
        text = str(exc).replace(spec.url, shown) or type(exc).__name__
        return redactor(text)[:300]

    try:
        client = Redis.from_url(
            spec.url,
            socket_connect_timeout=spec.timeout,
            socket_timeout=spec.timeout,
            retry=Retry(NoBackoff(), 0),  # the overall timeout bounds the probe, not retries
            protocol=2,  # RESP2: every server version answers it (RESP3 needs Redis 6)
            decode_responses=True,
            encoding_errors="replace",
        )
    except ValueError as exc:
        return measured(failure=f"Redis URL {shown} is not usable: {why(exc)}")
    plan = layouts.Plan(
        tuple(spec.queues),
        spec.key_prefix,
        age=spec.reads_age,
        workers=spec.workers,
        steps=tuple(spec.priority_steps),
        sep=spec.sep,
    )
    try:
        async with asyncio.timeout(spec.timeout):
            reading = await layouts.READERS[spec.layout](client, plan)
    except (TimeoutError, errors.TimeoutError):
        limit = format_base(spec.timeout, Dimension.TIME)
        return measured(failure=f"{step}: read timeout (no answer within {limit})")
    except (errors.AuthenticationError, errors.AuthenticationWrongNumberOfArgsError) as exc:
        return measured(failure=f"{step}: auth refused (Redis {refused}: {why(exc)})")
    except layouts.LayoutError as exc:
        if isinstance(exc.__cause__, errors.AuthenticationError):
            return measured(failure=f"{step}: auth refused (Redis {refused}: {why(exc.__cause__)})")
        return measured(failure=f"{step}: {why(exc)}")
    except (errors.RedisError, OSError) as exc:
        return measured(failure=describe_error(exc, redactor, step).replace(spec.url, shown))
    finally:
        await client.aclose()
    return measured(reading=reading)


def _series(
    spec: RedisQueueProbe, reading: layouts.Reading, now: float
) -> tuple[dict[str, Series], dict[str, str]]:
    values: dict[str, Sample] = {"depth": float(sum(reading.depth.values()))}
    missing: dict[str, str] = {}
    for q in spec.queues:
        values[f"depth.{q}"] = float(reading.depth[q])
        for state, count in reading.states.get(q, {}).items():
            values[f"depth.{q}.{state}"] = float(count)
        if q in reading.paused:
            values[f"paused.{q}"] = reading.paused[q]
    if spec.reads_age:
        _ages(spec, reading, now, values, missing)
    if spec.workers:
        live = set(reading.heartbeats)
        values["workers"] = float(len(live))
        for q in spec.queues:
            values[f"workers.{q}"] = float(len(reading.registered[q] & live))
        if live:
            values["heartbeat_age"] = max(now - min(reading.heartbeats.values()), 0.0)
        else:
            queues = ", ".join(f"`{q}`" for q in spec.queues)
            missing["heartbeat_age"] = f"no live RQ worker is registered for {queues}"
    units = redis_series_units(spec)
    return {n: Series(n, units[n], (v,)) for n, v in values.items()}, missing


def _ages(
    spec: RedisQueueProbe,
    reading: layouts.Reading,
    now: float,
    values: dict[str, Sample],
    missing: dict[str, str],
) -> None:
    """An empty queue has no waiting job, so nothing in it has waited: its age is 0."""
    ages: list[float] = []
    for q in spec.queues:
        ready = reading.ready_at.get(q)
        if reading.depth[q] == 0:
            age = 0.0
        elif ready is None:
            missing[f"oldest_age.{q}"] = (
                f"queue `{q}` holds {reading.depth[q]} jobs but none next in line has a readable enqueue time"
            )
            continue
        else:
            age = max(now - ready, 0.0)
        values[f"oldest_age.{q}"] = age
        ages.append(age)
    if len(ages) == len(spec.queues):
        values["oldest_age"] = max(ages)
    else:
        missing["oldest_age"] = next(iter(missing.values()))
