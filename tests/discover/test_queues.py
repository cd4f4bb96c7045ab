"""`--redis URL`: RQ and Celery queues found by a bounded SCAN, under their real names;
`--flower URL`: Celery workers through Flower's API. The URL is written as `${REDIS_URL}`."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis
from celery import Celery
from rq import Queue

from tests.discover.support import discover, run_suite, validates
from tests.support.redis_process import have_redis_server, redis_process
from tests.support.scripted_server import Answer, ScriptedServer, scripted_server

pytestmark = pytest.mark.skipif(not have_redis_server(), reason="needs redis-server on PATH")


def test_queues_in_redis_and_workers_in_flower(
    scripted: ScriptedServer,
    pytester: pytest.Pytester,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scripted.routes["/health"] = Answer(200, '{"status": "ok"}')
    workers = Answer(200, '{"celery@a": true, "celery@b": false}')
    with redis_process() as server, scripted_server({"/api/workers": workers}) as flower:
        connection = redis.Redis.from_url(server.url)
        for queue in ("default", "default", "emails"):
            Queue(queue, connection=connection).enqueue("os.getpid")
        Celery(broker=server.url).send_task("tasks.render", queue="video")
        status, out, err = discover(
            scripted.base_url,
            "--out",
            str(tmp_path),
            "--redis",
            server.url,
            "--flower",
            flower.base_url,
        )
        assert status == 0, out + err
        assert "redis             found" in out and "rq default, emails; celery video" in out
        assert [(method, path) for method, path, _ in flower.requests] == [
            ("GET", "/api/workers?status=1"),
            ("GET", "/api/tasks?state=FAILURE&limit=100"),  # 404 here: no failed-tasks probe
        ]
        spec = validates(tmp_path / "slo.yaml")
        text = (tmp_path / "slo.yaml").read_text()
        assert text.count('url: "${REDIS_URL}"') == 2  # never the URL itself
        assert spec.probes["rq-queues"].redis.queues == ["default", "emails"]
        assert spec.probes["celery-queues"].redis.queues == ["video"]
        assert spec.slos["celery-workers-live"].probe == "flower-workers"
        assert "rq-workers" not in spec.slos  # no RQ worker was running: nothing to hold
        monkeypatch.setenv("REDIS_URL", server.url)
        ret, verdicts = run_suite(pytester, tmp_path / "slo.yaml", scripted.base_url)
    assert ret == 0, {s: (v["status"], v["reason"]) for s, v in verdicts.items()}
    assert verdicts["rq-queue-depth"]["observed"] == "value = 3"


def test_an_unreachable_redis_is_reported_refused(
    scripted: ScriptedServer, closed_port_url: str
) -> None:
    scripted.routes["/health"] = Answer(200, '{"status": "ok"}')
    redis_url = closed_port_url.replace("http://", "redis://:pw-71c0@") + "/0"
    status, out, err = discover(scripted.base_url, "--print", "--redis", redis_url)
    assert status == 0
    assert "redis             refused" in err and "pw-71c0" not in out + err


def test_a_flower_url_with_credentials_is_written_as_a_variable(
    scripted: ScriptedServer, tmp_path: Path
) -> None:
    scripted.routes["/health"] = Answer(200, '{"status": "ok"}')
    routes = {
        "/api/workers": Answer(200, '{"celery@a": true}'),
        "/api/tasks": Answer(200, '{"3f2a": {"state": "FAILURE"}}'),
    }
    with scripted_server(routes) as flower:
        url = flower.base_url.replace("http://", "http://admin:fl-5ecret@")
        status, out, err = discover(scripted.base_url, "--out", str(tmp_path), "--flower", url)
    assert status == 0, out + err
    text = (tmp_path / "slo.yaml").read_text()
    assert 'path: "${FLOWER_URL}/api/workers"' in text  # a variable, not `$${…}` text
    assert '#     path: "${FLOWER_URL}/api/tasks"' in text  # commented out: its bound is yours
    assert 'failed: { json: ".", length: true, unit: count }  # seen: 1' in text
    assert "fl-5ecret" not in text + out + err
    spec = validates(tmp_path / "slo.yaml")
    assert spec.slos["celery-workers-live"].probe == "flower-workers"
    assert "flower-failed" not in spec.probes
