"""A wrong prefix, sep or priority steps never passes as a right number: the count is right, or a note says why not.

Queues are filled by the real rq and celery/kombu libraries; the numbers are
compared with what the library reports about itself.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import redis
import rq
from celery import Celery

from sloprobe.model.measurement import Measurement
from sloprobe.probes.redis import layouts
from tests.redis.conftest import probe, value

# --- RQ -----------------------------------------------------------------------------------


@pytest.fixture
def connection(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)  # rq stores pickles: no decode_responses
    yield client
    client.close()


def missing_reason(measurement: Measurement, queue: str) -> str:
    """``queue`` is reported missing, with no series and no total read as 0."""
    assert measurement.failure is None, measurement.failure
    assert not [name for name in measurement.series if queue in name.split(".")]
    assert "depth" not in measurement.series
    return measurement.missing[f"depth.{queue}"]


@pytest.mark.parametrize("wrong", ["myapp:queue:", "rq:"])
def test_rq_wrong_prefix_with_a_worker_is_missing_with_a_hint(
    redis_url: str, connection: redis.Redis, wrong: str
) -> None:
    """A worker registration names a queue, not its prefix: it cannot vouch for another prefix."""
    queue = rq.Queue("jobs", connection=connection)
    for _ in range(3):
        queue.enqueue("os.getpid")
    worker = rq.Worker([queue], connection=connection, name="truth-worker")
    worker.register_birth()
    try:
        assert connection.smembers("rq:workers:jobs") == {b"rq:worker:truth-worker"}
        measurement, _ = probe(redis_url, layout="rq", queues=["jobs"], prefix=wrong)
        reason = missing_reason(measurement, "jobs")
        assert reason.startswith(f"queue `jobs` does not exist in Redis at {redis_url}: ")
        assert f"`{wrong}jobs` is not in" in reason
        assert "found under `rq:`" in reason
        assert "check `prefix`" in reason
        # the right prefix still reads what rq counts, and the worker
        right, _ = probe(redis_url, layout="rq", queues=["jobs"], workers=True)
        assert value(right, "depth.jobs") == value(right, "depth") == len(queue) == 3
        assert value(right, "workers.jobs") == 1
        assert not [k for k in right.missing if k.startswith("depth")]
    finally:
        worker.register_death()


def test_rq_key_prefix_hint_and_worker_only_queue(redis_url: str, connection: redis.Redis) -> None:
    """Under RQ_KEY_PREFIX=myapp: the default prefix is told where the queues are; the right one reads them."""
    script = (
        "import sys, redis, rq; c = redis.Redis.from_url(sys.argv[1]); "
        "q = rq.Queue('jobs', connection=c); [q.enqueue('os.getpid') for _ in range(2)]; "
        "rq.Worker(['idle'], connection=c, name='idle-worker').register_birth()"
    )
    env = {**os.environ, "RQ_KEY_PREFIX": "myapp"}
    subprocess.run([sys.executable, "-c", script, redis_url], env=env, check=True)
    assert connection.exists("myapp:workers:idle", "myapp:queue:jobs") == 2
    right, _ = probe(redis_url, layout="rq", queues=["jobs", "idle"], prefix="myapp:queue:")
    assert value(right, "depth.jobs") == 2
    assert value(right, "depth.idle") == 0  # a worker under the configured namespace makes it real
    default, _ = probe(redis_url, layout="rq", queues=["jobs", "idle"])
    for queue in ("jobs", "idle"):
        reason = missing_reason(default, queue)
        assert "found under `myapp:`" in reason
        assert "check `prefix`" in reason


def test_rq_misspelt_name_has_no_hint(redis_url: str, connection: redis.Redis) -> None:
    rq.Queue("jobs", connection=connection).enqueue("os.getpid")
    rq.Worker(["jobs"], connection=connection, name="w").register_birth()
    measurement, _ = probe(redis_url, layout="rq", queues=["jobs", "jbos"], prefix="other:queue:")
    assert "found under" not in missing_reason(measurement, "jbos")
    assert "found under `rq:`" in measurement.missing["depth.jobs"]


# --- Celery -------------------------------------------------------------------------------

# Nine messages over priorities 0..9; queue names are used by no other test (kombu declares a
# binding once per process and broker URL, see test_missing_queues.py).
PRIORITIES = [0, 1, 2, 3, 4, 5, 7, 8, 9]


@pytest.fixture
def celery_app(redis_url: str) -> Iterator[Any]:
    apps: list[Celery] = []

    def make(**transport_options: Any) -> Celery:
        app = Celery("sloprobe-test", broker=redis_url, set_as_current=False)
        app.conf.broker_transport_options = {
            "queue_order_strategy": "priority",
            **transport_options,
        }
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.close()


def fill(app: Celery, queue: str) -> int:
    """Publish :data:`PRIORITIES` to ``queue``; kombu's own count of it."""
    for priority in PRIORITIES:
        app.send_task("sloprobe.test.task", queue=queue, priority=priority)
    with app.connection_for_write() as connection:
        return int(connection.default_channel._size(queue))


