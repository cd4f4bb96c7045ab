"""BullMQ: sloprobe's per-state counts and waiting depth equal what the bullmq client reports."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import redis
from bullmq import Queue, Worker

from tests.redis.conftest import probe, run_async, value

STATES = (
    "wait",
    "active",
    "delayed",
    "prioritized",
    "paused",
    "waiting-children",
    "failed",
    "completed",
)


async def counts(queue: Queue) -> dict[str, int]:
    return dict(await queue.getJobCounts(*STATES))


async def wait_for(queue: Queue, **expected: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        now = await counts(queue)
        if all(now[state] == n for state, n in expected.items()):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"BullMQ counts never reached {expected}: {now}")


def assert_same(measurement: Any, queue: str, library: dict[str, int], waiting: int) -> None:
    for state in STATES:
        assert value(measurement, f"depth.{queue}.{state}") == library[state], state
    assert value(measurement, f"depth.{queue}") == waiting


def test_every_state_and_pause_match_bullmq(redis_url: str) -> None:
    """Jobs in every state (a live worker completes, fails and holds jobs), then the queue paused."""

    async def scenario() -> list[tuple[Any, dict[str, int], int, bool]]:
        queue = Queue("media", {"connection": redis_url})
        release = asyncio.Event()

        async def process(job: Any, token: str) -> str:
            if job.name == "boom":
                raise RuntimeError("synthetic failure")
            if job.name == "hold":
                await release.wait()
            return "done"

        worker = Worker("media", process, {"connection": redis_url, "concurrency": 1})
        seen = []
        try:
            for name in ("ok", "ok", "boom", "hold"):
                await queue.add(name, {})
            await wait_for(queue, completed=2, failed=1, active=1)
            for _ in range(3):
                await queue.add("later", {})
            for priority in (1, 5, 5):
                await queue.add("urgent", {}, {"priority": priority})
            for _ in range(2):
                await queue.add("tomorrow", {}, {"delay": 60_000})
            for paused in (False, True):
                if paused:
                    await queue.pause()
                library = await counts(queue)
                waiting = await queue.getWaitingCount() + library["prioritized"] + library["paused"]
                measurement, _ = await asyncio.to_thread(
                    probe, redis_url, layout="bullmq", queues=["media", "absent"]
                )
                seen.append((measurement, library, waiting, await queue.isPaused()))
        finally:
            release.set()
            await worker.close()
            await queue.close()
        return seen

    (running, library, waiting, paused), (stopped, library_p, waiting_p, paused_p) = run_async(
        scenario()
    )
    assert library == {
        "wait": 3,
        "active": 1,
        "delayed": 2,
        "prioritized": 3,
        "paused": 0,
        "waiting-children": 0,
        "failed": 1,
        "completed": 2,
    }
    assert_same(running, "media", library, waiting)
    assert waiting == 6
    assert value(running, "paused.media") is paused is False
    # a queue BullMQ never wrote is said as such, and the total is not given without it
    assert "bull:absent:meta" in running.missing["depth.absent"]
    assert "`absent`" in running.missing["depth"]
    assert "depth" not in running.series
    assert "paused.absent" not in running.series
    assert running.missing["paused.absent"] == running.missing["depth.absent"]

    assert_same(stopped, "media", library_p, waiting_p)
    assert value(stopped, "paused.media") is paused_p is True
    assert value(stopped, "depth.media") == 6  # paused jobs still wait
    assert running.series["paused.media"].unit == "bool"


def test_legacy_paused_list(redis_url: str, redis_client: redis.Redis) -> None:
    """BullMQ < 5 paused a queue by renaming `wait` to `paused`; those jobs still wait."""

    async def scenario() -> dict[str, int]:
        queue = Queue("legacy", {"connection": redis_url})
        for _ in range(4):
            await queue.add("job", {})
        redis_client.rename("bull:legacy:wait", "bull:legacy:paused")
        redis_client.hset("bull:legacy:meta", "paused", 1)
        library = await counts(queue)
        await queue.close()
        return library

    library = run_async(scenario())
    assert library["paused"] == 4
    measurement, _ = probe(redis_url, layout="bullmq", queues=["legacy"])
    assert value(measurement, "depth.legacy.paused") == 4
    assert value(measurement, "depth.legacy") == 4
    assert value(measurement, "paused.legacy") is True


def test_oldest_age_and_custom_prefix(redis_url: str) -> None:
    async def scenario() -> tuple[int, int]:
        queue = Queue("thumbs", {"connection": redis_url, "prefix": "myapp"})
        first = await queue.add("job", {})
        await asyncio.sleep(1.0)
        for _ in range(2):
            await queue.add("job", {})
        await queue.add("job", {}, {"priority": 2})
        waiting = await queue.getJobCountByTypes("wait", "prioritized")
        await queue.close()
        return first.timestamp, waiting

    created_ms, waiting = run_async(scenario())
    measurement, _ = probe(redis_url, layout="bullmq", queues=["thumbs"], prefix="myapp")
    assert value(measurement, "depth") == waiting == 4
    expected = time.time() - created_ms / 1000
    assert abs(float(value(measurement, "oldest_age")) - expected) < 0.3
    assert float(value(measurement, "oldest_age")) >= 1.0
    default_prefix, _ = probe(redis_url, layout="bullmq", queues=["thumbs"])
    assert default_prefix.failure is None
    assert "depth" not in default_prefix.series  # the wrong prefix is not read as an empty queue
    assert "no `bull:thumbs:meta` key" in default_prefix.missing["depth.thumbs"]
