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
from typing import Literal
from urllib.parse import parse_qsl, unquote, urlsplit

from pydantic import Field, field_validator, model_validator

from sloprobe.config.base import StrictModel
from sloprobe.config.types import Duration
from sloprobe.model.measurement import Measurement, Sample, Series
from sloprobe.model.units import Dimension, Unit, format_base
from sloprobe.probes import redis_layouts as layouts
from sloprobe.redact import Redactor, redact_url

INSTALL_HINT = "install the redis extra: pip install 'sloprobe[redis]'"
_SCHEMES = ("redis", "rediss", "unix")


class RedisQueueProbe(StrictModel):
    """Queues in one Redis database, read with the key layout of the library that fills them."""

    url: str = Field(
        repr=False,
        description="`redis://[user:password@]host:port/db`, `rediss://…` or `unix://…`; the password is redacted everywhere.",
    )
    layout: Literal["rq", "celery", "bullmq"]
    queues: list[str] = Field(
        min_length=1, description="Queue names; depth is per queue and total."
    )
    prefix: str | None = Field(
        None,
        description="Key prefix: RQ's queue prefix (default `rq:queue:`; `<ns>:queue:` for RQ_KEY_PREFIX=<ns>), BullMQ's `prefix` (default `bull`), kombu's `global_keyprefix` for Celery (default none).",
    )
    timeout: Duration = Field(5.0, description="Bound on connecting and reading, all included.")
    oldest_age: bool = Field(
        True, description="Also read the age of the oldest waiting job (RQ and BullMQ)."
    )
    workers: bool = Field(
        False, description="RQ only: count the queues' live workers and their heartbeat age."
    )
    priority_steps: list[int] = Field(
        default_factory=lambda: list(layouts.KOMBU_PRIORITY_STEPS),
        min_length=1,
        description="Celery only: the broker transport option `priority_steps`.",
    )
    sep: str = Field(
        layouts.KOMBU_SEP,
        min_length=1,
        description="Celery only: the broker transport option `sep` (kombu's default is `\\x06\\x16`).",
    )

    @field_validator("url")
    @classmethod
    def _redis_url(cls, value: str) -> str:
        # never echo the value: it may hold a password
        scheme = value.split("://", 1)[0].lower() if "://" in value else ""
        if scheme not in _SCHEMES:
            raise ValueError("expected a redis://, rediss:// or unix:// URL")
        return value

    @field_validator("queues")
    @classmethod
    def _distinct_queues(cls, value: list[str]) -> list[str]:
        if any(not name.strip() for name in value):
            raise ValueError("a queue name cannot be empty")
        if len(set(value)) != len(value):
            raise ValueError("each queue may be listed once")
        return value

    @model_validator(mode="after")
    def _layout_options(self) -> RedisQueueProbe:
        if self.workers and self.layout != "rq":
            raise ValueError("`workers` reads RQ's worker registrations; it needs `layout: rq`")
        celery_only = sorted({"priority_steps", "sep"} & self.model_fields_set)
        if celery_only and self.layout != "celery":
            raise ValueError(f"`{celery_only[0]}` applies to `layout: celery` only")
        return self

    @property
    def key_prefix(self) -> str:
        if self.prefix is not None:
            return self.prefix
        return {"rq": layouts.RQ_QUEUE_PREFIX, "bullmq": layouts.BULLMQ_PREFIX}.get(self.layout, "")

    @property
    def reads_age(self) -> bool:
        return self.oldest_age and self.layout != "celery"


def redis_series_units(spec: RedisQueueProbe) -> dict[str, Unit]:
    """The series a Redis queue probe produces and their units (for config-time checks).

    Celery has no ``oldest_age``: its messages carry no enqueue time
    (:data:`~sloprobe.probes.redis_layouts.CELERY_NO_AGE`).
    """
    units: dict[str, Unit] = {"depth": Unit.COUNT}
    for queue in spec.queues:
        units[f"depth.{queue}"] = Unit.COUNT
        if spec.layout == "bullmq":
            units.update({f"depth.{queue}.{s}": Unit.COUNT for s in layouts.BULLMQ_STATES})
            units[f"paused.{queue}"] = Unit.BOOLEAN
    if spec.reads_age:
        units["oldest_age"] = Unit.S
        units.update({f"oldest_age.{queue}": Unit.S for queue in spec.queues})
    if spec.workers:
        units["workers"] = Unit.COUNT
        units.update({f"workers.{queue}": Unit.COUNT for queue in spec.queues})
        units["heartbeat_age"] = Unit.S
    return units


async def run_redis_queue_probe(
    name: str, spec: RedisQueueProbe, redactor: Redactor
) -> Measurement:
    """Read every queue of ``spec`` once, within ``spec.timeout``; never raises for Redis's failures."""
    started, clock = datetime.now(UTC), time.perf_counter()
    secrets = _secrets_of(spec.url)
    redactor.add(*secrets)
    refused = "refused the credentials" if secrets else "needs credentials, the URL has none"
    shown = redact_url(spec.url)
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

    try:
        import redis.exceptions as errors
        from redis.asyncio import Redis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff
    except ImportError:
        return measured(failure=INSTALL_HINT)

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
        return measured(failure=f"Redis at {shown} did not answer within {limit}")
    except (errors.AuthenticationError, errors.AuthenticationWrongNumberOfArgsError) as exc:
        return measured(failure=f"Redis at {shown} {refused}: {why(exc)}")
    except layouts.LayoutError as exc:
        if isinstance(exc.__cause__, errors.AuthenticationError):
            return measured(failure=f"Redis at {shown} {refused}: {why(exc.__cause__)}")
        return measured(failure=f"Redis at {shown}: {why(exc)}")
    except errors.ConnectionError as exc:
        return measured(failure=f"cannot connect to Redis at {shown}: {why(exc)}")
    except (errors.RedisError, OSError) as exc:
        return measured(failure=f"Redis at {shown}: {type(exc).__name__}: {why(exc)}")
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


def _secrets_of(url: str) -> list[str]:
    """The password of a Redis URL, in its userinfo or as redis-py's ``?password=``."""
    try:
        parts = urlsplit(url)
        found = [unquote(parts.password)] if parts.password else []
    except ValueError:
        return []
    return found + [v for k, v in parse_qsl(parts.query) if k.lower() == "password" and v]