def test_celery_app_steps_beyond_the_configured_are_counted(
    redis_url: str, redis_client: redis.Redis, celery_app: Any
) -> None:
    """Celery's docs suggest steps 0..9; a probe left at kombu's [0, 3, 6, 9] still counts all."""
    app = celery_app(priority_steps=list(range(10)))
    assert fill(app, "lt-steps") == 9
    assert redis_client.llen("lt-steps\x06\x165") == 1  # a list the default steps do not name
    measurement, _ = probe(redis_url, layout="celery", queues=["lt-steps"])
    assert value(measurement, "depth.lt-steps") == value(measurement, "depth") == 9
    assert "priority lists" not in measurement.details
    configured, _ = probe(
        redis_url, layout="celery", queues=["lt-steps"], priority_steps=list(range(10))
    )
    assert value(configured, "depth") == 9


def test_celery_other_sep_is_named_not_counted(
    redis_url: str, redis_client: redis.Redis, celery_app: Any
) -> None:
    app = celery_app(sep=":")
    assert fill(app, "lt-sep") == 9
    assert redis_client.llen("lt-sep:3") == 3  # priorities 3, 4 and 5
    measurement, _ = probe(redis_url, layout="celery", queues=["lt-sep"])
    assert value(measurement, "depth.lt-sep") == redis_client.llen("lt-sep") == 3
    note = measurement.details["priority lists"]
    assert "`lt-sep:3`, `lt-sep:6`, `lt-sep:9`" in note
    assert "hold 6 messages" in note
    assert "sep `\\x06\\x16` does not match" in note
    assert 'set `sep: ":"`' in note
    right, _ = probe(redis_url, layout="celery", queues=["lt-sep"], sep=":")
    assert value(right, "depth") == 9
    assert "priority lists" not in right.details


def test_celery_unusual_lists_are_found_by_scan(
    redis_url: str, redis_client: redis.Redis, celery_app: Any
) -> None:
    """A separator and a step no fixed guess covers, under a queue name full of glob characters."""
    queue = "lt-odd[*]?"
    odd = celery_app(sep="|", priority_steps=[3, 12])  # kombu puts priorities below 3 in step 12
    assert fill(odd, queue) == 9
    assert redis_client.llen(f"{queue}|12") == 3  # priorities 0, 1 and 2
    measurement, _ = probe(redis_url, layout="celery", queues=[queue])
    assert f"`{queue}|3`, `{queue}|12`" in measurement.details["priority lists"]
    assert 'set `sep: "|"`' in measurement.details["priority lists"]
    right, _ = probe(redis_url, layout="celery", queues=[queue], sep="|")
    assert value(right, "depth") == 9  # step 12 counted though the steps are the default


def test_celery_search_cut_short_is_said(
    redis_url: str, redis_client: redis.Redis, celery_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the bound the lists read directly still count, and a note says what was not searched."""
    app = celery_app(priority_steps=list(range(10)), sep=":")
    assert fill(app, "lt-big") == 9
    redis_client.mset({f"celery-task-meta-{i}": "x" for i in range(300)})
    monkeypatch.setattr(layouts, "LIST_SCAN_COUNT", 10)
    monkeypatch.setattr(layouts, "LIST_SCAN_CALLS", 2)
    measurement, _ = probe(redis_url, layout="celery", queues=["lt-big"])
    assert value(measurement, "depth") == 1  # the bare list; `:`-lists are named, not counted
    note = measurement.details["priority lists"]
    assert "`lt-big:1`" in note
    assert "within 2 SCAN calls" in note
    right, _ = probe(redis_url, layout="celery", queues=["lt-big"], sep=":")
    assert value(right, "depth") == 9
    assert "within 2 SCAN calls" in right.details["priority lists"]
