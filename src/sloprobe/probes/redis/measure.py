"""Queue depth, the age of the oldest waiting job and live workers, read from Redis.

Reads the keys RQ, Celery (kombu) and BullMQ themselves use (see
:mod:`sloprobe.probes.redis.layouts`) in a few pipelined round trips of
read-only commands (and bounded ``SCAN`` calls), so a probe costs Redis little.
Workers are counted as their library knows them; Celery's are not in Redis,
which ``details`` says, pointing to Flower.
What a reading saw but did not count is said in ``details``. An absent list
of a queue that exists is an empty queue; a queue that does not exist at all
(a misspelt name or prefix) gives no series but a ``missing`` reason, and so
does the total ``depth``, so a typo can never pass as 0. Redis down, refusing
the password or too slow is the target failing: a ``failure`` with a
secret-free reason, never an exception.
"""

from __future__ import annotations

import asyncio
import time

import redis.exceptions as errors
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from sloprobe.model.measurement import Measurement, Reading, Sample, Series
from sloprobe.model.units import Dimension, format_base
from sloprobe.probes.base import ProbeCall, timed
from sloprobe.probes.network import describe_error
from sloprobe.probes.redis import layouts
from sloprobe.probes.redis.spec import RedisQueueProbe, redis_series_units
from sloprobe.redact import Redactor, redact_url, url_secrets


async def measure(call: ProbeCall[RedisQueueProbe]) -> Reading:
    return await read_redis_queues(call.spec, call.context.redactor)


async def run_redis_queue_probe(
    name: str, spec: RedisQueueProbe, redactor: Redactor
) -> Measurement:
    """:func:`read_redis_queues` as probe ``name``'s timed Measurement, outside a run."""
    return await timed(name, "redis", read_redis_queues(spec, redactor))


