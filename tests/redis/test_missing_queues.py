"""A queue that does not exist is said as such, never read as a quiet 0; an empty one still reads 0.

Every queue here is made (and emptied) by the real library, and the keys it
leaves are asserted, so a library that stops writing them fails here first.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import redis
import rq
from bullmq import Queue as BullQueue
from celery import Celery
from kombu import Exchange
from kombu import Queue as KombuQueue
from pytest_redis.executor import RedisExecutor

from sloprobe.model.measurement import Measurement
from sloprobe.probes.redis import layouts
from tests.redis.conftest import probe, run_async, url_of, value


def assert_missing(measurement: Measurement, queue: str, url: str, *evidence: str) -> str:
    """``queue`` has no series, only a reason naming it, the server and what was not found."""
    assert measurement.failure is None, measurement.failure
    reason = measurement.missing[f"depth.{queue}"]
    assert reason.startswith(f"queue `{queue}` does not exist in Redis at {url}: ")
    assert reason.endswith("; check the name and `prefix`")
    for text in evidence:
        assert text in reason
    assert not [name for name in measurement.series if queue in name.split(".")]
    assert "depth" not in measurement.series  # a typo can never pass as a total of 0
    assert f"`{queue}`" in measurement.missing["depth"]
    return reason


def assert_no_missing(measurement: Measurement) -> None:
    assert measurement.failure is None, measurement.failure
    assert not [k for k in measurement.missing if k.startswith("depth")], measurement.missing
    assert "queue existence" not in measurement.details


# --- BullMQ -------------------------------------------------------------------------------


def test_bullmq_misspelt_queue_is_missing_next_to_the_real_one(
    redis_url: str, redis_client: redis.Redis
) -> None:
    async def fill() -> int:
        queue = BullQueue("default", {"connection": redis_url})
        for _ in range(3):
            await queue.add("job", {})
        waiting: int = await queue.getWaitingCount()
        await queue.close()
        return waiting

    assert run_async(fill()) == 3
    measurement, _ = probe(redis_url, layout="bullmq", queues=["default", "defualt"])
    reason = assert_missing(measurement, "defualt", redis_url, "no `bull:defualt:meta` key")
    assert "BullMQ writes them" in reason
    assert value(measurement, "depth.default") == 3
    assert value(measurement, "paused.default") is False
    assert float(value(measurement, "oldest_age.default")) >= 0
    for name in ("paused.defualt", "depth.defualt.wait", "oldest_age.defualt"):
        assert measurement.missing[name] == reason
    assert "`defualt`" in measurement.missing["oldest_age"]
    assert redis_client.exists("bull:default:meta") and not redis_client.keys("bull:defualt:*")


def test_bullmq_empty_existing_queues_read_zero(redis_url: str, redis_client: redis.Redis) -> None:
    """meta is written by the first add or a pause and outlives remove, drain and resume."""

    async def make() -> None:
        removed = BullQueue("removed", {"connection": redis_url})
        job = await removed.add("job", {})
        await job.remove()
        drained = BullQueue("drained", {"connection": redis_url, "prefix": "myapp"})
        await drained.add("job", {})
        await drained.drain()
        resumed = BullQueue("resumed", {"connection": redis_url})
        await resumed.pause()
        await resumed.resume()
        untouched = BullQueue("untouched", {"connection": redis_url})
        await untouched.getJobCounts("wait")  # a Queue object alone writes nothing
        for queue in (removed, drained, resumed, untouched):
            await queue.close()

    run_async(make())
    assert redis_client.exists("bull:removed:meta", "myapp:drained:meta") == 2
    assert not redis_client.exists("bull:removed:wait", "myapp:drained:wait")
    # resume empties the meta of a queue that never had a job: Redis drops it, `events` stays
    assert redis_client.keys("bull:resumed:*") == ["bull:resumed:events"]
    assert redis_client.keys("bull:untouched:*") == []

    measurement, _ = probe(redis_url, layout="bullmq", queues=["removed", "resumed"])
    assert_no_missing(measurement)
    assert value(measurement, "depth") == 0
    assert value(measurement, "depth.removed") == value(measurement, "depth.resumed") == 0
    assert value(measurement, "paused.resumed") is False
    assert value(measurement, "oldest_age") == 0
    prefixed, _ = probe(redis_url, layout="bullmq", queues=["drained"], prefix="myapp")
    assert_no_missing(prefixed)
    assert value(prefixed, "depth.drained") == 0
    never, _ = probe(redis_url, layout="bullmq", queues=["untouched"])
    assert_missing(never, "untouched", redis_url, "no `bull:untouched:meta` key")


def test_bullmq_paused_empty_queue_exists(redis_url: str) -> None:
    async def pause() -> None:
        queue = BullQueue("held", {"connection": redis_url})
        await queue.pause()
        await queue.close()

    run_async(pause())
    measurement, _ = probe(redis_url, layout="bullmq", queues=["held"])
    assert value(measurement, "depth.held") == 0
    assert value(measurement, "paused.held") is True


def test_bullmq_jobs_without_meta_still_exist(redis_url: str, redis_client: redis.Redis) -> None:
    """Whatever holds jobs is a queue, even if its meta hash was lost."""

    async def fill() -> None:
        queue = BullQueue("orphan", {"connection": redis_url})
        await queue.add("later", {}, {"delay": 60_000})
        await queue.close()

    run_async(fill())
    redis_client.delete("bull:orphan:meta")
    measurement, _ = probe(redis_url, layout="bullmq", queues=["orphan"])
    assert_no_missing(measurement)
    assert value(measurement, "depth.orphan.delayed") == 1
    assert value(measurement, "depth.orphan") == 0


# --- RQ -----------------------------------------------------------------------------------


@pytest.fixture
def connection(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)  # rq stores pickles: no decode_responses
    yield client
    client.close()


def test_rq_misspelt_queue_is_missing_next_to_the_real_one(
    redis_url: str, connection: redis.Redis
) -> None:
    queue = rq.Queue("default", connection=connection)
    for _ in range(2):
        queue.enqueue("os.getpid")
    measurement, _ = probe(redis_url, layout="rq", queues=["default", "defualt"], workers=True)
    assert_missing(
        measurement,
        "defualt",
        redis_url,
        "`rq:queue:defualt` is not in `rq:queues`",
        "no worker is registered for it",
    )
    assert value(measurement, "depth.default") == len(queue) == 2
    assert value(measurement, "workers.default") == 0
    assert "workers.defualt" in measurement.missing
    assert value(measurement, "workers") == 0  # workers are not per queue: still counted
    assert connection.smembers("rq:queues") == {b"rq:queue:default"}


def test_rq_empty_existing_queues_read_zero(redis_url: str, connection: redis.Redis) -> None:
    """rq keeps a queue in `rq:queues` once anything was enqueued to it, emptied or not."""
    emptied = rq.Queue("emptied", connection=connection)
    emptied.enqueue("os.getpid")
    emptied.empty()
    taken = rq.Queue("taken", connection=connection)
    taken.remove(taken.enqueue("os.getpid"))
    later = rq.Queue("later", connection=connection)
    later.enqueue_in(timedelta(hours=1), "os.getpid")  # scheduled: nothing in the list yet
    assert connection.smembers("rq:queues") == {
        b"rq:queue:emptied",
        b"rq:queue:taken",
        b"rq:queue:later",
    }
    assert not connection.exists("rq:queue:emptied", "rq:queue:taken", "rq:queue:later")
    assert len(emptied) == len(taken) == len(later) == 0

    measurement, _ = probe(redis_url, layout="rq", queues=["emptied", "taken", "later"])
    assert_no_missing(measurement)
    assert value(measurement, "depth") == 0
    assert value(measurement, "oldest_age") == 0

    emptied.delete()  # rq's own way to remove a queue: it leaves `rq:queues`
    measurement, _ = probe(redis_url, layout="rq", queues=["emptied", "taken"])
    assert_missing(measurement, "emptied", redis_url)
    assert value(measurement, "depth.taken") == 0


def test_rq_queue_with_jobs_exists_without_registration(
    redis_url: str, connection: redis.Redis
) -> None:
    rq.Queue("default", connection=connection).enqueue("os.getpid")
    connection.delete("rq:queues")
    measurement, _ = probe(redis_url, layout="rq", queues=["default"])
    assert_no_missing(measurement)
    assert value(measurement, "depth") == 1


def test_refused_existence_check_leaves_the_queue_unverified(
    redis_server: RedisExecutor, redis_url: str, connection: redis.Redis
) -> None:
    """An ACL that allows the queue keys only: the check is skipped, said so, never a failure."""
    full = rq.Queue("full", connection=connection)
    full.enqueue("os.getpid")
    rq.Queue("quiet", connection=connection).enqueue("os.getpid")
    rq.Queue("quiet", connection=connection).empty()
    connection.acl_setuser(
        "queues-only",
        enabled=True,
        passwords=["+queues-pw"],
        keys=["rq:queue:*"],
        commands=["+@read"],
    )
    try:
        url = url_of(redis_server, "queues-pw").replace("//:", "//queues-only:")
        measurement, _ = probe(url, layout="rq", queues=["full", "quiet"], oldest_age=False)
    finally:
        connection.acl_deluser("queues-only")
    assert measurement.failure is None
    assert value(measurement, "depth") == 1
    assert value(measurement, "depth.quiet") == 0
    note = measurement.details["queue existence"]
    assert note.startswith("could not tell whether queue `quiet` exists (")
    assert "reading key 'rq:queues' failed" in note
    assert "`full`" not in note  # a queue holding jobs exists, whatever the ACL
    assert "queues-pw" not in note


# --- Celery -------------------------------------------------------------------------------


@pytest.fixture
def celery_app(redis_url: str) -> Iterator[Any]:
    apps: list[Celery] = []

    def make(**transport_options: Any) -> Celery:
        app = Celery("sloprobe-test", broker=redis_url, set_as_current=False)
        app.conf.broker_transport_options = transport_options
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.close()


# Queue names here are used by no other test: kombu's producer pool is process-wide per broker
# URL and never declares a binding twice, so after pytest-redis's flush a name another test
# declared would get no `_kombu.binding.<name>` again.


def purge(app: Celery, queue: str) -> int:
    with app.connection_for_write() as connection:
        return int(connection.default_channel.queue_purge(queue))


def test_celery_misspelt_queue_is_missing_next_to_the_real_one(
    redis_url: str, redis_client: redis.Redis, celery_app: Any
) -> None:
    app = celery_app()
    for priority in (0, 9):
        app.send_task("sloprobe.test.task", queue="mq-emails", priority=priority)
    measurement, _ = probe(redis_url, layout="celery", queues=["mq-emails", "mq-emials"])
    assert_missing(
        measurement,
        "mq-emials",
        redis_url,
        "no list `mq-emials`",
        "no `_kombu.binding.mq-emials`",
    )
    assert value(measurement, "depth.mq-emails") == 2
    assert redis_client.smembers("_kombu.binding.mq-emails") == {
        "mq-emails\x06\x16\x06\x16mq-emails"
    }


def test_celery_empty_existing_queue_reads_zero(
    redis_url: str, redis_client: redis.Redis, celery_app: Any
) -> None:
    """A published-to queue, then purged: its lists are gone, kombu's binding stays."""
    app = celery_app()
    app.send_task("sloprobe.test.task", queue="mq-digest")
    assert purge(app, "mq-digest") == 1
    assert set(redis_client.keys("*")) == {
        "_kombu.binding.mq-digest",
        "_kombu.binding_permanent.mq-digest",
    }
    measurement, _ = probe(redis_url, layout="celery", queues=["mq-digest"])
    assert_no_missing(measurement)
    assert value(measurement, "depth") == 0


