"""Queue depth, the age of the oldest waiting job and RQ workers, read from Redis.

Reads the keys RQ, Celery (kombu) and BullMQ themselves use (see
:mod:`sloprobe.probes.redis_layouts`), with read-only commands in two
pipelined round trips, so a probe costs Redis next to nothing. An absent key
is an empty queue. Redis being down, refusing the password or too slow is the
target failing: a ``failure`` with a secret-free reason, never an exception.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qsl, unquote, urlsplit

from pydantic import Field, field_validator, model_validator

from sloprobe.config.model import StrictModel
from sloprobe.config.types import Duration
from sloprobe.measure import Measurement, Sample, Series
from sloprobe.probes import redis_layouts as layouts
from sloprobe.redact import Redactor, redact_url
from sloprobe.units import Dimension, Unit, format_base

if TYPE_CHECKING:
    from redis.asyncio import Redis

INSTALL_HINT = "install the redis extra: pip install 'sloprobe[redis]'"
_SCHEMES = ("redis", "rediss", "unix")


class RedisQueueProbe(StrictModel):
    """Queues of one Redis database, read with the key layout of the library that fills them."""

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
        description="Key prefix: RQ's queue prefix (default `rq:queue:`), BullMQ's `prefix` (default `bull`), kombu's `global_keyprefix` for Celery (default none).",
    )
    timeout: Duration = Field(5.0, description="Bound on connecting and reading, all included.")
    oldest_age: bool = Field(
        True, description="Also read the age of the oldest waiting job (RQ, BullMQ)."
    )
    workers: bool = Field(
        False, description="RQ only: count live workers of the queues and their heartbeat age."
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
        celery_only = {"priority_steps", "sep"} & self.model_fields_set
        if celery_only and self.layout != "celery":
            raise ValueError(f"`{sorted(celery_only)[0]}` applies to `layout: celery` only")
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


@dataclass
class _Reading:
    depth: dict[str, int] = field(default_factory=dict)
    states: dict[str, dict[str, int]] = field(default_factory=dict)
    paused: dict[str, bool] = field(default_factory=dict)
    ready_at: dict[str, float | None] = field(default_factory=dict)
    registered: dict[str, set[str]] = field(default_factory=dict)
    heartbeats: dict[str, float] = field(default_factory=dict)


class _LayoutError(Exception):
    """Redis refused a command on one key: the key is of another type, or the ACL forbids it."""


class _Batch:
    """Commands sent in one round trip, each remembered with the key it reads."""

    def __init__(self, client: Redis) -> None:
        self._pipe = client.pipeline(transaction=False)
        self._keys: list[str] = []

    def add(self, *command: str | int) -> int:
        self._pipe.execute_command(*command)
        self._keys.append(str(command[1]))
        return len(self._keys) - 1

    async def run(self) -> list[Any]:
        if not self._keys:
            return []
        results: list[Any] = await self._pipe.execute(raise_on_error=False)
        for key, result in zip(self._keys, results, strict=True):
            if isinstance(result, Exception):
                raise _LayoutError(f"reading key `{key!r}` failed: {result}")
        return results


async def run_redis_queue_probe(
    name: str, spec: RedisQueueProbe, redactor: Redactor
) -> Measurement:
    """Read every queue of ``spec`` once; never raises for Redis's failures."""
    started, clock = datetime.now(UTC), time.perf_counter()
    redactor.add(*_secrets_of(spec.url))
    shown = redact_url(spec.url)
    details = {"redis": shown, "layout": spec.layout, "key prefix": spec.key_prefix or "(none)"}

    def measured(failure: str | None = None, reading: _Reading | None = None) -> Measurement:
        series, missing = _series(spec, reading, time.time()) if reading else ({}, {})
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
        from redis import exceptions as errors
        from redis.asyncio import Redis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff
    except ImportError:
        return measured(failure=INSTALL_HINT)
    try:
        client = Redis.from_url(
            spec.url,
            socket_connect_timeout=spec.timeout,
            socket_timeout=spec.timeout,
            retry=Retry(NoBackoff(), 0),
            decode_responses=True,
            encoding_errors="replace",
        )
    except ValueError as exc:
        return measured(failure=f"Redis URL {shown} is not usable: {redactor(str(exc))[:200]}")
    try:
        async with asyncio.timeout(spec.timeout):
            reading = await _READERS[spec.layout](client, spec)
    except (TimeoutError, errors.TimeoutError):
        shown_timeout = format_base(spec.timeout, Dimension.TIME)
        return measured(failure=f"Redis at {shown} did not answer within {shown_timeout}")
    except (errors.AuthenticationError, errors.AuthenticationWrongNumberOfArgsError) as exc:
        return measured(
            failure=f"Redis at {shown} refused the credentials: {_text(exc, spec, redactor)}"
        )
    except errors.ConnectionError as exc:
        return measured(failure=f"cannot connect to Redis at {shown}: {_text(exc, spec, redactor)}")
    except (errors.RedisError, _LayoutError, OSError) as exc:
        return measured(failure=f"Redis at {shown}: {_text(exc, spec, redactor)}")
    finally:
        await client.aclose()
    return measured(reading=reading)