async def read_redis_queues(spec: RedisQueueProbe, redactor: Redactor) -> Reading:
    """Read every queue of ``spec`` once, within ``spec.timeout``; never raises for Redis's failures."""
    secrets = url_secrets(spec.url)
    redactor.add(*secrets)
    refused = "refused the credentials" if secrets else "needs credentials, the URL has none"
    shown = redact_url(spec.url)
    step = f"redis {shown}"
    details = {"redis": shown, "layout": spec.layout, "key prefix": spec.key_prefix or "(none)"}
    if spec.layout == "celery" and spec.oldest_age:
        details["oldest_age"] = layouts.CELERY_NO_AGE
    if spec.layout == "celery":
        details["workers"] = layouts.CELERY_NO_WORKERS

    def observed(failure: str | None = None, reading: layouts.Reading | None = None) -> Reading:
        series: dict[str, Series] = {}
        missing: dict[str, str] = {}
        if reading is not None:
            if reading.workers_unknown is not None:
                reading.workers_unknown = redactor(reading.workers_unknown)
            series, missing = _series(spec, reading, time.time(), shown)
            if reading.unverified:
                details["queue existence"] = redactor(_unverified(reading.unverified))
            details.update({k: redactor(v) for k, v in reading.notes.items()})
        return Reading(
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
        return observed(failure=f"Redis URL {shown} is not usable: {why(exc)}")
    plan = layouts.Plan(
        tuple(spec.queues),
        spec.key_prefix,
        age=spec.reads_age,
        workers=spec.workers,
        steps=tuple(spec.priority_steps),
        sep=spec.sep,
        db=int(client.connection_pool.connection_kwargs.get("db") or 0),
    )
    try:
        async with asyncio.timeout(spec.timeout):
            reading = await layouts.read(client, spec.layout, plan)
    except (TimeoutError, errors.TimeoutError):
        limit = format_base(spec.timeout, Dimension.TIME)
        return observed(failure=f"{step}: read timeout (no answer within {limit})")
    except (errors.AuthenticationError, errors.AuthenticationWrongNumberOfArgsError) as exc:
        return observed(failure=f"{step}: auth refused (Redis {refused}: {why(exc)})")
    except layouts.LayoutError as exc:
        if isinstance(exc.__cause__, errors.AuthenticationError):
            return observed(failure=f"{step}: auth refused (Redis {refused}: {why(exc.__cause__)})")
        return observed(failure=f"{step}: {why(exc)}")
    except (errors.RedisError, OSError) as exc:
        return observed(failure=describe_error(exc, redactor, step).replace(spec.url, shown))
    finally:
        await client.aclose()
    return observed(reading=reading)


def _series(
    spec: RedisQueueProbe, reading: layouts.Reading, now: float, shown: str
) -> tuple[dict[str, Series], dict[str, str]]:
    """The samples of ``reading``; a queue that does not exist has none, only reasons."""
    values: dict[str, Sample] = {}
    missing: dict[str, str] = {}
    gone = [q for q in spec.queues if q in reading.missing]
    for q in gone:
        reason = (
            f"queue `{q}` does not exist in Redis at {shown}: {reading.missing[q]}; "
            f"check the name and `prefix`"
        )
        missing.update(dict.fromkeys(_queue_series(spec, q), reason))
    total = _total_missing(gone, shown)
    if total is not None:
        missing["depth"] = total
    else:
        values["depth"] = float(sum(reading.depth[q] for q in spec.queues))
    for q in spec.queues:
        if q in reading.missing:
            continue
        values[f"depth.{q}"] = float(reading.depth[q])
        for state, count in reading.states.get(q, {}).items():
            values[f"depth.{q}.{state}"] = float(count)
        if q in reading.paused:
            values[f"paused.{q}"] = reading.paused[q]
    if spec.reads_age:
        _ages(spec, reading, now, values, missing, total)
    if spec.workers:
        _workers(spec, reading, now, values, missing)
    units = redis_series_units(spec)
    return {n: Series(n, units[n], (v,)) for n, v in values.items()}, missing


def _ages(
    spec: RedisQueueProbe,
    reading: layouts.Reading,
    now: float,
    values: dict[str, Sample],
    missing: dict[str, str],
    total: str | None,
) -> None:
    """An empty queue has no waiting job, so nothing in it has waited: its age is 0.

    ``total`` is why no total can be given (a listed queue does not exist).
    """
    ages: list[float] = []
    first_gap = total
    for q in spec.queues:
        if q in reading.missing:
            continue
        ready = reading.ready_at.get(q)
        if reading.depth[q] == 0:
            age = 0.0
        elif ready is None:
            missing[f"oldest_age.{q}"] = (
                f"queue `{q}` holds {reading.depth[q]} jobs but none next in line has a readable enqueue time"
            )
            first_gap = first_gap or missing[f"oldest_age.{q}"]
            continue
        else:
            age = max(now - ready, 0.0)
        values[f"oldest_age.{q}"] = age
        ages.append(age)
    if first_gap is None:
        values["oldest_age"] = max(ages)
    else:
        missing["oldest_age"] = first_gap


def _workers(
    spec: RedisQueueProbe,
    reading: layouts.Reading,
    now: float,
    values: dict[str, Sample],
    missing: dict[str, str],
) -> None:
    """Live workers, in total and per queue; not counted is said, never read as 0.

    The total counts the workers of every listed queue, a missing one's too:
    a worker is alive whether or not its queue name is right.
    """
    if reading.workers_unknown is not None:
        reason = f"{spec.layout} workers could not be counted: {reading.workers_unknown}"
        for name in ["workers", *(f"workers.{q}" for q in spec.queues)]:
            missing.setdefault(name, reason)
        return
    values["workers"] = float(len(set().union(*reading.workers.values())))
    for q in spec.queues:
        if q not in reading.missing:
            values[f"workers.{q}"] = float(len(reading.workers[q]))
    if spec.layout != "rq":
        return
    if reading.heartbeats:
        values["heartbeat_age"] = max(now - min(reading.heartbeats.values()), 0.0)
    else:
        queues = ", ".join(f"`{q}`" for q in spec.queues)
        missing["heartbeat_age"] = f"no live RQ worker is registered for {queues}"


def _queue_series(spec: RedisQueueProbe, queue: str) -> list[str]:
    """Every series the probe gives for one queue (as :func:`redis_series_units` lists them)."""
    names = [f"depth.{queue}"]
    if spec.layout == "bullmq":
        names += [f"depth.{queue}.{state}" for state in layouts.BULLMQ_STATES]
        names.append(f"paused.{queue}")
    if spec.reads_age:
        names.append(f"oldest_age.{queue}")
    if spec.workers:
        names.append(f"workers.{queue}")
    return names


def _total_missing(gone: list[str], shown: str) -> str | None:
    """Why a total over the listed queues is not given: some of them do not exist."""
    if not gone:
        return None
    named = ", ".join(f"`{q}`" for q in gone)
    see = ", ".join(f"`depth.{q}`" for q in gone)
    one = len(gone) == 1
    return (
        f"queue{'' if one else 's'} {named} {'does' if one else 'do'} not exist in Redis at "
        f"{shown} (see {see}), so no total over the listed queues is given: counting "
        f"{'it' if one else 'them'} as empty could hide a misspelt name"
    )


def _unverified(unverified: dict[str, str]) -> str:
    return "; ".join(
        f"could not tell whether queue `{q}` exists ({why}), so it is read as usual"
        for q, why in unverified.items()
    )
