"""RQ: sloprobe's depth, job age and workers equal what rq itself reports."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
import redis
from rq import Queue, Worker
from rq.job import Job

from tests.redis.conftest import probe, value

WORKER = (
    "import sys, redis, rq; "
    "rq.Worker(sys.argv[2:], connection=redis.Redis.from_url(sys.argv[1]), name='sloprobe-test').work()"
)


@pytest.fixture
def connection(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)  # rq stores pickles: no decode_responses
    yield client
    client.close()


def test_depth_per_queue_and_total(redis_url: str, connection: redis.Redis) -> None:
    default, high = Queue("default", connection=connection), Queue("high", connection=connection)
    for _ in range(3):
        default.enqueue("os.getpid")
    for _ in range(2):
        high.enqueue("os.getpid")
    measurement, _ = probe(redis_url, layout="rq", queues=["default", "high", "absent"])
    assert value(measurement, "depth.default") == len(default) == default.count == 3
    assert value(measurement, "depth.high") == len(high) == 2
    assert len(Queue("absent", connection=connection)) == 0
    assert "`rq:queue:absent` is not in `rq:queues`" in measurement.missing["depth.absent"]
    assert "depth.absent" not in measurement.series
    assert "oldest_age.absent" in measurement.missing
    assert "`absent`" in measurement.missing["depth"]  # no total that reads `absent` as 0
    assert "`absent`" in measurement.missing["oldest_age"]
    both, _ = probe(redis_url, layout="rq", queues=["default", "high"])
    assert value(both, "depth") == 5
    assert value(both, "oldest_age") > 0
    assert both.series["depth"].unit == "count"


def test_oldest_age_is_the_oldest_job_at_either_end(
    redis_url: str, connection: redis.Redis
) -> None:
    queue = Queue("default", connection=connection)
    oldest = queue.enqueue("os.getpid")
    time.sleep(1.0)
    for _ in range(3):
        queue.enqueue("os.getpid", at_front=True)  # newer, but ahead in line
    queue.enqueue("os.getpid")
    assert queue.job_ids.index(oldest.id) == 3
    measurement, _ = probe(redis_url, layout="rq", queues=["default"])
    enqueued_at = Job.fetch(oldest.id, connection=connection).enqueued_at
    assert enqueued_at is not None
    expected = time.time() - enqueued_at.timestamp()
    assert value(measurement, "oldest_age") == pytest.approx(expected, abs=0.3)
    assert value(measurement, "oldest_age") >= 1.0
    assert measurement.series["oldest_age"].unit == "s"


def test_job_hash_gone_means_missing_age_not_zero(redis_url: str, connection: redis.Redis) -> None:
    queue = Queue("default", connection=connection)
    job = queue.enqueue("os.getpid")
    connection.delete(job.key)
    measurement, _ = probe(redis_url, layout="rq", queues=["default"])
    assert value(measurement, "depth") == 1
    assert "oldest_age" not in measurement.series
    assert "readable enqueue time" in measurement.missing["oldest_age"]


def _stop(worker: subprocess.Popen[bytes], queue: Queue) -> None:
    """Warm shutdown, once rq listens for it: it registers before it installs its signal
    handlers, so a SIGTERM sent at once may find none; it is idle once they are in place."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not any(
        w.get_state() == "idle" for w in Worker.all(queue=queue)
    ):
        time.sleep(0.05)
    worker.send_signal(signal.SIGTERM)  # warm shutdown: rq unregisters the worker
    try:
        worker.wait(timeout=5)  # rq may hang unsubscribing from its pubsub channel
    except subprocess.TimeoutExpired:
        worker.send_signal(signal.SIGTERM)  # a second one: rq's cold shutdown, still unregisters
        worker.wait(timeout=10)


def test_live_worker_and_heartbeat(
    redis_url: str, connection: redis.Redis, tmp_path: object
) -> None:
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, redis_url, "work"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    Queue("default", connection=connection).enqueue("os.getpid")
    Queue("default", connection=connection).empty()  # an existing queue nobody listens on
    try:
        work = Queue("work", connection=connection)  # nothing enqueued: its worker makes it real
        deadline = time.monotonic() + 20
        while not Worker.all(queue=work) and time.monotonic() < deadline:
            time.sleep(0.1)
        (registered,) = Worker.all(queue=work)
        measurement, _ = probe(redis_url, layout="rq", queues=["work", "default"], workers=True)
        assert value(measurement, "workers") == len(Worker.all(connection=connection)) == 1
        assert value(measurement, "workers.work") == 1
        assert value(measurement, "workers.default") == 0
        assert value(measurement, "depth.work") == value(measurement, "depth.default") == 0
        assert registered.last_heartbeat is not None
        expected = time.time() - registered.last_heartbeat.timestamp()
        assert value(measurement, "heartbeat_age") == pytest.approx(expected, abs=0.3)
        assert measurement.series["heartbeat_age"].unit == "s"
    finally:
        _stop(worker, work)
    measurement, _ = probe(redis_url, layout="rq", queues=["work"], workers=True)
    assert value(measurement, "workers") == len(Worker.all(connection=connection)) == 0
    assert "no live RQ worker" in measurement.missing["heartbeat_age"]
    assert "no worker is registered" in measurement.missing["depth.work"]  # never enqueued to


def test_registration_without_worker_hash_is_not_live(
    redis_url: str, connection: redis.Redis
) -> None:
    connection.sadd("rq:workers", "rq:worker:gone")
    connection.sadd("rq:workers:default", "rq:worker:gone")  # its hash expired: a dead worker
    measurement, _ = probe(redis_url, layout="rq", queues=["default"], workers=True)
    assert value(measurement, "workers") == 0
    assert "heartbeat_age" in measurement.missing


def test_rq_key_prefix(redis_url: str, connection: redis.Redis) -> None:
    """RQ_KEY_PREFIX moves every key; rq reads it at import, so the jobs come from a child."""
    script = (
        "import sys, redis, rq; q = rq.Queue('jobs', connection=redis.Redis.from_url(sys.argv[1])); "
        "[q.enqueue('os.getpid') for _ in range(4)]; print(len(q), q.key)"
    )
    env = {**os.environ, "RQ_KEY_PREFIX": "myapp"}
    out = subprocess.run(
        [sys.executable, "-c", script, redis_url],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out == ["4", "myapp:queue:jobs"]
    measurement, _ = probe(redis_url, layout="rq", queues=["jobs"], prefix="myapp:queue:")
    assert value(measurement, "depth.jobs") == 4
    assert 0 <= float(value(measurement, "oldest_age")) < 10  # the job hashes under myapp:job:
    wrong_prefix, _ = probe(redis_url, layout="rq", queues=["jobs"])
    assert "depth" not in wrong_prefix.series  # not read as an empty queue
    assert "`rq:queue:jobs` is not in `rq:queues`" in wrong_prefix.missing["depth.jobs"]
