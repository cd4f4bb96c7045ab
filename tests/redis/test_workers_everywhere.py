"""Workers counted as each library knows them: RQ's registrations, BullMQ's named connections, Celery via Flower.

BullMQ writes no key for a worker: ``Queue.getWorkers()`` lists the
``CLIENT LIST`` entries its workers named ``<prefix>:<base64 of queue>``
(``:w:<name>`` after it for a named worker). The tests open real connections
named so, as a Node worker does with ``CLIENT SETNAME``, and run the Python
port's real ``Worker``, whose own count sloprobe must equal.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from bullmq import Queue, Worker
from celery import Celery
from pydantic import ValidationError

from sloprobe.probes.redis.spec import RedisQueueProbe, redis_series_units
from tests.redis.conftest import probe, run_async, value

MEDIA_B64 = "bWVkaWE="  # base64 of "media", as BullMQ's clientName() encodes it
OTHER_B64 = "b3RoZXI="  # base64 of "other"


@pytest.fixture
def named(redis_url: str) -> Iterator[Any]:
    """A factory of real connections named with CLIENT SETNAME, closed at the end."""
    opened: list[redis.Redis] = []

    def connect(name: str, db: int = 0) -> redis.Redis:
        url = redis_url.rsplit("/", 1)[0] + f"/{db}"  # the URL's database wins over db=
        conn = redis.Redis.from_url(url, single_connection_client=True)
        conn.execute_command("CLIENT", "SETNAME", name)
        opened.append(conn)
        return conn

    yield connect
    for conn in opened:
        conn.close()


def add_job(redis_url: str, queue: str) -> None:
    """One waiting job, added by the real bullmq client (it writes the queue's keys)."""

    async def add() -> None:
        q = Queue(queue, {"connection": redis_url})
        await q.add("resize", {"n": 1})
        await q.close()

    run_async(add())


def test_bullmq_workers_are_the_connections_named_as_workers(redis_url: str, named: Any) -> None:
    add_job(redis_url, "media")
    add_job(redis_url, "other")
    plain = named(f"bull:{MEDIA_B64}")  # Worker('media') without a name
    worker = named(f"bull:{MEDIA_B64}:w:thumbs-1")  # Worker('media', …, {name: 'thumbs-1'})
    named(f"bull:{OTHER_B64}")  # a worker of another queue
    named(f"bull:{MEDIA_B64}:qe")  # QueueEvents('media'): no worker
    named("api-cache")  # the app's own connection
    named(f"bull:{MEDIA_B64}", db=1)  # a worker of the same name in another database
    measurement, _ = probe(redis_url, layout="bullmq", queues=["media", "other"], workers=True)
    assert value(measurement, "workers.media") == 2
    assert value(measurement, "workers.other") == 1
    assert value(measurement, "workers") == 3
    assert "heartbeat_age" not in measurement.series
    assert "heartbeat_age" not in measurement.missing
    assert value(measurement, "depth.media") == 1  # the jobs are read as before

    plain.close()  # the workers stop: their connections close
    worker.close()
    measurement, _ = probe(redis_url, layout="bullmq", queues=["media"], workers=True)
    assert value(measurement, "workers.media") == 0
    assert value(measurement, "workers") == 0


def test_bullmq_queue_name_that_needs_base64_and_a_custom_prefix(
    redis_url: str, redis_client: redis.Redis, named: Any
) -> None:
    """A name with a space cannot be a connection name: BullMQ names it in base64."""
    redis_client.hset("app:video jobs:meta", "opts.maxLenEvents", 10000)
    named("app:dmlkZW8gam9icw==")  # base64 of "video jobs"
    named("bull:dmlkZW8gam9icw==")  # the default prefix: another app
    measurement, _ = probe(
        redis_url, layout="bullmq", queues=["video jobs"], prefix="app", workers=True
    )
    assert value(measurement, "workers.video jobs") == 1


def test_bullmq_worker_on_a_queue_without_jobs_makes_it_exist(redis_url: str, named: Any) -> None:
    """A worker started before the first job serves a real queue, as for RQ."""
    named(f"bull:{MEDIA_B64}")
    measurement, _ = probe(redis_url, layout="bullmq", queues=["media", "mdeia"], workers=True)
    assert value(measurement, "depth.media") == 0
    assert value(measurement, "workers.media") == 1
    assert "no worker connected to it" in measurement.missing["depth.mdeia"]
    assert "workers.mdeia" in measurement.missing


def test_bullmq_python_worker_counted_as_its_library_counts(redis_url: str) -> None:
    """The Python port names its connections `<prefix>:<queue>`; its own count is the reference."""

    async def scenario() -> tuple[int, Any, Any]:
        queue = Queue("media", {"connection": redis_url})
        await queue.add("resize", {"n": 1})

        async def process(job: Any, token: str) -> str:
            return "done"

        worker = Worker("media", process, {"connection": redis_url})
        deadline = time.monotonic() + 20
        while not await queue.get_workers_count() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        library = await queue.get_workers_count()
        running = await asyncio.to_thread(
            probe, redis_url, layout="bullmq", queues=["media"], workers=True
        )
        await worker.close()
        stopped = await asyncio.to_thread(
            probe, redis_url, layout="bullmq", queues=["media"], workers=True
        )
        await queue.close()
        return library, running[0], stopped[0]

    library, running, stopped = run_async(scenario())
    assert library > 0
    assert value(running, "workers.media") == library
    assert value(stopped, "workers.media") == 0


def test_bullmq_client_list_refused_is_said_not_zero(
    redis_url: str, redis_client: redis.Redis, named: Any
) -> None:
    """A read-only user (`+@read`) may not list connections: the workers are missing, with why."""
    add_job(redis_url, "media")
    named(f"bull:{MEDIA_B64}")
    redis_client.acl_setuser(
        "sloprobe-reader", enabled=True, passwords=["+reader-pw"], keys=["*"], commands=["+@read"]
    )
    try:
        url = redis_url.replace("redis://", "redis://sloprobe-reader:reader-pw@")
        measurement, _ = probe(url, layout="bullmq", queues=["media"], workers=True)
    finally:
        redis_client.acl_deluser("sloprobe-reader")
    assert value(measurement, "depth.media") == 1
    assert "workers" not in measurement.series
    assert "workers.media" not in measurement.series
    reason = measurement.missing["workers.media"]
    assert "CLIENT LIST" in reason
    assert "+client|list" in reason
    assert measurement.missing["workers"] == reason


def test_celery_workers_are_counted_through_flower(redis_url: str) -> None:
    """Redis shows no live Celery worker: the probe says where to count them, never 0."""
    with pytest.raises(ValidationError, match=r"through Flower.*`/api/workers\?status=1`"):
        RedisQueueProbe.model_validate(
            {"url": redis_url, "layout": "celery", "queues": ["celery"], "workers": True}
        )
    app = Celery("sloprobe-test", broker=redis_url, set_as_current=False)
    try:
        app.send_task("sloprobe.test.task", args=(1,), queue="celery")
    finally:
        app.close()
    measurement, _ = probe(redis_url, layout="celery", queues=["celery"])
    assert value(measurement, "depth.celery") == 1
    assert not any(name.startswith("workers") for name in measurement.series)
    note = measurement.details["workers"]
    assert "counted through Flower" in note
    assert "`/api/workers?status=1`" in note
    assert "_kombu.binding.celery.pidbox" in note


def test_series_units_of_bullmq_workers() -> None:
    spec = RedisQueueProbe.model_validate(
        {"url": "redis://cache", "layout": "bullmq", "queues": ["a"], "workers": True}
    )
    units = redis_series_units(spec)
    assert {"workers", "workers.a"} <= set(units)
    assert "heartbeat_age" not in units  # BullMQ workers have no heartbeat in Redis