async def _read_rq(client: Redis, spec: RedisQueueProbe) -> _Reading:
    keys = layouts.RqKeys(spec.key_prefix)
    first = _Batch(client)
    depth = {q: first.add("LLEN", keys.queue(q)) for q in spec.queues}
    ends = {q: _ends(first, keys.queue(q)) for q in spec.queues} if spec.reads_age else {}
    members = {q: first.add("SMEMBERS", keys.workers(q)) for q in spec.queues if spec.workers}
    got = await first.run()
    reading = _Reading(depth={q: int(got[i]) for q, i in depth.items()})
    reading.registered = {q: set(got[i]) for q, i in members.items()}
    second = _Batch(client)
    jobs = {
        q: [second.add("HGET", keys.job(j), "enqueued_at") for j in _ids(got, idx)]
        for q, idx in ends.items()
    }
    workers = sorted(set().union(*reading.registered.values()))
    beats = {w: second.add("HGET", w, "last_heartbeat") for w in workers}
    got = await second.run()
    for q, idx in jobs.items():
        reading.ready_at[q] = _earliest(layouts.rq_time(got[i]) for i in idx)
    for worker, i in beats.items():
        beat = layouts.rq_time(got[i])
        if beat is not None:
            reading.heartbeats[worker] = beat
    return reading


async def _read_celery(client: Redis, spec: RedisQueueProbe) -> _Reading:
    steps = tuple(spec.priority_steps)
    batch = _Batch(client)
    lengths = {
        q: [batch.add("LLEN", k) for k in layouts.celery_keys(q, spec.key_prefix, steps, spec.sep)]
        for q in spec.queues
    }
    got = await batch.run()
    return _Reading(depth={q: sum(int(got[i]) for i in idx) for q, idx in lengths.items()})


async def _read_bullmq(client: Redis, spec: RedisQueueProbe) -> _Reading:
    prefix = spec.key_prefix
    first = _Batch(client)
    plans: dict[str, dict[str, Any]] = {}
    for q in spec.queues:
        key = {s: layouts.bullmq_key(prefix, q, s) for s in (*layouts.BULLMQ_STATES, "meta")}
        plans[q] = {
            "states": {
                s: first.add("LLEN" if s in layouts.BULLMQ_LISTS else "ZCARD", key[s])
                for s in layouts.BULLMQ_STATES
            },
            "paused": first.add("HEXISTS", key["meta"], "paused"),
            "tails": {s: first.add("LINDEX", key[s], -1) for s in ("wait", "paused")},
            "heads": [first.add("LINDEX", key[s], 0) for s in ("wait", "paused")]
            + ([first.add("ZRANGE", key["prioritized"], 0, 0)] if spec.reads_age else []),
        }
    got = await first.run()
    reading, second, candidates = _Reading(), _Batch(client), {}
    for q, plan in plans.items():
        states = {s: int(got[i]) for s, i in plan["states"].items()}
        for s, i in plan["tails"].items():
            if layouts.is_bullmq_marker(got[i]):
                states[s] = max(states[s] - 1, 0)
        reading.states[q] = states
        reading.depth[q] = sum(states[s] for s in layouts.BULLMQ_WAITING)
        reading.paused[q] = bool(got[plan["paused"]])
        if spec.reads_age:
            ids = _ids(got, [*plan["tails"].values(), *plan["heads"]])
            job = {
                j: layouts.bullmq_key(prefix, q, j) for j in ids if not layouts.is_bullmq_marker(j)
            }
            candidates[q] = [second.add("HMGET", k, "timestamp", "delay") for k in job.values()]
    got = await second.run()
    for q, idx in candidates.items():
        reading.ready_at[q] = _earliest(layouts.bullmq_ready_time(*got[i]) for i in idx)
    return reading


_READERS = {"rq": _read_rq, "celery": _read_celery, "bullmq": _read_bullmq}


def _ends(batch: _Batch, key: str) -> list[int]:
    """The first and last item of a list: the jobs next in line and last in, where the oldest is."""
    return [batch.add("LINDEX", key, 0), batch.add("LINDEX", key, -1)]


def _ids(got: list[Any], indexes: list[int]) -> list[str]:
    """Distinct job ids among the answers (a one-item ZRANGE answers a list)."""
    found: list[str] = []
    for i in indexes:
        for item in got[i] if isinstance(got[i], list) else [got[i]]:
            if item is not None and item not in found:
                found.append(item)
    return found


def _earliest(times: Any) -> float | None:
    known = [t for t in times if t is not None]
    return min(known) if known else None


def _series(
    spec: RedisQueueProbe, reading: _Reading, now: float
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
        live = {w for w in reading.heartbeats}
        values["workers"] = float(len(live))
        for q in spec.queues:
            values[f"workers.{q}"] = float(len(reading.registered[q] & live))
        if live:
            values["heartbeat_age"] = max(now - min(reading.heartbeats.values()), 0.0)
        else:
            missing["heartbeat_age"] = f"no live RQ worker is registered for {_listed(spec.queues)}"
    units = redis_series_units(spec)
    series = {n: Series(n, units[n], (v,)) for n, v in values.items()}
    return series, missing


def _ages(
    spec: RedisQueueProbe,
    reading: _Reading,
    now: float,
    values: dict[str, Sample],
    missing: dict[str, str],
) -> None:
    """An empty queue has no waiting job, so nothing has waited: its age is 0."""
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


def _listed(queues: list[str]) -> str:
    return ", ".join(f"`{q}`" for q in queues)


def _secrets_of(url: str) -> list[str]:
    """The password of a Redis URL, in the userinfo or as redis-py's `?password=` parameter."""
    try:
        parts = urlsplit(url)
        found = [unquote(parts.password)] if parts.password else []
    except ValueError:
        return []
    found += [v for k, v in parse_qsl(parts.query) if k.lower() == "password" and v]
    return found


def _text(exc: BaseException, spec: RedisQueueProbe, redactor: Redactor) -> str:
    text = str(exc).replace(spec.url, redact_url(spec.url)) or type(exc).__name__
    return redactor(text)[:200]