@pytest.mark.parametrize(
    ("options", "prefix"),
    [({}, ""), ({"global_keyprefix": "app[1]_", "sep": ":"}, "app[1]_")],
)
def test_celery_queue_bound_to_another_exchange_exists(
    redis_url: str,
    redis_client: redis.Redis,
    celery_app: Any,
    options: dict[str, str],
    prefix: str,
) -> None:
    """kombu keys bindings by exchange: `videos` on exchange `media` is in `_kombu.binding.media`."""
    app = celery_app(**options)
    with app.connection_for_write() as connection:
        videos = KombuQueue("videos", Exchange("media"), routing_key="media.video")
        videos.bind(connection.default_channel).declare()
    sep = options.get("sep", layouts.KOMBU_SEP)
    assert redis_client.smembers(f"{prefix}_kombu.binding.media") == {
        f"media.video{sep}{sep}videos"
    }
    assert not redis_client.exists(f"{prefix}_kombu.binding.videos")
    extra = {"sep": sep} if "sep" in options else {}
    measurement, _ = probe(
        redis_url, layout="celery", queues=["videos", "vidoes"], prefix=prefix, **extra
    )
    assert value(measurement, "depth.videos") == 0
    assert "depth.videos" not in measurement.missing
    assert_missing(measurement, "vidoes", redis_url, f"`{prefix}_kombu.binding.<exchange>`")


