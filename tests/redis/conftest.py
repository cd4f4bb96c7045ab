"""Real redis-server processes for the Redis queue probe tests (started by pytest-redis).

Every test here fills queues with the real client libraries (rq, celery/kombu,
bullmq) and compares sloprobe's reading with what the library reports itself.
Without a ``redis-server`` on PATH the whole directory is skipped, with the reason.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
from collections.abc import Coroutine, Iterator
from typing import Any

import pytest
import redis
from pytest_redis import factories
from pytest_redis.executor import RedisExecutor

from sloprobe.model.measurement import Measurement
from sloprobe.probes.redis.measure import run_redis_queue_probe
from sloprobe.probes.redis.spec import RedisQueueProbe
from sloprobe.redact import Redactor

PASSWORD = "s3cret-Redis-pw"

redis_server = factories.redis_proc(port=None)
redis_auth_server = factories.redis_proc(port=None, password=PASSWORD)
redis_doomed_server = factories.redis_proc(port=None)
redis_frozen_server = factories.redis_proc(port=None)
redis_client = factories.redisdb("redis_server", decode=True)  # flushed after each test


SERVERS = {"redis_server", "redis_auth_server", "redis_doomed_server", "redis_frozen_server"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Without redis-server, skip (with the reason) exactly the tests that need one."""
    if shutil.which("redis-server") is not None:
        return
    skip = pytest.mark.skip(
        reason="redis-server is not on PATH (apt-get install redis-server); this test needs a real one"
    )
    for item in items:
        if SERVERS & set(getattr(item, "fixturenames", ())):
            item.add_marker(skip)


def url_of(proc: RedisExecutor, password: str | None = None, db: int = 0) -> str:
    auth = f":{password}@" if password else ""
    return f"redis://{auth}{proc.host}:{proc.port}/{db}"


@pytest.fixture
def redis_url(redis_server: RedisExecutor, redis_client: redis.Redis) -> str:
    """An empty database of the shared server (pytest-redis flushes it after the test)."""
    return url_of(redis_server)


def run_async(coro: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(coro)


def probe(url: str, **fields: Any) -> tuple[Measurement, Redactor]:
    """Run the probe once, as the runner would, and hand back its Redactor too."""
    spec = RedisQueueProbe.model_validate({"url": url, **fields})
    redactor = Redactor()
    return run_async(run_redis_queue_probe("queue", spec, redactor)), redactor


def value(measurement: Measurement, series: str) -> float | str | bool:
    assert measurement.failure is None, measurement.failure
    assert series in measurement.series, (series, dict(measurement.missing))
    (sample,) = measurement.series[series].samples
    return sample


@pytest.fixture
def frozen_redis(redis_frozen_server: RedisExecutor) -> Iterator[RedisExecutor]:
    """A redis-server that accepts connections and never answers (SIGSTOP), for timeouts."""
    pid = redis_frozen_server.process.pid if redis_frozen_server.process else None
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)
    try:
        yield redis_frozen_server
    finally:
        os.kill(pid, signal.SIGCONT)
