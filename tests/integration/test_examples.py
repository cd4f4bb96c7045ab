"""Every example in examples/ runs, unchanged, against a server of its shape.

Shape 1 runs in tests/integration/test_luster_example.py; the others here, against local servers that answer exactly as their seed documents
show (mARB's health and Flower's `/api/workers?status=1`, the Pose Generator's
health and metrics, Luneo's metrics and its Prometheus server), with their
queues filled in a real redis-server by the real Celery and BullMQ clients.
Each case asserts the verdict of every SLO, a dead worker's included.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from pytest_redis import factories
from pytest_redis.executor import RedisExecutor

from sloprobe.config import load_slo_file
from sloprobe.config.errors import ConfigError
from tests.support.scripted_server import Answer, ScriptedServer, scripted_server

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
# What each example needs from the environment, with no default standing in for it.
REQUIRED = {
    "fastapi-db-worker": {
        "PROBE_ASSET_ID",
        "JOB_ID_FIELD",
        "JOB_STATUS_FIELD",
        "QUEUE_DEPTH_FIELD",
        "SUCCESS_RATE_FIELD",
        "SUCCESS_RATE_UNIT",
        "PROCESSING_TIME_FIELD",
        "PROCESSING_TIME_UNIT",
        "PROCESSING_TIME_MAX",
        "JOB_E2E_MAX",
    },
    "celery-flower": {
        "FLOWER_URL",
        "CELERY_BROKER_URL",
        "CELERY_QUEUE",
        "CELERY_BACKLOG_MAX",
        "CELERY_FAILED_TASKS_LIMIT",
    },
    "bullmq-node": {"ADMIN_JWT", "REDIS_URL", "BULLMQ_QUEUE"},
    "prometheus": {"PROMETHEUS_URL", "HTTP_REQUESTS_METRIC", "HTTP_ERROR_MATCHER"},
}
SOME_VALUES = {
    "FLOWER_URL": "http://flower.example:5555",
    "CELERY_BROKER_URL": "redis://broker.example:6379/0",
    "CELERY_BACKLOG_MAX": "100",
    "CELERY_FAILED_TASKS_LIMIT": "10",
    "REDIS_URL": "redis://redis.example:6379/0",
    "PROMETHEUS_URL": "http://prometheus.example:9090",
    "SUCCESS_RATE_UNIT": "%",
    "PROCESSING_TIME_UNIT": "s",
    "PROCESSING_TIME_MAX": "60s",
    "JOB_E2E_MAX": "2m",
}
TOKEN = "adm-jwt-5e1f0c77"

examples_redis_proc = factories.redis_proc(port=None)
examples_redis_db = factories.redisdb("examples_redis_proc", decode=True)


# ---------------------------------------------------------------- every example


def test_there_is_an_example_for_each_shape() -> None:
    assert {p.parent.name for p in EXAMPLES.glob("*/slo.yaml")} == set(REQUIRED)


@pytest.mark.parametrize("example", sorted(REQUIRED))
def test_an_example_takes_its_secrets_and_addresses_from_the_environment(example: str) -> None:
    path = EXAMPLES / example / "slo.yaml"
    with pytest.raises(ConfigError) as unset:
        load_slo_file(path, environ={})
    named = {re.search(r"variable `(\w+)` is not set", p.message) for p in unset.value.problems}
    assert {m[1] for m in named if m} == REQUIRED[example]
    environ = {name: SOME_VALUES.get(name, "x") for name in REQUIRED[example]}
    loaded = load_slo_file(path, environ=environ)
    assert loaded.spec.slos


@pytest.mark.parametrize("example", sorted(REQUIRED))
def test_no_example_turns_an_absent_field_into_a_pass(example: str) -> None:
    environ = {name: SOME_VALUES.get(name, "x") for name in REQUIRED[example]}
    spec = load_slo_file(EXAMPLES / example / "slo.yaml", environ=environ).spec
    defaults = [
        f"{probe}.{value}"
        for probe, probe_spec in spec.probes.items()
        for value, value_spec in getattr(probe_spec.body, "values", {}).items()
        if getattr(value_spec, "default", None) is not None
    ]
    assert defaults == []
    passing = {name for name, slo in spec.slos.items() if slo.no_data == "pass"}
    # The one exception: the seed says the workers do not expose that histogram yet.
    assert passing == ({"openai-latency"} if example == "prometheus" else set())


def run(suite: pytest.Pytester, example: str, base_url: str, *args: str) -> Any:
    shutil.copy(EXAMPLES / example / "slo.yaml", suite.path / "slo.yaml")
    return suite.runpytest("--base-url", base_url, "--history=off", "-p", "no:cacheprovider", *args)


def statuses(suite: pytest.Pytester) -> dict[str, str]:
    reports = suite.path / "reports"
    results = reports / "partial" / "results.json"
    if not results.is_file():
        results = reports / "results.json"
    return {v["slo"]: v["status"] for v in json.loads(results.read_text())["verdicts"]}


def breached(found: dict[str, str]) -> set[str]:
    return {slo for slo, status in found.items() if status == "breach"}


# ---------------------------------------------------------------- Redis for shapes 2 and 3


@pytest.fixture
def redis_url(request: pytest.FixtureRequest) -> str:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not on PATH (apt-get install redis-server)")
    proc: RedisExecutor = request.getfixturevalue("examples_redis_proc")
    request.getfixturevalue("examples_redis_db")  # flushed after the test
    return f"redis://{proc.host}:{proc.port}/0"


# ---------------------------------------------------------------- shape 2: mARB, Celery, Flower

# FLOWER_BASIC_AUTH is the header that opens a Flower run with --basic_auth=admin:….
FLOWER_AUTH = "Basic " + base64.b64encode(b"admin:secure_password_here").decode()
MARB_HEALTHY = {
    "status": "healthy",
    "version": "2.0.0",
    "timestamp": "2024-12-20T10:30:00.000000",
    "components": {
        "database": {"status": "healthy", "response_time_ms": 0},
        "redis": {"status": "healthy", "response_time_ms": 0.42},
        "celery": {"status": "healthy", "active_workers": 1},
    },
}
MARB_NO_WORKER = {
    **MARB_HEALTHY,
    "status": "degraded",
    "components": {
        **MARB_HEALTHY["components"],
        "celery": {"status": "unhealthy", "error": "No active workers"},
    },
}


@pytest.fixture
def flower() -> Iterator[ScriptedServer]:
    with scripted_server() as server:
        yield server


def publish_celery_tasks(broker: str, count: int) -> None:
    from celery import Celery

    app = Celery("marb", broker=broker, set_as_current=False)
    try:
        for claim in range(count):
            app.send_task("app.services.queue.tasks.process_claim", args=(claim,), queue="celery")
    finally:
        app.close()


@pytest.mark.parametrize(
    ("alive", "detailed", "expected_breach"),
    [
        pytest.param(True, MARB_HEALTHY, set(), id="worker-alive"),
        # The worker died: Flower still lists it (so the list's length is still 1), its
        # heartbeat-based status is false, and the API's inspect() finds no worker.
        pytest.param(
            False, MARB_NO_WORKER, {"healthy", "celery-up", "workers-live"}, id="worker-dead"
        ),
    ],
)
def test_shape_two_runs_against_marb_and_flower(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    scripted: ScriptedServer,
    flower: ScriptedServer,
    redis_url: str,
    alive: bool,
    detailed: dict[str, Any],
    expected_breach: set[str],
) -> None:
    scripted.routes["/api/v1/health"] = Answer(200, '{"status": "healthy", "version": "2.0.0"}')
    scripted.routes["/api/v1/health/detailed"] = Answer(200, json.dumps(detailed))
    flower.routes["/api/workers"] = Answer(200, json.dumps({"celery@marb-worker-1": alive}))
    flower.routes["/api/tasks"] = Answer(200, "{}")  # no failed task remembered
    publish_celery_tasks(redis_url, 3)
    monkeypatch.setenv("FLOWER_URL", flower.base_url)
    monkeypatch.setenv("FLOWER_BASIC_AUTH", FLOWER_AUTH)
    monkeypatch.setenv("CELERY_BROKER_URL", redis_url)
    monkeypatch.setenv("CELERY_QUEUE", "celery")
    monkeypatch.setenv("CELERY_BACKLOG_MAX", "100")
    monkeypatch.setenv("CELERY_FAILED_TASKS_LIMIT", "10")
    result = run(pytester, "celery-flower", scripted.base_url)
    assert result.ret == (1 if expected_breach else 0), result.stdout.str()
    found = statuses(pytester)
    assert breached(found) == expected_breach
    assert {s for slo, s in found.items() if slo not in expected_breach} == {"ok"}
    asked = {urlsplit(path).path: (path, headers) for _, path, headers in flower.requests}
    assert {route: parse_qs(urlsplit(path).query) for route, (path, _) in asked.items()} == {
        "/api/workers": {"status": ["1"]},
        "/api/tasks": {"state": ["FAILURE"], "limit": ["10"]},
    }
    assert {headers["Authorization"] for _, headers in asked.values()} == {FLOWER_AUTH}
    assert all("Authorization" not in sent for _, _, sent in scripted.requests)


# ---------------------------------------------------------------- shape 3: Pose Generator, BullMQ

POSE_HEALTH = {
    "status": "healthy",
    "timestamp": "2025-10-14T10:30:00.000Z",
    "app": "pose-generator",
    "version": "1.0.0",
    "checks": {
        "database": {"status": "connected"},
        "redis": {"status": "connected"},
        "queue": {
            "status": "operational",
            "counts": {"waiting": 10, "active": 2, "completed": 1500, "failed": 12, "delayed": 0},
        },
    },
    "phase": "Production Ready",
}
POSE_METRICS = {
    "totalGenerations": 150,
    "activeGenerations": 3,
    "completedGenerations": 140,
    "failedGenerations": 7,
    "avgGenerationTime": 25000,
    "avgPosesPerGeneration": 3.5,
    "successRate": 93.33,
    "queueDepth": 12,
    "queueWaiting": 10,
    "queueActive": 2,
    "queueFailed": 5,
    "totalPosesGenerated": 525,
    "totalCreditsSpent": 15750,
    "totalCreditsRefunded": 210,
    "startTime": "2025-10-13T10:30:00.000Z",
    "endTime": "2025-10-14T10:30:00.000Z",
}


POSE_QUEUE = "pose-generation"  # this test's queue: the document names none (BULLMQ_QUEUE)


def add_bullmq_jobs(redis_url: str, count: int, first_waited_s: float) -> None:
    """``count`` generation jobs in the real BullMQ layout; the first has waited ``first_waited_s``."""
    import redis
    from bullmq import Queue

    async def add() -> str:
        queue = Queue(POSE_QUEUE, {"connection": redis_url})
        try:
            ids = [(await queue.add("generate", {"poses": 4})).id for _ in range(count)]
        finally:
            await queue.close()
        return str(ids[0])

    first = asyncio.run(add())
    if first_waited_s:
        with redis.Redis.from_url(redis_url) as client:
            since = int((time.time() - first_waited_s) * 1000)
            client.hset(f"bull:{POSE_QUEUE}:{first}", "timestamp", since)


@pytest.mark.parametrize(
    ("first_waited_s", "worker", "expected_breach"),
    [
        pytest.param(5, True, set(), id="workers-taking-jobs"),
        # No worker took a job for 11 minutes: the document's "Worker Downtime" alert, and
        # no worker connected to the queue.
        pytest.param(11 * 60, False, {"worker-downtime", "workers-live"}, id="worker-down"),
    ],
)
def test_shape_three_runs_against_the_pose_generator_and_bullmq(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    scripted: ScriptedServer,
    redis_url: str,
    first_waited_s: float,
    worker: bool,
    expected_breach: set[str],
) -> None:
    import redis

    scripted.routes["/api/apps/pose-generator/health"] = Answer(200, json.dumps(POSE_HEALTH))
    scripted.routes["/api/apps/pose-generator/metrics"] = Answer(200, json.dumps(POSE_METRICS))
    add_bullmq_jobs(redis_url, 10, first_waited_s)
    monkeypatch.setenv("ADMIN_JWT", TOKEN)
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("BULLMQ_QUEUE", POSE_QUEUE)
    # A Node worker names its blocking connection `bull:<base64 of the queue>` (CLIENT LIST).
    connection = redis.Redis.from_url(redis_url, single_connection_client=True)
    if worker:
        name = base64.b64encode(POSE_QUEUE.encode()).decode()
        connection.execute_command("CLIENT", "SETNAME", f"bull:{name}")
    try:
        result = run(pytester, "bullmq-node", scripted.base_url)
    finally:
        connection.close()
    assert result.ret == (1 if expected_breach else 0), result.stdout.str()
    found = statuses(pytester)
    assert breached(found) == expected_breach
    # The document's own sample: 93.33 % is in its 90–95 % warning band.
    assert found.pop("success-rate") == "warning"
    assert {s for slo, s in found.items() if slo not in expected_breach} == {"ok"}
    sent = {urlsplit(path).path: (path, headers) for _, path, headers in scripted.requests}
    path, headers = sent["/api/apps/pose-generator/metrics"]
    assert parse_qs(urlsplit(path).query) == {"period": ["1h"]}
    assert headers["Authorization"] == f"Bearer {TOKEN}"


# ---------------------------------------------------------------- shape 4: Luneo, Prometheus
# The fast case: a scripted Prometheus API. tests/prometheus/test_prometheus_shape.py runs
# the same example against a real Prometheus scraping a Luneo-shaped exporter.

LUNEO_METRICS = """\
# HELP luneo_worker_queue_wait_time_current_seconds Current wait of the oldest queued job.
# TYPE luneo_worker_queue_wait_time_current_seconds gauge
luneo_worker_queue_wait_time_current_seconds{{queue="render"}} {render}
luneo_worker_queue_wait_time_current_seconds{{queue="video"}} {video}
# HELP luneo_worker_queue_wait_time_seconds Time jobs waited in the worker queue.
# TYPE luneo_worker_queue_wait_time_seconds histogram
luneo_worker_queue_wait_time_seconds_bucket{{le="1"}} 40
luneo_worker_queue_wait_time_seconds_bucket{{le="5"}} 52
luneo_worker_queue_wait_time_seconds_bucket{{le="30"}} 55
luneo_worker_queue_wait_time_seconds_bucket{{le="+Inf"}} 55
luneo_worker_queue_wait_time_seconds_sum 61.5
luneo_worker_queue_wait_time_seconds_count 55
# HELP luneo_embed_handshake_failures_total Embed handshake failures.
# TYPE luneo_embed_handshake_failures_total counter
luneo_embed_handshake_failures_total 3
# HELP luneo_ai_cost_current_cents AI cost in the current period.
# TYPE luneo_ai_cost_current_cents gauge
luneo_ai_cost_current_cents {cost}
# HELP luneo_ai_cost_baseline_cents AI cost baseline.
# TYPE luneo_ai_cost_baseline_cents gauge
luneo_ai_cost_baseline_cents {baseline}
"""


def vector(value: float) -> str:
    result = [{"metric": {}, "value": [time.time(), str(value)]}]
    return json.dumps({"status": "success", "data": {"resultType": "vector", "result": result}})


@pytest.fixture
def prometheus_server() -> Iterator[ScriptedServer]:
    with scripted_server() as server:
        yield server


@pytest.mark.parametrize(
    ("waits", "cost", "error_rate", "expected_breach", "named"),
    [
        pytest.param((12.5, 3), 1500, 0.004, set(), None, id="healthy"),
        pytest.param((12.5, 94), 1500, 0.004, {"queue-wait"}, 'queue="video"', id="queue-wait"),
        pytest.param((37, 42), 1500, 0.004, set(), None, id="two-queues-under-the-bound"),
        pytest.param((12.5, 3), 1500, 0.02, {"error-rate"}, None, id="error-rate-high"),
        pytest.param((12.5, 3), 2500, 0.004, {"cost-spike"}, None, id="cost-spike"),
    ],
)
def test_shape_four_runs_against_luneo_and_its_prometheus(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    scripted: ScriptedServer,
    prometheus_server: ScriptedServer,
    waits: tuple[float, float],
    cost: float,
    error_rate: float,
    expected_breach: set[str],
    named: str | None,
) -> None:
    scripted.routes["/metrics"] = Answer(
        200,
        LUNEO_METRICS.format(render=waits[0], video=waits[1], cost=cost, baseline=1000),
        {"Content-Type": "text/plain; version=0.0.4; charset=utf-8"},
    )
    prometheus_server.routes["/api/v1/query"] = Answer(200, vector(error_rate))
    monkeypatch.setenv("PROMETHEUS_URL", prometheus_server.base_url)
    monkeypatch.setenv("HTTP_REQUESTS_METRIC", "http_requests_total")
    monkeypatch.setenv("HTTP_ERROR_MATCHER", 'status=~"5.."')
    result = run(pytester, "prometheus", scripted.base_url)
    assert result.ret == (1 if expected_breach else 0), result.stdout.str()
    found = statuses(pytester)
    assert breached(found) == expected_breach
    assert set(found.values()) <= {"ok", "breach"}
    if named is not None:
        result.stdout.fnmatch_lines([f"*queue-wait*max = 94s at {{{named}}}*"])
    queries = [
        parse_qs(urlsplit(path).query)["query"][0] for _, path, _ in prometheus_server.requests
    ]
    [error_query] = [q for q in queries if "http_requests_total" in q]
    assert "or vector(0)" in error_query and '{status=~"5.."}[5m]' in error_query


def test_shape_four_zero_baseline_is_no_data_said_as_a_gauge(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    scripted: ScriptedServer,
    prometheus_server: ScriptedServer,
) -> None:
    """A baseline of 0 (not computed yet) is "the denominator is 0", not counter wording."""
    scripted.routes["/metrics"] = Answer(
        200, LUNEO_METRICS.format(render=1, video=2, cost=1500, baseline=0)
    )
    prometheus_server.routes["/api/v1/query"] = Answer(200, vector(0.0))
    monkeypatch.setenv("PROMETHEUS_URL", prometheus_server.base_url)
    monkeypatch.setenv("HTTP_REQUESTS_METRIC", "http_requests_total")
    monkeypatch.setenv("HTTP_ERROR_MATCHER", 'status=~"5.."')
    result = run(pytester, "prometheus", scripted.base_url)
    assert result.ret == 1
    verdicts = json.loads((pytester.path / "reports" / "results.json").read_text())["verdicts"]
    [cost] = [v for v in verdicts if v["slo"] == "cost-spike"]
    assert cost["status"] == "no_data"
    assert cost["reason"] == "the denominator `luneo_ai_cost_baseline_cents` is 0"