def test_celery_search_too_large_leaves_the_queue_unverified(
    redis_url: str, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The binding tables are searched within a bound; past it the queue is not called missing."""
    redis_client.mset({f"celery-task-meta-{i}": "x" for i in range(500)})
    monkeypatch.setattr(layouts, "SCAN_COUNT", 10)
    monkeypatch.setattr(layouts, "SCAN_CALLS", 2)
    measurement, _ = probe(redis_url, layout="celery", queues=["quiet"])
    assert value(measurement, "depth.quiet") == 0
    assert "within 2 SCAN calls" in measurement.details["queue existence"]
    assert "queue `quiet`" in measurement.details["queue existence"]


# --- judged -------------------------------------------------------------------------------

SUITE = """\
version: 1
service: workers
probes:
  rq:
    redis:
      url: {url}
      layout: rq
      queues: [default, defualt]
slos:
  backlog:
    probe: rq
    measure: depth
    threshold: value < 3
  typo:
    probe: rq
    measure: depth.defualt
    threshold: value == 0
"""


def test_a_typo_is_no_data_not_a_pass(
    pytester: pytest.Pytester, redis_url: str, connection: redis.Redis
) -> None:
    rq.Queue("default", connection=connection).enqueue("os.getpid")
    pytester.makefile(".yaml", slo=SUITE.format(url=redis_url))
    result = pytester.runpytest("--history", "off")
    assert result.ret == 1
    report = json.loads((pytester.path / "reports" / "results.json").read_text())
    verdicts = {v["slo"]: v for v in report["verdicts"]}
    assert {v["status"] for v in verdicts.values()} == {"no_data"}
    assert "queue `defualt` does not exist" in verdicts["backlog"]["reason"]
    assert "queue `defualt` does not exist" in verdicts["typo"]["reason"]


def test_several_missing_queues_are_named_in_the_total(redis_url: str) -> None:
    measurement, _ = probe(redis_url, layout="bullmq", queues=["a", "b"], oldest_age=False)
    assert measurement.missing["depth"].startswith(
        f"queues `a`, `b` do not exist in Redis at {redis_url} (see `depth.a`, `depth.b`)"
    )
    assert measurement.series == {}
