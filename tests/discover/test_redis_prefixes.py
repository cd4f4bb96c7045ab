"""`--redis URL` finds RQ, BullMQ and Celery queues under key prefixes other than the libraries'
defaults, written by the libraries themselves, and proposes `redis` probes that carry the prefix
in the probe's own `prefix` option: the names and the prefix read back exactly, the proposal
validates, runs green on the Redis it came from, and breaches once a backlog passes its bound.

Each test has a database of its own on one redis-server for the module.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import redis
from celery import Celery
from rq import Queue

from tests.discover.support import discover, run_suite, validates
from tests.support.redis_process import RedisProcess, have_redis_server, redis_process
from tests.support.scripted_server import Answer, ScriptedServer

pytestmark = pytest.mark.skipif(not have_redis_server(), reason="needs redis-server on PATH")

BACKLOG = 150  # beyond the proposed bound (depth < 100)
WAIT_S = 15.0


@pytest.fixture(scope="module")
def server() -> Iterator[RedisProcess]:
    with redis_process() as process:
        yield process


def database(server: RedisProcess, number: int) -> str:
    return server.url.rsplit("/", 1)[0] + f"/{number}"


def wait_for(done: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {WAIT_S:g} s for {what}")
        time.sleep(0.02)


def proposed(scripted: ScriptedServer, url: str, tmp_path: Path) -> tuple[str, Any, dict[str, Any]]:
    """(discover's report, the loaded proposal, the probes as written) for the Redis at ``url``."""
    import yaml

    scripted.routes["/health"] = Answer(200, '{"status": "ok"}')
    status, out, err = discover(scripted.base_url, "--out", str(tmp_path), "--redis", url)
    assert status == 0, out + err
    text = (tmp_path / "slo.yaml").read_text()
    return out, validates(tmp_path / "slo.yaml"), yaml.safe_load(text)["probes"]


def green_then_red(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    slo: Path,
    base_url: str,
    url: str,
    depth_slo: str,
    backlog: Callable[[], None],
    depth: int,
) -> None:
    monkeypatch.setenv("REDIS_URL", url)
    ret, verdicts = run_suite(pytester, slo, base_url)
    assert ret == 0, {s: (v["status"], v["reason"]) for s, v in verdicts.items()}
    backlog()
    ret, verdicts = run_suite(pytester, slo, base_url)
    assert ret == 1
    assert {s for s, v in verdicts.items() if v["status"] == "breach"} == {depth_slo}, verdicts
    assert verdicts[depth_slo]["observed"] == f"value = {depth}", verdicts[depth_slo]


def rq_enqueue(url: str, key_prefix: str, queue: str, count: int) -> None:
    """Jobs enqueued by real rq under ``RQ_KEY_PREFIX`` (rq reads it once, when imported)."""
    code = (
        "import sys\nfrom redis import Redis\nfrom rq import Queue\n"
        "q = Queue(sys.argv[2], connection=Redis.from_url(sys.argv[1]))\n"
        "for _ in range(int(sys.argv[3])):\n    q.enqueue('os.getpid')\n"
    )
    subprocess.run(
        [sys.executable, "-c", code, url, queue, str(count)],
        env={**os.environ, "RQ_KEY_PREFIX": key_prefix},
        check=True,
        timeout=60,
    )


class JobsQueue(Queue):
    """A deployment's own namespace for its queue keys, as rq lets a subclass set it."""

    redis_queue_namespace_prefix = "jobs:"


def test_rq_under_rq_key_prefix_and_a_queue_subclass_prefix(
    server: RedisProcess,
    scripted: ScriptedServer,
    pytester: pytest.Pytester,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """rq 3.0: RQ_KEY_PREFIX=myapp keeps `myapp:queues` and `myapp:queue:<name>`; a subclass with
    `redis_queue_namespace_prefix = "jobs:"` registers `jobs:<name>` in `rq:queues`."""
    url = database(server, 1)
    rq_enqueue(url, "myapp", "emails", 2)
    rq_enqueue(url, "myapp", "reports", 1)
    with redis.Redis.from_url(url) as connection:
        JobsQueue("thumbs", connection=connection).enqueue("os.getpid")
        assert connection.smembers("myapp:queues") == {
            b"myapp:queue:emails",
            b"myapp:queue:reports",
        }
    out, spec, probes = proposed(scripted, url, tmp_path)
    assert 'rq (prefix "myapp:queue:") emails, reports' in out
    assert 'rq (prefix "jobs:") thumbs' in out
    assert probes["rq-myapp-queues"]["redis"] == {
        "url": "${REDIS_URL}",
        "layout": "rq",
        "queues": ["emails", "reports"],
        "prefix": "myapp:queue:",
        "workers": True,
    }
    assert spec.probes["rq-jobs-queues"].redis.queues == ["thumbs"]
    assert spec.probes["rq-jobs-queues"].redis.prefix == "jobs:"
    assert "rq-queues" not in probes  # nothing under the default prefix
    green_then_red(
        pytester,
        monkeypatch,
        tmp_path / "slo.yaml",
        scripted.base_url,
        url,
        "rq-myapp-queue-depth",
        lambda: rq_enqueue(url, "myapp", "emails", BACKLOG),
        2 + 1 + BACKLOG,
    )


@contextmanager
def bullmq_loop() -> Iterator[Callable[[Any], Any]]:
    """A loop of its own in a thread, as a Node process would run BullMQ; yields `run(coro)`."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def run(coro: Any) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coro, loop)
        return future.result(30)

    try:
        yield run
    finally:

        async def leftovers() -> None:
            current = asyncio.current_task()
            left = [t for t in asyncio.all_tasks() if t is not current]
            for task in left:
                task.cancel()
            await asyncio.gather(*left, return_exceptions=True)

        run(leftovers())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


def test_bullmq_under_its_prefix_option_with_an_idle_queue_found_by_its_worker(
    server: RedisProcess,
    scripted: ScriptedServer,
    pytester: pytest.Pytester,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Real BullMQ: PyPI bullmq 3.4 (the Python port of BullMQ 5, its Lua scripts as BullMQ's),
    `prefix: "myapp"`. `renders` holds a job (keys `myapp:renders:{meta,id,events,wait}`);
    `thumbnails` has a worker and no job yet, so no key: only its connection, named
    `myapp:thumbnails` in CLIENT LIST, shows it."""
    from bullmq import Queue as BullQueue
    from bullmq import Worker

    url = database(server, 2)
    opts = {"connection": url, "prefix": "myapp"}

    async def idle(job: Any, token: str) -> None:
        return None

    with bullmq_loop() as run:

        async def start() -> tuple[Any, Any]:
            return BullQueue("renders", opts), Worker("thumbnails", idle, opts)

        renders, worker = run(start())
        try:
            run(renders.add("render", {"frame": 1}))
            names = lambda: [c["name"] for c in redis.Redis.from_url(url).client_list()]  # noqa: E731
            wait_for(lambda: "myapp:thumbnails" in names(), "the worker's connection")
            out, spec, probes = proposed(scripted, url, tmp_path)
            assert 'bullmq (prefix "myapp") renders, thumbnails' in out
            assert probes["bullmq-myapp-queues"]["redis"] == {
                "url": "${REDIS_URL}",
                "layout": "bullmq",
                "queues": ["renders", "thumbnails"],
                "prefix": "myapp",
                "workers": True,
            }
            assert spec.slos["bullmq-myapp-workers"].probe == "bullmq-myapp-queues"
            assert (
                "a worker's connection named myapp:thumbnails"
                in (tmp_path / "slo.yaml").read_text()
            )

            async def backlog() -> None:
                for frame in range(BACKLOG):
                    await renders.add("render", {"frame": frame})

            green_then_red(
                pytester,
                monkeypatch,
                tmp_path / "slo.yaml",
                scripted.base_url,
                url,
                "bullmq-myapp-queue-depth",
                lambda: run(backlog()),
                1 + BACKLOG,
            )
        finally:
            run(worker.close(force=True))
            run(renders.close())


def test_celery_under_kombus_global_keyprefix(
    server: RedisProcess,
    scripted: ScriptedServer,
    pytester: pytest.Pytester,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """kombu 5.7's `global_keyprefix` prefixes every key, its bindings' too:
    `acme:_kombu.binding.video` and the list `acme:video`."""
    url = database(server, 3)
    app = Celery("acme", broker=url, set_as_current=False)
    app.conf.broker_transport_options = {"global_keyprefix": "acme:"}

    def publish(count: int) -> None:
        for _ in range(count):
            app.send_task("tasks.render", queue="video")

    try:
        publish(1)
        with redis.Redis.from_url(url) as connection:
            assert connection.exists("acme:_kombu.binding.video", "acme:video") == 2
        out, _, probes = proposed(scripted, url, tmp_path)
        assert 'celery (prefix "acme:") video' in out
        assert probes["celery-acme-queues"]["redis"] == {
            "url": "${REDIS_URL}",
            "layout": "celery",
            "queues": ["video"],
            "prefix": "acme:",
        }
        assert "celery-queues" not in probes
        green_then_red(
            pytester,
            monkeypatch,
            tmp_path / "slo.yaml",
            scripted.base_url,
            url,
            "celery-acme-queue-depth",
            lambda: publish(BACKLOG),
            1 + BACKLOG,
        )
    finally:
        app.close()


def test_lookalike_keys_and_connections_are_not_taken_for_queues(
    server: RedisProcess, scripted: ScriptedServer, tmp_path: Path
) -> None:
    """Names shaped like a layout's, without its types or its sets, propose nothing."""
    url = database(server, 4)
    with redis.Redis.from_url(url) as connection:
        connection.zadd("rq:failed:completed", {"job-1": 1})  # RQ's registry of a queue `completed`
        connection.rpush("shop:orders:wait", "1")  # a list, with no meta, events or id beside it
        connection.hset("shop:orders:meta", "owner", "shop")  # a hash, as BullMQ's meta is
        connection.set("shop:orders:active", "x")  # BullMQ's `active` is a list: not BullMQ
        connection.sadd("app:queues", "default", "emails")  # a set named *:queues of bare names
        connection.sadd("other:queues", "elsewhere:queue:x")  # members of another namespace
        connection.client_setname("web:api")  # an `a:b` connection name under no BullMQ prefix
        scripted.routes["/health"] = Answer(200, '{"status": "ok"}')
        status, out, err = discover(scripted.base_url, "--print", "--redis", url)
    assert status == 0, out + err
    assert "redis             not found" in err, err
    assert "layout:" not in out
